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

from django.db import IntegrityError, transaction
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


# --- transfers between schools (chuyển trường) ------------------------------------------------------------
# The package format and every check live in ``hocba.interop.transfer``; here are the two changes of state:
# giving a package out (registry + audit) and keeping a received one (files, rows and audit at once).

class TransferRefused(ActionError):
    """A received package failed a check; ``messages`` lists every reason (Vietnamese). Nothing was saved."""


def years_in_force(student: Student) -> list:
    """The student's years in force, oldest first (``HocBaRecord`` and ``ReceivedRecord``): every version in
    force issued in this deployment (any school, same personal number) and every year received from elsewhere
    that is not also one of those — what a transfer package, an admission batch and the family's complete THCS
    record hold."""
    from hocba.records.actions import complete_record

    from .models import ReceivedRecord

    issued = complete_record(student)
    ids = {str(r.record_id) for r in issued}
    received = []
    for r in (ReceivedRecord.objects.filter(student__personal_number=student.personal_number)
              .order_by("school_year", "-version")):
        if r.record_id not in ids:
            ids.add(r.record_id)
            received.append(r)
    return sorted([*issued, *received], key=lambda r: r.school_year if isinstance(r, ReceivedRecord) else r.year.name)


@transaction.atomic
def export_transfer(actor, student: Student, *, recipient: str = "", purpose: str = "Chuyển trường"):
    """The student's transfer package (``hocba.interop.transfer``): the signed PDF and XML of every year in
    force, exactly as issued or received, checked as a chain before it leaves; entered in the registry of every
    local version it holds and audited."""
    import hashlib

    from hocba.documents import IssuedYear, export_bundle, verify_chain
    from hocba.records import storage
    from hocba.records.actions import FileOut
    from hocba.records.conf import public_url
    from hocba.records.models import HocBaRecord, RegistryEntry

    from . import transfer

    transfer.require_transfer(actor, student.school)
    rows = years_in_force(student)
    if not rows:
        raise ActionError("Học sinh chưa có học bạ nào đã phát hành hoặc đã nhận để chuyển đi.")
    years, listed = [], []
    for r in rows:
        local = isinstance(r, HocBaRecord)
        pdf = storage.read(r.pdf_file, r.pdf_sha256) if r.pdf_file else None
        years.append(IssuedYear(storage.read(r.xml_file, r.xml_sha256), pdf))
        listed.append({"madinhdanhhocba": str(r.record_id), "phienban": r.version,
                       "namhoc": r.year.name if local else r.school_year,
                       "matracuu": r.verification_code if local else "",
                       "truongcap": r.school.code if local else r.source_school_code,
                       "nguon": "phat_hanh" if local else "da_nhan"})
    extra = transfer.section(school=student.school, student=student, years=listed,
                             exported_at=timezone.now().isoformat(timespec="seconds"), deployment=public_url())
    data = export_bundle(years, extra=extra)
    chain = verify_chain(data)
    if not chain.ok:
        raise ActionError(["Hồ sơ học bạ của học sinh không tạo thành chuỗi hợp lệ, không xuất được:",
                           *chain.problems])
    digest = hashlib.sha256(data).hexdigest()
    now = timezone.now()
    recipient = recipient or "Trường chuyển đến"
    RegistryEntry.objects.bulk_create([
        RegistryEntry(school=r.school, record=r, event=RegistryEntry.EXPORTED, actor=actor,
                      actor_name=actor.get_username(), at=now, recipient=recipient[:250], purpose=purpose[:500],
                      file_format="zip", file_sha256=digest, note="Gói chuyển trường")
        for r in rows if isinstance(r, HocBaRecord)])
    audit("interop.transfer_export", actor=actor, school=student.school, obj=student,
          extra={"student": student.personal_number, "sha256": digest, "recipient": recipient, "purpose": purpose,
                 "years": listed})
    return FileOut(data, f"chuyen-truong_{student.student_code}.zip", "application/zip")


def _identity_problems(school: School, doc_student) -> tuple[Student | None, list[str]]:
    """The school's student with the package's personal number, checked against the package's identity; or
    None when the school has no such student yet (the import then creates it)."""
    from hocba.school.names import normalise_name

    problems = []
    existing = Student.objects.filter(school=school, personal_number=doc_student.personal_number).first()
    if existing is not None:
        if normalise_name(existing.full_name).casefold() != normalise_name(doc_student.name).casefold():
            problems.append(f"Học sinh có số định danh {doc_student.personal_number} trong trường tên là "
                            f"«{existing.full_name}», nhưng học bạ trong gói ghi «{doc_student.name}».")
        if doc_student.birth_date and existing.birth_date != doc_student.birth_date:
            problems.append(f"Học sinh có số định danh {doc_student.personal_number} trong trường sinh ngày "
                            f"{existing.birth_date:%d/%m/%Y}, nhưng học bạ trong gói ghi "
                            f"{doc_student.birth_date:%d/%m/%Y}.")
        return existing, problems
    holder = Student.objects.filter(school=school, student_code=doc_student.student_code).first()
    if holder is not None:
        problems.append(f"Mã học sinh {doc_student.student_code} của học bạ trong gói đã là mã của học sinh "
                        f"{holder.full_name} (số định danh {holder.personal_number}) trong trường.")
    if doc_student.birth_date is None:
        problems.append("Học bạ trong gói không ghi ngày sinh đầy đủ; hãy thêm học sinh vào danh sách trường "
                        "trước rồi nhận lại gói.")
    if doc_student.gender not in ("1", "2"):
        problems.append("Học bạ trong gói không ghi giới tính; hãy thêm học sinh vào danh sách trường trước rồi "
                        "nhận lại gói.")
    return None, problems


def _new_student(school: School, s) -> Student:
    parent = lambda p: (p.name, p.occupation) if p else ("", "")
    (father, father_job), (mother, mother_job), (guardian, guardian_job) = (
        parent(s.father), parent(s.mother), parent(s.guardian))
    return Student.objects.create(
        school=school, personal_number=s.personal_number, student_code=s.student_code, full_name=s.name,
        gender=s.gender, birth_date=s.birth_date, birthplace=s.birthplace.detail, hometown=s.hometown.detail,
        residence=s.residence.detail, ethnicity=s.ethnicity_name, nationality=s.nationality_name,
        policy_group=s.policy_group, disabled_not_assessed=s.disabled_not_assessed, father_name=father,
        father_occupation=father_job, mother_name=mother, mother_occupation=mother_job, guardian_name=guardian,
        guardian_occupation=guardian_job, register_number=s.register_number)


def import_transfer(actor, school: School, data: bytes, *, school_class: SchoolClass | None = None, trust=None):
    """Keeps a transfer package received from another school (this deployment or another one) after every
    check of ``transfer.check_package`` and the student's identity: the files byte for byte (never re-signed)
    as ``ReceivedRecord`` rows, the student created when the school does not have them yet (and enrolled as
    «chuyển đến» in ``school_class`` when given), all in one transaction with its audit event. Any failure
    raises ``TransferRefused`` with every reason, and nothing is saved."""
    from hocba.records import storage

    from . import transfer
    from .models import ReceivedRecord

    transfer.require_transfer(actor, school)
    if school_class is not None and school_class.school_id != school.pk:
        raise ActionError({"school_class": f"Lớp {school_class.name} không thuộc {school.name}."})
    check = transfer.check_package(data, trust)
    problems = list(check.problems)
    student = None
    if check.student is not None:
        student, found = _identity_problems(school, check.student)
        problems += found
    elif not problems:
        problems.append("Gói không có năm học nào.")
    ids = [y.record_id for y in check.years]
    already = sorted(ReceivedRecord.objects.filter(school=school, record_id__in=ids)
                     .values_list("school_year", flat=True))
    if already:
        problems.append("Trường đã nhận học bạ năm học " + ", ".join(already) + " của học sinh này rồi.")
    if school_class is not None and student is not None and Enrolment.objects.filter(
            student=student, year=school_class.year).exclude(school_class=school_class).exists():
        problems.append(f"Học sinh đã được xếp vào một lớp khác trong năm học {school_class.year.name}.")
    if problems:
        raise TransferRefused(["Gói học bạ chuyển trường bị từ chối:", *problems])

    stored = []
    for y in check.years:
        directory = f"{school.code}/nhan/{y.school_year}/{y.record_id}"
        xml_rel, xml_sha = storage.write(directory, y.xml, "xml")
        pdf_rel, pdf_sha = storage.write(directory, y.pdf, "pdf") if y.pdf is not None else ("", "")
        stored.append((y, xml_rel, xml_sha, pdf_rel, pdf_sha))
    try:
        return _save_transfer(actor, school, school_class, check, student, stored)
    except IntegrityError as exc:  # the same package (or student) saved by someone else meanwhile
        raise TransferRefused(["Gói học bạ chuyển trường bị từ chối:",
                               "Gói này hoặc học sinh này vừa được nhận bởi người khác; hãy tải lại trang."]) from exc


@transaction.atomic
def _save_transfer(actor, school, school_class, check, student, stored):
    from .models import ReceivedRecord, TransferImport

    created_student = student is None
    if created_student:
        student = _new_student(school, check.student)
    if school_class is not None and not Enrolment.objects.filter(student=student, year=school_class.year).exists():
        Enrolment.objects.create(school=school, student=student, year=school_class.year, school_class=school_class,
                                 status="transferred_in", status_date=timezone.localdate(),
                                 other_school=(check.source.get("ten") or "")[:250])
    source = check.source
    imported = TransferImport.objects.create(
        school=school, student=student, package_sha256=check.sha256, source_school_code=source.get("ma", "")[:20],
        source_school_name=source.get("ten", "")[:250], manifest=check.manifest or {}, imported_at=timezone.now(),
        imported_by=actor)
    ReceivedRecord.objects.bulk_create([
        ReceivedRecord(transfer=imported, school=school, student=student, record_id=y.record_id, version=y.version,
                       school_year=y.school_year, grade=y.grade, source_school_code=y.school_code[:20],
                       source_school_name=y.school_name[:250], previous_year_record_id=y.previous_record_id,
                       previous_year_sha256=y.previous_sha256, pdf_file=pdf_rel, pdf_sha256=pdf_sha,
                       xml_file=xml_rel, xml_sha256=xml_sha)
        for y, xml_rel, xml_sha, pdf_rel, pdf_sha in stored])
    audit("interop.transfer_import", actor=actor, school=school, obj=imported,
          extra={"student": student.personal_number, "student_created": created_student,
                 "sha256": check.sha256, "source_school": source,
                 "class": school_class.name if school_class else None,
                 "years": [{"record_id": y.record_id, "version": y.version, "school_year": y.school_year,
                            "xml_sha256": xml_sha, "pdf_sha256": pdf_sha} for y, _, xml_sha, _, pdf_sha in stored],
                 "files": [{"name": f.name, "valid": f.valid} for f in check.files]})
    return imported


# --- admission export (hồ sơ tuyển sinh) ------------------------------------------------------------------

def admission_year(school: School, year_name: str | None = None) -> SchoolYear:
    years = SchoolYear.objects.filter(school=school)
    year = years.filter(name=year_name).first() if year_name else (
        years.filter(is_current=True).first() or years.order_by("-name").first())
    if year is None:
        raise ActionError({"year": f"{school.name} không có năm học {year_name or 'nào'}."})
    return year


def export_admission(actor, school: School, grade: int, *, year_name: str | None = None, full: bool = False,
                     dry_run: bool = False):
    """The admission batch of ``school`` for ``grade`` (9, or 5 for a primary school): ``(report, file)``.
    Every student's records are validated before inclusion (``admission``). A dry run only reports: it
    writes nothing, not even the registry. A real export enters every local version it gives out in the
    registry and is audited, in one transaction."""
    import hashlib

    from hocba.records.actions import FileOut
    from hocba.records.models import HocBaRecord, RegistryEntry

    from . import admission, transfer

    transfer.require_transfer(actor, school)
    if grade not in admission.LEVELS:
        raise ActionError({"grade": "Khối xét tuyển phải là 9 (THCS) hoặc 5 (tiểu học)."})
    year = admission_year(school, year_name)
    report = admission.collect(school, grade, year, full=full)
    if dry_run:
        return report, None
    if not report.included:
        raise ActionError("Không có học sinh nào đủ điều kiện đưa vào hồ sơ tuyển sinh: " + " ".join(report.lines()))
    now = timezone.now()
    data = admission.batch(report, created_at=now.isoformat(timespec="seconds"))
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        RegistryEntry.objects.bulk_create([
            RegistryEntry(school=r.school, record=r, event=RegistryEntry.EXPORTED, actor=actor,
                          actor_name=actor.get_username(), at=now, recipient="Hồ sơ tuyển sinh",
                          purpose=f"Tuyển sinh sau lớp {grade}, năm học {year.name}", file_format="zip",
                          file_sha256=digest, note="Hồ sơ tuyển sinh")
            for s in report.included for r in s.rows if isinstance(r, HocBaRecord)])
        audit("interop.admission_export", actor=actor, school=school, obj=school,
              extra={"grade": grade, "year": year.name, "sha256": digest, "full": full,
                     "included": [s.student.personal_number for s in report.included],
                     "left_out": {s.student.personal_number: s.problems for s in report.students if not s.included}})
    return report, FileOut(data, f"tuyen-sinh_{school.code}_khoi{grade}_{year.name}.zip", "application/zip")
