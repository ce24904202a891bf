"""What the portal reads from a file someone hands it, with no Django: the kind of file by its content, the
signatures (``hocba.signing.validate``) and, when it is a học bạ, what it says about itself (record id,
version, previous-year link, student, results).

Input is hostile. ``analyse`` never raises: a file it cannot read comes back as ``unreadable`` with a
Vietnamese reason, whatever went wrong inside the PDF or XML libraries (a malformed cross-reference table,
nesting too deep for the parser, a stream too large for memory). Hangs and crashes are the sandbox's job
(``sandbox.run`` runs this in a separate process with a wall-clock timeout and a memory limit).

The result is a plain dict (JSON-able, picklable) so that it crosses the process boundary and the report
cache unchanged.
"""

from __future__ import annotations

import hashlib
import re
import time

PDF, XML = "pdf", "xml"

UNREADABLE = "Không đọc được tệp"

_DTD_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_START = b"\xef\xbb\xbf \t\r\n"


def sniff(data: bytes) -> str | None:
    """"pdf" when ``%PDF-`` is in the first 1024 bytes (as readers allow), "xml" when the content starts with
    ``<`` (after a UTF-8 BOM and blanks), else None. The file name is never consulted."""
    if data[:1024].find(b"%PDF-") >= 0:
        return PDF
    if data.lstrip(_XML_START)[:1] == b"<":
        return XML
    return None


def unreadable(reason: str, *, kind: str | None = None, detail: str = "", seconds: float = 0.0) -> dict:
    return {"readable": False, "kind": kind, "reason": f"{UNREADABLE}: {reason}", "detail": detail,
            "report": None, "document": None, "document_note": "", "seconds": seconds}


def analyse(data: bytes, trust, *, workers: int = 1) -> dict:
    """Reads ``data`` (PDF or XML) and validates its signatures against ``trust`` (a ``TrustConfig``).

    Returns ``{"readable", "kind", "reason", "detail", "report", "document", "document_note", "seconds"}``:
    ``report`` is ``DocumentReport.to_dict()``; ``document`` the học bạ the file carries (``describe``) or
    None when it is not one (``document_note`` says why). ``workers``: see ``validate_pdf`` (the sandbox's
    child only)."""
    start = time.perf_counter()
    kind = sniff(data)
    if kind is None:
        return unreadable("nội dung không phải PDF hay XML (tệp PDF bắt đầu bằng %PDF-, tệp XML bằng <).")
    if kind == XML and _DTD_RE.search(data):
        return unreadable("tệp XML có khai báo DTD hoặc thực thể (entity); vì an toàn, cổng xác thực không đọc "
                          "các tệp này.", kind=kind)
    try:
        out = _analyse(data, kind, trust, workers)
    except RecursionError:
        return unreadable("cấu trúc tệp lồng nhau quá sâu.", kind=kind, detail="RecursionError")
    except MemoryError:
        return unreadable("tệp cần quá nhiều bộ nhớ để đọc.", kind=kind, detail="MemoryError")
    except Exception as exc:  # noqa: BLE001 - hostile input: any failure of the parsers means "unreadable"
        return unreadable("cấu trúc tệp bị hỏng hoặc không được hỗ trợ.", kind=kind,
                          detail=f"{type(exc).__name__}: {str(exc)[:200]}")
    out["seconds"] = time.perf_counter() - start
    return out


def _analyse(data: bytes, kind: str, trust, workers: int = 1) -> dict:
    from hocba.signing.validate import validate_pdf, validate_xml

    report = (validate_pdf if kind == PDF else validate_xml)(data, trust, workers=workers)
    if report.problems and not report.signatures:
        # the validator could not even parse the file
        return unreadable(_first_sentence(report.problems[0]), kind=kind, detail="; ".join(report.problems))
    document, note = None, ""
    try:
        document, note = _document(data, kind)
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - a signed file that is not a học bạ is still verified
        note = f"Không đọc được nội dung học bạ trong tệp ({type(exc).__name__})."
    return {"readable": True, "kind": kind, "reason": "", "detail": "", "report": report.to_dict(),
            "document": document, "document_note": note, "seconds": 0.0}


def _first_sentence(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 200 else text[:197] + "…"


def _document(data: bytes, kind: str) -> tuple[dict | None, str]:
    from hocba.documents import HocBaXmlError, RecordError, embedded_xml, from_xml

    if kind == PDF:
        xml = embedded_xml(data)
        if xml is None:
            return None, "Tệp PDF không kèm dữ liệu học bạ số (tệp XML đính kèm)."
    else:
        xml = data
    try:
        record = from_xml(xml)
    except (HocBaXmlError, RecordError, ValueError) as exc:
        return None, f"Tệp không phải học bạ số theo lược đồ của hệ thống ({_first_sentence(str(exc))})."
    return describe(record, twin_sha256=hashlib.sha256(xml).hexdigest() if kind == PDF else None), ""


def describe(record, *, twin_sha256: str | None = None) -> dict:
    """What the portal shows of a học bạ (``HocBaNamHoc``). Personal numbers stay whole here; the web layer
    masks them before anything is shown or answered."""
    final = lambda levels: levels.summer or levels.year
    return {
        "record_id": record.record_id, "version": record.version, "status": record.status,
        "replaces": record.replaces,
        "previous_year": ({"record_id": record.previous_year.record_id, "sha256": record.previous_year.sha256}
                          if record.previous_year else None),
        "school_year": record.school_year, "grade": record.grade, "class_name": record.class_name,
        "school": {"code": record.school.code, "name": record.school.name,
                   "department": record.school.department_name},
        "student": {"name": record.student.name, "personal_number": record.student.personal_number,
                    "birth_date": record.student.birth_date.isoformat() if record.student.birth_date else None},
        "learning": final(record.learning), "conduct": final(record.conduct),
        "outcome_text": record.outcome_text, "completion_text": record.completion_text,
        "issue_place": record.issue_place, "issue_date": record.issue_date.isoformat(),
        "leader": {"name": record.leader.name, "title": record.leader.title},
        "digitised": record.digitised, "twin_sha256": twin_sha256,
    }
