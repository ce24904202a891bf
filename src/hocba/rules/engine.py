"""Evaluate one student-year under TT22: read the input of tt22.md §6, apply Điều 5–15, build the output.

The input is the JSON object of the command-line contract (already parsed); the output is the object that
``hocba rules evaluate`` prints, with averages as ``Decimal`` values with one decimal. Well-formed input
takes a fast path (table look-ups, integer tenths); anything unusual falls back to a checking path that
either accepts it or names the bad field in a Vietnamese message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from operator import itemgetter
from typing import ClassVar

from hocba.rules import outcome as end_of_year
from hocba.rules.conduct import YEAR_CONDUCT
from hocba.rules.levels import (
    CD,
    COMMENT_FAIL,
    COMMENT_PASS,
    LEVEL_NAMES,
    LEVEL_RANKS,
    K,
    T,
    adjust_learning_level,
    learning_level,
)
from hocba.rules.numbers import DECIMALS, TENTHS, ScoreError, parse_score, to_tenths
from hocba.rules.options import DEFAULT_RULES, RuleSet
from hocba.rules.subjects import (
    COMMENT,
    GRADES,
    SCORE,
    SubjectSpec,
    default_subject_plan,
    required_regular_assessments,
    subject_year_average_unrounded,
)

REGULATION = "TT22"

_SEMESTER_NAMES = {"hk1": "học kì I", "hk2": "học kì II"}
_COMMENT_VALUES = {COMMENT_PASS: True, COMMENT_FAIL: False}
_ALL_PASS = {"tx": [COMMENT_PASS, COMMENT_PASS], "gk": COMMENT_PASS, "ck": COMMENT_PASS}
_SUBJECT_FIELDS = itemgetter("code", "kind", "periods", "hk1", "hk2")
_SEMESTER_FIELDS = itemgetter("tx", "gk", "ck")
_CODE = itemgetter("code")
_STUDENT_FIELDS = itemgetter("id", "regulation", "grade", "subjects", "conduct", "absences")
_TENTH = TENTHS.get  # None for anything unusual: the sum then fails and the checking path takes over


class InputError(ValueError):
    """Bad input for one student: ``field`` is the JSON path (``subjects[2].hk1.tx[3] (TO)``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def evaluate(student: object, options: RuleSet = DEFAULT_RULES) -> dict:
    """Evaluate one student-year (tt22.md §6); bad input gives ``{"id": …, "error": "…"}`` instead."""
    try:
        return _evaluate(student, _Settings.of(options))
    except InputError as error:
        return _error_result(student, error)


def evaluate_many(students: Iterable[object], options: RuleSet = DEFAULT_RULES) -> list[dict]:
    """Evaluate student-years in order; each bad one gives its own error object, the others are evaluated."""
    settings = _Settings.of(options)
    run = _evaluate
    results = []
    append = results.append
    for student in students:
        try:
            append(run(student, settings))
        except InputError as error:
            append(_error_result(student, error))
    return results


def to_json(results: list[dict] | dict) -> str:
    """Results as the JSON text of tt22.md §6: UTF-8 letters as they are, averages as numbers with one
    decimal (``8.0``) — a one-decimal ``Decimal`` and its float print the same digits."""
    return json.dumps(results, ensure_ascii=False, indent=1, default=_json_number) + "\n"


def _json_number(value: object) -> float:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _error_result(student: object, error: InputError) -> dict:
    return {"id": student.get("id") if isinstance(student, dict) else None, "error": str(error)}


class _Settings:
    """A ``RuleSet`` read once: what evaluating a student needs from it, ready to use."""

    __slots__ = ("adjust", "excluded", "missed_as_zero", "options", "plans", "rounded_year")
    _cache: ClassVar[dict[RuleSet, _Settings]] = {}

    def __init__(self, options: RuleSet):
        self.options = options
        self.missed_as_zero = options.missed_assessment_counts_as_zero
        self.rounded_year = options.year_average_from_rounded_semesters
        self.excluded = () if options.electives_count_in_learning_level else frozenset(options.elective_codes)
        self.adjust = options.adjustment_enabled
        # grade → (compulsory subjects of the default plan by code, codes of its comment subjects)
        self.plans = {grade: _compulsory_plan(grade, bool(options.nghe_thuat_as_one_subject)) for grade in GRADES}

    @classmethod
    def of(cls, options: RuleSet) -> _Settings:
        try:
            return cls._cache[options]
        except KeyError:
            if len(cls._cache) > 64:
                cls._cache.clear()
            settings = cls._cache[options] = cls(options)
            return settings


def _evaluate(student: object, settings: _Settings, tenths=TENTHS, tenth=_TENTH, decimals=DECIMALS,
              subject_fields=_SUBJECT_FIELDS, semester_fields=_SEMESTER_FIELDS) -> dict:
    try:
        student_id, regulation, grade, subjects, conduct_input, absences = _STUDENT_FIELDS(student)
    except (KeyError, TypeError):
        raise _student_error(student) from None
    if student_id.__class__ is not str:
        raise InputError("id", "mã học sinh phải là một chuỗi")
    if regulation != REGULATION:
        raise InputError("regulation", f"chỉ hỗ trợ quy định '{REGULATION}', không phải {regulation!r}")
    if grade.__class__ is not int or grade not in GRADES:
        raise InputError("grade", f"khối lớp phải là một trong 6, 7, 8, 9, không phải {grade!r}")
    if subjects.__class__ is not list or not subjects:
        raise InputError("subjects", "phải là danh sách môn học, không rỗng")
    if absences.__class__ is not int or absences < 0:
        raise InputError("absences", f"số buổi nghỉ phải là số nguyên không âm, không phải {absences!r}")

    warnings: list[str] = []
    missed_as_zero = settings.missed_as_zero
    rounded_year = settings.rounded_year
    excluded = settings.excluded
    plan, plan_comments = settings.plans[grade]

    out_subjects: list[dict] = []
    # What Điều 9.2 looks at: (average hk1, hk2, year in tenths, code) of each score subject and
    # (result hk1, hk2 with True for Đ, code) of each comment subject.
    score_rows: list[tuple[int, int, int, str]] = []
    comment_rows: list[tuple[bool, bool, str]] = []

    add_subject = out_subjects.append
    for subject in subjects:
        try:
            code, kind, periods, first, second = subject_fields(subject)
        except (KeyError, TypeError):
            raise _subject_error(subjects, subject) from None
        if code.__class__ is not str or periods.__class__ is not int or not code or periods <= 0:
            raise _subject_error(subjects, subject)

        if kind == SCORE:
            # Each semester as ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck in tenths and the number of ĐĐGtx; the table
            # look-up reads every usual spelling, anything else goes through the checking path.
            try:
                regular1, mid1, end1 = semester_fields(first)
                regular2, mid2, end2 = semester_fields(second)
                if regular1.__class__ is not list or regular2.__class__ is not list:
                    raise TypeError
                total1 = sum(map(tenth, regular1)) + 2 * tenths[mid1] + 3 * tenths[end1]
                total2 = sum(map(tenth, regular2)) + 2 * tenths[mid2] + 3 * tenths[end2]
                count1 = len(regular1)
                count2 = len(regular2)
            except (KeyError, TypeError):  # not a list, a missing field or an unusual value
                index = _index(subjects, subject)
                total1, count1 = _score_semester_checked(first, index, code, "hk1", missed_as_zero, warnings)
                total2, count2 = _score_semester_checked(second, index, code, "hk2", missed_as_zero, warnings)
            # Điều 9.1b (subjects.subject_semester_average and subject_year_average) in integer tenths:
            # x / d rounded half up is (2x + d) // 2d.
            average1 = (2 * total1 + count1 + 5) // (2 * count1 + 10)
            average2 = (2 * total2 + count2 + 5) // (2 * count2 + 10)
            if rounded_year:
                year = (2 * average1 + 4 * average2 + 3) // 6
            else:
                year = subject_year_average_unrounded(total1, count1 + 5, total2, count2 + 5)
            # Điều 6 (subjects.required_regular_assessments): 2, 3 or 4 ĐĐGtx by periods per year.
            if count1 != count2 or count1 != (2 if periods <= 35 else 3 if periods <= 70 else 4) \
                    or code in plan_comments:
                warnings.extend(_subject_warnings(code, SCORE, periods, count1, count2, plan))
            add_subject({"code": code, "hk1": decimals[average1], "hk2": decimals[average2],
                         "year": decimals[year]})
            if code not in excluded:
                score_rows.append((average1, average2, year, code))
        elif kind == COMMENT:
            # Điều 9.1a (subjects.comment_semester_result): Đ when the 2 ĐĐGtx, the ĐĐGgk and the ĐĐGck
            # are all there and all Đ. The usual semester is exactly that; others are read one by one.
            if first == _ALL_PASS and second == _ALL_PASS:
                passed1 = passed2 = True
            else:
                index = _index(subjects, subject)
                passed1, count1 = _comment_semester(first, index, code, "hk1", missed_as_zero, warnings)
                passed2, count2 = _comment_semester(second, index, code, "hk2", missed_as_zero, warnings)
                if count1 != 2 or count2 != 2:
                    warnings.extend(_subject_warnings(code, COMMENT, periods, count1, count2, {}))
            if code in plan and code not in plan_comments:
                warnings.append(_kind_warning(plan[code], COMMENT))
            # Điều 9.1a (subjects.comment_year_result): the year result is the semester II result.
            result2 = COMMENT_PASS if passed2 else COMMENT_FAIL
            add_subject({"code": code, "hk1": COMMENT_PASS if passed1 else COMMENT_FAIL, "hk2": result2,
                         "year": result2})
            if code not in excluded:
                comment_rows.append((passed1, passed2, code))
        else:
            raise InputError(f"subjects[{_index(subjects, subject)}].kind ({code})",
                             f"loại đánh giá {kind!r} không hợp lệ, phải là 'score' hoặc 'comment'")

    seen = set(map(_CODE, out_subjects))
    if len(seen) != len(out_subjects):
        raise _duplicate_error(out_subjects)

    # Điều 9.2 and 9.3, per semester and for the year (the year comment results are semester II's).
    scores1, scores2, scores_year, score_codes = zip(*score_rows) if score_rows else ((), (), (), ())
    comments1, comments2, comment_codes = zip(*comment_rows) if comment_rows else ((), (), ())
    level1 = learning_level(scores1, comments1.count(False))
    level2 = learning_level(scores2, comments2.count(False))
    level_year = learning_level(scores_year, comments2.count(False))
    culprit1 = culprit2 = culprit_year = None
    if settings.adjust:
        if level1 < K:
            level1, culprit1 = adjust_learning_level(level1, scores1, score_codes, comments1, comment_codes)
        if level2 < K:
            level2, culprit2 = adjust_learning_level(level2, scores2, score_codes, comments2, comment_codes)
        if level_year < K:
            level_year, culprit_year = adjust_learning_level(
                level_year, scores_year, score_codes, comments2, comment_codes)

    # Điều 8.
    try:
        conduct_first = conduct_input["hk1"]
        conduct_second = conduct_input["hk2"]
        conduct_year = YEAR_CONDUCT[(conduct_first, conduct_second)]
    except (KeyError, TypeError):
        raise _conduct_error(conduct_input) from None
    conduct_rank = LEVEL_RANKS[conduct_year]

    if not plan.keys() <= seen:
        warnings.extend(_missing_subject_warnings(plan, seen, grade))

    learning = {"hk1": LEVEL_NAMES[level1], "hk2": LEVEL_NAMES[level2], "year": LEVEL_NAMES[level_year]}
    adjusted = {"hk1": culprit1, "hk2": culprit2, "year": culprit_year}
    conduct = {"hk1": conduct_first, "hk2": conduct_second, "year": conduct_year}
    result = {
        "id": student_id,
        "subjects": out_subjects,
        "learning": learning,
        "adjusted": adjusted,
        "conduct": conduct,
        # Điều 15: on the year results before any summer step (no award without conduct T and learning T).
        "award": end_of_year.award(conduct_rank, level_year, scores_year) if conduct_rank == level_year == T
        else None,
        "retest_subjects": [],
        "outcome": end_of_year.PROMOTED,
        "warnings": warnings,
    }

    if end_of_year.is_promoted(conduct_rank, level_year, absences):
        if student.get("summer"):
            warnings.append("Có dữ liệu hè (summer) nhưng học sinh được lên lớp ngay: dữ liệu hè không được dùng.")
        return result
    if absences > end_of_year.MAX_ABSENCES:
        result["outcome"] = end_of_year.RETAINED  # Điều 12: no summer step after more than 45 absences
        if student.get("summer"):
            warnings.append(f"Có dữ liệu hè (summer) nhưng học sinh nghỉ quá {end_of_year.MAX_ABSENCES} buổi "
                            "nên ở lại lớp: dữ liệu hè không được dùng.")
        return result
    _summer(student, settings.options, result, conduct_rank, level_year, absences, scores_year, score_codes,
            comments2, comment_codes, excluded)
    return result


def _summer(student, options, result, conduct_rank, level_year, absences, scores_year, score_codes,
            comments_year, comment_codes, excluded) -> None:
    """Điều 13 and 14: summer training, then the re-assessment, and the outcome they lead to."""
    warnings = result["warnings"]
    summer = student.get("summer")
    if summer is None:
        summer = {}
    elif not isinstance(summer, dict):
        raise InputError("summer", "phải là một đối tượng JSON")

    summer_conduct = None
    if end_of_year.needs_summer_training(conduct_rank, absences):
        value = summer.get("conduct")
        if value is None:
            warnings.append("Rèn luyện hạnh kiểm trong hè (Điều 13): chưa có mức đánh giá lại (summer.conduct).")
        elif value not in LEVEL_RANKS:
            raise InputError("summer.conduct", f"mức {value!r} không hợp lệ, phải là T, K, Đ hoặc CĐ")
        else:
            summer_conduct = LEVEL_RANKS[value]
            result["conduct"]["summer"] = value

    summer_learning = None
    if end_of_year.needs_summer_retest(level_year, absences):
        year_results = [
            (entry["code"], entry["year"] == COMMENT_PASS if isinstance(entry["year"], str)
             else to_tenths(entry["year"]))
            for entry in result["subjects"] if entry["code"] not in excluded
        ]
        retest = end_of_year.retest_subjects(year_results)
        result["retest_subjects"] = retest
        training_passed = conduct_rank != CD or (summer_conduct is not None and summer_conduct != CD)
        if not retest:  # nothing to re-assess: the year level stands
            summer_learning = CD
            warnings.append("Kết quả học tập cả năm Chưa đạt nhưng không có môn nào thuộc diện kiểm tra lại "
                            "(Điều 14): ở lại lớp.")
        elif training_passed or not options.retest_only_after_training_passes:
            # Điều 13 first [default]: the subjects are re-assessed once the conduct is at least Đ.
            summer_learning = _retest(summer, retest, result, scores_year, score_codes, comments_year,
                                      comment_codes, options)

    result["outcome"] = end_of_year.promotion_outcome(
        conduct_rank, level_year, absences, summer_conduct, summer_learning)


def _retest(summer, retest, result, scores_year, score_codes, comments_year, comment_codes, options):
    """Điều 14: replace each re-assessed year result and compute the year learning level again."""
    warnings = result["warnings"]
    given = summer.get("retest")
    if given is None:
        given = {}
    elif not isinstance(given, dict):
        raise InputError("summer.retest", "phải là một đối tượng JSON {mã môn: kết quả}")
    for code in given:
        if code not in retest:
            warnings.append(f"summer.retest.{code}: môn không thuộc diện kiểm tra lại, kết quả bị bỏ qua.")
    missing = [code for code in retest if code not in given or given[code] is None]
    if missing:
        warnings.append("Kiểm tra lại trong hè (Điều 14): chưa có kết quả môn " + ", ".join(missing) + ".")
        return None
    scores = list(scores_year)
    comments = list(comments_year)
    score_index = {code: i for i, code in enumerate(score_codes)}
    comment_index = {code: i for i, code in enumerate(comment_codes)}
    for code in retest:
        value = given[code]
        if code in score_index:
            try:
                scores[score_index[code]] = parse_score(value)
            except ScoreError as error:
                raise InputError(f"summer.retest.{code}", str(error)) from None
        else:
            if value not in _COMMENT_VALUES:
                raise InputError(f"summer.retest.{code}",
                                 f"{value!r} không hợp lệ, môn đánh giá bằng nhận xét chỉ nhận Đ hoặc CĐ")
            comments[comment_index[code]] = _COMMENT_VALUES[value]
    level = learning_level(scores, comments.count(False))
    culprit = None
    if options.adjustment_enabled:
        level, culprit = adjust_learning_level(level, scores, score_codes, comments, comment_codes)
    result["learning"]["summer"] = LEVEL_NAMES[level]
    if culprit is not None:
        result["adjusted"]["summer"] = culprit
    return level


# --- reading one semester -------------------------------------------------------------------------------


def _score_semester_checked(semester, index, code, hk, missed_as_zero, warnings) -> tuple[int, int]:
    """A score subject's semester, checked field by field: (ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck in tenths, ĐĐGtx count)."""
    where = f"subjects[{index}].{hk}"
    regular = _semester_regular(semester, where, code, hk)
    values = []
    for position, value in enumerate(regular):
        try:
            values.append(parse_score(value))
        except ScoreError as error:
            raise InputError(f"{where}.tx[{position}] ({code})", str(error)) from None
    periodic = []
    for field, weight, label in (("gk", 2, "giữa kì (ĐĐGgk)"), ("ck", 3, "cuối kì (ĐĐGck)")):
        value = _periodic(semester, where, field, code)
        if value is None:
            if not missed_as_zero:
                raise InputError(f"{where}.{field} ({code})",
                                 f"thiếu điểm {label}: cần nhập điểm kiểm tra bù (Điều 7)")
            warnings.append(f"{code}, {_SEMESTER_NAMES[hk]}: không có điểm {label} và không kiểm tra bù, "
                            "tính 0 điểm (Điều 7).")
            periodic.append(0)
            continue
        try:
            periodic.append(weight * parse_score(value))
        except ScoreError as error:
            raise InputError(f"{where}.{field} ({code})", str(error)) from None
    return sum(values) + sum(periodic), len(values)


def _comment_semester(semester, index, code, hk, missed_as_zero, warnings) -> tuple[bool, int]:
    """A comment subject's semester (Điều 9.1a, subjects.comment_semester_result): (True for Đ, ĐĐGtx count)."""
    try:
        regular = semester["tx"]
        mid = semester["gk"]
        end = semester["ck"]
        if regular.__class__ is list and mid in _COMMENT_VALUES and end in _COMMENT_VALUES:
            count = len(regular)
            passes = regular.count(COMMENT_PASS)
            if passes == count or passes + regular.count(COMMENT_FAIL) == count:
                return count >= 2 and passes == count and mid == COMMENT_PASS and end == COMMENT_PASS, count
    except (KeyError, TypeError):
        pass
    return _comment_semester_checked(semester, index, code, hk, missed_as_zero, warnings)


def _comment_semester_checked(semester, index, code, hk, missed_as_zero, warnings) -> tuple[bool, int]:
    """A comment subject's semester, checked field by field: (result, True for Đ; number of ĐĐGtx)."""
    where = f"subjects[{index}].{hk}"
    regular = _semester_regular(semester, where, code, hk)
    passed = []
    for position, value in enumerate(regular):
        if value not in _COMMENT_VALUES:
            raise InputError(f"{where}.tx[{position}] ({code})", _comment_value_message(value))
        passed.append(_COMMENT_VALUES[value])
    periodic = []
    for field, label in (("gk", "giữa kì (ĐĐGgk)"), ("ck", "cuối kì (ĐĐGck)")):
        value = _periodic(semester, where, field, code)
        if value is None:
            if not missed_as_zero:
                raise InputError(f"{where}.{field} ({code})",
                                 f"thiếu đánh giá {label}: cần nhập kết quả kiểm tra bù (Điều 7)")
            warnings.append(f"{code}, {_SEMESTER_NAMES[hk]}: không có đánh giá {label} và không kiểm tra bù, "
                            "tính Chưa đạt (Điều 7).")
            periodic.append(False)
        elif value not in _COMMENT_VALUES:
            raise InputError(f"{where}.{field} ({code})", _comment_value_message(value))
        else:
            periodic.append(_COMMENT_VALUES[value])
    required = required_regular_assessments(COMMENT, 0)
    return len(passed) >= required and all(passed) and all(periodic), len(passed)


def _semester_regular(semester, where, code, hk) -> list:
    if semester is None:
        raise InputError(f"{where} ({code})", f"thiếu kết quả {_SEMESTER_NAMES[hk]}")
    if not isinstance(semester, dict):
        raise InputError(f"{where} ({code})", f"kết quả {_SEMESTER_NAMES[hk]} phải là một đối tượng JSON")
    if "tx" not in semester:
        raise InputError(f"{where}.tx ({code})", "thiếu danh sách đánh giá thường xuyên (ĐĐGtx)")
    regular = semester["tx"]
    if not isinstance(regular, list):
        raise InputError(f"{where}.tx ({code})", "đánh giá thường xuyên (ĐĐGtx) phải là một danh sách")
    return regular


def _periodic(semester, where, field, code):
    if field not in semester:
        raise InputError(f"{where}.{field} ({code})", "thiếu trường bắt buộc")
    return semester[field]


def _comment_value_message(value) -> str:
    if isinstance(value, str):
        return f"'{value}' không hợp lệ, môn đánh giá bằng nhận xét chỉ nhận Đ hoặc CĐ"
    return f"{value!r} không hợp lệ, môn đánh giá bằng nhận xét chỉ nhận Đ hoặc CĐ"


# --- errors and warnings ----------------------------------------------------------------------------------


def _student_error(student) -> InputError:
    if not isinstance(student, dict):
        return InputError("(học sinh)", "mỗi học sinh phải là một đối tượng JSON")
    missing = [field for field in ("id", "regulation", "grade", "subjects", "conduct", "absences")
               if field not in student]
    return InputError(", ".join(missing), "thiếu trường bắt buộc")


def _index(subjects: list, subject) -> int:
    return next(index for index, item in enumerate(subjects) if item is subject)


def _duplicate_error(out_subjects: list[dict]) -> InputError:
    seen = set()
    for index, row in enumerate(out_subjects):
        if row["code"] in seen:
            return InputError(f"subjects[{index}].code ({row['code']})",
                              "mã môn bị lặp: mỗi môn chỉ được có một lần")
        seen.add(row["code"])
    raise AssertionError("no duplicate")  # pragma: no cover


def _subject_error(subjects: list, subject) -> InputError:
    index = _index(subjects, subject)
    where = f"subjects[{index}]"
    if not isinstance(subject, dict):
        return InputError(where, "mỗi môn học phải là một đối tượng JSON")
    code = subject.get("code")
    if "code" not in subject:
        return InputError(f"{where}.code", "thiếu trường bắt buộc")
    if not isinstance(code, str) or not code:
        return InputError(f"{where}.code", f"mã môn phải là một chuỗi không rỗng, không phải {code!r}")
    for field in ("kind", "periods"):
        if field not in subject:
            return InputError(f"{where}.{field} ({code})", "thiếu trường bắt buộc")
    for hk, name in _SEMESTER_NAMES.items():
        if hk not in subject:
            return InputError(f"{where}.{hk} ({code})", f"thiếu kết quả {name}")
    periods = subject["periods"]
    return InputError(f"{where}.periods ({code})", f"số tiết/năm phải là số nguyên dương, không phải {periods!r}")


def _conduct_error(conduct) -> InputError:
    if not isinstance(conduct, dict):
        return InputError("conduct", "phải là một đối tượng JSON {\"hk1\": …, \"hk2\": …}")
    for hk, name in _SEMESTER_NAMES.items():
        if hk not in conduct:
            return InputError(f"conduct.{hk}", f"thiếu mức rèn luyện {name}")
        value = conduct[hk]
        if not isinstance(value, str) or value not in LEVEL_RANKS:
            return InputError(f"conduct.{hk}", f"mức {value!r} không hợp lệ, phải là T, K, Đ hoặc CĐ")
    raise AssertionError("conduct was valid")  # pragma: no cover


def _count_warning(code: str, hk: str, count: int, required: int, kind: str, periods: int) -> str:
    where = f"{code}, {_SEMESTER_NAMES[hk]}"
    rule = "môn đánh giá bằng nhận xét" if kind == COMMENT else f"môn {periods} tiết/năm"
    if count < required:
        consequence = ("nên kết quả học kì là Chưa đạt" if kind == COMMENT
                       else f"điểm trung bình tính với {count} điểm đã có")
        return (f"{where}: chưa đủ đánh giá thường xuyên — có {count} ĐĐGtx, quy định {required} ({rule}); "
                f"{consequence}.")
    return (f"{where}: có {count} ĐĐGtx, nhiều hơn số quy định {required} ({rule}); "
            f"kết quả tính với {count} đánh giá đã có.")


def _subject_warnings(code, kind, periods, count1, count2, plan) -> list[str]:
    """tt22.md §2: a semester whose ĐĐGtx count differs from the required count is reported; so is a
    subject of the default plan given with the other kind of assessment."""
    required = required_regular_assessments(kind, periods)
    warnings = [_count_warning(code, hk, count, required, kind, periods)
                for hk, count in (("hk1", count1), ("hk2", count2)) if count != required]
    if code in plan and plan[code].kind != kind:
        warnings.append(_kind_warning(plan[code], kind))
    return warnings


def _kind_warning(spec: SubjectSpec, kind: str) -> str:
    how = "bằng nhận xét" if spec.kind == COMMENT else "bằng nhận xét kết hợp điểm số"
    return (f"{spec.code} ({spec.name}) được đánh giá {how} theo kế hoạch mặc định (Điều 5), "
            f"nhưng dữ liệu ghi kind = '{kind}'.")


def _missing_subject_warnings(plan: dict[str, SubjectSpec], seen: set[str], grade: int) -> list[str]:
    return [f"Thiếu môn bắt buộc {spec.code} ({spec.name}) của lớp {grade} theo kế hoạch mặc định."
            for code, spec in plan.items() if code not in seen]


def _compulsory_plan(grade: int, nghe_thuat_as_one_subject: bool) -> tuple[dict[str, SubjectSpec], frozenset[str]]:
    """The compulsory subjects of the default plan of a grade, by code, and the codes of its comment subjects."""
    options = RuleSet(nghe_thuat_as_one_subject=nghe_thuat_as_one_subject)
    plan = {spec.code: spec for spec in default_subject_plan(grade, options) if spec.compulsory}
    return plan, frozenset(code for code, spec in plan.items() if spec.kind == COMMENT)


__all__ = ["REGULATION", "InputError", "evaluate", "evaluate_many", "to_json"]
