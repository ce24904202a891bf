"""Class pages and the school admin pages (years, classes, subject plans, assignments).

Views are thin: they parse forms, call actions, and show the action's Vietnamese refusal in place.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import actions, permissions
from .forms import AssignmentForm, SchoolClassForm, SchoolYearForm, SubjectPlanForm
from .models import GRADES, Enrolment, School, SchoolClass, SchoolYear, SubjectPlan, TeachingAssignment


def _apply_errors(form, exc: actions.ActionError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


@login_required
def class_detail(request, class_id: int):
    school_class = get_object_or_404(SchoolClass.objects.select_related("school", "year", "homeroom_teacher"),
                                     pk=class_id)
    permissions.require_view_class(request.user, school_class)
    enrolments = (Enrolment.objects.filter(school_class=school_class).select_related("student")
                  .order_by("student__sort_key"))
    assignments = (TeachingAssignment.objects.filter(school_class=school_class)
                   .select_related("subject", "teacher").order_by("subject__order", "semester"))
    return render(request, "school/class_detail.html", {
        "school_class": school_class, "enrolments": enrolments, "assignments": assignments,
        "can_manage": permissions.can_manage_school(request.user, school_class.school),
    })


def _managed_school(request, school_id: int) -> School:
    school = get_object_or_404(School, pk=school_id)
    permissions.require_manage_school(request.user, school)
    return school


@login_required
def years(request, school_id: int):
    school = _managed_school(request, school_id)
    form = SchoolYearForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            year = actions.create_school_year(request.user, school, form.cleaned_data["name"],
                                              form.cleaned_data["start_date"], form.cleaned_data["end_date"],
                                              is_current=form.cleaned_data["is_current"])
        except actions.ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Đã tạo năm học {year.name} và kế hoạch môn học theo TT22.")
            return redirect("school_years", school_id=school.pk)
    return render(request, "school/years.html", {
        "school": school, "form": form, "years": SchoolYear.objects.filter(school=school).order_by("-name"),
    })


@login_required
def year_edit(request, school_id: int, year_id: int):
    school = _managed_school(request, school_id)
    year = get_object_or_404(SchoolYear, pk=year_id, school=school)
    initial = {"name": year.name, "start_date": year.start_date, "end_date": year.end_date,
               "is_current": year.is_current}
    form = SchoolYearForm(request.POST or None, initial=initial)
    form.fields["name"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_school_year(request.user, year, start_date=form.cleaned_data["start_date"],
                                       end_date=form.cleaned_data["end_date"],
                                       is_current=form.cleaned_data["is_current"])
        except actions.ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Đã cập nhật năm học {year.name}.")
            return redirect("school_years", school_id=school.pk)
    return render(request, "school/year_edit.html", {"school": school, "year": year, "form": form})


@login_required
def classes(request, school_id: int, year_id: int):
    school = _managed_school(request, school_id)
    year = get_object_or_404(SchoolYear, pk=year_id, school=school)
    form = SchoolClassForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        try:
            cls = actions.create_class(request.user, year, grade=form.cleaned_data["grade"],
                                       name=form.cleaned_data["name"],
                                       homeroom_teacher=form.cleaned_data["homeroom_teacher"])
        except actions.ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Đã tạo lớp {cls.name}.")
            return redirect("school_classes", school_id=school.pk, year_id=year.pk)
    rows = SchoolClass.objects.filter(year=year).select_related("homeroom_teacher").order_by("grade", "name")
    return render(request, "school/classes.html", {"school": school, "year": year, "form": form, "classes": rows})


@login_required
def class_edit(request, school_id: int, class_id: int):
    school = _managed_school(request, school_id)
    cls = get_object_or_404(SchoolClass.objects.select_related("year"), pk=class_id, school=school)
    form = SchoolClassForm(request.POST or None, school=school,
                           initial={"grade": cls.grade, "name": cls.name, "homeroom_teacher": cls.homeroom_teacher})
    form.fields["grade"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_class(request.user, cls, name=form.cleaned_data["name"],
                                 homeroom_teacher=form.cleaned_data["homeroom_teacher"])
        except actions.ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Đã cập nhật lớp {form.cleaned_data['name'].upper()}.")
            return redirect("school_classes", school_id=school.pk, year_id=cls.year_id)
    return render(request, "school/class_edit.html", {"school": school, "school_class": cls, "form": form})


@login_required
def subject_plan(request, school_id: int, year_id: int, grade: int):
    school = _managed_school(request, school_id)
    year = get_object_or_404(SchoolYear, pk=year_id, school=school)
    if grade not in dict(GRADES):
        return redirect("school_subject_plan", school_id=school.pk, year_id=year.pk, grade=6)
    form = SubjectPlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = actions.set_subject_plan(request.user, year, grade=grade, **form.cleaned_data)
        except actions.ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Đã lưu môn {plan.subject.name} của khối {grade}.")
            return redirect("school_subject_plan", school_id=school.pk, year_id=year.pk, grade=grade)
    plans = SubjectPlan.objects.filter(year=year, grade=grade).select_related("subject").order_by("order")
    return render(request, "school/subject_plan.html", {
        "school": school, "year": year, "grade": grade, "grades": GRADES, "plans": plans, "form": form,
    })


@login_required
@require_POST
def subject_plan_remove(request, school_id: int, plan_id: int):
    school = _managed_school(request, school_id)
    plan = get_object_or_404(SubjectPlan.objects.select_related("subject"), pk=plan_id, school=school)
    try:
        actions.remove_subject_plan(request.user, plan)
    except actions.ActionError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Đã bỏ môn {plan.subject.name} khỏi khối {plan.grade}.")
    return redirect("school_subject_plan", school_id=school.pk, year_id=plan.year_id, grade=plan.grade)


@login_required
def assignments(request, school_id: int, class_id: int):
    school = _managed_school(request, school_id)
    cls = get_object_or_404(SchoolClass.objects.select_related("year"), pk=class_id, school=school)
    form = AssignmentForm(request.POST or None, school_class=cls)
    if request.method == "POST" and form.is_valid():
        semesters = [1, 2] if form.cleaned_data["semester"] == "both" else [int(form.cleaned_data["semester"])]
        try:
            with transaction.atomic():
                for semester in semesters:
                    actions.assign_teacher(request.user, cls, subject=form.cleaned_data["subject"],
                                           semester=semester, teacher=form.cleaned_data["teacher"])
        except actions.ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Đã phân công giảng dạy.")
            return redirect("school_assignments", school_id=school.pk, class_id=cls.pk)
    rows = (TeachingAssignment.objects.filter(school_class=cls).select_related("subject", "teacher")
            .order_by("subject__order", "semester"))
    return render(request, "school/assignments.html",
                  {"school": school, "school_class": cls, "form": form, "assignments": rows})


@login_required
@require_POST
def assignment_remove(request, school_id: int, assignment_id: int):
    school = _managed_school(request, school_id)
    a = get_object_or_404(TeachingAssignment.objects.select_related("school_class", "subject", "teacher"),
                          pk=assignment_id, school=school)
    actions.unassign_teacher(request.user, a)
    messages.success(request, f"Đã xoá phân công {a.subject.name} – {a.teacher.full_name} (HK{a.semester}).")
    return redirect("school_assignments", school_id=school.pk, class_id=a.school_class_id)
