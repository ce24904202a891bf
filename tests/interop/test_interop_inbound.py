"""Inbound sync from the sector database, against the simulator running as a subprocess.

The promises: a pull creates the school's data; pulling again changes nothing; a change in the sector
reaches the school; a local edit that disagrees with the sector is flagged (never merged silently) and the
sector's identity data wins; a move that would detach grade-book data is flagged and not applied; a bad item
is refused without blocking the rest and comes back until it is fixed; a pull that loses its connection
writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from hocba.audit.models import AuditEvent
from hocba.interop import actions, client
from hocba.interop.models import SyncConflict, SyncCursor
from hocba.school import roster
from hocba.school.models import Enrolment, SchoolClass, Staff, Student, TeachingAssignment

from .conftest import ASSIGNMENTS, CLASSES, SCHOOL_CODE, STAFF, school_item, student_item

pytestmark = pytest.mark.django_db


def school_scope(report):
    (scope,) = [s for s in report.scopes if s.scope == SCHOOL_CODE]
    return scope


def test_first_pull_creates_the_schools_data_and_a_second_pull_changes_nothing(seeded, school, year, settings):
    report = client.pull()
    assert report.ok, report.errors + [e for s in report.all_scopes for e in s.errors]
    scope = school_scope(report)
    counts = {kind: (c.created, c.updated) for kind, c in scope.counts.items()}
    assert counts == {"staff": (3, 0), "class": (3, 0), "student": (4, 0), "enrolment": (4, 0),
                      "assignment": (4, 0)}
    assert report.conflict_count == 0
    assert report.schools.change_count == 0  # the local school is the sector's, unchanged

    an = Student.objects.get(school=school, student_code="HS0001")
    assert (an.full_name, an.personal_number, an.birth_date, an.gender) == (
        "Trần Minh An", "079213000001", dt.date(2013, 2, 3), "1")
    assert Enrolment.objects.get(student=an, year=year).school_class.name == "6A1"
    assert SchoolClass.objects.get(year=year, name="6A1").homeroom_teacher.staff_code == "GV001"
    assert TeachingAssignment.objects.filter(school=school).count() == 4
    event = AuditEvent.objects.filter(action="sync.pull", school=school).get()
    assert event.extra["counts"]["student"]["created"] == 4

    again = client.pull()  # within the overlap window: everything is read again, nothing changes
    assert again.ok and again.change_count == 0 and again.conflict_count == 0
    assert school_scope(again).fetched["students"] == 4
    assert AuditEvent.objects.filter(action="sync.pull").count() == 1

    settings.HOCBA_SYNC_OVERLAP_SECONDS = 0  # from the cursor exactly: the sector has nothing newer
    third = client.pull()
    assert third.change_count == 0 and school_scope(third).fetched == {
        "staff": 0, "classes": 0, "students": 0, "assignments": 0}
    assert client.pull(full=True).change_count == 0


def test_a_change_in_the_sector_is_applied_and_reported(seeded, school, year, settings):
    client.pull()
    settings.HOCBA_SYNC_OVERLAP_SECONDS = 0
    seeded.put("students", [
        student_item("HS0001", "079213000001", "Trần Minh Ân", "6A1", residence="5 Nguyễn Huệ, Phường Sài Gòn"),
        student_item("HS0005", "079213000005", "Vũ Hải Yến", "6A2", gender="2"),
    ])
    seeded.put("staff", [{**STAFF[2], "active": False}])
    seeded.put("classes", [{**CLASSES[2], "homeroom_staff_code": "GV003"}])
    seeded.put("assignments", [{**ASSIGNMENTS[3], "deleted": True}])

    report = client.pull()
    scope = school_scope(report)
    assert report.ok and report.conflict_count == 0
    assert scope.fetched == {"staff": 1, "classes": 1, "students": 2, "assignments": 1}
    changes = {(c.kind, c.key): c for c in scope.changes}
    assert {label: (old, new) for label, old, new in changes[("student", "HS0001")].diffs} == {
        "Họ và tên": ("Trần Minh An", "Trần Minh Ân"),
        "Nơi ở hiện nay": ("12 Lê Lợi, Phường Bến Nghé", "5 Nguyễn Huệ, Phường Sài Gòn")}
    assert changes[("student", "HS0005")].action == "created"
    assert changes[("assignment", "2024-2025/7A1/NN1/1/GV003")].action == "deleted"
    assert Student.objects.get(student_code="HS0001").full_name == "Trần Minh Ân"
    assert Enrolment.objects.get(student__student_code="HS0005").school_class.name == "6A2"
    assert not Staff.objects.get(staff_code="GV003").is_active
    assert SchoolClass.objects.get(year=year, name="7A1").homeroom_teacher.staff_code == "GV003"
    assert not TeachingAssignment.objects.filter(school_class__name="7A1").exists()
    assert client.pull().change_count == 0


def _import_csv(actor, school, year, rows):
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    preview = roster.parse_roster("students", "sua.csv", out.getvalue().encode(), school=school, year=year)
    assert preview.ok, preview.errors + preview.file_errors
    return roster.import_roster(actor, school, year, "students", preview)


def test_a_conflicting_local_edit_is_flagged_and_the_sector_keeps_identity(seeded, school, year, school_admin,
                                                                          settings):
    client.pull()
    settings.HOCBA_SYNC_OVERLAP_SECONDS = 0
    # Offline, the school imports a spreadsheet that renames two pupils and changes a residence.
    header = ["Mã học sinh", "Số định danh cá nhân", "Họ và tên", "Giới tính", "Ngày sinh", "Nơi sinh", "Quê quán",
              "Nơi ở hiện nay", "Lớp"]
    _import_csv(school_admin, school, year, [
        header,
        ["HS0001", "079213000001", "Trần Minh Anh", "Nam", "03/02/2013", "Thành phố Hồ Chí Minh", "Tỉnh Long An",
         "12 Lê Lợi, Phường Bến Nghé", "6A1"],
        ["HS0002", "079213000002", "Lê Thu Bít", "Nữ", "03/02/2013", "Thành phố Hồ Chí Minh", "Tỉnh Long An",
         "99 Hai Bà Trưng", "6A1"],
    ])
    # Meanwhile the sector corrects HS0001's name (differently) and moves HS0003 to another class.
    seeded.put("students", [student_item("HS0001", "079213000001", "Trần Minh Ánh", "6A1"),
                            student_item("HS0003", "079213000003", "Đỗ Gia Cường", "6A1")])

    report = client.pull()
    assert report.ok
    flagged = {(c.key, c.field): c for c in school_scope(report).conflicts}
    # both sides changed the name: the sector's value wins, the local one is kept in the conflict
    assert flagged[("HS0001", "Họ và tên")].local == "Trần Minh Anh"
    assert flagged[("HS0001", "Họ và tên")].sector == "Trần Minh Ánh"
    assert flagged[("HS0001", "Họ và tên")].identity and flagged[("HS0001", "Họ và tên")].applied
    # only the school changed HS0002 (the sector did not send it): still restored and flagged
    assert flagged[("HS0002", "Họ và tên")].local == "Lê Thu Bít"
    assert flagged[("HS0002", "Nơi ở hiện nay")].applied and not flagged[("HS0002", "Nơi ở hiện nay")].identity
    # a class move is not applied by the sync
    move = flagged[("HS0003/2024-2025", "Lớp")]
    assert (move.local, move.sector, move.applied) == ("6A2", "6A1", False)

    assert Student.objects.get(student_code="HS0001").full_name == "Trần Minh Ánh"
    assert Student.objects.get(student_code="HS0002").full_name == "Lê Thu Bích"
    assert Student.objects.get(student_code="HS0002").residence == "12 Lê Lợi, Phường Bến Nghé"
    assert Enrolment.objects.get(student__student_code="HS0003").school_class.name == "6A2"
    rows = SyncConflict.objects.filter(school=school)
    assert rows.count() == 4
    assert rows.get(key="HS0001", field="full_name").local_value == "Trần Minh Anh"
    assert rows.get(key="HS0003/2024-2025").resolution == SyncConflict.NOT_APPLIED

    # Pulling again: no new changes, and the open move conflict is not repeated.
    again = client.pull(full=True)
    assert again.change_count == 0
    assert SyncConflict.objects.filter(school=school).count() == 4

    # The school admin sees the conflicts on the sync page and acknowledges one (audited).
    web = Client()
    web.force_login(school_admin)
    page = web.get(reverse("interop_sync", args=[school.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Trần Minh Anh" in text and "Trần Minh Ánh" in text and "(định danh)" in text
    conflict = rows.get(key="HS0001", field="full_name")
    answer = web.post(reverse("interop_acknowledge", args=[school.pk, conflict.pk]), {"note": "Đã báo Sở"})
    assert answer.status_code == 302
    conflict.refresh_from_db()
    assert conflict.acknowledged_by == school_admin and conflict.note == "Đã báo Sở"
    assert AuditEvent.objects.filter(action="sync.conflict_acknowledge", object_id=str(conflict.pk)).exists()


def test_a_bad_item_is_refused_the_rest_applied_and_it_comes_back_until_fixed(seeded, school, settings):
    seeded.put("students", [student_item("HS0009", "12345", "Hồ Sai Số", "6A1")])
    report = client.pull()
    scope = school_scope(report)
    assert not report.ok
    assert any("HS0009" in e and "12 chữ số" in e for e in scope.errors)
    assert Student.objects.filter(school=school).count() == 4
    assert not scope.cursor_advanced
    assert SyncCursor.objects.get(scope=actions.school_scope(SCHOOL_CODE)).server_time == ""

    settings.HOCBA_SYNC_OVERLAP_SECONDS = 0
    seeded.put("students", [student_item("HS0009", "079213000009", "Hồ Sai Số", "6A1")])
    fixed = client.pull()
    assert fixed.ok and school_scope(fixed).cursor_advanced
    assert Student.objects.filter(school=school).count() == 5


def test_a_pull_that_loses_its_connection_writes_nothing_and_the_next_one_gets_everything(seeded, school):
    seeded.fault("drop_before", path="/api/v1/assignments")  # the last kind read for the school
    report = client.pull()
    assert any("Không kết nối được" in e for e in report.errors)
    assert not Student.objects.filter(school=school).exists()
    assert "Không kết nối được" in SyncCursor.objects.get(scope=actions.school_scope(SCHOOL_CODE)).last_error

    seeded.kill()
    down = client.pull()
    assert down.errors and not down.ok and not Staff.objects.filter(staff_code="GV001").exists()

    seeded.restart()
    report = client.pull()
    assert report.ok and school_scope(report).count("student").created == 4


def test_sync_pull_command_prints_the_report_and_fails_on_refused_items(seeded, school, capsys):
    call_command("sync", "pull", "--verbose")
    out = capsys.readouterr().out
    assert f"{SCHOOL_CODE} – Trường THCS Thử Nghiệm: cán bộ: 3 mới" in out
    assert "Thêm mới học sinh HS0001 (Trần Minh An)" in out
    assert "Tổng cộng: 18 thay đổi, 0 xung đột." in out

    seeded.put("schools", [school_item(address="1 Nguyễn Du")])
    seeded.put("staff", [{"school_code": SCHOOL_CODE, "staff_code": "GV404", "personal_number": "0791",
                          "full_name": "Sai Số", "gender": "1"}])
    with pytest.raises(SystemExit) as exc:
        call_command("sync", "pull")
    assert exc.value.code == 1
    captured = capsys.readouterr()
    assert "Cán bộ GV404" in captured.err
    school.refresh_from_db()
    assert school.address == "1 Nguyễn Du"


def test_a_school_the_sector_lists_is_created_with_its_department(sector, db):
    from hocba.school.models import School

    sector.put("schools", [school_item(code="79760499", name="Trường THCS Mới Lập", department_code="80",
                                       department_name="Sở GDĐT Long An", division_code="",
                                       division_name="")])
    report = client.pull()
    created = School.objects.get(code="79760499")
    assert (created.name, created.department.code, created.division) == ("Trường THCS Mới Lập", "80", None)
    assert report.schools.count("school").created == 1
    # no year yet: the school's own data waits, with a note saying what to do
    assert school_scope_of(report, "79760499").change_count == 0


def school_scope_of(report, code):
    return next(s for s in report.scopes if s.scope == code)


def test_only_school_managers_see_the_sync_page_and_sync_now_pulls_that_school(seeded, school, school_admin,
                                                                              make_user):
    teacher = make_user("giaovien", "teacher", school)
    web = Client()
    web.force_login(teacher)
    assert web.get(reverse("interop_sync", args=[school.pk])).status_code == 403
    web.force_login(school_admin)
    assert web.post(reverse("interop_sync_now", args=[school.pk])).status_code == 302
    assert Student.objects.filter(school=school).count() == 4
    page = web.get(reverse("interop_sync", args=[school.pk])).content.decode()
    assert "Đồng bộ xong" in page and "học sinh: 4 mới" in page
    event = AuditEvent.objects.get(action="sync.pull")
    assert event.actor == school_admin


def test_an_older_copy_applied_after_a_newer_one_changes_nothing(seeded, school, settings):
    """Two pulls overlap and the slower one, which read the sector earlier, applies last."""
    client.pull()
    (old,) = [i for i in seeded.call("GET", "/admin/data/students")["items"] if i["student_code"] == "HS0001"]
    seeded.put("students", [student_item("HS0001", "079213000001", "Trần Minh Ân", "6A1")])
    client.pull()
    cursor = SyncCursor.objects.get(scope=actions.school_scope(SCHOOL_CODE)).server_time

    late = actions.apply_school_data(None, school, {"students": [old]}, server_time=old["updated_at"])
    assert late.change_count == 0 and not late.conflicts
    assert Student.objects.get(student_code="HS0001").full_name == "Trần Minh Ân"
    assert SyncCursor.objects.get(scope=actions.school_scope(SCHOOL_CODE)).server_time == cursor


def test_an_exported_school_seeds_a_new_simulator_and_pulling_it_back_changes_nothing(seeded, school, tmp_path,
                                                                                   settings):
    from .conftest import Simulator

    client.pull()
    seed = tmp_path / "seed.json"
    call_command("sync", "export", "--school", SCHOOL_CODE, "--out", str(seed))
    other = Simulator(tmp_path / "other.sqlite3")
    other.start_args = ["--seed", str(seed)]
    other.start()
    try:
        assert len(other.call("GET", "/admin/data/students")["items"]) == 4
        settings.HOCBA_SECTOR_URL = other.url
        report = client.pull(full=True)
        assert report.ok and report.change_count == 0 and report.conflict_count == 0
        assert school_scope(report).count("staff").unchanged == 4  # the three teachers and the school admin
    finally:
        other.stop()
