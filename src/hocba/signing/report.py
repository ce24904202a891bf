"""The validation report of a signed document: one type for PDF and XML, rendered by the CLI (text or JSON),
the web verification page and the API alike. Texts are Vietnamese; each signature carries what TT15/2025
Phụ lục II asks a validator to show."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from .precheck import fmt_time

REVOCATION_TEXT = {
    "good": "Chưa bị thu hồi tại thời điểm ký",
    "revoked": "Đã bị thu hồi trước thời điểm ký",
    "revoked_after": "Bị thu hồi sau thời điểm ký (chữ ký vẫn có giá trị)",
    "unknown": "Không kiểm tra được tình trạng thu hồi",
    "not_checked": "Không kiểm tra tình trạng thu hồi",
}

SOURCE_TEXT = {"embedded": "dữ liệu nhúng trong tài liệu", "online": "tra cứu trực tuyến"}


@dataclass(frozen=True)
class SignatureReport:
    """One signature (or document timestamp) and its verdict."""

    id: str  # PDF field name or XML ds:Signature Id
    kind: str  # "signature" | "document_timestamp"
    valid: bool
    signer: str  # certificate subject CN
    signer_id: str | None  # subject serialNumber (CCCD:..., MST:...)
    organisation: str | None  # subject O
    title: str | None
    issuer: str  # issuing CA (certificate issuer CN)
    signing_time: dt.datetime | None  # claimed by the signer (signed attribute)
    timestamp: dt.datetime | None  # RFC 3161 signature timestamp (trusted time)
    timestamp_valid: bool | None
    integrity: bool  # the signed bytes/elements are unchanged and the signature matches the key
    trusted: bool  # chain up to a configured trust anchor
    cert_valid_at_signing: bool
    revocation: str  # key of REVOCATION_TEXT
    revocation_source: str | None  # "embedded" | "online" | None
    revoked_at: dt.datetime | None
    cert_not_before: dt.datetime
    cert_not_after: dt.datetime
    level: str | None  # "PAdES B-LT", "PAdES B-LTA", "XAdES-T"...
    covers: str  # what the signature covers, in Vietnamese
    problems: tuple[str, ...] = ()  # why it is invalid, Vietnamese
    warnings: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return "Hợp lệ" if self.valid else "Không hợp lệ"

    @property
    def revocation_text(self) -> str:
        return REVOCATION_TEXT.get(self.revocation, self.revocation)

    def to_dict(self) -> dict:
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, dt.datetime):
                out[k] = v.isoformat()
            elif isinstance(v, tuple):
                out[k] = list(v)
        out["verdict"] = self.verdict
        out["revocation_text"] = self.revocation_text
        return out

    def render_text(self) -> str:
        def t(moment):
            return fmt_time(moment) if moment else "—"

        yes = lambda ok: "Có" if ok else "Không"
        lines = [
            f"[{self.id}] {'Dấu thời gian tài liệu' if self.kind == 'document_timestamp' else 'Chữ ký'}: "
            + self.verdict.upper(),
            f"  Người ký: {self.signer}" + (f" ({self.signer_id})" if self.signer_id else ""),
            f"  Tổ chức: {self.organisation or '—'}" + (f" — {self.title}" if self.title else ""),
            f"  Tổ chức cấp chứng thư số: {self.issuer}",
            f"  Thời điểm ký (người ký khai): {t(self.signing_time)}",
            f"  Dấu thời gian: {t(self.timestamp)}"
            + ("" if self.timestamp_valid is None else (" (hợp lệ)" if self.timestamp_valid else " (KHÔNG hợp lệ)")),
            f"  Toàn vẹn dữ liệu: {yes(self.integrity)}",
            f"  Chứng thư số tin cậy: {yes(self.trusted)}",
            f"  Chứng thư số còn hiệu lực tại thời điểm ký: {yes(self.cert_valid_at_signing)}",
            (f"  Tình trạng thu hồi tại thời điểm ký: {self.revocation_text}"
             + (f" (thu hồi ngày {t(self.revoked_at)})" if self.revoked_at else "")
             + (f" — nguồn: {SOURCE_TEXT.get(self.revocation_source, '')}" if self.revocation_source else "")),
            f"  Thời hạn chứng thư số: {t(self.cert_not_before)} – {t(self.cert_not_after)}",
            f"  Phạm vi: {self.covers}" + (f"; định dạng {self.level}" if self.level else ""),
        ]
        lines += [f"  Lỗi: {p}" for p in self.problems]
        lines += [f"  Cảnh báo: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass(frozen=True)
class DocumentReport:
    """All signatures of one document, the trust anchors used and the overall verdict."""

    kind: str  # "pdf" | "xml"
    signatures: tuple[SignatureReport, ...]
    trust_anchors: tuple[str, ...]
    problems: tuple[str, ...] = ()  # document-level problems (unreadable file, unsigned changes...)
    warnings: tuple[str, ...] = ()
    checked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def valid(self) -> bool:
        return bool(self.signatures) and not self.problems and all(s.valid for s in self.signatures)

    @property
    def verdict(self) -> str:
        if self.problems and not self.signatures:
            return "Không kiểm tra được tài liệu: " + "; ".join(self.problems)
        if not self.signatures:
            return "Tài liệu không có chữ ký số."
        bad = [s for s in self.signatures if not s.valid]
        if not bad and not self.problems:
            return f"Tài liệu hợp lệ: tất cả {len(self.signatures)} chữ ký/dấu thời gian đều hợp lệ."
        return (f"Tài liệu KHÔNG hợp lệ: {len(bad)}/{len(self.signatures)} chữ ký không hợp lệ"
                + ("; " + "; ".join(self.problems) if self.problems else "") + ".")

    @property
    def all_warnings(self) -> tuple[str, ...]:
        return self.warnings + tuple(w for s in self.signatures for w in s.warnings)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "valid": self.valid, "verdict": self.verdict,
            "checked_at": self.checked_at.isoformat(),
            "signatures": [s.to_dict() for s in self.signatures],
            "trust_anchors": list(self.trust_anchors), "problems": list(self.problems),
            "warnings": list(self.warnings),
        }

    def render_text(self) -> str:
        parts = [self.verdict, ""]
        parts += [s.render_text() + "\n" for s in self.signatures]
        parts += [f"Lỗi: {p}" for p in self.problems]
        parts += [f"Cảnh báo: {w}" for w in self.warnings]
        parts.append("Chứng thư số gốc tin cậy đã dùng:")
        parts += [f"  - {a}" for a in self.trust_anchors]
        return "\n".join(parts)
