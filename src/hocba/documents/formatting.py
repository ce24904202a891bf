"""How the học bạ writes things (ARCHITECTURE "Vietnamese first"): scores "8,5", dates "28/11/2026", levels
in words, the "…, ngày 05 tháng 02 năm 2026" line above a signature."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .model import GENDERS, LEVEL_NAMES, Mark


def score(mark: Mark | None) -> str:
    """``Decimal("8.5")`` → "8,5"; Đ / CĐ / M unchanged; ``None`` → ""."""
    if mark is None:
        return ""
    if isinstance(mark, Decimal):
        return f"{mark.quantize(Decimal('0.1'))}".replace(".", ",")
    return mark


def date(value: dt.date | None) -> str:
    """dd/mm/yyyy."""
    return "" if value is None else value.strftime("%d/%m/%Y")


def level(code: str | None) -> str:
    """T → "Tốt", K → "Khá", Đ → "Đạt", CĐ → "Chưa đạt"."""
    return "" if code is None else LEVEL_NAMES[code]


def gender(code: str) -> str:
    return GENDERS.get(code, "")


def place_date(place: str, day: dt.date) -> str:
    """"Thành phố Hồ Chí Minh, ngày 05 tháng 02 năm 2026": day below 10 and months 1–2 with a leading zero,
    as administrative documents write them (Nghị định 30/2020/NĐ-CP)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"
