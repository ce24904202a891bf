"""Learning result (kết quả học tập) per semester and year: Điều 9.2 and the Điều 9.3 adjustment.

Levels are ranks so that "at least Đ" is ``level >= D``: CĐ = 0, Đ = 1, K = 2, T = 3. Scores are tenths
(see ``numbers``): 6,5 is 65.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

#: Chưa đạt, Đạt, Khá, Tốt — as ranks.
CD, D, K, T = 0, 1, 2, 3
#: The level names of TT22, indexed by rank.
LEVEL_NAMES: tuple[str, ...] = ("CĐ", "Đ", "K", "T")
#: Rank of each level name.
LEVEL_RANKS: dict[str, int] = {name: rank for rank, name in enumerate(LEVEL_NAMES)}

#: The two results of a comment subject (Điều 9.1a): Đạt, Chưa đạt.
COMMENT_PASS, COMMENT_FAIL = "Đ", "CĐ"

# Điều 9.2 thresholds, in tenths, and the number of score subjects that must reach them.
_T_ALL, _T_SOME = 65, 80
_K_ALL, _K_SOME = 50, 65
_D_NONE_BELOW, _D_SOME = 35, 50
_SOME = 6


def learning_level(scores: Sequence[int], comment_failures: int) -> int:
    """Điều 9.2: the level from the score-subject averages (tenths) and the number of comment subjects at CĐ.

    T: comments all Đ; scores all ≥ 6,5 and at least 6 ≥ 8,0.  K: comments all Đ; scores all ≥ 5,0 and at
    least 6 ≥ 6,5.  Đ: at most one comment CĐ; at least 6 scores ≥ 5,0 and none < 3,5.  Otherwise CĐ.
    """
    ranked = sorted(scores)
    if len(ranked) >= _SOME:
        lowest = ranked[0]
        sixth_best = ranked[-_SOME]  # "at least 6 subjects ≥ x" is "the 6th best ≥ x"
    else:
        lowest = ranked[0] if ranked else 100
        sixth_best = -1
    if comment_failures == 0:
        if lowest >= _T_ALL and sixth_best >= _T_SOME:
            return T
        if lowest >= _K_ALL and sixth_best >= _K_SOME:
            return K
    if comment_failures <= 1 and sixth_best >= _D_SOME and lowest >= _D_NONE_BELOW:
        return D
    return CD


def adjust_learning_level(
    level: int,
    scores: Sequence[int],
    score_codes: Sequence[str],
    comments_passed: Sequence[bool],
    comment_codes: Sequence[str],
) -> tuple[int, str | None]:
    """Điều 9.3: raise a level two or more below T or K only because of one subject; return it and the subject.

    For each subject s, L₋ₛ is the level with s left out. If exactly one subject gives L₋ₛ ∈ {T, K} with
    rank(L₋ₛ) − rank(L) ≥ 2, the result is one level above L and names that subject; otherwise it is L.
    """
    if level >= K:  # L₋ₛ can be at most T = K + 1: never two levels above
        return level, None
    # L₋ₛ must be T when L is Đ, at least K when L is CĐ; either way every subject but s must then be a
    # comment at Đ or a score at or above the "all ≥" bar of that level (6,5 for T, 5,0 for K). So the
    # only possible s is the single subject below that bar or at CĐ — when there are two or more such
    # subjects, none qualifies — and it qualifies when the level without it is high enough.
    bar = _T_ALL if level == D else _K_ALL
    comment_failures = comments_passed.count(False)
    if bisect_left(sorted(scores), bar) + comment_failures != 1:
        return level, None
    if comment_failures:
        without = learning_level(scores, 0)
        culprit = comment_codes[comments_passed.index(False)]
    else:
        index = next(index for index, score in enumerate(scores) if score < bar)
        without = learning_level([*scores[:index], *scores[index + 1:]], 0)
        culprit = score_codes[index]
    if without >= K and without - level >= 2:
        return level + 1, culprit
    return level, None
