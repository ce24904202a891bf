"""Revocation and correction: the principal revokes with a reason, a new version names the one it replaces
and is signed again; the old one stays downloadable and verifies as revoked and replaced; the registry
records every issue, version and copy."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from hocba.school.actions import ActionError

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(rw):
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.issue(cls)
    record = HocBaRecord.objects.get()
    assert record.status == "issued"
    return record


def test_revoke_then_a_new_version_replaces_the_old_which_verifies_as_revoked(rw, issued):
    from hocba.documents import from_xml
    from hocba.gradebook.models import StudentYear
    from hocba.interop.models import OutboxMessage
    from hocba.records import actions, storage
    from hocba.records.models import HocBaRecord
    from hocba.records.verification import registry_status, verify_document

    with pytest.raises(PermissionDenied):
        actions.revoke(rw.vice, issued, "Sai nhận xét của giáo viên chủ nhiệm")
    with pytest.raises(ActionError, match="lí do"):
        actions.revoke(rw.principal, issued, "")
    actions.revoke(rw.principal, issued, "Sai nhận xét của giáo viên chủ nhiệm")
    issued.refresh_from_db()
    assert issued.status == "revoked" and issued.revoked_by == rw.principal
    assert registry_status(issued).text.startswith("Đã bị thu hồi ngày")
    # the corrected grade book (reopened and released again by the grade-book workflow) gives version 2
    StudentYear.objects.filter(student=issued.student).update(gvcn_comment="Em chăm ngoan, học tốt (đã sửa).")
    new = actions.reissue(rw.principal, issued)
    assert new.version == 2 and new.replaces == issued and new.status == "draft"
    doc = from_xml(storage.read(new.xml_file))
    assert doc.replaces == str(issued.record_id) and doc.version == 2 and doc.event == "UPDATE"
    assert doc.homeroom_comment == "Em chăm ngoan, học tốt (đã sửa)."
    with pytest.raises(ActionError, match="đã có phiên bản thay thế"):
        actions.reissue(rw.principal, issued)
    rw.sign_all()
    new.refresh_from_db()
    issued.refresh_from_db()
    assert new.status == "issued" and issued.status == "superseded" and issued.replaced_by == new
    old_check = verify_document(storage.read(issued.pdf_file))
    assert old_check.signatures_valid and old_check.is_registered_file and not old_check.status.in_force
    assert f"Đã bị thu hồi, thay thế bởi học bạ {new.record_id} (phiên bản 2" in old_check.status.text
    new_check = verify_document(storage.read(new.xml_file))
    assert new_check.signatures_valid and new_check.status.in_force and new_check.is_registered_file
    assert new_check.status.text.startswith("Có hiệu lực")
    events = list(HocBaRecord.objects.get(pk=issued.pk).registry.order_by("at", "id").values_list("event", flat=True))
    assert events == ["generated", "issued", "revoked", "superseded"]
    # the sector's platform hears NEW, CANCEL, then UPDATE, each committed with the change
    assert list(OutboxMessage.objects.order_by("version").values_list("event", "version")) == [
        ("NEW", 1), ("CANCEL", 2), ("UPDATE", 3)]


def test_only_an_issued_record_is_revoked_and_only_a_revoked_one_reissued(rw, issued):
    from hocba.records import actions

    with pytest.raises(ActionError, match="Chỉ tạo phiên bản mới"):
        actions.reissue(rw.principal, issued)
    actions.revoke(rw.principal, issued, "Nhập nhầm điểm môn Toán")
    with pytest.raises(ActionError, match="Chỉ thu hồi được học bạ đang có hiệu lực"):
        actions.revoke(rw.principal, issued, "Nhập nhầm điểm môn Toán")


def test_every_copy_given_out_is_in_the_registry_with_who_for_whom_and_which_bytes(rw, issued):
    import hashlib

    from hocba.records import actions
    from hocba.records.models import RegistryEntry

    out = actions.give_copy(rw.principal, issued, "pdf", recipient="Trường THPT Lê Quý Đôn",
                            purpose="Hồ sơ tuyển sinh lớp 10")
    entry = RegistryEntry.objects.get(event="copy")
    assert entry.file_sha256 == hashlib.sha256(out.data).hexdigest() == issued.pdf_sha256
    assert (entry.recipient, entry.purpose, entry.actor, entry.file_format) == (
        "Trường THPT Lê Quý Đôn", "Hồ sơ tuyển sinh lớp 10", rw.principal, "pdf")
    with pytest.raises(PermissionDenied):
        actions.give_copy(rw.other_teacher, issued, "xml")


def test_parents_download_their_childs_issued_record_and_nothing_else(rw, issued, make_user, client):
    from hocba.records.models import HocBaRecord, RegistryEntry
    from hocba.school.models import StudentAccess

    parent = make_user("phuhuynh", "parent", rw.school, staff=False)
    StudentAccess.objects.create(user=parent, student=issued.student, relation="mother")
    client.force_login(parent)
    home = client.get("/").content.decode()
    assert 'href="/hoc-ba-so/"' in home and "Xem và tải học bạ số của con" in home  # found from the home page
    page = client.get("/hoc-ba-so/")
    assert page.status_code == 200 and "Học bạ số của con" in page.content.decode()
    assert issued.verification_code not in page.content.decode()  # the list shows years, not codes
    pdf = client.get(f"/hoc-ba-so/{issued.record_id}/tai/pdf/")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-" and pdf["Content-Type"] == "application/pdf"
    xml = client.get(f"/hoc-ba-so/{issued.record_id}/tai/xml/")
    assert xml.status_code == 200 and b"<hocba" in xml.content
    assert RegistryEntry.objects.filter(event="copy", actor=parent).count() == 2
    bundle = client.get(f"/hoc-ba-so/hoc-sinh/{issued.student.pk}/ho-so-thcs/")
    assert bundle.status_code == 200 and bundle.content[:2] == b"PK"
    # another student's record, and a version not issued yet, are refused
    other = rw.make_class("9A2", students=1)
    rw.release(other)
    rw.generate(other)
    draft = HocBaRecord.objects.get(school_class=other)
    assert client.get(f"/hoc-ba-so/{draft.record_id}/tai/pdf/").status_code == 403
    StudentAccess.objects.create(user=parent, student=draft.student, relation="mother")
    assert client.get(f"/hoc-ba-so/{draft.record_id}/tai/pdf/").status_code == 403
