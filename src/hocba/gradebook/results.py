"""Results of the grade book: what TT22 makes of the cells, computed with ``hocba.rules``.

Two halves:

- The pure half (``semester_result``, ``semester_learning``, ``rules_input``, ``student_result``) reads
  plain values — anything with the attributes of a ``SubjectRow``, ``StudentSemester`` and ``StudentYear`` —
  and calls the rule engine. A semester on its own (học kì I, or học kì II while học kì I is not complete)
  goes through the engine's lower-level functions (Điều 9.1, 9.2, 9.3); a student whose whole year is
  there goes through ``hocba.rules.evaluate`` with the JSON of tt22.md §6, which the học bạ uses too.
- The loading half (``column_results``, ``class_results``) fetches a column or a class in a fixed number
  of queries, whatever the number of students, and hands the rows to the pure half.

Display values follow the Vietnamese convention: averages "8,3", comment results "Đ"/"CĐ", and "" where
a value cannot be computed yet (a periodic assessment not entered, conduct not set). A periodic
assessment marked absent (``SubjectRow.absent``) with no make-up counts as 0 or CĐ under the rule set's
``missed_assessment_counts_as_zero`` [default] and is reported as a warning (tt22.md §2, Điều 7).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from hocba.rules import (
    COMMENT,
    DEFAULT_RULES,
    LEVEL_NAMES,
    REGULATION,
    K,
    RuleSet,
    ScoreError,
    adjust_learning_level,
    comment_semester_result,
    comment_year_result,
    evaluate,
    learning_level,
    parse_score,
    subject_semester_average,
    subject_year_average,
    year_conduct,
)
from hocba.rules.subjects import subject_year_average_unrounded
from hocba.school.models import Enrolment, SchoolClass, Student, Subject, SubjectPlan

from .models import StudentSemester, StudentYear, SubjectRow

ACTIVE_STATUSES = ("studying", "transferred_in")
PERIODS = ("hk1", "hk2", "year")
PERIOD_SEMESTERS: dict[str, tuple[int, ...]] = {"hk1": (1,), "hk2": (2,), "year": (1, 2)}
SEMESTER_NAMES = {1: "học kì I", 2: "học kì II"}
PASS, FAIL = "Đ", "CĐ"


# --- what the callers get --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ColumnResult:
    """One student's result in one subject and semester."""

    average: str  # score subject: ĐTBmhk "8,3"; "" when not computable (and always "" for a comment subject)
    result: str  # comment subject: "Đ"/"CĐ"; "" when not computable (and always "" for a score subject)
    warnings: list[str]
    # Học kì II only: the subject's whole-year result (Điều 9.1) — ĐTBmcn "8,3" of a score subject, "Đ"/"CĐ"
    # of a comment subject; "" in học kì I and while either semester cannot be computed.
    year: str = ""


@dataclasses.dataclass(frozen=True)
class StudentResult:
    """One line of the class summary (tổng hợp kết quả) for one period."""

    student: Student
    subjects: dict[str, str]  # subject code → "8,3" / "Đ" / "CĐ" / ""
    learning: str  # "T"/"K"/"Đ"/"CĐ"; "" until every subject and the conduct are there
    adjusted_by: str | None  # the subject code when Điều 9.3 raised the learning level
    conduct: str  # "T"/"K"/"Đ"/"CĐ"/""
    absences: int  # sessions absent in the period, excused or not
    award: str | None  # "xuat_sac" / "gioi" (year only, Điều 15)
    outcome: str | None  # year only: promoted / pending_summer / promoted_after_summer / retained
    retest_subjects: list[str]  # year only: Điều 14
    summer: dict  # year only: {"conduct": …, "learning": …, "retest": {code: "5,5"}}; {} otherwise
    warnings: list[str]
    complete: bool  # every required assessment of the period and the conduct are entered


@dataclasses.dataclass(frozen=True)
class ClassResults:
    school_class: SchoolClass
    period: str
    subjects: list[SubjectPlan]  # the grade's plan, in plan order
    students: list[StudentResult]  # active students in Vietnamese name order


# --- the pure half -------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SemesterResult:
    """One subject in one semester: tenths (score) or True/False (comment), None when not computable."""

    value: int | bool | None
    complete: bool  # every required cell is entered (or marked absent)
    warnings: tuple[str, ...] = ()
    weighted: tuple[int, int] | None = None  # score subject: (ΣĐĐGtx + 2·gk + 3·ck in tenths, ĐĐGtx entered + 5)

    def display(self) -> str:
        return display_value(self.value)


def display_value(value: int | bool | Decimal | str | None) -> str:
    """Tenths 83 → "8,3"; True/False → "Đ"/"CĐ"; Decimal("8.3") → "8,3"; None → ""."""
    if value is None:
        return ""
    if value is True:
        return PASS
    if value is False:
        return FAIL
    if isinstance(value, int):
        return f"{value // 10},{value % 10}"
    if isinstance(value, Decimal):
        return f"{value:.1f}".replace(".", ",")
    return str(value).replace(".", ",") if str(value)[:1].isdigit() else str(value)


def required_slots(tx_required: int) -> list[str]:
    return [f"tx{i}" for i in range(1, tx_required + 1)] + ["gk", "ck"]


def missing_slots(row, tx_required: int) -> list[str]:
    """The required cells of a row that are neither entered nor marked absent (all of them without a row)."""
    if row is None:
        return required_slots(tx_required)
    absent = set(row.absent or ())
    tx = list(row.tx or ())
    out = [f"tx{i}" for i in range(1, tx_required + 1)
           if not (tx[i - 1] if i - 1 < len(tx) else "") and f"tx{i}" not in absent]
    out += [slot for slot in ("gk", "ck") if not getattr(row, slot) and slot not in absent]
    return out


def semester_result(kind: str, tx_required: int, row, *, code: str = "", semester: int = 1,
                    options: RuleSet = DEFAULT_RULES) -> SemesterResult:
    """Điều 9.1 for one subject and semester, from a row's cells (``row`` may be None: nothing entered).

    The regular assessments entered count (a shortfall is a warning); a periodic assessment marked
    absent without a make-up counts as 0 / CĐ when the rule set says so (Điều 7 [default]).
    """
    if row is None:
        return SemesterResult(None, False)
    where = f"{code}, {SEMESTER_NAMES[semester]}"
    absent = set(row.absent or ())
    warnings: list[str] = []
    regular = [v for v in (row.tx or ()) if v]
    complete = not missing_slots(row, tx_required)
    if len(regular) < tx_required:
        warnings.append(f"{where}: có {len(regular)}/{tx_required} điểm đánh giá thường xuyên (ĐĐGtx).")
    periodic: list = []
    computable = True
    for slot, label in (("gk", "giữa kì"), ("ck", "cuối kì")):
        value = getattr(row, slot)
        if value:
            periodic.append(value)
        elif slot in absent and options.missed_assessment_counts_as_zero:
            periodic.append(None)
            outcome = "tính Chưa đạt" if kind == COMMENT else "tính 0 điểm"
            warnings.append(f"{where}: vắng kiểm tra {label}, chưa kiểm tra bù, {outcome} (Điều 7).")
        else:
            computable = False
    if not computable:
        return SemesterResult(None, complete, tuple(warnings))
    if kind == COMMENT:
        passed = [v == PASS for v in regular]
        mid, end = (v == PASS if v is not None else False for v in periodic)
        return SemesterResult(comment_semester_result(passed, mid, end, tx_required), complete, tuple(warnings))
    try:
        tenths = [parse_score(v) for v in regular]
        mid, end = (parse_score(v) if v is not None else 0 for v in periodic)
    except ScoreError as exc:  # a stored value the entry would never have accepted
        return SemesterResult(None, False, (*warnings, f"{where}: {exc}"))
    return SemesterResult(subject_semester_average(tenths, mid, end), complete, tuple(warnings),
                          (sum(tenths) + 2 * mid + 3 * end, len(tenths) + 5))


def semester_learning(subjects: Iterable[tuple[str, str, int | bool | None]],
                      options: RuleSet = DEFAULT_RULES) -> tuple[str, str | None]:
    """Điều 9.2 and 9.3 for one semester from (code, kind, result) of every subject the student takes.

    Returns ("", None) while any subject has no result; otherwise the level and the subject that made
    Điều 9.3 raise it (or None).
    """
    excluded = () if options.electives_count_in_learning_level else options.elective_codes
    scores, score_codes, comments, comment_codes = [], [], [], []
    subjects = list(subjects)
    if not subjects:
        return "", None
    for code, kind, value in subjects:
        if value is None:
            return "", None
        if code in excluded:
            continue
        if kind == COMMENT:
            comments.append(bool(value))
            comment_codes.append(code)
        else:
            scores.append(value)
            score_codes.append(code)
    level = learning_level(scores, comments.count(False))
    culprit = None
    if options.adjustment_enabled and level < K:
        level, culprit = adjust_learning_level(level, scores, score_codes, comments, comment_codes)
    return LEVEL_NAMES[level], culprit


def _takes(plan: SubjectPlan, rows_by_semester: Mapping[int, object]) -> bool:
    """Compulsory subjects always; an elective only when the student has something entered in it."""
    if not plan.elective:
        return True
    return any(row is not None and (any(row.tx or ()) or row.gk or row.ck or row.absent)
               for row in rows_by_semester.values())


def _semester_input(kind: str, row) -> dict:
    """One semester of one subject as tt22.md §6 input: entered values only; an absent periodic assessment
    with no make-up is null (the engine counts it 0 / CĐ); a periodic assessment not entered is "" so the
    engine names the missing field."""
    if row is None:
        return {"tx": [], "gk": "", "ck": ""}
    absent = set(row.absent or ())
    out: dict = {"tx": [v for v in (row.tx or ()) if v]}
    for slot in ("gk", "ck"):
        value = getattr(row, slot)
        out[slot] = value if value else (None if slot in absent else "")
    return out


def rules_input(student: Student, rows: Iterable[SubjectRow], semester_records, student_year: StudentYear | None,
                plans: list[SubjectPlan]) -> dict:
    """The tt22.md §6 input of one student-year: subjects of the plan the student takes, in plan order,
    conduct and absences of both semesters, and the summer results when there are any.

    ``rows`` are the student's ``SubjectRow`` of the year (either semester); ``semester_records`` the
    ``StudentSemester`` records (an iterable, or a mapping semester → record); ``plans`` the grade's
    ``SubjectPlan`` with their subjects. Missing values stay visible to the engine, which reports them.
    """
    by_subject: dict[int, dict[int, SubjectRow]] = defaultdict(dict)
    for row in rows:
        by_subject[row.subject_id][row.semester] = row
    records = _records_by_semester(semester_records)
    subjects = []
    for plan in plans:
        semesters = by_subject.get(plan.subject_id, {})
        if not _takes(plan, semesters):
            continue
        subjects.append({"code": plan.subject.code, "kind": plan.kind, "periods": plan.periods_per_year,
                         "hk1": _semester_input(plan.kind, semesters.get(1)),
                         "hk2": _semester_input(plan.kind, semesters.get(2))})
    conduct = {f"hk{n}": (records[n].conduct if records.get(n) else "") for n in (1, 2)}
    absences = sum(r.absences_excused + r.absences_unexcused for r in records.values() if r is not None)
    data = {"id": str(student.pk), "regulation": REGULATION, "grade": plans[0].grade if plans else 0,
            "subjects": subjects, "conduct": conduct, "absences": absences}
    if student_year is not None:
        summer: dict = {}
        if student_year.summer_conduct:
            summer["conduct"] = student_year.summer_conduct
        retest = {code: value for code, value in (student_year.summer_retest or {}).items() if value}
        if retest:
            summer["retest"] = retest
        if summer:
            data["summer"] = summer
    return data


def _records_by_semester(semester_records) -> dict[int, StudentSemester]:
    if semester_records is None:
        return {}
    if isinstance(semester_records, Mapping):
        return {n: r for n, r in semester_records.items() if r is not None}
    return {r.semester: r for r in semester_records}


def student_result(student: Student, period: str, plans: list[SubjectPlan], rows: Iterable[SubjectRow],
                   semester_records, student_year: StudentYear | None,
                   options: RuleSet = DEFAULT_RULES) -> StudentResult:
    """One student's results for ``period`` ("hk1", "hk2" or "year"). Pure: no query is made."""
    if period not in PERIOD_SEMESTERS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    rows = list(rows)
    by_subject: dict[int, dict[int, SubjectRow]] = defaultdict(dict)
    for row in rows:
        by_subject[row.subject_id][row.semester] = row
    records = _records_by_semester(semester_records)
    semesters = PERIOD_SEMESTERS[period]
    taken = [p for p in plans if _takes(p, by_subject.get(p.subject_id, {}))]

    # Every subject × semester of the period on its own (Điều 9.1).
    per_semester: dict[tuple[int, int], SemesterResult] = {}
    warnings: list[str] = []
    for plan in taken:
        for n in (1,) if period == "hk1" else (1, 2):
            result = semester_result(plan.kind, plan.regular_assessments, by_subject[plan.subject_id].get(n),
                                     code=plan.subject.code, semester=n, options=options)
            per_semester[(plan.subject_id, n)] = result
            if n in semesters:
                warnings.extend(result.warnings)
    conducts = {n: (records[n].conduct if records.get(n) else "") for n in (1, 2)}
    absences = sum(records[n].absences_excused + records[n].absences_unexcused
                   for n in semesters if records.get(n) is not None)
    complete = all(per_semester[(p.subject_id, n)].complete for p in taken for n in semesters) and \
        all(conducts[n] for n in semesters)
    not_assessed = bool(getattr(student, "disabled_not_assessed", False))
    decision = student_year.principal_decision if student_year is not None else ""

    subjects = {p.subject.code: "" for p in plans}
    learning, adjusted_by, conduct = "", None, ""
    award = outcome = None
    retest: list[str] = []
    summer: dict = {}

    if period in ("hk1", "hk2") and not (period == "hk2" and _all_there(taken, per_semester, conducts)):
        n = semesters[0]
        for plan in taken:
            subjects[plan.subject.code] = per_semester[(plan.subject_id, n)].display()
        learning, adjusted_by = semester_learning(
            ((p.subject.code, p.kind, per_semester[(p.subject_id, n)].value) for p in taken), options)
        conduct = conducts[n]
    elif _all_there(taken, per_semester, conducts):
        evaluated = evaluate(rules_input(student, rows, records, student_year, plans), options)
        if "error" in evaluated:  # cannot happen for data the actions accepted; shown rather than hidden
            warnings.append(f"Không tính được kết quả: {evaluated['error']}")
            complete = False
        else:
            key = period
            for entry in evaluated["subjects"]:
                subjects[entry["code"]] = display_value(entry[key])
            learning = evaluated["learning"][key]
            adjusted_by = evaluated["adjusted"][key]
            conduct = evaluated["conduct"][key]
            if period == "year":
                warnings = list(evaluated["warnings"])
                award = evaluated["award"]
                outcome = evaluated["outcome"]
                retest = list(evaluated["retest_subjects"])
                summer = _summer(evaluated, student_year)
    else:  # the year while something is missing: what can be shown already
        for plan in taken:
            first, second = per_semester[(plan.subject_id, 1)], per_semester[(plan.subject_id, 2)]
            if plan.kind == COMMENT:
                subjects[plan.subject.code] = display_value(second.value)
            else:
                subjects[plan.subject.code] = display_value(subject_year_result(plan.kind, first, second, options))
        if conducts[1] and conducts[2]:
            conduct = year_conduct(conducts[1], conducts[2])

    if period == "year":
        if decision:  # Điều 11: the principal's decision is the outcome
            outcome = decision
        elif not_assessed:
            outcome = None
            warnings.append("Học sinh khuyết tật: hiệu trưởng quyết định việc lên lớp (Điều 11); chưa có quyết định.")
    if not_assessed:
        complete = bool(decision) if period == "year" else True
    return StudentResult(student=student, subjects=subjects, learning=learning, adjusted_by=adjusted_by,
                         conduct=conduct, absences=absences, award=award, outcome=outcome,
                         retest_subjects=retest, summer=summer, warnings=warnings, complete=complete)


def _all_there(taken, per_semester, conducts) -> bool:
    """Both semesters computable for every subject, and both conducts set: the engine can run."""
    return bool(taken) and conducts[1] != "" and conducts[2] != "" and \
        all(per_semester[(p.subject_id, n)].value is not None for p in taken for n in (1, 2))


def _summer(evaluated: dict, student_year: StudentYear | None) -> dict:
    out: dict = {}
    if "summer" in evaluated["conduct"]:
        out["conduct"] = evaluated["conduct"]["summer"]
    if "summer" in evaluated["learning"]:
        out["learning"] = evaluated["learning"]["summer"]
    retest = (student_year.summer_retest or {}) if student_year is not None else {}
    if retest:
        out["retest"] = {code: display_value(value) for code, value in retest.items() if value}
    return out


# --- the loading half ----------------------------------------------------------------------------------

def _active_enrolments(school_class: SchoolClass):
    return (Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
            .select_related("student").order_by("student__sort_key", "student_id"))


def subject_year_result(kind: str, first: SemesterResult, second: SemesterResult,
                        options: RuleSet = DEFAULT_RULES) -> int | bool | None:
    """Điều 9.1 for the whole year of one subject from its two semester results, by the rule engine:
    ĐTBmcn in tenths (``subject_year_average`` of the rounded semester averages, tt22.md §2 [default], or
    ``subject_year_average_unrounded`` when the rule set says so) or the comment subject's year result
    (``comment_year_result``); None while either semester is missing."""
    if first.value is None or second.value is None:
        return None
    if kind == COMMENT:
        return comment_year_result(bool(first.value), bool(second.value))
    if not options.year_average_from_rounded_semesters and first.weighted and second.weighted:
        return subject_year_average_unrounded(*first.weighted, *second.weighted)
    return subject_year_average(first.value, second.value)


def column_results(school_class: SchoolClass, subject: Subject, semester: int,
                   options: RuleSet = DEFAULT_RULES) -> dict[int, ColumnResult]:
    """student_id → the semester result of every active student in one column; in học kì II also the
    subject's year result (ĐTBmcn, or Đ/CĐ), from the same rows of both semesters. Three queries."""
    plan = (SubjectPlan.objects.filter(year_id=school_class.year_id, grade=school_class.grade, subject=subject)
            .select_related("subject").first())
    student_ids = list(Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
                       .values_list("student_id", flat=True))
    semesters = (1, 2) if semester == 2 else (semester,)
    rows: dict[tuple[int, int], SubjectRow] = {(r.student_id, r.semester): r for r in SubjectRow.objects.filter(
        year_id=school_class.year_id, subject=subject, semester__in=semesters, student_id__in=student_ids)}
    out: dict[int, ColumnResult] = {}
    for sid in student_ids:
        if plan is None:
            out[sid] = ColumnResult("", "", [])
            continue
        result = semester_result(plan.kind, plan.regular_assessments, rows.get((sid, semester)), code=subject.code,
                                 semester=semester, options=options)
        shown = result.display()
        year = ""
        if semester == 2:
            first = semester_result(plan.kind, plan.regular_assessments, rows.get((sid, 1)), code=subject.code,
                                    semester=1, options=options)
            year = display_value(subject_year_result(plan.kind, first, result, options))
        out[sid] = ColumnResult(average=shown if plan.kind != COMMENT else "",
                                result=shown if plan.kind == COMMENT else "", warnings=list(result.warnings),
                                year=year)
    return out


def class_results(school_class: SchoolClass, period: str, options: RuleSet = DEFAULT_RULES) -> ClassResults:
    """The class summary of one period ("hk1", "hk2", "year"), in five queries whatever the class size."""
    if period not in PERIOD_SEMESTERS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    enrolments = list(_active_enrolments(school_class))
    students = [e.student for e in enrolments]
    ids = [s.pk for s in students]
    plans = list(SubjectPlan.objects.filter(year_id=school_class.year_id, grade=school_class.grade)
                 .select_related("subject").order_by("order", "subject__order"))
    # Both semesters for hk2 too: when the year is complete the engine computes học kì II.
    semesters = (1,) if period == "hk1" else (1, 2)
    rows: dict[int, list[SubjectRow]] = defaultdict(list)
    for row in SubjectRow.objects.filter(year_id=school_class.year_id, student_id__in=ids, semester__in=semesters):
        rows[row.student_id].append(row)
    records: dict[int, dict[int, StudentSemester]] = defaultdict(dict)
    for record in StudentSemester.objects.filter(year_id=school_class.year_id, student_id__in=ids,
                                                 semester__in=semesters):
        records[record.student_id][record.semester] = record
    years: dict[int, StudentYear] = {}
    if period != "hk1":
        years = {y.student_id: y for y in StudentYear.objects.filter(year_id=school_class.year_id,
                                                                     student_id__in=ids)}
    results = [student_result(s, period, plans, rows.get(s.pk, ()), records.get(s.pk, {}), years.get(s.pk),
                              options) for s in students]
    return ClassResults(school_class=school_class, period=period, subjects=plans, students=results)
