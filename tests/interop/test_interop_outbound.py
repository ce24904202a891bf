"""Outbound exchange of issued học bạ through the outbox, against the simulator running as a subprocess.

The acceptance promise: whatever happens on the way — a connection dropped mid-send (before or after the
receiver stored the envelope), the same envelope sent twice, versions arriving out of order, the receiver
killed with SIGKILL and started again on its database — nothing is lost, and the receiver ends holding the
latest version of every record.

The records here are small stand-ins carrying what ``enqueue_record_event`` reads from a
``records.HocBaRecord`` (record_id, replaces, school, xml_file, xml_sha256, issued_at, revoked_at), with
their XML written to the records app's real file store; one test uses a real ``HocBaRecord`` row.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hocba.audit.models import AuditEvent
from hocba.interop import outbox
from hocba.interop.models import OutboxMessage
from hocba.records import storage

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Version:
    """What enqueue_record_event reads of a học bạ version."""

    record_id: uuid.UUID
    school: object
    xml_file: str
    xml_sha256: str
    replaces: Version | None = None
    issued_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


@pytest.fixture
def store(settings, tmp_path):
    settings.HOCBA_DOCUMENTS_DIR = tmp_path / "documents"


def make_version(school, *, replaces: Version | None = None, text: str = "") -> Version:
    record_id = uuid.uuid4()
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><hocba id="{record_id}"><ghichu>{text or record_id}</ghichu>'
           "<Signature>…</Signature></hocba>").encode()
    rel, digest = storage.write(storage.relative_dir(school.code, "2024-2025", str(record_id)), xml, "xml")
    return Version(record_id, school, rel, digest, replaces, issued_at=timezone.now())


def issue(version: Version) -> OutboxMessage:
    """What the records app does when it issues: the change and its message in one transaction."""
    with transaction.atomic():
        return outbox.enqueue_record_event(version, "UPDATE" if version.replaces else "NEW")


def revoke(version: Version) -> OutboxMessage:
    with transaction.atomic():
        version.revoked_at = timezone.now()
        return outbox.enqueue_record_event(version, "CANCEL")


def drain_until_idle(timeout: float = 30) -> None:
    """Run the worker until nothing waits (retries become due after their backoff)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outbox.drain()
        if not OutboxMessage.objects.exclude(state__in=(OutboxMessage.SENT, OutboxMessage.FAILED)).exists():
            return
        time.sleep(0.05)
    raise AssertionError("the outbox did not empty: " + ", ".join(
        f"{m} {m.state} {m.last_error}" for m in OutboxMessage.objects.exclude(state=OutboxMessage.SENT)))


def assert_receiver_holds_latest(sim) -> None:
    latest: dict[str, OutboxMessage] = {}
    for message in OutboxMessage.objects.order_by("version"):
        latest[message.record_key] = message
    held = sim.records()
    assert set(held) == set(latest)
    for key, message in latest.items():
        assert (held[key]["phienban"], held[key]["sukien"], held[key]["sha256"], held[key]["madinhdanhhocba"]) == (
            message.version, message.event, message.payload_sha256, message.document_id), key
    assert not OutboxMessage.objects.exclude(state=OutboxMessage.SENT).exists()


# --- enqueueing -------------------------------------------------------------------------------------------

def test_versions_follow_the_changes_of_one_record_and_the_replacement_keeps_its_id(sector, store, school):
    first = make_version(school)
    new = issue(first)
    cancel = revoke(first)
    second = make_version(school, replaces=first)
    update = issue(second)
    assert [(m.record_key, m.event, m.version) for m in (new, cancel, update)] == [
        (str(first.record_id), "NEW", 1), (str(first.record_id), "CANCEL", 2), (str(first.record_id), "UPDATE", 3)]
    assert update.document_id == str(second.record_id) and update.payload_sha256 == second.xml_sha256
    assert cancel.status == "2" and new.status == "1"


def test_enqueue_refuses_to_run_outside_the_callers_transaction_and_rolls_back_with_it(sector, store, school):
    version = make_version(school)
    with pytest.raises(outbox.OutboxOutsideTransaction):
        outbox.enqueue_record_event(version, "NEW")
    with pytest.raises(RuntimeError, match="issue failed"), transaction.atomic():
        outbox.enqueue_record_event(version, "NEW")
        raise RuntimeError("issue failed")
    assert not OutboxMessage.objects.exists()
    with pytest.raises(ValueError, match="UPDATE"), transaction.atomic():
        outbox.enqueue_record_event(make_version(school, replaces=version), "NEW")


def test_the_envelope_carries_the_signed_xml_unchanged(sector, store, school):
    version = make_version(school, text="Nguyễn Văn Đạt – điểm 8,5")
    issue(version)
    drain_until_idle()
    stored = sector.call("GET", f"/api/v1/exchange/hocba/{version.record_id}")
    import base64

    assert base64.b64decode(stored["noidung"]) == storage.read(version.xml_file)
    assert stored["matruong"] == school.code and stored["trangthaithongtinhocba"] == "1"
    assert_receiver_holds_latest(sector)


# --- the acceptance scenarios ---------------------------------------------------------------------------------

def test_a_connection_dropped_mid_send_loses_nothing(sector, store, school):
    versions = [make_version(school) for _ in range(4)]
    for v in versions:
        issue(v)
    sector.fault("drop_before")  # half the request read, then a reset: nothing stored
    sector.fault("drop_after")   # stored, then a reset before the answer: the sender cannot tell
    report = outbox.send_due()
    assert (report.sent, report.retried) == (2, 2)
    dropped = OutboxMessage.objects.filter(state=OutboxMessage.PENDING)
    assert all("Không kết nối được" in m.last_error and m.attempts == 1 for m in dropped)

    drain_until_idle()
    assert_receiver_holds_latest(sector)
    outcomes = [e["outcome"] for e in sector.log()]
    assert outcomes.count("applied") == 4 and outcomes.count("duplicate") == 1  # the drop_after one, resent


def test_a_duplicate_send_is_recognised_and_changes_nothing(sector, store, school):
    version = make_version(school)
    message = issue(version)
    drain_until_idle()
    # A worker that crashed after sending and before recording it: its claim expires and the message goes again.
    OutboxMessage.objects.filter(pk=message.pk).update(state=OutboxMessage.SENDING, claim="dead-worker",
                                                       claimed_until=timezone.now() - dt.timedelta(seconds=1))
    report = outbox.drain()
    assert report.sent == 1
    message.refresh_from_db()
    assert (message.state, message.receiver_result, message.attempts) == ("sent", "duplicate", 2)
    assert [e["outcome"] for e in sector.log()] == ["applied", "duplicate"]
    assert_receiver_holds_latest(sector)


def test_versions_arriving_out_of_order_leave_the_receiver_on_the_highest(sector, store, school):
    first = make_version(school)
    issue(first)
    revoke(first)
    issue(make_version(school, replaces=first))
    sector.fault("error", count=2)  # versions 1 and 2 answered 503; version 3 goes through first
    report = outbox.send_due()
    assert (report.sent, report.retried) == (1, 2)
    assert sector.records()[str(first.record_id)]["phienban"] == 3

    drain_until_idle()  # 1 and 2 arrive late: the receiver ignores them, the sender counts them delivered
    assert [(e["phienban"], e["outcome"]) for e in sector.log()] == [(3, "applied"), (1, "ignored"),
                                                                    (2, "ignored")]
    assert set(OutboxMessage.objects.values_list("receiver_result", flat=True)) == {"applied", "ignored"}
    assert_receiver_holds_latest(sector)


def test_the_receiver_keeps_the_highest_version_and_ignores_lower_or_equal(sector):
    import base64
    import hashlib

    def envelope(version, content):
        return {"idbanghi": "r-1", "sukien": "UPDATE", "phienban": version, "thoigiancapnhat": "2026-05-30T10:00:00+07:00",
                "noidung": base64.b64encode(content).decode(), "sha256": hashlib.sha256(content).hexdigest()}

    post = lambda e: sector.call("POST", "/api/v1/exchange/hocba", e)["result"]
    assert post(envelope(2, b"<b/>")) == "applied"
    assert post(envelope(1, b"<a/>")) == "ignored"
    assert post(envelope(2, b"<other/>")) == "ignored"
    assert post(envelope(2, b"<b/>")) == "duplicate"
    assert post(envelope(3, b"<c/>")) == "applied"
    sector.restart()
    assert sector.records()["r-1"]["phienban"] == 3
    assert post(envelope(3, b"<c/>")) == "duplicate"


def test_a_receiver_killed_mid_run_and_restarted_loses_nothing(sector, store, school, settings):
    settings.HOCBA_SECTOR_TIMEOUT = 10
    versions = [make_version(school) for _ in range(12)]
    for v in versions[:4]:
        issue(v)
    drain_until_idle()
    for v in versions[4:]:
        issue(v)
    for v in versions[:3]:
        revoke(v)
    sector.fault("slow", seconds=5)  # the next envelope hangs in the receiver…
    killer = threading.Timer(1.0, sector.kill)  # …which dies with SIGKILL while it hangs
    killer.start()
    report = outbox.drain()
    killer.join()
    assert report.sent == 0 and report.retried >= 11 and report.failed == 0

    sector.restart()  # same port, same database file
    assert len(sector.records()) == 4  # what it held before the crash survived it
    drain_until_idle()
    assert_receiver_holds_latest(sector)
    assert {r["phienban"] for k, r in sector.records().items() if k in {str(v.record_id) for v in versions[:3]}} == {2}


# --- people: failed sends and Gửi lại ----------------------------------------------------------------------------

def test_a_failed_send_is_listed_for_the_school_admin_and_resent_from_the_page(sector, store, school, school_admin,
                                                                              settings, make_user):
    settings.HOCBA_OUTBOX_MAX_ATTEMPTS = 2
    message = issue(make_version(school))
    sector.fault("error", count=2)
    drain_until_idle()
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("failed", 2)
    assert "HTTP 503" in message.last_error

    web = Client()
    web.force_login(make_user("giaovien", "teacher", school))
    assert web.get(reverse("interop_exchange", args=[school.pk])).status_code == 403
    web.force_login(school_admin)
    page = web.get(reverse("interop_exchange", args=[school.pk])).content.decode()
    assert "Gửi lỗi: <strong>1</strong>" in page and "Gửi lại" in page and "HTTP 503" in page
    assert web.post(reverse("interop_resend", args=[school.pk, message.pk])).status_code == 302
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 0)
    event = AuditEvent.objects.get(action="exchange.resend")
    assert event.actor == school_admin and event.before["state"] == "failed"

    drain_until_idle()
    assert_receiver_holds_latest(sector)
    page = web.get(reverse("interop_exchange", args=[school.pk])).content.decode()
    assert "Đã gửi: <strong>1</strong>" in page and "Đã nhận" in page


def test_a_receiver_ahead_of_us_is_a_failure_and_resend_jumps_above_it(sector, store, school, school_admin):
    """E.g. the database was restored from a backup: the platform already holds versions we no longer know."""
    import base64
    import hashlib

    version = make_version(school)
    foreign = b"<from-before-the-restore/>"
    sector.call("POST", "/api/v1/exchange/hocba", {
        "idbanghi": str(version.record_id), "sukien": "NEW", "phienban": 5, "thoigiancapnhat": "2026-05-01T00:00:00Z",
        "noidung": base64.b64encode(foreign).decode(), "sha256": hashlib.sha256(foreign).hexdigest()})
    message = issue(version)
    drain_until_idle()
    message.refresh_from_db()
    assert message.state == "failed" and message.receiver_version == 5 and "phiên bản 5" in message.last_error

    assert outbox.resend_failed(school_admin, school) == 1
    message.refresh_from_db()
    assert message.version == 6
    drain_until_idle()
    assert_receiver_holds_latest(sector)


def test_outbox_run_once_command(sector, store, school, capsys):
    from django.core.management import call_command

    issue(make_version(school))
    call_command("outbox", "run", "--once")
    assert "Đã gửi 1, chờ gửi lại 0, lỗi 0." in capsys.readouterr().out
    call_command("outbox", "status")
    assert "Đã gửi: 1" in capsys.readouterr().out


def test_a_real_hoc_ba_record_is_enqueued_with_what_it_provides(sector, store, school, principal):
    """The API takes a records.HocBaRecord as it is: a version 1 and its replacement share the exchange id."""
    from hocba.records.models import HocBaRecord
    from hocba.school.models import SchoolClass, SchoolYear, Staff, Student

    # (transactional tests run after others have flushed the subject catalogue: a year without its plan)
    year = SchoolYear.objects.create(school=school, name="2024-2025", start_date=dt.date(2024, 9, 5),
                                     end_date=dt.date(2025, 5, 31), is_current=True)

    school_class = SchoolClass.objects.create(school=school, year=year, grade=6, name="6A1")
    student = Student.objects.create(school=school, personal_number="079213000001", student_code="HS1",
                                     full_name="Trần Minh An", gender="1", birth_date=dt.date(2013, 2, 3),
                                     birthplace="x", hometown="x", residence="x")
    leader = Staff.objects.get(user=principal)

    def row(version: int, replaces=None, code="ABCD-EFGH-0001"):
        stand_in = make_version(school)
        return HocBaRecord.objects.create(
            record_id=stand_in.record_id, school=school, year=year, school_class=school_class, student=student,
            version=version, status=HocBaRecord.ISSUED, replaces=replaces, verification_code=code,
            qr_secret_sha256="0" * 64, leader=leader, snapshot={}, source_sha256="0" * 64,
            data_xml_sha256=stand_in.xml_sha256, pdf_file="x.pdf", pdf_sha256="0" * 64,
            xml_file=stand_in.xml_file, xml_sha256=stand_in.xml_sha256, created_at=timezone.now(),
            issued_at=timezone.now())

    first = row(1)
    with transaction.atomic():
        outbox.enqueue_record_event(first, "NEW")
    with transaction.atomic():
        first.status, first.revoked_at = HocBaRecord.REVOKED, timezone.now()
        first.save()
        outbox.enqueue_record_event(first, "CANCEL")
    second = row(2, replaces=first, code="ABCD-EFGH-0002")
    with transaction.atomic():
        outbox.enqueue_record_event(HocBaRecord.objects.get(pk=second.pk), "UPDATE")
    drain_until_idle()
    held = sector.records()[str(first.record_id)]
    assert (held["phienban"], held["sukien"], held["madinhdanhhocba"]) == (3, "UPDATE", str(second.record_id))
    page = Client()
    page.force_login(principal)
    assert "Trần Minh An – 2024-2025 – phiên bản 2" in page.get(
        reverse("interop_exchange", args=[school.pk])).content.decode()


def test_without_a_configured_platform_messages_wait_without_spending_attempts(store, school, settings):
    settings.HOCBA_SECTOR_URL = ""
    message = issue(make_version(school))
    assert outbox.drain().attempted == 0
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 0)


def test_the_worker_loop_sends_retries_and_stops_cleanly(sector, store, school):
    import signal

    for _ in range(3):
        issue(make_version(school))
    sector.fault("error", count=2)
    stop = threading.Event()

    def watch():  # over HTTP only: the loop owns the database connection
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(sector.records()) < 3:
            time.sleep(0.05)
        stop.set()

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        outbox.run_forever(stop=stop)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        watcher.join()
    assert_receiver_holds_latest(sector)
