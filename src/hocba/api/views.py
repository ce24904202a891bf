"""The JSON API (v1) of the grade book. Thin: it reads through selectors and results, writes through the
actions, and turns their refusals into the answers described in openapi.yaml."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import Http404, HttpResponse
from django.utils import timezone

from hocba.gradebook import actions as gradebook
from hocba.gradebook import permissions, results, selectors
from hocba.gradebook.models import ClassSignoff, SubjectRow
from hocba.school import actions as school_actions
from hocba.school.models import Enrolment, SchoolClass, SchoolYear, Subject
from hocba.school.permissions import principal_of

from . import actions
from .auth import BadRequest, endpoint, error, json_body, ok

SCHEMA = Path(__file__).with_name("openapi.yaml")


def schema(request):
    return HttpResponse(SCHEMA.read_bytes(), content_type="application/yaml; charset=utf-8")


# --- tokens ----------------------------------------------------------------------------------------------

@endpoint("POST", authenticated=False)
def tokens(request):
    """Log in with user name and password; answers a new token (shown once)."""
    data = json_body(request)
    username = str(data.get("username") or "").strip()
    password = str(data.get("password") or "")
    missing = [{"field": f, "message": "Bắt buộc."} for f, v in (("username", username), ("password", password))
               if not v]
    if missing:
        raise BadRequest(missing)
    if school_actions.login_locked_until(username):
        return error(429, "locked", "Tài khoản tạm khoá do đăng nhập sai nhiều lần. Vui lòng thử lại sau.")
    user = authenticate(request, username=username, password=password)
    if user is None:
        school_actions.register_failed_login(username, max_failures=settings.HOCBA_LOGIN_MAX_FAILURES,
                                             lock_seconds=settings.HOCBA_LOGIN_LOCK_SECONDS)
        return error(401, "unauthorized", "Tên đăng nhập hoặc mật khẩu không đúng.")
    school_actions.register_login(user)
    issued = actions.issue_token(user, user, label=str(data.get("label") or "")[:100])
    return ok({"id": issued.token.pk, "token": issued.secret, "prefix": issued.token.prefix,
               "user": user.get_username()}, status=201)


@endpoint("DELETE")
def token_current(request):
    """Revoke the token this request was made with (log out)."""
    actions.revoke_token(request.user, request.api_token)
    return HttpResponse(status=204)


# --- assignments -----------------------------------------------------------------------------------------

def _year_for(request) -> SchoolYear | None:
    staff = principal_of(request.user).staff
    if staff is None:
        return None
    years = SchoolYear.objects.filter(school_id=staff.school_id)
    wanted = request.GET.get("year")
    if wanted:
        if not wanted.isdigit():
            raise BadRequest([{"field": "year", "message": "Mã năm học phải là số."}])
        return years.filter(pk=int(wanted)).first()
    return years.filter(is_current=True).first() or years.order_by("-name").first()


def _column_url(class_id: int, code: str, semester: int) -> str:
    return f"/api/v1/classes/{class_id}/subjects/{code}/semesters/{semester}/scores"


@endpoint("GET")
def assignments(request):
    year = _year_for(request)
    columns = selectors.teacher_columns(request.user, year) if year is not None else []
    return ok({
        "year": {"id": year.pk, "name": year.name} if year is not None else None,
        "assignments": [{
            "class_id": c.school_class.pk, "class_name": c.school_class.name, "grade": c.school_class.grade,
            "subject_code": c.subject.code, "subject_name": c.subject.name, "semester": c.semester,
            "state": c.state, "released": c.released, "entered": c.entered, "required": c.required,
            "percent": c.percent, "scores_url": _column_url(c.school_class.pk, c.subject.code, c.semester),
        } for c in columns],
    })


# --- one column ------------------------------------------------------------------------------------------

def _class(class_id: int) -> SchoolClass:
    school_class = SchoolClass.objects.select_related("school", "year").filter(pk=class_id).first()
    if school_class is None:
        raise Http404(f"Không có lớp số {class_id}.")
    return school_class


def _subject(code: str) -> Subject:
    subject = Subject.objects.filter(code=code.upper()).first()
    if subject is None:
        raise Http404(f"Không có môn học mã '{code}'.")
    return subject


def _row_payload(student_id: int, row: SubjectRow | None, tx_count: int, plan, semester: int) -> dict:
    cells = {f"tx{i}": (row.cell(f"tx{i}") if row is not None else "") for i in range(1, tx_count + 1)}
    for slot in ("gk", "ck", "comment"):
        cells[slot] = getattr(row, slot) if row is not None else ""
    result = results.semester_result(plan.kind, tx_count, row, code=plan.subject.code, semester=semester)
    shown = result.display()
    return {"student_id": student_id, "version": row.version if row is not None else 0, "cells": cells,
            "absent": list(row.absent) if row is not None else [],
            "average": shown if plan.kind == "score" else "", "result": shown if plan.kind == "comment" else "",
            "warnings": list(result.warnings)}


def _column_state(school_class: SchoolClass, subject: Subject, semester: int) -> tuple[str, bool]:
    column = gradebook.column_state(school_class, subject, semester)
    released = ClassSignoff.objects.filter(school_class=school_class, period__in=(f"hk{semester}", "year"),
                                           state=ClassSignoff.RELEASED).exists()
    return (column.state if column is not None else "open"), released


def _column(request, class_id: int, code: str, semester: int):
    if semester not in (1, 2):
        raise Http404("Học kì phải là 1 hoặc 2.")
    school_class = _class(class_id)
    subject = _subject(code)
    permissions.require_read_column(request.user, school_class, subject.pk, semester)
    try:
        plan = gradebook.column_plan(school_class, subject)
    except school_actions.ActionError as exc:
        raise Http404(" ".join(exc.messages)) from None
    plan.subject = subject
    return school_class, subject, plan


@endpoint("GET", "PATCH")
def scores(request, class_id: int, code: str, semester: int):
    if request.method == "PATCH":
        # save_cells checks that the caller teaches this column and finds its plan.
        if semester not in (1, 2):
            raise Http404("Học kì phải là 1 hoặc 2.")
        return _save_scores(request, _class(class_id), _subject(code), semester)
    school_class, subject, plan = _column(request, class_id, code, semester)
    tx_count = plan.regular_assessments
    enrolments = list(Enrolment.objects.filter(school_class=school_class, status__in=results.ACTIVE_STATUSES)
                      .select_related("student").order_by("student__sort_key", "student_id"))
    rows = {r.student_id: r for r in SubjectRow.objects.filter(
        school_class=school_class, subject=subject, semester=semester)}
    state, released = _column_state(school_class, subject, semester)
    editable = not released and state != "confirmed" and \
        permissions.can_enter_column(request.user, school_class, subject.pk, semester)
    out_rows = []
    for e in enrolments:
        payload = _row_payload(e.student_id, rows.get(e.student_id), tx_count, plan, semester)
        payload["name"] = e.student.full_name
        payload["student_code"] = e.student.student_code
        out_rows.append(payload)
    return ok({
        "class": {"id": school_class.pk, "name": school_class.name, "grade": school_class.grade,
                  "year": school_class.year.name},
        "subject": {"code": subject.code, "name": subject.name, "kind": plan.kind},
        "semester": semester, "tx_count": tx_count,
        "slots": [f"tx{i}" for i in range(1, tx_count + 1)] + ["gk", "ck", "comment"],
        "state": state, "released": released, "editable": editable, "rows": out_rows,
    })


_EDIT_FIELDS = {"student_id", "slot", "old", "new", "absent", "makeup", "reason"}


def _text(value, field: str, errors: list[dict]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.append({"field": field, "message": "Phải là chuỗi hoặc số."})
        return ""
    return str(value)


def _parse_edits(data: dict) -> list[gradebook.CellEdit]:
    raw = data.get("edits")
    if not isinstance(raw, list) or not raw:
        raise BadRequest([{"field": "edits", "message": "Cần danh sách 'edits' gồm ít nhất một ô."}])
    if len(raw) > 2000:
        raise BadRequest([{"field": "edits", "message": "Tối đa 2000 ô mỗi lần lưu."}])
    edits, errors = [], []
    for i, item in enumerate(raw):
        where = f"edits[{i}]"
        if not isinstance(item, dict):
            errors.append({"field": where, "message": "Mỗi ô phải là một đối tượng JSON."})
            continue
        unknown = sorted(set(item) - _EDIT_FIELDS)
        if unknown:
            errors.append({"field": f"{where}.{unknown[0]}", "message": "Trường không được hỗ trợ."})
        student_id = item.get("student_id")
        if isinstance(student_id, bool) or not isinstance(student_id, int):
            errors.append({"field": f"{where}.student_id", "message": "Bắt buộc, là số nguyên."})
        slot = item.get("slot")
        if not isinstance(slot, str) or not slot:
            errors.append({"field": f"{where}.slot", "message": "Bắt buộc: tx1…txN, gk, ck hoặc comment."})
        if "new" not in item and not item.get("absent"):
            errors.append({"field": f"{where}.new", "message": "Bắt buộc."})
        flags = {}
        for flag in ("absent", "makeup"):
            value = item.get(flag, False)
            if not isinstance(value, bool):
                errors.append({"field": f"{where}.{flag}", "message": "Phải là true hoặc false."})
            flags[flag] = value is True
        old = _text(item.get("old"), f"{where}.old", errors)
        new = _text(item.get("new"), f"{where}.new", errors)
        reason = _text(item.get("reason"), f"{where}.reason", errors)
        if not errors:
            edits.append(gradebook.CellEdit(student_id=student_id, slot=slot, old=old, new=new, reason=reason,
                                            **flags))
    if errors:
        raise BadRequest(errors)
    return edits


def _save_scores(request, school_class, subject, semester):
    edits = _parse_edits(json_body(request))
    try:
        saved = gradebook.save_cells(request.user, school_class, subject, semester, edits)
    except gradebook.InvalidCells as exc:
        return ok({"errors": [{"student_id": e.student_id, "slot": e.slot, "value": e.value, "message": e.message}
                              for e in exc.errors]}, status=400)
    except gradebook.StaleEdit as exc:
        return error(409, "stale", " ".join(exc.messages), conflicts=[
            {"student_id": c.student_id, "slot": c.slot, "current": c.current, "updated_by": c.updated_by,
             "updated_at": timezone.localtime(c.updated_at).isoformat() if c.updated_at else None}
            for c in exc.conflicts])
    plan = saved.plan
    edited = list(dict.fromkeys(e.student_id for e in edits))
    return ok({"changed": saved.changed, "state": saved.column_state,
               "rows": [_row_payload(sid, saved.rows.get(sid), plan.regular_assessments, plan, semester)
                        for sid in edited]})


# --- class summary ---------------------------------------------------------------------------------------

@endpoint("GET")
def summary(request, class_id: int):
    period = request.GET.get("period", "")
    if period not in results.PERIODS:
        raise BadRequest([{"field": "period", "message": "Phải là hk1, hk2 hoặc year."}])
    school_class = _class(class_id)
    permissions.require_view_class_results(request.user, school_class)
    res = results.class_results(school_class, period)
    signoff = ClassSignoff.objects.filter(school_class=school_class, period=period).first()
    return ok({
        "class": {"id": school_class.pk, "name": school_class.name, "grade": school_class.grade,
                  "year": school_class.year.name},
        "period": period,
        "state": signoff.state if signoff is not None else "open",
        "subjects": [{"code": p.subject.code, "name": p.subject.name, "kind": p.kind} for p in res.subjects],
        "students": [{
            "student_id": r.student.pk, "student_code": r.student.student_code, "name": r.student.full_name,
            "subjects": r.subjects, "learning": r.learning, "adjusted_by": r.adjusted_by, "conduct": r.conduct,
            "absences": r.absences, "award": r.award, "outcome": r.outcome, "retest_subjects": r.retest_subjects,
            "summer": r.summer, "warnings": r.warnings, "complete": r.complete,
        } for r in res.students],
    })
