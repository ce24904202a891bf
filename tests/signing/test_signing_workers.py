"""``validate._in_workers``: signatures shared out among forked processes come back complete and in order —
also when a worker dies, answers nothing usable or answers short (its share is redone by the parent), and an
error in the parent's own share stops the workers instead of leaving them behind. ``validate.plan_shares``:
every signature in exactly one share, the costliest shares no larger than they need be."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hocba.signing import validate

PARENT = os.getpid()


def _costs(count):
    return [float((i * 7) % 5 + 1) for i in range(count)]  # unequal: the plan is not round robin


def _share(count, failing=None):
    """A stand-in for a share's validation: (index, "report i") for each index of the share; in a forked
    worker, ``failing`` decides how it misbehaves."""

    def validate_share(worker, of):
        out = [(i, f"report {i}") for i in validate.plan_shares(_costs(count), of)[worker]]
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
    reports = validate._in_workers(workers, _share(count, failing),
                                   lambda: validate.plan_shares(_costs(count), workers))
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
        validate._in_workers(3, validate_share, lambda: [[], [], []])
    workers = [int(line) for line in pids.read_text().split()]
    assert len(workers) == 2 and not (tmp_path / "finished").exists(), "stopped, not waited for"
    for pid in workers:
        with pytest.raises(ProcessLookupError):  # killed and reaped, not left running (or a zombie)
            os.kill(pid, 0)


@given(st.lists(st.floats(min_value=0.5, max_value=400.0), max_size=30), st.integers(min_value=1, max_value=5))
def test_a_plan_gives_each_signature_to_one_process_and_keeps_the_largest_share_small(costs, of):
    plan = validate.plan_shares(costs, of)
    assert len(plan) == of
    assert sorted(itertools.chain.from_iterable(plan)) == list(range(len(costs)))
    assert all(share == sorted(share) for share in plan)
    assert plan == validate.plan_shares(list(costs), of), "every process must compute the same plan"
    largest = max(sum(costs[i] for i in share) for share in plan)
    # no share exceeds the average by more than one signature (Graham's bound for greedy plans)
    assert largest <= sum(costs) / of + max(costs, default=0.0) * (1 - 1 / of) + 1e-6


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=8), st.integers(min_value=2, max_value=3))
def test_a_plan_is_within_four_thirds_of_the_best_one(costs, of):
    plan = validate.plan_shares([float(c) for c in costs], of)
    largest = max(sum(costs[i] for i in share) for share in plan)
    best = min((max(sum(c for c, w in zip(costs, owners) if w == k) for k in range(of))
                for owners in itertools.product(range(of), repeat=len(costs))), default=0)
    assert 3 * largest <= 4 * best


def test_equal_costs_are_shared_round_robin():
    assert validate.plan_shares([1.0] * 7, 3) == [[0, 3, 6], [1, 4], [2, 5]]


def test_pdf_signatures_are_shared_by_how_many_revisions_follow_them():
    """The 18-signature record: signature ``i`` is followed by ``19 - i`` revisions. Round robin gave the first
    process the signatures with the longest tails (0, 2, 4, …: 273 against 240 by the cost model); the plan
    makes the two shares nearly equal."""
    costs = [validate._pdf_cost(19 - i) for i in range(19)]
    loads = [sum(costs[i] for i in share) for share in validate.plan_shares(costs, 2)]
    round_robin = [sum(costs[i] for i in range(w, 19, 2)) for w in range(2)]
    assert max(loads) < max(round_robin)
    assert max(loads) / min(loads) < 1.05
