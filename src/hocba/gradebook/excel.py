"""Excel round trip of one grade-book column (class × subject × semester), and the class summary as .xlsx.

Download → fill in offline → upload → preview every change → commit all or nothing through ``save_cells``.

**Which "old" an uploaded cell carries.** Each edit given to ``save_cells`` names the value the client last
saw, and ``save_cells`` refuses the whole save (``StaleEdit``) when the stored value has changed since. For a
file, "last saw" is the moment of the download, so the download writes the whole column as it was then into
a very hidden sheet, as one token signed with the server's key (``django.core.signing``). On upload a cell
is an edit only when the teacher changed it against that snapshot, and the edit's ``old`` is the snapshot
value. A cell somebody changed online after the download is then either left alone (the teacher did not
touch it in the file) or shown as a conflict (both changed it). Comparing the file with the database at
preview time instead would take every cell changed online since the download for an edit made in the file
and write the file's stale value back over it without a word. The signature makes the snapshot
tamper-evident: a file whose hidden sheet was edited, or that belongs to another column, is refused.

Uploaded files are untrusted: the size, the zip directory (bombs) and DTDs are checked by the roster
import's safe-open helpers before openpyxl (which parses sheets through defusedxml) reads anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from django.core import signing
from django.utils import timezone
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

# The roster import's safe-open helpers: size limit, zip-bomb and DTD checks, and its row-error type.
from hocba.school.roster import (
    MSG_NOT_XLSX,
    MSG_UNSAFE_XML,
    RowError,
    _blank,
    _caused_by,
    _check_zip,
    _fold,
    _Refused,
    upload_size_error,
)

from .actions import ACTIVE_STATUSES, CellEdit
from .models import SubjectRow
from .results import column_results
from .values import CellValueError, canonical_cell, display

SHEET_TITLE = "Sổ điểm"
SNAPSHOT_SHEET = "hocba_goc"  # very hidden: the signed snapshot of the column at download time
SNAPSHOT_SALT = "hocba.gradebook.excel.snapshot"
COMMIT_SALT = "hocba.gradebook.excel.commit"
COMMIT_MAX_AGE = 24 * 3600
FORMAT_VERSION = 1
CHUNK = 30_000  # an Excel cell holds at most 32,767 characters
MAX_CHUNKS = 400
MAX_SHEET_ROWS = 500  # a class has at most ~60 students
MAX_COLUMNS = 40
HEADER_ROW = 5
ABSENT_MARK = "V"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def slot_names(tx_count: int) -> list[str]:
    return [f"tx{i}" for i in range(1, tx_count + 1)] + ["gk", "ck", "comment"]


def slot_header(slot: str) -> str:
    if slot.startswith("tx"):
        return f"ĐĐGtx{slot[2:]}"
    return {"gk": "ĐĐGgk", "ck": "ĐĐGck", "comment": "Nhận xét"}[slot]


def result_headers(kind: str, semester: int) -> list[str]:
    """The computed columns after the slots of a học kì II sheet: the semester result and beside it the
    year result (ĐTBmcn, or Cả năm for a comment subject), as on the form's học kì II page. A học kì I sheet
    has none (its layout is the one teachers already fill in)."""
    if semester != 2:
        return []
    return ["ĐTBmhk", "ĐTBmcn"] if kind == "score" else ["Kết quả học kì", "Cả năm"]


_COMPUTED_HEADER_KEYS = {"dtbmhk", "dtbmcn", "ketquahocki", "ketquahocky", "canam"}


def _header_key(text: str) -> str:
    """'ĐĐGtx 1', 'TX1', 'ddgtx1' → 'ddgtx1'/'tx1': letters and digits only, folded."""
    return re.sub(r"[^a-z0-9]", "", _fold(text))


def _slot_of_header(text: str) -> str | None:
    key = _header_key(text)
    m = re.fullmatch(r"(?:ddg)?tx(\d{1,2})", key)
    if m:
        return f"tx{int(m.group(1))}"
    if key in ("ddggk", "gk", "giuaki", "giuaky"):
        return "gk"
    if key in ("ddgck", "ck", "cuoiki", "cuoiky"):
        return "ck"
    if key in ("nhanxet", "nhanxetmonhoc"):
        return "comment"
    return None


def _safe_text(value: str) -> str:
    return _ILLEGAL_XML.sub("", value)


def _put_text(cell, value: str) -> None:
    """A text cell that Excel and openpyxl never take for a formula (a comment may begin with '=')."""
    cell.value = _safe_text(value)
    cell.data_type = "s"


def _filename_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", _fold(text)).strip("-") or "lop"


def column_filename(school_class, subject, semester: int) -> str:
    return f"so-diem-{_filename_part(school_class.name)}-{_filename_part(subject.code)}-hk{semester}.xlsx"


# --- download ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnSheet:
    """What one column looks like now: students in Vietnamese order and their rows (for the download)."""

    students: list  # Student, in class-list order
    rows: dict[int, SubjectRow]  # student_id -> row (missing: nothing entered yet)


def load_column(school_class, subject, semester: int) -> ColumnSheet:
    from hocba.school.models import Enrolment

    enrolments = (Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
                  .select_related("student").order_by("student__sort_key", "student_id"))
    students = [e.student for e in enrolments]
    rows = {r.student_id: r for r in SubjectRow.objects.filter(school_class=school_class, subject=subject,
                                                                 semester=semester)}
    return ColumnSheet(students, rows)


def _snapshot_of(row: SubjectRow | None, slots: list[str]) -> dict[str, Any]:
    if row is None:
        return {}
    out: dict[str, Any] = {}
    for slot in slots:
        value = row.cell(slot)
        if value:
            out[slot] = value
    if row.absent:
        out["absent"] = [s for s in row.absent if s in slots]
    return out


def column_workbook(actor, school_class, subject, semester: int, *, kind: str, tx_count: int,
                    sheet: ColumnSheet | None = None) -> bytes:
    """The column as an .xlsx: a title, STT · Mã học sinh · Họ và tên · the slots, and the hidden snapshot."""
    sheet = sheet or load_column(school_class, subject, semester)
    slots = slot_names(tx_count)
    computed = result_headers(kind, semester)
    # Học kì II: the engine's semester and year results of each student (read-only; ignored on upload).
    results = column_results(school_class, subject, semester) if computed else {}
    now = timezone.now()
    snapshot = {
        "v": FORMAT_VERSION, "class": school_class.pk, "subject": subject.code, "semester": semester,
        "kind": kind, "tx": tx_count, "at": now.isoformat(), "by": actor.get_username(),
        "students": {s.student_code: [s.pk, _snapshot_of(sheet.rows.get(s.pk), slots)] for s in sheet.students},
    }
    token = signing.dumps(snapshot, salt=SNAPSHOT_SALT, compress=True)

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = SHEET_TITLE
    school = school_class.school
    ncols = 3 + len(slots) + len(computed)
    ws.cell(row=1, column=1, value="SỔ THEO DÕI VÀ ĐÁNH GIÁ HỌC SINH").font = Font(bold=True, size=14)
    _put_text(ws.cell(row=2, column=1),
              f"{school.name} – Lớp {school_class.name} – Môn {subject.name} – Học kì {'I' if semester == 1 else 'II'}"
              f" – Năm học {school_class.year.name}")
    ws.cell(row=2, column=1).font = Font(bold=True)
    local = timezone.localtime(now)
    hint = ("Điểm từ 0 đến 10, tối đa một chữ số thập phân (8,5 hoặc 8.5)" if kind == "score"
            else "Đ (Đạt) hoặc CĐ (Chưa đạt)")
    _put_text(ws.cell(row=3, column=1),
              f"Tải xuống lúc {local:%H:%M %d/%m/%Y} bởi {actor.get_username()}. {hint}; V = vắng kiểm tra. "
              "Không sửa cột Mã học sinh; không xoá trang tính ẩn. Tải tệp lên lại ở trang nhập điểm.")
    ws.cell(row=3, column=1).font = Font(italic=True, color="555555")
    for r in (1, 2, 3):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncols)

    headers = ["STT", "Mã học sinh", "Họ và tên"] + [slot_header(s) for s in slots] + computed
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="DDE6F3")
    for c, text in enumerate(headers, start=1):
        cell = ws.cell(row=HEADER_ROW, column=c, value=text)
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    for i, student in enumerate(sheet.students, start=1):
        r = HEADER_ROW + i
        row = sheet.rows.get(student.pk)
        ws.cell(row=r, column=1, value=i)
        _put_text(ws.cell(row=r, column=2), student.student_code)
        _put_text(ws.cell(row=r, column=3), student.full_name)
        for j, slot in enumerate(slots, start=4):
            cell = ws.cell(row=r, column=j)
            value = row.cell(slot) if row else ""
            if row is not None and slot in row.absent:
                cell.value = ABSENT_MARK
            elif value and kind == "score" and slot != "comment":
                cell.value = float(value)
                cell.number_format = "0.0"
            elif value:
                _put_text(cell, value)
            if slot == "comment":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                cell.alignment = Alignment(horizontal="center")
        if computed:
            res = results.get(student.pk)
            values = [(res.average or res.result) if res else "", res.year if res else ""]
            for j, value in enumerate(values, start=4 + len(slots)):
                cell = ws.cell(row=r, column=j)
                if value and kind == "score":
                    cell.value = float(value.replace(",", "."))
                    cell.number_format = "0.0"
                elif value:
                    _put_text(cell, value)
                cell.font = Font(bold=True)
                cell.alignment = Alignment(horizontal="center")
        for c in range(1, ncols + 1):
            ws.cell(row=r, column=c).border = border

    last = HEADER_ROW + max(len(sheet.students), 1)
    ws.column_dimensions["A"].width = 5
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 28
    for j, slot in enumerate(slots, start=4):
        ws.column_dimensions[get_column_letter(j)].width = 50 if slot == "comment" else 9
    for j in range(4 + len(slots), 4 + len(slots) + len(computed)):
        ws.column_dimensions[get_column_letter(j)].width = 10 if kind == "score" else 14
    ws.column_dimensions["B"].number_format = "@"
    if kind == "comment":
        dv = DataValidation(type="list", formula1='"Đ,CĐ,V"', allow_blank=True, showErrorMessage=True,
                            errorTitle="Giá trị không hợp lệ",
                            error="Môn đánh giá bằng nhận xét chỉ nhận Đ, CĐ hoặc V (vắng).")
        dv.add(f"D{HEADER_ROW + 1}:{get_column_letter(3 + len(slots) - 1)}{last}")
        ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=4)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4

    hidden = workbook.create_sheet(SNAPSHOT_SHEET)
    for n, start in enumerate(range(0, len(token), CHUNK), start=1):
        _put_text(hidden.cell(row=n, column=1), token[start:start + CHUNK])
    hidden.sheet_state = "veryHidden"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- upload --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadedCell:
    """One cell the teacher changed in the file against the download-time snapshot."""

    row: int  # spreadsheet row
    column: str  # "ĐĐGgk (cột E)"
    student_id: int
    student_code: str
    student_name: str
    slot: str
    old: str  # canonical value at download time ("" when empty or absent)
    old_absent: bool
    new: str  # canonical value in the file ("" when empty or absent)
    absent: bool
    current: str = ""  # stored value now (filled by the preview)
    current_absent: bool = False
    conflict: bool = False
    updated_by: str = ""
    updated_at: dt.datetime | None = None

    @property
    def old_display(self) -> str:
        return "V (vắng)" if self.old_absent else display(self.old)

    @property
    def new_display(self) -> str:
        return "V (vắng)" if self.absent else display(self.new)

    @property
    def current_display(self) -> str:
        return "V (vắng)" if self.current_absent else display(self.current)

    @property
    def is_makeup(self) -> bool:
        return self.old_absent and not self.absent and bool(self.new)


@dataclass(frozen=True)
class ColumnUpload:
    filename: str
    sha256: str
    cells: list[UploadedCell] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    downloaded_at: dt.datetime | None = None
    downloaded_by: str = ""
    rows_read: int = 0

    @property
    def conflicts(self) -> list[UploadedCell]:
        return [c for c in self.cells if c.conflict]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_errors and not self.conflicts

    @property
    def changes(self) -> list[UploadedCell]:
        return [c for c in self.cells if not c.conflict]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _read_workbook(data: bytes) -> tuple[list[tuple[int, tuple]], str]:
    """The first sheet's cells as (row number, values) and the snapshot token from the hidden sheet."""
    _check_zip(data)
    rows: list[tuple[int, tuple]] = []
    token = ""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise _Refused("Tệp Excel không có trang tính nào.")
            sheet = workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(min_row=1, max_row=MAX_SHEET_ROWS + 1,
                                                            max_col=MAX_COLUMNS, values_only=True), start=1):
                if number > MAX_SHEET_ROWS:
                    if any(not _blank(v) for v in values):
                        raise _Refused(f"Trang tính có hơn {MAX_SHEET_ROWS} dòng; đây không phải tệp sổ điểm "
                                       "của một lớp.")
                    break
                rows.append((number, tuple(values)))
            if SNAPSHOT_SHEET in workbook.sheetnames:
                parts = []
                for n, (value,) in enumerate(workbook[SNAPSHOT_SHEET].iter_rows(
                        min_row=1, max_row=MAX_CHUNKS, max_col=1, values_only=True), start=1):
                    if value is None:
                        break
                    parts.append(str(value))
                token = "".join(parts)
        finally:
            workbook.close()
    except _Refused:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything from KeyError to ParseError on bad input
        if _caused_by(exc, DefusedXmlException):
            raise _Refused(MSG_UNSAFE_XML) from None
        raise _Refused(MSG_NOT_XLSX) from None
    return rows, token


def _semester_label(semester: int) -> str:
    return "Học kì I" if semester == 1 else "Học kì II"


def read_column_upload(filename: str, data: bytes, *, school_class, subject, semester: int, kind: str,
                       tx_count: int) -> ColumnUpload:
    """Read an uploaded column file and check every changed cell; write nothing.

    The result lists each change (against the download-time snapshot) and each refusal with its row, column,
    value and reason; ``preview_against_database`` then marks the changes that conflict with newer values.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    name = PurePath(filename.replace("\\", "/")).name

    def refused(message: str) -> ColumnUpload:
        return ColumnUpload(name, sha256, file_errors=[message])

    size_error = upload_size_error(len(data))
    if size_error:
        return refused(size_error)
    if not data:
        return refused("Tệp rỗng, không có dữ liệu.")
    if PurePath(name).suffix.lower() != ".xlsx":
        return refused(f"Tệp '{name}' không phải .xlsx. Hãy tải xuống tệp Excel của cột điểm này, điền điểm rồi "
                       "lưu lại dưới dạng Excel Workbook (.xlsx).")
    try:
        rows, token = _read_workbook(data)
    except _Refused as exc:
        return refused(str(exc))

    if not token:
        return refused("Tệp không có trang dữ liệu gốc của hệ thống (trang tính ẩn). Chỉ nhận tệp được tải xuống "
                       "từ trang nhập điểm; hãy tải xuống tệp mới, điền điểm vào đó rồi tải lên.")
    try:
        snap = signing.loads(token, salt=SNAPSHOT_SALT)
    except signing.BadSignature:
        return refused("Trang dữ liệu gốc (trang tính ẩn) của tệp đã bị sửa hoặc hỏng nên tệp bị từ chối. Hãy tải "
                       "xuống tệp mới từ trang nhập điểm.")
    if (snap.get("v") != FORMAT_VERSION or snap.get("class") != school_class.pk or snap.get("subject") != subject.code
            or snap.get("semester") != semester):
        return refused(f"Tệp này không phải của lớp {school_class.name} – môn {subject.name} – "
                       f"{_semester_label(semester)}. Hãy tải lên ở đúng trang nhập điểm của cột trong tệp.")
    if snap.get("kind") != kind or snap.get("tx") != tx_count:
        return refused("Kế hoạch môn học đã thay đổi (số bài ĐĐGtx hoặc hình thức đánh giá) từ khi tải tệp xuống. "
                       "Hãy tải xuống tệp mới.")
    try:
        downloaded_at = dt.datetime.fromisoformat(snap["at"])
    except (KeyError, TypeError, ValueError):
        downloaded_at = None
    downloaded_by = str(snap.get("by", ""))
    known: dict[str, list] = snap.get("students", {})

    header_index = next((i for i, (_n, cells) in enumerate(rows[:20])
                         if any(_header_key(_cell_text(c)) == "mahocsinh" for c in cells)), None)
    if header_index is None:
        return ColumnUpload(name, sha256, file_errors=[
            "Không tìm thấy dòng tiêu đề có cột 'Mã học sinh' trong 20 dòng đầu của trang tính đầu tiên."],
            downloaded_at=downloaded_at, downloaded_by=downloaded_by)
    header_number, header = rows[header_index]
    slots = slot_names(tx_count)
    code_col = name_col = None
    slot_cols: dict[str, int] = {}
    file_errors: list[str] = []
    for index, cell in enumerate(header):
        text = _cell_text(cell)
        if not text:
            continue
        key = _header_key(text)
        letter = get_column_letter(index + 1)
        if key == "mahocsinh":
            code_col = index
        elif key in ("hovaten", "hoten"):
            name_col = index
        elif key == "stt" or key in _COMPUTED_HEADER_KEYS:
            continue  # the semester and year results are computed, never read back
        else:
            slot = _slot_of_header(text)
            if slot is None or slot not in slots:
                file_errors.append(f"Cột '{text}' (cột {letter}) không thuộc cột điểm này; môn {subject.name} có "
                                   f"các cột {', '.join(slot_header(s) for s in slots)}.")
            elif slot in slot_cols:
                file_errors.append(f"Cột '{slot_header(slot)}' xuất hiện hai lần (cột "
                                   f"{get_column_letter(slot_cols[slot] + 1)} và cột {letter}).")
            else:
                slot_cols[slot] = index
    missing = [slot_header(s) for s in slots if s not in slot_cols]
    if missing:
        file_errors.append(f"Thiếu cột: {', '.join(missing)} (dòng tiêu đề là dòng {header_number}). Đừng xoá hay "
                           "đổi tên cột của tệp tải xuống.")
    if file_errors:
        return ColumnUpload(name, sha256, file_errors=file_errors, downloaded_at=downloaded_at,
                            downloaded_by=downloaded_by)

    errors: list[RowError] = []
    cells: list[UploadedCell] = []
    seen: dict[str, int] = {}
    rows_read = 0
    code_header = f"Mã học sinh (cột {get_column_letter(code_col + 1)})"
    def value_at(values: tuple, index: int | None) -> Any:
        return values[index] if index is not None and index < len(values) else None

    for number, values in rows[header_index + 1:]:
        if all(_blank(v) for v in values):
            continue
        code = _cell_text(value_at(values, code_col))
        if not code and all(_blank(value_at(values, i)) for i in slot_cols.values()):
            continue  # a row with only an STT or a name: nothing to import
        rows_read += 1
        if not code:
            errors.append(RowError(number, code_header, "", "Thiếu mã học sinh."))
            continue
        if code in seen:
            errors.append(RowError(number, code_header, code, f"Mã học sinh trùng với dòng {seen[code]}."))
            continue
        seen[code] = number
        entry = known.get(code)
        if entry is None:
            errors.append(RowError(number, code_header, code,
                                   f"Học sinh không có trong danh sách lớp {school_class.name} lúc tải tệp xuống."))
            continue
        student_id, before = int(entry[0]), entry[1]
        before_absent = set(before.get("absent", []))
        student_name = _cell_text(value_at(values, name_col))
        for slot in slots:
            index = slot_cols[slot]
            raw = value_at(values, index)
            column = f"{slot_header(slot)} (cột {get_column_letter(index + 1)})"
            text = _cell_text(raw)
            absent = slot != "comment" and text.upper() == ABSENT_MARK
            try:
                if absent:
                    new = ""
                elif isinstance(raw, (int, float)) and not isinstance(raw, bool) and slot != "comment":
                    new = canonical_cell(kind, slot, raw)
                else:
                    new = canonical_cell(kind, slot, text)
            except CellValueError as exc:
                errors.append(RowError(number, column, text, str(exc)))
                continue
            old = before.get(slot, "")
            old_absent = slot in before_absent
            if new == old and absent == old_absent:
                continue
            cells.append(UploadedCell(number, column, student_id, code, student_name, slot, old, old_absent, new,
                                      absent))
    if not rows_read and not errors:
        file_errors.append(f"Tệp không có dòng học sinh nào dưới dòng tiêu đề (dòng {header_number}).")
    return ColumnUpload(name, sha256, cells, errors, file_errors, downloaded_at, downloaded_by, rows_read)


def preview_against_database(upload: ColumnUpload, school_class, subject, semester: int) -> ColumnUpload:
    """Mark each change whose cell was changed by somebody else since the download (a conflict).

    The rule is ``save_cells``'s: a conflict when the stored value differs both from the download-time value
    and from the file's value. Students who left the class since the download are refused.
    """
    if not upload.cells:
        return upload
    from hocba.school.models import Enrolment

    active = set(Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
                 .values_list("student_id", flat=True))
    rows = {r.student_id: r for r in SubjectRow.objects.filter(
        school_class=school_class, subject=subject, semester=semester,
        student_id__in={c.student_id for c in upload.cells}).select_related("updated_by")}
    cells: list[UploadedCell] = []
    errors = list(upload.errors)
    for c in upload.cells:
        if c.student_id not in active:
            errors.append(RowError(c.row, c.column, c.new_display, "Học sinh không còn học ở lớp này."))
            continue
        row = rows.get(c.student_id)
        current = row.cell(c.slot) if row else ""
        current_absent = bool(row and c.slot in row.absent)
        conflict = current != c.old and current != c.new
        by = ""
        if conflict and row is not None and row.updated_by is not None:
            by = row.updated_by.get_full_name() or row.updated_by.get_username()
        cells.append(UploadedCell(c.row, c.column, c.student_id, c.student_code, c.student_name, c.slot, c.old,
                                  c.old_absent, c.new, c.absent, current, current_absent, conflict, by,
                                  row.updated_at if (conflict and row) else None))
    errors.sort(key=lambda e: (e.row, e.column))
    return ColumnUpload(upload.filename, upload.sha256, cells, errors, upload.file_errors, upload.downloaded_at,
                        upload.downloaded_by, upload.rows_read)


def edits_of(upload: ColumnUpload, reason: str = "") -> list[CellEdit]:
    return [CellEdit(student_id=c.student_id, slot=c.slot, old=c.old, new=c.new, absent=c.absent, reason=reason)
            for c in upload.changes]


def sign_commit(user, school_class, subject, semester: int, upload: ColumnUpload, reason: str) -> str:
    """The previewed edits, signed for the confirmation form (so the commit applies exactly what was shown)."""
    payload = {"col": [school_class.pk, subject.code, semester], "file": upload.filename, "sha256": upload.sha256,
               "reason": reason,
               "edits": [[c.student_id, c.slot, c.old, c.new, c.absent] for c in upload.changes]}
    return signing.dumps(payload, salt=f"{COMMIT_SALT}:{user.pk}", compress=True)


@dataclass(frozen=True)
class SignedCommit:
    filename: str
    sha256: str
    reason: str
    edits: list[CellEdit]


def load_commit(token: str, user, school_class, subject, semester: int) -> SignedCommit | None:
    """The edits of a confirmation form, or None when the token is forged, expired or for another column."""
    try:
        payload = signing.loads(token, salt=f"{COMMIT_SALT}:{user.pk}", max_age=COMMIT_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("col") != [school_class.pk, subject.code, semester]:
        return None
    reason = str(payload.get("reason", ""))
    edits = [CellEdit(student_id=int(sid), slot=str(slot), old=str(old), new=str(new), absent=bool(absent),
                      reason=reason) for sid, slot, old, new, absent in payload.get("edits", [])]
    return SignedCommit(str(payload.get("file", "")), str(payload.get("sha256", "")), reason, edits)


# --- the class summary ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SummaryTable:
    """The class summary as plain rows, the same the summary page shows (built by the view)."""

    title: str
    subtitle: str
    headers: list[str]
    rows: list[list[str]]
    footer: list[str] = field(default_factory=list)


def summary_workbook(table: SummaryTable) -> bytes:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Tổng hợp"
    ncols = len(table.headers)
    ws.cell(row=1, column=1, value=table.title).font = Font(bold=True, size=14)
    _put_text(ws.cell(row=2, column=1), table.subtitle)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(ncols, 1))
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(ncols, 1))
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c, text in enumerate(table.headers, start=1):
        cell = ws.cell(row=4, column=c)
        _put_text(cell, text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F3")
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(table.rows, start=5):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if c == 1 and str(value).isdigit():
                cell.value = int(value)
            else:
                _put_text(cell, str(value))
            cell.border = border
    r = 5 + len(table.rows) + 1
    for line in table.footer:
        _put_text(ws.cell(row=r, column=1), line)
        r += 1
    ws.column_dimensions["A"].width = 5
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 26
    for c in range(4, ncols + 1):
        ws.column_dimensions[get_column_letter(c)].width = 9
    ws.freeze_panes = "D5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
