"""The grade book's workflow: rà soát → xác thực → ban hành, unlock requests, the GVCN's records, Điều 11
decisions, conduct remarks and deadlines. Each action checks who acts, refuses in Vietnamese, and leaves
exactly one audit event when it changes something (none when it refuses)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from hocba.audit.models import AuditEvent
from hocba.gradebook import actions, selectors
from hocba.gradebook.actions import CellEdit
from hocba.gradebook.models import (
    CellChange,
    ClassSignoff,
    ColumnSignoff,
    ConductRemark,
    Deadline,
    StudentSemester,
    SubjectRow,
    UnlockRequest,
)
from hocba.gradebook.results import class_results
from hocba.school.actions import ActionError


class Audit:
    """``with Audit.expect("gradebook.x") as audit:`` — the block appends exactly that one audit event."""

    @classmethod
    def expect(cls, action: str, count: int = 1):
        return cls(action, count)

    def __init__(self, action, count):
        self.action, self.count = action, count

    def __enter__(self):
        self.last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False
        events = list(AuditEvent.objects.filter(id__gt=self.last))
        assert [e.action for e in events] == [self.action] * self.count
        self.events = events
        return False


def no_audit(fn, *args, error=ActionError, **kwargs):
    """The call is refused with ``error`` and leaves no audit event; returns the message."""
    before = AuditEvent.objects.count()
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert AuditEvent.objects.count() == before
    exc = info.value
    if isinstance(exc, ActionError) and hasattr(exc, "error_dict"):  # field → messages, fields named
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages) if isinstance(exc, ActionError) else str(exc)


@pytest.fixture
def cls(gb):
    return gb.make_class("6A1", students=4)


@pytest.fixture
def full(gb, cls):
    gb.fill_all(cls)
    return cls


def _confirm_all(gb, cls, semesters=(1, 2)):
    for plan in gb.plans.values():
        for n in semesters:
            actions.confirm_column(gb.gvbm, cls, plan.subject, n)


# --- confirm_column --------------------------------------------------------------------------------------

def test_confirm_column_locks_it_with_the_hash_of_its_cells(gb, full):
    toan = gb.subjects["TO"]
    with Audit.expect("gradebook.confirm_column") as audit:
        signoff = actions.confirm_column(gb.gvbm, full, toan, 1)
    assert signoff.state == ColumnSignoff.CONFIRMED and signoff.confirmed_by == gb.gvbm
    rows = list(SubjectRow.objects.filter(school_class=full, subject=toan, semester=1))
    assert signoff.snapshot_sha256 == actions.canonical_sha256(actions.column_snapshot(full, toan, 1, rows))
    assert audit.events[0].extra["snapshot_sha256"] == signoff.snapshot_sha256
    student = gb.students(full)[0]
    message = no_audit(actions.save_cells, gb.gvbm, full, toan, 1, [CellEdit(student.pk, "gk", "8.0", "9.0")])
    assert "đã được xác nhận" in message
    assert "đã được xác nhận" in no_audit(actions.confirm_column, gb.gvbm, full, toan, 1)


def test_confirm_column_refuses_while_cells_are_empty_and_names_the_students(gb, cls):
    toan = gb.subjects["TO"]
    a, b, *_ = gb.students(cls)
    actions.save_cells(gb.gvbm, cls, toan, 1, [CellEdit(a.pk, "gk", "", "8"), CellEdit(b.pk, "ck", "", "9")])
    message = no_audit(actions.confirm_column, gb.gvbm, cls, toan, 1)
    assert a.full_name in message and b.full_name in message and "tx1" in message and "ck" in message
    assert not ColumnSignoff.objects.filter(school_class=cls, state=ColumnSignoff.CONFIRMED).exists()


def test_a_cell_marked_absent_counts_as_recorded(gb, full):
    toan = gb.subjects["TO"]
    student = gb.students(full)[0]
    actions.save_cells(gb.gvbm, full, toan, 1, [CellEdit(student.pk, "ck", "8.0", "", absent=True)])
    assert actions.confirm_column(gb.gvbm, full, toan, 1).state == ColumnSignoff.CONFIRMED


def test_only_the_assigned_teacher_confirms(gb, full):
    no_audit(actions.confirm_column, gb.other_teacher, full, gb.subjects["TO"], 1, error=PermissionDenied)
    no_audit(actions.confirm_column, gb.principal, full, gb.subjects["TO"], 1, error=PermissionDenied)


# --- unlock ----------------------------------------------------------------------------------------------

def test_unlock_request_approval_correction_with_reason_and_confirm_again(gb, full):
    toan = gb.subjects["TO"]
    student = gb.students(full)[0]
    first = actions.confirm_column(gb.gvbm, full, toan, 1).snapshot_sha256
    assert "lí do" in no_audit(actions.request_unlock, gb.gvbm, full, toan, 1, "  ")
    with Audit.expect("gradebook.request_unlock"):
        request = actions.request_unlock(gb.gvbm, full, toan, 1, "Nhập nhầm điểm giữa kì của em An")
    assert "đang chờ duyệt" in no_audit(actions.request_unlock, gb.gvbm, full, toan, 1, "lần nữa")
    no_audit(actions.decide_unlock, gb.gvbm, request, approve=True, error=PermissionDenied)
    with Audit.expect("gradebook.decide_unlock"):
        request = actions.decide_unlock(gb.principal, request, approve=True, note="Đồng ý")
    assert request.state == UnlockRequest.APPROVED
    assert ColumnSignoff.objects.get(school_class=full, subject=toan, semester=1).state == ColumnSignoff.UNLOCKED
    assert "đã được xử lí" in no_audit(actions.decide_unlock, gb.vice, request, approve=False)

    message = no_audit(actions.save_cells, gb.gvbm, full, toan, 1, [CellEdit(student.pk, "gk", "8.0", "9.0")])
    assert "lí do" in message
    actions.save_cells(gb.gvbm, full, toan, 1, [CellEdit(student.pk, "gk", "8.0", "9.0", reason="Nhập nhầm")])
    change = CellChange.objects.get(row__student=student, slot="gk")
    assert change.is_correction and change.reason == "Nhập nhầm"
    again = actions.confirm_column(gb.gvbm, full, toan, 1)
    assert again.state == ColumnSignoff.CONFIRMED and again.snapshot_sha256 != first
    assert selectors.corrections_by_page(full, "hk1").total == 1


def test_unlock_only_for_a_confirmed_column_and_rejection_keeps_it_locked(gb, full):
    toan = gb.subjects["TO"]
    assert "đã xác nhận" in no_audit(actions.request_unlock, gb.gvbm, full, toan, 1, "sửa")
    actions.confirm_column(gb.gvbm, full, toan, 1)
    no_audit(actions.request_unlock, gb.other_teacher, full, toan, 1, "sửa", error=PermissionDenied)
    request = actions.request_unlock(gb.gvbm, full, toan, 1, "sửa")
    with Audit.expect("gradebook.decide_unlock"):
        actions.decide_unlock(gb.vice, request, approve=False, note="Không đủ căn cứ")
    assert ColumnSignoff.objects.get(school_class=full, subject=toan, semester=1).state == ColumnSignoff.CONFIRMED
    # A new request is possible once the first one is decided.
    actions.request_unlock(gb.gvbm, full, toan, 1, "sửa lại")


def test_a_leader_cannot_approve_their_own_request(gb, full, make_user):
    from hocba.school.models import Membership

    Membership.objects.create(user=gb.gvbm, role="vice_principal", school=gb.school)
    toan = gb.subjects["TO"]
    actions.confirm_column(gb.gvbm, full, toan, 1)
    request = actions.request_unlock(gb.gvbm, full, toan, 1, "sửa")
    assert "tự duyệt" in no_audit(actions.decide_unlock, gb.gvbm, request, approve=True)


# --- class sign-off --------------------------------------------------------------------------------------

def test_confirm_class_lists_unconfirmed_columns_and_missing_conduct(gb, cls):
    gb.fill_all(cls, conduct=None)
    first = gb.students(cls)[0]
    message = no_audit(actions.confirm_class, gb.gvcn, cls, "hk1")
    assert "Toán HK1" in message and "Ngữ văn HK1" in message and first.full_name in message
    _confirm_all(gb, cls, (1,))
    message = no_audit(actions.confirm_class, gb.gvcn, cls, "hk1")
    assert "Toán" not in message and "rèn luyện" in message
    for s in gb.students(cls):
        actions.save_student_semester(gb.gvcn, cls, s, 1, conduct="T", expected_version=0)
    no_audit(actions.confirm_class, gb.gvbm, cls, "hk1", error=PermissionDenied)
    with Audit.expect("gradebook.confirm_class"):
        signoff = actions.confirm_class(gb.gvcn, cls, "hk1")
    assert signoff.state == ClassSignoff.CONFIRMED and len(signoff.snapshot_sha256) == 64
    assert "đã được xác thực" in no_audit(actions.confirm_class, gb.gvcn, cls, "hk1")


def test_release_needs_the_gvcn_confirmation_and_locks_the_period(gb, full):
    assert "chưa xác thực" in no_audit(actions.release_class, gb.principal, full, "hk1")
    _confirm_all(gb, full, (1,))
    actions.confirm_class(gb.gvcn, full, "hk1")
    no_audit(actions.release_class, gb.gvcn, full, "hk1", error=PermissionDenied)
    with Audit.expect("gradebook.release_class"):
        signoff = actions.release_class(gb.vice, full, "hk1")
    assert signoff.state == ClassSignoff.RELEASED and signoff.released_by == gb.vice
    student = gb.students(full)[0]
    toan = gb.subjects["TO"]
    # Everything of the period is frozen: an unlock request, the GVCN's records, remarks.
    assert "ban hành" in no_audit(actions.request_unlock, gb.gvbm, full, toan, 1, "sửa")
    assert "ban hành" in no_audit(actions.save_student_semester, gb.gvcn, full, student, 1, conduct="K",
                                  expected_version=1)
    assert "ban hành" in no_audit(actions.add_conduct_remark, gb.gvbm, full, student, toan, 1, "Hay nói chuyện")
    # Semester II is still open.
    actions.save_student_semester(gb.gvcn, full, student, 2, conduct="K", expected_version=1)


def test_reopen_is_for_the_principal_with_a_reason(gb, full):
    _confirm_all(gb, full, (1,))
    actions.confirm_class(gb.gvcn, full, "hk1")
    actions.release_class(gb.principal, full, "hk1")
    no_audit(actions.reopen_class, gb.vice, full, "hk1", "sửa", error=PermissionDenied)
    assert "lí do" in no_audit(actions.reopen_class, gb.principal, full, "hk1", "")
    with Audit.expect("gradebook.reopen_class") as audit:
        signoff = actions.reopen_class(gb.principal, full, "hk1", "Sai sót điểm môn Toán của em An")
    assert signoff.state == ClassSignoff.OPEN and signoff.released_by is None
    assert audit.events[0].extra["reason"] == "Sai sót điểm môn Toán của em An"
    assert audit.events[0].before["state"] == "released"
    assert "đang mở" in no_audit(actions.reopen_class, gb.principal, full, "hk1", "lần nữa")
    # The columns stay confirmed: a score changes only through an unlock request.
    toan = gb.subjects["TO"]
    request = actions.request_unlock(gb.gvbm, full, toan, 1, "sửa")
    actions.decide_unlock(gb.principal, request, approve=True)


def test_approving_an_unlock_sends_the_gvcn_confirmation_back_to_review(gb, full):
    _confirm_all(gb, full, (1,))
    actions.confirm_class(gb.gvcn, full, "hk1")
    toan = gb.subjects["TO"]
    request = actions.request_unlock(gb.gvbm, full, toan, 1, "sửa")
    with Audit.expect("gradebook.decide_unlock") as audit:
        actions.decide_unlock(gb.principal, request, approve=True)
    assert audit.events[0].extra["class_signoffs_reopened"] == ["hk1"]
    assert ClassSignoff.objects.get(school_class=full, period="hk1").state == ClassSignoff.OPEN
    assert "chưa được giáo viên bộ môn xác nhận: Toán HK1" in no_audit(actions.confirm_class, gb.gvcn, full, "hk1")


def test_year_confirmation_needs_both_semesters(gb, full):
    _confirm_all(gb, full, (1,))
    message = no_audit(actions.confirm_class, gb.gvcn, full, "year")
    assert "Toán HK2" in message and "Toán HK1" not in message
    _confirm_all(gb, full, (2,))
    assert actions.confirm_class(gb.gvcn, full, "year").state == ClassSignoff.CONFIRMED
    assert no_audit(actions.confirm_class, gb.gvcn, full, "hk3").startswith("period:")


# --- the GVCN's records ----------------------------------------------------------------------------------

def test_student_semester_versions_and_stale_edit_names_the_newer_values(gb, cls):
    student = gb.students(cls)[0]
    with Audit.expect("gradebook.save_student_semester") as audit:
        record = actions.save_student_semester(gb.gvcn, cls, student, 1, conduct="tốt", absences_excused="3",
                                               expected_version=0)
    assert (record.conduct, record.absences_excused, record.version) == ("T", 3, 1)
    assert audit.events[0].after["conduct"] == "T" and audit.events[0].before["conduct"] == ""
    record = actions.save_student_semester(gb.gvcn, cls, student, 1, absences_unexcused=2, expected_version=1)
    assert (record.conduct, record.absences_unexcused, record.version) == ("T", 2, 2)
    before = AuditEvent.objects.count()
    with pytest.raises(actions.StaleRecord) as stale:
        actions.save_student_semester(gb.gvcn, cls, student, 1, conduct="K", expected_version=1)
    assert stale.value.current == {"conduct": "T", "absences_excused": 3, "absences_unexcused": 2}
    assert stale.value.version == 2 and stale.value.updated_by == "gvcn"
    assert AuditEvent.objects.count() == before
    # Saving the same values again changes nothing: no new version, no event.
    assert actions.save_student_semester(gb.gvcn, cls, student, 1, conduct="T", expected_version=2).version == 2
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"conduct": "Giỏi"}, "conduct"),
    ({"absences_excused": 201}, "absences_excused"),
    ({"absences_unexcused": -1}, "absences_unexcused"),
    ({"absences_unexcused": "hai"}, "absences_unexcused"),
    ({"absences_excused": True}, "absences_excused"),
])
def test_student_semester_values_are_validated_per_field(gb, cls, kwargs, field):
    student = gb.students(cls)[0]
    before = AuditEvent.objects.count()
    with pytest.raises(ActionError) as info:
        actions.save_student_semester(gb.gvcn, cls, student, 1, expected_version=0, **kwargs)
    assert field in info.value.message_dict
    assert AuditEvent.objects.count() == before and not StudentSemester.objects.exists()


def test_only_the_homeroom_teacher_records_conduct_and_only_for_their_students(gb, cls):
    student = gb.students(cls)[0]
    no_audit(actions.save_student_semester, gb.gvbm, cls, student, 1, conduct="T", expected_version=0,
             error=PermissionDenied)
    other = gb.make_class("6A2", students=1)
    stranger = gb.students(other)[0]
    assert "không đang học" in no_audit(actions.save_student_semester, gb.gvcn, cls, stranger, 1, conduct="T",
                                        expected_version=0)


def test_student_year_comment_and_summer_results(gb, full):
    student = gb.students(full)[0]
    with Audit.expect("gradebook.save_student_year"):
        year = actions.save_student_year(gb.gvcn, full, student, expected_version=0,
                                         gvcn_comment="Chăm ngoan, học tốt.", certificates="IC3")
    assert year.version == 1 and year.gvcn_comment == "Chăm ngoan, học tốt."
    with pytest.raises(actions.StaleRecord) as stale:
        actions.save_student_year(gb.gvcn, full, student, expected_version=0, contests="Giải Nhì Toán cấp quận")
    assert stale.value.current["gvcn_comment"] == "Chăm ngoan, học tốt."
    assert no_audit(actions.save_student_year, gb.gvcn, full, student, expected_version=1,
                    summer_retest={"XYZ": "5"}).startswith("summer_retest:")
    with pytest.raises(ActionError) as info:
        actions.save_student_year(gb.gvcn, full, student, expected_version=1, summer_retest={"TO": "11"})
    assert "summer_retest" in info.value.message_dict
    _confirm_all(gb, full)
    actions.confirm_class(gb.gvcn, full, "year")
    actions.release_class(gb.principal, full, "year")
    assert "không sửa được" in no_audit(actions.save_student_year, gb.gvcn, full, student, expected_version=1,
                                        gvcn_comment="Khác")
    # Summer results come after the release.
    year = actions.save_student_year(gb.gvcn, full, student, expected_version=1, summer_conduct="Đ",
                                     summer_retest={"TO": "5,5", "GDTC": "đạt"})
    assert year.summer_retest == {"TO": "5.5", "GDTC": "Đ"} and year.summer_conduct == "Đ"
    no_audit(actions.save_student_year, gb.gvbm, full, student, expected_version=2, gvcn_comment="x",
             error=PermissionDenied)


def test_principal_decision_for_a_student_with_disabilities(gb, full):
    student, other = gb.students(full)[:2]
    type(student).objects.filter(pk=student.pk).update(disabled_not_assessed=True)
    student.refresh_from_db()
    no_audit(actions.record_principal_decision, gb.vice, full, student, decision="promoted", reason="Điều 11",
             error=PermissionDenied)
    assert no_audit(actions.record_principal_decision, gb.principal, full, student, decision="promoted",
                    reason=" ").startswith("reason:")
    assert "Điều 11" in no_audit(actions.record_principal_decision, gb.principal, full, other,
                                 decision="retained", reason="Theo kế hoạch cá nhân")
    no_audit(actions.record_principal_decision, gb.principal, full, student, decision="maybe", reason="x")
    with Audit.expect("gradebook.principal_decision"):
        year = actions.record_principal_decision(gb.principal, full, student, decision="retained",
                                                 reason="Chưa hoàn thành kế hoạch giáo dục cá nhân")
    assert year.principal_decision == "retained" and year.version == 1
    outcome = {r.student.pk: r.outcome for r in class_results(full, "year").students}
    assert outcome[student.pk] == "retained" and outcome[other.pk] == "promoted"
    # Explicitly allowed for a student on an individual education plan without the flag.
    actions.record_principal_decision(gb.principal, full, other, decision="promoted", reason="Kế hoạch cá nhân",
                                      individual_plan=True)


def test_conduct_remarks_by_a_teacher_of_the_class_and_subject(gb, cls):
    student = gb.students(cls)[0]
    toan = gb.subjects["TO"]
    with Audit.expect("gradebook.conduct_remark"):
        remark = actions.add_conduct_remark(gb.gvbm, cls, student, toan, 1, "  Hay giúp đỡ bạn. ")
    assert remark.text == "Hay giúp đỡ bạn." and remark.author == gb.gvbm.staff
    no_audit(actions.add_conduct_remark, gb.other_teacher, cls, student, toan, 1, "x", error=PermissionDenied)
    assert no_audit(actions.add_conduct_remark, gb.gvbm, cls, student, toan, 1, "").startswith("text:")
    assert ConductRemark.objects.count() == 1


# --- deadlines -------------------------------------------------------------------------------------------

def test_seed_deadlines_of_the_plan_grade_9_earlier(gb, school_admin):
    unsaved = actions.default_deadlines(gb.year)
    assert all(d.pk is None for d in unsaved)
    with Audit.expect("gradebook.seed_deadlines"):
        created = actions.seed_deadlines(school_admin, gb.year)
    due = {(d.kind, d.grades): d.due for d in Deadline.objects.filter(year=gb.year)}
    assert len(created) == 5 and due == {
        ("review", "6,7,8,9"): dt.date(2025, 5, 25),
        ("release", "6,7,8"): dt.date(2025, 5, 29), ("release", "9"): dt.date(2025, 5, 15),
        ("sign", "6,7,8"): dt.date(2025, 5, 30), ("sign", "9"): dt.date(2025, 5, 20)}
    assert "đã có đủ" in no_audit(actions.seed_deadlines, school_admin, gb.year)
    no_audit(actions.seed_deadlines, gb.gvcn, gb.year, error=PermissionDenied)


# --- selectors -------------------------------------------------------------------------------------------

def test_teacher_columns_show_state_and_progress(gb, cls):
    toan = gb.subjects["TO"]
    a, b, *_ = gb.students(cls)
    actions.save_cells(gb.gvbm, cls, toan, 1, [CellEdit(a.pk, "gk", "", "8"), CellEdit(b.pk, "tx1", "", "7"),
                                               CellEdit(b.pk, "ck", "", "", absent=True)])
    columns = selectors.teacher_columns(gb.gvbm, gb.year)
    assert len(columns) == 24  # 12 subjects × 2 semesters
    info = next(c for c in columns if c.subject == toan and c.semester == 1)
    assert (info.entered, info.required, info.students, info.state) == (3, 24, 4, "open")  # (4 + 2) × 4
    assert info.percent == 12
    assert selectors.teacher_columns(gb.other_teacher, gb.year) == []


def test_progress_flags_overdue_unreleased_columns(gb, full, school_admin):
    actions.seed_deadlines(school_admin, gb.year)
    actions.confirm_column(gb.gvbm, full, gb.subjects["TO"], 1)
    board = selectors.progress(gb.school, gb.year, today=dt.date(2025, 5, 30))
    assert len(board) == 24
    toan = next(p for p in board if p.subject.code == "TO" and p.semester == 1)
    assert toan.confirmed and not toan.released and toan.percent == 100
    assert toan.deadline == dt.date(2025, 5, 29) and toan.overdue
    early = selectors.progress(gb.school, gb.year, today=dt.date(2025, 5, 1))
    assert not any(p.overdue for p in early)


def test_corrections_by_page_counts_marks_per_subject(gb, full):
    assert selectors.corrections_by_page(full, "hk1").sentence == "Trong trang này không có điểm nào được sửa chữa."
    student = gb.students(full)[0]
    for code in ("TO", "NV"):
        subject = gb.subjects[code]
        actions.confirm_column(gb.gvbm, full, subject, 1)
        request = actions.request_unlock(gb.gvbm, full, subject, 1, "sửa")
        actions.decide_unlock(gb.principal, request, approve=True)
    actions.save_cells(gb.gvbm, full, gb.subjects["TO"], 1, [
        CellEdit(student.pk, "gk", "8.0", "9.0", reason="nhầm"), CellEdit(student.pk, "ck", "8.0", "7.0", reason="nhầm"),
        CellEdit(student.pk, "comment", "", "Tiến bộ", reason="bổ sung")])
    actions.save_cells(gb.gvbm, full, gb.subjects["NV"], 1, [CellEdit(student.pk, "tx1", "8.0", "8.5", reason="nhầm")])
    page = selectors.corrections_by_page(full, "hk1")
    assert page.total == 3 and [(s.code, s.count) for s in page.by_subject] == [("NV", 1), ("TO", 2)]
    assert page.sentence == "Trong trang này có 3 điểm được sửa chữa, trong đó môn: Ngữ văn: 1, Toán: 2."
    assert selectors.corrections_by_page(full, "hk2").total == 0
