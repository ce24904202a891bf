"""The grade book's pages, through the Django test client: what each role sees and may do, and what is refused.

The fixtures are the grade-book world of conftest.py: ``gb.gvbm`` teaches every subject of the classes it
makes, ``gb.gvcn`` is the homeroom teacher of the first class, ``gb.other_teacher`` teaches nothing there.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def column_url(name: str, cls, code: str = "TO", semester: int = 1) -> str:
    return reverse(name, args=[cls.pk, code, semester])


def save(client, cls, edits, code: str = "TO", semester: int = 1):
    return client.post(column_url("gb_column_save", cls, code, semester), data=json.dumps({"edits": edits}),
                       content_type="application/json")


def edit(student, slot, new, old="", **extra) -> dict:
    return {"student_id": student.pk, "slot": slot, "old": old, "new": new, **extra}


@pytest.fixture
def cls(gb):
    return gb.make_class("6A1", students=["Trần Văn Bình", "Lê Thị An", "Nguyễn Văn An"])


def fill_column(gb, cls, code, semester=1, score="8.0"):
    plan = gb.plans[code]
    value = score if plan.kind == "score" else "Đ"
    gb.put(cls, code, semester, {s: {"tx": [value] * plan.regular_assessments, "gk": value, "ck": value}
                                 for s in gb.students(cls)})


def row_of(gb, cls, student, code="TO", semester=1):
    from hocba.gradebook.models import SubjectRow

    return SubjectRow.objects.get(school_class=cls, student=student, subject=gb.subjects[code], semester=semester)


# --- the grid ------------------------------------------------------------------------------------------

def test_the_grid_lists_the_class_in_vietnamese_order_with_the_slots_the_plan_requires(gb, cls):
    response = client_for(gb.gvbm).get(column_url("gb_column", cls))
    assert response.status_code == 200
    html = response.content.decode()
    # Vietnamese order: by given name, then family name: Lê Thị An, Nguyễn Văn An, Trần Văn Bình.
    assert html.index("Lê Thị An") < html.index("Nguyễn Văn An") < html.index("Trần Văn Bình")
    for header in ("ĐĐGtx1", "ĐĐGtx4", "ĐĐGgk", "ĐĐGck", "Nhận xét", "ĐTBmhk"):
        assert header in html
    assert "ĐĐGtx5" not in html
    assert 'data-slot="tx1"' in html and "readonly" not in html


def test_a_comment_subject_grid_has_two_regular_slots_and_a_semester_result(gb, cls):
    html = client_for(gb.gvbm).get(column_url("gb_column", cls, "GDTC")).content.decode()
    assert "ĐĐGtx2" in html and "ĐĐGtx3" not in html
    assert "Kết quả học kì" in html and "Đ (Đạt) hoặc CĐ (Chưa đạt)" in html


def test_another_teacher_is_refused_the_grid_and_every_column_page(gb, cls):
    client = client_for(gb.other_teacher)
    for name in ("gb_column", "gb_column_history", "gb_column_download", "gb_column_upload", "gb_column_unlock",
                 "gb_conduct_remarks"):
        response = client.get(column_url(name, cls))
        assert response.status_code == 403, name
    assert "Không có quyền truy cập" in client.get(column_url("gb_column", cls)).content.decode()
    response = save(client, cls, [edit(gb.students(cls)[0], "gk", "8")])
    assert response.status_code == 403
    assert response.json()["ok"] is False


def test_the_homeroom_teacher_and_the_principal_read_the_grid_without_editing(gb, cls):
    for user in (gb.gvcn, gb.principal):
        html = client_for(user).get(column_url("gb_column", cls)).content.decode()
        assert "readonly" in html
        assert "Xác nhận cột điểm" not in html
    response = save(client_for(gb.gvcn), cls, [edit(gb.students(cls)[0], "gk", "8")])
    assert response.status_code == 403


def test_saving_accepts_comma_and_dot_and_returns_the_average(gb, cls):
    student = gb.students(cls)[0]
    client = client_for(gb.gvbm)
    response = save(client, cls, [edit(student, "tx1", "8,5"), edit(student, "tx2", "7.5"),
                                  edit(student, "tx3", "9"), edit(student, "tx4", "8"),
                                  edit(student, "gk", "7"), edit(student, "ck", "8")])
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["ok"] and data["changed"] == 6
    assert {c["status"] for c in data["cells"]} == {"saved"}
    shown = {c["slot"]: c["display"] for c in data["cells"]}
    assert shown == {"tx1": "8,5", "tx2": "7,5", "tx3": "9,0", "tx4": "8,0", "gk": "7,0", "ck": "8,0"}
    # (8.5 + 7.5 + 9 + 8 + 2·7 + 3·8) / 9 = 71 / 9 = 7.89 → 7,9
    assert data["results"][str(student.pk)]["average"] == "7,9"
    assert row_of(gb, cls, student).tx == ["8.5", "7.5", "9.0", "8.0"]


def test_an_invalid_value_is_refused_in_place_and_nothing_of_the_save_is_written(gb, cls):
    a, b = gb.students(cls)[:2]
    response = save(client_for(gb.gvbm), cls, [edit(a, "gk", "8"), edit(b, "gk", "11"), edit(b, "ck", "8,25")])
    assert response.status_code == 422
    statuses = {(c["student_id"], c["slot"]): c["status"] for c in response.json()["cells"]}
    assert statuses == {(a.pk, "gk"): "not_saved", (b.pk, "gk"): "invalid", (b.pk, "ck"): "invalid"}
    errors = {(e["student_id"], e["slot"]): e["message"] for e in response.json()["errors"]}
    assert set(errors) == {(b.pk, "gk"), (b.pk, "ck")}
    assert "0–10" in errors[(b.pk, "gk")]
    assert "một chữ số thập phân" in errors[(b.pk, "ck")]
    from hocba.gradebook.models import SubjectRow

    assert not SubjectRow.objects.filter(school_class=cls).exclude(gk="").exists()


def test_a_stale_save_shows_the_newer_value_and_who_saved_it(gb, cls):
    student = gb.students(cls)[0]
    client = client_for(gb.gvbm)
    assert save(client, cls, [edit(student, "gk", "7")]).status_code == 200
    # A second tab still shows the empty cell and types 9: the server refuses and names the newer value.
    response = save(client, cls, [edit(student, "gk", "9", old="")])
    assert response.status_code == 409
    conflict = response.json()["conflicts"][0]
    assert conflict["display"] == "7,0" and conflict["current"] == "7.0"
    assert conflict["updated_by"] == gb.gvbm.staff.full_name
    assert conflict["updated_at"]
    assert response.json()["cells"] == [{"student_id": student.pk, "slot": "gk", "status": "conflict"}]
    assert row_of(gb, cls, student).gk == "7.0"


def test_an_absence_is_marked_and_a_later_make_up_is_shown_marked(gb, cls):
    student = gb.students(cls)[0]
    client = client_for(gb.gvbm)
    response = save(client, cls, [edit(student, "gk", "", absent=True)])
    assert response.json()["cells"][0]["display"] == "V"
    assert "gk" in row_of(gb, cls, student).absent
    response = save(client, cls, [edit(student, "gk", "6,5")])
    cell = response.json()["cells"][0]
    assert cell["makeup"] is True and cell["display"] == "6,5" and cell["makeup_by"] == gb.gvbm.username
    html = client.get(column_url("gb_column", cls)).content.decode()
    assert "is-makeup" in html and "Kiểm tra bù" in html


def test_the_save_endpoint_needs_the_csrf_header(gb, cls):
    client = Client(enforce_csrf_checks=True)
    client.force_login(gb.gvbm)
    page = client.get(column_url("gb_column", cls))
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None
    body = json.dumps({"edits": [edit(gb.students(cls)[0], "gk", "8")]})
    url = column_url("gb_column_save", cls)
    assert client.post(url, data=body, content_type="application/json").status_code == 403
    assert token, "the grid page sets the CSRF cookie the script sends back"
    response = client.post(url, data=body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_a_malformed_save_is_refused_with_a_message(gb, cls):
    client = client_for(gb.gvbm)
    url = column_url("gb_column_save", cls)
    assert client.post(url, data="không phải json", content_type="application/json").status_code == 400
    assert client.post(url, data=json.dumps({"edits": []}), content_type="application/json").status_code == 400
    response = save(client, cls, [edit(gb.students(cls)[0], "tx9", "8")])
    assert response.status_code == 422 and "Cột không hợp lệ" in response.json()["errors"][0]["message"]


def _grid_class(gb, name, n):
    cls = gb.make_class(name, students=n)
    for student in gb.students(cls):
        gb.put(cls, "TO", 1, {student: {"tx": ["8.0", "7.0"], "gk": "7.5", "ck": "", "absent": ["ck"]}})
    return cls


def _queries(client, url) -> int:
    client.get(url)  # warm the session and the per-user caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_grid_of_45_students_runs_as_many_queries_as_that_of_5(gb, django_assert_num_queries):
    small, big = _grid_class(gb, "6A1", 5), _grid_class(gb, "6A2", 45)
    client = client_for(gb.gvbm)
    expected = _queries(client, column_url("gb_column", small))
    client.get(column_url("gb_column", big))
    with django_assert_num_queries(expected):
        response = client.get(column_url("gb_column", big))
    assert response.content.decode().count('data-slot="gk"') == 45


def test_the_summary_of_45_students_runs_as_many_queries_as_that_of_5(gb, django_assert_num_queries):
    small = gb.make_class("6A1", students=5)
    big = gb.make_class("6A2", students=45, homeroom=gb.gvcn)
    for c in (small, big):
        gb.fill_all(c, semesters=(1,))
    client = client_for(gb.gvcn)
    expected = _queries(client, reverse("gb_summary", args=[small.pk, "hk1"]))
    client.get(reverse("gb_summary", args=[big.pk, "hk1"]))
    with django_assert_num_queries(expected):
        response = client.get(reverse("gb_summary", args=[big.pk, "hk1"]))
    assert response.content.decode().count("<tr><td>") >= 45


# --- history, confirmation, unlock, correction -----------------------------------------------------------

def test_the_history_shows_who_when_old_new_and_why(gb, cls):
    student = gb.students(cls)[0]
    client = client_for(gb.gvbm)
    save(client, cls, [edit(student, "gk", "7")])
    save(client, cls, [edit(student, "gk", "7,5", old="7.0")])
    html = client.get(column_url("gb_column_history", cls) + f"?hs={student.pk}&o=gk").content.decode()
    assert student.full_name in html and gb.gvbm.staff.full_name in html
    assert html.count("<td>ĐĐGgk") == 0 and html.count(">ĐĐGgk</a>") == 2
    assert "7,0" in html and "7,5" in html


def test_confirming_an_incomplete_column_is_refused_with_the_students_named(gb, cls):
    client = client_for(gb.gvbm)
    response = client.post(column_url("gb_column_confirm", cls), follow=True)
    html = response.content.decode()
    assert "Chưa thể xác nhận" in html and "Lê Thị An" in html


def test_confirm_unlock_correct_and_the_print_view_counts_the_correction(gb, cls):
    fill_column(gb, cls, "TO")
    teacher, principal = client_for(gb.gvbm), client_for(gb.principal)
    html = teacher.post(column_url("gb_column_confirm", cls), follow=True).content.decode()
    assert "Đã xác nhận cột điểm Toán" in html
    assert "readonly" in html and "Đề nghị mở khoá để sửa" in html
    student = gb.students(cls)[0]
    assert save(teacher, cls, [edit(student, "ck", "9", old="8.0")]).status_code == 400

    response = teacher.post(column_url("gb_column_unlock", cls), {"reason": "Nhập nhầm điểm cuối kì"}, follow=True)
    assert "Đã gửi đề nghị mở khoá" in response.content.decode()
    from hocba.gradebook.models import UnlockRequest

    unlock = UnlockRequest.objects.get()
    listing = principal.get(reverse("gb_unlock_requests", args=[gb.school.pk])).content.decode()
    assert "Nhập nhầm điểm cuối kì" in listing and cls.name in listing
    page = principal.get(reverse("gb_unlock_decide", args=[gb.school.pk, unlock.pk])).content.decode()
    assert "Duyệt mở khoá" in page
    principal.post(reverse("gb_unlock_decide", args=[gb.school.pk, unlock.pk]), {"decision": "approve"})
    unlock.refresh_from_db()
    assert unlock.state == "approved"

    # Unlocked: a correction needs a reason; with one it is saved and counted.
    response = save(teacher, cls, [edit(student, "ck", "9", old="8.0")])
    assert response.status_code == 422 and "lí do" in response.json()["errors"][0]["message"]
    response = save(teacher, cls, [edit(student, "ck", "9", old="8.0", reason="Chấm phúc khảo")])
    assert response.status_code == 200
    history = teacher.get(column_url("gb_column_history", cls)).content.decode()
    assert "Chấm phúc khảo" in history and "Sửa sau khi xác nhận" in history
    grid = teacher.get(column_url("gb_column", cls)).content.decode()
    assert "is-corrected" in grid and "Lí do sửa điểm" in grid

    # The homeroom teacher prints the class summary.
    printed = client_for(gb.gvcn).get(reverse("gb_summary_print", args=[cls.pk, "hk1"])).content.decode()
    assert "Trong trang này có 1 điểm được sửa chữa, trong đó môn: Toán: 1." in printed
    assert "size: A4 landscape" in printed


def test_only_leadership_sees_and_decides_unlock_requests(gb, cls):
    fill_column(gb, cls, "TO")
    teacher = client_for(gb.gvbm)
    teacher.post(column_url("gb_column_confirm", cls))
    teacher.post(column_url("gb_column_unlock", cls), {"reason": "Sửa điểm"})
    from hocba.gradebook.models import UnlockRequest

    unlock = UnlockRequest.objects.get()
    assert teacher.get(reverse("gb_unlock_requests", args=[gb.school.pk])).status_code == 403
    assert teacher.post(reverse("gb_unlock_decide", args=[gb.school.pk, unlock.pk]),
                        {"decision": "approve"}).status_code == 403
    vice = client_for(gb.vice)
    response = vice.post(reverse("gb_unlock_decide", args=[gb.school.pk, unlock.pk]),
                         {"decision": "reject", "note": "Không đủ căn cứ"}, follow=True)
    assert "Đã từ chối" in response.content.decode()
    unlock.refresh_from_db()
    assert unlock.state == "rejected" and unlock.decision_note == "Không đủ căn cứ"


def test_an_unlock_request_without_a_reason_is_refused_in_place(gb, cls):
    fill_column(gb, cls, "TO")
    teacher = client_for(gb.gvbm)
    teacher.post(column_url("gb_column_confirm", cls))
    response = teacher.post(column_url("gb_column_unlock", cls), {"reason": "  "})
    assert response.status_code == 200 and "Hãy ghi lí do" in response.content.decode()


# --- homeroom pages ------------------------------------------------------------------------------------

def test_the_homeroom_teacher_sets_conduct_and_absences_row_by_row(gb, cls):
    student = gb.students(cls)[0]
    client = client_for(gb.gvcn)
    page = client.get(reverse("gb_homeroom_semester", args=[cls.pk, 1])).content.decode()
    assert f'name="conduct-{student.pk}"' in page
    url = reverse("gb_homeroom_semester_save", args=[cls.pk, 1, student.pk])
    response = client.post(url, {f"conduct-{student.pk}": "K", f"excused-{student.pk}": "2",
                                  f"unexcused-{student.pk}": "1", f"version-{student.pk}": "0"},
                           HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200
    assert "Đã lưu" in response.content.decode() and 'value="1"' in response.content.decode()
    from hocba.gradebook.models import StudentSemester

    record = StudentSemester.objects.get(student=student, semester=1)
    assert (record.conduct, record.absences_excused, record.absences_unexcused) == ("K", 2, 1)
    # The same page saved again from a stale copy (version 0) is refused with the newer values.
    response = client.post(url, {f"conduct-{student.pk}": "T", f"excused-{student.pk}": "0",
                                  f"unexcused-{student.pk}": "0", f"version-{student.pk}": "0"},
                           HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 409
    assert "sửa trước khi bạn lưu" in response.content.decode()
    record.refresh_from_db()
    assert record.conduct == "K"


def test_a_bad_absence_count_is_refused_on_its_row(gb, cls):
    student = gb.students(cls)[0]
    url = reverse("gb_homeroom_semester_save", args=[cls.pk, 1, student.pk])
    response = client_for(gb.gvcn).post(url, {f"conduct-{student.pk}": "T", f"excused-{student.pk}": "-3",
                                              f"unexcused-{student.pk}": "0", f"version-{student.pk}": "0"},
                                        HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 422 and "Số buổi nghỉ" in response.content.decode()


def test_a_subject_teachers_remark_appears_beside_the_conduct_cell(gb, cls):
    student = gb.students(cls)[1]
    teacher = client_for(gb.gvbm)
    response = teacher.post(column_url("gb_conduct_remarks", cls),
                            {"student": str(student.pk), "text": "Hay nói chuyện riêng trong giờ"}, follow=True)
    assert "Đã gửi góp ý" in response.content.decode()
    page = client_for(gb.gvcn).get(reverse("gb_homeroom_semester", args=[cls.pk, 1])).content.decode()
    assert "Hay nói chuyện riêng trong giờ" in page and gb.gvbm.staff.full_name in page


def test_homeroom_pages_are_refused_to_a_subject_teacher(gb, cls):
    client = client_for(gb.gvbm)
    student = gb.students(cls)[0]
    for url in (reverse("gb_homeroom_semester", args=[cls.pk, 1]), reverse("gb_homeroom_year", args=[cls.pk]),
                reverse("gb_homeroom_student", args=[cls.pk, student.pk]),
                reverse("gb_summary", args=[cls.pk, "hk1"]), reverse("gb_summary_print", args=[cls.pk, "year"]),
                reverse("gb_summary_xlsx", args=[cls.pk, "hk2"])):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("gb_homeroom_semester_save", args=[cls.pk, 1, student.pk]),
                           {f"conduct-{student.pk}": "T", f"version-{student.pk}": "0"})
    assert response.status_code == 403


def test_the_year_page_and_a_students_closing_data(gb, cls):
    gb.fill_all(cls)
    student = gb.students(cls)[0]
    client = client_for(gb.gvcn)
    year_page = client.get(reverse("gb_homeroom_year", args=[cls.pk])).content.decode()
    assert "Học sinh Giỏi" in year_page and "Được lên lớp" in year_page
    url = reverse("gb_homeroom_student", args=[cls.pk, student.pk])
    response = client.post(url, {"version": "0", "gvcn_comment": "Chăm ngoan, tiến bộ", "certificates": "",
                                 "contests": "Giải Ba Toán cấp quận", "summer_conduct": ""}, follow=True)
    html = response.content.decode()
    assert "Đã lưu dữ liệu cuối năm" in html and "Giải Ba Toán cấp quận" in html
    # A second save from the stale page is refused and says so.
    response = client.post(url, {"version": "0", "gvcn_comment": "Khác", "certificates": "", "contests": "",
                                 "summer_conduct": ""})
    assert "vừa được" in response.content.decode()


def test_summer_retest_results_are_entered_for_the_subjects_article_14_names(gb, cls):
    gb.fill_all(cls)
    student = gb.students(cls)[0]
    gb.put(cls, "TO", 1, {student: {"tx": ["2.0"] * 4, "gk": "2.0", "ck": "2.0"}})
    gb.put(cls, "TO", 2, {student: {"tx": ["2.0"] * 4, "gk": "2.0", "ck": "2.0"}})
    gb.put(cls, "NV", 1, {student: {"tx": ["2.0"] * 4, "gk": "2.0", "ck": "2.0"}})
    gb.put(cls, "NV", 2, {student: {"tx": ["2.0"] * 4, "gk": "2.0", "ck": "2.0"}})
    client = client_for(gb.gvcn)
    url = reverse("gb_homeroom_student", args=[cls.pk, student.pk])
    page = client.get(url).content.decode()
    assert 'name="retest-TO"' in page and 'name="retest-NV"' in page
    client.post(url, {"version": "0", "gvcn_comment": "", "certificates": "", "contests": "",
                      "summer_conduct": "", "retest-TO": "6,5", "retest-NV": "5"})
    from hocba.gradebook.models import StudentYear

    assert StudentYear.objects.get(student=student).summer_retest == {"TO": "6.5", "NV": "5.0"}
    year_page = client.get(reverse("gb_homeroom_year", args=[cls.pk])).content.decode()
    assert "Toán: 6,5" in year_page


def test_the_principal_decides_for_a_student_with_disabilities(gb, cls):
    student = gb.students(cls)[0]
    student.disabled_not_assessed = True
    student.save()
    url = reverse("gb_principal_decision", args=[cls.pk, student.pk])
    assert client_for(gb.vice).get(url).status_code == 403
    assert client_for(gb.gvcn).get(url).status_code == 403
    principal = client_for(gb.principal)
    response = principal.post(url, {"decision": "promoted", "reason": ""})
    assert "Hãy ghi lí do" in response.content.decode()
    response = principal.post(url, {"decision": "promoted", "reason": "Hoàn thành kế hoạch giáo dục cá nhân"},
                              follow=True)
    html = response.content.decode()
    assert "Đã ghi quyết định" in html and "quyết định của hiệu trưởng" in html


# --- class summary and sign-off --------------------------------------------------------------------------

def test_the_summary_shows_every_subject_learning_conduct_absences_and_the_adjustment(gb, cls):
    gb.fill_all(cls, semesters=(1,), score="9.0")
    student = gb.students(cls)[0]
    # Toán 4,0 alone pulls a Tốt student down to Đạt; Điều 9.3 raises it to Khá because of TO.
    gb.put(cls, "TO", 1, {student: {"tx": ["4.0"] * 4, "gk": "4.0", "ck": "4.0"}})
    html = client_for(gb.gvcn).get(reverse("gb_summary", args=[cls.pk, "hk1"])).content.decode()
    assert "Bảng tổng hợp kết quả đánh giá giáo dục" in html
    assert "4,0" in html and "9,0" in html
    assert "điều chỉnh (Toán)" in html
    assert "Khá" in html and "Tốt" in html
    assert "Xác thực sổ (GVCN)" in html


def test_gvcn_confirms_principal_releases_and_the_grid_is_then_read_only(gb, cls):
    from hocba.gradebook.models import ClassSignoff

    gb.fill_all(cls, semesters=(1,))
    teacher = client_for(gb.gvbm)
    for code in gb.plans:
        teacher.post(column_url("gb_column_confirm", cls, code))
    gvcn, principal = client_for(gb.gvcn), client_for(gb.principal)
    assert principal.post(reverse("gb_class_confirm", args=[cls.pk, "hk1"])).status_code == 403
    html = gvcn.post(reverse("gb_class_confirm", args=[cls.pk, "hk1"]), follow=True).content.decode()
    assert "Đã xác thực sổ học kì I của lớp 6A1" in html
    assert gvcn.post(reverse("gb_class_release", args=[cls.pk, "hk1"])).status_code == 403
    html = principal.post(reverse("gb_class_release", args=[cls.pk, "hk1"]), follow=True).content.decode()
    assert "Đã ban hành sổ học kì I" in html
    assert ClassSignoff.objects.get(school_class=cls, period="hk1").state == "released"
    grid = teacher.get(column_url("gb_column", cls)).content.decode()
    assert "Sổ đã ban hành" in grid and "readonly" in grid
    # The principal reopens it, with a reason.
    response = principal.post(reverse("gb_class_reopen", args=[cls.pk, "hk1"]), {"reason": ""}, follow=True)
    assert "Hãy ghi lí do" in response.content.decode()
    principal.post(reverse("gb_class_reopen", args=[cls.pk, "hk1"]), {"reason": "Phúc khảo"})
    assert ClassSignoff.objects.get(school_class=cls, period="hk1").state == "open"


def test_the_class_cannot_be_confirmed_while_columns_are_open(gb, cls):
    html = client_for(gb.gvcn).post(reverse("gb_class_confirm", args=[cls.pk, "hk1"]), follow=True).content.decode()
    assert "Chưa thể xác thực" in html


def test_the_summary_exports_to_xlsx(gb, cls):
    gb.fill_all(cls)
    response = client_for(gb.principal).get(reverse("gb_summary_xlsx", args=[cls.pk, "year"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('tong-hop-6a1-ca-nam.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC"
    header = rows[3]
    assert header[:3] == ("STT", "Mã học sinh", "Họ và tên") and "Kết quả học tập" in header
    assert "Khen thưởng" in header and "Kết quả" in header
    first = rows[4]
    assert first[2] == "Lê Thị An" and "8,0" in first and "Tốt" in first and "Học sinh Giỏi" in first
    assert any(r[0] and "không có điểm nào được sửa chữa" in str(r[0]) for r in rows)


# --- the school: progress, statistics, the teacher's columns, the hub ------------------------------------

def test_the_progress_board_shows_entry_confirmation_and_overdue_classes(gb, cls):
    from hocba.gradebook.models import Deadline

    fill_column(gb, cls, "TO")
    client_for(gb.gvbm).post(column_url("gb_column_confirm", cls))
    Deadline.objects.create(school=gb.school, year=gb.year, kind="release", grades="6,7,8",
                            due=dt.date(2020, 5, 29))
    client = client_for(gb.principal)
    html = client.get(reverse("gb_progress", args=[gb.school.pk, gb.year.pk]) + "?hk=1").content.decode()
    assert "100% ✓" in html and "0%" in html
    assert "is-overdue" in html and "Lớp quá hạn" in html and "29/05/2020" in html
    assert client_for(gb.gvbm).get(reverse("gb_progress", args=[gb.school.pk, gb.year.pk])).status_code == 403


def test_the_statistics_count_levels_per_grade_and_class_with_a_chart(gb, cls):
    gb.fill_all(cls, semesters=(1,))
    other = gb.make_class("6A2", students=2)
    gb.fill_all(other, semesters=(1,), score="6.0")
    html = client_for(gb.principal).get(
        reverse("gb_statistics", args=[gb.school.pk, gb.year.pk, "hk1"])).content.decode()
    assert "<svg" in html and "<rect" in html
    assert "Khối 6" in html and "Toàn trường" in html
    assert "3 (60,0%)" in html  # 3 of 5 students Tốt (6A1), 2 Khá (6A2)
    assert "2 (40,0%)" in html
    # Teachers may see the school's figures; a parent may not.
    assert client_for(gb.gvbm).get(
        reverse("gb_statistics", args=[gb.school.pk, gb.year.pk, "year"])).status_code == 200
    parent = gb.make_user("phuhuynh", "parent", None, staff=False)
    assert client_for(parent).get(
        reverse("gb_statistics", args=[gb.school.pk, gb.year.pk, "hk1"])).status_code == 403


def test_the_teachers_columns_and_the_class_hub_link_to_the_grids(gb, cls):
    client = client_for(gb.gvbm)
    html = client.get(reverse("gb_my_columns")).content.decode()
    assert column_url("gb_column", cls) in html and "Toán" in html
    hub = client.get(reverse("gb_class", args=[cls.pk])).content.decode()
    assert column_url("gb_column", cls) in hub and "Nhập điểm" in hub
    assert "Tổng hợp kết quả" not in hub  # the summary is the GVCN's and the leadership's
    hub = client_for(gb.gvcn).get(reverse("gb_class", args=[cls.pk])).content.decode()
    assert reverse("gb_summary", args=[cls.pk, "year"]) in hub
    assert client_for(gb.other_teacher).get(reverse("gb_class", args=[cls.pk])).status_code == 403
