"""Every change to the grade book: one transaction each, permission checked, audit event appended."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction
from django.utils import timezone

from hocba.audit.log import record
from hocba.school.actions import ActionError
from hocba.school.models import Enrolment, SchoolClass, Subject, SubjectPlan

from . import permissions
from .models import CellChange, ClassSignoff, ColumnSignoff, SubjectRow
from .values import CellValueError, canonical_cell

ACTIVE_STATUSES = ("studying", "transferred_in")


@dataclasses.dataclass(frozen=True)
class CellEdit:
    """One cell as the client saw it (``old``) and as it wants it (``new``)."""

    student_id: int
    slot: str  # tx1..txN, gk, ck, comment
    old: str
    new: str
    absent: bool = False  # mark a missed periodic assessment (gk/ck/tx) as absent, awaiting a make-up
    makeup: bool = False  # the new value is a make-up assessment (kiểm tra bù)
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Conflict:
    student_id: int
    slot: str
    current: str
    updated_by: str
    updated_at: dt.datetime | None


class StaleEdit(ActionError):
    """Somebody saved a newer value first; nothing of this save was written."""

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = conflicts
        first = conflicts[0]
        super().__init__(f"Ô {first.slot} của học sinh #{first.student_id} đã được {first.updated_by or 'người khác'} "
                         f"sửa thành '{first.current}' trước khi bạn lưu. Dữ liệu của bạn chưa được lưu; "
                         "vui lòng xem giá trị mới rồi nhập lại.")


@dataclasses.dataclass(frozen=True)
class CellError:
    student_id: int
    slot: str
    value: str
    message: str


class InvalidCells(ActionError):
    def __init__(self, errors: list[CellError]):
        self.errors = errors
        super().__init__([f"{e.slot} (học sinh #{e.student_id}): {e.message}" for e in errors])


@dataclasses.dataclass(frozen=True)
class SaveResult:
    rows: dict[int, SubjectRow]  # student_id -> row after the save
    changed: int


def column_plan(school_class: SchoolClass, subject: Subject) -> SubjectPlan:
    plan = SubjectPlan.objects.filter(year=school_class.year_id, grade=school_class.grade, subject=subject).first()
    if plan is None:
        raise ActionError(f"Môn {subject.name} không có trong kế hoạch giáo dục khối {school_class.grade}.")
    return plan


def column_state(school_class: SchoolClass, subject: Subject, semester: int) -> ColumnSignoff | None:
    return ColumnSignoff.objects.filter(school_class=school_class, subject=subject, semester=semester).first()


def _class_period_released(school_class: SchoolClass, semester: int) -> bool:
    return ClassSignoff.objects.filter(school_class=school_class, period__in=(f"hk{semester}", "year"),
                                       state=ClassSignoff.RELEASED).exists()


def ensure_rows(school_class: SchoolClass, subject: Subject, semester: int, tx_count: int) -> None:
    """Create the empty rows of a column once, so concurrent first saves never race on creation."""
    student_ids = list(Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
                       .values_list("student_id", flat=True))
    SubjectRow.objects.bulk_create(
        [SubjectRow(school_id=school_class.school_id, year_id=school_class.year_id, school_class=school_class,
                    student_id=sid, subject=subject, semester=semester, tx=[""] * tx_count) for sid in student_ids],
        ignore_conflicts=True)


@transaction.atomic
def save_cells(actor, school_class: SchoolClass, subject: Subject, semester: int, edits: list[CellEdit]
               ) -> SaveResult:
    """Enter or change assessments of one column. All edits are saved or none is.

    Optimistic concurrency per cell: each edit carries the value the client last saw; if the stored value
    differs, ``StaleEdit`` names the newer value and nothing is written.
    """
    permissions.require_enter_column(actor, school_class, subject.pk, semester)
    plan = column_plan(school_class, subject)
    tx_count = plan.regular_assessments
    column = column_state(school_class, subject, semester)
    if _class_period_released(school_class, semester):
        raise ActionError("Sổ theo dõi của lớp đã được ban hành; không thể sửa điểm.")
    if column is not None and column.state == ColumnSignoff.CONFIRMED:
        raise ActionError("Cột điểm đã được xác nhận và khoá. Muốn sửa, hãy gửi đề nghị mở khoá kèm lí do "
                          "để hiệu trưởng duyệt.")
    correction = column is not None and column.state == ColumnSignoff.UNLOCKED
    ensure_rows(school_class, subject, semester, tx_count)
    student_ids = {e.student_id for e in edits}
    rows = {r.student_id: r for r in SubjectRow.objects.select_for_update()
            .filter(school_class=school_class, subject=subject, semester=semester, student_id__in=student_ids)
            .select_related("updated_by")}

    errors: list[CellError] = []
    conflicts: list[Conflict] = []
    valid_slots = {f"tx{i}" for i in range(1, tx_count + 1)} | {"gk", "ck", "comment"}
    normalised: list[tuple[CellEdit, str]] = []
    for e in edits:
        row = rows.get(e.student_id)
        if row is None:
            errors.append(CellError(e.student_id, e.slot, e.new, "Học sinh không thuộc lớp này."))
            continue
        if e.slot not in valid_slots:
            errors.append(CellError(e.student_id, e.slot, e.new,
                                    f"Cột không hợp lệ; môn này có {tx_count} ĐĐGtx (tx1–tx{tx_count}), gk, ck, comment."))
            continue
        if e.absent and e.slot == "comment":
            errors.append(CellError(e.student_id, e.slot, e.new, "Chỉ đánh dấu vắng cho bài đánh giá."))
            continue
        try:
            new = "" if e.absent else canonical_cell(plan.kind, e.slot, e.new)
        except CellValueError as exc:
            errors.append(CellError(e.student_id, e.slot, e.new, str(exc)))
            continue
        if correction and not e.reason.strip():
            errors.append(CellError(e.student_id, e.slot, e.new, "Sửa điểm sau khi mở khoá phải ghi lí do."))
            continue
        current = row.cell(e.slot)
        if current != (e.old or "").strip() and current != new:
            conflicts.append(Conflict(e.student_id, e.slot, current,
                                      row.updated_by.get_username() if row.updated_by else "", row.updated_at))
            continue
        normalised.append((e, new))
    if errors:
        raise InvalidCells(errors)
    if conflicts:
        raise StaleEdit(conflicts)

    now = timezone.now()
    changes: list[CellChange] = []
    touched: dict[int, SubjectRow] = {}
    for e, new in normalised:
        row = rows[e.student_id]
        old = row.cell(e.slot)
        absent_before = e.slot in row.absent
        if old == new and absent_before == e.absent:
            continue
        if e.slot.startswith("tx"):
            tx = list(row.tx) + [""] * max(0, tx_count - len(row.tx))
            tx[int(e.slot[2:]) - 1] = new
            row.tx = tx
        else:
            setattr(row, e.slot, new)
        absent = [s for s in row.absent if s != e.slot]
        if e.absent:
            absent.append(e.slot)
        is_makeup = bool(e.makeup or (absent_before and new and not e.absent))
        if is_makeup:
            row.makeups = {**row.makeups, e.slot: {"by": actor.get_username(), "at": now.isoformat()}}
        row.absent = absent
        changes.append(CellChange(row=row, slot=e.slot, old_value=("vắng" if absent_before else old),
                                  new_value=("vắng" if e.absent else new), reason=e.reason.strip(),
                                  is_correction=correction, is_makeup=is_makeup, changed_by=actor,
                                  changed_at=now))
        touched[row.pk] = row
    for row in touched.values():
        row.version += 1
        row.updated_by, row.updated_at = actor, now
    SubjectRow.objects.bulk_update(list(touched.values()),
                                   ["tx", "gk", "ck", "comment", "absent", "makeups", "version", "updated_by",
                                    "updated_at"])
    CellChange.objects.bulk_create(changes)
    if changes:
        record("gradebook.save_cells", actor=actor, school=school_class.school, obj=school_class,
               object_repr=f"{school_class.name} – {subject.name} – HK{semester}",
               extra={"subject": subject.code, "semester": semester, "correction": correction,
                      "changes": [{"student": c.row.student_id, "slot": c.slot, "old": c.old_value,
                                   "new": c.new_value} for c in changes]})
    return SaveResult(rows=rows, changed=len(changes))
