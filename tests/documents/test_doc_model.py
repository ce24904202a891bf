"""The model: what a học bạ năm học must hold, and that the sample agrees with the TT22 engine."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest

from hocba.documents import model as m
from hocba.documents.sample import sample_record


def test_strings_are_nfc_whatever_the_input():
    decomposed = unicodedata.normalize("NFD", "Đặng Thị Ngọc Ánh")
    record = sample_record(homeroom_comment=unicodedata.normalize("NFD", "Em học tốt môn Toán"))
    person = m.Person(decomposed, "079187001102")
    assert person.name == unicodedata.normalize("NFC", decomposed)
    assert unicodedata.is_normalized("NFC", record.homeroom_comment)


def test_subjects_follow_the_order_of_the_ministrys_form_whatever_the_input_order():
    shuffled = tuple(reversed(sample_record().subjects))
    record = sample_record(subjects=shuffled)
    assert [s.code for s in record.subjects] == ["TO", "NV", "NN1", "GDCD", "LSDL", "KHTN", "CN", "TH", "GDTC",
                                                "NT", "GDDP", "HDTN"]


@pytest.mark.parametrize("raw, parsed", [("8,5", Decimal("8.5")), ("10", Decimal("10.0")), (7, Decimal("7.0")),
                                         (6.5, Decimal("6.5")), ("Đ", "Đ"), ("CĐ", "CĐ"), ("M", "M"), ("", None)])
def test_marks_are_read_from_vietnamese_or_plain_numbers(raw, parsed):
    assert m.parse_mark(raw) == parsed


@pytest.mark.parametrize("raw", ["8,55", "10,5", "-1", "A", "8.5.1"])
def test_invalid_marks_are_refused_in_vietnamese(raw):
    with pytest.raises(m.RecordError, match="Điểm không hợp lệ"):
        m.parse_mark(raw)


def test_a_comment_subject_cannot_carry_a_score():
    with pytest.raises(m.RecordError, match="nhận xét"):
        m.SubjectResult("GDTC", "Giáo dục thể chất", "comment", "8,0", "Đ", "Đ",
                        (m.Person("Lâm Văn Dũng", "079086001111"),))


def test_record_id_must_be_a_36_character_uuid():
    with pytest.raises(m.RecordError, match="UUID"):
        sample_record(record_id="HB-2024-0001")


def test_a_later_version_must_name_the_version_it_replaces():
    with pytest.raises(m.RecordError, match="thay thế"):
        sample_record(version=2)
    corrected = sample_record(version=2, replaces="00000000-0000-4000-8000-000000000001")
    assert corrected.event == "UPDATE"
    assert sample_record().event == "NEW"


def test_the_adjusting_subject_must_be_in_the_table():
    with pytest.raises(m.RecordError, match="Điều 9.3"):
        sample_record(adjusted_by=m.AdjustedBy(hk1="TDT"))


def test_grade_9_wording_speaks_of_completing_the_thcs_programme():
    record = sample_record()
    assert record.completed_thcs is True
    assert record.outcome_text.startswith("Hoàn thành chương trình trung học cơ sở sau khi kiểm tra lại")
    retained = sample_record(outcome=m.RETAINED)
    assert retained.completed_thcs is False
    assert retained.outcome_text == "Chưa hoàn thành chương trình trung học cơ sở"
    grade8 = sample_record(grade=8, class_name="8A3")
    assert grade8.completed_thcs is None and grade8.outcome_text == "Được lên lớp sau khi kiểm tra lại môn học " \
        "hoặc rèn luyện thêm trong kì nghỉ hè"


def test_vice_principal_signs_on_behalf_of_the_principal():
    from hocba.documents.sample import PHO_HIEU_TRUONG

    assert PHO_HIEU_TRUONG.heading == ("KT. HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG")


def _engine_input(record):
    periods = {"TO": 140, "NV": 140, "NN1": 105, "GDCD": 35, "LSDL": 105, "KHTN": 140, "CN": 52, "TH": 35,
               "GDTC": 70, "NT": 70, "GDDP": 35, "HDTN": 105}
    tx_count = {140: 4, 105: 4, 52: 3, 35: 2, 70: 3}
    subjects = []
    for s in record.subjects:
        def semester(mark, s=s):
            if s.kind == "score":  # equal assessments give that semester average exactly
                return {"tx": [str(mark)] * tx_count[periods[s.code]], "gk": str(mark), "ck": str(mark)}
            return {"tx": ["Đ", "Đ"], "gk": "Đ", "ck": mark}
        subjects.append({"code": s.code, "kind": s.kind, "periods": periods[s.code],
                         "hk1": semester(s.hk1), "hk2": semester(s.hk2)})
    retest = {s.code: str(s.reassessed) for s in record.subjects if s.reassessed is not None}
    return {"id": "mau", "regulation": "TT22", "grade": record.grade, "subjects": subjects,
            "conduct": {"hk1": record.conduct.hk1, "hk2": record.conduct.hk2}, "absences": record.absences,
            "summer": {"retest": retest}}


def test_the_sample_agrees_with_the_tt22_engine():
    from hocba.rules import evaluate

    record = sample_record()
    out = evaluate(_engine_input(record))
    assert "error" not in out, out
    for s, r in zip(record.subjects, out["subjects"], strict=True):
        assert (str(s.hk1), str(s.hk2), str(s.year)) == (str(r["hk1"]), str(r["hk2"]), str(r["year"])), s.code
    assert out["learning"] == {"hk1": record.learning.hk1, "hk2": record.learning.hk2,
                               "year": record.learning.year, "summer": record.learning.summer}
    assert out["adjusted"]["hk1"] == record.adjusted_by.hk1 == "GDTC"
    assert out["conduct"]["year"] == record.conduct.year
    assert out["retest_subjects"] == [s.code for s in record.subjects if s.reassessed is not None]
    assert out["outcome"] == record.outcome == m.PROMOTED_AFTER_SUMMER


def test_the_document_layer_imports_no_django():
    import subprocess
    import sys

    code = ("import sys, hocba.documents, hocba.documents.render, hocba.documents.bundle; "
            "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
