"""Detached CMS signatures over bytes (CAdES-BES + RFC 3161 signature timestamp + embedded revocation data),
for the grade-book sign-off snapshots. Pure Python, no Django: any ``hocba.signing.backends.Signer`` signs
(only a digest leaves the server), pyHanko builds and checks the CMS.

Why CMS and not a small XAdES: the snapshot is canonical JSON, not XML; a detached CMS signs its exact bytes
without wrapping them, is a few kilobytes, and anyone can check it with
``openssl cms -verify -binary -inform DER -in sig.p7s -content snapshot.json -CAfile root.pem -purpose any``.

What is embedded (``SignedData.crls``, not signed, RFC 5652/5940): the OCSP response the precheck obtained for
the signer's certificate, and the CRLs covering the issuing CAs. Validation judges the signature at the time
of its trusted timestamp with that data, so a certificate revoked later does not undo an earlier sign-off.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from asn1crypto import cms, ocsp
from asn1crypto import crl as asn1_crl

from hocba.signing.backends import Signer, pyhanko_signer
from hocba.signing.precheck import PrecheckResult, check_revocation_online
from hocba.signing.report import SignatureReport
from hocba.signing.trust import TrustConfig, run_released
from hocba.signing.validate import cert_subject_fields


def _ca_revocation(signer: Signer) -> list[bytes]:
    """CRLs (or OCSP responses) covering the issuing CAs of the signer's chain."""
    out = []
    chain = list(signer.chain)
    for ca in chain:
        issuer = next((c for c in chain if c.subject == ca.issuer), None)
        if issuer is None or ca.subject == ca.issuer:
            continue
        try:
            evidence = check_revocation_online(ca, issuer).evidence
        except (OSError, ValueError):
            continue
        if evidence:
            out.append(evidence)
    return out


def _revocation_choice(der: bytes) -> cms.RevocationInfoChoice:
    try:
        response = ocsp.OCSPResponse.load(der)
        response["response_status"].native  # noqa: B018 - parses: a CRL fails here
        if response["response_bytes"].native is not None:
            return cms.RevocationInfoChoice({"other": cms.OtherRevocationInfoFormat(
                {"other_rev_info_format": "ocsp_response", "other_rev_info": response})})
    except (ValueError, TypeError, KeyError):
        pass
    return cms.RevocationInfoChoice({"crl": asn1_crl.CertificateList.load(der)})


def sign_detached(data: bytes, signer: Signer, tsa_url: str, checked: PrecheckResult | None = None) -> bytes:
    """DER ``ContentInfo`` (SignedData, detached) over ``data``; ``checked`` is the precheck whose revocation
    evidence is embedded."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    adapter = pyhanko_signer(signer)
    info = asyncio.run(adapter.async_sign_general_data(data, "sha256", detached=True, use_cades=True,
                                                       timestamper=HTTPTimeStamper(tsa_url)))
    evidence = [checked.revocation.evidence] if checked and checked.revocation.evidence else []
    evidence += _ca_revocation(signer)
    if evidence:
        signed_data = info["content"]
        signed_data["crls"] = [_revocation_choice(e) for e in evidence]
        info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return info.dump()


def _embedded_revocation(signed_data: cms.SignedData) -> tuple[list, list]:
    ocsps, crls = [], []
    for choice in signed_data["crls"] if signed_data["crls"].native else []:
        if choice.name == "crl":
            crls.append(choice.chosen)
        elif choice.chosen["other_rev_info_format"].native == "ocsp_response":
            ocsps.append(ocsp.OCSPResponse.load(choice.chosen["other_rev_info"].dump()))
    return ocsps, crls


def validate_detached(data: bytes, signature: bytes, trust: TrustConfig, *, id: str = "") -> SignatureReport:
    """Checks a detached CMS signature over ``data``: integrity, the RFC 3161 timestamp, the chain to a trust
    anchor and revocation at the timestamp's time (embedded data first, then online if allowed)."""
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms, extract_tst_data_iter
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, RevokedError

    problems: list[str] = []
    warnings: list[str] = []
    try:
        info = cms.ContentInfo.load(signature)
        signed_data = info["content"]
        signer_info = signed_data["signer_infos"][0]
        certs = [c.chosen for c in signed_data["certificates"]]
        sid = signer_info["sid"].chosen
        leaf = next(c for c in certs if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native)
    except (ValueError, TypeError, KeyError, IndexError, StopIteration) as e:
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return SignatureReport(id=id, kind="signature", valid=False, signer="—", signer_id=None, organisation=None,
                               title=None, issuer="—", signing_time=None, timestamp=None, timestamp_valid=None,
                               integrity=False, trusted=False, cert_valid_at_signing=False, revocation="not_checked",
                               revocation_source=None, revoked_at=None, cert_not_before=epoch, cert_not_after=epoch,
                               level=None, covers="—", problems=(f"Chữ ký bị hỏng, không đọc được: {e}",))
    others = [c for c in certs if c is not leaf]
    base = {"trust_roots": list(trust.anchors), "other_certs": list(trust.intermediates) + others}
    ocsps, crls = _embedded_revocation(signed_data)

    # integrity, signature value and timestamp (trust of the signer is judged below, at the trusted time)
    loose = ValidationContext(**base, ocsps=ocsps, crls=crls, allow_fetching=trust.allow_fetching,
                              revocation_mode="soft-fail")
    try:
        status = run_released(async_validate_detached_cms(data, signed_data, signer_validation_context=loose,
                                                           ts_validation_context=loose), loose)
    except SignatureValidationError as e:
        status = None
        problems.append(f"Chữ ký không kiểm tra được: {e}")
    integrity = bool(status and status.intact and status.valid)
    if status is not None and not status.intact:
        problems.append("Dữ liệu đã bị thay đổi sau khi ký (giá trị băm không khớp).")
    elif status is not None and not status.valid:
        problems.append("Chữ ký không khớp với khoá công khai trong chứng thư số.")
    signing_time = getattr(status, "signer_reported_dt", None)
    timestamp, ts_valid = None, None
    if status is not None and status.timestamp_validity is not None:
        tsv = status.timestamp_validity
        timestamp, ts_valid = tsv.timestamp, bool(tsv.intact and tsv.valid and tsv.trusted)
        if not ts_valid:
            problems.append("Dấu thời gian của chữ ký không hợp lệ.")
    elif next(extract_tst_data_iter(signer_info, signed=False), None) is None:
        warnings.append("Chữ ký không có dấu thời gian; thời điểm ký chỉ do người ký tự khai.")

    moment = timestamp if ts_valid else (signing_time or dt.datetime.now(dt.UTC))

    def run(vc):
        validator = CertificateValidator(leaf, intermediate_certs=others, validation_context=vc)
        return run_released(validator.async_validate_usage({"non_repudiation"}), vc)

    attempts = [("embedded", ValidationContext(**base, ocsps=ocsps, crls=crls, allow_fetching=False,
                                               revocation_mode="hard-fail", moment=moment))]
    if trust.allow_fetching:
        attempts.append(("online", ValidationContext(**base, allow_fetching=True, revocation_mode="hard-fail")))
    attempts.append((None, ValidationContext(**base, allow_fetching=False, revocation_mode="soft-fail",
                                             moment=moment)))
    trusted, revocation, source, revoked_at, last_error = False, "unknown", None, None, None
    for src, vc in attempts:
        try:
            run(vc)
            trusted, source, revocation = True, src, "good" if src else "unknown"
            break
        except RevokedError as e:
            revoked_at = getattr(e, "revocation_dt", None) or getattr(getattr(e, "revocation_details", None),
                                                                      "revocation_date", None)
            if src == "online" and revoked_at is not None and revoked_at > moment:
                trusted, source, revocation = True, src, "revoked_after"
                break
            revocation, source, last_error = "revoked", src, e
            break
        except (PathBuildingError, PathValidationError) as e:
            last_error = e
    if revocation == "revoked":
        problems.append("Chứng thư số đã bị thu hồi trước thời điểm ký"
                        + (f" ({revoked_at:%d/%m/%Y})." if revoked_at else "."))
    elif not trusted:
        problems.append("Chứng thư số không dẫn tới chứng thư số gốc tin cậy đã cấu hình, hoặc không hợp lệ tại "
                        f"thời điểm ký ({last_error}).")
    elif source is None:
        warnings.append("Không kiểm tra được tình trạng thu hồi của chứng thư số (không có dữ liệu nhúng, không "
                        "tra cứu trực tuyến được).")
    subject = cert_subject_fields(leaf)
    cert_valid = subject["cert_not_before"] <= moment <= subject["cert_not_after"]
    if not cert_valid:
        problems.append("Thời điểm ký nằm ngoài thời hạn hiệu lực của chứng thư số.")
    level = ("CAdES-LT" if ocsps or crls else "CAdES-T") if ts_valid else "CAdES-BES"
    valid = integrity and trusted and cert_valid and revocation in ("good", "unknown", "revoked_after") \
        and ts_valid is not False
    return SignatureReport(
        id=id, kind="signature", valid=valid, **subject, signing_time=signing_time, timestamp=timestamp,
        timestamp_valid=ts_valid, integrity=integrity, trusted=trusted, cert_valid_at_signing=cert_valid,
        revocation=revocation, revocation_source=source, revoked_at=revoked_at, level=level,
        covers="toàn bộ dữ liệu đã xác nhận", problems=tuple(problems), warnings=tuple(warnings))
