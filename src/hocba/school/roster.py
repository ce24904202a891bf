"""Roster import (nhập dữ liệu): students, staff, classes and teaching assignments from the sector
database's .xlsx/.csv exports.

Two steps, so that nobody imports a file they have not seen:

1. ``parse_roster`` reads a file, checks every row against the rules and against the database, and returns a
   typed preview: what each row would create, update or leave alone, and every error with its row, column,
   value and what is allowed. It writes nothing.
2. ``import_roster`` applies a preview that has no error, in one transaction with one audit event. A file with
   any error is refused whole: an import never leaves half a class list behind.

Between the two steps the file is kept as a ``RosterUpload`` (``store_upload``); ``commit_upload`` re-checks
the stored bytes against the database as it is at that moment and imports them.

Spreadsheets from outside are untrusted. The size is checked before anything is read, the zip directory is
checked for bombs before anything is decompressed, and openpyxl parses the XML through defusedxml, which
refuses entity declarations (billion laughs, external entities).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from hocba.audit.log import record

from . import permissions
from .actions import ActionError
from .models import (
    Enrolment,
    RosterUpload,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    Student,
    Subject,
    SubjectPlan,
    TeachingAssignment,
)
from .names import is_valid_personal_number, normalise_name, vietnamese_sort_key

# --- limits --------------------------------------------------------------------------------------------

MAX_SHEET_ROWS = 10_000  # rows read from a sheet, blank ones included
MAX_DATA_ROWS = 5_000  # a school has about 1,500 students
MAX_COLUMNS = 100
XLSX_MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
XLSX_MAX_RATIO = 100  # uncompressed : compressed, for any member above XLSX_RATIO_FLOOR_BYTES
XLSX_RATIO_FLOOR_BYTES = 1024 * 1024
XLSX_MAX_MEMBERS = 1_000
UPLOAD_LIFETIME = dt.timedelta(days=1)

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
ACTION_LABELS = {CREATE: "Thêm mới", UPDATE: "Cập nhật", UNCHANGED: "Không đổi"}

# --- the four kinds and their columns ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an import template. ``aliases`` are other headers the sector's exports use for it."""

    header: str
    field: str
    required: bool = False
    hint: str = ""
    aliases: tuple[str, ...] = ()


_PN_HINT = "Đúng 12 chữ số. Định dạng cột là Văn bản (Text) để Excel không bỏ số 0 ở đầu."
_PN_ALIASES = ("Mã định danh", "Mã định danh cá nhân", "Số định danh")
_DATE_HINT = "dd/mm/yyyy, ví dụ 05/09/2012 (hoặc ô kiểu ngày của Excel)."
_STAFF_REF_HINT = "Mã cán bộ hoặc số định danh cá nhân của một cán bộ đã có trong danh sách cán bộ của trường."

STUDENT_COLUMNS = (
    Column("Mã học sinh", "student_code", True, "Mã học sinh trên cơ sở dữ liệu ngành."),
    Column("Số định danh cá nhân", "personal_number", True, _PN_HINT, _PN_ALIASES),
    Column("Họ và tên", "full_name", True, "Họ và tên đầy đủ.", ("Họ tên",)),
    Column("Giới tính", "gender", True, "Nam hoặc Nữ."),
    Column("Ngày sinh", "birth_date", True, _DATE_HINT),
    Column("Nơi sinh", "birthplace", True),
    Column("Quê quán", "hometown", True),
    Column("Nơi ở hiện nay", "residence", True, aliases=("Nơi ở", "Chỗ ở hiện nay")),
    Column("Dân tộc", "ethnicity", hint="Bỏ trống: Kinh."),
    Column("Quốc tịch", "nationality", hint="Bỏ trống: Việt Nam."),
    Column("Đối tượng chính sách", "policy_group"),
    Column("Họ tên cha", "father_name", aliases=("Họ và tên cha",)),
    Column("Nghề nghiệp cha", "father_occupation", aliases=("Nghề nghiệp của cha",)),
    Column("Họ tên mẹ", "mother_name", aliases=("Họ và tên mẹ",)),
    Column("Nghề nghiệp mẹ", "mother_occupation", aliases=("Nghề nghiệp của mẹ",)),
    Column("Họ tên người giám hộ", "guardian_name", aliases=("Họ và tên người giám hộ",)),
    Column("Nghề nghiệp người giám hộ", "guardian_occupation", aliases=("Nghề nghiệp của người giám hộ",)),
    Column("Lớp", "class_name", True, "Tên một lớp đã có trong năm học đã chọn, ví dụ 6A1.", ("Tên lớp",)),
)

STAFF_COLUMNS = (
    Column("Mã cán bộ", "staff_code", True, "Mã cán bộ trên cơ sở dữ liệu ngành.", ("Mã giáo viên",)),
    Column("Số định danh cá nhân", "personal_number", True, _PN_HINT, _PN_ALIASES),
    Column("Họ và tên", "full_name", True, "Họ và tên đầy đủ.", ("Họ tên",)),
    Column("Giới tính", "gender", True, "Nam hoặc Nữ."),
    Column("Ngày sinh", "birth_date", hint=_DATE_HINT),
    Column("Chức vụ", "position",
           hint="HT, PHT, GV, NVHV, QTT hoặc tên chức vụ (Hiệu trưởng, Phó hiệu trưởng, Giáo viên, "
                "Nhân viên học vụ, Quản trị trường). Bỏ trống: Giáo viên."),
    Column("Chuyên môn", "specialty"),
    Column("Email", "email", aliases=("Thư điện tử",)),
    Column("Điện thoại", "phone", aliases=("Số điện thoại",)),
)

CLASS_COLUMNS = (
    Column("Khối", "grade", True, "6, 7, 8 hoặc 9."),
    Column("Tên lớp", "name", True, "Bắt đầu bằng khối, tối đa 10 kí tự, ví dụ 6A1.", ("Lớp",)),
    Column("Giáo viên chủ nhiệm", "homeroom", hint=_STAFF_REF_HINT + " Bỏ trống: chưa phân công.",
           aliases=("GVCN",)),
)

ASSIGNMENT_COLUMNS = (
    Column("Lớp", "class_name", True, "Tên một lớp đã có trong năm học đã chọn, ví dụ 6A1.", ("Tên lớp",)),
    Column("Mã môn", "subject", True, "Mã môn (NV, TO, NN1, …) hoặc tên môn.", ("Môn", "Môn học")),
    Column("Học kì", "semester", True, "1, 2 hoặc Cả năm (cả hai học kì).", ("Học kỳ",)),
    Column("Giáo viên", "teacher", True, _STAFF_REF_HINT, ("Giáo viên bộ môn", "Mã cán bộ")),
)

STUDENT_HEADERS = tuple(c.header for c in STUDENT_COLUMNS)
STAFF_HEADERS = tuple(c.header for c in STAFF_COLUMNS)
CLASS_HEADERS = tuple(c.header for c in CLASS_COLUMNS)
ASSIGNMENT_HEADERS = tuple(c.header for c in ASSIGNMENT_COLUMNS)

# Columns any template may carry and the import ignores (the row number Vietnamese lists always have).
IGNORED_HEADERS = ("STT", "Số thứ tự")


def _fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces: how headers and labels are compared."""
    text = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.lower().split())


def _fold_header(text: str) -> str:
    return _fold(text).strip(" *:")


@dataclass(frozen=True)
class KindSpec:
    kind: str
    label: str  # "học sinh": what the messages call one row
    columns: tuple[Column, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    @property
    def required_headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns if c.required)

    @property
    def optional_headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns if not c.required)

    def lookup(self) -> dict[str, Column]:
        out = {}
        for c in self.columns:
            for name in (c.header, *c.aliases):
                out[_fold_header(name)] = c
        return out

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


KINDS: dict[str, KindSpec] = {
    "students": KindSpec("students", "học sinh", STUDENT_COLUMNS),
    "staff": KindSpec("staff", "cán bộ", STAFF_COLUMNS),
    "classes": KindSpec("classes", "lớp", CLASS_COLUMNS),
    "assignments": KindSpec("assignments", "phân công giảng dạy", ASSIGNMENT_COLUMNS),
}
assert set(KINDS) == {k for k, _ in RosterUpload.KIND_CHOICES}

# --- what a preview and an import report ---------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A refusal of one cell: the spreadsheet row, the column header, the value as read, and why."""

    row: int
    column: str
    value: str
    message: str


@dataclass(frozen=True)
class FieldDiff:
    column: str
    old: str
    new: str


@dataclass(frozen=True)
class RowChange:
    """What importing one row would do. ``values`` are the checked model values ``import_roster`` writes."""

    row: int
    action: str  # CREATE, UPDATE or UNCHANGED
    key: str  # what identifies the row: a personal number, a class name, class · subject · semester
    label: str  # who or what, for people: a name
    diffs: tuple[FieldDiff, ...] = ()
    object_id: int | None = None
    values: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass(frozen=True)
class RosterPreview:
    kind: str
    rows: list[RowChange]
    errors: list[RowError]
    file_errors: list[str]
    filename: str = ""
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_errors

    @property
    def label(self) -> str:
        return KINDS[self.kind].label if self.kind in KINDS else ""

    @property
    def counts(self) -> dict[str, int]:
        out = {CREATE: 0, UPDATE: 0, UNCHANGED: 0}
        for r in self.rows:
            out[r.action] += 1
        return out


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def message(self) -> str:
        text = (f"Đã nhập {self.total} {KINDS[self.kind].label} ({self.created} mới, "
                f"{self.updated} cập nhật")
        if self.unchanged:
            text += f", {self.unchanged} không thay đổi"
        return text + ")."


# --- reading a file into rows of cells -----------------------------------------------------------------

MSG_NOT_XLSX = "Tệp không phải bảng tính Excel (.xlsx) hợp lệ. Hãy mở tệp bằng Excel và lưu lại dưới dạng .xlsx."
MSG_UNSAFE_XML = "Tệp Excel chứa nội dung XML không an toàn (thực thể/DTD) nên bị từ chối."


class _Refused(Exception):
    """A file-level refusal; its argument is the Vietnamese message."""


def _mb(n: int, *, round_up: bool = False) -> str:
    value = n / (1024 * 1024)
    if round_up:  # 5 MB + 1 byte must not read "5,0 MB, tối đa 5 MB"
        text = f"{math.ceil(value * 10) / 10:.1f}"
    else:
        text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def upload_size_error(size: int) -> str | None:
    """The refusal of a file of ``size`` bytes, if it is over HOCBA_UPLOAD_MAX_BYTES (views check it first)."""
    limit = settings.HOCBA_UPLOAD_MAX_BYTES
    if size > limit:
        return f"Tệp quá lớn: {_mb(size, round_up=True)} MB, tối đa {_mb(limit)} MB."
    return None


def _read_rows(filename: str, data: bytes) -> list[tuple[int, tuple]]:
    """The cells of the first sheet (or of the CSV), as (spreadsheet row number, values)."""
    size_error = upload_size_error(len(data))
    if size_error:
        raise _Refused(size_error)
    if not data:
        raise _Refused("Tệp rỗng, không có dữ liệu.")
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(data)
    if suffix == ".csv":
        return _read_csv(data)
    if suffix in (".xls", ".ods", ".xlsm", ".xlsb"):
        raise _Refused(f"Không nhận tệp {suffix}; hãy mở tệp bằng Excel và lưu lại dưới dạng .xlsx "
                       "(Excel Workbook).")
    raise _Refused(f"Tệp '{filename}' không phải .xlsx hoặc .csv; chỉ nhận hai loại tệp này.")


def _read_csv(data: bytes) -> list[tuple[int, tuple]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Refused("Tệp CSV đang ở bảng mã UTF-16; hãy lưu lại từ Excel với kiểu "
                       "'CSV UTF-8 (Comma delimited) (*.csv)'.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Refused(f"Tệp CSV không ở bảng mã UTF-8 (byte không hợp lệ ở vị trí {exc.start}). Hãy mở tệp "
                       "bằng Excel và lưu lại với kiểu 'CSV UTF-8 (Comma delimited) (*.csv)'.") from None
    if "\x00" in text:
        raise _Refused("Tệp CSV chứa kí tự NUL nên không phải tệp văn bản; hãy xuất lại tệp từ Excel.")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for number, cells in enumerate(reader, start=1):
            if number > MAX_SHEET_ROWS:
                if any(c.strip() for c in cells):
                    raise _Refused(f"Tệp có hơn {MAX_SHEET_ROWS} dòng; hãy chia thành nhiều tệp.")
                continue
            rows.append((number, tuple(cells[:MAX_COLUMNS])))
    except csv.Error as exc:
        raise _Refused(f"Tệp CSV không đọc được ở dòng {reader.line_num}: {exc}.") from None
    return rows


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _check_zip(data: bytes) -> None:
    """Refuse a zip bomb from the zip directory alone, before decompressing anything, then any DTD.

    The sizes in the directory are trustworthy for this purpose: ``zipfile`` never yields more bytes than a
    member's declared size (and checks its CRC), so a member cannot expand beyond what is checked here.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _Refused(MSG_NOT_XLSX) from None
    with archive:
        members = archive.infolist()
    if len(members) > XLSX_MAX_MEMBERS:
        raise _Refused(f"Tệp Excel có {len(members)} thành phần nén, bất thường với một bảng tính; tệp bị từ "
                       "chối vì có thể là 'bom nén' (zip bomb).")
    total = sum(m.file_size for m in members)
    if total > XLSX_MAX_UNCOMPRESSED_BYTES:
        raise _Refused(f"Tệp Excel giải nén ra {_mb(total, round_up=True)} MB, vượt giới hạn "
                       f"{_mb(XLSX_MAX_UNCOMPRESSED_BYTES)} MB; tệp bị từ chối vì có thể là 'bom nén' (zip bomb).")
    for m in members:
        if m.file_size > XLSX_RATIO_FLOOR_BYTES and m.file_size > XLSX_MAX_RATIO * max(m.compress_size, 1):
            ratio = m.file_size // max(m.compress_size, 1)
            raise _Refused(f"Thành phần '{m.filename}' của tệp Excel nén với tỉ lệ bất thường ({ratio}:1); tệp bị "
                           "từ chối vì có thể là 'bom nén' (zip bomb).")
    _refuse_dtd(data, members)


# A DTD is where entities are declared (billion laughs, external entities), and OOXML packages never carry one
# (ISO/IEC 29500-2 forbids DTDs in package parts), so any part that contains one is refused outright. This does
# not rely on the XML parser: when lxml is installed openpyxl parses workbook.xml and other parts with lxml
# (entities left unresolved, but not refused); only sheets and shared strings go through defusedxml.
_DTD_TOKENS = tuple(token.encode(encoding) for token in ("<!DOCTYPE", "<!ENTITY")
                    for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
_SCAN_CHUNK = 1024 * 1024


def _refuse_dtd(data: bytes, members: list[zipfile.ZipInfo]) -> None:
    overlap = max(len(t) for t in _DTD_TOKENS) - 1
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in members:
                with archive.open(member) as part:
                    tail = b""
                    while chunk := part.read(_SCAN_CHUNK):
                        window = tail + chunk
                        if any(token in window for token in _DTD_TOKENS):
                            raise _Refused(MSG_UNSAFE_XML)
                        tail = window[-overlap:]
    except _Refused:
        raise
    except Exception:  # noqa: BLE001 - a corrupt member (bad CRC, unsupported compression, encryption…)
        raise _Refused(MSG_NOT_XLSX) from None


def _read_xlsx(data: bytes) -> list[tuple[int, tuple]]:
    _check_zip(data)
    rows = []
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
                        raise _Refused(f"Tệp có hơn {MAX_SHEET_ROWS} dòng; hãy chia thành nhiều tệp.")
                    break
                rows.append((number, tuple(values)))
        finally:
            workbook.close()
    except _Refused:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything from KeyError to ParseError on bad input
        if _caused_by(exc, DefusedXmlException):
            raise _Refused(MSG_UNSAFE_XML) from None
        raise _Refused(MSG_NOT_XLSX) from None
    return rows


# --- cells ---------------------------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _display(value: Any) -> str:
    """A cell as text: NFC, single spaces; integral numbers without ".0"; dates as dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d/%m/%Y")
    return normalise_name(str(value))


def _date_text(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_GENDERS = {"nam": "1", "nu": "2"}
_GENDER_LABELS = {"1": "Nam", "2": "Nữ"}
_POSITIONS = {_fold(name): code for code, label in Staff.POSITION_CHOICES for name in (code, label)}
_POSITION_LABELS = dict(Staff.POSITION_CHOICES)
_SEMESTERS = {
    **{s: (1,) for s in ("1", "i", "hk1", "hki", "hoc ki 1", "hoc ki i", "hoc ky 1", "hoc ky i")},
    **{s: (2,) for s in ("2", "ii", "hk2", "hkii", "hoc ki 2", "hoc ki ii", "hoc ky 2", "hoc ky ii")},
    **{s: (1, 2) for s in ("ca nam", "ca hai hoc ki", "ca hai hoc ky", "1, 2", "1,2", "1 va 2")},
}


def _class_key(name: str) -> str:
    return "".join(str(name).split()).upper()


class _Row:
    """One data row being checked: typed getters that record a RowError instead of raising."""

    def __init__(self, number: int, cells: dict[str, Any], spec: KindSpec, errors: list[RowError]):
        self.number, self.cells, self.spec, self._errors = number, cells, spec, errors
        self.failed = False

    def present(self, name: str) -> bool:
        return name in self.cells

    def raw(self, name: str) -> Any:
        return self.cells.get(name)

    def header(self, name: str) -> str:
        return self.spec.column(name).header

    def error(self, name: str, message: str, value: Any = None) -> None:
        shown = _display(self.cells.get(name)) if value is None else str(value)
        self._errors.append(RowError(self.number, self.header(name), shown, message))
        self.failed = True

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = _display(self.raw(name))
        if not value:
            if required:
                self.error(name, f"{self.header(name)} không được để trống.")
            return ""
        if max_length and len(value) > max_length:
            self.error(name, f"{self.header(name)} dài {len(value)} kí tự, tối đa {max_length} kí tự.")
        return value

    def personal_number(self, name: str = "personal_number") -> str:
        column, raw = self.header(name), self.raw(name)
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            digits = _display(raw)
            if len(digits) == 11:
                self.error(name, f"{column} {digits} là ô kiểu số nên Excel đã bỏ chữ số 0 ở đầu (chỉ còn 11 chữ "
                                 f"số). Hãy định dạng cột '{column}' là Văn bản (Text) và nhập đủ 12 chữ số.")
            else:
                self.error(name, f"{column} '{digits}' không hợp lệ: phải gồm đúng 12 chữ số, ghi trong ô kiểu "
                                 "Văn bản (Text).")
            return ""
        value = "".join(_display(raw).split()).lstrip("'")
        if not value:
            self.error(name, f"{column} không được để trống.")
        elif not (len(value) == 12 and value.isdigit()):
            hint = " (có thể chữ số 0 ở đầu đã bị mất khi mở tệp bằng Excel)" if value.isdigit() and len(
                value) == 11 else ""
            self.error(name, f"{column} '{value}' không hợp lệ: phải gồm đúng 12 chữ số, đang có {len(value)} "
                             f"kí tự{hint}.", value)
        elif not is_valid_personal_number(value):
            self.error(name, f"{column} '{value}' không hợp lệ: 3 chữ số đầu phải là mã tỉnh, từ 001 đến 096.",
                       value)
        else:
            return value
        return ""

    def date(self, name: str, *, required: bool) -> dt.date | None:
        column, raw = self.header(name), self.raw(name)
        if isinstance(raw, dt.datetime):
            value = raw.date()
        elif isinstance(raw, dt.date):
            value = raw
        else:
            text = _display(raw)
            if not text:
                if required:
                    self.error(name, f"{column} không được để trống (định dạng dd/mm/yyyy).")
                return None
            match = _DATE_RE.match(text)
            if not match:
                self.error(name, f"{column} '{text}' không đúng định dạng dd/mm/yyyy.")
                return None
            day, month, year = (int(g) for g in match.groups())
            try:
                value = dt.date(year, month, day)
            except ValueError:
                self.error(name, f"{column} '{text}' không phải ngày có thật (định dạng dd/mm/yyyy).")
                return None
        if value.year < 1900 or value > timezone.localdate():
            self.error(name, f"{column} '{_date_text(value)}' không hợp lý: phải là một ngày đã qua, "
                             "định dạng dd/mm/yyyy.")
            return None
        return value

    def gender(self, name: str = "gender") -> str:
        text = _display(self.raw(name))
        code = _GENDERS.get(_fold(text))
        if code is None:
            if text:
                self.error(name, f"{self.header(name)} '{text}' không hợp lệ; chỉ được ghi 'Nam' hoặc 'Nữ'.")
            else:
                self.error(name, f"{self.header(name)} không được để trống; ghi 'Nam' hoặc 'Nữ'.")
            return ""
        return code


class _StaffIndex:
    """The school's staff by code and by personal number: how classes and assignments name a teacher."""

    def __init__(self, school: School):
        staff = list(Staff.objects.filter(school=school))
        self.by_code = {s.staff_code.upper(): s for s in staff}
        self.by_pn = {s.personal_number: s for s in staff}

    def find(self, row: _Row, name: str, *, required: bool) -> Staff | None:
        raw = row.raw(name)
        text = "".join(_display(raw).split()).lstrip("'")
        column = row.header(name)
        if not text:
            if required:
                row.error(name, f"{column} không được để trống; ghi mã cán bộ hoặc số định danh cá nhân.")
            return None
        staff = self.by_code.get(text.upper()) or self.by_pn.get(text)
        if staff is None:
            hint = ""
            if isinstance(raw, (int, float)) and len(text) == 11:
                hint = (" Nếu đây là số định danh cá nhân thì ô đang ở kiểu số nên đã mất chữ số 0 ở đầu; hãy định "
                        "dạng cột là Văn bản (Text).")
            row.error(name, f"{column} '{text}' không có trong danh sách cán bộ của trường (ghi mã cán bộ hoặc số "
                            f"định danh cá nhân); hãy nhập danh sách cán bộ trước.{hint}", text)
            return None
        if not staff.is_active:
            row.error(name, f"{column}: {staff.full_name} ({staff.staff_code}) đã thôi công tác.", text)
            return None
        return staff


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _duplicate(row: _Row, name: str, value: str, seen: dict[str, int], what: str) -> None:
    """Report the second (third…) row that repeats ``value``, naming the row that had it first."""
    if not value:
        return
    first = seen.setdefault(value, row.number)
    if first != row.number:
        row.error(name, f"{what} {value} bị trùng: dòng {first} và dòng {row.number}.", value)


def _diffs(old: Mapping[str, str], new: Mapping[str, str], headers: Mapping[str, str]) -> tuple[FieldDiff, ...]:
    return tuple(FieldDiff(headers[k], old.get(k, ""), new[k]) for k in new if old.get(k, "") != new[k])


# --- students ------------------------------------------------------------------------------------------

_STUDENT_TEXT = ("birthplace", "hometown", "residence")
_STUDENT_OPTIONAL = ("policy_group", "father_name", "father_occupation", "mother_name", "mother_occupation",
                     "guardian_name", "guardian_occupation")
_STUDENT_DEFAULTED = ("ethnicity", "nationality")  # blank keeps the current value, or the model default


def _student_display(s: Student) -> dict[str, str]:
    out = {f: getattr(s, f) for f in ("student_code", "full_name", *_STUDENT_TEXT, *_STUDENT_DEFAULTED,
                                      *_STUDENT_OPTIONAL)}
    out["gender"] = _GENDER_LABELS.get(s.gender, s.gender)
    out["birth_date"] = _date_text(s.birth_date)
    return out


def _check_students(records, spec: KindSpec, school: School, year: SchoolYear
                    ) -> tuple[list[RowChange], list[RowError]]:
    rows: list[RowChange] = []
    errors: list[RowError] = []
    classes = {_class_key(c.name): c for c in SchoolClass.objects.filter(year=year)}
    students = list(Student.objects.filter(school=school))
    by_pn = {s.personal_number: s for s in students}
    by_code = {s.student_code: s for s in students}
    enrolled = {e.student_id: e for e in Enrolment.objects.filter(year=year).select_related("school_class")}
    headers = {c.field: c.header for c in spec.columns}
    seen_pn: dict[str, int] = {}
    seen_code: dict[str, int] = {}

    for number, cells in records:
        r = _Row(number, cells, spec, errors)
        values: dict[str, Any] = {}
        values["student_code"] = "".join(r.text("student_code", required=True,
                                                max_length=_max_length(Student, "student_code")).split())
        pn = values["personal_number"] = r.personal_number()
        values["full_name"] = r.text("full_name", required=True, max_length=_max_length(Student, "full_name"))
        values["gender"] = r.gender()
        values["birth_date"] = r.date("birth_date", required=True)
        for name in _STUDENT_TEXT:
            values[name] = r.text(name, required=True, max_length=_max_length(Student, name))
        for name in _STUDENT_DEFAULTED:
            if r.present(name):
                value = r.text(name, max_length=_max_length(Student, name))
                if value:
                    values[name] = value
        for name in _STUDENT_OPTIONAL:
            if r.present(name):
                values[name] = r.text(name, max_length=_max_length(Student, name))
        class_name = r.text("class_name", required=True)
        school_class = classes.get(_class_key(class_name)) if class_name else None
        if class_name and school_class is None:
            r.error("class_name", _unknown_class(class_name, year, classes))
        _duplicate(r, "personal_number", pn, seen_pn, "Số định danh cá nhân")
        _duplicate(r, "student_code", values["student_code"], seen_code, "Mã học sinh")
        if r.failed:
            continue

        student = by_pn.get(pn)
        holder = by_code.get(values["student_code"])
        if holder is not None and holder is not student:
            r.error("student_code", f"Mã học sinh {values['student_code']} đã là mã của học sinh {holder.full_name} "
                                    f"(số định danh {holder.personal_number}) trong trường.")
            continue
        enrolment = enrolled.get(student.pk) if student else None
        if enrolment is not None and enrolment.school_class_id != school_class.pk:
            r.error("class_name", f"Học sinh {student.full_name} (số định danh {pn}) đã được xếp vào lớp "
                                  f"{enrolment.school_class.name} năm học {year.name}; muốn chuyển lớp hãy dùng chức "
                                  "năng chuyển lớp, không nhập lại.")
            continue

        new = {k: v for k, v in values.items() if k != "personal_number"}
        shown = {**new, "gender": _GENDER_LABELS[new["gender"]], "birth_date": _date_text(new["birth_date"])}
        values["school_class_id"] = school_class.pk
        values["enrol"] = enrolment is None
        class_diff = (FieldDiff("Lớp", "", school_class.name),) if enrolment is None else ()
        if student is None:
            rows.append(RowChange(number, CREATE, pn, values["full_name"], class_diff, None, values))
            continue
        diffs = _diffs(_student_display(student), shown, headers) + class_diff
        rows.append(RowChange(number, UPDATE if diffs else UNCHANGED, pn, student.full_name, diffs, student.pk,
                              values))
    return rows, errors


def _unknown_class(name: str, year: SchoolYear, classes: Mapping[str, SchoolClass]) -> str:
    if not classes:
        return (f"Lớp '{name}' không có trong năm học {year.name}: năm học này chưa có lớp nào; hãy nhập danh "
                "sách lớp trước.")
    names = sorted(c.name for c in classes.values())
    listed = ", ".join(names[:10]) + (f" (và {len(names) - 10} lớp khác)" if len(names) > 10 else "")
    return f"Lớp '{name}' không có trong năm học {year.name}. Các lớp của năm học: {listed}."


def _apply_students(school: School, year: SchoolYear, rows: list[RowChange]) -> None:
    model_fields = {f.name for f in Student._meta.concrete_fields}

    def fields_of(values: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in values.items() if k in model_fields}
        out["full_name"] = normalise_name(out["full_name"])
        out["sort_key"] = vietnamese_sort_key(out["full_name"])
        return out

    created = [Student(school=school, **fields_of(r.values)) for r in rows if r.action == CREATE]
    Student.objects.bulk_create(created)
    updates = [r for r in rows if r.action == UPDATE]
    current = Student.objects.filter(school=school).in_bulk([r.object_id for r in updates])
    changed_fields: set[str] = set()
    changed = []
    for r in updates:
        values = fields_of(r.values)
        values.pop("personal_number", None)
        student = current[r.object_id]
        for name, value in values.items():
            if getattr(student, name) != value:
                setattr(student, name, value)
                changed_fields.add(name)
        changed.append(student)
    if changed_fields:
        Student.objects.bulk_update(changed, sorted(changed_fields))

    ids = {s.personal_number: s.pk for s in created}
    if any(pk is None for pk in ids.values()):  # a backend that does not return ids from bulk inserts
        ids = dict(Student.objects.filter(school=school).values_list("personal_number", "pk"))
    ids.update({s.personal_number: s.pk for s in current.values()})
    Enrolment.objects.bulk_create([
        Enrolment(school=school, student_id=ids[r.values["personal_number"]], year=year,
                  school_class_id=r.values["school_class_id"], status="studying")
        for r in rows if r.action != UNCHANGED and r.values["enrol"]
    ])


# --- staff ---------------------------------------------------------------------------------------------

_STAFF_OPTIONAL_TEXT = ("specialty", "email", "phone")


def _staff_display(s: Staff) -> dict[str, str]:
    return {"staff_code": s.staff_code, "full_name": s.full_name, "gender": _GENDER_LABELS.get(s.gender, s.gender),
            "birth_date": _date_text(s.birth_date), "position": _POSITION_LABELS.get(s.position, s.position),
            "specialty": s.specialty, "email": s.email, "phone": s.phone}


def _check_staff(records, spec: KindSpec, school: School, year: SchoolYear
                 ) -> tuple[list[RowChange], list[RowError]]:
    rows: list[RowChange] = []
    errors: list[RowError] = []
    staff = list(Staff.objects.filter(school=school))
    by_pn = {s.personal_number: s for s in staff}
    by_code = {s.staff_code: s for s in staff}
    headers = {c.field: c.header for c in spec.columns}
    seen_pn: dict[str, int] = {}
    seen_code: dict[str, int] = {}
    allowed_positions = ", ".join(f"{code} ({label})" for code, label in Staff.POSITION_CHOICES)

    for number, cells in records:
        r = _Row(number, cells, spec, errors)
        values: dict[str, Any] = {}
        values["staff_code"] = "".join(r.text("staff_code", required=True,
                                              max_length=_max_length(Staff, "staff_code")).split())
        pn = values["personal_number"] = r.personal_number()
        values["full_name"] = r.text("full_name", required=True, max_length=_max_length(Staff, "full_name"))
        values["gender"] = r.gender()
        if r.present("birth_date"):
            values["birth_date"] = r.date("birth_date", required=False)
        if r.present("position"):
            text = r.text("position")
            if text:
                code = _POSITIONS.get(_fold(text))
                if code is None:
                    r.error("position", f"Chức vụ '{text}' không hợp lệ; chỉ được ghi: {allowed_positions}.")
                values["position"] = code
        for name in _STAFF_OPTIONAL_TEXT:
            if r.present(name):
                values[name] = r.text(name, max_length=_max_length(Staff, name))
        if values.get("email"):
            try:
                validate_email(values["email"])
            except ValidationError:
                r.error("email", f"Email '{values['email']}' không đúng dạng địa chỉ thư điện tử (ví dụ "
                                 "ten@truong.edu.vn).")
        _duplicate(r, "personal_number", pn, seen_pn, "Số định danh cá nhân")
        _duplicate(r, "staff_code", values["staff_code"], seen_code, "Mã cán bộ")
        if r.failed:
            continue

        member = by_pn.get(pn)
        holder = by_code.get(values["staff_code"])
        if holder is not None and holder is not member:
            r.error("staff_code", f"Mã cán bộ {values['staff_code']} đã là mã của {holder.full_name} (số định danh "
                                  f"{holder.personal_number}) trong trường.")
            continue
        if member is None:
            values.setdefault("position", "GV")
            rows.append(RowChange(number, CREATE, pn, values["full_name"], (), None, values))
            continue
        shown = {k: v for k, v in values.items() if k != "personal_number"}
        shown["gender"] = _GENDER_LABELS[shown["gender"]]
        if "birth_date" in shown:
            shown["birth_date"] = _date_text(shown["birth_date"])
        if "position" in shown:
            shown["position"] = _POSITION_LABELS[shown["position"]]
        diffs = _diffs(_staff_display(member), shown, headers)
        rows.append(RowChange(number, UPDATE if diffs else UNCHANGED, pn, member.full_name, diffs, member.pk,
                              values))
    return rows, errors


def _apply_staff(school: School, year: SchoolYear, rows: list[RowChange]) -> None:
    def fields_of(values: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(values)
        out["full_name"] = normalise_name(out["full_name"])
        out["sort_key"] = vietnamese_sort_key(out["full_name"])
        return out

    Staff.objects.bulk_create([Staff(school=school, **fields_of(r.values)) for r in rows if r.action == CREATE])
    updates = [r for r in rows if r.action == UPDATE]
    current = Staff.objects.filter(school=school).in_bulk([r.object_id for r in updates])
    changed_fields: set[str] = set()
    for r in updates:
        member = current[r.object_id]
        for name, value in fields_of(r.values).items():
            if name != "personal_number" and getattr(member, name) != value:
                setattr(member, name, value)
                changed_fields.add(name)
    if changed_fields:
        Staff.objects.bulk_update(list(current.values()), sorted(changed_fields))


# --- classes -------------------------------------------------------------------------------------------

def _check_classes(records, spec: KindSpec, school: School, year: SchoolYear
                   ) -> tuple[list[RowChange], list[RowError]]:
    rows: list[RowChange] = []
    errors: list[RowError] = []
    existing = {c.name: c for c in SchoolClass.objects.filter(year=year).select_related("homeroom_teacher")}
    staff = _StaffIndex(school)
    seen_name: dict[str, int] = {}
    homerooms: dict[str, Staff | None] = {name: c.homeroom_teacher for name, c in existing.items()}
    row_of: dict[str, _Row] = {}
    checked = []

    for number, cells in records:
        r = _Row(number, cells, spec, errors)
        grade_text = _fold(_display(r.raw("grade")))
        match = re.fullmatch(r"(?:khoi\s*)?([6-9])", grade_text)
        grade = int(match.group(1)) if match else None
        if grade is None:
            r.error("grade", f"Khối '{_display(r.raw('grade'))}' không hợp lệ; chỉ được ghi 6, 7, 8 hoặc 9."
                    if grade_text else "Khối không được để trống; ghi 6, 7, 8 hoặc 9.")
        name = _class_key(r.text("name", required=True))
        if name and grade and (not name.startswith(str(grade)) or len(name) > _max_length(SchoolClass, "name")):
            r.error("name", f"Tên lớp '{name}' không hợp lệ: phải bắt đầu bằng khối {grade} (ví dụ {grade}A1), "
                            f"tối đa {_max_length(SchoolClass, 'name')} kí tự.", name)
        teacher = staff.find(r, "homeroom", required=False) if r.present("homeroom") else None
        _duplicate(r, "name", name, seen_name, "Tên lớp")
        if r.failed:
            continue
        current = existing.get(name)
        if current is not None and current.grade != grade:
            r.error("grade", f"Lớp {name} đã có trong năm học {year.name} ở khối {current.grade}.")
            continue
        if r.present("homeroom"):
            homerooms[name] = teacher
        row_of[name] = r
        checked.append((r, grade, name, teacher, current))

    # One homeroom class per teacher per year, counting the classes the file does not mention.
    by_teacher: dict[int, list[str]] = defaultdict(list)
    for name, teacher in homerooms.items():
        if teacher is not None:
            by_teacher[teacher.pk].append(name)
    clashing: set[str] = set()
    for names in by_teacher.values():
        if len(names) > 1:
            teacher = homerooms[names[0]]
            listed = ", ".join(f"{n} (dòng {row_of[n].number})" if n in row_of else f"{n} (đã có)"
                               for n in sorted(names))
            for n in names:
                if n in row_of:
                    row_of[n].error("homeroom", f"{teacher.full_name} ({teacher.staff_code}) được giao chủ nhiệm "
                                                f"nhiều lớp trong năm học {year.name}: {listed}; mỗi giáo viên chủ "
                                                "nhiệm một lớp.", teacher.staff_code)
                    clashing.add(n)

    for r, grade, name, teacher, current in checked:
        if name in clashing:
            continue
        values = {"grade": grade, "name": name}
        if r.present("homeroom"):
            values["homeroom_teacher_id"] = teacher.pk if teacher else None
        new_teacher = teacher.full_name if teacher else ""
        if current is None:
            diffs = (FieldDiff("Giáo viên chủ nhiệm", "", new_teacher),) if teacher else ()
            rows.append(RowChange(r.number, CREATE, name, f"Lớp {name}", diffs, None, values))
            continue
        diffs = ()
        if r.present("homeroom") and current.homeroom_teacher_id != values["homeroom_teacher_id"]:
            old = current.homeroom_teacher.full_name if current.homeroom_teacher else ""
            diffs = (FieldDiff("Giáo viên chủ nhiệm", old, new_teacher),)
        rows.append(RowChange(r.number, UPDATE if diffs else UNCHANGED, name, f"Lớp {name}", diffs, current.pk,
                              values))
    rows.sort(key=lambda c: c.row)
    return rows, errors


def _apply_classes(school: School, year: SchoolYear, rows: list[RowChange]) -> None:
    SchoolClass.objects.bulk_create([SchoolClass(school=school, year=year, **r.values)
                                     for r in rows if r.action == CREATE])
    updates = [r for r in rows if r.action == UPDATE]
    current = SchoolClass.objects.filter(year=year).in_bulk([r.object_id for r in updates])
    for r in updates:
        current[r.object_id].homeroom_teacher_id = r.values["homeroom_teacher_id"]
    SchoolClass.objects.bulk_update(list(current.values()), ["homeroom_teacher"])


# --- teaching assignments ------------------------------------------------------------------------------

def _check_assignments(records, spec: KindSpec, school: School, year: SchoolYear
                       ) -> tuple[list[RowChange], list[RowError]]:
    rows: list[RowChange] = []
    errors: list[RowError] = []
    classes = {_class_key(c.name): c for c in SchoolClass.objects.filter(year=year)}
    subjects: dict[str, Subject] = {}
    for s in Subject.objects.all():
        subjects[_fold(s.code)] = s
        subjects[_fold(s.name)] = s
    planned = set(SubjectPlan.objects.filter(year=year).values_list("grade", "subject_id"))
    existing = set(TeachingAssignment.objects.filter(school_class__year=year)
                   .values_list("school_class_id", "subject_id", "semester", "teacher_id"))
    staff = _StaffIndex(school)
    seen: dict[tuple, int] = {}

    for number, cells in records:
        r = _Row(number, cells, spec, errors)
        class_name = r.text("class_name", required=True)
        school_class = classes.get(_class_key(class_name)) if class_name else None
        if class_name and school_class is None:
            r.error("class_name", _unknown_class(class_name, year, classes))
        subject_text = r.text("subject", required=True)
        subject = subjects.get(_fold(subject_text)) if subject_text else None
        if subject_text and subject is None:
            codes = ", ".join(sorted({s.code for s in subjects.values()}))
            r.error("subject", f"Môn '{subject_text}' không có trong danh mục môn học; ghi mã môn ({codes}) "
                               "hoặc tên môn.")
        semester_text = r.text("semester", required=True)
        semesters = _SEMESTERS.get(_fold(semester_text)) if semester_text else None
        if semester_text and semesters is None:
            r.error("semester", f"Học kì '{semester_text}' không hợp lệ; chỉ được ghi 1, 2 hoặc 'Cả năm'.")
        teacher = staff.find(r, "teacher", required=True)
        if school_class and subject and (school_class.grade, subject.pk) not in planned:
            r.error("subject", f"Môn {subject.name} không có trong kế hoạch giáo dục khối {school_class.grade} "
                               f"năm học {year.name}.", subject_text)
        if r.failed:
            continue
        for semester in semesters:
            key = (school_class.pk, subject.pk, semester, teacher.pk)
            first = seen.setdefault(key, number)
            if first != number:
                r.error("semester", f"Phân công {teacher.full_name} dạy môn {subject.name} lớp {school_class.name} "
                                    f"học kì {semester} bị trùng: dòng {first} và dòng {number}.")
        if r.failed:
            continue
        new = tuple(s for s in semesters if (school_class.pk, subject.pk, s, teacher.pk) not in existing)
        key_text = f"{school_class.name} · {subject.code} · HK{'+'.join(str(s) for s in semesters)}"
        label = f"{teacher.full_name} ({teacher.staff_code})"
        values = {"school_class_id": school_class.pk, "subject_id": subject.pk, "teacher_id": teacher.pk,
                  "semesters": new}
        diffs = tuple(FieldDiff("Học kì", "", str(s)) for s in new)
        rows.append(RowChange(number, CREATE if new else UNCHANGED, key_text, label, diffs, None, values))
    return rows, errors


def _apply_assignments(school: School, year: SchoolYear, rows: list[RowChange]) -> None:
    TeachingAssignment.objects.bulk_create([
        TeachingAssignment(school=school, school_class_id=r.values["school_class_id"],
                           subject_id=r.values["subject_id"], semester=semester, teacher_id=r.values["teacher_id"])
        for r in rows if r.action == CREATE for semester in r.values["semesters"]
    ])


_CHECKS = {"students": _check_students, "staff": _check_staff, "classes": _check_classes,
           "assignments": _check_assignments}
_APPLY = {"students": _apply_students, "staff": _apply_staff, "classes": _apply_classes,
          "assignments": _apply_assignments}


# --- headers and rows ----------------------------------------------------------------------------------

def _quoted(headers) -> str:
    return ", ".join(f"'{h}'" for h in headers)


def _header_row(rows: list[tuple[int, tuple]], spec: KindSpec) -> int | None:
    """The index of the header row: the first of the first ten non-blank rows with two known headers.

    Exports often put a title ("DANH SÁCH HỌC SINH…") above the header; such rows are skipped. When no row
    qualifies, the first non-blank row is taken so that the header check names what is wrong with it.
    """
    known = spec.lookup()
    filled = [i for i, (_n, cells) in enumerate(rows) if any(not _blank(c) for c in cells)]
    for i in filled[:10]:
        if sum(1 for c in rows[i][1] if not _blank(c) and _fold_header(_display(c)) in known) >= 2:
            return i
    return filled[0] if filled else None


def _map_headers(spec: KindSpec, number: int, cells: tuple) -> tuple[dict[int, Column], set[int], list[str]]:
    """Column index → Column; the indexes to ignore; the file errors of the header row."""
    known = spec.lookup()
    ignored = {_fold_header(h) for h in IGNORED_HEADERS}
    mapping: dict[int, Column] = {}
    skip: set[int] = set()
    seen: dict[str, str] = {}
    unknown: list[str] = []
    errors: list[str] = []
    for index, cell in enumerate(cells):
        text = _display(cell)
        letter = get_column_letter(index + 1)
        if not text:
            continue
        folded = _fold_header(text)
        if folded in ignored:
            skip.add(index)
            continue
        column = known.get(folded)
        if column is None:
            unknown.append(f"'{text}' (cột {letter})")
        elif column.field in seen:
            errors.append(f"Cột '{column.header}' xuất hiện hai lần: cột {seen[column.field]} và cột {letter} "
                          f"(dòng tiêu đề là dòng {number}).")
        else:
            seen[column.field] = letter
            mapping[index] = column
    missing = [c.header for c in spec.columns if c.required and c.field not in seen]
    if missing:
        errors.append(f"Thiếu cột bắt buộc: {_quoted(missing)} (dòng tiêu đề là dòng {number}). Mẫu nhập "
                      f"{spec.label} cần các cột bắt buộc: {_quoted(spec.required_headers)}; có thể có thêm: "
                      f"{_quoted(spec.optional_headers)}.")
    if unknown:
        errors.append(f"Cột không thuộc mẫu nhập {spec.label}: {', '.join(unknown)}. Các cột được phép: "
                      f"{_quoted(spec.headers)} (và cột STT).")
    if errors:
        folded_headers = {_fold_header(_display(c)) for c in cells if not _blank(c)} - ignored
        for other in KINDS.values():
            lookup = other.lookup()
            if other is not spec and folded_headers <= set(lookup) and all(
                    _fold_header(h) in folded_headers for h in other.required_headers):
                errors.append(f"Tệp này có vẻ là danh sách {other.label}: hãy chọn đúng loại dữ liệu khi tải lên.")
    return mapping, skip, errors


def _records(rows, spec: KindSpec) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    start = _header_row(rows, spec)
    if start is None:
        return [], ["Tệp không có dữ liệu: không tìm thấy dòng tiêu đề."]
    number, header = rows[start]
    mapping, skip, errors = _map_headers(spec, number, header)
    if errors:
        return [], errors
    records = []
    unnamed: dict[int, int] = {}  # a column without a header that has data → the first row with data
    for row_number, cells in rows[start + 1:]:
        if all(_blank(c) for c in cells):
            continue
        for index, value in enumerate(cells):
            if index not in mapping and index not in skip and not _blank(value):
                unnamed.setdefault(index, row_number)
        records.append((row_number, {col.field: cells[i] if i < len(cells) else None
                                     for i, col in mapping.items()}))
    for index, row_number in sorted(unnamed.items()):
        errors.append(f"Cột {get_column_letter(index + 1)} có dữ liệu (dòng {row_number}) nhưng không có tiêu đề; "
                      "hãy thêm tiêu đề đúng mẫu hoặc xoá cột này.")
    if not records and not errors:
        errors.append(f"Tệp không có dòng dữ liệu nào dưới dòng tiêu đề (dòng {number}).")
    if len(records) > MAX_DATA_ROWS:
        errors.append(f"Tệp có {len(records)} dòng dữ liệu, tối đa {MAX_DATA_ROWS}; hãy chia thành nhiều tệp.")
    return records, errors


# --- the entry points ----------------------------------------------------------------------------------

def parse_roster(kind: str, filename: str, data: bytes, *, school: School, year: SchoolYear) -> RosterPreview:
    """Read and check a roster file; write nothing. The preview says what an import would do, or why not."""
    sha256 = hashlib.sha256(data).hexdigest()

    def refused(message: str) -> RosterPreview:
        return RosterPreview(kind, [], [], [message], filename, sha256)

    spec = KINDS.get(kind)
    if spec is None:
        return refused(f"Loại dữ liệu '{kind}' không hợp lệ; chọn một trong: "
                       f"{', '.join(label for _k, label in RosterUpload.KIND_CHOICES)}.")
    if year.school_id != school.pk:
        return refused(f"Năm học {year.name} không thuộc trường {school.name}.")
    try:
        cells = _read_rows(filename, data)
    except _Refused as exc:
        return refused(str(exc))
    records, file_errors = _records(cells, spec)
    if file_errors:
        return RosterPreview(kind, [], [], file_errors, filename, sha256)
    rows, errors = _CHECKS[kind](records, spec, school, year)
    errors.sort(key=lambda e: e.row)
    return RosterPreview(kind, rows, errors, [], filename, sha256)


def refused_preview(kind: str, filename: str, message: str) -> RosterPreview:
    """The preview of a file refused before it was read (the view's size check)."""
    return RosterPreview(kind, [], [], [message], filename, "")


@transaction.atomic
def import_roster(actor, school: School, year: SchoolYear, kind: str, preview: RosterPreview, *,
                  upload: RosterUpload | None = None) -> ImportResult:
    """Apply a checked preview: every row or none, and one audit event for the whole file."""
    permissions.require_manage_school(actor, school)
    if year.school_id != school.pk:
        raise ActionError({"year": f"Năm học {year.name} không thuộc trường {school.name}."})
    if kind != preview.kind:
        raise ActionError("Loại dữ liệu của bản xem trước không khớp với loại dữ liệu đang nhập.")
    if not preview.ok:
        count = len(preview.errors) + len(preview.file_errors)
        raise ActionError(f"Tệp '{preview.filename}' còn {count} lỗi nên không được nhập; không có dữ liệu nào "
                          "bị thay đổi. Hãy sửa các lỗi rồi tải tệp lên lại.")
    try:
        with transaction.atomic():
            _APPLY[kind](school, year, preview.rows)
    except IntegrityError:
        raise ActionError("Dữ liệu của trường đã thay đổi trong lúc nhập (trùng số định danh, mã hoặc phân "
                          "công); không có dữ liệu nào được nhập. Hãy tải tệp lên lại để xem trước.") from None
    counts = preview.counts
    result = ImportResult(kind, counts[CREATE], counts[UPDATE], counts[UNCHANGED])
    changes = [{"row": r.row, "action": r.action, "key": r.key, "label": r.label,
                "diffs": [[d.column, d.old, d.new] for d in r.diffs]}
               for r in preview.rows if r.action != UNCHANGED]
    record("roster.import", actor=actor, school=school, obj=year,
           extra={"kind": kind, "filename": preview.filename, "sha256": preview.sha256,
                  "upload_id": upload.pk if upload else None,
                  "counts": {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
                  "changes": changes})
    return result


@transaction.atomic
def store_upload(actor, school: School, year: SchoolYear, kind: str, filename: str, data: bytes) -> RosterUpload:
    """Keep an uploaded file for its preview and confirmation."""
    permissions.require_manage_school(actor, school)
    if year.school_id != school.pk:
        raise ActionError({"year": f"Năm học {year.name} không thuộc trường {school.name}."})
    if kind not in KINDS:
        raise ActionError({"kind": f"Loại dữ liệu '{kind}' không hợp lệ."})
    size_error = upload_size_error(len(data))
    if size_error:
        raise ActionError({"file": size_error})
    name = PurePath(filename.replace("\\", "/")).name[:255] or "tep-nhap"
    upload = RosterUpload.objects.create(school=school, year=year, kind=kind, filename=name,
                                         sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by=actor)
    record("roster.upload", actor=actor, school=school, obj=upload,
           extra={"kind": kind, "filename": name, "sha256": upload.sha256, "size": len(data), "year": year.name})
    return upload


def upload_expired(upload: RosterUpload) -> bool:
    return upload.created_at < timezone.now() - UPLOAD_LIFETIME


def preview_upload(upload: RosterUpload) -> RosterPreview:
    """Check a stored upload against the database as it is now."""
    return parse_roster(upload.kind, upload.filename, bytes(upload.data), school=upload.school, year=upload.year)


@transaction.atomic
def commit_upload(actor, upload: RosterUpload) -> ImportResult:
    """Import a stored upload, re-checked now, and mark it committed in the same transaction."""
    permissions.require_manage_school(actor, upload.school)
    upload = RosterUpload.objects.select_for_update().select_related("school", "year").get(pk=upload.pk)
    if upload.committed_at is not None:
        raise ActionError(f"Tệp '{upload.filename}' đã được nhập lúc "
                          f"{timezone.localtime(upload.committed_at):%H:%M %d/%m/%Y}.")
    if upload_expired(upload):
        raise ActionError(f"Tệp '{upload.filename}' đã tải lên quá 24 giờ; hãy tải tệp lên lại để xem trước.")
    result = import_roster(actor, upload.school, upload.year, upload.kind, preview_upload(upload), upload=upload)
    upload.committed_at = timezone.now()
    upload.save(update_fields=["committed_at"])
    return result


# --- empty templates -----------------------------------------------------------------------------------

_TEXT_COLUMNS = {"student_code", "personal_number", "staff_code", "homeroom", "teacher", "phone", "class_name",
                 "name", "semester"}
TEMPLATE_FILENAMES = {"students": "mau-nhap-hoc-sinh.xlsx", "staff": "mau-nhap-can-bo.xlsx",
                      "classes": "mau-nhap-lop.xlsx", "assignments": "mau-nhap-phan-cong.xlsx"}


def template_xlsx(kind: str) -> bytes:
    """An empty workbook with the kind's headers (required ones highlighted) and a sheet explaining them.

    Code and number columns are formatted as text, so that Excel keeps the leading 0 of a personal number.
    """
    spec = KINDS[kind]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet.append(list(spec.headers))
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        if column.required:
            cell.fill = required_fill
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, len(column.header) + 4)
        if column.field in _TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"

    guide = workbook.create_sheet("Hướng dẫn")
    guide.append(["Cột", "Bắt buộc", "Cách ghi"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in spec.columns:
        guide.append([column.header, "Có" if column.required else "Không", column.hint])
    guide.append([])
    guide.append(["Chỉ trang tính đầu tiên được nhập. Dòng tiêu đề phải giữ nguyên; có thể thêm cột STT."])
    if kind == "assignments":
        guide.append([])
        guide.append(["Mã môn", "Tên môn"])
        for subject in Subject.objects.order_by("order", "code"):
            guide.append([subject.code, subject.name])
    guide.column_dimensions["A"].width = 28
    guide.column_dimensions["C"].width = 90
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
