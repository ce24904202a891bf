"""The signing workflow: subject teachers in any order, then the GVCN, the leader and the seal; both files get
every signature; batches survive a crash; nothing is issued with a signature missing or invalid."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied

pytestmark = pytest.mark.django_db


def _files(record):
    from hocba.records import storage

    record.refresh_from_db()
    return storage.read(record.pdf_file, record.pdf_sha256), storage.read(record.xml_file, record.xml_sha256)


def test_teachers_in_any_order_then_gvcn_leader_and_seal_issue_valid_pdf_and_xml(rw, settings):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from hocba.identities.service import trust_config
    from hocba.records.models import HocBaRecord, RegistryEntry, SignatureStep
    from hocba.signing.pades import signature_fields
    from hocba.signing.validate import validate_pdf, validate_xml

    settings.HOCBA_RECORDS_VALIDATION = "full"
    cls = rw.make_class(students=2)
    rw.release(cls)
    rw.generate(cls)
    # the GVCN cannot sign before every subject teacher has
    assert rw.sign("gvcn", rw.gvcn, cls) is None
    # gv.hoa's fields come after gv.toan's in the plan; she signs first
    for user in (rw.gv2, rw.gvcn, rw.gv1):
        batch = rw.sign("gvbm", user, cls)
        assert batch.state == "finished" and batch.failed == 0, batch.error
    assert rw.sign("seal", rw.principal, cls) is None  # the leader has not approved yet
    for kind, user in (("gvcn", rw.gvcn), ("leader", rw.principal), ("seal", rw.principal)):
        batch = rw.sign(kind, user, cls)
        assert batch.state == "finished" and batch.done == 2 and batch.failed == 0, batch.error
    trust = trust_config()
    for record in HocBaRecord.objects.all():
        assert record.status == "issued" and record.issued_by == rw.principal
        assert not record.steps.exclude(state=SignatureStep.SIGNED).exists()
        pdf, xml = _files(record)
        assert all(signature_fields(pdf).values())
        pdf_report, xml_report = validate_pdf(pdf, trust), validate_xml(xml, trust)
        assert pdf_report.valid, pdf_report.render_text()
        assert xml_report.valid, xml_report.render_text()
        fields = [s.id for s in pdf_report.signatures if s.kind == "signature"]  # in signing order
        steps = list(record.steps.order_by("batch_id", "order"))
        assert fields == [s.field_name for s in steps] and fields[-3:] == ["gvcn", "hieutruong", "condau"]
        assert fields[0].startswith("gv-") and steps[0].signer.user == rw.gv2  # not the plan's first field
        assert [s.id for s in xml_report.signatures] == [s.signature_id for s in steps]
        assert RegistryEntry.objects.get(record=record, event="issued").file_sha256 == record.xml_sha256
        # personal signatures come from the batch fast path: one revision each, its revocation data included
        reader = PdfFileReader(io.BytesIO(pdf))
        personal = [s for s in reader.embedded_regular_signatures if s.field_name != "condau"]
        revisions = [s.signed_revision for s in personal]
        assert revisions == list(range(revisions[0], revisions[0] + len(personal))), revisions
        assert "/DSS" in reader.get_historical_resolver(revisions[0]).root


def test_each_signer_signs_only_their_own_steps_and_the_seal_is_the_principals_or_admins(rw):
    from hocba.records import actions
    from hocba.records.models import SignatureStep

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    assert rw.sign("gvbm", rw.other_teacher, cls) is None
    with pytest.raises(PermissionDenied):
        actions.start_signing(rw.gv1, rw.school, "seal", school_class=cls)
    with pytest.raises(PermissionDenied):
        actions.start_signing(rw.gv1, rw.school, "leader", school_class=cls)
    batch = rw.sign("gvbm", rw.gv1, cls)
    signed = set(SignatureStep.objects.filter(state="signed").values_list("signer__user", flat=True))
    assert signed == {rw.gv1.pk} and batch.done == SignatureStep.objects.filter(signer__user=rw.gv1).count()


def test_a_teachers_batch_spans_all_their_classes(rw):
    from hocba.records import actions, workflow

    a, b = rw.make_class("9A1", students=1), rw.make_class("9A2", students=1)
    for cls in (a, b):
        rw.release(cls)
        rw.generate(cls)
    batch = actions.start_signing(rw.gv2, rw.school, "gvbm")  # no class: everything of hers
    assert {i.record.school_class_id for i in batch.items.select_related("record")} == {a.pk, b.pk}
    assert workflow.run_batch(batch).state == "finished"


def test_a_crash_before_the_switch_leaves_records_untouched_and_the_batch_resumes(rw, monkeypatch):
    from django.utils import timezone

    from hocba.records import actions, workflow
    from hocba.records.models import HocBaRecord, SignatureStep, SigningBatch

    cls = rw.make_class(students=2)
    rw.release(cls)
    rw.generate(cls)
    before = {r.pk: (r.pdf_sha256, r.xml_sha256) for r in HocBaRecord.objects.all()}
    batch = actions.start_signing(rw.gv1, rw.school, "gvbm", school_class=cls)

    def crash(*args, **kwargs):
        raise OSError("máy chủ mất điện")

    monkeypatch.setattr(workflow, "_commit", crash)  # signed files written, the switch never happens
    batch = workflow.run_batch(batch)
    assert batch.state == "failed" and "mất điện" in batch.error
    assert {r.pk: (r.pdf_sha256, r.xml_sha256) for r in HocBaRecord.objects.all()} == before
    assert not SignatureStep.objects.filter(state="signed").exists()
    assert workflow.orphan_files()  # the outputs of the crashed chunk
    # a running batch holds its steps; one whose process stopped (no heartbeat) does not
    SigningBatch.objects.filter(pk=batch.pk).update(state="running", heartbeat_at=timezone.now())
    assert not workflow.eligible_steps("gvbm", signer=rw.gv1.staff).exists()
    SigningBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now() - workflow.STALE_AFTER * 2)
    assert workflow.stale_batches().get() == batch
    assert workflow.eligible_steps("gvbm", signer=rw.gv1.staff).count() == batch.total
    monkeypatch.undo()
    batch = actions.resume(rw.gv1, batch)
    assert batch.state == "finished" and batch.done == batch.total
    assert workflow.remove_orphans() >= 1 and not workflow.orphan_files()
    for record in HocBaRecord.objects.all():
        assert (record.pdf_sha256, record.xml_sha256) != before[record.pk] and record.status == "signing"
    assert SigningBatch.objects.get(pk=batch.pk).items.filter(state="done").count() == batch.total


def test_a_rolled_back_batch_gives_its_steps_back(rw, monkeypatch):
    from hocba.records import actions, workflow

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    batch = actions.start_signing(rw.gv1, rw.school, "gvbm", school_class=cls)
    monkeypatch.setattr(workflow, "_commit", lambda *a, **k: (_ for _ in ()).throw(OSError("dừng")))
    workflow.run_batch(batch)
    monkeypatch.undo()
    assert actions.rollback(rw.gv1, batch).state == "rolled_back"
    assert rw.sign("gvbm", rw.gv1, cls).state == "finished"


def test_a_new_batch_takes_over_the_steps_of_a_failed_one(rw, monkeypatch):
    from hocba.records import actions, workflow

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    failed = actions.start_signing(rw.gv1, rw.school, "gvbm", school_class=cls)
    monkeypatch.setattr(workflow, "_commit", lambda *a, **k: (_ for _ in ()).throw(OSError("dừng")))
    workflow.run_batch(failed)
    monkeypatch.undo()
    batch = rw.sign("gvbm", rw.gv1, cls)  # "Ký tất cả" again
    assert batch.state == "finished" and batch.done == failed.total
    failed.refresh_from_db()
    assert failed.failed == failed.total and not failed.items.filter(state="pending").exists()


def test_two_teachers_signing_the_same_records_at_once_both_end_up_in_the_files(rw):
    from hocba.records import actions, workflow
    from hocba.records.models import HocBaRecord
    from hocba.signing.pades import signature_fields

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    first = actions.start_signing(rw.gv1, rw.school, "gvbm", school_class=cls)
    second = actions.start_signing(rw.gv2, rw.school, "gvbm", school_class=cls)  # made from the same files
    assert workflow.run_batch(first).state == "finished"
    assert workflow.run_batch(second).state == "finished"  # re-based on the files the first one made
    pdf, _ = _files(HocBaRecord.objects.get())
    signed = {name for name, done in signature_fields(pdf).items() if done}
    assert {i.step.field_name for b in (first, second) for i in b.items.select_related("step")} == signed


def test_nothing_is_issued_when_a_signature_is_missing_or_the_twin_differs(rw):
    from hocba.identities.service import trust_config
    from hocba.records.models import HocBaRecord
    from hocba.records.verification import issue_problems

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    record = HocBaRecord.objects.get()
    pdf, xml = _files(record)
    problems = issue_problems(pdf, xml, list(record.steps.all()), trust_config(), full=False)
    assert problems[0].startswith("PDF thiếu chữ ký: ") and problems[1].startswith("XML thiếu chữ ký")
    other = xml.replace(b"<hovaten>", b"<hovaten>X", 1)
    assert any("không khớp" in p for p in issue_problems(pdf, other, [], trust_config(), full=False))


def test_a_seal_whose_document_fails_validation_is_not_issued(rw, settings, monkeypatch):
    from hocba.records import verification
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    for kind, user in (("gvbm", rw.gv1), ("gvbm", rw.gv2), ("gvbm", rw.gvcn), ("gvcn", rw.gvcn),
                       ("leader", rw.principal)):
        rw.sign(kind, user, cls)
    monkeypatch.setattr(verification, "issue_problems", lambda *a, **k: ["PDF có chữ ký không hợp lệ (thử)"])
    batch = rw.sign("seal", rw.principal, cls)
    record = HocBaRecord.objects.get()
    assert record.status == "signing" and record.issued_at is None
    assert batch.failed == 1 and "Không phát hành" in batch.items.get().error
    assert record.steps.get(kind="seal").state == "pending"


def test_the_next_year_links_the_issued_xml_of_the_previous_one(rw, school_admin):
    import datetime as dt
    import hashlib

    from hocba.documents import IssuedYear, from_xml, verify_chain
    from hocba.records import actions, storage
    from hocba.records.models import HocBaRecord
    from hocba.school.actions import create_school_year

    grade8 = rw.make_class("8A1", students=1, grade=8)
    rw.release(grade8)
    rw.issue(grade8)
    first = HocBaRecord.objects.get()
    next_year = create_school_year(school_admin, rw.school, "2025-2026", dt.date(2025, 9, 5), dt.date(2026, 5, 31))
    grade9 = rw.make_class("9A1", students=rw.students(grade8), year=next_year)
    rw.release(grade9)
    rw.issue(grade9)
    second = HocBaRecord.objects.get(year=next_year)
    assert (second.previous_year_record_id, second.previous_year_sha256) == (str(first.record_id), first.xml_sha256)
    xml1, xml2 = storage.read(first.xml_file), storage.read(second.xml_file)
    assert from_xml(xml2).previous_year.sha256 == hashlib.sha256(xml1).hexdigest()
    assert [h.school_year for h in from_xml(xml2).history] == ["2024-2025", "2025-2026"]
    bundle = actions.give_bundle(rw.principal, second.student, purpose="Hồ sơ tuyển sinh lớp 10")
    report = verify_chain(bundle.data)
    assert report.ok, report.problems
    assert len(report.years) == 2 and verify_chain([IssuedYear(xml1), IssuedYear(xml2)]).ok


def test_a_signer_without_a_certificate_is_told_so_and_nothing_changes(rw):
    from hocba.identities.models import SigningIdentity
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    before = HocBaRecord.objects.get().pdf_sha256
    SigningIdentity.objects.filter(staff__user=rw.gv1).update(status="revoked")
    batch = rw.sign("gvbm", rw.gv1, cls)
    assert batch.state == "failed" and "chưa có chứng thư số đang dùng" in batch.error
    assert batch.items.filter(state="pending").count() == batch.total
    assert HocBaRecord.objects.get().pdf_sha256 == before
