"""ApplyQueue (harvester.apply): a sync's batches are written in a thread of their own, in the
order they were planned, every action handed over exactly once; a failure of the writing
thread reaches the planning thread; an interrupted run leaves the writes not yet begun undone."""

from __future__ import annotations

import threading

import pytest

from harvester.apply import ApplyQueue
from harvester.plan import Action


class _Applier:
    """An Applier's `run` as ApplyQueue calls it: records the batches it is given."""

    def __init__(self, fail_on: str | None = None, gate: threading.Event | None = None) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()
        self.stopped: str | None = None
        self.fail_on, self.gate = fail_on, gate

    def run(self, writers, progress, actions):
        if self.gate is not None:
            self.gate.wait(5)
        self.threads.add(threading.current_thread().name)
        if self.stopped:
            return {"done": 0, "failed": 0}
        names = [a.identifier for a in actions]
        if self.fail_on in names:
            raise RuntimeError(f"writing {self.fail_on} broke")
        self.batches.append(names)
        for action in actions:
            action.outcome = "done"
        return {"done": len(actions), "failed": 0}


def _batch(*identifiers: str) -> list[Action]:
    return [Action(action="create", identifier=i, source_id=i, package={"name": i}) for i in identifiers]


def test_batches_are_written_in_order_in_a_thread_of_their_own():
    applier = _Applier()
    writes = ApplyQueue(applier, writers=1)  # type: ignore[arg-type]
    batches = [_batch("a", "b"), _batch("c"), _batch("d", "e", "f")]
    for batch in batches:
        writes.put(batch)
    writes.close()
    assert applier.batches == [["a", "b"], ["c"], ["d", "e", "f"]]
    assert applier.threads == {"apply"}
    assert writes.applied == {"done": 6, "failed": 0}
    assert all(a.package is None and a.outcome == "done" for batch in batches for a in batch)


def test_settle_waits_for_every_batch_handed_over():
    gate = threading.Event()
    applier = _Applier(gate=gate)
    writes = ApplyQueue(applier)  # type: ignore[arg-type]
    writes.put(_batch("a"))
    assert applier.batches == []  # the writer waits at the gate
    gate.set()
    writes.settle()
    assert applier.batches == [["a"]]
    writes.close()


def test_a_failure_of_the_writing_thread_is_raised_once_and_stops_the_writing():
    applier = _Applier(fail_on="b")
    writes = ApplyQueue(applier)  # type: ignore[arg-type]
    writes.put(_batch("a"))
    writes.put(_batch("b"))
    with pytest.raises(RuntimeError, match="writing b broke"):
        writes.settle()
    writes.put(_batch("c"))
    writes.close()  # raised once already
    assert applier.batches == [["a"]]


def test_an_interrupted_run_leaves_the_writes_not_begun_undone():
    gate = threading.Event()
    applier = _Applier(gate=gate)
    writes = ApplyQueue(applier)  # type: ignore[arg-type]
    writes.put(_batch("a"))  # the writer has it and waits at the gate
    threading.Timer(0.2, gate.set).start()
    writes.close(raise_failure=False, interrupted=True)
    assert applier.stopped == "interrupted"
    assert applier.batches == []
