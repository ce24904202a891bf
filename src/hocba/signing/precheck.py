"""Checks a signer's certificate before anything is signed (NĐ 23/2025: the signing software must check the
certificate first). A failure raises ``SigningRefused`` with a Vietnamese message and nothing is signed.

Checked: the validity period, the key usage (non-repudiation, i.e. content commitment), the chain up to a
configured trust anchor, and the revocation status asked online (OCSP from the certificate's AIA, else the
CRL from its distribution point).
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from dataclasses import dataclass

from asn1crypto import x509

from .backends import Signer, holder_name
from .trust import TrustConfig

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

REASONS_VI = {
    "unspecified": "không nêu lý do", "key_compromise": "lộ khoá bí mật", "ca_compromise": "lộ khoá của CA",
    "affiliation_changed": "thay đổi thông tin tổ chức", "superseded": "đã được thay thế",
    "cessation_of_operation": "ngừng hoạt động", "certificate_hold": "tạm dừng",
    "privilege_withdrawn": "rút quyền", "remove_from_crl": "gỡ khỏi CRL", "aa_compromise": "lộ khoá của AA",
}


def fmt_time(moment: dt.datetime) -> str:
    """Vietnamese date-time: ``28/11/2026 14:05`` in Vietnam time."""
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def fmt_date(moment: dt.datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y")


class SigningRefused(Exception):
    """Signing was refused before anything was signed; ``str(e)`` is the Vietnamese message for the user."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class RevocationStatus:
    status: str  # "good" | "revoked" | "unknown"
    source: str  # "ocsp" | "crl"
    revoked_at: dt.datetime | None = None
    reason: str | None = None
    evidence: bytes | None = None  # the DER OCSP response or CRL, for embedding (XAdES RevocationValues)


@dataclass(frozen=True)
class PrecheckResult:
    holder: str
    not_before: dt.datetime
    not_after: dt.datetime
    revocation: RevocationStatus


def _crypto_cert(cert: x509.Certificate):
    from cryptography import x509 as cx509

    return cx509.load_der_x509_certificate(cert.dump())


def _fetch(url: str, data: bytes | None = None, content_type: str | None = None) -> bytes:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if content_type:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()


def _issuer_of(cert: x509.Certificate, candidates) -> x509.Certificate | None:
    for c in candidates:
        if c.subject == cert.issuer:
            return c
    return None


def check_revocation_online(cert: x509.Certificate, issuer: x509.Certificate) -> RevocationStatus:
    """Asks the OCSP responder named in the certificate (falling back to its CRL). Raises ``OSError`` or
    ``ValueError`` when neither answers with a verifiable response."""
    from cryptography import x509 as cx509

    c_cert, c_issuer = _crypto_cert(cert), _crypto_cert(issuer)
    errors = []
    for url in cert.ocsp_urls:
        try:
            return _ask_ocsp(url, cert, issuer)
        except (OSError, ValueError) as e:
            errors.append(f"OCSP {url}: {e}")
    for url in [dp.url for dp in cert.crl_distribution_points if dp.url]:
        try:
            raw = _fetch(url)
            crl = cx509.load_der_x509_crl(raw)
            if not crl.is_signature_valid(c_issuer.public_key()):
                raise ValueError("chữ ký của CRL không hợp lệ")
            entry = crl.get_revoked_certificate_by_serial_number(c_cert.serial_number)
            if entry is None:
                return RevocationStatus("good", "crl", evidence=raw)
            try:
                reason = entry.extensions.get_extension_for_class(cx509.CRLReason).value.reason.name
            except cx509.ExtensionNotFound:
                reason = "unspecified"
            return RevocationStatus("revoked", "crl", entry.revocation_date_utc, reason, raw)
        except (OSError, ValueError) as e:
            errors.append(f"CRL {url}: {e}")
    raise OSError("; ".join(errors) or "chứng thư số không ghi địa chỉ OCSP hay CRL")


def _ask_ocsp(url: str, cert: x509.Certificate, issuer: x509.Certificate) -> RevocationStatus:
    # asn1crypto rather than cryptography: responders (certomancer among them) put fractional seconds in
    # GeneralizedTime, which cryptography's strict DER parser rejects.
    import hashlib

    from asn1crypto import ocsp
    from cryptography.hazmat.primitives import hashes

    cert_id = ocsp.CertId({
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": hashlib.sha1(cert.issuer.dump()).digest(),
        "issuer_key_hash": hashlib.sha1(issuer.public_key["public_key"].contents[1:]).digest(),
        "serial_number": cert.serial_number,
    })
    request = ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}})
    raw = _fetch(url, request.dump(), "application/ocsp-request")
    resp = ocsp.OCSPResponse.load(raw)
    if resp["response_status"].native != "successful":
        raise ValueError(f"OCSP trả về {resp['response_status'].native}")
    basic = resp.basic_ocsp_response
    certs = list(basic["certs"]) if basic["certs"].native else []
    responder = certs[0] if certs else issuer
    c_issuer, c_responder = _crypto_cert(issuer), _crypto_cert(responder)
    if responder.dump() != issuer.dump():
        try:
            c_responder.verify_directly_issued_by(c_issuer)
        except Exception as e:
            raise ValueError("chứng thư số của máy chủ OCSP không do CA cấp chứng thư số này cấp") from e
        if "ocsp_signing" not in (responder.extended_key_usage_value.native or []):
            raise ValueError("máy chủ OCSP không có quyền ký phản hồi OCSP")
    hash_name = basic["signature_algorithm"].hash_algo
    _verify(c_responder, basic["signature"].native, basic["tbs_response_data"].dump(),
            {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
             "sha1": hashes.SHA1()}[hash_name])
    for single in basic["tbs_response_data"]["responses"]:
        if single["cert_id"]["serial_number"].native != cert.serial_number:
            continue
        status = single["cert_status"]
        if status.name == "revoked":
            info = status.chosen
            reason = info["revocation_reason"].native if info["revocation_reason"].native else "unspecified"
            return RevocationStatus("revoked", "ocsp", info["revocation_time"].native, reason, raw)
        return RevocationStatus("good" if status.name == "good" else "unknown", "ocsp", evidence=raw)
    raise ValueError("phản hồi OCSP không khớp chứng thư số")


def _der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _verify(cert, signature: bytes, data: bytes, hash_alg) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        cert.public_key().verify(signature, data, padding.PKCS1v15(), hash_alg)
    except InvalidSignature as e:
        raise ValueError("chữ ký của phản hồi OCSP không hợp lệ") from e


def precheck(signer: Signer, trust: TrustConfig, *, at: dt.datetime | None = None,
             check_revocation: bool = True) -> PrecheckResult:
    """Refuses (``SigningRefused``) unless the signer's certificate may sign now."""
    cert = signer.certificate
    name = holder_name(cert)
    now = at or dt.datetime.now(dt.UTC)
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if now < not_before:
        raise SigningRefused(f"Chứng thư số của {name} chưa có hiệu lực (có hiệu lực từ {fmt_date(not_before)}).",
                             code="not_yet_valid")
    if now > not_after:
        raise SigningRefused(f"Chứng thư số của {name} đã hết hạn ngày {fmt_date(not_after)}.", code="expired")
    usages = set(cert.key_usage_value.native) if cert.key_usage_value else set()
    if "non_repudiation" not in usages or "digital_signature" not in usages:
        raise SigningRefused(f"Chứng thư số của {name} không được phép dùng để ký văn bản (thiếu mục đích sử "
                             "dụng khoá chống chối bỏ — non-repudiation).", code="key_usage")

    import asyncio

    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    vc = trust.validation_context(revocation_mode="soft-fail", allow_fetching=False, moment=now)
    validator = CertificateValidator(cert, intermediate_certs=list(signer.chain), validation_context=vc)
    try:
        path = asyncio.run(validator.async_validate_path())
    except (PathBuildingError, PathValidationError) as e:
        raise SigningRefused(f"Chứng thư số của {name} không được cấp bởi tổ chức chứng thực tin cậy đã cấu hình "
                             f"({e}).", code="untrusted") from e
    del path
    issuer_cert = _issuer_of(cert, [*signer.chain, *trust.intermediates, *trust.anchors])
    revocation = RevocationStatus("unknown", "none")
    if check_revocation:
        try:
            revocation = check_revocation_online(cert, issuer_cert)
        except OSError as e:
            raise SigningRefused(f"Không kiểm tra được tình trạng thu hồi chứng thư số của {name}; chưa ký "
                                 f"({e}).", code="revocation_unavailable") from e
        if revocation.status == "revoked":
            reason = REASONS_VI.get(revocation.reason or "unspecified", revocation.reason)
            raise SigningRefused(f"Chứng thư số của {name} đã bị thu hồi ngày {fmt_time(revocation.revoked_at)} "
                                 f"(lý do: {reason}); không thể ký.", code="revoked")
        if revocation.status != "good":
            raise SigningRefused(f"Tổ chức chứng thực không xác nhận tình trạng chứng thư số của {name}; chưa ký.",
                                 code="revocation_unknown")
    return PrecheckResult(name, not_before, not_after, revocation)
