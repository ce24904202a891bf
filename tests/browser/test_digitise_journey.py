"""Digitising one paper học bạ year through to an issued record, in a real browser.

Set-up (tests/digitise/conftest.py): a school whose principal and teachers hold keys of the session PKI, its
seal, an academic staff member (hocvu) and a grade-9 student. In the browser: hocvu starts the digitisation of
the student's 2022-2023 paper year (grade 7), types the conduct and learning levels, the GVCN's comment and two
subjects — Toán, whose teacher (gvtoan) still works at the school, and Ngữ văn, whose teacher has left —
attaches the scan, marks Ngữ văn reviewed and submits. gvtoan signs Toán; the principal signs Ngữ văn and the
GVCN part for the teachers who left, approves and seals. The record page says "Số hóa từ học bạ giấy" with the
scan's hash, and the downloaded PDF verifies as in force.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.digitise.conftest import PDF_SCAN, DigitiseWorld

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "MatKhau@2026"


@pytest.fixture
def world(transactional_db, school, year, principal, school_admin, make_user, give_identity, pki_settings, settings,
          tmp_path):
    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    settings.HOCBA_RECORDS_INLINE = True
    settings.HOCBA_RECORDS_VALIDATION = "sample"
    return DigitiseWorld(school, year, principal, school_admin, make_user, give_identity, pki_settings)


def _off_the_event_loop(fn, *args):
    """pyHanko runs its own event loop; Playwright's sync API keeps one running in the test's thread."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return fn(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def _submit(page, name: str) -> None:
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state("domcontentloaded")


def test_a_paper_year_is_typed_reviewed_signed_and_issued_as_digitised(page, live_server, world, signin, signout):
    from hocba.digitise.models import Digitisation
    from hocba.documents import from_xml
    from hocba.records import storage
    from hocba.records.verification import verify_document
    from hocba.school.models import Staff

    # academic staff: start the digitisation with the keyboard-friendly form
    signin("hocvu", PASSWORD)
    page.goto(f"{live_server.url}/hoc-ba-so/so-hoa/")
    page.get_by_label("Học sinh").select_option(str(world.student.pk))
    page.get_by_label("Năm học").fill("2022-2023")
    page.get_by_label("Khối").select_option("7")
    page.get_by_label("Lớp", exact=True).fill("7A2")
    _submit(page, "Tạo bản số hóa")
    expect(page.get_by_role("heading", name="Số hóa học bạ giấy – " + world.student.full_name)).to_be_visible()

    # the summary: conduct and learning, the GVCN (left the school) and the comment
    for label, value in (("Rèn luyện học kì I", "K"), ("Rèn luyện học kì II", "T"), ("Rèn luyện cả năm", "T"),
                         ("Học tập học kì I", "K"), ("Học tập học kì II", "K"), ("Học tập cả năm", "K")):
        page.get_by_label(label, exact=True).select_option(value)
    page.get_by_label("Số buổi nghỉ").fill("2")
    page.get_by_label("Kết quả cuối năm").select_option("promoted")
    page.get_by_label("GVCN ghi trên học bạ giấy").fill("Trần Thị Lan")
    page.get_by_label("Nhận xét của giáo viên chủ nhiệm").fill("Chăm ngoan, có tiến bộ trong học kì II.")
    _submit(page, "Lưu tổng kết")
    expect(page.get_by_text("Đã lưu phần tổng kết năm học.")).to_be_visible()

    # two subjects typed; a bad mark first, refused with the cell named
    toan = Staff.objects.get(user=world.gv1)
    page.get_by_label("Toán học kì I", exact=True).fill("8")
    page.get_by_label("Toán học kì II", exact=True).fill("8,5")
    page.get_by_label("Toán cả năm", exact=True).fill("85")
    page.get_by_label("Toán giáo viên ghi trên học bạ giấy").fill(toan.full_name)
    page.get_by_label("Toán giáo viên còn công tác").select_option(str(toan.pk))
    _submit(page, "Lưu kết quả môn học")
    expect(page.get_by_text("Môn Toán, cả năm: «85» không hợp lệ", exact=False)).to_be_visible()
    page.get_by_label("Toán học kì I", exact=True).fill("8")
    page.get_by_label("Toán học kì II", exact=True).fill("8,5")
    page.get_by_label("Toán cả năm", exact=True).fill("8,3")
    page.get_by_label("Toán giáo viên ghi trên học bạ giấy").fill(toan.full_name)
    page.get_by_label("Toán giáo viên còn công tác").select_option(str(toan.pk))
    for label, value in (("Ngữ văn học kì I", "6,5"), ("Ngữ văn học kì II", "7"), ("Ngữ văn cả năm", "6,8"),
                         ("Ngữ văn giáo viên ghi trên học bạ giấy", "Lê Thị Hoa")):
        page.get_by_label(label, exact=True).fill(value)
    _submit(page, "Lưu kết quả môn học")
    expect(page.get_by_text("Đã lưu kết quả các môn học.")).to_be_visible()

    # the scan, the review of the departed teacher's subject, submission
    page.get_by_label("Tệp quét", exact=False).set_input_files(
        files=[{"name": "hoc-ba-7A2.pdf", "mimeType": "application/pdf", "buffer": PDF_SCAN}])
    _submit(page, "Đính kèm bản quét")
    scan_sha = hashlib.sha256(PDF_SCAN).hexdigest()
    expect(page.get_by_text(scan_sha)).to_be_visible()
    page.get_by_label("Đã đối chiếu môn Ngữ văn", exact=False).check()
    _submit(page, "Đánh dấu đã rà soát")
    _submit(page, "Gửi rà soát và tạo học bạ số")
    expect(page.get_by_role("heading", name="Tình trạng: Đã rà soát, chờ ký")).to_be_visible()
    d = Digitisation.objects.get(student=world.student)
    signout()

    # the teacher still at the school reviews and signs Toán
    signin("gvtoan", PASSWORD)
    page.goto(f"{live_server.url}/hoc-ba-so/so-hoa/")
    page.get_by_role("link", name=f"{world.student.full_name} – năm học 2022-2023", exact=False).click()
    _submit(page, "Ký xác nhận phần của tôi")
    expect(page.get_by_text("Đã ký 1 chữ ký.")).to_be_visible()
    signout()

    # the principal signs for those who left, approves and seals
    signin("hieutruong", PASSWORD)
    page.goto(f"{live_server.url}/hoc-ba-so/so-hoa/{d.pk}/")
    _submit(page, "Ký thay, phê duyệt và phát hành")
    expect(page.get_by_text("và phát hành học bạ số.", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Tình trạng: Đã phát hành")).to_be_visible()
    page.get_by_role("link", name="Xem học bạ số").click()
    expect(page.get_by_role("heading", name="Phiên bản 1: Có hiệu lực", exact=False)).to_be_visible()
    expect(page.get_by_text("Số hóa từ học bạ giấy")).to_be_visible()
    expect(page.get_by_text(scan_sha)).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải PDF").click()
    pdf = Path(info.value.path()).read_bytes()

    check = _off_the_event_loop(verify_document, pdf)
    assert check.signatures_valid and check.is_registered_file and check.status.in_force, check.verdict
    d.refresh_from_db()
    document = from_xml(storage.read(d.record.xml_file, d.record.xml_sha256))
    assert document.digitised and document.scan_sha256 == scan_sha
    assert [s.code for s in document.subjects] == ["TO", "NV"]
    assert str(document.subject("TO").year) == "8.3" and document.conduct.year == "T"
