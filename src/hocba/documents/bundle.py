"""The complete THCS record of a student (grades 6–9) as one file, and its one-step chain check.

A bundle is a ZIP holding, per issued year, the issued XML (signed) and PDF (signed), plus
``manifest.json``: the student, and per year the record id, school year, grade, file names, SHA-256 of each
file and the chain link (previous year's id and XML SHA-256) that the year's XML itself carries (and that its
signatures therefore cover). ``chain_sha256`` — the SHA-256 of the years' XML hashes joined in order —
names the whole record in one value.

``verify_chain(bundle)`` checks in one step: the manifest against the files; each XML against the XSD; one
student throughout; years in order; each year's link names the previous year's id and the SHA-256 of its
XML bytes; each PDF's attached XML twin says the same as the XML. It does not validate signatures: the caller
runs ``hocba.signing.validate.validate_file`` on each file it lists (``ChainReport.files``).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from .model import HocBaNamHoc
from .reader import from_xml
from .xsd import HocBaXmlError

MANIFEST = "manifest.json"
FORMAT = "hocba-thcs-bundle"
FORMAT_VERSION = 1
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 64


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chain_digest(xml_hashes: Sequence[str]) -> str:
    """SHA-256 over the years' XML SHA-256 values (hex, joined with newlines, in year order)."""
    return sha256_hex("\n".join(xml_hashes).encode("ascii"))


@dataclass(frozen=True)
class IssuedYear:
    """One issued year as it leaves the school: its XML (signed) and, optionally, its PDF (signed)."""

    xml: bytes
    pdf: bytes | None = None


def _base_name(record: HocBaNamHoc) -> str:
    return f"{record.school_year}_lop{record.grade}_{record.record_id}"


def export_bundle(years: Sequence[IssuedYear], *, extra: dict | None = None) -> bytes:
    """A ZIP of all issued years of one student with ``manifest.json`` (deterministic bytes). ``extra``: more
    top-level manifest sections (e.g. ``chuyentruong`` of a transfer package); ``verify_chain`` ignores them."""
    if not years:
        raise ValueError("Không có năm học nào để xuất.")
    parsed = sorted(((from_xml(y.xml), y) for y in years), key=lambda p: p[0].school_year)
    students = {r.student.personal_number for r, _ in parsed}
    if len(students) != 1:
        raise ValueError("Các năm học thuộc nhiều học sinh khác nhau; mỗi tệp chỉ chứa học bạ của một học sinh.")
    entries, members = [], []
    for record, year in parsed:
        base = _base_name(record)
        entry = {
            "madinhdanhhocba": record.record_id, "namhoc": record.school_year, "makhoi": record.grade,
            "phienban": record.version, "xml": f"{base}.xml", "xml_sha256": sha256_hex(year.xml),
            "hocbanamtruoc": None if record.previous_year is None else {
                "madinhdanhhocba": record.previous_year.record_id, "sha256": record.previous_year.sha256},
        }
        members.append((entry["xml"], year.xml))
        if year.pdf is not None:
            entry["pdf"], entry["pdf_sha256"] = f"{base}.pdf", sha256_hex(year.pdf)
            members.append((entry["pdf"], year.pdf))
        entries.append(entry)
    student = parsed[-1][0].student
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION,
        "hocsinh": {"sodinhdanh": student.personal_number, "mahocsinh": student.student_code,
                    "hovaten": student.name},
        "years": entries,
        "chain_sha256": chain_digest([e["xml_sha256"] for e in entries]),
        **{k: v for k, v in (extra or {}).items() if k not in ("format", "version", "hocsinh", "years",
                                                                 "chain_sha256")},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in [(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")),
                           *members]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return out.getvalue()


@dataclass(frozen=True)
class YearCheck:
    record_id: str
    school_year: str
    grade: int
    xml_sha256: str
    link_ok: bool          # the link to the previous year (or, for the first year, no dangling link)
    twin_ok: bool | None   # the PDF's attached XML says the same as the XML (None: no PDF)


@dataclass(frozen=True)
class ChainReport:
    """Result of ``verify_chain``. ``ok`` only if there is no problem; ``problems`` are in Vietnamese.
    ``files`` maps each file name to its bytes, for the caller's signature validation."""

    ok: bool
    student_number: str | None
    chain_sha256: str | None
    years: tuple[YearCheck, ...]
    problems: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def verdict(self) -> str:
        if self.ok:
            return (f"Chuỗi học bạ hợp lệ: {len(self.years)} năm học liên kết đúng mã định danh và mã băm "
                    "SHA-256.")
        return "Chuỗi học bạ KHÔNG hợp lệ: " + "; ".join(self.problems)


def _read_zip(data: bytes, problems: list[str]) -> tuple[dict | None, dict[str, bytes]]:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        problems.append("Tệp không phải là gói học bạ (ZIP) hợp lệ.")
        return None, {}
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        problems.append(f"Gói có quá nhiều tệp ({len(infos)}).")
        return None, {}
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        problems.append("Gói quá lớn khi giải nén.")
        return None, {}
    files: dict[str, bytes] = {}
    for info in infos:
        name = info.filename
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            problems.append(f"Tên tệp không hợp lệ trong gói: {name!r}.")
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            problems.append(f"Tệp {name} quá lớn.")
            continue
        with z.open(info) as fh:
            content = fh.read(MAX_MEMBER_BYTES + 1)
        if len(content) > MAX_MEMBER_BYTES:
            problems.append(f"Tệp {name} quá lớn.")
            continue
        files[name] = content
    if MANIFEST not in files:
        problems.append("Gói thiếu manifest.json.")
        return None, files
    try:
        manifest = json.loads(files[MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        problems.append("manifest.json không đọc được.")
        return None, files
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("years"), list):
        problems.append("manifest.json không đúng định dạng gói học bạ.")
        return None, files
    return manifest, files


def verify_years(years: Sequence[IssuedYear]) -> ChainReport:
    """The chain check on years given directly (no ZIP, no manifest)."""
    return _verify([(y.xml, y.pdf, None) for y in years], [], None, {})


def verify_chain(bundle: bytes | Sequence[IssuedYear]) -> ChainReport:
    """Checks a bundle (``export_bundle`` output) or a list of ``IssuedYear`` in one step."""
    if not isinstance(bundle, (bytes, bytearray)):
        return verify_years(bundle)
    problems: list[str] = []
    manifest, files = _read_zip(bytes(bundle), problems)
    if manifest is None:
        return ChainReport(False, None, None, (), tuple(problems), files)
    items = []
    for entry in manifest["years"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("xml"), str):
            problems.append("manifest.json: mục năm học không hợp lệ.")
            continue
        xml = files.get(entry["xml"])
        if xml is None:
            problems.append(f"Gói thiếu tệp {entry['xml']}.")
            continue
        if entry.get("xml_sha256") != sha256_hex(xml):
            problems.append(f"{entry['xml']}: mã băm SHA-256 không khớp manifest (tệp đã bị thay đổi).")
        pdf = None
        if entry.get("pdf"):
            pdf = files.get(entry["pdf"])
            if pdf is None:
                problems.append(f"Gói thiếu tệp {entry['pdf']}.")
            elif entry.get("pdf_sha256") != sha256_hex(pdf):
                problems.append(f"{entry['pdf']}: mã băm SHA-256 không khớp manifest (tệp đã bị thay đổi).")
        items.append((xml, pdf, entry))
    listed = {MANIFEST} | {e.get(k) for e in manifest["years"] if isinstance(e, dict) for k in ("xml", "pdf")}
    for name in files:
        if name not in listed:
            problems.append(f"Tệp {name} không có trong manifest.")
    return _verify(items, problems, manifest, files)


def _verify(items, problems: list[str], manifest: dict | None, files: dict[str, bytes]) -> ChainReport:
    from .render import twin_matches

    parsed = []
    for xml, pdf, entry in items:
        label = entry["xml"] if entry else "XML"
        try:
            record = from_xml(xml)
        except HocBaXmlError as e:
            problems.append(f"{label}: {e}")
            continue
        if entry is not None and (entry.get("madinhdanhhocba") != record.record_id
                                  or entry.get("namhoc") != record.school_year):
            problems.append(f"{label}: mã định danh hoặc năm học khác với manifest.")
        parsed.append((record, xml, pdf))
    parsed.sort(key=lambda p: p[0].school_year)

    students = {r.student.personal_number for r, _, _ in parsed}
    if len(students) > 1:
        problems.append("Các năm học thuộc nhiều học sinh khác nhau (số định danh khác nhau).")
    if manifest is not None and parsed and manifest.get("hocsinh", {}).get("sodinhdanh") not in students:
        problems.append("Số định danh học sinh trong manifest khác với học bạ.")

    checks = []
    previous = None
    for record, xml, pdf in parsed:
        link = record.previous_year
        digest = sha256_hex(xml)
        if previous is None:
            link_ok = link is None
            if not link_ok:
                problems.append(f"Năm học {record.school_year}: liên kết tới năm học trước ({link.record_id}) "
                                "nhưng năm đó không có trong gói.")
        else:
            prev_record, prev_xml = previous
            link_ok = True
            if record.school_year <= prev_record.school_year:
                problems.append(f"Năm học {record.school_year} lặp lại.")
                link_ok = False
            if link is None:
                problems.append(f"Năm học {record.school_year}: thiếu liên kết tới năm học {prev_record.school_year}.")
                link_ok = False
            else:
                if link.record_id != prev_record.record_id:
                    problems.append(f"Năm học {record.school_year}: liên kết tới mã học bạ {link.record_id}, "
                                    f"nhưng năm học {prev_record.school_year} có mã {prev_record.record_id}.")
                    link_ok = False
                if link.sha256 != sha256_hex(prev_xml):
                    problems.append(f"Năm học {record.school_year}: mã băm SHA-256 của năm học "
                                    f"{prev_record.school_year} không khớp (học bạ năm trước đã bị thay đổi "
                                    "hoặc không phải bản đã phát hành).")
                    link_ok = False
        twin_ok = None
        if pdf is not None:
            try:
                twin_ok = twin_matches(pdf, xml)
            except Exception as e:  # noqa: BLE001 - a broken PDF from outside is a finding, not a crash
                twin_ok = False
                problems.append(f"Năm học {record.school_year}: không đọc được PDF ({type(e).__name__}).")
            else:
                if not twin_ok:
                    problems.append(f"Năm học {record.school_year}: dữ liệu XML đính kèm trong PDF khác với "
                                    "bản XML.")
        checks.append(YearCheck(record.record_id, record.school_year, record.grade, digest, link_ok, twin_ok))
        previous = (record, xml)

    chain = chain_digest([c.xml_sha256 for c in checks]) if checks else None
    if manifest is not None and chain is not None and manifest.get("chain_sha256") != chain:
        problems.append("chain_sha256 trong manifest không khớp các tệp XML.")
    if not checks and not problems:
        problems.append("Không có năm học nào.")
    return ChainReport(not problems, students.pop() if len(students) == 1 else None, chain, tuple(checks),
                       tuple(problems), files)
