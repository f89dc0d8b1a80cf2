"""Map, validate and convert a source's harvested records, reusing results that still stand.

    for item in prepare(store, "duo", stages):   # -> Prepared
        ...

Each record passes mapper -> validate -> target. The result is kept in the state store with the
record's content hash and a fingerprint of everything that decides it (the mapping tables, the
shapes, the source's mapping options and context, and this code's version). A record whose hash
and fingerprint are unchanged is not mapped or validated again: its stored result is used.

`Stages(workers=N)` runs mapper, validate and target (and the quality score) in N worker
processes (harvester/workers.py); this process keeps reading the records and the cached
results, writing the results to the state store and yielding them, in record order. The
results are the same, byte for byte, as with `workers=1` (the default: all in this process).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from harvester.version import __version__
from harvester.collector import collector_paused
from harvester.dcat.mapper import MappingIssue, MappingOptions, map_dataset
from harvester.dcat.tables import Mappings
from harvester.donl.compare import package_key
from harvester.donl.convert import TargetDataset, TargetResource, to_target
from harvester.donl.valuelists import ValueLists, value_lists_fingerprint, value_lists_for
from harvester.lazy import Deferred, deferred_fields, is_deferred, peek
from harvester.report.quality import check_urls, dataset_urls, score_dataset
from harvester.shacl.validator import Finding, Validator
from harvester.source.context import SourceContext
from harvester.store.state import Record, Result, StateStore, canonical_json, pack_json, stored_json

log = logging.getLogger(__name__)

#: records per batch: each batch's shared work (the validator's merged graph, findings and
#: scores datasets share, encoded once) is spread over more datasets as it grows, its memory
#: and the wait before the first results grow with it (measured: 500 beats 250, 750 and 1000)
BATCH = 500
#: with worker processes: how many batches are handed out beyond one per worker (so that no
#: worker waits while this process stores and yields a batch); memory holds at most
#: `workers + AHEAD` batches
AHEAD = 1
#: with worker processes, the last records of a run whose size is known are handed out in
#: batches this many times smaller: the workers then finish at about the same moment, and the
#: batch left to store and plan once they are done is small (each was ~2 % of a run's time)
TAIL_SPLIT = 4
# (workers.py is left out: where the records are worked on does not change their results)
_CODE_FILES = ("mapper.py", "text.py", "target.py", "validate.py", "quality.py", "pipeline.py")
ProgressFn = Callable[[str, int, int | None], None]
#: what a worker gets per record: source id, name, content hash, the raw package dict (or its
#: JSON text)
Item = tuple[str, str, str, "dict[str, Any] | str"]
#: what comes back per record (plain data only, no rdflib terms): source id, identifier, valid,
#: title, the JSON the state store keeps (the findings with the unmapped values, and the target
#: package + title + quality: the Prepared dataset reads them from it when needed), the
#: number of SHACL violations and of mapping errors, and the target package's key
#: (target.package_key; None without a package)
Outcome = tuple[str, str | None, bool, str, bytes, bytes, int, int, str | None]



@deferred_fields("title", "findings", "unmapped", "target", "quality")
@dataclass
class Prepared:
    """One source dataset after mapping, validation and conversion to a target package.

    Rebuilt from a stored result, its title, findings, target package and quality are read from
    the stored JSON only when used (a dataset planned `unchanged` needs none of them)."""

    source_id: str
    source_name: str
    identifier: str | None
    title: str
    valid: bool
    findings: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    target: TargetDataset | None = None
    quality: dict[str, Any] | None = None
    result_key: str | None = None
    #: how many of `findings` are SHACL violations and of `unmapped` errors, when known
    #: (a stored result says without its findings being read); None: count them
    violations: int | None = None
    mapping_errors: int | None = None


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
    #: data.overheid.nl package and the quality score), store (encoding and saving the results);
    #: with worker processes, map/validate/target and the encoding are summed over the workers
    #: (their work overlaps in time) and `wait` is the time this process waited for them
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("read", "map", "validate", "target", "store", "wait"), 0.0))
    #: processes that map, validate and convert: 1 (default) in this process; N > 1 a pool of N
    #: worker processes (forked; where fork is unavailable, in this process); 0 or "auto" one
    #: per core
    workers: int | str = 1
    _lists: ValueLists | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def value_lists(self) -> ValueLists:
        """data.overheid.nl's value lists beside the mapping tables (looked up once)."""
        if self._lists is None:
            self._lists = value_lists_for(self.mappings)
        return self._lists

    def load(self) -> None:
        """Read now what mapping, validating and converting read on first use (the shapes, the
        value lists): the worker pool does so before it forks, so that its workers share them."""
        self.validator.load()
        self.value_lists  # noqa: B018 - a property: read to load the lists

    def worker_count(self) -> int:
        """The number of worker processes `workers` asks for (1: none, all in this process)."""
        return resolve_workers(self.workers)

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
        digest.update(value_lists_fingerprint(self.mappings).encode())
        digest.update(b"urls-checked" if self.check_urls else b"urls-not-checked")
        digest.update(json.dumps(_options_dict(self.options), sort_keys=True, default=str).encode())
        context = self.context.to_dict()
        if getattr(self.options, "portal_url", None):  # then the mapper does not use the source's URL
            context.pop("base_url", None)
        digest.update(canonical_json(context).encode())
        return digest.hexdigest()


def resolve_workers(value: int | str | None) -> int:
    """`workers` as a number of processes: 0, "auto" (or "0") -> os.cpu_count(); N >= 1 -> N."""
    if value is None:
        return 1
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("auto", "0"):
            return max(1, os.cpu_count() or 1)
        if not text.isdigit():
            raise ValueError(f"workers: expected a whole number or 'auto', got {value!r}")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"workers: expected a whole number >= 0 or 'auto', got {value!r}")
    return max(1, os.cpu_count() or 1) if value == 0 else value


def _options_dict(options: MappingOptions) -> Any:
    try:
        return asdict(options)
    except TypeError:
        return repr(options)


def result_key(fingerprint: str, content_hash: str) -> str:
    """What identifies a record's result when its package's key (target.package_key) is not known
    (a result stored before results kept their key, or one without a package): its content and
    everything that decided the result (the same key means the same target package)."""
    return hashlib.sha256(f"{fingerprint}:{content_hash}".encode()).hexdigest()


#: what `prepare(..., announce=True)` yields first, once the first batches are under way
_STARTED: Any = object()


def prepare_started(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    *,
    progress: ProgressFn | None = None,
) -> Iterator[Prepared]:
    """`prepare`, begun: with worker processes, they are started and have the first batches when
    this returns, so that they map while the caller reads what its plan needs (publications, the
    target's inventory). Stop it with `.close()` when it is not iterated to its end."""
    begun = prepare(store, source, stages, run_id, progress=progress, announce=True)
    if next(begun) is not _STARTED:  # pragma: no cover - prepare announces before anything else
        raise RuntimeError("prepare did not announce its start")
    return begun


def prepare(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    *,
    progress: ProgressFn | None = None,
    records: Iterable[Record] | None = None,
    announce: bool = False,
) -> Iterator[Prepared]:
    """Every active record of `source` as a `Prepared` dataset, batch by batch (streaming).

    Memory stays bounded by the batch: records are read, results looked up, mapped, validated
    and converted `BATCH` at a time, and nothing is kept once a batch has been yielded. With
    worker processes, at most `workers + AHEAD` batches are under way at once. With `announce`,
    the first item is a marker, yielded once the first batches are under way (prepare_started).
    """
    fingerprint = stages.fingerprint()
    total = None if records is not None else store.record_count(source)
    pending = iter(records if records is not None else store.records(source))
    workers = stages.worker_count()
    with store.checkpoints_in_background():
        if workers > 1:
            from harvester.workers import WorkerPool, fork_available

            if fork_available():
                with WorkerPool(stages, workers) as pool:
                    yield from _prepare_in_pool(pool, store, source, stages, run_id, fingerprint, pending,
                                                progress, total, announce)
                return
            log.info("worker processes need the fork start method, which this system lacks; "
                     "mapping and validating in this process")
        if announce:
            yield _STARTED
        done = 0
        clock = time.perf_counter
        while True:
            started = clock()
            with collector_paused():
                batch = list(islice(pending, BATCH))
            stages.timings["read"] += clock() - started
            if not batch:
                break
            yield from _batch(store, source, stages, run_id, fingerprint, batch)
            done += len(batch)
            if progress:
                progress("map+validate", done, total)


def _batch(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    fingerprint: str,
    records: list[Record],
) -> Iterator[Prepared]:
    with collector_paused():
        out, to_map = _reuse(store, source, stages, fingerprint, records)
        if to_map:
            outcomes = compute(stages, _items(store, source, to_map), stages.timings)
            stages.counters["mapped"] += len(to_map)
            stages.counters["validated"] += len(to_map)
            _keep(store, source, stages, run_id, fingerprint, to_map, outcomes, out)
    for record in records:
        yield out[record.source_id]


def _prepare_in_pool(
    pool: Any,
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    fingerprint: str,
    pending: Iterator[Record],
    progress: ProgressFn | None,
    total: int | None,
    announce: bool = False,
) -> Iterator[Prepared]:
    """`prepare` with the records mapped, validated and converted by the worker pool: batches
    are read and handed out ahead (at most `workers + AHEAD` under way), their results stored
    and yielded in record order as they come back. Of a run of known size (`total`), the last
    records go out in smaller batches (TAIL_SPLIT)."""
    clock, timings = time.perf_counter, stages.timings
    window = pool.workers + AHEAD
    under_way: deque[tuple[list[Record], dict[str, Prepared], list[Record], Any]] = deque()
    done = 0
    offset = 0
    exhausted = False
    while True:
        while not exhausted and len(under_way) < window:
            started = clock()
            size = BATCH
            if total is not None and total - offset <= 2 * pool.workers * BATCH:
                size = max(1, BATCH // TAIL_SPLIT)
            with collector_paused():
                batch = list(islice(pending, size))
                if batch:
                    out, to_map = _reuse(store, source, stages, fingerprint, batch)
            if not batch:
                timings["read"] += clock() - started
                exhausted = True
                break
            job = None
            if to_map:
                job = pool.submit(_items(store, source, to_map), _describe(offset, batch))
            timings["read"] += clock() - started
            offset += len(batch)
            under_way.append((batch, out, to_map, job))
        if announce:
            announce = False
            yield _STARTED
        if not under_way:
            break
        batch, out, to_map, job = under_way.popleft()
        if job is not None:
            started = clock()
            outcomes, spent = pool.result(job)
            timings["wait"] += clock() - started
            for stage, seconds in spent.items():
                timings[stage] += seconds
            stages.counters["mapped"] += len(to_map)
            stages.counters["validated"] += len(to_map)
            with collector_paused():
                _keep(store, source, stages, run_id, fingerprint, to_map, outcomes, out)
        del job, to_map
        for record in batch:
            yield out[record.source_id]
        done += len(batch)
        del batch, out
        if progress:
            progress("map+validate", done, total)


def _items(store: StateStore, source: str, records: list[Record]) -> list[Item]:
    """What compute() gets for these records; raw package dicts not read yet are read here in
    one query and handed over as JSON text (parsed where they are mapped)."""
    unread = [r.source_id for r in records if is_deferred(r, "raw")]
    texts = store.raws(source, unread) if unread else {}
    return [(r.source_id, r.name, r.content_hash, texts.get(r.source_id) or r.raw) for r in records]


def _describe(offset: int, batch: list[Record]) -> str:
    """A batch, for error messages: its position among the records and its first and last id."""
    return (f"batch of records {offset + 1}-{offset + len(batch)} "
            f"(source ids {batch[0].source_id} .. {batch[-1].source_id})")


def _reuse(
    store: StateStore,
    source: str,
    stages: Stages,
    fingerprint: str,
    records: list[Record],
) -> tuple[dict[str, Prepared], list[Record]]:
    """The `Prepared` of the records whose stored result still stands, and the other records."""
    started = time.perf_counter()
    cached = store.results_for(source, [r.source_id for r in records])
    out: dict[str, Prepared] = {}
    to_map: list[Record] = []
    check = stages.check_urls
    for record in records:
        old = cached.get(record.source_id)
        if (old is not None and old.content_hash == record.content_hash and old.fingerprint == fingerprint
                and not check):
            stages.counters["reused"] += 1
            out[record.source_id] = from_result(record, old)
            continue
        to_map.append(record)
    stages.timings["read"] += time.perf_counter() - started
    return out, to_map


def compute(stages: Stages, items: list[Item], timings: dict[str, float]) -> list[Outcome]:
    """Map, validate and convert `items` (one batch); one `Outcome` per item, in order.

    Runs in this process or in a worker process (harvester/workers.py); adds the seconds it
    spends to `timings` (map, validate, target, store: the results' JSON, written and packed).
    """
    clock = time.perf_counter
    started = clock()
    context, mappings, options = stages.context, stages.mappings, stages.options
    items = [(i, n, h, json.loads(raw)) if isinstance(raw, str) else (i, n, h, raw)
             for i, n, h, raw in items]
    mapped = [map_dataset(raw, context, mappings, options) for _, _, _, raw in items]
    timings["map"] += clock() - started
    started = clock()
    views = [m.triple_view() for m in mapped]
    reports = stages.validator.validate_datasets(
        (m.source_id, view) for m, view in zip(mapped, views))
    timings["validate"] += clock() - started
    started = clock()
    url_status = None
    if stages.check_urls:
        url_status = check_urls(sorted({u for m, view in zip(mapped, views)
                                        for u in dataset_urls(view, m.uri)}))
    lists = stages.value_lists
    made = []
    for item, m, view in zip(items, mapped, views):
        report = reports.get(m.source_id)
        conforms = report is None or report.conforms
        findings: list[Any] = report.findings if report is not None else []
        unmapped = [_issue_dict(issue) for issue in m.issues]
        valid = conforms and not m.invalid
        # spatial_scheme + spatial_value together make data.overheid.nl answer HTTP 500
        # (ckanext-dataoverheid 2.2.2), so spatial coverage stays in the DCAT graph only.
        target = to_target(m, mappings, spatial=False, lists=lists) if valid else None
        if target is not None:
            unmapped += [{"dataset": m.name, "field": "target", "value": None, "message": note,
                          "severity": "warning"} for note in target.issues]
        quality = score_dataset(view, m.uri, conforms=conforms, mappings=mappings,
                                url_status=url_status, shared=True)
        violations = 0 if report is None else len(report.violations)
        made.append((item, m, valid, findings, unmapped, target, quality, violations))
    timings["target"] += clock() - started
    started = clock()
    outcomes: list[Outcome] = []
    scores: dict[int, bytes] = {}
    for (source_id, name, _, raw), m, valid, findings, unmapped, target, quality, violations in made:
        # a score is shared by the datasets with the same outcomes: encoded once per batch
        quality_json = scores.get(id(quality))
        if quality_json is None:
            quality_json = scores[id(quality)] = stored_json(quality)
        title = _title(raw)
        # the list of findings, then the mapping issues
        kept = findings + [{**u, "severity": "mapping-" + u["severity"]} for u in unmapped]
        target_json = _target_json(target) if target is not None else None
        outcomes.append((source_id, m.identifier, valid, title or name,
                         pack_json(_findings_json(kept)), pack_json(_package_json(title, quality_json, target_json)),
                         violations, sum(u["severity"] == "error" for u in unmapped),
                         package_key(target_json, lists) if target_json is not None else None))
    del mapped, views, reports
    timings["store"] += clock() - started
    return outcomes


def _keep(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    fingerprint: str,
    records: list[Record],
    outcomes: list[Outcome],
    out: dict[str, Prepared],
) -> None:
    """Store the results of `records` and add their `Prepared` to `out`."""
    started = time.perf_counter()
    if len(outcomes) != len(records):
        raise RuntimeError(f"{len(records)} records gave {len(outcomes)} results")
    rows = []
    for record, outcome in zip(records, outcomes):
        source_id, identifier, valid, title, findings_json, package_json, violations, errors, key = outcome
        if source_id != record.source_id:
            raise RuntimeError(f"the result of record {record.source_id} came back as {source_id}")
        rows.append((source, source_id, record.content_hash, fingerprint, identifier, int(valid),
                     findings_json, package_json, run_id, violations, errors, key))
        # read back from the store when used: a plan keeps its actions (and so these results)
        # until the run report is written, and the JSON is kilobytes per dataset
        result = Result(source=source, source_id=source_id, content_hash=record.content_hash,
                        fingerprint=fingerprint, identifier=identifier, valid=valid, run_id=run_id,
                        findings=Deferred(store.result_json, source, source_id, "findings",
                                          record.content_hash),
                        target_package=Deferred(store.result_json, source, source_id, "target_package",
                                                record.content_hash),
                        violations=violations, mapping_errors=errors, result_key=key)
        out[source_id] = from_result(record, result)
    store.save_result_rows(rows)
    stages.timings["store"] += time.perf_counter() - started


def _issue_dict(issue: MappingIssue) -> dict[str, Any]:
    return {"dataset": issue.dataset, "field": issue.field, "value": issue.value,
            "message": issue.message, "severity": issue.severity}


def _findings_json(kept: list[Any]) -> bytes:
    """The stored JSON of a dataset's findings (`Finding`s, then mapping issues as dicts):
    orjson writes a Finding as its to_dict(), in one call for the whole list."""
    try:
        return orjson.dumps(kept)
    except TypeError:  # what orjson refuses (a lone surrogate): stored_json's way
        return stored_json([k.to_dict() if isinstance(k, Finding) else k for k in kept])


def _package_json(title: str, quality_json: bytes, target_json: bytes | None) -> bytes:
    """The stored JSON of {"title", "quality", "target"}: `quality_json` is the score's JSON,
    written once for the datasets that share it; `target_json` is `_target_json`'s."""
    text = b'{"title":' + stored_json(title) + b',"quality":' + quality_json
    if target_json is not None:
        text += b',"target":' + target_json
    return text + b"}"


def _target_json(target: TargetDataset) -> bytes:
    """The stored JSON of a target dataset: asdict(target), without its deep copy (the result
    is only serialised)."""
    return stored_json({
        "identifier": target.identifier, "source_name": target.source_name,
        "fields": target.fields,
        "resources": [{"distribution_uri": r.distribution_uri, "fields": r.fields}
                      for r in target.resources],
        "issues": target.issues,
    })


def _title(raw: dict[str, Any]) -> str:
    title = raw.get("title") or raw.get("name") or ""
    return title if isinstance(title, str) else str(title)


def from_result(record: Record, result: Result) -> Prepared:
    """A `Prepared` dataset rebuilt from a stored result (its JSON is parsed when first used)."""
    return Prepared(
        source_id=record.source_id, source_name=record.name, identifier=result.identifier,
        title=Deferred(_stored_title, result, record.name), valid=result.valid,
        findings=Deferred(_stored_findings, result, False),
        unmapped=Deferred(_stored_findings, result, True),
        target=Deferred(_stored_target, result), quality=Deferred(_stored_quality, result),
        result_key=result.result_key or result_key(result.fingerprint, result.content_hash),
        violations=result.violations, mapping_errors=result.mapping_errors,
    )


# (a stored result's JSON is read each time one of these is made, not kept in the Result: the
# plan's actions hold these until the run report is written)
def _stored_title(result: Result, name: str) -> str:
    return (peek(result, "target_package") or {}).get("title") or name


def _stored_quality(result: Result) -> dict[str, Any] | None:
    return (peek(result, "target_package") or {}).get("quality")


def _stored_findings(result: Result, unmapped: bool) -> list[dict[str, Any]]:
    """The stored SHACL findings, or (`unmapped`) the mapping issues kept beside them."""
    out = []
    for finding in peek(result, "findings"):
        severity = str(finding.get("severity", ""))
        if severity.startswith("mapping-") == unmapped:
            out.append({**finding, "severity": severity.removeprefix("mapping-")} if unmapped else finding)
    return out


def _stored_target(result: Result) -> TargetDataset | None:
    stored = (peek(result, "target_package") or {}).get("target")
    if not stored:
        return None
    data = dict(stored)
    data["resources"] = [TargetResource(**r) for r in data.get("resources") or []]
    return TargetDataset(**data)


def context_of(store: StateStore, source: str, base_url: str) -> SourceContext:
    """The source context the last harvest stored (empty when none was stored)."""
    data = store.context(source)
    context = SourceContext.from_dict(data) if data else SourceContext(base_url=base_url)
    if not context.base_url:
        context.base_url = base_url
    return context
