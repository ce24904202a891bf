"""What the page and the API call: check a file, look up a code (with or without the QR secret), hand out the
authentic copy. Each logs one lookup (``actions.log_lookup``) and returns the one report both render
(``verdict.Verification``).

Files are read in the sandbox (``sandbox.run``). A report is reused for the same bytes under the same trust
configuration for ``HOCBA_VERIFY_CACHE_SECONDS`` when every signature was judged with revocation data embedded
in the document (such a report does not change with time: the signatures are judged at their timestamps); a
report that needed online revocation data, or a file that ran out of time, is always checked afresh.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time

from django.core.cache import cache

from hocba.records import storage
from hocba.records.models import HocBaRecord

from . import actions, conf, sandbox, selectors
from . import verdict as v
from .models import VerificationLog

NOT_CONFIGURED = "Hệ thống chưa cấu hình chứng thư số gốc tin cậy nên chưa kiểm tra được chữ ký số."
NOT_FOUND = ("Không tìm thấy học bạ có mã tra cứu này. Hãy kiểm tra lại mã (12 ký tự in trên mỗi trang học bạ, "
             "ví dụ K7M2-9QXR-4TBD).")


class Busy(Exception):
    """Too many files are being read right now; ``str(e)`` is for the user."""


def trust_spec() -> sandbox.TrustSpec | None:
    from hocba.identities.service import SigningNotConfigured, trust_config

    try:
        return sandbox.TrustSpec.of(trust_config())
    except (SigningNotConfigured, OSError, ValueError):
        return None


def _cacheable(result: dict) -> bool:
    if not result.get("readable"):
        return result.get("detail") not in ("timeout", "crash")
    sigs = result["report"]["signatures"]
    return all(s.get("revocation_source") == "embedded" for s in sigs)


def analyse(data: bytes, trust: sandbox.TrustSpec) -> dict:
    """``engine.analyse`` through the sandbox, reusing an earlier report of the same bytes when allowed."""
    key = f"hocba-verify:report:{hashlib.sha256(data).hexdigest()}:{trust.key}"
    seconds = conf.cache_seconds()
    if seconds:
        hit = cache.get(key)
        if hit is not None:
            return {**hit, "cached": True}
    if conf.isolation() == "inline":
        result = sandbox.run_inline(data, trust)
    else:
        try:
            result = sandbox.run(data, trust, conf.limits())
        except sandbox.Busy:
            raise Busy("Hệ thống đang kiểm tra nhiều tệp cùng lúc. Vui lòng thử lại sau ít phút.") from None
    if seconds and _cacheable(result):
        cache.set(key, result, timeout=seconds)
    return result


def _not_configured(source: str) -> v.Verification:
    return v.Verification(v.UNKNOWN, NOT_CONFIGURED, (v.Check("trust", "Cấu hình gốc tin cậy", False, NOT_CONFIGURED),),
                          source)


# --- a file -------------------------------------------------------------------------------------------------

def check_file(data: bytes, *, channel: str, ip_hash: str) -> v.Verification:
    start = time.perf_counter()
    sha = hashlib.sha256(data).hexdigest()
    trust = trust_spec()
    record = None
    result = None
    if trust is None:
        report = dataclasses.replace(_not_configured("file"), file={"kind": None, "sha256": sha, "size": len(data)})
    else:
        result = analyse(data, trust)
        doc = result.get("document") if result.get("readable") else None
        record = selectors.record_by_id(doc["record_id"]) if doc else None
        registry = selectors.registry_of(record, details=True, file_sha256=sha, file_kind=result.get("kind"),
                                         previous=doc.get("previous_year") if doc else None)
        if registry is None and doc and doc.get("previous_year"):
            # not ours, but its previous year may be
            registry = dataclasses.replace(v.NOT_OURS_REGISTRY,
                                           previous=selectors.previous_link(doc["previous_year"]))
        report = v.judge_file(result, registry, sha256=sha, size=len(data))
    actions.log_lookup(channel=channel, method=VerificationLog.FILE, ip_hash=ip_hash, verdict=report.verdict,
                       reason=report.reason, file_sha256=sha, file_kind=(result or {}).get("kind") or "",
                       file_size=len(data), document_record_id=(report.hoc_ba or {}).get("record_id", ""),
                       record=record, duration_ms=int((time.perf_counter() - start) * 1000))
    return report


# --- a code, with or without the QR secret --------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class CodeLookup:
    report: v.Verification
    record: HocBaRecord | None
    secret_ok: bool  # the QR secret matched: summary and downloads

    @property
    def can_download(self) -> bool:
        return self.secret_ok and self.record is not None and self.record.is_final


def check_code(code: str, secret: str | None, *, channel: str, ip_hash: str) -> CodeLookup:
    start = time.perf_counter()
    record = selectors.record_by_code(code)
    ok = record is not None and selectors.secret_ok(record, secret)
    method = VerificationLog.QR if secret else VerificationLog.CODE
    if record is None:
        report = v.judge_code(v.Registry(False, v.NOT_FOUND, NOT_FOUND))
    elif ok and record.is_final:
        report = _stored_file_report(record)
    else:
        report = v.judge_code(selectors.registry_of(record, details=ok), details=False)
    if secret and record is not None and not ok:
        report = dataclasses.replace(report, warnings=report.warnings + (
            "Khoá bí mật trong đường dẫn không đúng: chỉ hiển thị tình trạng và trường cấp.",))
    actions.log_lookup(channel=channel, method=method, ip_hash=ip_hash, verdict=report.verdict, reason=report.reason,
                       code=record.verification_code if record else (code or "")[:14], record=record,
                       duration_ms=int((time.perf_counter() - start) * 1000))
    return CodeLookup(report, record, ok)


def _stored_file_report(record: HocBaRecord) -> v.Verification:
    """The QR holder's view: the registry's word and the checks of the issued XML as stored."""
    registry = selectors.registry_of(record, details=True)
    trust = trust_spec()
    if trust is None:
        return dataclasses.replace(v.judge_code(registry, details=True), warnings=(NOT_CONFIGURED,))
    try:
        data = storage.read(record.xml_file, record.xml_sha256)
    except storage.StoredFileError as exc:
        base = v.judge_code(registry, details=True)
        return dataclasses.replace(base, verdict=v.UNKNOWN, reason=str(exc), checks=base.checks + (
            v.Check("stored", "Bản lưu trong sổ đăng ký", False, str(exc)),))
    result = analyse(data, trust)
    registry = dataclasses.replace(registry, registered_file=True)
    return v.judge_code(registry, result=result, stored={"sha256": record.xml_sha256, "size": len(data)},
                        details=True, source="qr")


def authentic_copy(code: str, secret: str | None, fmt: str, *, channel: str, ip_hash: str):
    """(bytes, file name, content type) of the issued file, for the holder of the QR secret; None otherwise."""
    record = selectors.record_by_code(code)
    if record is None or fmt not in ("pdf", "xml") or not selectors.secret_ok(record, secret) or not record.is_final:
        return None
    name, sha = (record.pdf_file, record.pdf_sha256) if fmt == "pdf" else (record.xml_file, record.xml_sha256)
    data = storage.read(name, sha)
    status = selectors.registry_of(record)
    actions.log_lookup(channel=channel, method=VerificationLog.DOWNLOAD, ip_hash=ip_hash,
                       verdict=v.REVOKED if status.revoked else v.VALID if status.status == v.IN_FORCE else v.UNKNOWN,
                       reason=f"Tải bản {fmt.upper()} đã phát hành", code=record.verification_code,
                       file_sha256=sha, file_kind=fmt, file_size=len(data), record=record)
    filename = f"hocba_{record.year.name}_{record.verification_code}_v{record.version}.{fmt}"
    return data, filename, "application/pdf" if fmt == "pdf" else "application/xml"
