"""A released grade book for the demo school, so that its học bạ can be generated and signed in a demo, a test
or the bench (``hocba demo`` loads people and classes, not marks).

``fill_demo_gradebook(school_class)`` writes a deterministic year of assessments for every active student
(seeded by the class and the student, so the same class always gets the same marks): every regular,
mid-term and end-of-term assessment of every planned subject in both semesters, conduct and absences, the
GVCN's comment, a few certificates and contests, subject comments, and the summer results of the students
who need them; then confirms every column and releases the class book of học kì I, học kì II and the year.
It is a data seed like ``load_demo``: it writes the rows the grade-book actions would write, in one
transaction with one audit event, and only in the demo school.
"""

from __future__ import annotations

import random

from django.db import transaction
from django.utils import timezone

from hocba.audit.log import record as audit
from hocba.gradebook.models import ClassSignoff, ColumnSignoff, StudentSemester, StudentYear, SubjectRow
from hocba.gradebook.results import ACTIVE_STATUSES, rules_input
from hocba.rules import evaluate
from hocba.school.demo import demo_organisation
from hocba.school.models import Enrolment, Role, SchoolClass, SubjectPlan
from hocba.school.models import Membership as SchoolMembership

COMMENTS_BY_LEVEL = {
    "high": ("Nắm vững kiến thức, vận dụng tốt; tích cực phát biểu xây dựng bài.",
             "Tiếp thu nhanh, trình bày rõ ràng; có tinh thần tự học cao."),
    "mid": ("Nắm được kiến thức cơ bản; cần chủ động hơn trong giờ học.",
            "Có cố gắng, tiến bộ trong học kì II; cần rèn thêm kĩ năng trình bày."),
    "low": ("Còn hổng kiến thức cơ bản; cần ôn tập thường xuyên và hỏi thêm giáo viên.",
            "Chưa tập trung trong giờ học; cần cố gắng nhiều hơn."),
}
GVCN_COMMENTS = {
    "high": "Em ngoan, lễ phép, chăm chỉ; học tập tốt và tích cực tham gia các hoạt động của lớp.",
    "mid": "Em ngoan, biết vâng lời; học tập có tiến bộ, cần mạnh dạn và tự giác hơn.",
    "low": "Em hiền, biết giúp đỡ bạn bè; cần cố gắng nhiều hơn trong học tập và chấp hành nội quy.",
}


class DemoGradebookError(Exception):
    pass


def is_demo_class(school_class: SchoolClass) -> bool:
    return school_class.school.code == demo_organisation().school_code


def has_gradebook(school_class: SchoolClass) -> bool:
    return SubjectRow.objects.filter(school_class=school_class).exists()


def _score(rng: random.Random, mean: float) -> str:
    value = min(10.0, max(2.0, rng.gauss(mean, 1.1)))
    return f"{round(value * 2) / 2:.1f}"


def _level(mean: float) -> str:
    return "high" if mean >= 7.8 else "mid" if mean >= 5.8 else "low"


def fill_demo_gradebook(school_class: SchoolClass, *, seed: int = 2024) -> dict:
    """Fills and releases the grade book of a demo class (see the module docstring). Returns counts."""
    if not is_demo_class(school_class):
        raise DemoGradebookError("Chỉ nạp sổ điểm minh hoạ cho lớp của trường minh hoạ.")
    return write_gradebook(school_class, seed=seed)


@transaction.atomic
def write_gradebook(school_class: SchoolClass, *, seed: int = 2024, gvcn_comment: bool = True) -> dict:
    """The seed itself, for any school (tests build their own small schools with it)."""
    if has_gradebook(school_class):
        raise DemoGradebookError(f"Lớp {school_class.name} đã có dữ liệu sổ theo dõi; không ghi đè.")
    principal = (SchoolMembership.objects.filter(school=school_class.school, role=Role.PRINCIPAL)
                 .select_related("user").first())
    if principal is None:
        raise DemoGradebookError("Trường minh hoạ chưa có hiệu trưởng.")
    actor = principal.user
    now = timezone.now()
    plans = list(SubjectPlan.objects.filter(year=school_class.year, grade=school_class.grade)
                 .select_related("subject").order_by("order"))
    students = [e.student for e in Enrolment.objects.filter(school_class=school_class, status__in=ACTIVE_STATUSES)
                .select_related("student").order_by("student__sort_key")]
    common = {"school_id": school_class.school_id, "year_id": school_class.year_id, "school_class": school_class}
    rows, semesters, years = [], [], []
    for student in students:
        rng = random.Random(f"{seed}:{school_class.year.name}:{student.student_code}")
        mean = min(9.3, max(4.6, rng.gauss(7.1, 1.0)))
        level = _level(mean)
        student_rows = []
        for plan in plans:
            subject_mean = mean + rng.uniform(-0.8, 0.8)
            for n in (1, 2):
                if plan.kind == "comment":
                    values = ["CĐ" if rng.random() < 0.01 else "Đ" for _ in range(plan.regular_assessments + 2)]
                else:
                    values = [_score(rng, subject_mean + (0.2 if n == 2 else 0)) for _ in
                              range(plan.regular_assessments + 2)]
                comment = rng.choice(COMMENTS_BY_LEVEL[_level(subject_mean)]) if n == 2 else ""
                student_rows.append(SubjectRow(**common, student=student, subject=plan.subject, semester=n,
                                               tx=values[:-2], gk=values[-2], ck=values[-1], comment=comment,
                                               updated_by=actor, updated_at=now))
        records = {n: StudentSemester(**common, student=student, semester=n,
                                      conduct=rng.choices(("T", "K", "Đ"), (70, 25, 5))[0],
                                      absences_excused=rng.choice((0, 0, 1, 2, 3)),
                                      absences_unexcused=rng.choice((0, 0, 0, 1)), updated_by=actor, updated_at=now)
                   for n in (1, 2)}
        year = StudentYear(**common, student=student, gvcn_comment=GVCN_COMMENTS[level] if gvcn_comment else "",
                           certificates="Chứng chỉ Tin học cơ bản" if rng.random() < 0.05 else "",
                           contests=("Giải Khuyến khích Hội khoẻ Phù Đổng cấp Quận" if rng.random() < 0.04 else ""),
                           updated_by=actor, updated_at=now)
        if student.disabled_not_assessed:
            year.principal_decision, year.principal_decision_reason = "promoted", "Học sinh khuyết tật (Điều 11)."
        result = evaluate(rules_input(student, student_rows, records, year, plans))
        if result.get("outcome") == "pending_summer":  # the summer step, passed
            if result["conduct"]["year"] == "CĐ":
                year.summer_conduct = "Đ"
            year.summer_retest = {code: ("Đ" if next(p for p in plans if p.subject.code == code).kind == "comment"
                                         else "5.5") for code in result["retest_subjects"]}
        rows += student_rows
        semesters += records.values()
        years.append(year)
    SubjectRow.objects.bulk_create(rows)
    StudentSemester.objects.bulk_create(semesters)
    StudentYear.objects.bulk_create(years)
    ColumnSignoff.objects.bulk_create([
        ColumnSignoff(school_id=school_class.school_id, school_class=school_class, subject=p.subject, semester=n,
                      state=ColumnSignoff.CONFIRMED, confirmed_by=actor, confirmed_at=now)
        for p in plans for n in (1, 2)])
    ClassSignoff.objects.bulk_create([
        ClassSignoff(school_id=school_class.school_id, school_class=school_class, period=period,
                     state=ClassSignoff.RELEASED, confirmed_by=actor, confirmed_at=now, released_by=actor,
                     released_at=now) for period in ("hk1", "hk2", "year")])
    counts = {"students": len(students), "rows": len(rows)}
    audit("records.demo_gradebook", actor=actor, school=school_class.school, obj=school_class,
          extra={"year": school_class.year.name, **counts})
    return counts
