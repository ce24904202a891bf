"""Killing the process (SIGKILL, for real) in the middle of a bulk write leaves the data fully before or fully
after, never between, and the audit chain intact.

Each round copies a prepared instance, starts the write in a subprocess (``ops_worker.py``) and kills it:

- inside the transaction for certain: the worker pauses after writing every row and the audit event, just
  before the commit (a test-side hook, ``HOCBA_TEST_PAUSE_IN_TX``; no product code knows about it);
- at random moments once the transaction has begun, and at random moments from the start of the process;
- and once not at all, to see the "after" state and time the write.

The same is done to a batch of signatures (the school's seal over a class's học bạ, which issues them), also
killed between two committed chunks, and resumed afterwards.

Then a fresh process opens the database (SQLite recovers from its WAL; PostgreSQL has rolled the killed
session back) and the state is checked.
"""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from hocba.signing.pades import TIMESTAMP_FIELD

SEED = random.randrange(1_000_000)
SEAL_STUDENTS = 2  # tests/ops/conftest.py builds that many records for the seal batch
SEAL_ENV = {"HOCBA_SIGNING_CHUNK": "1", "HOCBA_RECORDS_VALIDATION": "none"}  # as conftest.SEAL_ENV
STUDENTS = 1500
CLASS_SIZE = 45


def _kill(process) -> None:
    """SIGKILL, for real: no handler, no atexit, no rollback by the process itself."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)


def wait_for(path, process, timeout=180.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the worker ended before {path.name}: {process.communicate()[1][-2000:]}")
        assert time.monotonic() < deadline, f"no {path.name} after {timeout} s"
        time.sleep(0.002)


def run_round(instances, template, tmp_path, label, command, spec, *, kill: str, delay: float = 0.0):
    """One write in a copy of ``template``, killed as ``kill`` says: "pause", "in-tx", "anytime" or "never".
    Returns the copy and the seconds from the transaction's start to the end (for "never")."""
    instance = instances.new(label, template=template)
    markers = tmp_path / label
    markers.mkdir()
    env = {"HOCBA_TEST_MARKERS": str(markers)}
    if kill == "pause":
        env["HOCBA_TEST_PAUSE_IN_TX"] = "120"
    started = time.monotonic()
    process = instance.start_worker(command, spec, **env)
    if kill == "pause":
        wait_for(markers / "in-tx", process)
        _kill(process)
    elif kill == "in-tx":
        wait_for(markers / "tx-start", process)
        time.sleep(delay)
        _kill(process)
    elif kill == "anytime":
        time.sleep(delay)
        _kill(process)
    else:
        wait_for(markers / "tx-start", process)
        began = time.monotonic()
        _out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        return instance, time.monotonic() - began
    return instance, time.monotonic() - started


# --- roster import of a whole school ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def roster_template(instances, tmp_path_factory):
    csv_path = tmp_path_factory.mktemp("roster") / "hoc-sinh.csv"
    template = instances.new("roster")
    template.worker("roster-setup", {"students": STUDENTS, "csv": str(csv_path)})
    return template, {"csv": str(csv_path)}


def assert_roster_all_or_nothing(instance, why: str) -> str:
    state = instance.worker("roster-state")
    assert state["audit"]["ok"], (why, state["audit"])
    if state["students"] == 0:
        assert state == {**state, "enrolments": 0, "imports": 0}, (why, state)
        return "before"
    assert state["students"] == STUDENTS and state["enrolments"] == STUDENTS and state["imports"] == 1, (why, state)
    return "after"


def test_a_roster_import_killed_at_any_moment_is_all_or_nothing(instances, roster_template, tmp_path):
    template, spec = roster_template
    rng = random.Random(SEED)

    done, tx_seconds = run_round(instances, template, tmp_path, "never", "roster-import", spec, kill="never")
    assert assert_roster_all_or_nothing(done, "not killed") == "after"

    paused, _ = run_round(instances, template, tmp_path, "pause", "roster-import", spec, kill="pause")
    assert assert_roster_all_or_nothing(paused, "killed before the commit") == "before"

    for n in range(3):
        delay = rng.uniform(0, tx_seconds)
        instance, _ = run_round(instances, template, tmp_path, f"in-tx-{n}", "roster-import", spec, kill="in-tx",
                                delay=delay)
        assert_roster_all_or_nothing(instance, f"killed {delay:.3f} s into the import, seed {SEED}")
    for n in range(2):
        delay = rng.uniform(0.5, 4.0)
        instance, _ = run_round(instances, template, tmp_path, f"any-{n}", "roster-import", spec, kill="anytime",
                                delay=delay)
        assert_roster_all_or_nothing(instance, f"killed {delay:.3f} s after start, seed {SEED}")


# --- a grade-book column uploaded from Excel -------------------------------------------------------------

@pytest.fixture(scope="module")
def column_template(instances):
    template = instances.new("column")
    template.worker("column-setup", {"students": CLASS_SIZE})
    return template


def assert_column_all_or_nothing(instance, why: str, cells: int) -> str:
    state = instance.worker("column-state")
    assert state["audit"]["ok"], (why, state["audit"])
    if state["changes"] == 0:
        assert state["filled"] == 0 and state["events"] == 0, (why, state)
        return "before"
    assert state["changes"] == cells and state["filled"] == cells and state["events"] == 1, (why, state)
    assert state["rows"] == CLASS_SIZE and state["versions"] == [2], (why, state)
    return "after"


def test_a_grade_book_upload_killed_at_any_moment_is_all_or_nothing(instances, column_template, tmp_path):
    rng = random.Random(SEED + 1)
    done, tx_seconds = run_round(instances, column_template, tmp_path, "never", "column-upload", {}, kill="never")
    cells = done.worker("column-state")["changes"]
    assert cells >= CLASS_SIZE * 6  # ĐĐGtx ×4, gk, ck and the comment of every student
    assert assert_column_all_or_nothing(done, "not killed", cells) == "after"

    paused, _ = run_round(instances, column_template, tmp_path, "pause", "column-upload", {}, kill="pause")
    assert assert_column_all_or_nothing(paused, "killed before the commit", cells) == "before"

    for n in range(3):
        delay = rng.uniform(0, tx_seconds)
        instance, _ = run_round(instances, column_template, tmp_path, f"in-tx-{n}", "column-upload", {},
                                kill="in-tx", delay=delay)
        assert_column_all_or_nothing(instance, f"killed {delay:.3f} s into the save, seed {SEED + 1}", cells)
    delay = rng.uniform(0.5, 3.0)
    instance, _ = run_round(instances, column_template, tmp_path, "any", "column-upload", {}, kill="anytime",
                            delay=delay)
    assert_column_all_or_nothing(instance, f"killed {delay:.3f} s after start, seed {SEED + 1}", cells)


# --- a batch of signatures: the school's seal, which issues the học bạ ------------------------------------

def record_side(r: dict) -> str:
    """"before" (signed up to the principal, seal pending, nothing issued) or "after" (sealed and issued,
    with its registry entry); anything else fails. The files the record names exist with its hashes."""
    assert r["files_ok"], r
    if r["status"] == "signing":
        assert r["seal_step"] == "pending" and r["unsigned_steps"] == ["condau"] and not r["issued_at"], r
        # the seal's field, and the document timestamp's, which the seal fills after it
        assert r["pdf_unsigned"] == ["condau", TIMESTAMP_FIELD] and r["xml_missing"] == ["sig-condau"], r
        assert r["issued_entries"] == [] and "done" not in r["seal_items"], r
        return "before"
    assert r["status"] == "issued" and r["issued_at"] and r["seal_step"] == "signed", r
    assert r["unsigned_steps"] == [] and r["pdf_unsigned"] == [] and r["xml_missing"] == [], r
    assert TIMESTAMP_FIELD in r["pdf_fields"], r  # filled (pdf_unsigned is empty): the PAdES-LTA document timestamp
    assert r["issued_entries"] == [r["xml_sha256"]] and r["seal_items"] == ["done"], r
    return "after"


def assert_records_whole(instance, why: str) -> tuple[list[str], dict]:
    state = instance.worker("records-state")
    assert state["audit"]["ok"], (why, state["audit"])
    sides = [record_side(r) for r in state["records"]]
    # every issued record is named by a committed records.issue event, and nothing else is
    assert state["issued_ids"] == state["issued_in_events"], (why, state)
    assert len(sides) == SEAL_STUDENTS, (why, state)
    return sides, state


def test_a_signing_batch_killed_at_any_moment_leaves_no_half_signed_document(records_copy, sealed_records,
                                                                               tmp_path):
    """A seal batch (the batch that issues) killed with SIGKILL inside or between its chunks (one record
    each) leaves every record whole: either signed up to the principal and not issued, or sealed, issued and
    in the registry — its files on disk are the ones the database names, the audit chain verifies — and the
    principal's "Chạy tiếp" finishes the batch."""
    rng = random.Random(SEED + 2)

    def seal_round(label, kill, *, delay=0.0, **env):
        instance = records_copy(label)
        markers = tmp_path / label
        markers.mkdir()
        process = instance.start_worker("records-seal", {}, HOCBA_TEST_MARKERS=str(markers), **SEAL_ENV, **env)
        wait_for(markers / kill, process)
        time.sleep(delay)
        _kill(process)
        return instance

    done, tx_seconds = sealed_records  # the same batch, not killed
    sides, state = assert_records_whole(done, "not killed")
    assert sides == ["after"] * SEAL_STUDENTS
    assert state["checkpoint_after_last_issue"] and state["orphans"] == 0  # the seal also sealed the audit chain

    # Inside the first chunk's transaction: its record switched to the sealed files and marked issued, the
    # registry and audit rows written, the commit not yet made.
    paused = seal_round("seal-in-tx", "in-tx", HOCBA_TEST_PAUSE_IN_TX="120")
    sides, state = assert_records_whole(paused, "killed before the first commit")
    assert sides == ["before"] * SEAL_STUDENTS and state["orphans"] > 0  # signed outputs, never committed
    resumed = paused.worker("records-resume")
    assert resumed["state"] == "finished" and resumed["orphans_removed_before"] > 0, resumed
    sides, state = assert_records_whole(paused, "resumed")
    assert sides == ["after"] * SEAL_STUDENTS and state["orphans"] == 0

    # Between chunks: the first record committed, the second not begun.
    between = seal_round("seal-between", "chunk-committed", HOCBA_TEST_PAUSE_AFTER_CHUNK="120")
    assert assert_records_whole(between, "killed after the first chunk")[0] == ["after", "before"]

    delay = rng.uniform(0, tx_seconds)
    instance = seal_round("seal-any", "tx-start", delay=delay)
    assert_records_whole(instance, f"killed {delay:.3f} s into the batch, seed {SEED + 2}")
