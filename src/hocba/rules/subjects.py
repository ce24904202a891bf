"""Subjects and their results: Điều 5–7 (how a subject is assessed) and Điều 9.1 (its averages).

Scores are tenths (see ``numbers``). A comment result is ``True`` for Đạt and ``False`` for Chưa đạt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hocba.rules.numbers import round_half_up_quotient
from hocba.rules.options import DEFAULT_RULES, RuleSet

#: "đánh giá bằng nhận xét kết hợp đánh giá bằng điểm số": every assessment a score 0–10.
SCORE = "score"
#: "đánh giá bằng nhận xét": every assessment Đạt (Đ) or Chưa đạt (CĐ).
COMMENT = "comment"
KINDS = (SCORE, COMMENT)

GRADES = (6, 7, 8, 9)


@dataclass(frozen=True, slots=True)
class SubjectSpec:
    """One line of the subject plan of a grade (tt22.md §1)."""

    code: str
    name: str
    kind: str
    periods: int
    compulsory: bool = True

    @property
    def regular_assessments(self) -> int:
        return required_regular_assessments(self.kind, self.periods)


# code, name, kind, periods per year in grades 6 / 7 / 8 / 9, compulsory
_PLAN: tuple[tuple[str, str, str, tuple[int, int, int, int], bool], ...] = (
    ("NV", "Ngữ văn", SCORE, (140, 140, 140, 140), True),
    ("TO", "Toán", SCORE, (140, 140, 140, 140), True),
    ("NN1", "Ngoại ngữ 1", SCORE, (105, 105, 105, 105), True),
    ("GDCD", "Giáo dục công dân", SCORE, (35, 35, 35, 35), True),
    ("LSDL", "Lịch sử và Địa lí", SCORE, (105, 105, 105, 105), True),
    ("KHTN", "Khoa học tự nhiên", SCORE, (140, 140, 140, 140), True),
    ("CN", "Công nghệ", SCORE, (35, 35, 52, 52), True),
    ("TH", "Tin học", SCORE, (35, 35, 35, 35), True),
    ("GDTC", "Giáo dục thể chất", COMMENT, (70, 70, 70, 70), True),
    ("NT", "Nghệ thuật", COMMENT, (70, 70, 70, 70), True),
    ("HDTN", "Hoạt động trải nghiệm, hướng nghiệp", COMMENT, (105, 105, 105, 105), True),
    ("GDDP", "Nội dung giáo dục của địa phương", COMMENT, (35, 35, 35, 35), True),
    ("TDT", "Tiếng dân tộc thiểu số", SCORE, (105, 105, 105, 105), False),
    ("NN2", "Ngoại ngữ 2", SCORE, (105, 105, 105, 105), False),
)
_NGHE_THUAT_SPLIT = (
    ("AN", "Âm nhạc", COMMENT, (35, 35, 35, 35), True),
    ("MT", "Mĩ thuật", COMMENT, (35, 35, 35, 35), True),
)


def default_subject_plan(grade: int, options: RuleSet = DEFAULT_RULES) -> tuple[SubjectSpec, ...]:
    """Điều 5/6 with Chương trình GDPT 2018: the suggested subject plan of a THCS grade (tt22.md §1).

    The plan is data per school year and grade; this is the starting point a school edits, with Nghệ
    thuật as one subject or two according to ``options.nghe_thuat_as_one_subject``.
    """
    if grade not in GRADES:
        raise ValueError(f"grade must be one of {GRADES}, not {grade!r}")
    specs = []
    for code, name, kind, periods, compulsory in _PLAN:
        if code == "NT" and not options.nghe_thuat_as_one_subject:
            specs.extend(SubjectSpec(c, n, k, p[grade - 6], m) for c, n, k, p, m in _NGHE_THUAT_SPLIT)
            continue
        specs.append(SubjectSpec(code, name, kind, periods[grade - 6], compulsory))
    return tuple(specs)


def required_regular_assessments(kind: str, periods: int) -> int:
    """Điều 6: ĐĐGtx per semester — comment subject 2; score subject ≤ 35 periods 2, 36–70 3, > 70 4."""
    if kind == COMMENT or periods <= 35:
        return 2
    if periods <= 70:
        return 3
    return 4


def subject_semester_average(regular: Sequence[int], mid: int, end: int) -> int:
    """Điều 9.1b: ĐTBmhk = (ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck) / (ĐĐGtx entered + 5), rounded half up (tenths)."""
    return round_half_up_quotient(sum(regular) + 2 * mid + 3 * end, len(regular) + 5)


def subject_year_average(first: int, second: int) -> int:
    """Điều 9.1b: ĐTBmcn = (ĐTBmhkI + 2·ĐTBmhkII) / 3 from the rounded semester averages, rounded (tenths)."""
    return round_half_up_quotient(first + 2 * second, 3)


def subject_year_average_unrounded(total1: int, count1: int, total2: int, count2: int) -> int:
    """Điều 9.1b, option ``year_average_from_rounded_semesters=False``: the year average from the exact
    semester averages total/count (weighted sums in tenths over ĐĐGtx + 5), rounded once (tenths)."""
    return round_half_up_quotient(total1 * count2 + 2 * total2 * count1, 3 * count1 * count2)


def comment_semester_result(regular: Sequence[bool], mid: bool, end: bool, required: int) -> bool:
    """Điều 9.1a: Đ (True) when every required assessment exists and all are Đ; otherwise CĐ (False)."""
    return len(regular) >= required and all(regular) and mid and end


def comment_year_result(first: bool, second: bool) -> bool:
    """Điều 9.1a: the year result of a comment subject is its semester II result."""
    return second
