"""The audit viewer: the principal, vice-principals and school admin read their school's trail, filter it by
person, class, student, subject, action and date, export it to .xlsx, and see whether the chain verifies.
Teachers and other schools' leaders are refused. The events are written by the real actions."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hocba.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def log_url(school, **filters) -> str:
    from urllib.parse import urlencode

    return reverse("audit_log", args=[school.pk]) + (f"?{urlencode(filters)}" if filters else "")


def export(client, school, **filters) -> openpyxl.Workbook:
    from urllib.parse import urlencode

    response = client.get(reverse("audit_export", args=[school.pk]) + (f"?{urlencode(filters)}" if filters else ""))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"nhat-ky-{school.code}-" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def logged_seqs(response) -> set[int]:
    return {row["event"].seq for row in response.context["rows"]}


class World:
    """Two classes, two teachers, students, and a trail written by the real actions."""

    def __init__(self, school, year, school_admin, principal, make_user):
        from hocba.gradebook import actions as gb
        from hocba.school import actions
        from hocba.school.models import Enrolment, Student, Subject, TeachingAssignment

        self.school, self.year, self.admin, self.principal = school, year, school_admin, principal
        self.toan, self.van = Subject.objects.get(code="TO"), Subject.objects.get(code="NV")
        self.gv_toan = make_user("gvtoan", "teacher", school)
        self.gv_van = make_user("gvvan", "teacher", school)
        self.gvcn = make_user("gvcn", "teacher", school)
        self.a1 = actions.create_class(school_admin, year, grade=6, name="6A1", homeroom_teacher=self.gvcn.staff)
        self.a2 = actions.create_class(school_admin, year, grade=6, name="6A2")
        self.students = {}
        for i, (name, cls) in enumerate([("Trần Thị Lan", self.a1), ("Lê Văn Minh", self.a1),
                                         ("Phạm Thu Hà", self.a2)]):
            student = Student.objects.create(
                school=school, personal_number=f"07921200{i:04d}", student_code=f"HS{i:03d}", full_name=name,
                gender="2", birth_date=dt.date(2013, 1, 1), birthplace="x", hometown="x", residence="x")
            Enrolment.objects.create(school=school, student=student, year=year, school_class=cls)
            self.students[name] = student
        for cls in (self.a1, self.a2):
            actions.assign_teacher(school_admin, cls, subject=self.toan, semester=1, teacher=self.gv_toan.staff)
            actions.assign_teacher(school_admin, cls, subject=self.van, semester=1, teacher=self.gv_van.staff)
        lan, minh, ha = (self.students[n] for n in ("Trần Thị Lan", "Lê Văn Minh", "Phạm Thu Hà"))
        self.save_lan = gb.save_cells(self.gv_toan, self.a1, self.toan, 1, [gb.CellEdit(lan.pk, "tx1", "", "7,5")])
        gb.save_cells(self.gv_toan, self.a2, self.toan, 1, [gb.CellEdit(ha.pk, "gk", "", "9")])
        gb.save_cells(self.gv_van, self.a1, self.van, 1, [gb.CellEdit(minh.pk, "comment", "", "=1+1 chăm chỉ")])
        gb.save_student_semester(self.gvcn, self.a1, minh, 1, conduct="T", expected_version=0)
        assert TeachingAssignment.objects.count() == 4

    def events(self, **filters) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(school=self.school, **filters).order_by("seq"))


@pytest.fixture
def world(school, year, school_admin, principal, make_user):
    return World(school, year, school_admin, principal, make_user)


# --- who may read ---------------------------------------------------------------------------------------

def test_the_principal_reads_the_whole_school_trail_and_sees_the_chain_verified(world):
    response = client_for(world.principal).get(log_url(world.school))
    assert response.status_code == 200
    assert logged_seqs(response) == {e.seq for e in world.events()}
    page = response.content.decode()
    assert "Chuỗi nhật ký của trường toàn vẹn" in page and 'class="chain chain-ok"' in page
    assert "Tạo lớp" in page and "Nhập, sửa điểm và nhận xét" in page
    assert "Trần Thị Lan ĐĐGtx1: (trống) → 7,5" in page  # names, slots and Vietnamese decimals


def test_vice_principal_and_school_admin_read_it_too(world, make_user):
    vice = make_user("phohieutruong", "vice_principal", world.school, position="PHT")
    for user in (vice, world.admin):
        assert client_for(user).get(log_url(world.school)).status_code == 200


@pytest.mark.parametrize("role", ["teacher", "academic_staff", "parent", "district"])
def test_teachers_staff_parents_and_the_district_are_refused(world, make_user, role, division):
    user = make_user(f"u_{role}", role, world.school if role != "district" else None,
                     staff=role in ("teacher", "academic_staff"), division=division if role == "district" else None)
    c = client_for(user)
    for url in (log_url(world.school), reverse("audit_export", args=[world.school.pk])):
        response = c.get(url)
        assert response.status_code == 403
        assert b"Ch\xe1\xbb\x89 hi\xe1\xbb\x87u tr\xc6\xb0\xe1\xbb\x9fng" in response.content  # "Chỉ hiệu trưởng"
    assert c.get(reverse("audit_index")).status_code == 403


def test_another_schools_principal_is_refused_and_sees_nothing_of_this_school(world, other_school, make_user):
    from hocba.school import actions

    other_principal = make_user("htkhac", "principal", other_school, position="HT")
    other_admin = make_user("qtkhac", "school_admin", other_school, position="QTT")
    actions.create_school_year(other_admin, other_school, "2024-2025", dt.date(2024, 9, 5), dt.date(2025, 5, 31))
    c = client_for(other_principal)
    assert c.get(log_url(world.school)).status_code == 403
    assert c.get(reverse("audit_export", args=[world.school.pk])).status_code == 403
    own = c.get(log_url(other_school))
    assert own.status_code == 200
    assert {r["event"].school_id for r in own.context["rows"]} == {other_school.pk}
    assert "6A1" not in own.content.decode() and "Trần Thị Lan" not in own.content.decode()
    # The index takes a principal of one school straight to that school's trail.
    assert c.get(reverse("audit_index")).url == log_url(other_school)


# --- filters --------------------------------------------------------------------------------------------

def test_filter_by_person(world):
    response = client_for(world.principal).get(log_url(world.school, nguoi=world.gv_toan.pk))
    assert logged_seqs(response) == {e.seq for e in world.events(actor=world.gv_toan)}
    assert len(response.context["rows"]) == 2


def test_filter_by_class_finds_events_on_the_class_and_on_what_belongs_to_it(world):
    response = client_for(world.principal).get(log_url(world.school, lop=world.a1.pk))
    actions = sorted(r["event"].action for r in response.context["rows"])
    # 6A1 created, its two assignments, Toán and Văn saves, and the GVCN's conduct record — nothing of 6A2.
    assert actions == ["assignment.create", "assignment.create", "class.create", "gradebook.save_cells",
                       "gradebook.save_cells", "gradebook.save_student_semester"]
    assert all("6A2" not in r["event"].object_repr for r in response.context["rows"])


def test_filter_by_student_finds_saves_that_name_them_and_records_about_them(world):
    c = client_for(world.principal)
    minh = world.students["Lê Văn Minh"]
    by_code = c.get(log_url(world.school, hoc_sinh=minh.student_code))
    assert sorted(r["event"].action for r in by_code.context["rows"]) == [
        "gradebook.save_cells", "gradebook.save_student_semester"]
    by_name = c.get(log_url(world.school, hoc_sinh="Thị Lan"))
    assert [r["detail"] for r in by_name.context["rows"]] == ["HK1 · Toán: Trần Thị Lan ĐĐGtx1: (trống) → 7,5"]
    assert c.get(log_url(world.school, hoc_sinh="Không Có Ai")).context["rows"] == []


def test_filter_by_subject_and_by_action(world):
    c = client_for(world.principal)
    toan = c.get(log_url(world.school, mon="TO"))
    assert sorted(r["event"].action for r in toan.context["rows"]) == [
        "assignment.create", "assignment.create", "gradebook.save_cells", "gradebook.save_cells"]
    saves = c.get(log_url(world.school, hanh_dong="gradebook.save_cells"))
    assert len(saves.context["rows"]) == 3
    both = c.get(log_url(world.school, hanh_dong="gradebook.save_cells", mon="NV"))
    assert len(both.context["rows"]) == 1


def test_filter_by_dates_uses_local_calendar_days(world):
    c = client_for(world.principal)
    today = timezone.localdate()
    everything = len(world.events())
    assert len(c.get(log_url(world.school, tu_ngay=today.isoformat(), den_ngay=today.isoformat())
                     ).context["rows"]) == everything
    assert c.get(log_url(world.school, tu_ngay=(today + dt.timedelta(days=1)).isoformat())).context["rows"] == []
    assert c.get(log_url(world.school, den_ngay=(today - dt.timedelta(days=1)).isoformat())).context["rows"] == []
    wrong = c.get(log_url(world.school, tu_ngay=today.isoformat(), den_ngay=(today - dt.timedelta(days=2)).isoformat()))
    assert "«Đến ngày» phải sau «Từ ngày»" in wrong.content.decode()


def test_the_list_is_paginated_keeping_the_filter(world, monkeypatch):
    from hocba.audit import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    c = client_for(world.principal)
    first = c.get(log_url(world.school, lop=world.a1.pk))
    assert first.context["page"].paginator.num_pages == 3
    assert f"lop={world.a1.pk}&amp;trang=2" in first.content.decode()
    second = c.get(log_url(world.school, lop=world.a1.pk, trang=2))
    assert logged_seqs(first).isdisjoint(logged_seqs(second))


# --- chain status ---------------------------------------------------------------------------------------

def test_a_tampered_trail_is_shown_as_broken(world):
    victim = world.events(action="gradebook.save_cells")[0]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET object_repr = %s WHERE id = %s",
                       ["6A1 – Toán – HK2", victim.pk])
    page = client_for(world.principal).get(log_url(world.school)).content.decode()
    assert 'class="chain chain-broken"' in page and "KHÔNG toàn vẹn" in page and f"#{victim.pk}" in page


def test_a_long_trail_is_checked_when_asked(world, monkeypatch):
    from hocba.audit import views

    monkeypatch.setattr(views, "AUTO_VERIFY_MAX_EVENTS", 3)
    c = client_for(world.principal)
    page = c.get(log_url(world.school)).content.decode()
    assert 'class="chain chain-unchecked"' in page and "Kiểm tra chuỗi" in page
    checked = c.get(log_url(world.school, kiem_tra=1)).content.decode()
    assert 'class="chain chain-ok"' in checked


# --- export ---------------------------------------------------------------------------------------------

def test_the_export_holds_the_filtered_rows_with_names_and_the_chain_status(world):
    workbook = export(client_for(world.principal), world.school, lop=world.a1.pk, hanh_dong="gradebook.save_cells")
    sheet = workbook["Nhật ký"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("Thời gian", "Người thực hiện", "Tài khoản", "Hành động", "Đối tượng", "Chi tiết")
    body = rows[1:]
    assert len(body) == 2
    assert {r[1] for r in body} == {world.gv_toan.staff.full_name, world.gv_van.staff.full_name}
    assert {r[3] for r in body} == {"Nhập, sửa điểm và nhận xét"}
    details = " | ".join(r[5] for r in body)
    assert "Trần Thị Lan ĐĐGtx1: (trống) → 7,5" in details and "Lê Văn Minh Nhận xét" in details
    assert all(isinstance(r[0], dt.datetime) for r in body)
    expected = {e.hash for e in world.events(action="gradebook.save_cells", object_id=str(world.a1.pk))}
    assert {r[11] for r in body} == expected
    info = dict(workbook["Thông tin"].iter_rows(values_only=True))
    assert info["Mã trường"] == world.school.code
    assert info["Kiểm tra chuỗi"].startswith("Chuỗi nhật ký của trường toàn vẹn")
    assert info["Lọc theo lớp"] == "6A1 (2024-2025)"
    assert info["Lọc theo hành động"] == "Nhập, sửa điểm và nhận xét"


def test_exported_text_that_looks_like_a_formula_stays_text(world):
    workbook = export(client_for(world.principal), world.school, mon="NV", hanh_dong="gradebook.save_cells")
    cells = [c for row in workbook["Nhật ký"].iter_rows(min_row=2) for c in row]
    detail = next(c for c in cells if isinstance(c.value, str) and "=1+1" in c.value)
    assert detail.data_type == "s"
    assert all(c.data_type != "f" for c in cells)


def test_the_export_refuses_a_list_too_long_for_one_file(world, monkeypatch):
    from hocba.audit import views

    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 2)
    response = client_for(world.principal).get(reverse("audit_export", args=[world.school.pk]))
    assert response.status_code == 302 and response.url.startswith(log_url(world.school))
