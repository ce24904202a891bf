"""Acceptance (issue 7): a backup taken during concurrent score entry restores to a consistent state.

The demo school is loaded into an instance; two writer processes save grade-book cells in a loop through
``hocba.gradebook.actions.save_cells`` (as the entry grid does); ``hocba backup`` runs while they write; the
writers go on after it, then stop. The archive is restored into a new, empty instance, where:

- ``hocba audit verify`` passes;
- every ``CellChange`` belongs to an existing row, and each cell holds the new value of its last change;
- each row's version is one more than the number of saves that touched it (a save moves the version on
  once and stamps its changes with one time);
- the audit trail and the data agree: the ``gradebook.save_cells`` events list exactly the cell changes
  the database holds — no committed save is in one without the other;
- the restored state lies strictly between the start and the end of the writing (the backup really was
  taken in the middle of it), and the writers were never blocked into an error by the backup.
"""

from __future__ import annotations

import json
import time

WRITERS = 2
BEFORE, AFTER = 15, 15  # saves per writer before the backup starts and after it ends


def progress(path) -> int:
    try:
        return int(path.read_text() or 0)
    except FileNotFoundError:
        return 0


def wait_progress(files, at_least: list[int], writers, timeout=300.0) -> None:
    deadline = time.monotonic() + timeout
    while any(progress(f) < n for f, n in zip(files, at_least, strict=True)):
        for w in writers:
            assert w.poll() is None, w.communicate()[1][-3000:]
        assert time.monotonic() < deadline, [progress(f) for f in files]
        time.sleep(0.05)


def test_a_backup_taken_during_score_entry_restores_to_a_consistent_state(instances, tmp_path):
    source = instances.new("busy-school")
    for args in (("migrate", "-v0"), ("demo",)):
        done = source.hocba(*args)
        assert done.returncode == 0, done.stderr
    (source.documents / "79770001").mkdir(parents=True)
    (source.documents / "79770001" / "hoc-ba-mau.pdf").write_bytes(b"%PDF-1.7 demo")

    stop = tmp_path / "stop"
    files = [tmp_path / f"progress-{i}" for i in range(WRITERS)]
    writers = [source.start_worker("write-loop", {"stop": str(stop), "progress": str(files[i]), "index": i,
                                                  "writers": WRITERS, "seed": 1000 + i})
               for i in range(WRITERS)]
    try:
        wait_progress(files, [BEFORE] * WRITERS, writers)
        archive = tmp_path / "giua-gio-nhap-diem.tar"
        backup = source.hocba("backup", str(archive))
        assert backup.returncode == 0, backup.stderr
        after_backup = [progress(f) for f in files]
        wait_progress(files, [n + AFTER for n in after_backup], writers)
    finally:
        stop.touch()
    outcomes = []
    for w in writers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err[-3000:]
        outcomes.append(json.loads(out))
    assert all(o["errors"] == 0 for o in outcomes), outcomes  # the backup never made a save fail

    target = instances.new("restored-school")
    restored = target.hocba("restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    verify = target.hocba("audit", "verify")
    assert verify.returncode == 0, verify.stderr

    state = target.worker("consistency")
    assert state["orphans"] == [] and state["wrong_cells"] == [] and state["wrong_versions"] == [], state
    assert state["audit_matches_data"], state
    final = source.worker("consistency")
    assert final["wrong_cells"] == [] and final["wrong_versions"] == [] and final["audit_matches_data"], final
    # The snapshot lies strictly inside the writing: some saves before it, some after.
    assert WRITERS * BEFORE <= state["changes"] < final["changes"], (state, final)
    assert (target.documents / "79770001" / "hoc-ba-mau.pdf").read_bytes() == b"%PDF-1.7 demo"
