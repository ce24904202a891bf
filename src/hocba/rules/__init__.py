"""The TT22 rule engine: Thông tư 22/2021/TT-BGDĐT as pure functions, with no Django in it.

``evaluate(student)`` takes one student-year in the JSON form of docs/domain/tt22.md §6 and returns the
output object of that contract: subject averages (``Decimal`` with one decimal) and comment results,
learning levels per semester and year with the Điều 9.3 adjustment, year conduct, award, summer steps and
outcome, and warnings. Bad input gives ``{"id": …, "error": "…"}``. ``evaluate_many`` does a list; ``to_json`` writes
results as the JSON of the contract.
Every rule the rule book marks [default] is a field of ``RuleSet``.

The modules follow the circular: ``subjects`` (Điều 5–7, 9.1), ``levels`` (Điều 9.2, 9.3), ``conduct``
(Điều 8), ``outcome`` (Điều 12–15); ``numbers`` holds the exact decimal arithmetic, ``engine`` reads the
input and puts the rules together, ``cli`` is ``hocba rules evaluate``.
"""

from hocba.rules.conduct import year_conduct
from hocba.rules.engine import REGULATION, InputError, evaluate, evaluate_many, to_json
from hocba.rules.levels import CD, LEVEL_NAMES, LEVEL_RANKS, D, K, T, adjust_learning_level, learning_level
from hocba.rules.numbers import ScoreError, parse_score, round_half_up
from hocba.rules.options import DEFAULT_RULES, RuleSet
from hocba.rules.outcome import (
    GIOI,
    MAX_ABSENCES,
    OUTCOMES,
    PENDING_SUMMER,
    PROMOTED,
    PROMOTED_AFTER_SUMMER,
    RETAINED,
    XUAT_SAC,
    award,
    promotion_outcome,
    retest_subjects,
)
from hocba.rules.subjects import (
    COMMENT,
    SCORE,
    SubjectSpec,
    comment_semester_result,
    comment_year_result,
    default_subject_plan,
    required_regular_assessments,
    subject_semester_average,
    subject_year_average,
)

__all__ = [
    "CD",
    "COMMENT",
    "DEFAULT_RULES",
    "GIOI",
    "LEVEL_NAMES",
    "LEVEL_RANKS",
    "MAX_ABSENCES",
    "OUTCOMES",
    "PENDING_SUMMER",
    "PROMOTED",
    "PROMOTED_AFTER_SUMMER",
    "REGULATION",
    "RETAINED",
    "SCORE",
    "XUAT_SAC",
    "D",
    "InputError",
    "K",
    "RuleSet",
    "ScoreError",
    "SubjectSpec",
    "T",
    "adjust_learning_level",
    "award",
    "comment_semester_result",
    "comment_year_result",
    "default_subject_plan",
    "evaluate",
    "evaluate_many",
    "learning_level",
    "parse_score",
    "promotion_outcome",
    "required_regular_assessments",
    "retest_subjects",
    "round_half_up",
    "subject_semester_average",
    "subject_year_average",
    "to_json",
    "year_conduct",
]
