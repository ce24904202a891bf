"""Signed checkpoints of the audit chains (issue 7): the school's seal over the head of its chain.

The hash chain alone shows that rows were edited, inserted or deleted, but not that someone with write
access to the database rewrote a whole history and recomputed every hash from the first changed event on.
A checkpoint pins the chain from outside the database's power: the statement

    {"type": "hocba.audit.checkpoint", "v": 1, "school": CODE, "scope": N, "seq": S, "hash": H, "at": T}

(canonical JSON, UTF-8) signed with the school's seal (``hocba.identities.service.seal_signer``) as a
detached CMS with an RFC 3161 timestamp and the revocation data embedded (``hocba.identities.cms``, the same
signature as a grade-book sign-off). ``checkpoint_problems`` checks a stored checkpoint:

- the event at ``seq`` of the chain still has hash ``H`` (``verify_scope`` does this as it walks the chain);
- the stored statement is the statement of the row's fields (no field edited);
- the signature over the statement is valid (integrity, timestamp, chain to a trust anchor, revocation);
- the signer is a seal registered for this school (any status: a replaced seal's checkpoints still count);
- the trusted timestamp is within ``TIMESTAMP_SLACK`` of ``at``: re-signing a forged statement later, even
  with the seal's key, gives a timestamp of that later day.

Each checkpoint also writes an ``audit.checkpoint`` event into the chain it seals, so a deleted checkpoint row
is noticed as long as the chain itself is intact. Export the checkpoints (statement + signature) off the
server if the seal's key lives on it: see docs/security.md.

Anyone can check one with OpenSSL:
``openssl cms -verify -binary -inform DER -in sig.p7s -content statement.json -CAfile root.pem -purpose any``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

TYPE = "hocba.audit.checkpoint"
VERSION = 1
#: how far the trusted timestamp may be from the statement's time (a remote signing service may wait for
#: its holder; a forgery signed later is days away)
TIMESTAMP_SLACK = dt.timedelta(minutes=15)


def statement(school_code: str, scope: int, seq: int, head_hash: str, at: dt.datetime) -> str:
    """The canonical statement a checkpoint signs."""
    body = {"type": TYPE, "v": VERSION, "school": school_code, "scope": int(scope), "seq": int(seq),
            "hash": head_hash, "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds")}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint(certificate) -> str:
    return hashlib.sha256(certificate.dump()).hexdigest()


def sign_statement(school, text: str) -> tuple[bytes, str, str]:
    """Signs ``text`` with ``school``'s seal after the usual precheck (validity, key usage, chain,
    revocation); (DER CMS, seal fingerprint, seal holder's name). Raises ``CheckpointError`` (Vietnamese)."""
    from hocba.identities import service
    from hocba.identities.cms import sign_detached
    from hocba.signing.backends import SignerError
    from hocba.signing.precheck import SigningRefused, precheck

    refused = f"Không niêm phong được nhật ký của {school.name}: "
    try:
        signer = service.seal_signer(school)
        checked = precheck(signer, service.trust_config())
        signature = sign_detached(text.encode("utf-8"), signer, service.tsa_url(), checked)
    except (service.NoSigningIdentity, service.SigningNotConfigured, SigningRefused) as e:
        raise CheckpointError(refused + str(e)) from e
    except SignerError as e:
        raise CheckpointError(refused + f"không ký được ({e}).") from e
    except OSError as e:  # the timestamp or OCSP service did not answer
        raise CheckpointError(refused + f"không lấy được dấu thời gian hoặc tình trạng chứng thư số ({e}).") from e
    name = signer.certificate.subject.native.get("common_name", "")
    return signature, fingerprint(signer.certificate), name


class CheckpointError(Exception):
    """A checkpoint could not be made; ``str(e)`` is for the user (Vietnamese)."""


def _signer_certificate(signature: bytes):
    from asn1crypto import cms

    signed_data = cms.ContentInfo.load(signature)["content"]
    sid = signed_data["signer_infos"][0]["sid"].chosen
    return next(c.chosen for c in signed_data["certificates"]
                if c.chosen.issuer == sid["issuer"] and c.chosen.serial_number == sid["serial_number"].native)


def checkpoint_problems(checkpoint, trust, seal_fingerprints: set[str]) -> list[str]:
    """Why the stored ``checkpoint`` is not a valid seal of its chain (Vietnamese; [] when it is). The link
    to the chain (the event at ``seq`` has ``hash``) is checked by ``verify_scope``."""
    from hocba.identities.cms import validate_detached

    where = f"Điểm niêm phong tại số thứ tự {checkpoint.seq} ({checkpoint.at:%d/%m/%Y %H:%M} UTC)"
    try:  # the school's code as it was when sealed (a code corrected later does not void old checkpoints)
        code = json.loads(checkpoint.statement).get("school", "")
    except (ValueError, AttributeError):
        code = None
    expected = statement(str(code), checkpoint.scope, checkpoint.seq, checkpoint.hash, checkpoint.at)
    if code is None or checkpoint.statement != expected or checkpoint.school_id != checkpoint.scope:
        return [f"{where} đã bị sửa: nội dung đã ký không khớp với điểm niêm phong."]
    data, signature = checkpoint.statement.encode("utf-8"), bytes(checkpoint.signature)
    report = validate_detached(data, signature, trust, id=str(checkpoint.pk))
    if not report.valid:
        return [f"{where} có chữ ký số không hợp lệ: {'; '.join(report.problems) or 'không hợp lệ'}."]
    try:
        signer_fp = fingerprint(_signer_certificate(signature))
    except (ValueError, KeyError, IndexError, StopIteration):
        return [f"{where}: không đọc được chứng thư số của người ký."]
    if signer_fp != checkpoint.signer_fingerprint or signer_fp not in seal_fingerprints:
        return [f"{where} không được ký bằng con dấu số đã đăng ký của trường."]
    if report.timestamp is None or abs(report.timestamp - checkpoint.at) > TIMESTAMP_SLACK:
        when = f"{report.timestamp:%d/%m/%Y %H:%M} UTC" if report.timestamp else "không có"
        return [(f"{where}: dấu thời gian của chữ ký ({when}) không khớp thời điểm niêm phong; điểm niêm phong "
                 "đã được ký lại sau đó.")]
    return []
