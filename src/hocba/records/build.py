"""From the released grade book to ``hocba.documents.HocBaNamHoc``: what a class's học bạ say.

Only a class whose book of the whole year is released (``ClassSignoff`` "year" = ban hành) is read, and each
student's results come from ``hocba.rules.evaluate`` on the grade book's cells (``gradebook.results.
rules_input``), exactly as the class summary computes them. ``load_class`` reads a class in a fixed number of
queries; ``build`` is pure over what it loaded. A student whose year is not final (summer step pending, no
GVCN comment, an ethnicity not on the national list...) is reported with the reasons and gets no record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from hocba.documents import (
    Address,
    AdjustedBy,
    Certificate,
    HocBaNamHoc,
    Leader,
    Levels,
    PageCorrections,
    Parent,
    Person,
    PreviousYear,
    RecordError,
    SchoolInfo,
    StudyYear,
    SubjectResult,
)
from hocba.documents import Student as DocStudent
from hocba.documents.signers import teacher_field
from hocba.gradebook.models import CellChange, ClassSignoff, StudentSemester, StudentYear, SubjectRow
from hocba.gradebook.results import ACTIVE_STATUSES, rules_input
from hocba.rules import evaluate
from hocba.school.models import Enrolment, SchoolClass, Staff, Student, SubjectPlan, TeachingAssignment

from . import codes
from .models import HocBaRecord

LEVEL_NAMES = {"T": "Tốt", "K": "Khá", "Đ": "Đạt", "CĐ": "Chưa đạt"}
AWARDS = {"xuat_sac": "Danh hiệu Học sinh Xuất sắc", "gioi": "Danh hiệu Học sinh Giỏi"}


class NotReleased(Exception):
    """The class's grade book cannot be carried into the học bạ yet; ``problems`` says what is missing."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


@dataclass(frozen=True)
class NotReady:
    student: Student
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Built:
    """One student's record, the data it was made from, and who signs each teacher field."""

    student: Student
    record: HocBaNamHoc
    source: dict
    teachers: dict[str, Staff]  # PDF field name → the teacher who signs it

    @property
    def source_sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.source).encode()).hexdigest()


@dataclass
class ClassData:
    """Everything ``build`` reads, loaded once for a class (or some of its students)."""

    school_class: SchoolClass
    signoff: ClassSignoff
    students: list[Student]
    plans: list[SubjectPlan]
    rows: dict[int, list[SubjectRow]] = field(default_factory=dict)
    semesters: dict[int, dict[int, StudentSemester]] = field(default_factory=dict)
    years: dict[int, StudentYear] = field(default_factory=dict)
    teachers: dict[int, list[Staff]] = field(default_factory=dict)  # subject id → teachers (both semesters)
    corrections: dict[int, dict[int, int]] = field(default_factory=dict)  # student → subject → count
    history: dict[int, list[Enrolment]] = field(default_factory=dict)  # student → enrolments up to this year
    principals: dict[int, str] = field(default_factory=dict)  # school id → principal's name
    previous: dict[str, HocBaRecord] = field(default_factory=dict)  # personal number → previous issued year


# --- loading ---------------------------------------------------------------------------------------------

def release_problems(school_class: SchoolClass) -> list[str]:
    """Why the class's grade book cannot be carried into the học bạ yet ([] when it can)."""
    problems = []
    states = dict(ClassSignoff.objects.filter(school_class=school_class).values_list("period", "state"))
    if states.get("year") != ClassSignoff.RELEASED:
        state = {ClassSignoff.CONFIRMED: "mới được GVCN xác thực", ClassSignoff.OPEN: "đang rà soát"}.get(
            states.get("year"), "chưa được xác thực")
        problems.append(f"Sổ theo dõi cả năm của lớp {school_class.name} chưa được ban hành ({state}); học bạ chỉ "
                        "được tạo từ sổ đã ban hành.")
    if school_class.homeroom_teacher_id is None:
        problems.append(f"Lớp {school_class.name} chưa có giáo viên chủ nhiệm.")
    return problems


def load_class(school_class: SchoolClass, students: list[Student] | None = None) -> ClassData:
    """Reads a released class in a fixed number of queries. Raises ``NotReleased`` otherwise."""
    problems = release_problems(school_class)
    if problems:
        raise NotReleased(problems)
    signoff = ClassSignoff.objects.select_related("released_by").get(school_class=school_class, period="year")
    if students is None:
        students = [e.student for e in Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
                    .select_related("student").order_by("student__sort_key", "student_id")]
    ids = [s.pk for s in students]
    year_id = school_class.year_id
    data = ClassData(school_class=school_class, signoff=signoff, students=students,
                     plans=list(SubjectPlan.objects.filter(year_id=year_id, grade=school_class.grade)
                                .select_related("subject").order_by("order", "subject__order")))
    rows: dict[int, list[SubjectRow]] = defaultdict(list)
    for row in SubjectRow.objects.filter(year_id=year_id, student_id__in=ids):
        rows[row.student_id].append(row)
    data.rows = rows
    semesters: dict[int, dict[int, StudentSemester]] = defaultdict(dict)
    for r in StudentSemester.objects.filter(year_id=year_id, student_id__in=ids):
        semesters[r.student_id][r.semester] = r
    data.semesters = semesters
    data.years = {y.student_id: y for y in StudentYear.objects.filter(year_id=year_id, student_id__in=ids)}
    teachers: dict[int, list[Staff]] = defaultdict(list)
    for a in (TeachingAssignment.objects.filter(school_class=school_class).select_related("teacher")
              .order_by("semester", "teacher__sort_key")):
        if all(t.pk != a.teacher_id for t in teachers[a.subject_id]):
            teachers[a.subject_id].append(a.teacher)
    data.teachers = teachers
    corrections: dict[int, dict[int, int]] = defaultdict(dict)
    for student_id, subject_id, n in (CellChange.objects.filter(
            row__year_id=year_id, row__student_id__in=ids, is_correction=True).exclude(slot="comment")
            .values_list("row__student_id", "row__subject_id").annotate(n=Count("id"))):
        corrections[student_id][subject_id] = n
    data.corrections = corrections
    # study history: every enrolment up to this year, at this school or another one (same personal number)
    numbers = {s.personal_number: s.pk for s in students}
    history: dict[int, list[Enrolment]] = defaultdict(list)
    for e in (Enrolment.objects.filter(student__personal_number__in=numbers,
                                       year__name__lte=school_class.year.name)
              .exclude(status__in=("transferred_out", "dropped_out"))
              .select_related("year", "school_class", "school", "student").order_by("year__name")):
        history[numbers[e.student.personal_number]].append(e)
    data.history = history
    school_ids = {e.school_id for es in history.values() for e in es} | {school_class.school_id}
    data.principals = {s.school_id: s.full_name for s in Staff.objects.filter(
        school_id__in=school_ids, position="HT", is_active=True).order_by("pk")}
    data.previous = previous_years(school_class.year.name, list(numbers))
    return data


def previous_year_name(year_name: str) -> str:
    start = int(year_name[:4])
    return f"{start - 1}-{start}"


def previous_years(year_name: str, personal_numbers: list[str]) -> dict:
    """Personal number → the version in force of the student's previous year (any school), or else that year
    as received from another school in a transfer package (``interop.ReceivedRecord``, same ``record_id``,
    ``version`` and ``xml_sha256``): the chain continues from the received bytes."""
    from hocba.interop.models import ReceivedRecord

    out: dict = {}
    for r in (ReceivedRecord.objects.filter(student__personal_number__in=personal_numbers,
                                            school_year=previous_year_name(year_name))
              .select_related("student").order_by("version")):
        out[r.student.personal_number] = r
    for r in (HocBaRecord.objects.filter(student__personal_number__in=personal_numbers, status=HocBaRecord.ISSUED,
                                         year__name=previous_year_name(year_name))
              .select_related("student").order_by("version")):
        out[r.student.personal_number] = r
    return out


# --- building --------------------------------------------------------------------------------------------

def school_info(school) -> SchoolInfo:
    commune = school.commune_code if len(school.commune_code or "") == 5 and school.commune_code.isdigit() else None
    return SchoolInfo(department_code=school.department.code, department_name=school.department.name,
                      code=school.code, name=school.name, commune_name=school.commune_name,
                      province_name=school.province_name, province_code=school.province_code,
                      commune_code=commune, address=school.address, level_code=school.level_code or "2")


def leader_of(staff: Staff) -> Leader:
    on_behalf = staff.position == "PHT"
    return Leader(staff.full_name, staff.personal_number, "Phó hiệu trưởng" if on_behalf else "Hiệu trưởng",
                  on_behalf=on_behalf)


def person(staff: Staff) -> Person:
    return Person(staff.full_name, staff.personal_number)


def _parent(name: str, occupation: str) -> Parent | None:
    return Parent(name, occupation) if name.strip() else None


def _student(s: Student, reasons: list[str]) -> DocStudent | None:
    ethnicity = codes.ethnicity(s.ethnicity)
    nationality = codes.nationality(s.nationality)
    if ethnicity is None:
        reasons.append(f"dân tộc «{s.ethnicity}» không có trong danh mục dân tộc (QCVN 109:2017)")
    if nationality is None:
        reasons.append(f"quốc tịch «{s.nationality}» không có trong danh mục quốc tịch")
    if ethnicity is None or nationality is None:
        return None
    return DocStudent(
        name=s.full_name, personal_number=s.personal_number, student_code=s.student_code,
        gender=s.gender if s.gender in ("1", "2") else "0", birth_date=s.birth_date,
        birthplace=Address(s.birthplace or "—"), hometown=Address(s.hometown or "—"),
        residence=Address(s.residence or "—"), ethnicity_code=ethnicity[0], ethnicity_name=ethnicity[1],
        nationality_code=nationality[0], nationality_name=nationality[1], policy_group=s.policy_group,
        disabled_not_assessed=s.disabled_not_assessed, father=_parent(s.father_name, s.father_occupation),
        mother=_parent(s.mother_name, s.mother_occupation), guardian=_parent(s.guardian_name, s.guardian_occupation),
        register_number=s.register_number)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _comment(rows: list[SubjectRow], subject_id: int) -> str:
    by_semester = {r.semester: r.comment for r in rows if r.subject_id == subject_id and r.comment.strip()}
    return by_semester.get(2) or by_semester.get(1) or ""


def build(data: ClassData, leader: Staff, *, today: dt.date | None = None, record_ids: dict[int, str] | None = None,
          versions: dict[int, tuple[int, str]] | None = None) -> tuple[list[Built], list[NotReady]]:
    """The records of the loaded students. ``versions``: student id → (version, replaced record id) for a
    new version; ``record_ids``: student id → the UUID to use (default: a new one)."""
    today = today or timezone.localdate()
    cls = data.school_class
    school = school_info(cls.school)
    signing_leader = leader_of(leader)
    homeroom = person(cls.homeroom_teacher)
    plans_by_id = {p.subject_id: p for p in data.plans}
    built: list[Built] = []
    not_ready: list[NotReady] = []
    for s in data.students:
        reasons: list[str] = []
        doc_student = _student(s, reasons)
        rows = data.rows.get(s.pk, [])
        semesters = data.semesters.get(s.pk, {})
        year = data.years.get(s.pk)
        rules_in = rules_input(s, rows, semesters, year, data.plans)
        evaluated = evaluate(rules_in)
        decision = year.principal_decision if year is not None else ""
        if "error" in evaluated:
            if not s.disabled_not_assessed:
                reasons.append(f"kết quả chưa tính được ({evaluated['error']})")
            evaluated = None
        outcome = decision or (evaluated["outcome"] if evaluated else None)
        if outcome == "pending_summer":
            reasons.append("chưa có kết quả kiểm tra lại hoặc rèn luyện trong kì nghỉ hè")
        elif outcome is None:
            reasons.append("chưa có quyết định lên lớp của hiệu trưởng (học sinh khuyết tật, Điều 11)")
        comment = (year.gvcn_comment if year is not None else "").strip()
        if not comment:
            reasons.append("chưa có nhận xét của giáo viên chủ nhiệm")
        subjects, teachers = [], {}
        results = {e["code"]: e for e in (evaluated or {}).get("subjects", [])}
        retest = set((evaluated or {}).get("retest_subjects", []))
        summer_values = (year.summer_retest or {}) if year is not None else {}
        taken = [entry["code"] for entry in rules_in["subjects"]]
        for code in taken:
            plan = next(p for p in data.plans if p.subject.code == code)
            staff = data.teachers.get(plan.subject_id, [])
            if not staff:
                reasons.append(f"môn {plan.subject.name} chưa có giáo viên được phân công")
                continue
            people = tuple(person(t) for t in staff)
            for t, p in zip(staff, people, strict=True):
                teachers[teacher_field(code, p)] = t
            result = results.get(code, {})
            subjects.append(SubjectResult(
                code=code, name=plan.subject.name, kind=plan.kind, hk1=result.get("hk1"), hk2=result.get("hk2"),
                year=result.get("year"), teachers=people,
                reassessed=summer_values.get(code) if code in retest else None,
                comment=_comment(rows, plan.subject_id), elective=plan.elective))
        if reasons or doc_student is None:
            not_ready.append(NotReady(s, tuple(reasons)))
            continue
        ev = evaluated or {"learning": {}, "conduct": {}, "adjusted": {}, "award": None}
        corrected = data.corrections.get(s.pk, {})
        corrections = ()
        if corrected:
            names = tuple(plans_by_id[sid].subject.name for sid in sorted(
                corrected, key=lambda sid: plans_by_id[sid].order if sid in plans_by_id else 999) if sid in plans_by_id)
            corrections = (PageCorrections("monhoc", sum(corrected.values()), names),)
        conduct_summer = ev["conduct"].get("summer")
        previous = data.previous.get(s.personal_number)
        version, replaces = (versions or {}).get(s.pk, (1, None))
        try:
            record = HocBaNamHoc(
                record_id=(record_ids or {}).get(s.pk) or str(uuid.uuid4()), version=version, replaces=replaces,
                school_year=cls.year.name, school=school, student=doc_student, grade=cls.grade,
                class_name=cls.name, homeroom_teacher=homeroom, leader=signing_leader,
                issue_place=cls.school.province_name, issue_date=today, created_date=today,
                subjects=tuple(subjects),
                conduct=Levels(ev["conduct"].get("hk1"), ev["conduct"].get("hk2"), ev["conduct"].get("year"),
                               conduct_summer),
                learning=Levels(ev["learning"].get("hk1"), ev["learning"].get("hk2"), ev["learning"].get("year"),
                                ev["learning"].get("summer")),
                adjusted_by=AdjustedBy(**{k: ev["adjusted"].get(k) for k in ("hk1", "hk2", "year", "summer")}),
                outcome=outcome, absences=rules_in["absences"], homeroom_comment=comment,
                summer_training=(f"Kết quả rèn luyện trong kì nghỉ hè: {LEVEL_NAMES[conduct_summer]}"
                                 if conduct_summer else ""),
                certificates=tuple(Certificate(line) for line in _lines(year.certificates)),
                contests=tuple(_lines(year.contests)),
                awards=(AWARDS[ev["award"]],) if ev.get("award") in AWARDS else (),
                corrections=corrections, history=_history(data, s),
                previous_year=PreviousYear(str(previous.record_id), previous.xml_sha256) if previous else None,
                updated_at=timezone.localtime().replace(microsecond=0))
        except RecordError as exc:
            not_ready.append(NotReady(s, (str(exc),)))
            continue
        source = {
            "gradebook": {"class_signoff_id": data.signoff.pk, "released_at": data.signoff.released_at,
                          "released_by": data.signoff.released_by.get_username() if data.signoff.released_by else "",
                          "snapshot_sha256": data.signoff.snapshot_sha256},
            "rules_input": rules_in, "rules_output": evaluated, "principal_decision": decision,
            "teachers": {f: t.staff_code for f, t in teachers.items()},
            "previous_year": {"record_id": str(previous.record_id), "version": previous.version,
                              "sha256": previous.xml_sha256} if previous else None,
        }
        built.append(Built(s, record, jsonable(source), teachers))
    return built, not_ready


def _history(data: ClassData, s: Student) -> tuple[StudyYear, ...]:
    out = {}
    for e in data.history.get(s.pk, []):
        out[e.year.name] = StudyYear(
            e.year.name, e.school_class.name, e.school.name, e.school.province_name,
            transfer_in_date=e.status_date if e.status == "transferred_in" else None,
            principal_name=data.principals.get(e.school_id, ""))
    return tuple(out.values())


# --- snapshots -------------------------------------------------------------------------------------------

def jsonable(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def canonical_json(value) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def students_in_class(school_class: SchoolClass, q: Q | None = None) -> list[Student]:
    qs = Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
    if q is not None:
        qs = qs.filter(q)
    return [e.student for e in qs.select_related("student").order_by("student__sort_key", "student_id")]
