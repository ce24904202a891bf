"""What the school admin is shown: staff without a certificate, certificates expiring within 30 days or
expired, certificates their CA revoked (asked through OCSP from the running demo PKI, the answer cached),
and the school's seal; and the identity pages that show them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from tests.pki_support import person

from hocba.identities import actions, service, status
from hocba.identities.models import SigningIdentity
from hocba.pki import revoke
from hocba.signing.precheck import SigningRefused, precheck

pytestmark = pytest.mark.django_db


def _staff_as(make_user, school, username: str, pki_username: str, role: str = "teacher"):
    user = make_user(username, role, school)
    who = person(pki_username)
    user.staff.full_name, user.staff.personal_number = who.full_name, who.personal_number
    user.staff.save()
    return user


def test_missing_expiring_and_valid_certificates_are_listed_and_the_missing_seal_too(
        school_admin, school, make_user, pki_settings, issue_certificate):
    ok = _staff_as(make_user, school, "toan", "gv.toan")
    soon = _staff_as(make_user, school, "lan", "gv.van")
    _none = _staff_as(make_user, school, "khoa", "gv.khoa")
    actions.register_identity(school_admin, ok.staff, pki_settings.cert_path("gv.toan").read_bytes(),
                              "server_pkcs12", {"path": "p12/gv.toan.p12"})
    now = dt.datetime.now(dt.UTC)
    expiring = issue_certificate("Nguyễn Thị Lan", "CCCD:079188000104", now - dt.timedelta(days=300),
                                 now + dt.timedelta(days=12, hours=1))
    actions.register_identity(school_admin, soon.staff, expiring, "csc",
                              {"service_url": "https://ca.example.vn", "credential_id": "lan"})
    status.refresh_revocation(SigningIdentity.objects.all())

    overview = status.school_overview(school)
    by_name = {r.holder: r for r in overview.staff}
    assert by_name["Phạm Minh Tuấn"].state == status.OK
    assert by_name["Nguyễn Thị Lan"].state == status.EXPIRING
    assert "còn 12 ngày" in by_name["Nguyễn Thị Lan"].message
    assert by_name["Bùi Đăng Khoa"].state == status.MISSING
    assert by_name["Nguyễn Văn Quantri"].state == status.MISSING  # every active staff member is listed
    assert overview.seal.state == status.MISSING and "con dấu số" in overview.seal.message
    attention = {r.holder for r in overview.attention}
    assert attention == {"Nguyễn Thị Lan", "Bùi Đăng Khoa", "Nguyễn Văn Quantri", school.name}

    later = status.school_overview(school, now=now + dt.timedelta(days=13))
    assert {r.holder: r.state for r in later.staff}["Nguyễn Thị Lan"] == status.EXPIRED


def test_a_certificate_its_ca_revoked_is_flagged_from_ocsp_and_refused_for_signing(
        school_admin, school, make_user, pki_settings):
    user = _staff_as(make_user, school, "bithuhoi", "gv.bithuhoi")
    identity = actions.register_identity(school_admin, user.staff,
                                         pki_settings.cert_path("gv.bithuhoi").read_bytes(), "server_pkcs12",
                                         {"path": "p12/gv.bithuhoi.p12"})
    assert status.refresh_revocation([identity]) == 1
    assert status.school_overview(school).staff[0].state == status.OK
    assert status.refresh_revocation([identity]) == 0  # cached: not asked again within the hour

    revoke("gv.bithuhoi", "key_compromise", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
           var_dir=pki_settings.root.parent)
    status.refresh_revocation([identity], force=True)
    identity.refresh_from_db()
    assert identity.revocation_status == "revoked"
    row = next(r for r in status.school_overview(school).staff if r.staff == user.staff)
    assert row.state == status.REVOKED and "lộ khoá bí mật" in row.message and "OCSP" in row.message
    assert identity.status == "active"  # the admin decides; signing is refused meanwhile
    with pytest.raises(SigningRefused) as refused:
        precheck(service.signer_for(user), service.trust_config())
    assert refused.value.code == "revoked"


def test_the_identity_page_lists_staff_and_highlights_what_needs_attention(
        client, school_admin, school, make_user, pki_settings):
    teacher = _staff_as(make_user, school, "toan", "gv.toan")
    seal = pki_settings.school.seal_username
    actions.register_identity(school_admin, school, pki_settings.cert_path(seal).read_bytes(), "server_pkcs12",
                              {"path": f"p12/{seal}.p12"})
    client.force_login(school_admin)
    page = client.get(reverse("identities", args=[school.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Chứng thư số – Trường THCS Thử Nghiệm" in html
    assert 'class="st-missing"' in html and "Phạm Minh Tuấn chưa có chứng thư số đang dùng." in html
    assert "HOCBA Demo Issuing CA" in html  # the seal's issuer
    home = client.get(reverse("home")).content.decode()
    assert reverse("identities", args=[school.pk]) in home

    client.force_login(teacher)
    assert client.get(reverse("identities", args=[school.pk])).status_code == 403


def test_registering_through_the_page_by_upload_and_deactivating(client, school_admin, school, make_user,
                                                                 pki_settings):
    teacher = _staff_as(make_user, school, "toan", "gv.toan")
    client.force_login(school_admin)
    url = reverse("identity_register", args=[school.pk, teacher.staff.pk])
    assert client.get(url).status_code == 200
    wrong = pki_settings.cert_path("gv.van")
    with wrong.open("rb") as f:
        page = client.post(url, {"source": "upload", "certificate": f, "backend": "server_pkcs12",
                                 "path": "p12/gv.van.p12"})
    assert page.status_code == 200 and "Chứng thư số không phải của Phạm Minh Tuấn" in page.content.decode()
    with pki_settings.cert_path("gv.toan").open("rb") as f:
        page = client.post(url, {"source": "upload", "certificate": f, "backend": "server_pkcs12",
                                 "path": "p12/gv.toan.p12"}, follow=True)
    assert "Đã đăng ký chứng thư số của Phạm Minh Tuấn" in page.content.decode()
    identity = SigningIdentity.objects.get(staff=teacher.staff, status="active")
    assert identity.revocation_status == "good"  # asked right after registering

    page = client.post(reverse("identity_deactivate", args=[school.pk, identity.pk]),
                       {"reason": "Chuyển công tác"}, follow=True)
    assert "Đã ngừng sử dụng chứng thư số của Phạm Minh Tuấn" in page.content.decode()
    identity.refresh_from_db()
    assert identity.status == "revoked" and identity.deactivation_reason == "Chuyển công tác"
