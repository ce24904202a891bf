"""Revocation: a teacher whose certificate is revoked cannot sign; what they signed before still validates
thanks to the revocation data embedded at signing time."""

from __future__ import annotations

import time

import pytest

from hocba.pki import revoke
from hocba.signing import pades
from hocba.signing.precheck import SigningRefused, precheck
from hocba.signing.samples import minimal_pdf
from hocba.signing.validate import validate_pdf

from .conftest import REVOKED_TEACHER


def test_revoked_teacher_cannot_sign_but_earlier_signature_stays_valid(pki, trust, pades_settings, signer_for):
    teacher = signer_for(REVOKED_TEACHER.username)
    slots = [pades.SignerSlot("GVBM_SU", "gvbm", "Giáo viên bộ môn Lịch sử")]
    blank = pades.prepare_fields(minimal_pdf(["Lich su: 7,5"]), slots)
    signed_before = pades.sign_field(blank, "GVBM_SU", teacher, pades_settings)
    time.sleep(1.1)  # revocation times have one-second resolution

    revoke(REVOKED_TEACHER.username, "key_compromise", var_dir=pki.root.parent)

    with pytest.raises(SigningRefused) as err:
        precheck(teacher, trust)
    assert err.value.code == "revoked"
    assert str(err.value).startswith(f"Chứng thư số của {REVOKED_TEACHER.full_name} đã bị thu hồi ngày ")
    with pytest.raises(SigningRefused, match="đã bị thu hồi"):
        pades.sign_field(blank, "GVBM_SU", teacher, pades_settings)

    report = validate_pdf(signed_before, trust)
    assert report.valid, report.render_text()
    sig = report.signatures[0]
    assert sig.revocation == "good" and sig.revocation_source == "embedded"
