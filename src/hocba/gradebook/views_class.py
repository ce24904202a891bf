"""Grade-book pages of a class: its hub, the homeroom teacher's pages (conduct, absences, the year's closing
data, the principal's Điều 11 decision), the class summary with its print view and .xlsx export, and the
class sign-off (GVCN xác thực → ban giám hiệu ban hành, hiệu trưởng mở lại).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from hocba.school import permissions as school_permissions
from hocba.school.actions import ActionError
from hocba.school.models import Enrolment, Student, SubjectPlan, TeachingAssignment
from hocba.web.responses import error_messages

from . import actions, excel, permissions, printing, results, selectors
from .models import ClassSignoff, ColumnSignoff, ConductRemark, StudentSemester, StudentYear
from .views import SEMESTER_NAMES, get_class, load_column, person_name

LEVEL_LABELS = {"T": "Tốt", "K": "Khá", "Đ": "Đạt", "CĐ": "Chưa đạt"}
LEVELS = ["T", "K", "Đ", "CĐ"]
AWARD_LABELS = {"xuat_sac": "Học sinh Xuất sắc", "gioi": "Học sinh Giỏi"}
PERIOD_LABELS = {"hk1": "Học kì I", "hk2": "Học kì II", "year": "Cả năm"}
DECISION_LABELS = {"promoted": "Được lên lớp", "retained": "Ở lại lớp"}


def outcome_label(outcome: str | None, grade: int) -> str:
    if not outcome:
        return ""
    if grade == 9:
        return {"promoted": "Hoàn thành chương trình THCS",
                "pending_summer": "Chờ kiểm tra lại / rèn luyện hè",
                "promoted_after_summer": "Hoàn thành chương trình THCS sau kiểm tra lại / rèn luyện hè",
                "retained": "Chưa hoàn thành chương trình THCS"}.get(outcome, outcome)
    return {"promoted": "Được lên lớp", "pending_summer": "Chờ kiểm tra lại / rèn luyện hè",
            "promoted_after_summer": "Được lên lớp sau kiểm tra lại / rèn luyện hè",
            "retained": "Ở lại lớp"}.get(outcome, outcome)


def _signoff(school_class, period: str) -> ClassSignoff | None:
    return ClassSignoff.objects.filter(school_class=school_class, period=period).select_related(
        "confirmed_by__staff", "released_by__staff").first()


def _frozen(school_class, semester: int) -> str:
    """Why a semester's homeroom data is frozen (its book confirmed or released), or ""."""
    signoff = ClassSignoff.objects.filter(school_class=school_class, period__in=(f"hk{semester}", "year")) \
        .exclude(state=ClassSignoff.OPEN).first()
    if signoff is None:
        return ""
    done = "được ban hành" if signoff.state == ClassSignoff.RELEASED else "được giáo viên chủ nhiệm xác thực"
    return f"Sổ {actions.PERIOD_NAMES[signoff.period]} của lớp đã {done}; dữ liệu chỉ xem được."


# --- the class hub -------------------------------------------------------------------------------------

@login_required
def class_hub(request, class_id: int):
    school_class = get_class(class_id)
    school_permissions.require_view_class(request.user, school_class)
    user = request.user
    homeroom = permissions.is_homeroom(user, school_class)
    wide = school_permissions.can_read_school(user, school_class.school)
    plans = list(SubjectPlan.objects.filter(year=school_class.year_id, grade=school_class.grade)
                 .select_related("subject").order_by("order"))
    assignments = defaultdict(list)
    for a in TeachingAssignment.objects.filter(school_class=school_class).select_related("teacher"):
        assignments[(a.subject_id, a.semester)].append(a.teacher)
    states = {(c.subject_id, c.semester): c for c in ColumnSignoff.objects.filter(school_class=school_class)}
    staff = school_permissions.principal_of(user).staff
    rows = []
    for plan in plans:
        cells = []
        for n in (1, 2):
            teachers = assignments.get((plan.subject_id, n), [])
            mine = staff is not None and any(t.pk == staff.pk for t in teachers)
            signoff = states.get((plan.subject_id, n))
            cells.append({"semester": n, "teachers": teachers, "mine": mine,
                          "state": signoff.get_state_display() if signoff else "Đang nhập",
                          "state_code": signoff.state if signoff else "open",
                          "can_open": mine or homeroom or wide})
        rows.append({"plan": plan, "cells": cells})
    signoffs = {s.period: s for s in ClassSignoff.objects.filter(school_class=school_class)}
    periods = [{"code": p, "label": PERIOD_LABELS[p],
                "state": signoffs[p].get_state_display() if p in signoffs else "Đang rà soát",
                "state_code": signoffs[p].state if p in signoffs else "open"} for p in ("hk1", "hk2", "year")]
    return render(request, "gradebook/class_hub.html", {
        "school_class": school_class, "rows": rows, "periods": periods, "homeroom": homeroom,
        "can_results": homeroom or wide, "can_manage": school_permissions.can_manage_school(user, school_class.school),
    })


# --- homeroom: conduct and absences per semester -------------------------------------------------------

def _homeroom_view(request, class_id: int):
    school_class = get_class(class_id)
    if not permissions.can_view_class_results(request.user, school_class):
        permissions.require_homeroom(request.user, school_class)
    return school_class, permissions.is_homeroom(request.user, school_class)


def _semester_line(stt: int, student: Student, record: StudentSemester | None, remarks: list, **extra) -> dict:
    return {"stt": stt, "student": student, "record": record, "remarks": remarks,
            "conduct": record.conduct if record else "", "excused": record.absences_excused if record else 0,
            "unexcused": record.absences_unexcused if record else 0, "version": record.version if record else 0,
            **extra}


@login_required
def homeroom_semester(request, class_id: int, semester: int):
    school_class, can_edit = _homeroom_view(request, class_id)
    if semester not in (1, 2):
        raise Http404("Học kì phải là 1 hoặc 2.")
    frozen = _frozen(school_class, semester)
    editable = can_edit and not frozen
    enrolments = list(Enrolment.objects.filter(school_class=school_class, status__in=actions.ACTIVE_STATUSES)
                      .select_related("student").order_by("student__sort_key", "student_id"))
    ids = [e.student_id for e in enrolments]
    records = {r.student_id: r for r in StudentSemester.objects.filter(year=school_class.year_id, semester=semester,
                                                                       student_id__in=ids)}
    remarks = defaultdict(list)
    for r in ConductRemark.objects.filter(year=school_class.year_id, semester=semester, student_id__in=ids) \
            .select_related("subject", "author").order_by("created_at"):
        remarks[r.student_id].append(r)
    lines = [_semester_line(i, e.student, records.get(e.student_id), remarks.get(e.student_id, []))
             for i, e in enumerate(enrolments, start=1)]
    return render(request, "gradebook/homeroom_semester.html", {
        "school_class": school_class, "semester": semester, "semester_name": SEMESTER_NAMES[semester],
        "lines": lines, "editable": editable, "frozen": frozen, "levels": LEVEL_LABELS.items(),
    })


def _posted(request, name: str, student_id: int) -> str | None:
    key = f"{name}-{student_id}"
    return request.POST[key].strip() if key in request.POST else None


def _save_semester_row(request, school_class, student, semester: int, record):
    """Save one student's posted conduct and absences if they changed: the record, an error, or None."""
    conduct = _posted(request, "conduct", student.pk)
    excused = _posted(request, "excused", student.pk)
    unexcused = _posted(request, "unexcused", student.pk)
    version = _posted(request, "version", student.pk)
    if conduct is None and excused is None and unexcused is None:
        return None
    current = (record.conduct if record else "", str(record.absences_excused if record else 0),
               str(record.absences_unexcused if record else 0))
    posted = (conduct if conduct is not None else current[0], excused or "0", unexcused or "0")
    if posted == current:
        return None
    try:
        return actions.save_student_semester(
            request.user, school_class, student, semester, conduct=posted[0], absences_excused=posted[1],
            absences_unexcused=posted[2], expected_version=int(version) if version and version.isdigit() else 0)
    except actions.StaleRecord as exc:
        return (f"Đã được {exc.updated_by or 'người khác'} sửa trước khi bạn lưu; giá trị mới: rèn luyện "
                f"{exc.current.get('conduct') or '(trống)'}, nghỉ có phép {exc.current.get('absences_excused')}, "
                f"không phép {exc.current.get('absences_unexcused')}. Tải lại trang rồi nhập lại.")
    except ActionError as exc:
        return " ".join(error_messages(exc))


@login_required
@require_POST
def homeroom_semester_save(request, class_id: int, semester: int, student_id: int):
    """Save one row (the page's autosave, or a row's own Lưu button); answers the row's HTML for fetch."""
    school_class = get_class(class_id)
    permissions.require_homeroom(request.user, school_class)
    if semester not in (1, 2):
        raise Http404("Học kì phải là 1 hoặc 2.")
    enrolment = get_object_or_404(Enrolment.objects.select_related("student"), school_class=school_class,
                                  student_id=student_id, status__in=actions.ACTIVE_STATUSES)
    student = enrolment.student
    record = StudentSemester.objects.filter(year=school_class.year_id, semester=semester, student=student).first()
    outcome = _save_semester_row(request, school_class, student, semester, record)
    error = outcome if isinstance(outcome, str) else ""
    if isinstance(outcome, StudentSemester):
        record = outcome
    elif error:
        record = StudentSemester.objects.filter(year=school_class.year_id, semester=semester,
                                                student=student).first()
    if request.headers.get("X-Requested-With") != "fetch":
        if error:
            messages.error(request, f"{student.full_name}: {error}")
        else:
            messages.success(request, f"Đã lưu {student.full_name}.")
        return redirect("gb_homeroom_semester", class_id=school_class.pk, semester=semester)
    remarks = list(ConductRemark.objects.filter(year=school_class.year_id, semester=semester, student=student)
                   .select_related("subject", "author").order_by("created_at"))
    stt = request.POST.get(f"stt-{student.pk}", "")
    line = _semester_line(stt, student, record, remarks, error=error, saved=not error and outcome is not None)
    response = render(request, "gradebook/_homeroom_row.html", {
        "line": line, "school_class": school_class, "semester": semester, "editable": True,
        "levels": LEVEL_LABELS.items()})
    if error:
        response.status_code = 409 if "sửa trước" in error else 422
    return response


# --- homeroom: the year ---------------------------------------------------------------------------------

def _year_lines(school_class, class_results) -> list[dict]:
    years = {y.student_id: y for y in StudentYear.objects.filter(
        year=school_class.year_id, student_id__in=[r.student.pk for r in class_results.students])}
    names = {p.subject.code: p.subject.name for p in class_results.subjects}
    lines = []
    for i, r in enumerate(class_results.students, start=1):
        y = years.get(r.student.pk)
        lines.append({
            "stt": i, "r": r, "year": y, "learning": LEVEL_LABELS.get(r.learning, r.learning),
            "conduct": LEVEL_LABELS.get(r.conduct, r.conduct), "award": AWARD_LABELS.get(r.award or "", ""),
            "outcome": outcome_label(r.outcome, school_class.grade),
            "adjusted_name": names.get(r.adjusted_by or "", r.adjusted_by or ""),
            "retest": [(code, names.get(code, code)) for code in r.retest_subjects],
            "decision": DECISION_LABELS.get(y.principal_decision, "") if y else "",
            "summer_conduct": LEVEL_LABELS.get((r.summer or {}).get("conduct", ""), ""),
            "summer_learning": LEVEL_LABELS.get((r.summer or {}).get("learning", ""), ""),
            "summer_retest": [(names.get(c, c), v) for c, v in ((r.summer or {}).get("retest") or {}).items()],
        })
    return lines


@login_required
def homeroom_year(request, class_id: int):
    school_class, can_edit = _homeroom_view(request, class_id)
    class_results = results.class_results(school_class, "year")
    return render(request, "gradebook/homeroom_year.html", {
        "school_class": school_class, "lines": _year_lines(school_class, class_results), "can_edit": can_edit,
        "is_principal": permissions.is_principal(request.user, school_class.school),
        "signoff": _signoff(school_class, "year"),
    })


@login_required
def homeroom_student(request, class_id: int, student_id: int):
    """One student's closing data of the year: GVCN comment, certificates, contests, summer results."""
    school_class, can_edit = _homeroom_view(request, class_id)
    enrolment = get_object_or_404(Enrolment.objects.select_related("student"), school_class=school_class,
                                  student_id=student_id, status__in=actions.ACTIVE_STATUSES)
    student = enrolment.student
    class_results = results.class_results(school_class, "year")
    line = next((x for x in _year_lines(school_class, class_results) if x["r"].student.pk == student.pk), None)
    record = StudentYear.objects.filter(year=school_class.year_id, student=student).first()
    plans = {p.subject.code: p for p in class_results.subjects}
    retest_codes = list(dict.fromkeys([*(line["r"].retest_subjects if line else []),
                                       *((record.summer_retest or {}).keys() if record else [])]))
    error = ""
    values = {"gvcn_comment": record.gvcn_comment if record else "",
              "certificates": record.certificates if record else "",
              "contests": record.contests if record else "",
              "summer_conduct": record.summer_conduct if record else "",
              "retest": {c: (record.summer_retest or {}).get(c, "") if record else "" for c in retest_codes}}
    if request.method == "POST":
        permissions.require_homeroom(request.user, school_class)
        values = {"gvcn_comment": request.POST.get("gvcn_comment", ""),
                  "certificates": request.POST.get("certificates", ""),
                  "contests": request.POST.get("contests", ""),
                  "summer_conduct": request.POST.get("summer_conduct", ""),
                  "retest": {c: request.POST.get(f"retest-{c}", "").strip() for c in retest_codes}}
        version = request.POST.get("version", "0")
        try:
            actions.save_student_year(
                request.user, school_class, student, expected_version=int(version) if version.isdigit() else 0,
                gvcn_comment=values["gvcn_comment"], certificates=values["certificates"],
                contests=values["contests"], summer_conduct=values["summer_conduct"],
                summer_retest={c: v for c, v in values["retest"].items()})
        except actions.StaleRecord as exc:
            error = (f"Dữ liệu của học sinh này vừa được {exc.updated_by or 'người khác'} sửa; chưa lưu. "
                     "Trang dưới đây hiển thị giá trị mới nhất; hãy nhập lại phần của bạn.")
            record = StudentYear.objects.filter(year=school_class.year_id, student=student).first()
        except ActionError as exc:
            error = " ".join(error_messages(exc))
        else:
            messages.success(request, f"Đã lưu dữ liệu cuối năm của {student.full_name}.")
            return redirect("gb_homeroom_student", class_id=school_class.pk, student_id=student.pk)
    return render(request, "gradebook/homeroom_student.html", {
        "school_class": school_class, "student": student, "line": line, "record": record, "values": values,
        "retest": [(c, plans[c].subject.name if c in plans else c, plans[c].kind if c in plans else "score",
                    values["retest"].get(c, "")) for c in retest_codes],
        "error": error, "can_edit": can_edit, "levels": LEVEL_LABELS.items(),
        "version": record.version if record else 0,
        "is_principal": permissions.is_principal(request.user, school_class.school),
    })


@login_required
def principal_decision(request, class_id: int, student_id: int):
    """Điều 11: the principal decides the promotion of a student with disabilities, with the reason."""
    school_class = get_class(class_id)
    permissions.require_principal(request.user, school_class.school)
    enrolment = get_object_or_404(Enrolment.objects.select_related("student"), school_class=school_class,
                                  student_id=student_id, status__in=actions.ACTIVE_STATUSES)
    student = enrolment.student
    record = StudentYear.objects.filter(year=school_class.year_id, student=student).first()
    error = ""
    decision = record.principal_decision if record else ""
    reason = record.principal_decision_reason if record else ""
    individual_plan = False
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        reason = request.POST.get("reason", "")
        individual_plan = request.POST.get("individual_plan") == "1"
        try:
            actions.record_principal_decision(request.user, school_class, student, decision=decision, reason=reason,
                                              individual_plan=individual_plan)
        except ActionError as exc:
            error = " ".join(error_messages(exc))
        else:
            messages.success(request, f"Đã ghi quyết định của hiệu trưởng cho {student.full_name}: "
                                      f"{DECISION_LABELS[decision].lower()}.")
            return redirect("gb_homeroom_year", class_id=school_class.pk)
    return render(request, "gradebook/principal_decision.html", {
        "school_class": school_class, "student": student, "record": record, "decision": decision,
        "reason": reason, "individual_plan": individual_plan, "error": error, "decisions": DECISION_LABELS.items(),
    })


# --- subject teachers' remarks on conduct ---------------------------------------------------------------

@login_required
def conduct_remarks(request, class_id: int, subject_code: str, semester: int):
    col = load_column(request, class_id, subject_code, semester, write=True)
    school_class = col.school_class
    enrolments = list(Enrolment.objects.filter(school_class=school_class, status__in=actions.ACTIVE_STATUSES)
                      .select_related("student").order_by("student__sort_key", "student_id"))
    error = ""
    text = ""
    chosen = ""
    if request.method == "POST":
        chosen = request.POST.get("student", "")
        text = request.POST.get("text", "")
        student = next((e.student for e in enrolments if str(e.student_id) == chosen), None)
        if student is None:
            error = "Hãy chọn một học sinh của lớp."
        else:
            try:
                actions.add_conduct_remark(request.user, school_class, student, col.subject, semester, text)
            except ActionError as exc:
                error = " ".join(error_messages(exc))
            else:
                messages.success(request, f"Đã gửi góp ý về {student.full_name} cho giáo viên chủ nhiệm.")
                return redirect(col.url("gb_conduct_remarks"))
    remarks = (ConductRemark.objects.filter(year=school_class.year_id, semester=semester, subject=col.subject,
                                            student_id__in=[e.student_id for e in enrolments])
               .select_related("student", "author").order_by("-created_at"))
    return render(request, "gradebook/conduct_remarks.html", {
        "col": col, "school_class": school_class, "students": [e.student for e in enrolments],
        "remarks": remarks, "error": error, "text": text, "chosen": chosen,
    })


# --- the class summary ----------------------------------------------------------------------------------

def _summary_context(request, class_id: int, period: str) -> dict:
    school_class = get_class(class_id)
    permissions.require_view_class_results(request.user, school_class)
    class_results = results.class_results(school_class, period)
    names = {p.subject.code: p.subject.name for p in class_results.subjects}
    lines = []
    learning = Counter()
    conduct = Counter()
    awards = Counter()
    outcomes = Counter()
    for i, r in enumerate(class_results.students, start=1):
        learning[r.learning or "—"] += 1
        conduct[r.conduct or "—"] += 1
        if r.award:
            awards[r.award] += 1
        if r.outcome:
            outcomes[r.outcome] += 1
        lines.append({
            "stt": i, "r": r, "subjects": [r.subjects.get(p.subject.code, "") for p in class_results.subjects],
            "learning": LEVEL_LABELS.get(r.learning, r.learning), "conduct": LEVEL_LABELS.get(r.conduct, r.conduct),
            "adjusted_name": names.get(r.adjusted_by or "", r.adjusted_by or ""),
            "award": AWARD_LABELS.get(r.award or "", ""), "outcome": outcome_label(r.outcome, school_class.grade),
            "summer": ", ".join(filter(None, [
                f"RL: {LEVEL_LABELS.get(r.summer['conduct'], r.summer['conduct'])}" if r.summer.get("conduct") else "",
                f"HT: {LEVEL_LABELS.get(r.summer['learning'], r.summer['learning'])}" if r.summer.get("learning") else "",
                *(f"{names.get(c, c)} {v}" for c, v in (r.summer.get("retest") or {}).items())])),
        })
    total = len(lines)

    def share(counter: Counter, keys, labels) -> list[dict]:
        return [{"key": k, "label": labels.get(k, k), "count": counter.get(k, 0),
                 "percent": _percent(counter.get(k, 0), total)} for k in keys]

    user = request.user
    signoff = _signoff(school_class, period)
    state = signoff.state if signoff else ClassSignoff.OPEN
    return {
        "school_class": school_class, "school": school_class.school, "period": period,
        "period_label": PERIOD_LABELS[period], "period_name": actions.PERIOD_NAMES[period], "results": class_results, "lines": lines, "total": total,
        "subject_heads": [(p.subject.code, p.subject.name) for p in class_results.subjects],
        "learning_share": share(learning, LEVELS + ["—"], {**LEVEL_LABELS, "—": "Chưa đủ dữ liệu"}),
        "conduct_share": share(conduct, LEVELS + ["—"], {**LEVEL_LABELS, "—": "Chưa đủ dữ liệu"}),
        "award_share": share(awards, ["xuat_sac", "gioi"], AWARD_LABELS),
        "outcome_share": share(outcomes, ["promoted", "promoted_after_summer", "pending_summer", "retained"],
                               {k: outcome_label(k, school_class.grade) for k in
                                ("promoted", "promoted_after_summer", "pending_summer", "retained")}),
        "complete": sum(1 for line in lines if line["r"].complete),
        "signoff": signoff, "state": state,
        "state_label": dict(ClassSignoff.STATE_CHOICES)[state],
        "confirmed_by": person_name(signoff.confirmed_by) if signoff else "",
        "released_by": person_name(signoff.released_by) if signoff else "",
        "can_confirm": state == ClassSignoff.OPEN and permissions.is_homeroom(user, school_class),
        "can_release": state == ClassSignoff.CONFIRMED and permissions.is_leadership(user, school_class.school),
        "can_reopen": state != ClassSignoff.OPEN and permissions.is_principal(user, school_class.school),
        "is_year": period == "year", "periods": PERIOD_LABELS.items(),
    }


def _percent(part: int, whole: int) -> str:
    if not whole:
        return "0"
    return f"{100 * part / whole:.1f}".replace(".", ",")


@login_required
def class_summary(request, class_id: int, period: str):
    return render(request, "gradebook/summary.html", _summary_context(request, class_id, period))


@login_required
def class_summary_print(request, class_id: int, period: str):
    """The class's book for the period as the form prints it: the subject pages of its semesters, then the
    summary pages, each with its own corrections line (``printing``)."""
    ctx = _summary_context(request, class_id, period)
    ctx["pages"] = printing.book_pages(ctx["results"], ctx["lines"], period)
    return render(request, "gradebook/summary_print.html", ctx)


@login_required
def class_summary_xlsx(request, class_id: int, period: str):
    ctx = _summary_context(request, class_id, period)
    school_class = ctx["school_class"]
    headers = ["STT", "Mã học sinh", "Họ và tên", *[code for code, _name in ctx["subject_heads"]],
               "Kết quả học tập", "Điều chỉnh (Điều 9.3)", "Kết quả rèn luyện", "Số buổi nghỉ"]
    if ctx["is_year"]:
        headers += ["Khen thưởng", "Sau hè", "Kết quả"]
    rows = []
    for line in ctx["lines"]:
        r = line["r"]
        row = [str(line["stt"]), r.student.student_code, r.student.full_name, *line["subjects"], line["learning"],
               line["adjusted_name"], line["conduct"], str(r.absences)]
        if ctx["is_year"]:
            row += [line["award"], line["summer"], line["outcome"]]
        rows.append(row)
    corrections = selectors.corrections_by_page(school_class, period)
    footer = ["Kết quả học tập: " + "; ".join(f"{s['label']} {s['count']} ({s['percent']}%)"
                                              for s in ctx["learning_share"]),
              "Kết quả rèn luyện: " + "; ".join(f"{s['label']} {s['count']} ({s['percent']}%)"
                                                for s in ctx["conduct_share"]),
              "Môn: " + "; ".join(f"{code} = {name}" for code, name in ctx["subject_heads"]),
              corrections.sentence,
              f"Trạng thái: {ctx['state_label']}"]
    table = excel.SummaryTable(
        title="BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC",
        subtitle=f"{school_class.school.name} – Lớp {school_class.name} – {ctx['period_label']} – "
                 f"Năm học {school_class.year.name}",
        headers=headers, rows=rows, footer=footer)
    response = HttpResponse(excel.summary_workbook(table), content_type=excel.XLSX_CONTENT_TYPE)
    period_slug = {"hk1": "hk1", "hk2": "hk2", "year": "ca-nam"}[period]
    response["Content-Disposition"] = (f'attachment; filename="tong-hop-{excel._filename_part(school_class.name)}-'
                                       f'{period_slug}.xlsx"')
    return response


def _class_action(request, class_id: int, period: str, do, success: str):
    school_class = get_class(class_id)
    try:
        do(school_class)
    except ActionError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
    else:
        messages.success(request, success.format(cls=school_class.name, period=actions.PERIOD_NAMES[period]))
    return redirect(reverse("gb_summary", args=[school_class.pk, period]))


@login_required
@require_POST
def class_confirm(request, class_id: int, period: str):
    return _class_action(request, class_id, period, lambda c: actions.confirm_class(request.user, c, period),
                         "Đã xác thực sổ {period} của lớp {cls}; chờ ban giám hiệu ban hành.")


@login_required
@require_POST
def class_release(request, class_id: int, period: str):
    return _class_action(request, class_id, period, lambda c: actions.release_class(request.user, c, period),
                         "Đã ban hành sổ {period} của lớp {cls}.")


@login_required
@require_POST
def class_reopen(request, class_id: int, period: str):
    reason = request.POST.get("reason", "")
    return _class_action(request, class_id, period,
                         lambda c: actions.reopen_class(request.user, c, period, reason),
                         "Đã mở lại sổ {period} của lớp {cls}.")
