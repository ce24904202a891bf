"""Throughput of the TT22 rule engine, against a straightforward Decimal baseline, on one core.

    python bench/bench_rules.py            # 100,000 generated student-years
    python bench/bench_rules.py --quick    # 10,000

The data are generated from a fixed seed: the twelve compulsory subjects of the grade (eight score subjects,
four comment subjects) and sometimes an elective, students of every ability, some semesters with a missing
regular assessment or a missed periodic one, scores written as integers, decimals and "8,5" strings, too many
absences now and then, and summer results for most of the students who need them. Generation is not timed.

Both the engine (``hocba.rules.evaluate_many``) and the baseline (``baseline_evaluate`` below: per-student
``Decimal`` arithmetic, no tables, no precomputation, the same rules) run in this process, one after the other,
on the same data, in chunks so that memory stays small. Their results are compared on a sample first.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

try:
    from hocba.rules import evaluate_many
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from hocba.rules import evaluate_many

SEED = 20240905
CHUNK = 5_000
TARGET_RATE = 30_000
TARGET_RATIO = 8.0

# --- the data ----------------------------------------------------------------------------------------------

_SCORE_SUBJECTS = (("NV", 140), ("TO", 140), ("NN1", 105), ("GDCD", 35), ("LSDL", 105), ("KHTN", 140),
                   ("CN", None), ("TH", 35))
_COMMENT_SUBJECTS = (("GDTC", 70), ("NT", 70), ("HDTN", 105), ("GDDP", 35))
_ELECTIVES = (("TDT", 105), ("NN2", 105))
# Conduct per semester: about 75 % T, 17 % K, 6 % Đ, 2 % CĐ.
_CONDUCT = ("T",) * 38 + ("K",) * 8 + ("Đ",) * 3 + ("CĐ",)


def _regular_count(periods: int) -> int:
    return 2 if periods <= 35 else 3 if periods <= 70 else 4


def _score_value(rng: random.Random, mean: float) -> object:
    tenths = min(100, max(0, round(rng.gauss(mean, 0.8) * 10)))
    style = rng.random()
    if tenths % 10 == 0 and style < 0.8:
        return tenths // 10  # teachers mostly type whole marks as integers
    if style < 0.05:
        return f"{tenths // 10},{tenths % 10}"  # typed or imported with a decimal comma
    return tenths / 10


def _semester(rng: random.Random, kind: str, periods: int, mean: float, pass_rate: float) -> dict:
    count = _regular_count(periods) if kind == "score" else 2
    if rng.random() < 0.005:
        count -= 1  # one regular assessment not entered
    if kind == "score":
        semester = {"tx": [_score_value(rng, mean) for _ in range(count)], "gk": _score_value(rng, mean),
                    "ck": _score_value(rng, mean)}
    else:
        semester = {"tx": ["Đ" if rng.random() < pass_rate else "CĐ" for _ in range(count)],
                    "gk": "Đ" if rng.random() < pass_rate else "CĐ",
                    "ck": "Đ" if rng.random() < pass_rate else "CĐ"}
    if rng.random() < 0.001:
        semester["ck"] = None  # missed, no make-up
    return semester


def generate_student(rng: random.Random, number: int) -> dict:
    """One realistic student-year in the input format of tt22.md §6."""
    grade = rng.randint(6, 9)
    ability = rng.gauss(7.5, 1.0)
    pass_rate = 0.9995 if ability > 5.5 else 0.97
    subjects = []
    plan = [*_SCORE_SUBJECTS[:6], *_SCORE_SUBJECTS[6:], *_COMMENT_SUBJECTS]
    if rng.random() < 0.1:
        plan.append(rng.choice(_ELECTIVES))
    for code, periods in plan:
        if periods is None:
            periods = 35 if grade < 8 else 52
        kind = "comment" if (code, periods) in _COMMENT_SUBJECTS else "score"
        mean = ability + rng.gauss(0, 0.7)
        subjects.append({"code": code, "kind": kind, "periods": periods,
                         "hk1": _semester(rng, kind, periods, mean, pass_rate),
                         "hk2": _semester(rng, kind, periods, mean + 0.2, pass_rate)})
    conduct1 = rng.choice(_CONDUCT) if ability > 5.5 else rng.choice(_CONDUCT[30:])
    conduct2 = conduct1 if rng.random() < 0.6 else rng.choice(_CONDUCT)
    absences = rng.randint(0, 8) if rng.random() < 0.98 else rng.randint(40, 60)
    return {"id": f"hs-{number:06d}", "regulation": "TT22", "grade": grade, "subjects": subjects,
            "conduct": {"hk1": conduct1, "hk2": conduct2}, "absences": absences}


def add_summer(rng: random.Random, student: dict, result: dict) -> None:
    """Give most students who need a summer step its results (the rest stay pending)."""
    if result["outcome"] != "pending_summer" or rng.random() < 0.2:
        return
    summer = {}
    if result["conduct"]["year"] == "CĐ":
        summer["conduct"] = rng.choice(("K", "Đ", "Đ", "CĐ"))
    if result["retest_subjects"]:
        kinds = {subject["code"]: subject["kind"] for subject in student["subjects"]}
        summer["retest"] = {
            code: (rng.choice(("Đ", "Đ", "CĐ")) if kinds[code] == "comment"
                   else _score_value(rng, rng.uniform(3.5, 7.0)))
            for code in result["retest_subjects"]
        }
    student["summer"] = summer


def generate_chunk(rng: random.Random, start: int, size: int) -> list[dict]:
    students = [generate_student(rng, number) for number in range(start, start + size)]
    for student, result in zip(students, evaluate_many(students)):
        add_summer(rng, student, result)
    return students


# --- the baseline ------------------------------------------------------------------------------------------
# Written as one would at first: every number a Decimal, every rule computed from the input per student.

_LEVEL_NAMES = ["CĐ", "Đ", "K", "T"]
_TENTH = Decimal("0.1")


def _dec(value) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(f"not a score: {value!r}")
    number = Decimal(str(value).strip().replace(",", "."))
    if number < 0 or number > 10 or number != number.quantize(_TENTH):
        raise ValueError(f"not a score: {value!r}")
    return number


def _round(value: Decimal) -> Decimal:
    return value.quantize(_TENTH, rounding=ROUND_HALF_UP)


def _baseline_level(scores: list[Decimal], comments: list[str]) -> int:
    fails = sum(1 for c in comments if c == "CĐ")
    if fails == 0 and all(s >= Decimal("6.5") for s in scores) and \
            sum(1 for s in scores if s >= Decimal("8.0")) >= 6:
        return 3
    if fails == 0 and all(s >= Decimal("5.0") for s in scores) and \
            sum(1 for s in scores if s >= Decimal("6.5")) >= 6:
        return 2
    if fails <= 1 and sum(1 for s in scores if s >= Decimal("5.0")) >= 6 and \
            all(s >= Decimal("3.5") for s in scores):
        return 1
    return 0


def _baseline_adjusted(entries: list[tuple[str, str, object]]) -> tuple[int, str | None]:
    """entries: (code, kind, result); Điều 9.2 then 9.3 by removing each subject in turn."""
    def level_of(items):
        return _baseline_level([r for _, k, r in items if k == "score"], [r for _, k, r in items if k == "comment"])
    base = level_of(entries)
    culprits = []
    for i, (code, _, _) in enumerate(entries):
        without = level_of(entries[:i] + entries[i + 1:])
        if without >= 2 and without - base >= 2:
            culprits.append(code)
    if len(culprits) == 1:
        return base + 1, culprits[0]
    return base, None


def _baseline_conduct(first: str, second: str) -> str:
    if second == "CĐ":
        return "CĐ"
    if second == "T":
        return "T" if first in ("T", "K") else "K"
    if second == "K":
        return "Đ" if first == "CĐ" else "K"
    return "K" if first == "T" else "Đ"


def baseline_evaluate(student: dict) -> dict:
    """The same rules, straightforwardly, in Decimal."""
    warnings = []
    out_subjects = []
    periods_entries = {"hk1": [], "hk2": [], "year": []}
    for subject in student["subjects"]:
        code, kind, periods = subject["code"], subject["kind"], subject["periods"]
        row = {"code": code}
        if kind == "score":
            required = 2 if periods <= 35 else (3 if periods <= 70 else 4)
            for hk in ("hk1", "hk2"):
                semester = subject[hk]
                regular = [_dec(v) for v in semester["tx"]]
                mid = Decimal(0) if semester["gk"] is None else _dec(semester["gk"])
                end = Decimal(0) if semester["ck"] is None else _dec(semester["ck"])
                if semester["gk"] is None:
                    warnings.append("missed")
                if semester["ck"] is None:
                    warnings.append("missed")
                if len(regular) != required:
                    warnings.append("count")
                row[hk] = _round((sum(regular) + 2 * mid + 3 * end) / Decimal(len(regular) + 5))
            row["year"] = _round((row["hk1"] + 2 * row["hk2"]) / Decimal(3))
        else:
            for hk in ("hk1", "hk2"):
                semester = subject[hk]
                values = list(semester["tx"]) + [semester["gk"], semester["ck"]]
                if semester["gk"] is None:
                    warnings.append("missed")
                if semester["ck"] is None:
                    warnings.append("missed")
                if len(semester["tx"]) != 2:
                    warnings.append("count")
                row[hk] = "Đ" if len(semester["tx"]) >= 2 and all(v == "Đ" for v in values) else "CĐ"
            row["year"] = row["hk2"]
        out_subjects.append(row)
        for period in ("hk1", "hk2", "year"):
            periods_entries[period].append((code, kind, row[period]))

    learning, adjusted = {}, {}
    for period in ("hk1", "hk2", "year"):
        level, culprit = _baseline_adjusted(periods_entries[period])
        learning[period] = _LEVEL_NAMES[level]
        adjusted[period] = culprit
    conduct = {"hk1": student["conduct"]["hk1"], "hk2": student["conduct"]["hk2"]}
    conduct["year"] = _baseline_conduct(conduct["hk1"], conduct["hk2"])

    award = None
    if conduct["year"] == "T" and learning["year"] == "T":
        nine = sum(1 for row, s in zip(out_subjects, student["subjects"])
                   if s["kind"] == "score" and row["year"] >= Decimal("9.0"))
        award = "xuat_sac" if nine >= 6 else "gioi"

    result = {"id": student["id"], "subjects": out_subjects, "learning": learning, "adjusted": adjusted,
              "conduct": conduct, "award": award, "retest_subjects": [], "outcome": "promoted",
              "warnings": warnings}
    absences = student["absences"]
    conduct_ok = conduct["year"] != "CĐ"
    learning_ok = learning["year"] != "CĐ"
    if absences > 45:
        result["outcome"] = "retained"
        return result
    if conduct_ok and learning_ok:
        return result
    summer = student.get("summer") or {}
    pending = False
    failed = False
    if not conduct_ok:
        if summer.get("conduct") is None:
            pending = True
            warnings.append("summer conduct pending")
        else:
            conduct["summer"] = summer["conduct"]
            failed = failed or summer["conduct"] == "CĐ"
    if not learning_ok:
        retest = [row["code"] for row in out_subjects
                  if row["year"] == "CĐ" or (not isinstance(row["year"], str) and row["year"] < Decimal("5.0"))]
        result["retest_subjects"] = retest
        if not retest:  # nothing to re-assess: the year level stands
            failed = True
            warnings.append("nothing to retest")
        elif conduct_ok or conduct.get("summer") not in (None, "CĐ"):
            given = summer.get("retest") or {}
            if all(given.get(code) is not None for code in retest):
                entries = []
                for row, s in zip(out_subjects, student["subjects"]):
                    value = row["year"]
                    if row["code"] in retest:
                        value = given[row["code"]] if s["kind"] == "comment" else _dec(given[row["code"]])
                    entries.append((row["code"], s["kind"], value))
                level, culprit = _baseline_adjusted(entries)
                learning["summer"] = _LEVEL_NAMES[level]
                if culprit:
                    adjusted["summer"] = culprit
                failed = failed or level == 0
            else:
                pending = True
                warnings.append("summer retest pending")
    result["outcome"] = "retained" if failed else "pending_summer" if pending else "promoted_after_summer"
    return result


def baseline_evaluate_many(students: list[dict]) -> list[dict]:
    return [baseline_evaluate(student) for student in students]


# --- the run -----------------------------------------------------------------------------------------------


def _comparable(result: dict) -> dict:
    return {**result, "warnings": len(result["warnings"])}


def check_same(students: list[dict]) -> int:
    engine = evaluate_many(students)
    baseline = baseline_evaluate_many(students)
    for student, mine, theirs in zip(students, engine, baseline):
        if _comparable(mine) != _comparable(theirs):
            raise SystemExit(f"engine and baseline differ on {student['id']}:\n{mine}\n{theirs}")
    return len(students)


def _timed(function, students: list[dict]) -> float:
    """CPU seconds of this (single-threaded) process spent in ``function(students)``.

    Process time rather than wall time, so that other work on the machine does not count against the
    engine; the results are freed after the clock stops.
    """
    gc.collect()
    start = time.process_time()
    results = function(students)
    elapsed = time.process_time() - start
    del results
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 student-years instead of 100,000")
    parser.add_argument("-n", type=int, help="number of student-years (overrides --quick)")
    args = parser.parse_args(argv)
    total = args.n or (10_000 if args.quick else 100_000)

    rng = random.Random(SEED)
    engine_time = baseline_time = 0.0
    checked = done = 0
    outcomes: dict[str, int] = {}
    while done < total:
        size = min(CHUNK, total - done)
        students = generate_chunk(rng, done, size)
        if checked < 2_000:
            checked += check_same(students[:500])
        engine_time += _timed(evaluate_many, students)
        baseline_time += _timed(baseline_evaluate_many, students)
        for result in evaluate_many(students):
            outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
        done += size

    engine_rate = total / engine_time
    baseline_rate = total / baseline_time
    ratio = engine_rate / baseline_rate
    print(f"TT22 rule engine benchmark — {total:,} student-years, one core, Python {platform.python_version()}")
    print("  outcomes: " + ", ".join(f"{name} {count:,}" for name, count in sorted(outcomes.items())))
    print(f"  results identical to the baseline on a sample of {checked:,} student-years")
    print(f"  engine   (hocba.rules):          {engine_rate:>8,.0f} student-years/s  ({engine_time:.2f} s CPU)")
    print(f"  baseline (Decimal, per student): {baseline_rate:>8,.0f} student-years/s  ({baseline_time:.2f} s CPU)")
    print(f"  ratio engine / baseline: {ratio:.1f}×")
    ok = engine_rate >= TARGET_RATE and ratio >= TARGET_RATIO
    print(f"  target ≥ {TARGET_RATE:,}/s and ≥ {TARGET_RATIO:.0f}× the baseline: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
