"""Transfers between schools: a student's signed học bạ leaves one school as a package and is kept by the next
one byte for byte, every signature still valid — within one deployment and into a second deployment with its
own database — and the next year the receiving school issues links to the last received year. A package that
fails any check is refused with the reasons, and nothing is saved.

Cost: issuing one signed year through the records workflow is the slow part (≈ 25 s), so it happens once, in
the round-trip test, which then carries that one package to a second school of this deployment and to a
second deployment (``hocba`` subprocesses on their own SQLite file). The refusals use a sample year signed
once per module with the short signing plan (GVCN, principal, seal), and the signature validator's reports
are cached by content, so an unchanged file is validated once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from tests.records.conftest import RecordsWorld
from tests.verify.verify_support import second_pki_fixture  # noqa: F401 - registers the "second_pki" fixture

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OTHER_SCHOOL = {"code": "01999001", "name": "Trường THCS Nơi Khác"}


@pytest.fixture(autouse=True)
def _transfer_settings(settings, tmp_path):
    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    settings.HOCBA_RECORDS_INLINE = True
    settings.HOCBA_RECORDS_VALIDATION = "sample"
    settings.HOCBA_PUBLIC_URL = "https://hocba.example.vn"
    settings.HOCBA_VERIFY_ISOLATION = "inline"  # the sandbox has its own tests; the subprocess deployment uses it


@pytest.fixture
def rw(school, year, principal, school_admin, make_user, give_identity, pki_settings):
    return RecordsWorld(school, year, principal, school_admin, make_user, give_identity, pki_settings)


def _package(years, *, personal_number="079310001234", name="Đặng Thị Ngọc Ánh") -> bytes:
    from hocba.documents import IssuedYear, export_bundle
    from hocba.interop import transfer

    school = SimpleNamespace(code=OTHER_SCHOOL["code"], name=OTHER_SCHOOL["name"], province_name="Thành phố Hà Nội")
    student = SimpleNamespace(personal_number=personal_number, student_code="7976040120210042", full_name=name,
                              birth_date=dt.date(2010, 3, 17), gender="2")
    extra = transfer.section(school=school, student=student, years=[], exported_at="2024-06-01T08:00:00+07:00",
                             deployment="https://hocba.noikhac.example.vn")
    return export_bundle([IssuedYear(x, p) for x, p in years], extra=extra)


def _grade8(**changes):
    from hocba.documents.sample import SCHOOL, _plain_year

    other = dataclasses.replace(SCHOOL, code=OTHER_SCHOOL["code"], name=OTHER_SCHOOL["name"])
    return _plain_year(8).replace(record_id=str(uuid.uuid4()), school_year="2023-2024", school=other, **changes)


@pytest.fixture(scope="module")
def grade8(session_pki):
    """The sample student's grade 8 (2023-2024) at another school, signed by the session PKI (short plan)."""
    from hocba.verify.samples import SHORT_PLAN, sign_hoc_ba

    signed = sign_hoc_ba(session_pki, _grade8(), only=SHORT_PLAN)
    return SimpleNamespace(xml=signed.xml, pdf=signed.pdf, record=signed.record, package=_package([(signed.xml,
                                                                                                     signed.pdf)]))


def _counts():
    from hocba.audit.models import AuditEvent
    from hocba.interop.models import ReceivedRecord, TransferImport
    from hocba.school.models import Student

    return (ReceivedRecord.objects.count(), TransferImport.objects.count(), Student.objects.count(),
            AuditEvent.objects.filter(action__startswith="interop.transfer").count())


def _refused(actor, school, data) -> list[str]:
    from hocba.interop import actions

    before = _counts()
    with pytest.raises(actions.TransferRefused) as exc:
        actions.import_transfer(actor, school, data)
    assert _counts() == before, "a refused package must leave nothing behind"
    return exc.value.messages


def _pyhanko(path: Path, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pyhanko"), "sign", "validate", "--pretty-print", "--trust", str(root),
                           "--trust-replace", str(path)], capture_output=True, text=True, timeout=300, check=False)


def _deployment(tmp: Path, session_pki) -> callable:
    """A second deployment: its own var directory and SQLite file, no PKI of its own, trusting the first
    deployment's sector root through ``HOCBA_TRANSFER_TRUSTED_ROOTS``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOCBA_", "DJANGO_"))}
    env.update(HOCBA_VAR_DIR=str(tmp), HOCBA_DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3",
               HOCBA_FAST_PASSWORD_HASHER="1", HOCBA_TRANSFER_TRUSTED_ROOTS=str(session_pki.root_cert_path))

    def hocba(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "hocba"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=600, check=False)

    return hocba


SETUP_SECOND = """
from django.core.management import call_command
call_command("migrate", "--noinput", "-v", "0")
from django.contrib.auth.models import User
from hocba.school.models import Department, Membership, School
d = Department.objects.create(code="01", name="Sở Giáo dục và Đào tạo Hà Nội")
s = School.objects.create(department=d, code="01999002", name="Trường THCS Thủ Đô", commune_name="Phường Ba Đình",
                          province_name="Thành phố Hà Nội", province_code="01")
u = User.objects.create_user("hocvu", password="MatKhau@2026")
Membership.objects.create(user=u, role="academic_staff", school=s)
"""


def test_a_transfer_round_trip_to_another_school_and_another_deployment_keeps_every_signature_valid(
        rw, other_school, make_user, tmp_path, session_pki, client):
    """A year issued by school A leaves as a package (registry and audit say so); school B of the same
    deployment and a school of a second deployment (own database, trusting A's root by configuration) both
    keep the files byte for byte, and ``pyhanko sign validate`` still judges every signature of the received
    PDF valid."""
    from django.core.management import call_command

    from hocba.audit.models import AuditEvent
    from hocba.interop import actions
    from hocba.interop.models import ReceivedRecord
    from hocba.records import storage
    from hocba.records.conf import documents_dir
    from hocba.records.models import HocBaRecord, RegistryEntry

    cls = rw.make_class("9A1", students=1)
    rw.release(cls)
    rw.issue(cls)
    record = HocBaRecord.objects.get(status="issued")
    student = record.student
    package_path = tmp_path / "goi.zip"
    call_command("transfer", "export", "--student", student.personal_number, "--out", str(package_path),
                 "--recipient", other_school.name, stdout=io.StringIO())
    data = package_path.read_bytes()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    section = manifest["chuyentruong"]
    assert section["format"] == "hocba-transfer" and section["version"] == 1
    assert section["truongchuyendi"]["ma"] == rw.school.code
    assert section["hocsinh"]["sodinhdanh"] == student.personal_number
    assert [(y["madinhdanhhocba"], y["phienban"], y["matracuu"]) for y in section["years"]] == [
        (str(record.record_id), 1, record.verification_code)]
    assert manifest["years"][0]["pdf_sha256"] == record.pdf_sha256
    assert manifest["years"][0]["xml_sha256"] == record.xml_sha256
    # the same export from the record's page, for the principal (a teacher is refused)
    client.force_login(rw.principal)
    page = client.get(f"/hoc-ba-so/{record.record_id}/")
    assert b'id="transfer-export"' in page.content
    response = client.post(f"/hoc-sinh/{student.pk}/chuyen-truong/", {"recipient": other_school.name})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("manifest.json"))["years"] == manifest["years"]
    client.force_login(rw.gv1)
    assert client.post(f"/hoc-sinh/{student.pk}/chuyen-truong/").status_code == 403
    entry = RegistryEntry.objects.filter(record=record, event="exported", note="Gói chuyển trường").earliest("id")
    assert entry.file_sha256 == hashlib.sha256(data).hexdigest() and entry.recipient == other_school.name
    assert AuditEvent.objects.filter(action="interop.transfer_export").count() == 2

    # the admission batch of school A holds the same bytes, after its checks
    admission_path = tmp_path / "tuyen-sinh.zip"
    out = io.StringIO()
    call_command("admission", "export", "--school", rw.school.code, "--grade", "9", "--out", str(admission_path),
                 stdout=out)
    assert "1 học sinh; đủ điều kiện đưa vào hồ sơ: 1; chưa có học bạ: 0; không hợp lệ: 0." in out.getvalue()
    batch = zipfile.ZipFile(admission_path)
    listed = json.loads(batch.read("manifest.json"))
    assert listed["format"] == "hocba-admission" and listed["khoi"] == 9 and listed["khongduavao"] == []
    [entry] = listed["hocsinh"][0]["years"]
    assert hashlib.sha256(batch.read(entry["pdf"])).hexdigest() == record.pdf_sha256 == entry["pdf_sha256"]
    assert hashlib.sha256(batch.read(entry["xml"])).hexdigest() == record.xml_sha256

    # school B, same deployment: kept byte for byte, the student created there, audited
    clerk = make_user("hocvu.b", "academic_staff", other_school, staff=False)
    imported = actions.import_transfer(clerk, other_school, data)
    received = ReceivedRecord.objects.get(school=other_school)
    assert (received.record_id, received.version, received.school_year) == (str(record.record_id), 1, "2024-2025")
    assert storage.read(received.pdf_file) == storage.read(record.pdf_file)
    assert storage.read(received.xml_file) == storage.read(record.xml_file)
    assert imported.student.school == other_school and imported.student.personal_number == student.personal_number
    assert imported.student.full_name == student.full_name and imported.student.birth_date == student.birth_date
    event = AuditEvent.objects.get(action="interop.transfer_import")
    assert event.extra["years"][0]["pdf_sha256"] == record.pdf_sha256
    assert all(f["valid"] for f in event.extra["files"]) and len(event.extra["files"]) == 2
    received_pdf = documents_dir() / received.pdf_file
    run = _pyhanko(received_pdf, session_pki.root_cert_path)
    assert run.returncode == 0 and "INVALID" not in run.stdout, run.stdout[-3000:]
    assert run.stdout.count("The signature is judged VALID.") >= 15
    # importing the same package twice is refused (nothing is duplicated)
    assert any("đã nhận" in m for m in _refused(clerk, other_school, data))
    # the family at school B gets the complete record with school A's year as B received it; a student of B
    # merely carrying the same personal number, never received, would open nothing of school A
    from hocba.documents import verify_chain
    from hocba.records.actions import give_bundle
    from hocba.school.models import StudentAccess

    parent_b = make_user("me.b", "parent", other_school, staff=False)
    StudentAccess.objects.create(user=parent_b, student=imported.student, relation="mother")
    bundle = give_bundle(parent_b, imported.student)
    assert verify_chain(bundle.data).ok
    assert AuditEvent.objects.filter(action="records.received_copy", extra__record_id=str(record.record_id)).exists()
    ReceivedRecord.objects.filter(school=other_school).update(record_id="00000000-0000-4000-8000-000000000000")
    with pytest.raises(PermissionDenied):
        give_bundle(parent_b, imported.student)

    # a second deployment with its own database (always a SQLite file of its own: the PostgreSQL pass of CI
    # would repeat exactly the same subprocesses, so it stops here)
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    hocba = _deployment(tmp_path / "second", session_pki)
    setup = hocba("shell", "-c", SETUP_SECOND)  # migrate, one school, an academic staff account
    assert setup.returncode == 0, setup.stderr
    done = hocba("transfer", "import", str(package_path), "--school", "01999002", "--as", "hocvu")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mọi chữ ký số hợp lệ" in done.stdout
    stored = {p.suffix: p.read_bytes() for p in (tmp_path / "second" / "documents").rglob("*.*")}
    assert hashlib.sha256(stored[".pdf"]).hexdigest() == record.pdf_sha256
    assert hashlib.sha256(stored[".xml"]).hexdigest() == record.xml_sha256


def test_the_next_year_this_school_issues_links_to_the_last_received_year(rw, grade8):
    """After a transfer, the grade-9 record the receiving school generates names the received grade-8 year by
    its id and the SHA-256 of the received XML bytes, so the chain runs on across the two schools."""
    from hocba.documents import from_xml, verify_years
    from hocba.documents.bundle import IssuedYear
    from hocba.interop import actions
    from hocba.interop.models import ReceivedRecord
    from hocba.records import storage

    signed = grade8
    imported = actions.import_transfer(rw.principal, rw.school, grade8.package)
    received = ReceivedRecord.objects.get()
    assert storage.read(received.xml_file) == signed.xml
    cls = rw.make_class("9A2", students=[imported.student])
    rw.release(cls)
    created = rw.generate(cls).created
    assert len(created) == 1
    record = created[0]
    assert (record.previous_year_record_id, record.previous_year_sha256) == (
        signed.record.record_id, hashlib.sha256(signed.xml).hexdigest())
    doc = from_xml(storage.read(record.xml_file))
    assert doc.previous_year.record_id == received.record_id and doc.previous_year.sha256 == received.xml_sha256
    assert verify_years([IssuedYear(signed.xml), IssuedYear(storage.read(record.xml_file))]).ok


def test_a_pdf_changed_by_one_byte_is_refused_even_with_a_recomputed_manifest(rw, grade8):
    """Someone who changes one byte of a signed PDF and recomputes the manifest's hashes still fails: the
    signatures no longer match the document."""
    marker = b"/Producer"
    at = grade8.pdf.find(marker)
    assert at > 0
    tampered = bytearray(grade8.pdf)
    tampered[at + len(marker) + 3] ^= 0x01
    reasons = _refused(rw.principal, rw.school, _package([(grade8.xml, bytes(tampered))]))
    assert any(".pdf: chữ ký số không hợp lệ" in r for r in reasons), reasons
    assert not any(".xml:" in r for r in reasons), reasons


def test_a_file_that_does_not_match_the_manifest_hash_is_refused(rw, grade8):
    """A package whose manifest names other bytes than the file it carries is refused, naming the file."""
    z = zipfile.ZipFile(io.BytesIO(grade8.package))
    manifest = json.loads(z.read("manifest.json"))
    manifest["years"][0]["pdf_sha256"] = "0" * 64
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        for info in z.infolist():
            w.writestr(info.filename, json.dumps(manifest).encode() if info.filename == "manifest.json"
                       else z.read(info.filename))
    reasons = _refused(rw.principal, rw.school, out.getvalue())
    assert any("mã băm SHA-256 không khớp manifest" in r and r.startswith(manifest["years"][0]["pdf"])
               for r in reasons), reasons


def test_a_package_signed_under_an_untrusted_root_is_refused(rw, second_pki):
    """Signatures that chain to no trusted root (neither this deployment's nor a configured sector root) are
    refused with the reason, for the PDF and for the XML."""
    from hocba.verify.samples import SHORT_PLAN, sign_hoc_ba

    signed = sign_hoc_ba(second_pki, _grade8(), only=SHORT_PLAN,
                         signer_of=lambda part: {"con_dau": "condau", "ht": "hieutruong"}.get(part.role, "gvcn"))
    reasons = _refused(rw.principal, rw.school, _package([(signed.xml, signed.pdf)]))
    assert any(".pdf: chữ ký số không hợp lệ" in r and "tin cậy" in r for r in reasons), reasons
    assert any(".xml: chữ ký số không hợp lệ" in r for r in reasons), reasons


def test_a_student_whose_identity_differs_is_refused(rw, grade8):
    """When the school already has a student with the package's personal number, the name and date of birth
    must agree; otherwise the package is refused saying which."""
    from hocba.school.models import Student

    Student.objects.create(school=rw.school, personal_number="079310001234", student_code="HS-KHAC",
                           full_name="Trần Văn Khác", gender="1", birth_date=dt.date(2010, 1, 2), birthplace="x",
                           hometown="x", residence="x")
    reasons = _refused(rw.principal, rw.school, grade8.package)
    assert any("«Trần Văn Khác»" in r and "«Đặng Thị Ngọc Ánh»" in r for r in reasons), reasons
    assert any("sinh ngày 02/01/2010" in r and "17/03/2010" in r for r in reasons), reasons


def test_a_zip_bomb_or_too_many_members_is_refused_before_anything_is_inflated(rw):
    """Archive limits are read from the ZIP directory: a member that inflates a hundredfold beyond 1 MB, or
    more members than a student's record can have, is refused at once."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", b"{}")
        z.writestr("a.pdf", b"\0" * (8 * 1024 * 1024))
    assert any("bom nén" in r for r in _refused(rw.principal, rw.school, bomb.getvalue()))
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as z:
        for n in range(40):
            z.writestr(f"{n}.xml", b"<x/>")
    assert any("nhiều hơn mức cho phép" in r for r in _refused(rw.principal, rw.school, many.getvalue()))
    assert _refused(rw.principal, rw.school, b"not a zip") == [
        "Gói học bạ chuyển trường bị từ chối:", "Tệp không phải gói học bạ chuyển trường (ZIP) hợp lệ."]


def test_only_leadership_and_academic_staff_transfer_records(rw, grade8):
    """A teacher may neither import a package nor export a student's records."""
    from hocba.interop import actions
    from hocba.school.models import Student

    with pytest.raises(PermissionDenied):
        actions.import_transfer(rw.gv1, rw.school, grade8.package)
    student = Student.objects.create(school=rw.school, personal_number="079310009999", student_code="HS9999",
                                     full_name="Lê Văn Một", gender="1", birth_date=dt.date(2010, 1, 2),
                                     birthplace="x", hometown="x", residence="x")
    with pytest.raises(PermissionDenied):
        actions.export_transfer(rw.gv1, student)


def test_the_admission_dry_run_lists_a_student_without_an_issued_record_and_writes_nothing(rw, tmp_path, client):
    """``hocba admission export --dry-run`` counts the grade-9 students and names each one that has no issued
    học bạ of the year, with the reason; no file, no registry entry, no audit event."""
    from django.core.management import call_command

    from hocba.audit.models import AuditEvent
    from hocba.records.models import RegistryEntry

    cls = rw.make_class("9A3", students=2)
    names = [s.full_name for s in rw.students(cls)]
    out, target = io.StringIO(), tmp_path / "tuyen-sinh.zip"
    events = AuditEvent.objects.count()
    call_command("admission", "export", "--school", rw.school.code, "--grade", "9", "--out", str(target),
                 "--dry-run", stdout=out)
    text = out.getvalue()
    assert "2 học sinh; đủ điều kiện đưa vào hồ sơ: 0; chưa có học bạ: 2" in text, text
    for name in names:
        assert f"Thiếu: {name} (lớp 9A3" in text and "chưa có học bạ năm học 2024-2025 đã phát hành" in text
    assert "Chạy thử: không ghi tệp nào." in text
    assert not target.exists() and AuditEvent.objects.count() == events and not RegistryEntry.objects.exists()
    client.force_login(rw.principal)
    page = client.get(f"/truong/{rw.school.pk}/tuyen-sinh/").content.decode()
    assert f"Thiếu: {names[0]} (lớp 9A3" in page


def test_the_upload_page_keeps_a_valid_package_and_shows_every_reason_for_a_bad_one(rw, grade8, client, settings):
    """Academic staff upload a package on the school's page: a valid one is kept and named; a bad one is
    refused with its reasons (HTTP 400); a file above the size limit is refused before it is read; a teacher
    may not open the page."""
    from hocba.interop.models import ReceivedRecord

    clerk = rw.make_user("hocvu", "academic_staff", rw.school, staff=False)
    url = f"/truong/{rw.school.pk}/chuyen-truong/"
    client.force_login(rw.gv1)
    assert client.get(url).status_code == 403
    client.force_login(clerk)
    bad = io.BytesIO(grade8.package[:-10])
    bad.name = "goi.zip"
    response = client.post(url, {"package": bad})
    assert response.status_code == 400 and b'id="transfer-refused"' in response.content
    assert "Tệp không phải gói học bạ chuyển trường (ZIP) hợp lệ." in response.content.decode()
    settings.HOCBA_TRANSFER_MAX_BYTES = 1000
    big = io.BytesIO(grade8.package)
    big.name = "goi.zip"
    assert "Tệp quá lớn" in client.post(url, {"package": big}).content.decode()
    settings.HOCBA_TRANSFER_MAX_BYTES = None
    good = io.BytesIO(grade8.package)
    good.name = "goi.zip"
    response = client.post(url, {"package": good})
    assert response.status_code == 200, response.content.decode()[-2000:]
    assert "Đã nhận học bạ của Đặng Thị Ngọc Ánh" in response.content.decode()
    assert ReceivedRecord.objects.get().record_id == grade8.record.record_id


def test_the_family_of_a_transferred_student_has_the_received_years_too(rw, grade8, make_user, client):
    """After a transfer, the grade 8 received from the former school is the family's too: listed on their học
    bạ page as received, downloadable byte for byte as received, and inside the complete THCS record, which
    verifies in one step. Another family gets nothing; every copy is audited."""
    from hocba.audit.models import AuditEvent
    from hocba.documents import verify_chain
    from hocba.interop import actions
    from hocba.interop.models import ReceivedRecord
    from hocba.school.models import StudentAccess

    imported = actions.import_transfer(rw.principal, rw.school, grade8.package)
    received = ReceivedRecord.objects.get()
    parent = make_user("me.nhan", "parent", rw.school, staff=False)
    StudentAccess.objects.create(user=parent, student=imported.student, relation="mother")
    stranger = make_user("me.khac", "parent", rw.school, staff=False)

    client.force_login(parent)
    page = client.get("/hoc-ba-so/").content.decode()
    assert "2023-2024" in page and f"Nhận từ {OTHER_SCHOOL['name']} khi chuyển trường" in page
    pdf = client.get(f"/hoc-ba-so/da-nhan/{received.pk}/tai/pdf/")
    assert pdf.status_code == 200 and pdf.content == grade8.pdf
    assert client.get(f"/hoc-ba-so/da-nhan/{received.pk}/tai/xml/").content == grade8.xml
    bundle = client.get(f"/hoc-ba-so/hoc-sinh/{imported.student.pk}/ho-so-thcs/")
    assert bundle.status_code == 200 and bundle["Content-Type"] == "application/zip"
    report = verify_chain(bundle.content)
    assert report.ok, report.problems
    assert [y.record_id for y in report.years] == [grade8.record.record_id]
    copies = AuditEvent.objects.filter(action="records.received_copy")
    assert sorted(e.extra["format"] for e in copies) == ["pdf", "xml", "zip"]
    assert all(e.extra["record_id"] == received.record_id for e in copies)

    client.force_login(stranger)
    assert client.get(f"/hoc-ba-so/da-nhan/{received.pk}/tai/pdf/").status_code == 403
    assert client.get(f"/hoc-ba-so/hoc-sinh/{imported.student.pk}/ho-so-thcs/").status_code == 403
    assert "2023-2024" not in client.get("/hoc-ba-so/").content.decode()
