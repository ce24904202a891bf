"""First journey: every demo role logs in and lands on its own home page; refusals are pages, not errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# username -> a text the role's home page must show
HOMES = {
    "admin": "Quản trị hệ thống",
    "quantri": "Nhập dữ liệu",
    "hieutruong": "Các lớp",
    "phohieutruong": "Các lớp",
    "hocvu": "Các lớp",
    "gvcn": "Lớp chủ nhiệm",
    "gvbm": "Phân công giảng dạy",
    "phuhuynh": "Thông tin học tập của con",
    "hocsinh": "Thông tin học tập của em",
    "phong": "Thống kê các trường",
}


@pytest.fixture
def demo_school(transactional_db):
    from hocba.school.demo import DEMO_PASSWORD, load_demo

    load_demo(seed=2024)
    return DEMO_PASSWORD


def test_each_demo_role_logs_in_and_lands_on_its_home_page(page, live_server, demo_school, signin, signout):
    from hocba.school.demo import DEMO_ACCOUNTS

    assert {row[0] for row in DEMO_ACCOUNTS} >= set(HOMES)
    for username, expected in HOMES.items():
        signin(username, demo_school)
        assert page.url.rstrip("/") == live_server.url, f"{username} did not land on the home page"
        expect(page.get_by_text(expected).first, f"{username}: home page lacks {expected!r}").to_be_visible()
        signout()
        assert "/dang-nhap/" in page.url


def test_a_teacher_opening_another_teachers_class_gets_a_refusal_page(page, live_server, demo_school, signin,
                                                                    signout):
    from hocba.school.models import SchoolClass

    nine_a1 = SchoolClass.objects.get(name="9A1", year__name="2024-2025")
    signin("gvbm", demo_school)
    response = page.goto(f"{live_server.url}/lop/{nine_a1.pk}/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Không có quyền truy cập")).to_be_visible()
    expect(page.get_by_text("9A1").first).to_be_visible()
    # The homeroom teacher of 9A1 opens it and sees the class list.
    signout()
    signin("gvcn", demo_school)
    response = page.goto(f"{live_server.url}/lop/{nine_a1.pk}/")
    assert response.status == 200
    expect(page.get_by_role("heading", name="Lớp 9A1 – năm học 2024-2025")).to_be_visible()
    assert page.locator("table.grid tbody tr").count() > 30
