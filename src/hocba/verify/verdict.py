"""One verdict and its reasons, from what the file says (``engine``) and what the registry says (no Django).

``Verification`` is the single report the page, the API and the log render. It leads with one of four
verdicts and lists the checks behind it, each with a tick, a cross or a question mark and a Vietnamese
sentence:

==================  ===============================================================================
Không hợp lệ        a signature does not match the document (changed after signing), the document was
                    modified in a way its signatures do not allow, a certificate was revoked before the
                    signature or was not valid at the signing time, a timestamp is invalid
Đã bị thu hồi       the signatures hold, but the registry says the version was revoked (or replaced:
                    the replacing version's code is named)
Không xác định được the file cannot be read, carries no signature, a signer's certificate does not lead
                    to a configured trust anchor, or the version is ours but was never issued (or the file
                    is not the one that was)
Hợp lệ              every signature holds and the registry says in force — or, for a document the
                    registry does not know (another issuer's), every signature holds and the registry
                    status is reported as unknown
==================  ===============================================================================

Personal numbers (of signers and students) are masked here, before anything leaves this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from zoneinfo import ZoneInfo

from hocba.school.names import mask_personal_number

VN = ZoneInfo("Asia/Ho_Chi_Minh")

VALID, INVALID, REVOKED, UNKNOWN = "valid", "invalid", "revoked", "unknown"
VERDICT_TEXT = {VALID: "Hợp lệ", INVALID: "Không hợp lệ", REVOKED: "Đã bị thu hồi", UNKNOWN: "Không xác định được"}

# registry statuses
IN_FORCE, SUPERSEDED, NOT_ISSUED, CANCELLED, NOT_FOUND, NOT_OURS = (
    "in_force", "superseded", "not_issued", "cancelled", "not_found", "not_ours")
REVOKED_STATUS = "revoked"

_DIGITS = re.compile(r"\d{9,}")


def mask_id(value: str | None) -> str | None:
    """"CCCD:079085000103" → "CCCD:079******103"; an organisation's tax code (MST:…) stays whole."""
    if not value or value.upper().startswith("MST:"):
        return value
    return _DIGITS.sub(lambda m: mask_personal_number(m.group(0)), value)


def fmt_time(value: str | dt.datetime | None) -> str:
    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VN).strftime("%d/%m/%Y %H:%M:%S")


def fmt_date(value: str | dt.date | None) -> str:
    if not value:
        return "—"
    day = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return day.strftime("%d/%m/%Y")


# --- what the registry says --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PreviousLink:
    """The document's link to the student's previous year, looked up in the registry."""

    record_id: str
    sha256: str
    known: bool  # that version is in this system's registry
    hash_matches: bool | None = None  # the link names the bytes that were issued
    school_year: str = ""
    school_name: str = ""
    status_text: str = ""


@dataclasses.dataclass(frozen=True)
class Registry:
    """The registry's word on one version (``known=False``: not issued by this system)."""

    known: bool
    status: str
    text: str  # Vietnamese, what the page shows
    school_code: str = ""
    school_name: str = ""
    verification_code: str = ""
    version: int | None = None
    record_id: str = ""
    issued_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    revoke_reason: str = ""
    replaced_by_code: str = ""
    replaced_by_version: int | None = None
    registered_file: bool | None = None  # the checked bytes are the ones issued (None: not compared)
    previous: PreviousLink | None = None

    @property
    def revoked(self) -> bool:
        return self.status in (REVOKED_STATUS, SUPERSEDED)

    def to_dict(self, *, details: bool) -> dict:
        out = {"known": self.known, "status": self.status, "status_text": self.text,
               "school": {"code": self.school_code, "name": self.school_name} if self.school_name else None,
               "verification_code": self.verification_code or None,
               "replaced_by": ({"verification_code": self.replaced_by_code, "version": self.replaced_by_version}
                               if self.replaced_by_code else None)}
        if details:
            out.update({
                "record_id": self.record_id or None, "version": self.version,
                "issued_at": self.issued_at.isoformat() if self.issued_at else None,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "revoke_reason": self.revoke_reason or None, "registered_file": self.registered_file,
                "previous_year": dataclasses.asdict(self.previous) if self.previous else None,
            })
        return out


NOT_OURS_REGISTRY = Registry(
    known=False, status=NOT_OURS,
    text="Không có trong sổ đăng ký học bạ số của hệ thống này: tình trạng thu hồi, thay thế không xác định được "
         "(hỏi đơn vị đã cấp).")


# --- the report -------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Check:
    key: str
    label: str
    ok: bool | None  # True ✓, False ✗, None: could not be established / does not apply
    text: str

    @property
    def mark(self) -> str:
        return {True: "✓", False: "✗", None: "?"}[self.ok]


@dataclasses.dataclass(frozen=True)
class Verification:
    verdict: str
    reason: str
    checks: tuple[Check, ...]
    source: str  # file | code | qr
    signatures: tuple[dict, ...] = ()  # SignatureReport.to_dict(), personal numbers masked
    trust_anchors: tuple[str, ...] = ()
    file: dict | None = None  # {"kind", "sha256", "size"}
    hoc_ba: dict | None = None  # engine.describe(), personal numbers masked
    registry: Registry | None = None
    warnings: tuple[str, ...] = ()
    details: bool = True  # False: a code alone (status and school only)
    checked_at: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def verdict_text(self) -> str:
        return VERDICT_TEXT[self.verdict]

    @property
    def signature_views(self) -> list[dict]:
        return [{"id": s["id"], "valid": s["valid"], "title": _signature_title(s), "rows": signature_rows(s)}
                for s in self.signatures]

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict, "verdict_text": self.verdict_text, "reason": self.reason,
            "source": self.source, "checked_at": self.checked_at.isoformat(),
            "checks": [dataclasses.asdict(c) for c in self.checks],
            "file": self.file, "hoc_ba": self.hoc_ba,
            "signatures": list(self.signatures), "trust_anchors": list(self.trust_anchors),
            "registry": self.registry.to_dict(details=self.details) if self.registry else None,
            "warnings": list(self.warnings),
        }


def _signature_title(s: dict) -> str:
    what = "Dấu thời gian tài liệu" if s.get("kind") == "document_timestamp" else "Chữ ký"
    return f"{what} {s['id']}: {s['signer']}"


def signature_rows(s: dict) -> list[tuple[str, str, bool | None]]:
    """The fields TT15/2025 Phụ lục II asks a validator to show, as (label, value, ok) rows."""
    from hocba.signing.report import REVOCATION_TEXT, SOURCE_TEXT

    yes = lambda ok: "Có" if ok else "Không"
    revocation = REVOCATION_TEXT.get(s["revocation"], s["revocation"])
    if s.get("revoked_at"):
        revocation += f" (thu hồi lúc {fmt_time(s['revoked_at'])})"
    if s.get("revocation_source"):
        revocation += f" — nguồn: {SOURCE_TEXT.get(s['revocation_source'], s['revocation_source'])}"
    timestamp = fmt_time(s.get("timestamp"))
    if s.get("timestamp_valid") is not None:
        timestamp += " (hợp lệ)" if s["timestamp_valid"] else " (KHÔNG hợp lệ)"
    rows = [
        ("Kết quả", s["verdict"], s["valid"]),
        ("Người ký", s["signer"], None),
        ("Số định danh / mã số", s.get("signer_id") or "—", None),
        ("Tổ chức", s.get("organisation") or "—", None),
        ("Chức danh", s.get("title") or "—", None),
        ("Tổ chức cấp chứng thư số", s["issuer"], None),
        ("Thời điểm ký (người ký khai)", fmt_time(s.get("signing_time")), None),
        ("Dấu thời gian", timestamp, s.get("timestamp_valid")),
        ("Toàn vẹn dữ liệu", yes(s["integrity"]), s["integrity"]),
        ("Chứng thư số dẫn tới gốc tin cậy", yes(s["trusted"]), s["trusted"]),
        ("Chứng thư số còn hiệu lực tại thời điểm ký", yes(s["cert_valid_at_signing"]), s["cert_valid_at_signing"]),
        ("Tình trạng thu hồi tại thời điểm ký", revocation,
         {"good": True, "revoked_after": True, "revoked": False}.get(s["revocation"])),
        ("Thời hạn chứng thư số", f"{fmt_time(s['cert_not_before'])} – {fmt_time(s['cert_not_after'])}", None),
        ("Định dạng", s.get("level") or "—", None),
        ("Phạm vi ký", s.get("covers") or "—", None),
    ]
    rows += [("Lỗi", p, False) for p in s.get("problems", ())]
    rows += [("Cảnh báo", w, None) for w in s.get("warnings", ())]
    return rows


def _masked_signature(s: dict) -> dict:
    return {**s, "signer_id": mask_id(s.get("signer_id"))}


def masked_hoc_ba(doc: dict | None) -> dict | None:
    if doc is None:
        return None
    student = {**doc["student"], "personal_number": mask_personal_number(doc["student"]["personal_number"])}
    return {**doc, "student": student}


# --- judging -----------------------------------------------------------------------------------------------

def _names(sigs) -> str:
    return ", ".join(f"{s['signer']} ({s['id']})" for s in sigs)


def signature_checks(report: dict) -> tuple[list[Check], str | None, str]:
    """The checks of the signatures; returns (checks, verdict they force or None, reason)."""
    sigs = report["signatures"]
    checks: list[Check] = []
    if not sigs:
        checks.append(Check("signed", "Có chữ ký số", False, "Tài liệu không có chữ ký số nào."))
        return checks, UNKNOWN, "Tài liệu không có chữ ký số."
    signatures = [s for s in sigs if s["kind"] == "signature"]
    doc_ts = [s for s in sigs if s["kind"] == "document_timestamp"]
    checks.append(Check("signed", "Có chữ ký số", True,
                        f"{len(signatures)} chữ ký" + (f" và {len(doc_ts)} dấu thời gian tài liệu" if doc_ts else "")
                        + "."))
    changed = [s for s in sigs if not s["integrity"]]
    modified = [s for s in sigs if s["integrity"] and any("sửa đổi sau khi ký" in p for p in s["problems"])]
    if changed or modified or report["problems"]:
        text = "; ".join(
            [f"{s['signer']} ({s['id']}): {'; '.join(s['problems']) or 'giá trị băm không khớp'}" for s in changed]
            + [f"{s['signer']} ({s['id']}): {'; '.join(s['problems'])}" for s in modified]
            + list(report["problems"]))
        checks.append(Check("unchanged", "Tài liệu không bị thay đổi sau khi ký", False, text))
    else:
        checks.append(Check("unchanged", "Tài liệu không bị thay đổi sau khi ký", True,
                            "Giá trị băm của mọi chữ ký khớp với nội dung; không có thay đổi nào ngoài các chữ ký "
                            "và dữ liệu kiểm tra được phép."))
    valid = [s for s in sigs if s["valid"]]
    checks.append(Check("signatures", "Các chữ ký số", len(valid) == len(sigs),
                        f"{len(valid)}/{len(sigs)} chữ ký hợp lệ."
                        + ("" if len(valid) == len(sigs) else " Không hợp lệ: "
                           + _names([s for s in sigs if not s["valid"]]) + ".")))
    # a signature that does not match the document proves nothing about its chain: judged on the others
    intact = [s for s in sigs if s["integrity"]]
    untrusted = [s for s in intact if not s["trusted"] and s["revocation"] != "revoked"]
    anchors = "; ".join(report.get("trust_anchors") or ()) or "—"
    if not intact:
        checks.append(Check("chain", "Chứng thư số dẫn tới chứng thư số gốc tin cậy", None,
                            "Không xác định được vì không chữ ký nào khớp với nội dung tài liệu."))
    else:
        checks.append(Check("chain", "Chứng thư số dẫn tới chứng thư số gốc tin cậy", not untrusted,
                            f"Gốc tin cậy đã cấu hình: {anchors}." if not untrusted else
                            f"Không dẫn tới gốc tin cậy đã cấu hình ({anchors}): {_names(untrusted)}; tổ chức cấp: "
                            + ", ".join(sorted({s['issuer'] for s in untrusted})) + "."))
    revoked = [s for s in sigs if s["revocation"] == "revoked"]
    unknown_rev = [s for s in sigs if s["revocation"] in ("unknown", "not_checked") and s not in revoked]
    sources = sorted({s["revocation_source"] for s in sigs if s.get("revocation_source")})
    if revoked:
        checks.append(Check("revocation", "Chứng thư số chưa bị thu hồi tại thời điểm ký", False,
                            "Chứng thư số đã bị thu hồi trước khi ký: " + _names(revoked) + "."))
    elif unknown_rev:
        checks.append(Check("revocation", "Chứng thư số chưa bị thu hồi tại thời điểm ký", None,
                            "Không kiểm tra được tình trạng thu hồi của: " + _names(unknown_rev) + "."))
    else:
        from hocba.signing.report import SOURCE_TEXT

        checks.append(Check("revocation", "Chứng thư số chưa bị thu hồi tại thời điểm ký", True,
                            "Đã kiểm tra mọi chứng thư số (nguồn: "
                            + ", ".join(SOURCE_TEXT.get(x, x) for x in sources) + ")."))
    expired = [s for s in sigs if not s["cert_valid_at_signing"] and s["integrity"]]
    if expired:
        checks.append(Check("cert_period", "Chứng thư số còn hiệu lực tại thời điểm ký", False,
                            "Thời điểm ký nằm ngoài thời hạn chứng thư số: " + _names(expired) + "."))
    bad_ts = [s for s in sigs if s.get("timestamp_valid") is False]
    no_ts = [s for s in signatures if not s.get("timestamp")]
    if bad_ts:
        checks.append(Check("timestamps", "Dấu thời gian", False, "Dấu thời gian không hợp lệ: " + _names(bad_ts) + "."))
    elif no_ts:
        checks.append(Check("timestamps", "Dấu thời gian", None,
                            "Không có dấu thời gian (thời điểm ký chỉ do người ký tự khai): " + _names(no_ts) + "."))
    else:
        last = max((s["timestamp"] for s in sigs if s.get("timestamp")), default=None)
        checks.append(Check("timestamps", "Dấu thời gian", True,
                            f"Mọi chữ ký có dấu thời gian hợp lệ (muộn nhất {fmt_time(last)})"
                            + (", có dấu thời gian tài liệu (lưu trữ dài hạn)." if doc_ts else ".")))

    # what the signatures alone decide
    hard = [s for s in sigs if not s["valid"] and (not s["integrity"] or s["trusted"] or s["revocation"] == "revoked")]
    if changed or modified or report["problems"]:
        return checks, INVALID, "Tài liệu đã bị thay đổi sau khi ký."
    if hard:
        s = hard[0]
        return checks, INVALID, f"Chữ ký của {s['signer']} không hợp lệ: {'; '.join(s['problems']) or 'không rõ lí do'}"
    if untrusted:
        return checks, UNKNOWN, ("Chứng thư số của người ký không do tổ chức cung cấp dịch vụ chứng thực được tin cậy "
                                 f"cấp (tổ chức cấp: {', '.join(sorted({s['issuer'] for s in untrusted}))}).")
    if len(valid) != len(sigs):
        return checks, INVALID, "Có chữ ký không hợp lệ."
    return checks, None, ""


def registry_checks(registry: Registry, *, with_file: bool) -> list[Check]:
    checks = [Check("registry", "Tình trạng trong sổ đăng ký học bạ số",
                    True if registry.status == IN_FORCE else (None if registry.status == NOT_OURS else False),
                    registry.text)]
    if registry.known and with_file and registry.registered_file is not None:
        checks.append(Check("issued_file", "Đúng bản đã phát hành", registry.registered_file,
                            "Tệp trùng từng byte với bản đã phát hành lưu trong sổ đăng ký." if registry.registered_file
                            else "Tệp không trùng với bản đã phát hành lưu trong sổ đăng ký (có thể là bản trung gian "
                                 "chưa đủ chữ ký, hoặc bản của phiên bản khác)."))
    return checks


def previous_check(link: dict | None, previous: PreviousLink | None, grade: int | None) -> Check:
    label = "Liên kết học bạ năm trước"
    if link is None:
        text = ("Không có liên kết: học bạ năm đầu cấp (lớp 6)." if grade == 6 else
                "Tài liệu không ghi học bạ năm trước (chưa có học bạ số năm trước).")
        return Check("previous_year", label, None, text)
    if previous is None or not previous.known:
        return Check("previous_year", label, None,
                     f"Học bạ năm trước {link['record_id']} không có trong sổ đăng ký của hệ thống này; mã băm "
                     f"ghi trong tài liệu: {link['sha256'][:16]}…")
    where = f"năm học {previous.school_year}, {previous.school_name}" if previous.school_year else previous.school_name
    if previous.hash_matches:
        return Check("previous_year", label, True,
                     f"Khớp học bạ {where} ({previous.status_text.rstrip('.')}); mã băm trùng bản đã phát hành.")
    return Check("previous_year", label, False,
                 f"Tài liệu trỏ tới học bạ {where} nhưng mã băm không trùng bản đã phát hành của học bạ đó.")


def judge_file(result: dict, registry: Registry | None, *, sha256: str, size: int,
               source: str = "file") -> Verification:
    """The verdict on a file (``result`` from ``engine.analyse``/``sandbox.run``); ``registry`` is what the
    registry says of the version the file names (None: the file names none we know)."""
    file = {"kind": result.get("kind"), "sha256": sha256, "size": size}
    if not result["readable"]:
        return Verification(UNKNOWN, result["reason"], (Check("readable", "Đọc được tệp", False, result["reason"]),),
                            source, file=file)
    report = result["report"]
    what = {"pdf": "PDF", "xml": "XML"}[result["kind"]]
    checks = [Check("readable", "Đọc được tệp", True,
                    (f"Bản {what} lưu trong sổ đăng ký" if source == "qr" else f"Tệp {what}")
                    + f", {size:,} byte.".replace(",", "."))]
    sig_checks, forced, reason = signature_checks(report)
    checks += sig_checks
    doc = result.get("document")
    known_registry = registry if registry is not None else NOT_OURS_REGISTRY
    if doc is None:
        known_registry = Registry(False, NOT_OURS, "Tài liệu không phải học bạ số có mã định danh; không tra được sổ "
                                                   "đăng ký. " + (result.get("document_note") or ""))
    checks += registry_checks(known_registry, with_file=True)
    if doc is not None:
        checks.append(previous_check(doc.get("previous_year"), known_registry.previous, doc.get("grade")))
    warnings = tuple(report.get("warnings", ())) + tuple(w for s in report["signatures"] for w in s.get("warnings", ()))
    if doc is None and result.get("document_note"):
        warnings += (result["document_note"],)

    verdict = forced
    if verdict is None:
        verdict, reason = _registry_verdict(known_registry)
    return Verification(
        verdict, reason, tuple(checks), source,
        signatures=tuple(_masked_signature(s) for s in report["signatures"]),
        trust_anchors=tuple(report.get("trust_anchors", ())), file=file, hoc_ba=masked_hoc_ba(doc),
        registry=known_registry, warnings=warnings)


def _registry_verdict(registry: Registry) -> tuple[str, str]:
    """The verdict once every signature holds."""
    if not registry.known:
        return VALID, ("Mọi chữ ký số hợp lệ. Học bạ không có trong sổ đăng ký của hệ thống này nên tình trạng thu "
                       "hồi, thay thế không xác định được; hỏi đơn vị đã cấp nếu cần.")
    if registry.revoked:
        return REVOKED, registry.text
    if registry.status != IN_FORCE:
        return UNKNOWN, registry.text
    if registry.registered_file is False:
        return UNKNOWN, ("Chữ ký số hợp lệ nhưng tệp không phải bản đã phát hành trong sổ đăng ký "
                         "(có thể là bản trung gian chưa đủ chữ ký).")
    return VALID, "Mọi chữ ký số hợp lệ, tài liệu không bị thay đổi và học bạ đang có hiệu lực trong sổ đăng ký."


def judge_code(registry: Registry, *, result: dict | None = None, stored: dict | None = None, details: bool = False,
               source: str = "code") -> Verification:
    """The verdict on a verification code: the registry's word (``details=False``: status and school only);
    with the QR secret (``details=True``) also the checks of the stored file (``result`` of the file whose
    ``stored`` = {"sha256", "size"})."""
    if not registry.known:
        return Verification(UNKNOWN, registry.text, registry_checks(registry, with_file=False), source,
                            registry=registry, details=False)
    if not details or result is None:
        checks = tuple(registry_checks(registry, with_file=False))
        verdict, reason = (REVOKED, registry.text) if registry.revoked else \
            (VALID, "Học bạ có trong sổ đăng ký và đang có hiệu lực.") if registry.status == IN_FORCE else \
            (UNKNOWN, registry.text)
        return Verification(verdict, reason, checks, source, registry=registry, details=details)
    stored = stored or {"sha256": "", "size": 0}
    checked = judge_file(result, registry, sha256=stored["sha256"], size=stored["size"], source=source)
    return dataclasses.replace(checked, details=True)
