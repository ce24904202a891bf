"""Excel round trip of a grade-book column: download → edit offline → upload → preview → commit.

The files are real .xlsx written and edited with openpyxl, as Excel would save them; the pages are
driven through the Django test client.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

HEADER_ROW = 5


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def url(name, cls, code="TO", semester=1):
    return reverse(name, args=[cls.pk, code, semester])


@pytest.fixture
def cls(gb):
    cls = gb.make_class("6A1", students=["Trần Văn Bình", "Lê Thị An", "Nguyễn Văn An"])
    an, an2, _binh = gb.students(cls)  # Vietnamese order: Lê Thị An, Nguyễn Văn An, Trần Văn Bình
    gb.put(cls, "TO", 1, {an: {"tx": ["8.0", "7.5"], "gk": "7.0", "ck": ""},
                          an2: {"tx": ["6.0"], "gk": "", "ck": "", "absent": ["gk"]}})
    return cls


def download(client, cls, code="TO", semester=1) -> openpyxl.Workbook:
    response = client.get(url("gb_column_download", cls, code, semester))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(response.content))


def to_bytes(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cell_of(workbook, student_code: str, header: str):
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[HEADER_ROW]]
    column = headers.index(header) + 1
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        if sheet.cell(row=row, column=2).value == student_code:
            return sheet.cell(row=row, column=column)
    raise KeyError(student_code)


def upload(client, cls, data: bytes, name="so-diem.xlsx", code="TO", semester=1, **extra):
    return client.post(url("gb_column_upload", cls, code, semester),
                       {"file": SimpleUploadedFile(name, data), **extra})


def token_of(html: str) -> str:
    marker = 'name="token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def row(gb, cls, student, code="TO", semester=1):
    from hocba.gradebook.models import SubjectRow

    return SubjectRow.objects.get(school_class=cls, student=student, subject=gb.subjects[code], semester=semester)


def test_the_download_has_the_class_list_the_slots_and_the_existing_scores(gb, cls):
    workbook = download(client_for(gb.gvbm), cls)
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[HEADER_ROW]] == ["STT", "Mã học sinh", "Họ và tên", "ĐĐGtx1", "ĐĐGtx2",
                                                    "ĐĐGtx3", "ĐĐGtx4", "ĐĐGgk", "ĐĐGck", "Nhận xét"]
    names = [sheet.cell(row=r, column=3).value for r in range(HEADER_ROW + 1, HEADER_ROW + 4)]
    assert names == ["Lê Thị An", "Nguyễn Văn An", "Trần Văn Bình"]
    an, an2, _ = gb.students(cls)
    assert cell_of(workbook, an.student_code, "ĐĐGtx2").value == 7.5
    assert cell_of(workbook, an.student_code, "ĐĐGgk").value == 7.0
    assert cell_of(workbook, an2.student_code, "ĐĐGgk").value == "V"  # absent, awaiting a make-up
    assert "Lớp 6A1 – Môn Toán – Học kì I" in sheet["A2"].value
    hidden = [ws for ws in workbook.worksheets if ws.sheet_state == "veryHidden"]
    assert len(hidden) == 1


def test_a_comment_that_looks_like_a_formula_is_downloaded_as_text(gb, cls):
    an = gb.students(cls)[0]
    stored = row(gb, cls, an)
    stored.comment = "=HYPERLINK(\"http://x\")"
    stored.save()
    cell = cell_of(download(client_for(gb.gvbm), cls), an.student_code, "Nhận xét")
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"http://x\")"


def test_round_trip_download_edit_upload_preview_commit(gb, cls):
    client = client_for(gb.gvbm)
    an, an2, binh = gb.students(cls)
    workbook = download(client, cls)
    cell_of(workbook, an.student_code, "ĐĐGck").value = 8.5  # a number, as Excel stores it
    cell_of(workbook, an.student_code, "ĐĐGtx1").value = "9,0"  # text typed with a comma
    cell_of(workbook, an2.student_code, "ĐĐGgk").value = 6  # the make-up of the missed mid-term
    cell_of(workbook, binh.student_code, "ĐĐGtx1").value = "V"  # absent
    cell_of(workbook, binh.student_code, "Nhận xét").value = "Tiến bộ rõ, cần cẩn thận hơn"
    response = upload(client, cls, to_bytes(workbook))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thay đổi (5)" in html
    assert "(trống) → <strong>8,5</strong>" in html
    assert "8,0 → <strong>9,0</strong>" in html
    assert "V (vắng) → <strong>6,0</strong> (kiểm tra bù)" in html
    assert "(trống) → <strong>V (vắng)</strong>" in html
    assert "Xác nhận nhập" in html
    # Nothing is saved by the preview.
    assert row(gb, cls, an).ck == ""

    response = client.post(url("gb_column_upload_commit", cls), {"token": token_of(html)}, follow=True)
    assert "Đã nhập 5 ô từ tệp so-diem.xlsx" in response.content.decode()
    assert row(gb, cls, an).ck == "8.5" and row(gb, cls, an).tx[0] == "9.0"
    assert row(gb, cls, an2).gk == "6.0" and "gk" in row(gb, cls, an2).makeups
    assert "tx1" in row(gb, cls, binh).absent
    assert row(gb, cls, binh).comment == "Tiến bộ rõ, cần cẩn thận hơn"
    from hocba.gradebook.models import CellChange

    assert CellChange.objects.filter(row__school_class=cls, changed_by=gb.gvbm).count() == 5


def test_a_value_changed_online_since_the_download_is_a_conflict_not_overwritten(gb, cls):
    from hocba.gradebook.actions import CellEdit, save_cells

    client = client_for(gb.gvbm)
    an, an2, binh = gb.students(cls)
    workbook = download(client, cls)
    # Online, after the download: An's mid-term 7,0 → 7,5 and Bình's first regular score.
    save_cells(gb.gvbm, cls, gb.subjects["TO"], 1, [CellEdit(an.pk, "gk", "7.0", "7.5"),
                                                     CellEdit(binh.pk, "tx1", "", "5.0")])
    cell_of(workbook, an.student_code, "ĐĐGgk").value = 9  # the file changes the same cell: conflict
    cell_of(workbook, an2.student_code, "ĐĐGck").value = 7  # an unrelated change
    # Bình's tx1 is untouched in the file (still empty there): it must not be taken for a deletion.
    html = upload(client, cls, to_bytes(workbook)).content.decode()
    assert "Xung đột (1)" in html
    assert "<strong>7,5</strong>" in html and "Xác nhận nhập" not in html
    assert "Thay đổi (1)" in html and "Trần Văn Bình" not in html.split("Thay đổi (1)")[1]
    assert row(gb, cls, an).gk == "7.5" and row(gb, cls, binh).tx[0] == "5.0"
    assert row(gb, cls, an2).ck == ""


def test_a_bad_value_is_named_by_row_and_column_and_nothing_is_saved(gb, cls):
    client = client_for(gb.gvbm)
    an, an2, binh = gb.students(cls)
    workbook = download(client, cls)
    cell_of(workbook, an.student_code, "ĐĐGck").value = 8  # valid, but the file is refused whole
    bad = cell_of(workbook, binh.student_code, "ĐĐGgk")
    bad.value = "11"
    worse = cell_of(workbook, an2.student_code, "ĐĐGtx3")
    worse.value = 7.25
    html = upload(client, cls, to_bytes(workbook)).content.decode()
    assert "Tệp bị từ chối: không có điểm nào được nhập" in html
    assert "<th>Dòng</th><th>Cột</th><th>Giá trị</th><th>Lỗi</th>" in html
    assert f"<td>{bad.row}</td><td>ĐĐGgk (cột H)</td><td>11</td>" in html
    assert "nằm ngoài thang điểm 0–10" in html
    assert f"<td>{worse.row}</td><td>ĐĐGtx3 (cột F)</td><td>7.25</td>" in html
    assert "Xác nhận nhập" not in html
    assert row(gb, cls, an).ck == ""


def test_a_commit_is_refused_whole_when_a_cell_changed_between_preview_and_commit(gb, cls):
    from hocba.gradebook.actions import CellEdit, save_cells

    client = client_for(gb.gvbm)
    an, _an2, binh = gb.students(cls)
    workbook = download(client, cls)
    cell_of(workbook, an.student_code, "ĐĐGck").value = 8
    cell_of(workbook, binh.student_code, "ĐĐGck").value = 6
    token = token_of(upload(client, cls, to_bytes(workbook)).content.decode())
    save_cells(gb.gvbm, cls, gb.subjects["TO"], 1, [CellEdit(binh.pk, "ck", "", "9.0")])
    response = client.post(url("gb_column_upload_commit", cls), {"token": token}, follow=True)
    assert "không có điểm nào được nhập" in response.content.decode()
    assert row(gb, cls, an).ck == "" and row(gb, cls, binh).ck == "9.0"


def test_a_forged_or_foreign_commit_token_is_refused(gb, cls):
    client = client_for(gb.gvbm)
    workbook = download(client, cls)
    an = gb.students(cls)[0]
    cell_of(workbook, an.student_code, "ĐĐGck").value = 8
    token = token_of(upload(client, cls, to_bytes(workbook)).content.decode())
    response = client.post(url("gb_column_upload_commit", cls), {"token": token[:-3] + "abc"}, follow=True)
    assert "hết hạn hoặc không hợp lệ" in response.content.decode()
    # Another column's commit page does not accept this column's token.
    response = client.post(url("gb_column_upload_commit", cls, "NV"), {"token": token}, follow=True)
    assert "hết hạn hoặc không hợp lệ" in response.content.decode()
    assert row(gb, cls, an).ck == ""


def test_a_file_of_another_column_or_with_an_edited_hidden_sheet_is_refused(gb, cls):
    client = client_for(gb.gvbm)
    other = download(client, cls, "NV")
    html = upload(client, cls, to_bytes(other)).content.decode()
    assert "không phải của lớp 6A1 – môn Toán – Học kì I" in html
    workbook = download(client, cls)
    hidden = next(ws for ws in workbook.worksheets if ws.sheet_state == "veryHidden")
    hidden["A1"].value = hidden["A1"].value[:-2] + "xx"
    assert "đã bị sửa hoặc hỏng" in upload(client, cls, to_bytes(workbook)).content.decode()
    del workbook[hidden.title]
    assert "Tệp không có trang dữ liệu gốc" in upload(client, cls, to_bytes(workbook)).content.decode()


def test_unsafe_or_wrong_files_are_refused_before_parsing(gb, cls, settings):
    client = client_for(gb.gvbm)
    assert "không phải .xlsx" in upload(client, cls, b"a,b\n1,2\n", name="diem.csv").content.decode()
    assert "không phải bảng tính Excel" in upload(client, cls, b"not a zip").content.decode()
    data = to_bytes(download(client, cls))
    # An entity declaration smuggled into the sheet: refused before openpyxl reads it.
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + content.split(b"?>", 1)[-1]
            target.writestr(item, content)
    assert "XML không an toàn" in upload(client, cls, out.getvalue()).content.decode()
    settings.HOCBA_UPLOAD_MAX_BYTES = 1000
    assert "Tệp quá lớn" in upload(client, cls, data).content.decode()


def test_an_unknown_student_or_a_duplicate_row_is_named(gb, cls):
    client = client_for(gb.gvbm)
    an = gb.students(cls)[0]
    workbook = download(client, cls)
    sheet = workbook.worksheets[0]
    sheet.append([4, "HS-KHONG-CO", "Người Lạ", 8])
    sheet.append([5, an.student_code, "Lê Thị An", 9])
    html = upload(client, cls, to_bytes(workbook)).content.decode()
    assert "Học sinh không có trong danh sách lớp 6A1" in html
    assert "Mã học sinh trùng với dòng" in html


def test_a_comment_subject_accepts_levels_and_absence(gb, cls):
    client = client_for(gb.gvbm)
    an, an2, _ = gb.students(cls)
    workbook = download(client, cls, "GDTC")
    cell_of(workbook, an.student_code, "ĐĐGtx1").value = "đ"
    cell_of(workbook, an.student_code, "ĐĐGtx2").value = "Chưa đạt"
    cell_of(workbook, an2.student_code, "ĐĐGck").value = "v"
    cell_of(workbook, an2.student_code, "ĐĐGgk").value = "8"
    html = upload(client, cls, to_bytes(workbook), code="GDTC").content.decode()
    assert "chỉ nhận Đ (Đạt) hoặc CĐ (Chưa đạt)" in html and "Xác nhận nhập" not in html
    cell_of(workbook, an2.student_code, "ĐĐGgk").value = "Đ"
    html = upload(client, cls, to_bytes(workbook), code="GDTC").content.decode()
    client.post(url("gb_column_upload_commit", cls, "GDTC"), {"token": token_of(html)})
    assert row(gb, cls, an, "GDTC").tx == ["Đ", "CĐ"]
    assert "ck" in row(gb, cls, an2, "GDTC").absent


def test_an_unlocked_column_needs_a_reason_for_an_upload(gb, cls):
    from hocba.gradebook.actions import confirm_column, decide_unlock, request_unlock

    for student in gb.students(cls):
        gb.put(cls, "TO", 1, {student: {"tx": ["8.0"] * 4, "gk": "8.0", "ck": "8.0"}})
    confirm_column(gb.gvbm, cls, gb.subjects["TO"], 1)
    decide_unlock(gb.principal, request_unlock(gb.gvbm, cls, gb.subjects["TO"], 1, "Sửa"), approve=True)
    client = client_for(gb.gvbm)
    an = gb.students(cls)[0]
    workbook = download(client, cls)
    cell_of(workbook, an.student_code, "ĐĐGck").value = 9
    html = upload(client, cls, to_bytes(workbook)).content.decode()
    assert "hãy tải lên lại và ghi lí do" in html and "Xác nhận nhập" not in html
    html = upload(client, cls, to_bytes(workbook), reason="Phúc khảo bài cuối kì").content.decode()
    client.post(url("gb_column_upload_commit", cls), {"token": token_of(html)})
    from hocba.gradebook.models import CellChange

    change = CellChange.objects.get(row__student=an, slot="ck")
    assert change.is_correction and change.reason == "Phúc khảo bài cuối kì"


def test_a_locked_column_cannot_be_uploaded_and_another_teacher_cannot_upload(gb, cls):
    from hocba.gradebook.actions import confirm_column

    for student in gb.students(cls):
        gb.put(cls, "TO", 1, {student: {"tx": ["8.0"] * 4, "gk": "8.0", "ck": "8.0"}})
    confirm_column(gb.gvbm, cls, gb.subjects["TO"], 1)
    client = client_for(gb.gvbm)
    workbook = download(client, cls)
    cell_of(workbook, gb.students(cls)[0].student_code, "ĐĐGck").value = 9
    html = upload(client, cls, to_bytes(workbook)).content.decode()
    assert "Cột điểm đang khoá" in html and "Xác nhận nhập" not in html
    assert upload(client_for(gb.other_teacher), cls, to_bytes(workbook)).status_code == 403
