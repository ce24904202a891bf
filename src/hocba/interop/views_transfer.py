"""Transfer and admission pages of a school, for its leadership, school admin and academic staff: download a
student's transfer package (from the học bạ page), receive a package from another school (upload: size
limited before it is read, every check of ``transfer.check_package``, the reasons shown on refusal), and the
admission batch (the dry-run report on the page, the file on request). Views are thin: actions check and
write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hocba.school.actions import ActionError
from hocba.school.models import School, SchoolClass, Student
from hocba.web.responses import attachment, error_messages

from . import actions, transfer
from .models import TransferImport


def _school(request, school_id: int) -> School:
    school = get_object_or_404(School, pk=school_id)
    transfer.require_transfer(request.user, school)
    return school


@login_required
@require_POST
def export(request, student_id: int):
    student = get_object_or_404(Student.objects.select_related("school"), pk=student_id)
    try:
        out = actions.export_transfer(request.user, student, recipient=request.POST.get("recipient", "").strip())
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "records_index"
        return redirect(target or "records_index")
    return attachment(out)


@login_required
def receive(request, school_id: int):
    school = _school(request, school_id)
    year = None
    try:
        year = actions.admission_year(school)
    except ActionError:
        pass
    classes = list(SchoolClass.objects.filter(school=school, year=year).order_by("grade", "name")) if year else []
    context = {"school": school, "classes": classes, "year": year, "max_mb": transfer.max_bytes() // transfer.MB,
               "reasons": [], "imported": None}
    if request.method == "POST":
        upload = request.FILES.get("package")
        school_class = None
        if request.POST.get("class_id"):
            school_class = next((c for c in classes if str(c.pk) == request.POST["class_id"]), None)
        if upload is None:
            context["reasons"] = ["Hãy chọn tệp gói học bạ chuyển trường (.zip)."]
        elif upload.size > transfer.max_bytes():
            context["reasons"] = [f"Tệp quá lớn ({upload.size // transfer.MB} MB); tối đa {context['max_mb']} MB."]
        else:
            try:
                context["imported"] = actions.import_transfer(request.user, school, upload.read(),
                                                              school_class=school_class)
            except ActionError as exc:
                context["reasons"] = error_messages(exc)
        status = 400 if context["reasons"] else 200
    else:
        status = 200
    context["recent"] = list(TransferImport.objects.filter(school=school).select_related("student", "imported_by")
                             .prefetch_related("records")[:20])
    return render(request, "interop/transfer.html", context, status=status)


@login_required
def admission(request, school_id: int):
    school = _school(request, school_id)
    grade = 9 if request.GET.get("khoi", "9") != "5" else 5
    try:
        report, _ = actions.export_admission(request.user, school, grade, dry_run=True)
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        report = None
    return render(request, "interop/admission.html", {"school": school, "grade": grade, "report": report})


@login_required
@require_POST
def admission_download(request, school_id: int):
    school = _school(request, school_id)
    grade = 5 if request.POST.get("grade") == "5" else 9
    try:
        _report, out = actions.export_admission(request.user, school, grade,
                                                full=request.POST.get("full") == "1")
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        return redirect("interop_admission", school.pk)
    return attachment(out)
