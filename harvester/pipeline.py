"""Map, validate and convert a source's harvested records, reusing results that still stand.

    for item in prepare(store, "duo", stages):   # -> plan.Prepared
        ...

Each record passes mapper -> validate -> target. The result is kept in the state store with the
record's content hash and a fingerprint of everything that decides it (the mapping tables, the
shapes, the source's mapping options and context, and this code's version). A record whose hash
and fingerprint are unchanged is not mapped or validated again: its stored result is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import __version__
from .context import SourceContext
from .mapper import MappedDataset, MappingOptions, map_dataset
from .mappings import Mappings
from .plan import Prepared
from .quality import check_urls, dataset_urls, score_dataset
from .state import Record, Result, StateStore, canonical_json
from .target import TargetDataset, TargetResource, to_target, value_lists_for
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
    """Every active record of `source` as a `Prepared` dataset, batch by batch (streaming)."""
    fingerprint = stages.fingerprint()
    cached = store.results(source)
    done = 0
    total = None if records is not None else store.record_count(source)
    batch: list[Record] = []
    for record in records if records is not None else store.records(source):
        batch.append(record)
        if len(batch) >= BATCH:
            yield from _batch(store, source, stages, run_id, fingerprint, cached, batch)
            done += len(batch)
            batch = []
            if progress:
                progress("map", done, total)
    if batch:
        yield from _batch(store, source, stages, run_id, fingerprint, cached, batch)
        done += len(batch)
        if progress:
            progress("map", done, total)


def _batch(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    fingerprint: str,
    cached: dict[str, Result],
    records: list[Record],
) -> Iterator[Prepared]:
    fresh: list[tuple[Record, MappedDataset]] = []
    out: dict[str, Prepared] = {}
    for record in records:
        old = cached.get(record.source_id)
        if (old is not None and old.content_hash == record.content_hash and old.fingerprint == fingerprint
                and not stages.check_urls):
            stages.counters["reused"] += 1
            out[record.source_id] = from_result(record, old)
            continue
        mapped = map_dataset(record.raw, stages.context, stages.mappings, stages.options)
        stages.counters["mapped"] += 1
        fresh.append((record, mapped))
    if fresh:
        reports = stages.validator.validate_datasets((m.source_id, m.graph) for _, m in fresh)
        stages.counters["validated"] += len(fresh)
        url_status = None
        if stages.check_urls:
            url_status = check_urls(sorted({u for _, m in fresh for u in dataset_urls(m.graph, m.uri)}))
        results = []
        for record, mapped in fresh:
            report = reports.get(mapped.source_id)
            findings = [f.to_dict() for f in report.findings] if report is not None else []
            unmapped = [asdict(issue) for issue in mapped.issues]
            valid = (report is None or report.conforms) and not mapped.invalid
            # spatial_scheme + spatial_value together make data.overheid.nl answer HTTP 500
            # (ckanext-dataoverheid 2.2.2), so spatial coverage stays in the DCAT graph only.
            target = to_target(mapped, stages.mappings, spatial=False) if valid else None
            if target is not None:
                unmapped += [{"dataset": mapped.name, "field": "target", "value": None, "message": note,
                              "severity": "warning"} for note in target.issues]
            quality = score_dataset(mapped.graph, mapped.uri, conforms=report is None or report.conforms,
                                    mappings=stages.mappings, url_status=url_status)
            result = Result(
                source=source, source_id=record.source_id, content_hash=record.content_hash,
                fingerprint=fingerprint, identifier=mapped.identifier, valid=valid,
                findings=findings + [{"severity": "mapping-" + u["severity"], **u} for u in unmapped],
                target_package=_target_dict(target, record, quality), run_id=run_id,
            )
            results.append(result)
            out[record.source_id] = from_result(record, result)
        store.save_results(results)
    for record in records:
        yield out[record.source_id]


def _target_dict(target: TargetDataset | None, record: Record, quality: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"title": _title(record.raw), "quality": quality}
    if target is not None:
        data["target"] = asdict(target)
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
