"""Every change to học bạ số: one transaction each, permission checked, audit event appended.

Generation renders outside the transaction (documents are files; a file no row names is an orphan,
never a half-made record) and then creates the rows, their steps and the registry entries at once.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from hocba.audit.log import record as audit
from hocba.documents import RendererPool, signing_plan, to_xml, verification_url
from hocba.interop.outbox import enqueue_record_event
from hocba.school.actions import ActionError
from hocba.school.models import Role, SchoolClass, Staff, Student

from . import build, codes, permissions, storage, workflow
from .conf import public_url
from .models import HocBaRecord, RegistryEntry, SignatureStep, SigningBatch
from .pdf_fields import prepare_fields

KIND_OF_ROLE = {"gvbm": SignatureStep.GVBM, "gvcn": SignatureStep.GVCN, "ht": SignatureStep.LEADER,
                "pht": SignatureStep.LEADER, "con_dau": SignatureStep.SEAL}

_pool: RendererPool | None = None
_pool_lock = threading.Lock()


def renderer_pool() -> RendererPool:
    """One pool per process: one reused Typst compiler per thread (``hocba.documents.RendererPool``)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = RendererPool()
        return _pool


@dataclasses.dataclass
class Generated:
    created: list[HocBaRecord]
    not_ready: list[build.NotReady]
    skipped: list[Student]  # already have a version that is being signed or is in force
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # build, render, store, save


def default_leader(school) -> Staff | None:
    """The principal who approves by default: the school's active HT with a principal's account."""
    return (Staff.objects.filter(school=school, position="HT", is_active=True,
                                 user__memberships__role=Role.PRINCIPAL, user__memberships__school=school)
            .order_by("pk").first())


def leaders(school) -> list[Staff]:
    """Who may be chosen to approve: the principal and the vice-principals with an account."""
    return list(Staff.objects.filter(
        school=school, is_active=True, position__in=("HT", "PHT"),
        user__memberships__role__in=(Role.PRINCIPAL, Role.VICE_PRINCIPAL), user__memberships__school=school)
        .distinct().order_by("position", "sort_key"))


def _check_leader(school, leader: Staff | None) -> Staff:
    leader = leader or default_leader(school)
    if leader is None:
        raise ActionError("Trường chưa có hiệu trưởng có tài khoản để ký duyệt học bạ.")
    if leader.pk not in {s.pk for s in leaders(school)}:
        raise ActionError(f"{leader.full_name} không phải hiệu trưởng hoặc phó hiệu trưởng của trường.")
    return leader


def generate_class(actor, school_class: SchoolClass, *, leader: Staff | None = None,
                   students: list[Student] | None = None, versions: dict | None = None) -> Generated:
    """Makes the học bạ of the class's students from its released grade book: snapshot, XML, PDF with every
    signature field, and the steps of every signer. Students who already have a version being signed or in
    force are skipped; those whose year is not final are reported with the reasons."""
    import time

    school = school_class.school
    permissions.require_prepare(actor, school)
    leader = _check_leader(school, leader)
    timer = time.perf_counter()
    seconds = {}
    try:
        data = build.load_class(school_class, students)
    except build.NotReleased as exc:
        raise ActionError(exc.problems) from exc
    open_ids = set(HocBaRecord.objects.filter(year=school_class.year, student__in=data.students,
                                              status__in=HocBaRecord.OPEN_STATUSES).values_list("student_id", flat=True))
    skipped = [s for s in data.students if s.pk in open_ids]
    data.students = [s for s in data.students if s.pk not in open_ids]
    built, not_ready = build.build(data, leader, versions=versions)
    seconds["build"] = time.perf_counter() - timer
    if not built:
        return Generated([], not_ready, skipped, seconds)

    created = generate_records(actor, school_class, leader, built, seconds=seconds)
    return Generated(created, not_ready, skipped, seconds)


def generate_records(actor, school_class: SchoolClass, leader: Staff, built: list[build.Built], *,
                     homeroom: Staff | None = None, seconds: dict | None = None) -> list[HocBaRecord]:
    """Renders, stores and saves records already built (from the grade book by ``generate_class``, or from
    another source such as a digitised paper year, ``hocba.digitise``): the same files, steps, registry
    entries and audit event, so they go through the same signing and issue. ``homeroom``: who signs the GVCN
    step (default: the class's homeroom teacher). The caller has checked permissions."""
    import time

    seconds = seconds if seconds is not None else {}
    school = school_class.school
    timer = time.perf_counter()
    secrets_ = {b.student.pk: (codes.new_verification_code(), codes.new_secret()) for b in built}
    urls = [verification_url(public_url(), *secrets_[b.student.pk]) for b in built]
    xmls = [to_xml(b.record) for b in built]
    pdfs = renderer_pool().render_many([b.record for b in built], verification_urls=urls)
    pdfs = [prepare_fields(pdf, b.record) for pdf, b in zip(pdfs, built, strict=True)]
    seconds["render"] = time.perf_counter() - timer

    timer = time.perf_counter()
    files = []
    for b, pdf, xml in zip(built, pdfs, xmls, strict=True):
        directory = storage.relative_dir(school.code, school_class.year.name, b.record.record_id)
        files.append((storage.write(directory, pdf, "pdf"), storage.write(directory, xml, "xml")))
    seconds["store"] = time.perf_counter() - timer

    timer = time.perf_counter()
    try:
        created = _save_generated(actor, school_class, leader, built, files, secrets_, homeroom=homeroom)
    except IntegrityError as exc:
        raise ActionError("Học bạ của một số học sinh vừa được tạo bởi người khác; hãy tải lại trang.") from exc
    seconds["save"] = time.perf_counter() - timer
    return created


@transaction.atomic
def _save_generated(actor, school_class, leader, built, files, secrets_, *, homeroom=None) -> list[HocBaRecord]:
    now = timezone.now()
    replaced = {}
    for b in built:
        if b.record.replaces:
            replaced[b.record.replaces] = HocBaRecord.objects.select_for_update().get(record_id=b.record.replaces)
    records = []
    for b, ((pdf_rel, pdf_sha), (xml_rel, xml_sha)) in zip(built, files, strict=True):
        code, secret = secrets_[b.student.pk]
        previous = b.record.previous_year
        records.append(HocBaRecord(
            record_id=uuid.UUID(b.record.record_id), school=school_class.school, year=school_class.year,
            school_class=school_class, student=b.student, version=b.record.version,
            replaces=replaced.get(b.record.replaces), previous_year_record_id=previous.record_id if previous else "",
            previous_year_sha256=previous.sha256 if previous else "", verification_code=code,
            qr_secret_sha256=codes.secret_hash(secret), leader=leader,
            snapshot={"record": build.jsonable(b.record), "source": b.source}, source_sha256=b.source_sha256,
            data_xml_sha256=xml_sha, pdf_file=pdf_rel, pdf_sha256=pdf_sha, xml_file=xml_rel, xml_sha256=xml_sha,
            created_at=now, created_by=actor))
    HocBaRecord.objects.bulk_create(records)
    records = list(HocBaRecord.objects.filter(record_id__in=[r.record_id for r in records])
                   .select_related("student").order_by("student__sort_key"))
    by_uuid = {str(r.record_id): r for r in records}
    homeroom = homeroom or school_class.homeroom_teacher
    steps, entries = [], []
    for b in built:
        record = by_uuid[b.record.record_id]
        for order, part in enumerate(signing_plan(b.record)):
            kind = KIND_OF_ROLE[part.role]
            signer = {SignatureStep.GVBM: b.teachers.get(part.field_name), SignatureStep.GVCN: homeroom,
                      SignatureStep.LEADER: leader}.get(kind)
            steps.append(SignatureStep(record=record, order=order, kind=kind, role=part.role,
                                       field_name=part.field_name, label=part.label[:250],
                                       subject_code=part.subject_code or "", signer=signer,
                                       xml_references=list(part.references) if part.references is not None else None))
        entries.append(RegistryEntry(school=record.school, record=record, event=RegistryEntry.GENERATED, actor=actor,
                                     actor_name=actor.get_username(), at=now, file_format="xml",
                                     file_sha256=record.data_xml_sha256,
                                     note=(f"Phiên bản {record.version}, thay thế {b.record.replaces}"
                                           if b.record.replaces else f"Phiên bản {record.version}")))
    SignatureStep.objects.bulk_create(steps)
    RegistryEntry.objects.bulk_create(entries)
    audit("records.generate", actor=actor, school=school_class.school, obj=school_class,
          extra={"year": school_class.year.name, "leader": leader.staff_code,
                 "records": [{"id": str(r.record_id), "student": r.student.student_code, "version": r.version,
                              "source_sha256": r.source_sha256} for r in records]})
    return records


# --- signing -----------------------------------------------------------------------------------------

def start_signing(actor, school, kind: str, *, school_class: SchoolClass | None = None, year=None
                  ) -> SigningBatch | None:
    """The actor's batch of ``kind`` over every signature that is theirs and may be made now (in one class,
    one year, or everywhere in the school). The seal is started by the principal or the school admin."""
    if kind == SignatureStep.SEAL:
        permissions.require_seal(actor, school)
        signer = None
    else:
        signer = permissions.require_personal_signer(actor, school, kind)
    records = HocBaRecord.objects.filter(school=school)
    if school_class is not None:
        records = records.filter(school_class=school_class)
    if year is not None:
        records = records.filter(year=year)
    steps = workflow.eligible_steps(kind, signer=signer, records=records)
    return workflow.create_batch(actor, school, kind, steps, signer=signer)


def require_batch_owner(actor, batch: SigningBatch) -> None:
    if batch.actor_id != actor.pk:
        from hocba.school.permissions import deny

        deny("Đây không phải lô ký của bạn.")


def resume(actor, batch: SigningBatch, **kwargs) -> SigningBatch:
    require_batch_owner(actor, batch)
    if batch.state == SigningBatch.RUNNING and not workflow.stale_batches().filter(pk=batch.pk).exists():
        raise ActionError("Lô ký đang chạy.")
    return workflow.resume_batch(batch, **kwargs)


def rollback(actor, batch: SigningBatch) -> SigningBatch:
    require_batch_owner(actor, batch)
    if batch.state == SigningBatch.RUNNING and not workflow.stale_batches().filter(pk=batch.pk).exists():
        raise ActionError("Lô ký đang chạy; chỉ huỷ được khi lô đã dừng.")
    return workflow.rollback_batch(actor, batch)


# --- revocation and new versions ------------------------------------------------------------------------

@transaction.atomic
def revoke(actor, record: HocBaRecord, reason: str) -> HocBaRecord:
    """The principal revokes an issued version (thu hồi); it stays downloadable and verifies as revoked."""
    permissions.require_revoke(actor, record.school)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ActionError({"reason": "Cần ghi lí do thu hồi (ít nhất 5 ký tự)."})
    record = HocBaRecord.objects.select_for_update().get(pk=record.pk)
    if record.status != HocBaRecord.ISSUED:
        raise ActionError(f"Chỉ thu hồi được học bạ đang có hiệu lực; học bạ này {record.get_status_display().lower()}.")
    now = timezone.now()
    record.status, record.revoked_at, record.revoked_by, record.revoke_reason = HocBaRecord.REVOKED, now, actor, reason
    record.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
    RegistryEntry.objects.create(school=record.school, record=record, event=RegistryEntry.REVOKED, actor=actor,
                                 actor_name=actor.get_username(), at=now, note=reason[:500])
    enqueue_record_event(record, "CANCEL")  # the sector's platform hears of it with the same commit
    audit("records.revoke", actor=actor, school=record.school, obj=record,
          extra={"record_id": str(record.record_id), "version": record.version, "reason": reason})
    return record


def reissue(actor, record: HocBaRecord, *, leader: Staff | None = None) -> HocBaRecord:
    """A new version of a revoked record from the grade book as released now (after its correction): it
    names the version it replaces and goes through every signature again."""
    permissions.require_prepare(actor, record.school)
    if record.status != HocBaRecord.REVOKED:
        raise ActionError("Chỉ tạo phiên bản mới cho học bạ đã bị thu hồi (và chưa có bản thay thế).")
    if HocBaRecord.objects.filter(replaces=record).exists():
        raise ActionError("Học bạ này đã có phiên bản thay thế.")
    latest = HocBaRecord.objects.filter(student=record.student, year=record.year).order_by("-version").first()
    result = generate_class(actor, record.school_class, leader=leader or record.leader, students=[record.student],
                            versions={record.student_id: (latest.version + 1, str(record.record_id))})
    if not result.created:
        reasons = [r for nr in result.not_ready for r in nr.reasons] or ["học sinh đã có phiên bản đang ký"]
        raise ActionError("Không tạo được phiên bản mới: " + "; ".join(reasons))
    return result.created[0]


@transaction.atomic
def cancel(actor, record: HocBaRecord, reason: str) -> HocBaRecord:
    """Gives up a version that was never issued (e.g. the grade book was reopened meanwhile)."""
    permissions.require_prepare(actor, record.school)
    record = HocBaRecord.objects.select_for_update().get(pk=record.pk)
    if record.status not in (HocBaRecord.DRAFT, HocBaRecord.SIGNING):
        raise ActionError("Chỉ huỷ được học bạ chưa phát hành.")
    record.status = HocBaRecord.CANCELLED
    record.save(update_fields=["status"])
    now = timezone.now()
    RegistryEntry.objects.create(school=record.school, record=record, event=RegistryEntry.CANCELLED, actor=actor,
                                 actor_name=actor.get_username(), at=now, note=(reason or "")[:500])
    audit("records.cancel", actor=actor, school=record.school, obj=record,
          extra={"record_id": str(record.record_id), "reason": reason})
    return record


# --- copies given out -----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class FileOut:
    data: bytes
    filename: str
    content_type: str


def file_name(record: HocBaRecord, fmt: str) -> str:
    return (f"hocba_{record.student.student_code}_{record.year.name}_lop{record.school_class.name}"
            f"_v{record.version}.{fmt}")


@transaction.atomic
def give_copy(actor, record: HocBaRecord, fmt: str, *, event: str = RegistryEntry.COPY, recipient: str = "",
              purpose: str = "") -> FileOut:
    """The PDF or XML of a version, logged in the registry (who, when, for whom, why, which bytes)."""
    permissions.require_view_record(actor, record)
    if fmt not in ("pdf", "xml"):
        raise ActionError("Định dạng phải là pdf hoặc xml.")
    data = storage.read(record.pdf_file if fmt == "pdf" else record.xml_file,
                        record.pdf_sha256 if fmt == "pdf" else record.xml_sha256)
    if not recipient:
        recipient = actor.get_full_name() or actor.get_username()
    _log_copy(actor, record, event, fmt, storage.sha256(data), recipient, purpose)
    return FileOut(data, file_name(record, fmt), "application/pdf" if fmt == "pdf" else "application/xml")


def _log_copy(actor, record, event, fmt, digest, recipient, purpose) -> None:
    RegistryEntry.objects.create(school=record.school, record=record, event=event, actor=actor,
                                 actor_name=actor.get_username() if actor else "", at=timezone.now(),
                                 recipient=recipient[:250], purpose=purpose[:500], file_format=fmt,
                                 file_sha256=digest)
    audit(f"records.{event}", actor=actor, school=record.school, obj=record,
          extra={"record_id": str(record.record_id), "format": fmt, "sha256": digest, "recipient": recipient,
                 "purpose": purpose, "status": record.status})


@transaction.atomic
def log_view(actor, record: HocBaRecord) -> None:
    permissions.require_view_record(actor, record)
    RegistryEntry.objects.create(school=record.school, record=record, event=RegistryEntry.VIEWED, actor=actor,
                                 actor_name=actor.get_username(), at=timezone.now())


def complete_record(student: Student) -> list[HocBaRecord]:
    """The student's issued years in force, at any school (same personal number), oldest first."""
    return list(HocBaRecord.objects.filter(student__personal_number=student.personal_number,
                                           status=HocBaRecord.ISSUED)
                .select_related("year", "school", "school_class", "student").order_by("year__name"))


@transaction.atomic
def give_bundle(actor, student: Student, *, recipient: str = "", purpose: str = "") -> FileOut:
    """The complete THCS record as one ZIP a verifier checks in one step: every year in force issued in this
    deployment and every year received from another school (``interop.actions.years_in_force``), so a student
    who changed schools gets all their years, the chain unbroken. Each year issued in this deployment is
    checked as for a single copy; one the actor may not see (issued by another school for the same personal
    number) is given as this school received it in a verified transfer package — the same bytes — or refused
    when this school never received it: a personal number alone opens no other school's records. Received years
    come with the student (whoever may see the student). Each local version gets its registry entry (in its
    own school's registry); each received year an audit event."""
    from hocba.documents import IssuedYear, export_bundle
    from hocba.interop.actions import years_in_force
    from hocba.interop.models import ReceivedRecord
    from hocba.school.permissions import require_view_student

    require_view_student(actor, student)
    rows = years_in_force(student)
    if not rows:
        raise ActionError("Học sinh chưa có học bạ nào đã phát hành hoặc đã nhận từ trường khác.")
    received = {r.record_id: r for r in ReceivedRecord.objects.filter(student=student).order_by("version")}

    def given(r):
        if not isinstance(r, HocBaRecord) or permissions.can_view_record(actor, r):
            return r
        if str(r.record_id) not in received:
            permissions.require_view_record(actor, r)  # refuses, in Vietnamese
        return received[str(r.record_id)]

    rows = [given(r) for r in rows]
    years = [IssuedYear(storage.read(r.xml_file, r.xml_sha256),
                        storage.read(r.pdf_file, r.pdf_sha256) if r.pdf_file else None) for r in rows]
    data = export_bundle(years)
    digest = storage.sha256(data)
    recipient = recipient or actor.get_full_name() or actor.get_username()
    for r in rows:
        if isinstance(r, HocBaRecord):
            _log_copy(actor, r, RegistryEntry.EXTRACT, "zip", digest, recipient, purpose)
        else:
            _log_received_copy(actor, r, "zip", digest, recipient, purpose)
    return FileOut(data, f"hocba_THCS_{student.student_code}.zip", "application/zip")


@transaction.atomic
def give_received_copy(actor, received, fmt: str, *, recipient: str = "", purpose: str = "") -> FileOut:
    """The PDF or XML of a year received from another school, byte for byte as it was received; audited (the
    registry of copies is the issuing school's, elsewhere)."""
    permissions.require_view_received(actor, received)
    if fmt not in ("pdf", "xml"):
        raise ActionError("Định dạng phải là pdf hoặc xml.")
    if fmt == "pdf" and not received.pdf_file:
        raise ActionError("Năm học này chỉ nhận được bản XML, không có bản PDF.")
    data = storage.read(received.pdf_file if fmt == "pdf" else received.xml_file,
                        received.pdf_sha256 if fmt == "pdf" else received.xml_sha256)
    recipient = recipient or actor.get_full_name() or actor.get_username()
    _log_received_copy(actor, received, fmt, storage.sha256(data), recipient, purpose)
    name = f"hocba_{received.student.student_code}_{received.school_year}_lop{received.grade}_v{received.version}.{fmt}"
    return FileOut(data, name, "application/pdf" if fmt == "pdf" else "application/xml")


def _log_received_copy(actor, received, fmt, digest, recipient, purpose) -> None:
    audit("records.received_copy", actor=actor, school=received.school, obj=received,
          extra={"record_id": received.record_id, "version": received.version, "school_year": received.school_year,
                 "source_school": received.source_school_code, "format": fmt, "sha256": digest,
                 "recipient": recipient, "purpose": purpose})
