"""Python's cyclic garbage collector paused while a batch of short-lived objects is made."""

from __future__ import annotations

import gc
from collections.abc import Iterator
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
