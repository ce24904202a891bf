"""How one object from the sector meets the school's copy of it: field classes, item checks, the decision.

The sector database (CSDL ngành) is where student and staff data is created; the school system must never
become a second source of truth. Every field the sync touches belongs to one class, and the class decides
what a difference means:

``IDENTITY`` — full name, birth date, personal number, gender (students and staff).
    Always the sector's value. A school value that differs and was edited here since the last sync (or that
    the sync never saw) is recorded as a ``SyncConflict`` marked *identity*, and the sector's value is
    written over it. Nothing is merged: the conflict row keeps the school's value for the record.
``SECTOR`` — every other field the sector sends: birthplace, residence, ethnicity, parents, a staff
    member's position and whether they still work here, a class's homeroom teacher, an enrolment's status,
    the school's own name and address.
    Same rule: the sector's value is applied and a local edit is flagged (not marked identity).
``STRUCTURAL`` — a student's class within a year, a class's grade.
    Never applied by the sync, because moving would detach grade-book data already entered: a difference is
    flagged as *not applied* and the school makes the move itself (class transfer), or asks the sector to
    correct its data.
``FILL`` — a staff member's e-mail and phone.
    The school's own: the sector's value fills a blank field and never overwrites one; no conflict.

Fields the sector does not send (accounts, roles, the school register number, everything in the grade
book) are never touched by the sync.

This module decides; ``actions`` writes. Item checks reuse the roster import's cell validation
(``hocba.school.roster``), so a bad personal number reads the same whether it came from a file or the sector.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from hocba.school.models import Enrolment, Staff, Student
from hocba.school.roster import _POSITIONS, KINDS, RowError, _class_key, _fold, _max_length, _Row

IDENTITY, SECTOR, STRUCTURAL, FILL = "identity", "sector", "structural", "fill"
GENDER_LABELS = {"1": "Nam", "2": "Nữ"}
POSITION_LABELS = dict(Staff.POSITION_CHOICES)
STATUS_LABELS = dict(Enrolment.STATUS_CHOICES)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    policy: str

    @property
    def identity(self) -> bool:
        return self.policy == IDENTITY


STUDENT_FIELDS = (
    FieldSpec("full_name", "Họ và tên", IDENTITY),
    FieldSpec("birth_date", "Ngày sinh", IDENTITY),
    FieldSpec("personal_number", "Số định danh cá nhân", IDENTITY),
    FieldSpec("gender", "Giới tính", IDENTITY),
    FieldSpec("birthplace", "Nơi sinh", SECTOR),
    FieldSpec("hometown", "Quê quán", SECTOR),
    FieldSpec("residence", "Nơi ở hiện nay", SECTOR),
    FieldSpec("ethnicity", "Dân tộc", SECTOR),
    FieldSpec("nationality", "Quốc tịch", SECTOR),
    FieldSpec("policy_group", "Đối tượng chính sách", SECTOR),
    FieldSpec("disabled_not_assessed", "Khuyết tật không đánh giá", SECTOR),
    FieldSpec("father_name", "Họ tên cha", SECTOR),
    FieldSpec("father_occupation", "Nghề nghiệp cha", SECTOR),
    FieldSpec("mother_name", "Họ tên mẹ", SECTOR),
    FieldSpec("mother_occupation", "Nghề nghiệp mẹ", SECTOR),
    FieldSpec("guardian_name", "Họ tên người giám hộ", SECTOR),
    FieldSpec("guardian_occupation", "Nghề nghiệp người giám hộ", SECTOR),
)
STAFF_FIELDS = (
    FieldSpec("full_name", "Họ và tên", IDENTITY),
    FieldSpec("birth_date", "Ngày sinh", IDENTITY),
    FieldSpec("personal_number", "Số định danh cá nhân", IDENTITY),
    FieldSpec("gender", "Giới tính", IDENTITY),
    FieldSpec("position", "Chức vụ", SECTOR),
    FieldSpec("specialty", "Chuyên môn", SECTOR),
    FieldSpec("is_active", "Đang công tác", SECTOR),
    FieldSpec("email", "Email", FILL),
    FieldSpec("phone", "Điện thoại", FILL),
)
CLASS_FIELDS = (
    FieldSpec("grade", "Khối", STRUCTURAL),
    FieldSpec("homeroom", "Giáo viên chủ nhiệm", SECTOR),
)
ENROLMENT_FIELDS = (
    FieldSpec("class_name", "Lớp", STRUCTURAL),
    FieldSpec("status", "Tình trạng", SECTOR),
    FieldSpec("status_date", "Ngày thay đổi tình trạng", SECTOR),
    FieldSpec("other_school", "Trường chuyển đến/đi", SECTOR),
)
SCHOOL_FIELDS = (
    FieldSpec("name", "Tên trường", SECTOR),
    FieldSpec("level_code", "Mã cấp học", SECTOR),
    FieldSpec("department_code", "Mã sở", SECTOR),
    FieldSpec("division_code", "Mã phòng", SECTOR),
    FieldSpec("commune_name", "Xã/phường", SECTOR),
    FieldSpec("commune_code", "Mã xã/phường", SECTOR),
    FieldSpec("province_name", "Tỉnh/thành phố", SECTOR),
    FieldSpec("province_code", "Mã tỉnh", SECTOR),
    FieldSpec("address", "Địa chỉ", SECTOR),
)
FIELDS = {"student": STUDENT_FIELDS, "staff": STAFF_FIELDS, "class": CLASS_FIELDS, "enrolment": ENROLMENT_FIELDS,
          "school": SCHOOL_FIELDS}


def as_text(value: Any) -> str:
    """How a value is compared and remembered: dates ISO, booleans 1/0, models by their code."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def shown(spec: FieldSpec, text: str) -> str:
    """A remembered value as a person reads it."""
    if not text:
        return ""
    if spec.name == "gender":
        return GENDER_LABELS.get(text, text)
    if spec.name == "position":
        return POSITION_LABELS.get(text, text)
    if spec.name == "status":
        return STATUS_LABELS.get(text, text)
    if spec.name in ("is_active", "disabled_not_assessed"):
        return "Có" if text == "1" else "Không"
    if spec.name in ("birth_date", "status_date"):
        try:
            return dt.date.fromisoformat(text).strftime("%d/%m/%Y")
        except ValueError:
            return text
    return text


# --- checking what the sector sent --------------------------------------------------------------------------

class ItemInvalid(Exception):
    """The sector sent an item the school system cannot take; ``messages`` say why (Vietnamese)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


class _Checker:
    """Typed getters over a sector item, reporting like the roster import does."""

    def __init__(self, item: dict, roster_kind: str):
        self.item = item
        self.errors: list[RowError] = []
        self.own: list[str] = []
        self.cells: dict[str, Any] = {}
        self.row = _Row(0, self.cells, KINDS[roster_kind], self.errors)

    def put(self, name: str, value: Any) -> None:
        self.cells[name] = value

    def text(self, name: str, *, key: str | None = None, required: bool = False, model=None) -> str:
        self.put(name, self.item.get(key or name))
        return self.row.text(name, required=required, max_length=_max_length(model, name) if model else None)

    def personal_number(self) -> str:
        self.put("personal_number", str(self.item.get("personal_number") or ""))
        return self.row.personal_number()

    def gender(self) -> str:
        raw = self.item.get("gender")
        self.put("gender", GENDER_LABELS.get(str(raw), raw if raw not in (None, "0", 0) else ""))
        return self.row.gender()

    def date(self, name: str, *, required: bool, label: str) -> dt.date | None:
        raw = self.item.get(name)
        if raw in (None, ""):
            if required:
                self.own.append(f"{label} không được để trống.")
            return None
        try:
            value = dt.date.fromisoformat(str(raw)[:10])
        except ValueError:
            self.own.append(f"{label} '{raw}' không đúng định dạng YYYY-MM-DD.")
            return None
        if any(c.field == name for c in self.row.spec.columns):
            self.put(name, value)
            return self.row.date(name, required=required)
        return value

    def require_int(self, name: str, label: str, allowed: tuple[int, ...]) -> int | None:
        raw = self.item.get(name)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = None
        if value not in allowed:
            self.own.append(f"{label} '{raw}' không hợp lệ; chỉ được là {', '.join(str(a) for a in allowed)}.")
            return None
        return value

    def done(self) -> None:
        messages = self.own + [e.message for e in self.errors]
        if messages:
            raise ItemInvalid(messages)


def _flag(item: dict, name: str, default: bool) -> bool:
    value = item.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "co", "có")
    return bool(value)


def student_values(item: dict) -> dict[str, Any]:
    c = _Checker(item, "students")
    values: dict[str, Any] = {
        "student_code": "".join(c.text("student_code", required=True, model=Student).split()),
        "personal_number": c.personal_number(),
        "full_name": c.text("full_name", required=True, model=Student),
        "gender": c.gender(),
        "birth_date": c.date("birth_date", required=True, label="Ngày sinh"),
    }
    for name in ("birthplace", "hometown", "residence"):
        values[name] = c.text(name, required=True, model=Student)
    values["ethnicity"] = c.text("ethnicity", model=Student) or "Kinh"
    values["nationality"] = c.text("nationality", model=Student) or "Việt Nam"
    for name in ("policy_group", "father_name", "father_occupation", "mother_name", "mother_occupation",
                 "guardian_name", "guardian_occupation"):
        values[name] = c.text(name, model=Student)
    values["disabled_not_assessed"] = _flag(item, "disabled_not_assessed", False)
    c.done()
    return values


def staff_values(item: dict) -> dict[str, Any]:
    c = _Checker(item, "staff")
    values: dict[str, Any] = {
        "staff_code": "".join(c.text("staff_code", required=True, model=Staff).split()),
        "personal_number": c.personal_number(),
        "full_name": c.text("full_name", required=True, model=Staff),
        "gender": c.gender(),
        "birth_date": c.date("birth_date", required=False, label="Ngày sinh"),
    }
    position = c.text("position")
    code = _POSITIONS.get(_fold(position)) if position else "GV"
    if code is None:
        c.own.append(f"Chức vụ '{position}' không hợp lệ; chỉ được là: {', '.join(POSITION_LABELS)}.")
    values["position"] = code
    values["specialty"] = c.text("specialty", model=Staff)
    values["email"] = c.text("email", model=Staff)
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            c.own.append(f"Email '{values['email']}' không đúng dạng địa chỉ thư điện tử.")
    values["phone"] = c.text("phone", model=Staff)
    values["is_active"] = _flag(item, "active", True)
    c.done()
    return values


def class_values(item: dict) -> dict[str, Any]:
    c = _Checker(item, "classes")
    grade = c.require_int("grade", "Khối", (6, 7, 8, 9))
    name = _class_key(c.text("name", required=True))
    if name and grade and (not name.startswith(str(grade)) or len(name) > 10):
        c.own.append(f"Tên lớp '{name}' không hợp lệ: phải bắt đầu bằng khối {grade}, tối đa 10 kí tự.")
    year = str(item.get("school_year") or "")
    if not year:
        c.own.append("Năm học (school_year) không được để trống.")
    c.done()
    return {"school_year": year, "name": name, "grade": grade,
            "homeroom": "".join(str(item.get("homeroom_staff_code") or "").split())}


def enrolment_values(entry: dict) -> dict[str, Any]:
    c = _Checker(entry, "students")
    status = str(entry.get("status") or "studying")
    if status not in STATUS_LABELS:
        c.own.append(f"Tình trạng '{status}' không hợp lệ; chỉ được là: {', '.join(STATUS_LABELS)}.")
    values = {"school_year": str(entry.get("school_year") or ""), "class_name": _class_key(entry.get("class_name") or ""),
              "status": status, "status_date": c.date("status_date", required=False, label="Ngày thay đổi tình trạng"),
              "other_school": " ".join(str(entry.get("other_school") or "").split())[:250]}
    if not values["school_year"] or not values["class_name"]:
        c.own.append("Xếp lớp cần năm học (school_year) và lớp (class_name).")
    c.done()
    return values


def assignment_values(item: dict) -> dict[str, Any]:
    c = _Checker(item, "assignments")
    values = {"school_year": str(item.get("school_year") or ""), "class_name": _class_key(item.get("class_name") or ""),
              "subject_code": str(item.get("subject_code") or "").strip(),
              "semester": c.require_int("semester", "Học kì", (1, 2)),
              "staff_code": "".join(str(item.get("staff_code") or "").split()),
              "deleted": _flag(item, "deleted", False)}
    for name, label in (("school_year", "Năm học"), ("class_name", "Lớp"), ("subject_code", "Mã môn"),
                        ("staff_code", "Mã cán bộ")):
        if not values[name]:
            c.own.append(f"{label} không được để trống.")
    c.done()
    return values


def school_values(item: dict) -> dict[str, Any]:
    errors = []
    values = {k: " ".join(str(item.get(k) or "").split()) for k in (
        "code", "name", "level_code", "department_code", "department_name", "division_code", "division_name",
        "commune_name", "commune_code", "province_name", "province_code", "address")}
    values["level_code"] = values["level_code"] or "2"
    for name, label in (("code", "Mã trường"), ("name", "Tên trường"), ("department_code", "Mã sở"),
                        ("department_name", "Tên sở"), ("commune_name", "Xã/phường"),
                        ("province_name", "Tỉnh/thành phố"), ("province_code", "Mã tỉnh")):
        if not values[name]:
            errors.append(f"{label} không được để trống.")
    if values["division_code"] and not values["division_name"]:
        errors.append("Có mã phòng thì cần tên phòng.")
    limits = {"code": 20, "name": 150, "level_code": 2, "department_code": 2, "division_code": 10,
              "commune_code": 5, "province_code": 2, "commune_name": 150, "province_name": 150, "address": 250}
    for name, limit in limits.items():
        if len(values[name]) > limit:
            errors.append(f"{name} dài quá {limit} kí tự.")
    if errors:
        raise ItemInvalid(errors)
    return values


# --- the decision -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    spec: FieldSpec
    local: str
    sector: str
    synced: str | None
    applied: bool


@dataclass
class Decision:
    updates: dict[str, Any] = field(default_factory=dict)  # field → the sector's value, to write
    diffs: list[tuple[str, str, str]] = field(default_factory=list)  # label, old, new (as shown)
    conflicts: list[Conflict] = field(default_factory=list)


def decide(specs: tuple[FieldSpec, ...], sector: dict[str, Any], local: dict[str, str],
           synced: dict[str, str] | None) -> Decision:
    """What to do with one object: ``sector`` holds the sector's values (typed), ``local`` the school's now and
    ``synced`` what the sector said last time (None when this object was never synced: every difference
    then counts as a local edit, since nothing shows otherwise)."""
    out = Decision()
    for spec in specs:
        if spec.name not in sector:
            continue
        new = as_text(sector[spec.name])
        old = local.get(spec.name, "")
        if new == old:
            continue
        if spec.policy == FILL:
            if not old:
                out.updates[spec.name] = sector[spec.name]
                out.diffs.append((spec.label, shown(spec, old), shown(spec, new)))
            continue
        before = None if synced is None else synced.get(spec.name)
        edited_here = before is None or before != old
        if spec.policy == STRUCTURAL:
            out.conflicts.append(Conflict(spec, old, new, before, applied=False))
            continue
        out.updates[spec.name] = sector[spec.name]
        out.diffs.append((spec.label, shown(spec, old), shown(spec, new)))
        if edited_here:
            out.conflicts.append(Conflict(spec, old, new, before, applied=True))
    return out


def remembered(specs: tuple[FieldSpec, ...], sector: dict[str, Any]) -> dict[str, str]:
    """The texts kept in ``SyncState`` for the next pull."""
    return {s.name: as_text(sector[s.name]) for s in specs if s.name in sector and s.policy != FILL}
