"""Read-side of the grade book: what the teacher's start page, the leadership's progress board and the
printed page show. Each selector runs a fixed number of queries whatever the number of classes or
students; callers check who may see what (``permissions``) before calling the school-wide ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict

from django.db.models import Count
from django.utils import timezone

from hocba.school.models import Enrolment, SchoolClass, SchoolYear, Subject, SubjectPlan, TeachingAssignment
from hocba.school.permissions import principal_of

from .models import CellChange, ClassSignoff, ColumnSignoff, Deadline, SubjectRow
from .results import ACTIVE_STATUSES, PERIOD_SEMESTERS


@dataclasses.dataclass(frozen=True)
class ColumnInfo:
    """One of a teacher's columns (class × subject × semester) and how far its entry has come."""

    assignment: TeachingAssignment
    school_class: SchoolClass
    subject: Subject
    semester: int
    state: str  # ColumnSignoff state: "open" / "confirmed" / "unlocked"
    released: bool  # the class book of the semester (or year) is released: nothing changes any more
    entered: int  # required cells entered or marked absent
    required: int  # required cells (ĐĐGtx, ĐĐGgk, ĐĐGck) of the active students
    students: int

    @property
    def percent(self) -> int:
        return 100 if not self.required else (100 * self.entered) // self.required


@dataclasses.dataclass(frozen=True)
class ClassProgress:
    """A class × subject × semester on the leadership's progress board."""

    school_class: SchoolClass
    subject: Subject
    semester: int
    state: str  # "open" / "confirmed" / "unlocked"
    confirmed: bool
    released: bool
    entered: int
    required: int
    deadline: dt.date | None  # the "release" deadline of the class's grade
    overdue: bool  # past the deadline and not released yet

    @property
    def percent(self) -> int:
        return 100 if not self.required else (100 * self.entered) // self.required


@dataclasses.dataclass(frozen=True)
class SubjectCorrections:
    code: str
    name: str
    count: int


@dataclasses.dataclass(frozen=True)
class PageCorrections:
    """Marks corrected after confirmation (CellChange.is_correction; comments are not marks), per subject,
    for the printed page's "Trong trang này có … điểm được sửa chữa, trong đó môn: …"."""

    total: int
    by_subject: list[SubjectCorrections]  # in plan order, subjects with at least one correction

    @property
    def sentence(self) -> str:
        if not self.total:
            return "Trong trang này không có điểm nào được sửa chữa."
        parts = ", ".join(f"{s.name}: {s.count}" for s in self.by_subject)
        return f"Trong trang này có {self.total} điểm được sửa chữa, trong đó môn: {parts}."


def _filled(tx: list, gk: str, ck: str, absent: list, tx_required: int) -> int:
    marked = set(absent or ())
    count = sum(1 for i in range(tx_required)
                if (i < len(tx) and tx[i]) or f"tx{i + 1}" in marked)
    return count + sum(1 for slot, value in (("gk", gk), ("ck", ck)) if value or slot in marked)


def _assessed_students(class_ids) -> tuple[Counter, dict[int, set[int]]]:
    """Active students per class and their ids, leaving out those not assessed (Điều 11), whose cells
    may stay empty."""
    students: Counter = Counter()
    assessed: dict[int, set[int]] = defaultdict(set)
    for class_id, student_id, not_assessed in Enrolment.objects.filter(
            school_class_id__in=class_ids, status__in=ACTIVE_STATUSES).values_list(
            "school_class_id", "student_id", "student__disabled_not_assessed"):
        if not not_assessed:
            students[class_id] += 1
            assessed[class_id].add(student_id)
    return students, assessed


def _cells(class_ids, year_id: int, assessed: dict[int, set[int]], tx_required: dict[tuple[int, int], int],
           grade_of: dict[int, int]) -> Counter:
    """Required cells entered (or marked absent) per (class, subject, semester), in one query."""
    entered: Counter = Counter()
    rows = SubjectRow.objects.filter(school_class_id__in=class_ids, year_id=year_id).values_list(
        "school_class_id", "subject_id", "semester", "student_id", "tx", "gk", "ck", "absent")
    for class_id, subject_id, semester, student_id, tx, gk, ck, absent in rows:
        if student_id not in assessed[class_id]:
            continue
        need = tx_required.get((grade_of[class_id], subject_id))
        if need is None:
            continue
        entered[(class_id, subject_id, semester)] += _filled(tx, gk, ck, absent, need)
    return entered


def _released(class_ids) -> set[tuple[int, int]]:
    """(class, semester) whose book is released, by its semester or by the year."""
    out = set()
    for class_id, period in ClassSignoff.objects.filter(school_class_id__in=class_ids,
                                                         state=ClassSignoff.RELEASED).values_list(
            "school_class_id", "period"):
        for n in PERIOD_SEMESTERS[period]:
            out.add((class_id, n))
    return out


def teacher_columns(user, year: SchoolYear) -> list[ColumnInfo]:
    """The user's teaching assignments in ``year`` with each column's state and how much is entered."""
    staff = principal_of(user).staff
    if staff is None:
        return []
    assignments = list(TeachingAssignment.objects.filter(teacher=staff, school_class__year=year)
                       .select_related("school_class", "subject")
                       .order_by("school_class__grade", "school_class__name", "subject__order", "semester"))
    if not assignments:
        return []
    class_ids = {a.school_class_id for a in assignments}
    grade_of = {a.school_class_id: a.school_class.grade for a in assignments}
    plans = {(p.grade, p.subject_id): p for p in SubjectPlan.objects.filter(year=year)}
    tx_required = {key: p.regular_assessments for key, p in plans.items()}
    students, assessed = _assessed_students(class_ids)
    entered = _cells(class_ids, year.pk, assessed, tx_required, grade_of)
    states = {(c.school_class_id, c.subject_id, c.semester): c.state
              for c in ColumnSignoff.objects.filter(school_class_id__in=class_ids)}
    released = _released(class_ids)
    out = []
    for a in assignments:
        key = (a.school_class_id, a.subject_id, a.semester)
        need = tx_required.get((a.school_class.grade, a.subject_id))
        required = (need + 2) * students[a.school_class_id] if need is not None else 0
        out.append(ColumnInfo(assignment=a, school_class=a.school_class, subject=a.subject, semester=a.semester,
                              state=states.get(key, ColumnSignoff.OPEN),
                              released=(a.school_class_id, a.semester) in released,
                              entered=min(entered[key], required), required=required,
                              students=students[a.school_class_id]))
    return out


def progress(school, year: SchoolYear, *, today: dt.date | None = None) -> list[ClassProgress]:
    """Every class × planned subject × semester of the year: entry, confirmation, release, deadline."""
    today = today or timezone.localdate()
    classes = list(SchoolClass.objects.filter(school=school, year=year).order_by("grade", "name"))
    if not classes:
        return []
    class_ids = [c.pk for c in classes]
    grade_of = {c.pk: c.grade for c in classes}
    plans = list(SubjectPlan.objects.filter(year=year).select_related("subject").order_by("grade", "order"))
    tx_required = {(p.grade, p.subject_id): p.regular_assessments for p in plans}
    taught = set(TeachingAssignment.objects.filter(school_class_id__in=class_ids)
                 .values_list("school_class_id", "subject_id", "semester"))
    students, assessed = _assessed_students(class_ids)
    entered = _cells(class_ids, year.pk, assessed, tx_required, grade_of)
    states = {(c.school_class_id, c.subject_id, c.semester): c.state
              for c in ColumnSignoff.objects.filter(school_class_id__in=class_ids)}
    released = _released(class_ids)
    deadlines: dict[int, dt.date] = {}
    for d in Deadline.objects.filter(year=year, kind="release"):
        for grade in d.grades.split(","):
            if grade.strip().isdigit():
                deadlines[int(grade)] = d.due
    out = []
    for c in classes:
        for semester in (1, 2):
            for p in plans:
                if p.grade != c.grade or (p.elective and (c.pk, p.subject_id, semester) not in taught):
                    continue
                key = (c.pk, p.subject_id, semester)
                required = (p.regular_assessments + 2) * students[c.pk]
                state = states.get(key, ColumnSignoff.OPEN)
                is_released = (c.pk, semester) in released
                deadline = deadlines.get(c.grade)
                out.append(ClassProgress(
                    school_class=c, subject=p.subject, semester=semester, state=state,
                    confirmed=state == ColumnSignoff.CONFIRMED, released=is_released,
                    entered=min(entered[key], required), required=required, deadline=deadline,
                    overdue=deadline is not None and today > deadline and not is_released))
    return out


def corrections_by_page(school_class: SchoolClass, period: str) -> PageCorrections:
    """Corrections (changes after a column was confirmed and unlocked) of the class in the period."""
    semesters = PERIOD_SEMESTERS[period]
    counts = dict(CellChange.objects.filter(row__school_class=school_class, row__semester__in=semesters,
                                            is_correction=True).exclude(slot="comment")
                  .values_list("row__subject_id").annotate(n=Count("id")).values_list("row__subject_id", "n"))
    if not counts:
        return PageCorrections(0, [])
    plans = {p.subject_id: p.order for p in SubjectPlan.objects.filter(
        year_id=school_class.year_id, grade=school_class.grade, subject_id__in=counts)}
    subjects = sorted(Subject.objects.filter(pk__in=counts), key=lambda s: (plans.get(s.pk, 999), s.order, s.code))
    by_subject = [SubjectCorrections(s.code, s.name, counts[s.pk]) for s in subjects]
    return PageCorrections(sum(counts.values()), by_subject)
