"""Fixtures of the portal's tests: signed documents and the registry (``verify_support``), no rate limit
unless a test sets one, and a fresh cache (rate counters, reused reports) for every test."""

from __future__ import annotations

import pytest
from tests.verify.verify_support import documents_fixture, registry_fixture, second_pki_fixture  # noqa: F401


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    from django.core.cache import cache

    settings.HOCBA_VERIFY_RATE_LIMIT = 0
    cache.clear()
    yield
    cache.clear()
