"""The admission export (hồ sơ tuyển sinh): one batch file per school with the signed học bạ of every student
of the final grade (grade 9 of THCS; the format is ready for grade 5 of a primary school), each student's
records validated before they are included, and a report of who is included, who is missing and why.

The batch is a ZIP: ``manifest.json`` (format ``hocba-admission`` version 1, the school, the grade and school
year, and per student the years included with their SHA-256, plus the students left out with the reason) and,
per included student, the signed XML and PDF of every year in force, byte for byte as issued or received,
under ``<personal number>/``. See docs/interop.md ("Admission export").

Validation before inclusion, per student: the stored files still match the hashes the registry holds, the
years form a valid chain (``documents.bundle.verify_years``: XSD, one student, links by id and SHA-256, PDF
twin = XML), the admission year is among them, and every expected signature is present; with ``full`` every
signature of every file is validated as well (``transfer.check``'s validator; about 4 s per year).
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

from hocba.documents import IssuedYear, verify_years
from hocba.documents.bundle import sha256_hex

FORMAT = "hocba-admission"
FORMAT_VERSION = 1
#: final grade of each level: 5 closes primary (tiểu học, cấp 1), 9 lower secondary (THCS, cấp 2)
LEVELS = {5: ("1", "Tiểu học"), 9: ("2", "Trung học cơ sở")}


@dataclasses.dataclass
class AdmissionStudent:
    student: object
    class_name: str
    rows: list = dataclasses.field(default_factory=list)  # HocBaRecord / ReceivedRecord, oldest first
    files: list[tuple[str, bytes]] = dataclasses.field(default_factory=list, repr=False)
    entries: list[dict] = dataclasses.field(default_factory=list)
    chain_sha256: str | None = None
    problems: list[str] = dataclasses.field(default_factory=list)
    missing: bool = False  # no issued record of the admission year at all

    @property
    def included(self) -> bool:
        return not self.problems and not self.missing


@dataclasses.dataclass
class AdmissionReport:
    school: object
    year_name: str
    grade: int
    full: bool
    students: list[AdmissionStudent]

    @property
    def included(self) -> list[AdmissionStudent]:
        return [s for s in self.students if s.included]

    @property
    def missing(self) -> list[AdmissionStudent]:
        return [s for s in self.students if s.missing]

    @property
    def invalid(self) -> list[AdmissionStudent]:
        return [s for s in self.students if s.problems and not s.missing]

    def lines(self) -> list[str]:
        """The report in Vietnamese, as the command prints it and the page shows it."""
        out = [(f"{self.school.name} – khối {self.grade} – năm học {self.year_name}: {len(self.students)} học sinh; "
                f"đủ điều kiện đưa vào hồ sơ: {len(self.included)}; chưa có học bạ: {len(self.missing)}; "
                f"không hợp lệ: {len(self.invalid)}."),
               "Kiểm tra: " + ("toàn bộ chữ ký số của mọi tệp" if self.full
                               else "mã băm tệp lưu trữ, chuỗi năm học, đủ chữ ký (không kiểm tra lại chữ ký số)")]
        for s in self.missing:
            out.append(f"Thiếu: {s.student.full_name} (lớp {s.class_name}, số định danh {s.student.personal_number}) – "
                       + "; ".join(s.problems))
        for s in self.invalid:
            out.append(f"Không hợp lệ: {s.student.full_name} (lớp {s.class_name}, số định danh "
                       f"{s.student.personal_number}) – " + "; ".join(s.problems))
        return out


def _students(school, year, grade: int):
    from hocba.school.models import Enrolment

    return [(e.student, e.school_class.name) for e in Enrolment.objects.filter(
        school=school, year=year, school_class__grade=grade, status__in=("studying", "transferred_in"))
        .select_related("student", "school_class").order_by("school_class__name", "student__sort_key")]


def _check_student(item: AdmissionStudent, year_name: str, full: bool, trust) -> None:
    from hocba.records import storage
    from hocba.records.models import HocBaRecord
    from hocba.records.verification import issue_problems

    from .actions import years_in_force
    from .models import ReceivedRecord

    item.rows = years_in_force(item.student)
    names = [r.school_year if isinstance(r, ReceivedRecord) else r.year.name for r in item.rows]
    if year_name not in names:
        item.missing = True
        item.problems.append(f"chưa có học bạ năm học {year_name} đã phát hành")
        return
    years = []
    for r, name in zip(item.rows, names, strict=True):
        try:
            xml = storage.read(r.xml_file, r.xml_sha256)
            pdf = storage.read(r.pdf_file, r.pdf_sha256) if r.pdf_file else None
        except storage.StoredFileError as exc:
            item.problems.append(str(exc))
            continue
        if pdf is None:
            item.problems.append(f"năm học {name}: thiếu bản PDF đã ký")
            continue
        if isinstance(r, HocBaRecord):
            missing = issue_problems(pdf, xml, list(r.steps.all()), None, full=False)
            item.problems += [f"năm học {name}: {p}" for p in missing]
        if full:
            from .transfer import _signature_check

            for fmt, content in (("pdf", pdf), ("xml", xml)):
                _check, found = _signature_check(f"năm học {name} ({fmt.upper()})", content, trust)
                item.problems += found
        years.append(IssuedYear(xml, pdf))
        base = f"{item.student.personal_number}/{name}_lop{r.grade if isinstance(r, ReceivedRecord) else r.school_class.grade}_{r.record_id}"
        item.files += [(f"{base}.xml", xml), (f"{base}.pdf", pdf)]
        item.entries.append({"madinhdanhhocba": str(r.record_id), "namhoc": name, "phienban": r.version,
                             "xml": f"{base}.xml", "xml_sha256": sha256_hex(xml), "pdf": f"{base}.pdf",
                             "pdf_sha256": sha256_hex(pdf),
                             "nguon": "da_nhan" if isinstance(r, ReceivedRecord) else "phat_hanh"})
    if years and not item.problems:
        chain = verify_years(years)
        item.chain_sha256 = chain.chain_sha256
        item.problems += list(chain.problems)


def collect(school, grade: int, year, *, full: bool = False) -> AdmissionReport:
    """Every student of ``grade`` in ``year`` at ``school``, each checked (see the module docstring)."""
    trust = None
    if full:
        from hocba.verify.sandbox import TrustSpec

        from .transfer import transfer_trust

        trust = TrustSpec.of(transfer_trust())
    students = [AdmissionStudent(s, class_name) for s, class_name in _students(school, year, grade)]
    for item in students:
        _check_student(item, year.name, full, trust)
    return AdmissionReport(school, year.name, grade, full, students)


def batch(report: AdmissionReport, *, created_at: str) -> bytes:
    """The batch ZIP of the included students (deterministic member order and dates)."""
    level_code, level_name = LEVELS[report.grade]
    school = report.school
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION, "caphoc": level_code, "tencaphoc": level_name,
        "khoi": report.grade, "namhoc": report.year_name, "taoluc": created_at,
        "kiemtra": "full" if report.full else "integrity",
        "truong": {"ma": school.code, "ten": school.name, "tinh": school.province_name},
        "hocsinh": [{"sodinhdanh": s.student.personal_number, "mahocsinh": s.student.student_code,
                     "hovaten": s.student.full_name, "ngaysinh": s.student.birth_date.isoformat(),
                     "lop": s.class_name, "chain_sha256": s.chain_sha256, "years": s.entries}
                    for s in report.included],
        "khongduavao": [{"sodinhdanh": s.student.personal_number, "hovaten": s.student.full_name,
                         "lop": s.class_name, "lydo": s.problems}
                        for s in report.students if not s.included],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        members = [("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))]
        members += [m for s in report.included for m in s.files]
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return out.getvalue()
