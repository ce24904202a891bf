"""The print view of the Sổ theo dõi và đánh giá học sinh of one class and period, laid out in pages as the
form is (hocba-form.md, "Sổ theo dõi và đánh giá học sinh"): per semester, one page block per subject —
ĐĐGtx, ĐĐGgk, ĐĐGck, ĐTBmhk (học kì II also ĐTBmcn; comment subjects Đ/CĐ and Cả năm), Ghi chú, with the
subject teachers' signature at the end of the subject's list — then the summary (Bảng tổng hợp) pages.

A page holds at most ``STUDENTS_PER_PAGE`` students (one subject, one semester; a longer class continues on
the next page of the same subject). Under every page the form's line "Trong trang này có … điểm được sửa
chữa, trong đó môn: …" counts the marks printed on *that* page that were corrected after the column was
confirmed (``CellChange.is_correction``, comments are not marks — the definition of
``selectors.corrections_by_page``). Each correction is counted once, on the page where its mark is
printed, so the pages of a period add up to the period's count; summary and closing pages print results,
not marks, and say there is none.

``book_pages`` loads everything in a fixed number of queries, whatever the size of the class.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict

from django.db.models import Count

from hocba.rules import COMMENT, DEFAULT_RULES, RuleSet
from hocba.school.models import SubjectPlan, TeachingAssignment

from .excel import slot_header
from .models import CellChange, SubjectRow
from .results import PERIOD_SEMESTERS, ClassResults, display_value, semester_result, subject_year_result
from .selectors import PageCorrections, SubjectCorrections
from .values import display

STUDENTS_PER_PAGE = 25  # rows of one A4 landscape page of the book, below its heading and above its footer
SEMESTER_LABELS = {1: "Học kì I", 2: "Học kì II"}


@dataclasses.dataclass(frozen=True)
class SubjectLine:
    """One student's row on a subject page."""

    stt: int
    name: str
    cells: list[str]  # ĐĐGtx…, ĐĐGgk, ĐĐGck as printed: "8,5", "Đ", "V" (absent, no make-up yet), ""
    result: str  # ĐTBmhk "8,3" or Đ/CĐ
    year: str  # học kì II: ĐTBmcn or the comment subject's year result; "" otherwise
    reassessed: str  # học kì II: the summer re-assessment of the subject (Điều 14), if any
    note: str  # Ghi chú: make-up assessments


@dataclasses.dataclass(frozen=True)
class PrintPage:
    number: int  # 1-based over the whole print
    kind: str  # "subject", "summary" (students' results) or "totals" (class totals and confirmations)
    corrections: PageCorrections
    part: int  # this page's place among the pages of its subject (or of the summary), 1-based
    parts: int
    first_stt: int
    lines: list  # SubjectLine (subject page) or the summary context's lines (summary page)
    semester: int | None = None
    plan: SubjectPlan | None = None
    headers: list[str] = dataclasses.field(default_factory=list)  # subject page: the mark columns
    result_header: str = ""
    year_header: str = ""
    teachers: list[str] = dataclasses.field(default_factory=list)  # signing at the end of the subject's list

    @property
    def last_part(self) -> bool:
        return self.part == self.parts

    @property
    def semester_label(self) -> str:
        return SEMESTER_LABELS.get(self.semester, "")


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def page_corrections(counts: Counter, subject, semester: int, student_ids) -> PageCorrections:
    """The corrections line of one subject page: the corrected marks of these students in this column."""
    n = sum(counts[(subject.pk, semester, sid)] for sid in student_ids)
    return PageCorrections(n, [SubjectCorrections(subject.code, subject.name, n)] if n else [])


def _marks(row, slots: list[str]) -> tuple[list[str], str]:
    if row is None:
        return [""] * len(slots), ""
    absent = set(row.absent or ())
    cells = ["V" if slot in absent else display(row.cell(slot)) for slot in slots]
    makeups = [slot_header(slot) for slot in slots if slot in (row.makeups or {})]
    return cells, ("Kiểm tra bù " + ", ".join(makeups)) if makeups else ""


def book_pages(class_results: ClassResults, summary_lines: list, period: str, *,
               students_per_page: int = STUDENTS_PER_PAGE, options: RuleSet = DEFAULT_RULES) -> list[PrintPage]:
    """Every page of the class's book for ``period``: the subject pages of its semesters (plan order), then
    the summary pages (``summary_lines``: one per student, in the order of ``class_results.students``).
    Three queries: the rows, the corrections, the subject teachers."""
    school_class = class_results.school_class
    semesters = PERIOD_SEMESTERS[period]
    students = [r.student for r in class_results.students]
    retests = [(r.summer or {}).get("retest") or {} for r in class_results.students]
    ids = [s.pk for s in students]
    loaded = (1, 2) if 2 in semesters else semesters  # học kì II pages print ĐTBmcn, which needs học kì I
    rows: dict[tuple[int, int, int], SubjectRow] = {
        (r.subject_id, r.semester, r.student_id): r
        for r in SubjectRow.objects.filter(year_id=school_class.year_id, student_id__in=ids, semester__in=loaded)}
    counts: Counter = Counter({
        (subject_id, semester, student_id): n for subject_id, semester, student_id, n in
        CellChange.objects.filter(row__school_class=school_class, row__semester__in=semesters, is_correction=True)
        .exclude(slot="comment").values_list("row__subject_id", "row__semester", "row__student_id")
        .annotate(n=Count("id")).values_list("row__subject_id", "row__semester", "row__student_id", "n")})
    teachers: dict[tuple[int, int], list[str]] = defaultdict(list)
    for a in (TeachingAssignment.objects.filter(school_class=school_class, semester__in=semesters)
              .select_related("teacher").order_by("teacher__full_name", "pk")):
        if a.teacher.full_name not in teachers[(a.subject_id, a.semester)]:
            teachers[(a.subject_id, a.semester)].append(a.teacher.full_name)
    with_rows = {(subject_id, semester) for subject_id, semester, _sid in rows}

    pages: list[PrintPage] = []
    for semester in semesters:
        for plan in class_results.subjects:
            key = (plan.subject_id, semester)
            if plan.elective and key not in teachers and key not in with_rows:
                continue  # an elective nobody teaches or takes in this class
            slots = [f"tx{i}" for i in range(1, plan.regular_assessments + 1)] + ["gk", "ck"]
            comment = plan.kind == COMMENT
            lines = []
            for stt, student in enumerate(students, start=1):
                row = rows.get((plan.subject_id, semester, student.pk))
                cells, note = _marks(row, slots)
                this = semester_result(plan.kind, plan.regular_assessments, row, code=plan.subject.code,
                                       semester=semester, options=options)
                year = ""
                if semester == 2:
                    first = semester_result(plan.kind, plan.regular_assessments,
                                            rows.get((plan.subject_id, 1, student.pk)), code=plan.subject.code,
                                            semester=1, options=options)
                    year = display_value(subject_year_result(plan.kind, first, this, options))
                lines.append(SubjectLine(stt, student.full_name, cells, this.display(), year,
                                         retests[stt - 1].get(plan.subject.code, "") if semester == 2 else "",
                                         note))
            chunks = _chunks(lines, students_per_page)
            for part, chunk in enumerate(chunks, start=1):
                pages.append(PrintPage(
                    number=len(pages) + 1, kind="subject", semester=semester, plan=plan, part=part,
                    parts=len(chunks), first_stt=chunk[0].stt if chunk else 1, lines=chunk,
                    corrections=page_corrections(counts, plan.subject, semester,
                                                 [students[line.stt - 1].pk for line in chunk]),
                    headers=[slot_header(s) for s in slots],
                    result_header="Kết quả học kì" if comment else "ĐTBmhk",
                    year_header=("Cả năm" if comment else "ĐTBmcn") if semester == 2 else "",
                    teachers=teachers.get(key, [])))
    chunks = _chunks(summary_lines, students_per_page)
    for part, chunk in enumerate(chunks, start=1):
        pages.append(PrintPage(number=len(pages) + 1, kind="summary", corrections=PageCorrections(0, []),
                               part=part, parts=len(chunks), first_stt=chunk[0]["stt"] if chunk else 1,
                               lines=chunk))
    # The class totals and the GVCN's and principal's confirmation on a page of their own: below a full page
    # of students they would not fit on the sheet.
    pages.append(PrintPage(number=len(pages) + 1, kind="totals", corrections=PageCorrections(0, []), part=1,
                           parts=1, first_stt=1, lines=[]))
    return pages
