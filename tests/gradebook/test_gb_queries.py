"""A class page costs the same number of SQL queries for 5 students as for 45: results, column results,
the API's column and summary, the selectors over one class or three, the printed book and the học kì II
grid with its year average."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hocba.api import actions as api_actions
from hocba.gradebook import selectors
from hocba.gradebook.results import class_results, column_results


def count_queries(fn) -> int:
    """Queries of a second call: the first one may fill per-user and per-token caches."""
    fn()
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.fixture
def small_and_large(gb):
    small = gb.make_class("6A1", students=5)
    large = gb.make_class("6A2", students=45)
    for cls in (small, large):
        gb.fill_all(cls)
    return small, large


@pytest.mark.parametrize("period", ["hk1", "hk2", "year"])
def test_class_results_queries_do_not_grow_with_the_class(small_and_large, period, django_assert_max_num_queries):
    small, large = small_and_large
    n_small = count_queries(lambda: class_results(small, period))
    n_large = count_queries(lambda: class_results(large, period))
    assert n_small == n_large
    with django_assert_max_num_queries(5):  # students, plan, rows, conduct and absences, year records
        res = class_results(large, period)
    assert len(res.students) == 45 and all(r.learning == "T" for r in res.students)


def test_column_results_queries_do_not_grow_with_the_class(small_and_large, gb, django_assert_max_num_queries):
    small, large = small_and_large
    toan = gb.subjects["TO"]
    assert count_queries(lambda: column_results(small, toan, 1)) == count_queries(lambda: column_results(large, toan, 1))
    with django_assert_max_num_queries(3):  # plan, students, rows
        assert len(column_results(large, toan, 1)) == 45


def test_api_column_and_summary_queries_do_not_grow_with_the_class(small_and_large, gb):
    small, large = small_and_large
    teacher = Client(HTTP_AUTHORIZATION=f"Bearer {api_actions.issue_token(gb.gvbm, gb.gvbm).secret}")
    url = "/api/v1/classes/{}/subjects/TO/semesters/1/scores"
    assert count_queries(lambda: teacher.get(url.format(small.pk))) == \
        count_queries(lambda: teacher.get(url.format(large.pk)))
    leader = Client(HTTP_AUTHORIZATION=f"Bearer {api_actions.issue_token(gb.principal, gb.principal).secret}")
    summary = "/api/v1/classes/{}/summary?period=year"
    assert count_queries(lambda: leader.get(summary.format(small.pk))) == \
        count_queries(lambda: leader.get(summary.format(large.pk)))


def test_selectors_queries_do_not_grow_with_the_classes(gb):
    first = gb.make_class("6A1", students=5)
    gb.fill_all(first)
    one_class = count_queries(lambda: selectors.progress(gb.school, gb.year))
    one_teacher = count_queries(lambda: selectors.teacher_columns(gb.gvbm, gb.year))
    for name in ("6A2", "6A3"):
        gb.fill_all(gb.make_class(name, students=20))
    assert count_queries(lambda: selectors.progress(gb.school, gb.year)) == one_class
    assert count_queries(lambda: selectors.teacher_columns(gb.gvbm, gb.year)) == one_teacher
    assert count_queries(lambda: selectors.corrections_by_page(first, "year")) <= 3


def test_print_view_queries_do_not_grow_with_the_class_or_its_pages(small_and_large, gb):
    """The printed book of 45 students (two pages per subject) costs the queries of 5 students (one page).
    The year's print is the largest: both semesters' subject pages (học kì II with ĐTBmcn) and the summary."""
    small, large = small_and_large
    period = "year"
    principal = Client()
    principal.force_login(gb.principal)
    n_small = count_queries(lambda: principal.get(reverse("gb_summary_print", args=[small.pk, period])))
    n_large = count_queries(lambda: principal.get(reverse("gb_summary_print", args=[large.pk, period])))
    assert n_small == n_large


def test_semester_two_grid_with_the_year_average_queries_do_not_grow_with_the_class(small_and_large, gb):
    """The học kì II grid reads both semesters for ĐTBmcn without a query per student."""
    small, large = small_and_large
    teacher = Client()
    teacher.force_login(gb.gvbm)
    assert count_queries(lambda: teacher.get(reverse("gb_column", args=[small.pk, "TO", 2]))) == \
        count_queries(lambda: teacher.get(reverse("gb_column", args=[large.pk, "TO", 2])))
    html = teacher.get(reverse("gb_column", args=[large.pk, "TO", 2])).content.decode()
    assert html.count('class="gb-year-value">8,0<') == 45
