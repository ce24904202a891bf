"""The printed Sổ theo dõi và đánh giá học sinh: laid out in pages as the form is (per semester one page block
per subject with a fixed number of student rows, then the summary), and under every page the form's line
"Trong trang này có … điểm được sửa chữa, trong đó môn: …" counting the marks corrected after confirmation
that are printed on that page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from hocba.gradebook import actions, selectors
from hocba.gradebook.actions import CellEdit
from hocba.gradebook.printing import STUDENTS_PER_PAGE

pytestmark = pytest.mark.django_db

NONE = "Trong trang này không có điểm nào được sửa chữa."


def pages_of(html: str) -> list[dict]:
    """Each printed page block: its attributes, its corrections line(s) and its student rows."""
    out = []
    for block in html.split('<section class="print-page')[1:]:
        block = block[:block.index("</section>")]
        attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', block[:block.index(">")]))
        out.append({**attrs, "lines": re.findall(r'<p class="corrections-line">([^<]*)</p>', block),
                    "rows": len(re.findall(r"<tr><td>\d+</td>", block)), "html": block})
    return out


def correct(gb, cls, code: str, semester: int, edits: list[CellEdit]) -> None:
    """Confirm the column, have the principal approve an unlock request, then save corrections (with reasons)."""
    subject = gb.subjects[code]
    actions.confirm_column(gb.gvbm, cls, subject, semester)
    request = actions.request_unlock(gb.gvbm, cls, subject, semester, "Nhập nhầm")
    actions.decide_unlock(gb.principal, request, approve=True)
    actions.save_cells(gb.gvbm, cls, subject, semester, edits)


def test_each_printed_page_counts_the_corrections_of_its_own_marks(gb):
    """Corrections in Toán (first student, page 1 of Toán) and Ngữ văn (last student, page 2 of Ngữ văn) are
    counted under exactly those pages with the subject named; every other page says there is none; comments
    and changes before confirmation are not counted; the pages add up to the period's count."""
    n = STUDENTS_PER_PAGE + 2
    cls = gb.make_class("6A1", students=n)
    gb.fill_all(cls, semesters=(1,))
    students = gb.students(cls)
    first, last = students[0], students[-1]
    actions.save_cells(gb.gvbm, cls, gb.subjects["KHTN"], 1, [CellEdit(first.pk, "gk", "8.0", "7.0")])  # not confirmed
    correct(gb, cls, "TO", 1, [CellEdit(first.pk, "gk", "8.0", "9.0", reason="nhầm"),
                               CellEdit(first.pk, "ck", "8.0", "7.5", reason="nhầm"),
                               CellEdit(first.pk, "comment", "", "Tiến bộ", reason="bổ sung")])
    correct(gb, cls, "NV", 1, [CellEdit(last.pk, "tx1", "8.0", "6.5", reason="chấm lại")])

    client = Client()
    client.force_login(gb.gvcn)
    response = client.get(reverse("gb_summary_print", args=[cls.pk, "hk1"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r"\.print-page\s*\{[^}]*page-break-after:\s*always", html + _css())
    pages = pages_of(html)

    subject_pages = [p for p in pages if "subject" in p]
    planned = [code for code, plan in gb.plans.items() if not plan.elective]
    assert {p["subject"] for p in subject_pages} >= set(planned)
    assert all(p["semester"] == "1" for p in subject_pages)
    assert len(subject_pages) == 2 * len({p["subject"] for p in subject_pages})  # 27 students: two pages each
    assert [p["page"] for p in pages] == [str(i) for i in range(1, len(pages) + 1)]
    assert pages[-1]["html"].count("Xác nhận của Hiệu trưởng") == 1

    expected = {("TO", 0): "Trong trang này có 2 điểm được sửa chữa, trong đó môn: Toán: 2.",
                ("NV", 1): "Trong trang này có 1 điểm được sửa chữa, trong đó môn: Ngữ văn: 1."}
    seen: dict[str, int] = {}
    for page in pages:
        part = seen.get(page.get("subject", "summary"), 0)
        seen[page.get("subject", "summary")] = part + 1
        assert page["lines"] == [expected.get((page.get("subject"), part), NONE)], (page.get("subject"), part)
        if "subject" in page:
            assert page["rows"] == (STUDENTS_PER_PAGE if part == 0 else n - STUDENTS_PER_PAGE)
    toan_first = next(p for p in subject_pages if p["subject"] == "TO")
    assert first.full_name in toan_first["html"] and "9,0" in toan_first["html"]
    nv_second = [p for p in subject_pages if p["subject"] == "NV"][1]
    assert last.full_name in nv_second["html"] and first.full_name not in nv_second["html"]
    assert selectors.corrections_by_page(cls, "hk1").total == 3


def test_the_semester_two_pages_print_the_year_average_and_the_year_print_has_both_semesters(gb):
    """Học kì II pages carry ĐTBmcn beside ĐTBmhk as the form's học kì II page does; the year's print holds the
    pages of both semesters, so a correction in học kì I is still counted on its page there."""
    cls = gb.make_class("6A1", students=3)
    gb.fill_all(cls)
    student = gb.students(cls)[0]
    gb.put(cls, "TO", 2, {student: {"tx": ["9.0"] * 4, "gk": "9.0", "ck": "9.0"}})
    correct(gb, cls, "TO", 1, [CellEdit(student.pk, "ck", "8.0", "8.5", reason="phúc khảo")])
    # ĐTBmhkI = (4·8,0 + 2·8,0 + 3·8,5) / 9 = 8,17 → 8,2; ĐTBmcn = (8,2 + 2·9,0) / 3 = 8,73 → 8,7
    client = Client()
    client.force_login(gb.principal)
    hk2 = pages_of(client.get(reverse("gb_summary_print", args=[cls.pk, "hk2"])).content.decode())
    toan = next(p for p in hk2 if p.get("subject") == "TO")
    assert "<th>ĐTBmcn</th>" in toan["html"] and "<strong>8,7</strong>" in toan["html"]
    assert all(line == NONE for p in hk2 for line in p["lines"])
    year = pages_of(client.get(reverse("gb_summary_print", args=[cls.pk, "year"])).content.decode())
    assert {p["semester"] for p in year if "subject" in p} == {"1", "2"}
    counted = [(p["subject"], p["semester"], p["lines"][0]) for p in year if p["lines"][0] != NONE]
    assert counted == [("TO", "1", "Trong trang này có 1 điểm được sửa chữa, trong đó môn: Toán: 1.")]


def _css() -> str:
    """The grade book's print stylesheet, which the print view links."""
    from django.contrib.staticfiles import finders

    with open(finders.find("gradebook/gradebook.css"), encoding="utf-8") as f:
        return f.read()
