"""Invariants of the TT22 engine, checked by hypothesis on generated student-years."""

from __future__ import annotations

import copy
import importlib.util
import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hocba.rules import RuleSet, evaluate, parse_score
from hocba.rules.numbers import ScoreError

RANK = {"CĐ": 0, "Đ": 1, "K": 2, "T": 3}
NAMES = ["CĐ", "Đ", "K", "T"]
PERIODS = ("hk1", "hk2", "year")
BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_rules.py"

checks = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- strategies --------------------------------------------------------------------------------------------

tenths = st.integers(min_value=0, max_value=100)
# Mostly good students, some weak ones: a student's scores cluster around a level of their own.
level_tenths = st.integers(min_value=35, max_value=100)


def spelled(value: int, style: int):
    whole, frac = divmod(value, 10)
    if style == 0 and frac == 0:
        return whole
    if style == 1:
        return f"{whole},{frac}"
    if style == 2:
        return f"{whole}.{frac}"
    return value / 10


@st.composite
def score_value(draw, around: int):
    value = draw(st.integers(min_value=max(0, around - 25), max_value=min(100, around + 15)))
    return spelled(value, draw(st.integers(min_value=0, max_value=4)))


@st.composite
def score_semester(draw, around: int, count: int):
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        count = draw(st.integers(min_value=0, max_value=5))  # now and then an incomplete semester
    return {"tx": [draw(score_value(around)) for _ in range(count)], "gk": draw(score_value(around)),
            "ck": draw(score_value(around))}


@st.composite
def comment_semester(draw, pass_rate: int):
    def one():
        return "Đ" if draw(st.integers(min_value=0, max_value=99)) < pass_rate else "CĐ"
    count = 2 if draw(st.integers(min_value=0, max_value=19)) else draw(st.integers(min_value=0, max_value=3))
    return {"tx": [one() for _ in range(count)], "gk": one(), "ck": one()}


@st.composite
def students(draw, with_summer: bool = True):
    around = draw(level_tenths)
    pass_rate = draw(st.sampled_from([100, 100, 99, 95, 70]))
    subjects = []
    for number in range(draw(st.sampled_from([4, 6, 7, 8, 8, 8, 9, 10]))):
        periods = draw(st.sampled_from([35, 52, 70, 105, 140]))
        count = 2 if periods <= 35 else 3 if periods <= 70 else 4
        subjects.append({"code": f"M{number}", "kind": "score", "periods": periods,
                         "hk1": draw(score_semester(around, count)), "hk2": draw(score_semester(around, count))})
    for number in range(draw(st.integers(min_value=0, max_value=5))):
        subjects.append({"code": f"N{number}", "kind": "comment", "periods": 70,
                         "hk1": draw(comment_semester(pass_rate)), "hk2": draw(comment_semester(pass_rate))})
    draw(st.randoms(use_true_random=False)).shuffle(subjects)
    conduct = st.sampled_from(["T", "T", "K", "Đ", "CĐ"])
    data = {"id": "hs", "regulation": "TT22", "grade": draw(st.integers(min_value=6, max_value=9)),
            "subjects": subjects, "conduct": {"hk1": draw(conduct), "hk2": draw(conduct)},
            "absences": draw(st.sampled_from([0, 3, 12, 45, 46, 60]))}
    if with_summer and draw(st.booleans()):
        summer = {}
        if draw(st.booleans()):
            summer["conduct"] = draw(st.sampled_from(["T", "K", "Đ", "CĐ"]))
        if draw(st.booleans()):
            summer["retest"] = {
                row["code"]: (draw(st.sampled_from(["Đ", "CĐ"])) if row["kind"] == "comment"
                              else spelled(draw(tenths), 3))
                for row in subjects if draw(st.integers(min_value=0, max_value=4))
            }
        data["summer"] = summer
    return data


# --- a literal reading of Điều 9.2 and 9.3, to check the engine against ---------------------------------


def reference_level(scores: list[Decimal], comments: list[str]) -> int:
    failures = comments.count("CĐ")
    if failures == 0 and all(s >= Decimal("6.5") for s in scores) and sum(s >= 8 for s in scores) >= 6:
        return 3
    if failures == 0 and all(s >= 5 for s in scores) and sum(s >= Decimal("6.5") for s in scores) >= 6:
        return 2
    if failures <= 1 and sum(s >= 5 for s in scores) >= 6 and all(s >= Decimal("3.5") for s in scores):
        return 1
    return 0


def reference_adjusted(rows: list[tuple[str, object]]) -> tuple[int, str | None]:
    """rows: (code, result) for one period; try leaving out each subject in turn (Điều 9.3)."""
    def level(items):
        return reference_level([r for _, r in items if not isinstance(r, str)],
                               [r for _, r in items if isinstance(r, str)])
    base = level(rows)
    culprits = [code for index, (code, _) in enumerate(rows)
                if (without := level(rows[:index] + rows[index + 1:])) >= 2 and without - base >= 2]
    return (base + 1, culprits[0]) if len(culprits) == 1 else (base, None)


def period_rows(result: dict, period: str) -> list[tuple[str, object]]:
    return [(row["code"], row[period]) for row in result["subjects"]]


def raise_one_score(data: dict, choice: int, amount: int) -> dict | None:
    """A copy of ``data`` with one score assessment raised by ``amount`` tenths (capped at 10)."""
    slots = [(i, hk, field, position)
             for i, row in enumerate(data["subjects"]) if row["kind"] == "score"
             for hk in ("hk1", "hk2")
             for field, position in [("gk", None), ("ck", None)] + [("tx", p) for p in range(len(row[hk]["tx"]))]]
    i, hk, field, position = slots[choice % len(slots)]
    changed = copy.deepcopy(data)
    semester = changed["subjects"][i][hk]
    old = parse_score(semester[field] if position is None else semester[field][position])
    new = min(100, old + amount)
    if position is None:
        semester[field] = new / 10
    else:
        semester[field][position] = new / 10
    return changed


# --- properties --------------------------------------------------------------------------------------------


@checks
@given(students(with_summer=False), st.integers(min_value=0, max_value=10_000), st.integers(1, 60))
def test_a_higher_score_never_lowers_any_average_or_level(data, choice, amount):
    before = evaluate(data)
    after = evaluate(raise_one_score(data, choice, amount))
    for period in PERIODS:
        assert RANK[after["learning"][period]] >= RANK[before["learning"][period]], period
        for old, new in zip(before["subjects"], after["subjects"]):
            if not isinstance(old[period], str):
                assert new[period] >= old[period]


@checks
@given(students())
def test_the_adjustment_raises_by_exactly_one_level_and_names_exactly_one_subject(data):
    adjusted = evaluate(data)
    plain = evaluate(data, RuleSet(adjustment_enabled=False))
    codes = [row["code"] for row in data["subjects"]]
    for period in PERIODS:
        base = RANK[plain["learning"][period]]
        level = RANK[adjusted["learning"][period]]
        culprit = adjusted["adjusted"][period]
        assert plain["adjusted"][period] is None
        if culprit is None:
            assert level == base
        else:
            assert level == base + 1 and culprit in codes
        # …and it is the one subject that a literal reading of Điều 9.3 finds.
        assert reference_adjusted(period_rows(plain, period)) == (level, culprit)


@checks
@given(students())
def test_a_year_comment_result_always_equals_semester_two(data):
    result = evaluate(data)
    for row, given_row in zip(result["subjects"], data["subjects"]):
        if given_row["kind"] == "comment":
            assert row["year"] == row["hk2"]


@checks
@given(students())
def test_outcomes_are_consistent_with_levels_and_absences(data):
    result = evaluate(data)
    conduct, learning = RANK[result["conduct"]["year"]], RANK[result["learning"]["year"]]
    absences, outcome = data["absences"], result["outcome"]
    retest = [row["code"] for row in result["subjects"]
              if row["year"] == "CĐ" or (not isinstance(row["year"], str) and row["year"] < 5)]

    assert (outcome == "promoted") == (absences <= 45 and conduct >= 1 and learning >= 1)
    if absences > 45:
        assert outcome == "retained" and result["retest_subjects"] == []
        assert "summer" not in result["conduct"] and "summer" not in result["learning"]
    assert result["retest_subjects"] == (retest if learning == 0 and absences <= 45 else [])
    if "summer" in result["conduct"]:
        assert conduct == 0 and result["conduct"]["summer"] == data["summer"]["conduct"]
    if "summer" in result["learning"]:
        assert learning == 0
    if outcome == "promoted_after_summer":
        assert conduct >= 1 or RANK[result["conduct"]["summer"]] >= 1
        assert learning >= 1 or RANK[result["learning"]["summer"]] >= 1
    if outcome == "retained" and absences <= 45:
        assert result["conduct"].get("summer") == "CĐ" or result["learning"].get("summer") == "CĐ" or not retest
    if outcome == "pending_summer":
        assert ("summer" not in result["conduct"] and conduct == 0) or \
               ("summer" not in result["learning"] and learning == 0)
    if result["award"] is not None:
        assert conduct == learning == 3
    if result["award"] == "xuat_sac":
        assert sum(1 for row in result["subjects"] if not isinstance(row["year"], str) and row["year"] >= 9) >= 6


_baseline = None


def _load_baseline():
    spec = importlib.util.spec_from_file_location("bench_rules_baseline", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.baseline_evaluate


@checks
@given(students())
def test_the_engine_agrees_with_the_straightforward_decimal_baseline(data):
    global _baseline
    if _baseline is None:
        _baseline = _load_baseline()
    engine, reference = evaluate(data), _baseline(data)
    for field in engine:
        if field != "warnings":
            assert engine[field] == reference[field], field


@checks
@given(st.lists(tenths, min_size=0, max_size=6), tenths, tenths)
def test_semester_averages_are_the_exact_decimal_formula_rounded_half_up(regular, mid, end):
    data = {"id": "x", "regulation": "TT22", "grade": 6, "absences": 0, "conduct": {"hk1": "T", "hk2": "T"},
            "subjects": [{"code": "TO", "kind": "score", "periods": 140,
                          "hk1": {"tx": [t / 10 for t in regular], "gk": mid / 10, "ck": end / 10},
                          "hk2": {"tx": [t / 10 for t in regular], "gk": mid / 10, "ck": end / 10}}]}
    total = sum(Decimal(t) / 10 for t in regular) + 2 * Decimal(mid) / 10 + 3 * Decimal(end) / 10
    expected = (total / (len(regular) + 5)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    row = evaluate(data)["subjects"][0]
    assert row["hk1"] == expected
    assert row["year"] == ((expected + 2 * expected) / 3).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@given(tenths, st.integers(min_value=0, max_value=3))
def test_every_spelling_of_a_score_reads_as_the_same_number(value, style):
    assert parse_score(spelled(value, style)) == value


@given(st.integers(min_value=0, max_value=999).filter(lambda h: h % 10))
def test_a_score_with_two_decimals_is_always_refused(hundredths):
    for spelling in (hundredths / 100, f"{hundredths // 100},{hundredths % 100:02d}"):
        try:
            parse_score(spelling)
        except ScoreError:
            continue
        raise AssertionError(f"{spelling!r} was accepted")


@checks
@given(students(), st.data())
def test_one_bad_value_gives_that_student_an_error_naming_it_and_leaves_the_others(data, draw):
    from hocba.rules import evaluate_many

    index = draw.draw(st.integers(min_value=0, max_value=len(data["subjects"]) - 1))
    bad = copy.deepcopy(data)
    row = bad["subjects"][index]
    hk = draw.draw(st.sampled_from(["hk1", "hk2"]))
    wrong = draw.draw(st.sampled_from(["11", -1, 8.25, "8,25", "x", True]) if row["kind"] == "score"
                      else st.sampled_from(["D", "Dat", 1, "T"]))
    row[hk]["gk"] = wrong
    first, second, third = evaluate_many([data, bad, data])
    assert set(second) == {"id", "error"}
    assert second["error"].startswith(f"subjects[{index}].{hk}.gk ({row['code']}): ")
    assert first == third and "error" not in first
