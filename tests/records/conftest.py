"""Records fixtures: a small school whose staff hold keys of the session PKI (tests/pki_support.py), classes
with a released grade book, and helpers to run the signing steps.

``rw`` (records world): ``rw.make_class("9A1", students=2)`` creates a class with its GVCN (gv.van) and two
subject teachers — ``rw.gv1`` (gv.toan: the score subjects and KHTN) and ``rw.gv2`` (gv.hoa: the comment
subjects and KHTN too, so KHTN has two teachers) — the GVCN teaching HĐTN; ``rw.release(cls)`` writes a full
year of assessments and releases the book (``records.demo.write_gradebook``); ``rw.issue(cls)`` generates and
signs everything through the actions. The school's seal is the session PKI's ``condau`` key.

Most tests use ``HOCBA_RECORDS_VALIDATION = "sample"`` (our own full validation of a sealed document takes
seconds; the independent validators check the files instead) and run batches inline.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

_serial = itertools.count(700001)
NAMES = ["Nguyễn Thị Ánh", "Trần Văn Bình", "Lê Hoàng Châu", "Phạm Minh Đức", "Võ Thị Giang", "Đặng Quốc Huy"]


@pytest.fixture(autouse=True)
def _records_settings(settings, tmp_path):
    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    settings.HOCBA_RECORDS_INLINE = True
    settings.HOCBA_RECORDS_VALIDATION = "sample"
    settings.HOCBA_PUBLIC_URL = "https://hocba.example.vn"


class RecordsWorld:
    def __init__(self, school, year, principal, school_admin, make_user, give_identity, pki):
        self.school, self.year, self.principal, self.school_admin = school, year, principal, school_admin
        self.pki = pki
        self.make_user = make_user
        self.gvcn = make_user("gvcn", "teacher", school)
        self.gv1 = make_user("gvtoan", "teacher", school)
        self.gv2 = make_user("gvhoa", "teacher", school)
        self.vice = make_user("phohieutruong", "vice_principal", school, position="PHT")
        self.other_teacher = make_user("gvkhac", "teacher", school)
        # numbers apart from the PKI people's, which give_identity copies onto the staff records
        from hocba.school.models import Staff

        for staff in Staff.objects.filter(school=school):
            staff.personal_number = f"079070{next(_serial):06d}"
            staff.save()
        for user, who in ((principal, "hieutruong"), (self.gvcn, "gv.van"), (self.gv1, "gv.toan"),
                          (self.gv2, "gv.hoa"), (self.vice, "phohieutruong")):
            give_identity(user, who)
        self._register_seal()

    def _register_seal(self):
        from django.utils import timezone

        from hocba.identities.certificates import inspect
        from hocba.identities.models import SigningIdentity

        info = inspect(self.pki.cert_path("condau").read_bytes())
        SigningIdentity.objects.create(
            school=self.school, staff=None, kind="seal", backend="server_pkcs12", certificate=info.der,
            chain_pem=self.pki.cert_path("interm").read_text(), subject_cn=info.common_name,
            subject_serial_number=info.serial_number_attr, issuer=info.issuer, serial=info.serial_hex,
            fingerprint=info.fingerprint, not_before=info.not_before, not_after=info.not_after,
            params={"path": "p12/condau.p12"}, registered_at=timezone.now())

    def make_class(self, name: str = "9A1", students=2, *, grade: int = 9, year=None, homeroom=None):
        from hocba.school.models import Enrolment, SchoolClass, Student, SubjectPlan, TeachingAssignment

        year = year or self.year
        homeroom = homeroom or self.gvcn
        cls = SchoolClass.objects.create(school=self.school, year=year, grade=grade, name=name,
                                         homeroom_teacher=homeroom.staff)
        people = students if isinstance(students, list) else None
        if people is None:
            people = []
            for i in range(students):
                serial = next(_serial)
                people.append(Student.objects.create(
                    school=self.school, personal_number=f"079311{serial:06d}", student_code=f"HS{serial}",
                    full_name=NAMES[i % len(NAMES)], gender="2" if i % 2 == 0 else "1",
                    birth_date=dt.date(2010, 3, 1 + i), birthplace="Thành phố Hồ Chí Minh",
                    hometown="Tỉnh Nam Định", residence="12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
                    father_name="Nguyễn Văn Cha", father_occupation="Kỹ sư", mother_name="Lê Thị Mẹ",
                    mother_occupation="Giáo viên"))
        for student in people:
            Enrolment.objects.create(school=self.school, student=student, year=year, school_class=cls)
        assignments = []
        for plan in SubjectPlan.objects.filter(year=year, grade=grade, elective=False).select_related("subject"):
            code = plan.subject.code
            teachers = ([self.gv1, self.gv2] if code == "KHTN" else [homeroom] if code == "HDTN"
                        else [self.gv1] if plan.kind == "score" else [self.gv2])
            assignments += [TeachingAssignment(school=self.school, school_class=cls, subject=plan.subject, semester=n,
                                               teacher=t.staff) for t in teachers for n in (1, 2)]
        TeachingAssignment.objects.bulk_create(assignments)
        return cls

    def students(self, cls):
        from hocba.records.build import students_in_class

        return students_in_class(cls)

    def release(self, cls, **kw):
        from hocba.records.demo import write_gradebook

        return write_gradebook(cls, **kw)

    def generate(self, cls, **kw):
        from hocba.records import actions

        return actions.generate_class(self.principal, cls, **kw)

    def sign(self, kind: str, user, cls=None):
        """One signer's batch (in this class, or everywhere), run to the end; returns the batch (or None)."""
        from hocba.records import actions, workflow

        batch = actions.start_signing(user, self.school, kind, school_class=cls)
        return workflow.run_batch(batch) if batch is not None else None

    def sign_all(self, cls=None, *, leader=None):
        batches = [self.sign("gvbm", u, cls) for u in (self.gv2, self.gvcn, self.gv1)]
        batches.append(self.sign("gvcn", self.gvcn, cls))
        batches.append(self.sign("leader", leader or self.principal, cls))
        batches.append(self.sign("seal", self.principal, cls))
        return batches

    def issue(self, cls, **kw):
        self.generate(cls, **kw)
        return self.sign_all(cls, leader=kw.get("leader") and kw["leader"].user)


@pytest.fixture
def rw(school, year, principal, school_admin, make_user, give_identity, pki_settings):
    return RecordsWorld(school, year, principal, school_admin, make_user, give_identity, pki_settings)
