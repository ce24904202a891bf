"""Reads of the records app's registry for the portal: a version by its verification code or by the record id
a document carries, what the registry says of it (``verdict.Registry``), the previous-year link, and the log
of lookups. Queries are written here against ``records.models`` (the records app exposes no public lookup
that tells a wrong QR secret from an unknown code)."""

from __future__ import annotations

import uuid

from django.utils import timezone

from hocba.records.codes import normalise_code, secret_matches
from hocba.records.models import HocBaRecord

from . import verdict as v
from .models import VerificationLog


def record_by_code(code: str) -> HocBaRecord | None:
    code = normalise_code(code or "")
    if not code:
        return None
    return (HocBaRecord.objects.select_related("school", "year", "replaced_by").filter(verification_code=code)
            .first())


def record_by_id(record_id: str | None) -> HocBaRecord | None:
    try:
        key = uuid.UUID(str(record_id))
    except (TypeError, ValueError):
        return None
    return HocBaRecord.objects.select_related("school", "year", "replaced_by").filter(record_id=key).first()


def secret_ok(record: HocBaRecord, secret: str | None) -> bool:
    return bool(secret) and secret_matches(secret, record.qr_secret_sha256)


def _day(moment) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y") if moment else ""


def _replacement(record: HocBaRecord) -> HocBaRecord | None:
    """The issued version that replaces ``record`` (``replaced_by``, else the version naming it)."""
    new = record.replaced_by
    if new is None:
        new = HocBaRecord.objects.filter(replaces=record).first()
    return new if new is not None and new.issued_at is not None else None


def registry_of(record: HocBaRecord | None, *, details: bool = False, file_sha256: str | None = None,
                file_kind: str | None = None, previous: dict | None = None) -> v.Registry | None:
    """What the registry says of ``record``; ``details`` adds the revocation reason. With a checked file's
    hash, whether those are the issued bytes; with a document's previous-year link, that link's check."""
    if record is None:
        return None
    status, text = _status(record, details=details)
    new = _replacement(record) if record.status in (HocBaRecord.REVOKED, HocBaRecord.SUPERSEDED) else None
    if new is not None:
        status = v.SUPERSEDED
        text = (f"Đã bị thu hồi{' ngày ' + _day(record.revoked_at) if record.revoked_at else ''} và được thay thế "
                f"bởi phiên bản {new.version}, mã tra cứu {new.verification_code}."
                + (f" Lí do thu hồi: {record.revoke_reason}" if details and record.revoke_reason else ""))
    registered = None
    if file_sha256:
        issued = record.pdf_sha256 if file_kind == "pdf" else record.xml_sha256
        registered = record.is_final and file_sha256 == issued
    link = previous
    if link is None and record.previous_year_record_id:
        link = {"record_id": record.previous_year_record_id, "sha256": record.previous_year_sha256}
    return v.Registry(
        known=True, status=status, text=text, school_code=record.school.code, school_name=record.school.name,
        verification_code=record.verification_code, version=record.version, record_id=str(record.record_id),
        issued_at=record.issued_at, revoked_at=record.revoked_at,
        revoke_reason=record.revoke_reason if details else "",
        replaced_by_code=new.verification_code if new else "", replaced_by_version=new.version if new else None,
        registered_file=registered, previous=previous_link(link) if link else None)


def _status(record: HocBaRecord, *, details: bool) -> tuple[str, str]:
    if record.status == HocBaRecord.ISSUED:
        return v.IN_FORCE, f"Có hiệu lực (phát hành ngày {_day(record.issued_at)})."
    if record.status in (HocBaRecord.REVOKED, HocBaRecord.SUPERSEDED):
        text = "Đã bị thu hồi" + (f" ngày {_day(record.revoked_at)}" if record.revoked_at else "") + "."
        if details and record.revoke_reason:
            text += f" Lí do: {record.revoke_reason}"
        return v.REVOKED_STATUS, text
    if record.status == HocBaRecord.CANCELLED:
        return v.CANCELLED, "Bản chưa phát hành đã bị huỷ; không có giá trị."
    return v.NOT_ISSUED, "Chưa phát hành (đang trong quá trình ký); chưa có giá trị."


def previous_link(link: dict) -> v.PreviousLink:
    previous = record_by_id(link.get("record_id"))
    if previous is None:
        return v.PreviousLink(link.get("record_id", ""), link.get("sha256", ""), known=False)
    _, text = _status(previous, details=False)
    return v.PreviousLink(
        str(previous.record_id), link.get("sha256", ""), known=True,
        hash_matches=previous.is_final and link.get("sha256") == previous.xml_sha256,
        school_year=previous.year.name, school_name=previous.school.name, status_text=text)


def lookups_of(record: HocBaRecord):
    """The log of lookups of one version, newest first (for the school's registry pages)."""
    return VerificationLog.objects.filter(record=record).order_by("-at", "-id")
