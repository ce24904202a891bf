"""The TT22 subject table (docs/domain/tt22.md §1): the seed of every new year's subject plan."""

from __future__ import annotations

# code, name, kind, periods per year for grades 6/7/8/9, elective, integrated
SUBJECTS: list[tuple[str, str, str, tuple[int, int, int, int], bool, bool]] = [
    ("NV", "Ngữ văn", "score", (140, 140, 140, 140), False, False),
    ("TO", "Toán", "score", (140, 140, 140, 140), False, False),
    ("NN1", "Ngoại ngữ 1", "score", (105, 105, 105, 105), False, False),
    ("GDCD", "Giáo dục công dân", "score", (35, 35, 35, 35), False, False),
    ("LSDL", "Lịch sử và Địa lí", "score", (105, 105, 105, 105), False, True),
    ("KHTN", "Khoa học tự nhiên", "score", (140, 140, 140, 140), False, True),
    ("CN", "Công nghệ", "score", (35, 35, 52, 52), False, False),
    ("TH", "Tin học", "score", (35, 35, 35, 35), False, False),
    ("GDTC", "Giáo dục thể chất", "comment", (70, 70, 70, 70), False, False),
    ("NT", "Nghệ thuật (Âm nhạc, Mĩ thuật)", "comment", (70, 70, 70, 70), False, True),
    ("HDTN", "Hoạt động trải nghiệm, hướng nghiệp", "comment", (105, 105, 105, 105), False, False),
    ("GDDP", "Nội dung giáo dục của địa phương", "comment", (35, 35, 35, 35), False, False),
    ("TDT", "Tiếng dân tộc thiểu số", "score", (105, 105, 105, 105), True, False),
    ("NN2", "Ngoại ngữ 2", "score", (105, 105, 105, 105), True, False),
]

CORE_CODES = [code for code, _n, _k, _p, elective, _i in SUBJECTS if not elective]


def periods(code: str, grade: int) -> int:
    for c, _n, _k, per_grade, _e, _i in SUBJECTS:
        if c == code:
            return per_grade[grade - 6]
    raise KeyError(code)
