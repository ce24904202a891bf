"""Read side of học bạ số: a class's progress through the signatures (who is still missing), a signer's
pending work, the registry with its filters, and a family's own records. Each runs a fixed number of
queries; callers check permissions first (``permissions``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict

from django.db.models import Count, Q, QuerySet

from hocba.school.models import SchoolClass, Student
from hocba.school.permissions import own_students, principal_of

from . import build, permissions, workflow
from .models import HocBaRecord, RegistryEntry, SignatureStep, SigningBatch

KIND_LABELS = dict(SignatureStep.KIND_CHOICES)
KIND_STEP_NAMES = {SignatureStep.GVBM: "Giáo viên bộ môn ký", SignatureStep.GVCN: "Giáo viên chủ nhiệm ký",
                   SignatureStep.LEADER: "Hiệu trưởng phê duyệt", SignatureStep.SEAL: "Đóng con dấu số, phát hành"}


@dataclasses.dataclass(frozen=True)
class Missing:
    name: str  # the signer (or "Con dấu số của trường")
    count: int  # signatures of theirs still missing at this step
    ready: int  # of which may be signed now (earlier steps done)


@dataclasses.dataclass(frozen=True)
class StepProgress:
    kind: str
    name: str
    total: int
    signed: int
    missing: list[Missing]
    mine_ready: int  # what the current user may sign now at this step (their batch)

    @property
    def percent(self) -> int:
        return 100 if not self.total else (100 * self.signed) // self.total

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.signed == self.total


@dataclasses.dataclass(frozen=True)
class StudentLine:
    student: Student
    current: HocBaRecord | None  # the version being signed or in force, else the latest
    versions: list[HocBaRecord]
    signed: int
    total: int


@dataclasses.dataclass(frozen=True)
class ClassOverview:
    school_class: SchoolClass
    release_problems: list[str]
    lines: list[StudentLine]
    steps: list[StepProgress]
    counts: Counter  # status → records (current versions)
    without_record: int  # active students with no current version
    open_batches: list[SigningBatch]
    can_prepare: bool
    can_seal: bool
    can_revoke: bool


def class_overview(user, school_class: SchoolClass) -> ClassOverview:
    school = school_class.school
    students = build.students_in_class(school_class)
    versions: dict[int, list[HocBaRecord]] = defaultdict(list)
    for r in (HocBaRecord.objects.filter(year=school_class.year_id, student__in=students)
              .select_related("replaced_by", "leader").order_by("version")):
        versions[r.student_id].append(r)
    currents = {}
    for sid, vs in versions.items():
        open_ = [v for v in vs if v.status in HocBaRecord.OPEN_STATUSES]
        currents[sid] = open_[-1] if open_ else vs[-1]
    open_ids = [r.pk for r in currents.values() if r.status in (HocBaRecord.DRAFT, HocBaRecord.SIGNING)]
    counted_ids = [r.pk for r in currents.values() if r.status in HocBaRecord.OPEN_STATUSES]
    per_record = defaultdict(lambda: [0, 0])
    for rid, state, n in (SignatureStep.objects.filter(record_id__in=counted_ids)
                          .values_list("record_id", "state").annotate(n=Count("id"))):
        per_record[rid][1] += n
        if state == SignatureStep.SIGNED:
            per_record[rid][0] += n
    lines = [StudentLine(s, currents.get(s.pk), versions.get(s.pk, []),
                         *(per_record[currents[s.pk].pk] if s.pk in currents else (0, 0))) for s in students]

    totals: dict[str, list[int]] = {k: [0, 0] for k in SignatureStep.KIND_ORDER}
    missing: dict[str, Counter] = {k: Counter() for k in SignatureStep.KIND_ORDER}
    for kind, state, signer, n in (SignatureStep.objects.filter(record_id__in=counted_ids)
                                   .values_list("kind", "state", "signer__full_name").annotate(n=Count("id"))):
        totals[kind][0] += n
        if state == SignatureStep.SIGNED:
            totals[kind][1] += n
        else:
            missing[kind][signer or "Con dấu số của trường"] += n
    ready: dict[str, Counter] = {k: Counter() for k in SignatureStep.KIND_ORDER}
    for kind in SignatureStep.KIND_ORDER:
        for signer, n in (workflow.eligible_steps(kind, records=open_ids).values_list("signer__full_name")
                          .annotate(n=Count("id"))):
            ready[kind][signer or "Con dấu số của trường"] += n
    staff = principal_of(user).staff
    can_seal = permissions.can_seal(user, school)
    mine = {}
    for kind in SignatureStep.KIND_ORDER:
        if kind == SignatureStep.SEAL:
            mine[kind] = sum(ready[kind].values()) if can_seal else 0
        elif staff is not None and staff.school_id == school.pk:
            mine[kind] = workflow.eligible_steps(kind, signer=staff, records=open_ids).count()
        else:
            mine[kind] = 0
    steps = [StepProgress(k, KIND_STEP_NAMES[k], totals[k][0], totals[k][1],
                          [Missing(name, n, ready[k][name]) for name, n in sorted(missing[k].items())], mine[k])
             for k in SignatureStep.KIND_ORDER]
    counts = Counter(r.status for r in currents.values())
    batches = list(SigningBatch.objects.filter(actor=user, state__in=(SigningBatch.PREPARED, SigningBatch.RUNNING,
                                                                     SigningBatch.FAILED), school=school)
                   .order_by("-created_at")[:5]) if user.is_authenticated else []
    return ClassOverview(
        school_class=school_class, release_problems=build.release_problems(school_class), lines=lines, steps=steps,
        counts=counts, without_record=sum(1 for s in students if s.pk not in currents
                                          or currents[s.pk].status == HocBaRecord.CANCELLED),
        open_batches=batches, can_prepare=permissions.can_prepare(user, school), can_seal=can_seal,
        can_revoke=permissions.can_revoke(user, school))


@dataclasses.dataclass(frozen=True)
class PendingWork:
    kind: str
    name: str
    school_class: SchoolClass
    ready: int
    waiting: int  # theirs, but an earlier step of the record is not done yet


def my_pending(user) -> list[PendingWork]:
    """Every class where the user has signatures to make, per step kind: ready now, and still waiting."""
    staff = principal_of(user).staff
    if staff is None:
        return []
    rows = defaultdict(lambda: [0, 0])
    for kind in (SignatureStep.GVBM, SignatureStep.GVCN, SignatureStep.LEADER):
        for class_id, n in (workflow.eligible_steps(kind, signer=staff).values_list("record__school_class_id")
                            .annotate(n=Count("id"))):
            rows[(kind, class_id)][0] += n
        for class_id, n in (SignatureStep.objects.filter(kind=kind, signer=staff, state=SignatureStep.PENDING,
                                                         record__status__in=workflow.OPEN_RECORD)
                            .values_list("record__school_class_id").annotate(n=Count("id"))):
            rows[(kind, class_id)][1] += n
    classes = SchoolClass.objects.in_bulk({c for _, c in rows})
    out = [PendingWork(kind, KIND_STEP_NAMES[kind], classes[c], ready, total - ready)
           for (kind, c), (ready, total) in rows.items()]
    return sorted(out, key=lambda w: (SignatureStep.KIND_ORDER.index(w.kind), w.school_class.name))


def batch_items_summary(batch: SigningBatch) -> dict:
    from .models import SigningBatchItem

    failed = list(SigningBatchItem.objects.filter(batch=batch, state=SigningBatchItem.FAILED)
                  .select_related("record__student").order_by("id")[:50])
    return {"failed": failed}


# --- registry ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RegistryFilter:
    event: str = ""
    year: str = ""
    class_name: str = ""
    student: str = ""  # name, student code or personal number
    since: dt.date | None = None
    until: dt.date | None = None


def registry(school, f: RegistryFilter) -> QuerySet[RegistryEntry]:
    qs = RegistryEntry.objects.filter(school=school).select_related(
        "record__student", "record__year", "record__school_class", "record__replaced_by")
    if f.event:
        qs = qs.filter(event=f.event)
    if f.year:
        qs = qs.filter(record__year__name=f.year)
    if f.class_name:
        qs = qs.filter(record__school_class__name=f.class_name)
    if f.student:
        term = f.student.strip()
        qs = qs.filter(Q(record__student__full_name__icontains=term) | Q(record__student__student_code=term)
                       | Q(record__student__personal_number=term) | Q(record__verification_code=term.upper()))
    if f.since:
        qs = qs.filter(at__date__gte=f.since)
    if f.until:
        qs = qs.filter(at__date__lte=f.until)
    return qs.order_by("-at", "-id")


def issued_versions(school, year: str = "", class_name: str = "") -> QuerySet[HocBaRecord]:
    """Every version ever issued (in force, revoked, superseded): the registry of documents."""
    qs = HocBaRecord.objects.filter(school=school, issued_at__isnull=False).select_related(
        "student", "year", "school_class", "replaced_by", "replaces")
    if year:
        qs = qs.filter(year__name=year)
    if class_name:
        qs = qs.filter(school_class__name=class_name)
    return qs.order_by("year__name", "school_class__name", "student__sort_key", "version")


# --- families ----------------------------------------------------------------------------------------------

def family_records(user) -> list[tuple[Student, list[HocBaRecord], list]]:
    """The user's children (or themselves) with every issued version of their học bạ, and the years received
    for them from another school (``interop.ReceivedRecord``, newest first)."""
    from hocba.interop.models import ReceivedRecord

    students = list(own_students(user).order_by("sort_key"))
    records, received = defaultdict(list), defaultdict(list)
    for r in (HocBaRecord.objects.filter(student__in=students, issued_at__isnull=False)
              .select_related("year", "school_class", "school", "replaced_by").order_by("-year__name", "-version")):
        records[r.student_id].append(r)
    for r in ReceivedRecord.objects.filter(student__in=students).order_by("-school_year", "-version"):
        received[r.student_id].append(r)
    return [(s, records.get(s.pk, []), received.get(s.pk, [])) for s in students]
