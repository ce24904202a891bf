"""Settings of the interop app, read when used (tests override them with ``settings``).

``HOCBA_SECTOR_URL`` and ``HOCBA_SECTOR_TOKEN`` (settings.py, from the environment) name the sector platform
and the bearer token it gave the deployment. The exchange goes to the same platform unless
``HOCBA_EXCHANGE_URL``/``HOCBA_EXCHANGE_TOKEN`` name another. The tunables below have defaults that suit a
school; each can be set in the settings or the environment.
"""

from __future__ import annotations

import os

from django.conf import settings


def _setting(name: str, default):
    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name, "")
    return default if value in (None, "") else value


def sector_url() -> str:
    return str(getattr(settings, "HOCBA_SECTOR_URL", "") or "").rstrip("/")


def sector_token() -> str:
    return str(getattr(settings, "HOCBA_SECTOR_TOKEN", "") or "")


def exchange_url() -> str:
    return str(_setting("HOCBA_EXCHANGE_URL", sector_url())).rstrip("/")


def exchange_token() -> str:
    return str(_setting("HOCBA_EXCHANGE_TOKEN", sector_token()))


def timeout() -> float:
    """Seconds to wait for the sector's answer to one request."""
    return float(_setting("HOCBA_SECTOR_TIMEOUT", 30))


def page_size() -> int:
    return int(_setting("HOCBA_SYNC_PAGE_SIZE", 200))


def sync_overlap_seconds() -> float:
    """How far before the last cursor a pull starts again: covers a sector whose clock or commits lag."""
    return float(_setting("HOCBA_SYNC_OVERLAP_SECONDS", 300))


def outbox_max_attempts() -> int:
    """Attempts before a message is marked failed and waits for a person (Gửi lại)."""
    return int(_setting("HOCBA_OUTBOX_MAX_ATTEMPTS", 12))


def outbox_backoff_base() -> float:
    """Seconds before the first retry; doubled after each failed attempt (with jitter) up to the cap."""
    return float(_setting("HOCBA_OUTBOX_BACKOFF_BASE", 5))


def outbox_backoff_cap() -> float:
    return float(_setting("HOCBA_OUTBOX_BACKOFF_CAP", 3600))


def outbox_lease_seconds() -> float:
    """How long a worker holds a message it is sending; after that another worker may send it again."""
    return float(_setting("HOCBA_OUTBOX_LEASE_SECONDS", max(60.0, 2 * timeout())))


def outbox_poll_seconds() -> float:
    return float(_setting("HOCBA_OUTBOX_POLL_SECONDS", 5))
