"""Roster import: students, staff, classes and assignments from .xlsx/.csv, previewed, all or nothing.

Every fixture file is built here in code (openpyxl, csv, zipfile); no binary is committed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import itertools
import re
import time
import zipfile

import openpyxl
import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hocba.audit.models import AuditEvent
from hocba.school import actions, roster
from hocba.school.actions import ActionError
from hocba.school.models import (
    Enrolment,
    RosterUpload,
    SchoolClass,
    SchoolYear,
    Staff,
    Student,
    TeachingAssignment,
)
from hocba.school.names import vietnamese_sort_key

# --- building files ------------------------------------------------------------------------------------


def xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], *, delimiter: str = ",", bom: bool = False, encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding, errors="replace")


def rewrite_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same zip with some members replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in replace:
                target.writestr(info.filename, source.read(info.filename))
        for name, content in replace.items():
            target.writestr(name, content)
    return out.getvalue()


def student(pn: str, name: str = "Nguyễn Văn An", *, code: str | None = None, cls: str = "6A1",
            birth: object = "05/09/2013", gender: str = "Nam", **extra) -> dict:
    return {"Mã học sinh": code or f"HS{pn[-6:]}", "Số định danh cá nhân": pn, "Họ và tên": name,
            "Giới tính": gender, "Ngày sinh": birth, "Nơi sinh": "TP Hồ Chí Minh", "Quê quán": "Long An",
            "Nơi ở hiện nay": "Phường Bến Nghé, Quận 1", "Dân tộc": "Kinh", "Quốc tịch": "Việt Nam",
            "Đối tượng chính sách": "", "Họ tên cha": "Nguyễn Văn Bình", "Nghề nghiệp cha": "Kĩ sư",
            "Họ tên mẹ": "Trần Thị Cúc", "Nghề nghiệp mẹ": "Giáo viên", "Họ tên người giám hộ": "",
            "Nghề nghiệp người giám hộ": "", "Lớp": cls, **extra}


def table(headers, records: list[dict]) -> list[list]:
    return [list(headers)] + [[r.get(h, "") for h in headers] for r in records]


# Province 075, so that these never collide with the 079 numbers of tests/conftest.py.
_serial = itertools.count(1)


def student_pn() -> str:
    return f"075213{next(_serial):06d}"


def staff_pn() -> str:
    return f"075085{next(_serial):06d}"


# --- fixtures ------------------------------------------------------------------------------------------

@pytest.fixture
def classes(school_admin, year):
    return {name: actions.create_class(school_admin, year, grade=int(name[0]), name=name)
            for name in ("6A1", "6A2", "7A1")}


@pytest.fixture
def teacher(make_user, school):
    return make_user("giaovien", "teacher", school)


def table_counts() -> dict[str, int]:
    """Rows in every table of the school app, and audit events."""
    counts = {m.__name__: m.objects.count() for m in apps.get_app_config("school").get_models()}
    counts["AuditEvent"] = AuditEvent.objects.count()
    return counts


def page_text(response) -> str:
    return html.unescape(response.content.decode())


# --- refused files -------------------------------------------------------------------------------------

def two_students() -> list[dict]:
    return [student(student_pn(), "Nguyễn Văn An"), student(student_pn(), "Lê Thị Bích", gender="Nữ")]


def _wrong_header():
    rows = table(roster.STUDENT_HEADERS, two_students())
    rows[0][-1] = "Lop hoc"
    return "students", "hoc-sinh.csv", csv_bytes(rows)


def _missing_header():
    headers = [h for h in roster.STUDENT_HEADERS if h != "Ngày sinh"]
    return "students", "hoc-sinh.xlsx", xlsx(table(headers, two_students()))


def _duplicate_pn():
    pn = student_pn()
    rows = [student(pn, "Nguyễn Văn An"), student(student_pn(), "Lê Văn Cường"), student(pn, "Trần Văn Dũng")]
    return "students", "hoc-sinh.xlsx", xlsx(table(roster.STUDENT_HEADERS, rows))


def _short_pn():
    rows = two_students() + [student("07921300001", "Phạm Thị Hoa")]
    return "students", "hoc-sinh.csv", csv_bytes(table(roster.STUDENT_HEADERS, rows))


def _numeric_pn():
    rows = table(roster.STUDENT_HEADERS, two_students())
    rows[2][1] = int(rows[2][1])  # Excel kept it as a number: the leading 0 is gone
    return "students", "hoc-sinh.xlsx", xlsx(rows)


def _unknown_class():
    rows = [two_students()[0], student(student_pn(), "Võ Văn Em", cls="9A9")]
    return "students", "hoc-sinh.csv", csv_bytes(table(roster.STUDENT_HEADERS, rows), delimiter=";")


def _bad_date():
    rows = [two_students()[0], student(student_pn(), "Đỗ Thị Giang", birth="2010-13-01")]
    return "students", "hoc-sinh.xlsx", xlsx(table(roster.STUDENT_HEADERS, rows))


def _bad_staff_pn():
    rows = [{"Mã cán bộ": "GV01", "Số định danh cá nhân": "0790851234", "Họ và tên": "Ngô Văn Hải",
             "Giới tính": "Nam"}]
    return "staff", "can-bo.csv", csv_bytes(table(roster.STAFF_HEADERS, rows))


LOL_DTD = ("<!DOCTYPE {root} [<!ENTITY lol \"lol\">"
           + "".join(f"<!ENTITY lol{i} \"{('&lol' + (str(i - 1) if i > 1 else '') + ';') * 10}\">"
                     for i in range(1, 10))
           + "]>")


def _billion_laughs_in_sheet():
    data = xlsx(table(roster.STUDENT_HEADERS, two_students()))
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    sheet = LOL_DTD.format(root="worksheet") + sheet.replace(
        "</row>", '<c r="Z1" t="inlineStr"><is><t>&lol9;</t></is></c></row>', 1)
    return "students", "hoc-sinh.xlsx", rewrite_zip(data, {"xl/worksheets/sheet1.xml": sheet.encode()})


def _with_shared_strings(data: bytes, dtd: str, text: str) -> bytes:
    """Move cell A1 into a shared-strings part (as Excel writes it), preceded by ``dtd``."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    sheet = re.sub(r'<c r="A1" t="inlineStr"><is><t>[^<]*</t></is></c>', '<c r="A1" t="s"><v>0</v></c>', sheet)
    types = archive.read("[Content_Types].xml").decode().replace(
        "</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    strings = (f'<?xml version="1.0" encoding="UTF-8"?>{dtd}<sst xmlns="http://schemas.openxmlformats.org/'
               f'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{text}</t></si></sst>')
    return rewrite_zip(data, {"xl/worksheets/sheet1.xml": sheet.encode(), "[Content_Types].xml": types.encode(),
                              "xl/sharedStrings.xml": strings.encode()})


def _billion_laughs_in_shared_strings():
    data = xlsx(table(roster.STUDENT_HEADERS, two_students()))
    return "students", "hoc-sinh.xlsx", _with_shared_strings(data, LOL_DTD.format(root="sst"), "&lol9;")


def _external_entity_in_workbook():
    data = xlsx(table(roster.STUDENT_HEADERS, two_students()))
    book = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()
    book = ('<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            + re.sub(r'<sheet name="[^"]*"', '<sheet name="&xxe;"', book))
    return "students", "hoc-sinh.xlsx", rewrite_zip(data, {"xl/workbook.xml": book.encode()})


def _not_a_spreadsheet():
    return "students", "hoc-sinh.xlsx", "Mã học sinh,Số định danh cá nhân\nHS1,079213000001\n".encode()


def _zip_but_not_xlsx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("doc.txt", "Không phải bảng tính")
    return "students", "hoc-sinh.xlsx", out.getvalue()


def _zip_bomb():
    data = xlsx(table(roster.STUDENT_HEADERS, two_students()))
    return "students", "hoc-sinh.xlsx", rewrite_zip(data, {"xl/media/image1.png": bytes(3 * 1024 * 1024)})


def _over_size_limit():
    return "students", "hoc-sinh.csv", b"x" * (6 * 1024 * 1024)


def _not_utf8_csv():
    return "students", "hoc-sinh.csv", csv_bytes(table(roster.STUDENT_HEADERS, two_students()), encoding="cp1258")


# (case, expected message fragment, (row, column) of the error, or None when the whole file is refused)
REFUSED = [
    (_wrong_header, ["Thiếu cột bắt buộc: 'Lớp'", "Cột không thuộc mẫu nhập học sinh: 'Lop hoc' (cột R)",
                     "Các cột được phép: 'Mã học sinh'"], None),
    (_missing_header, ["Thiếu cột bắt buộc: 'Ngày sinh' (dòng tiêu đề là dòng 1)",
                       "Mẫu nhập học sinh cần các cột bắt buộc: 'Mã học sinh', 'Số định danh cá nhân'"], None),
    (_duplicate_pn, ["bị trùng: dòng 2 và dòng 4"], (4, "Số định danh cá nhân")),
    (_short_pn, ["Số định danh cá nhân '07921300001' không hợp lệ: phải gồm đúng 12 chữ số, đang có 11 kí tự"],
     (4, "Số định danh cá nhân")),
    (_numeric_pn, ["là ô kiểu số nên Excel đã bỏ chữ số 0 ở đầu (chỉ còn 11 chữ số)",
                   "định dạng cột 'Số định danh cá nhân' là Văn bản (Text)"], (3, "Số định danh cá nhân")),
    (_unknown_class, ["Lớp '9A9' không có trong năm học 2024-2025. Các lớp của năm học: 6A1, 6A2, 7A1."],
     (3, "Lớp")),
    (_bad_date, ["Ngày sinh '2010-13-01' không đúng định dạng dd/mm/yyyy"], (3, "Ngày sinh")),
    (_bad_staff_pn, ["Số định danh cá nhân '0790851234' không hợp lệ: phải gồm đúng 12 chữ số"],
     (2, "Số định danh cá nhân")),
    (_billion_laughs_in_sheet, [roster.MSG_UNSAFE_XML], None),
    (_billion_laughs_in_shared_strings, [roster.MSG_UNSAFE_XML], None),
    (_external_entity_in_workbook, [roster.MSG_UNSAFE_XML], None),
    (_not_a_spreadsheet, ["Tệp không phải bảng tính Excel (.xlsx) hợp lệ"], None),
    (_zip_but_not_xlsx, ["Tệp không phải bảng tính Excel (.xlsx) hợp lệ"], None),
    (_zip_bomb, ["Thành phần 'xl/media/image1.png' của tệp Excel nén với tỉ lệ bất thường", "zip bomb"], None),
    (_over_size_limit, ["Tệp quá lớn: 6,0 MB, tối đa 5 MB."], None),
    (_not_utf8_csv, ["Tệp CSV không ở bảng mã UTF-8", "CSV UTF-8 (Comma delimited)"], None),
]


@pytest.mark.parametrize("build, fragments, where", REFUSED, ids=[case[0].__name__.strip("_") for case in REFUSED])
def test_a_refused_file_is_explained_in_vietnamese_and_changes_nothing(build, fragments, where, client, school,
                                                                       year, school_admin, classes):
    kind, filename, data = build()
    before = table_counts()

    preview = roster.parse_roster(kind, filename, data, school=school, year=year)
    assert not preview.ok
    messages = preview.file_errors + [e.message for e in preview.errors]
    for fragment in fragments:
        assert any(fragment in m for m in messages), (fragment, messages)
    if where is None:
        assert preview.file_errors and not preview.rows
    else:
        assert where in {(e.row, e.column) for e in preview.errors}, preview.errors
    with pytest.raises(ActionError, match="không có dữ liệu nào bị thay đổi"):
        roster.import_roster(school_admin, school, year, kind, preview)

    client.force_login(school_admin)
    response = client.post(reverse("roster_upload", args=[school.pk]),
                           {"kind": kind, "year": year.pk, "file": SimpleUploadedFile(filename, data)})
    assert response.status_code == 200
    page = page_text(response)
    assert "Tệp bị từ chối: không có dữ liệu nào được nhập." in page
    for fragment in fragments:
        assert fragment in page
    assert "Xác nhận nhập" not in page
    if where is not None:
        assert "<th>Dòng</th><th>Cột</th><th>Giá trị</th><th>Lỗi</th>" in page

    assert table_counts() == before


def test_a_file_over_the_uncompressed_limit_is_refused_as_a_zip_bomb(school, year, classes, monkeypatch):
    data = xlsx(table(roster.STUDENT_HEADERS, two_students()))
    monkeypatch.setattr(roster, "XLSX_MAX_UNCOMPRESSED_BYTES", 4096)
    before = table_counts()
    preview = roster.parse_roster("students", "hs.xlsx", data, school=school, year=year)
    assert preview.file_errors and "vượt giới hạn" in preview.file_errors[0] and "zip bomb" in preview.file_errors[0]
    assert table_counts() == before


def test_the_shared_strings_workbook_without_the_dtd_imports_so_the_refusal_is_the_dtd(school, year, classes):
    data = _with_shared_strings(xlsx(table(roster.STUDENT_HEADERS, two_students())), "", "Mã học sinh")
    preview = roster.parse_roster("students", "hs.xlsx", data, school=school, year=year)
    assert preview.ok, (preview.file_errors, preview.errors)
    assert preview.counts["create"] == 2


@pytest.mark.parametrize("build", [_billion_laughs_in_sheet, _billion_laughs_in_shared_strings])
def test_without_the_dtd_scan_defusedxml_still_refuses_the_billion_laughs(build, school, year, classes,
                                                                         monkeypatch):
    """The second layer: openpyxl reads sheets and shared strings through defusedxml."""
    monkeypatch.setattr(roster, "_refuse_dtd", lambda data, members: None)
    kind, filename, data = build()
    started = time.monotonic()
    preview = roster.parse_roster(kind, filename, data, school=school, year=year)
    assert preview.file_errors == [roster.MSG_UNSAFE_XML]
    assert time.monotonic() - started < 5


def test_openpyxl_parses_through_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def test_every_error_of_a_file_is_listed_with_row_column_and_value(school, year, classes):
    rows = [student(student_pn(), "", gender="Không rõ", birth="31/02/2013"),
            student("179213000001", "Trần Văn Khoa", cls="6A1")]
    preview = roster.parse_roster("students", "hs.csv", csv_bytes(table(roster.STUDENT_HEADERS, rows)),
                                  school=school, year=year)
    found = {(e.row, e.column, e.value): e.message for e in preview.errors}
    assert found[(2, "Họ và tên", "")] == "Họ và tên không được để trống."
    assert found[(2, "Giới tính", "Không rõ")] == "Giới tính 'Không rõ' không hợp lệ; chỉ được ghi 'Nam' hoặc 'Nữ'."
    assert found[(2, "Ngày sinh", "31/02/2013")] == ("Ngày sinh '31/02/2013' không phải ngày có thật "
                                                     "(định dạng dd/mm/yyyy).")
    assert "3 chữ số đầu phải là mã tỉnh, từ 001 đến 096" in found[(3, "Số định danh cá nhân", "179213000001")]


def test_a_student_already_in_another_class_this_year_is_an_error_not_a_silent_move(school_admin, school, year,
                                                                                    classes):
    pn = student_pn()
    first = roster.parse_roster("students", "a.csv", csv_bytes(table(roster.STUDENT_HEADERS, [student(pn)])),
                                school=school, year=year)
    roster.import_roster(school_admin, school, year, "students", first)
    before = table_counts()
    moved = csv_bytes(table(roster.STUDENT_HEADERS, [student(pn, cls="6A2")]))
    preview = roster.parse_roster("students", "b.csv", moved, school=school, year=year)
    [error] = preview.errors
    assert (error.row, error.column) == (2, "Lớp")
    assert "đã được xếp vào lớp 6A1 năm học 2024-2025" in error.message
    with pytest.raises(ActionError):
        roster.import_roster(school_admin, school, year, "students", preview)
    assert table_counts() == before


def test_a_student_code_held_by_another_student_is_an_error(school_admin, school, year, classes):
    first = roster.parse_roster("students", "a.csv", csv_bytes(table(roster.STUDENT_HEADERS,
                                                                     [student(student_pn(), code="HS9")])),
                                school=school, year=year)
    roster.import_roster(school_admin, school, year, "students", first)
    preview = roster.parse_roster("students", "b.csv", csv_bytes(table(roster.STUDENT_HEADERS,
                                                                       [student(student_pn(), code="HS9")])),
                                  school=school, year=year)
    [error] = preview.errors
    assert error.column == "Mã học sinh" and "Mã học sinh HS9 đã là mã của học sinh Nguyễn Văn An" in error.message


def test_a_file_of_another_kind_gets_a_hint_to_choose_the_right_kind(school, year, classes):
    preview = roster.parse_roster("staff", "hs.csv", csv_bytes(table(roster.STUDENT_HEADERS, two_students())),
                                  school=school, year=year)
    assert "Tệp này có vẻ là danh sách học sinh: hãy chọn đúng loại dữ liệu khi tải lên." in preview.file_errors


def test_a_file_with_only_headers_is_refused(school, year):
    preview = roster.parse_roster("classes", "lop.xlsx", xlsx([list(roster.CLASS_HEADERS)]), school=school,
                                  year=year)
    assert preview.file_errors == ["Tệp không có dòng dữ liệu nào dưới dòng tiêu đề (dòng 1)."]


def test_a_column_with_data_but_no_header_is_refused(school, year, classes):
    rows = table(roster.STUDENT_HEADERS, two_students())
    rows[1].append("ghi chú lạc")
    preview = roster.parse_roster("students", "hs.csv", csv_bytes(rows), school=school, year=year)
    assert preview.file_errors == [("Cột S có dữ liệu (dòng 2) nhưng không có tiêu đề; hãy thêm tiêu đề đúng "
                                    "mẫu hoặc xoá cột này.")]


# --- successful imports --------------------------------------------------------------------------------

def _import(actor, school, year, kind, filename, data) -> roster.ImportResult:
    preview = roster.parse_roster(kind, filename, data, school=school, year=year)
    assert preview.ok, (preview.file_errors, preview.errors)
    return roster.import_roster(actor, school, year, kind, preview)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_staff_import_creates_staff_with_positions_by_code_or_label(fmt, school_admin, school, year):
    pn_ht, pn_gv = staff_pn(), staff_pn()
    rows = table(roster.STAFF_HEADERS, [
        {"Mã cán bộ": "CB100", "Số định danh cá nhân": pn_ht, "Họ và tên": "  Phạm   Minh Đức ",
         "Giới tính": "Nam", "Ngày sinh": "02/03/1975", "Chức vụ": "Hiệu trưởng", "Email": "duc@truong.edu.vn"},
        {"Mã cán bộ": "CB101", "Số định danh cá nhân": pn_gv, "Họ và tên": "Lê Thị Ánh", "Giới tính": "nữ",
         "Chức vụ": "GV", "Chuyên môn": "Toán"},
    ])
    data = xlsx(rows) if fmt == "xlsx" else csv_bytes(rows, delimiter=";", bom=True)
    result = _import(school_admin, school, year, "staff", f"can-bo.{fmt}", data)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert result.message == "Đã nhập 2 cán bộ (2 mới, 0 cập nhật)."
    ht = Staff.objects.get(school=school, personal_number=pn_ht)
    assert (ht.full_name, ht.position, ht.birth_date, ht.gender) == ("Phạm Minh Đức", "HT", dt.date(1975, 3, 2), "1")
    gv = Staff.objects.get(school=school, personal_number=pn_gv)
    assert (gv.position, gv.gender, gv.specialty, gv.sort_key != "") == ("GV", "2", "Toán", True)


def test_class_import_sets_homeroom_teachers_by_staff_code_or_personal_number(school_admin, school, year, teacher):
    other = Staff.objects.create(school=school, staff_code="CB900", personal_number=staff_pn(),
                                 full_name="Hồ Văn Nam", gender="1")
    rows = table(roster.CLASS_HEADERS, [
        {"Khối": 6, "Tên lớp": "6a1", "Giáo viên chủ nhiệm": teacher.staff.staff_code},
        {"Khối": "7", "Tên lớp": "7A1", "Giáo viên chủ nhiệm": other.personal_number},
        {"Khối": "Khối 8", "Tên lớp": "8A1", "Giáo viên chủ nhiệm": ""},
    ])
    result = _import(school_admin, school, year, "classes", "lop.xlsx", xlsx(rows))
    assert result.message == "Đã nhập 3 lớp (3 mới, 0 cập nhật)."
    got = {c.name: (c.grade, c.homeroom_teacher_id) for c in SchoolClass.objects.filter(year=year)}
    assert got == {"6A1": (6, teacher.staff.pk), "7A1": (7, other.pk), "8A1": (8, None)}


def test_one_teacher_cannot_be_homeroom_of_two_classes(school_admin, school, year, teacher):
    rows = table(roster.CLASS_HEADERS, [
        {"Khối": 6, "Tên lớp": "6A1", "Giáo viên chủ nhiệm": teacher.staff.staff_code},
        {"Khối": 6, "Tên lớp": "6A2", "Giáo viên chủ nhiệm": teacher.staff.staff_code},
    ])
    preview = roster.parse_roster("classes", "lop.csv", csv_bytes(rows), school=school, year=year)
    assert [(e.row, e.column) for e in preview.errors] == [(2, "Giáo viên chủ nhiệm"), (3, "Giáo viên chủ nhiệm")]
    assert "được giao chủ nhiệm nhiều lớp trong năm học 2024-2025: 6A1 (dòng 2), 6A2 (dòng 3)" in \
        preview.errors[0].message


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_student_import_creates_students_enrolled_in_their_class(fmt, school_admin, school, year, classes):
    pn1, pn2 = student_pn(), student_pn()
    records = [student(pn1, "nguyễn  văn an", birth=dt.date(2013, 9, 5) if fmt == "xlsx" else "5/9/2013"),
               student(pn2, "Lê Thị Bích", gender="Nữ", cls="6a2", **{"Dân tộc": ""})]
    rows = table(roster.STUDENT_HEADERS, records)
    data = xlsx(rows) if fmt == "xlsx" else csv_bytes(rows)
    before = table_counts()
    result = _import(school_admin, school, year, "students", f"hoc-sinh.{fmt}", data)
    assert result.message == "Đã nhập 2 học sinh (2 mới, 0 cập nhật)."
    an = Student.objects.get(school=school, personal_number=pn1)
    assert (an.full_name, an.birth_date, an.gender, an.father_name) == ("nguyễn văn an", dt.date(2013, 9, 5), "1",
                                                                         "Nguyễn Văn Bình")
    bich = Student.objects.get(school=school, personal_number=pn2)
    assert (bich.gender, bich.ethnicity, bich.sort_key != "") == ("2", "Kinh", True)
    enrolments = {e.student_id: (e.school_class.name, e.status) for e in Enrolment.objects.filter(year=year)}
    assert enrolments == {an.pk: ("6A1", "studying"), bich.pk: ("6A2", "studying")}
    after = table_counts()
    assert after["Student"] - before["Student"] == 2 and after["Enrolment"] - before["Enrolment"] == 2
    assert after["AuditEvent"] - before["AuditEvent"] == 1


def test_importing_the_same_file_twice_changes_nothing_the_second_time(school_admin, school, year, classes):
    data = xlsx(table(roster.STUDENT_HEADERS, two_students()))
    _import(school_admin, school, year, "students", "hs.xlsx", data)
    snapshot = list(Student.objects.order_by("pk").values())
    before = table_counts()
    preview = roster.parse_roster("students", "hs.xlsx", data, school=school, year=year)
    assert [r.action for r in preview.rows] == ["unchanged", "unchanged"]
    result = roster.import_roster(school_admin, school, year, "students", preview)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert result.message == "Đã nhập 2 học sinh (0 mới, 0 cập nhật, 2 không thay đổi)."
    assert list(Student.objects.order_by("pk").values()) == snapshot
    after = table_counts()
    assert after.pop("AuditEvent") == before.pop("AuditEvent") + 1  # the import itself is still on record
    assert after == before


def test_reimport_updates_header_fields_and_shows_the_differences(school_admin, school, year, classes):
    pn = student_pn()
    _import(school_admin, school, year, "students", "a.csv", csv_bytes(table(roster.STUDENT_HEADERS, [student(pn)])))
    corrected = student(pn, "Nguyễn Văn Ân", birth="06/09/2013", **{"Nơi ở hiện nay": "Phường Đa Kao, Quận 1"})
    preview = roster.parse_roster("students", "b.csv", csv_bytes(table(roster.STUDENT_HEADERS, [corrected])),
                                  school=school, year=year)
    [change] = preview.rows
    assert change.action == "update"
    assert {(d.column, d.old, d.new) for d in change.diffs} == {
        ("Họ và tên", "Nguyễn Văn An", "Nguyễn Văn Ân"), ("Ngày sinh", "05/09/2013", "06/09/2013"),
        ("Nơi ở hiện nay", "Phường Bến Nghé, Quận 1", "Phường Đa Kao, Quận 1")}
    result = roster.import_roster(school_admin, school, year, "students", preview)
    assert result.message == "Đã nhập 1 học sinh (0 mới, 1 cập nhật)."
    s = Student.objects.get(school=school, personal_number=pn)
    assert (s.full_name, s.birth_date, s.sort_key) == ("Nguyễn Văn Ân", dt.date(2013, 9, 6),
                                                       vietnamese_sort_key("Nguyễn Văn Ân"))
    event = AuditEvent.objects.filter(action="roster.import").latest("id")
    assert event.extra["changes"][0]["diffs"][0] == ["Họ và tên", "Nguyễn Văn An", "Nguyễn Văn Ân"]


def test_a_student_from_last_year_is_enrolled_in_this_years_class(school_admin, school, year, classes):
    last = actions.create_school_year(school_admin, school, "2023-2024", dt.date(2023, 9, 5), dt.date(2024, 5, 31))
    actions.create_class(school_admin, last, grade=6, name="6A1")
    pn = student_pn()
    _import(school_admin, school, last, "students", "a.csv",
            csv_bytes(table(roster.STUDENT_HEADERS, [student(pn, cls="6A1")])))
    preview = roster.parse_roster("students", "b.csv", csv_bytes(table(roster.STUDENT_HEADERS, [student(pn, cls="7A1")])),
                                  school=school, year=year)
    [change] = preview.rows
    assert change.action == "update" and [(d.column, d.new) for d in change.diffs] == [("Lớp", "7A1")]
    roster.import_roster(school_admin, school, year, "students", preview)
    s = Student.objects.get(school=school, personal_number=pn)
    assert sorted(Enrolment.objects.filter(student=s).values_list("school_class__name", "year__name")) == [
        ("6A1", "2023-2024"), ("7A1", "2024-2025")]


def test_headers_match_without_case_or_diacritics_after_a_title_row_and_an_stt_column(school_admin, school, year,
                                                                                         classes):
    headers = ["STT"] + [h.upper() for h in roster.STUDENT_HEADERS]
    headers[3] = "ho  ten"  # alias of "Họ và tên", without diacritics and with a double space
    headers[5] = "Ngay sinh"
    pn = student_pn()
    row = ["1"] + list(student(pn).values())
    data = xlsx([["DANH SÁCH HỌC SINH NĂM HỌC 2024-2025"], [], headers, row])
    preview = roster.parse_roster("students", "hs.xlsx", data, school=school, year=year)
    assert preview.ok, (preview.file_errors, preview.errors)
    assert [(r.row, r.key) for r in preview.rows] == [(4, pn)]


def test_assignment_import_expands_ca_nam_to_both_semesters(school_admin, school, year, classes, teacher):
    code = teacher.staff.staff_code
    rows = table(roster.ASSIGNMENT_HEADERS, [
        {"Lớp": "6A1", "Mã môn": "TO", "Học kì": "Cả năm", "Giáo viên": code},
        {"Lớp": "6A2", "Mã môn": "Ngữ văn", "Học kì": 1, "Giáo viên": teacher.staff.personal_number},
    ])
    result = _import(school_admin, school, year, "assignments", "pc.csv", csv_bytes(rows))
    assert result.message == "Đã nhập 2 phân công giảng dạy (2 mới, 0 cập nhật)."
    got = sorted(TeachingAssignment.objects.filter(school=school)
                 .values_list("school_class__name", "subject__code", "semester", "teacher_id"))
    assert got == [("6A1", "TO", 1, teacher.staff.pk), ("6A1", "TO", 2, teacher.staff.pk),
                   ("6A2", "NV", 1, teacher.staff.pk)]
    again = roster.parse_roster("assignments", "pc.csv", csv_bytes(rows), school=school, year=year)
    assert [r.action for r in again.rows] == ["unchanged", "unchanged"]


def test_assignment_errors_name_unknown_teacher_subject_and_semester(school, year, classes, teacher):
    rows = table(roster.ASSIGNMENT_HEADERS, [
        {"Lớp": "6A1", "Mã môn": "XYZ", "Học kì": "3", "Giáo viên": "CB9999"},
        {"Lớp": "6A1", "Mã môn": "TO", "Học kì": "1", "Giáo viên": teacher.staff.staff_code},
        {"Lớp": "6A1", "Mã môn": "to", "Học kì": "Cả năm", "Giáo viên": teacher.staff.staff_code},
    ])
    preview = roster.parse_roster("assignments", "pc.csv", csv_bytes(rows), school=school, year=year)
    by_cell = {(e.row, e.column): e.message for e in preview.errors}
    assert by_cell[(2, "Mã môn")].startswith("Môn 'XYZ' không có trong danh mục môn học")
    assert by_cell[(2, "Học kì")] == "Học kì '3' không hợp lệ; chỉ được ghi 1, 2 hoặc 'Cả năm'."
    assert "'CB9999' không có trong danh sách cán bộ của trường" in by_cell[(2, "Giáo viên")]
    assert "học kì 1 bị trùng: dòng 3 và dòng 4" in by_cell[(4, "Học kì")]


def test_an_import_writes_exactly_one_audit_event_naming_the_file(school_admin, school, year, classes):
    data = csv_bytes(table(roster.STUDENT_HEADERS, two_students()))
    before = AuditEvent.objects.count()
    _import(school_admin, school, year, "students", "hoc-sinh.csv", data)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.actor, event.school) == ("roster.import", school_admin, school)
    assert event.extra["kind"] == "students" and event.extra["filename"] == "hoc-sinh.csv"
    assert event.extra["sha256"] == hashlib.sha256(data).hexdigest()
    assert event.extra["counts"] == {"created": 2, "updated": 0, "unchanged": 0}


def test_a_failure_midway_rolls_back_every_row(school_admin, school, year, classes, monkeypatch):
    preview = roster.parse_roster("students", "hs.csv", csv_bytes(table(roster.STUDENT_HEADERS, two_students())),
                                  school=school, year=year)
    before = table_counts()

    def audit_fails(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(roster, "record", audit_fails)  # after every row has been written
    with pytest.raises(RuntimeError):
        roster.import_roster(school_admin, school, year, "students", preview)
    assert table_counts() == before


def test_a_preview_gone_stale_is_refused_whole(school_admin, school, year, classes):
    rows = two_students()
    preview = roster.parse_roster("students", "hs.csv", csv_bytes(table(roster.STUDENT_HEADERS, rows)),
                                  school=school, year=year)
    _import(school_admin, school, year, "students", "other.csv",
            csv_bytes(table(roster.STUDENT_HEADERS, rows[:1])))  # someone imported one of them meanwhile
    before = table_counts()
    with pytest.raises(ActionError, match="Dữ liệu của trường đã thay đổi trong lúc nhập"):
        roster.import_roster(school_admin, school, year, "students", preview)
    assert table_counts() == before


def test_only_school_managers_may_import(teacher, school, year, classes):
    preview = roster.parse_roster("students", "hs.csv", csv_bytes(table(roster.STUDENT_HEADERS, two_students())),
                                  school=school, year=year)
    before = table_counts()
    with pytest.raises(PermissionDenied):
        roster.import_roster(teacher, school, year, "students", preview)
    with pytest.raises(PermissionDenied):
        roster.store_upload(teacher, school, year, "students", "hs.csv", b"x")
    assert table_counts() == before


def test_1500_students_import_in_bounded_queries_and_time(school_admin, school, year, classes,
                                                          django_assert_max_num_queries):
    records = [student(student_pn(), f"Học Sinh Số {i}", cls=("6A1", "6A2", "7A1")[i % 3]) for i in range(1500)]
    data = xlsx(table(roster.STUDENT_HEADERS, records))
    started = time.monotonic()
    with django_assert_max_num_queries(10):
        preview = roster.parse_roster("students", "hs.xlsx", data, school=school, year=year)
    with django_assert_max_num_queries(100):  # bulk statements in batches (~50 on SQLite), never one per row
        result = roster.import_roster(school_admin, school, year, "students", preview)
    assert result.created == 1500 and Enrolment.objects.filter(year=year).count() == 1500
    assert time.monotonic() - started < 20
    with django_assert_max_num_queries(10):
        again = roster.parse_roster("students", "hs.xlsx", data, school=school, year=year)
    assert again.counts == {"create": 0, "update": 0, "unchanged": 1500}


# --- templates -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, headers", [("students", roster.STUDENT_HEADERS), ("staff", roster.STAFF_HEADERS),
                                           ("classes", roster.CLASS_HEADERS),
                                           ("assignments", roster.ASSIGNMENT_HEADERS)])
def test_the_template_download_has_the_kinds_headers_and_imports_once_filled(kind, headers, client, school,
                                                                            school_admin, year):
    client.force_login(school_admin)
    response = client.get(reverse("roster_template", args=[school.pk, kind]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{roster.TEMPLATE_FILENAMES[kind]}"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [c.value for c in workbook.worksheets[0][1]] == list(headers)
    assert workbook.worksheets[1].title == "Hướng dẫn"


def test_a_filled_template_keeps_the_leading_zero_of_personal_numbers(school_admin, school, year):
    workbook = openpyxl.load_workbook(io.BytesIO(roster.template_xlsx("staff")))
    pn = staff_pn()
    workbook.worksheets[0].append(["CB200", pn, "Đặng Văn Long", "Nam"])
    out = io.BytesIO()
    workbook.save(out)
    _import(school_admin, school, year, "staff", "mau.xlsx", out.getvalue())
    assert Staff.objects.filter(school=school, personal_number=pn, staff_code="CB200").exists()


# --- the pages -----------------------------------------------------------------------------------------

def test_upload_preview_confirm_with_csrf_enforced(school_admin, school, year, classes):
    client = Client(enforce_csrf_checks=True)
    client.force_login(school_admin)
    url = reverse("roster_upload", args=[school.pk])
    form_page = client.get(url)
    assert form_page.status_code == 200 and "Tải lên và xem trước" in page_text(form_page)
    token = form_page.cookies["csrftoken"].value
    data = xlsx(table(roster.STUDENT_HEADERS, two_students()))

    refused = client.post(url, {"kind": "students", "year": year.pk, "file": SimpleUploadedFile("hs.xlsx", data)})
    assert refused.status_code == 403  # no CSRF token

    before = table_counts()
    response = client.post(url, {"csrfmiddlewaretoken": token, "kind": "students", "year": year.pk,
                                 "file": SimpleUploadedFile("hs.xlsx", data)})
    upload = RosterUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("roster_preview", args=[school.pk, upload.pk])
    assert (upload.kind, upload.year, upload.filename, bytes(upload.data)) == ("students", year, "hs.xlsx", data)
    assert AuditEvent.objects.filter(action="roster.upload", object_id=str(upload.pk)).count() == 1
    assert Student.objects.count() == before["Student"]  # nothing imported before the confirmation

    preview = page_text(client.get(response["Location"]))
    assert "2 thêm mới · 0 cập nhật · 0 không đổi" in preview
    assert "Nguyễn Văn An" in preview and "Lê Thị Bích" in preview
    assert "Xác nhận nhập" in preview

    commit_url = reverse("roster_commit", args=[school.pk, upload.pk])
    assert client.post(commit_url).status_code == 403  # no CSRF token
    done = client.post(commit_url, {"csrfmiddlewaretoken": token}, follow=True)
    assert done.redirect_chain == [(url, 302)]
    assert "Đã nhập 2 học sinh (2 mới, 0 cập nhật)." in page_text(done)
    upload.refresh_from_db()
    assert upload.committed_at is not None
    assert Student.objects.count() == before["Student"] + 2

    again = client.post(commit_url, {"csrfmiddlewaretoken": token}, follow=True)
    assert "đã được nhập lúc" in page_text(again)
    assert Student.objects.count() == before["Student"] + 2


def test_a_stored_upload_that_no_longer_fits_shows_errors_and_no_confirm_button(client, school_admin, school, year,
                                                                                 classes):
    upload = roster.store_upload(school_admin, school, year, "students", "hs.csv",
                                 csv_bytes(table(roster.STUDENT_HEADERS, two_students())))
    SchoolClass.objects.filter(year=year, name="6A1").update(name="6A9")  # the class was renamed since
    client.force_login(school_admin)
    page = page_text(client.get(reverse("roster_preview", args=[school.pk, upload.pk])))
    assert "Lớp '6A1' không có trong năm học 2024-2025" in page
    assert "Xác nhận nhập" not in page
    before = table_counts()
    done = client.post(reverse("roster_commit", args=[school.pk, upload.pk]), follow=True)
    assert "còn 2 lỗi nên không được nhập" in page_text(done)
    assert table_counts() == before


def test_an_upload_older_than_a_day_cannot_be_committed(client, school_admin, school, year, classes):
    upload = roster.store_upload(school_admin, school, year, "students", "hs.csv",
                                 csv_bytes(table(roster.STUDENT_HEADERS, two_students())))
    RosterUpload.objects.filter(pk=upload.pk).update(created_at=upload.created_at - dt.timedelta(days=2))
    client.force_login(school_admin)
    assert "Xác nhận nhập" not in page_text(client.get(reverse("roster_preview", args=[school.pk, upload.pk])))
    before = table_counts()
    done = client.post(reverse("roster_commit", args=[school.pk, upload.pk]), follow=True)
    assert "đã tải lên quá 24 giờ" in page_text(done)
    assert table_counts() == before


def test_a_teacher_is_refused_every_roster_page(client, teacher, school_admin, school, year, classes):
    upload = roster.store_upload(school_admin, school, year, "students", "hs.csv",
                                 csv_bytes(table(roster.STUDENT_HEADERS, two_students())))
    client.force_login(teacher)
    before = table_counts()
    assert client.get(reverse("roster_upload", args=[school.pk])).status_code == 403
    assert client.post(reverse("roster_upload", args=[school.pk]), {
        "kind": "students", "year": year.pk,
        "file": SimpleUploadedFile("hs.csv", csv_bytes(table(roster.STUDENT_HEADERS, two_students())))},
    ).status_code == 403
    assert client.get(reverse("roster_preview", args=[school.pk, upload.pk])).status_code == 403
    assert client.post(reverse("roster_commit", args=[school.pk, upload.pk])).status_code == 403
    assert client.get(reverse("roster_template", args=[school.pk, "students"])).status_code == 403
    assert table_counts() == before


def test_an_upload_of_another_school_is_not_found(client, make_user, school_admin, school, other_school, year,
                                                  classes):
    upload = roster.store_upload(school_admin, school, year, "students", "hs.csv",
                                 csv_bytes(table(roster.STUDENT_HEADERS, two_students())))
    other_admin = make_user("quantri2", "school_admin", other_school, position="QTT")
    client.force_login(other_admin)
    assert client.get(reverse("roster_preview", args=[other_school.pk, upload.pk])).status_code == 404
    assert client.post(reverse("roster_commit", args=[other_school.pk, upload.pk])).status_code == 404
    assert client.get(reverse("roster_preview", args=[school.pk, upload.pk])).status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, school):
    response = client.get(reverse("roster_upload", args=[school.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_upload_form_offers_only_the_schools_years(client, school_admin, school, year, other_school):
    SchoolYear.objects.create(school=other_school, name="2030-2031", start_date=dt.date(2030, 9, 5),
                              end_date=dt.date(2031, 5, 31))
    client.force_login(school_admin)
    page = page_text(client.get(reverse("roster_upload", args=[school.pk])))
    assert "Năm học 2024-2025" in page and "2030-2031" not in page
    for header in roster.STUDENT_HEADERS:
        assert header in page
