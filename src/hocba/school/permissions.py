"""Who may do what, per object. Actions and selectors call these; templates only mirror them.

A denial raises ``PermissionDenied`` with a Vietnamese message that the refusal page shows.
"""

from __future__ import annotations

from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from .models import Membership, Role, School, SchoolClass, Staff, Student, StudentAccess, TeachingAssignment

LEADERSHIP = {Role.PRINCIPAL, Role.VICE_PRINCIPAL}
SCHOOL_WIDE_READ = {Role.SCHOOL_ADMIN, Role.PRINCIPAL, Role.VICE_PRINCIPAL, Role.ACADEMIC_STAFF}


class Principal:
    """What the current user is, computed once per request (``request.hocba``)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def memberships(self) -> list[Membership]:
        if not self.user.is_authenticated:
            return []
        return list(Membership.objects.filter(user=self.user).select_related("school", "division", "department"))

    @cached_property
    def roles(self) -> set[str]:
        return {m.role for m in self.memberships}

    @cached_property
    def staff(self) -> Staff | None:
        if not self.user.is_authenticated:
            return None
        return Staff.objects.filter(user=self.user).select_related("school").first()

    @property
    def is_system_admin(self) -> bool:
        return Role.SYSTEM_ADMIN in self.roles

    def roles_in(self, school: School | int) -> set[str]:
        school_id = school if isinstance(school, int) else school.pk
        return {m.role for m in self.memberships if m.school_id == school_id}

    @cached_property
    def schools(self) -> list[School]:
        seen: dict[int, School] = {}
        for m in self.memberships:
            if m.school_id:
                seen[m.school_id] = m.school
        return list(seen.values())

    @property
    def primary_role(self) -> str | None:
        order = [Role.SYSTEM_ADMIN, Role.PRINCIPAL, Role.VICE_PRINCIPAL, Role.SCHOOL_ADMIN, Role.ACADEMIC_STAFF,
                 Role.TEACHER, Role.DISTRICT, Role.PARENT, Role.STUDENT]
        for role in order:
            if role in self.roles:
                return role
        return None


def principal_of(user) -> Principal:
    cached = getattr(user, "_hocba_principal", None)
    if cached is None:
        cached = Principal(user)
        try:
            user._hocba_principal = cached
        except AttributeError:
            pass
    return cached


def deny(message: str = "Bạn không có quyền thực hiện thao tác này."):
    raise PermissionDenied(message)


# --- schools -------------------------------------------------------------------------------------------

def can_manage_school(user, school: School) -> bool:
    """Years, classes, subject plans, assignments, roster import: the school admin and the principal."""
    p = principal_of(user)
    return p.is_system_admin or bool(p.roles_in(school) & {Role.SCHOOL_ADMIN, Role.PRINCIPAL})


def require_manage_school(user, school: School) -> None:
    if not can_manage_school(user, school):
        deny("Chỉ quản trị trường hoặc hiệu trưởng của trường này được thay đổi dữ liệu này.")


def can_read_school(user, school: School) -> bool:
    """Everything of a school (classes, students): its leadership, admin and academic staff."""
    p = principal_of(user)
    return p.is_system_admin or bool(p.roles_in(school) & SCHOOL_WIDE_READ)


def can_view_statistics(user, school: School) -> bool:
    """Aggregate figures only: the school's own staff and the Phòng/Sở above it."""
    p = principal_of(user)
    if can_read_school(user, school) or Role.TEACHER in p.roles_in(school):
        return True
    for m in p.memberships:
        if m.role != Role.DISTRICT:
            continue
        if m.division_id and m.division_id == school.division_id:
            return True
        if m.department_id and m.department_id == school.department_id and not m.division_id:
            return True
    return False


def statistics_schools(user) -> QuerySet[School]:
    p = principal_of(user)
    if p.is_system_admin:
        return School.objects.all()
    staff_roles = SCHOOL_WIDE_READ | {Role.TEACHER}
    q = Q(pk__in=[m.school_id for m in p.memberships if m.school_id and m.role in staff_roles])
    for m in p.memberships:
        if m.role == Role.DISTRICT:
            q |= Q(division_id=m.division_id) if m.division_id else Q(department_id=m.department_id)
    return School.objects.filter(q).distinct()


# --- classes -------------------------------------------------------------------------------------------

def can_view_class(user, school_class: SchoolClass) -> bool:
    """Leadership and academic staff of the school; the class's GVCN; a teacher assigned to the class."""
    if can_read_school(user, school_class.school):
        return True
    p = principal_of(user)
    if Role.TEACHER not in p.roles_in(school_class.school_id) or p.staff is None:
        return False
    if school_class.homeroom_teacher_id == p.staff.pk:
        return True
    return TeachingAssignment.objects.filter(school_class=school_class, teacher=p.staff).exists()


def require_view_class(user, school_class: SchoolClass) -> None:
    if not can_view_class(user, school_class):
        deny(f"Bạn không được phân công giảng dạy hoặc chủ nhiệm lớp {school_class.name}, "
             "nên không được xem lớp này.")


def visible_classes(user, year=None) -> QuerySet[SchoolClass]:
    p = principal_of(user)
    qs = SchoolClass.objects.select_related("year", "homeroom_teacher")
    if year is not None:
        qs = qs.filter(year=year)
    if p.is_system_admin:
        return qs
    wide = [m.school_id for m in p.memberships if m.school_id and m.role in SCHOOL_WIDE_READ]
    q = Q(school_id__in=wide)
    if p.staff is not None and Role.TEACHER in p.roles:
        q |= Q(homeroom_teacher=p.staff) | Q(assignments__teacher=p.staff)
    return qs.filter(q).distinct()


# --- students ------------------------------------------------------------------------------------------

def can_view_student(user, student: Student) -> bool:
    if can_read_school(user, student.school):
        return True
    if StudentAccess.objects.filter(user=user, student=student).exists() if user.is_authenticated else False:
        return True
    p = principal_of(user)
    if p.staff is None or Role.TEACHER not in p.roles_in(student.school_id):
        return False
    return SchoolClass.objects.filter(
        Q(homeroom_teacher=p.staff) | Q(assignments__teacher=p.staff), enrolments__student=student
    ).exists()


def require_view_student(user, student: Student) -> None:
    if not can_view_student(user, student):
        deny("Bạn chỉ được xem thông tin của học sinh mà bạn phụ trách.")


def own_students(user) -> QuerySet[Student]:
    """For parents and students: the children they may see."""
    if not user.is_authenticated:
        return Student.objects.none()
    return Student.objects.filter(pk__in=StudentAccess.objects.filter(user=user).values("student_id"))
