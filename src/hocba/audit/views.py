"""The audit viewer (nhật ký hoạt động): a school's leadership and its admin read the school's audit trail,
filter it by person, class, student, subject, action and time, export what they filtered to .xlsx, and see
whether the school's hash chain verifies.

Who: the principal, the vice-principals and the school admin of that school (and the deployment's system
admin, who may read every school as elsewhere in hocba). Teachers, academic staff, parents and the Phòng/Sở
are refused: the trail names every teacher's every change. Everything is scoped to the school in the URL;
another school's principal is refused, never shown an empty page that would reveal nothing but exists.

Filters are database filters on ``AuditEvent``, following what the actions write:

- **class**: events on the class itself (``school.schoolclass``), and on objects that belong to it
  (column and class sign-offs, unlock requests, GVCN records, conduct remarks), plus assignment and plan
  snapshots that name it (``before``/``after`` ``school_class_id``);
- **student**: ``extra.student`` (GVCN records, decisions, remarks) and the students inside a grade-book
  save (``extra.changes[*].student``: ``@>`` on PostgreSQL, ``json_each`` on SQLite, which has no JSON
  containment);
- **subject**: ``extra.subject`` (the subject code of grade-book events) and ``subject_id`` in the
  ``before``/``after`` snapshots (assignments, subject plans);
- **person**: the acting user; **action**: the action name; **dates**: local calendar days.

The chain status verifies the school's scope with the same logic as ``hocba audit verify``. It runs on each
page view while the chain is small (≈25 µs an event: 20,000 events ≈ 0.5 s); above that it runs when asked,
and always for an export, whose workbook records the result beside the rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterable
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, CharField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from hocba.school.models import Role, School, SchoolClass, Staff, Student, Subject
from hocba.school.names import vietnamese_sort_key
from hocba.school.permissions import deny, principal_of

from .models import AuditChainHead, AuditEvent
from .verify import verify_audit

VIEWER_ROLES = {Role.PRINCIPAL, Role.VICE_PRINCIPAL, Role.SCHOOL_ADMIN}
PAGE_SIZE = 50
AUTO_VERIFY_MAX_EVENTS = 20_000
EXPORT_MAX_ROWS = 100_000
DETAIL_CHANGES = 6  # cell changes spelled out in a row's detail; the rest are counted

ACTION_LABELS = {
    "school_year.create": "Tạo năm học",
    "school_year.update": "Sửa năm học",
    "class.create": "Tạo lớp",
    "class.update": "Sửa lớp",
    "subject_plan.set": "Đặt môn trong kế hoạch giáo dục",
    "subject_plan.remove": "Bỏ môn khỏi kế hoạch giáo dục",
    "assignment.create": "Phân công giảng dạy",
    "assignment.delete": "Bỏ phân công giảng dạy",
    "roster.upload": "Tải lên tệp nhập dữ liệu",
    "roster.import": "Nhập dữ liệu từ tệp",
    "gradebook.save_cells": "Nhập, sửa điểm và nhận xét",
    "gradebook.confirm_column": "Xác nhận cột điểm",
    "gradebook.request_unlock": "Đề nghị mở khoá cột điểm",
    "gradebook.decide_unlock": "Duyệt đề nghị mở khoá",
    "gradebook.confirm_class": "GVCN xác thực sổ theo dõi",
    "gradebook.release_class": "Ban hành sổ theo dõi",
    "gradebook.reopen_class": "Mở lại sổ theo dõi",
    "gradebook.save_student_semester": "Nhập rèn luyện, ngày nghỉ (học kì)",
    "gradebook.save_student_year": "Nhập hồ sơ cả năm của GVCN",
    "gradebook.principal_decision": "Quyết định của hiệu trưởng (Điều 11)",
    "gradebook.conduct_remark": "Góp ý rèn luyện",
    "gradebook.seed_deadlines": "Đặt hạn hoàn thành",
    "api.token_issue": "Cấp mã truy cập API",
    "api.token_revoke": "Thu hồi mã truy cập API",
    "account.login": "Đăng nhập",
    "account.login_failed": "Đăng nhập sai",
    "account.change_password": "Đổi mật khẩu",
    "demo.load": "Nạp dữ liệu minh hoạ",
    "ops.backup": "Sao lưu dữ liệu",
    "ops.restore": "Khôi phục dữ liệu",
}
SLOT_LABELS = {"gk": "ĐĐGgk", "ck": "ĐĐGck", "comment": "Nhận xét"}
EXTRA_LABELS = {"reason": "Lí do", "note": "Ghi chú", "approved": "Duyệt", "period": "Kì", "semester": "Học kì",
                "subject": "Môn", "text": "Nội dung", "locked": "Bị khoá", "students": "Số học sinh",
                "columns": "Số cột", "filename": "Tệp", "year": "Năm học", "label": "Nhãn", "user": "Tài khoản"}
KIND_LABELS = {"students": "học sinh", "staff": "cán bộ", "classes": "lớp", "assignments": "phân công"}
# Objects that belong to one class, and how to reach the class from them.
CLASS_OBJECTS = {
    "gradebook.columnsignoff": "school_class",
    "gradebook.classsignoff": "school_class",
    "gradebook.studentsemester": "school_class",
    "gradebook.studentyear": "school_class",
    "gradebook.unlockrequest": "column__school_class",
}


# --- who may read a school's trail ----------------------------------------------------------------------

def can_view_audit(user, school: School) -> bool:
    p = principal_of(user)
    return p.is_system_admin or bool(p.roles_in(school) & VIEWER_ROLES)


def require_view_audit(user, school: School) -> None:
    if not can_view_audit(user, school):
        deny("Chỉ hiệu trưởng, phó hiệu trưởng và quản trị trường của trường này được xem nhật ký hoạt động "
             "của trường.")


def audit_schools(user) -> list[School]:
    p = principal_of(user)
    if p.is_system_admin:
        return list(School.objects.order_by("code"))
    return sorted((s for s in p.schools if p.roles_in(s) & VIEWER_ROLES), key=lambda s: s.code)


# --- the filter -----------------------------------------------------------------------------------------

def person_name(user) -> str:
    staff = getattr(user, "staff", None) if user is not None else None
    if staff is not None:
        return staff.full_name
    return (user.get_full_name() or user.get_username()) if user is not None else ""


class AuditFilterForm(forms.Form):
    nguoi = forms.TypedChoiceField(label="Người thực hiện", required=False, coerce=int, empty_value=None)
    lop = forms.TypedChoiceField(label="Lớp", required=False, coerce=int, empty_value=None)
    hoc_sinh = forms.CharField(label="Học sinh", required=False, max_length=150,
                               help_text="Mã học sinh, số định danh hoặc một phần họ tên")
    mon = forms.ChoiceField(label="Môn", required=False)
    hanh_dong = forms.ChoiceField(label="Hành động", required=False)
    tu_ngay = forms.DateField(label="Từ ngày", required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    den_ngay = forms.DateField(label="Đến ngày", required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, data, *, school: School):
        super().__init__(data)
        self.school = school
        events = AuditEvent.objects.filter(school=school)
        users = get_user_model().objects.filter(
            Q(memberships__school=school) | Q(pk__in=events.exclude(actor=None).values("actor_id"))
        ).distinct().select_related("staff")
        people = sorted(((u.pk, f"{person_name(u)} ({u.get_username()})") for u in users),
                        key=lambda c: vietnamese_sort_key(c[1]))
        self.fields["nguoi"].choices = [("", "Mọi người")] + people
        classes = SchoolClass.objects.filter(school=school).select_related("year").order_by("-year__name", "grade",
                                                                                              "name")
        self.fields["lop"].choices = [("", "Mọi lớp")] + [(c.pk, f"{c.name} ({c.year.name})") for c in classes]
        self.fields["mon"].choices = [("", "Mọi môn")] + [(s.code, s.name) for s in Subject.objects.all()]
        actions = set(events.values_list("action", flat=True).distinct())
        self.fields["hanh_dong"].choices = [("", "Mọi hành động")] + sorted(
            ((a, ACTION_LABELS.get(a, a)) for a in actions), key=lambda c: vietnamese_sort_key(c[1]))

    def clean(self):
        data = super().clean()
        if data.get("tu_ngay") and data.get("den_ngay") and data["tu_ngay"] > data["den_ngay"]:
            self.add_error("den_ngay", "«Đến ngày» phải sau «Từ ngày».")
        return data

    def described(self) -> list[tuple[str, str]]:
        """(label, value) of the filters in force, for the export's information sheet."""
        out = []
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None
            if value in (None, ""):
                continue
            if isinstance(field, forms.ChoiceField):
                value = dict(field.choices).get(value, value)
            elif isinstance(value, dt.date):
                value = f"{value:%d/%m/%Y}"
            out.append((str(field.label), str(value)))
        return out


def _ids_as_text(queryset):
    return queryset.annotate(_key=Cast("pk", CharField())).values("_key")


def _class_q(school_class: SchoolClass) -> Q:
    from hocba.gradebook.models import (
        ClassSignoff,
        ColumnSignoff,
        ConductRemark,
        StudentSemester,
        StudentYear,
        UnlockRequest,
    )

    models = {"gradebook.columnsignoff": ColumnSignoff, "gradebook.classsignoff": ClassSignoff,
              "gradebook.studentsemester": StudentSemester, "gradebook.studentyear": StudentYear,
              "gradebook.unlockrequest": UnlockRequest}
    q = Q(object_type="school.schoolclass", object_id=str(school_class.pk))
    for label, path in CLASS_OBJECTS.items():
        q |= Q(object_type=label, object_id__in=_ids_as_text(models[label].objects.filter(**{path: school_class})))
    remarks = ConductRemark.objects.filter(year=school_class.year_id, student__enrolments__school_class=school_class)
    q |= Q(object_type="gradebook.conductremark", object_id__in=_ids_as_text(remarks))
    q |= Q(after__school_class_id=school_class.pk) | Q(before__school_class_id=school_class.pk)
    return q


def _in_changes(student_ids: list[int]) -> Q:
    """Grade-book saves whose ``extra.changes`` list names one of the students."""
    if connection.vendor == "postgresql":
        q = Q()
        for pk in student_ids:
            q |= Q(extra__changes__contains=[{"student": pk}])
        return q
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    marks = ", ".join(["%s"] * len(student_ids))
    return Q(RawSQL(f"EXISTS (SELECT 1 FROM json_each({table}.\"extra\", '$.changes') AS c "
                    f"WHERE json_extract(c.value, '$.student') IN ({marks}))", list(student_ids),
                    output_field=BooleanField()))


def find_students(school: School, text: str) -> list[Student]:
    text = " ".join(text.split())
    exact = list(Student.objects.filter(school=school).filter(Q(student_code=text) | Q(personal_number=text)))
    if exact:
        return exact
    return list(Student.objects.filter(school=school, full_name__icontains=text).order_by("sort_key")[:50])


def filtered_events(school: School, form: AuditFilterForm):
    """The school's events matching every filter of a (validated) form, newest first."""
    events = AuditEvent.objects.filter(school=school)
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    if data.get("nguoi"):
        events = events.filter(actor_id=data["nguoi"])
    if data.get("lop"):
        school_class = SchoolClass.objects.filter(school=school, pk=data["lop"]).first()
        events = events.filter(_class_q(school_class)) if school_class else events.none()
    if data.get("hoc_sinh"):
        ids = [s.pk for s in find_students(school, data["hoc_sinh"])]
        events = events.filter(Q(extra__student__in=ids) | _in_changes(ids)) if ids else events.none()
    if data.get("mon"):
        subject = Subject.objects.filter(code=data["mon"]).first()
        if subject is not None:
            events = events.filter(Q(extra__subject=subject.code) | Q(after__subject_id=subject.pk)
                                   | Q(before__subject_id=subject.pk))
    if data.get("hanh_dong"):
        events = events.filter(action=data["hanh_dong"])
    tz = timezone.get_current_timezone()
    if data.get("tu_ngay"):
        events = events.filter(created_at__gte=dt.datetime.combine(data["tu_ngay"], dt.time.min, tz))
    if data.get("den_ngay"):
        end = data["den_ngay"] + dt.timedelta(days=1)
        events = events.filter(created_at__lt=dt.datetime.combine(end, dt.time.min, tz))
    return events.order_by("-id")


# --- what a row says ------------------------------------------------------------------------------------

def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _value(text) -> str:
    text = "" if text is None else str(text)
    if re.fullmatch(r"\d{1,2}\.\d", text):
        return text.replace(".", ",")
    return text or "(trống)"


def _slot(slot: str) -> str:
    return f"ĐĐGtx{slot[2:]}" if slot.startswith("tx") else SLOT_LABELS.get(slot, slot)


class Describer:
    """Turns events into readable Vietnamese lines, looking up names in batches."""

    def __init__(self, school: School):
        self.school = school
        self.subjects = dict(Subject.objects.values_list("code", "name"))
        self.students: dict[int, str] = {}
        self.actors: dict[int, str] = {}

    def prime(self, events: Iterable[AuditEvent]) -> None:
        student_ids, actor_ids = set(), set()
        for e in events:
            extra = e.extra if isinstance(e.extra, dict) else {}
            if isinstance(extra.get("student"), int):
                student_ids.add(extra["student"])
            for change in extra.get("changes") or []:
                if isinstance(change, dict) and isinstance(change.get("student"), int):
                    student_ids.add(change["student"])
            if e.actor_id:
                actor_ids.add(e.actor_id)
        missing = student_ids - self.students.keys()
        if missing:
            self.students.update(Student.objects.filter(school=self.school, pk__in=missing)
                                 .values_list("pk", "full_name"))
        missing = actor_ids - self.actors.keys()
        if missing:
            users = get_user_model().objects.filter(pk__in=missing)
            staff = dict(Staff.objects.filter(user__in=missing).values_list("user_id", "full_name"))
            self.actors.update({u.pk: staff.get(u.pk) or u.get_full_name() or u.get_username() for u in users})

    def actor(self, e: AuditEvent) -> str:
        if e.actor_id:
            return self.actors.get(e.actor_id, e.actor_name)
        return e.actor_name or "(hệ thống)"

    def student(self, pk) -> str:
        return self.students.get(pk, f"học sinh #{pk}")

    def detail(self, e: AuditEvent) -> str:
        extra = e.extra if isinstance(e.extra, dict) else {}
        if e.action == "gradebook.save_cells":
            changes = extra.get("changes") or []
            head = f"HK{extra.get('semester')} · {self.subjects.get(extra.get('subject'), extra.get('subject'))}"
            if extra.get("correction"):
                head += " · sửa sau khi mở khoá"
            parts = [f"{self.student(c.get('student'))} {_slot(c.get('slot', ''))}: {_value(c.get('old'))} → "
                     f"{_value(c.get('new'))}" for c in changes[:DETAIL_CHANGES]]
            more = f"; … và {len(changes) - DETAIL_CHANGES} ô khác" if len(changes) > DETAIL_CHANGES else ""
            return f"{head}: " + "; ".join(parts) + more
        if e.action == "roster.import":
            counts = extra.get("counts") or {}
            return (f"Tệp «{extra.get('filename')}» ({KIND_LABELS.get(extra.get('kind'), extra.get('kind'))}): "
                    f"{counts.get('created', 0)} mới, {counts.get('updated', 0)} cập nhật, "
                    f"{counts.get('unchanged', 0)} không đổi; SHA-256 {str(extra.get('sha256', ''))[:16]}…")
        parts = []
        if isinstance(e.before, dict) and isinstance(e.after, dict):
            for key, new in e.after.items():
                if key not in ("updated_at", "updated_by_id", "sort_key") and e.before.get(key) != new:
                    parts.append(f"{key}: {_value(e.before.get(key))} → {_value(new)}")
        elif e.before and not e.after and e.action.endswith((".delete", ".remove")):
            parts.append("đã xoá")
        if isinstance(extra.get("student"), int):
            parts.append(f"Học sinh: {self.student(extra['student'])}")
        for key, label in EXTRA_LABELS.items():
            value = extra.get(key)
            if key == "student" or value in (None, "", [], {}) or isinstance(value, (dict, list)):
                continue
            if key == "subject":
                value = self.subjects.get(value, value)
            elif isinstance(value, bool):
                value = "có" if value else "không"
            parts.append(f"{label}: {value}")
        return "; ".join(str(p) for p in parts)


# --- chain status ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ChainStatus:
    state: str  # "ok", "broken" or "unchecked"
    events: int
    message: str


def chain_status(school: School, *, run: bool) -> ChainStatus:
    head = AuditChainHead.objects.filter(scope=school.pk).first()
    count = head.seq if head else 0
    if not run and count > AUTO_VERIFY_MAX_EVENTS:
        return ChainStatus("unchecked", count, f"Nhật ký của trường có {_number(count)} sự kiện; bấm «Kiểm tra "
                                               "chuỗi» để kiểm tra toàn bộ (mất vài giây).")
    report = verify_audit(school.pk, signatures=run)  # seal signatures on request only (~0.1 s each)
    when = f"{timezone.localtime():%H:%M:%S %d/%m/%Y}"
    if report.ok:
        return ChainStatus("ok", report.events, f"Chuỗi nhật ký của trường toàn vẹn: {_number(report.events)} sự "
                                                f"kiện, không có sự kiện nào bị sửa, xoá, chèn hay đổi thứ tự "
                                                f"(kiểm tra lúc {when}).")
    problem = report.problems[0]
    return ChainStatus("broken", report.events, f"Chuỗi nhật ký KHÔNG toàn vẹn (kiểm tra lúc {when}): "
                                                f"{problem.message} Hãy báo ngay cho quản trị hệ thống và "
                                                "Phòng/Sở GDĐT.")


# --- pages ----------------------------------------------------------------------------------------------

@login_required
def index(request):
    schools = audit_schools(request.user)
    if not schools:
        deny("Chỉ hiệu trưởng, phó hiệu trưởng và quản trị trường được xem nhật ký hoạt động.")
    if len(schools) == 1:
        return redirect("audit_log", school_id=schools[0].pk)
    return render(request, "audit/index.html", {"schools": schools})


def _query(form: AuditFilterForm) -> str:
    keep = {name: form.data.get(name) for name in form.fields if form.data.get(name)}
    return urlencode(keep)


@login_required
def school_log(request, school_id: int):
    school = get_object_or_404(School, pk=school_id)
    require_view_audit(request.user, school)
    form = AuditFilterForm(request.GET or None, school=school)
    if form.is_bound:
        form.is_valid()  # invalid fields are shown with their error; the valid ones still filter
    events = filtered_events(school, form)
    page = Paginator(events.select_related("actor"), PAGE_SIZE).get_page(request.GET.get("trang"))
    describer = Describer(school)
    describer.prime(page.object_list)
    rows = [{"event": e, "actor": describer.actor(e), "action": ACTION_LABELS.get(e.action, e.action),
             "detail": describer.detail(e)} for e in page.object_list]
    query = _query(form)
    return render(request, "audit/log.html", {
        "school": school, "form": form, "page": page, "rows": rows, "query": query,
        "status": chain_status(school, run=request.GET.get("kiem_tra") == "1"),
        "check_url": f"?{query}&kiem_tra=1" if query else "?kiem_tra=1",
        "export_url": reverse("audit_export", args=[school.pk]) + (f"?{query}" if query else ""),
    })


def _text_cell(sheet, value) -> WriteOnlyCell:
    """A text cell Excel never takes for a formula (an object name or a comment may begin with '=')."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
    cell.data_type = "s"
    return cell


EXPORT_HEADERS = ["Thời gian", "Người thực hiện", "Tài khoản", "Hành động", "Đối tượng", "Chi tiết",
                  "Mã hành động", "Loại đối tượng", "Mã đối tượng", "Địa chỉ IP", "Số thứ tự trong chuỗi",
                  "Mã băm (SHA-256)"]


def export_workbook(school: School, form: AuditFilterForm, user) -> bytes:
    events = filtered_events(school, form).select_related("actor")
    status = chain_status(school, run=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Nhật ký")
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJKL", (19, 24, 14, 28, 30, 80, 24, 24, 12, 15, 10, 66), strict=True):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for text in EXPORT_HEADERS:
        cell = _text_cell(sheet, text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    describer = Describer(school)
    batch: list[AuditEvent] = []

    def flush():
        describer.prime(batch)
        for e in batch:
            when = WriteOnlyCell(sheet, value=timezone.localtime(e.created_at).replace(tzinfo=None))
            when.number_format = "dd/mm/yyyy hh:mm:ss"
            sheet.append([when] + [_text_cell(sheet, v) for v in (
                describer.actor(e), e.actor_name, ACTION_LABELS.get(e.action, e.action), e.object_repr,
                describer.detail(e), e.action, e.object_type, e.object_id, e.ip or "")] + [e.seq, _text_cell(sheet, e.hash)])
        batch.clear()

    for e in events.iterator(chunk_size=2000):
        batch.append(e)
        if len(batch) == 2000:
            flush()
    flush()

    info = workbook.create_sheet("Thông tin")
    info.column_dimensions["A"].width = 26
    info.column_dimensions["B"].width = 100
    lines = [("Nhật ký hoạt động", school.name), ("Mã trường", school.code),
             ("Xuất lúc", f"{timezone.localtime():%H:%M:%S %d/%m/%Y}"),
             ("Người xuất", f"{person_name(user)} ({user.get_username()})"),
             ("Kiểm tra chuỗi", status.message)]
    lines += [(f"Lọc theo {label.lower()}", value) for label, value in form.described()] or [("Lọc", "không lọc")]
    for label, value in lines:
        info.append([_text_cell(info, label), _text_cell(info, value)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@login_required
def school_export(request, school_id: int):
    school = get_object_or_404(School, pk=school_id)
    require_view_audit(request.user, school)
    form = AuditFilterForm(request.GET or None, school=school)
    if form.is_bound and not form.is_valid():
        messages.error(request, "Bộ lọc có lỗi; hãy sửa rồi xuất lại.")
        return redirect(reverse("audit_log", args=[school.pk]) + f"?{_query(form)}")
    count = filtered_events(school, form).count()
    if count > EXPORT_MAX_ROWS:
        messages.error(request, f"Có {_number(count)} sự kiện, nhiều hơn {_number(EXPORT_MAX_ROWS)} dòng một tệp "
                                "xuất được; hãy thu hẹp bộ lọc (ví dụ theo khoảng ngày) rồi xuất lại.")
        return redirect(reverse("audit_log", args=[school.pk]) + f"?{_query(form)}")
    data = export_workbook(school, form, request.user)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"nhat-ky-{school.code}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
