"""Forms of the school admin pages. They only parse input; the actions validate and write."""

from __future__ import annotations

from django import forms

from .models import GRADES, Staff, Subject, SubjectPlan

DATE_INPUT = ["%d/%m/%Y", "%Y-%m-%d"]


class SchoolYearForm(forms.Form):
    name = forms.CharField(label="Năm học (YYYY-YYYY)", max_length=9)
    start_date = forms.DateField(label="Ngày bắt đầu (dd/mm/yyyy)", input_formats=DATE_INPUT)
    end_date = forms.DateField(label="Ngày kết thúc (dd/mm/yyyy)", input_formats=DATE_INPUT)
    is_current = forms.BooleanField(label="Là năm học hiện tại", required=False)


class SchoolClassForm(forms.Form):
    grade = forms.TypedChoiceField(label="Khối", choices=GRADES, coerce=int)
    name = forms.CharField(label="Tên lớp", max_length=10)
    homeroom_teacher = forms.ModelChoiceField(label="Giáo viên chủ nhiệm", queryset=Staff.objects.none(),
                                              required=False, empty_label="(chưa phân công)")

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["homeroom_teacher"].queryset = Staff.objects.filter(school=school, is_active=True)


class SubjectPlanForm(forms.Form):
    subject = forms.ModelChoiceField(label="Môn học", queryset=Subject.objects.all())
    kind = forms.ChoiceField(label="Hình thức đánh giá", choices=Subject.KIND_CHOICES)
    periods_per_year = forms.IntegerField(label="Số tiết/năm", min_value=1, max_value=350)
    elective = forms.BooleanField(label="Tự chọn", required=False)


class AssignmentForm(forms.Form):
    subject = forms.ModelChoiceField(label="Môn học", queryset=Subject.objects.none())
    semester = forms.ChoiceField(label="Học kì", choices=[("1", "Học kì I"), ("2", "Học kì II"),
                                                          ("both", "Cả năm")])
    teacher = forms.ModelChoiceField(label="Giáo viên", queryset=Staff.objects.none())

    def __init__(self, *args, school_class, **kwargs):
        super().__init__(*args, **kwargs)
        planned = SubjectPlan.objects.filter(year=school_class.year_id, grade=school_class.grade)
        self.fields["subject"].queryset = Subject.objects.filter(pk__in=planned.values("subject_id"))
        self.fields["teacher"].queryset = Staff.objects.filter(school=school_class.school_id, is_active=True)
