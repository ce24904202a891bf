"""Validation of signed học bạ documents into a ``DocumentReport`` (Vietnamese).

PDF: every signature and document timestamp is checked by pyHanko. A signature with a trusted signature
timestamp is judged *at the time of that timestamp* using the revocation data embedded in the document (the
DSS) — so a certificate revoked after signing still validates, which is what B-LT is for. When the document
carries no usable revocation data, the validator asks online (OCSP/CRL) if the trust configuration allows it,
and warns when revocation could not be checked at all.

XML: see ``xades.validate_xml`` (re-exported here).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from dataclasses import replace

from asn1crypto import x509

from .report import DocumentReport, SignatureReport
from .trust import TrustConfig

_UTC = dt.UTC


def cert_subject_fields(cert: x509.Certificate) -> dict:
    subj = cert.subject.native
    return {"signer": subj.get("common_name") or cert.subject.human_friendly,
            "signer_id": subj.get("serial_number"), "organisation": subj.get("organization_name"),
            "title": subj.get("title"),
            "issuer": cert.issuer.native.get("common_name") or cert.issuer.human_friendly,
            "cert_not_before": cert["tbs_certificate"]["validity"]["not_before"].native,
            "cert_not_after": cert["tbs_certificate"]["validity"]["not_after"].native}


def _embedded_context(reader, trust: TrustConfig, moment: dt.datetime | None):
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError

    kwargs = {"trust_roots": list(trust.anchors), "other_certs": list(trust.intermediates),
              "allow_fetching": False, "revocation_mode": "hard-fail", "moment": moment}
    try:
        return DocumentSecurityStore.read_dss(reader).as_validation_context(kwargs), True
    except NoDSSFoundError:
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(**kwargs), False


def _online_context(trust: TrustConfig, soft: bool = False):
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=list(trust.anchors), other_certs=list(trust.intermediates),
                             allow_fetching=trust.allow_fetching,
                             revocation_mode="soft-fail" if soft else "hard-fail")


def _is_revinfo_problem(status) -> bool:
    from pyhanko.sign.ades.report import AdESIndeterminate

    return status.trust_problem_indic in (AdESIndeterminate.TRY_LATER,
                                          AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE,
                                          AdESIndeterminate.NO_POE)


async def _validate_pdf_signature(reader, sig, trust: TrustConfig):
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
    from pyhanko.sign.validation.pdf_embedded import (
        async_validate_pdf_signature,
        async_validate_pdf_timestamp,
    )

    is_doc_ts = sig.sig_object_type == "/DocTimeStamp"
    problems: list[str] = []
    warnings: list[str] = []
    field_name = sig.field_name

    async def run(vc):
        try:
            if is_doc_ts:
                return await async_validate_pdf_timestamp(sig, validation_context=vc)
            return await async_validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)
        finally:
            await vc.aclose()

    # 1. at the signature's trusted time, with the revocation data embedded in the document
    ts_time = None
    try:
        tst = None if is_doc_ts else next(extract_tst_data_iter(sig.signer_info, signed=False), None)
        if tst is not None:
            ts_time = tst["encap_content_info"]["content"].parsed["gen_time"].native
        elif is_doc_ts:
            ts_time = sig.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    except (KeyError, ValueError, AttributeError):
        ts_time = None
    vc, has_dss = _embedded_context(reader, trust, ts_time)
    source = "embedded"
    try:
        status = await run(vc)
    except SignatureValidationError as e:
        return _broken(field_name, is_doc_ts, sig, f"Chữ ký bị hỏng, không đọc được: {e}")
    if not status.trusted and _is_revinfo_problem(status):
        # 2. no usable embedded revocation data: ask online now, if allowed
        if trust.allow_fetching:
            status = await run(_online_context(trust))
            source = "online"
            if not status.trusted and _is_revinfo_problem(status):
                status = await run(_online_context(trust, soft=True))
                source = None
                warnings.append("Không kiểm tra được tình trạng thu hồi của chứng thư số (không có dữ liệu "
                                "nhúng, không tra cứu trực tuyến được).")
        else:
            status = await run(_embedded_context(reader, trust, ts_time)[0].__class__(
                trust_roots=list(trust.anchors), other_certs=list(trust.intermediates), revocation_mode="soft-fail",
                moment=ts_time))
            source = None
            warnings.append("Không kiểm tra được tình trạng thu hồi của chứng thư số (tài liệu không nhúng dữ "
                            "liệu thu hồi, tra cứu trực tuyến bị tắt).")

    cert = status.signing_cert
    info = cert_subject_fields(cert)
    integrity = bool(status.intact and status.valid)
    if not status.intact:
        problems.append("Nội dung tài liệu đã bị thay đổi sau khi ký (giá trị băm không khớp).")
    elif not status.valid:
        problems.append("Chữ ký không khớp với khoá công khai trong chứng thư số.")
    trusted = bool(status.trusted)
    revoked_at = status.revocation_details.revocation_date if status.revocation_details else None
    if revoked_at is not None:
        revocation = "revoked"
        problems.append(f"Chứng thư số đã bị thu hồi trước thời điểm ký ({revoked_at:%d/%m/%Y}).")
    elif source is None:
        revocation = "unknown"
    else:
        revocation = "good"
    if not trusted and revoked_at is None:
        problems.append("Chứng thư số không dẫn tới chứng thư số gốc tin cậy đã cấu hình, hoặc không hợp lệ tại "
                        "thời điểm ký" + (f" ({status.trust_problem_indic.name})" if status.trust_problem_indic
                                          else "") + ".")
    signing_time = getattr(status, "signer_reported_dt", None)
    when = ts_time or signing_time or dt.datetime.now(_UTC)
    cert_valid_at_signing = info["cert_not_before"] <= when <= info["cert_not_after"]
    if not cert_valid_at_signing:
        problems.append("Thời điểm ký nằm ngoài thời hạn hiệu lực của chứng thư số.")

    ts_valid = None
    timestamp = None
    if is_doc_ts:
        timestamp, ts_valid = status.timestamp, integrity and trusted
    elif status.timestamp_validity is not None:
        tsv = status.timestamp_validity
        timestamp = tsv.timestamp
        ts_valid = bool(tsv.intact and tsv.valid and tsv.trusted)
        if not ts_valid:
            problems.append("Dấu thời gian của chữ ký không hợp lệ.")
    elif not is_doc_ts:
        warnings.append("Chữ ký không có dấu thời gian; thời điểm ký chỉ do người ký tự khai.")

    modification_ok = bool(status.docmdp_ok) if status.docmdp_ok is not None else True
    coverage = status.coverage.name if status.coverage is not None else ""
    if not modification_ok:
        problems.append("Tài liệu đã bị sửa đổi sau khi ký theo cách không được phép.")
    level = None
    if is_doc_ts:
        level = "Dấu thời gian tài liệu (PAdES LTA)"
    elif sig.sig_object.get("/SubFilter") == "/ETSI.CAdES.detached":
        level = "PAdES B-T" if timestamp else "PAdES B-B"
        if has_dss and timestamp:
            level = "PAdES B-LT"
    covers = ("toàn bộ tài liệu" if coverage == "ENTIRE_FILE" and not is_doc_ts or coverage == "ENTIRE_FILE"
              else "toàn bộ tài liệu tại thời điểm ký; các thay đổi sau đó là chữ ký/dữ liệu kiểm tra được phép"
              if modification_ok else "một phần tài liệu")
    valid = integrity and trusted and cert_valid_at_signing and revoked_at is None and modification_ok and (
        ts_valid is not False)
    return SignatureReport(
        id=field_name, kind="document_timestamp" if is_doc_ts else "signature", valid=valid, **info,
        signing_time=signing_time, timestamp=timestamp, timestamp_valid=ts_valid, integrity=integrity,
        trusted=trusted, cert_valid_at_signing=cert_valid_at_signing, revocation=revocation,
        revocation_source=source, revoked_at=revoked_at, level=level, covers=covers,
        problems=tuple(problems), warnings=tuple(warnings))


def _broken(field_name, is_doc_ts, sig, message: str) -> SignatureReport:
    try:
        info = cert_subject_fields(sig.signer_cert)
    except Exception:  # noqa: BLE001 - a broken CMS may not even name its certificate
        epoch = dt.datetime(1970, 1, 1, tzinfo=_UTC)
        info = {"signer": "—", "signer_id": None, "organisation": None, "title": None, "issuer": "—",
                "cert_not_before": epoch, "cert_not_after": epoch}
    return SignatureReport(id=field_name, kind="document_timestamp" if is_doc_ts else "signature", valid=False,
                           **info, signing_time=None, timestamp=None, timestamp_valid=None, integrity=False,
                           trusted=False, cert_valid_at_signing=False, revocation="not_checked",
                           revocation_source=None, revoked_at=None, level=None, covers="—",
                           problems=(message,))


def validate_pdf(data: bytes, trust: TrustConfig) -> DocumentReport:
    """Validates every signature and document timestamp of a PDF."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    anchors = tuple(trust.anchor_names())
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError) as e:
        return DocumentReport("pdf", (), anchors, problems=(f"Tệp không phải PDF hợp lệ ({e}).",))

    reports = [asyncio.run(_validate_pdf_signature(reader, s, trust)) for s in sigs]
    if any(r.kind == "document_timestamp" and r.valid for r in reports):
        # a valid document timestamp over the DSS lifts every B-LT signature before it to B-LTA
        reports = [replace(r, level="PAdES B-LTA") if r.level == "PAdES B-LT" else r for r in reports]
    problems = []
    fields = _empty_signature_fields(reader)
    warnings = tuple(f"Ô chữ ký {name} chưa được ký." for name in fields)
    return DocumentReport("pdf", tuple(reports), anchors, tuple(problems), warnings)


def _empty_signature_fields(reader) -> list[str]:
    from pyhanko.sign.fields import enumerate_sig_fields

    return [name for name, value, _ in enumerate_sig_fields(reader) if value is None]


def validate_xml(data: bytes, trust: TrustConfig) -> DocumentReport:
    from .xades import validate_xml as _validate_xml

    return _validate_xml(data, trust)


def validate_file(data: bytes, trust: TrustConfig) -> DocumentReport:
    """PDF or XML, by content."""
    if data.lstrip()[:5] == b"%PDF-" or data[:1024].find(b"%PDF-") >= 0:
        return validate_pdf(data, trust)
    return validate_xml(data, trust)
