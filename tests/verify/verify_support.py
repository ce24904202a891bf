"""Signed học bạ documents and a registry that knows them, for the portal's tests (and its browser journey).

Fixtures (import the ``*_fixture`` functions to use them; they register under the short names):

- ``documents`` (session): real PAdES/XAdES signatures from the session PKI (``tests.pki_support``) on the
  sample record (GVCN, principal, seal: the short plan keeps the suite fast), one per case — in force,
  revoked, superseded and its replacement, signed but never registered, and one signed by a second,
  separate PKI that is not among the trust anchors; a tampered copy; a signed generic PDF (not a học bạ).
- ``registry`` (database): the school, its year and class, and a ``HocBaRecord`` per registered case, its
  files stored as the records app stores them, revoked through ``records.actions.revoke``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import uuid

import pytest
from tests.pki_support import free_port, serving

from hocba.documents import PreviousYear, to_xml, verification_url
from hocba.documents.sample import sample_record, sample_years
from hocba.verify.samples import SHORT_PLAN, SignedHocBa, sign_hoc_ba

BASE_URL = "http://testserver"
STUDENT_NUMBER = "079310001234"  # the sample student's personal number: never shown whole
SIGNER_NUMBER = "079188000104"  # gv.van (the GVCN's stand-in signer): never shown whole

@dataclasses.dataclass(frozen=True)
class Doc:
    signed: SignedHocBa
    code: str
    secret: str

    @property
    def pdf(self) -> bytes:
        return self.signed.pdf

    @property
    def xml(self) -> bytes:
        return self.signed.xml

    @property
    def record_id(self) -> str:
        return self.signed.record.record_id

    def url(self, base: str = "") -> str:
        return f"{base}/xac-thuc/{self.code}?k={self.secret}"


@dataclasses.dataclass(frozen=True)
class Documents:
    valid: Doc
    revoked: Doc
    old: Doc  # superseded by ``new``
    new: Doc
    unregistered: Doc  # signed under our anchors, not in the registry
    untrusted: Doc  # signed by a PKI outside the trust anchors
    grade8_xml: bytes  # the previous year ``valid`` links to (registered, unsigned here)
    generic_pdf: bytes  # a signed PDF that is not a học bạ at all

    @property
    def tampered_pdf(self) -> bytes:
        """``valid.pdf`` with one byte changed inside a signed page-content stream (same length, same structure:
        only the signatures' hashes can tell)."""
        data = bytearray(self.valid.pdf)
        for match in re.finditer(rb"<<([^<>]|<<[^<>]*>>)*?/Length (\d+)([^<>]|<<[^<>]*>>)*?>>\s*stream\r?\n", data):
            header = match.group(0)
            if int(match.group(2)) > 1000 and not any(t in header for t in (b"/ObjStm", b"/XRef", b"/EmbeddedFile",
                                                                          b"/Subtype")):
                data[match.end() + int(match.group(2)) // 2] ^= 0x01
                return bytes(data)
        raise AssertionError("no page content stream found")

    @property
    def tampered_xml(self) -> bytes:
        """``valid.xml`` with the maths teacher's first-semester score raised from 8.2 to 9.2."""
        return self.valid.xml.replace(b"<diemhocky1>8.2</diemhocky1>", b"<diemhocky1>9.2</diemhocky1>", 1)


@pytest.fixture(scope="session", name="second_pki")
def second_pki_fixture(tmp_path_factory):
    """A separate certomancer PKI (its own root), served: documents it signs chain to no configured anchor."""
    from hocba.pki import Person, School, init

    var_dir = tmp_path_factory.mktemp("var-pki-ngoai")
    school = School(name="Trường THCS Ngoài Hệ Thống", code="01999999", province="Thành phố Hà Nội")
    people = [Person("gvcn", "Lý Thị Ngoài", "001190000301", school.name, "Giáo viên"),
              Person("hieutruong", "Hồ Văn Ngoài", "001080000302", school.name, "Hiệu trưởng")]
    pki = init(var_dir, people, school, port=free_port())
    with serving(var_dir):
        yield pki


def _doc(pki, renderer, record, **kwargs) -> Doc:
    from hocba.records.codes import new_secret, new_verification_code

    code, secret = new_verification_code(), new_secret()
    signed = sign_hoc_ba(pki, record, verification_url=verification_url(BASE_URL, code, secret), renderer=renderer,
                         only=SHORT_PLAN, **kwargs)
    return Doc(signed, code, secret)


@pytest.fixture(scope="session", name="documents")
def documents_fixture(session_pki, second_pki) -> Documents:
    from hocba.documents import Renderer
    from hocba.signing import pades
    from hocba.signing.backends import Pkcs12Signer
    from hocba.signing.samples import minimal_pdf
    from hocba.signing.trust import TrustConfig

    renderer = Renderer()
    grade8 = sample_years()[2][1]
    link = PreviousYear(sample_years()[2][0].record_id, hashlib.sha256(grade8).hexdigest())
    fresh = lambda **kw: sample_record(record_id=str(uuid.uuid4()), previous_year=link, **kw)
    old = fresh()
    new_record = sample_record(record_id=str(uuid.uuid4()), version=2, replaces=old.record_id, previous_year=link)
    foreign = sample_record(record_id=str(uuid.uuid4()), previous_year=None)

    trust = TrustConfig.from_files([session_pki.root_cert_path], [session_pki.cert_path("interm")])
    settings = pades.PadesSettings(tsa_url=session_pki.tsa_url, trust=trust)
    generic = pades.prepare_fields(minimal_pdf(["Bien ban - tai lieu khong phai hoc ba"]),
                                   [pades.SignerSlot("ky-1", "gvbm", "Người ký")])
    generic = pades.sign_field(generic, "ky-1",
                               Pkcs12Signer.load(session_pki.pkcs12_path("gv.van"), session_pki.pkcs12_password),
                               settings)
    return Documents(
        valid=_doc(session_pki, renderer, fresh()), revoked=_doc(session_pki, renderer, fresh()),
        old=_doc(session_pki, renderer, old), new=_doc(session_pki, renderer, new_record),
        unregistered=_doc(session_pki, renderer, fresh()),
        untrusted=_doc(second_pki, renderer, foreign,
                       signer_of=lambda part: {"con_dau": "condau", "ht": "hieutruong"}.get(part.role, "gvcn")),
        grade8_xml=grade8, generic_pdf=generic)


# --- the registry ----------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Registry:
    school: object
    records: dict  # name -> HocBaRecord


def _student(school, n: int):
    from hocba.school.models import Student

    return Student.objects.create(
        school=school, personal_number=f"079310{n:06d}", student_code=f"HS{n:06d}", full_name="Đặng Thị Ngọc Ánh",
        gender="2", birth_date=dt.date(2010, 3, 17), birthplace="Thành phố Hồ Chí Minh", hometown="Ninh Bình",
        residence="Thành phố Hồ Chí Minh")


def register(doc_or_xml, *, school, year, school_class, leader, n: int, record_id: str | None = None,
             version: int = 1, replaces=None, status: str = "issued"):
    """A ``HocBaRecord`` for a signed document (or a bare issued XML), its files in the document store."""
    from django.utils import timezone

    from hocba.records import storage
    from hocba.records.codes import new_secret, new_verification_code, secret_hash
    from hocba.records.models import HocBaRecord

    if isinstance(doc_or_xml, Doc):
        record, pdf, xml, code, secret = (doc_or_xml.signed.record, doc_or_xml.pdf, doc_or_xml.xml, doc_or_xml.code,
                                          doc_or_xml.secret)
    else:
        from hocba.documents import from_xml

        record, pdf, xml, code, secret = from_xml(doc_or_xml), b"%PDF-", doc_or_xml, new_verification_code(), new_secret()
    folder = storage.relative_dir(school.code, year.name, record.record_id)
    pdf_file, pdf_sha = storage.write(folder, pdf, "pdf")
    xml_file, xml_sha = storage.write(folder, xml, "xml")
    now = timezone.now()
    return HocBaRecord.objects.create(
        record_id=record_id or record.record_id, school=school, year=year, school_class=school_class,
        student=_student(school, n), version=version, status=status, replaces=replaces,
        previous_year_record_id=record.previous_year.record_id if record.previous_year else "",
        previous_year_sha256=record.previous_year.sha256 if record.previous_year else "",
        verification_code=code, qr_secret_sha256=secret_hash(secret), leader=leader, snapshot={},
        source_sha256="0" * 64, data_xml_sha256=hashlib.sha256(to_xml(record)).hexdigest(), pdf_file=pdf_file,
        pdf_sha256=pdf_sha, xml_file=xml_file, xml_sha256=xml_sha, created_at=now, issued_at=now)


@pytest.fixture(name="registry")
def registry_fixture(documents, school, principal, pki_settings, settings, tmp_path) -> Registry:
    from django.utils import timezone

    from hocba.records import actions
    from hocba.records.models import HocBaRecord
    from hocba.school.models import SchoolClass, SchoolYear, Staff

    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    leader = Staff.objects.get(user=principal)
    # years made directly: the registry needs no subject plan (and a flushed test database has no subjects)
    year = SchoolYear.objects.create(school=school, name="2024-2025", start_date=dt.date(2024, 9, 5),
                                     end_date=dt.date(2025, 5, 31), is_current=True)
    nine = SchoolClass.objects.create(school=school, year=year, grade=9, name="9A3")
    last_year = SchoolYear.objects.create(school=school, name="2023-2024", start_date=dt.date(2023, 9, 5),
                                          end_date=dt.date(2024, 5, 31))
    eight = SchoolClass.objects.create(school=school, year=last_year, grade=8, name="8A3")
    common = {"school": school, "year": year, "school_class": nine, "leader": leader}
    records = {
        "grade8": register(documents.grade8_xml, n=8, school=school, year=last_year, school_class=eight,
                           leader=leader),
        "valid": register(documents.valid, n=1, **common),
        "revoked": register(documents.revoked, n=2, **common),
        "old": register(documents.old, n=3, **common),
    }
    records["new"] = register(documents.new, n=4, version=2, replaces=records["old"], **common)
    old = records["old"]
    old.status, old.replaced_by, old.revoked_at, old.revoke_reason = (
        HocBaRecord.SUPERSEDED, records["new"], timezone.now(), "Sửa điểm môn Toán theo kết quả phúc khảo")
    old.save()
    records["revoked"] = actions.revoke(principal, records["revoked"], "Cấp nhầm cho học sinh khác lớp")
    return Registry(school, records)
