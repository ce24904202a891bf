"""Who may do what with học bạ số, per object. Actions and selectors call these; templates only mirror them."""

from __future__ import annotations

from hocba.school.models import Role, StudentAccess
from hocba.school.permissions import can_read_school, can_view_class, can_view_student, deny, principal_of

PREPARERS = {Role.SCHOOL_ADMIN, Role.PRINCIPAL, Role.VICE_PRINCIPAL, Role.ACADEMIC_STAFF}


def can_prepare(user, school) -> bool:
    """Generate records, make a new version, cancel an unissued one: leadership, school admin, academic staff."""
    p = principal_of(user)
    return p.is_system_admin or bool(p.roles_in(school) & PREPARERS)


def require_prepare(user, school) -> None:
    if not can_prepare(user, school):
        deny("Chỉ ban giám hiệu, quản trị trường hoặc nhân viên học vụ được tạo học bạ số.")


def can_seal(user, school) -> bool:
    """The seal is the school's: its principal or its school admin triggers it (never a system admin)."""
    return bool(principal_of(user).roles_in(school) & {Role.PRINCIPAL, Role.SCHOOL_ADMIN})


def require_seal(user, school) -> None:
    if not can_seal(user, school):
        deny("Chỉ hiệu trưởng hoặc quản trị trường được đóng con dấu số của trường để phát hành học bạ.")


def can_revoke(user, school) -> bool:
    return Role.PRINCIPAL in principal_of(user).roles_in(school)


def require_revoke(user, school) -> None:
    if not can_revoke(user, school):
        deny("Chỉ hiệu trưởng được thu hồi học bạ đã phát hành.")


def signer_roles(kind: str) -> set[str]:
    return {"gvbm": {Role.TEACHER}, "gvcn": {Role.TEACHER},
            "leader": {Role.PRINCIPAL, Role.VICE_PRINCIPAL}}.get(kind, set())


def require_personal_signer(user, school, kind: str):
    """The user's staff record, if they may sign steps of ``kind`` in ``school`` (their own steps only)."""
    p = principal_of(user)
    if p.staff is None or p.staff.school_id != school.pk or not (p.roles_in(school) & signer_roles(kind)):
        deny("Bạn không có chữ ký nào cần thực hiện ở bước này.")
    return p.staff


def can_view_class_records(user, school_class) -> bool:
    return can_view_class(user, school_class)


def require_view_class_records(user, school_class) -> None:
    if not can_view_class_records(user, school_class):
        deny(f"Bạn không được phân công ở lớp {school_class.name}, nên không xem được học bạ của lớp.")


def is_family_of(user, student) -> bool:
    return user.is_authenticated and StudentAccess.objects.filter(user=user, student=student).exists()


def can_view_record(user, record) -> bool:
    """Staff of the school who see the class; a teacher who signs it; the student and their parents once the
    record was issued."""
    if can_read_school(user, record.school) or can_view_class(user, record.school_class):
        return True
    return record.is_final and is_family_of(user, record.student)


def require_view_record(user, record) -> None:
    if not can_view_record(user, record):
        deny("Bạn chỉ được xem học bạ của học sinh mà bạn phụ trách, hoặc của chính em/con mình.")


def can_view_received(user, received) -> bool:
    """A year received from another school (``interop.ReceivedRecord``): whoever may see the student it was
    received for — the receiving school's staff who see the student, the student and their parents."""
    return can_view_student(user, received.student)


def require_view_received(user, received) -> None:
    if not can_view_received(user, received):
        deny("Bạn chỉ được xem học bạ của học sinh mà bạn phụ trách, hoặc của chính em/con mình.")


def can_view_registry(user, school) -> bool:
    return can_read_school(user, school)


def require_view_registry(user, school) -> None:
    if not can_view_registry(user, school):
        deny("Chỉ ban giám hiệu, quản trị trường và nhân viên học vụ được xem sổ đăng ký học bạ số.")
