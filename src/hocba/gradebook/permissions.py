"""Who may read and write which part of the grade book, per object."""

from __future__ import annotations

from hocba.school.models import Role, SchoolClass, TeachingAssignment
from hocba.school.permissions import can_read_school, deny, principal_of


def can_enter_column(user, school_class: SchoolClass, subject_id: int, semester: int) -> bool:
    """Only the teacher(s) assigned to this class, subject and semester enter its assessments."""
    p = principal_of(user)
    if p.staff is None or Role.TEACHER not in p.roles_in(school_class.school_id):
        return False
    return TeachingAssignment.objects.filter(school_class=school_class, subject_id=subject_id,
                                             semester=semester, teacher=p.staff).exists()


def require_enter_column(user, school_class: SchoolClass, subject_id: int, semester: int) -> None:
    if not can_enter_column(user, school_class, subject_id, semester):
        deny(f"Bạn không được phân công môn này ở lớp {school_class.name} học kì {semester}, "
             "nên không được nhập điểm.")


def can_read_column(user, school_class: SchoolClass, subject_id: int, semester: int) -> bool:
    return can_read_school(user, school_class.school) or is_homeroom(user, school_class) or \
        can_enter_column(user, school_class, subject_id, semester)


def is_homeroom(user, school_class: SchoolClass) -> bool:
    p = principal_of(user)
    return p.staff is not None and school_class.homeroom_teacher_id == p.staff.pk and \
        Role.TEACHER in p.roles_in(school_class.school_id)


def require_homeroom(user, school_class: SchoolClass) -> None:
    if not is_homeroom(user, school_class):
        deny(f"Chỉ giáo viên chủ nhiệm lớp {school_class.name} được thực hiện thao tác này.")


def is_leadership(user, school) -> bool:
    p = principal_of(user)
    return p.is_system_admin or bool(p.roles_in(school) & {Role.PRINCIPAL, Role.VICE_PRINCIPAL})


def require_leadership(user, school) -> None:
    if not is_leadership(user, school):
        deny("Chỉ hiệu trưởng hoặc phó hiệu trưởng được thực hiện thao tác này.")


def is_principal(user, school) -> bool:
    """The principal (hiệu trưởng) of the school: reopening a released book and Điều 11 decisions."""
    return Role.PRINCIPAL in principal_of(user).roles_in(school)


def require_principal(user, school) -> None:
    if not is_principal(user, school):
        deny("Chỉ hiệu trưởng được thực hiện thao tác này.")


def can_view_class_results(user, school_class: SchoolClass) -> bool:
    """The class summary (every subject of every student): the GVCN and the school's leadership and
    academic staff. A subject teacher sees their own columns only."""
    return can_read_school(user, school_class.school) or is_homeroom(user, school_class)


def require_view_class_results(user, school_class: SchoolClass) -> None:
    if not can_view_class_results(user, school_class):
        deny(f"Chỉ giáo viên chủ nhiệm lớp {school_class.name} và ban giám hiệu được xem kết quả tổng hợp "
             "của lớp.")


def require_read_column(user, school_class: SchoolClass, subject_id: int, semester: int) -> None:
    if not can_read_column(user, school_class, subject_id, semester):
        deny(f"Bạn không được phân công môn này ở lớp {school_class.name}, nên không được xem điểm.")
