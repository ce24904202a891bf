"""Học bạ số pages: a class's page (generate, progress per step with who is still missing, "Ký tất cả",
approval, seal), a batch's progress, a record's page (versions, signatures, downloads, revoke, new version),
the registry, and the family's own records. Views are thin: they read through ``selectors``, change through
``actions`` and show the actions' Vietnamese refusals."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from hocba.school.actions import ActionError
from hocba.school.models import Role, School, SchoolClass, SchoolYear, Staff, Student
from hocba.school.permissions import principal_of, require_view_student, visible_classes
from hocba.web.responses import attachment, error_messages

from . import actions, permissions, selectors, workflow
from .models import HocBaRecord, RegistryEntry, SignatureStep, SigningBatch
from .verification import registry_status

KINDS = dict(SignatureStep.KIND_CHOICES)



def _class(class_id: int) -> SchoolClass:
    return get_object_or_404(SchoolClass.objects.select_related("school__department", "year", "homeroom_teacher"),
                             pk=class_id)


def _record(record_id) -> HocBaRecord:
    return get_object_or_404(HocBaRecord.objects.select_related(
        "school", "year", "school_class", "student", "leader", "replaces", "replaced_by", "revoked_by", "issued_by"),
        record_id=record_id)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Http404("Bước ký không tồn tại.")
    return kind


# --- index: my work, or my children's records -------------------------------------------------------------

@login_required
def index(request):
    p = principal_of(request.user)
    if p.roles & {Role.PARENT, Role.STUDENT} and p.staff is None:
        return render(request, "records/family.html", {"children": selectors.family_records(request.user),
                                                       "role": "parent" if Role.PARENT in p.roles else "student"})
    classes = list(visible_classes(request.user).filter(year__is_current=True).order_by("grade", "name"))
    schools = [s for s in p.schools if permissions.can_view_registry(request.user, s)]
    years = {s.pk: SchoolYear.objects.filter(school=s, is_current=True).first() for s in schools}
    return render(request, "records/index.html", {
        "pending": selectors.my_pending(request.user), "classes": classes,
        "schools": [(s, years.get(s.pk)) for s in schools]})


@login_required
@require_POST
def sign_mine(request, kind: str):
    """"Ký tất cả": every signature of the user at this step, in every class (one batch)."""
    kind = _kind(kind)
    staff = principal_of(request.user).staff
    if staff is None or kind == SignatureStep.SEAL:
        raise Http404("Không có chữ ký cá nhân cho tài khoản này.")
    try:
        batch = actions.start_signing(request.user, staff.school, kind)
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        return redirect("records_index")
    if batch is None:
        messages.info(request, "Không có chữ ký nào có thể thực hiện lúc này.")
        return redirect("records_index")
    workflow.start_in_background(batch)
    return redirect("records_batch", batch.pk)


# --- a class ------------------------------------------------------------------------------------------------

@login_required
def class_page(request, class_id: int):
    school_class = _class(class_id)
    permissions.require_view_class_records(request.user, school_class)
    overview = selectors.class_overview(request.user, school_class)
    return render(request, "records/class.html", {
        "school_class": school_class, "o": overview, "leaders": actions.leaders(school_class.school)
        if overview.can_prepare else [], "default_leader": actions.default_leader(school_class.school)})


@login_required
@require_POST
def generate(request, class_id: int):
    school_class = _class(class_id)
    leader = None
    if request.POST.get("leader"):
        leader = get_object_or_404(Staff, pk=request.POST["leader"], school=school_class.school)
    try:
        result = actions.generate_class(request.user, school_class, leader=leader)
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        return redirect("records_class", class_id)
    if result.created:
        messages.success(request, f"Đã tạo {len(result.created)} học bạ từ sổ theo dõi đã ban hành; các thầy cô có "
                                  "thể bắt đầu ký.")
    for nr in result.not_ready:
        messages.error(request, f"Chưa tạo học bạ cho {nr.student.full_name}: {'; '.join(nr.reasons)}.")
    if not result.created and not result.not_ready:
        messages.info(request, "Mọi học sinh của lớp đã có học bạ đang ký hoặc đã phát hành.")
    return redirect("records_class", class_id)


@login_required
@require_POST
def sign_class(request, class_id: int, kind: str):
    school_class = _class(class_id)
    kind = _kind(kind)
    try:
        batch = actions.start_signing(request.user, school_class.school, kind, school_class=school_class)
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        return redirect("records_class", class_id)
    if batch is None:
        messages.info(request, "Không có chữ ký nào có thể thực hiện lúc này (bước trước chưa xong, hoặc đã ký hết).")
        return redirect("records_class", class_id)
    workflow.start_in_background(batch)
    return redirect(reverse("records_batch", args=[batch.pk]) + f"?lop={class_id}")


# --- a batch ------------------------------------------------------------------------------------------------

def _batch(request, batch_id: int) -> SigningBatch:
    batch = get_object_or_404(SigningBatch.objects.select_related("school", "signer", "actor"), pk=batch_id)
    if batch.actor_id != request.user.pk and not permissions.can_view_registry(request.user, batch.school):
        raise Http404("Không tìm thấy lô ký.")
    return batch


@login_required
def batch_page(request, batch_id: int):
    batch = _batch(request, batch_id)
    stale = workflow.stale_batches().filter(pk=batch.pk).exists()
    context = {"batch": batch, "stale": stale, "class_id": request.GET.get("lop", ""),
               **selectors.batch_items_summary(batch)}
    if request.htmx:
        return render(request, "records/_batch_progress.html", context)
    return render(request, "records/batch.html", context)


@login_required
@require_POST
def batch_resume(request, batch_id: int):
    batch = _batch(request, batch_id)
    try:
        actions.require_batch_owner(request.user, batch)
        if batch.state == SigningBatch.RUNNING and not workflow.stale_batches().filter(pk=batch.pk).exists():
            raise ActionError("Lô ký đang chạy.")
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        return redirect("records_batch", batch_id)
    workflow.start_in_background(batch)
    return redirect("records_batch", batch_id)


@login_required
@require_POST
def batch_rollback(request, batch_id: int):
    batch = _batch(request, batch_id)
    try:
        actions.rollback(request.user, batch)
        messages.success(request, "Đã huỷ phần chưa ký của lô; các học bạ giữ nguyên như trước lô ký.")
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
    return redirect("records_batch", batch_id)


# --- the school ---------------------------------------------------------------------------------------------

@login_required
def school_year(request, school_id: int, year_id: int):
    school = get_object_or_404(School, pk=school_id)
    year = get_object_or_404(SchoolYear, pk=year_id, school=school)
    permissions.require_view_registry(request.user, school)
    from django.db.models import Count

    counts = {}
    for class_id, status, n in (HocBaRecord.objects.filter(year=year).values_list("school_class_id", "status")
                                .annotate(n=Count("id"))):
        counts.setdefault(class_id, {})[status] = n
    classes = [(c, counts.get(c.pk, {})) for c in SchoolClass.objects.filter(year=year).order_by("grade", "name")]
    return render(request, "records/school_year.html", {"school": school, "year": year, "classes": classes,
                                                        "can_seal": permissions.can_seal(request.user, school)})


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def registry(request, school_id: int):
    school = get_object_or_404(School, pk=school_id)
    permissions.require_view_registry(request.user, school)
    g = request.GET
    f = selectors.RegistryFilter(event=g.get("su_kien", ""), year=g.get("nam_hoc", ""), class_name=g.get("lop", ""),
                                 student=g.get("hoc_sinh", ""), since=_date(g.get("tu", "")),
                                 until=_date(g.get("den", "")))
    view = g.get("xem", "su-kien")
    if view == "phat-hanh":
        page = Paginator(selectors.issued_versions(school, f.year, f.class_name), 100).get_page(g.get("trang"))
    else:
        page = Paginator(selectors.registry(school, f), 100).get_page(g.get("trang"))
    query = g.copy()
    query.pop("trang", None)
    return render(request, "records/registry.html", {
        "school": school, "f": f, "page": page, "view": view, "events": RegistryEntry.EVENT_CHOICES,
        "years": SchoolYear.objects.filter(school=school).order_by("-name"), "query": query.urlencode()})


# --- a record -----------------------------------------------------------------------------------------------

@login_required
def record_page(request, record_id):
    record = _record(record_id)
    permissions.require_view_record(request.user, record)
    actions.log_view(request.user, record)
    versions = list(HocBaRecord.objects.filter(student=record.student, year=record.year).order_by("version"))
    staff_view = permissions.can_view_class_records(request.user, record.school_class)
    return render(request, "records/record.html", {
        "record": record, "status": registry_status(record), "versions": versions,
        "steps": list(record.steps.select_related("signer", "signed_by")) if staff_view else [],
        "entries": list(record.registry.order_by("-at")[:50]) if staff_view else [],
        "staff_view": staff_view, "can_revoke": permissions.can_revoke(request.user, record.school),
        "can_prepare": permissions.can_prepare(request.user, record.school),
        "has_replacement": HocBaRecord.objects.filter(replaces=record).exists()})


@login_required
def download(request, record_id, fmt: str):
    record = _record(record_id)
    if fmt not in ("pdf", "xml"):
        raise Http404("Định dạng không hỗ trợ.")
    out = actions.give_copy(request.user, record, fmt, recipient=request.GET.get("cho", ""),
                            purpose=request.GET.get("muc_dich", "Tải về"))
    return attachment(out)


@login_required
def received_download(request, received_id: int, fmt: str):
    """A year received from another school, as received (PDF or XML)."""
    from hocba.interop.models import ReceivedRecord

    received = get_object_or_404(ReceivedRecord.objects.select_related("student__school"), pk=received_id)
    if fmt not in ("pdf", "xml"):
        raise Http404("Định dạng không hỗ trợ.")
    try:
        out = actions.give_received_copy(request.user, received, fmt, recipient=request.GET.get("cho", ""),
                                         purpose=request.GET.get("muc_dich", "Tải về"))
    except ActionError as exc:  # a PDF asked of a year received as XML only
        raise Http404(str(exc)) from None
    return attachment(out)


@login_required
def bundle(request, student_id: int):
    student = get_object_or_404(Student, pk=student_id)
    require_view_student(request.user, student)
    try:
        out = actions.give_bundle(request.user, student, purpose=request.GET.get("muc_dich", "Tải toàn bộ học bạ THCS"))
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        return redirect("records_index")
    return attachment(out)


@login_required
@require_POST
def revoke(request, record_id):
    record = _record(record_id)
    try:
        actions.revoke(request.user, record, request.POST.get("reason", ""))
        messages.success(request, "Đã thu hồi học bạ. Bản này vẫn tải về được và được xác thực là «đã bị thu hồi».")
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
    return redirect("records_record", record.record_id)


@login_required
@require_POST
def reissue(request, record_id):
    record = _record(record_id)
    try:
        new = actions.reissue(request.user, record)
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
        return redirect("records_record", record.record_id)
    messages.success(request, f"Đã tạo phiên bản {new.version} từ sổ theo dõi hiện tại; phiên bản này cần được ký "
                              "lại đủ các bước.")
    return redirect("records_record", new.record_id)


@login_required
@require_POST
def cancel(request, record_id):
    record = _record(record_id)
    try:
        actions.cancel(request.user, record, request.POST.get("reason", ""))
        messages.success(request, "Đã huỷ học bạ chưa phát hành.")
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
    return redirect("records_record", record.record_id)
