"""School-wide grade-book pages: the teacher's columns, the leadership's progress board, the statistics with
their charts (inline SVG drawn on the server), and the unlock requests the principal decides.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from hocba.school import permissions as school_permissions
from hocba.school.actions import ActionError
from hocba.school.models import School, SchoolClass, SchoolYear, Semester
from hocba.web.responses import error_messages

from . import actions, permissions, results, selectors
from .models import Deadline, UnlockRequest
from .views import person_name
from .views_class import AWARD_LABELS, LEVEL_LABELS, LEVELS, PERIOD_LABELS, outcome_label

LEVEL_COLOURS = {"T": "#1b6e3a", "K": "#1d4f91", "Đ": "#c77700", "CĐ": "#b3261e", "—": "#9ca3af"}
GRADE_NAMES = {6: "Khối 6", 7: "Khối 7", 8: "Khối 8", 9: "Khối 9"}


def _current_year(school) -> SchoolYear | None:
    return SchoolYear.objects.filter(school=school, is_current=True).first() or \
        SchoolYear.objects.filter(school=school).order_by("-name").first()


# --- the teacher's columns ------------------------------------------------------------------------------

@login_required
def my_columns(request):
    staff = school_permissions.principal_of(request.user).staff
    year = _current_year(staff.school) if staff else None
    columns = selectors.teacher_columns(request.user, year) if year else []
    return render(request, "gradebook/my_columns.html", {"staff": staff, "year": year, "columns": columns})


# --- progress board -------------------------------------------------------------------------------------

def _school_year(request, school_id: int, year_id: int) -> tuple[School, SchoolYear]:
    school = get_object_or_404(School, pk=school_id)
    year = get_object_or_404(SchoolYear, pk=year_id, school=school)
    return school, year


def _default_semester(year: SchoolYear) -> int:
    first = Semester.objects.filter(year=year, number=1).first()
    return 2 if first is not None and timezone.localdate() > first.end_date else 1


@login_required
def progress_board(request, school_id: int, year_id: int):
    school, year = _school_year(request, school_id, year_id)
    if not school_permissions.can_read_school(request.user, school):
        school_permissions.deny("Chỉ ban giám hiệu, quản trị trường và nhân viên học vụ xem được tiến độ nhập "
                                "điểm của toàn trường.")
    semester = int(request.GET["hk"]) if request.GET.get("hk") in ("1", "2") else _default_semester(year)
    items = [p for p in selectors.progress(school, year) if p.semester == semester]
    subjects: OrderedDict = OrderedDict()
    classes: OrderedDict = OrderedDict()
    for p in items:
        subjects.setdefault(p.subject.code, p.subject)
        line = classes.setdefault(p.school_class.pk, {"school_class": p.school_class, "cells": {}, "entered": 0,
                                                       "required": 0, "confirmed": 0, "count": 0, "released": False,
                                                       "overdue": False, "deadline": p.deadline})
        line["cells"][p.subject.code] = p
        line["entered"] += p.entered
        line["required"] += p.required
        line["confirmed"] += 1 if p.confirmed else 0
        line["count"] += 1
        line["released"] = line["released"] or p.released
        line["overdue"] = line["overdue"] or p.overdue
    lines = []
    for line in classes.values():
        line["percent"] = 100 if not line["required"] else (100 * line["entered"]) // line["required"]
        line["row"] = [line["cells"].get(code) for code in subjects]
        lines.append(line)
    overdue = [p for p in items if p.overdue and not p.confirmed]
    totals = {"columns": len(items), "confirmed": sum(1 for p in items if p.confirmed),
              "released_classes": sum(1 for x in lines if x["released"]), "classes": len(lines),
              "overdue_classes": sum(1 for x in lines if x["overdue"]),
              "percent": (100 * sum(p.entered for p in items)) // max(1, sum(p.required for p in items))}
    deadlines = Deadline.objects.filter(year=year).order_by("due", "kind")
    return render(request, "gradebook/progress.html", {
        "school": school, "year": year, "semester": semester, "period": f"hk{semester}",
        "subjects": list(subjects.values()),
        "lines": lines, "overdue": overdue, "totals": totals, "deadlines": deadlines,
        "today": timezone.localdate(),
    })


# --- statistics -----------------------------------------------------------------------------------------

def _empty_bucket(label: str) -> dict:
    return {"label": label, "total": 0, "learning": Counter(), "conduct": Counter(), "award": Counter(),
            "outcome": Counter()}


def _add(bucket: dict, r) -> None:
    bucket["total"] += 1
    bucket["learning"][r.learning or "—"] += 1
    bucket["conduct"][r.conduct or "—"] += 1
    if r.award:
        bucket["award"][r.award] += 1
    if r.outcome:
        bucket["outcome"][r.outcome] += 1


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}".replace(".", ",") if whole else "0"


def _finish(bucket: dict) -> dict:
    total = bucket["total"]
    for key in ("learning", "conduct"):
        bucket[f"{key}_cells"] = [{"level": lv, "count": bucket[key].get(lv, 0),
                                   "percent": _pct(bucket[key].get(lv, 0), total)} for lv in LEVELS + ["—"]]
    bucket["award_cells"] = [{"count": bucket["award"].get(a, 0), "percent": _pct(bucket["award"].get(a, 0), total)}
                             for a in AWARD_LABELS]
    bucket["outcome_cells"] = [{"count": bucket["outcome"].get(o, 0),
                                "percent": _pct(bucket["outcome"].get(o, 0), total)}
                               for o in ("promoted", "promoted_after_summer", "pending_summer", "retained")]
    return bucket


def _n(value: float) -> str:
    """A number for an SVG attribute: always a dot, whatever the page's locale formats."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _chart(title: str, buckets: list[dict], key: str) -> dict:
    """A horizontal stacked bar per bucket (percent of students per level), as SVG geometry (numbers as
    strings, so that the Vietnamese number format never puts a comma into an attribute)."""
    label_w, bar_w, row_h, top = 90, 460, 26, 8
    rows = []
    for i, b in enumerate(buckets):
        y = top + i * row_h
        x = label_w
        segments = []
        for lv in LEVELS + ["—"]:
            count = b[key].get(lv, 0)
            if not count or not b["total"]:
                continue
            w = bar_w * count / b["total"]
            segments.append({"x": _n(x), "w": _n(w), "colour": LEVEL_COLOURS[lv],
                             "title": f"{b['label']} – {LEVEL_LABELS.get(lv, 'Chưa đủ dữ liệu')}: {count} "
                                      f"({_pct(count, b['total'])}%)",
                             "text": f"{_pct(count, b['total'])}%" if w >= 38 else "", "tx": _n(x + w / 2)})
            x += w
        rows.append({"label": b["label"], "y": _n(y), "ty": _n(y + 15), "segments": segments})
    height = top + len(buckets) * row_h + 34
    legend = []
    lx = label_w
    for lv in LEVELS + ["—"]:
        legend.append({"x": _n(lx), "colour": LEVEL_COLOURS[lv], "label": LEVEL_LABELS.get(lv, "Chưa đủ dữ liệu"),
                       "tx": _n(lx + 16)})
        lx += 110
    return {"title": title, "rows": rows, "width": _n(max(label_w + bar_w + 10, lx)), "height": _n(height),
            "bar_h": "20", "legend": legend, "legend_y": _n(height - 20), "legend_ty": _n(height - 9)}


@login_required
def statistics(request, school_id: int, year_id: int, period: str):
    school, year = _school_year(request, school_id, year_id)
    if not school_permissions.can_view_statistics(request.user, school):
        school_permissions.deny("Bạn không được xem số liệu thống kê của trường này.")
    classes = list(SchoolClass.objects.filter(school=school, year=year).order_by("grade", "name"))
    school_bucket = _empty_bucket("Toàn trường")
    grades: OrderedDict = OrderedDict()
    class_buckets = []
    for c in classes:
        bucket = _empty_bucket(c.name)
        grade_bucket = grades.setdefault(c.grade, _empty_bucket(GRADE_NAMES.get(c.grade, f"Khối {c.grade}")))
        for r in results.class_results(c, period).students:
            _add(bucket, r)
            _add(grade_bucket, r)
            _add(school_bucket, r)
        bucket["school_class"] = c
        class_buckets.append(_finish(bucket))
    grade_buckets = [_finish(b) for b in grades.values()]
    _finish(school_bucket)
    charts = [_chart("Kết quả học tập theo khối (tỉ lệ học sinh)", grade_buckets + [school_bucket], "learning"),
              _chart("Kết quả rèn luyện theo khối (tỉ lệ học sinh)", grade_buckets + [school_bucket], "conduct")]
    return render(request, "gradebook/statistics.html", {
        "school": school, "year": year, "period": period, "period_label": PERIOD_LABELS[period],
        "periods": PERIOD_LABELS.items(), "school_bucket": school_bucket, "grade_buckets": grade_buckets,
        "class_buckets": class_buckets, "charts": charts,
        "levels": [(lv, LEVEL_LABELS[lv]) for lv in LEVELS], "awards": list(AWARD_LABELS.values()),
        "outcomes": [outcome_label(o, 6) for o in ("promoted", "promoted_after_summer", "pending_summer",
                                                   "retained")],
        "is_year": period == "year",
    })


# --- unlock requests ------------------------------------------------------------------------------------

@login_required
def unlock_requests(request, school_id: int):
    school = get_object_or_404(School, pk=school_id)
    permissions.require_leadership(request.user, school)
    qs = (UnlockRequest.objects.filter(school=school)
          .select_related("column__school_class", "column__subject", "requested_by__staff", "decided_by__staff"))
    pending = list(qs.filter(state=UnlockRequest.PENDING).order_by("requested_at"))
    decided = list(qs.exclude(state=UnlockRequest.PENDING).order_by("-decided_at")[:50])
    return render(request, "gradebook/unlock_list.html", {
        "school": school,
        "pending": [{"r": r, "by": person_name(r.requested_by)} for r in pending],
        "decided": [{"r": r, "by": person_name(r.requested_by), "decider": person_name(r.decided_by)}
                    for r in decided],
    })


@login_required
def unlock_decide(request, school_id: int, request_id: int):
    school = get_object_or_404(School, pk=school_id)
    permissions.require_leadership(request.user, school)
    unlock = get_object_or_404(UnlockRequest.objects.select_related(
        "column__school_class__year", "column__subject", "column__confirmed_by__staff", "requested_by__staff",
        "decided_by__staff"), pk=request_id, school=school)
    error = ""
    note = ""
    if request.method == "POST":
        note = request.POST.get("note", "")
        approve = request.POST.get("decision") == "approve"
        if request.POST.get("decision") not in ("approve", "reject"):
            error = "Hãy chọn Duyệt hoặc Từ chối."
        else:
            try:
                actions.decide_unlock(request.user, unlock, approve=approve, note=note)
            except ActionError as exc:
                error = " ".join(error_messages(exc))
            else:
                column = unlock.column
                messages.success(request, f"{'Đã duyệt' if approve else 'Đã từ chối'} đề nghị mở khoá cột "
                                          f"{column.subject.name} lớp {column.school_class.name} "
                                          f"học kì {column.semester}.")
                return redirect("gb_unlock_requests", school_id=school.pk)
    return render(request, "gradebook/unlock_decide.html", {
        "school": school, "u": unlock, "column": unlock.column, "by": person_name(unlock.requested_by),
        "decider": person_name(unlock.decided_by), "confirmed_by": person_name(unlock.column.confirmed_by),
        "error": error, "note": note,
    })
