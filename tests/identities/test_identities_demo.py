"""The demo wiring: after ``hocba demo`` loads the school, ``hocba demo-pki`` gives every staff member with an
account (and the school's seal) a demo certificate registered as their signing identity; the demo accounts
then sign with ``hocba sign`` and through ``signer_for``."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from tests.pki_support import free_port, serving

from hocba.audit.models import AuditEvent
from hocba.identities import service
from hocba.identities.models import SigningIdentity
from hocba.school.demo import demo_organisation
from hocba.school.models import School, Staff
from hocba.signing.cli import main as signing_cli
from hocba.signing.precheck import precheck
from hocba.signing.samples import minimal_pdf

pytestmark = pytest.mark.django_db


def test_demo_pki_registers_every_staff_member_and_the_seal_and_gvcn_signs(tmp_path, settings, capsys):
    var_dir = tmp_path / "var"
    settings.HOCBA_PKI_DIR = str(var_dir / "pki")
    settings.HOCBA_TRUST_ANCHORS = settings.HOCBA_TSA_URL = None
    call_command("demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo-pki", "--port", str(free_port()), stdout=out)
    assert "Đã tạo PKI minh hoạ" in out.getvalue()

    school = School.objects.get(code=demo_organisation().school_code)
    staff = list(Staff.objects.filter(school=school, is_active=True))
    assert len(staff) > 50 and all(s.user_id for s in staff)
    active = SigningIdentity.objects.filter(school=school, status="active")
    assert {i.staff_id for i in active if i.kind == "personal"} == {s.pk for s in staff}
    seal = active.get(kind="seal")
    assert seal.subject_cn == school.name and seal.backend == "server_pkcs12"
    assert all(i.backend == "server_pkcs12" and i.params["path"].startswith("p12/") for i in active)
    [event] = AuditEvent.objects.filter(action="demo.pki")
    assert event.extra["registered"] == len(staff) + 1

    gvcn = get_user_model().objects.get(username="gvcn")
    with serving(var_dir):
        assert precheck(service.signer_for(gvcn), service.trust_config()).revocation.status == "good"
        assert precheck(service.seal_signer(school), service.trust_config()).holder == school.name
        (tmp_path / "in.pdf").write_bytes(minimal_pdf(["Hoc ba minh hoa"]))
        capsys.readouterr()
        assert signing_cli(["--var-dir", str(var_dir), "sign", "pdf", "--as", "gvcn", "--field", "GVCN",
                            str(tmp_path / "in.pdf"), str(tmp_path / "out.pdf")]) == 0
        assert signing_cli(["--var-dir", str(var_dir), "verify", str(tmp_path / "out.pdf")]) == 0
    report = capsys.readouterr().out
    assert gvcn.staff.full_name in report

    again = io.StringIO()
    call_command("demo-pki", "--if-missing", stdout=again)
    assert "Dùng lại PKI minh hoạ" in again.getvalue() and "đăng ký 0 chứng thư số" in again.getvalue()
    assert AuditEvent.objects.filter(action="demo.pki").count() == 1

    # Reloading the demo deletes its identities with the rest of the school; --if-missing puts them back
    # with the same PKI (same people, same keys).
    call_command("demo", "--reset", stdout=io.StringIO())
    assert not SigningIdentity.objects.filter(school=school).exists()
    again = io.StringIO()
    call_command("demo-pki", "--if-missing", stdout=again)
    assert "Dùng lại PKI minh hoạ" in again.getvalue()
    assert SigningIdentity.objects.filter(school=school, status="active").count() == len(staff) + 1


def test_demo_pki_needs_the_demo_school(tmp_path, settings):
    from django.core.management.base import CommandError

    settings.HOCBA_PKI_DIR = str(tmp_path / "pki")
    with pytest.raises(CommandError, match="hocba demo"):
        call_command("demo-pki")
