"""End of the year: promotion (Điều 12), summer training (Điều 13), summer re-assessment (Điều 14),
awards (Điều 15).

Levels are ranks (``levels.CD`` … ``levels.T``); scores are tenths.
"""

from __future__ import annotations

from collections.abc import Sequence

from hocba.rules.levels import CD, D, T

#: Absent sessions (buổi) in a year, excused or not, above which a student is not promoted (Điều 12).
MAX_ABSENCES = 45

PROMOTED = "promoted"
PENDING_SUMMER = "pending_summer"
PROMOTED_AFTER_SUMMER = "promoted_after_summer"
RETAINED = "retained"
OUTCOMES = (PROMOTED, PENDING_SUMMER, PROMOTED_AFTER_SUMMER, RETAINED)

XUAT_SAC = "xuat_sac"
GIOI = "gioi"

_RETEST_BELOW = 50  # Điều 14: a score subject with ĐTBmcn < 5,0 is re-assessed
_XUAT_SAC_SCORE = 90  # Điều 15: ĐTBmcn ≥ 9,0 …
_XUAT_SAC_SUBJECTS = 6  # … in at least 6 score subjects


def is_promoted(conduct: int, learning: int, absences: int) -> bool:
    """Điều 12: promoted (for grade 9, completes THCS) with conduct ≥ Đ, learning ≥ Đ and ≤ 45 absences."""
    return conduct >= D and learning >= D and absences <= MAX_ABSENCES


def needs_summer_training(conduct: int, absences: int) -> bool:
    """Điều 13: year conduct CĐ (with ≤ 45 absences) sends the student to summer training."""
    return conduct == CD and absences <= MAX_ABSENCES


def needs_summer_retest(learning: int, absences: int) -> bool:
    """Điều 14: year learning CĐ (with ≤ 45 absences) calls for the summer re-assessment of subjects."""
    return learning == CD and absences <= MAX_ABSENCES


def retest_subjects(year_results: Sequence[tuple[str, int | bool]]) -> list[str]:
    """Điều 14: the subjects re-assessed in summer — every comment subject at CĐ and every score subject
    with ĐTBmcn < 5,0 — in the order given. ``year_results`` pairs each code with its year result: tenths
    for a score subject, ``True``/``False`` (Đ/CĐ) for a comment subject."""
    return [
        code for code, result in year_results
        if (result is False) or (result is not True and result < _RETEST_BELOW)
    ]


def promotion_outcome(
    conduct: int,
    learning: int,
    absences: int,
    summer_conduct: int | None = None,
    summer_learning: int | None = None,
) -> str:
    """Điều 12–14: promoted, pending_summer, promoted_after_summer or retained.

    ``summer_conduct`` is the level after summer training and ``summer_learning`` the level after the
    re-assessment, or None while that step is still to come. A summer step that ends at CĐ retains the
    student; one still to come leaves the outcome pending.
    """
    if absences > MAX_ABSENCES:
        return RETAINED
    if conduct >= D and learning >= D:
        return PROMOTED
    pending = False
    for year_level, summer_level in ((conduct, summer_conduct), (learning, summer_learning)):
        if year_level == CD:
            if summer_level is None:
                pending = True
            elif summer_level == CD:
                return RETAINED
    return PENDING_SUMMER if pending else PROMOTED_AFTER_SUMMER


def award(conduct: int, learning: int, year_scores: Sequence[int]) -> str | None:
    """Điều 15: "xuat_sac" (conduct T, learning T, ≥ 6 score subjects with ĐTBmcn ≥ 9,0), "gioi" (conduct T,
    learning T) or None — on the year results before any summer re-assessment."""
    if conduct != T or learning != T:
        return None
    if sum(1 for score in year_scores if score >= _XUAT_SAC_SCORE) >= _XUAT_SAC_SUBJECTS:
        return XUAT_SAC
    return GIOI
