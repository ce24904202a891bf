"""Small builders of student-years in the input format of tt22.md §6, for the rule-engine tests."""

from __future__ import annotations

import copy

#: The score subjects of grade 6 with their periods per year, in the order of the rule book.
SCORE_SUBJECTS = {"NV": 140, "TO": 140, "NN1": 105, "GDCD": 35, "LSDL": 105, "KHTN": 140, "CN": 35, "TH": 35}
#: The comment subjects of grade 6 with their periods per year.
COMMENT_SUBJECTS = {"GDTC": 70, "NT": 70, "HDTN": 105, "GDDP": 35}


def regular_count(periods: int) -> int:
    return 2 if periods <= 35 else 3 if periods <= 70 else 4


def score_semester(value, periods: int = 140) -> dict:
    """A semester in which every assessment is ``value``: its average is ``value``."""
    return {"tx": [value] * regular_count(periods), "gk": value, "ck": value}


def comment_semester(result: str = "Đ") -> dict:
    """A comment semester whose result is ``result``: all Đ, or Đ except the end-of-term assessment."""
    return {"tx": ["Đ", "Đ"], "gk": "Đ", "ck": result}


def score(code: str, hk1, hk2=None, periods: int | None = None) -> dict:
    periods = periods or SCORE_SUBJECTS.get(code, 105)
    return {"code": code, "kind": "score", "periods": periods, "hk1": score_semester(hk1, periods),
            "hk2": score_semester(hk1 if hk2 is None else hk2, periods)}


def comment(code: str, hk1: str = "Đ", hk2: str | None = None) -> dict:
    return {"code": code, "kind": "comment", "periods": COMMENT_SUBJECTS.get(code, 70),
            "hk1": comment_semester(hk1), "hk2": comment_semester(hk1 if hk2 is None else hk2)}


def student(scores: dict | None = None, comments: dict | None = None, *, conduct=("T", "T"), absences=0,
            grade: int = 6, summer: dict | None = None, extra: list | None = None, id: str = "hs") -> dict:
    """A grade-6 student-year with the twelve compulsory subjects.

    ``scores`` maps a score subject to its average (both semesters) or to (hk1, hk2); unnamed score
    subjects get 8.0. ``comments`` maps a comment subject to "Đ"/"CĐ" or (hk1, hk2); unnamed ones are Đ.
    """
    scores = scores or {}
    comments = comments or {}
    subjects = []
    for code in SCORE_SUBJECTS:
        value = scores.get(code, 8.0)
        hk1, hk2 = value if isinstance(value, tuple) else (value, value)
        subjects.append(score(code, hk1, hk2))
    for code in COMMENT_SUBJECTS:
        value = comments.get(code, "Đ")
        hk1, hk2 = value if isinstance(value, tuple) else (value, value)
        subjects.append(comment(code, hk1, hk2))
    subjects.extend(copy.deepcopy(extra or []))
    data = {"id": id, "regulation": "TT22", "grade": grade, "subjects": subjects,
            "conduct": {"hk1": conduct[0], "hk2": conduct[1]}, "absences": absences}
    if summer is not None:
        data["summer"] = summer
    return data


def subject_result(result: dict, code: str) -> dict:
    return next(row for row in result["subjects"] if row["code"] == code)
