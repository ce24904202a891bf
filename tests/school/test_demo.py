"""The demo school: a realistic, deterministic fictional THCS, and accounts that work for every role."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import unicodedata
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command

from hocba.school.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DemoError,
    _class_slots,
    generate_demo,
    load_demo,
    summarise_years,
)
from hocba.school.names import is_valid_personal_number
from hocba.school.tt22_plan import CORE_CODES, periods

LAST_YEAR = "2024-2025"


@pytest.fixture(scope="module")
def data():
    return generate_demo(2024)


def _grade_and_suffix(class_name: str) -> tuple[int, str]:
    grade, suffix = class_name.split("A")
    return int(grade), suffix


def _account(data, username):
    return next(a for a in data.accounts if a.username == username)


# --- the generator (no database) ------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_school_and_another_seed_another(data):
    assert generate_demo(2024) == data
    other = generate_demo(7)
    assert other != data
    assert [s.full_name for s in other.students[:50]] != [s.full_name for s in data.students[:50]]


def test_each_year_has_32_classes_of_grades_6_to_9_and_about_1200_students(data):
    assert [y.name for y in data.years] == ["2022-2023", "2023-2024", LAST_YEAR]
    for summary in summarise_years(data):
        assert summary.classes == 32
        assert 1150 <= summary.studying <= 1250
    for year in data.years:
        names = sorted(c.name for c in data.classes if c.year == year.name)
        assert names == sorted(f"{g}A{s}" for g in (6, 7, 8, 9) for s in range(1, 9))
        assert year.start_date.month == 9 and year.end_date.month == 5
    assert [y.is_current for y in data.years] == [False, False, True]


def test_the_school_has_about_55_staff_with_one_principal_and_50_to_60_teachers(data):
    positions = Counter(s.position for s in data.staff)
    assert positions["HT"] == 1 and positions["PHT"] == 2 and positions["NVHV"] == 1 and positions["QTT"] == 1
    assert 50 <= positions["GV"] <= 60
    assert 50 <= len(data.staff) <= 60
    assert len({s.code for s in data.staff}) == len(data.staff)


def test_students_move_up_one_grade_a_year_in_the_same_class_suffix(data):
    by_student = defaultdict(list)
    for e in data.enrolments:
        by_student[e.student].append(e)
    three_years = 0
    for enrolments in by_student.values():
        enrolments.sort(key=lambda e: e.year)
        assert len({e.year for e in enrolments}) == len(enrolments), "one enrolment per student and year"
        if len(enrolments) == 3:
            three_years += 1
        for before, after in itertools.pairwise(enrolments):
            assert int(after.year[:4]) == int(before.year[:4]) + 1
            g1, s1 = _grade_and_suffix(before.class_name)
            g2, s2 = _grade_and_suffix(after.class_name)
            assert (g2, s2) == (g1 + 1, s1)
    assert three_years > 500  # the cohorts in grades 7 and 8 of 2022-2023


def test_birth_years_match_the_grade(data):
    students = {s.code: s for s in data.students}
    for e in data.enrolments:
        grade, _suffix = _grade_and_suffix(e.class_name)
        assert students[e.student].birth_date.year == int(e.year[:4]) - (grade - 6) - 11
    grade_six_now = [e for e in data.enrolments if e.year == LAST_YEAR and e.class_name.startswith("6")]
    assert {students[e.student].birth_date.year for e in grade_six_now} == {2013}


def test_both_genders_are_about_balanced(data):
    share = Counter(s.gender for s in data.students)["2"] / len(data.students)
    assert 0.44 <= share <= 0.56
    assert set(Counter(s.gender for s in data.staff)) == {"1", "2"}


def test_personal_numbers_are_valid_unique_and_encode_birth_year_and_gender(data):
    people = [*data.students, *data.staff]
    numbers = [p.personal_number for p in people]
    assert len(set(numbers)) == len(numbers)
    for p in people:
        n = p.personal_number
        assert is_valid_personal_number(n), n
        century = 0 if p.birth_date.year < 2000 else 2
        assert int(n[3]) == century + (0 if p.gender == "1" else 1), (p.full_name, n)
        assert n[4:6] == f"{p.birth_date.year % 100:02d}"
    assert Counter(s.personal_number[:3] for s in data.students).most_common(1)[0][0] == "079"


def test_student_codes_are_unique_and_stable_across_years(data):
    codes = [s.code for s in data.students]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 10 and c.startswith("79770") for c in codes)
    assert {e.student for e in data.enrolments} == set(codes)


def test_names_are_nfc_vietnamese_with_three_or_more_words(data):
    names = [s.full_name for s in data.students] + [s.full_name for s in data.staff]
    names += [s.father_name for s in data.students if s.father_name]
    names += [s.mother_name for s in data.students]
    for name in names:
        assert unicodedata.normalize("NFC", name) == name
        assert len(name.split(" ")) >= 3, name
    families = Counter(s.full_name.split()[0] for s in data.students)
    assert 0.30 <= families["Nguyễn"] / len(data.students) <= 0.46
    assert {"Trần", "Lê", "Phạm", "Huỳnh", "Phan", "Võ"} <= set(families)
    for s in data.students:
        if s.father_name:
            assert s.father_name.split()[0] == s.full_name.split()[0], "a child has the father's family name"
            assert s.father_occupation and s.mother_occupation
        assert s.birthplace and s.hometown and "Thành phố Hồ Chí Minh" in s.residence


def test_a_few_students_transfer_in_transfer_out_or_drop_out(data):
    statuses = Counter(e.status for e in data.enrolments)
    assert statuses["transferred_in"] >= 3 and statuses["transferred_out"] >= 3 and statuses["dropped_out"] >= 1
    years_of = defaultdict(list)
    for e in data.enrolments:
        years_of[e.student].append(e.year)
    for e in data.enrolments:
        if e.status == "studying":
            continue
        assert e.status_date is not None
        year = next(y for y in data.years if y.name == e.year)
        assert year.start_date <= e.status_date <= year.end_date
        if e.status in ("transferred_in", "transferred_out"):
            assert e.other_school.startswith("Trường THCS")
        if e.status == "transferred_in":
            assert min(years_of[e.student]) == e.year, "a transfer-in student starts in that year"
        else:
            assert max(years_of[e.student]) == e.year, "a student who left has no later enrolment"


def test_every_class_has_a_teacher_for_each_planned_subject_and_semester(data):
    staff = {s.code: s for s in data.staff}
    taught = defaultdict(list)
    for a in data.assignments:
        assert staff[a.teacher].position == "GV"
        taught[(a.year, a.class_name, a.subject, a.semester)].append(a.teacher)
    for c in data.classes:
        for subject in CORE_CODES:
            for semester in (1, 2):
                assert taught[(c.year, c.name, subject, semester)], (c.year, c.name, subject, semester)
        assert taught[(c.year, c.name, "HDTN", 1)] == [c.homeroom]
    co_taught = {subject for (_y, _c, subject, _s), teachers in taught.items() if len(teachers) == 2}
    assert {"KHTN", "NT"} <= co_taught
    # Loads stay reasonable: no teacher above 26 periods a week (the norm is 19, homeroom classes add).
    load = Counter()
    for (year, class_name, subject, semester), teachers in taught.items():
        if year == LAST_YEAR and semester == 1:
            for t in teachers:
                load[t] += periods(subject, int(class_name[0])) / len(teachers) / 35
    assert max(load.values()) <= 26 and min(load.values()) >= 10
    assert len(_class_slots(9)) == len(CORE_CODES) - 1 + 2  # HĐTN apart, KHTN and NT shared


def test_one_homeroom_class_per_teacher_and_year(data):
    for year in data.years:
        homerooms = [c.homeroom for c in data.classes if c.year == year.name]
        assert len(set(homerooms)) == len(homerooms) == 32


def test_gvcn_is_homeroom_of_9a1_and_gvbm_teaches_elsewhere_only(data):
    now = [a for a in data.assignments if a.year == LAST_YEAR]
    nine_a1 = next(c for c in data.classes if c.year == LAST_YEAR and c.name == "9A1")
    gvcn, gvbm = _account(data, "gvcn").staff, _account(data, "gvbm").staff
    assert nine_a1.homeroom == gvcn
    assert any(a.teacher == gvcn and a.class_name == "9A1" and a.subject != "HDTN" for a in now)
    assert any(a.teacher == gvcn and a.class_name != "9A1" for a in now)
    assert gvbm not in {c.homeroom for c in data.classes if c.year == LAST_YEAR}
    assert not any(a.teacher == gvbm and a.class_name == "9A1" for a in now)
    assert any(a.teacher == gvbm for a in now)


def test_the_parent_and_student_accounts_are_one_family_in_9a1(data):
    parent, student = _account(data, "phuhuynh"), _account(data, "hocsinh")
    assert parent.student == student.student and parent.relation in ("father", "mother")
    assert student.relation == "self"
    child = next(s for s in data.students if s.code == student.student)
    assert f"{parent.last_name} {parent.first_name}" == child.father_name
    assert f"{student.last_name} {student.first_name}" == child.full_name
    assert any(e.student == child.code and e.year == LAST_YEAR and e.class_name == "9A1" and e.status == "studying"
               for e in data.enrolments)


def test_every_staff_member_has_an_account(data):
    usernames = [a.username for a in data.accounts]
    assert len(set(usernames)) == len(usernames)
    assert {a.staff for a in data.accounts if a.staff} == {s.code for s in data.staff}
    assert usernames[:len(DEMO_ACCOUNTS)] == [row[0] for row in DEMO_ACCOUNTS]


# --- the loader (database) ------------------------------------------------------------------------------

EXPECTED_ROLES = {
    "admin": "system_admin", "quantri": "school_admin", "hieutruong": "principal",
    "phohieutruong": "vice_principal", "hocvu": "academic_staff", "gvcn": "teacher", "gvbm": "teacher",
    "phuhuynh": "parent", "hocsinh": "student", "phong": "district",
}


@pytest.mark.django_db
def test_load_writes_the_school_in_one_transaction_with_one_audit_event():
    from hocba.audit.models import AuditEvent
    from hocba.school.models import Enrolment, SchoolClass, Staff, Student, TeachingAssignment

    summary = load_demo(seed=2024)
    assert summary.seconds < 20
    for year in ("2022-2023", "2023-2024", LAST_YEAR):
        assert SchoolClass.objects.filter(year__name=year).count() == 32
        studying = Enrolment.objects.filter(year__name=year, status__in=["studying", "transferred_in"]).count()
        assert 1150 <= studying <= 1250
    assert 50 <= Staff.objects.filter(position="GV").count() <= 60
    assert Student.objects.count() == summary.counts["students"]
    assert TeachingAssignment.objects.count() == summary.counts["assignments"] > 2000
    student = Student.objects.order_by("pk").first()
    assert student.sort_key and unicodedata.normalize("NFC", student.full_name) == student.full_name
    events = list(AuditEvent.objects.all())
    assert [e.action for e in events] == ["demo.load"]
    assert events[0].school.code == summary.school_code
    assert events[0].extra["seed"] == 2024 and events[0].extra["counts"]["classes"] == 96


@pytest.mark.django_db
def test_the_subject_plan_is_the_one_create_school_year_seeds(school, make_user):
    from hocba.school.actions import create_school_year
    from hocba.school.models import SubjectPlan

    actor = make_user("qt.thunghiem", "school_admin", school, position="QTT")
    year = create_school_year(actor, school, LAST_YEAR, dt.date(2024, 9, 5), dt.date(2025, 5, 31))
    load_demo(seed=2024)

    def plan(y):
        return sorted(SubjectPlan.objects.filter(year=y).values_list("grade", "subject__code", "kind",
                                                                    "periods_per_year", "elective", "order"))

    reference = plan(year)
    demo_years = set(SubjectPlan.objects.exclude(year=year).values_list("year", flat=True))
    assert len(demo_years) == 3
    for demo_year in demo_years:
        assert plan(demo_year) == reference


@pytest.mark.django_db
def test_every_demo_account_logs_in_with_the_documented_password_and_has_its_role(client):
    from django.contrib.auth import get_user_model

    from hocba.school.models import Membership, SchoolClass, StudentAccess
    from hocba.school.permissions import can_view_class, can_view_statistics, can_view_student

    load_demo(seed=2024)
    User = get_user_model()
    for username, _label, _try in DEMO_ACCOUNTS:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()
        roles = set(Membership.objects.filter(user__username=username).values_list("role", flat=True))
        assert roles == {EXPECTED_ROLES[username]}, username
    other_staff = list(generate_demo(2024).accounts[len(DEMO_ACCOUNTS):])
    assert len(other_staff) > 40 and other_staff[-1].username.startswith("gv.cb")
    assert client.login(username=other_staff[-1].username, password=DEMO_PASSWORD)
    assert set(Membership.objects.filter(user__username=other_staff[-1].username)
               .values_list("role", flat=True)) == {"teacher"}
    for username in ("quantri", "hieutruong", "phohieutruong", "hocvu", "gvcn", "gvbm"):
        user = User.objects.get(username=username)
        assert user.staff.full_name == f"{user.last_name} {user.first_name}"

    nine_a1 = SchoolClass.objects.get(name="9A1", year__name=LAST_YEAR)
    gvcn, gvbm = User.objects.get(username="gvcn"), User.objects.get(username="gvbm")
    assert nine_a1.homeroom_teacher.user == gvcn
    assert can_view_class(gvcn, nine_a1)
    assert not can_view_class(gvbm, nine_a1)
    assert not SchoolClass.objects.filter(year__name=LAST_YEAR, homeroom_teacher__user=gvbm).exists()

    access = {a.user.username: a for a in StudentAccess.objects.select_related("user", "student")}
    assert set(access) == {"phuhuynh", "hocsinh"}
    assert access["phuhuynh"].student == access["hocsinh"].student
    assert access["phuhuynh"].relation in ("father", "mother") and access["hocsinh"].relation == "self"
    child = access["hocsinh"].student
    assert child.enrolments.filter(school_class=nine_a1).exists()
    assert can_view_student(access["phuhuynh"].user, child)
    phong = Membership.objects.get(user__username="phong")
    assert phong.division == nine_a1.school.division and phong.school is None
    assert can_view_statistics(phong.user, nine_a1.school)


@pytest.mark.django_db
def test_load_is_refused_when_the_demo_school_exists_unless_reset():
    from django.contrib.auth import get_user_model

    from hocba.audit.models import AuditEvent
    from hocba.school import actions
    from hocba.school.models import School, Student

    first = load_demo(seed=2024)
    actions.register_login(get_user_model().objects.get(username="gvcn"))  # an audit event naming a demo user
    with pytest.raises(DemoError, match="đã có"):
        load_demo(seed=2024)
    assert Student.objects.count() == first.counts["students"]

    names_before = set(Student.objects.values_list("full_name", flat=True))
    again = load_demo(seed=7, reset=True)
    assert again.reset and not first.reset
    assert School.objects.count() == 1 and Student.objects.count() == again.counts["students"]
    assert set(Student.objects.values_list("full_name", flat=True)) != names_before
    assert [e.action for e in AuditEvent.objects.all()] == ["demo.load", "account.login", "demo.load"]
    assert get_user_model().objects.get(username="gvcn").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_load_does_not_take_over_an_account_that_is_not_a_demo_one():
    from django.contrib.auth import get_user_model

    from hocba.school.models import School

    get_user_model().objects.create_user("admin", email="it@truong.edu.vn", password="Khac@12345")
    with pytest.raises(DemoError, match="admin"):
        load_demo(seed=2024)
    assert not School.objects.exists()


@pytest.mark.django_db
def test_the_demo_loads_into_a_database_whose_subject_catalogue_was_flushed():
    from hocba.school.models import Subject, SubjectPlan

    Subject.objects.all().delete()  # what a transactional test's flush leaves behind
    summary = load_demo(seed=2024)
    assert Subject.objects.count() == 14
    assert SubjectPlan.objects.count() == summary.counts["subject_plans"] == 3 * 4 * 12


@pytest.mark.django_db
def test_the_command_loads_once_and_prints_the_accounts():
    out = io.StringIO()
    call_command("demo", "--if-missing", stdout=out)
    text = out.getvalue()
    assert "Đã nạp trường minh hoạ" in text and "Năm học 2024-2025: 32 lớp" in text
    for username, _label, _try in DEMO_ACCOUNTS:
        assert username in text
    assert DEMO_PASSWORD in text

    out = io.StringIO()
    call_command("demo", "--if-missing", stdout=out)
    assert "đã có" in out.getvalue() and "gvcn" in out.getvalue()
