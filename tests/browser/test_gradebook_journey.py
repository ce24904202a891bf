"""The grade book in a real browser, on the demo school: entry by keyboard and paste with live averages and the
column's confirmation; then the class sign-off (GVCN xác thực → hiệu trưởng ban hành) and an unlock-and-correct
cycle whose correction is counted on the print view; and the học kì II grid's ĐTBmcn following the typing.

In the demo, the GVCN of 9A1 (``gvcn``) also teaches Ngữ văn in 9A1, so one account enters the column and
confirms the class.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db):
    from hocba.school.demo import DEMO_PASSWORD, load_demo

    load_demo(seed=2024)
    return DEMO_PASSWORD


def _nine_a1():
    from hocba.school.models import SchoolClass

    return SchoolClass.objects.select_related("year").get(name="9A1", year__name="2024-2025")


def _paste(page, text: str) -> None:
    """What Ctrl+V does with cells copied from Excel: a paste event carrying tab- and newline-separated text."""
    page.evaluate("""(text) => {
        const data = new DataTransfer();
        data.setData('text/plain', text);
        document.activeElement.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                                          cancelable: true}));
    }""", text)


def _wait_saved(page) -> None:
    page.wait_for_function("document.getElementById('gb-status').textContent.trim() === 'Đã lưu'")


def test_a_teacher_enters_a_column_by_keyboard_and_paste_sees_averages_and_confirms(page, live_server, demo,
                                                                                    signin):
    cls = _nine_a1()
    signin("gvcn", demo)
    page.get_by_role("link", name="Sổ điểm của tôi").click()
    page.get_by_role("row", name=re.compile(r"9A1 Ngữ văn Học kì I\s")).get_by_role("link").click()
    expect(page.get_by_role("heading", name="Lớp 9A1 – Ngữ văn – Học kì I")).to_be_visible()
    rows = page.locator("#gb-grid tbody tr")
    n = rows.count()
    assert n > 30

    # ĐĐGgk by keyboard: type, Enter moves down.
    rows.nth(0).locator("input[data-slot=gk]").click()
    for _ in range(n):
        page.keyboard.type("7,5")
        page.keyboard.press("Enter")
    # ĐĐGtx1–4 pasted as a block copied from Excel (tabs between columns), ĐĐGck as one column.
    rows.nth(0).locator("input[data-slot=tx1]").click()
    _paste(page, "8\t7,5\t9\t8.5\r\n" * n)
    rows.nth(0).locator("input[data-slot=ck]").click()
    _paste(page, "8\n" * n)
    _wait_saved(page)

    # A value out of range is refused in place, with the reason; correcting it saves it.
    bad = rows.nth(2).locator("input[data-slot=ck]")
    bad.fill("12")
    bad.press("Enter")
    cell = rows.nth(2).locator("td.gb-cell.is-error")
    cell.wait_for()
    assert "0–10" in page.locator("#gb-problems").inner_text()
    bad.fill("8")
    bad.press("Tab")
    _wait_saved(page)
    assert rows.nth(2).locator("td.is-error").count() == 0

    # (8 + 7,5 + 9 + 8,5 + 2·7,5 + 3·8) / 9 = 72 / 9 = 8,0 for every student, computed by the server.
    averages = page.locator("#gb-grid .gb-res-value").all_inner_texts()
    assert averages == ["8,0"] * n
    assert rows.nth(n - 1).locator("input[data-slot=tx4]").input_value() == "8,5"

    page.get_by_role("button", name="Xác nhận cột điểm").click()
    dialog = page.locator("#gb-confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(f"{n}/{n} học sinh đã có đủ")).to_be_visible()
    dialog.get_by_role("button", name="Xác nhận và khoá cột điểm").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.get_by_text("Đã xác nhận cột điểm Ngữ văn lớp 9A1")).to_be_visible()
    assert page.locator("#gb-grid input[data-slot=gk]").first.get_attribute("readonly") is not None
    from hocba.gradebook.models import ColumnSignoff

    assert ColumnSignoff.objects.get(school_class=cls, subject__code="NV", semester=1).state == "confirmed"


def _complete_semester_one(cls) -> None:
    """Test set-up: every planned column of 9A1 in học kì I entered and confirmed, conduct set for all."""
    from django.utils import timezone

    from hocba.gradebook.models import ColumnSignoff, StudentSemester, SubjectRow
    from hocba.school.models import Enrolment, SubjectPlan, TeachingAssignment

    students = [e.student_id for e in Enrolment.objects.filter(school_class=cls,
                                                               status__in=("studying", "transferred_in"))]
    taught = set(TeachingAssignment.objects.filter(school_class=cls, semester=1).values_list("subject_id", flat=True))
    rows, signoffs = [], []
    for plan in SubjectPlan.objects.filter(year=cls.year, grade=cls.grade).select_related("subject"):
        if plan.elective and plan.subject_id not in taught:
            continue
        value = "8.0" if plan.kind == "score" else "Đ"
        rows += [SubjectRow(school=cls.school, year=cls.year, school_class=cls, student_id=s, subject=plan.subject,
                            semester=1, tx=[value] * plan.regular_assessments, gk=value, ck=value) for s in students]
        signoffs.append(ColumnSignoff(school=cls.school, school_class=cls, subject=plan.subject, semester=1,
                                      state="confirmed", confirmed_at=timezone.now()))
    SubjectRow.objects.bulk_create(rows)
    ColumnSignoff.objects.bulk_create(signoffs)
    StudentSemester.objects.bulk_create([StudentSemester(school=cls.school, year=cls.year, school_class=cls,
                                                         student_id=s, semester=1, conduct="T") for s in students])


def test_the_class_is_confirmed_released_then_unlocked_and_corrected_with_the_count_printed(page, live_server, demo,
                                                                                           signin, signout, tmp_path):
    """The GVCN confirms, the principal releases, an unlock request is approved and the correction is counted
    on the printed page of its subject; then (same demo, to save a second set-up) the học kì II grid shows
    ĐTBmcn beside ĐTBmhk as the teacher types."""
    cls = _nine_a1()
    _complete_semester_one(cls)
    page.on("dialog", lambda d: d.accept())
    summary = f"{live_server.url}/lop/{cls.pk}/tong-hop/hk1/"
    grid = f"{live_server.url}/lop/{cls.pk}/mon/NV/hk1/"

    signin("gvcn", demo)
    page.goto(summary)
    page.get_by_role("button", name="Xác thực sổ (GVCN)").click()
    expect(page.get_by_text("Đã xác thực sổ học kì I của lớp 9A1")).to_be_visible()
    signout()

    signin("hieutruong", demo)
    page.get_by_role("row", name=re.compile(r"^9A1 ")).get_by_role("link", name="Tổng hợp").click()
    page.goto(summary)
    page.get_by_role("button", name="Ban hành sổ").click()
    expect(page.get_by_text("Đã ban hành sổ học kì I của lớp 9A1")).to_be_visible()
    # A correction is needed: the principal reopens the book, saying why.
    page.locator("summary", has_text="Mở lại sổ").click()
    page.get_by_label("Lí do mở lại").fill("Giáo viên Ngữ văn báo nhập nhầm một điểm")
    page.get_by_role("button", name="Mở lại sổ").click()
    expect(page.get_by_text("Đã mở lại sổ học kì I")).to_be_visible()
    signout()

    signin("gvcn", demo)
    page.goto(grid)
    page.get_by_role("link", name="Đề nghị mở khoá để sửa").click()
    page.get_by_label("Lí do cần sửa").fill("Nhập nhầm điểm cuối kì của một học sinh")
    page.get_by_role("button", name="Gửi đề nghị").click()
    expect(page.get_by_text("đang chờ hiệu trưởng duyệt")).to_be_visible()
    signout()

    signin("hieutruong", demo)
    page.get_by_role("link", name="Đề nghị mở khoá cột điểm").click()
    expect(page.get_by_text("Nhập nhầm điểm cuối kì của một học sinh")).to_be_visible()
    page.get_by_role("link", name="Xem và duyệt").click()
    page.get_by_role("button", name="Duyệt mở khoá").click()
    expect(page.get_by_text("Đã duyệt đề nghị mở khoá cột Ngữ văn lớp 9A1")).to_be_visible()
    signout()

    signin("gvcn", demo)
    page.goto(grid)
    page.get_by_label("Lí do sửa điểm (bắt buộc)").fill("Chấm lại bài cuối kì")
    first_ck = page.locator("#gb-grid tbody tr").first.locator("input[data-slot=ck]")
    first_ck.fill("9")
    first_ck.press("Enter")
    _wait_saved(page)
    page.get_by_role("button", name="Xác nhận cột điểm").click()
    page.get_by_role("button", name="Xác nhận và khoá cột điểm").click()
    expect(page.get_by_text("Đã xác nhận cột điểm Ngữ văn")).to_be_visible()

    page.goto(summary + "in/")
    expect(page.get_by_text("Trong trang này có 1 điểm được sửa chữa, trong đó môn: Ngữ văn: 1.")).to_be_visible()
    expect(page.get_by_role("heading", name="BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC – HỌC KÌ I")).to_be_visible()
    # Printed, each page block is one A4 sheet, so each corrections line sits under the marks it counts.
    pdf = tmp_path / "so-theo-doi.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    sheets = subprocess.run(["qpdf", "--show-npages", str(pdf)], capture_output=True, text=True, check=True)
    assert int(sheets.stdout) == page.locator("section.print-page").count() > 12

    # Học kì II (in the same test: the demo and học kì I are already there): typing a student's marks shows
    # ĐTBmhkII and beside it ĐTBmcn = (ĐTBmhkI 8,3 after the correction + 2 × 9,0) / 3 = 8,8 as soon as the
    # autosave returns, without reloading the page.
    page.goto(f"{live_server.url}/lop/{cls.pk}/mon/NV/hk2/")
    expect(page.get_by_role("columnheader", name="ĐTBmcn")).to_be_visible()
    first = page.locator("#gb-grid tbody tr").first
    year = first.locator(".gb-year-value")
    assert year.inner_text() == ""
    first.locator("input[data-slot=tx1]").click()
    _paste(page, "9\t9\t9\t9\t9\t9")  # ĐĐGtx1–4, ĐĐGgk, ĐĐGck
    _wait_saved(page)
    page.wait_for_function("(el) => el.textContent === '8,8'", arg=year.element_handle())
    assert first.locator(".gb-res-value").inner_text() == "9,0"
    assert page.locator("#gb-grid tbody tr").nth(1).locator(".gb-year-value").inner_text() == ""
