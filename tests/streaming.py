"""Test helpers: records made one at a time, and the peak memory of preparing them."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from typing import Any

from benchmarks import catalogue
from harvester.pipeline import Stages, prepare
from harvester.store.encoding import content_hash
from harvester.store.rows import Record
from harvester.store.state import StateStore


def make_record(source: str, package: dict[str, Any]) -> Record:
    """A harvested record of `package` (as seen in run 1)."""
    return Record(source=source, source_id=package["id"], name=package["name"],
                  metadata_modified=package.get("metadata_modified"),
                  content_hash=content_hash(package), raw=package, first_seen_run=1,
                  last_seen_run=1, last_changed_run=1, gone_at=None, gone_run=None)


def stream_records(n: int, offset: int = 0) -> Iterator[Record]:
    """Records of generated packages, made one at a time (nothing of the catalogue is held)."""
    for index in range(offset, offset + n):
        yield make_record("stream", catalogue.package(index, seed=11))


def peak_while_preparing(store: StateStore, stages: Stages, n: int, offset: int) -> int:
    """The peak traced memory (bytes) of preparing `n` streamed records."""
    tracemalloc.start()
    try:
        count = 0
        for _ in prepare(store, "stream", stages, 1, records=stream_records(n, offset)):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    return peak
