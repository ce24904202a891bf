"""Conduct (kết quả rèn luyện): Điều 8.

The homeroom teacher (GVCN) sets T/K/Đ/CĐ for each semester; the year level follows from the two.
"""

from __future__ import annotations

# Rows: semester II; columns: semester I (tt22.md §4).
_YEAR_TABLE: dict[str, dict[str, str]] = {
    "T": {"T": "T", "K": "T", "Đ": "K", "CĐ": "K"},
    "K": {"T": "K", "K": "K", "Đ": "K", "CĐ": "Đ"},
    "Đ": {"T": "K", "K": "Đ", "Đ": "Đ", "CĐ": "Đ"},
    "CĐ": {"T": "CĐ", "K": "CĐ", "Đ": "CĐ", "CĐ": "CĐ"},
}

#: ``YEAR_CONDUCT[(hk1, hk2)]`` — the table of Điều 8 keyed by the two semester levels.
YEAR_CONDUCT: dict[tuple[str, str], str] = {
    (first, second): year for second, row in _YEAR_TABLE.items() for first, year in row.items()
}


def year_conduct(first: str, second: str) -> str:
    """Điều 8: the year conduct level from the semester I and semester II levels (T, K, Đ, CĐ)."""
    return YEAR_CONDUCT[(first, second)]
