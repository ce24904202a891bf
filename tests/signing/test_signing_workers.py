"""``validate._in_workers``: signatures shared out among forked processes come back complete and in order —
also when a worker dies, answers nothing usable or answers short (its share is redone by the parent), and an
error in the parent's own share stops the workers instead of leaving them behind."""

from __future__ import annotations

import os

import pytest

from hocba.signing import validate

PARENT = os.getpid()


def _share(count, failing=None):
    """A stand-in for a share's validation: (index, "report i by pid") for each index of the share; in a forked
    worker, ``failing`` decides how it misbehaves."""

    def validate_share(worker, of):
        out = [(i, f"report {i}") for i in range(worker, count, of)]
        if os.getpid() != PARENT and failing == "dies":
            os._exit(3)
        if os.getpid() != PARENT and failing == "short":
            return out[:-1]
        return out

    return validate_share


@pytest.mark.parametrize("failing", [None, "dies", "short"])
@pytest.mark.parametrize("workers", [2, 3])
def test_every_report_comes_back_in_order(failing, workers):
    count = 7
    reports = validate._in_workers(workers, _share(count, failing), lambda: count)
    assert reports == [f"report {i}" for i in range(count)]


def test_an_error_in_the_parents_share_stops_the_workers(tmp_path):
    pids = tmp_path / "pids"

    def validate_share(worker, of):
        import time

        if os.getpid() == PARENT:
            for _ in range(200):  # until both workers are running
                if pids.exists() and len(pids.read_text().split()) == 2:
                    break
                time.sleep(0.05)
            raise ValueError("unreadable")
        with open(pids, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(5)  # a worker still busy when the parent gives up
        (tmp_path / "finished").touch()
        return []

    with pytest.raises(ValueError):
        validate._in_workers(3, validate_share, lambda: 0)
    workers = [int(line) for line in pids.read_text().split()]
    assert len(workers) == 2 and not (tmp_path / "finished").exists(), "stopped, not waited for"
    for pid in workers:
        with pytest.raises(ProcessLookupError):  # killed and reaped, not left running (or a zombie)
            os.kill(pid, 0)
