"""Grade-book sign-off as a real signature: confirming a subject column (GVBM) or a class book (GVCN) signs
the canonical JSON snapshot the grade book already hashes, with the confirming user's key, as a detached
CMS (``cms.py``: CAdES with an RFC 3161 timestamp and the OCSP answer of the precheck embedded).

Whether confirmation must be signed is ``settings.HOCBA_SIGN_OFF_REQUIRED`` (else the environment variable of
the same name; default on). Production and the demo sign; the test suite turns it off
(``tests/pki_support.py``) except in the tests that sign.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from hocba.school.actions import ActionError
from hocba.signing.backends import SignerError
from hocba.signing.precheck import SigningRefused, precheck
from hocba.signing.report import SignatureReport
from hocba.signing.trust import TrustConfig

from . import service
from .cms import sign_detached, validate_detached


def signoff_required() -> bool:
    value = getattr(settings, "HOCBA_SIGN_OFF_REQUIRED", None)
    if value is None:
        value = os.environ.get("HOCBA_SIGN_OFF_REQUIRED", "1").strip().lower() not in ("0", "false", "no", "off")
    return bool(value)


@dataclass(frozen=True)
class SignedSnapshot:
    data: bytes  # the canonical JSON that was signed
    sha256: str  # of ``data``
    signature: bytes  # DER CMS ContentInfo, detached
    identity_id: int
    signed_at: dt.datetime


def sign_snapshot(user, data: bytes, *, what: str) -> SignedSnapshot:
    """Signs ``data`` with ``user``'s active certificate after the precheck (validity, key usage, chain,
    revocation online). Refuses with an ``ActionError`` naming ``what`` was not confirmed."""
    refused = f"Chưa xác nhận {what}: "
    try:
        signer = service.signer_for(user)
        identity = service.identity_for(user)
        checked = precheck(signer, service.trust_config())
        signature = sign_detached(data, signer, service.tsa_url(), checked)
    except service.NoSigningIdentity as e:
        raise ActionError(refused + str(e)) from e
    except SigningRefused as e:
        raise ActionError(refused + str(e)) from e
    except service.SigningNotConfigured as e:
        raise ActionError(refused + str(e)) from e
    except SignerError as e:
        raise ActionError(refused + f"không ký được ({e}).") from e
    except OSError as e:  # the timestamp service did not answer
        raise ActionError(refused + f"không lấy được dấu thời gian ({e}).") from e
    return SignedSnapshot(data, hashlib.sha256(data).hexdigest(), signature, identity.pk, timezone.now())


@dataclass(frozen=True)
class SignOffVerification:
    """The re-check of a stored sign-off: its signature over the stored snapshot, and that snapshot against
    the sign-off's recorded SHA-256."""

    signed: bool
    snapshot_matches: bool
    report: SignatureReport | None
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.signed and self.snapshot_matches and self.report is not None and self.report.valid

    @property
    def verdict(self) -> str:
        if not self.signed:
            return "Xác nhận không kèm chữ ký số"
        return "Chữ ký số hợp lệ" if self.valid else "Chữ ký số không hợp lệ"


def verify_signoff(signoff, *, trust: TrustConfig | None = None) -> SignOffVerification:
    """Re-checks a ``ColumnSignoff`` or ``ClassSignoff``: the CMS signature over ``signed_snapshot`` (integrity,
    timestamp, chain, revocation at the timestamp) and ``sha256(signed_snapshot) == snapshot_sha256``."""
    if not signoff.signature:
        return SignOffVerification(False, False, None, ("Xác nhận này không có chữ ký số.",))
    data = signoff.signed_snapshot.encode("utf-8")
    matches = hashlib.sha256(data).hexdigest() == signoff.snapshot_sha256
    report = validate_detached(data, bytes(signoff.signature), trust or service.trust_config(), id=str(signoff.pk))
    problems = list(report.problems)
    if not matches:
        problems.insert(0, "Dữ liệu đã ký không khớp giá trị băm được ghi khi xác nhận.")
    return SignOffVerification(True, matches, report, tuple(problems))
