"""Settings of the records app, read when used (tests override them with ``settings``)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def documents_dir() -> Path:
    """Where the học bạ files live (``HOCBA_DOCUMENTS_DIR``, default ``VAR_DIR/documents``); back it up with
    the database."""
    configured = getattr(settings, "HOCBA_DOCUMENTS_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "documents"


def public_url() -> str:
    """The base of the verification URL printed on every page (``HOCBA_PUBLIC_URL``)."""
    return getattr(settings, "HOCBA_PUBLIC_URL", None) or os.environ.get("HOCBA_PUBLIC_URL", "http://127.0.0.1:8000")


def chunk_size() -> int:
    """Documents signed per committed chunk of a batch: progress granularity and the work a crash can lose."""
    return int(getattr(settings, "HOCBA_SIGNING_CHUNK", None) or os.environ.get("HOCBA_SIGNING_CHUNK", "20"))
