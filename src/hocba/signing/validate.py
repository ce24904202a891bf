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


class _DocumentContexts:
    """What every signature of one PDF shares: the DSS read and parsed once (certificates, OCSP responses,
    CRLs), one certificate registry and one trust manager. Each signature still gets its own
    ``ValidationContext`` (its own validation time: the signature's timestamp), but building one no longer
    re-reads the DSS and re-hashes every certificate name (which cost ~50 ms per signature)."""

    def __init__(self, reader, trust: TrustConfig):
        from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
        from pyhanko_certvalidator.registry import CertificateRegistry, SimpleTrustManager

        self.trust = trust
        try:
            dss = DocumentSecurityStore.read_dss(reader)
        except NoDSSFoundError:
            dss = None
        self.has_dss = dss is not None
        self.ocsps, self.crls, certs = [], [], []
        if dss is not None:
            from asn1crypto import crl as asn1_crl
            from asn1crypto import ocsp as asn1_ocsp
            from pyhanko.pdf_utils.decode_limits import DecodePurpose
            from pyhanko_certvalidator.revinfo.archival import (
                process_legacy_crl_input,
                process_legacy_ocsp_input,
            )

            certs = list(dss.load_certs())
            # wrapped once, as each ValidationContext would wrap them again (one per signature and timestamp)
            self.ocsps = process_legacy_ocsp_input(
                [asn1_ocsp.OCSPResponse.load(ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
                 for ref in dss.ocsps])
            self.crls = process_legacy_crl_input(
                [asn1_crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL)) for ref in dss.crls])
        self.registry = CertificateRegistry.build([*certs, *trust.intermediates])
        self.trust_manager = SimpleTrustManager.build(trust_roots=list(trust.anchors))

    def embedded(self, moment: dt.datetime | None, *, soft: bool = False):
        """Revocation data from the document only (never the network), judged at ``moment``."""
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(certificate_registry=self.registry, trust_manager=self.trust_manager,
                                 ocsps=self.ocsps, crls=self.crls, allow_fetching=False,
                                 revocation_mode="soft-fail" if soft else "hard-fail", moment=moment)


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


async def _validate_pdf_signature(sig, trust: TrustConfig, contexts: _DocumentContexts):
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
    from pyhanko.sign.validation.pdf_embedded import (
        async_validate_pdf_signature,
        async_validate_pdf_timestamp,
    )

    is_doc_ts = sig.sig_object_type == "/DocTimeStamp"
    problems: list[str] = []
    warnings: list[str] = []
    field_name = str(sig.field_name)  # a plain str: pyHanko's TextStringObject drags the whole parsed PDF along

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
    vc, has_dss = contexts.embedded(ts_time), contexts.has_dss
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
            status = await run(contexts.embedded(ts_time, soft=True))
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


def validate_pdf(data: bytes, trust: TrustConfig, *, workers: int = 1) -> DocumentReport:
    """Validates every signature and document timestamp of a PDF.

    ``workers`` > 1 shares the signatures out among that many processes forked from this one before the file
    is read (each reads it — cross-reference sections, signatures, DSS — at the same time as the others, then
    validates its share completely, difference analysis included). Only for a process that runs no other
    threads: the portal's sandbox child, never a web or test process."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    from . import fastparse, names, shared_certs, usages

    fastparse.install()  # signature values, names, strings, references, keywords in one slice (pyHanko's results)
    names.install()  # each distinct certificate name value prepared for comparison once
    shared_certs.install()  # each certificate the signatures carry parsed once per document
    anchors = tuple(trust.anchor_names())
    parsed: dict = {}

    def read() -> dict:
        """The file as this process reads it (once)."""
        if not parsed:
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            usages.install(reader)  # the same difference analysis, without walking what no later revision touches
            sigs = list(reader.embedded_signatures)
            parsed.update(reader=reader, sigs=sigs, contexts=_DocumentContexts(reader, trust), shares={})
        return parsed

    def shares(of: int) -> list[list[int]]:
        file = read()
        if of not in file["shares"]:
            total = file["reader"].xrefs.total_revisions
            file["shares"][of] = plan_shares([_pdf_cost(total - 1 - s.signed_revision) for s in file["sigs"]], of)
        return file["shares"][of]

    def validate_share(worker: int, of: int) -> list[tuple[int, SignatureReport]]:
        file = read()
        sigs, contexts = file["sigs"], file["contexts"]
        share = shares(of)[worker]
        return list(zip(share, asyncio.run(_validate_pdf_signatures([sigs[i] for i in share], trust, contexts)),
                        strict=True))

    # how many processes to start is decided before reading, on the number of signature dictionaries the file
    # appears to hold; which signatures each one validates, on what it reads
    workers = _worker_count(workers, data.count(b"/ByteRange"))
    try:
        if workers > 1:
            reports = _in_workers(workers, validate_share, lambda: shares(workers))
        else:
            reports = [report for _, report in validate_share(0, 1)]
    except (PdfError, ValueError, KeyError) as e:
        if parsed:
            raise
        return DocumentReport("pdf", (), anchors, problems=(f"Tệp không phải PDF hợp lệ ({e}).",))
    if any(r.kind == "document_timestamp" and r.valid for r in reports):
        # a valid document timestamp over the DSS lifts every B-LT signature before it to B-LTA
        reports = [replace(r, level="PAdES B-LTA") if r.level == "PAdES B-LT" else r for r in reports]
    problems = []
    fields = _empty_signature_fields(read()["reader"])
    warnings = tuple(f"Ô chữ ký {name} chưa được ký." for name in fields)
    return DocumentReport("pdf", tuple(reports), anchors, tuple(problems), warnings)


async def _validate_pdf_signatures(sigs, trust: TrustConfig, contexts: _DocumentContexts) -> list[SignatureReport]:
    """Every signature in turn (pyHanko's difference analysis of each one's later revisions included), in one
    event loop, with the contexts of ``_DocumentContexts`` and one parsed copy of each certificate the
    signatures carry (``shared_certs``)."""
    from . import shared_certs

    with shared_certs.one_document():
        return [await _validate_pdf_signature(s, trust, contexts) for s in sigs]


#: fewest signatures worth a worker process of their own (forking and the revisions each process reads again
#: cost less than validating one signature)
MIN_SHARE = 2


def _pdf_cost(later: int) -> float:
    """The relative cost of validating a PDF signature followed by ``later`` revisions: pyHanko compares each
    later revision with the signed one, and each comparison goes over every field signed in between. Fitted on
    the 18-signature record (each process's share timed alone, the constants that balanced the two best):
    ~8 ms per signature (CMS, certificates, its revision's map), ~0.5 ms per comparison and ~0.2 ms per field
    signed in between per comparison."""
    return 8 + 0.5 * later + 0.2 * later * (later + 1) / 2


def plan_shares(costs: list[float], of: int) -> list[list[int]]:
    """Signatures ``0 … len(costs) - 1`` shared out among ``of`` processes so that the largest total cost is
    small: the costliest first, each to the process with the least so far (ties: the lower number). The same
    costs always give the same plan, so every process computes it from what it reads itself. Equal costs give
    ``i → i % of``. Each share is in signature order."""
    loads = [0.0] * of
    plan: list[list[int]] = [[] for _ in range(of)]
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        worker = min(range(of), key=lambda w: (loads[w], w))
        loads[worker] += costs[i]
        plan[worker].append(i)
    return [sorted(share) for share in plan]


def _worker_count(workers: int, count: int) -> int:
    """At most ``workers``, and about ``MIN_SHARE`` signatures or more each (3 signatures: 2 processes)."""
    return max(1, min(workers, (count + 1) // MIN_SHARE))


def _in_workers(workers: int, validate_share, shares) -> list[SignatureReport]:
    """Process ``w`` of ``workers`` validates its share of the signatures: ``validate_share(w, workers)``
    returns ``(index, report)`` for each of them, reading what it needs itself; ``shares()`` is the plan (the
    indices of each process's share, as ``validate_share`` computes them), asked once every share is in.
    Processes ``0 … workers - 2`` are forked here and die with this process; the last share is validated by
    this one. A worker that fails to answer has its share validated here. An exception in this process's own
    share is raised after the workers are stopped."""
    import gc
    import os
    import pickle
    import signal

    children = []
    for worker in range(workers - 1):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: validate its share, send the reports, leave without cleanup handlers
            code = 1
            try:
                os.close(read_fd)
                _die_with_parent()
                gc.freeze()  # what it inherited is not garbage: collections must not touch (copy) it
                out = validate_share(worker, workers)
                with os.fdopen(write_fd, "wb") as fh:
                    pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        children.append((pid, read_fd, worker))
    found: dict[int, SignatureReport] = {}
    try:
        found.update(validate_share(workers - 1, workers))
        while children:
            pid, read_fd, worker = children[0]
            with os.fdopen(read_fd, "rb") as fh:
                raw = fh.read()
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            try:
                out = pickle.loads(raw) if status == 0 else None
            except Exception:  # noqa: BLE001 - a worker killed mid-answer: its share is redone below
                out = None
            found.update(out if out is not None else validate_share(worker, workers))
    finally:
        for pid, read_fd, _ in children:
            os.kill(pid, signal.SIGKILL)
            os.close(read_fd)
            os.waitpid(pid, 0)
    plan = shares()
    for worker, share in enumerate(plan):
        if any(i not in found for i in share):  # an answer that fell short
            found.update(validate_share(worker, workers))
    return [found[i] for i in range(sum(len(share) for share in plan))]


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies (the sandbox kills its child on timeout; workers must
    not outlive it). Elsewhere a worker still ends at the CPU-time limit it inherits."""
    import ctypes
    import os
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent is already gone
        os._exit(1)


def _empty_signature_fields(reader) -> list[str]:
    """Empty signature fields, but for the document timestamp's own field (``pades.TIMESTAMP_FIELD``), which is
    no one's signature and stays empty until the seal is added."""
    from pyhanko.sign.fields import enumerate_sig_fields

    from .pades import TIMESTAMP_FIELD

    return [name for name, value, _ in enumerate_sig_fields(reader) if value is None and name != TIMESTAMP_FIELD]


def validate_xml(data: bytes, trust: TrustConfig, *, workers: int = 1) -> DocumentReport:
    """``xades.validate_xml``; ``workers`` > 1 shares the signatures out as ``validate_pdf`` does (each is
    checked against the document as it was signed, independently of the others)."""
    from . import names, xades

    names.install()
    if workers <= 1:
        return xades.validate_xml(data, trust)
    anchors = tuple(trust.anchor_names())
    try:
        root = xades.parse_untrusted(data).getroot()
    except xades.XmlRejected as e:
        return DocumentReport("xml", (), anchors, problems=(str(e),))
    sigs = root.xpath("//ds:Signature", namespaces=xades.NS)
    shared = xades._Shared(trust)

    def validate_share(worker: int, of: int) -> list[tuple[int, SignatureReport]]:
        return [(i, xades._validate_one(root, sigs[i], sigs[i + 1:], trust, "Id", shared))
                for i in plan_shares([1.0] * len(sigs), of)[worker]]

    workers = _worker_count(workers, len(sigs))
    reports = (_in_workers(workers, validate_share, lambda: plan_shares([1.0] * len(sigs), workers)) if workers > 1
               else [report for _, report in validate_share(0, 1)])
    return DocumentReport("xml", tuple(reports), anchors)


def validate_file(data: bytes, trust: TrustConfig) -> DocumentReport:
    """PDF or XML, by content."""
    if data.lstrip()[:5] == b"%PDF-" or data[:1024].find(b"%PDF-") >= 0:
        return validate_pdf(data, trust)
    return validate_xml(data, trust)
