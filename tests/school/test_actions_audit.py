"""Every write path is an action that appends exactly one audit event in its own transaction."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
from django.apps import apps
from django.contrib.auth.models import User

from hocba.audit.log import AuditOutsideTransaction, record
from hocba.audit.models import AuditEvent
from hocba.school import actions
from hocba.school.models import Staff, Subject, SubjectPlan, TeachingAssignment


def _staff(school, code: str, pn: str) -> Staff:
    return Staff.objects.create(school=school, staff_code=code, personal_number=pn,
                                full_name="Trần Thị Mai", gender="2")


@pytest.fixture
def world(school, school_admin, year):
    """A year with one class and one teacher, and callables for every school action."""
    teacher = _staff(school, "GV01", "079185000901")
    teacher2 = _staff(school, "GV02", "079185000902")
    cls = actions.create_class(school_admin, year, grade=6, name="6A1", homeroom_teacher=teacher)
    toan = Subject.objects.get(code="TO")
    assignment = actions.assign_teacher(school_admin, cls, subject=toan, semester=1, teacher=teacher)
    plan = SubjectPlan.objects.get(year=year, grade=6, subject__code="GDDP")
    user = school_admin
    calls = {
        "create_school_year": lambda: actions.create_school_year(
            user, school, "2025-2026", dt.date(2025, 9, 5), dt.date(2026, 5, 31)),
        "update_school_year": lambda: actions.update_school_year(
            user, year, start_date=dt.date(2024, 9, 1), end_date=dt.date(2025, 5, 30), is_current=True),
        "create_class": lambda: actions.create_class(user, year, grade=7, name="7A1", homeroom_teacher=teacher2),
        "update_class": lambda: actions.update_class(user, cls, name="6A9", homeroom_teacher=teacher2),
        "set_subject_plan": lambda: actions.set_subject_plan(
            user, year, grade=6, subject=Subject.objects.get(code="NN2"), kind="score", periods_per_year=105,
            elective=True),
        "remove_subject_plan": lambda: actions.remove_subject_plan(user, plan),
        "assign_teacher": lambda: actions.assign_teacher(user, cls, subject=toan, semester=2, teacher=teacher2),
        "unassign_teacher": lambda: actions.unassign_teacher(user, assignment),
        "change_password": lambda: actions.change_password(user, old_password="MatKhau@2026",
                                                           new_password="Mật-khẩu-mới-2026"),
        "register_failed_login": lambda: actions.register_failed_login("ai-do", max_failures=5, lock_seconds=60),
        "register_login": lambda: actions.register_login(user),
    }
    return calls


# Functions in actions.py that only read.
READ_ONLY = {"login_locked_until"}


def _public_actions() -> set[str]:
    return {name for name, fn in inspect.getmembers(actions, inspect.isfunction)
            if fn.__module__ == actions.__name__ and not name.startswith("_") and name not in READ_ONLY}


def test_every_action_in_actions_py_is_covered_by_this_test(world):
    assert _public_actions() == set(world), "a new action needs a row here so its audit event is proven"


def _table_state() -> dict[str, list]:
    """Every row of every hocba table, so a test sees any change anywhere."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label in ("school", "audit") or model is User:
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    return state


@pytest.mark.parametrize("name", sorted(_public_actions()))
def test_each_action_appends_exactly_one_audit_event(world, name):
    before = AuditEvent.objects.count()
    last = AuditEvent.objects.order_by("-id").first()
    world[name]()
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert event.pk != (last.pk if last else None)
    assert event.action and event.created_at


@pytest.mark.parametrize("name", sorted(_public_actions()))
def test_an_action_whose_audit_write_fails_leaves_no_change(world, name, monkeypatch):
    """The change and its event commit together: if the event cannot be written, the change is undone."""
    state = _table_state()

    def failing_record(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(actions, "record", failing_record)
    with pytest.raises(RuntimeError):
        world[name]()
    assert _table_state() == state


def test_a_refused_action_writes_neither_change_nor_event(world, school_admin, year):
    state = _table_state()
    with pytest.raises(actions.ActionError) as exc:
        actions.create_class(school_admin, year, grade=6, name="6A1")
    assert "đã có" in str(exc.value)
    assert _table_state() == state


def test_the_audit_event_records_actor_object_before_and_after(world, school_admin):
    world["update_class"]()
    event = AuditEvent.objects.order_by("-id").first()
    assert event.action == "class.update"
    assert event.actor == school_admin and event.actor_name == "quantri"
    assert event.before["name"] == "6A1" and event.after["name"] == "6A9"
    assert event.object_type == "school.schoolclass"


def test_the_audit_log_refuses_a_write_outside_a_transaction(transactional_db):
    with pytest.raises(AuditOutsideTransaction):
        record("nothing.happens")


def test_a_teacher_cannot_call_a_school_admin_action(world, make_user, school, year):
    teacher = make_user("giaovien", "teacher", school)
    state = _table_state()
    with pytest.raises(Exception) as exc:
        actions.create_class(teacher, year, grade=8, name="8A1")
    assert "quản trị trường" in str(exc.value)
    assert _table_state() == state
    assert not TeachingAssignment.objects.filter(school_class__name="8A1").exists()
