"""PKCS#11: a real SoftHSM2 token made at test time holds the school seal's key; signatures made through it
validate like any other."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hocba.signing import pades
from hocba.signing.backends import Pkcs11Signer, SignerError
from hocba.signing.samples import minimal_pdf
from hocba.signing.validate import validate_pdf

SOFTHSM_LIB = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so",
                                "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so") if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(SOFTHSM_LIB is None or shutil.which("softhsm2-util") is None,
                                reason="SoftHSM2 is not installed (scripts/install.sh installs it)")
PIN = "1234"


@pytest.fixture(scope="session")
def seal_token(pki, tmp_path_factory):
    """A token labelled 'con-dau' holding the seal's key and certificate, in a private SoftHSM2 store."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read once, when the library is first loaded in this process
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "con-dau", "--so-pin", "5678",
                    "--pin", PIN], check=True, env=env, capture_output=True)
    seal = pki.school.seal_username
    subprocess.run(["softhsm2-util", "--import", str(pki.key_path(seal)), "--token", "con-dau", "--label", "seal",
                    "--id", "01", "--pin", PIN], check=True, env=env, capture_output=True)
    from asn1crypto import pem, x509

    der = pem.unarmor(pki.cert_path(seal).read_bytes())[2]
    cert = x509.Certificate.load(der)
    token = pkcs11.lib(SOFTHSM_LIB).get_token(token_label="con-dau")
    with token.open(rw=True, user_pin=PIN) as session:
        session.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE:
                               pkcs11.CertificateType.X_509, Attribute.LABEL: "seal", Attribute.ID: b"\x01",
                               Attribute.TOKEN: True, Attribute.VALUE: der,
                               Attribute.SUBJECT: cert.subject.dump(), Attribute.ISSUER: cert.issuer.dump(),
                               Attribute.SERIAL_NUMBER: cert["tbs_certificate"]["serial_number"].dump()})
    return "con-dau"


def test_seal_signed_through_a_softhsm2_token_validates(seal_token, pades_settings, signer_for, trust):
    from asn1crypto import pem, x509

    interm = x509.Certificate.load(pem.unarmor(
        Path(pades_settings.trust.sources[0]).with_name("interm.cert.pem").read_bytes())[2])
    signer = Pkcs11Signer(SOFTHSM_LIB, seal_token, PIN, "seal", chain=[interm])
    assert signer.certificate.subject.native["organization_name"] == "Trường THCS Thử Nghiệm"
    slots = [pades.SignerSlot("HIEU_TRUONG", "ht", "Hiệu trưởng"), pades.SignerSlot("CON_DAU", "con_dau", "Con dấu")]
    pdf = pades.prepare_fields(minimal_pdf(["Hoc ba - token"]), slots)
    pdf = pades.sign_field(pdf, "HIEU_TRUONG", signer_for("hieutruong"), pades_settings)
    pdf = pades.sign_field(pdf, "CON_DAU", signer, pades_settings, seal=True)
    report = validate_pdf(pdf, trust)
    assert report.valid, report.render_text()
    assert report.signatures[1].signer == "Trường THCS Thử Nghiệm"
    assert report.signatures[1].level == "PAdES B-LTA"


def test_wrong_pin_is_refused_in_vietnamese(seal_token):
    with pytest.raises(SignerError, match="mã PIN"):
        Pkcs11Signer(SOFTHSM_LIB, seal_token, "0000", "seal")
