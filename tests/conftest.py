"""Shared fixtures: a school with its first year, and users in each role."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

# The demo PKI fixtures (session_pki, pki_settings, give_identity) for every test directory.
pytest_plugins = ["tests.pki_support"]

_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Full-cost PBKDF2 would make every login in the suite take ~0.3 s; the hasher is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def personal_number(province: str = "079", gender_century: str = "2", birth_year: int = 2010) -> str:
    return f"{province}{gender_century}{birth_year % 100:02d}{next(_serial):06d}"


@pytest.fixture
def department(db):
    from hocba.school.models import Department

    return Department.objects.create(code="79", name="Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh")


@pytest.fixture
def division(department):
    from hocba.school.models import Division

    return Division.objects.create(department=department, code="760", name="Phòng GDĐT Quận 1")


def _school(department, division, code: str, name: str):
    from hocba.school.models import School

    return School.objects.create(department=department, division=division, code=code, name=name,
                                 commune_name="Phường Bến Nghé", province_name="Thành phố Hồ Chí Minh",
                                 province_code="79")


@pytest.fixture
def school(department, division):
    return _school(department, division, "79760401", "Trường THCS Thử Nghiệm")


@pytest.fixture
def other_school(department, division):
    return _school(department, division, "79760402", "Trường THCS Bên Cạnh")


@pytest.fixture
def make_user(db):
    """make_user(username, role, school=None, *, staff=True, position="GV") -> User with a Membership."""
    from django.contrib.auth.models import User

    from hocba.school.models import Membership, Staff

    def _make(username, role, school=None, *, staff=True, position="GV", division=None, department=None):
        user = User.objects.create_user(username=username, password="MatKhau@2026", first_name=username)
        Membership.objects.create(user=user, role=role, school=school, division=division, department=department)
        if staff and school is not None:
            Staff.objects.create(school=school, user=user, staff_code=f"CB{user.pk:04d}",
                                 personal_number=personal_number(gender_century="0", birth_year=1985),
                                 full_name=f"Nguyễn Văn {username.capitalize()}", gender="1", position=position)
        return user

    return _make


@pytest.fixture
def school_admin(make_user, school):
    return make_user("quantri", "school_admin", school, position="QTT")


@pytest.fixture
def principal(make_user, school):
    return make_user("hieutruong", "principal", school, position="HT")


@pytest.fixture
def year(school, school_admin):
    from hocba.school.actions import create_school_year

    return create_school_year(school_admin, school, "2024-2025", dt.date(2024, 9, 5), dt.date(2025, 5, 31),
                              is_current=True)
