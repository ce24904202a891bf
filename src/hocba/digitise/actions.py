"""Every change to a digitisation (số hóa học bạ giấy): one transaction each, permission checked per object,
audit event appended.

The issue goes through ``hocba.records``: ``submit`` builds the ``HocBaNamHoc`` from the typed data (marked
digitised, with the scan's SHA-256) and hands it to ``records.actions.generate_records`` — the same files,
signature steps, registry and audit as a record made from the grade book — and the signatures are records
batches (``records.workflow``), run here for one record at a time.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hocba.audit.log import record as audit
from hocba.documents import (
    AdjustedBy,
    HocBaNamHoc,
    Levels,
    PreviousYear,
    RecordError,
    StudyYear,
    SubjectResult,
)
from hocba.documents.model import parse_mark
from hocba.records import actions as records_actions
from hocba.records import build as records_build
from hocba.records import permissions as records_permissions
from hocba.records import storage, workflow
from hocba.records.models import HocBaRecord, SignatureStep, SigningBatch
from hocba.school.actions import ActionError
from hocba.school.models import Role, SchoolClass, SchoolYear, Staff, Student, Subject, SubjectPlan

from . import permissions
from .models import LEVEL_CHOICES, OUTCOME_CHOICES, Digitisation, DigitisedSubject

LEVELS = {code for code, _ in LEVEL_CHOICES}
OUTCOMES = {code for code, _ in OUTCOME_CHOICES}
_YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")
DEFAULT_SCAN_MAX_BYTES = 20 * 1024 * 1024
SUMMARY_FIELDS = ("conduct_hk1", "conduct_hk2", "conduct_year", "learning_hk1", "learning_hk2", "learning_year",
                  "absences", "outcome", "homeroom_name", "homeroom_teacher_id", "homeroom_comment")


def scan_max_bytes() -> int:
    """Largest scan accepted (``HOCBA_DIGITISE_SCAN_MAX_BYTES``, default 20 MB)."""
    return int(getattr(settings, "HOCBA_DIGITISE_SCAN_MAX_BYTES", None) or DEFAULT_SCAN_MAX_BYTES)


def _refuse(field: str, message: str):
    raise ActionError({field: message})


def _locked(d: Digitisation) -> Digitisation:
    return Digitisation.objects.select_for_update().select_related("school", "student").get(pk=d.pk)


def _require_draft(d: Digitisation) -> None:
    if d.status != Digitisation.DRAFT:
        raise ActionError(f"Bản số hóa này {d.get_status_display().lower()}; không sửa được nữa.")


def subjects_of_grade(school, grade: int) -> list[Subject]:
    """The compulsory subjects of ``grade`` in the school's latest plan (the TT22 catalogue without one)."""
    year = SchoolYear.objects.filter(school=school, subject_plans__grade=grade).distinct().order_by("-name").first()
    if year is not None:
        return [p.subject for p in SubjectPlan.objects.filter(year=year, grade=grade, elective=False)
                .select_related("subject").order_by("order", "subject__order")]
    return list(Subject.objects.exclude(code__in=("TDT", "NN2")))


def current_teachers(school) -> list[Staff]:
    """Who may be named as a teacher still at the school: active staff with a teacher's account there."""
    return list(Staff.objects.filter(school=school, is_active=True, user__memberships__school=school,
                                     user__memberships__role=Role.TEACHER).distinct().order_by("sort_key"))


def _teacher(school, staff_id, field: str, what: str) -> Staff | None:
    if staff_id in (None, ""):
        return None
    staff = next((s for s in current_teachers(school) if str(s.pk) == str(staff_id)), None)
    if staff is None:
        _refuse(field, f"{what}: người được chọn không phải giáo viên đang công tác tại trường.")
    return staff


# --- creating and entering ----------------------------------------------------------------------------------

@transaction.atomic
def create(actor, student: Student, *, school_year: str, grade, class_name: str, school_name: str = "",
           province_name: str = "") -> Digitisation:
    """A new digitisation of one paper year of ``student`` (at this school or, for a transfer student, at the
    school named), with one row per compulsory subject of the grade to fill in."""
    school = student.school
    permissions.require_enter(actor, school)
    school_year = (school_year or "").strip()
    m = _YEAR_RE.fullmatch(school_year)
    if m is None or int(m.group(2)) != int(m.group(1)) + 1:
        _refuse("school_year", "Năm học phải có dạng YYYY-YYYY, năm sau hơn năm trước 1 (ví dụ 2022-2023).")
    try:
        grade = int(grade)
    except (TypeError, ValueError):
        grade = 0
    if grade not in (6, 7, 8, 9):
        _refuse("grade", "Khối lớp phải là 6, 7, 8 hoặc 9.")
    class_name = (class_name or "").strip()
    if not 0 < len(class_name) <= 10:
        _refuse("class_name", "Tên lớp cần 1–10 ký tự (ví dụ 7A2).")
    if Digitisation.objects.filter(student=student, school_year=school_year).exclude(
            status=Digitisation.CANCELLED).exists():
        _refuse("school_year", f"Học sinh {student.full_name} đã có bản số hóa năm học {school_year}.")
    if HocBaRecord.objects.filter(student=student, year__name=school_year,
                                  status__in=HocBaRecord.OPEN_STATUSES).exists():
        _refuse("school_year", f"Học sinh {student.full_name} đã có học bạ số năm học {school_year}.")
    d = Digitisation.objects.create(
        school=school, student=student, school_year=school_year, grade=grade, class_name=class_name,
        school_name=(school_name or "").strip() or school.name,
        province_name=(province_name or "").strip() or school.province_name,
        created_by=actor, created_at=timezone.now())
    DigitisedSubject.objects.bulk_create([DigitisedSubject(digitisation=d, subject=s)
                                          for s in subjects_of_grade(school, grade)])
    audit("digitise.create", actor=actor, school=school, obj=d,
          extra={"student": student.student_code, "school_year": school_year, "grade": grade,
                 "class_name": class_name, "school_name": d.school_name})
    return d


@transaction.atomic
def update_summary(actor, d: Digitisation, data: dict) -> Digitisation:
    """The year's summary as on the paper: conduct and learning levels, absences, outcome, the GVCN (named on
    the paper, and chosen from staff if still at the school) and the GVCN's comment."""
    permissions.require_enter(actor, d.school)
    d = _locked(d)
    _require_draft(d)
    before = {f: getattr(d, f) for f in SUMMARY_FIELDS}
    names = {"conduct_hk1": "Rèn luyện học kì I", "conduct_hk2": "Rèn luyện học kì II",
             "conduct_year": "Rèn luyện cả năm", "learning_hk1": "Học tập học kì I",
             "learning_hk2": "Học tập học kì II", "learning_year": "Học tập cả năm"}
    for field, label in names.items():
        value = (data.get(field) or "").strip()
        if value and value not in LEVELS:
            _refuse(field, f"{label}: «{value}» không hợp lệ; chỉ dùng T, K, Đ hoặc CĐ.")
        setattr(d, field, value)
    absences = str(data.get("absences") or "").strip()
    if absences and (not absences.isdigit() or int(absences) > 300):
        _refuse("absences", f"Số buổi nghỉ: «{absences}» không hợp lệ; cần số nguyên từ 0 đến 300.")
    d.absences = int(absences) if absences else None
    outcome = (data.get("outcome") or "").strip()
    if outcome and outcome not in OUTCOMES:
        _refuse("outcome", "Kết quả cuối năm không hợp lệ.")
    d.outcome = outcome
    d.homeroom_name = (data.get("homeroom_name") or "").strip()[:150]
    d.homeroom_teacher = _teacher(d.school, data.get("homeroom_teacher"), "homeroom_teacher", "Giáo viên chủ nhiệm")
    d.homeroom_comment = (data.get("homeroom_comment") or "").strip()
    d.save()
    after = {f: getattr(d, f) for f in SUMMARY_FIELDS}
    audit("digitise.summary", actor=actor, school=d.school, obj=d,
          before={k: str(v) for k, v in before.items() if v != after[k]},
          after={k: str(v) for k, v in after.items() if before[k] != v})
    return d


def _check_row(row: DigitisedSubject, hk1: str, hk2: str, year: str) -> None:
    subject = row.subject
    for slot, label, value in (("hk1", "học kì I", hk1), ("hk2", "học kì II", hk2), ("year", "cả năm", year)):
        try:
            mark = parse_mark(value)
        except RecordError:
            mark = "?"
        allowed = ("số từ 0 đến 10, tối đa một chữ số thập phân" if subject.kind == "score" else "Đ hoặc CĐ")
        wrong = (mark == "?" or (subject.kind == "score" and isinstance(mark, str) and mark != "M")
                 or (subject.kind == "comment" and mark is not None and not isinstance(mark, str)))
        if wrong:
            _refuse(f"s{row.pk}-{slot}", f"Môn {subject.name}, {label}: «{value}» không hợp lệ; cần {allowed} "
                                         "(M nếu được miễn).")


@transaction.atomic
def update_subjects(actor, d: Digitisation, rows: dict) -> Digitisation:
    """Per-subject results as on the paper. ``rows``: row id → {hk1, hk2, year, comment, teacher_name,
    teacher}. Every row is checked before anything is saved; the first bad cell is named."""
    permissions.require_enter(actor, d.school)
    d = _locked(d)
    _require_draft(d)
    by_id = {str(r.pk): r for r in d.subjects.select_related("subject", "teacher")}
    changed = []
    for key, values in rows.items():
        row = by_id.get(str(key))
        if row is None:
            raise ActionError("Dòng môn học không thuộc bản số hóa này.")
        hk1, hk2, year = ((values.get(s) or "").strip().replace(",", ".") for s in ("hk1", "hk2", "year"))
        _check_row(row, hk1, hk2, year)
        teacher = _teacher(d.school, values.get("teacher"), f"s{row.pk}-teacher", f"Môn {row.subject.name}")
        new = {"hk1": hk1, "hk2": hk2, "year": year, "comment": (values.get("comment") or "").strip()[:500],
               "teacher_name": (values.get("teacher_name") or "").strip()[:150] or (teacher.full_name if teacher
                                                                                   else ""),
               "teacher_id": teacher.pk if teacher else None}
        old = {k: getattr(row, k) for k in new}
        if new != old:
            for k, v in new.items():
                setattr(row, k, v)
            row.reviewed_by, row.reviewed_at = None, None  # a changed row is reviewed again
            row.save()
            changed.append({"subject": row.subject.code, "before": {k: str(v) for k, v in old.items()},
                            "after": {k: str(v) for k, v in new.items()}})
    if changed:
        audit("digitise.subjects", actor=actor, school=d.school, obj=d, extra={"rows": changed})
    return d


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    return None


@transaction.atomic
def attach_scan(actor, d: Digitisation, filename: str, data: bytes) -> Digitisation:
    """The scan of the paper pages (PDF or JPEG, at most ``scan_max_bytes``), stored content-addressed under
    HOCBA_DOCUMENTS_DIR with its SHA-256; a new scan replaces the previous one (which stays on disk)."""
    permissions.require_enter(actor, d.school)
    d = _locked(d)
    _require_draft(d)
    limit = scan_max_bytes()
    if not data:
        _refuse("scan", "Chưa chọn tệp quét, hoặc tệp rỗng.")
    if len(data) > limit:
        _refuse("scan", f"Tệp quét «{filename}» nặng {len(data) / 1048576:.1f} MB; tối đa {limit / 1048576:.0f} MB.")
    kind = _sniff(data)
    if kind is None:
        _refuse("scan", f"Tệp «{filename}» không phải PDF hoặc JPEG; chỉ nhận bản quét dạng PDF hoặc JPEG.")
    rel, digest = storage.write(f"{d.school.code}/so-hoa/{d.pk}", data, kind)
    before = d.scan_sha256
    d.scan_file, d.scan_sha256, d.scan_name = rel, digest, (filename or f"ban-quet.{kind}")[:255]
    d.scan_size, d.scan_type = len(data), kind
    d.save(update_fields=["scan_file", "scan_sha256", "scan_name", "scan_size", "scan_type"])
    audit("digitise.scan", actor=actor, school=d.school, obj=d,
          extra={"sha256": digest, "bytes": len(data), "type": kind, "name": d.scan_name, "replaced": before})
    return d


def read_scan(actor, d: Digitisation) -> tuple[bytes, str]:
    permissions.require_view(actor, d)
    if not d.scan_file:
        raise ActionError("Chưa có bản quét.")
    return storage.read(d.scan_file, d.scan_sha256), Digitisation.SCAN_TYPES[d.scan_type]


@transaction.atomic
def mark_reviewed(actor, d: Digitisation, row_ids) -> int:
    """The academic staff member marks subjects whose teacher has left as checked against the paper."""
    permissions.require_enter(actor, d.school)
    d = _locked(d)
    _require_draft(d)
    rows = list(d.subjects.filter(pk__in=[int(i) for i in row_ids if str(i).isdigit()]).select_related("subject"))
    for row in rows:
        if not row.departed:
            raise ActionError(f"Môn {row.subject.name}: giáo viên {row.teacher.full_name} còn công tác tại trường, "
                              "nên chính giáo viên rà soát và ký môn này.")
    now = timezone.now()
    for row in rows:
        row.reviewed_by, row.reviewed_at = actor, now
        row.save(update_fields=["reviewed_by", "reviewed_at"])
    if rows:
        audit("digitise.review", actor=actor, school=d.school, obj=d,
              extra={"subjects": [r.subject.code for r in rows]})
    return len(rows)


# --- submitting: the học bạ số is generated ------------------------------------------------------------------

def filled_rows(d: Digitisation) -> list[DigitisedSubject]:
    """The rows with anything typed in; an untouched row is a subject the student did not take."""
    return [r for r in d.subjects.select_related("subject", "teacher__user")
            if r.hk1 or r.hk2 or r.year or r.teacher_name or r.teacher_id]


def problems(d: Digitisation) -> list[str]:
    """What is still missing before the entry may be submitted (Vietnamese, one line each)."""
    out = []
    if not d.scan_sha256:
        out.append("Chưa đính kèm bản quét học bạ giấy.")
    rows = filled_rows(d)
    if not rows:
        out.append("Chưa nhập kết quả môn học nào.")
    for r in rows:
        if not r.year:
            out.append(f"Môn {r.subject.name}: thiếu kết quả cả năm.")
        if not r.teacher_name:
            out.append(f"Môn {r.subject.name}: thiếu tên giáo viên ghi trên học bạ giấy.")
        if r.departed and r.reviewed_at is None:
            out.append(f"Môn {r.subject.name}: giáo viên đã chuyển công tác; học vụ cần đánh dấu đã rà soát.")
    if not d.student.disabled_not_assessed:
        for field, label in (("conduct_hk1", "rèn luyện học kì I"), ("conduct_hk2", "rèn luyện học kì II"),
                             ("conduct_year", "rèn luyện cả năm"), ("learning_hk1", "học tập học kì I"),
                             ("learning_hk2", "học tập học kì II"), ("learning_year", "học tập cả năm")):
            if not getattr(d, field):
                out.append(f"Thiếu kết quả {label}.")
    if not d.outcome:
        out.append("Chưa chọn kết quả cuối năm.")
    if not d.homeroom_name and d.homeroom_teacher_id is None:
        out.append("Thiếu tên giáo viên chủ nhiệm ghi trên học bạ giấy.")
    if not d.homeroom_comment:
        out.append("Thiếu nhận xét của giáo viên chủ nhiệm.")
    if records_actions.default_leader(d.school) is None:
        out.append("Trường chưa có hiệu trưởng có tài khoản để ký và chịu trách nhiệm thay giáo viên đã chuyển.")
    return out


def _holder_class(d: Digitisation) -> SchoolClass:
    """The class the record is filed under at this school: the class of that name in that year if the paper
    year was spent here, otherwise a class "SH<grade>" of that year kept for digitised records."""
    start = int(d.school_year[:4])
    year, created = SchoolYear.objects.get_or_create(
        school=d.school, name=d.school_year,
        defaults={"start_date": dt.date(start, 9, 5), "end_date": dt.date(start + 1, 5, 31)})
    here = d.school_name.strip().casefold() == d.school.name.strip().casefold()
    name = d.class_name if here else f"SH{d.grade}"
    cls, class_created = SchoolClass.objects.get_or_create(school=d.school, year=year, name=name,
                                                           defaults={"grade": d.grade})
    if cls.grade != d.grade:
        _refuse("class_name", f"Lớp {name} năm học {d.school_year} của trường là lớp khối {cls.grade}, "
                              f"không phải khối {d.grade}.")
    d._filed = {"year_created": created, "class_created": class_created, "class": name}
    return cls


def build_document(d: Digitisation, rows: list[DigitisedSubject], principal: Staff, *,
                   today: dt.date | None = None) -> records_build.Built:
    """The học bạ năm học from what was typed: marked digitised, carrying the scan's SHA-256. A teacher still
    at the school is the subject's teacher (and signs it); for a teacher who has left the principal answers
    for the row and is named and signs in their place (the paper's name is kept in the snapshot)."""
    today = today or timezone.localdate()
    reasons: list[str] = []
    student = records_build._student(d.student, reasons)
    if student is None:
        raise ActionError("Chưa tạo được học bạ: " + "; ".join(reasons))
    teachers: dict[str, Staff] = {}
    subjects = []
    for r in rows:
        staff = r.teacher or principal
        person = records_build.person(staff)
        subjects.append(SubjectResult(code=r.subject.code, name=r.subject.name, kind=r.subject.kind, hk1=r.hk1 or None,
                                      hk2=r.hk2 or None, year=r.year or None, teachers=(person,),
                                      comment=r.comment))
        teachers[f"gv-{r.subject.code}-{person.personal_number}"] = staff
    homeroom = d.homeroom_teacher or principal
    previous = records_build.previous_years(d.school_year, [d.student.personal_number]).get(d.student.personal_number)
    principals = {s.school_id: s.full_name for s in [principal]}
    record = HocBaNamHoc(
        record_id=str(uuid.uuid4()), version=1, school_year=d.school_year,
        school=records_build.school_info(d.school), student=student, grade=d.grade, class_name=d.class_name,
        homeroom_teacher=records_build.person(homeroom), leader=records_build.leader_of(principal),
        issue_place=d.school.province_name, issue_date=today, created_date=today, subjects=tuple(subjects),
        conduct=Levels(d.conduct_hk1 or None, d.conduct_hk2 or None, d.conduct_year or None),
        learning=Levels(d.learning_hk1 or None, d.learning_hk2 or None, d.learning_year or None),
        adjusted_by=AdjustedBy(), outcome=d.outcome, absences=d.absences, homeroom_comment=d.homeroom_comment,
        digitised=True, scan_sha256=d.scan_sha256,
        history=(StudyYear(d.school_year, d.class_name, d.school_name, d.province_name,
                           principal_name=principals.get(d.school_id, "")
                           if d.school_name.strip().casefold() == d.school.name.strip().casefold() else ""),),
        previous_year=PreviousYear(str(previous.record_id), previous.xml_sha256) if previous else None,
        updated_at=timezone.localtime().replace(microsecond=0))
    source = {"digitised": {
        "digitisation_id": d.pk, "scan_sha256": d.scan_sha256, "scan_name": d.scan_name, "scan_bytes": d.scan_size,
        "entered_by": d.created_by.get_username(), "school_name": d.school_name, "class_name": d.class_name,
        "homeroom_on_paper": d.homeroom_name, "homeroom_signer": homeroom.staff_code,
        "subjects": [{"code": r.subject.code, "hk1": r.hk1, "hk2": r.hk2, "year": r.year,
                      "teacher_on_paper": r.teacher_name,
                      "signer": (r.teacher or principal).staff_code, "teacher_left": r.departed,
                      "reviewed_by": r.reviewed_by.get_username() if r.reviewed_by else "",
                      "reviewed_at": r.reviewed_at} for r in rows],
        "answerable": principal.staff_code}}
    return records_build.Built(d.student, record, records_build.jsonable(source), teachers)


def submit(actor, d: Digitisation) -> Digitisation:
    """The academic staff member confirms the entry matches the paper: the học bạ số is generated (its steps:
    each current teacher their subject, the principal the subjects of teachers who have left, the GVCN or the
    principal for them, the principal's approval, the seal) and the entry becomes ``reviewed``."""
    permissions.require_enter(actor, d.school)
    d = Digitisation.objects.select_related("school__department", "student", "created_by", "homeroom_teacher").get(
        pk=d.pk)
    _require_draft(d)
    missing = problems(d)
    if missing:
        raise ActionError(missing)
    principal = records_actions.default_leader(d.school)
    rows = filled_rows(d)
    try:
        built = build_document(d, rows, principal)
    except RecordError as exc:
        raise ActionError(f"Dữ liệu chưa hợp lệ: {exc}") from exc
    with transaction.atomic():
        d = _locked(d)
        _require_draft(d)
        if HocBaRecord.objects.filter(student=d.student, year__name=d.school_year, school=d.school,
                                      status__in=HocBaRecord.OPEN_STATUSES).exists():
            raise ActionError(f"Học sinh đã có học bạ số năm học {d.school_year}.")
        school_class = _holder_class(d)
        record = records_actions.generate_records(actor, school_class, principal, [built],
                                                  homeroom=d.homeroom_teacher or principal)[0]
        d.status, d.submitted_by, d.submitted_at = Digitisation.REVIEWED, actor, timezone.now()
        d.answerable, d.record = principal, record
        d.save(update_fields=["status", "submitted_by", "submitted_at", "answerable", "record"])
        audit("digitise.submit", actor=actor, school=d.school, obj=d,
              extra={"record_id": str(record.record_id), "scan_sha256": d.scan_sha256,
                     "answerable": principal.staff_code, "filed_under": d._filed,
                     "departed": [r.subject.code for r in rows if r.departed]})
    return d


@transaction.atomic
def cancel(actor, d: Digitisation, reason: str) -> Digitisation:
    """Gives up an entry never issued (its unissued record is cancelled with it)."""
    permissions.require_enter(actor, d.school)
    d = _locked(d)
    if d.status not in (Digitisation.DRAFT, Digitisation.REVIEWED):
        raise ActionError("Chỉ huỷ được bản số hóa chưa phát hành.")
    reason = (reason or "").strip()
    if len(reason) < 5:
        _refuse("reason", "Cần ghi lí do huỷ (ít nhất 5 ký tự).")
    if d.record_id is not None:
        records_actions.cancel(actor, d.record, f"Huỷ bản số hóa: {reason}")
    d.status = Digitisation.CANCELLED
    d.save(update_fields=["status"])
    audit("digitise.cancel", actor=actor, school=d.school, obj=d, extra={"reason": reason})
    return d


# --- signing and issue (the records pipeline) ----------------------------------------------------------------

def _run(actor, d: Digitisation, kind: str, steps, signer) -> int:
    batch = workflow.create_batch(actor, d.school, kind, steps, signer=signer)
    if batch is None:
        return 0
    batch = workflow.run_batch(batch)
    if batch.state != SigningBatch.FINISHED or batch.failed:
        reasons = [batch.error] + list(batch.items.exclude(error="").values_list("error", flat=True))
        raise ActionError("Chưa ký được: " + "; ".join(r for r in reasons if r))
    return batch.done


def _waiting_for(record: HocBaRecord, kinds) -> list[str]:
    return [f"{s.get_kind_display()} {s.signer.full_name if s.signer else ''} ({s.label})".strip()
            for s in record.steps.filter(kind__in=kinds, state=SignatureStep.PENDING).select_related("signer")]


def sign_own(actor, d: Digitisation) -> int:
    """A teacher still at the school reviews and signs the subjects they taught (and the GVCN part if they
    were the GVCN); only their own steps, through a records batch. Returns the signatures made."""
    d = Digitisation.objects.select_related("school", "record").get(pk=d.pk)
    if d.status != Digitisation.REVIEWED or d.record is None:
        raise ActionError("Bản số hóa chưa được gửi rà soát, hoặc đã phát hành.")
    staff = records_permissions.require_personal_signer(actor, d.school, SignatureStep.GVBM)
    made = _run(actor, d, SignatureStep.GVBM,
                workflow.eligible_steps(SignatureStep.GVBM, signer=staff, records=[d.record]), staff)
    if d.homeroom_teacher_id == staff.pk:
        made += _run(actor, d, SignatureStep.GVCN,
                     workflow.eligible_steps(SignatureStep.GVCN, signer=staff, records=[d.record]), staff)
    if not made:
        raise ActionError("Bạn không có chữ ký nào cần thực hiện ở học bạ này (không phải môn bạn dạy, "
                          "hoặc đã ký rồi).")
    return made


def sign_and_issue(actor, d: Digitisation) -> tuple[int, list[str]]:
    """The principal who answers for the entry signs in place of the teachers who have left (their subjects,
    and the GVCN part if the GVCN left), approves, and seals: the record is issued. Stops where a teacher
    still at the school has not signed, and says who. Returns (signatures made, who is still awaited)."""
    d = Digitisation.objects.select_related("school", "record", "answerable").get(pk=d.pk)
    permissions.require_answerable(actor, d)
    if d.status != Digitisation.REVIEWED or d.record is None:
        raise ActionError("Bản số hóa chưa được gửi rà soát, hoặc đã phát hành.")
    staff, record = d.answerable, d.record
    made = _run(actor, d, SignatureStep.GVBM,
                workflow.eligible_steps(SignatureStep.GVBM, signer=staff, records=[record]), staff)
    waiting = _waiting_for(record, [SignatureStep.GVBM])
    if not waiting:
        made += _run(actor, d, SignatureStep.GVCN,
                     workflow.eligible_steps(SignatureStep.GVCN, signer=staff, records=[record]), staff)
        waiting = _waiting_for(record, [SignatureStep.GVCN])
    if not waiting:
        made += _run(actor, d, SignatureStep.LEADER,
                     workflow.eligible_steps(SignatureStep.LEADER, signer=staff, records=[record]), staff)
        records_permissions.require_seal(actor, d.school)
        made += _run(actor, d, SignatureStep.SEAL, workflow.eligible_steps(SignatureStep.SEAL, records=[record]), None)
    note_issued(actor, d)
    return made, waiting


@transaction.atomic
def note_issued(actor, d: Digitisation) -> Digitisation:
    """Marks the entry issued once its record was issued (by this page's seal or the class page's)."""
    d = Digitisation.objects.select_for_update(of=("self",)).select_related("record", "school").get(pk=d.pk)
    if d.status == Digitisation.REVIEWED and d.record is not None and d.record.status == HocBaRecord.ISSUED:
        d.status = Digitisation.ISSUED
        d.save(update_fields=["status"])
        audit("digitise.issued", actor=actor, school=d.school, obj=d,
              extra={"record_id": str(d.record.record_id), "scan_sha256": d.scan_sha256})
    return d
