"""The demo school (issue 2): a fictional THCS in Ho Chi Minh City over three school years.

Two halves with one responsibility each:

- ``generate_demo(seed)`` is pure and deterministic (one ``random.Random(seed)``, no global random, no
  database): it returns plain dataclasses for the Sở, the Phòng, the school, three school years, about
  1,200 students per year who move up a grade each year in the same class suffix (6A3 → 7A3 → 8A3), a few
  transfers in and out and drop-outs, about 55 staff, homeroom teachers, teaching assignments and one
  account per role.
- ``load_demo(seed, reset=...)`` writes that data in one transaction with bulk inserts. It is a system
  seed, not a user's action, so it does not go through the permission-checking actions; it writes the
  same rows they would (the subject plan is seeded exactly like ``actions.create_school_year``) and one
  audit event, ``demo.load``.

Every name, number and address here is invented. Administrative codes are illustrative: the personal
numbers follow the citizen-identity layout (province code, century/gender digit, birth year, serial) but
belong to nobody.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError

from hocba.audit.log import record
from hocba.audit.models import AuditEvent

from .models import (
    Department,
    Division,
    Enrolment,
    LoginThrottle,
    Membership,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Semester,
    Staff,
    Student,
    StudentAccess,
    Subject,
    SubjectPlan,
    TeachingAssignment,
)
from .names import normalise_name, vietnamese_sort_key
from .tt22_plan import SUBJECTS, periods

DEMO_PASSWORD = "HocBa@2026"
DEMO_SEED = 2024
# Every demo user's e-mail is in this reserved domain (RFC 2606); it is how a reload recognises the
# accounts it may take over, so that an unrelated "admin" is never overwritten.
DEMO_EMAIL_DOMAIN = "hocba-demo.example"

# (username, role in Vietnamese, what to try)
DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    ("admin", "Quản trị hệ thống", "danh sách trường, mọi dữ liệu của bản cài đặt"),
    ("quantri", "Quản trị trường", "năm học, lớp, kế hoạch môn học, phân công, nhập dữ liệu"),
    ("hieutruong", "Hiệu trưởng", "toàn bộ lớp của trường, duyệt và ký học bạ"),
    ("phohieutruong", "Phó hiệu trưởng", "toàn bộ lớp của trường, ký thay (KT. Hiệu trưởng)"),
    ("hocvu", "Nhân viên học vụ", "toàn bộ lớp của trường, rà soát dữ liệu"),
    ("gvcn", "Giáo viên chủ nhiệm lớp 9A1 (2024-2025)", "lớp chủ nhiệm và các lớp được phân công"),
    ("gvbm", "Giáo viên bộ môn", "chỉ các lớp được phân công (mở lớp 9A1 sẽ bị từ chối)"),
    ("phuhuynh", "Phụ huynh của một học sinh lớp 9A1", "thông tin học tập của con"),
    ("hocsinh", "Học sinh lớp 9A1", "thông tin học tập của mình"),
    ("phong", "Phòng GDĐT Quận 3", "số liệu tổng hợp các trường trong quận"),
]

YEAR_STARTS = (2022, 2023, 2024)
GRADES = (6, 7, 8, 9)
CLASSES_PER_GRADE = 8
WEEKS_PER_YEAR = 35


class DemoError(Exception):
    """The demo cannot be loaded as asked; the message says why in Vietnamese."""


# --- the generated data ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoOrganisation:
    department_code: str
    department_name: str
    division_code: str
    division_name: str
    school_code: str
    school_name: str
    commune_name: str
    commune_code: str
    province_name: str
    province_code: str
    address: str


@dataclass(frozen=True)
class DemoYear:
    name: str
    start_date: dt.date
    end_date: dt.date
    is_current: bool

    @property
    def semesters(self) -> tuple[tuple[int, dt.date, dt.date], ...]:
        """Split at the midpoint, exactly as ``actions.create_school_year`` does."""
        middle = self.start_date + (self.end_date - self.start_date) / 2
        return ((1, self.start_date, middle), (2, middle + dt.timedelta(days=1), self.end_date))


@dataclass(frozen=True)
class DemoStaff:
    code: str
    personal_number: str
    full_name: str
    gender: str  # "1" Nam, "2" Nữ
    birth_date: dt.date
    position: str  # HT, PHT, GV, NVHV, QTT
    specialty: str
    email: str


@dataclass(frozen=True)
class DemoStudent:
    code: str  # mã học sinh, stable across years
    personal_number: str
    full_name: str
    gender: str
    birth_date: dt.date
    birthplace: str
    hometown: str
    residence: str
    ethnicity: str
    policy_group: str
    father_name: str
    father_occupation: str
    mother_name: str
    mother_occupation: str
    guardian_name: str
    guardian_occupation: str
    register_number: str


@dataclass(frozen=True)
class DemoClass:
    year: str
    grade: int
    name: str
    homeroom: str  # staff code


@dataclass(frozen=True)
class DemoEnrolment:
    student: str  # student code
    year: str
    class_name: str
    status: str = "studying"
    status_date: dt.date | None = None
    other_school: str = ""


@dataclass(frozen=True)
class DemoAssignment:
    year: str
    class_name: str
    subject: str
    semester: int
    teacher: str  # staff code


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str  # a models.Role value
    first_name: str  # tên (given name)
    last_name: str  # họ và tên đệm
    scope: str = "school"  # "school", "division" or "none" (the deployment)
    staff: str = ""  # staff code the user is
    student: str = ""  # student code the user may read
    relation: str = ""  # StudentAccess.relation

    @property
    def email(self) -> str:
        return f"{self.username}@{DEMO_EMAIL_DOMAIN}"


@dataclass(frozen=True)
class DemoData:
    seed: int
    organisation: DemoOrganisation
    years: tuple[DemoYear, ...]
    staff: tuple[DemoStaff, ...]
    students: tuple[DemoStudent, ...]
    classes: tuple[DemoClass, ...]
    enrolments: tuple[DemoEnrolment, ...]
    assignments: tuple[DemoAssignment, ...]
    accounts: tuple[DemoAccount, ...]


@dataclass(frozen=True)
class YearSummary:
    name: str
    classes: int
    studying: int  # studying or transferred in: present at the end of the year
    transferred_in: int
    transferred_out: int
    dropped_out: int
    assignments: int


@dataclass(frozen=True)
class DemoSummary:
    school_code: str
    school_name: str
    seed: int
    reset: bool  # an existing demo school was replaced
    counts: dict[str, int]
    years: tuple[YearSummary, ...]
    seconds: float = 0.0


# --- word lists -------------------------------------------------------------------------------------------

def _nfc_words(text: str) -> tuple[str, ...]:
    """Space-separated words; "_" stands for a space inside one entry."""
    return tuple(unicodedata.normalize("NFC", w.replace("_", " ")) for w in text.split())


def _weighted(text: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """"Nguyễn:38 Trần:11" → (names, cumulative weights) for ``Random.choices``; "_" stands for a space."""
    names, cum, total = [], [], 0.0
    for item in text.split():
        name, weight = item.rsplit(":", 1)
        total += float(weight)
        names.append(unicodedata.normalize("NFC", name.replace("_", " ")))
        cum.append(total)
    return tuple(names), tuple(cum)


# Family names, per cent of the population (southern spelling: Huỳnh and Võ outnumber Hoàng and Vũ).
FAMILY_NAMES = _weighted(
    "Nguyễn:38 Trần:11 Lê:9.5 Phạm:7 Huỳnh:4 Hoàng:1.5 Phan:4.5 Võ:3.5 Vũ:1.5 Đặng:2 Bùi:2 Đỗ:1.4 Hồ:1.3 "
    "Ngô:1.3 Dương:1 Lý:0.6 Trương:1.2 Đinh:0.6 Lâm:0.6 Mai:0.5 Cao:0.4 Đoàn:0.5 Lương:0.4 Tô:0.3 Hà:0.4 "
    "Châu:0.3 Quách:0.2 Thái:0.3 Tạ:0.2 Lưu:0.3 Tăng:0.2 Kiều:0.1 La:0.2 Văn:0.1 Từ:0.1"
)
# Middle names: the children (born 2008–2013) and the adults (born 1966–2000) differ, as they do in life.
CHILD_MIDDLE = {
    "1": _weighted("Minh:8 Gia:7 Hoàng:6 Quốc:6 Anh:5 Đức:5 Nhật:4 Bảo:5 Đăng:4 Thiên:3 Tuấn:4 Thành:4 Hữu:3 "
                   "Trung:3 Phúc:3 Duy:3 Tấn:3 Văn:4 Khánh:3 Trọng:2 Hải:2 Quang:3 Thanh:2 Huy:2 Công:2 Chí:2 "
                   "Tiến:1 Xuân:1 Đình:1 Tuệ:1 Nguyên:2 Thái:1 Khải:1"),
    "2": _weighted("Ngọc:10 Thị:5 Thu:4 Thanh:4 Kim:4 Bảo:5 Khánh:4 Gia:4 Minh:5 Phương:4 Hoàng:3 Mai:3 "
                   "Tường:2 Thảo:2 Quỳnh:3 Như:2 Tú:2 Diệu:2 Hải:2 Cẩm:2 Hồng:2 Ánh:2 Yến:1 Mỹ:3 Tuệ:2 Lan:1 "
                   "Bích:1 Uyên:1 Thiên:2 An:1"),
}
ADULT_MIDDLE = {
    "1": _weighted("Văn:30 Hữu:6 Đức:6 Minh:8 Quốc:6 Thanh:6 Công:5 Tấn:5 Thành:5 Hoàng:4 Trọng:3 Xuân:3 "
                   "Quang:4 Ngọc:3 Đình:3 Anh:3 Tuấn:3 Hải:2 Chí:2 Trung:2 Phước:2 Kim:1"),
    "2": _weighted("Thị:45 Ngọc:10 Thu:5 Thanh:6 Kim:5 Hồng:4 Mỹ:4 Bích:3 Thúy:3 Minh:2 Phương:2 Hoàng:2 "
                   "Diệu:1 Ánh:2 Tuyết:2 Xuân:2 Quỳnh:1 Cẩm:1"),
}
CHILD_GIVEN = {
    "1": _nfc_words("An Anh Bảo Bình Công Cường Danh Duy Dũng Dương Đạt Đăng Định Đức Hải Hào Hiếu Hoàng "
                    "Huy Hùng Hưng Kiên Khang Khải Khánh Khoa Khôi Kiệt Lâm Long Luân Lộc Minh Nam Nguyên "
                    "Nhân Nhật Phát Phong Phúc Quân Quang Sơn Tài Tâm Thái Thắng Thành Thiện Thịnh Tín "
                    "Toàn Trí Trọng Trung Tuấn Tùng Vinh Vũ Việt Bách Hậu Kha Lợi Nghĩa Phú Quý Thuận Tiến "
                    "Triết Tường Vĩ Hiển Khiêm Đông Hoà Huân"),
    "2": _nfc_words("An Anh Ánh Châu Chi Dung Duyên Giang Hà Hân Hằng Hiền Hoa Hương Huyền Khanh Khuê Lan "
                    "Linh Loan Ly Mai My Nga Ngân Ngọc Nhi Nhung Như Oanh Phương Quyên Quỳnh Tâm Thảo Thư "
                    "Thùy Tiên Trâm Trang Trân Trinh Tú Uyên Vân Vy Xuân Yến Hạnh Diệp Đan Thy Vi Nhiên Hạ "
                    "Khánh Nguyên Hoài Kim Thanh Diễm Mẫn"),
}
ADULT_GIVEN = {
    "1": _nfc_words("Hùng Dũng Tuấn Hải Sơn Thắng Hòa Bình Cường Hưng Long Minh Nam Phong Quang Tâm Thanh "
                    "Thành Tài Trung Vinh Phúc Lộc Hiếu Huy Khoa Lợi Nghĩa Phát Tú Tùng Việt Đức Đạt Hoàng "
                    "Khánh Lâm Quý Thịnh Toàn Tiến Hậu Nhân Danh Sang Trí Phước Thuận Tín Khải Định"),
    "2": _nfc_words("Hoa Hương Lan Mai Hằng Hạnh Hiền Hà Linh Loan Nga Ngọc Nhung Oanh Phương Thảo Thủy "
                    "Trang Tuyết Vân Yến Dung Hồng Liên Lệ Diễm Trinh Thu Huệ Xuân Thanh Cúc Phượng Kim "
                    "Bích Châu Ngân Quyên Thúy Uyên Hạnh Tâm Như Anh Giang Duyên Huyền Tiên Vy"),
}

OCCUPATIONS = {
    "1": _weighted("Kinh_doanh:12 Công_nhân:10 Nhân_viên_văn_phòng:12 Lao_động_tự_do:10 Tài_xế:6 Kỹ_sư:6 "
                   "Buôn_bán:6 Công_chức:4 Viên_chức:3 Giáo_viên:2 Bác_sĩ:2 Kế_toán:2 Thợ_điện:3 Thợ_hồ:3 "
                   "Công_an:2 Bộ_đội:1 Thợ_cơ_khí:3 Nhân_viên_giao_hàng:3 Đầu_bếp:2 Bảo_vệ:2 Lập_trình_viên:2"),
    "2": _weighted("Nội_trợ:14 Buôn_bán:14 Nhân_viên_văn_phòng:12 Công_nhân:9 Kinh_doanh:10 Kế_toán:5 "
                   "Giáo_viên:4 Điều_dưỡng:3 Thợ_may:4 Lao_động_tự_do:8 Công_chức:3 Viên_chức:3 Bác_sĩ:1 "
                   "Nhân_viên_bán_hàng:5 Dược_sĩ:1 Thợ_làm_tóc:2"),
}

# Provinces (names of the years 2022–2025) with the 3-digit code of the citizen-identity number and a weight
# for the hometown (quê quán) of families living in Ho Chi Minh City.
PROVINCES: tuple[tuple[str, str, float], ...] = tuple(
    (unicodedata.normalize("NFC", name), code, weight) for name, code, weight in [
        ("Thành phố Hồ Chí Minh", "079", 0.0),  # drawn separately
        ("Thành phố Hà Nội", "001", 3), ("Tỉnh Nam Định", "036", 2), ("Tỉnh Thái Bình", "034", 2),
        ("Tỉnh Hải Dương", "030", 1), ("Thành phố Hải Phòng", "031", 1), ("Tỉnh Ninh Bình", "037", 1),
        ("Tỉnh Thanh Hóa", "038", 3), ("Tỉnh Nghệ An", "040", 4), ("Tỉnh Hà Tĩnh", "042", 3),
        ("Tỉnh Quảng Bình", "044", 2), ("Tỉnh Quảng Trị", "045", 2), ("Tỉnh Thừa Thiên Huế", "046", 3),
        ("Thành phố Đà Nẵng", "048", 2), ("Tỉnh Quảng Nam", "049", 5), ("Tỉnh Quảng Ngãi", "051", 5),
        ("Tỉnh Bình Định", "052", 5), ("Tỉnh Phú Yên", "054", 2), ("Tỉnh Khánh Hòa", "056", 2),
        ("Tỉnh Ninh Thuận", "058", 1), ("Tỉnh Bình Thuận", "060", 2), ("Tỉnh Đắk Lắk", "066", 1),
        ("Tỉnh Lâm Đồng", "068", 1), ("Tỉnh Gia Lai", "064", 1), ("Tỉnh Bình Phước", "070", 1),
        ("Tỉnh Tây Ninh", "072", 2), ("Tỉnh Bình Dương", "074", 2), ("Tỉnh Đồng Nai", "075", 3),
        ("Tỉnh Bà Rịa - Vũng Tàu", "077", 1), ("Tỉnh Long An", "080", 6), ("Tỉnh Tiền Giang", "082", 5),
        ("Tỉnh Bến Tre", "083", 5), ("Tỉnh Trà Vinh", "084", 2), ("Tỉnh Vĩnh Long", "086", 3),
        ("Tỉnh Đồng Tháp", "087", 3), ("Tỉnh An Giang", "089", 3), ("Tỉnh Kiên Giang", "091", 2),
        ("Thành phố Cần Thơ", "092", 3), ("Tỉnh Hậu Giang", "093", 1), ("Tỉnh Sóc Trăng", "094", 2),
        ("Tỉnh Bạc Liêu", "095", 1), ("Tỉnh Cà Mau", "096", 1),
    ]
)
HCMC = PROVINCES[0]
_OTHER_PROVINCES = PROVINCES[1:]
_OTHER_CUM = tuple(sum(p[2] for p in _OTHER_PROVINCES[: i + 1]) for i in range(len(_OTHER_PROVINCES)))

# Where the families live: wards of District 3 mostly, and the districts around it.
WARDS: tuple[tuple[str, str, int], ...] = (
    ("Phường Võ Thị Sáu", "Quận 3", 9), ("Phường 1", "Quận 3", 4), ("Phường 2", "Quận 3", 4),
    ("Phường 3", "Quận 3", 3), ("Phường 4", "Quận 3", 4), ("Phường 5", "Quận 3", 4),
    ("Phường 9", "Quận 3", 5), ("Phường 10", "Quận 3", 4), ("Phường 11", "Quận 3", 5),
    ("Phường 12", "Quận 3", 4), ("Phường 13", "Quận 3", 4), ("Phường 14", "Quận 3", 6),
    ("Phường 12", "Quận 10", 2), ("Phường 14", "Quận 10", 2), ("Phường 7", "Quận Phú Nhuận", 2),
    ("Phường Đa Kao", "Quận 1", 1), ("Phường Tân Định", "Quận 1", 2), ("Phường 4", "Quận Tân Bình", 1),
)
_WARD_CUM = tuple(sum(w[2] for w in WARDS[: i + 1]) for i in range(len(WARDS)))
STREETS = _nfc_words(
    "Võ_Văn_Tần Nam_Kỳ_Khởi_Nghĩa Cách_Mạng_Tháng_Tám Lê_Văn_Sỹ Trần_Quốc_Thảo Nguyễn_Đình_Chiểu "
    "Điện_Biên_Phủ Võ_Thị_Sáu Kỳ_Đồng Trần_Văn_Đang Bà_Huyện_Thanh_Quan Lý_Chính_Thắng Nguyễn_Thông "
    "Trương_Định Cao_Thắng Nguyễn_Thị_Minh_Khai Rạch_Bùng_Binh Trần_Quang_Diệu Huỳnh_Tịnh_Của "
    "Nguyễn_Phúc_Nguyên Vườn_Chuối Lê_Quý_Đôn Pasteur Tú_Xương Trần_Huy_Liệu"
)
OTHER_SCHOOLS = _nfc_words(
    "Trường_THCS_Nguyễn_Du,_Quận_1,_Thành_phố_Hồ_Chí_Minh "
    "Trường_THCS_Trần_Phú,_Quận_10,_Thành_phố_Hồ_Chí_Minh "
    "Trường_THCS_Chu_Văn_An,_Quận_Phú_Nhuận,_Thành_phố_Hồ_Chí_Minh "
    "Trường_THCS_Lê_Lợi,_Quận_Tân_Bình,_Thành_phố_Hồ_Chí_Minh "
    "Trường_THCS_Nguyễn_Trãi,_Thành_phố_Thủ_Đức,_Thành_phố_Hồ_Chí_Minh "
    "Trường_THCS_Thị_trấn_Bến_Lức,_Tỉnh_Long_An "
    "Trường_THCS_Lê_Quý_Đôn,_Thành_phố_Mỹ_Tho,_Tỉnh_Tiền_Giang "
    "Trường_THCS_Phan_Bội_Châu,_Thành_phố_Vinh,_Tỉnh_Nghệ_An "
    "Trường_THCS_Nguyễn_Huệ,_Thành_phố_Quy_Nhơn,_Tỉnh_Bình_Định "
    "Trường_THCS_Trưng_Vương,_Quận_Hoàn_Kiếm,_Thành_phố_Hà_Nội "
    "Trường_THCS_Võ_Trường_Toản,_Thành_phố_Biên_Hòa,_Tỉnh_Đồng_Nai"
)

# Teachers per specialty (50 in all), the subjects of the TT22 plan each may teach.
SPECIALTIES: tuple[tuple[str, int], ...] = (
    ("Ngữ văn", 8), ("Toán", 8), ("Tiếng Anh", 6), ("Lịch sử", 4), ("Địa lí", 2), ("Vật lí", 3),
    ("Hóa học", 2), ("Sinh học", 3), ("Giáo dục công dân", 2), ("Tin học", 2), ("Công nghệ", 2),
    ("Giáo dục thể chất", 4), ("Âm nhạc", 2), ("Mĩ thuật", 2),
)
# Specialties that take a homeroom class here (PE, music and art teachers do not, in this school).
HOMEROOM_SPECIALTIES = {s for s, _n in SPECIALTIES} - {"Giáo dục thể chất", "Âm nhạc", "Mĩ thuật"}
# Leadership and office staff: position, specialty, birth-year range.
LEADERSHIP = (("HT", "Toán", 1970, 1978), ("PHT", "Ngữ văn", 1975, 1984), ("PHT", "Vật lí", 1976, 1986),
              ("NVHV", "Văn thư – học vụ", 1985, 1995), ("QTT", "Công nghệ thông tin", 1988, 1996))


@dataclass(frozen=True)
class _Slot:
    """One teacher's share of a planned subject in a class (an integrated subject may have two)."""

    subject: str
    specialties: frozenset[str]
    load: float  # periods per year


def _class_slots(grade: int) -> list[_Slot]:
    """The teaching slots of one class: every planned subject; KHTN (grades 8–9) and NT take two teachers;
    HĐTN belongs to the homeroom teacher and is handled apart."""
    def one(code: str, *specialties: str) -> _Slot:
        return _Slot(code, frozenset(specialties), periods(code, grade))

    def half(code: str, *specialties: str) -> _Slot:
        return _Slot(code, frozenset(specialties), periods(code, grade) / 2)

    slots = [one("NV", "Ngữ văn"), one("TO", "Toán"), one("NN1", "Tiếng Anh"),
             one("GDCD", "Giáo dục công dân"), one("LSDL", "Lịch sử", "Địa lí")]
    if grade >= 8:
        slots += [half("KHTN", "Vật lí", "Hóa học"), half("KHTN", "Sinh học")]
    else:
        slots.append(one("KHTN", "Vật lí", "Hóa học", "Sinh học"))
    slots += [one("CN", "Công nghệ"), one("TH", "Tin học"), one("GDTC", "Giáo dục thể chất"),
              half("NT", "Âm nhạc"), half("NT", "Mĩ thuật"),
              one("GDDP", "Lịch sử", "Địa lí", "Ngữ văn", "Giáo dục công dân")]
    return slots


# --- the generator ----------------------------------------------------------------------------------------

class _Draw:
    """The one random source of a generation, with the draws the generator needs."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.personal_numbers: set[str] = set()

    def weighted(self, table: tuple[tuple[str, ...], tuple[float, ...]]) -> str:
        names, cum = table
        return self.rng.choices(names, cum_weights=cum)[0]

    def date_in(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def province(self, home_share: float) -> tuple[str, str, float]:
        if self.rng.random() < home_share:
            return HCMC
        return self.rng.choices(_OTHER_PROVINCES, cum_weights=_OTHER_CUM)[0]

    def personal_number(self, province_code: str, gender: str, birth_year: int) -> str:
        """12 digits: province, century/gender (1900s: 0 male, 1 female; 2000s: 2, 3), year, serial."""
        century = 0 if birth_year < 2000 else 2
        digit = century + (0 if gender == "1" else 1)
        while True:
            number = f"{province_code}{digit}{birth_year % 100:02d}{self.rng.randint(0, 999_999):06d}"
            if number not in self.personal_numbers:
                self.personal_numbers.add(number)
                return number

    def adult_name(self, gender: str, family: str | None = None) -> str:
        family = family or self.weighted(FAMILY_NAMES)
        middle = self.weighted(ADULT_MIDDLE[gender])
        given = self.rng.choice(ADULT_GIVEN[gender])
        while given == middle:
            given = self.rng.choice(ADULT_GIVEN[gender])
        return normalise_name(f"{family} {middle} {given}")

    def child_name(self, gender: str, family: str, mother_family: str) -> str:
        middle = self.weighted(CHILD_MIDDLE[gender])
        if mother_family != family and self.rng.random() < 0.1:
            middle = f"{mother_family} {middle}"  # "Nguyễn Lê Minh Khang": the mother's family name kept
        given = self.rng.choice(CHILD_GIVEN[gender])
        while given == middle.split()[-1]:
            given = self.rng.choice(CHILD_GIVEN[gender])
        return normalise_name(f"{family} {middle} {given}")

    def occupation(self, gender: str) -> str:
        return self.weighted(OCCUPATIONS[gender])

    def residence(self) -> str:
        ward, district, _w = self.rng.choices(WARDS, cum_weights=_WARD_CUM)[0]
        house = str(self.rng.randint(1, 480))
        if self.rng.random() < 0.45:
            house += f"/{self.rng.randint(1, 60)}"
        if self.rng.random() < 0.12:
            house += f"/{self.rng.randint(1, 20)}"
        street = self.rng.choice(STREETS)
        return f"{house} {street}, {ward}, {district}, Thành phố Hồ Chí Minh"


def demo_organisation() -> DemoOrganisation:
    return DemoOrganisation(
        department_code="79", department_name="Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh",
        division_code="770", division_name="Phòng Giáo dục và Đào tạo Quận 3",
        school_code="79770001", school_name="Trường THCS Hoa Sen (trường minh hoạ)",
        commune_name="Phường Võ Thị Sáu", commune_code="27139",
        province_name="Thành phố Hồ Chí Minh", province_code="79",
        address="12 đường Hoa Sen (minh hoạ), Phường Võ Thị Sáu, Quận 3, Thành phố Hồ Chí Minh",
    )


def demo_years() -> tuple[DemoYear, ...]:
    """Three years, from the opening in early September to the end of May; the last is the current one."""
    return tuple(DemoYear(name=f"{y}-{y + 1}", start_date=dt.date(y, 9, 5), end_date=dt.date(y + 1, 5, 31),
                          is_current=(y == YEAR_STARTS[-1])) for y in YEAR_STARTS)


def _make_staff(draw: _Draw) -> list[DemoStaff]:
    """HT, two PHT, NV học vụ, the school's administrator, then 50 teachers (about 70 % women)."""
    people: list[tuple[str, str, int, int]] = [(pos, spec, lo, hi) for pos, spec, lo, hi in LEADERSHIP]
    for specialty, count in SPECIALTIES:
        people += [("GV", specialty, 1968, 2000)] * count
    staff = []
    for n, (position, specialty, born_from, born_to) in enumerate(people, start=1):
        female_share = 0.45 if specialty == "Giáo dục thể chất" or position in ("HT", "QTT") else 0.7
        gender = "2" if draw.rng.random() < female_share else "1"
        birth = draw.date_in(dt.date(born_from, 1, 1), dt.date(born_to, 12, 31))
        province = draw.province(0.45)
        code = f"CB{n:03d}"
        staff.append(DemoStaff(
            code=code, personal_number=draw.personal_number(province[1], gender, birth.year),
            full_name=draw.adult_name(gender), gender=gender, birth_date=birth, position=position,
            specialty=specialty, email=f"{code.lower()}@{DEMO_EMAIL_DOMAIN}",
        ))
    return staff


class _Roll:
    """Students in the order they join the school; codes and register numbers follow that order."""

    def __init__(self, draw: _Draw, school_code: str):
        self.draw = draw
        self.prefix = school_code[:5]  # "79770": province and district of the school
        self.students: list[DemoStudent] = []
        self.by_code: dict[str, DemoStudent] = {}
        self.register_serial: dict[int, int] = {}

    def admit(self, entry_year: int) -> str:
        """A new student whose cohort entered grade 6 in ``entry_year`` (so born 11 years before it)."""
        draw, rng = self.draw, self.draw.rng
        gender = "1" if rng.random() < 0.51 else "2"
        family, mother_family = draw.weighted(FAMILY_NAMES), draw.weighted(FAMILY_NAMES)
        birth = draw.date_in(dt.date(entry_year - 11, 1, 1), dt.date(entry_year - 11, 12, 31))
        born_in = draw.province(0.82)
        hometown = draw.province(0.4)
        father = (draw.adult_name("1", family), draw.occupation("1"))
        mother = (draw.adult_name("2", mother_family), draw.occupation("2"))
        name = draw.child_name(gender, family, mother_family)
        while name.split()[-1] in (father[0].split()[-1], mother[0].split()[-1]):
            name = draw.child_name(gender, family, mother_family)  # a child is not named after a parent
        guardian = ("", "")
        household = rng.random()
        if household < 0.03:  # raised by the mother alone, sometimes with a grandparent as guardian
            father = ("", "")
            if household < 0.01:
                guardian = (draw.adult_name("2"), "Hưu trí")
        ethnicity = rng.choices(("Kinh", "Hoa", "Khmer", "Chăm"), cum_weights=(96.5, 99.0, 99.6, 100))[0]
        policy = ""
        if rng.random() < 0.015:
            policy = rng.choice(("Con thương binh", "Con hộ nghèo", "Con hộ cận nghèo"))
        serial = len(self.students) + 1
        self.register_serial[entry_year] = self.register_serial.get(entry_year, 0) + 1
        student = DemoStudent(
            code=f"{self.prefix}{serial:05d}",
            personal_number=draw.personal_number(born_in[1], gender, birth.year),
            full_name=name, gender=gender, birth_date=birth,
            birthplace=born_in[0], hometown=hometown[0], residence=draw.residence(), ethnicity=ethnicity,
            policy_group=policy, father_name=father[0], father_occupation=father[1], mother_name=mother[0],
            mother_occupation=mother[1], guardian_name=guardian[0], guardian_occupation=guardian[1],
            register_number=f"{self.register_serial[entry_year]:03d}/{entry_year}",
        )
        self.students.append(student)
        self.by_code[student.code] = student
        return student.code


def _class_name(grade: int, suffix: int) -> str:
    return f"{grade}A{suffix}"


def _simulate_enrolments(draw: _Draw, roll: _Roll, years: tuple[DemoYear, ...]) -> list[DemoEnrolment]:
    """Year by year: the cohorts move up with their class suffix, a new grade 6 arrives, and a few students
    transfer in (with their origin school), transfer out (with their destination) or drop out."""
    rng = draw.rng
    rosters: dict[tuple[int, int], list[str]] = {}
    enrolments: list[DemoEnrolment] = []
    for index, year in enumerate(years):
        y = year.start_date.year
        previous, rosters = rosters, {}
        for grade in GRADES:
            for suffix in range(1, CLASSES_PER_GRADE + 1):
                if index > 0 and grade > 6:
                    rosters[(grade, suffix)] = list(previous[(grade - 1, suffix)])
                else:
                    entry = y - (grade - 6)
                    rosters[(grade, suffix)] = [roll.admit(entry) for _ in range(rng.randint(36, 39))]
        events: dict[str, tuple[str, dt.date, str]] = {}
        for _ in range(3):
            grade, suffix = rng.choice(GRADES), rng.randint(1, CLASSES_PER_GRADE)
            code = roll.admit(y - (grade - 6))
            rosters[(grade, suffix)].append(code)
            events[code] = ("transferred_in", draw.date_in(year.start_date, year.start_date + dt.timedelta(200)),
                            rng.choice(OTHER_SCHOOLS))
        leaving = [("transferred_out", GRADES)] * 3 + ([("dropped_out", (8, 9))] if index < 2 else [])
        for status, grades in leaving:
            while True:
                grade, suffix = rng.choice(grades), rng.randint(1, CLASSES_PER_GRADE)
                code = rng.choice(rosters[(grade, suffix)])
                if code not in events:
                    break
            first = year.start_date + dt.timedelta(30 if status == "transferred_out" else 120)
            other = rng.choice(OTHER_SCHOOLS) if status == "transferred_out" else ""
            events[code] = (status, draw.date_in(first, year.end_date - dt.timedelta(days=30)), other)
        for (grade, suffix), codes in rosters.items():
            for code in codes:
                status, when, other = events.get(code, ("studying", None, ""))
                enrolments.append(DemoEnrolment(code, year.name, _class_name(grade, suffix), status, when, other))
        for key in rosters:
            rosters[key] = [c for c in rosters[key] if events.get(c, ("studying",))[0] in
                            ("studying", "transferred_in")]
    return enrolments


def _homerooms(draw: _Draw, staff: list[DemoStaff], years: tuple[DemoYear, ...]) -> list[DemoClass]:
    """A homeroom teacher follows the class up a grade each year; the teacher of a graduating grade 9
    takes a new grade 6 with the same suffix."""
    eligible = [s.code for s in staff if s.position == "GV" and s.specialty in HOMEROOM_SPECIALTIES]
    keys = [(g, s) for g in GRADES for s in range(1, CLASSES_PER_GRADE + 1)]
    current = dict(zip(keys, draw.rng.sample(eligible, len(keys)), strict=True))
    classes = []
    for index, year in enumerate(years):
        if index > 0:
            current = {(g, s): current[(g - 1, s)] if g > 6 else current[(9, s)] for g, s in keys}
        classes += [DemoClass(year.name, g, _class_name(g, s), current[(g, s)]) for g, s in keys]
    return classes


def _assign_teachers(draw: _Draw, staff: list[DemoStaff], classes: list[DemoClass]) -> list[DemoAssignment]:
    """Each class × planned subject × semester gets its teacher(s). The homeroom teacher takes HĐTN and
    their own subject in their class; every other slot goes to the least-loaded qualified teacher."""
    teachers = [s for s in staff if s.position == "GV"]
    specialty = {s.code: s.specialty for s in teachers}
    out: list[DemoAssignment] = []
    for year in dict.fromkeys(c.year for c in classes):
        year_classes = [c for c in classes if c.year == year]
        tiebreak = {t.code: draw.rng.random() for t in teachers}
        load = {t.code: 0.0 for t in teachers}
        chosen: dict[tuple[str, int], str] = {}  # (class name, slot index) -> teacher
        for c in year_classes:
            for i, slot in enumerate(_class_slots(c.grade)):
                if slot.subject != "GDDP" and specialty[c.homeroom] in slot.specialties:
                    chosen[(c.name, i)] = c.homeroom
                    load[c.homeroom] += slot.load
                    break
            load[c.homeroom] += periods("HDTN", c.grade)
        for c in year_classes:
            for i, slot in enumerate(_class_slots(c.grade)):
                if (c.name, i) not in chosen:
                    candidates = [t.code for t in teachers if t.specialty in slot.specialties]
                    best = min(candidates, key=lambda code: (load[code], tiebreak[code]))
                    chosen[(c.name, i)] = best
                    load[best] += slot.load
        for c in year_classes:
            pairs = [("HDTN", c.homeroom)]
            pairs += [(slot.subject, chosen[(c.name, i)]) for i, slot in enumerate(_class_slots(c.grade))]
            for semester in (1, 2):
                out += [DemoAssignment(year, c.name, subject, semester, teacher) for subject, teacher in pairs]
    return out


def _split_name(full_name: str) -> tuple[str, str]:
    """(first_name, last_name) for Django's User: the given name, and the family and middle names."""
    words = full_name.split(" ")
    return words[-1], " ".join(words[:-1])


def _accounts(draw: _Draw, staff: list[DemoStaff], roll: _Roll, classes: list[DemoClass],
              enrolments: list[DemoEnrolment], assignments: list[DemoAssignment]) -> list[DemoAccount]:
    """One account per role, then one for every other staff member (``gv.<code>``)."""
    last = classes[-1].year
    nine_a1 = next(c for c in classes if c.year == last and c.name == "9A1")
    homerooms_now = {c.homeroom for c in classes if c.year == last}
    teaching_now = [a for a in assignments if a.year == last]
    in_nine_a1 = {a.teacher for a in teaching_now if a.class_name == "9A1"}
    preference = {name: i for i, (name, _n) in enumerate(SPECIALTIES)}
    subject_teacher = min(
        (s for s in staff if s.position == "GV" and s.code not in homerooms_now and s.code not in in_nine_a1
         and any(a.teacher == s.code for a in teaching_now)),
        key=lambda s: (preference[s.specialty], s.code),
    )
    # The family: a 9A1 student who has been at the school all three years and lives with the father.
    years_of: dict[str, list[DemoEnrolment]] = {}
    for e in enrolments:
        years_of.setdefault(e.student, []).append(e)
    child = min(
        (roll.by_code[e.student] for e in enrolments if e.year == last and e.class_name == "9A1"
         and len(years_of[e.student]) == 3 and all(x.status == "studying" for x in years_of[e.student])
         and roll.by_code[e.student].father_name),
        key=lambda s: vietnamese_sort_key(s.full_name),
    )
    by_position: dict[str, list[DemoStaff]] = {}
    for s in staff:
        by_position.setdefault(s.position, []).append(s)
    named = {
        by_position["HT"][0].code: ("hieutruong", Role.PRINCIPAL),
        by_position["PHT"][0].code: ("phohieutruong", Role.VICE_PRINCIPAL),
        by_position["NVHV"][0].code: ("hocvu", Role.ACADEMIC_STAFF),
        by_position["QTT"][0].code: ("quantri", Role.SCHOOL_ADMIN),
        nine_a1.homeroom: ("gvcn", Role.TEACHER),
        subject_teacher.code: ("gvbm", Role.TEACHER),
    }
    role_of_position = {"HT": Role.PRINCIPAL, "PHT": Role.VICE_PRINCIPAL, "NVHV": Role.ACADEMIC_STAFF,
                        "QTT": Role.SCHOOL_ADMIN, "GV": Role.TEACHER}
    accounts: dict[str, DemoAccount] = {}

    def person(username: str, role: str, full_name: str, **kw) -> None:
        first, last_name = _split_name(full_name)
        accounts[username] = DemoAccount(username, role, first, last_name, **kw)

    person("admin", Role.SYSTEM_ADMIN, draw.adult_name("1"), scope="none")
    for s in staff:
        if s.code in named:
            username, role = named[s.code]
            person(username, role, s.full_name, staff=s.code)
    person("phuhuynh", Role.PARENT, child.father_name, student=child.code, relation="father")
    person("hocsinh", Role.STUDENT, child.full_name, student=child.code, relation="self")
    person("phong", Role.DISTRICT, draw.adult_name("2"), scope="division")
    ordered = [accounts[name] for name, _label, _try in DEMO_ACCOUNTS]
    for s in staff:
        if s.code not in named:
            prefix = "gv" if s.position == "GV" else s.position.lower()
            first, last_name = _split_name(s.full_name)
            ordered.append(DemoAccount(f"{prefix}.{s.code.lower()}", role_of_position[s.position], first,
                                       last_name, staff=s.code))
    return ordered


def generate_demo(seed: int = DEMO_SEED) -> DemoData:
    """The whole demo school as plain data; the same seed gives the same school."""
    draw = _Draw(seed)
    organisation = demo_organisation()
    years = demo_years()
    staff = _make_staff(draw)
    roll = _Roll(draw, organisation.school_code)
    enrolments = _simulate_enrolments(draw, roll, years)
    classes = _homerooms(draw, staff, years)
    assignments = _assign_teachers(draw, staff, classes)
    accounts = _accounts(draw, staff, roll, classes, enrolments, assignments)
    return DemoData(seed=seed, organisation=organisation, years=years, staff=tuple(staff),
                    students=tuple(roll.students), classes=tuple(classes), enrolments=tuple(enrolments),
                    assignments=tuple(assignments), accounts=tuple(accounts))


def summarise_years(data: DemoData) -> tuple[YearSummary, ...]:
    out = []
    for year in data.years:
        statuses = [e.status for e in data.enrolments if e.year == year.name]
        out.append(YearSummary(
            name=year.name, classes=sum(1 for c in data.classes if c.year == year.name),
            studying=sum(1 for s in statuses if s in ("studying", "transferred_in")),
            transferred_in=statuses.count("transferred_in"), transferred_out=statuses.count("transferred_out"),
            dropped_out=statuses.count("dropped_out"),
            assignments=sum(1 for a in data.assignments if a.year == year.name),
        ))
    return tuple(out)


# --- the loader -------------------------------------------------------------------------------------------

def demo_school_exists() -> bool:
    return School.objects.filter(code=demo_organisation().school_code).exists()


def load_demo(seed: int = DEMO_SEED, *, reset: bool = False) -> DemoSummary:
    """Write the demo school in one transaction. Refuses if it exists, unless ``reset``: then the demo
    school's rows are deleted first (its School row and its audit trail stay) and everything is reloaded.

    All demo accounts share one password hash, computed once with the configured hasher.
    """
    started = time.perf_counter()
    data = generate_demo(seed)
    password_hash = make_password(DEMO_PASSWORD)
    with transaction.atomic():
        school, replaced = _prepare_school(data, reset=reset)
        users = _write_users(data.accounts, password_hash)
        years = _write_years(school, data.years)
        plans = _write_subject_plans(school, list(years.values()))
        staff = _write_staff(school, data.staff, data.accounts, users)
        classes = _write_classes(school, data.classes, years, staff)
        students = _write_students(school, data.students)
        _write_enrolments(school, data.enrolments, years, classes, students)
        _write_assignments(school, data.assignments, classes, staff)
        roles = _write_roles(school, data.accounts, users, students)
        counts = {
            "years": len(years), "classes": len(classes), "subject_plans": plans, "staff": len(staff),
            "students": len(students), "enrolments": len(data.enrolments),
            "assignments": len(data.assignments), "accounts": len(users), "memberships": roles,
        }
        record("demo.load", school=school, obj=school, extra={"seed": seed, "reset": replaced, "counts": counts})
    org = data.organisation
    return DemoSummary(school_code=org.school_code, school_name=org.school_name, seed=seed, reset=replaced,
                       counts=counts, years=summarise_years(data), seconds=time.perf_counter() - started)


def _prepare_school(data: DemoData, *, reset: bool) -> tuple[School, bool]:
    """The demo school's row, new or emptied, and whether it existed. Never touches another school."""
    org = data.organisation
    existing = School.objects.select_for_update().filter(code=org.school_code).first()
    if existing is not None and not reset:
        raise DemoError(f"Trường minh hoạ «{existing.name}» (mã {existing.code}) đã có. "
                        "Dùng --reset để xoá dữ liệu của trường này và nạp lại.")
    if existing is not None and existing.name != org.school_name:
        raise DemoError(f"Mã trường {org.school_code} đang là của «{existing.name}», không phải trường minh hoạ: "
                        "không xoá và không nạp.")
    _check_usernames([a.username for a in data.accounts])
    department, _ = Department.objects.get_or_create(code=org.department_code,
                                                     defaults={"name": org.department_name})
    division, _ = Division.objects.get_or_create(department=department, code=org.division_code,
                                                 defaults={"name": org.division_name})
    fields = {"department": department, "division": division, "name": org.school_name, "level_code": "2",
              "commune_name": org.commune_name, "commune_code": org.commune_code,
              "province_name": org.province_name, "province_code": org.province_code, "address": org.address}
    if existing is None:
        return School.objects.create(code=org.school_code, **fields), False
    _clear_school(existing)
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.save()
    return existing, True


def _check_usernames(usernames: list[str]) -> None:
    taken = (get_user_model().objects.filter(username__in=usernames)
             .exclude(email__iendswith=f"@{DEMO_EMAIL_DOMAIN}").values_list("username", flat=True))
    if taken:
        raise DemoError("Các tên đăng nhập sau đã có và không phải tài khoản minh hoạ, nên không nạp trường "
                        f"minh hoạ: {', '.join(sorted(taken))}.")


# Deletion order of the school's own tables; rows of other tables that name the school go first.
_CLEAR_ORDER = [TeachingAssignment, Enrolment, SchoolClass, SubjectPlan, SchoolYear, Student, Membership, Staff]


def _clear_school(school: School) -> None:
    """Delete every row that belongs to the school except the audit trail, in an order that respects the
    PROTECT foreign keys. Tables added later (grade book, records) are found by their foreign key to School
    and deleted before the school's own tables; if one still blocks, the reload stops and names it."""
    models = [m for m in apps.get_models() if m not in (School, AuditEvent)
              and any(f.many_to_one and f.related_model is School for f in m._meta.concrete_fields)]
    rank = {m: i for i, m in enumerate(_CLEAR_ORDER)}
    pending = sorted(models, key=lambda m: (m in rank, rank.get(m, 0), m._meta.label))
    while pending:
        blocked = []
        for model in pending:
            condition = Q()
            for f in model._meta.concrete_fields:
                if f.many_to_one and f.related_model is School:
                    condition |= Q(**{f.name: school})
            try:
                model._default_manager.filter(condition).delete()
            except (ProtectedError, RestrictedError):
                blocked.append(model)
        if len(blocked) == len(pending):
            names = ", ".join(str(m._meta.verbose_name) for m in blocked)
            raise DemoError(f"Không xoá được dữ liệu cũ của trường minh hoạ (bảng: {names}).")
        pending = blocked


def _write_users(accounts: tuple[DemoAccount, ...], password_hash: str) -> dict[str, int]:
    """Create the demo users, or take over the ones a previous load made (same password, fresh roles)."""
    User = get_user_model()
    existing = {u.username: u for u in User.objects.filter(username__in=[a.username for a in accounts])}
    fresh, kept = [], []
    for a in accounts:
        user = existing.get(a.username) or User(username=a.username)
        user.password, user.email = password_hash, a.email
        user.first_name, user.last_name = a.first_name, a.last_name
        user.is_active, user.is_staff, user.is_superuser = True, False, False
        (kept if user.pk else fresh).append(user)
    User.objects.bulk_update(kept, ["password", "email", "first_name", "last_name", "is_active", "is_staff",
                                    "is_superuser"])
    User.objects.bulk_create(fresh)
    ids = dict(User.objects.filter(username__in=[a.username for a in accounts]).values_list("username", "pk"))
    Membership.objects.filter(user__in=ids.values()).delete()
    StudentAccess.objects.filter(user__in=ids.values()).delete()
    LoginThrottle.objects.filter(username__in=[u.lower() for u in ids]).delete()
    return ids


def _write_years(school: School, years: tuple[DemoYear, ...]) -> dict[str, SchoolYear]:
    SchoolYear.objects.bulk_create([SchoolYear(school=school, name=y.name, start_date=y.start_date,
                                               end_date=y.end_date, is_current=y.is_current) for y in years])
    saved = {y.name: y for y in SchoolYear.objects.filter(school=school)}
    Semester.objects.bulk_create([Semester(year=saved[y.name], number=n, start_date=start, end_date=end)
                                  for y in years for n, start, end in y.semesters])
    return saved


def _subject_catalogue() -> dict[str, Subject]:
    """The national subject catalogue, which migration 0002 seeds. A database flushed since (as test
    databases are between transactional tests) lacks it: the missing rows are put back the same way."""
    subjects = {s.code: s for s in Subject.objects.all()}
    missing = [Subject(code=code, name=name, kind=kind, integrated=integrated, order=order)
               for order, (code, name, kind, _periods, _elective, integrated) in enumerate(SUBJECTS, start=1)
               if code not in subjects]
    if missing:
        Subject.objects.bulk_create(missing)
        subjects = {s.code: s for s in Subject.objects.all()}
    return subjects


def _write_subject_plans(school: School, years: list[SchoolYear]) -> int:
    """The TT22 plan of every year, row for row what ``actions.create_school_year`` seeds."""
    subjects = _subject_catalogue()
    plans = []
    for year in years:
        for grade in GRADES:
            for order, (code, _name, kind, per_grade, elective, _integrated) in enumerate(SUBJECTS, start=1):
                if elective:
                    continue
                plans.append(SubjectPlan(school=school, year=year, grade=grade, subject=subjects[code],
                                         kind=kind, periods_per_year=per_grade[grade - 6], order=order))
    SubjectPlan.objects.bulk_create(plans)
    return len(plans)


def _write_staff(school: School, staff: tuple[DemoStaff, ...], accounts: tuple[DemoAccount, ...],
                 users: dict[str, int]) -> dict[str, int]:
    user_of = {a.staff: users[a.username] for a in accounts if a.staff}
    Staff.objects.bulk_create([
        Staff(school=school, user_id=user_of.get(s.code), staff_code=s.code, personal_number=s.personal_number,
              full_name=s.full_name, sort_key=vietnamese_sort_key(s.full_name), gender=s.gender,
              birth_date=s.birth_date, position=s.position, specialty=s.specialty, email=s.email)
        for s in staff
    ])
    return dict(Staff.objects.filter(school=school).values_list("staff_code", "pk"))


def _write_classes(school: School, classes: tuple[DemoClass, ...], years: dict[str, SchoolYear],
                   staff: dict[str, int]) -> dict[tuple[str, str], int]:
    SchoolClass.objects.bulk_create([
        SchoolClass(school=school, year=years[c.year], grade=c.grade, name=c.name,
                    homeroom_teacher_id=staff[c.homeroom]) for c in classes
    ])
    return {(year_name, name): pk for year_name, name, pk in
            SchoolClass.objects.filter(school=school).values_list("year__name", "name", "pk")}


def _write_students(school: School, students: tuple[DemoStudent, ...]) -> dict[str, int]:
    Student.objects.bulk_create([
        Student(school=school, personal_number=s.personal_number, student_code=s.code, full_name=s.full_name,
                sort_key=vietnamese_sort_key(s.full_name), gender=s.gender, birth_date=s.birth_date,
                birthplace=s.birthplace, hometown=s.hometown, residence=s.residence, ethnicity=s.ethnicity,
                policy_group=s.policy_group, father_name=s.father_name, father_occupation=s.father_occupation,
                mother_name=s.mother_name, mother_occupation=s.mother_occupation, guardian_name=s.guardian_name,
                guardian_occupation=s.guardian_occupation, register_number=s.register_number)
        for s in students
    ])
    return dict(Student.objects.filter(school=school).values_list("student_code", "pk"))


def _write_enrolments(school: School, enrolments: tuple[DemoEnrolment, ...], years: dict[str, SchoolYear],
                      classes: dict[tuple[str, str], int], students: dict[str, int]) -> None:
    Enrolment.objects.bulk_create([
        Enrolment(school=school, student_id=students[e.student], year=years[e.year],
                  school_class_id=classes[(e.year, e.class_name)], status=e.status, status_date=e.status_date,
                  other_school=e.other_school)
        for e in enrolments
    ])


def _write_assignments(school: School, assignments: tuple[DemoAssignment, ...],
                       classes: dict[tuple[str, str], int], staff: dict[str, int]) -> None:
    subjects = dict(Subject.objects.values_list("code", "pk"))
    TeachingAssignment.objects.bulk_create([
        TeachingAssignment(school=school, school_class_id=classes[(a.year, a.class_name)],
                           subject_id=subjects[a.subject], semester=a.semester, teacher_id=staff[a.teacher])
        for a in assignments
    ])


def _write_roles(school: School, accounts: tuple[DemoAccount, ...], users: dict[str, int],
                 students: dict[str, int]) -> int:
    """Memberships for every account; parents and students also get their StudentAccess row."""
    memberships = []
    for a in accounts:
        scope = {"school": {"school": school}, "division": {"division_id": school.division_id},
                 "none": {}}[a.scope]
        memberships.append(Membership(user_id=users[a.username], role=a.role, **scope))
    Membership.objects.bulk_create(memberships)
    StudentAccess.objects.bulk_create([
        StudentAccess(user_id=users[a.username], student_id=students[a.student], relation=a.relation)
        for a in accounts if a.student
    ])
    return len(memberships)
