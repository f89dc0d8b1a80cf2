"""Python's cyclic garbage collector paused while a batch of short-lived objects is made.

Used by harvester/plan.py only, until that module no longer pauses it; then this module goes.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a batch is worked on.

    A batch allocates millions of small objects (terms, dicts, tuples) that are all acyclic;
    each allocation burst made the collector walk every live object again, which took a third
    of the mapping time. Reference counting frees them as usual; the collector runs again
    (normally) as soon as the batch is done, before anything is yielded.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: how many of a loop's first batches `survivors_frozen` examines for cyclic garbage
PROBED_BATCHES = 2


@contextmanager
def survivors_frozen() -> Iterator[Callable[[], None]]:
    """A `settle()` to call after each batch of a long loop whose batches leave many objects
    alive until the loop ends (a plan's actions, the publications read before it).

    What is alive when the loop starts (modules, the publications) is taken out of the
    collector's sight (gc.freeze) at once; each `settle()` takes the batch's survivors out too.
    So the collections that follow do not walk them again and again (a sixth of a no-change
    sync's time was spent so). The first PROBED_BATCHES batches are also searched for cyclic
    garbage (gc.collect) before their survivors are frozen; when none of them left any, the
    batches after them are frozen without that search (a plan's batches are alike: a search
    took 2-13 ms a batch and found nothing in every batch of a sync of 10,000 datasets, changed
    or not), else every batch is searched. When the loop ends all is handed back to the
    collector, which then collects whatever cycles the unsearched batches left. Does nothing
    where the collector is off, or where something else has frozen objects already (a forked
    worker).
    """
    if not gc.isenabled() or gc.get_freeze_count():
        yield lambda: None
        return
    probes = [0, 0]  # batches searched, cyclic objects found

    def settle() -> None:
        if probes[0] < PROBED_BATCHES or probes[1]:
            probes[0] += 1
            probes[1] += gc.collect(1)  # the young generations: where a batch's objects are
        gc.freeze()

    gc.freeze()
    try:
        yield settle
    finally:
        gc.unfreeze()
