"""A real demo PKI for the signing tests: generated into a temporary directory once per session, its
Animator (OCSP, CRL, TSA) served on a free 127.0.0.1 port in a thread, torn down at the end."""

from __future__ import annotations

import socket
import threading

import pytest

from hocba.pki import DEMO_PEOPLE, DEMO_SCHOOL, Person, init, make_server
from hocba.signing.backends import Pkcs12Signer
from hocba.signing.pades import PadesSettings
from hocba.signing.trust import TrustConfig

#: revoked during the revocation tests, so no other test uses this person
REVOKED_TEACHER = Person("gv.thuhoi", "Đỗ Thị Thu Hồi", "079190000199", DEMO_SCHOOL.name, "Giáo viên")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("var")
    demo = init(var_dir, [*DEMO_PEOPLE, REVOKED_TEACHER], DEMO_SCHOOL, port=_free_port())
    server = make_server(var_dir, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield demo
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def trust(pki):
    return TrustConfig.from_files([pki.root_cert_path])


@pytest.fixture(scope="session")
def pades_settings(pki, trust):
    return PadesSettings(tsa_url=pki.tsa_url, trust=trust)


@pytest.fixture(scope="session")
def signer_for(pki):
    cache = {}

    def get(username: str) -> Pkcs12Signer:
        if username not in cache:
            cache[username] = Pkcs12Signer.load(pki.pkcs12_path(username), pki.pkcs12_password)
        return cache[username]

    return get
