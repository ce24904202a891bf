"""Results of one class against the rule book (docs/domain/tt22.md), every number checked by hand.

The class: twelve subjects of grade 6 (eight score subjects, four comment subjects), every cell 8,0
unless a test case says otherwise, conduct T in both semesters. Then one student per rule:

- An: Toán as in tt22.md §6 — HK I (8+7+9+8,5 + 2·7,5 + 3·8)/9 = 7,94 → 7,9; HK II (9+8+8+9 + 2·8,5 + 3·9)/9
  = 8,67 → 8,7; year (7,9 + 2·8,7)/3 = 8,43 → 8,4. Learning T, conduct T, award Giỏi.
- Bình: Tin học HK I with one ĐĐGtx missing: (8 + 2·8 + 3·8,5)/6 = 8,25 → 8,3 (half up, and a warning);
  KHTN 3,0 all year: CĐ only because of KHTN → raised to Đ (Điều 9.3).
- Chi: GDTC HK I, absent at the end-of-term assessment and no make-up → CĐ (Điều 7 [default]); Đ only
  because of GDTC → raised to K, adjusted by GDTC.
- Dũng (Phạm): Toán HK I absent at mid-term → counts 0: (32 + 0 + 24)/9 = 6,2; learning K (no
  adjustment from K); conduct T/CĐ → year CĐ → summer training re-assessed Đ → promoted after summer.
- Dũng (Lê): sorted before Phạm Dũng (same given name, family name decides).
- Đào: everything 9,0 → Xuất sắc.
- Giang: Ngữ văn and Toán 3,0 → CĐ (two subjects, no adjustment) → re-assessed NV 5,5, TO 6,0 → K,
  promoted after summer.
- Hà: 20 + 26 absences = 46 > 45 → retained.
- Khang: khuyết tật không đánh giá, nothing entered; the principal decided "promoted".
"""

from __future__ import annotations

import pytest

from hocba.gradebook import results
from hocba.gradebook.models import StudentSemester, StudentYear
from hocba.gradebook.results import class_results, column_results, rules_input, student_result

NAMES = ["Nguyễn Văn An", "Trần Văn Bình", "Lê Văn Chi", "Phạm Văn Dũng", "Lê Văn Dũng", "Bùi Thị Đào",
         "Hoàng Văn Giang", "Vũ Văn Hà", "Đặng Văn Khang"]


@pytest.fixture
def klass(gb):
    cls = gb.make_class("6A1", students=NAMES)
    gb.fill_all(cls)
    s = {st.full_name: st for st in gb.students(cls)}
    an, binh, chi = s["Nguyễn Văn An"], s["Trần Văn Bình"], s["Lê Văn Chi"]
    dung, dao, giang, ha, khang = (s["Phạm Văn Dũng"], s["Bùi Thị Đào"], s["Hoàng Văn Giang"],
                                   s["Vũ Văn Hà"], s["Đặng Văn Khang"])
    gb.put(cls, "TO", 1, {an: {"tx": ["8.0", "7.0", "9.0", "8.5"], "gk": "7.5", "ck": "8.0"}})
    gb.put(cls, "TO", 2, {an: {"tx": ["9.0", "8.0", "8.0", "9.0"], "gk": "8.5", "ck": "9.0"}})
    gb.put(cls, "TH", 1, {binh: {"tx": ["8.0", ""], "gk": "8.0", "ck": "8.5"}})
    for n in (1, 2):
        gb.put(cls, "KHTN", n, {binh: {"tx": ["3.0"] * 4, "gk": "3.0", "ck": "3.0"},
                                giang: {"tx": ["3.0"] * 4, "gk": "3.0", "ck": "3.0"}})
        gb.put(cls, "NV", n, {giang: {"tx": ["3.0"] * 4, "gk": "3.0", "ck": "3.0"}})
        gb.put(cls, "TO", n, {giang: {"tx": ["3.0"] * 4, "gk": "3.0", "ck": "3.0"}})
        for code, plan in gb.plans.items():
            value = "9.0" if plan.kind == "score" else "Đ"
            gb.put(cls, code, n, {dao: {"tx": [value] * plan.regular_assessments, "gk": value, "ck": value}})
    # Giang's KHTN back to 8,0 so that exactly NV and TO are low.
    for n in (1, 2):
        gb.put(cls, "KHTN", n, {giang: {"tx": ["8.0"] * 4, "gk": "8.0", "ck": "8.0"}})
    gb.put(cls, "GDTC", 1, {chi: {"tx": ["Đ", "Đ"], "gk": "Đ", "ck": "", "absent": ["ck"]}})
    gb.put(cls, "TO", 1, {dung: {"tx": ["8.0"] * 4, "gk": "", "ck": "8.0", "absent": ["gk"]}})
    StudentSemester.objects.filter(student=dung, semester=2).update(conduct="CĐ")
    StudentSemester.objects.filter(student=ha, semester=1).update(absences_excused=20)
    StudentSemester.objects.filter(student=ha, semester=2).update(absences_unexcused=26)
    StudentYear.objects.create(school=gb.school, year=gb.year, school_class=cls, student=dung, summer_conduct="Đ")
    StudentYear.objects.create(school=gb.school, year=gb.year, school_class=cls, student=giang,
                               summer_retest={"NV": "5.5", "TO": "6.0"})
    type(khang).objects.filter(pk=khang.pk).update(disabled_not_assessed=True)
    from hocba.gradebook.models import SubjectRow

    SubjectRow.objects.filter(student=khang).delete()
    StudentSemester.objects.filter(student=khang).update(conduct="")
    StudentYear.objects.create(school=gb.school, year=gb.year, school_class=cls, student=khang,
                               principal_decision="promoted", principal_decision_reason="Điều 11")
    return cls


def _by_name(res):
    return {r.student.full_name: r for r in res.students}


def test_students_come_in_vietnamese_order_and_subjects_in_plan_order(klass, gb):
    res = class_results(klass, "hk1")
    assert [r.student.full_name for r in res.students] == [
        "Nguyễn Văn An", "Trần Văn Bình", "Lê Văn Chi", "Lê Văn Dũng", "Phạm Văn Dũng", "Bùi Thị Đào",
        "Hoàng Văn Giang", "Vũ Văn Hà", "Đặng Văn Khang"]
    assert [p.subject.code for p in res.subjects] == ["NV", "TO", "NN1", "GDCD", "LSDL", "KHTN", "CN", "TH",
                                                      "GDTC", "NT", "HDTN", "GDDP"]


def test_toan_of_the_rule_book_example_semester_and_year_averages(klass):
    an = _by_name(class_results(klass, "hk1"))["Nguyễn Văn An"]
    assert an.subjects["TO"] == "7,9" and an.subjects["NV"] == "8,0" and an.subjects["GDTC"] == "Đ"
    assert _by_name(class_results(klass, "hk2"))["Nguyễn Văn An"].subjects["TO"] == "8,7"
    year = _by_name(class_results(klass, "year"))["Nguyễn Văn An"]
    assert year.subjects["TO"] == "8,4"
    assert (year.learning, year.conduct, year.award, year.outcome) == ("T", "T", "gioi", "promoted")
    assert year.complete and year.warnings == [] and year.adjusted_by is None


def test_missing_regular_assessment_is_computed_with_what_was_entered_rounded_half_up_and_warned(klass):
    binh = _by_name(class_results(klass, "hk1"))["Trần Văn Bình"]
    assert binh.subjects["TH"] == "8,3"
    assert any("TH, học kì I" in w and "1/2" in w for w in binh.warnings)
    assert not binh.complete  # one ĐĐGtx neither entered nor marked absent


def test_tot_drops_to_chua_dat_because_of_one_subject_is_raised_to_dat(klass):
    binh = _by_name(class_results(klass, "hk1"))["Trần Văn Bình"]
    assert binh.subjects["KHTN"] == "3,0"
    assert (binh.learning, binh.adjusted_by) == ("Đ", "KHTN")
    year = _by_name(class_results(klass, "year"))["Trần Văn Bình"]
    assert (year.learning, year.adjusted_by, year.outcome) == ("Đ", "KHTN", "promoted")


def test_absent_end_of_term_without_make_up_is_chua_dat_and_one_comment_subject_raises_to_kha(klass):
    chi = _by_name(class_results(klass, "hk1"))["Lê Văn Chi"]
    assert chi.subjects["GDTC"] == "CĐ"
    assert (chi.learning, chi.adjusted_by) == ("K", "GDTC")
    assert any("GDTC" in w and "vắng" in w and "Chưa đạt" in w for w in chi.warnings)
    assert chi.complete  # marked absent counts as recorded


def test_absent_mid_term_without_make_up_counts_zero(klass):
    dung = _by_name(class_results(klass, "hk1"))["Phạm Văn Dũng"]
    assert dung.subjects["TO"] == "6,2"
    assert (dung.learning, dung.adjusted_by) == ("K", None)
    assert any("TO" in w and "0 điểm" in w for w in dung.warnings)


def test_year_conduct_follows_the_table_and_summer_training_promotes(klass):
    dung = _by_name(class_results(klass, "year"))["Phạm Văn Dũng"]
    assert dung.subjects["TO"] == "7,4"  # (6,2 + 2·8,0)/3 = 7,4
    assert dung.conduct == "CĐ"  # T then CĐ
    assert dung.summer == {"conduct": "Đ"}
    assert (dung.outcome, dung.award) == ("promoted_after_summer", None)


def test_six_score_subjects_at_nine_give_xuat_sac(klass):
    dao = _by_name(class_results(klass, "year"))["Bùi Thị Đào"]
    assert dao.subjects["TO"] == "9,0"
    assert (dao.learning, dao.award) == ("T", "xuat_sac")


def test_two_low_subjects_no_adjustment_then_summer_retest(klass):
    giang = _by_name(class_results(klass, "year"))["Hoàng Văn Giang"]
    assert (giang.subjects["NV"], giang.subjects["TO"]) == ("3,0", "3,0")
    assert (giang.learning, giang.adjusted_by) == ("CĐ", None)
    assert giang.retest_subjects == ["NV", "TO"]
    assert giang.summer == {"learning": "K", "retest": {"NV": "5,5", "TO": "6,0"}}
    assert giang.outcome == "promoted_after_summer"


def test_more_than_45_absences_retains(klass):
    ha = _by_name(class_results(klass, "year"))["Vũ Văn Hà"]
    assert ha.absences == 46 and ha.outcome == "retained"
    assert _by_name(class_results(klass, "hk1"))["Vũ Văn Hà"].absences == 20


def test_principal_decision_is_the_outcome_of_a_student_not_assessed(klass):
    khang = _by_name(class_results(klass, "year"))["Đặng Văn Khang"]
    assert khang.outcome == "promoted" and khang.complete
    assert khang.learning == "" and khang.subjects["TO"] == ""
    assert _by_name(class_results(klass, "hk1"))["Đặng Văn Khang"].complete


def test_semesters_have_no_award_outcome_or_summer(klass):
    for period in ("hk1", "hk2"):
        for r in class_results(klass, period).students:
            assert r.award is None and r.outcome is None and r.retest_subjects == [] and r.summer == {}


def test_column_results_show_averages_for_score_subjects_and_results_for_comment_subjects(klass, gb):
    s = {st.full_name: st.pk for st in gb.students(klass)}
    toan = column_results(klass, gb.subjects["TO"], 1)
    assert toan[s["Nguyễn Văn An"]].average == "7,9" and toan[s["Nguyễn Văn An"]].result == ""
    assert toan[s["Phạm Văn Dũng"]].average == "6,2"
    assert toan[s["Đặng Văn Khang"]].average == ""  # nothing entered: not computable
    gdtc = column_results(klass, gb.subjects["GDTC"], 1)
    assert gdtc[s["Lê Văn Chi"]].result == "CĐ" and gdtc[s["Lê Văn Chi"]].average == ""
    assert gdtc[s["Lê Văn Chi"]].warnings
    assert gdtc[s["Nguyễn Văn An"]].result == "Đ"
    assert set(toan) == set(s.values())


def test_nothing_is_computed_until_the_periodic_assessments_are_there(gb):
    cls = gb.make_class("6A2", students=2)
    a, b = gb.students(cls)
    gb.put(cls, "TO", 1, {a: {"tx": ["8.0", "9.0"]}, b: {"tx": ["8.0"] * 4, "gk": "8.0", "ck": "9.0"}})
    toan = column_results(cls, gb.subjects["TO"], 1)
    assert toan[a.pk].average == "" and toan[b.pk].average == "8,3"  # (32 + 2·8 + 3·9)/9 = 8,33
    res = class_results(cls, "hk1")
    assert all(r.learning == "" and not r.complete for r in res.students)


def test_rules_input_is_the_json_of_the_rule_book(klass, gb):
    an = next(s for s in gb.students(klass) if s.full_name == "Nguyễn Văn An")
    from hocba.gradebook.models import SubjectRow
    from hocba.school.models import SubjectPlan

    plans = list(SubjectPlan.objects.filter(year=gb.year, grade=6).select_related("subject"))
    data = rules_input(an, SubjectRow.objects.filter(student=an), StudentSemester.objects.filter(student=an),
                       None, plans)
    assert data["regulation"] == "TT22" and data["grade"] == 6 and data["id"] == str(an.pk)
    toan = next(s for s in data["subjects"] if s["code"] == "TO")
    assert toan == {"code": "TO", "kind": "score", "periods": 140,
                    "hk1": {"tx": ["8.0", "7.0", "9.0", "8.5"], "gk": "7.5", "ck": "8.0"},
                    "hk2": {"tx": ["9.0", "8.0", "8.0", "9.0"], "gk": "8.5", "ck": "9.0"}}
    assert data["conduct"] == {"hk1": "T", "hk2": "T"} and data["absences"] == 0
    assert [s["code"] for s in data["subjects"]] == [p.subject.code for p in sorted(plans, key=lambda p: p.order)]
    assert "summer" not in data


def test_the_engine_and_the_semester_functions_agree_on_a_semester(klass, gb):
    """Học kì II through hocba.rules.evaluate gives what the lower-level functions give for the same
    cells as học kì I."""
    from hocba.gradebook.models import SubjectRow

    plans = list(class_results(klass, "hk1").subjects)
    for student in gb.students(klass):
        rows = list(SubjectRow.objects.filter(student=student, semester=1))
        mirrored = [SubjectRow(student_id=r.student_id, subject_id=r.subject_id, semester=2, tx=r.tx, gk=r.gk,
                               ck=r.ck, absent=r.absent) for r in rows]
        record = StudentSemester.objects.filter(student=student, semester=1).first()
        records = {1: record, 2: record}
        first = student_result(student, "hk1", plans, rows, records, None)
        second = student_result(student, "hk2", plans, rows + mirrored, records, None)
        assert (first.subjects, first.learning, first.adjusted_by, first.conduct) == \
            (second.subjects, second.learning, second.adjusted_by, second.conduct), student.full_name


def test_display_values():
    assert results.display_value(83) == "8,3" and results.display_value(100) == "10,0"
    assert results.display_value(True) == "Đ" and results.display_value(False) == "CĐ"
    assert results.display_value(None) == ""
