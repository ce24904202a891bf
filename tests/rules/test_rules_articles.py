"""Each rule of docs/domain/tt22.md, pinned by its article (Điều) of Thông tư 22/2021/TT-BGDĐT."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rules_builders import comment, score, score_semester, student, subject_result

from hocba.rules import (
    CD,
    DEFAULT_RULES,
    D,
    K,
    RuleSet,
    T,
    adjust_learning_level,
    award,
    comment_semester_result,
    default_subject_plan,
    evaluate,
    learning_level,
    parse_score,
    promotion_outcome,
    required_regular_assessments,
    retest_subjects,
    round_half_up,
    subject_semester_average,
    subject_year_average,
    year_conduct,
)
from hocba.rules.numbers import ScoreError


def averages(result: dict, code: str) -> tuple:
    row = subject_result(result, code)
    return row["hk1"], row["hk2"], row["year"]


def with_semester(data: dict, code: str, hk: str, semester: dict) -> dict:
    subject_result(data, code)[hk] = semester
    return data


# --- Điều 5, 6: subjects and how many assessments -------------------------------------------------------


@pytest.mark.parametrize(("periods", "count"), [(35, 2), (36, 3), (52, 3), (70, 3), (71, 4), (105, 4), (140, 4)])
def test_score_subject_regular_assessments_follow_its_periods_per_year(periods, count):
    assert required_regular_assessments("score", periods) == count


@pytest.mark.parametrize("periods", [35, 70, 105])
def test_comment_subject_has_two_regular_assessments_whatever_its_periods(periods):
    assert required_regular_assessments("comment", periods) == 2


def test_default_plan_gives_technology_52_periods_and_three_assessments_from_grade_8():
    plans = {grade: {spec.code: spec for spec in default_subject_plan(grade)} for grade in (6, 7, 8, 9)}
    assert [plans[grade]["CN"].periods for grade in (6, 7, 8, 9)] == [35, 35, 52, 52]
    assert plans[8]["CN"].regular_assessments == 3
    assert plans[6]["NT"].kind == "comment" and plans[6]["TO"].kind == "score"
    assert not plans[6]["TDT"].compulsory and not plans[6]["NN2"].compulsory


def test_nghe_thuat_is_one_subject_by_default_and_two_when_the_option_says_so():
    one = {spec.code for spec in default_subject_plan(7)}
    two = {spec.code: spec for spec in default_subject_plan(7, RuleSet(nghe_thuat_as_one_subject=False))}
    assert "NT" in one and "AN" not in one
    assert "NT" not in two and two["AN"].kind == two["MT"].kind == "comment"
    assert two["AN"].periods + two["MT"].periods == 70


def test_student_without_a_compulsory_subject_of_the_plan_is_warned():
    data = student()
    data["subjects"] = [row for row in data["subjects"] if row["code"] != "NT"]
    result = evaluate(data)
    assert any("NT" in warning and "Thiếu môn" in warning for warning in result["warnings"])


def test_split_nghe_thuat_students_are_warned_only_under_the_one_subject_option():
    data = student()
    data["subjects"] = [row for row in data["subjects"] if row["code"] != "NT"]
    data["subjects"] += [comment("AN"), comment("MT")]
    split = RuleSet(nghe_thuat_as_one_subject=False)
    assert not evaluate(data, split)["warnings"]
    assert any("NT" in warning for warning in evaluate(data)["warnings"])


def test_a_plan_subject_given_the_other_kind_of_assessment_is_warned():
    data = student()
    data["subjects"][8] = score("GDTC", 8.0, periods=70)
    assert any("GDTC" in warning and "kind" in warning for warning in evaluate(data)["warnings"])


# --- §2: numbers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [8.5, "8,5", "8.5", " 8,5 ", Decimal("8.5"), "8,50"])
def test_a_score_may_be_written_as_a_number_or_with_a_comma_or_a_dot(value):
    assert parse_score(value) == 85


@pytest.mark.parametrize(("value", "tenths"), [(0, 0), (1, 10), (10, 100), (0.0, 0), ("0", 0), (10.0, 100)])
def test_the_ends_of_the_scale_are_scores(value, tenths):
    assert parse_score(value) == tenths


@pytest.mark.parametrize("value", [8.25, "8,25", 10.5, -1, "11", "tám", "", None, True, float("nan"), [8]])
def test_a_score_outside_0_to_10_or_with_two_decimals_is_refused(value):
    with pytest.raises(ScoreError):
        parse_score(value)


def test_rounding_is_half_up_8_25_becomes_8_3():
    assert round_half_up(Decimal("8.25")) == Decimal("8.3")
    assert round_half_up(Decimal("6.45")) == Decimal("6.5")  # banker's rounding would give 6.4


# --- Điều 9.1b: averages of a score subject ----------------------------------------------------------------


def test_semester_average_weights_mid_term_twice_and_end_of_term_three_times():
    # (8 + 7 + 9 + 8,5 + 2·7,5 + 3·8,0) / 9 = 7,94… → 7,9
    assert subject_semester_average([80, 70, 90, 85], 75, 80) == 79


def test_semester_average_of_8_25_is_rounded_half_up_to_8_3():
    data = with_semester(student(), "LSDL", "hk1", {"tx": [8, 9, 9], "gk": 8, "ck": 8})
    subject_result(data, "LSDL")["periods"] = 70
    subject_result(data, "LSDL")["hk2"] = score_semester(8, 70)
    assert averages(evaluate(data), "LSDL")[0] == Decimal("8.3")  # 66 / 8 = 8,25


def test_semester_average_of_6_45_is_6_5_not_bankers_6_4():
    data = with_semester(student(), "KHTN", "hk1", {"tx": [7.2, 7.2, 7.2], "gk": 6, "ck": 6})
    subject_result(data, "KHTN")["periods"] = 70
    subject_result(data, "KHTN")["hk2"] = score_semester(6, 70)
    assert averages(evaluate(data), "KHTN")[0] == Decimal("6.5")  # 51,6 / 8 = 6,45


def test_year_average_counts_semester_two_twice():
    # (7,9 + 2·8,7) / 3 = 8,43… → 8,4
    assert subject_year_average(79, 87) == 84


def test_year_average_is_computed_from_the_rounded_semester_averages():
    # HK I 6,0; HK II 42,4 / 7 = 6,057… shown 6,1. From the rounded averages (6,0 + 2·6,1) / 3 = 6,07 → 6,1;
    # from the exact ones (6,0 + 2·6,057…) / 3 = 6,04 → 6,0.
    data = student()
    gdcd = subject_result(data, "GDCD")
    gdcd["hk1"] = {"tx": [6, 6], "gk": 6, "ck": 6}
    gdcd["hk2"] = {"tx": [6.1, 6.1], "gk": 6.1, "ck": 6}
    assert averages(evaluate(data), "GDCD") == (Decimal("6.0"), Decimal("6.1"), Decimal("6.1"))
    exact = RuleSet(year_average_from_rounded_semesters=False)
    assert averages(evaluate(data, exact), "GDCD") == (Decimal("6.0"), Decimal("6.1"), Decimal("6.0"))


def test_semester_with_a_missing_regular_assessment_is_averaged_over_those_entered_and_warned():
    data = with_semester(student(), "TO", "hk1", {"tx": [8, 7, 9], "gk": 7.5, "ck": 8})
    result = evaluate(data)
    assert averages(result, "TO")[0] == Decimal("7.9")  # (24 + 15 + 24) / 8 = 7,875
    assert any(w.startswith("TO, học kì I") and "3 ĐĐGtx" in w and "4" in w for w in result["warnings"])


def test_semester_with_too_many_regular_assessments_is_also_warned():
    data = with_semester(student(), "TH", "hk2", {"tx": [8, 8, 8], "gk": 8, "ck": 8})
    assert any(w.startswith("TH, học kì II") for w in evaluate(data)["warnings"])


def test_complete_semesters_give_no_warning():
    assert evaluate(student())["warnings"] == []


# --- Điều 7: a missed periodic assessment ------------------------------------------------------------------


def test_missed_end_of_term_test_without_make_up_counts_as_zero_and_is_warned():
    data = with_semester(student(), "NV", "hk2", {"tx": [8, 8, 8, 8], "gk": 8, "ck": None})
    result = evaluate(data)
    assert averages(result, "NV")[1] == Decimal("5.3")  # 48 / 9
    assert any("NV, học kì II" in w and "Điều 7" in w for w in result["warnings"])


def test_missed_comment_assessment_without_make_up_is_chua_dat():
    data = with_semester(student(), "GDTC", "hk1", {"tx": ["Đ", "Đ"], "gk": None, "ck": "Đ"})
    result = evaluate(data)
    assert subject_result(result, "GDTC")["hk1"] == "CĐ"
    assert any("GDTC, học kì I" in w and "Điều 7" in w for w in result["warnings"])


def test_missed_assessment_is_an_error_when_the_rule_set_requires_the_make_up():
    data = with_semester(student(), "NV", "hk2", {"tx": [8, 8, 8, 8], "gk": 8, "ck": None})
    result = evaluate(data, RuleSet(missed_assessment_counts_as_zero=False))
    assert result == {"id": "hs", "error": result["error"]}
    assert result["error"].startswith("subjects[0].hk2.ck (NV)")


# --- Điều 9.1a: comment subjects ---------------------------------------------------------------------------


def test_comment_subject_is_dat_only_when_every_assessment_is_dat():
    assert comment_semester_result([True, True], True, True, 2)
    assert not comment_semester_result([True, False], True, True, 2)
    assert not comment_semester_result([True, True], True, False, 2)


def test_comment_subject_with_a_missing_regular_assessment_is_chua_dat_and_warned():
    data = with_semester(student(), "HDTN", "hk2", {"tx": ["Đ"], "gk": "Đ", "ck": "Đ"})
    result = evaluate(data)
    assert subject_result(result, "HDTN")["hk2"] == "CĐ"
    assert any(w.startswith("HDTN, học kì II") for w in result["warnings"])


@pytest.mark.parametrize(("hk1", "hk2"), [("CĐ", "Đ"), ("Đ", "CĐ"), ("Đ", "Đ"), ("CĐ", "CĐ")])
def test_comment_year_result_is_the_semester_two_result(hk1, hk2):
    result = evaluate(student(comments={"NT": (hk1, hk2)}))
    assert subject_result(result, "NT") == {"code": "NT", "hk1": hk1, "hk2": hk2, "year": hk2}


# --- Điều 9.2: learning levels -----------------------------------------------------------------------------


def test_tot_needs_all_scores_at_least_6_5_and_six_at_least_8_0():
    assert learning_level([80] * 6 + [65, 65], 0) == T
    assert learning_level([80] * 5 + [79, 65, 65], 0) == K
    assert learning_level([90] * 7 + [64], 0) == K


def test_kha_needs_all_scores_at_least_5_0_and_six_at_least_6_5():
    assert learning_level([65] * 6 + [50, 50], 0) == K
    assert learning_level([65] * 5 + [64, 50, 50], 0) == D
    assert learning_level([90] * 7 + [49], 0) == D


def test_dat_needs_six_scores_at_least_5_0_none_below_3_5_and_at_most_one_comment_chua_dat():
    assert learning_level([50] * 6 + [35, 35], 0) == D
    assert learning_level([50] * 6 + [35, 34], 0) == CD
    assert learning_level([50] * 5 + [49, 49, 49], 0) == CD
    assert learning_level([90] * 8, 1) == D
    assert learning_level([90] * 8, 2) == CD


def test_a_comment_subject_at_chua_dat_keeps_even_top_scores_from_kha():
    assert learning_level([95] * 8, 1) == D


def test_semester_and_year_levels_use_their_own_results():
    result = evaluate(student(scores={"TO": (6.0, 9.0), "NV": (6.0, 9.0)}))
    assert result["learning"] == {"hk1": "K", "hk2": "T", "year": "T"}


def test_an_elective_the_student_takes_counts_like_any_score_subject():
    data = student(extra=[score("TDT", 4.0)])
    counted = evaluate(data)
    assert (counted["learning"]["year"], counted["adjusted"]["year"]) == ("K", "TDT")  # Đ, raised by Điều 9.3
    left_out = evaluate(data, RuleSet(electives_count_in_learning_level=False))
    assert (left_out["learning"]["year"], left_out["adjusted"]["year"]) == ("T", None)
    assert subject_result(left_out, "TDT")["year"] == Decimal("4.0")  # still averaged and reported


# --- Điều 9.3: the adjustment ------------------------------------------------------------------------------


def test_tot_drops_to_dat_because_of_one_subject_is_raised_to_kha():
    result = evaluate(student(scores={"KHTN": 4.0}))
    assert result["learning"] == {"hk1": "K", "hk2": "K", "year": "K"}
    assert result["adjusted"] == {"hk1": "KHTN", "hk2": "KHTN", "year": "KHTN"}


def test_tot_drops_to_dat_because_of_one_comment_subject_is_raised_to_kha():
    result = evaluate(student(comments={"GDTC": ("CĐ", "Đ")}))
    assert result["learning"] == {"hk1": "K", "hk2": "T", "year": "T"}
    assert result["adjusted"] == {"hk1": "GDTC", "hk2": None, "year": None}


def test_tot_drops_to_chua_dat_because_of_one_subject_is_raised_to_dat():
    result = evaluate(student(scores={"NN1": 3.0}))
    assert result["learning"]["year"] == "Đ"
    assert result["adjusted"]["year"] == "NN1"


def test_kha_drops_to_chua_dat_because_of_one_subject_is_raised_to_dat():
    result = evaluate(student(scores={code: 7.0 for code in ("NV", "TO", "NN1", "LSDL", "CN", "TH", "GDCD")}
                              | {"KHTN": 3.0}))
    assert result["learning"]["year"] == "Đ"
    assert result["adjusted"]["year"] == "KHTN"


def test_kha_drops_to_dat_because_of_one_subject_is_not_adjusted():
    result = evaluate(student(scores={code: 7.0 for code in ("NV", "TO", "NN1", "LSDL", "CN", "TH", "GDCD")}
                              | {"KHTN": 4.5}))
    assert result["learning"]["year"] == "Đ"
    assert result["adjusted"]["year"] is None


def test_two_weak_subjects_are_not_adjusted():
    result = evaluate(student(scores={"KHTN": 4.0, "TO": 4.0}))
    assert result["learning"]["year"] == "Đ"
    assert result["adjusted"]["year"] is None


def test_a_weak_subject_and_a_comment_at_chua_dat_are_not_adjusted():
    result = evaluate(student(scores={"KHTN": 4.0}, comments={"NT": "CĐ"}))
    assert result["learning"]["year"] == "Đ"
    assert result["adjusted"]["year"] is None


def test_removing_the_subject_must_still_leave_six_scores_at_8_0_for_tot():
    # Five scores of 8,0, two of 7,0 and TO at 4,0: without TO the level is K (only five at 8,0), one
    # level above Đ, so there is nothing to adjust.
    result = evaluate(student(scores={"TO": 4.0, "GDCD": 7.0, "TH": 7.0}))
    assert result["learning"]["year"] == "Đ"
    assert result["adjusted"]["year"] is None


def test_adjustment_names_exactly_one_subject_and_raises_exactly_one_level():
    assert adjust_learning_level(D, [80] * 7 + [40], ["s"] * 7 + ["weak"], [True] * 4, ["c"] * 4) == (K, "weak")
    assert adjust_learning_level(CD, [80] * 7 + [20], ["s"] * 7 + ["weak"], [True] * 4, ["c"] * 4) == (D, "weak")
    assert adjust_learning_level(K, [80] * 7 + [60], ["s"] * 8, [True], ["c"]) == (K, None)


def test_without_the_adjustment_option_the_computed_level_stays():
    result = evaluate(student(scores={"KHTN": 4.0}), RuleSet(adjustment_enabled=False))
    assert result["learning"]["year"] == "Đ"
    assert result["adjusted"] == {"hk1": None, "hk2": None, "year": None}


# --- Điều 8: conduct ---------------------------------------------------------------------------------------

YEAR_CONDUCT_TABLE = {  # (HK I, HK II) → year, from tt22.md §4
    ("T", "T"): "T", ("K", "T"): "T", ("Đ", "T"): "K", ("CĐ", "T"): "K",
    ("T", "K"): "K", ("K", "K"): "K", ("Đ", "K"): "K", ("CĐ", "K"): "Đ",
    ("T", "Đ"): "K", ("K", "Đ"): "Đ", ("Đ", "Đ"): "Đ", ("CĐ", "Đ"): "Đ",
    ("T", "CĐ"): "CĐ", ("K", "CĐ"): "CĐ", ("Đ", "CĐ"): "CĐ", ("CĐ", "CĐ"): "CĐ",
}


@pytest.mark.parametrize(("semesters", "year"), YEAR_CONDUCT_TABLE.items(), ids=lambda v: "-".join(v))
def test_year_conduct_follows_the_table_of_the_two_semesters(semesters, year):
    assert year_conduct(*semesters) == year
    result = evaluate(student(conduct=semesters, summer={"conduct": "Đ"}))
    assert result["conduct"]["year"] == year


# --- Điều 12: promotion ------------------------------------------------------------------------------------


def test_conduct_and_learning_at_least_dat_with_45_absences_is_promoted():
    result = evaluate(student(scores={"TO": 5.0, "NV": 5.0}, conduct=("Đ", "Đ"), absences=45))
    assert result["outcome"] == "promoted"


def test_more_than_45_absences_is_retained_without_any_summer_step():
    result = evaluate(student(absences=46, scores={"NN1": 3.0, "TO": 3.0}, conduct=("CĐ", "CĐ"),
                              summer={"conduct": "T", "retest": {"NN1": 9, "TO": 9}}))
    assert result["outcome"] == "retained"
    assert result["retest_subjects"] == []
    assert "summer" not in result["conduct"] and "summer" not in result["learning"]


def test_promotion_outcome_is_pending_while_a_needed_summer_result_is_missing():
    assert promotion_outcome(CD, K, 0) == "pending_summer"
    assert promotion_outcome(CD, K, 0, summer_conduct=D) == "promoted_after_summer"
    assert promotion_outcome(CD, CD, 0, summer_conduct=CD) == "retained"
    assert promotion_outcome(K, CD, 0, summer_learning=CD) == "retained"
    assert promotion_outcome(K, K, 46) == "retained"


# --- Điều 13: summer training ------------------------------------------------------------------------------


def test_conduct_chua_dat_waits_for_summer_training():
    result = evaluate(student(conduct=("K", "CĐ")))
    assert result["conduct"]["year"] == "CĐ"
    assert result["outcome"] == "pending_summer"
    assert result["retest_subjects"] == []
    assert "summer" not in result["conduct"]


def test_summer_training_to_dat_promotes_after_summer_and_is_shown_beside_the_year_conduct():
    result = evaluate(student(conduct=("K", "CĐ"), summer={"conduct": "Đ"}))
    assert result["conduct"] == {"hk1": "K", "hk2": "CĐ", "year": "CĐ", "summer": "Đ"}
    assert result["outcome"] == "promoted_after_summer"


def test_summer_training_still_chua_dat_is_retained():
    result = evaluate(student(conduct=("K", "CĐ"), summer={"conduct": "CĐ"}))
    assert result["conduct"]["summer"] == "CĐ"
    assert result["outcome"] == "retained"


# --- Điều 14: summer re-assessment -------------------------------------------------------------------------

WEAK = {"TO": 4.6, "NV": 6.0, "NN1": 3.3, "GDCD": 7.0, "LSDL": 6.2, "KHTN": 5.5, "CN": 6.8, "TH": 7.5}


def test_retest_sends_every_comment_at_chua_dat_and_every_score_below_5_in_input_order():
    result = evaluate(student(scores=WEAK, comments={"NT": "CĐ", "GDTC": "CĐ"}, conduct=("K", "K")))
    assert result["learning"]["year"] == "CĐ"
    assert result["retest_subjects"] == ["TO", "NN1", "GDTC", "NT"]
    assert result["outcome"] == "pending_summer"
    assert retest_subjects([("A", 49), ("B", 50), ("C", False), ("D", True), ("E", 0)]) == ["A", "C", "E"]


def test_retest_results_replace_the_year_results_and_the_level_is_computed_again():
    result = evaluate(student(scores=WEAK, conduct=("K", "K"), summer={"retest": {"TO": 5.5, "NN1": "4,0"}}))
    assert result["learning"] == {"hk1": "CĐ", "hk2": "CĐ", "year": "CĐ", "summer": "Đ"}
    assert result["outcome"] == "promoted_after_summer"
    assert subject_result(result, "TO")["year"] == Decimal("4.6")  # the year result itself is kept


def test_failed_retest_is_retained():
    result = evaluate(student(scores=WEAK, conduct=("K", "K"), summer={"retest": {"TO": 5.0, "NN1": 3.0}}))
    assert result["learning"]["summer"] == "CĐ"
    assert result["outcome"] == "retained"


def test_retest_with_some_subject_missing_is_still_pending():
    result = evaluate(student(scores=WEAK, conduct=("K", "K"), summer={"retest": {"TO": 9.0}}))
    assert result["outcome"] == "pending_summer"
    assert "summer" not in result["learning"]
    assert any("NN1" in warning for warning in result["warnings"])


def test_comment_subject_retest_takes_dat_or_chua_dat():
    data = student(comments={"NT": "CĐ", "GDTC": "CĐ"}, conduct=("T", "T"))
    assert evaluate(data)["retest_subjects"] == ["GDTC", "NT"]
    data["summer"] = {"retest": {"GDTC": "Đ", "NT": "Đ"}}
    result = evaluate(data)
    assert result["learning"]["summer"] == "T" and result["outcome"] == "promoted_after_summer"


def test_recomputed_summer_level_is_adjusted_too_and_names_the_subject():
    # After the re-assessment only KHTN is weak (4,0) among otherwise Tốt results: Đ becomes K.
    scores = {"KHTN": 4.0, "TO": 4.0, "NN1": 3.0}
    result = evaluate(student(scores=scores, summer={"retest": {"KHTN": 4.0, "TO": 9.0, "NN1": 9.0}}))
    assert result["learning"]["year"] == "CĐ"
    assert result["learning"]["summer"] == "K"
    assert result["adjusted"]["summer"] == "KHTN"


def test_retest_score_with_two_decimals_is_an_input_error_naming_the_field():
    result = evaluate(student(scores=WEAK, conduct=("K", "K"), summer={"retest": {"TO": 5.25, "NN1": 5}}))
    assert result["error"].startswith("summer.retest.TO")


# --- Điều 13 and 14 together -------------------------------------------------------------------------------


def test_both_chua_dat_training_comes_first_and_its_failure_retains_without_retest():
    result = evaluate(student(scores=WEAK, conduct=("CĐ", "CĐ"),
                              summer={"conduct": "CĐ", "retest": {"TO": 9.0, "NN1": 9.0}}))
    assert result["retest_subjects"] == ["TO", "NN1"]
    assert result["conduct"]["summer"] == "CĐ"
    assert "summer" not in result["learning"]
    assert result["outcome"] == "retained"


def test_both_chua_dat_waits_for_training_before_the_retest():
    result = evaluate(student(scores=WEAK, conduct=("CĐ", "CĐ"), summer={"retest": {"TO": 9.0, "NN1": 9.0}}))
    assert "summer" not in result["learning"]
    assert result["outcome"] == "pending_summer"


def test_both_chua_dat_passing_training_then_retest_is_promoted_after_summer():
    result = evaluate(student(scores=WEAK, conduct=("CĐ", "CĐ"),
                              summer={"conduct": "Đ", "retest": {"TO": 6.0, "NN1": 6.0}}))
    assert result["conduct"]["summer"] == "Đ" and result["learning"]["summer"] == "Đ"
    assert result["outcome"] == "promoted_after_summer"


def test_without_training_first_the_retest_is_read_even_when_training_failed():
    options = RuleSet(retest_only_after_training_passes=False)
    result = evaluate(student(scores=WEAK, conduct=("CĐ", "CĐ"),
                              summer={"conduct": "CĐ", "retest": {"TO": 9.0, "NN1": 9.0}}), options)
    assert result["learning"]["summer"] == "Đ"
    assert result["outcome"] == "retained"


# --- Điều 15: awards ---------------------------------------------------------------------------------------


def test_conduct_tot_learning_tot_and_six_scores_at_9_0_is_xuat_sac():
    scores = dict.fromkeys(("TO", "NV", "NN1", "GDCD", "LSDL", "KHTN"), 9.0)
    assert evaluate(student(scores=scores))["award"] == "xuat_sac"


def test_five_scores_at_9_0_is_gioi():
    scores = dict.fromkeys(("TO", "NV", "NN1", "GDCD", "LSDL"), 9.0) | {"KHTN": 8.9}
    assert evaluate(student(scores=scores))["award"] == "gioi"


@pytest.mark.parametrize(("conduct", "scores"), [(("K", "K"), {}), (("T", "T"), {"TO": 6.0})])
def test_no_award_without_both_conduct_and_learning_tot(conduct, scores):
    assert evaluate(student(scores=scores, conduct=conduct))["award"] is None


def test_award_ignores_comment_subjects_and_counts_score_subjects_only():
    assert award(T, T, [90] * 6) == "xuat_sac"
    assert award(T, T, [90] * 5 + [89]) == "gioi"
    assert award(K, T, [100] * 8) is None


def test_a_student_raised_by_the_adjustment_gets_no_award():
    result = evaluate(student(scores={"KHTN": 4.0, "TO": 9.5, "NV": 9.5, "NN1": 9.5, "GDCD": 9.5, "CN": 9.5,
                                      "TH": 9.5}))
    assert result["learning"]["year"] == "K" and result["award"] is None


def test_award_uses_the_year_results_before_the_summer_retest():
    result = evaluate(student(comments={"NT": "CĐ", "GDTC": "CĐ"}, summer={"retest": {"GDTC": "Đ", "NT": "Đ"}}))
    assert result["learning"]["summer"] == "T" and result["award"] is None


# --- the rule set ------------------------------------------------------------------------------------------


def test_every_default_rule_of_the_rule_book_is_a_named_option_on_by_default():
    assert DEFAULT_RULES == RuleSet()
    assert DEFAULT_RULES.nghe_thuat_as_one_subject
    assert DEFAULT_RULES.year_average_from_rounded_semesters
    assert DEFAULT_RULES.missed_assessment_counts_as_zero
    assert DEFAULT_RULES.electives_count_in_learning_level
    assert DEFAULT_RULES.adjustment_enabled
    assert DEFAULT_RULES.retest_only_after_training_passes


def test_rule_set_is_frozen():
    with pytest.raises(AttributeError):
        DEFAULT_RULES.adjustment_enabled = False  # type: ignore[misc]


def test_learning_chua_dat_with_nothing_to_retest_is_retained_at_once():
    # Only five score subjects: "at least 6 subjects ≥ 5,0" cannot hold, and no subject is below 5,0.
    data = student()
    data["subjects"] = [row for row in data["subjects"] if row["code"] not in ("CN", "TH", "GDCD")]
    result = evaluate(data)
    assert result["learning"]["year"] == "CĐ" and result["retest_subjects"] == []
    assert result["outcome"] == "retained"
