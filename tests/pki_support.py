"""A real demo PKI for any test that signs through the Django side (``hocba.identities.service``): generated
once per session into a temporary ``var/pki``, its OCSP/CRL/TSA served on a free loopback port in a thread.

Loaded for the whole suite from ``tests/conftest.py`` (``pytest_plugins``). Fixtures:

- ``session_pki``: the ``DemoPki`` (people: ``hocba.pki.DEMO_PEOPLE`` + ``EXTRA_PEOPLE``), served.
- ``pki_settings``: points ``settings.HOCBA_PKI_DIR`` at it (no configured anchors or TSA: the service falls
  back to the demo root and TSA), so ``signer_for``/``trust_config``/``pades_settings`` use it.
- ``give_identity``: ``give_identity(user_or_staff, person)`` makes the staff record carry ``person``'s name
  and personal number and registers ``person``'s server-held key as their active identity.

It also turns grade-book sign-off signing off by default (``HOCBA_SIGN_OFF_REQUIRED=0``) so that tests whose
users have no certificate keep confirming columns; a test that wants signatures sets
``settings.HOCBA_SIGN_OFF_REQUIRED = True``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path

import pytest

from hocba.pki import DEMO_PEOPLE, DEMO_SCHOOL, DemoPki, Person, init, make_server

#: people of the session PKI besides the demo sample; ``revoked`` ones are revoked by the tests that use them
EXTRA_PEOPLE = (
    Person("gv.hoa", "Đặng Thị Hoà", "079189000111", DEMO_SCHOOL.name, "Giáo viên"),
    Person("gv.khoa", "Bùi Đăng Khoa", "079086000112", DEMO_SCHOOL.name, "Giáo viên"),
    Person("gv.bithuhoi", "Võ Văn Bị Thu Hồi", "079087000198", DEMO_SCHOOL.name, "Giáo viên"),
    Person("gv.thuhoi2", "Mai Thị Thu Hồi", "079188000197", DEMO_SCHOOL.name, "Giáo viên"),
)


def pytest_configure(config):
    os.environ.setdefault("HOCBA_SIGN_OFF_REQUIRED", "0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(var_dir: Path | str):
    """Runs ``hocba pki serve`` for ``var_dir`` in a thread while the block runs."""
    server = make_server(var_dir, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def session_pki(tmp_path_factory) -> DemoPki:
    var_dir = tmp_path_factory.mktemp("var-pki")
    pki = init(var_dir, [*DEMO_PEOPLE, *EXTRA_PEOPLE], DEMO_SCHOOL, port=free_port())
    with serving(var_dir):
        yield pki


@pytest.fixture
def pki_settings(session_pki, settings) -> DemoPki:
    settings.HOCBA_PKI_DIR = str(session_pki.root)
    settings.HOCBA_TRUST_ANCHORS = None
    settings.HOCBA_TRUST_INTERMEDIATES = None
    settings.HOCBA_TSA_URL = None
    return session_pki


def person(username: str) -> Person:
    return next(p for p in [*DEMO_PEOPLE, *EXTRA_PEOPLE] if p.username == username)


@pytest.fixture
def give_identity(pki_settings, db):
    """``give_identity(user_or_staff, "gv.toan")`` → the active ``SigningIdentity`` (server PKCS#12)."""
    from django.db import transaction
    from django.utils import timezone

    from hocba.identities.certificates import inspect
    from hocba.identities.models import SigningIdentity
    from hocba.school.models import Staff

    def give(holder, username: str):
        staff = holder if isinstance(holder, Staff) else Staff.objects.get(user=holder)
        who = person(username)
        staff.full_name, staff.personal_number = who.full_name, who.personal_number
        staff.save()
        info = inspect(pki_settings.cert_path(username).read_bytes())
        with transaction.atomic():  # test set-up, written directly (the action is under test elsewhere)
            SigningIdentity.objects.filter(staff=staff, status="active").update(status="replaced")
            return SigningIdentity.objects.create(
                school=staff.school, staff=staff, kind="personal", backend="server_pkcs12", certificate=info.der,
                chain_pem=pki_settings.cert_path("interm").read_text(), subject_cn=info.common_name,
                subject_serial_number=info.serial_number_attr, issuer=info.issuer, serial=info.serial_hex,
                fingerprint=info.fingerprint, not_before=info.not_before, not_after=info.not_after,
                params={"path": f"p12/{username}.p12"}, registered_at=timezone.now())

    return give
