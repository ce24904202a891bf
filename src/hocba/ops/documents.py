"""Re-validating the stored học bạ documents of an instance (after ``hocba restore``; issue 7: "a restored
instance passes ``hocba audit verify`` and every issued document still validates").

For every record's current PDF and XML (``hocba.records``):

- **hash**: the file exists and its SHA-256 is the one the record holds (``storage.read``); for a version
  that was issued, the registry's ``issued`` entry names the same XML (``file_sha256``) and PDF (its note);
- **full** (issued versions, also revoked or superseded ones: their signatures stay valid): every signature
  field and XML signature of the steps is present, the PDF's XML twin is the signed XML, and every signature
  of both files validates (``hocba.records.verification.issue_problems`` with ``full=True``, the check the
  seal ran before issuing) against this instance's trust anchors.

Drafts and versions still being signed get the hash check only (their signatures are partial by design).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

MODES = ("full", "hash", "none")


@dataclasses.dataclass(frozen=True)
class DocumentsReport:
    mode: str
    records: int  # versions checked
    files: int  # files read and hashed
    validated: int  # issued versions whose signatures were validated
    problems: tuple[str, ...]  # Vietnamese, one per bad version
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_documents(mode: str = "full", *, progress: Callable[[int, int], None] | None = None) -> DocumentsReport:
    """Checks every stored record (see the module docstring); ``progress(done, total)`` after each one."""
    from hocba.records import storage
    from hocba.records.models import HocBaRecord, RegistryEntry, SignatureStep

    started = time.perf_counter()
    if mode == "none":
        return DocumentsReport(mode, 0, 0, 0, (), 0.0)
    records = list(HocBaRecord.objects.exclude(pdf_file="").select_related("student", "year", "school")
                   .order_by("school__code", "year__name", "student__sort_key", "version"))
    issued_entries = {}
    for record_id, xml_sha, note in (RegistryEntry.objects.filter(event=RegistryEntry.ISSUED)
                                     .values_list("record_id", "file_sha256", "note")):
        issued_entries[record_id] = (xml_sha, note)
    trust, trust_problem = None, ""
    if mode == "full" and any(r.issued_at for r in records):
        from hocba.identities.service import SigningNotConfigured, trust_config

        try:
            trust = trust_config()
        except SigningNotConfigured as exc:
            trust_problem = f"Không kiểm tra được chữ ký số của học bạ đã phát hành: {exc}"
    problems: list[str] = [trust_problem] if trust_problem else []
    files = validated = 0
    for n, record in enumerate(records, start=1):
        name = f"Học bạ {record.record_id} ({record.student.full_name}, {record.year.name}, phiên bản {record.version})"
        found: list[str] = []
        data = {}
        for kind, rel, digest in (("PDF", record.pdf_file, record.pdf_sha256), ("XML", record.xml_file,
                                                                                   record.xml_sha256)):
            try:
                data[kind] = storage.read(rel, digest)
                files += 1
            except storage.StoredFileError as exc:
                found.append(str(exc))
        if record.issued_at is not None:
            entry = issued_entries.get(record.pk)
            if entry is None:
                found.append("sổ đăng ký không có lần phát hành của phiên bản này")
            elif entry != (record.xml_sha256, f"PDF {record.pdf_sha256}"):
                found.append("tệp đang lưu không phải tệp sổ đăng ký ghi khi phát hành")
            if trust is not None and len(data) == 2:
                from hocba.records.verification import issue_problems

                steps = list(SignatureStep.objects.filter(record=record))
                found += issue_problems(data["PDF"], data["XML"], steps, trust, full=True)
                validated += 1
        if found:
            problems.append(f"{name}: {'; '.join(found)}")
        if progress is not None:
            progress(n, len(records))
    return DocumentsReport(mode, len(records), files, validated, tuple(problems), time.perf_counter() - started)
