"""Login, lockout, logout, password change, sessions, and refusal pages."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from hocba.audit.models import AuditEvent
from hocba.school import actions
from hocba.school.models import SchoolClass, Staff, Subject

PASSWORD = "MatKhau@2026"


def test_login_page_is_vietnamese(client, db):
    page = client.get(reverse("login")).content.decode()
    assert "Đăng nhập" in page and "Tên đăng nhập" in page and "Mật khẩu" in page
    assert '<html lang="vi">' in page


def test_a_user_logs_in_lands_home_and_the_login_is_audited(client, school_admin):
    response = client.post(reverse("login"), {"username": "quantri", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert AuditEvent.objects.filter(action="account.login", actor=school_admin).count() == 1
    assert "Trường THCS Thử Nghiệm" in client.get(reverse("home")).content.decode()


def test_wrong_password_is_refused_with_a_vietnamese_message(client, school_admin):
    page = client.post(reverse("login"), {"username": "quantri", "password": "sai"}).content.decode()
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in page


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, school_admin):
    for _ in range(settings.HOCBA_LOGIN_MAX_FAILURES):
        client.post(reverse("login"), {"username": "quantri", "password": "sai"})
    page = client.post(reverse("login"), {"username": "quantri", "password": PASSWORD}).content.decode()
    assert "tạm khoá" in page
    assert "_auth_user_id" not in client.session


def test_a_lock_expires(client, school_admin, settings):
    settings.HOCBA_LOGIN_LOCK_SECONDS = 0
    for _ in range(settings.HOCBA_LOGIN_MAX_FAILURES):
        client.post(reverse("login"), {"username": "quantri", "password": "sai"})
    response = client.post(reverse("login"), {"username": "quantri", "password": PASSWORD})
    assert response.status_code == 302


def test_logout_needs_post_and_ends_the_session(client, school_admin):
    client.force_login(school_admin)
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_password_change_checks_the_old_password_and_the_strength(client, school_admin):
    client.force_login(school_admin)
    page = client.post(reverse("password_change"), {"old_password": "sai", "new_password": "Mới-Mật-Khẩu-2026",
                                                    "new_password2": "Mới-Mật-Khẩu-2026"}).content.decode()
    assert "Mật khẩu hiện tại không đúng." in page
    page = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password": "1234567890",
                                                    "new_password2": "1234567890"}).content.decode()
    assert "errorlist" in page or "error" in page
    response = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password": "Mới-Mật-Khẩu-2026",
                                                        "new_password2": "Mới-Mật-Khẩu-2026"})
    assert response.status_code == 302
    school_admin.refresh_from_db()
    assert school_admin.check_password("Mới-Mật-Khẩu-2026")
    assert AuditEvent.objects.filter(action="account.change_password").count() == 1


def test_sessions_expire_and_cookies_are_not_readable_by_scripts(client, school_admin):
    client.post(reverse("login"), {"username": "quantri", "password": PASSWORD})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert 0 < settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert client.session.get_expire_at_browser_close()


def test_forms_are_csrf_protected(school_admin):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("login"), {"username": "quantri", "password": PASSWORD}).status_code == 403


@pytest.fixture
def two_teachers(make_user, school, school_admin, year):
    mine = make_user("gv_a", "teacher", school)
    other = make_user("gv_b", "teacher", school)
    cls_a = actions.create_class(school_admin, year, grade=6, name="6A1",
                                 homeroom_teacher=Staff.objects.get(user=mine))
    cls_b = actions.create_class(school_admin, year, grade=6, name="6A2",
                                 homeroom_teacher=Staff.objects.get(user=other))
    actions.assign_teacher(school_admin, cls_b, subject=Subject.objects.get(code="TO"), semester=1,
                           teacher=Staff.objects.get(user=other))
    return mine, other, cls_a, cls_b


def test_a_teacher_opening_another_teachers_class_gets_a_refusal_page(client, two_teachers):
    mine, _other, cls_a, cls_b = two_teachers
    client.force_login(mine)
    assert client.get(reverse("class_detail", args=[cls_a.pk])).status_code == 200
    response = client.get(reverse("class_detail", args=[cls_b.pk]))
    assert response.status_code == 403
    assert "Không có quyền truy cập" in response.content.decode()
    assert "6A2" in response.content.decode()


def test_a_subject_teacher_sees_the_class_they_teach(client, two_teachers, make_user, school, school_admin):
    mine, _other, _cls_a, cls_b = two_teachers
    actions.assign_teacher(school_admin, cls_b, subject=Subject.objects.get(code="NV"), semester=2,
                           teacher=Staff.objects.get(user=mine))
    client.force_login(mine)
    assert client.get(reverse("class_detail", args=[cls_b.pk])).status_code == 200


def test_a_principal_of_another_school_cannot_see_this_school(client, two_teachers, make_user, other_school):
    outsider = make_user("ht_khac", "principal", other_school, position="HT")
    client.force_login(outsider)
    cls = SchoolClass.objects.get(name="6A1")
    assert client.get(reverse("class_detail", args=[cls.pk])).status_code == 403
    assert client.get(reverse("school_years", args=[cls.school_id])).status_code == 403


def test_admin_pages_create_a_year_with_the_tt22_plan(client, school_admin, school):
    client.force_login(school_admin)
    response = client.post(reverse("school_years", args=[school.pk]),
                           {"name": "2025-2026", "start_date": "05/09/2025", "end_date": "31/05/2026"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "2025-2026" in page
    year = school.years.get(name="2025-2026")
    assert year.subject_plans.filter(grade=8, subject__code="CN").get().periods_per_year == 52
    assert year.subject_plans.filter(grade=6).count() == 12


def test_admin_pages_show_the_field_error_in_vietnamese(client, school_admin, school):
    client.force_login(school_admin)
    page = client.post(reverse("school_years", args=[school.pk]),
                       {"name": "2025-2027", "start_date": "05/09/2025", "end_date": "31/05/2026"}).content.decode()
    assert "Năm học phải có dạng YYYY-YYYY" in page
    assert not school.years.filter(name="2025-2027").exists()


def test_the_school_home_links_the_audit_trail_and_the_data_exchange(client, school_admin, school, year):
    client.force_login(school_admin)
    page = client.get(reverse("home")).content.decode()
    assert reverse("audit_log", args=[school.pk]) in page
    assert reverse("interop_sync", args=[school.pk]) in page and reverse("interop_exchange", args=[school.pk]) in page
