"""Số hóa học bạ giấy pages: the list and the form to start one (academic staff), an entry's page (summary,
subject table, scan, review of departed teachers' subjects, submit), and the signing buttons of the teachers
still at the school and of the principal. Views are thin: changes go through ``actions``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hocba.school.actions import ActionError
from hocba.school.models import School, Student
from hocba.school.permissions import principal_of
from hocba.web.responses import error_messages

from . import actions, permissions
from .models import LEVEL_CHOICES, OUTCOME_CHOICES, Digitisation, DigitisedSubject


def _entry(request, pk: int) -> Digitisation:
    d = get_object_or_404(Digitisation.objects.select_related(
        "school", "student", "homeroom_teacher", "record", "answerable", "created_by", "submitted_by"), pk=pk)
    permissions.require_view(request.user, d)
    return d


def _refused(request, exc: ActionError) -> None:
    for m in error_messages(exc):
        messages.error(request, m)


def _entry_schools(user) -> list[School]:
    return [s for s in principal_of(user).schools if permissions.can_enter(user, s)]


@login_required
def index(request):
    schools = _entry_schools(request.user)
    school = next((s for s in schools if str(s.pk) == request.GET.get("truong")), schools[0] if schools else None)
    staff = principal_of(request.user).staff
    to_review = []
    if staff is not None:
        to_review = list(Digitisation.objects.filter(status=Digitisation.REVIEWED, school=staff.school)
                         .filter(Q(subjects__teacher=staff) | Q(answerable=staff) | Q(homeroom_teacher=staff))
                         .distinct().select_related("student"))
    return render(request, "digitise/index.html", {
        "schools": schools, "school": school,
        "entries": (Digitisation.objects.filter(school=school).select_related("student", "record")[:200]
                    if school else []),
        "students": (Student.objects.filter(school=school).order_by("sort_key") if school else []),
        "to_review": to_review})


@login_required
@require_POST
def create(request):
    student = get_object_or_404(Student.objects.select_related("school"), pk=request.POST.get("student") or 0)
    try:
        d = actions.create(request.user, student, school_year=request.POST.get("school_year", ""),
                           grade=request.POST.get("grade"), class_name=request.POST.get("class_name", ""),
                           school_name=request.POST.get("school_name", ""),
                           province_name=request.POST.get("province_name", ""))
    except ActionError as exc:
        _refused(request, exc)
        return redirect("digitise_index")
    messages.success(request, f"Đã tạo bản số hóa năm học {d.school_year} của {student.full_name}.")
    return redirect("digitise_detail", d.pk)


@login_required
def detail(request, pk: int):
    d = _entry(request, pk)
    user = request.user
    staff = principal_of(user).staff
    rows = list(d.subjects.select_related("subject", "teacher", "reviewed_by"))
    can_enter = permissions.can_enter(user, d.school)
    steps = list(d.record.steps.select_related("signer")) if d.record else []
    return render(request, "digitise/detail.html", {
        "d": d, "rows": rows, "can_edit": can_enter and d.editable, "levels": LEVEL_CHOICES,
        "outcomes": OUTCOME_CHOICES, "teachers": actions.current_teachers(d.school) if d.editable else [],
        "problems": actions.problems(d) if d.editable else [], "steps": steps,
        "my_steps": [s for s in steps if staff is not None and s.signer_id == staff.pk and s.state == "pending"],
        "is_answerable": permissions.is_answerable(user, d), "can_enter": can_enter,
        "max_mb": actions.scan_max_bytes() // (1024 * 1024)})


@login_required
@require_POST
def summary(request, pk: int):
    d = _entry(request, pk)
    try:
        actions.update_summary(request.user, d, request.POST)
        messages.success(request, "Đã lưu phần tổng kết năm học.")
    except ActionError as exc:
        _refused(request, exc)
    return redirect("digitise_detail", pk)


@login_required
@require_POST
def subjects(request, pk: int):
    d = _entry(request, pk)
    rows = {}
    for row_id in DigitisedSubject.objects.filter(digitisation=d).values_list("pk", flat=True):
        if f"s{row_id}-year" in request.POST:
            rows[row_id] = {k: request.POST.get(f"s{row_id}-{k}", "")
                            for k in ("hk1", "hk2", "year", "comment", "teacher_name", "teacher")}
    try:
        actions.update_subjects(request.user, d, rows)
        messages.success(request, "Đã lưu kết quả các môn học.")
    except ActionError as exc:
        _refused(request, exc)
    return redirect("digitise_detail", pk)


@login_required
def scan(request, pk: int):
    d = _entry(request, pk)
    if request.method == "POST":
        upload = request.FILES.get("scan")
        limit = actions.scan_max_bytes()
        try:
            if upload is not None and upload.size > limit:  # refuse before reading it into memory
                raise ActionError({"scan": f"Tệp quét «{upload.name}» nặng {upload.size / 1048576:.1f} MB; tối đa "
                                           f"{limit / 1048576:.0f} MB."})
            actions.attach_scan(request.user, d, upload.name if upload else "", upload.read() if upload else b"")
            messages.success(request, "Đã đính kèm bản quét học bạ giấy.")
        except ActionError as exc:
            _refused(request, exc)
        return redirect("digitise_detail", pk)
    try:
        data, content_type = actions.read_scan(request.user, d)
    except ActionError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="ban-quet-{d.pk}.{d.scan_type}"'
    return response


@login_required
@require_POST
def review(request, pk: int):
    d = _entry(request, pk)
    try:
        n = actions.mark_reviewed(request.user, d, request.POST.getlist("row"))
        messages.success(request, f"Đã đánh dấu rà soát {n} môn.")
    except ActionError as exc:
        _refused(request, exc)
    return redirect("digitise_detail", pk)


@login_required
@require_POST
def submit(request, pk: int):
    d = _entry(request, pk)
    try:
        actions.submit(request.user, d)
        messages.success(request, "Đã gửi rà soát: học bạ số đã được tạo và chờ các chữ ký.")
    except ActionError as exc:
        _refused(request, exc)
    return redirect("digitise_detail", pk)


@login_required
@require_POST
def sign_own(request, pk: int):
    d = _entry(request, pk)
    try:
        n = actions.sign_own(request.user, d)
        messages.success(request, f"Đã ký {n} chữ ký.")
    except ActionError as exc:
        _refused(request, exc)
    return redirect("digitise_detail", pk)


@login_required
@require_POST
def sign_and_issue(request, pk: int):
    d = _entry(request, pk)
    try:
        n, waiting = actions.sign_and_issue(request.user, d)
    except ActionError as exc:
        _refused(request, exc)
        return redirect("digitise_detail", pk)
    d.refresh_from_db()
    if d.status == Digitisation.ISSUED:
        messages.success(request, f"Đã ký {n} chữ ký và phát hành học bạ số.")
    else:
        messages.info(request, f"Đã ký {n} chữ ký. Còn chờ: " + "; ".join(waiting))
    return redirect("digitise_detail", pk)


@login_required
@require_POST
def cancel(request, pk: int):
    d = _entry(request, pk)
    try:
        actions.cancel(request.user, d, request.POST.get("reason", ""))
        messages.success(request, "Đã huỷ bản số hóa.")
    except ActionError as exc:
        _refused(request, exc)
    return redirect("digitise_detail", pk)
