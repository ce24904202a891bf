"""Signed checkpoints (the school's seal over the head of its audit chain) catch what the hash chain alone
cannot: a history rewritten with every hash recomputed. The signature is a standard detached CMS that OpenSSL
checks against the demo root; an edited, deleted or re-signed checkpoint is caught too.

Each test signs one checkpoint (``sealed``: a timestamp and an OCSP round trip to the session's demo PKI).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from hocba.audit.actions import CheckpointError, checkpoint_chain
from hocba.audit.chain import GENESIS, event_hash, verify_scope
from hocba.audit.checkpoint import sign_statement, statement
from hocba.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from hocba.audit.verify import verify_audit


def register_seal(school, pki):
    from hocba.identities.certificates import inspect
    from hocba.identities.models import SigningIdentity

    info = inspect(pki.cert_path("condau").read_bytes())
    return SigningIdentity.objects.create(
        school=school, staff=None, kind="seal", backend="server_pkcs12", certificate=info.der,
        chain_pem=pki.cert_path("interm").read_text(), subject_cn=info.common_name,
        subject_serial_number=info.serial_number_attr, issuer=info.issuer, serial=info.serial_hex,
        fingerprint=info.fingerprint, not_before=info.not_before, not_after=info.not_after,
        params={"path": "p12/condau.p12"}, registered_at=timezone.now())


@pytest.fixture
def sealed(pki_settings, school_admin, school, year):
    """A school with a few events, its seal, and one checkpoint of its chain (then one more event)."""
    from hocba.school import actions

    register_seal(school, pki_settings)
    for i in range(1, 3):
        actions.create_class(school_admin, year, grade=6, name=f"6A{i}")
    checkpoint = checkpoint_chain(school)
    actions.create_class(school_admin, year, grade=6, name="6A9")
    return checkpoint


def verify(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), err.getvalue()
    return 0, out.getvalue()


def rewrite_history(school, change_seq: int) -> None:
    """What an attacker with database access does: edits one event and recomputes the hash of it and of every
    later event, and the head, with plain SQL, so that the hash chain is consistent again."""
    table = AuditEvent._meta.db_table
    prev = GENESIS
    with connection.cursor() as cursor:
        for event in AuditEvent.objects.filter(scope=school.pk).order_by("seq"):
            if event.seq == change_seq:
                event.object_repr = "Lớp 6A1 (đã sửa)"
            event.prev_hash = prev
            event.hash = event_hash(event)
            cursor.execute(f"UPDATE {table} SET object_repr = %s, prev_hash = %s, hash = %s WHERE id = %s",
                           [event.object_repr, event.prev_hash, event.hash, event.pk])
            prev = event.hash
        cursor.execute(f"UPDATE {AuditChainHead._meta.db_table} SET hash = %s WHERE scope = %s", [prev, school.pk])


def test_a_checkpoint_seals_the_head_and_writes_its_own_event(sealed, school):
    """The checkpoint names the head at that moment, is an event of the chain itself, and verifies."""
    assert sealed.hash == AuditEvent.objects.get(scope=school.pk, seq=sealed.seq).hash
    event = AuditEvent.objects.get(scope=school.pk, seq=sealed.seq + 1)
    assert event.action == "audit.checkpoint" and event.extra["hash"] == sealed.hash
    assert sealed.signer_name and sealed.signer_fingerprint
    code, out = verify()
    assert code == 0, out
    assert "1 điểm niêm phong khớp, chữ ký số hợp lệ" in out


def test_a_rewritten_history_with_recomputed_hashes_is_caught_by_the_checkpoint(sealed, school):
    """Editing an early event and recomputing every later hash fools the hash chain, not the seal."""
    rewrite_history(school, change_seq=2)
    events = list(AuditEvent.objects.filter(scope=school.pk).order_by("seq"))
    head = AuditChainHead.objects.get(scope=school.pk)
    assert verify_scope(school.pk, events, head.seq, head.hash) == []  # the chain alone sees nothing
    code, err = verify()
    assert code == 1
    assert f"số thứ tự {sealed.seq}" in err and "không khớp điểm niêm phong" in err and "viết lại" in err


def test_a_rewritten_history_that_also_edits_the_checkpoint_is_caught_by_its_signature(sealed, school):
    """Updating the checkpoint's hash to the forged one leaves the signed statement behind; rewriting the
    statement too breaks the signature."""
    rewrite_history(school, change_seq=2)
    forged = AuditEvent.objects.get(scope=school.pk, seq=sealed.seq).hash
    AuditCheckpoint.objects.filter(pk=sealed.pk).update(hash=forged)
    code, err = verify()
    assert code == 1 and "đã bị sửa: nội dung đã ký không khớp" in err
    AuditCheckpoint.objects.filter(pk=sealed.pk).update(
        statement=statement(school.code, school.pk, sealed.seq, forged, sealed.at))
    code, err = verify()
    assert code == 1 and "chữ ký số không hợp lệ" in err and "thay đổi sau khi ký" in err


def test_a_checkpoint_re_signed_later_with_the_seal_is_caught_by_its_timestamp(sealed, school):
    """Even with the seal's key, a forged checkpoint dated in the past carries today's trusted timestamp."""
    back = sealed.at - dt.timedelta(days=2)
    text = statement(school.code, school.pk, sealed.seq, sealed.hash, back)
    signature, _fp, _name = sign_statement(school, text)
    AuditCheckpoint.objects.filter(pk=sealed.pk).update(at=back, statement=text, signature=signature)
    code, err = verify()
    assert code == 1 and "dấu thời gian của chữ ký" in err and "ký lại" in err


def test_a_deleted_checkpoint_is_noticed_from_its_event(sealed, school):
    """The chain records every checkpoint; a checkpoint row removed to hide a rewrite is reported."""
    AuditCheckpoint.objects.filter(pk=sealed.pk).delete()
    report = verify_audit(school.pk, signatures=False)
    assert not report.ok and "đã bị xoá hoặc sửa" in report.problems[0].message


def test_the_seal_of_a_checkpoint_verifies_with_openssl(sealed, pki_settings, tmp_path):
    """An auditor without hocba checks a checkpoint with OpenSSL and the root certificate alone."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    (tmp_path / "sig.p7s").write_bytes(bytes(sealed.signature))

    def openssl_verify(text: str) -> subprocess.CompletedProcess:
        (tmp_path / "statement.json").write_bytes(text.encode("utf-8"))
        return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s",
                               "-content", "statement.json", "-CAfile", str(pki_settings.root_cert_path),
                               "-purpose", "any", "-out", "/dev/null"], cwd=tmp_path, capture_output=True,
                              text=True, check=False)

    done = openssl_verify(sealed.statement)
    assert done.returncode == 0 and "Verification successful" in done.stderr, done.stderr
    assert openssl_verify(sealed.statement.replace(sealed.hash, "0" * 64)).returncode != 0


def test_the_daily_command_seals_every_school_with_a_seal_and_names_the_others(sealed, school, other_school):
    """``hocba audit checkpoint --all`` (cron) seals each school that has a seal and says which it skipped."""
    out = io.StringIO()
    call_command("audit", "checkpoint", "--all", stdout=out)
    assert f"Đã niêm phong nhật ký của {school.code}" in out.getvalue()
    assert f"Bỏ qua {other_school.code}" in out.getvalue() and "chưa đăng ký con dấu số" in out.getvalue()
    assert AuditCheckpoint.objects.filter(scope=school.pk).count() == 2


def test_a_school_without_a_seal_is_told_so(school, school_admin, year, pki_settings):
    """No seal registered: the checkpoint is refused with the reason, nothing is written."""
    with pytest.raises(CheckpointError, match="chưa đăng ký con dấu số"):
        checkpoint_chain(school)
    assert not AuditCheckpoint.objects.exists()
