"""The học kì II score grid shows the subject's whole-year result beside ĐTBmhk — ĐTBmcn = (ĐTBmhkI +
2 × ĐTBmhkII) / 3 of a score subject, Đ/CĐ of a comment subject — as ``hocba.rules`` computes it, after
every save as well as on load, and in the .xlsx download of that sheet."""

from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hocba.gradebook.models import StudentSemester, SubjectRow
from hocba.gradebook.results import display_value, rules_input
from hocba.rules import evaluate
from hocba.school.models import SubjectPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(gb):
    """Three students with both semesters complete; the first has uneven Toán marks (ĐTBmhkI 6,9, ĐTBmhkII
    8,2: ĐTBmcn (6,9 + 16,4) / 3 = 7,77 → 7,8), the second has Toán học kì I not finished."""
    cls = gb.make_class("6A1", students=3)
    gb.fill_all(cls)
    first, second, _third = gb.students(cls)
    gb.put(cls, "TO", 1, {first: {"tx": ["6.0", "7.0", "7.5", "7.5"], "gk": "6.5", "ck": "7.0"},  # 62 / 9 = 6,89
                          second: {"tx": ["8.0"] * 4, "gk": "8.0", "ck": ""}})
    gb.put(cls, "TO", 2, {first: {"tx": ["8.0", "8.5", "7.5", "8.0"], "gk": "8.0", "ck": "8.5"}})  # 73,5 / 9
    gb.put(cls, "GDTC", 2, {first: {"tx": ["Đ", "CĐ"], "gk": "Đ", "ck": "Đ"}})
    client = Client()
    client.force_login(gb.gvbm)
    return cls, first, second, client


def engine_year(gb, cls, student, code: str) -> str:
    """The year result of one subject by hocba.rules.evaluate over the student's whole year."""
    plans = list(SubjectPlan.objects.filter(year=gb.year, grade=6).select_related("subject").order_by("order"))
    rows = SubjectRow.objects.filter(student=student, year=gb.year)
    records = StudentSemester.objects.filter(student=student, year=gb.year)
    evaluated = evaluate(rules_input(student, rows, records, None, plans))
    return display_value(next(s["year"] for s in evaluated["subjects"] if s["code"] == code))


def year_cells(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-year-for="(\d+)"><span class="gb-year-value">([^<]*)</span>', html))


def test_the_semester_two_grid_shows_the_year_average_the_engine_computes(gb, world):
    cls, first, second, client = world
    html = client.get(reverse("gb_column", args=[cls.pk, "TO", 2])).content.decode()
    assert "<th>ĐTBmhkII</th>" in html and ">ĐTBmcn</th>" in html
    shown = year_cells(html)
    assert shown[str(first.pk)] == engine_year(gb, cls, first, "TO") == "7,8"
    assert shown[str(second.pk)] == ""  # học kì I has no ĐĐGck yet: no year average
    comment = year_cells(client.get(reverse("gb_column", args=[cls.pk, "GDTC", 2])).content.decode())
    assert comment[str(first.pk)] == engine_year(gb, cls, first, "GDTC") == "CĐ"
    semester_one = client.get(reverse("gb_column", args=[cls.pk, "TO", 1])).content.decode()
    assert "ĐTBmcn" not in semester_one and not year_cells(semester_one)


def test_a_save_returns_the_new_year_average_for_the_grid_to_show(gb, world):
    cls, first, _second, client = world
    response = client.post(reverse("gb_column_save", args=[cls.pk, "TO", 2]), content_type="application/json",
                           data=json.dumps({"edits": [{"student_id": first.pk, "slot": "ck", "old": "8.5",
                                                       "new": "10"}]}))
    assert response.status_code == 200
    result = response.json()["results"][str(first.pk)]
    assert result["year"] == engine_year(gb, cls, first, "TO") == "8,1"  # ĐTBmhkII 8,7: (6,9 + 17,4) / 3
    assert result["shown"] == "8,7"


def test_the_semester_two_download_has_the_semester_and_year_results_and_still_uploads(gb, world):
    cls, first, second, client = world
    response = client.get(reverse("gb_column_download", args=[cls.pk, "TO", 2]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    headers = [c.value for c in sheet[5]]
    assert headers[-3:] == ["Nhận xét", "ĐTBmhk", "ĐTBmcn"]
    by_code = {sheet.cell(row=r, column=2).value: r for r in range(6, sheet.max_row + 1)}
    row = by_code[first.student_code]
    assert sheet.cell(row=row, column=len(headers) - 1).value == 8.2
    assert sheet.cell(row=row, column=len(headers)).value == 7.8
    assert sheet.cell(row=by_code[second.student_code], column=len(headers)).value is None
    sheet.cell(row=row, column=headers.index("ĐĐGck") + 1).value = 10  # the teacher edits a mark offline
    out = io.BytesIO()
    sheet.parent.save(out)
    preview = client.post(reverse("gb_column_upload", args=[cls.pk, "TO", 2]),
                          {"file": SimpleUploadedFile("so-diem.xlsx", out.getvalue())}).content.decode()
    assert 'name="token"' in preview and "không thuộc cột điểm này" not in preview
    comment = openpyxl.load_workbook(io.BytesIO(client.get(
        reverse("gb_column_download", args=[cls.pk, "GDTC", 2])).content)).worksheets[0]
    assert [c.value for c in comment[5]][-2:] == ["Kết quả học kì", "Cả năm"]
