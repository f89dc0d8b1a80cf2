"""Map, validate and convert a source's harvested records, reusing results that still stand.

    for item in prepare(store, "duo", stages):   # -> plan.Prepared
        ...

Each record passes mapper -> validate -> target. The result is kept in the state store with the
record's content hash and a fingerprint of everything that decides it (the mapping tables, the
shapes, the source's mapping options and context, and this code's version). A record whose hash
and fingerprint are unchanged is not mapped or validated again: its stored result is used.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from . import __version__
from .context import SourceContext
from .mapper import MappedDataset, MappingIssue, MappingOptions, map_dataset
from .mappings import Mappings
from .plan import Prepared
from .quality import check_urls, dataset_urls, score_dataset
from .state import Record, Result, StateStore, canonical_json
from .target import TargetDataset, TargetResource, ValueLists, to_target, value_lists_for
from .validate import Validator

log = logging.getLogger(__name__)

BATCH = 500
_CODE_FILES = ("mapper.py", "text.py", "target.py", "validate.py", "quality.py", "pipeline.py")
ProgressFn = Callable[[str, int, int | None], None]


@dataclass
class Stages:
    """What turns a record into a target package: tables, options, shapes, the source's context."""

    mappings: Mappings
    options: MappingOptions
    validator: Validator
    context: SourceContext
    check_urls: bool = False
    counters: dict[str, int] = field(default_factory=lambda: {"mapped": 0, "validated": 0, "reused": 0})
    #: seconds spent per stage: read (records and cached results), map, validate, target (the
    #: data.overheid.nl package and the quality score), store (saving the results)
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("read", "map", "validate", "target", "store"), 0.0))
    _lists: ValueLists | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def value_lists(self) -> ValueLists:
        """data.overheid.nl's value lists beside the mapping tables (looked up once)."""
        if self._lists is None:
            self._lists = value_lists_for(self.mappings)
        return self._lists

    def fingerprint(self) -> str:
        """Changes whenever anything that decides a record's result changes."""
        digest = hashlib.sha256()
        digest.update(__version__.encode())
        for name in _CODE_FILES:
            path = Path(__file__).with_name(name)
            if path.exists():
                digest.update(path.read_bytes())
        digest.update(self.mappings.fingerprint.encode())
        digest.update(self.validator.fingerprint.encode())
        digest.update(value_lists_for(self.mappings).fingerprint.encode())
        digest.update(b"urls-checked" if self.check_urls else b"urls-not-checked")
        digest.update(json.dumps(_options_dict(self.options), sort_keys=True, default=str).encode())
        digest.update(canonical_json(self.context.to_dict()).encode())
        return digest.hexdigest()


def _options_dict(options: MappingOptions) -> Any:
    try:
        return asdict(options)
    except TypeError:
        return repr(options)


def prepare(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    *,
    progress: ProgressFn | None = None,
    records: Iterable[Record] | None = None,
) -> Iterator[Prepared]:
    """Every active record of `source` as a `Prepared` dataset, batch by batch (streaming).

    Memory stays bounded by the batch: records are read, results looked up, mapped, validated
    and converted `BATCH` at a time, and nothing is kept once a batch has been yielded.
    """
    fingerprint = stages.fingerprint()
    done = 0
    total = None if records is not None else store.record_count(source)
    pending = iter(records if records is not None else store.records(source))
    clock = time.perf_counter
    while True:
        started = clock()
        with _collector_paused():
            batch = list(islice(pending, BATCH))
        stages.timings["read"] += clock() - started
        if not batch:
            break
        yield from _batch(store, source, stages, run_id, fingerprint, batch)
        done += len(batch)
        if progress:
            progress("map", done, total)


@contextmanager
def _collector_paused() -> Iterator[None]:
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


def _batch(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    fingerprint: str,
    records: list[Record],
) -> Iterator[Prepared]:
    with _collector_paused():
        out = _work(store, source, stages, run_id, fingerprint, records)
    for record in records:
        yield out[record.source_id]


def _work(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    fingerprint: str,
    records: list[Record],
) -> dict[str, Prepared]:
    clock, timings = time.perf_counter, stages.timings
    started = clock()
    cached = cached_results(store, source, [r.source_id for r in records])
    fresh: list[tuple[Record, MappedDataset]] = []
    out: dict[str, Prepared] = {}
    to_map: list[Record] = []
    for record in records:
        old = cached.get(record.source_id)
        if (old is not None and old.content_hash == record.content_hash and old.fingerprint == fingerprint
                and not stages.check_urls):
            stages.counters["reused"] += 1
            out[record.source_id] = from_result(record, old)
            continue
        to_map.append(record)
    del cached
    timings["read"] += clock() - started
    started = clock()
    for record in to_map:
        mapped = map_dataset(record.raw, stages.context, stages.mappings, stages.options)
        stages.counters["mapped"] += 1
        fresh.append((record, mapped))
    timings["map"] += clock() - started
    if fresh:
        started = clock()
        views = {id(mapped): mapped.triple_view() for _, mapped in fresh}
        reports = stages.validator.validate_datasets((m.source_id, views[id(m)]) for _, m in fresh)
        stages.counters["validated"] += len(fresh)
        timings["validate"] += clock() - started
        started = clock()
        url_status = None
        if stages.check_urls:
            url_status = check_urls(sorted({u for _, m in fresh for u in dataset_urls(views[id(m)], m.uri)}))
        lists = stages.value_lists
        results = []
        for record, mapped in fresh:
            view = views[id(mapped)]
            report = reports.get(mapped.source_id)
            conforms = report is None or report.conforms
            findings = [f.to_dict() for f in report.findings] if report is not None else []
            unmapped = [_issue_dict(issue) for issue in mapped.issues]
            valid = conforms and not mapped.invalid
            # spatial_scheme + spatial_value together make data.overheid.nl answer HTTP 500
            # (ckanext-dataoverheid 2.2.2), so spatial coverage stays in the DCAT graph only.
            target = to_target(mapped, stages.mappings, spatial=False, lists=lists) if valid else None
            if target is not None:
                unmapped += [{"dataset": mapped.name, "field": "target", "value": None, "message": note,
                              "severity": "warning"} for note in target.issues]
            quality = score_dataset(view, mapped.uri, conforms=conforms, mappings=stages.mappings,
                                    url_status=url_status)
            stored = _target_dict(target, record, quality)
            results.append(Result(
                source=source, source_id=record.source_id, content_hash=record.content_hash,
                fingerprint=fingerprint, identifier=mapped.identifier, valid=valid,
                findings=findings + [{**u, "severity": "mapping-" + u["severity"]} for u in unmapped],
                target_package=stored, run_id=run_id,
            ))
            # what from_result(record, result) gives, without the round trip through dicts
            out[record.source_id] = Prepared(
                source_id=record.source_id, source_name=record.name, identifier=mapped.identifier,
                title=stored.get("title") or record.name, valid=valid, findings=findings,
                unmapped=unmapped, target=target, quality=quality,
            )
        timings["target"] += clock() - started
        started = clock()
        store.save_results(results)
        timings["store"] += clock() - started
    return out


def _issue_dict(issue: MappingIssue) -> dict[str, Any]:
    return {"dataset": issue.dataset, "field": issue.field, "value": issue.value,
            "message": issue.message, "severity": issue.severity}


def cached_results(store: StateStore, source: str, source_ids: list[str]) -> dict[str, Result]:
    """The stored results of these records of `source` (one query per batch, not the whole
    table: a catalogue of 100,000 datasets' results does not fit in memory at once)."""
    method = getattr(store, "results_for", None)
    if callable(method):
        return method(source, source_ids)
    out: dict[str, Result] = {}
    for start in range(0, len(source_ids), 500):
        chunk = source_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in store.db.execute(
            f"SELECT * FROM results WHERE source = ? AND source_id IN ({marks})", [source, *chunk]
        ):
            out[row["source_id"]] = Result(
                source=row["source"], source_id=row["source_id"], content_hash=row["content_hash"],
                fingerprint=row["fingerprint"], identifier=row["identifier"], valid=bool(row["valid"]),
                findings=json.loads(row["findings"]),
                target_package=json.loads(row["target_package"]) if row["target_package"] else None,
                run_id=row["run_id"],
            )
    return out


def _target_dict(target: TargetDataset | None, record: Record, quality: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"title": _title(record.raw), "quality": quality}
    if target is not None:
        # asdict(target), without its deep copy (the result is only serialised)
        data["target"] = {
            "identifier": target.identifier, "source_name": target.source_name,
            "fields": target.fields,
            "resources": [{"distribution_uri": r.distribution_uri, "fields": r.fields}
                          for r in target.resources],
            "issues": target.issues,
        }
    return data


def _title(raw: dict[str, Any]) -> str:
    title = raw.get("title") or raw.get("name") or ""
    return title if isinstance(title, str) else str(title)


def from_result(record: Record, result: Result) -> Prepared:
    """A `Prepared` dataset rebuilt from a stored result."""
    stored = result.target_package or {}
    target = None
    if stored.get("target"):
        data = dict(stored["target"])
        data["resources"] = [TargetResource(**r) for r in data.get("resources") or []]
        target = TargetDataset(**data)
    findings = [f for f in result.findings if not str(f.get("severity", "")).startswith("mapping-")]
    unmapped = [
        {**f, "severity": str(f["severity"]).removeprefix("mapping-")}
        for f in result.findings if str(f.get("severity", "")).startswith("mapping-")
    ]
    return Prepared(
        source_id=record.source_id, source_name=record.name, identifier=result.identifier,
        title=stored.get("title") or record.name, valid=result.valid, findings=findings,
        unmapped=unmapped, target=target, quality=stored.get("quality"),
    )


def context_of(store: StateStore, source: str, base_url: str) -> SourceContext:
    """The source context the last harvest stored (empty when none was stored)."""
    data = store.context(source)
    context = SourceContext.from_dict(data) if data else SourceContext(base_url=base_url)
    if not context.base_url:
        context.base_url = base_url
    return context
