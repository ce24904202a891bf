"""Grade-book sign-off as a real signature (``HOCBA_SIGN_OFF_REQUIRED`` on): confirming a column or a class
book signs the canonical snapshot the grade book hashes, with the confirming teacher's key; the stored
signature verifies later (also with OpenSSL); without a certificate, or with a revoked one, nothing is
confirmed; a signature made before the certificate was revoked stays valid."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest

from hocba.audit.models import AuditEvent
from hocba.gradebook import actions
from hocba.gradebook.models import ColumnSignoff, SubjectRow
from hocba.identities.signoff import verify_signoff
from hocba.pki import revoke
from hocba.school.actions import ActionError

pytestmark = pytest.mark.django_db


@pytest.fixture
def gb(school, year, principal, make_user):
    from tests.gradebook.conftest import GradebookWorld

    return GradebookWorld(school, year, principal, make_user)


@pytest.fixture
def full(gb):
    cls = gb.make_class("6A1", students=4)
    gb.fill_all(cls)
    return cls


@pytest.fixture
def signing(settings, pki_settings):
    settings.HOCBA_SIGN_OFF_REQUIRED = True
    return pki_settings


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_confirming_a_column_signs_its_snapshot_and_the_signature_verifies(gb, full, signing, give_identity,
                                                                          tmp_path):
    give_identity(gb.gvbm, "gv.toan")
    math = gb.plans["TO"].subject
    signoff = actions.confirm_column(gb.gvbm, full, math, 1)

    assert signoff.state == ColumnSignoff.CONFIRMED and signoff.signature
    snapshot = json.loads(signoff.signed_snapshot)
    assert snapshot["subject"] == "TO" and snapshot["semester"] == 1 and len(snapshot["rows"]) == 4
    assert snapshot["rows"][0]["gk"] == "8.0"
    [event] = _events("gradebook.confirm_column")
    assert event.extra["signed"] is True and event.extra["snapshot_sha256"] == signoff.snapshot_sha256

    check = verify_signoff(ColumnSignoff.objects.get(pk=signoff.pk))
    assert check.valid, check.problems
    assert check.report.signer == "Phạm Minh Tuấn" and check.report.signer_id == "CCCD:079085000103"
    assert check.report.level == "CAdES-LT" and check.report.revocation_source == "embedded"
    assert check.report.timestamp is not None and check.verdict == "Chữ ký số hợp lệ"

    if shutil.which("openssl"):  # the signature is plain CMS: any tool checks it
        (tmp_path / "sig.p7s").write_bytes(bytes(signoff.signature))
        (tmp_path / "snapshot.json").write_bytes(signoff.signed_snapshot.encode())
        done = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "sig.p7s",
                               "-content", tmp_path / "snapshot.json", "-CAfile", signing.root_cert_path,
                               "-purpose", "any", "-out", "/dev/null"], check=False, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr

    signoff.signed_snapshot = signoff.signed_snapshot.replace('"8.0"', '"9.0"', 1)  # someone edits the record
    tampered = verify_signoff(signoff)
    assert not tampered.valid
    assert "Dữ liệu đã ký không khớp giá trị băm được ghi khi xác nhận." in tampered.problems
    assert "Dữ liệu đã bị thay đổi sau khi ký (giá trị băm không khớp)." in tampered.problems


def test_confirming_the_class_is_the_gvcns_signature(gb, full, settings, signing, give_identity):
    settings.HOCBA_SIGN_OFF_REQUIRED = False  # the columns: unsigned here, only the class book is under test
    for plan in gb.plans.values():
        actions.confirm_column(gb.gvbm, full, plan.subject, 1)
    settings.HOCBA_SIGN_OFF_REQUIRED = True
    give_identity(gb.gvcn, "gv.van")
    signoff = actions.confirm_class(gb.gvcn, full, "hk1")
    check = verify_signoff(signoff)
    assert check.valid, check.problems
    assert check.report.signer == "Nguyễn Thị Lan"
    assert set(json.loads(signoff.signed_snapshot)["columns"]) == {f"{code}-1" for code in gb.plans}
    assert _events("gradebook.confirm_class")[0].extra["signed"] is True


def test_without_a_certificate_nothing_is_confirmed(gb, full, signing):
    math = gb.plans["TO"].subject
    with pytest.raises(ActionError) as refused:
        actions.confirm_column(gb.gvbm, full, math, 1)
    assert "Chưa xác nhận cột Toán học kì 1 lớp 6A1: " in refused.value.messages[0]
    assert "chưa có chứng thư số đang dùng" in refused.value.messages[0]
    assert ColumnSignoff.objects.get(subject=math, semester=1).state == ColumnSignoff.OPEN
    assert not _events("gradebook.confirm_column")


def test_incomplete_columns_are_refused_before_anything_is_signed(gb, signing, give_identity):
    give_identity(gb.gvbm, "gv.toan")
    cls = gb.make_class("6A2", students=2)
    with pytest.raises(ActionError, match="chưa có đủ đánh giá"):
        actions.confirm_column(gb.gvbm, cls, gb.plans["TO"].subject, 1)


def test_a_revoked_teacher_cannot_confirm_but_what_they_signed_before_stays_valid(gb, full, signing,
                                                                                 give_identity):
    give_identity(gb.gvbm, "gv.thuhoi2")
    math, literature = gb.plans["TO"].subject, gb.plans["NV"].subject
    before = actions.confirm_column(gb.gvbm, full, math, 1)
    revoke("gv.thuhoi2", "key_compromise", dt.datetime.now(dt.UTC), var_dir=signing.root.parent)

    with pytest.raises(ActionError) as refused:
        actions.confirm_column(gb.gvbm, full, literature, 1)
    assert "Chứng thư số của Mai Thị Thu Hồi đã bị thu hồi" in refused.value.messages[0]
    assert "lộ khoá bí mật" in refused.value.messages[0]
    assert ColumnSignoff.objects.get(subject=literature, semester=1).state == ColumnSignoff.OPEN
    assert len(_events("gradebook.confirm_column")) == 1

    check = verify_signoff(ColumnSignoff.objects.get(pk=before.pk))
    assert check.valid, check.problems  # judged at its timestamp, with the OCSP answer embedded then
    assert check.report.revocation == "good" and check.report.revocation_source == "embedded"


def test_a_cell_changed_while_the_teacher_was_signing_is_not_confirmed(gb, full, signing, give_identity,
                                                                      monkeypatch):
    from hocba.identities import signoff as signoff_module

    give_identity(gb.gvbm, "gv.khoa")
    math = gb.plans["TO"].subject
    real_sign = signoff_module.sign_snapshot

    def sign_then_someone_saves(user, data, *, what):
        signed = real_sign(user, data, what=what)
        row = SubjectRow.objects.filter(subject=math, semester=1).first()
        row.gk = "6.5"
        row.save()
        return signed

    monkeypatch.setattr(actions, "sign_snapshot", sign_then_someone_saves)
    with pytest.raises(ActionError, match="Cột Toán học kì 1 lớp 6A1 vừa thay đổi trong lúc ký; hãy xác nhận lại"):
        actions.confirm_column(gb.gvbm, full, math, 1)
    assert ColumnSignoff.objects.get(subject=math, semester=1).state == ColumnSignoff.OPEN
