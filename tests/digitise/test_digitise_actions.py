"""The rules of digitising a paper học bạ year, through the actions (no browser)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied

from hocba.digitise import actions
from hocba.digitise.models import Digitisation
from hocba.records import storage
from hocba.records.models import SignatureStep
from hocba.school.actions import ActionError
from hocba.school.models import Staff

from .conftest import PDF_SCAN

pytestmark = pytest.mark.django_db


def _messages(exc: ActionError) -> list[str]:
    return [m for ms in exc.message_dict.values() for m in ms] if hasattr(exc, "message_dict") else exc.messages


def test_the_scan_is_stored_with_its_sha256_and_anything_else_is_refused_with_the_reason(dw, settings):
    """Academic staff attach the scan: the bytes are kept under the documents dir and its SHA-256 recorded; a
    file that is neither PDF nor JPEG, or too large, is refused with a message and the scan already attached
    stays."""
    d = actions.attach_scan(dw.hocvu, dw.entry(), "hoc-ba-7A2.pdf", PDF_SCAN)
    assert d.scan_sha256 == hashlib.sha256(PDF_SCAN).hexdigest() and d.scan_type == "pdf"
    assert storage.read(d.scan_file, d.scan_sha256) == PDF_SCAN

    with pytest.raises(ActionError) as exc:
        actions.attach_scan(dw.hocvu, d, "ghi-chu.docx", b"PK\x03\x04 not a scan")
    assert _messages(exc.value) == [("Tệp «ghi-chu.docx» không phải PDF hoặc JPEG; chỉ nhận bản quét dạng PDF "
                                     "hoặc JPEG.")]
    settings.HOCBA_DIGITISE_SCAN_MAX_BYTES = 1024 * 1024
    with pytest.raises(ActionError) as exc:
        actions.attach_scan(dw.hocvu, d, "to.jpg", b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024))
    assert _messages(exc.value) == ["Tệp quét «to.jpg» nặng 2.0 MB; tối đa 1 MB."]
    d.refresh_from_db()
    assert d.scan_sha256 == hashlib.sha256(PDF_SCAN).hexdigest()


def test_a_bad_cell_is_named_and_nothing_of_the_form_is_saved(dw):
    """A wrong mark names the subject, the column and what is allowed; the valid rows sent with it are not
    saved either. A wrong conduct level is refused the same way."""
    d = dw.entry()
    rows = dw.rows(d)
    with pytest.raises(ActionError) as exc:
        actions.update_subjects(dw.hocvu, d, {
            rows["NV"].pk: {"hk1": "6.5", "hk2": "7", "year": "7", "teacher_name": "Lê Văn A"},
            rows["TO"].pk: {"hk1": "8", "hk2": "8", "year": "11", "teacher_name": "Lê Văn B"},
        })
    assert _messages(exc.value) == [("Môn Toán, cả năm: «11» không hợp lệ; cần số từ 0 đến 10, tối đa một chữ số "
                                     "thập phân (M nếu được miễn).")]
    with pytest.raises(ActionError) as exc:
        actions.update_subjects(dw.hocvu, d, {rows["GDTC"].pk: {"year": "8", "teacher_name": "Lê Văn C"}})
    assert "Môn Giáo dục thể chất, cả năm: «8» không hợp lệ; cần Đ hoặc CĐ" in _messages(exc.value)[0]
    assert not any(r.year for r in d.subjects.all())
    with pytest.raises(ActionError) as exc:
        actions.update_summary(dw.hocvu, d, {"conduct_year": "Giỏi"})
    assert _messages(exc.value) == ["Rèn luyện cả năm: «Giỏi» không hợp lệ; chỉ dùng T, K, Đ hoặc CĐ."]
    d.refresh_from_db()
    assert d.conduct_year == "T"


def test_submit_lists_everything_still_missing_and_only_entry_staff_may_enter(dw):
    """Submitting an incomplete entry says what is missing (scan, results, a departed teacher's subject not
    reviewed) and leaves it a draft; a teacher may neither create nor type into a digitisation."""
    d = dw.entry()
    row = dw.rows(d)["TO"]
    actions.update_subjects(dw.hocvu, d, {row.pk: {"hk1": "8", "hk2": "8.5", "year": "8.3",
                                                   "teacher_name": "Phạm Văn Toán"}})
    with pytest.raises(ActionError) as exc:
        actions.submit(dw.hocvu, d)
    assert _messages(exc.value) == [
        "Chưa đính kèm bản quét học bạ giấy.",
        "Môn Toán: giáo viên đã chuyển công tác; học vụ cần đánh dấu đã rà soát.",
    ]
    d.refresh_from_db()
    assert d.status == Digitisation.DRAFT and d.record is None
    with pytest.raises(PermissionDenied):
        actions.update_subjects(dw.gv1, d, {row.pk: {"year": "10", "teacher_name": "x"}})
    with pytest.raises(PermissionDenied):
        actions.create(dw.gv1, dw.student, school_year="2021-2022", grade=6, class_name="6A")


def test_each_current_teacher_signs_only_their_subject_and_the_principal_signs_for_those_who_left(dw):
    """After submission the record's steps are: the teacher still at the school for the subject they taught,
    the principal for every subject of a teacher who left and for the GVCN who left. Another teacher has
    nothing to sign; academic staff and the vice-principal may not sign for those who left; the principal's
    button signs the departed subjects and stops, naming the teacher still awaited."""
    d = dw.fill(dw.entry(), toan_teacher=dw.gv1)
    actions.attach_scan(dw.hocvu, d, "scan.pdf", PDF_SCAN)
    d = actions.submit(dw.hocvu, d)
    assert d.status == Digitisation.REVIEWED and d.answerable.user == dw.principal
    steps = {s.field_name: s for s in d.record.steps.select_related("signer__user")}
    gvbm = [s for s in steps.values() if s.kind == SignatureStep.GVBM]
    assert {s.subject_code for s in gvbm if s.signer.user == dw.gv1} == {"TO"}
    assert {s.signer.user for s in gvbm if s.subject_code != "TO"} == {dw.principal}
    assert steps["gvcn"].signer.user == dw.principal and steps["hieutruong"].signer.user == dw.principal
    assert d.record.snapshot["record"]["digitised"] is True
    assert d.record.snapshot["record"]["scan_sha256"] == hashlib.sha256(PDF_SCAN).hexdigest()

    with pytest.raises(ActionError) as exc:
        actions.sign_own(dw.gv2, d)
    assert "Bạn không có chữ ký nào cần thực hiện ở học bạ này" in _messages(exc.value)[0]
    for user in (dw.hocvu, dw.vice):
        with pytest.raises(PermissionDenied):
            actions.sign_and_issue(user, d)

    made, waiting = actions.sign_and_issue(dw.principal, d)
    assert len(gvbm) == 3 and made == 2
    assert len(waiting) == 1 and Staff.objects.get(user=dw.gv1).full_name in waiting[0] and "Toán" in waiting[0]
    assert actions.sign_own(dw.gv1, d) == 1
    assert not d.record.steps.filter(kind=SignatureStep.GVBM, state=SignatureStep.PENDING).exists()
    d.refresh_from_db()
    assert d.status == Digitisation.REVIEWED  # not issued until the principal approves and seals
