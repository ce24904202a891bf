"""Numbers of TT22 (tt22.md §2): scores on the 0–10 scale with at most one decimal, rounded half up.

Every number is held as an exact integer count of tenths (8,5 → 85). Sums, weighted averages and half-up
rounding are then plain integer arithmetic, which is exact — the same result as ``Decimal`` with
``ROUND_HALF_UP`` — and never touches a binary float. Results leave the engine as ``Decimal`` values with
exactly one decimal (``Decimal("8.0")``); JSON output writes them as numbers (``8.0``).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: Tenths in one point: a score of 8,5 is held as 85.
SCALE = 10
#: The top of the scale, in tenths.
MAX_TENTHS = 10 * SCALE

_ONE_DECIMAL = Decimal("0.1")


class ScoreError(ValueError):
    """A value that is not a valid TT22 score; the message is Vietnamese and names the value."""


#: ``TENTHS[value]`` for every valid score written the usual ways: numbers (int, float and Decimal hash
#: alike, so ``8``, ``8.0`` and ``Decimal("8.0")`` share one key) and strings with a dot or a comma.
#: The numbers 0 and 1 are left out on purpose: ``False == 0`` and ``True == 1`` in Python, so a JSON
#: ``true`` would otherwise pass as a score; those values take the slow, checking path (``parse_score``).
TENTHS: dict[object, int] = {}
for _t in range(MAX_TENTHS + 1):
    _whole, _frac = divmod(_t, SCALE)
    if _t % SCALE or _whole not in (0, 1):
        TENTHS[_t / SCALE] = _t  # exact: the division is correctly rounded, like the JSON parser
    for _text in (f"{_whole}.{_frac}", f"{_whole},{_frac}"):
        TENTHS[_text] = _t
    if _frac == 0:
        TENTHS[str(_whole)] = _t
del _t, _whole, _frac, _text

#: ``DECIMALS[t]`` is the ``Decimal`` with one decimal for ``t`` tenths (``DECIMALS[85] == Decimal("8.5")``).
DECIMALS: tuple[Decimal, ...] = tuple(Decimal(t).scaleb(-1) for t in range(MAX_TENTHS + 1))

_NUMBER_TEXT = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def parse_score(value: object) -> int:
    """§2: a score — a JSON number, a ``Decimal`` or a string with a dot or a comma — as tenths (0–100).

    Raises ``ScoreError`` for anything else, for a value outside 0–10 and for a value with more than one
    decimal ("8,25").
    """
    if isinstance(value, (int, float, Decimal, str)) and not isinstance(value, bool):
        try:
            return TENTHS[value]
        except (KeyError, TypeError):  # not a usual spelling, or a signalling NaN: check it fully below
            pass
    shown = _show(value)
    if isinstance(value, bool) or value is None:
        raise ScoreError(f"{shown} không phải là điểm số")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that reads back as this float
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ScoreError("điểm để trống")
        if not _NUMBER_TEXT.fullmatch(text):
            raise ScoreError(f"{shown} không phải là điểm số")
        number = Decimal(text.replace(",", "."))
    else:
        raise ScoreError(f"{shown} không phải là điểm số")
    try:
        if not number.is_finite():
            raise ScoreError(f"{shown} không phải là điểm số")
        if number < 0 or number > 10:
            raise ScoreError(f"điểm {shown} nằm ngoài thang điểm 0–10")
        tenths = number * SCALE
        if tenths != tenths.to_integral_value():
            raise ScoreError(f"điểm {shown} có quá một chữ số thập phân")
    except InvalidOperation:
        raise ScoreError(f"{shown} không phải là điểm số") from None
    return int(tenths)


def round_half_up_quotient(numerator: int, denominator: int) -> int:
    """§2: ``numerator / denominator`` rounded half up to an integer (both ≥ 0, exact integer arithmetic)."""
    return (2 * numerator + denominator) // (2 * denominator)


def round_half_up(value: Decimal) -> Decimal:
    """§2: a decimal rounded half up to one decimal ("8,25 → 8,3"), for callers working in ``Decimal``."""
    return value.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def to_tenths(value: Decimal) -> int:
    """A ``Decimal`` with at most one decimal as tenths: ``Decimal("8.5")`` → 85."""
    return int(value * SCALE)


def _show(value: object) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value).replace(".", ",")
    return type(value).__name__
