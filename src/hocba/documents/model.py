"""The học bạ năm học (one student × one school year) as frozen dataclasses.

This is the canonical data of the document: the XML (``writer``/``reader``) and the PDF (``render``) are two
renderings of one ``HocBaNamHoc``. It holds only what the học bạ says — results are computed elsewhere
(``hocba.rules``) and copied in. Field names are English; the XML element each one becomes is named in
docs/documents.md and in the XSD.

Construction normalises: every string is put in Unicode NFC, subjects are put in the order of the Ministry's
form, the study history in year order. So two records that print the same compare equal, and
``from_xml(to_xml(r)) == r``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

# Levels (Điều 8, 9.2): kết quả rèn luyện and kết quả học tập.
LEVELS = ("T", "K", "Đ", "CĐ")
LEVEL_NAMES = {"T": "Tốt", "K": "Khá", "Đ": "Đạt", "CĐ": "Chưa đạt"}

# A subject result: a score 0–10 with at most one decimal, Đ/CĐ for comment subjects, M when exempt.
Mark = Decimal | str
MARK_WORDS = ("Đ", "CĐ", "M")

SCORE = "score"      # đánh giá bằng nhận xét kết hợp đánh giá bằng điểm số
COMMENT = "comment"  # đánh giá bằng nhận xét
SUBJECT_KINDS = (SCORE, COMMENT)

#: The rows of the form's subject table, in the form's order (hocba-form.md §4): compulsory subjects,
#: then electives. Codes as in tt22.md §1. A subject not listed sorts after these, by code.
SUBJECT_ORDER = ("TO", "NV", "NN1", "GDCD", "LSDL", "KHTN", "CN", "TH", "GDTC", "NT", "GDDP", "HDTN",
                 "TDT", "NN2")

STATUS_IN_FORCE = "1"  # Có hiệu lực
STATUS_REVOKED = "2"   # Thu hồi
STATUSES = (STATUS_IN_FORCE, STATUS_REVOKED)

# Outcome of the year (Điều 12–14). For grade 9 "promoted" means "completed the THCS programme".
PROMOTED = "promoted"
PROMOTED_AFTER_SUMMER = "promoted_after_summer"
RETAINED = "retained"
OUTCOMES = (PROMOTED, PROMOTED_AFTER_SUMMER, RETAINED)

GENDERS = {"0": "Chưa có thông tin", "1": "Nam", "2": "Nữ"}

EVENTS = ("NEW", "UPDATE", "CANCEL")

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")
_PERSONAL_NUMBER_RE = re.compile(r"^\d{12}$")


class RecordError(ValueError):
    """The record is not a valid học bạ (message in Vietnamese)."""


def _nfc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, tuple):
        return tuple(_nfc(v) for v in value)
    return value


class _Normalised:
    """Mixin for frozen dataclasses: NFC every string field after construction."""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (str, tuple, list)):
                object.__setattr__(self, f.name, _nfc(tuple(value) if isinstance(value, list) else value))
        self._check()

    def _check(self) -> None:  # pragma: no cover - overridden
        pass


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise RecordError(message)


def parse_mark(value) -> Mark | None:
    """A subject result from data: ``None``/"" → None; "Đ", "CĐ", "M"; a number 0–10 with ≤ 1 decimal
    (``8.5``, ``"8,5"``, ``Decimal("8.5")``) → ``Decimal`` with one decimal place."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value.strip())
        if text in MARK_WORDS:
            return text
        text = text.replace(",", ".")
        if not re.fullmatch(r"\d{1,2}(\.\d)?", text):
            raise RecordError(f"Điểm không hợp lệ: {value!r} (cần số 0–10 với tối đa một chữ số thập phân, "
                              "hoặc Đ, CĐ, M).")
        number = Decimal(text)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    else:
        raise RecordError(f"Điểm không hợp lệ: {value!r}.")
    if number != number.quantize(Decimal("0.1")) or not (0 <= number <= 10):
        raise RecordError(f"Điểm không hợp lệ: {value!r} (cần số 0–10 với tối đa một chữ số thập phân).")
    return number.quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Address(_Normalised):
    """Nơi sinh, quê quán, nơi ở hiện nay: the detailed address and optional administrative codes
    (xã: 5 digits, tỉnh: 2 digits, QĐ 19/2025/QĐ-TTg)."""

    detail: str
    commune_code: str | None = None
    province_code: str | None = None

    def _check(self) -> None:
        _require(bool(self.detail.strip()), "Địa chỉ không được để trống.")
        _require(self.commune_code is None or re.fullmatch(r"\d{5}", self.commune_code) is not None,
                 f"Mã xã phải gồm 5 chữ số: {self.commune_code!r}.")
        _require(self.province_code is None or re.fullmatch(r"\d{2}", self.province_code) is not None,
                 f"Mã tỉnh phải gồm 2 chữ số: {self.province_code!r}.")


@dataclass(frozen=True)
class Person(_Normalised):
    """A teacher or school leader: full name and 12-digit personal number (số định danh cá nhân)."""

    name: str
    personal_number: str

    def _check(self) -> None:
        _require(bool(self.name.strip()), "Họ tên không được để trống.")
        _require(_PERSONAL_NUMBER_RE.fullmatch(self.personal_number) is not None,
                 f"Số định danh cá nhân của {self.name} phải gồm đúng 12 chữ số.")


@dataclass(frozen=True)
class SchoolInfo(_Normalised):
    """Sở, school and its location (from ``school.models.School`` and ``Department``)."""

    department_code: str           # masogd
    department_name: str           # tensogd
    code: str                      # matruong
    name: str                      # tentruong
    commune_name: str              # thongtintruong_diachi_tenxa
    province_name: str             # thongtintruong_diachi_tentinh
    province_code: str             # thongtintruong_diachi_matinh
    commune_code: str | None = None  # thongtintruong_diachi_maxa
    address: str = ""              # detailed street address (extension)
    district_name: str | None = None  # tenhuyen (before the 2025 reform)
    level_code: str = "2"          # macaphoc: 2 = THCS

    def _check(self) -> None:
        _require(re.fullmatch(r"\d{2}", self.department_code) is not None, "Mã sở phải gồm 2 chữ số.")
        _require(re.fullmatch(r"\d{2}", self.province_code) is not None, "Mã tỉnh của trường phải gồm 2 chữ số.")
        _require(bool(self.code) and len(self.code) <= 20, "Mã trường phải có 1–20 ký tự.")


@dataclass(frozen=True)
class Parent(_Normalised):
    name: str
    occupation: str = ""


@dataclass(frozen=True)
class Student(_Normalised):
    """The student page of the học bạ (hocba-form.md §3) and the exchange record's student fields."""

    name: str                       # hovaten
    personal_number: str            # sodinhdanh (12 digits): the student's học bạ code
    student_code: str               # mahocsinh (≤ 20 characters, from CSDL ngành)
    gender: str                     # gioitinh: 0/1/2 (QCVN 109:2017)
    birthplace: Address             # noisinh_*
    hometown: Address               # quequan_*
    residence: Address              # noiohiennay_*
    ethnicity_code: str             # dantoc (QCVN 109)
    ethnicity_name: str
    nationality_code: str           # quoctich (QCVN 109)
    nationality_name: str
    birth_date: dt.date | None = None   # ngaythangnamsinh; or only the month / year when that is all known
    birth_month: str | None = None      # thangnamsinh YYYY-MM
    birth_year: str | None = None       # namsinh YYYY
    policy_group: str = ""              # doituongchinhsach
    disabled_not_assessed: bool = False  # cokhuyettatkhongdanhgia
    father: Parent | None = None
    mother: Parent | None = None
    guardian: Parent | None = None
    register_number: str = ""           # sosodangbo (Số sổ đăng bộ PCGD)

    def _check(self) -> None:
        _require(bool(self.name.strip()), "Họ và tên học sinh không được để trống.")
        _require(_PERSONAL_NUMBER_RE.fullmatch(self.personal_number) is not None,
                 "Số định danh của học sinh phải gồm đúng 12 chữ số.")
        _require(0 < len(self.student_code) <= 20, "Mã học sinh phải có 1–20 ký tự.")
        _require(self.gender in GENDERS, "Giới tính phải là 0, 1 hoặc 2 (QCVN 109:2017).")
        _require(self.birth_date is not None or self.birth_month is not None or self.birth_year is not None,
                 "Cần ngày sinh (hoặc tháng/năm sinh).")
        _require(self.birth_month is None or re.fullmatch(r"\d{4}-\d{2}", self.birth_month) is not None,
                 "Tháng năm sinh có dạng YYYY-MM.")
        _require(self.birth_year is None or re.fullmatch(r"\d{4}", self.birth_year) is not None,
                 "Năm sinh có dạng YYYY.")


@dataclass(frozen=True)
class SubjectResult(_Normalised):
    """One row of the subject page: a subject's results and its teacher(s).

    ``reassessed`` is the "Điểm hoặc mức đánh giá lại" after summer (Điều 14), kept beside the original year
    result. Integrated subjects (KHTN, LSĐL, Nghệ thuật) may list several teachers; each signs the row.
    """

    code: str                         # mamonhoc
    name: str                         # tenmonhoc
    kind: str                         # score | comment
    hk1: Mark | None                  # diemhocky1
    hk2: Mark | None                  # diemhocky2
    year: Mark | None                 # diemcanam
    teachers: tuple[Person, ...]      # gvbm + soddcngvbm
    reassessed: Mark | None = None    # diemkttralai
    comment: str = ""                 # nxetmonhoc
    elective: bool = False

    def __post_init__(self):
        for name in ("hk1", "hk2", "year", "reassessed"):
            object.__setattr__(self, name, parse_mark(getattr(self, name)))
        object.__setattr__(self, "teachers", tuple(self.teachers))
        super().__post_init__()

    def _check(self) -> None:
        _require(re.fullmatch(r"[A-Z0-9]{1,10}", self.code) is not None,
                 f"Mã môn học không hợp lệ: {self.code!r}.")
        _require(self.kind in SUBJECT_KINDS, f"Môn {self.name}: hình thức đánh giá phải là score hoặc comment.")
        _require(len(self.teachers) > 0, f"Môn {self.name}: cần ít nhất một giáo viên bộ môn.")
        numbers = [m for m in (self.hk1, self.hk2, self.year, self.reassessed) if isinstance(m, Decimal)]
        words = [m for m in (self.hk1, self.hk2, self.year, self.reassessed) if isinstance(m, str) and m != "M"]
        if self.kind == SCORE:
            _require(not words, f"Môn {self.name} đánh giá bằng điểm số, không dùng Đ/CĐ.")
        else:
            _require(not numbers, f"Môn {self.name} đánh giá bằng nhận xét, chỉ dùng Đ/CĐ.")

    @property
    def order_key(self) -> tuple:
        try:
            return (SUBJECT_ORDER.index(self.code), "")
        except ValueError:
            return (len(SUBJECT_ORDER), self.code)


@dataclass(frozen=True)
class Levels(_Normalised):
    """T/K/Đ/CĐ per semester and year, with the level re-assessed after summer if any."""

    hk1: str | None
    hk2: str | None
    year: str | None
    summer: str | None = None

    def _check(self) -> None:
        for v in (self.hk1, self.hk2, self.year, self.summer):
            _require(v is None or v in LEVELS, f"Mức đánh giá phải là T, K, Đ hoặc CĐ, không phải {v!r}.")


@dataclass(frozen=True)
class AdjustedBy(_Normalised):
    """Điều 9.3: per period, the code of the single subject because of which the learning level was raised
    by one level (``None`` when no adjustment)."""

    hk1: str | None = None
    hk2: str | None = None
    year: str | None = None
    summer: str | None = None


@dataclass(frozen=True)
class Certificate(_Normalised):
    name: str   # tenchungchi
    kind: str = ""  # loaichungchi


@dataclass(frozen=True)
class PageCorrections(_Normalised):
    """"Trong trang này có … điểm được sửa chữa, trong đó môn: …" for one page (``page``: ``monhoc`` for
    the subject page, ``tongket`` for the summary page). In the digital book a correction is a new version
    of the data, counted here."""

    page: str
    count: int = 0
    subjects: tuple[str, ...] = ()

    def _check(self) -> None:
        _require(self.page in ("monhoc", "tongket"), "Trang sửa chữa phải là monhoc hoặc tongket.")
        _require(self.count >= 0, "Số điểm sửa chữa không âm.")


@dataclass(frozen=True)
class StudyYear(_Normalised):
    """One row of QUÁ TRÌNH HỌC TẬP (quatrinhhoctap)."""

    school_year: str                 # namhoc
    class_name: str                  # tenlop
    school_name: str                 # tentruong
    province_name: str               # tentinh
    transfer_in_date: dt.date | None = None  # ngaytrangthaichuyenden
    principal_name: str = ""         # who confirmed the year (printed in the principal's column)

    def _check(self) -> None:
        _require(_YEAR_RE.fullmatch(self.school_year) is not None, "Năm học có dạng YYYY-YYYY.")


@dataclass(frozen=True)
class PreviousYear(_Normalised):
    """The chain link: the id and the SHA-256 of the issued XML of the student's previous year."""

    record_id: str
    sha256: str

    def _check(self) -> None:
        _require(_UUID_RE.fullmatch(self.record_id) is not None, "Mã định danh học bạ năm trước phải là UUID.")
        _require(_SHA256_RE.fullmatch(self.sha256) is not None, "SHA-256 năm trước phải gồm 64 chữ số hex.")


@dataclass(frozen=True)
class Leader(_Normalised):
    """The school leader who approves (tengiamhieu, soddcngiamhieu, chucvugiamhieu). A vice-principal
    signs "KT. HIỆU TRƯỞNG / PHÓ HIỆU TRƯỞNG" (``on_behalf=True``)."""

    name: str
    personal_number: str
    title: str = "Hiệu trưởng"
    on_behalf: bool = False

    def _check(self) -> None:
        Person(self.name, self.personal_number)

    @property
    def person(self) -> Person:
        return Person(self.name, self.personal_number)

    @property
    def heading(self) -> tuple[str, ...]:
        """The lines above the signature on the form."""
        if self.on_behalf:
            return ("KT. HIỆU TRƯỞNG", self.title.upper())
        return ("HIỆU TRƯỞNG",)


@dataclass(frozen=True)
class HocBaNamHoc(_Normalised):
    """One học bạ năm học: the unit that is signed, issued, revoked and exchanged."""

    record_id: str                   # madinhdanhhocba (UUID, 36 characters)
    version: int                     # phienbanthongtinhocba; also phienban of the exchange envelope
    school_year: str                 # namhoc YYYY-YYYY
    school: SchoolInfo
    student: Student
    grade: int                       # makhoi 6–9
    class_name: str                  # tenlop
    homeroom_teacher: Person         # tengvcn + soddcngvcn
    leader: Leader
    issue_place: str                 # diadanhphathanh
    issue_date: dt.date              # ngaykyphathanh
    created_date: dt.date            # ngaytao
    subjects: tuple[SubjectResult, ...]
    conduct: Levels                  # renluyenhocky1/2, renluyencanam, renluyenlai
    learning: Levels                 # hocky1/2, canam, kqhoctaplai
    outcome: str                     # promoted | promoted_after_summer | retained
    homeroom_comment: str            # nxetgvcn
    status: str = STATUS_IN_FORCE    # trangthaithongtinhocba
    circular: str = "22/2021/TT-BGDĐT"  # thongtu
    replaces: str | None = None      # id of the version this one supersedes
    previous_year: PreviousYear | None = None
    digitised: bool = False          # trichluc: digitised from the paper book
    scan_sha256: str | None = None   # SHA-256 of the scanned paper pages
    adjusted_by: AdjustedBy = field(default_factory=AdjustedBy)
    absences: int | None = None      # sobuoinghi: sessions absent in the year
    outcome_text: str = ""           # ndungduoclenlop; default wording from ``outcome_wording``
    completion_text: str = ""        # ndunghoanthanh (grade 9); default wording
    summer_training: str = ""        # ndungkquarenluyen
    certificates: tuple[Certificate, ...] = ()
    contests: tuple[str, ...] = ()   # kquathamgiacuocthi
    awards: tuple[str, ...] = ()     # ndungkhenthuong
    corrections: tuple[PageCorrections, ...] = ()
    history: tuple[StudyYear, ...] = ()
    event: str | None = None         # sukien; default NEW for version 1, UPDATE after, CANCEL when revoked
    updated_at: dt.datetime | None = None  # thoigiancapnhat; default: the creation date, 00:00 (UTC+7)

    def __post_init__(self):
        object.__setattr__(self, "subjects", tuple(sorted(self.subjects, key=lambda s: s.order_key)))
        object.__setattr__(self, "history", tuple(sorted(self.history, key=lambda h: h.school_year)))
        object.__setattr__(self, "corrections", tuple(sorted(self.corrections, key=lambda c: c.page)))
        object.__setattr__(self, "certificates", tuple(self.certificates))
        if not self.outcome_text:
            object.__setattr__(self, "outcome_text", outcome_wording(self.grade, self.outcome))
        if not self.completion_text and self.grade == 9:
            object.__setattr__(self, "completion_text", completion_wording(self.outcome))
        if self.updated_at is None:
            object.__setattr__(self, "updated_at", dt.datetime.combine(self.created_date, dt.time(), VN_TZ))
        if self.event is None:
            event = "CANCEL" if self.status == STATUS_REVOKED else ("NEW" if self.version == 1 else "UPDATE")
            object.__setattr__(self, "event", event)
        super().__post_init__()

    def _check(self) -> None:
        _require(_UUID_RE.fullmatch(self.record_id) is not None,
                 "Mã định danh học bạ phải là UUID 36 ký tự (chữ thường).")
        _require(self.replaces is None or _UUID_RE.fullmatch(self.replaces) is not None,
                 "Mã học bạ được thay thế phải là UUID.")
        _require(self.replaces != self.record_id, "Một học bạ không thể thay thế chính nó.")
        _require(self.version >= 1, "Phiên bản bắt đầu từ 1.")
        _require((self.version == 1) == (self.replaces is None),
                 "Phiên bản 1 không thay thế học bạ nào; phiên bản sau phải ghi học bạ được thay thế.")
        m = _YEAR_RE.fullmatch(self.school_year)
        _require(m is not None and int(m.group(2)) == int(m.group(1)) + 1,
                 f"Năm học phải có dạng YYYY-YYYY liên tiếp, không phải {self.school_year!r}.")
        _require(self.grade in (6, 7, 8, 9), "Khối lớp THCS là 6–9.")
        _require(0 < len(self.class_name) <= 10, "Tên lớp có 1–10 ký tự.")
        _require(self.status in STATUSES, "Trạng thái học bạ là 1 (có hiệu lực) hoặc 2 (thu hồi).")
        _require(self.outcome in OUTCOMES, f"Kết quả cuối năm không hợp lệ: {self.outcome!r}.")
        _require(self.event in EVENTS, f"Sự kiện trao đổi không hợp lệ: {self.event!r}.")
        _require(not self.scan_sha256 or (self.digitised and _SHA256_RE.fullmatch(self.scan_sha256) is not None),
                 "Mã băm bản quét chỉ có ở học bạ trích lục và gồm 64 chữ số hex.")
        _require(self.updated_at.tzinfo is not None, "Thời gian cập nhật cần có múi giờ.")
        _require(self.absences is None or 0 <= self.absences <= 300, "Số buổi nghỉ học phải từ 0 đến 300.")
        codes = [s.code for s in self.subjects]
        _require(len(set(codes)) == len(codes), "Mỗi môn học chỉ có một dòng.")
        _require(len(codes) > 0, "Học bạ cần ít nhất một môn học.")
        for period in ("hk1", "hk2", "year", "summer"):
            by = getattr(self.adjusted_by, period)
            _require(by is None or by in codes, f"Môn điều chỉnh (Điều 9.3) {by!r} không có trong bảng điểm.")
        if not self.student.disabled_not_assessed:
            for name, levels in (("rèn luyện", self.conduct), ("học tập", self.learning)):
                _require(None not in (levels.hk1, levels.hk2, levels.year),
                         f"Cần kết quả {name} học kì I, học kì II và cả năm.")
        years = [h.school_year for h in self.history]
        _require(len(set(years)) == len(years), "Quá trình học tập: mỗi năm học một dòng.")

    # -- derived -----------------------------------------------------------------------------------------
    @property
    def completed_thcs(self) -> bool | None:
        """Grade 9: whether the student completed the THCS programme; ``None`` for other grades."""
        if self.grade != 9:
            return None
        return self.outcome in (PROMOTED, PROMOTED_AFTER_SUMMER)

    @property
    def promoted(self) -> bool:
        return self.outcome in (PROMOTED, PROMOTED_AFTER_SUMMER)

    def subject(self, code: str) -> SubjectResult:
        for s in self.subjects:
            if s.code == code:
                return s
        raise KeyError(code)

    def corrections_on(self, page: str) -> PageCorrections:
        for c in self.corrections:
            if c.page == page:
                return c
        return PageCorrections(page)

    def replace(self, **changes) -> HocBaNamHoc:
        """A copy with ``changes`` (derived wording recomputed unless given)."""
        if "outcome" in changes or "grade" in changes:
            changes.setdefault("outcome_text", "")
            changes.setdefault("completion_text", "")
        if "version" in changes or "status" in changes:
            changes.setdefault("event", None)
        return dataclasses.replace(self, **changes)


def outcome_wording(grade: int, outcome: str) -> str:
    """The wording printed after "Được lên lớp" / "Không được lên lớp" (ndungduoclenlop)."""
    if grade == 9:
        return {
            PROMOTED: "Hoàn thành chương trình trung học cơ sở",
            PROMOTED_AFTER_SUMMER: "Hoàn thành chương trình trung học cơ sở sau khi kiểm tra lại môn học "
                                   "hoặc rèn luyện thêm trong kì nghỉ hè",
            RETAINED: "Chưa hoàn thành chương trình trung học cơ sở",
        }[outcome]
    return {
        PROMOTED: "Được lên lớp",
        PROMOTED_AFTER_SUMMER: "Được lên lớp sau khi kiểm tra lại môn học hoặc rèn luyện thêm trong kì nghỉ hè",
        RETAINED: "Không được lên lớp",
    }[outcome]


def completion_wording(outcome: str) -> str:
    return ("Hoàn thành chương trình trung học cơ sở" if outcome in (PROMOTED, PROMOTED_AFTER_SUMMER)
            else "Chưa hoàn thành chương trình trung học cơ sở")
