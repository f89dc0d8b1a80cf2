"""Map, validate and convert a source's harvested records, reusing results that still stand.

    for item in prepare(store, "duo", stages, run_id):   # -> Prepared
        ...

Each record passes mapper -> validate -> target (with its quality score), in this process, in
record order. The result is kept in the state store with the record's content hash and a
fingerprint of everything that decides it (the mapping tables, the shapes, the source's mapping
options and context, and harvester.version.LOGIC_VERSION). A record whose hash and fingerprint
are unchanged is not mapped or validated again: its stored result is used.

With `light=True` a record whose stored result stands is prepared from the small columns kept
beside the result (ResultSummary: keys, counts, title, organisation, mapping issues), without
its raw dict, findings and package being read: such a `Prepared` is not `complete`. The planner
plans an unchanged dataset from those keys alone and asks `complete` for the rest.

The records go through `BATCH` at a time: memory holds one batch, the validator checks a batch's
graphs in one call, the URLs of a batch are checked together (`check_urls`), and a batch's
results are stored in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

from harvester.dcat.dataset import MappedDataset, map_dataset
from harvester.dcat.issues import MappingIssue
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import Mappings
from harvester.donl.compare import package_key
from harvester.donl.convert import TargetDataset, TargetResource, to_target
from harvester.donl.valuelists import ValueLists, value_lists_fingerprint, value_lists_for
from harvester.errors import StateError
from harvester.report.quality import check_urls, dataset_urls, score_dataset
from harvester.shacl.validator import DatasetReports, Validator
from harvester.source.context import SourceContext
from harvester.source.listing import organization_name
from harvester.store.encoding import canonical_json, parse_json, stored_json
from harvester.store.rows import PUBLIC, Record, RecordKey, Result, ResultSummary
from harvester.store.state import StateStore
from harvester.version import LOGIC_VERSION

#: records per batch
BATCH = 500
ProgressFn = Callable[[str, int, int | None], None]


@dataclass
class Prepared:
    """One source dataset after mapping, validation and conversion to a target package."""

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
    #: how many of `findings` are SHACL violations and of `unmapped` errors, when the stored
    #: result counted them; None: count them
    violations: int | None = None
    mapping_errors: int | None = None
    #: who may see the dataset at the source (harvester.store.rows: PUBLIC, PRIVATE, DRAFT,
    #: DELETED, WITHHELD); only a public one is published
    access: str = PUBLIC
    #: the name (else id) of the dataset's organisation at the source, and the organisation the
    #: source is configured for (its `organization`; None: not named)
    organization: str | None = None
    source_organization: str | None = None
    #: False: prepared from its stored result's summary (`light`): `findings`, `target` and
    #: `quality` were not read (`complete` reads them); `findings_count` says how many SHACL
    #: findings it has
    complete: bool = True
    findings_count: int | None = None


@dataclass
class Stages:
    """What turns a record into a target package: tables, options, shapes, the source's context."""

    mappings: Mappings
    options: MappingOptions
    validator: Validator
    context: SourceContext
    check_urls: bool = False
    counters: dict[str, int] = field(default_factory=lambda: {"mapped": 0, "validated": 0, "reused": 0})
    #: seconds spent per stage: read (records and stored results), map, validate, target (the
    #: data.overheid.nl package and the quality score), store (encoding and saving the results)
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
        digest.update(LOGIC_VERSION.encode())
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


def prepare(
    store: StateStore,
    source: str,
    stages: Stages,
    run_id: int,
    *,
    progress: ProgressFn | None = None,
    records: Iterable[Record] | None = None,
    light: bool = False,
) -> Iterator[Prepared]:
    """Every active record of `source` (or `records`) as a `Prepared` dataset, in record order,
    batch by batch as it is iterated; those not public at the source too (the plan keeps them
    off the target, and withdraws them when they were published). With `light`, those whose
    summarised result stands are not `complete` (see the module). The fingerprint is worked out
    at once (so that what it reads fails here, not at the first dataset)."""
    fingerprint = stages.fingerprint()
    total = None if records is not None else store.record_count(source)
    pending: Iterator[Record | RecordKey]
    if records is not None:
        pending = iter(records)
    else:
        pending = store.record_keys(source) if light else store.records(source, include_unpublished=True)
    return _batches(store, source, stages, run_id, fingerprint, pending, progress, total, light)


def _batches(store: StateStore, source: str, stages: Stages, run_id: int, fingerprint: str,
             pending: Iterator[Record | RecordKey], progress: ProgressFn | None, total: int | None,
             light: bool) -> Iterator[Prepared]:
    home = store.source_organization(source)
    done = 0
    while True:
        started = time.perf_counter()
        batch = list(islice(pending, BATCH))
        stages.timings["read"] += time.perf_counter() - started
        if not batch:
            return
        for item in _batch(store, source, stages, run_id, fingerprint, batch, light):
            item.source_organization = home
            yield item
        done += len(batch)
        if progress:
            progress("map+validate", done, total)


def _batch(store: StateStore, source: str, stages: Stages, run_id: int, fingerprint: str,
           records: list[Record] | list[RecordKey], light: bool) -> Iterator[Prepared]:
    """The batch's `Prepared` datasets: from the stored results that still stand (with `light`,
    from their summaries when kept), the other records mapped, validated and converted, and
    their results stored."""
    started = time.perf_counter()
    summaries = _standing(store, source, stages, fingerprint, records)
    light_ids = {sid for sid, summary in summaries.items() if summary.summarised} if light else set()
    whole: dict[str, Record] = {}
    if light:  # (the raw dicts of the records read whole)
        whole = store.records_for(source, [r.source_id for r in records if r.source_id not in light_ids])
    else:
        whole = {record.source_id: record for record in records}  # type: ignore[misc]
    results = store.results_for(source, [sid for sid in summaries if sid not in light_ids])
    stages.timings["read"] += time.perf_counter() - started
    to_map = [whole[record.source_id] for record in records if record.source_id not in summaries]
    if to_map:
        made = compute(stages, to_map, fingerprint, run_id)
        stages.counters["mapped"] += len(to_map)
        stages.counters["validated"] += len(to_map)
        started = time.perf_counter()
        store.save_results(made)
        stages.timings["store"] += time.perf_counter() - started
        results.update((result.source_id, result) for result in made)
    for record in records:
        sid = record.source_id
        if sid in light_ids:
            yield from_summary(record, summaries[sid])
        else:
            yield from_result(whole[sid], results[sid])


def _standing(store: StateStore, source: str, stages: Stages, fingerprint: str,
              records: list[Record] | list[RecordKey]) -> dict[str, ResultSummary]:
    """The summaries of the stored results of these records made from their content by the same
    fingerprint (none when URLs are checked: their status is read anew), by source id."""
    if stages.check_urls:
        return {}
    stored = store.result_summaries(source, [record.source_id for record in records])
    standing = {}
    for record in records:
        old = stored.get(record.source_id)
        if old is not None and old.content_hash == record.content_hash and old.fingerprint == fingerprint:
            standing[record.source_id] = old
    stages.counters["reused"] += len(standing)
    return standing


def compute(stages: Stages, records: list[Record], fingerprint: str, run_id: int) -> list[Result]:
    """Map, validate and convert `records` (one batch); one `Result` per record, in order, its
    JSON as the state store gives it back. Adds the seconds spent to `stages.timings`."""
    clock, timings = time.perf_counter, stages.timings
    started = clock()
    mapped = [map_dataset(record.raw, stages.context, stages.mappings, stages.options) for record in records]
    timings["map"] += clock() - started
    started = clock()
    views = [m.triple_view() for m in mapped]
    reports = stages.validator.validate_datasets((m.source_id, view) for m, view in zip(mapped, views))
    timings["validate"] += clock() - started
    started = clock()
    url_status = None
    if stages.check_urls:
        url_status = check_urls(sorted({u for m, view in zip(mapped, views) for u in dataset_urls(view, m.uri)}))
    made = [_converted(stages, m, view, reports, url_status) for m, view in zip(mapped, views)]
    timings["target"] += clock() - started
    started = clock()
    results = [_result(stages, record, fingerprint, run_id, *outcome) for record, outcome in zip(records, made)]
    timings["store"] += clock() - started
    return results


#: what `_converted` gives per dataset: the mapped dataset, whether it is valid, its SHACL
#: findings (as dicts), its mapping issues (as dicts), its target dataset (None when invalid),
#: its quality score and its number of SHACL violations
Converted = tuple[MappedDataset, bool, list[dict[str, Any]], list[dict[str, Any]], TargetDataset | None,
                  dict[str, Any], int]


def _converted(stages: Stages, mapped: MappedDataset, view: Any, reports: DatasetReports,
               url_status: dict[str, int | None] | None) -> Converted:
    """One validated dataset converted to its target dataset, and scored."""
    report = reports.get(mapped.source_id)
    conforms = report is None or report.conforms
    findings = [finding.to_dict() for finding in report.findings] if report is not None else []
    unmapped = [_issue_dict(issue) for issue in mapped.issues]
    valid = conforms and not mapped.invalid
    # spatial_scheme + spatial_value together make data.overheid.nl answer HTTP 500
    # (ckanext-dataoverheid 2.2.2), so spatial coverage stays in the DCAT graph only.
    target = to_target(mapped, stages.mappings, spatial=False, lists=stages.value_lists) if valid else None
    if target is not None:
        unmapped += [{"dataset": mapped.name, "field": "target", "value": None, "message": note,
                      "severity": "warning"} for note in target.issues]
    quality = score_dataset(view, mapped.uri, conforms=conforms, mappings=stages.mappings,
                            url_status=url_status, shared=True)
    violations = 0 if report is None else len(report.violations)
    return mapped, valid, findings, unmapped, target, quality, violations


def _result(stages: Stages, record: Record, fingerprint: str, run_id: int, mapped: MappedDataset, valid: bool,
            findings: list[dict[str, Any]], unmapped: list[dict[str, Any]], target: TargetDataset | None,
            quality: dict[str, Any], violations: int) -> Result:
    """The result the state store keeps for a record: its findings then its mapping issues (their
    severity prefixed "mapping-"), and its title, quality and target dataset."""
    kept = findings + [{**u, "severity": "mapping-" + u["severity"]} for u in unmapped]
    package: dict[str, Any] = {"title": _title(record.raw), "quality": quality}
    key = None
    if target is not None:
        package["target"] = _target_dict(target)
        key = package_key(stored_json(package["target"]), stages.value_lists)
    return Result(source=record.source, source_id=record.source_id, content_hash=record.content_hash,
                  fingerprint=fingerprint, identifier=mapped.identifier, valid=valid,
                  findings=_as_stored(kept), target_package=_as_stored(package), run_id=run_id,
                  violations=violations, mapping_errors=sum(u["severity"] == "error" for u in unmapped),
                  result_key=key, title=package["title"], organization=organization_name(record.raw),
                  findings_count=len(findings), unmapped=unmapped, quality=quality)


def _as_stored(data: Any) -> Any:
    """`data` as the state store gives it back (JSON's types only), so that a dataset prepared
    now is the same as one prepared from its stored result."""
    return parse_json(stored_json(data))


def _issue_dict(issue: MappingIssue) -> dict[str, Any]:
    return {"dataset": issue.dataset, "field": issue.field, "value": issue.value,
            "message": issue.message, "severity": issue.severity}


def _target_dict(target: TargetDataset) -> dict[str, Any]:
    """A target dataset as the state store keeps it: asdict(target), without its deep copy."""
    return {
        "identifier": target.identifier, "source_name": target.source_name,
        "fields": target.fields,
        "resources": [{"distribution_uri": r.distribution_uri, "fields": r.fields}
                      for r in target.resources],
        "issues": target.issues,
    }


def _title(raw: dict[str, Any]) -> str:
    title = raw.get("title") or raw.get("name") or ""
    return title if isinstance(title, str) else str(title)


def from_result(record: Record, result: Result) -> Prepared:
    """A `Prepared` dataset made from a record's result."""
    return _from_stored(result, record.name, record.access, organization_name(record.raw))


def _from_stored(result: Result, source_name: str, access: str, organization: str | None) -> Prepared:
    package = result.target_package or {}
    return Prepared(
        source_id=result.source_id, source_name=source_name, identifier=result.identifier,
        title=package.get("title") or source_name, valid=result.valid,
        findings=_findings(result, unmapped=False), unmapped=_findings(result, unmapped=True),
        target=_target(package.get("target")), quality=package.get("quality"),
        result_key=result.result_key or result_key(result.fingerprint, result.content_hash),
        violations=result.violations, mapping_errors=result.mapping_errors,
        access=access, organization=organization,
    )


def from_summary(record: Record | RecordKey, summary: ResultSummary) -> Prepared:
    """A `Prepared` dataset made from the summary of a record's stored result: not `complete`."""
    return Prepared(
        source_id=record.source_id, source_name=record.name, identifier=summary.identifier,
        title=summary.title or record.name, valid=summary.valid, unmapped=summary.unmapped,
        result_key=summary.result_key or result_key(summary.fingerprint, summary.content_hash),
        violations=summary.violations, mapping_errors=summary.mapping_errors,
        access=record.access, organization=summary.organization, complete=False,
        findings_count=summary.findings_count,
    )


def complete(store: StateStore, source: str, items: list[Prepared]) -> list[Prepared]:
    """These datasets, in order, each `complete`: those prepared from a summary read whole from
    their stored results (StateError naming a record whose result is no longer stored)."""
    wanted = [item.source_id for item in items if not item.complete]
    results = store.results_for(source, wanted) if wanted else {}
    done = []
    for item in items:
        if item.complete:
            done.append(item)
            continue
        result = results.get(item.source_id)
        if result is None:
            raise StateError(f"{store.path}: the stored result of record {item.source_id} of source {source} "
                             "is gone while it was planned")
        full = _from_stored(result, item.source_name, item.access, item.organization)
        full.source_organization = item.source_organization
        done.append(full)
    return done


def _findings(result: Result, *, unmapped: bool) -> list[dict[str, Any]]:
    """The result's SHACL findings, or (`unmapped`) the mapping issues kept beside them."""
    out = []
    for finding in result.findings:
        severity = str(finding.get("severity", ""))
        if severity.startswith("mapping-") == unmapped:
            out.append({**finding, "severity": severity.removeprefix("mapping-")} if unmapped else finding)
    return out


def _target(stored: dict[str, Any] | None) -> TargetDataset | None:
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
