"""The outbound exchange of issued học bạ: an outbox written with the issue, and a worker that delivers it.

**Enqueueing.** ``enqueue_record_event(record, event)`` is called by the records app inside the transaction
that issues or revokes a học bạ, so that the change and the message to the platform commit together or not
at all: no issued record without its message, no message about a record that was rolled back. It allocates
the message's version there and then (one counter per exchange record id, locked), so versions follow the
order of the changes, whatever order the sends happen in.

**The exchange record id** (``idbanghi``) is the ``record_id`` of the first version of the học bạ năm học;
a replacement version keeps it, so the platform holds one record per student and year whose latest version
is the one in force (or the revocation):

=====================================================  ==========  ==================================
What happened here                                      event       payload (signed XML of)
=====================================================  ==========  ==================================
version 1 issued                                        NEW         version 1
an issued version revoked (thu hồi)                     CANCEL      the revoked version
a replacement version (2, 3…) issued                    UPDATE      the replacement
=====================================================  ==========  ==================================

**Delivery.** ``send_due`` claims due messages (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
serialises writers), sends each outside any transaction and records the outcome. A send whose answer never
came is retried with exponential backoff and jitter, up to ``HOCBA_OUTBOX_MAX_ATTEMPTS``; then the message
is ``failed`` and waits for a person (Gửi lại). Sends are idempotent: the receiver recognises the same
(record id, version) and answers ``duplicate``; a message whose version the receiver already passed is
answered ``ignored`` and counts as delivered when the newer version is one of ours. A crashed worker's
claim expires after ``HOCBA_OUTBOX_LEASE_SECONDS`` and the message is sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import signal
import threading
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from hocba.audit.log import record as audit
from hocba.school import permissions
from hocba.school.actions import ActionError

from . import conf, transport
from .envelope import PATH, STATUS_IN_FORCE, STATUS_REVOKED, build_envelope, idempotency_key
from .models import ExchangeSequence, OutboxMessage

log = logging.getLogger(__name__)

NEW, UPDATE, CANCEL = OutboxMessage.NEW, OutboxMessage.UPDATE, OutboxMessage.CANCEL
RETRY_STATUSES = {401, 403, 408, 425, 429}  # 401/403: a token being renewed; fixed by configuration
BATCH = 20


class OutboxOutsideTransaction(RuntimeError):
    """enqueue_record_event was called outside the issuing action's transaction."""


# --- enqueueing (inside the records app's transaction) --------------------------------------------------

def exchange_key(record) -> str:
    """The exchange record id of a học bạ version: the ``record_id`` of the first version it replaces."""
    current, seen = record, set()
    while getattr(current, "replaces", None) is not None:
        if id(current) in seen or len(seen) > 100:
            raise ValueError("the chain of replaced versions loops")
        seen.add(id(current))
        current = current.replaces
    return str(current.record_id)


def _next_version(record_key: str, *, above: int = 0) -> int:
    """The next version of ``record_key``, higher than ``above`` too; the counter row stays locked until the
    caller's transaction ends, which orders concurrent changes of one record."""
    seq = ExchangeSequence.objects.select_for_update().filter(record_key=record_key).first()
    if seq is None:
        try:
            with transaction.atomic():
                ExchangeSequence.objects.create(record_key=record_key)
        except IntegrityError:  # another transaction created it first
            pass
        seq = ExchangeSequence.objects.select_for_update().get(record_key=record_key)
    seq.last_version = max(seq.last_version, above) + 1
    seq.save(update_fields=["last_version"])
    return seq.last_version


def enqueue_record_event(record, event: str, *, changed_at: dt.datetime | None = None) -> OutboxMessage:
    """Queue the exchange message for ``record`` (a ``records.HocBaRecord``) that was just issued (NEW, or
    UPDATE for a replacement version) or revoked (CANCEL). Must run inside the caller's transaction.

    What it reads from ``record``: ``record_id``, ``replaces`` (the version it replaces, or None),
    ``school`` (its ``code``), ``xml_file`` and ``xml_sha256`` (the signed XML as stored), and
    ``issued_at`` / ``revoked_at`` for the time of the change.
    """
    if not transaction.get_connection().in_atomic_block:
        raise OutboxOutsideTransaction(
            "enqueue_record_event must be called inside the transaction that issues or revokes the record")
    if event not in (NEW, UPDATE, CANCEL):
        raise ValueError(f"event must be NEW, UPDATE or CANCEL, not {event!r}")
    replaces = getattr(record, "replaces", None)
    if event == NEW and replaces is not None:
        raise ValueError("a replacement version is exchanged as UPDATE, not NEW")
    if event == UPDATE and replaces is None:
        raise ValueError("UPDATE is for a replacement version; version 1 is exchanged as NEW")
    if not record.xml_file or not record.xml_sha256:
        raise ValueError("the record has no stored XML to send")
    key = exchange_key(record)
    if changed_at is None:
        moment = getattr(record, "revoked_at" if event == CANCEL else "issued_at", None)
        changed_at = moment or timezone.now()
    now = timezone.now()
    school_id = getattr(record, "school_id", None) or record.school.pk
    return OutboxMessage.objects.create(
        school_id=school_id, record_key=key, document_id=str(record.record_id), event=event,
        version=_next_version(key), changed_at=changed_at,
        status=STATUS_REVOKED if event == CANCEL else STATUS_IN_FORCE,
        payload_file=record.xml_file, payload_sha256=record.xml_sha256, next_attempt_at=now, created_at=now)


# --- the people's side: see and resend -------------------------------------------------------------------

def _prepare_resend(message: OutboxMessage, now: dt.datetime) -> dict:
    if message.state == OutboxMessage.SENT:
        raise ActionError("Bản tin này đã được nơi nhận xác nhận; không cần gửi lại.")
    if message.state == OutboxMessage.SENDING and message.claimed_until and message.claimed_until > now:
        raise ActionError("Bản tin đang được gửi; hãy chờ kết quả.")
    before = {"state": message.state, "version": message.version, "attempts": message.attempts,
              "last_error": message.last_error[:500]}
    if message.receiver_version and message.receiver_version >= message.version:
        # The receiver holds this version (or a higher one) with other content: only a higher version passes.
        message.version = _next_version(message.record_key, above=message.receiver_version)
    message.state, message.attempts, message.next_attempt_at = OutboxMessage.PENDING, 0, now
    message.claim, message.claimed_until = "", None
    message.save(update_fields=["state", "version", "attempts", "next_attempt_at", "claim", "claimed_until"])
    return before


@transaction.atomic
def resend_message(actor, message: OutboxMessage) -> OutboxMessage:
    """Gửi lại: a failed (or waiting) message goes back to the queue, due now, with its attempts reset."""
    permissions.require_manage_school(actor, message.school)
    message = OutboxMessage.objects.select_for_update().select_related("school").get(pk=message.pk)
    before = _prepare_resend(message, timezone.now())
    audit("exchange.resend", actor=actor, school=message.school, obj=message, before=before,
          after={"state": message.state, "version": message.version},
          extra={"record_key": message.record_key, "event": message.event})
    return message


@transaction.atomic
def resend_failed(actor, school) -> int:
    """Gửi lại tất cả: every failed message of the school back to the queue."""
    permissions.require_manage_school(actor, school)
    now = timezone.now()
    messages = list(OutboxMessage.objects.select_for_update().filter(school=school, state=OutboxMessage.FAILED))
    for message in messages:
        _prepare_resend(message, now)
    if messages:
        audit("exchange.resend_all", actor=actor, school=school, object_type="interop.outboxmessage",
              object_repr=f"Gửi lại {len(messages)} bản tin",
              extra={"messages": [{"id": m.pk, "record_key": m.record_key, "version": m.version}
                                  for m in messages]})
    return len(messages)


# --- the worker --------------------------------------------------------------------------------------------

@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.errors += other.errors


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base·2^(n−1), capped, then a random point in its upper half."""
    delay = min(conf.outbox_backoff_cap(), conf.outbox_backoff_base() * 2 ** max(attempts - 1, 0))
    return random.uniform(delay / 2, delay)


def _due(now: dt.datetime) -> Q:
    return Q(state=OutboxMessage.PENDING, next_attempt_at__lte=now) | Q(state=OutboxMessage.SENDING,
                                                                        claimed_until__lt=now)


def _claim(limit: int) -> list[OutboxMessage]:
    now = timezone.now()
    claim = uuid.uuid4().hex
    with transaction.atomic():
        ids = list(OutboxMessage.objects.select_for_update(skip_locked=True).filter(_due(now))
                   .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(
                state=OutboxMessage.SENDING, claim=claim, attempts=F("attempts") + 1, last_attempt_at=now,
                claimed_until=now + dt.timedelta(seconds=conf.outbox_lease_seconds()))
    return list(OutboxMessage.objects.filter(pk__in=ids, claim=claim).select_related("school")
                .order_by("record_key", "version"))


def _finish(message: OutboxMessage, **changes) -> bool:
    """Record the outcome, unless another worker took the message over meanwhile (its claim expired)."""
    changes.setdefault("claim", "")
    changes.setdefault("claimed_until", None)
    return bool(OutboxMessage.objects.filter(pk=message.pk, claim=message.claim, state=OutboxMessage.SENDING)
                .update(**changes))


def _retry_or_fail(message: OutboxMessage, error: str, report: SendReport, *, permanent: bool = False) -> None:
    now = timezone.now()
    if permanent or message.attempts >= conf.outbox_max_attempts():
        if _finish(message, state=OutboxMessage.FAILED, last_error=error):
            report.failed += 1
            report.errors.append(f"{message}: {error}")
        return
    if _finish(message, state=OutboxMessage.PENDING, last_error=error,
               next_attempt_at=now + dt.timedelta(seconds=backoff_seconds(message.attempts))):
        report.retried += 1


def send_one(message: OutboxMessage, report: SendReport) -> None:
    """Send one claimed message and record what the receiver said (or that it said nothing)."""
    from hocba.records import storage  # the records app's file store (content-addressed, never rewritten)

    try:
        content = storage.read(message.payload_file, message.payload_sha256)
    except storage.StoredFileError as exc:
        _retry_or_fail(message, str(exc), report, permanent=True)
        return
    envelope = build_envelope(record_key=message.record_key, event=message.event, version=message.version,
                              changed_at=timezone.localtime(message.changed_at), document_id=message.document_id,
                              school_code=message.school.code, status=message.status, content=content)
    try:
        answer = transport.call("POST", conf.exchange_url(), PATH, token=conf.exchange_token(),
                                timeout=conf.timeout(), payload=envelope,
                                headers={"Idempotency-Key": idempotency_key(message.record_key, message.version)})
    except (transport.TransportError, transport.NotConfigured) as exc:
        _retry_or_fail(message, str(exc), report)
        return
    if not answer.ok:
        error = f"Nơi nhận trả lời HTTP {answer.status}: {answer.message}"
        retry = answer.status >= 500 or answer.status in RETRY_STATUSES
        _retry_or_fail(message, error, report, permanent=not retry)
        return
    result = answer.body.get("result")
    current = answer.body.get("current_version")
    current = current if isinstance(current, int) else None
    now = timezone.now()
    if result in ("applied", "duplicate"):
        if _finish(message, state=OutboxMessage.SENT, sent_at=now, last_error="", receiver_result=result,
                   receiver_version=current):
            report.sent += 1
        return
    if result == "ignored" and current is not None:
        ours = ExchangeSequence.objects.filter(record_key=message.record_key).values_list("last_version", flat=True)
        highest_ours = max(ours, default=0)
        if message.version < current <= highest_ours:
            # A newer version of ours arrived first (sends out of order): nothing of this one is lost.
            if _finish(message, state=OutboxMessage.SENT, sent_at=now, last_error="", receiver_result=result,
                       receiver_version=current):
                report.sent += 1
            return
        error = (f"Nơi nhận đang giữ phiên bản {current} của bản ghi này "
                 + ("với nội dung khác" if current == message.version else "mà hệ thống chưa từng gửi")
                 + " nên bỏ qua phiên bản gửi. Có thể cơ sở dữ liệu đã được khôi phục từ bản sao lưu; "
                 "bấm Gửi lại để gửi với phiên bản mới cao hơn.")
        if _finish(message, state=OutboxMessage.FAILED, last_error=error, receiver_result=result,
                   receiver_version=current):
            report.failed += 1
            report.errors.append(f"{message}: {error}")
        return
    _retry_or_fail(message, f"Câu trả lời của nơi nhận không hiểu được: {str(answer.body)[:300]}", report)


def send_due(*, limit: int = BATCH) -> SendReport:
    """One pass: claim up to ``limit`` due messages and send them. Without a configured platform nothing is
    claimed, so messages wait without spending their attempts (an offline school keeps them until connected)."""
    report = SendReport()
    if not conf.exchange_url():
        return report
    for message in _claim(limit):
        send_one(message, report)
    return report


def drain() -> SendReport:
    """Send everything that is due now (``--once``); messages put back for a later retry are left for later."""
    report = SendReport()
    while True:
        step = send_due()
        report.add(step)
        if step.attempted == 0:
            return report


def seconds_until_due(cap: float) -> float:
    now = timezone.now()
    nearest = OutboxMessage.objects.filter(state=OutboxMessage.PENDING).aggregate(t=Min("next_attempt_at"))["t"]
    lease = OutboxMessage.objects.filter(state=OutboxMessage.SENDING).aggregate(t=Min("claimed_until"))["t"]
    candidates = [t for t in (nearest, lease) if t is not None]
    if not candidates:
        return cap
    return max(0.0, min(cap, (min(candidates) - now).total_seconds()))


def run_forever(*, on_report=None, stop: threading.Event | None = None) -> None:
    """The worker loop (``hocba outbox run``): send what is due, sleep until the next message is due or the
    poll interval passes, stop cleanly on SIGTERM/SIGINT after the message in hand."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        try:
            report = drain()
        except Exception:
            log.exception("outbox: pass failed")
            report = SendReport()
            stop.wait(conf.outbox_poll_seconds())
            continue
        if on_report and report.attempted:
            on_report(report)
        stop.wait(max(0.05, seconds_until_due(conf.outbox_poll_seconds())))
