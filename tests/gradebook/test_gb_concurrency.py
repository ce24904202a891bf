"""Many teachers saving at once lose nothing.

Separate processes (gb_concurrency_worker.py), each with its own Django and database connection, write to
one fresh database — a file for SQLite (WAL, as in production), a new database of the test cluster for
PostgreSQL — through ``save_cells``, all starting at the same moment:

- on different cells, some of them in the same row: every write succeeds and every one is in the history
  and in the final row (a save of tx1 never undoes a concurrent save of tx2);
- all on the same cell (the subject comment, so that every value written is unique), each reading the
  stored value and then saving over it: every successful write is in the history and replaced exactly the
  value its writer had seen (no write was overwritten unseen), and every refused write was refused with
  StaleEdit naming a value that had really been saved.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

WORKER = Path(__file__).with_name("gb_concurrency_worker.py")
WRITERS = 8


def run_worker(command: str, url: str, arg: str) -> dict | list:
    done = subprocess.run([sys.executable, str(WORKER), command, url, arg], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('concurrency') / 'hocba.sqlite3'}"
        return
    import psycopg

    db = settings.DATABASES["default"]
    name = f"hocba_conc_{uuid.uuid4().hex[:10]}"
    server = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"],
              "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    yield f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{name}"
    with psycopg.connect(**server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def world(database_url):
    return run_worker("setup", database_url, "6")


def run_writers(url: str, world: dict, tmp_path: Path, specs: list[dict]) -> list[list[dict]]:
    """Start every writer, let them all get ready, then say go; their outcomes in the order of ``specs``."""
    go = tmp_path / "go"
    procs = []
    for i, spec in enumerate(specs):
        spec = {**spec, "teacher_id": world["teacher_id"], "class_id": world["class_id"],
                "subject_id": world["subject_id"], "ready": str(tmp_path / f"ready{i}"), "go": str(go)}
        procs.append(subprocess.Popen([sys.executable, str(WORKER), "write", url, json.dumps(spec)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + 180
    while not all((tmp_path / f"ready{i}").exists() for i in range(len(specs))):
        assert time.monotonic() < deadline, "writers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate()[1] for p in procs if p.poll() is not None]
        time.sleep(0.05)
    go.touch()
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outcomes.append(json.loads(out))
    return outcomes


def test_parallel_writers_on_different_cells_all_succeed_and_nothing_is_lost(database_url, world, tmp_path):
    values = ["5.0", "6.0", "7.0", "8.0", "9.0"]
    writes = 10
    students = world["student_ids"][:WRITERS // 2]
    specs = [{"mode": "own", "student_id": students[w // 2], "slot": ("tx1", "tx2")[w % 2], "values": values,
              "writes": writes, "name": f"w{w}"} for w in range(WRITERS)]
    outcomes = run_writers(database_url, world, tmp_path, specs)
    assert all(o["outcome"] == "ok" for worker in outcomes for o in worker), outcomes
    state = run_worker("dump", database_url, str(world["class_id"]))
    for spec, worker in zip(specs, outcomes, strict=True):
        history = [h for h in state["history"] if h["student"] == spec["student_id"] and h["slot"] == spec["slot"]]
        assert [(h["old"], h["new"]) for h in history] == [(o["old"], o["new"]) for o in worker]
        row = state["rows"][str(spec["student_id"])]
        assert row["tx"][int(spec["slot"][2:]) - 1] == values[(writes - 1) % len(values)]
    for student in students:
        # Two writers per row, every save moved the row's version on exactly once.
        assert state["rows"][str(student)]["version"] == 1 + 2 * writes


def test_parallel_writers_on_the_same_cell_lose_no_update_and_the_refused_see_the_newer_value(
        database_url, world, tmp_path):
    student = world["student_ids"][-1]
    specs = [{"mode": "shared", "student_id": student, "slot": "comment", "writes": 12, "name": f"w{w}"}
             for w in range(WRITERS)]
    outcomes = [o for worker in run_writers(database_url, world, tmp_path, specs) for o in worker]
    assert not [o for o in outcomes if o["outcome"] == "error"], outcomes
    saved = [o for o in outcomes if o["outcome"] == "ok"]
    refused = [o for o in outcomes if o["outcome"] == "stale"]
    state = run_worker("dump", database_url, str(world["class_id"]))
    history = [h for h in state["history"] if h["student"] == student and h["slot"] == "comment"]

    # Every successful write is there, and nothing else.
    assert sorted(h["new"] for h in history) == sorted(o["new"] for o in saved)
    # Each write replaced exactly the value its writer had seen, the one saved just before it: no write
    # was overwritten by someone who had not seen it.
    replaced = {h["new"]: h["old"] for h in history}
    for o in saved:
        assert replaced[o["new"]] == o["old"], o
    previous = ""
    for h in history:
        assert h["old"] == previous
        previous = h["new"]
    assert state["rows"][str(student)]["comment"] == previous
    assert state["rows"][str(student)]["version"] == 1 + len(saved)
    # Every refused write was told a value that had really been saved, newer than the one it had seen.
    written = {h["new"] for h in history}
    for o in refused:
        assert o["current"] in written and o["current"] != o["old"]
    assert saved and refused, (len(saved), len(refused))
