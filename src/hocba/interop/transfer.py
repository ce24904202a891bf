"""Transfer packages (gói chuyển trường): a student's complete signed học bạ as it leaves one school, and the
checks the receiving school runs before it keeps anything.

The package is the THCS bundle of ``hocba.documents.bundle`` (a ZIP: ``manifest.json`` plus the signed XML and
PDF of every year, byte for byte as issued) whose manifest carries one more section, ``chuyentruong``: the
package format and version, the exporting school and deployment, the student's identity and, per year, the
issuing school and the verification code. See docs/interop.md ("Transfers between schools").

``check_package`` is what an import runs, in this order, collecting every reason (Vietnamese) instead of
stopping at the first: size and archive limits (members, total uncompressed size, compression ratio: a zip
bomb is refused before anything is inflated), the manifest's hashes and the year chain
(``documents.bundle.verify_chain``: XSD, one student, links by id and SHA-256, PDF twin = XML), the transfer
section, then every signature of every file — through the verification portal's sandboxed validator
(``hocba.verify.service.analyse``, i.e. ``hocba.signing.validate``) against this deployment's trust anchors
plus the configured trusted sector roots (``HOCBA_TRANSFER_TRUSTED_ROOTS``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import zipfile
import zlib
from pathlib import Path

from django.conf import settings

from hocba.documents import HocBaXmlError, RecordError, from_xml, verify_chain
from hocba.documents.bundle import MANIFEST, MAX_MEMBER_BYTES
from hocba.school.models import Role
from hocba.school.permissions import deny, principal_of

FORMAT = "hocba-transfer"
FORMAT_VERSION = 1
SECTION = "chuyentruong"

MB = 1024 * 1024
#: a student has at most a handful of years (a repeated grade adds one): manifest + XML and PDF of each
MAX_MEMBERS = 25
MAX_TOTAL_BYTES = 100 * MB
#: a signed học bạ compresses to about a third; a ratio far above this is a zip bomb, refused uninflated
MAX_RATIO = 100

TRANSFER_ROLES = {Role.SCHOOL_ADMIN, Role.PRINCIPAL, Role.VICE_PRINCIPAL, Role.ACADEMIC_STAFF}


def max_bytes() -> int:
    """``HOCBA_TRANSFER_MAX_BYTES`` (default 50 MB): the largest package accepted."""
    value = getattr(settings, "HOCBA_TRANSFER_MAX_BYTES", None) or os.environ.get("HOCBA_TRANSFER_MAX_BYTES")
    return int(value) if value else 50 * MB


# --- permissions ------------------------------------------------------------------------------------------

def can_transfer(user, school) -> bool:
    """Export or import a transfer package of a student of ``school``: its leadership, school admin and
    academic staff (nhân viên học vụ)."""
    p = principal_of(user)
    return p.is_system_admin or bool(p.roles_in(school) & TRANSFER_ROLES)


def require_transfer(user, school) -> None:
    if not can_transfer(user, school):
        deny("Chỉ ban giám hiệu, quản trị trường hoặc nhân viên học vụ của trường được xuất hoặc nhận hồ sơ học "
             "bạ chuyển trường.")


# --- trust ------------------------------------------------------------------------------------------------

def _paths(name: str) -> list[str]:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, "")
    if isinstance(value, str):
        value = [p for p in value.split(os.pathsep) if p]
    return [str(p) for p in value]


def transfer_trust():
    """The roots a received học bạ must chain to: this deployment's own trust anchors (``trust_config``: the
    configured ones, else the demo root) plus ``HOCBA_TRANSFER_TRUSTED_ROOTS`` (and
    ``HOCBA_TRANSFER_TRUSTED_INTERMEDIATES``), the other deployments' sector roots this one accepts.
    Raises ``SigningNotConfigured`` when there is neither."""
    from hocba.identities.service import SigningNotConfigured, trust_config
    from hocba.signing.trust import TrustConfig, load_certificates

    extra_roots = [c for p in _paths("HOCBA_TRANSFER_TRUSTED_ROOTS") for c in load_certificates(Path(p).read_bytes())]
    extra_inter = [c for p in _paths("HOCBA_TRANSFER_TRUSTED_INTERMEDIATES")
                   for c in load_certificates(Path(p).read_bytes())]
    try:
        own = trust_config()
    except SigningNotConfigured:
        if not extra_roots:
            raise
        return TrustConfig(tuple(extra_roots), tuple(extra_inter))
    return TrustConfig(own.anchors + tuple(extra_roots), own.intermediates + tuple(extra_inter),
                       own.allow_fetching)


# --- the package ------------------------------------------------------------------------------------------

def section(*, school, student, years: list[dict], exported_at: str, deployment: str) -> dict:
    """The ``chuyentruong`` manifest section (``years``: per year record id, version, school, code)."""
    return {SECTION: {
        "format": FORMAT, "version": FORMAT_VERSION, "exported_at": exported_at, "deployment": deployment,
        "truongchuyendi": {"ma": school.code, "ten": school.name, "tinh": school.province_name},
        "hocsinh": {"sodinhdanh": student.personal_number, "mahocsinh": student.student_code,
                    "hovaten": student.full_name,
                    "ngaysinh": student.birth_date.isoformat() if student.birth_date else None,
                    "gioitinh": student.gender},
        "years": years,
    }}


@dataclasses.dataclass(frozen=True)
class PackageYear:
    """One year of a checked package, as it will be kept (bytes exactly as they came)."""

    record_id: str
    version: int
    school_year: str
    grade: int
    school_code: str
    school_name: str
    previous_record_id: str
    previous_sha256: str
    xml: bytes = dataclasses.field(repr=False)
    pdf: bytes | None = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class FileCheck:
    name: str
    valid: bool
    verdict: str


@dataclasses.dataclass(frozen=True)
class PackageCheck:
    """What ``check_package`` found. ``ok`` only when there is no problem at all."""

    sha256: str
    problems: tuple[str, ...]
    manifest: dict | None = None
    student: object | None = None  # hocba.documents.Student of the latest year
    years: tuple[PackageYear, ...] = ()
    files: tuple[FileCheck, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def source(self) -> dict:
        return ((self.manifest or {}).get(SECTION) or {}).get("truongchuyendi") or {}


def _archive_problems(data: bytes) -> list[str]:
    """Limits checked on the ZIP directory before anything is inflated."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        return ["Tệp không phải gói học bạ chuyển trường (ZIP) hợp lệ."]
    infos = z.infolist()
    problems = []
    if len(infos) > MAX_MEMBERS:
        problems.append(f"Gói có {len(infos)} tệp, nhiều hơn mức cho phép ({MAX_MEMBERS}).")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        problems.append(f"Gói quá lớn khi giải nén ({total // MB} MB; tối đa {MAX_TOTAL_BYTES // MB} MB).")
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES:
            problems.append(f"Tệp {info.filename} quá lớn khi giải nén.")
        elif info.file_size > MB and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            problems.append(f"Tệp {info.filename} có tỉ lệ nén bất thường (nghi là «bom nén»); gói bị từ chối.")
        if info.flag_bits & 0x1:
            problems.append(f"Tệp {info.filename} được mã hoá; gói chuyển trường không được mã hoá.")
    return problems


def _signature_check(name: str, data: bytes, spec) -> tuple[FileCheck, list[str]]:
    from hocba.verify import service

    result = service.analyse(data, spec)
    if not result.get("readable"):
        reason = result.get("reason") or "không đọc được tệp"
        if result.get("detail"):
            reason += f" ({result['detail']})"
        return FileCheck(name, False, reason), [f"{name}: {reason}"]
    report = result["report"]
    problems = []
    if not report["valid"]:
        bad = [f"{s['id']}: {'; '.join(s['problems']) or 'không hợp lệ'}" for s in report["signatures"]
               if not s["valid"]]
        problems.append(f"{name}: chữ ký số không hợp lệ ({' | '.join(bad) or report['verdict']}).")
    unsigned = [w for w in report.get("warnings", []) if "chưa được ký" in w]
    if unsigned:
        problems.append(f"{name}: học bạ chưa được ký đủ ({'; '.join(unsigned)}).")
    return FileCheck(name, not problems, report["verdict"]), problems


def check_package(data: bytes, trust=None) -> PackageCheck:
    """Every check of a received package (see the module docstring); never raises for a bad package."""
    from hocba.verify.sandbox import TrustSpec

    digest = hashlib.sha256(data).hexdigest()
    if len(data) > max_bytes():
        return PackageCheck(digest, (f"Gói quá lớn ({len(data) // MB} MB; tối đa {max_bytes() // MB} MB).",))
    problems = _archive_problems(data)
    if problems:
        return PackageCheck(digest, tuple(problems))
    try:
        chain = verify_chain(data)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        return PackageCheck(digest, (f"Gói bị hỏng, không giải nén được ({type(exc).__name__}).",))
    problems = list(chain.problems)
    manifest = None
    if MANIFEST in chain.files:
        try:
            manifest = json.loads(chain.files[MANIFEST].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            manifest = None
    info = (manifest or {}).get(SECTION) if isinstance(manifest, dict) else None
    if manifest is not None and (not isinstance(info, dict) or info.get("format") != FORMAT):
        problems.append("manifest.json không có phần «chuyentruong»: đây không phải gói học bạ chuyển trường.")
        info = None
    elif info is not None and info.get("version") != FORMAT_VERSION:
        problems.append(f"Gói chuyển trường phiên bản {info.get('version')!r} chưa được hỗ trợ (hỗ trợ: "
                        f"{FORMAT_VERSION}).")
    if info is not None and chain.student_number and (info.get("hocsinh") or {}).get("sodinhdanh") != chain.student_number:
        problems.append("Số định danh học sinh trong phần chuyển trường của manifest khác với học bạ.")

    years: list[PackageYear] = []
    student = latest = None
    if manifest is not None and isinstance(manifest.get("years"), list):
        for entry in manifest["years"]:
            if not isinstance(entry, dict):
                continue
            xml = chain.files.get(entry.get("xml"))
            pdf = chain.files.get(entry.get("pdf")) if entry.get("pdf") else None
            if xml is None:
                continue
            try:
                record = from_xml(xml)
            except (HocBaXmlError, RecordError, ValueError):
                continue  # verify_chain has named the problem
            link = record.previous_year
            years.append(PackageYear(record.record_id, record.version, record.school_year, record.grade,
                                     record.school.code, record.school.name, link.record_id if link else "",
                                     link.sha256 if link else "", xml, pdf))
            if latest is None or record.school_year > latest.school_year:
                latest = record
        years.sort(key=lambda y: y.school_year)
        student = latest.student if latest is not None else None
        missing_pdf = [y.school_year for y in years if y.pdf is None]
        if missing_pdf:
            problems.append("Gói thiếu bản PDF đã ký của năm học " + ", ".join(missing_pdf) + ".")

    checks: list[FileCheck] = []
    if chain.files and years:
        if trust is None:
            from hocba.identities.service import SigningNotConfigured

            try:
                trust = transfer_trust()
            except (SigningNotConfigured, OSError, ValueError) as exc:
                problems.append(f"Hệ thống chưa cấu hình chứng thư số gốc tin cậy nên không kiểm tra được chữ ký "
                                f"số ({exc}).")
        if trust is not None:
            spec = TrustSpec.of(trust)
            for name, content in sorted(chain.files.items()):
                if name == MANIFEST:
                    continue
                check, found = _signature_check(name, content, spec)
                checks.append(check)
                problems += found
    return PackageCheck(digest, tuple(problems), manifest if isinstance(manifest, dict) else None, student,
                        tuple(years), tuple(checks))
