"""The school admin's pages: what waits to be sent to the platform (and Gửi lại), and the sync with the
sector database (last pull, Đồng bộ ngay, the conflicts it flagged). Views are thin: actions check and write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hocba.school import permissions
from hocba.school.actions import ActionError
from hocba.school.models import School

from . import actions, client, outbox
from .models import OutboxMessage, SyncConflict, SyncCursor

RECENT = 20


def _managed_school(request, school_id: int) -> School:
    school = get_object_or_404(School, pk=school_id)
    permissions.require_manage_school(request.user, school)
    return school


def _students_of(document_ids: list[str]) -> dict[str, str]:
    """Student and year of each học bạ version, for the table (empty if the records app is not there)."""
    try:
        from hocba.records.models import HocBaRecord
    except ImportError:  # pragma: no cover - the records app is installed with this one
        return {}
    rows = (HocBaRecord.objects.filter(record_id__in=document_ids)
            .values_list("record_id", "student__full_name", "year__name", "version"))
    return {str(rid): f"{name} – {year} – phiên bản {version}" for rid, name, year, version in rows}


@login_required
def exchange(request, school_id: int):
    school = _managed_school(request, school_id)
    mine = OutboxMessage.objects.filter(school=school)
    counts = dict(mine.values_list("state").annotate(n=Count("id")))
    waiting = list(mine.filter(state__in=(OutboxMessage.FAILED, OutboxMessage.PENDING, OutboxMessage.SENDING))
                   .order_by("-state", "next_attempt_at", "id")[:500])
    sent = list(mine.filter(state=OutboxMessage.SENT).order_by("-sent_at", "-id")[:RECENT])
    labels = _students_of([m.document_id for m in waiting + sent])
    for m in waiting + sent:
        m.label = labels.get(m.document_id, "")
    return render(request, "interop/exchange.html", {
        "school": school, "waiting": waiting, "sent": sent,
        "state_counts": [(label, counts.get(state, 0)) for state, label in OutboxMessage.STATE_CHOICES],
        "failed": counts.get(OutboxMessage.FAILED, 0),
    })


@login_required
@require_POST
def resend(request, school_id: int, message_id: int):
    school = _managed_school(request, school_id)
    message = get_object_or_404(OutboxMessage, pk=message_id, school=school)
    try:
        message = outbox.resend_message(request.user, message)
    except ActionError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, f"Đã đưa bản tin {message.get_event_display().lower()} (phiên bản gửi "
                                  f"{message.version}) vào hàng đợi; hệ thống sẽ gửi trong giây lát.")
    return redirect("interop_exchange", school_id=school.pk)


@login_required
@require_POST
def resend_all(request, school_id: int):
    school = _managed_school(request, school_id)
    count = outbox.resend_failed(request.user, school)
    messages.success(request, f"Đã đưa {count} bản tin lỗi vào hàng đợi để gửi lại.")
    return redirect("interop_exchange", school_id=school.pk)


@login_required
def sync(request, school_id: int):
    school = _managed_school(request, school_id)
    conflicts = SyncConflict.objects.filter(school=school)
    return render(request, "interop/sync.html", {
        "school": school,
        "cursor": SyncCursor.objects.filter(scope=actions.school_scope(school.code)).first(),
        "open_conflicts": conflicts.filter(acknowledged_at__isnull=True).order_by("-identity", "-detected_at", "-id"),
        "closed_conflicts": conflicts.filter(acknowledged_at__isnull=False).select_related("acknowledged_by")
        .order_by("-acknowledged_at")[:50],
        "report": request.session.pop("interop_last_report", None),
    })


@login_required
@require_POST
def sync_now(request, school_id: int):
    school = _managed_school(request, school_id)
    try:
        report = client.pull_school(school, actor=request.user)
    except client.SectorError as exc:
        messages.error(request, f"Không đồng bộ được: {exc}")
    else:
        request.session["interop_last_report"] = {"summary": report.summary(), "errors": report.errors[:50],
                                                  "notes": report.notes}
        if report.errors:
            messages.error(request, f"Đồng bộ xong nhưng có {len(report.errors)} dữ liệu không nhận được.")
        else:
            messages.success(request, f"Đồng bộ xong: {report.change_count} thay đổi, "
                                      f"{len(report.conflicts)} xung đột.")
    return redirect("interop_sync", school_id=school.pk)


@login_required
@require_POST
def acknowledge(request, school_id: int, conflict_id: int):
    school = _managed_school(request, school_id)
    conflict = get_object_or_404(SyncConflict, pk=conflict_id, school=school)
    try:
        actions.acknowledge_conflict(request.user, conflict, request.POST.get("note", ""))
    except ActionError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, f"Đã xác nhận xung đột: {conflict.object_repr} – {conflict.field_label}.")
    return redirect("interop_sync", school_id=school.pk)
