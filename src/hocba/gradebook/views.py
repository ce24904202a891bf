"""Grade-book pages of one column (class × subject × semester): the entry grid and its save endpoint, the
Excel round trip, the revision history, the teacher's confirmation and the unlock request.

Views are thin: they read, call the actions of ``actions.py`` and show the action's Vietnamese refusal in
place. Permissions are checked by the actions; the views check them too before showing anything.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hocba.school.actions import ActionError
from hocba.school.models import Enrolment, SchoolClass, Subject, TeachingAssignment
from hocba.school.permissions import deny
from hocba.web.responses import error_messages

from . import actions, excel, permissions, results
from .models import CellChange, ClassSignoff, ColumnSignoff, SubjectRow, UnlockRequest
from .values import display

MAX_EDITS_PER_SAVE = 2000
SEMESTER_NAMES = {1: "Học kì I", 2: "Học kì II"}


def person_name(user) -> str:
    if user is None:
        return ""
    try:
        staff = user.staff
    except ObjectDoesNotExist:  # a user without a staff record
        staff = None
    return (staff.full_name if staff else "") or user.get_full_name() or user.get_username()


def get_class(class_id: int) -> SchoolClass:
    return get_object_or_404(SchoolClass.objects.select_related("school", "year", "homeroom_teacher"), pk=class_id)


@dataclass
class Column:
    """A column and what the current user may do with it."""

    school_class: SchoolClass
    subject: Subject
    semester: int
    plan: object
    signoff: ColumnSignoff | None
    released: bool
    can_enter: bool

    @property
    def kind(self) -> str:
        return self.plan.kind

    @property
    def tx_count(self) -> int:
        return self.plan.regular_assessments

    @property
    def slots(self) -> list[str]:
        return excel.slot_names(self.tx_count)

    @property
    def state(self) -> str:
        return self.signoff.state if self.signoff else ColumnSignoff.OPEN

    @property
    def state_label(self) -> str:
        if self.released:
            return "Sổ đã ban hành"
        return dict(ColumnSignoff.STATE_CHOICES)[self.state]

    @property
    def editable(self) -> bool:
        return self.can_enter and not self.released and self.state != ColumnSignoff.CONFIRMED

    @property
    def correction(self) -> bool:
        return self.state == ColumnSignoff.UNLOCKED

    @property
    def semester_name(self) -> str:
        return SEMESTER_NAMES[self.semester]

    @property
    def title(self) -> str:
        return f"Lớp {self.school_class.name} – {self.subject.name} – {self.semester_name}"

    def url(self, name: str) -> str:
        return reverse(name, args=[self.school_class.pk, self.subject.code, self.semester])


def load_column(request, class_id: int, subject_code: str, semester: int, *, write: bool = False) -> Column:
    school_class = get_class(class_id)
    subject = get_object_or_404(Subject, code=subject_code)
    if semester not in (1, 2):
        deny("Học kì phải là 1 hoặc 2.")
    if write:
        permissions.require_enter_column(request.user, school_class, subject.pk, semester)
    elif not permissions.can_read_column(request.user, school_class, subject.pk, semester):
        deny(f"Bạn không được phân công môn {subject.name} ở lớp {school_class.name}, không chủ nhiệm lớp này, "
             "nên không được xem cột điểm này.")
    try:
        plan = actions.column_plan(school_class, subject)
    except ActionError as exc:
        deny(" ".join(error_messages(exc)))
    can_enter = write or permissions.can_enter_column(request.user, school_class, subject.pk, semester)
    released = ClassSignoff.objects.filter(school_class=school_class, period__in=(f"hk{semester}", "year"),
                                           state=ClassSignoff.RELEASED).exists()
    return Column(school_class, subject, semester, plan, actions.column_state(school_class, subject, semester),
                  released, can_enter)


def _cell_payload(row: SubjectRow | None, slot: str) -> dict:
    value = row.cell(slot) if row else ""
    absent = bool(row and slot in row.absent)
    makeup = (row.makeups or {}).get(slot) if row else None
    return {"value": value, "display": "V" if absent else display(value), "absent": absent,
            "makeup": bool(makeup), "makeup_by": (makeup or {}).get("by", ""),
            "makeup_at": _when((makeup or {}).get("at"))}


def _when(value) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        from datetime import datetime
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return f"{timezone.localtime(value):%H:%M %d/%m/%Y}"


def _result_payload(res) -> dict:
    """A student's semester result in the column; warnings only once there is a result to warn about."""
    if res is None:
        return {"average": "", "result": "", "shown": "", "year": "", "warnings": []}
    average, result = display(str(res.average or "")), str(res.result or "")
    shown = average or result
    return {"average": average, "result": result, "shown": shown, "year": res.year,
            "warnings": [str(w) for w in (res.warnings or [])] if shown else []}


# --- the grid ------------------------------------------------------------------------------------------

@login_required
def column_grid(request, class_id: int, subject_code: str, semester: int):
    col = load_column(request, class_id, subject_code, semester)
    enrolments = list(Enrolment.objects.filter(school_class=col.school_class, status__in=actions.ACTIVE_STATUSES)
                      .select_related("student").order_by("student__sort_key", "student_id"))
    rows = {r.student_id: r for r in SubjectRow.objects.filter(school_class=col.school_class, subject=col.subject,
                                                                 semester=semester)}
    corrected = Counter(CellChange.objects.filter(row__school_class=col.school_class, row__subject=col.subject,
                                                  row__semester=semester, is_correction=True)
                        .values_list("row__student_id", "slot"))
    column_results = results.column_results(col.school_class, col.subject, semester)
    lines = []
    for i, e in enumerate(enrolments, start=1):
        row = rows.get(e.student_id)
        cells = []
        for slot in col.slots:
            cell = _cell_payload(row, slot)
            cell.update(slot=slot, label=excel.slot_header(slot),
                        corrections=corrected.get((e.student_id, slot), 0))
            cells.append(cell)
        lines.append({"stt": i, "student": e.student, "cells": cells,
                      "result": _result_payload(column_results.get(e.student_id))})
    teachers = (TeachingAssignment.objects.filter(school_class=col.school_class, subject=col.subject,
                                                  semester=semester).select_related("teacher"))
    pending = (UnlockRequest.objects.filter(column=col.signoff, state=UnlockRequest.PENDING)
               .select_related("requested_by").first() if col.signoff else None)
    filled = sum(1 for line in lines if all(c["value"] or c["absent"] for c in line["cells"]
                                             if c["slot"] != "comment"))
    absent_open = sum(1 for line in lines for c in line["cells"] if c["absent"])
    return render(request, "gradebook/grid.html", {
        "col": col, "school_class": col.school_class, "lines": lines, "teachers": teachers, "pending": pending,
        "slot_headers": [(s, excel.slot_header(s)) for s in col.slots], "filled": filled, "total": len(lines),
        "absent_open": absent_open,
        "show_year": semester == 2,
        "config": {"saveUrl": col.url("gb_column_save"), "kind": col.kind, "editable": col.editable,
                   "correction": col.correction},
    })


def _json_error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"ok": False, "message": message, **extra}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def _parse_edits(body: bytes) -> list[actions.CellEdit]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("Dữ liệu gửi lên không phải JSON hợp lệ.") from None
    raw = payload.get("edits") if isinstance(payload, dict) else None
    if not isinstance(raw, list) or not raw:
        raise ValueError("Không có ô nào để lưu.")
    if len(raw) > MAX_EDITS_PER_SAVE:
        raise ValueError(f"Một lần lưu tối đa {MAX_EDITS_PER_SAVE} ô.")
    edits = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("Mỗi ô phải là một đối tượng JSON.")  # noqa: TRY004 - a refusal, shown as 400
        try:
            student_id = int(item["student_id"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("Thiếu hoặc sai student_id.") from None
        slot = str(item.get("slot", ""))[:10]
        new, old = item.get("new", ""), item.get("old", "")
        edits.append(actions.CellEdit(
            student_id=student_id, slot=slot, old="" if old is None else str(old)[:2100],
            new="" if new is None else str(new)[:2100], absent=bool(item.get("absent", False)),
            makeup=bool(item.get("makeup", False)), reason=str(item.get("reason", "") or "")[:500]))
    return edits


@login_required
@require_POST
def column_save(request, class_id: int, subject_code: str, semester: int):
    """Save edited cells: JSON in ({"edits": [{student_id, slot, old, new, absent, reason}]}), JSON out.

    Every answer has "cells": one status per edited cell ("saved", "invalid", "conflict" or "not_saved").
    200 {"ok": true, "cells": [...with the stored value], "results": {student_id: average/result}};
    422 with "errors" (refused values: nothing saved); 409 with "conflicts" (somebody saved first: nothing
    saved); 400/403 with "message" only.
    """
    try:
        col = load_column(request, class_id, subject_code, semester, write=True)
    except PermissionDenied as exc:
        return _json_error(str(exc) or "Bạn không có quyền nhập điểm cột này.", 403)
    try:
        edits = _parse_edits(request.body)
    except ValueError as exc:
        return _json_error(str(exc), 400)
    try:
        saved = actions.save_cells(request.user, col.school_class, col.subject, semester, edits)
    except PermissionDenied as exc:
        return _json_error(str(exc), 403)
    except actions.InvalidCells as exc:
        refused = {(e.student_id, e.slot) for e in exc.errors}
        return _json_error("Có ô không hợp lệ; chưa ô nào được lưu.", 422, errors=[
            {"student_id": e.student_id, "slot": e.slot, "value": e.value, "message": e.message}
            for e in exc.errors], cells=_statuses(edits, refused, "invalid"))
    except actions.StaleEdit as exc:
        names = _names_of_usernames({c.updated_by for c in exc.conflicts})
        refused = {(c.student_id, c.slot) for c in exc.conflicts}
        return _json_error("Có ô vừa được người khác sửa; chưa ô nào được lưu.", 409, conflicts=[
            {"student_id": c.student_id, "slot": c.slot, "current": c.current,
             "display": display(c.current), "updated_by": names.get(c.updated_by, c.updated_by),
             "updated_at": _when(c.updated_at)} for c in exc.conflicts],
            cells=_statuses(edits, refused, "conflict"))
    except ActionError as exc:
        return _json_error(" ".join(error_messages(exc)), 400)
    cells = []
    for e in edits:
        row = saved.rows.get(e.student_id)
        cells.append({"student_id": e.student_id, "slot": e.slot, "status": "saved", **_cell_payload(row, e.slot)})
    column_results = results.column_results(col.school_class, col.subject, semester)
    return JsonResponse({"ok": True, "changed": saved.changed, "cells": cells,
                         "results": {str(sid): _result_payload(r) for sid, r in column_results.items()},
                         "saved_at": _when(timezone.now())}, json_dumps_params={"ensure_ascii": False})


def _statuses(edits, refused: set[tuple[int, str]], status: str) -> list[dict]:
    """Per-cell status of a refused save: the refused cells, and the others "not_saved" (all or nothing)."""
    return [{"student_id": e.student_id, "slot": e.slot,
             "status": status if (e.student_id, e.slot) in refused else "not_saved"} for e in edits]


def _names_of_usernames(usernames: set[str]) -> dict[str, str]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(username__in=[u for u in usernames if u]).select_related("staff")
    return {u.get_username(): person_name(u) for u in users}


# --- history -------------------------------------------------------------------------------------------

@login_required
def column_history(request, class_id: int, subject_code: str, semester: int):
    """Who changed which cell, when, from what to what and why (optionally one student or one cell)."""
    col = load_column(request, class_id, subject_code, semester)
    changes = (CellChange.objects.filter(row__school_class=col.school_class, row__subject=col.subject,
                                         row__semester=semester)
               .select_related("row__student", "changed_by__staff").order_by("-changed_at", "-id"))
    student = None
    slot = request.GET.get("o", "")
    if request.GET.get("hs", "").isdigit():
        student = get_object_or_404(Enrolment.objects.select_related("student"), school_class=col.school_class,
                                    student_id=int(request.GET["hs"])).student
        changes = changes.filter(row__student=student)
    if slot in col.slots:
        changes = changes.filter(slot=slot)
    else:
        slot = ""
    entries = [{"change": c, "who": person_name(c.changed_by), "slot_label": excel.slot_header(c.slot),
                "old": display(c.old_value), "new": display(c.new_value)} for c in changes[:1000]]
    return render(request, "gradebook/history.html", {
        "col": col, "school_class": col.school_class, "entries": entries, "student": student,
        "slot": slot, "slot_label": excel.slot_header(slot) if slot else "",
    })


# --- confirmation and unlock ---------------------------------------------------------------------------

@login_required
@require_POST
def column_confirm(request, class_id: int, subject_code: str, semester: int):
    col = load_column(request, class_id, subject_code, semester, write=True)
    try:
        actions.confirm_column(request.user, col.school_class, col.subject, semester)
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
    else:
        messages.success(request, f"Đã xác nhận cột điểm {col.subject.name} lớp {col.school_class.name} "
                                  f"{col.semester_name.lower()}. Cột đã được khoá.")
    return redirect(col.url("gb_column"))


@login_required
def column_unlock_request(request, class_id: int, subject_code: str, semester: int):
    col = load_column(request, class_id, subject_code, semester, write=True)
    error = ""
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        try:
            actions.request_unlock(request.user, col.school_class, col.subject, semester, reason)
        except ActionError as exc:
            error = " ".join(error_messages(exc))
        else:
            messages.success(request, "Đã gửi đề nghị mở khoá; hiệu trưởng sẽ duyệt.")
            return redirect(col.url("gb_column"))
    requests_ = (UnlockRequest.objects.filter(column=col.signoff).select_related("requested_by__staff",
                                                                                 "decided_by__staff")
                 .order_by("-requested_at") if col.signoff else [])
    return render(request, "gradebook/unlock_request.html", {
        "col": col, "school_class": col.school_class, "error": error, "reason": reason,
        "requests": [{"r": r, "by": person_name(r.requested_by), "decider": person_name(r.decided_by)}
                     for r in requests_],
    })


# --- Excel ---------------------------------------------------------------------------------------------

@login_required
def column_download(request, class_id: int, subject_code: str, semester: int):
    col = load_column(request, class_id, subject_code, semester)
    data = excel.column_workbook(request.user, col.school_class, col.subject, semester, kind=col.kind,
                                 tx_count=col.tx_count)
    response = HttpResponse(data, content_type=excel.XLSX_CONTENT_TYPE)
    filename = excel.column_filename(col.school_class, col.subject, semester)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def column_upload(request, class_id: int, subject_code: str, semester: int):
    """Upload a filled file; the answer is the preview (nothing saved yet) with the confirmation form."""
    col = load_column(request, class_id, subject_code, semester, write=True)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        reason = request.POST.get("reason", "").strip()[:500]
        if upload is None:
            error = "Hãy chọn tệp Excel (.xlsx) để tải lên."
        else:
            size_error = excel.upload_size_error(upload.size)
            if size_error:  # refuse before reading a byte of it
                parsed = excel.ColumnUpload(upload.name, "", file_errors=[size_error])
            else:
                parsed = excel.read_column_upload(upload.name, upload.read(), school_class=col.school_class,
                                                  subject=col.subject, semester=semester, kind=col.kind,
                                                  tx_count=col.tx_count)
                parsed = excel.preview_against_database(parsed, col.school_class, col.subject, semester)
            return _render_preview(request, col, parsed, reason)
    return render(request, "gradebook/upload.html", {"col": col, "school_class": col.school_class,
                                                     "error": error})


def _render_preview(request, col: Column, parsed: excel.ColumnUpload, reason: str, *, status: int = 200,
                    extra_errors: list[str] | None = None):
    needs_reason = col.correction and parsed.changes and not reason
    can_commit = parsed.ok and bool(parsed.changes) and col.editable and not needs_reason and not extra_errors
    token = excel.sign_commit(request.user, col.school_class, col.subject, col.semester, parsed, reason) \
        if can_commit else ""
    return render(request, "gradebook/upload_preview.html", {
        "col": col, "school_class": col.school_class, "upload": parsed, "reason": reason, "token": token,
        "can_commit": can_commit, "needs_reason": needs_reason, "extra_errors": extra_errors or [],
    }, status=status)


@login_required
@require_POST
def column_upload_commit(request, class_id: int, subject_code: str, semester: int):
    col = load_column(request, class_id, subject_code, semester, write=True)
    signed = excel.load_commit(request.POST.get("token", ""), request.user, col.school_class, col.subject,
                               semester)
    if signed is None:
        messages.error(request, "Bản xem trước đã hết hạn hoặc không hợp lệ; hãy tải tệp lên lại.")
        return redirect(col.url("gb_column_upload"))
    try:
        saved = actions.save_cells(request.user, col.school_class, col.subject, semester, signed.edits)
    except (actions.InvalidCells, actions.StaleEdit, ActionError) as exc:
        if isinstance(exc, actions.StaleEdit):
            text = ("Trong lúc bạn xem trước, có ô vừa được sửa trên hệ thống; không có điểm nào được nhập. "
                    "Hãy tải tệp lên lại để xem các xung đột.")
        else:
            text = "Không có điểm nào được nhập: " + " ".join(error_messages(exc))
        messages.error(request, text)
        return redirect(col.url("gb_column_upload"))
    messages.success(request, f"Đã nhập {saved.changed} ô từ tệp {signed.filename}.")
    return redirect(col.url("gb_column"))
