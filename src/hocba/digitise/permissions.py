"""Who may do what with a digitisation, per object. Actions call these; templates only mirror them."""

from __future__ import annotations

from hocba.records import permissions as records_permissions
from hocba.school.models import Role
from hocba.school.permissions import can_read_school, deny, principal_of


def can_enter(user, school) -> bool:
    """Create, type in, attach the scan, review for teachers who left, submit: academic staff (and the
    others who prepare học bạ số: leadership, school admin)."""
    return records_permissions.can_prepare(user, school)


def require_enter(user, school) -> None:
    if not can_enter(user, school):
        deny("Chỉ nhân viên học vụ (hoặc ban giám hiệu, quản trị trường) được số hóa học bạ giấy.")


def _named_teacher(user, d) -> bool:
    staff = principal_of(user).staff
    if staff is None or staff.school_id != d.school_id:
        return False
    return d.homeroom_teacher_id == staff.pk or d.subjects.filter(teacher=staff).exists()


def can_view(user, d) -> bool:
    """Staff who see the whole school, and the teachers named on the entry (they review it)."""
    return can_read_school(user, d.school) or _named_teacher(user, d)


def require_view(user, d) -> None:
    if not can_view(user, d):
        deny("Bạn không được xem bản số hóa này (chỉ học vụ, ban giám hiệu và giáo viên có tên trong bản số hóa).")


def is_answerable(user, d) -> bool:
    """The principal chosen at submission, who signs for teachers who left and answers for it."""
    p = principal_of(user)
    return (d.answerable_id is not None and p.staff is not None and p.staff.pk == d.answerable_id
            and Role.PRINCIPAL in p.roles_in(d.school))


def require_answerable(user, d) -> None:
    if not is_answerable(user, d):
        deny("Chỉ hiệu trưởng chịu trách nhiệm bản số hóa này được ký thay giáo viên đã chuyển công tác và phát hành.")
