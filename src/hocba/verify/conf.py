"""Settings of the verification portal, read when used (tests override them with ``settings``).

==============================  ==========  =====================================================================
setting                         default     meaning
==============================  ==========  =====================================================================
``HOCBA_VERIFY_MAX_BYTES``      20 MB       largest file accepted (413 above it)
``HOCBA_VERIFY_TIMEOUT``        30          seconds of wall-clock time one file may take ("Không đọc được tệp")
``HOCBA_VERIFY_MEMORY_MB``      1024        memory the reading process may add to what it starts with
``HOCBA_VERIFY_CONCURRENCY``    CPUs        files read at once per web process (others wait, then 503)
``HOCBA_VERIFY_WORKERS``        CPUs (≤4)   processes sharing the signatures of one file (1: the child alone)
``HOCBA_VERIFY_RATE_LIMIT``     30          lookups per address per window (0: no limit); 429 above it
``HOCBA_VERIFY_RATE_WINDOW``    60          the window, seconds
``HOCBA_VERIFY_IP_HEADER``      ""          request header with the client address behind a reverse proxy
                                            (e.g. ``HTTP_X_REAL_IP``); empty: ``REMOTE_ADDR``
``HOCBA_VERIFY_ISOLATION``      process     ``process`` (sandboxed child) or ``inline`` (debugging only)
``HOCBA_VERIFY_CACHE_SECONDS``  86400       how long a report is reused for the same bytes (0: never)
==============================  ==========  =====================================================================

Each can also be given as an environment variable of the same name.
"""

from __future__ import annotations

import os

from django.conf import settings

from .sandbox import Limits

MB = 1024 * 1024


def _get(name: str, default):
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    if value is None or value == "":
        return default
    return type(default)(value)


def max_bytes() -> int:
    return _get("HOCBA_VERIFY_MAX_BYTES", 20 * MB)


def limits() -> Limits:
    return Limits(timeout=_get("HOCBA_VERIFY_TIMEOUT", 30.0), memory_bytes=_get("HOCBA_VERIFY_MEMORY_MB", 1024) * MB,
                  concurrency=max(1, _get("HOCBA_VERIFY_CONCURRENCY", os.cpu_count() or 2)),
                  workers=max(1, _get("HOCBA_VERIFY_WORKERS", min(4, os.cpu_count() or 1))))


def rate_limit() -> tuple[int, int]:
    """(lookups allowed, per window seconds); 0 lookups: no limit."""
    return _get("HOCBA_VERIFY_RATE_LIMIT", 30), max(1, _get("HOCBA_VERIFY_RATE_WINDOW", 60))


def ip_header() -> str:
    return _get("HOCBA_VERIFY_IP_HEADER", "")


def isolation() -> str:
    return _get("HOCBA_VERIFY_ISOLATION", "process")


def cache_seconds() -> int:
    return _get("HOCBA_VERIFY_CACHE_SECONDS", 86400)
