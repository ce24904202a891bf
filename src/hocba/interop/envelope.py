"""The national exchange envelope around one issued học bạ (no Django).

The field names are those of the national field set (hocba-fields.txt): ``idbanghi`` is the record's key at
the receiver, ``sukien`` the event (NEW / UPDATE / CANCEL), ``phienban`` a version the sender increases on
every send (the receiver keeps the highest and ignores lower or equal ones), ``thoigiancapnhat`` the time of
the change. The signed XML travels unchanged, base64-encoded in ``noidung``, with its SHA-256.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

EVENTS = ("NEW", "UPDATE", "CANCEL")
STATUS_IN_FORCE, STATUS_REVOKED = "1", "2"
PATH = "/api/v1/exchange/hocba"


def build_envelope(*, record_key: str, event: str, version: int, changed_at: dt.datetime, document_id: str,
                   school_code: str, status: str, content: bytes) -> dict:
    if event not in EVENTS:
        raise ValueError(f"event must be one of {EVENTS}, not {event!r}")
    if version < 1:
        raise ValueError("version starts at 1")
    if changed_at.tzinfo is None:
        raise ValueError("changed_at needs a time zone")
    return {
        "idbanghi": record_key,
        "sukien": event,
        "phienban": version,
        "thoigiancapnhat": changed_at.isoformat(timespec="milliseconds"),
        "madinhdanhhocba": document_id,
        "matruong": school_code,
        "trangthaithongtinhocba": status,
        "dinhdang": "xml",
        "noidung": base64.b64encode(content).decode("ascii"),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def idempotency_key(record_key: str, version: int) -> str:
    """What identifies one send: the receiver treats the same (record id, version) as the same message."""
    return f"{record_key}:{version}"
