"""Grade-book fixtures: a school year with classes, a homeroom teacher, subject teachers and students.

``gb`` is a small builder: ``gb.make_class("6A1", students=[...names] or n)`` creates a class of grade 6
with its GVCN (``gb.gvcn``) and one subject teacher (``gb.gvbm``) assigned to every planned subject in both
semesters; ``gb.put(cls, "TO", 1, {student: {"tx": [...], "gk": "7.0", "ck": "8.0"}})`` stores cells
directly (test set-up, not under test); ``gb.fill_all(cls)`` fills every column with passing values.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

_serial = itertools.count(500001)

GIVEN = ["An", "Bình", "Chi", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hoa", "Hùng", "Khang", "Lan", "Linh",
         "Long", "Mai", "Minh", "My", "Nam", "Ngọc", "Nhi", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Thư",
         "Trang", "Trung", "Tú", "Uyên", "Vy", "Yến"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]


class GradebookWorld:
    def __init__(self, school, year, principal, make_user):
        from hocba.school.models import Subject, SubjectPlan

        self.school, self.year, self.principal = school, year, principal
        self.make_user = make_user
        self.vice = make_user("phohieutruong", "vice_principal", school, position="PHT")
        self.gvcn = make_user("gvcn", "teacher", school)
        self.gvbm = make_user("gvbm", "teacher", school)
        self.other_teacher = make_user("gvkhac", "teacher", school)
        self.subjects = {s.code: s for s in Subject.objects.all()}
        self.plans = {p.subject.code: p for p in SubjectPlan.objects.filter(year=year, grade=6)
                      .select_related("subject")}
        self._homerooms = iter([self.gvcn] + [make_user(f"gvcn{i}", "teacher", school) for i in range(2, 4)])

    def make_class(self, name: str = "6A1", students=10, *, grade: int = 6, homeroom=None, teacher=None):
        from hocba.school.models import Enrolment, SchoolClass, Student, TeachingAssignment

        homeroom = homeroom or next(self._homerooms)
        teacher = teacher or self.gvbm
        cls = SchoolClass.objects.create(school=self.school, year=self.year, grade=grade, name=name,
                                         homeroom_teacher=homeroom.staff)
        names = students if isinstance(students, list) else [
            f"{FAMILY[i % len(FAMILY)]} Văn {GIVEN[i % len(GIVEN)]}{'' if i < len(GIVEN) else f' {i}'}"
            for i in range(students)]
        for full_name in names:
            serial = next(_serial)
            student = Student.objects.create(
                school=self.school, personal_number=f"079211{serial:06d}", student_code=f"HS{serial}", full_name=full_name,
                gender="1", birth_date=dt.date(2013, 1, 1), birthplace="TP HCM", hometown="TP HCM",
                residence="TP HCM")
            Enrolment.objects.create(school=self.school, student=student, year=self.year, school_class=cls)
        TeachingAssignment.objects.bulk_create([
            TeachingAssignment(school=self.school, school_class=cls, subject=plan.subject, semester=n,
                               teacher=teacher.staff)
            for plan in self.plans.values() for n in (1, 2)])
        return cls

    def students(self, cls):
        from hocba.school.models import Enrolment

        return [e.student for e in Enrolment.objects.filter(school_class=cls).select_related("student")
                .order_by("student__sort_key")]

    def put(self, cls, code: str, semester: int, cells: dict) -> None:
        """Store cells as they would be after entry: {student: {"tx": [...], "gk": ..., "ck": ..., "absent": [...]}}."""
        from hocba.gradebook.models import SubjectRow

        plan = self.plans[code]
        for student, values in cells.items():
            tx = list(values.get("tx", [])) + [""] * max(0, plan.regular_assessments - len(values.get("tx", [])))
            SubjectRow.objects.update_or_create(
                student=student, year=self.year, subject=plan.subject, semester=semester,
                defaults={"school": self.school, "school_class": cls, "tx": tx, "gk": values.get("gk", ""),
                          "ck": values.get("ck", ""), "absent": values.get("absent", [])})

    def fill_all(self, cls, semesters=(1, 2), score: str = "8.0", conduct: str | None = "T") -> None:
        """Every planned column of the class filled with ``score`` / Đ, and the conduct of every student."""
        from hocba.gradebook.models import StudentSemester, SubjectRow

        rows = []
        students = self.students(cls)
        for plan in self.plans.values():
            value = score if plan.kind == "score" else "Đ"
            for n in semesters:
                rows += [SubjectRow(school=self.school, year=self.year, school_class=cls, student=s,
                                    subject=plan.subject, semester=n, tx=[value] * plan.regular_assessments,
                                    gk=value, ck=value) for s in students]
        SubjectRow.objects.bulk_create(rows)
        if conduct:
            StudentSemester.objects.bulk_create([
                StudentSemester(school=self.school, year=self.year, school_class=cls, student=s, semester=n,
                                conduct=conduct) for s in students for n in semesters])


@pytest.fixture
def gb(school, year, principal, make_user):
    return GradebookWorld(school, year, principal, make_user)
