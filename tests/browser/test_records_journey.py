"""Revoke and reissue a học bạ in a real browser, on the demo school with its demo keys.

Set-up through the CLI-level helpers (``records.pipeline``): the demo PKI for the demo school's staff and seal
(``identities.demo.setup_demo_pki``, served on loopback), 9A1's demo grade book released, and the học bạ of
two students of 9A1 — the demo parent's child and one more — generated and signed through every step. Then
the principal, in the browser, revokes the child's record with a reason and makes a new version; the new
version is signed through every step again (helper, to keep the journey short); the old one now reads
"Đã bị thu hồi, thay thế bởi …" and its downloaded files verify as revoked, the new one as in force; the
parent sees both versions and downloads the new one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _off_the_event_loop(fn, *args, **kwargs):
    """Runs ``fn`` in a worker thread: Playwright's sync API keeps an event loop running in the test's thread,
    and the signing code (pyHanko) runs its own with ``asyncio.run``."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@pytest.fixture
def demo_issued(transactional_db, settings, tmp_path):
    from tests.pki_support import free_port, serving

    from hocba.identities.demo import setup_demo_pki
    from hocba.records import actions, build, demo, pipeline
    from hocba.records.models import HocBaRecord
    from hocba.school.demo import DEMO_PASSWORD, load_demo
    from hocba.school.models import SchoolClass, StudentAccess

    load_demo(seed=2024)
    settings.HOCBA_PKI_DIR = str(tmp_path / "pki")
    settings.HOCBA_TRUST_ANCHORS = settings.HOCBA_TSA_URL = settings.HOCBA_TRUST_INTERMEDIATES = None
    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    settings.HOCBA_RECORDS_INLINE = True
    settings.HOCBA_RECORDS_VALIDATION = "sample"
    cls = SchoolClass.objects.select_related("school__department", "year", "homeroom_teacher").get(
        name="9A1", year__name="2024-2025")
    setup_demo_pki(cls.school, port=free_port())
    with serving(tmp_path):
        demo.fill_demo_gradebook(cls)
        child = StudentAccess.objects.get(user__username="phuhuynh").student
        other = next(s for s in build.students_in_class(cls) if s.pk != child.pk)
        principal = pipeline.principal_user(cls.school)
        _off_the_event_loop(actions.generate_class, principal, cls, students=[child, other])
        runs = _off_the_event_loop(pipeline.sign_everything, cls.school, HocBaRecord.objects.filter(school_class=cls))
        assert not [r.errors for r in runs if r.errors]
        assert set(HocBaRecord.objects.values_list("status", flat=True)) == {"issued"}
        yield {"password": DEMO_PASSWORD, "cls": cls, "record": HocBaRecord.objects.get(student=child)}


def _download(page, link_name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    return Path(info.value.path()).read_bytes()


def test_the_principal_revokes_and_reissues_and_the_old_version_verifies_as_replaced(page, live_server, demo_issued,
                                                                                     signin, signout):
    from hocba.records import pipeline
    from hocba.records.models import HocBaRecord
    from hocba.records.verification import verify_document

    old = demo_issued["record"]
    signin("hieutruong", demo_issued["password"])
    page.goto(f"{live_server.url}/hoc-ba-so/lop/{demo_issued['cls'].pk}/")
    expect(page.get_by_role("heading", name="Học bạ số – lớp 9A1 – năm học 2024-2025")).to_be_visible()
    page.get_by_role("row", name=old.student.full_name).get_by_role("link", name="Chi tiết").click()
    expect(page.get_by_role("heading", name="Phiên bản 1: Có hiệu lực", exact=False)).to_be_visible()

    # revoke: the confirmation dialog asks for the reason
    page.get_by_role("button", name="Thu hồi học bạ này").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Lí do thu hồi").fill("Nhận xét của giáo viên chủ nhiệm ghi nhầm học sinh")
    dialog.get_by_role("button", name="Xác nhận thu hồi").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.get_by_text("Đã thu hồi học bạ.")).to_be_visible()
    expect(page.get_by_role("heading", name="Phiên bản 1: Đã bị thu hồi ngày", exact=False)).to_be_visible()

    # a new version from the grade book as it is now, to be signed again
    page.get_by_role("button", name="Tạo phiên bản mới từ sổ theo dõi hiện tại").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.get_by_role("heading", name="Phiên bản 2: Chưa phát hành", exact=False)).to_be_visible()
    new = HocBaRecord.objects.get(student=old.student, version=2)
    expect(new.replaces == old and page.get_by_text(str(old.record_id)).first).to_be_visible()

    runs = _off_the_event_loop(pipeline.sign_everything, old.school, HocBaRecord.objects.filter(pk=new.pk))
    assert [r.signatures for r in runs] == [new.steps.filter(kind=k).count() for k in ("gvbm", "gvcn", "leader",
                                                                                         "seal")]
    page.reload()
    expect(page.get_by_role("heading", name="Phiên bản 2: Có hiệu lực", exact=False)).to_be_visible()
    new_pdf = _download(page, "Tải PDF")

    page.get_by_role("link", name="phiên bản 1", exact=False).first.click()
    heading = page.get_by_role("heading", name="Phiên bản 1: Đã bị thu hồi, thay thế bởi học bạ", exact=False)
    expect(heading).to_be_visible()
    assert str(new.record_id) in heading.inner_text()
    old_pdf, old_xml = _download(page, "Tải PDF"), _download(page, "Tải XML")

    for data in (old_pdf, old_xml):
        check = _off_the_event_loop(verify_document, data)
        assert check.signatures_valid and check.is_registered_file, check.verdict
        assert not check.status.in_force
        assert check.status.text.startswith(f"Đã bị thu hồi, thay thế bởi học bạ {new.record_id} (phiên bản 2")
    check = _off_the_event_loop(verify_document, new_pdf)
    assert check.signatures_valid and check.status.in_force and check.status.text.startswith("Có hiệu lực")

    # the registry lists both versions with their status
    page.goto(f"{live_server.url}/hoc-ba-so/truong/{old.school_id}/so-dang-ky/?xem=phat-hanh&lop=9A1")
    rows = page.locator("table.grid tbody tr").filter(has_text=old.student.full_name)
    assert rows.count() == 2
    assert "Đã bị thu hồi, thay thế bởi" in rows.nth(0).inner_text() and "Có hiệu lực" in rows.nth(1).inner_text()
    signout()

    # the parent sees both versions and downloads the one in force
    signin("phuhuynh", demo_issued["password"])
    page.goto(f"{live_server.url}/hoc-ba-so/")
    expect(page.get_by_role("heading", name="Học bạ số của con")).to_be_visible()
    row = page.get_by_role("row", name="2024-2025 9A1 2 Có hiệu lực", exact=False)
    with page.expect_download() as info:
        row.get_by_role("link", name="PDF").click()
    assert Path(info.value.path()).read_bytes() == new_pdf
    expect(page.get_by_text("Đã thu hồi, thay thế bởi phiên bản 2")).to_be_visible()
