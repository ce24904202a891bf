"""The audit trail is tamper-evident: any edit, deletion, insertion or reordering of rows is caught by
`hocba audit verify`, which names the first bad event and exits with status 1."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection

from hocba.audit.models import AuditEvent
from hocba.school import actions


@pytest.fixture
def trail(school_admin, school, year):
    """A school whose audit chain holds several events."""
    for i in range(1, 4):
        actions.create_class(school_admin, year, grade=6, name=f"6A{i}")
    return list(AuditEvent.objects.filter(school=school).order_by("seq"))


def verify() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), err.getvalue()
    return 0, out.getvalue()


def sql(statement: str, params: list) -> None:
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=table), params)


def test_an_untouched_trail_verifies(trail):
    status, output = verify()
    assert status == 0 and "toàn vẹn" in output
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))


def test_an_edited_event_is_caught_and_named(trail):
    victim = trail[2]
    sql("UPDATE {table} SET object_repr = %s WHERE id = %s", ["Lớp 6A9", victim.pk])
    status, output = verify()
    assert status == 1
    assert f"#{victim.pk}" in output and "bị sửa" in output


def test_an_edited_value_inside_the_json_is_caught(trail):
    victim = trail[1]
    after = dict(victim.after)
    after["name"] = "6A7"
    AuditEvent.objects.filter(pk=victim.pk).update(after=after)
    status, output = verify()
    assert status == 1 and f"#{victim.pk}" in output


def test_a_deleted_event_is_caught(trail):
    sql("DELETE FROM {table} WHERE id = %s", [trail[1].pk])
    status, output = verify()
    assert status == 1 and "xoá" in output


def test_deleting_the_last_events_is_caught(trail):
    sql("DELETE FROM {table} WHERE id = %s", [trail[-1].pk])
    status, output = verify()
    assert status == 1 and "cuối" in output


def test_reordered_events_are_caught(trail):
    a, b = trail[1], trail[2]
    # Swap their places in the chain (sequence numbers), as a rogue administrator would.
    sql("UPDATE {table} SET seq = %s WHERE id = %s", [-1, a.pk])
    sql("UPDATE {table} SET seq = %s WHERE id = %s", [a.seq, b.pk])
    sql("UPDATE {table} SET seq = %s WHERE id = %s", [b.seq, a.pk])
    status, output = verify()
    assert status == 1 and (f"#{b.pk}" in output or f"#{a.pk}" in output)


def test_an_inserted_event_is_caught(trail, school):
    last = trail[-1]
    sql("UPDATE {table} SET seq = seq + 100 WHERE id = %s", [last.pk])
    forged = AuditEvent(school=school, action="class.create", object_repr="Lớp giả", created_at=last.created_at,
                        scope=last.scope, seq=last.seq, prev_hash=trail[-2].hash, hash="f" * 64, extra={})
    forged.save()
    status, output = verify()
    assert status == 1 and f"#{forged.pk}" in output


def test_a_recomputed_forgery_without_the_head_is_still_caught(trail):
    """Rewriting an event and recomputing its own hash breaks the link from the next event."""
    from hocba.audit.chain import event_hash

    victim = trail[1]
    victim.object_repr = "Lớp 6A8"
    victim.hash = event_hash(victim)
    AuditEvent.objects.filter(pk=victim.pk).update(object_repr=victim.object_repr, hash=victim.hash)
    status, output = verify()
    assert status == 1 and f"#{trail[2].pk}" in output


def test_chains_are_per_school_and_events_keep_time_and_actor(trail, other_school, make_user):
    admin2 = make_user("quantri2", "school_admin", other_school, position="QTT")
    actions.create_school_year(admin2, other_school, "2024-2025", dt.date(2024, 9, 5), dt.date(2025, 5, 31))
    event = AuditEvent.objects.filter(school=other_school).get()
    assert event.seq == 1 and event.scope == other_school.pk
    assert verify()[0] == 0
