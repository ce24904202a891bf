"""Fixtures of the identity tests: certificates issued on the spot by the session PKI's issuing CA (to pin
down expiry), a SoftHSM2 token, and a remote signing service (certomancer-csc-dummy) over the session PKI."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

SOFTHSM_LIB = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so",
                                "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so") if Path(p).exists()), None)
TOKEN_PIN = "1234"


@pytest.fixture
def issue_certificate(session_pki):
    """``issue_certificate(cn, serial_number, not_before, not_after)`` → PEM bytes of a signing certificate
    issued by the session PKI's issuing CA to a fresh key (the key is not kept: registration does not need it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    ca_key = serialization.load_pem_private_key((session_pki.root / "keys" / "interm.key.pem").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(session_pki.cert_path("interm").read_bytes())

    def issue(cn: str, serial_number: str, not_before: dt.datetime, not_after: dt.datetime) -> bytes:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                          x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(not_before).not_valid_after(not_after)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .sign(ca_key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM)

    return issue


@pytest.fixture(scope="module")
def softhsm_token(session_pki, tmp_path_factory):
    """A SoftHSM2 token 'hocba-test' holding the seal's key and a teacher's (gv.hoa), labelled by username.

    SoftHSM2 reads its configuration when the library is initialised; the library is finalised after the
    module (hence the module scope) so that another test directory initialises it again with its own store."""
    if SOFTHSM_LIB is None or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 is not installed (scripts/install.sh installs it)")
    import pkcs11
    from asn1crypto import pem, x509
    from pkcs11 import Attribute, ObjectClass

    home = tmp_path_factory.mktemp("softhsm-identities")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    env = {**os.environ}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "hocba-test", "--so-pin", "5678",
                    "--pin", TOKEN_PIN], check=True, env=env, capture_output=True)
    holders = (session_pki.school.seal_username, "gv.hoa")
    for n, username in enumerate(holders, start=1):
        subprocess.run(["softhsm2-util", "--import", str(session_pki.key_path(username)), "--token", "hocba-test",
                        "--label", username, "--id", f"{n:02d}", "--pin", TOKEN_PIN], check=True, env=env,
                       capture_output=True)
    lib = pkcs11.lib(SOFTHSM_LIB)
    lib.reinitialize()  # loaded earlier by another test directory: read this store's configuration
    token = lib.get_token(token_label="hocba-test")
    for n, username in enumerate(holders, start=1):
        der = pem.unarmor(session_pki.cert_path(username).read_bytes())[2]
        cert = x509.Certificate.load(der)
        with token.open(rw=True, user_pin=TOKEN_PIN) as session:
            session.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                   Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                                   Attribute.LABEL: username, Attribute.ID: bytes([n]), Attribute.TOKEN: True,
                                   Attribute.VALUE: der, Attribute.SUBJECT: cert.subject.dump(),
                                   Attribute.ISSUER: cert.issuer.dump(),
                                   Attribute.SERIAL_NUMBER: cert["tbs_certificate"]["serial_number"].dump()})
    yield {"module": SOFTHSM_LIB, "token_label": "hocba-test", "pin": TOKEN_PIN}
    lib.finalize()
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture(scope="session")
def csc_service(session_pki):
    """certomancer-csc-dummy serving the session PKI's keys on a free loopback port (authorises at once)."""
    csc_dummy = pytest.importorskip("csc_dummy.csc_dummy_server",
                                    reason="certomancer-csc-dummy is not installed (test extra)")
    from aiohttp import web
    from certomancer.registry import CertomancerConfig
    from tests.pki_support import free_port

    cfg = CertomancerConfig.from_file(str(session_pki.config_path), key_search_dir=str(session_pki.root))
    app = csc_dummy.CSCWithCertomancer(cfg, service_params=csc_dummy.DummyServiceParams(hash_pinning_required=True))
    app.register_routes()
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app.app)
    started = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
