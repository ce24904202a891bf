"""The public examples of ../shared/examples/rules: every input gives its expected output, field by field.

A copy of the examples lives in tests/rules/examples so that a checkout without shared/ still runs them;
when shared/ is there, both copies are checked (and must agree).
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from hocba.rules import evaluate_many
from hocba.rules.cli import dumps

HERE = Path(__file__).resolve().parent
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "rules"
LOCAL = HERE / "examples"
LOCATIONS = [pytest.param(LOCAL, id="tests-copy")]
if SHARED.is_dir():
    LOCATIONS.append(pytest.param(SHARED, id="shared"))
SRC = Path(__file__).resolve().parents[2] / "src"


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def _cases(folder: Path):
    inputs = _load(folder / "input.json")
    expected = _load(folder / "expected.json")
    assert [case["id"] for case in inputs] == [case["id"] for case in expected]
    return inputs, expected


def assert_matches(actual: dict, expected: dict) -> None:
    """Every expected field, compared one by one; ``warnings`` may hold more entries than expected."""
    where = expected["id"]
    assert set(actual) == set(expected), f"{where}: fields differ"
    for field, value in expected.items():
        if field == "warnings":
            missing = [warning for warning in value if warning not in actual["warnings"]]
            assert not missing, f"{where}: warnings {missing} not reported"
        elif field == "subjects":
            assert [row["code"] for row in actual["subjects"]] == [row["code"] for row in value], where
            for got, want in zip(actual["subjects"], value):
                for key, result in want.items():
                    assert got[key] == result, f"{where}: subjects {want['code']}.{key}"
                assert set(got) == set(want), f"{where}: subject {want['code']} fields"
        elif isinstance(value, dict):
            assert set(actual[field]) == set(value), f"{where}: {field} fields"
            for key, result in value.items():
                assert actual[field][key] == result, f"{where}: {field}.{key}"
        else:
            assert actual[field] == value, f"{where}: {field}"


@pytest.mark.parametrize("folder", LOCATIONS)
def test_every_public_example_gives_its_expected_output(folder):
    inputs, expected = _cases(folder)
    results = evaluate_many(inputs)
    assert len(results) == len(expected)
    for actual, want in zip(results, expected):
        assert_matches(actual, want)


@pytest.mark.parametrize("folder", LOCATIONS)
def test_public_examples_through_the_command_line_print_the_expected_json(folder, tmp_path):
    output = tmp_path / "out.json"
    completed = subprocess.run(
        [sys.executable, "-m", "hocba.rules.cli", "evaluate", "--input", str(folder / "input.json"),
         "--output", str(output)],
        capture_output=True, text=True, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, check=False)
    assert completed.returncode == 0, completed.stderr
    printed = json.loads(output.read_text(encoding="utf-8"), parse_float=Decimal)
    for actual, want in zip(printed, _load(folder / "expected.json")):
        assert_matches(actual, want)
    # Numbers keep their one decimal in the JSON text, and Vietnamese letters stay as they are.
    text = output.read_text(encoding="utf-8")
    assert '"hk1": 8.0' in text and '"CĐ"' in text


def test_the_copy_in_tests_is_the_same_as_the_shared_examples():
    if not SHARED.is_dir():
        pytest.skip("no shared/ beside this checkout")
    for name in ("input.json", "expected.json"):
        assert _load(LOCAL / name) == _load(SHARED / name), name


@pytest.mark.parametrize("name", ["vd1-trung-binh-mon", "vd4-dieu-chinh"])
def test_example_outputs_print_averages_with_one_decimal(name):
    inputs, _ = _cases(LOCAL)
    [result] = evaluate_many([case for case in inputs if case["id"] == name])
    text = dumps([result])
    for row in result["subjects"]:
        if isinstance(row["year"], Decimal):
            assert f'"year": {row["year"]}' in text
