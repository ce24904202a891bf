"""Registering a staff member's certificate: it must name them (CN = full name, serialNumber = CCCD:<their
personal number>), be valid and allow signing; the school admin or the principal registers it, one audit
event each; the certificate is then what ``signer_for`` signs with."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from tests.pki_support import person

from hocba.audit.models import AuditEvent
from hocba.identities import actions, service
from hocba.identities.models import SigningIdentity
from hocba.school.actions import ActionError
from hocba.signing.precheck import precheck

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher(make_user, school, pki_settings):
    """A teacher whose staff record carries the name and personal number of the PKI's 'gv.toan'."""
    user = make_user("toan", "teacher", school)
    who = person("gv.toan")
    user.staff.full_name, user.staff.personal_number = who.full_name, who.personal_number
    user.staff.save()
    return user


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_the_school_admin_registers_a_teachers_certificate_and_the_teacher_then_signs_with_it(
        school_admin, teacher, pki_settings):
    cert = pki_settings.cert_path("gv.toan").read_bytes()
    identity = actions.register_identity(school_admin, teacher.staff, cert, "server_pkcs12",
                                         {"path": "p12/gv.toan.p12"})
    assert identity.subject_cn == "Phạm Minh Tuấn"
    assert identity.subject_serial_number == "CCCD:079085000103"
    assert "HOCBA Demo Issuing CA" in identity.issuer
    assert identity.not_after - identity.not_before > dt.timedelta(days=365)
    [event] = _events("identity.register")
    assert event.actor == school_admin and event.object_id == str(identity.pk)
    assert "certificate" not in event.after  # the audit row names the certificate, it does not copy it

    signer = service.signer_for(teacher)
    assert signer.certificate.dump() == bytes(identity.certificate)
    assert precheck(signer, service.trust_config()).revocation.status == "good"


def test_the_principal_may_register_but_a_teacher_may_not(principal, teacher, make_user, school, pki_settings):
    cert = pki_settings.cert_path("gv.toan").read_bytes()
    with pytest.raises(PermissionDenied):
        actions.register_identity(teacher, teacher.staff, cert, "server_pkcs12", {"path": "p12/gv.toan.p12"})
    actions.register_identity(principal, teacher.staff, cert, "server_pkcs12", {"path": "p12/gv.toan.p12"})
    assert len(_events("identity.register")) == 1


def test_a_certificate_with_another_name_is_refused_naming_both_names(school_admin, teacher, pki_settings):
    cert = pki_settings.cert_path("gv.van").read_bytes()  # Nguyễn Thị Lan's
    with pytest.raises(ActionError) as refused:
        actions.register_identity(school_admin, teacher.staff, cert, "server_pkcs12", {"path": "p12/gv.van.p12"})
    message = " ".join(refused.value.messages)
    assert "Chứng thư số không phải của Phạm Minh Tuấn" in message
    assert "«Nguyễn Thị Lan»" in message and "079188000104" in message
    assert not SigningIdentity.objects.exists() and not _events("identity.register")


def test_the_same_name_with_another_personal_number_is_refused(school_admin, teacher, pki_settings,
                                                               issue_certificate):
    now = dt.datetime.now(dt.UTC)
    cert = issue_certificate("PHẠM MINH TUẤN", "CCCD:079085999999", now - dt.timedelta(days=1),
                             now + dt.timedelta(days=400))
    with pytest.raises(ActionError) as refused:
        actions.register_identity(school_admin, teacher.staff, cert, "server_pkcs12", {"path": "p12/gv.toan.p12"})
    message = " ".join(refused.value.messages)
    assert "số định danh trong chứng thư số là 079085999999, của cán bộ là 079085000103" in message
    assert "tên trong chứng thư số" not in message  # the name matches: case and Unicode form do not count


def test_names_match_in_nfc_and_whatever_the_case(school_admin, teacher, issue_certificate, pki_settings):
    import unicodedata

    now = dt.datetime.now(dt.UTC)
    decomposed = unicodedata.normalize("NFD", "phạm   minh TUẤN")
    cert = issue_certificate(decomposed, "CCCD:079085000103", now - dt.timedelta(days=1), now + dt.timedelta(days=90))
    identity = actions.register_identity(school_admin, teacher.staff, cert, "server_pkcs12",
                                         {"path": "p12/gv.toan.p12"})
    assert identity.is_active


def test_an_expired_certificate_is_refused(school_admin, teacher, issue_certificate):
    now = dt.datetime.now(dt.UTC)
    cert = issue_certificate("Phạm Minh Tuấn", "CCCD:079085000103", now - dt.timedelta(days=400),
                             now - dt.timedelta(days=2))
    with pytest.raises(ActionError, match="đã hết hạn ngày"):
        actions.register_identity(school_admin, teacher.staff, cert, "server_pkcs12", {"path": "p12/gv.toan.p12"})


def test_a_file_that_is_not_a_certificate_and_a_pin_in_the_parameters_are_refused(school_admin, teacher,
                                                                                   pki_settings):
    with pytest.raises(ActionError, match="không phải chứng thư số"):
        actions.register_identity(school_admin, teacher.staff, b"%PDF-1.7 hello", "server_pkcs12",
                                  {"path": "p12/gv.toan.p12"})
    cert = pki_settings.cert_path("gv.toan").read_bytes()
    with pytest.raises(ActionError, match="không được lưu"):
        actions.register_identity(school_admin, teacher.staff, cert, "pkcs11",
                                  {"module": "/x.so", "token_label": "t", "key_label": "k", "pin": "1234"})
    with pytest.raises(ActionError, match="phải nằm trong thư mục"):
        actions.register_identity(school_admin, teacher.staff, cert, "server_pkcs12", {"path": "../../etc/passwd"})


def test_a_new_certificate_replaces_the_active_one_and_deactivation_stops_signing(school_admin, teacher,
                                                                                  pki_settings, issue_certificate):
    first = actions.register_identity(school_admin, teacher.staff, pki_settings.cert_path("gv.toan").read_bytes(),
                                      "server_pkcs12", {"path": "p12/gv.toan.p12"})
    with pytest.raises(ActionError, match="đã được đăng ký"):
        actions.register_identity(school_admin, teacher.staff, pki_settings.cert_path("gv.toan").read_bytes(),
                                  "server_pkcs12", {"path": "p12/gv.toan.p12"})
    now = dt.datetime.now(dt.UTC)
    renewed = issue_certificate("Phạm Minh Tuấn", "CCCD:079085000103", now - dt.timedelta(hours=1),
                                now + dt.timedelta(days=700))
    second = actions.register_identity(school_admin, teacher.staff, renewed, "csc",
                                       {"service_url": "https://ca.example.vn", "credential_id": "abc"})
    first.refresh_from_db()
    assert first.status == "replaced" and second.status == "active"
    [_, event] = _events("identity.register")
    assert event.extra["replaced"] == first.pk

    actions.deactivate_identity(school_admin, second, "Mất điện thoại có ứng dụng ký số")
    [event] = _events("identity.deactivate")
    assert event.extra["reason"] == "Mất điện thoại có ứng dụng ký số"
    with pytest.raises(service.NoSigningIdentity, match="chưa có chứng thư số đang dùng"):
        service.signer_for(teacher)
    with pytest.raises(ActionError, match="đã ngừng sử dụng"):
        actions.deactivate_identity(school_admin, second, "lần nữa")


def test_the_seal_must_name_the_school(school_admin, school, pki_settings):
    seal = pki_settings.school.seal_username
    cert = pki_settings.cert_path(seal).read_bytes()
    # the session PKI's seal names "Trường THCS Thử Nghiệm", which is the test school's name
    identity = actions.register_identity(school_admin, school, cert, "server_pkcs12", {"path": f"p12/{seal}.p12"})
    assert identity.kind == "seal" and identity.staff is None
    assert service.seal_signer(school).certificate.subject.native["common_name"] == school.name
    school.name = "Trường THCS Khác"
    with pytest.raises(ActionError, match="không mang tên trường «Trường THCS Khác»"):
        actions.register_identity(school_admin, school, cert, "server_pkcs12", {"path": f"p12/{seal}.p12"})
