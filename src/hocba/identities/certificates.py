"""Reading a certificate and checking that it names who it is registered for (no database, no network).

A Vietnamese personal signing certificate names its holder in the subject's CN and identifies them by
``serialNumber=CCCD:<12-digit personal number>``; a seal certificate names the organisation (CN and O).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from asn1crypto import pem, x509

from hocba.signing.precheck import fmt_date


class CertificateProblem(ValueError):
    """The certificate cannot be registered for this holder; ``str(e)`` is the Vietnamese reason."""


@dataclass(frozen=True)
class CertificateInfo:
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    common_name: str
    serial_number_attr: str  # the subject's serialNumber attribute, e.g. "CCCD:079180000101"
    organisation: str
    issuer: str
    serial_hex: str
    fingerprint: str  # SHA-256 of the DER, hex
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def der(self) -> bytes:
        return self.certificate.dump()

    @property
    def personal_number(self) -> str | None:
        m = re.fullmatch(r"CCCD:(\d{12})", self.serial_number_attr.strip())
        return m.group(1) if m else None

    def chain_pem(self) -> str:
        return "".join(pem.armor("CERTIFICATE", c.dump()).decode() for c in self.chain)


def _is_ca(cert: x509.Certificate) -> bool:
    return bool(cert.basic_constraints_value and cert.basic_constraints_value["ca"].native)


def read_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM file (one or a bundle) or one DER certificate."""
    try:
        if pem.detect(data):
            certs = [x509.Certificate.load(der) for kind, _h, der in pem.unarmor(data, multiple=True)
                     if kind == "CERTIFICATE"]
        else:
            certs = [x509.Certificate.load(data)]
            _parsed = certs[0].native  # parse now: a broken file fails here, not later
    except (ValueError, TypeError, OSError) as e:
        raise CertificateProblem("Tệp không phải chứng thư số X.509 (PEM hoặc DER) đọc được.") from e
    if not certs:
        raise CertificateProblem("Tệp không chứa chứng thư số nào.")
    return certs


def inspect(data: bytes | x509.Certificate, chain: list[x509.Certificate] | tuple = ()) -> CertificateInfo:
    """The holder's certificate (the first non-CA one of a bundle) and the CA certificates that came with it."""
    certs = [data] if isinstance(data, x509.Certificate) else read_certificates(data)
    leaves = [c for c in certs if not _is_ca(c)]
    if not leaves:
        raise CertificateProblem("Tệp chỉ có chứng thư số của tổ chức chứng thực (CA), không có chứng thư số "
                                 "của người ký.")
    leaf = leaves[0]
    extra = [c for c in [*certs, *chain] if c is not leaf and _is_ca(c)]
    subject = leaf.subject.native
    validity = leaf["tbs_certificate"]["validity"]
    return CertificateInfo(
        certificate=leaf, chain=tuple(extra),
        common_name=str(subject.get("common_name") or ""),
        serial_number_attr=str(subject.get("serial_number") or ""),
        organisation=str(subject.get("organization_name") or ""),
        issuer=leaf.issuer.human_friendly,
        serial_hex=format(leaf.serial_number, "X"),
        fingerprint=hashlib.sha256(leaf.dump()).hexdigest(),
        not_before=validity["not_before"].native, not_after=validity["not_after"].native,
    )


def same_name(a: str, b: str) -> bool:
    """Names compare in NFC, case-insensitively, with runs of spaces collapsed."""
    def norm(s: str) -> str:
        return unicodedata.normalize("NFC", " ".join(s.split())).casefold()

    return norm(a) == norm(b)


def check_personal(info: CertificateInfo, full_name: str, personal_number: str) -> None:
    """Refuses a personal certificate that does not name this staff member (name and personal number)."""
    problems = []
    if not same_name(info.common_name, full_name):
        problems.append(f"tên trong chứng thư số là «{info.common_name or '(trống)'}», tên cán bộ là «{full_name}»")
    if info.personal_number is None:
        problems.append(f"chứng thư số không ghi số định danh cá nhân dạng CCCD:<12 chữ số> (serialNumber là "
                        f"«{info.serial_number_attr or '(trống)'}»)")
    elif info.personal_number != personal_number:
        problems.append(f"số định danh trong chứng thư số là {info.personal_number}, của cán bộ là "
                        f"{personal_number}")
    if problems:
        raise CertificateProblem(f"Chứng thư số không phải của {full_name}: " + "; ".join(problems) + ".")


def check_seal(info: CertificateInfo, school_name: str) -> None:
    """Refuses a seal certificate that does not name the school (CN or O), or that is a person's."""
    if info.personal_number is not None:
        raise CertificateProblem(f"Đây là chứng thư số cá nhân của {info.common_name} (CCCD:{info.personal_number}), "
                                 "không phải con dấu số của trường.")
    if not (same_name(info.common_name, school_name) or same_name(info.organisation, school_name)):
        raise CertificateProblem(f"Chứng thư số con dấu không mang tên trường «{school_name}» (tên trong chứng thư "
                                 f"số: «{info.common_name or info.organisation or '(trống)'}»).")


def is_seal_of(info: CertificateInfo, school_name: str) -> bool:
    try:
        check_seal(info, school_name)
    except CertificateProblem:
        return False
    return True


def check_usable(info: CertificateInfo, now: dt.datetime) -> None:
    """Refuses a certificate that has expired, is not valid yet, or may not sign documents."""
    if now > info.not_after:
        raise CertificateProblem(f"Chứng thư số đã hết hạn ngày {fmt_date(info.not_after)}.")
    if now < info.not_before:
        raise CertificateProblem(f"Chứng thư số chưa có hiệu lực (từ ngày {fmt_date(info.not_before)}).")
    usages = set(info.certificate.key_usage_value.native) if info.certificate.key_usage_value else set()
    if not {"digital_signature", "non_repudiation"} <= usages:
        raise CertificateProblem("Chứng thư số không được phép dùng để ký văn bản (thiếu mục đích sử dụng khoá "
                                 "chữ ký số và chống chối bỏ).")
