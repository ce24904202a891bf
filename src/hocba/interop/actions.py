"""The writes of the inbound sync, each one transaction with its audit event.

``apply_schools`` takes the sector's list of schools; ``apply_school_data`` one school's staff, classes,
students (with their enrolments) and teaching assignments, in that order, and moves the school's cursor in
the same transaction, so that a pull that fails half-way leaves nothing half-applied and is simply pulled
again. Applying the same data twice changes nothing: objects are matched by the sector's keys (mã trường,
mã cán bộ, mã học sinh, năm học/lớp) and each field is compared before it is written.

What a difference means is decided per field class in ``reconcile``; here the decision is written, the
conflicts are stored (once: an open conflict with the same sector value is not repeated) and the change
report is built.

A pull is a system process when ``actor`` is None (``hocba sync pull``); a person who starts one (the
school's sync page) needs the right to manage the school.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from hocba.audit.log import record as audit
from hocba.school import permissions
from hocba.school.actions import ActionError
from hocba.school.models import (
    Department,
    Division,
    Enrolment,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    Student,
    Subject,
    SubjectPlan,
    TeachingAssignment,
)

from . import reconcile as rc
from .models import SyncConflict, SyncCursor, SyncState
from .report import CREATED, DELETED, UPDATED, Change, ConflictNote, ScopeReport

SCHOOLS_SCOPE = "schools"


def school_scope(code: str) -> str:
    return f"school:{code}"


def _require_system(actor) -> None:
    if actor is not None and not permissions.principal_of(actor).is_system_admin:
        permissions.deny("Chỉ quản trị hệ thống được đồng bộ danh sách trường từ CSDL ngành.")


def _dedupe(kind: str, items: Iterable[dict], key) -> list[dict]:
    """The last item of each key (pages come oldest change first, so the last is the newest)."""
    out: dict[str, dict] = {}
    for item in items:
        try:
            out[key(item)] = item
        except (KeyError, TypeError, ValueError):
            out[f"?{len(out)}"] = item
    return list(out.values())


class _Sync:
    """The state of one scope's apply: its remembered states, open conflicts, the report being built."""

    def __init__(self, school_code: str, report: ScopeReport, now: dt.datetime):
        self.school_code, self.report, self.now = school_code, report, now
        self.states = {(s.kind, s.key): s for s in SyncState.objects.filter(school_code=school_code)}
        self.new_states: list[SyncState] = []
        self.changed_states: list[SyncState] = []
        self.open_conflicts: set[tuple] = set()

    def load_conflicts(self, school: School) -> None:
        self.open_conflicts = set(SyncConflict.objects.filter(school=school, acknowledged_at__isnull=True)
                                  .values_list("kind", "key", "field", "sector_value", "resolution"))

    def stale(self, kind: str, key: str, item: dict) -> bool:
        """An item older than the one already applied (two pulls overlapping): applying it would go back."""
        state = self.states.get((kind, key))
        incoming = str(item.get("updated_at") or "")
        return bool(state and incoming and state.sector_updated_at and _later(state.sector_updated_at, incoming))

    def synced(self, kind: str, key: str) -> dict[str, str] | None:
        state = self.states.get((kind, key))
        return state.values.get("fields") if state else None

    def remember(self, kind: str, key: str, obj_id: int | None, fields: dict[str, str], item: dict | None) -> None:
        values = {"fields": fields}
        if item is not None:
            values["item"] = {k: v for k, v in item.items() if k != "updated_at"}
        updated_at = str((item or {}).get("updated_at") or "")
        state = self.states.get((kind, key))
        if state is None:
            state = SyncState(school_code=self.school_code, kind=kind, key=key, object_id=obj_id, values=values,
                              sector_updated_at=updated_at, synced_at=self.now)
            self.states[(kind, key)] = state
            self.new_states.append(state)
        elif state.values != values or state.object_id != obj_id:
            state.values, state.object_id, state.synced_at = values, obj_id, self.now
            state.sector_updated_at = updated_at or state.sector_updated_at
            if state.pk:
                self.changed_states.append(state)

    def flag(self, school: School, kind: str, key: str, obj, label: str, conflicts: list[rc.Conflict]) -> None:
        for c in conflicts:
            local, sector = rc.shown(c.spec, c.local)[:250], rc.shown(c.spec, c.sector)[:250]
            resolution = SyncConflict.SECTOR_APPLIED if c.applied else SyncConflict.NOT_APPLIED
            marker = (kind, key, c.spec.name, sector, resolution)
            self.report.conflicts.append(ConflictNote(kind, key, label, c.spec.label, local, sector, c.applied,
                                                      c.spec.identity))
            if marker in self.open_conflicts:
                continue
            self.open_conflicts.add(marker)
            SyncConflict.objects.create(
                school=school, kind=kind, key=key, object_id=getattr(obj, "pk", None), object_repr=label[:250],
                field=c.spec.name, field_label=c.spec.label, identity=c.spec.identity, local_value=local,
                sector_value=sector, synced_value=rc.shown(c.spec, c.synced or "")[:250], resolution=resolution,
                detected_at=self.now)

    def save_states(self) -> None:
        SyncState.objects.bulk_create(self.new_states)
        if self.changed_states:
            SyncState.objects.bulk_update(self.changed_states, ["values", "object_id", "synced_at",
                                                                "sector_updated_at"])


def _local_texts(specs, obj, extra: dict[str, Any] | None = None) -> dict[str, str]:
    out = {s.name: rc.as_text(getattr(obj, s.name, None)) for s in specs if hasattr(obj, s.name)}
    out.update({k: rc.as_text(v) for k, v in (extra or {}).items()})
    return out


def _lock_cursor(scope: str) -> SyncCursor:
    """The scope's cursor, locked until the transaction ends: two pulls of one school apply one at a time."""
    SyncCursor.objects.get_or_create(scope=scope)
    return SyncCursor.objects.select_for_update().get(scope=scope)


def _advance(cursor: SyncCursor, report: ScopeReport, server_time: str, now: dt.datetime, *, allowed: bool) -> None:
    """Moves the cursor forward (never back: a slower pull that applies last must not rewind it)."""
    cursor.pulled_at = now
    cursor.last_error = "\n".join(report.errors)[:5000]
    if allowed and not report.errors and server_time and _later(server_time, cursor.server_time):
        cursor.server_time = server_time
        report.cursor_advanced = True
    cursor.save()


def _later(new: str, old: str) -> bool:
    if not old:
        return True
    try:
        return dt.datetime.fromisoformat(new) > dt.datetime.fromisoformat(
            old)
    except (ValueError, TypeError):  # a cursor this code cannot read: the server's own order decides
        return new > old


# --- the list of schools -------------------------------------------------------------------------------------

def _school_key(item: dict) -> str:
    return str(item["code"])


@transaction.atomic
def apply_schools(actor, items: list[dict], *, server_time: str, only: set[str] | None = None,
                  advance_cursor: bool = True) -> ScopeReport:
    """The sector's schools (with their Sở and Phòng): created, or updated by the field rules."""
    _require_system(actor)
    cursor = _lock_cursor(SCHOOLS_SCOPE)
    now = timezone.now()
    report = ScopeReport(SCHOOLS_SCOPE, "Danh sách trường", server_time=server_time, fetched={"school": len(items)})
    sync = _Sync("", report, now)
    for item in _dedupe("school", items, _school_key):
        code = str(item.get("code") or "?")
        if (only and code not in only) or sync.stale("school", code, item):
            continue
        try:
            values = rc.school_values(item)
        except rc.ItemInvalid as exc:
            report.error("school", code, exc.messages)
            continue
        department, _ = Department.objects.get_or_create(code=values["department_code"],
                                                         defaults={"name": values["department_name"]})
        if department.name != values["department_name"]:
            department.name = values["department_name"]
            department.save(update_fields=["name"])
        division = None
        if values["division_code"]:
            division, _ = Division.objects.get_or_create(department=department, code=values["division_code"],
                                                         defaults={"name": values["division_name"]})
            if division.name != values["division_name"]:
                division.name = values["division_name"]
                division.save(update_fields=["name"])
        sector = {s.name: values[s.name] for s in rc.SCHOOL_FIELDS}
        school = School.objects.filter(code=code).select_related("department", "division").first()
        if school is None:
            school = School.objects.create(
                code=code, department=department, division=division,
                **{k: values[k] for k in ("name", "level_code", "commune_name", "commune_code", "province_name",
                                          "province_code", "address")})
            change = Change("school", code, school.name, CREATED)
            report.changed(change)
            audit("sync.school", school=school, obj=school, extra={"source": "CSDL ngành", **change.as_json()})
        else:
            sync.load_conflicts(school)
            local = _local_texts(rc.SCHOOL_FIELDS, school, {
                "department_code": school.department.code,
                "division_code": school.division.code if school.division_id else ""})
            decision = rc.decide(rc.SCHOOL_FIELDS, sector, local, sync.synced("school", code))
            for name in decision.updates:
                if name == "department_code":
                    school.department = department
                elif name == "division_code":
                    school.division = division
                else:
                    setattr(school, name, values[name])
            if decision.updates:
                school.save()
                change = Change("school", code, school.name, UPDATED, tuple(decision.diffs))
                report.changed(change)
            else:
                report.unchanged("school")
            sync.flag(school, "school", code, school, school.name, decision.conflicts)
            if decision.updates or decision.conflicts:
                audit("sync.school", school=school, obj=school,
                      extra={"source": "CSDL ngành", "diffs": decision.diffs,
                             "conflicts": [c.spec.name for c in decision.conflicts]})
        sync.remember("school", code, school.pk, rc.remembered(rc.SCHOOL_FIELDS, sector), item)
    sync.save_states()
    _advance(cursor, report, server_time, now, allowed=advance_cursor and not only)
    return report


def synced_school_codes() -> list[str]:
    """The schools whose data is pulled: those the sector's list has given us."""
    return sorted(SyncState.objects.filter(kind="school").values_list("key", flat=True))


# --- one school's data ---------------------------------------------------------------------------------------

class _School:
    """One school's apply: lookups loaded once, then the four kinds in dependency order."""

    def __init__(self, school: School, report: ScopeReport, now: dt.datetime):
        self.school, self.report, self.now = school, report, now
        self.sync = _Sync(school.code, report, now)
        self.sync.load_conflicts(school)
        self.years = {y.name: y for y in SchoolYear.objects.filter(school=school)}
        self.staff = {s.staff_code: s for s in Staff.objects.filter(school=school)}
        self.staff_by_pn = {s.personal_number: s for s in self.staff.values()}
        self.classes = {(c.year_id, c.name): c for c in
                        SchoolClass.objects.filter(school=school).select_related("homeroom_teacher")}
        self.students = {s.student_code: s for s in Student.objects.filter(school=school)}
        self.students_by_pn = {s.personal_number: s for s in self.students.values()}

    def year(self, name: str) -> SchoolYear | None:
        year = self.years.get(name)
        if year is None:
            self.report.note(f"Năm học {name} chưa có trên hệ thống nên dữ liệu của năm đó chưa được nhận; tạo năm "
                             "học rồi chạy đồng bộ đầy đủ (hocba sync pull --full).")
        return year

    def wrong_school(self, kind: str, key: str, item: dict) -> bool:
        if str(item.get("school_code") or "") != self.school.code:
            self.report.error(kind, key, f"thuộc trường {item.get('school_code')!r}, không phải {self.school.code}.")
            return True
        return False

    # -- staff --
    def apply_staff(self, items: list[dict]) -> None:
        for item in items:
            code = str(item.get("staff_code") or "?")
            if self.wrong_school("staff", code, item) or self.sync.stale("staff", code, item):
                continue
            try:
                values = rc.staff_values(item)
            except rc.ItemInvalid as exc:
                self.report.error("staff", code, exc.messages)
                continue
            member = self.staff.get(code) or self.staff_by_pn.get(values["personal_number"])
            holder = self.staff_by_pn.get(values["personal_number"])
            if holder is not None and member is not None and holder.pk != member.pk:
                self.report.error("staff", code, f"Số định danh {values['personal_number']} đang là của "
                                                 f"{holder.full_name} ({holder.staff_code}) trong trường.")
                continue
            sector = {"staff_code": code, **{s.name: values[s.name] for s in rc.STAFF_FIELDS}}
            if member is None:
                member = Staff(school=self.school, staff_code=code, **{s.name: values[s.name] for s in rc.STAFF_FIELDS})
                member.save()
                self.report.changed(Change("staff", code, member.full_name, CREATED))
            else:
                specs = (rc.FieldSpec("staff_code", "Mã cán bộ", rc.IDENTITY), *rc.STAFF_FIELDS)
                decision = rc.decide(specs, sector, _local_texts(specs, member), self.sync.synced("staff", code))
                _reindex(self.staff, self.staff_by_pn, member, decision.updates)
                self._write(member, decision.updates)
                self._report("staff", code, member, member.full_name, decision)
            self.staff[member.staff_code], self.staff_by_pn[member.personal_number] = member, member
            self.sync.remember("staff", code, member.pk, rc.remembered(rc.STAFF_FIELDS, values), item)

    def _write(self, obj, updates: dict[str, Any]) -> None:
        if not updates:
            return
        for name, value in updates.items():
            setattr(obj, name, value)
        obj.save()

    def _report(self, kind: str, key: str, obj, label: str, decision: rc.Decision) -> None:
        if decision.updates:
            self.report.changed(Change(kind, key, label, UPDATED, tuple(decision.diffs)))
        else:
            self.report.unchanged(kind)
        self.sync.flag(self.school, kind, key, obj, label, decision.conflicts)

    # -- classes --
    def apply_classes(self, items: list[dict]) -> None:
        for item in items:
            key = f"{item.get('school_year')}/{item.get('name')}"
            if self.wrong_school("class", key, item):
                continue
            try:
                values = rc.class_values(item)
            except rc.ItemInvalid as exc:
                self.report.error("class", key, exc.messages)
                continue
            key = f"{values['school_year']}/{values['name']}"
            if self.sync.stale("class", key, item):
                continue
            year = self.year(values["school_year"])
            if year is None:
                continue
            teacher = None
            if values["homeroom"]:
                teacher = self.staff.get(values["homeroom"])
                if teacher is None:
                    self.report.error("class", key, f"giáo viên chủ nhiệm mã {values['homeroom']} không có trong "
                                                    "danh sách cán bộ của trường.")
                    continue
            label = f"Lớp {values['name']} ({year.name})"
            sector = {"grade": values["grade"], "homeroom": values["homeroom"]}
            cls = self.classes.get((year.pk, values["name"]))
            if cls is None:
                cls = SchoolClass.objects.create(school=self.school, year=year, grade=values["grade"],
                                                 name=values["name"], homeroom_teacher=teacher)
                self.classes[(year.pk, cls.name)] = cls
                self.report.changed(Change("class", key, label, CREATED))
            else:
                local = {"grade": rc.as_text(cls.grade),
                         "homeroom": cls.homeroom_teacher.staff_code if cls.homeroom_teacher_id else ""}
                decision = rc.decide(rc.CLASS_FIELDS, sector, local, self.sync.synced("class", key))
                if "homeroom" in decision.updates:
                    cls.homeroom_teacher = teacher
                    cls.save(update_fields=["homeroom_teacher"])
                self._report("class", key, cls, label, decision)
            self.sync.remember("class", key, cls.pk, rc.remembered(rc.CLASS_FIELDS, sector), item)

    # -- students and their enrolments --
    def apply_students(self, items: list[dict]) -> None:
        enrolments = {(e.student_id, e.year_id): e for e in
                      Enrolment.objects.filter(school=self.school).select_related("school_class")}
        for item in items:
            code = str(item.get("student_code") or "?")
            if self.wrong_school("student", code, item) or self.sync.stale("student", code, item):
                continue
            try:
                values = rc.student_values(item)
                entries = [rc.enrolment_values(e) for e in (item.get("enrolments") or []) if isinstance(e, dict)]
            except rc.ItemInvalid as exc:
                self.report.error("student", code, exc.messages)
                continue
            student = self.students.get(code) or self.students_by_pn.get(values["personal_number"])
            holder = self.students_by_pn.get(values["personal_number"])
            if holder is not None and student is not None and holder.pk != student.pk:
                self.report.error("student", code, f"Số định danh {values['personal_number']} đang là của học sinh "
                                                   f"{holder.full_name} ({holder.student_code}) trong trường.")
                continue
            sector = {"student_code": code, **{s.name: values[s.name] for s in rc.STUDENT_FIELDS}}
            if student is None:
                student = Student(school=self.school, student_code=code,
                                  **{s.name: values[s.name] for s in rc.STUDENT_FIELDS})
                student.save()
                self.report.changed(Change("student", code, student.full_name, CREATED))
            else:
                specs = (rc.FieldSpec("student_code", "Mã học sinh", rc.IDENTITY), *rc.STUDENT_FIELDS)
                decision = rc.decide(specs, sector, _local_texts(specs, student), self.sync.synced("student", code))
                _reindex(self.students, self.students_by_pn, student, decision.updates)
                self._write(student, decision.updates)
                self._report("student", code, student, student.full_name, decision)
            self.students[student.student_code], self.students_by_pn[student.personal_number] = student, student
            self.sync.remember("student", code, student.pk, rc.remembered(rc.STUDENT_FIELDS, values), item)
            for entry in entries:
                self._apply_enrolment(student, code, entry, enrolments)

    def _apply_enrolment(self, student: Student, code: str, entry: dict, enrolments: dict) -> None:
        key = f"{code}/{entry['school_year']}"
        year = self.year(entry["school_year"])
        if year is None:
            return
        cls = self.classes.get((year.pk, entry["class_name"]))
        if cls is None:
            self.report.error("enrolment", key, f"lớp {entry['class_name']} không có trong năm học {year.name}.")
            return
        label = f"{student.full_name} – {year.name}"
        sector = {"class_name": cls.name, "status": entry["status"], "status_date": entry["status_date"],
                  "other_school": entry["other_school"]}
        enrolment = enrolments.get((student.pk, year.pk))
        if enrolment is None:
            enrolment = Enrolment.objects.create(school=self.school, student=student, year=year, school_class=cls,
                                                 status=entry["status"], status_date=entry["status_date"],
                                                 other_school=entry["other_school"])
            enrolments[(student.pk, year.pk)] = enrolment
            self.report.changed(Change("enrolment", key, label, CREATED, (("Lớp", "", cls.name),)))
        else:
            decision = rc.decide(rc.ENROLMENT_FIELDS, sector, _local_texts(
                rc.ENROLMENT_FIELDS, enrolment, {"class_name": enrolment.school_class.name}),
                self.sync.synced("enrolment", key))
            decision.updates.pop("class_name", None)
            self._write(enrolment, decision.updates)
            self._report("enrolment", key, enrolment, label, decision)
        self.sync.remember("enrolment", key, enrolment.pk, rc.remembered(rc.ENROLMENT_FIELDS, sector), None)

    # -- teaching assignments --
    def apply_assignments(self, items: list[dict]) -> None:
        subjects = {s.code: s for s in Subject.objects.all()}
        planned = set(SubjectPlan.objects.filter(school=self.school).values_list("year_id", "grade", "subject_id"))
        existing = {(a.school_class_id, a.subject_id, a.semester, a.teacher_id): a for a in
                    TeachingAssignment.objects.filter(school=self.school)}
        for item in items:
            key = "/".join(str(item.get(k)) for k in ("school_year", "class_name", "subject_code", "semester",
                                                       "staff_code"))
            if self.wrong_school("assignment", key, item):
                continue
            try:
                v = rc.assignment_values(item)
            except rc.ItemInvalid as exc:
                self.report.error("assignment", key, exc.messages)
                continue
            year = self.year(v["school_year"])
            if year is None:
                continue
            cls = self.classes.get((year.pk, v["class_name"]))
            subject = subjects.get(v["subject_code"])
            teacher = self.staff.get(v["staff_code"])
            problems = []
            if cls is None:
                problems.append(f"lớp {v['class_name']} không có trong năm học {year.name}")
            if subject is None:
                problems.append(f"môn {v['subject_code']} không có trong danh mục môn học")
            if teacher is None:
                problems.append(f"cán bộ mã {v['staff_code']} không có trong danh sách cán bộ của trường")
            if cls is not None and subject is not None and (year.pk, cls.grade, subject.pk) not in planned \
                    and not v["deleted"]:
                problems.append(f"môn {subject.name} không có trong kế hoạch giáo dục khối {cls.grade} năm học "
                                f"{year.name}")
            if problems:
                self.report.error("assignment", key, "; ".join(problems) + ".")
                continue
            label = f"{teacher.full_name} – {subject.name} – lớp {cls.name} – HK{v['semester']}"
            marker = (cls.pk, subject.pk, v["semester"], teacher.pk)
            current = existing.get(marker)
            if v["deleted"]:
                if current is None:
                    self.report.unchanged("assignment")
                    continue
                try:
                    with transaction.atomic():
                        current.delete()
                except ProtectedError:
                    self.report.error("assignment", key, "không xoá được phân công vì đã có dữ liệu sổ theo dõi gắn "
                                                         "với nó; nhà trường cần xử lý.")
                    continue
                del existing[marker]
                self.report.changed(Change("assignment", key, label, DELETED))
            elif current is None:
                existing[marker] = TeachingAssignment.objects.create(
                    school=self.school, school_class=cls, subject=subject, semester=v["semester"], teacher=teacher)
                self.report.changed(Change("assignment", key, label, CREATED))
            else:
                self.report.unchanged("assignment")

    # -- local drift: an object the sector did not send this time, edited here since the last sync --
    def drifted(self, fetched: dict[str, list[dict]]) -> dict[str, list[dict]]:
        """The remembered sector items of objects whose school values no longer match what the sector said:
        applying them again restores the sector's values and flags the local edits."""
        out: dict[str, list[dict]] = {"staff": [], "classes": [], "students": []}
        sent_staff = {str(i.get("staff_code")) for i in fetched.get("staff", [])}
        sent_students = {str(i.get("student_code")) for i in fetched.get("students", [])}
        sent_classes = {f"{i.get('school_year')}/{i.get('name')}" for i in fetched.get("classes", [])}
        staff_by_pk = {s.pk: s for s in self.staff.values()}
        students_by_pk = {s.pk: s for s in self.students.values()}
        classes_by_pk = {c.pk: c for c in self.classes.values()}
        enrolments = {e.pk: e for e in Enrolment.objects.filter(school=self.school).select_related("school_class")}
        drifted_students: set[str] = set()
        for (kind, key), state in self.sync.states.items():
            fields, item = state.values.get("fields", {}), state.values.get("item")
            if kind == "staff" and key not in sent_staff and item:
                obj = staff_by_pk.get(state.object_id)
                if obj is not None and _differs(fields, _local_texts(rc.STAFF_FIELDS, obj)):
                    out["staff"].append(item)
            elif kind == "class" and key not in sent_classes and item:
                obj = classes_by_pk.get(state.object_id)
                if obj is not None and _differs(fields, {
                        "grade": rc.as_text(obj.grade),
                        "homeroom": obj.homeroom_teacher.staff_code if obj.homeroom_teacher_id else ""}):
                    out["classes"].append(item)
            elif kind == "student" and key not in sent_students and item:
                obj = students_by_pk.get(state.object_id)
                if obj is not None and _differs(fields, _local_texts(rc.STUDENT_FIELDS, obj)):
                    drifted_students.add(key)
            elif kind == "enrolment":
                student_code = key.rsplit("/", 1)[0]
                obj = enrolments.get(state.object_id)
                if student_code not in sent_students and obj is not None and _differs(fields, _local_texts(
                        rc.ENROLMENT_FIELDS, obj, {"class_name": obj.school_class.name})):
                    drifted_students.add(student_code)
        for code in sorted(drifted_students):
            state = self.sync.states.get(("student", code))
            if state is not None and state.values.get("item"):
                out["students"].append(state.values["item"])
        return out


def _reindex(by_code: dict, by_pn: dict, obj, updates: dict[str, Any]) -> None:
    """Before a code or personal number changes: drop the lookups under the old one."""
    for name, index in (("staff_code", by_code), ("student_code", by_code), ("personal_number", by_pn)):
        if name in updates and hasattr(obj, name) and index.get(getattr(obj, name)) is obj:
            del index[getattr(obj, name)]


def _differs(remembered: dict[str, str], local: dict[str, str]) -> bool:
    return any(local.get(name, "") != value for name, value in remembered.items())


def _staff_key(item: dict) -> str:
    return str(item["staff_code"])


def _class_key(item: dict) -> str:
    return f"{item['school_year']}/{item['name']}"


def _student_key(item: dict) -> str:
    return str(item["student_code"])


def _assignment_key(item: dict) -> str:
    return "/".join(str(item[k]) for k in ("school_year", "class_name", "subject_code", "semester", "staff_code"))


@transaction.atomic
def apply_school_data(actor, school: School, data: dict[str, list[dict]], *, server_time: str,
                      advance_cursor: bool = True) -> ScopeReport:
    """One school's data from the sector, applied by the field rules; the school's cursor moves to
    ``server_time`` in the same transaction unless an item was refused (then the same changes come again
    next time, and the refusals are reported again until the sector's data is fixed)."""
    if actor is not None:
        permissions.require_manage_school(actor, school)
    cursor = _lock_cursor(school_scope(school.code))
    now = timezone.now()
    report = ScopeReport(school.code, school.name, server_time=server_time,
                         fetched={k: len(v) for k, v in data.items()})
    work = _School(school, report, now)
    drift = work.drifted(data)
    work.apply_staff(_dedupe("staff", [*drift["staff"], *data.get("staff", [])], _staff_key))
    work.apply_classes(_dedupe("classes", [*drift["classes"], *data.get("classes", [])], _class_key))
    work.apply_students(_dedupe("students", [*drift["students"], *data.get("students", [])], _student_key))
    work.apply_assignments(_dedupe("assignments", data.get("assignments", []), _assignment_key))
    work.sync.save_states()
    if report.changes or report.conflicts:
        audit("sync.pull", actor=actor, school=school, obj=school,
              extra={"source": "CSDL ngành", **report.audit_extra()})
    _advance(cursor, report, server_time, now, allowed=advance_cursor)
    return report


@transaction.atomic
def record_pull_failure(scope: str, error: str) -> None:
    """A pull that got no data (the sector did not answer): noted on the cursor, which does not move."""
    cursor, _ = SyncCursor.objects.select_for_update().get_or_create(scope=scope)
    cursor.last_error = error[:5000]
    cursor.pulled_at = timezone.now()
    cursor.save(update_fields=["last_error", "pulled_at"])


@transaction.atomic
def acknowledge_conflict(actor, conflict: SyncConflict, note: str = "") -> SyncConflict:
    """Đã xem: the school admin has seen the conflict (and had it fixed in CSDL ngành or made the move)."""
    permissions.require_manage_school(actor, conflict.school)
    conflict = SyncConflict.objects.select_for_update().select_related("school").get(pk=conflict.pk)
    if conflict.acknowledged_at is not None:
        raise ActionError("Xung đột này đã được xác nhận.")
    conflict.acknowledged_at, conflict.acknowledged_by, conflict.note = timezone.now(), actor, (note or "")[:500]
    conflict.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    audit("sync.conflict_acknowledge", actor=actor, school=conflict.school, obj=conflict,
          object_repr=f"{conflict.object_repr}: {conflict.field_label}",
          extra={"kind": conflict.kind, "key": conflict.key, "field": conflict.field, "local": conflict.local_value,
                 "sector": conflict.sector_value, "resolution": conflict.resolution, "note": note})
    return conflict
