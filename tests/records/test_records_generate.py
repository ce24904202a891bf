"""Generation: only from a released grade book, as an immutable snapshot; the XML and the PDF say the same;
every signer has an empty field and a step; what is missing is named."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from hocba.school.actions import ActionError

pytestmark = pytest.mark.django_db


def test_a_class_whose_year_book_is_not_released_gets_no_record_and_is_told_why(rw):
    from hocba.gradebook.models import ClassSignoff
    from hocba.records.models import HocBaRecord

    cls = rw.make_class()
    with pytest.raises(ActionError, match="chưa được ban hành"):
        rw.generate(cls)
    rw.release(cls)
    ClassSignoff.objects.filter(school_class=cls, period="year").update(state=ClassSignoff.CONFIRMED)
    with pytest.raises(ActionError, match=r"Sổ theo dõi cả năm của lớp 9A1 chưa được ban hành \(mới được GVCN"):
        rw.generate(cls)
    assert not HocBaRecord.objects.exists()


def test_each_student_gets_a_snapshot_whose_xml_and_pdf_say_the_same(rw):
    from hocba.documents import embedded_xml, from_xml, signing_plan, twin_matches
    from hocba.records import storage
    from hocba.records.models import HocBaRecord, RegistryEntry
    from hocba.school.models import Staff
    from hocba.signing.pades import TIMESTAMP_FIELD, signature_fields

    cls = rw.make_class(students=2)
    rw.release(cls)
    result = rw.generate(cls)
    assert len(result.created) == 2 and not result.not_ready
    record = HocBaRecord.objects.get(student=rw.students(cls)[0])
    xml = storage.read(record.xml_file, record.xml_sha256)
    pdf = storage.read(record.pdf_file, record.pdf_sha256)
    doc = from_xml(xml)
    assert doc.record_id == str(record.record_id) and doc.version == 1 and doc.replaces is None
    assert doc.student.name == record.student.full_name and doc.class_name == "9A1" and doc.grade == 9
    assert doc.leader.name == Staff.objects.get(user=rw.principal).full_name and not doc.leader.on_behalf
    assert record.snapshot["record"]["record_id"] == doc.record_id
    assert record.snapshot["source"]["rules_output"]["outcome"] in ("promoted", "promoted_after_summer", "retained")
    assert twin_matches(pdf, xml) and embedded_xml(pdf) == xml
    # every signer's empty field exists before the first signature, one step each, in plan order
    plan = signing_plan(doc)
    assert signature_fields(pdf) == {**{p.field_name: False for p in plan}, TIMESTAMP_FIELD: False}
    steps = list(record.steps.order_by("order"))
    assert [s.field_name for s in steps] == [p.field_name for p in plan]
    khtn = [s for s in steps if s.subject_code == "KHTN"]
    assert {s.signer.user for s in khtn} == {rw.gv1, rw.gv2}
    assert next(s for s in steps if s.subject_code == "HDTN").signer == rw.gvcn.staff
    assert [s.kind for s in steps[-3:]] == ["gvcn", "leader", "seal"] and steps[-1].signer is None
    assert RegistryEntry.objects.filter(record=record, event="generated").count() == 1
    assert record.status == "draft" and record.data_xml_sha256 == record.xml_sha256


def test_the_verification_code_is_printed_and_only_the_hash_of_the_qr_secret_is_kept(rw):
    import re
    import subprocess

    from hocba.records import storage
    from hocba.records.codes import normalise_code
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    record = HocBaRecord.objects.get()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", record.verification_code)
    assert normalise_code(record.verification_code.lower().replace("-", " ")) == record.verification_code
    pdf = storage.read(record.pdf_file)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert record.verification_code in text
    assert len(record.qr_secret_sha256) == 64 and record.qr_secret_sha256 not in text


def test_students_whose_year_is_not_final_are_named_with_the_reason_and_the_others_generated(rw):
    from hocba.gradebook.models import StudentYear

    cls = rw.make_class(students=3)
    rw.release(cls)
    first = rw.students(cls)[0]
    StudentYear.objects.filter(student=first).update(gvcn_comment="")
    result = rw.generate(cls)
    assert len(result.created) == 2
    assert [(n.student, n.reasons) for n in result.not_ready] == [
        (first, ("chưa có nhận xét của giáo viên chủ nhiệm",))]
    # generating again skips those who have a record and still names the one who has none
    again = rw.generate(cls)
    assert not again.created and len(again.skipped) == 2 and again.not_ready[0].student == first


def test_an_ethnicity_outside_the_national_list_is_reported_not_guessed(rw):
    cls = rw.make_class(students=1)
    student = rw.students(cls)[0]
    student.ethnicity = "Không rõ"
    student.save()
    rw.release(cls)
    result = rw.generate(cls)
    assert not result.created
    assert "dân tộc «Không rõ» không có trong danh mục" in result.not_ready[0].reasons[0]


def test_only_leadership_admin_or_academic_staff_generate(rw):
    cls = rw.make_class(students=1)
    rw.release(cls)
    from hocba.records import actions

    with pytest.raises(PermissionDenied):
        actions.generate_class(rw.gv1, cls)


def test_a_vice_principal_chosen_as_leader_signs_kt_hieu_truong(rw):
    from hocba.documents import from_xml
    from hocba.records import storage
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls, leader=rw.vice.staff)
    record = HocBaRecord.objects.get()
    doc = from_xml(storage.read(record.xml_file))
    assert doc.leader.on_behalf and doc.leader.heading == ("KT. HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG")
    step = record.steps.get(kind="leader")
    assert step.role == "pht" and step.signer == rw.vice.staff
    with pytest.raises(ActionError, match="không phải hiệu trưởng"):
        rw.generate(rw.make_class("9A2", students=1), leader=rw.gv1.staff)


def test_corrections_after_confirmation_are_counted_on_the_subject_page(rw):
    from django.utils import timezone

    from hocba.documents import from_xml
    from hocba.gradebook.models import CellChange, SubjectRow
    from hocba.records import storage
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=1)
    rw.release(cls)
    row = SubjectRow.objects.filter(school_class=cls, subject__code="TO", semester=1).first()
    for slot in ("gk", "ck"):
        CellChange.objects.create(row=row, slot=slot, old_value="5.0", new_value=getattr(row, slot), reason="nhầm",
                                  is_correction=True, changed_by=rw.gv1, changed_at=timezone.now())
    rw.generate(cls)
    doc = from_xml(storage.read(HocBaRecord.objects.get().xml_file))
    assert doc.corrections_on("monhoc").count == 2
    assert doc.corrections_on("monhoc").subjects == ("Toán",)
