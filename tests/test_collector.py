"""The garbage-collector helpers of long loops (harvester/collector.py)."""

from __future__ import annotations

import gc
import weakref

from harvester.collector import collector_paused, survivors_frozen


class Node:
    """An object that can take part in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_survivors_are_frozen_per_batch_garbage_is_collected_and_all_is_handed_back() -> None:
    assert gc.get_freeze_count() == 0
    kept = []
    with survivors_frozen() as settle:
        assert gc.get_freeze_count() > 0  # what was alive at the start
        with collector_paused():
            garbage = _cycle()
            kept.append(Node())
        assert garbage() is not None  # not collected while paused
        before = gc.get_freeze_count()
        settle()
        assert garbage() is None  # the batch's cyclic garbage is gone
        assert gc.get_freeze_count() > before  # its survivors are out of the collector's sight
        assert not any(obj is kept[0] for obj in gc.get_objects())
    assert gc.get_freeze_count() == 0
    assert any(obj is kept[0] for obj in gc.get_objects())  # handed back


def test_survivors_frozen_leaves_objects_frozen_by_someone_else_alone() -> None:
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        with survivors_frozen() as settle:
            settle()
            assert gc.get_freeze_count() == count
        assert gc.get_freeze_count() == count
    finally:
        gc.unfreeze()


def test_survivors_frozen_does_nothing_with_the_collector_off() -> None:
    with collector_paused(), survivors_frozen() as settle:
        settle()
        assert gc.get_freeze_count() == 0


def test_batches_after_clean_probes_are_frozen_unsearched_and_collected_at_the_end() -> None:
    """When the first batches left no cyclic garbage, the later ones are frozen without a
    search; their cycles are collected once the loop hands everything back. A loop whose first
    batches do leave cycles has every batch searched."""
    from harvester.collector import PROBED_BATCHES

    with survivors_frozen() as settle:
        for _ in range(PROBED_BATCHES):
            with collector_paused():
                Node()
            settle()
        with collector_paused():
            late = _cycle()
        settle()
        assert late() is not None  # not searched: frozen as it was
    gc.collect()
    assert late() is None  # handed back, and collected

    with survivors_frozen() as settle:
        with collector_paused():
            first = _cycle()
        settle()
        assert first() is None
        for _ in range(PROBED_BATCHES + 2):
            with collector_paused():
                later = _cycle()
            settle()
            assert later() is None  # the first batch left cycles: every batch is searched
