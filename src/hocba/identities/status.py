"""What the school admin must look at: staff without a certificate, certificates expiring within 30 days or
expired, revoked by their CA (asked online through OCSP/CRL with ``hocba.signing.precheck``, the answer
cached on the identity), and the same for the school's seal."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.utils import timezone

from hocba.school.models import School, Staff
from hocba.signing.precheck import REASONS_VI, check_revocation_online, fmt_date, fmt_time
from hocba.signing.trust import load_certificates

from . import service
from .models import SigningIdentity

EXPIRY_WARNING_DAYS = 30
#: how long a revocation answer is trusted by the identity pages before it is asked again
REVOCATION_MAX_AGE = dt.timedelta(hours=6)

MISSING, EXPIRED, EXPIRING, NOT_YET_VALID, REVOKED, UNCHECKED, OK = (
    "missing", "expired", "expiring", "not_yet_valid", "revoked", "unchecked", "ok")
_ATTENTION = {MISSING, EXPIRED, EXPIRING, NOT_YET_VALID, REVOKED}


@dataclass(frozen=True)
class Row:
    """One holder (a staff member, or the school for its seal) and the state of their certificate."""

    holder: str
    staff: Staff | None
    identity: SigningIdentity | None
    state: str
    message: str
    days_left: int | None = None

    @property
    def needs_attention(self) -> bool:
        return self.state in _ATTENTION


@dataclass(frozen=True)
class Overview:
    school: School
    seal: Row
    staff: list[Row] = field(default_factory=list)

    @property
    def attention(self) -> list[Row]:
        return [r for r in [self.seal, *self.staff] if r.needs_attention]

    def count(self, state: str) -> int:
        return sum(1 for r in [self.seal, *self.staff] if r.state == state)


def assess(identity: SigningIdentity | None, now: dt.datetime, holder: str) -> tuple[str, str, int | None]:
    """(state, Vietnamese message, days left) of one identity."""
    if identity is None:
        return MISSING, f"{holder} chưa có chứng thư số đang dùng.", None
    days = (identity.not_after - now).days
    if now > identity.not_after:
        return EXPIRED, f"Chứng thư số đã hết hạn ngày {fmt_date(identity.not_after)}.", days
    if now < identity.not_before:
        return NOT_YET_VALID, f"Chứng thư số chưa có hiệu lực (từ ngày {fmt_date(identity.not_before)}).", days
    if identity.revocation_status == "revoked":
        return REVOKED, identity.revocation_detail or "Tổ chức chứng thực đã thu hồi chứng thư số.", days
    if identity.not_after - now <= dt.timedelta(days=EXPIRY_WARNING_DAYS):
        return EXPIRING, f"Chứng thư số sắp hết hạn: còn {days} ngày (đến {fmt_date(identity.not_after)}).", days
    if identity.revocation_status in ("", "error", "unknown"):
        detail = identity.revocation_detail if identity.revocation_status else "chưa kiểm tra"
        return UNCHECKED, f"Chưa xác nhận được tình trạng thu hồi ({detail}).", days
    return OK, f"Còn hiệu lực đến {fmt_date(identity.not_after)}.", days


def school_overview(school: School, *, now: dt.datetime | None = None) -> Overview:
    """Every active staff member with their active certificate (or none), and the seal, in list order."""
    now = now or timezone.now()
    active = {i.staff_id: i for i in SigningIdentity.objects.filter(
        school=school, kind=SigningIdentity.Kind.PERSONAL, status=SigningIdentity.Status.ACTIVE)}
    rows = []
    for staff in Staff.objects.filter(school=school, is_active=True).order_by("sort_key", "pk"):
        identity = active.get(staff.pk)
        state, message, days = assess(identity, now, staff.full_name)
        rows.append(Row(staff.full_name, staff, identity, state, message, days))
    seal = service.seal_identity(school)
    state, message, days = assess(seal, now, "Trường")
    if state == MISSING:
        message = "Trường chưa đăng ký con dấu số (chứng thư số của tổ chức)."
    return Overview(school, Row(school.name, None, seal, state, message, days), rows)


def _ask(identity: SigningIdentity, anchors: list) -> tuple[str, str]:
    from asn1crypto import x509

    cert = x509.Certificate.load(bytes(identity.certificate))
    candidates = [*load_certificates(identity.chain_pem.encode())] if identity.chain_pem.strip() else []
    candidates += anchors
    issuer = next((c for c in candidates if c.subject == cert.issuer), None)
    if issuer is None:
        return "error", "không có chứng thư số của tổ chức cấp để hỏi OCSP"
    try:
        status = check_revocation_online(cert, issuer)
    except (OSError, ValueError) as e:
        return "error", f"không hỏi được OCSP/CRL: {e}"[:500]
    if status.status == "revoked":
        reason = REASONS_VI.get(status.reason or "unspecified", status.reason)
        return "revoked", (f"Tổ chức chứng thực đã thu hồi chứng thư số ngày {fmt_time(status.revoked_at)} "
                           f"(lý do: {reason}; nguồn: {status.source.upper()}).")
    return status.status, f"{status.source.upper()}: {'còn hiệu lực' if status.status == 'good' else 'không rõ'}"


def refresh_revocation(identities, *, force: bool = False, now: dt.datetime | None = None) -> int:
    """Asks the CA about each identity whose cached answer is older than ``REVOCATION_MAX_AGE`` (all when
    ``force``), a few at a time, and caches the answers. Returns how many were asked.

    This only refreshes a cache of the CA's answer; the identity's own status changes only through
    ``actions.deactivate_identity``."""
    now = now or timezone.now()
    todo = [i for i in identities if force or i.revocation_checked_at is None
            or now - i.revocation_checked_at > REVOCATION_MAX_AGE]
    if not todo:
        return 0
    try:
        trust = service.trust_config()
        anchors = [*trust.intermediates, *trust.anchors]
    except (service.SigningNotConfigured, ValueError, OSError):
        anchors = []
    with ThreadPoolExecutor(max_workers=8) as pool:  # network only; the database is written below
        answers = list(pool.map(lambda i: _ask(i, anchors), todo))
    for identity, (status, detail) in zip(todo, answers, strict=True):
        SigningIdentity.objects.filter(pk=identity.pk).update(
            revocation_status=status, revocation_detail=detail[:500], revocation_checked_at=now)
        identity.revocation_status, identity.revocation_detail, identity.revocation_checked_at = status, detail, now
    return len(todo)
