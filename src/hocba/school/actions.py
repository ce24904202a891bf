"""Every change to the school's data. Each function is one transaction that checks permission, changes
state and appends its audit event; views, commands and the API call these and never write models."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from hocba.audit.log import record, snapshot

from . import permissions
from .models import (
    LoginThrottle,
    School,
    SchoolClass,
    SchoolYear,
    Semester,
    Staff,
    Subject,
    SubjectPlan,
    TeachingAssignment,
)
from .tt22_plan import SUBJECTS


class ActionError(ValidationError):
    """A refusal the user can act on; the message is Vietnamese and names the field."""


# --- school years --------------------------------------------------------------------------------------

def _validate_year(name: str, start: dt.date, end: dt.date) -> None:
    parts = name.split("-")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 4 for p in parts) or int(parts[1]) != int(parts[0]) + 1:
        raise ActionError({"name": "Năm học phải có dạng YYYY-YYYY, năm sau hơn năm trước 1 (ví dụ 2024-2025)."})
    if start >= end:
        raise ActionError({"end_date": "Ngày kết thúc phải sau ngày bắt đầu."})


@transaction.atomic
def create_school_year(actor, school: School, name: str, start_date: dt.date, end_date: dt.date,
                       *, is_current: bool = False, seed_plan: bool = True) -> SchoolYear:
    """A new year with its two semesters and, unless told otherwise, the TT22 subject plan for 6–9."""
    permissions.require_manage_school(actor, school)
    _validate_year(name, start_date, end_date)
    if SchoolYear.objects.filter(school=school, name=name).exists():
        raise ActionError({"name": f"Năm học {name} đã có."})
    if is_current:
        SchoolYear.objects.filter(school=school, is_current=True).update(is_current=False)
    year = SchoolYear.objects.create(school=school, name=name, start_date=start_date, end_date=end_date,
                                     is_current=is_current)
    middle = start_date + (end_date - start_date) / 2
    Semester.objects.create(year=year, number=1, start_date=start_date, end_date=middle)
    Semester.objects.create(year=year, number=2, start_date=middle + dt.timedelta(days=1), end_date=end_date)
    seeded = 0
    if seed_plan:
        subjects = {s.code: s for s in Subject.objects.all()}
        plans = []
        for grade in (6, 7, 8, 9):
            for order, (code, _name, kind, per_grade, elective, _integrated) in enumerate(SUBJECTS, start=1):
                if elective:
                    continue
                plans.append(SubjectPlan(school=school, year=year, grade=grade, subject=subjects[code],
                                         kind=kind, periods_per_year=per_grade[grade - 6], order=order))
        SubjectPlan.objects.bulk_create(plans)
        seeded = len(plans)
    record("school_year.create", actor=actor, school=school, obj=year, after=snapshot(year),
           extra={"subject_plans_seeded": seeded})
    return year


@transaction.atomic
def update_school_year(actor, year: SchoolYear, *, start_date: dt.date, end_date: dt.date,
                       is_current: bool) -> SchoolYear:
    permissions.require_manage_school(actor, year.school)
    year = SchoolYear.objects.select_for_update().get(pk=year.pk)
    _validate_year(year.name, start_date, end_date)
    before = snapshot(year)
    if is_current and not year.is_current:
        SchoolYear.objects.filter(school=year.school_id, is_current=True).update(is_current=False)
    year.start_date, year.end_date, year.is_current = start_date, end_date, is_current
    year.save()
    record("school_year.update", actor=actor, school=year.school, obj=year, before=before, after=snapshot(year))
    return year


# --- classes -------------------------------------------------------------------------------------------

def _validate_homeroom(year: SchoolYear, homeroom: Staff | None, exclude_class: int | None = None) -> None:
    if homeroom is None:
        return
    if homeroom.school_id != year.school_id:
        raise ActionError({"homeroom_teacher": "Giáo viên chủ nhiệm phải là cán bộ của trường."})
    clash = SchoolClass.objects.filter(year=year, homeroom_teacher=homeroom).exclude(pk=exclude_class).first()
    if clash:
        raise ActionError({"homeroom_teacher": f"{homeroom.full_name} đã chủ nhiệm lớp {clash.name} năm học này."})


@transaction.atomic
def create_class(actor, year: SchoolYear, *, grade: int, name: str, homeroom_teacher: Staff | None = None
                 ) -> SchoolClass:
    permissions.require_manage_school(actor, year.school)
    name = name.strip().upper()
    if grade not in (6, 7, 8, 9):
        raise ActionError({"grade": "Khối phải là 6, 7, 8 hoặc 9."})
    if not name or not name.startswith(str(grade)) or len(name) > 10:
        raise ActionError({"name": f"Tên lớp phải bắt đầu bằng khối {grade} (ví dụ {grade}A1), tối đa 10 kí tự."})
    if SchoolClass.objects.filter(year=year, name=name).exists():
        raise ActionError({"name": f"Lớp {name} đã có trong năm học {year.name}."})
    _validate_homeroom(year, homeroom_teacher)
    cls = SchoolClass.objects.create(school=year.school, year=year, grade=grade, name=name,
                                     homeroom_teacher=homeroom_teacher)
    record("class.create", actor=actor, school=year.school, obj=cls, after=snapshot(cls))
    return cls


@transaction.atomic
def update_class(actor, school_class: SchoolClass, *, name: str, homeroom_teacher: Staff | None) -> SchoolClass:
    permissions.require_manage_school(actor, school_class.school)
    cls = SchoolClass.objects.select_for_update().select_related("year").get(pk=school_class.pk)
    name = name.strip().upper()
    if not name.startswith(str(cls.grade)) or len(name) > 10:
        raise ActionError({"name": f"Tên lớp phải bắt đầu bằng khối {cls.grade}, tối đa 10 kí tự."})
    if SchoolClass.objects.filter(year=cls.year, name=name).exclude(pk=cls.pk).exists():
        raise ActionError({"name": f"Lớp {name} đã có trong năm học {cls.year.name}."})
    _validate_homeroom(cls.year, homeroom_teacher, exclude_class=cls.pk)
    before = snapshot(cls)
    cls.name, cls.homeroom_teacher = name, homeroom_teacher
    cls.save()
    record("class.update", actor=actor, school=cls.school, obj=cls, before=before, after=snapshot(cls))
    return cls


# --- subject plan --------------------------------------------------------------------------------------

@transaction.atomic
def set_subject_plan(actor, year: SchoolYear, *, grade: int, subject: Subject, kind: str,
                     periods_per_year: int, elective: bool) -> SubjectPlan:
    """Add a subject to a grade's plan, or change its kind, periods or elective flag."""
    permissions.require_manage_school(actor, year.school)
    if kind not in ("score", "comment"):
        raise ActionError({"kind": "Hình thức đánh giá phải là 'score' (điểm số) hoặc 'comment' (nhận xét)."})
    if not 1 <= periods_per_year <= 350:
        raise ActionError({"periods_per_year": "Số tiết/năm phải từ 1 đến 350."})
    if grade not in (6, 7, 8, 9):
        raise ActionError({"grade": "Khối phải là 6, 7, 8 hoặc 9."})
    plan = SubjectPlan.objects.select_for_update().filter(year=year, grade=grade, subject=subject).first()
    before = snapshot(plan) if plan else None
    if plan is None:
        plan = SubjectPlan(school=year.school, year=year, grade=grade, subject=subject, order=subject.order)
    plan.kind, plan.periods_per_year, plan.elective = kind, periods_per_year, elective
    plan.save()
    record("subject_plan.set", actor=actor, school=year.school, obj=plan, before=before, after=snapshot(plan))
    return plan


@transaction.atomic
def remove_subject_plan(actor, plan: SubjectPlan) -> None:
    permissions.require_manage_school(actor, plan.school)
    if TeachingAssignment.objects.filter(school_class__year=plan.year_id, school_class__grade=plan.grade,
                                         subject=plan.subject_id).exists():
        raise ActionError("Môn này đã được phân công giảng dạy; hãy xoá phân công trước.")
    before = snapshot(plan)
    record("subject_plan.remove", actor=actor, school=plan.school, obj=plan, before=before)
    plan.delete()


# --- teaching assignments ------------------------------------------------------------------------------

@transaction.atomic
def assign_teacher(actor, school_class: SchoolClass, *, subject: Subject, semester: int, teacher: Staff
                   ) -> TeachingAssignment:
    permissions.require_manage_school(actor, school_class.school)
    if teacher.school_id != school_class.school_id:
        raise ActionError({"teacher": "Giáo viên phải là cán bộ của trường."})
    if semester not in (1, 2):
        raise ActionError({"semester": "Học kì phải là 1 hoặc 2."})
    if not SubjectPlan.objects.filter(year=school_class.year_id, grade=school_class.grade, subject=subject).exists():
        raise ActionError({"subject": f"Môn {subject.name} không có trong kế hoạch của khối {school_class.grade}."})
    try:
        with transaction.atomic():
            a = TeachingAssignment.objects.create(school=school_class.school, school_class=school_class,
                                                  subject=subject, semester=semester, teacher=teacher)
    except IntegrityError:
        raise ActionError(f"{teacher.full_name} đã được phân công môn {subject.name} lớp {school_class.name} "
                          f"học kì {semester}.") from None
    record("assignment.create", actor=actor, school=school_class.school, obj=a, after=snapshot(a))
    return a


@transaction.atomic
def unassign_teacher(actor, assignment: TeachingAssignment) -> None:
    permissions.require_manage_school(actor, assignment.school)
    record("assignment.delete", actor=actor, school=assignment.school, obj=assignment, before=snapshot(assignment))
    assignment.delete()


# --- accounts ------------------------------------------------------------------------------------------

@transaction.atomic
def change_password(actor, *, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password):
        raise ActionError({"old_password": "Mật khẩu hiện tại không đúng."})
    try:
        password_validation.validate_password(new_password, actor)
    except ValidationError as exc:
        raise ActionError({"new_password": exc.messages}) from exc
    actor.set_password(new_password)
    actor.save(update_fields=["password"])
    record("account.change_password", actor=actor, obj=actor, object_repr=actor.get_username())


def login_locked_until(username: str) -> dt.datetime | None:
    row = LoginThrottle.objects.filter(username=username.lower()).first()
    if row and row.locked_until and row.locked_until > timezone.now():
        return row.locked_until
    return None


@transaction.atomic
def register_failed_login(username: str, *, max_failures: int, lock_seconds: int) -> LoginThrottle:
    row, _ = LoginThrottle.objects.select_for_update().get_or_create(username=username.lower())
    row.failures += 1
    locked = row.failures >= max_failures
    if locked:
        row.locked_until = timezone.now() + dt.timedelta(seconds=lock_seconds)
        row.failures = 0
    row.save()
    record("account.login_failed", object_type="auth.user", object_repr=username[:150],
           extra={"locked": locked})
    return row


@transaction.atomic
def register_login(user) -> None:
    LoginThrottle.objects.filter(username=user.get_username().lower()).delete()
    record("account.login", actor=user, obj=user, object_repr=user.get_username())
