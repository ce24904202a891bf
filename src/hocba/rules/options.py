"""The rule set: every rule that tt22.md marks **[default]** is a named option here.

The rule book marks a rule [default] where the text of Thông tư 22/2021/TT-BGDĐT could not be confirmed.
The engine applies the rule as written in the rule book unless a ``RuleSet`` says otherwise, so a school
or a later reading of the circular can change one rule without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Options of the TT22 engine; the defaults are the rule book's [default] rules."""

    nghe_thuat_as_one_subject: bool = True
    """Chương trình GDPT 2018 / tt22.md §1 [default]: Nghệ thuật is one subject (code ``NT``, 70 periods).

    When False the default subject plan has Âm nhạc (``AN``) and Mĩ thuật (``MT``), 35 periods each, as
    two comment subjects instead, so each counts on its own in Điều 9.2. The engine warns when a student's
    subjects lack a compulsory subject of that plan.
    """

    year_average_from_rounded_semesters: bool = True
    """Điều 9.1b [default]: ĐTBmcn = (ĐTBmhkI + 2·ĐTBmhkII) / 3 uses the *rounded* semester averages.

    When False the year average is computed from the exact, unrounded semester averages and rounded once.
    """

    missed_assessment_counts_as_zero: bool = True
    """Điều 7 [default]: a periodic assessment (giữa kì / cuối kì) missed without a make-up counts as 0
    (score subject) or CĐ (comment subject), with a warning.

    A missed assessment is written ``null`` in the input. When False such a ``null`` is an input error:
    the make-up (kiểm tra bù) must be entered before the semester can be evaluated.
    """

    electives_count_in_learning_level: bool = True
    """Điều 9.2 [default]: elective score subjects the student takes (see ``elective_codes``) count in the
    learning level like any other score subject — and therefore also in Điều 9.3, Điều 14 and Điều 15.

    When False they are still averaged and reported but left out of the learning level, the adjustment,
    the summer re-assessment and the award count.
    """

    adjustment_enabled: bool = True
    """Điều 9.3 [default: on]: a learning level two or more levels below T or K only because of a single
    subject is raised by one level, and the result names that subject. When False no level is adjusted.
    """

    retest_only_after_training_passes: bool = True
    """Điều 13/14 [default]: when both year conduct and year learning are CĐ, summer training comes first
    and the subject re-assessment follows only if the re-assessed conduct is at least Đ.

    When False both summer steps are evaluated independently (the re-assessment is read even when the
    training failed); the student is still promoted only when both pass.
    """

    elective_codes: frozenset[str] = frozenset({"TDT", "NN2"})
    """tt22.md §1: the subject codes that are electives (Tiếng dân tộc thiểu số, Ngoại ngữ 2). Not a
    [default] rule — the list ``electives_count_in_learning_level`` applies to."""

    def __post_init__(self) -> None:
        # Any collection of codes is accepted; stored frozen so that a RuleSet stays hashable.
        object.__setattr__(self, "elective_codes", frozenset(self.elective_codes))


#: The rule set of the rule book, with every [default] rule as written there.
DEFAULT_RULES = RuleSet()
