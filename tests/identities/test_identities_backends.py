"""``signer_for`` and ``seal_signer`` give a working signer whatever holds the key: a server-held PKCS#12
file, a PKCS#11 token (a real SoftHSM2 token) registered by reading it, or a remote signing account
(certomancer-csc-dummy speaking the CSC API) registered by listing its credentials."""

from __future__ import annotations

import pytest
from tests.pki_support import person

from hocba.identities import actions, service
from hocba.school.actions import ActionError
from hocba.signing import pades
from hocba.signing.backends import CscSigner, Pkcs11Signer, Pkcs12Signer, SignerError
from hocba.signing.samples import minimal_pdf
from hocba.signing.validate import validate_pdf

pytestmark = pytest.mark.django_db


def _staff_as(make_user, school, username: str, pki_username: str):
    user = make_user(username, "teacher", school)
    who = person(pki_username)
    user.staff.full_name, user.staff.personal_number = who.full_name, who.personal_number
    user.staff.save()
    return user


def _signs_a_valid_pdf(signer, *, seal: bool = False) -> None:
    settings = service.pades_settings()
    field = "CON_DAU" if seal else "GV"
    pdf = pades.prepare_fields(minimal_pdf(["Kiem tra"]), [pades.SignerSlot(field, "con_dau" if seal else "gv", field)])
    signed = pades.sign_field(pdf, field, signer, settings, seal=seal)
    report = validate_pdf(signed, settings.trust)
    assert report.valid, report.render_text()


def test_server_pkcs12(school_admin, school, make_user, pki_settings):
    user = _staff_as(make_user, school, "toan", "gv.toan")
    actions.register_identity(school_admin, user.staff, pki_settings.cert_path("gv.toan").read_bytes(),
                              "server_pkcs12", {"path": "p12/gv.toan.p12"})
    signer = service.signer_for(user)
    assert isinstance(signer, Pkcs12Signer)
    assert "HOCBA Demo Issuing CA" in [c.subject.native["common_name"] for c in signer.chain]
    _signs_a_valid_pdf(signer)


def test_the_key_file_must_still_hold_the_registered_certificate(school_admin, school, make_user, pki_settings):
    user = _staff_as(make_user, school, "toan", "gv.toan")
    identity = actions.register_identity(school_admin, user.staff, pki_settings.cert_path("gv.toan").read_bytes(),
                                         "server_pkcs12", {"path": "p12/gv.toan.p12"})
    identity.params = {"path": "p12/gv.van.p12"}  # someone pointed it at another person's key
    identity.save()
    with pytest.raises(SignerError, match="không khớp chứng thư số đã đăng ký"):
        service.signer_for(user)


def test_no_identity_is_refused_in_vietnamese(make_user, school, pki_settings):
    user = make_user("moi", "teacher", school)
    with pytest.raises(service.NoSigningIdentity, match="chưa có chứng thư số đang dùng"):
        service.signer_for(user)
    with pytest.raises(service.NoSigningIdentity, match="chưa đăng ký con dấu số"):
        service.seal_signer(school)
    parent = make_user("cha", "parent", school, staff=False)
    with pytest.raises(service.NoSigningIdentity, match="không gắn với cán bộ"):
        service.signer_for(parent)


def test_pkcs11_token_for_the_seal_and_a_teacher(school_admin, school, make_user, pki_settings, softhsm_token,
                                                 monkeypatch):
    token = softhsm_token
    with pytest.raises(ActionError, match="Mã PIN của thiết bị ký số không đúng"):
        actions.register_from_token(school_admin, school, module=token["module"], token_label=token["token_label"],
                                    pin="0000")
    seal = actions.register_from_token(school_admin, school, module=token["module"],
                                       token_label=token["token_label"], pin=token["pin"], pin_env="HOCBA_SEAL_PIN")
    assert seal.backend == "pkcs11" and seal.params["key_label"] == pki_settings.school.seal_username
    assert "pin" not in seal.params
    user = _staff_as(make_user, school, "hoa", "gv.hoa")
    mine = actions.register_from_token(school_admin, user.staff, module=token["module"],
                                       token_label=token["token_label"], pin=token["pin"], pin_env="HOCBA_HOA_PIN")
    assert mine.params["key_label"] == "gv.hoa"

    with pytest.raises(SignerError, match="HOCBA_SEAL_PIN"):
        service.seal_signer(school)  # the PIN is not in the database; without it there is no signer
    monkeypatch.setenv("HOCBA_SEAL_PIN", token["pin"])
    signer = service.seal_signer(school)
    assert isinstance(signer, Pkcs11Signer)
    _signs_a_valid_pdf(signer, seal=True)
    teacher_signer = service.signer_for(user, pin=token["pin"])
    assert teacher_signer.certificate.subject.native["common_name"] == "Đặng Thị Hoà"
    _signs_a_valid_pdf(teacher_signer)


def test_pkcs11_token_without_the_holders_certificate_is_refused(school_admin, school, make_user, pki_settings,
                                                                 softhsm_token):
    user = _staff_as(make_user, school, "toan", "gv.toan")
    with pytest.raises(ActionError, match="Không có chứng thư số nào mang tên và số định danh của Phạm Minh Tuấn"):
        actions.register_from_token(school_admin, user.staff, module=softhsm_token["module"],
                                    token_label=softhsm_token["token_label"], pin=softhsm_token["pin"])
    with pytest.raises(ActionError, match="Chứng thư số không phải của Phạm Minh Tuấn"):
        actions.register_from_token(school_admin, user.staff, module=softhsm_token["module"],
                                    token_label=softhsm_token["token_label"], pin=softhsm_token["pin"],
                                    key_label="gv.hoa")


def test_remote_signing_account_found_by_listing_its_credentials(school_admin, school, make_user, pki_settings,
                                                                 csc_service):
    user = _staff_as(make_user, school, "van", "gv.van")
    identity = actions.register_from_csc(school_admin, user.staff, service_url=csc_service)
    assert identity.backend == "csc"
    assert identity.params["credential_id"] == f"hocba/{pki_settings.manifest['signers']['gv.van']}"
    signer = service.signer_for(user)
    assert isinstance(signer, CscSigner)
    _signs_a_valid_pdf(signer)


def test_remote_signing_account_of_someone_else_is_refused(school_admin, school, make_user, pki_settings,
                                                           csc_service):
    user = _staff_as(make_user, school, "van", "gv.van")
    other = f"hocba/{pki_settings.manifest['signers']['gv.toan']}"
    with pytest.raises(ActionError, match="Chứng thư số không phải của Nguyễn Thị Lan"):
        actions.register_from_csc(school_admin, user.staff, service_url=csc_service, credential_id=other)
