"""``hocba rules evaluate [--input F] [--output F]`` — the command-line contract of tt22.md §6."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rules_builders import student, subject_result

from hocba.rules import evaluate, evaluate_many
from hocba.rules.cli import main

SRC = Path(__file__).resolve().parents[2] / "src"
EXAMPLES = Path(__file__).resolve().parent / "examples"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hocba.rules.cli", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
                          check=False)


def bad_students() -> list[dict]:
    """One good student between bad ones, each bad in one field."""
    good = student(id="tot")
    unknown_kind = student(id="loai-la")
    unknown_kind["subjects"][1]["kind"] = "grade"
    outside = student(id="diem-11")
    outside["subjects"][2]["hk1"]["tx"][3] = 11
    two_decimals = student(id="hai-so-le")
    two_decimals["subjects"][2]["hk1"]["tx"][3] = "8,25"
    bad_level = student(id="muc-la")
    bad_level["conduct"]["hk2"] = "Tốt"
    bad_comment = student(id="nhan-xet-la")
    bad_comment["subjects"][8]["hk2"]["gk"] = "D"
    no_semester = student(id="thieu-hk2")
    del no_semester["subjects"][5]["hk2"]
    no_absences = student(id="thieu-buoi-nghi")
    del no_absences["absences"]
    boolean_score = student(id="diem-true")
    boolean_score["subjects"][0]["hk2"]["ck"] = True
    not_a_list = student(id="tx-chuoi")
    not_a_list["subjects"][3]["hk1"]["tx"] = "8 9"
    twice = student(id="mon-lap")
    twice["subjects"][7]["code"] = "TO"
    return [unknown_kind, outside, good, two_decimals, bad_level, bad_comment, no_semester, no_absences,
            boolean_score, not_a_list, twice]


EXPECTED_FIELDS = {
    "loai-la": "subjects[1].kind (TO)",
    "diem-11": "subjects[2].hk1.tx[3] (NN1)",
    "hai-so-le": "subjects[2].hk1.tx[3] (NN1)",
    "muc-la": "conduct.hk2",
    "nhan-xet-la": "subjects[8].hk2.gk (GDTC)",
    "thieu-hk2": "subjects[5].hk2 (KHTN)",
    "thieu-buoi-nghi": "absences",
    "diem-true": "subjects[0].hk2.ck (NV)",
    "tx-chuoi": "subjects[3].hk1.tx (GDCD)",
    "mon-lap": "subjects[7].code (TO)",
}


def test_each_bad_student_gets_an_error_naming_the_field_and_the_others_are_evaluated():
    results = evaluate_many(bad_students())
    assert [result["id"] for result in results] == [case["id"] for case in bad_students()]
    for result in results:
        if result["id"] == "tot":
            assert result["outcome"] == "promoted"
            continue
        assert set(result) == {"id", "error"}, result
        assert result["error"].startswith(EXPECTED_FIELDS[result["id"]] + ": "), result["error"]


@pytest.mark.parametrize(("case", "words"), [
    ("loai-la", "'grade'"), ("diem-11", "0–10"), ("hai-so-le", "một chữ số thập phân"), ("muc-la", "'Tốt'"),
    ("nhan-xet-la", "Đ hoặc CĐ"), ("thieu-hk2", "học kì II"), ("thieu-buoi-nghi", "thiếu"),
])
def test_error_messages_say_in_vietnamese_what_is_wrong(case, words):
    [data] = [item for item in bad_students() if item["id"] == case]
    assert words in evaluate(data)["error"]


def test_malformed_input_gives_per_student_errors_and_exit_status_1(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps(bad_students(), ensure_ascii=False), encoding="utf-8")
    completed = run_cli("evaluate", "--input", str(source))
    assert completed.returncode == 1, completed.stderr
    printed = json.loads(completed.stdout)
    assert len(printed) == len(bad_students())
    assert [("error" in row) for row in printed] == [row["id"] != "tot" for row in printed]
    assert printed[2]["learning"] == {"hk1": "T", "hk2": "T", "year": "T"}


def test_good_input_from_standard_input_to_standard_output_exits_0():
    completed = run_cli("evaluate", stdin=(EXAMPLES / "input.json").read_text(encoding="utf-8"))
    assert completed.returncode == 0, completed.stderr
    printed = json.loads(completed.stdout)
    assert [row["outcome"] for row in printed] == [
        "promoted", "promoted", "promoted", "promoted_after_summer", "retained", "pending_summer", "promoted",
        "retained"]
    assert '"TO"' in completed.stdout and '"hk1": 7.9' in completed.stdout
    assert "\\u" not in completed.stdout  # Vietnamese letters are written as they are


def test_output_file_is_written_in_utf8(tmp_path):
    target = tmp_path / "out.json"
    completed = run_cli("evaluate", "--input", str(EXAMPLES / "input.json"), "--output", str(target))
    assert completed.returncode == 0 and completed.stdout == ""
    text = target.read_bytes().decode("utf-8")
    assert '"learning": {' in text and '"CĐ"' in text
    assert json.loads(text)[0]["adjusted"]["hk1"] == "GDTC"


def test_scores_written_with_a_comma_or_a_dot_read_the_same(tmp_path):
    data = student()
    data["subjects"][1]["hk1"] = {"tx": ["8,5", "8.5", 8.5, "9"], "gk": "7,5", "ck": 8}
    completed = run_cli("evaluate", stdin=json.dumps([data]))
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)[0]["subjects"][1]["hk1"] == 8.2  # (34,5 + 15 + 24) / 9 = 8,17


def test_numbers_keep_exactly_one_decimal_in_the_output():
    completed = run_cli("evaluate", stdin=json.dumps([student(scores={"TO": 10, "NV": 9})]))
    assert '"hk1": 10.0' in completed.stdout and '"year": 9.0' in completed.stdout
    assert '"hk1": 8.0' in completed.stdout


def test_input_that_is_not_json_exits_2_with_a_message():
    completed = run_cli("evaluate", stdin="[{")
    assert completed.returncode == 2
    assert "JSON" in completed.stderr and completed.stdout == ""


def test_input_that_is_not_a_list_exits_2():
    completed = run_cli("evaluate", stdin=json.dumps(student()))
    assert completed.returncode == 2
    assert "danh sách" in completed.stderr


def test_a_list_item_that_is_not_an_object_is_a_per_student_error():
    completed = run_cli("evaluate", stdin=json.dumps([student(), 42]))
    assert completed.returncode == 1
    good, bad = json.loads(completed.stdout)
    assert good["outcome"] == "promoted"
    assert bad["id"] is None and "đối tượng JSON" in bad["error"]


def test_unknown_command_and_missing_file_exit_2(tmp_path):
    assert run_cli("judge").returncode == 2
    assert run_cli().returncode == 2
    missing = run_cli("evaluate", "--input", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 2 and "nowhere.json" in missing.stderr


def test_main_in_process_reads_a_file_and_writes_a_file(tmp_path):
    source = tmp_path / "in.json"
    target = tmp_path / "out.json"
    source.write_text(json.dumps([student(scores={"KHTN": 4.0})]), encoding="utf-8")
    assert main(["evaluate", "--input", str(source), "--output", str(target)]) == 0
    [result] = json.loads(target.read_text(encoding="utf-8"))
    assert result["adjusted"] == {"hk1": "KHTN", "hk2": "KHTN", "year": "KHTN"}
    assert subject_result(result, "KHTN") == {"code": "KHTN", "hk1": 4.0, "hk2": 4.0, "year": 4.0}


def test_main_in_process_returns_1_for_bad_students(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(bad_students()).encode())))
    assert main(["evaluate"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert sum("error" in row for row in printed) == len(bad_students()) - 1


def test_hocba_console_command_dispatches_rules_to_the_engine(tmp_path):
    try:
        from hocba.cli import main as hocba_main
    except ImportError:  # pragma: no cover - the console command belongs to the application
        pytest.skip("hocba.cli is not there")
    target = tmp_path / "out.json"
    status = hocba_main(["rules", "evaluate", "--input", str(EXAMPLES / "input.json"), "--output", str(target)])
    assert status == 0
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 8
