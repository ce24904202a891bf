"""Home pages per role, the help pages, and the refusal pages."""

from __future__ import annotations

import html
import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render

from hocba.school.models import Enrolment, Role, School, SchoolClass, SchoolYear
from hocba.school.permissions import own_students, principal_of, statistics_schools, visible_classes

GUIDES = [
    ("hieu-truong", "Hiệu trưởng, Phó hiệu trưởng"),
    ("quan-tri-truong", "Quản trị trường"),
    ("giao-vien", "Giáo viên bộ môn và giáo viên chủ nhiệm"),
    ("hoc-vu", "Nhân viên học vụ"),
    ("phu-huynh-hoc-sinh", "Phụ huynh và học sinh"),
    ("phong-so", "Phòng/Sở Giáo dục và Đào tạo"),
    ("quan-tri-he-thong", "Quản trị hệ thống"),
    ("xac-thuc", "Xác thực học bạ số (cơ quan tiếp nhận, mọi người)"),
]


@login_required
def home(request):
    p = principal_of(request.user)
    role = p.primary_role
    ctx: dict = {"role": role}
    if role == Role.SYSTEM_ADMIN:
        ctx["schools"] = School.objects.annotate(n_classes=Count("classes")).order_by("code")
        return render(request, "hocba/home_admin.html", ctx)
    if role in (Role.PRINCIPAL, Role.VICE_PRINCIPAL, Role.SCHOOL_ADMIN, Role.ACADEMIC_STAFF):
        school = next(m.school for m in p.memberships if m.role == role)
        year = SchoolYear.objects.filter(school=school, is_current=True).first() or \
            SchoolYear.objects.filter(school=school).order_by("-name").first()
        classes = (SchoolClass.objects.filter(year=year).select_related("homeroom_teacher")
                   .annotate(n_students=Count("enrolments", filter=Q(enrolments__status__in=["studying",
                                                                                             "transferred_in"])))
                   .order_by("grade", "name")) if year else []
        ctx.update(school=school, year=year, classes=classes,
                   can_manage=role in (Role.PRINCIPAL, Role.SCHOOL_ADMIN))
        return render(request, "hocba/home_school.html", ctx)
    if role == Role.TEACHER:
        staff = p.staff
        year = SchoolYear.objects.filter(school=staff.school, is_current=True).first() if staff else None
        classes = visible_classes(request.user, year).order_by("grade", "name") if year else []
        homeroom = [c for c in classes if c.homeroom_teacher_id == (staff.pk if staff else None)]
        assignments = (staff.assignments.filter(school_class__year=year)
                       .select_related("school_class", "subject").order_by("school_class__name", "semester")
                       if staff and year else [])
        ctx.update(staff=staff, year=year, homeroom=homeroom, assignments=assignments)
        return render(request, "hocba/home_teacher.html", ctx)
    if role == Role.DISTRICT:
        schools = statistics_schools(request.user).annotate(
            n_students=Count("students", distinct=True), n_classes=Count("classes", distinct=True))
        ctx["schools"] = schools
        return render(request, "hocba/home_district.html", ctx)
    if role in (Role.PARENT, Role.STUDENT):
        students = own_students(request.user).select_related("school")
        enrolments = (Enrolment.objects.filter(student__in=students)
                      .select_related("school_class", "year", "student").order_by("student", "-year__name"))
        ctx.update(students=students, enrolments=enrolments)
        return render(request, "hocba/home_family.html", ctx)
    return render(request, "hocba/home_none.html", ctx)


def _markdown_to_html(text: str) -> str:
    """The guides are plain Markdown (headings, lists, paragraphs, bold); this renders that subset."""
    out: list[str] = []
    in_list = None
    for raw in text.splitlines():
        line = raw.rstrip()
        inline = html.escape(re.sub(r"^\s*(#+|[-*]|\d+\.)\s+", "", line).strip())
        inline = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", inline)
        inline = re.sub(r"`(.+?)`", r"<code>\1</code>", inline)
        list_kind = "ul" if re.match(r"^\s*[-*] ", line) else "ol" if re.match(r"^\s*\d+\. ", line) else None
        if in_list and list_kind != in_list:
            out.append(f"</{in_list}>")
            in_list = None
        if list_kind:
            if not in_list:
                out.append(f"<{list_kind}>")
                in_list = list_kind
            out.append(f"<li>{inline}</li>")
        elif line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")), 4)
            out.append(f"<h{level}>{inline}</h{level}>")
        elif line.strip():
            out.append(f"<p>{inline}</p>")
    if in_list:
        out.append(f"</{in_list}>")
    return "\n".join(out)


def help_index(request):
    return render(request, "hocba/help_index.html", {"guides": GUIDES})


def help_page(request, slug: str):
    titles = dict(GUIDES)
    if slug not in titles:
        raise Http404("Không có hướng dẫn này.")
    path = settings.DOCS_DIR / "huong-dan" / f"{slug}.md"
    if not path.exists():
        raise Http404("Không tìm thấy tệp hướng dẫn.")
    body = _markdown_to_html(path.read_text(encoding="utf-8"))
    return render(request, "hocba/help_page.html", {"title": titles[slug], "body": body, "guides": GUIDES})


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "Bạn không có quyền truy cập trang này."
    return render(request, "errors/403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", {}, status=404)


def server_error(request):
    return render(request, "errors/500.html", {}, status=500)
