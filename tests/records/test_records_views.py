"""The pages: a class's Học bạ số page (generate, progress per step and who is still missing, Ký tất cả,
approval, seal), the batch's progress, a record's page, the registry and its filters."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def test_the_class_page_refuses_generation_until_the_book_is_released_and_says_why(rw, client):
    cls = rw.make_class(students=1)
    client.force_login(rw.principal)
    page = _text(client.get(f"/hoc-ba-so/lop/{cls.pk}/"))
    assert "Chưa tạo được học bạ" in page and "chưa được ban hành" in page
    response = client.post(f"/hoc-ba-so/lop/{cls.pk}/tao/", follow=True)
    assert "học bạ chỉ được tạo từ sổ đã ban hành" in _text(response)


def test_generate_sign_approve_and_seal_from_the_class_page(rw, client):
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=2)
    rw.release(cls)
    client.force_login(rw.principal)
    page = _text(client.post(f"/hoc-ba-so/lop/{cls.pk}/tao/", {"leader": rw.principal.staff.pk}, follow=True))
    assert "Đã tạo 2 học bạ" in page
    # progress names who is still missing at each step
    assert "Giáo viên bộ môn ký" in page and "Đặng Thị Hoà: " in page and "Phạm Minh Tuấn: " in page
    assert "Con dấu số của trường: 2" in page

    for user in (rw.gv1, rw.gv2, rw.gvcn):
        client.force_login(user)
        page = _text(client.get(f"/hoc-ba-so/lop/{cls.pk}/"))
        assert "Ký tất cả (" in page
        response = client.post(f"/hoc-ba-so/lop/{cls.pk}/ky/gvbm/", follow=True)
        assert "Đã ký xong" in _text(response) and response.redirect_chain[-1][0].startswith("/hoc-ba-so/lo/")
    client.force_login(rw.gvcn)
    assert "Đã ký xong" in _text(client.post(f"/hoc-ba-so/lop/{cls.pk}/ky/gvcn/", follow=True))
    client.force_login(rw.principal)
    page = _text(client.get(f"/hoc-ba-so/lop/{cls.pk}/"))
    assert "Phê duyệt tất cả (2)" in page
    assert "Đã ký xong" in _text(client.post(f"/hoc-ba-so/lop/{cls.pk}/ky/leader/", follow=True))
    page = _text(client.post(f"/hoc-ba-so/lop/{cls.pk}/ky/seal/", follow=True))
    assert "các học bạ đã được phát hành" in page
    assert set(HocBaRecord.objects.values_list("status", flat=True)) == {"issued"}
    page = _text(client.get(f"/hoc-ba-so/lop/{cls.pk}/"))
    assert "Đã phát hành" in page and "Ký tất cả" not in page


def test_a_teacher_sees_their_pending_work_across_classes_and_signs_it_in_one_batch(rw, client):
    from hocba.records.models import SignatureStep

    for name in ("9A1", "9A2"):
        cls = rw.make_class(name, students=1)
        rw.release(cls)
        rw.generate(cls)
    client.force_login(rw.gv2)
    page = _text(client.get("/hoc-ba-so/"))
    assert "9A1" in page and "9A2" in page and "Ký tất cả – giáo viên bộ môn ký" in page
    client.post("/hoc-ba-so/ky/gvbm/", follow=True)
    assert not SignatureStep.objects.filter(signer__user=rw.gv2, state="pending").exists()


def test_a_teacher_of_another_class_cannot_open_it_and_a_teacher_cannot_seal(rw, client):
    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    client.force_login(rw.other_teacher)
    assert client.get(f"/hoc-ba-so/lop/{cls.pk}/").status_code == 403
    client.force_login(rw.gv1)
    assert client.post(f"/hoc-ba-so/lop/{cls.pk}/ky/seal/").status_code == 403
    assert client.post(f"/hoc-ba-so/lop/{cls.pk}/tao/").status_code == 403


def test_the_record_page_revokes_with_a_reason_and_offers_a_new_version(rw, client):
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.issue(cls)
    record = HocBaRecord.objects.get()
    client.force_login(rw.principal)
    page = _text(client.get(f"/hoc-ba-so/{record.record_id}/"))
    assert "Có hiệu lực" in page and record.verification_code in page and "Thu hồi học bạ này" in page
    assert '<dialog id="revoke-dialog"' in page
    page = _text(client.post(f"/hoc-ba-so/{record.record_id}/thu-hoi/", {"reason": "Sai điểm môn Toán"}, follow=True))
    assert "Đã thu hồi học bạ" in page and "Lí do: Sai điểm môn Toán" in page
    response = client.post(f"/hoc-ba-so/{record.record_id}/phien-ban-moi/", follow=True)
    new = HocBaRecord.objects.get(version=2)
    assert response.redirect_chain[-1][0] == f"/hoc-ba-so/{new.record_id}/"
    assert "Chưa phát hành" in _text(response)
    client.force_login(rw.vice)  # the vice-principal reads but may not revoke
    assert "Thu hồi học bạ này" not in _text(client.get(f"/hoc-ba-so/{new.record_id}/"))


def test_the_registry_lists_events_and_issued_versions_with_filters(rw, client):
    from hocba.records import actions
    from hocba.records.models import HocBaRecord

    cls = rw.make_class(students=2)
    rw.release(cls)
    rw.issue(cls)
    first = HocBaRecord.objects.order_by("student__sort_key").first()
    actions.give_copy(rw.principal, first, "xml", recipient="Phòng GDĐT", purpose="Xác minh")
    client.force_login(rw.school_admin)
    page = _text(client.get(f"/hoc-ba-so/truong/{rw.school.pk}/so-dang-ky/"))
    assert page.count("Phát hành") >= 2 and "Cấp bản sao điện tử" in page and "Phòng GDĐT – Xác minh" in page
    page = _text(client.get(f"/hoc-ba-so/truong/{rw.school.pk}/so-dang-ky/?su_kien=copy"))
    assert "Phòng GDĐT" in page and "Tạo phiên bản" not in page.split("<tbody>")[1]
    page = _text(client.get(f"/hoc-ba-so/truong/{rw.school.pk}/so-dang-ky/?xem=phat-hanh"))
    assert page.count("Có hiệu lực") == 2 and str(first.record_id) in page
    page = _text(client.get(f"/hoc-ba-so/truong/{rw.school.pk}/so-dang-ky/?hoc_sinh={first.student.student_code}"))
    assert first.student.full_name in page
    client.force_login(rw.gv1)
    assert client.get(f"/hoc-ba-so/truong/{rw.school.pk}/so-dang-ky/").status_code == 403


def test_a_failed_batch_page_offers_to_continue_or_give_up(rw, client, monkeypatch):
    from hocba.records import workflow
    from hocba.records.models import SigningBatch

    cls = rw.make_class(students=1)
    rw.release(cls)
    rw.generate(cls)
    monkeypatch.setattr(workflow, "_commit", lambda *a, **k: (_ for _ in ()).throw(OSError("mất kết nối")))
    client.force_login(rw.gv1)
    page = _text(client.post(f"/hoc-ba-so/lop/{cls.pk}/ky/gvbm/", follow=True))
    assert "Lỗi khi ký: mất kết nối" in page and "Ký tiếp phần còn lại" in page
    monkeypatch.undo()
    batch = SigningBatch.objects.get()
    page = _text(client.post(f"/hoc-ba-so/lo/{batch.pk}/tiep-tuc/", follow=True))
    assert "Đã ký xong" in page
