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


def _frozen(obj: object) -> bool:
    """Whether obj is out of the collector's sight (in the permanent generation).

    Asked of one object, not of gc.get_freeze_count(): frozen objects that something else
    frees (another thread, a finaliser) lower that count at any moment.
    """
    return not any(tracked is obj for tracked in gc.get_objects())


def test_survivors_are_frozen_per_batch_garbage_is_collected_and_all_is_handed_back() -> None:
    assert gc.get_freeze_count() == 0
    kept = []
    with survivors_frozen() as settle:
        assert gc.get_freeze_count() > 0  # what was alive at the start
        with collector_paused():
            garbage = _cycle()
            kept.append(Node())
        assert garbage() is not None  # not collected while paused
        assert not _frozen(kept[0])
        settle()
        assert garbage() is None  # the batch's cyclic garbage is gone
        assert _frozen(kept[0])  # its survivors are out of the collector's sight
    assert gc.get_freeze_count() == 0
    assert not _frozen(kept[0])  # handed back


def test_survivors_frozen_leaves_objects_frozen_by_someone_else_alone() -> None:
    theirs = Node()
    gc.freeze()
    try:
        assert _frozen(theirs)
        with survivors_frozen() as settle:
            ours = Node()
            settle()
            assert not _frozen(ours)  # a forked worker's loop freezes nothing of its own
        assert _frozen(theirs)  # and hands back nothing it did not freeze
    finally:
        gc.unfreeze()
    assert not _frozen(theirs)


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
