"""Checking a học bạ: before it is issued (``issue_problems``), and afterwards, a file someone holds against
the registry (``verify_document``): are the signatures valid, is this the file that was issued, and is that
version in force, or revoked — and if so, replaced by which one.

The registry status is what makes an old version read "đã bị thu hồi, thay thế bởi …": a revoked file's
signatures stay valid (it was lawfully signed), only the registry knows it no longer counts.
"""

from __future__ import annotations

import dataclasses
import hashlib

from django.utils import timezone

from .codes import normalise_code, secret_matches
from .models import HocBaRecord

XML_NS = {"ds": "http://www.w3.org/2000/09/xmldsig#"}


def issue_problems(pdf: bytes, xml: bytes, steps, trust, *, full: bool = True) -> list[str]:
    """Why a sealed document may not be issued ([] when it may): a signature field or XML signature
    missing, the PDF's XML twin saying something else than the signed XML, or (``full``) any signature
    of either file not valid."""
    from lxml import etree

    from hocba.documents import twin_matches
    from hocba.signing.pades import signature_fields

    problems = []
    fields = signature_fields(pdf)
    expected = {s.field_name for s in steps}
    missing = sorted(n for n in expected if not fields.get(n))
    if missing:
        problems.append("PDF thiếu chữ ký: " + ", ".join(missing))
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    present = {s.get("Id") for s in root.findall("ds:Signature", XML_NS)}
    missing_xml = sorted(s.signature_id for s in steps if s.signature_id not in present)
    if missing_xml:
        problems.append("XML thiếu chữ ký: " + ", ".join(missing_xml))
    if not twin_matches(pdf, xml):
        problems.append("Bản XML đính kèm trong PDF không khớp với tệp XML đã ký")
    if full and not problems:
        from hocba.signing.validate import validate_pdf, validate_xml

        for kind, report in (("PDF", validate_pdf(pdf, trust)), ("XML", validate_xml(xml, trust))):
            if not report.valid:
                bad = [f"{s.id}: {'; '.join(s.problems) or 'không hợp lệ'}" for s in report.signatures if not s.valid]
                problems.append(f"{kind} có chữ ký không hợp lệ ({' | '.join(bad) or report.verdict})")
    return problems


@dataclasses.dataclass(frozen=True)
class RegistryStatus:
    """What the registry says about one version."""

    record: HocBaRecord | None
    in_force: bool
    text: str  # Vietnamese, e.g. "Có hiệu lực", "Đã bị thu hồi, thay thế bởi … (phiên bản 2)"
    replaced_by: HocBaRecord | None = None


def registry_status(record: HocBaRecord | None) -> RegistryStatus:
    if record is None:
        return RegistryStatus(None, False, "Không có trong sổ đăng ký học bạ số của hệ thống.")
    if record.status == HocBaRecord.ISSUED:
        return RegistryStatus(record, True, f"Có hiệu lực (phát hành ngày {timezone.localtime(record.issued_at):%d/%m/%Y})")
    if record.status == HocBaRecord.SUPERSEDED and record.replaced_by_id:
        new = record.replaced_by
        return RegistryStatus(record, False, f"Đã bị thu hồi, thay thế bởi học bạ {new.record_id} "
                                             f"(phiên bản {new.version}, mã tra cứu {new.verification_code})", new)
    if record.status in (HocBaRecord.REVOKED, HocBaRecord.SUPERSEDED):
        when = timezone.localtime(record.revoked_at).strftime("%d/%m/%Y") if record.revoked_at else ""
        return RegistryStatus(record, False, f"Đã bị thu hồi ngày {when}. Lí do: {record.revoke_reason}")
    if record.status == HocBaRecord.CANCELLED:
        return RegistryStatus(record, False, "Bản chưa phát hành đã bị huỷ; không có giá trị.")
    return RegistryStatus(record, False, "Chưa phát hành (đang trong quá trình ký); không có giá trị.")


def lookup(code: str, secret: str | None = None) -> HocBaRecord | None:
    """The version behind a verification code (and, from a QR code, its secret)."""
    code = normalise_code(code)
    if not code:
        return None
    record = HocBaRecord.objects.select_related("replaced_by", "student", "school").filter(
        verification_code=code).first()
    if record is None or (secret is not None and not secret_matches(secret, record.qr_secret_sha256)):
        return None
    return record


@dataclasses.dataclass(frozen=True)
class DocumentCheck:
    """A file checked against its signatures and the registry."""

    kind: str  # "pdf" | "xml"
    record_id: str | None
    signatures_valid: bool
    report: object | None  # hocba.signing.report.DocumentReport
    is_registered_file: bool  # byte-identical to the file the registry holds for that version
    status: RegistryStatus

    @property
    def verdict(self) -> str:
        sig = "Chữ ký số hợp lệ" if self.signatures_valid else "Chữ ký số KHÔNG hợp lệ"
        same = "đúng tệp đã phát hành" if self.is_registered_file else "không trùng tệp đã phát hành"
        return f"{sig}; {same}. Tình trạng: {self.status.text}"


def verify_document(data: bytes, trust=None) -> DocumentCheck:
    from hocba.documents import embedded_xml, from_xml
    from hocba.signing.validate import validate_file

    kind = "pdf" if data[:5] == b"%PDF-" else "xml"
    xml = embedded_xml(data) if kind == "pdf" else data
    record_id = None
    try:
        record_id = from_xml(xml).record_id if xml else None
    except Exception:  # noqa: BLE001 - not a học bạ: reported as unknown
        record_id = None
    report = None
    if trust is None:
        from hocba.identities.service import trust_config

        trust = trust_config()
    report = validate_file(data, trust)
    record = HocBaRecord.objects.select_related("replaced_by").filter(record_id=record_id).first() if record_id else None
    digest = hashlib.sha256(data).hexdigest()
    registered = record is not None and digest == (record.pdf_sha256 if kind == "pdf" else record.xml_sha256) \
        and record.is_final
    return DocumentCheck(kind, record_id, bool(report.valid and report.signatures), report, registered,
                         registry_status(record))
