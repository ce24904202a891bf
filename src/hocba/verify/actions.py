"""The one write of the portal: a lookup appended to the registry of lookups (``VerificationLog``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import VerificationLog


@transaction.atomic
def log_lookup(*, channel: str, method: str, ip_hash: str, verdict: str, reason: str = "", code: str = "",
               file_sha256: str = "", file_kind: str = "", file_size: int | None = None,
               document_record_id: str = "", record=None, duration_ms: int = 0) -> VerificationLog:
    return VerificationLog.objects.create(
        at=timezone.now(), channel=channel, method=method, code=code[:14], file_sha256=file_sha256,
        file_kind=file_kind or "", file_size=file_size, document_record_id=(document_record_id or "")[:36],
        record=record, school_id=record.school_id if record is not None else None, ip_hash=ip_hash,
        verdict=verdict, reason=(reason or "")[:300], duration_ms=min(max(duration_ms, 0), 2**31 - 1))
