"""The small world the access matrix walks: two schools, three classes, one person per role.

School A (``a``) has classes 6A and 6B in its current year; school B (``b``) has class 6C, in another
Phòng. In school A:

- ``gvbm`` teaches Toán (TO) to 6A in both semesters and nothing else;
- ``gvcn`` is the homeroom teacher (GVCN) of 6A and teaches nothing; another teacher is GVCN of 6B;
- ``academic``, ``vice``, ``principal``, ``admin`` hold the school-wide roles;
- ``parent`` is the father of ``s1`` (6A), ``student`` is ``s1`` himself;
- ``district`` is the Phòng that school A belongs to (school B is in another Phòng).

Objects per school/class (what the URL kwargs point at): a roster upload, a Toán column confirmed with a
pending unlock request, an outbox message and a sync conflict, a (revoked, so no network check is made)
signing identity, a signing batch of the school's GVCN, a draft digitisation of a paper year (of ``s1``,
naming ``gvcn`` as its GVCN; of ``s3`` in school B) and an issued học bạ of ``s1``, ``s2`` (6B) and
``s3`` (6C) whose files are stored bytes: a placeholder PDF and the documents package's sample XML (the
access rules do not look at the signatures).

Everything is written straight to the database: this is set-up, not under test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from django.utils import timezone

_serial = itertools.count(910001)


class AccessWorld:
    """Built once per test that needs it (about 0.3 s)."""

    def __init__(self):
        from django.contrib.auth.models import User

        from hocba.school.actions import create_school_year
        from hocba.school.models import Department, Division, Membership, Subject

        self.department = Department.objects.create(code="79", name="Sở GDĐT Thành phố Hồ Chí Minh")
        self.division = Division.objects.create(department=self.department, code="760",
                                                name="Phòng GDĐT Quận 1")
        self.other_division = Division.objects.create(department=self.department, code="761",
                                                      name="Phòng GDĐT Quận 3")
        self.a = self._school(self.division, "79760901", "Trường THCS An Phú")
        self.b = self._school(self.other_division, "79761902", "Trường THCS Bình Minh")

        self.users: dict[str, User | None] = {"anonymous": None}
        self.admin = self.users["school_admin"] = self._user("qt_a", "school_admin", self.a, "QTT")
        self.principal = self.users["principal"] = self._user("ht_a", "principal", self.a, "HT")
        self.vice = self.users["vice_principal"] = self._user("pht_a", "vice_principal", self.a, "PHT")
        self.academic = self.users["academic_staff"] = self._user("hv_a", "academic_staff", self.a, "NV")
        self.gvcn = self.users["homeroom_teacher"] = self._user("gvcn_a", "teacher", self.a)
        self.gvbm = self.users["subject_teacher"] = self._user("gvbm_a", "teacher", self.a)
        self.gvcn_6b = self._user("gvcn_6b", "teacher", self.a)
        self.admin_b = self._user("qt_b", "school_admin", self.b, "QTT")
        self.gvcn_6c = self._user("gvcn_6c", "teacher", self.b)
        self.district = self.users["district"] = User.objects.create_user(username="phong_q1", password="x")
        Membership.objects.create(user=self.district, role="district", division=self.division)

        self.year_a = create_school_year(self.admin, self.a, "2024-2025", dt.date(2024, 9, 5),
                                         dt.date(2025, 5, 31), is_current=True)
        self.year_b = create_school_year(self.admin_b, self.b, "2024-2025", dt.date(2024, 9, 5),
                                         dt.date(2025, 5, 31), is_current=True)
        self.maths = Subject.objects.get(code="TO")
        self.c6a = self._class(self.a, self.year_a, "6A", self.gvcn)
        self.c6b = self._class(self.a, self.year_a, "6B", self.gvcn_6b)
        self.c6c = self._class(self.b, self.year_b, "6C", self.gvcn_6c)
        self.s1 = self._student(self.c6a, "Nguyễn Văn An")
        self.s2 = self._student(self.c6b, "Trần Thị Bình")
        self.s3 = self._student(self.c6c, "Lê Văn Cường")

        from hocba.school.models import StudentAccess, TeachingAssignment

        self.parent = self.users["parent"] = self._user("ph_an", "parent", self.a, staff=False)
        self.student = self.users["student"] = self._user("hs_an", "student", self.a, staff=False)
        StudentAccess.objects.create(user=self.parent, student=self.s1, relation="father")
        StudentAccess.objects.create(user=self.student, student=self.s1, relation="self")
        self.assignment_a = TeachingAssignment.objects.create(
            school=self.a, school_class=self.c6a, subject=self.maths, semester=1, teacher=self.gvbm.staff)
        TeachingAssignment.objects.create(school=self.a, school_class=self.c6a, subject=self.maths,
                                          semester=2, teacher=self.gvbm.staff)
        self.assignment_b = TeachingAssignment.objects.create(
            school=self.b, school_class=self.c6c, subject=self.maths, semester=1, teacher=self.gvcn_6c.staff)

        from hocba.school.models import SubjectPlan

        self.plan_a = SubjectPlan.objects.get(year=self.year_a, grade=6, subject=self.maths)
        self.plan_b = SubjectPlan.objects.get(year=self.year_b, grade=6, subject=self.maths)
        self.upload_a = self._upload(self.a, self.year_a, self.admin)
        self.upload_b = self._upload(self.b, self.year_b, self.admin_b)
        self.unlock_a = self._unlock(self.c6a, self.gvbm)
        self.unlock_b = self._unlock(self.c6c, self.gvcn_6c)
        self.message_a, self.conflict_a = self._outbox(self.a), self._conflict(self.a)
        self.message_b, self.conflict_b = self._outbox(self.b), self._conflict(self.b)
        self.identity_a = self._identity(self.a, self.gvcn.staff)
        self.identity_b = self._identity(self.b, self.gvcn_6c.staff)
        self.batch_a = self._batch(self.a, self.gvcn)
        self.batch_b = self._batch(self.b, self.gvcn_6c)
        self.record_s1 = self._record(self.c6a, self.s1)
        self.record_s2 = self._record(self.c6b, self.s2)
        self.record_s3 = self._record(self.c6c, self.s3)
        self.received_s1 = self._received(self.a, self.s1)
        self.received_s2 = self._received(self.a, self.s2)
        self.received_s3 = self._received(self.b, self.s3)

        from hocba.digitise import actions as digitise
        from hocba.digitise.models import Digitisation

        self.digitise_a = digitise.create(self.admin, self.s1, school_year="2023-2024", grade=6,
                                          class_name="6A")
        Digitisation.objects.filter(pk=self.digitise_a.pk).update(homeroom_teacher=self.gvcn.staff)
        self.digitise_b = digitise.create(self.admin_b, self.s3, school_year="2023-2024", grade=6,
                                          class_name="6C")

        from hocba.api.actions import issue_token

        self.tokens = {role: issue_token(user, user).secret for role, user in self.users.items() if user}

    # --- builders ---------------------------------------------------------------------------------------

    def _school(self, division, code, name):
        from hocba.school.models import School

        return School.objects.create(department=self.department, division=division, code=code, name=name,
                                     commune_name="Phường Bến Nghé", province_name="Thành phố Hồ Chí Minh",
                                     province_code="79")

    def _user(self, username, role, school, position="GV", *, staff=True):
        from django.contrib.auth.models import User

        from hocba.school.models import Membership, Staff

        user = User.objects.create_user(username=username, password="MatKhau@2026", first_name=username)
        Membership.objects.create(user=user, role=role, school=school)
        if staff:
            Staff.objects.create(school=school, user=user, staff_code=f"CB{user.pk:04d}",
                                 personal_number=f"079085{next(_serial):06d}",
                                 full_name=f"Nguyễn Văn {username}", gender="1", position=position)
        return user

    def _class(self, school, year, name, homeroom):
        from hocba.school.models import SchoolClass

        return SchoolClass.objects.create(school=school, year=year, grade=6, name=name,
                                          homeroom_teacher=homeroom.staff)

    def _student(self, school_class, full_name):
        from hocba.school.models import Enrolment, Student

        serial = next(_serial)
        student = Student.objects.create(
            school=school_class.school, personal_number=f"079213{serial:06d}", student_code=f"HS{serial}",
            full_name=full_name, gender="1", birth_date=dt.date(2013, 1, 1), birthplace="TP HCM",
            hometown="TP HCM", residence="TP HCM")
        Enrolment.objects.create(school=school_class.school, student=student, year=school_class.year,
                                 school_class=school_class)
        return student

    def _upload(self, school, year, by):
        from hocba.school.models import RosterUpload

        return RosterUpload.objects.create(school=school, year=year, kind="students", filename="hs.xlsx",
                                           sha256="0" * 64, data=b"not a workbook", uploaded_by=by)

    def _unlock(self, school_class, teacher):
        from hocba.gradebook.models import ColumnSignoff, UnlockRequest

        now = timezone.now()
        column = ColumnSignoff.objects.create(school=school_class.school, school_class=school_class,
                                              subject=self.maths, semester=1, state=ColumnSignoff.CONFIRMED,
                                              confirmed_by=teacher, confirmed_at=now)
        return UnlockRequest.objects.create(school=school_class.school, column=column, reason="Nhập nhầm",
                                            requested_by=teacher, requested_at=now)

    def _outbox(self, school):
        from hocba.interop.models import OutboxMessage

        now = timezone.now()
        return OutboxMessage.objects.create(
            school=school, record_key=f"{school.code}-{next(_serial)}", document_id=str(uuid.uuid4()),
            event=OutboxMessage.EVENT_CHOICES[0][0], version=1, changed_at=now, payload_file="none.xml",
            payload_sha256="0" * 64, state="failed", attempts=3, next_attempt_at=now, created_at=now)

    def _conflict(self, school):
        from hocba.interop.models import SyncConflict

        return SyncConflict.objects.create(
            school=school, kind=SyncConflict._meta.get_field("kind").choices[0][0], key="HS1",
            object_repr="Học sinh HS1", field="full_name", field_label="Họ và tên", local_value="A",
            sector_value="B", resolution=SyncConflict._meta.get_field("resolution").choices[0][0],
            detected_at=timezone.now())

    def _identity(self, school, staff):
        from hocba.identities.models import SigningIdentity

        now = timezone.now()
        return SigningIdentity.objects.create(
            school=school, staff=staff, kind="personal", backend="server_pkcs12", certificate=b"\x30\x00",
            subject_cn=staff.full_name, issuer="CN=Test CA", serial="01", fingerprint=f"{next(_serial):064d}",
            not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365),
            status=SigningIdentity.Status.REVOKED, registered_at=now)

    def _batch(self, school, actor):
        from hocba.records.models import SigningBatch

        return SigningBatch.objects.create(school=school, kind="gvcn", actor=actor, signer=actor.staff,
                                           state=SigningBatch.FINISHED, created_at=timezone.now())

    @property
    def _xml(self) -> bytes:
        """A well-formed học bạ XML (the documents package's sample), so that a bundle can be exported."""
        if not hasattr(self, "_sample_xml"):
            from hocba.documents import to_xml
            from hocba.documents.sample import sample_record

            self._sample_xml = to_xml(sample_record())
        return self._sample_xml

    def _received(self, school, student):
        """A grade-5 year received from a primary school in a transfer package (files stored as received)."""
        from hocba.interop.models import ReceivedRecord, TransferImport
        from hocba.records import storage

        record_id = str(uuid.uuid4())
        folder = storage.relative_dir(school.code, "da-nhan", record_id)
        pdf, pdf_sha = storage.write(folder, b"%PDF-1.7\n% access matrix fixture (received)\n", "pdf")
        xml, xml_sha = storage.write(folder, self._xml, "xml")
        transfer = TransferImport.objects.create(
            school=school, student=student, package_sha256=uuid.uuid4().hex * 2, source_school_code="79000999",
            source_school_name="Trường Tiểu học Cũ", manifest={}, imported_at=timezone.now())
        return ReceivedRecord.objects.create(
            transfer=transfer, school=school, student=student, record_id=record_id, version=1,
            school_year="2023-2024", grade=5, source_school_code="79000999", source_school_name="Trường Tiểu học Cũ",
            pdf_file=pdf, pdf_sha256=pdf_sha, xml_file=xml, xml_sha256=xml_sha)

    def _record(self, school_class, student):
        from hocba.records import storage
        from hocba.records.models import HocBaRecord

        record_id = uuid.uuid4()
        folder = storage.relative_dir(school_class.school.code, school_class.year.name, str(record_id))
        pdf, pdf_sha = storage.write(folder, b"%PDF-1.7\n% access matrix fixture\n", "pdf")
        xml, xml_sha = storage.write(folder, self._xml, "xml")
        now = timezone.now()
        return HocBaRecord.objects.create(
            record_id=record_id, school=school_class.school, year=school_class.year,
            school_class=school_class, student=student, status=HocBaRecord.ISSUED,
            verification_code=f"AM{next(_serial):012d}", qr_secret_sha256="0" * 64, source_sha256="0" * 64, data_xml_sha256="0" * 64, snapshot={},
            pdf_file=pdf, pdf_sha256=pdf_sha, xml_file=xml, xml_sha256=xml_sha,
            leader=school_class.homeroom_teacher, created_at=now, issued_at=now)
