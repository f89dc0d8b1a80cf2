"""Python's cyclic garbage collector paused while a batch of short-lived objects is made."""

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


@contextmanager
def survivors_frozen() -> Iterator[Callable[[], None]]:
    """A `settle()` to call after each batch of a long loop whose batches leave many objects
    alive until the loop ends (a plan's actions, the publications read before it).

    What is alive when the loop starts (modules, the publications) is taken out of the
    collector's sight (gc.freeze) at once; each `settle()` collects what the batch left as
    cyclic garbage and takes the survivors out too. So the collections that follow do not walk
    them again and again (a sixth of a no-change sync's time was spent so). When the loop ends
    all are handed back to the collector. Does nothing where the collector is off, or where
    something else has frozen objects already (a forked worker).
    """
    if not gc.isenabled() or gc.get_freeze_count():
        yield lambda: None
        return

    def settle() -> None:
        gc.collect(1)  # the young generations: where a batch's objects are
        gc.freeze()

    gc.freeze()
    try:
        yield settle
    finally:
        gc.unfreeze()
