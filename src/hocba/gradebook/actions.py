"""Every change to the grade book: one transaction each, permission checked, audit event appended."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import unicodedata

from django.db import IntegrityError, transaction
from django.utils import timezone

from hocba.audit.log import record, snapshot
from hocba.identities.signoff import SignedSnapshot, sign_snapshot, signoff_required
from hocba.school import permissions as permissions_school
from hocba.school.actions import ActionError
from hocba.school.models import (
    Enrolment,
    SchoolClass,
    SchoolYear,
    Student,
    Subject,
    SubjectPlan,
    TeachingAssignment,
)
from hocba.school.permissions import principal_of

from . import permissions, results
from .models import (
    CellChange,
    ClassSignoff,
    ColumnSignoff,
    ConductRemark,
    Deadline,
    StudentSemester,
    StudentYear,
    SubjectRow,
    UnlockRequest,
)
from .results import PERIOD_SEMESTERS
from .values import CellValueError, canonical_cell, canonical_conduct

PERIOD_NAMES = {"hk1": "học kì I", "hk2": "học kì II", "year": "cả năm"}

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
    plan: SubjectPlan | None = None  # the column's plan (kind, ĐĐGtx count), with its subject
    column_state: str = ColumnSignoff.OPEN  # "open", or "unlocked" when the saves were corrections


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


def _canonical_old(kind: str, slot: str, old) -> str:
    """The value the client saw, in stored form, so that "8,5" and "8.5" compare equal."""
    try:
        return canonical_cell(kind, slot, old)
    except CellValueError:
        return str(old or "").strip()


def save_cells(actor, school_class: SchoolClass, subject: Subject, semester: int, edits: list[CellEdit]
               ) -> SaveResult:
    """Enter or change assessments of one column. All edits are saved or none is.

    Optimistic concurrency per cell: each edit carries the value the client last saw; if the stored value
    differs, ``StaleEdit`` names the newer value and nothing is written.

    Who may save and the column's plan are read before the transaction starts, so that the write
    transaction (which on SQLite holds the database's single write lock) is as short as it can be.
    """
    permissions.require_enter_column(actor, school_class, subject.pk, semester)
    plan = column_plan(school_class, subject)
    return _save_cells(actor, school_class, subject, semester, edits, plan)


@transaction.atomic
def _save_cells(actor, school_class: SchoolClass, subject: Subject, semester: int, edits: list[CellEdit],
                plan: SubjectPlan) -> SaveResult:
    tx_count = plan.regular_assessments
    student_ids = {e.student_id for e in edits}

    def locked_rows() -> dict[int, SubjectRow]:
        return {r.student_id: r for r in SubjectRow.objects.select_for_update(of=("self",))
                .filter(school_class=school_class, subject=subject, semester=semester, student_id__in=student_ids)
                .select_related("updated_by")}

    rows = locked_rows()
    if not student_ids <= rows.keys():
        ensure_rows(school_class, subject, semester, tx_count)
        rows = locked_rows()
    # The column and class states are read only once the rows are locked: a confirmation (which locks
    # every row of the column) that committed while this save waited is seen, never overwritten.
    column = column_state(school_class, subject, semester)
    if _class_period_released(school_class, semester):
        raise ActionError("Sổ theo dõi của lớp đã được ban hành; không thể sửa điểm.")
    if column is not None and column.state == ColumnSignoff.CONFIRMED:
        raise ActionError("Cột điểm đã được xác nhận và khoá. Muốn sửa, hãy gửi đề nghị mở khoá kèm lí do "
                          "để hiệu trưởng duyệt.")
    correction = column is not None and column.state == ColumnSignoff.UNLOCKED

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
        if current != _canonical_old(plan.kind, e.slot, e.old) and current != new:
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
    fields = ["tx", "gk", "ck", "comment", "absent", "makeups", "version", "updated_by", "updated_at"]
    if len(touched) <= 3:  # the usual save of one cell: a plain UPDATE costs far less than bulk_update's CASE
        for row in touched.values():
            row.save(update_fields=fields)
    else:
        SubjectRow.objects.bulk_update(list(touched.values()), fields)
    CellChange.objects.bulk_create(changes)
    if changes:
        record("gradebook.save_cells", actor=actor, school=school_class.school, obj=school_class,
               object_repr=f"{school_class.name} – {subject.name} – HK{semester}",
               extra={"subject": subject.code, "semester": semester, "correction": correction,
                      "changes": [{"student": c.row.student_id, "slot": c.slot, "old": c.old_value,
                                   "new": c.new_value} for c in changes]})
    plan.subject = subject
    return SaveResult(rows=rows, changed=len(changes), plan=plan,
                      column_state=ColumnSignoff.UNLOCKED if correction else ColumnSignoff.OPEN)


# --- sign-off: rà soát → xác thực → ban hành ------------------------------------------------------------

def period_of(semester: int) -> str:
    return f"hk{semester}"


def _check_period(period: str) -> tuple[int, ...]:
    if period not in PERIOD_SEMESTERS:
        raise ActionError({"period": "Kì phải là hk1 (học kì I), hk2 (học kì II) hoặc year (cả năm)."})
    return PERIOD_SEMESTERS[period]


def _check_semester(semester: int) -> None:
    if semester not in (1, 2):
        raise ActionError({"semester": "Học kì phải là 1 hoặc 2."})


def _class_signoffs_locking(school_class: SchoolClass, semester: int) -> list[ClassSignoff]:
    """The class sign-offs that freeze a semester's data: the semester's own and the year's, once the
    GVCN has confirmed them or the principal has released them."""
    return list(ClassSignoff.objects.filter(school_class=school_class, period__in=(period_of(semester), "year"))
                .exclude(state=ClassSignoff.OPEN))


def _active_students(school_class: SchoolClass) -> list[Student]:
    return [e.student for e in Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
            .select_related("student").order_by("student__sort_key", "student_id")]


def _require_active_student(school_class: SchoolClass, student: Student) -> None:
    if not Enrolment.objects.filter(school_class=school_class, student=student,
                                    status__in=ACTIVE_STATUSES).exists():
        raise ActionError({"student": f"Học sinh {student.full_name} không đang học ở lớp {school_class.name}."})


def _names(items: list[str], limit: int = 10) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; và {len(items) - limit} học sinh khác" if len(items) > limit else "")


def canonical_json(data) -> bytes:
    """The canonical JSON of ``data`` (sorted keys, no spaces, UTF-8): what a sign-off hashes and signs."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def canonical_sha256(data) -> str:
    """SHA-256 of the canonical JSON of ``data``."""
    return hashlib.sha256(canonical_json(data)).hexdigest()


def _signed_snapshot(actor, what: str, prepare) -> SignedSnapshot | None:
    """When sign-off signing is on, reads the snapshot (``prepare()``, its own short transaction: every check
    of the action runs, nothing is confirmed) and signs it with ``actor``'s key outside any lock: the
    precheck asks OCSP, the timestamp comes from the TSA, a remote service may wait for the holder."""
    if not signoff_required():
        return None
    return sign_snapshot(actor, canonical_json(prepare()), what=what)


def _store_signature(target, snapshot_data, signed: SignedSnapshot | None, what: str) -> dict:
    """Puts ``signed`` on the sign-off row if it signed exactly ``snapshot_data``; the audit fields."""
    if signed is None:
        target.signature, target.signed_snapshot, target.signed_at, target.signing_identity_id = None, "", None, None
        return {"signed": False}
    if signed.sha256 != canonical_sha256(snapshot_data):
        raise ActionError(f"{what[:1].upper()}{what[1:]} vừa thay đổi trong lúc ký; hãy xác nhận lại.")
    target.signature, target.signed_snapshot = signed.signature, signed.data.decode("utf-8")
    target.signed_at, target.signing_identity_id = signed.signed_at, signed.identity_id
    return {"signed": True, "signing_identity": signed.identity_id,
            "signature_sha256": hashlib.sha256(signed.signature).hexdigest()}


def column_snapshot(school_class: SchoolClass, subject: Subject, semester: int, rows: list[SubjectRow]) -> dict:
    """What a subject teacher confirms: every cell of the column, per student, in a canonical form."""
    return {
        "school": school_class.school_id, "year": school_class.year_id, "class": school_class.name,
        "subject": subject.code, "semester": semester,
        "rows": [{"student": r.student_id, "tx": list(r.tx), "gk": r.gk, "ck": r.ck,
                  "absent": sorted(r.absent), "comment": r.comment}
                 for r in sorted(rows, key=lambda r: r.student_id)],
    }


def confirm_column(actor, school_class: SchoolClass, subject: Subject, semester: int) -> ColumnSignoff:
    """The subject teacher confirms (xác nhận) their column: every required cell entered, the column's
    SHA-256 kept, the column locked. Confirming an unlocked column locks it again.

    With sign-off signing on (``HOCBA_SIGN_OFF_REQUIRED``) the confirmation is the teacher's digital signature
    over the column's canonical snapshot, refused when they have no usable certificate."""
    what = f"cột {subject.name} học kì {semester} lớp {school_class.name}"
    signed = _signed_snapshot(actor, what, lambda: _confirm_column(actor, school_class, subject, semester,
                                                                   prepare=True))
    return _confirm_column(actor, school_class, subject, semester, signed=signed, what=what)


@transaction.atomic
def _confirm_column(actor, school_class: SchoolClass, subject: Subject, semester: int, *,
                    signed: SignedSnapshot | None = None, prepare: bool = False, what: str = ""):
    _check_semester(semester)
    permissions.require_enter_column(actor, school_class, subject.pk, semester)
    plan = column_plan(school_class, subject)
    tx_count = plan.regular_assessments
    ensure_rows(school_class, subject, semester, tx_count)
    students = {s.pk: s for s in _active_students(school_class)}
    # Locking every row of the column first: a save under way finishes before the snapshot, and a save
    # that comes after sees the column confirmed (save_cells reads the state once it holds its rows).
    rows = list(SubjectRow.objects.select_for_update()
                .filter(school_class=school_class, subject=subject, semester=semester, student_id__in=students))
    signoff, _ = ColumnSignoff.objects.select_for_update().get_or_create(
        school_class=school_class, subject=subject, semester=semester,
        defaults={"school_id": school_class.school_id})
    if _class_period_released(school_class, semester):
        raise ActionError("Sổ theo dõi của lớp đã được ban hành; không thể xác nhận lại cột điểm.")
    if signoff.state == ColumnSignoff.CONFIRMED:
        raise ActionError(f"Cột {subject.name} học kì {semester} lớp {school_class.name} đã được xác nhận.")
    missing = []
    for row in sorted(rows, key=lambda r: (students[r.student_id].sort_key, r.student_id)):
        student = students[row.student_id]
        if student.disabled_not_assessed:  # Điều 11: assessed on an individual plan, cells may stay empty
            continue
        slots = results.missing_slots(row, tx_count)
        if slots:
            missing.append(f"{student.full_name} ({', '.join(slots)})")
    if missing:
        raise ActionError(f"Chưa thể xác nhận: còn {len(missing)} học sinh chưa có đủ đánh giá — "
                          f"{_names(missing)}. Nhập điểm, hoặc đánh dấu vắng nếu học sinh vắng kiểm tra.")
    data = column_snapshot(school_class, subject, semester, rows)
    if prepare:
        return data
    before = signoff.state
    now = timezone.now()
    signature = _store_signature(signoff, data, signed, what)
    signoff.snapshot_sha256 = canonical_sha256(data)
    signoff.state, signoff.confirmed_by, signoff.confirmed_at = ColumnSignoff.CONFIRMED, actor, now
    signoff.save()
    record("gradebook.confirm_column", actor=actor, school=school_class.school, obj=signoff,
           object_repr=f"{school_class.name} – {subject.name} – HK{semester}",
           extra={"subject": subject.code, "semester": semester, "previous_state": before,
                  "students": len(rows), "snapshot_sha256": signoff.snapshot_sha256, **signature})
    return signoff


@transaction.atomic
def request_unlock(actor, school_class: SchoolClass, subject: Subject, semester: int, reason: str) -> UnlockRequest:
    """The subject teacher asks a school leader to unlock a confirmed column, saying why."""
    _check_semester(semester)
    permissions.require_enter_column(actor, school_class, subject.pk, semester)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError({"reason": "Hãy ghi lí do cần sửa điểm sau khi đã xác nhận."})
    if len(reason) > 500:
        raise ActionError({"reason": "Lí do dài quá 500 kí tự."})
    column = ColumnSignoff.objects.select_for_update().filter(
        school_class=school_class, subject=subject, semester=semester).first()
    if column is None or column.state != ColumnSignoff.CONFIRMED:
        raise ActionError("Chỉ đề nghị mở khoá được cột điểm đã xác nhận; cột này vẫn đang được sửa.")
    if _class_period_released(school_class, semester):
        raise ActionError("Sổ theo dõi của lớp đã được ban hành. Hiệu trưởng cần mở lại sổ trước khi "
                          "mở khoá cột điểm.")
    if UnlockRequest.objects.filter(column=column, state=UnlockRequest.PENDING).exists():
        raise ActionError("Cột điểm này đã có một đề nghị mở khoá đang chờ duyệt.")
    request = UnlockRequest.objects.create(school_id=school_class.school_id, column=column, reason=reason,
                                           requested_by=actor, requested_at=timezone.now())
    record("gradebook.request_unlock", actor=actor, school=school_class.school, obj=request,
           object_repr=f"{school_class.name} – {subject.name} – HK{semester}",
           extra={"subject": subject.code, "semester": semester, "reason": reason})
    return request


@transaction.atomic
def decide_unlock(actor, unlock_request: UnlockRequest, *, approve: bool, note: str = "") -> UnlockRequest:
    """The principal or a vice-principal approves or rejects an unlock request. Approval unlocks the column:
    later saves are corrections, each with its reason, counted on the printed page; a GVCN confirmation
    of the class for that semester or the year goes back to "being reviewed"."""
    request = UnlockRequest.objects.select_for_update(of=("self",)).select_related(
        "column__school_class__school", "column__subject").get(pk=unlock_request.pk)
    column = request.column
    school_class = column.school_class
    permissions.require_leadership(actor, school_class.school)
    if request.requested_by_id == actor.pk:
        raise ActionError("Không thể tự duyệt đề nghị mở khoá của chính mình.")
    if request.state != UnlockRequest.PENDING:
        raise ActionError(f"Đề nghị này đã được xử lí ({request.get_state_display().lower()}).")
    note = (note or "").strip()
    if len(note) > 500:
        raise ActionError({"note": "Ghi chú dài quá 500 kí tự."})
    column = ColumnSignoff.objects.select_for_update().get(pk=column.pk)
    reopened: list[str] = []
    if approve:
        if _class_period_released(school_class, column.semester):
            raise ActionError("Sổ theo dõi của lớp đã được ban hành. Hiệu trưởng cần mở lại sổ trước khi "
                              "mở khoá cột điểm.")
        if column.state != ColumnSignoff.CONFIRMED:
            raise ActionError("Cột điểm không còn ở trạng thái đã xác nhận.")
        column.state = ColumnSignoff.UNLOCKED
        column.save(update_fields=["state"])
        for signoff in ClassSignoff.objects.select_for_update().filter(
                school_class=school_class, period__in=(period_of(column.semester), "year"),
                state=ClassSignoff.CONFIRMED):
            signoff.state, signoff.confirmed_by, signoff.confirmed_at = ClassSignoff.OPEN, None, None
            signoff.save(update_fields=["state", "confirmed_by", "confirmed_at"])
            reopened.append(signoff.period)
    request.state = UnlockRequest.APPROVED if approve else UnlockRequest.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save()
    record("gradebook.decide_unlock", actor=actor, school=school_class.school, obj=request,
           object_repr=f"{school_class.name} – {column.subject.name} – HK{column.semester}",
           extra={"subject": column.subject.code, "semester": column.semester, "approved": approve,
                  "note": note, "reason": request.reason, "class_signoffs_reopened": reopened})
    return request


def _required_columns(school_class: SchoolClass, semesters: tuple[int, ...]) -> list[tuple[SubjectPlan, int]]:
    """Every planned subject × semester of the period: the compulsory ones, and electives the class is
    assigned a teacher for."""
    plans = list(SubjectPlan.objects.filter(year_id=school_class.year_id, grade=school_class.grade)
                 .select_related("subject").order_by("order"))
    taught = set(TeachingAssignment.objects.filter(school_class=school_class, semester__in=semesters)
                 .values_list("subject_id", "semester"))
    return [(p, n) for n in semesters for p in plans if not p.elective or (p.subject_id, n) in taught]


def _lock_class_signoff(school_class: SchoolClass, period: str) -> ClassSignoff:
    signoff, _ = ClassSignoff.objects.select_for_update().get_or_create(
        school_class=school_class, period=period, defaults={"school_id": school_class.school_id})
    return signoff


def confirm_class(actor, school_class: SchoolClass, period: str) -> ClassSignoff:
    """The GVCN confirms (xác thực) the class book of a period: every planned column confirmed by its
    teacher, conduct set for every student.

    With sign-off signing on (``HOCBA_SIGN_OFF_REQUIRED``) the confirmation is the GVCN's digital signature
    over the class snapshot (the confirmed columns' hashes, conduct and absences)."""
    what = f"sổ {PERIOD_NAMES.get(period, period)} của lớp {school_class.name}"
    signed = _signed_snapshot(actor, what, lambda: _confirm_class(actor, school_class, period, prepare=True))
    return _confirm_class(actor, school_class, period, signed=signed, what=what)


@transaction.atomic
def _confirm_class(actor, school_class: SchoolClass, period: str, *, signed: SignedSnapshot | None = None,
                   prepare: bool = False, what: str = ""):
    semesters = _check_period(period)
    permissions.require_homeroom(actor, school_class)
    signoff = _lock_class_signoff(school_class, period)
    if signoff.state != ClassSignoff.OPEN:
        raise ActionError(f"Sổ {PERIOD_NAMES[period]} của lớp {school_class.name} đã "
                          f"{'được ban hành' if signoff.state == ClassSignoff.RELEASED else 'được xác thực'}.")
    required = _required_columns(school_class, semesters)
    columns = {(c.subject_id, c.semester): c for c in ColumnSignoff.objects.filter(
        school_class=school_class, semester__in=semesters)}
    unconfirmed = [f"{p.subject.name} HK{n}" for p, n in required
                   if columns.get((p.subject_id, n)) is None or columns[(p.subject_id, n)].state !=
                   ColumnSignoff.CONFIRMED]
    students = _active_students(school_class)
    records = {(r.student_id, r.semester): r for r in StudentSemester.objects.filter(
        year_id=school_class.year_id, student_id__in=[s.pk for s in students], semester__in=semesters)}
    no_conduct = [f"{s.full_name} (HK{n})" for n in semesters for s in students
                  if not s.disabled_not_assessed and not (records.get((s.pk, n)) and records[(s.pk, n)].conduct)]
    problems = []
    if unconfirmed:
        problems.append(f"các cột điểm chưa được giáo viên bộ môn xác nhận: {', '.join(unconfirmed)}")
    if no_conduct:
        problems.append(f"{len(no_conduct)} học sinh chưa có kết quả rèn luyện: {_names(no_conduct)}")
    if problems:
        raise ActionError(f"Chưa thể xác thực sổ {PERIOD_NAMES[period]}: " + "; ".join(problems) + ".")
    snapshot = {
        "class": school_class.pk, "period": period,
        "columns": {f"{p.subject.code}-{n}": columns[(p.subject_id, n)].snapshot_sha256 for p, n in required},
        "students": [{"student": s.pk, "semesters": {
            str(n): [records[(s.pk, n)].conduct, records[(s.pk, n)].absences_excused,
                     records[(s.pk, n)].absences_unexcused] if (s.pk, n) in records else None
            for n in semesters}} for s in students],
    }
    if prepare:
        return snapshot
    signature = _store_signature(signoff, snapshot, signed, what)
    signoff.snapshot_sha256 = canonical_sha256(snapshot)
    signoff.state, signoff.confirmed_by, signoff.confirmed_at = ClassSignoff.CONFIRMED, actor, timezone.now()
    signoff.save()
    record("gradebook.confirm_class", actor=actor, school=school_class.school, obj=signoff,
           object_repr=f"{school_class.name} – {PERIOD_NAMES[period]}",
           extra={"period": period, "columns": len(required), "students": len(students),
                  "snapshot_sha256": signoff.snapshot_sha256, **signature})
    return signoff


@transaction.atomic
def release_class(actor, school_class: SchoolClass, period: str) -> ClassSignoff:
    """The principal or a vice-principal releases (ban hành) the class book the GVCN confirmed; from then on
    nothing of that period changes until the principal reopens it."""
    _check_period(period)
    permissions.require_leadership(actor, school_class.school)
    signoff = _lock_class_signoff(school_class, period)
    if signoff.state == ClassSignoff.RELEASED:
        raise ActionError(f"Sổ {PERIOD_NAMES[period]} của lớp {school_class.name} đã được ban hành.")
    if signoff.state != ClassSignoff.CONFIRMED:
        raise ActionError(f"Giáo viên chủ nhiệm chưa xác thực sổ {PERIOD_NAMES[period]} của lớp "
                          f"{school_class.name}; chưa thể ban hành.")
    signoff.state, signoff.released_by, signoff.released_at = ClassSignoff.RELEASED, actor, timezone.now()
    signoff.save()
    record("gradebook.release_class", actor=actor, school=school_class.school, obj=signoff,
           object_repr=f"{school_class.name} – {PERIOD_NAMES[period]}",
           extra={"period": period, "snapshot_sha256": signoff.snapshot_sha256})
    return signoff


@transaction.atomic
def reopen_class(actor, school_class: SchoolClass, period: str, reason: str) -> ClassSignoff:
    """The principal reopens a confirmed or released class book, saying why. The teachers' columns stay
    confirmed: changing a score still takes an unlock request."""
    _check_period(period)
    permissions.require_principal(actor, school_class.school)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError({"reason": "Hãy ghi lí do mở lại sổ."})
    if len(reason) > 500:
        raise ActionError({"reason": "Lí do dài quá 500 kí tự."})
    signoff = _lock_class_signoff(school_class, period)
    if signoff.state == ClassSignoff.OPEN:
        raise ActionError(f"Sổ {PERIOD_NAMES[period]} của lớp {school_class.name} đang mở.")
    before = snapshot(signoff, ["state", "confirmed_by", "confirmed_at", "released_by", "released_at",
                                "snapshot_sha256"])
    signoff.state = ClassSignoff.OPEN
    signoff.confirmed_by = signoff.confirmed_at = signoff.released_by = signoff.released_at = None
    signoff.save()
    record("gradebook.reopen_class", actor=actor, school=school_class.school, obj=signoff,
           object_repr=f"{school_class.name} – {PERIOD_NAMES[period]}", before=before,
           after=snapshot(signoff, ["state"]), extra={"period": period, "reason": reason})
    return signoff


# --- what the GVCN records -------------------------------------------------------------------------------

class StaleRecord(ActionError):
    """Somebody saved this record first (its version moved on); nothing was written. ``current`` holds the
    newer values so the page can show them."""

    def __init__(self, current: dict, version: int, updated_by: str, updated_at: dt.datetime | None):
        self.current, self.version, self.updated_by, self.updated_at = current, version, updated_by, updated_at
        super().__init__(f"Dữ liệu đã được {updated_by or 'người khác'} sửa trước khi bạn lưu (phiên bản "
                         f"{version}). Dữ liệu của bạn chưa được lưu; vui lòng xem giá trị mới rồi nhập lại.")


SEMESTER_FIELDS = ["conduct", "absences_excused", "absences_unexcused"]
YEAR_FIELDS = ["gvcn_comment", "summer_conduct", "summer_retest", "certificates", "contests"]
MAX_ABSENCES_ENTERED = 200


def _lock_record(model, expected_version: int, fields: list[str], **key):
    """The record under its row lock, or an unsaved one with version 0 when none exists yet; refuses a
    stale ``expected_version`` with the newer values."""
    current = model.objects.select_for_update(of=("self",)).filter(**key).select_related("updated_by").first()
    if current is None:
        current = model(**key, version=0)
    if expected_version != current.version:
        raise StaleRecord({f: getattr(current, f) for f in fields}, current.version,
                          current.updated_by.get_username() if current.updated_by_id else "", current.updated_at)
    return current


def _store_record(model, obj, actor, fields: list[str], key: dict):
    """Save a changed record with its version moved on. A first save that loses the race to create the
    record reports the winner's values like any stale edit."""
    obj.version += 1
    obj.updated_by, obj.updated_at = actor, timezone.now()
    if obj.pk is not None:
        obj.save()
        return obj
    try:
        with transaction.atomic():
            obj.save(force_insert=True)
    except IntegrityError:
        winner = model.objects.select_related("updated_by").get(**key)
        raise StaleRecord({f: getattr(winner, f) for f in fields}, winner.version,
                          winner.updated_by.get_username() if winner.updated_by_id else "",
                          winner.updated_at) from None
    return obj


def _absences(field: str, value) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise ActionError({field: "Số buổi nghỉ phải là số nguyên từ 0 đến 200."})
    number = int(value)
    if not 0 <= number <= MAX_ABSENCES_ENTERED:
        raise ActionError({field: "Số buổi nghỉ phải là số nguyên từ 0 đến 200."})
    return number


def _refuse_if_frozen(school_class: SchoolClass, semester: int) -> None:
    frozen = _class_signoffs_locking(school_class, semester)
    if frozen:
        state = "ban hành" if any(s.state == ClassSignoff.RELEASED for s in frozen) else "xác thực"
        raise ActionError(f"Sổ của lớp {school_class.name} đã được {state}; muốn sửa, hiệu trưởng cần mở lại sổ.")


@transaction.atomic
def save_student_semester(actor, school_class: SchoolClass, student: Student, semester: int, *,
                          conduct=None, absences_excused=None, absences_unexcused=None,
                          expected_version: int) -> StudentSemester:
    """The GVCN records conduct (Điều 8) and absences of one student in one semester. ``expected_version``
    is the version the page showed (0 for a student with nothing recorded yet)."""
    _check_semester(semester)
    permissions.require_homeroom(actor, school_class)
    _require_active_student(school_class, student)
    _refuse_if_frozen(school_class, semester)
    values = {}
    if conduct is not None:
        try:
            values["conduct"] = canonical_conduct(conduct)
        except CellValueError as exc:
            raise ActionError({"conduct": str(exc)}) from None
    if absences_excused is not None:
        values["absences_excused"] = _absences("absences_excused", absences_excused)
    if absences_unexcused is not None:
        values["absences_unexcused"] = _absences("absences_unexcused", absences_unexcused)
    key = {"student": student, "year_id": school_class.year_id, "semester": semester}
    obj = _lock_record(StudentSemester, expected_version, SEMESTER_FIELDS, **key)
    changed = {f: v for f, v in values.items() if getattr(obj, f) != v}
    if not changed:
        return obj
    before = {f: getattr(obj, f) for f in SEMESTER_FIELDS}
    obj.school_id, obj.school_class = school_class.school_id, school_class
    for field, value in changed.items():
        setattr(obj, field, value)
    obj = _store_record(StudentSemester, obj, actor, SEMESTER_FIELDS, key)
    record("gradebook.save_student_semester", actor=actor, school=school_class.school, obj=obj,
           object_repr=f"{student.full_name} – {school_class.name} – HK{semester}", before=before,
           after={f: getattr(obj, f) for f in SEMESTER_FIELDS},
           extra={"student": student.pk, "semester": semester, "version": obj.version})
    return obj


def _summer_retest(school_class: SchoolClass, summer_retest: dict) -> dict:
    if not isinstance(summer_retest, dict):
        raise ActionError({"summer_retest": "Kết quả đánh giá lại phải là {mã môn: kết quả}."})
    plans = {p.subject.code: p for p in SubjectPlan.objects.filter(
        year_id=school_class.year_id, grade=school_class.grade).select_related("subject")}
    out = {}
    for code, raw in summer_retest.items():
        plan = plans.get(code)
        if plan is None:
            raise ActionError({"summer_retest": f"Môn {code} không có trong kế hoạch giáo dục khối "
                                                f"{school_class.grade}."})
        try:
            value = canonical_cell(plan.kind, "ck", raw)
        except CellValueError as exc:
            raise ActionError({"summer_retest": f"{plan.subject.name}: {exc}"}) from None
        if value:
            out[code] = value
    return out


@transaction.atomic
def save_student_year(actor, school_class: SchoolClass, student: Student, *, expected_version: int,
                      gvcn_comment=None, summer_conduct=None, summer_retest: dict | None = None,
                      certificates=None, contests=None) -> StudentYear:
    """The GVCN records the year's closing data of a student: comment, certificates, contests (frozen
    with the year's book) and the summer results (Điều 13, 14), which come after the release."""
    permissions.require_homeroom(actor, school_class)
    _require_active_student(school_class, student)
    values: dict = {}
    for field, value, limit in (("gvcn_comment", gvcn_comment, 2000), ("certificates", certificates, 2000),
                                ("contests", contests, 2000)):
        if value is not None:
            text = unicodedata.normalize("NFC", str(value)).strip()
            if len(text) > limit:
                raise ActionError({field: f"Nội dung dài quá {limit} kí tự."})
            values[field] = text
    if summer_conduct is not None:
        try:
            values["summer_conduct"] = canonical_conduct(summer_conduct)
        except CellValueError as exc:
            raise ActionError({"summer_conduct": str(exc)}) from None
    if summer_retest is not None:
        values["summer_retest"] = _summer_retest(school_class, summer_retest)
    key = {"student": student, "year_id": school_class.year_id}
    obj = _lock_record(StudentYear, expected_version, YEAR_FIELDS, **key)
    changed = {f: v for f, v in values.items() if getattr(obj, f) != v}
    if not changed:
        return obj
    if changed.keys() & {"gvcn_comment", "certificates", "contests"}:
        frozen = ClassSignoff.objects.filter(school_class=school_class, period="year").exclude(
            state=ClassSignoff.OPEN).first()
        if frozen is not None:
            raise ActionError(f"Sổ cả năm của lớp {school_class.name} đã được "
                              f"{'ban hành' if frozen.state == ClassSignoff.RELEASED else 'xác thực'}; "
                              "nhận xét, chứng chỉ và thành tích không sửa được nữa (kết quả hè vẫn nhập được).")
    before = {f: getattr(obj, f) for f in changed}
    obj.school_id, obj.school_class = school_class.school_id, school_class
    for field, value in changed.items():
        setattr(obj, field, value)
    obj = _store_record(StudentYear, obj, actor, YEAR_FIELDS, key)
    record("gradebook.save_student_year", actor=actor, school=school_class.school, obj=obj,
           object_repr=f"{student.full_name} – {school_class.name}", before=before,
           after={f: getattr(obj, f) for f in changed}, extra={"student": student.pk, "version": obj.version})
    return obj


PRINCIPAL_DECISIONS = {"promoted": "Được lên lớp", "retained": "Ở lại lớp"}


@transaction.atomic
def record_principal_decision(actor, school_class: SchoolClass, student: Student, *, decision: str, reason: str,
                              individual_plan: bool = False) -> StudentYear:
    """Điều 11: the principal decides the promotion of a student with disabilities, with the reason. Only
    for students marked "khuyết tật không đánh giá", or when the principal states (``individual_plan``)
    that the student is assessed on an individual education plan. The decision is the student's outcome."""
    permissions.require_principal(actor, school_class.school)
    _require_active_student(school_class, student)
    if decision not in PRINCIPAL_DECISIONS:
        raise ActionError({"decision": "Quyết định phải là promoted (được lên lớp) hoặc retained (ở lại lớp)."})
    reason = (reason or "").strip()
    if not reason:
        raise ActionError({"reason": "Hãy ghi lí do của quyết định."})
    if len(reason) > 500:
        raise ActionError({"reason": "Lí do dài quá 500 kí tự."})
    if not student.disabled_not_assessed and not individual_plan:
        raise ActionError({"decision": f"Học sinh {student.full_name} không thuộc diện khuyết tật không đánh giá "
                                       "(Điều 11); việc lên lớp theo kết quả đánh giá."})
    if ClassSignoff.objects.filter(school_class=school_class, period="year", state=ClassSignoff.RELEASED).exists():
        raise ActionError("Sổ cả năm của lớp đã được ban hành; hiệu trưởng cần mở lại sổ trước.")
    obj = StudentYear.objects.select_for_update().filter(student=student, year_id=school_class.year_id).first()
    if obj is None:
        obj = StudentYear(student=student, year_id=school_class.year_id, version=0)
    before = {"principal_decision": obj.principal_decision, "principal_decision_reason": obj.principal_decision_reason}
    obj.school_id, obj.school_class = school_class.school_id, school_class
    obj.principal_decision, obj.principal_decision_reason = decision, reason
    obj = _store_record(StudentYear, obj, actor, YEAR_FIELDS + ["principal_decision", "principal_decision_reason"],
                        {"student": student, "year_id": school_class.year_id})
    record("gradebook.principal_decision", actor=actor, school=school_class.school, obj=obj,
           object_repr=f"{student.full_name} – {school_class.name}", before=before,
           after={"principal_decision": decision, "principal_decision_reason": reason},
           extra={"student": student.pk, "individual_plan": individual_plan,
                  "disabled_not_assessed": student.disabled_not_assessed})
    return obj


@transaction.atomic
def add_conduct_remark(actor, school_class: SchoolClass, student: Student, subject: Subject, semester: int,
                       text: str) -> ConductRemark:
    """A subject teacher of the class notes something about a student's conduct for the GVCN."""
    _check_semester(semester)
    permissions.require_enter_column(actor, school_class, subject.pk, semester)
    _require_active_student(school_class, student)
    text = unicodedata.normalize("NFC", str(text or "")).strip()
    if not text:
        raise ActionError({"text": "Hãy ghi nội dung nhận xét."})
    if len(text) > 500:
        raise ActionError({"text": "Nhận xét dài quá 500 kí tự."})
    if _class_period_released(school_class, semester):
        raise ActionError("Sổ theo dõi của lớp đã được ban hành; không thể thêm nhận xét.")
    remark = ConductRemark.objects.create(
        school_id=school_class.school_id, year_id=school_class.year_id, student=student, semester=semester,
        subject=subject, author=principal_of(actor).staff, text=text, created_at=timezone.now())
    record("gradebook.conduct_remark", actor=actor, school=school_class.school, obj=remark,
           object_repr=f"{student.full_name} – {subject.name} – HK{semester}",
           extra={"student": student.pk, "subject": subject.code, "semester": semester, "text": text})
    return remark


# --- deadlines -------------------------------------------------------------------------------------------

# (kind, grades, month, day) of the seed plan (hocba-so.md, "Workflow"); grade 9 ends earlier.
SEED_DEADLINES = [
    ("review", "6,7,8,9", 5, 25),
    ("release", "6,7,8", 5, 29),
    ("release", "9", 5, 15),
    ("sign", "6,7,8", 5, 30),
    ("sign", "9", 5, 20),
]


def default_deadlines(year: SchoolYear) -> list[Deadline]:
    """The seed plan's deadlines for a school year, unsaved (the demo loader bulk-creates them)."""
    end_year = int(year.name[5:9]) if len(year.name) == 9 and year.name[5:9].isdigit() else year.end_date.year
    return [Deadline(school_id=year.school_id, year=year, kind=kind, grades=grades,
                     due=dt.date(end_year, month, day)) for kind, grades, month, day in SEED_DEADLINES]


@transaction.atomic
def seed_deadlines(actor, year: SchoolYear) -> list[Deadline]:
    """Add the seed plan's deadlines that the year does not have yet."""
    permissions_school.require_manage_school(actor, year.school)
    existing = set(Deadline.objects.filter(year=year).values_list("kind", "grades"))
    new = [d for d in default_deadlines(year) if (d.kind, d.grades) not in existing]
    if not new:
        raise ActionError(f"Năm học {year.name} đã có đủ các hạn chót theo kế hoạch.")
    Deadline.objects.bulk_create(new)
    record("gradebook.seed_deadlines", actor=actor, school=year.school, obj=year,
           extra={"deadlines": [{"kind": d.kind, "grades": d.grades, "due": d.due} for d in new]})
    return new
