"""The use cases of the harvester, one function each; the `harvester` command is a thin shell over them.

    config = load_config("examples/duo-offline.toml")
    harvest(config)                                     # -> HarvestSummary
    validate(config)                                    # -> CatalogueValidation
    plan_sync(config)                                   # -> PlanResult
    sync(config, options=SyncOptions(dry_run=True))     # -> SyncResult

Every job opens the state store itself (and takes its lock when it writes), and returns a result
that needs no open store: what a plan shows is read before the store closes. The steps below the
jobs (`sync_source`, `plan_source`, `validate_catalogue`, `export_source`) take an open store, for
callers that hold one. Each stage lives in its own module; this one only strings them together
and records the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harvester.apply import Applier
from harvester.config import (
    Config,
    SourceConfig,
    TargetConfig,
    _check_url,
    adhoc_source,
    api_key_from_env,
)
from harvester.dcat.catalog import catalog_graph
from harvester.dcat.dataset import MappedDataset, map_dataset
from harvester.dcat.export import export_catalog
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import load_mappings
from harvester.donl.api import EmptyTarget, TargetApi
from harvester.errors import ConfigError, HarvesterError, ReportNotFoundError
from harvester.pipeline import Prepared, Stages, context_of, prepare
from harvester.plan import Action, Gone, Plan, Planner, PlanSettings, plan_stream
from harvester.report.build import build_report, load_report, write_reports
from harvester.report.html import render_html
from harvester.report.text import render_text
from harvester.shacl.validator import Validator
from harvester.source.harvest import HarvestSummary
from harvester.source.harvest import harvest as harvest_source
from harvester.store.lock import StateLock
from harvester.store.rows import Run
from harvester.store.state import StateStore

log = logging.getLogger(__name__)
ProgressFn = Callable[[str, int, int | None], None]


# --- what the operator asks for ------------------------------------------------------------------


@dataclass
class SyncOptions:
    """What the operator asked for on the command line."""

    dry_run: bool = False
    mode: str | None = None
    adopt: bool = False
    overwrite_drift: bool = False
    force_withdraw: bool = False
    check_urls: bool = False


@dataclass
class TargetChoice:
    """Which target: a profile named in the configuration, or an ad-hoc CKAN URL with the owner's
    organisation there; neither picks the configuration's single non-production profile."""

    name: str | None = None
    url: str | None = None
    owner_org: str | None = None


# --- what the jobs return ------------------------------------------------------------------------


@dataclass
class StoreStatus:
    """The state store: its schema version, and each source with its record counts and last runs."""

    state: Path
    schema_version: int
    sources: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"state": str(self.state), "schema_version": self.schema_version, "sources": self.sources}


@dataclass
class CatalogueValidation:
    """Every dataset of a source validated (each with its findings), and the catalogue record."""

    source: str
    datasets: list[dict[str, Any]]
    catalogue: dict[str, Any]
    stages: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.datasets)

    @property
    def valid(self) -> int:
        return sum(1 for d in self.datasets if d["valid"])

    @property
    def invalid(self) -> int:
        return self.total - self.valid

    def _findings(self, *severities: str) -> int:
        return sum(1 for d in self.datasets for f in d["findings"] if f["severity"] in severities)

    @property
    def violations(self) -> int:
        return self._findings("violation", "mapping-error")

    @property
    def warnings(self) -> int:
        return self._findings("warning", "mapping-warning")

    @property
    def outcome(self) -> str:
        """`success` when every dataset and the catalogue record conform, else `attention`."""
        return "success" if self.invalid == 0 and self.catalogue["conforms"] else "attention"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "total": self.total, "valid": self.valid, "invalid": self.invalid,
            "violations": self.violations, "warnings": self.warnings, "stages": self.stages,
            "datasets": self.datasets, "catalogue": self.catalogue,
        }


@dataclass
class CatalogueExport:
    """A source's catalogue as RDF bytes, and the mapping issues met on the way."""

    data: bytes
    format: str
    issues: list[str] = field(default_factory=list)


@dataclass
class PlanResult:
    """The plan of a sync from the last harvest, without writes."""

    run_id: int
    plan: Plan

    def counts(self) -> dict[str, int]:
        return self.plan.counts()

    @property
    def outcome(self) -> str:
        """`attention` when a dataset is invalid or in conflict or a withdrawal is held, else `success`."""
        counts = self.counts()
        return "attention" if counts["invalid"] or counts["conflict"] or counts["withdraw_held"] else "success"


@dataclass
class SyncResult:
    """Everything a report needs about one run (and, once written, where its reports are)."""

    run_id: int
    source: str
    target: str
    dry_run: bool
    harvest: HarvestSummary | None
    plan: Plan | None
    applied: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    target_requests: int = 0
    target_writes: int = 0
    error: str | None = None
    started_at: str = ""
    finished_at: str = ""
    report_json: Path | None = None
    report_html: Path | None = None

    @property
    def outcome(self) -> str:
        """`failed`, `incomplete`, `attention` (invalid/conflict/failed datasets) or `success`."""
        if self.error or self.harvest is None or self.harvest.outcome == "failed":
            return "failed"
        if not self.harvest.complete:
            return "incomplete"
        counts = self.counts()
        if counts.get("invalid") or counts.get("conflict") or counts.get("failed") or counts.get("withdraw_held"):
            return "attention"
        return "success"

    def counts(self) -> dict[str, int]:
        """created, updated, unchanged, withdrawn, conflict, invalid, failed (+ planned on a dry run)."""
        if self.plan is None:
            return {}
        planned = self.plan.counts()
        if self.dry_run:
            return planned
        done = {"created": 0, "updated": 0, "withdrawn": 0, "failed": 0}
        names = {"create": "created", "update": "updated", "withdraw": "withdrawn"}
        for action in self.plan.actions:
            if action.outcome == "failed":
                done["failed"] += 1
            elif action.outcome == "done" and action.action in names:
                done[names[action.action]] += 1
        return {**done, "unchanged": planned["unchanged"], "conflict": planned["conflict"],
                "invalid": planned["invalid"], "withdraw_held": planned["withdraw_held"]}

    def summary(self) -> dict[str, Any]:
        """The run in a few keys: what `harvester --json sync` prints."""
        return {
            "run_id": self.run_id, "source": self.source, "target": self.target, "dry_run": self.dry_run,
            "outcome": self.outcome, "harvest_mode": self.harvest.mode if self.harvest else None,
            "harvest_complete": bool(self.harvest and self.harvest.complete),
            "counts": self.counts(), "target_writes": self.target_writes, "error": self.error,
            "report_json": str(self.report_json), "report_html": str(self.report_html),
        }


@dataclass
class RunReport:
    """The report of one run, rendered as `text`, `json` or `html`."""

    run_id: int
    format: str
    text: str


# --- the jobs ------------------------------------------------------------------------------------


def harvest(config: Config, source: str | None = None, source_url: str | None = None, mode: str | None = "full",
            progress: ProgressFn | None = None) -> HarvestSummary:
    """Harvest a configured source (or any CKAN at `source_url`) into the state store."""
    if source and source_url:
        raise ConfigError("command line: give --source or --source-url, not both")
    chosen = adhoc_source(source_url) if source_url else config.source(source)
    with StateLock(config.state), StateStore.open(config.state) as store:
        return harvest_source(chosen, store, mode, progress=progress)


def status(config: Config) -> StoreStatus:
    """The state store's sources, their last runs and record counts."""
    with StateStore.open(config.state) as store:
        return StoreStatus(config.state, store.schema_version, store.sources())


def validate(config: Config, source: str | None = None) -> CatalogueValidation:
    """Validate the harvested catalogue; invalid datasets are marked in the state store."""
    chosen = config.source(source)
    with StateLock(config.state), StateStore.open(config.state) as store:
        return validate_catalogue(config, chosen, store)


def export(config: Config, source: str | None = None, fmt: str = "turtle") -> CatalogueExport:
    """The harvested catalogue as DCAT-AP-NL 3.0 RDF (`turtle`, `json-ld` or `xml`)."""
    chosen = config.source(source)
    with StateStore.open(config.state) as store:
        return export_source(config, chosen, store, fmt)


def plan_sync(config: Config, source: str | None = None, target: TargetChoice | None = None,
              options: SyncOptions | None = None, plan_out: Path | None = None) -> PlanResult:
    """What a sync would do on the target, from the last harvest; no writes. With `plan_out`,
    the plan (with the packages) is also written there as JSON."""
    chosen = config.source(source)
    target_config = choose_target(config, target or TargetChoice(), dry_run=True)
    api = open_target(target_config, dry_run=True)
    options = replace(options or SyncOptions(), dry_run=True)
    with StateLock(config.state), StateStore.open(config.state) as store:
        latest = store.runs(chosen.name, limit=1)
        if not latest:
            raise ConfigError(f"no harvest of source {chosen.name!r} in {store.path} yet; run `harvester harvest` first")
        plan, _, _ = plan_source(config, chosen, target_config, api, store, latest[0].id, options, None)
        write_plan_file(plan_out, plan, {"dry_run": True})
    return PlanResult(latest[0].id, plan)


def sync(config: Config, source: str | None = None, target: TargetChoice | None = None,
         options: SyncOptions | None = None, plan_out: Path | None = None,
         progress: ProgressFn | None = None) -> SyncResult:
    """The scheduled job: harvest, map, validate, plan and (unless a dry run) apply; writes the
    run's JSON and HTML reports, and with `plan_out` the plan as JSON."""
    chosen = config.source(source)
    options = options or SyncOptions()
    target_config = choose_target(config, target or TargetChoice(), dry_run=options.dry_run)
    if options.mode is None and chosen.full_every_runs <= 1 and chosen.full_every_days is None:
        options = replace(options, mode="full")  # every run is a full one: no need to choose
    with StateLock(config.state), StateStore.open(config.state) as store:
        result = sync_source(config, chosen, target_config, store, options, progress=progress)
        result.report_json, result.report_html = write_run_report(config, result)
        if result.plan is not None:
            write_plan_file(plan_out, result.plan, {"dry_run": options.dry_run, "run_id": result.run_id})
    return result


def runs(config: Config, source: str | None = None, limit: int = 20) -> list[Run]:
    """Past runs, newest first (of one source, or of all)."""
    with StateStore.open(config.state) as store:
        return store.runs(source, limit=limit)


_RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": render_text,
    "html": render_html,
    "json": lambda data: json.dumps(data, indent=2, ensure_ascii=False),
}


def run_report(config: Config, run_id: int, fmt: str = "text") -> RunReport:
    """The report of run `run_id`, rendered as `text`, `json` or `html`."""
    try:
        data = load_report(config.reports, run_id)
    except FileNotFoundError:
        raise ReportNotFoundError(f"no report for run {run_id} in {config.reports}") from None
    return RunReport(run_id, fmt, _RENDERERS[fmt](data))


# --- the steps of the jobs -----------------------------------------------------------------------


def choose_target(config: Config, choice: TargetChoice, *, dry_run: bool) -> TargetConfig | None:
    """The target's configuration: an ad-hoc one for a URL, else the named (or only safe) profile;
    None on a dry run of a configuration without targets (planned against an empty target)."""
    if choice.url:
        if choice.name:
            raise ConfigError("command line: give --target or --target-url, not both")
        if not choice.owner_org:
            raise ConfigError("command line: --target-url needs --owner-org (the organisation on the target)")
        return TargetConfig(name="adhoc", url=_check_url(choice.url, "--target-url", "command line"),
                            owner_org=choice.owner_org)
    if choice.name is None and not config.targets and dry_run:
        return None
    return config.target(choice.name)


def build_stages(config: Config, source: SourceConfig, store: StateStore) -> Stages:
    """The mapping tables, options, shapes and stored source context for a source."""
    mappings = load_mappings(config.mappings)
    options = MappingOptions.from_config(source.mapping, f"{config.path or 'configuration'} [sources.{source.name}.mapping]")
    validator = Validator(config.shapes, ontology=mappings.vocabulary_graph, lazy=True)
    return Stages(mappings=mappings, options=options, validator=validator,
                  context=context_of(store, source.name, source.url))


def open_target(target: TargetConfig | None, *, dry_run: bool) -> TargetApi | EmptyTarget:
    """The target API (read-only on a dry run), or an empty offline target for a dry run without one."""
    if target is None:
        if not dry_run:
            raise ConfigError("no target configured: add a [targets.NAME] table, or use --target-url and --owner-org")
        return EmptyTarget()
    key = api_key_from_env(target.api_key_env, f"target {target.name!r}", required=not dry_run)
    return TargetApi(target, key, read_only=dry_run)


def withdraw_permission(store: StateStore, source: str, summary: HarvestSummary | None) -> tuple[bool, str]:
    """Withdrawals need the latest harvest of this source to be complete, successful and full."""
    if summary is not None:
        run = store.run(summary.run_id)
    else:
        harvests = [r for r in store.runs(source, limit=20) if r.kind in ("harvest", "sync")]
        run = harvests[0] if harvests else None
    if run is None:
        return False, "no harvest has run yet"
    if run.outcome != "success" or not run.complete:
        return False, f"the latest harvest (run {run.id}) was {run.outcome} and its listing {'complete' if run.complete else 'incomplete'}"
    if run.mode != "full":
        return False, f"the latest harvest (run {run.id}) was incremental; only a full harvest can see removals"
    return True, ""


def gone_records(store: StateStore, source: str) -> list[Gone]:
    return [Gone(r.source_id, r.name, r.gone_at) for r in store.records(source, gone_only=True)]


def plan_source(
    config: Config,
    source: SourceConfig,
    target_config: TargetConfig | None,
    target: TargetApi | EmptyTarget,
    store: StateStore,
    run_id: int,
    options: SyncOptions,
    summary: HarvestSummary | None,
    progress: ProgressFn | None = None,
    apply: bool = False,
) -> tuple[Plan, Stages, dict[str, int]]:
    """Prepare, plan and (with `apply`) apply the source's datasets, streaming batch by batch,
    then its withdrawals. Returns the plan (its actions slimmed after they were applied)."""
    stages = build_stages(config, source, store)
    stages.check_urls = options.check_urls
    may, why = withdraw_permission(store, source.name, summary)
    settings = PlanSettings(
        owner_org=target_config.owner_org if target_config else "(none)",
        grace_days=target_config.grace_days if target_config else 7.0,
        withdraw_threshold=target_config.withdraw_threshold if target_config else 0.10,
        adopt=options.adopt, overwrite_drift=options.overwrite_drift,
        force_withdraw=options.force_withdraw, may_withdraw=may, withdraw_blocked_reason=why,
    )
    prepared = prepare(store, source.name, stages, run_id, progress=progress)
    try:
        planner = Planner(source.name, store.publications(target.url), target, settings,
                          refusals=store.refusals(target.url))
        plan = Plan(source=source.name, target=target.url, owner_org=settings.owner_org)
        applier = None
        if apply and isinstance(target, TargetApi):
            applier = Applier(plan, store, target, run_id, source.name, publications=planner.publications)
            applier.expected = 0
        writers = target_config.writers if target_config else 1
        applied = {"done": 0, "failed": 0}

        planned = 0
        total = store.record_count(source.name)

        def carry_out(actions: list[Action]) -> None:
            nonlocal planned
            planned += len(actions)
            if progress:
                progress("plan", planned, max(total, planned))
            if applier is not None:
                applier.expected += sum(1 for a in actions
                                        if a.action in ("create", "update", "withdraw") and not a.held)
                for key, value in applier.run(writers, progress, actions).items():
                    applied[key] += value
                for action in actions:
                    action.package = None
            plan.actions.extend(actions)

        plan_stream(planner, prepared, gone_records(store, source.name), carry_out)
    finally:
        prepared.close()  # a planner that failed (target unreachable): nothing more is prepared
    plan.notes = planner.notes
    if isinstance(target, EmptyTarget):
        plan.notes.insert(0, "no target configured: planned against an empty target (what a first publication would create)")
    return plan, stages, applied


def write_plan_file(path: Path | None, plan: Plan, extra: dict[str, Any]) -> None:
    """Write the plan, with its packages, as JSON to `path` (nothing when `path` is None)."""
    if path is not None:
        data = {**extra, **plan.to_dict(with_packages=True)}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def sync_source(
    config: Config,
    source: SourceConfig,
    target_config: TargetConfig | None,
    store: StateStore,
    options: SyncOptions,
    progress: ProgressFn | None = None,
) -> SyncResult:
    """Run the whole job for one source and one target; never raises for a source or target failure."""
    started = _now()
    target = open_target(target_config, dry_run=options.dry_run)
    summary = harvest_source(source, store, options.mode, progress=progress, kind="sync")
    result = SyncResult(run_id=summary.run_id, source=source.name, target=target.url,
                        dry_run=options.dry_run, harvest=summary, plan=None, started_at=started)
    if summary.outcome == "failed":
        result.error = summary.error
        result.finished_at = _now()
        return result
    try:
        plan, stages, applied = plan_source(config, source, target_config, target, store, summary.run_id, options,
                                            summary, progress, apply=not options.dry_run)
        result.plan, result.counters, result.applied = plan, dict(stages.counters), applied
    except HarvesterError as exc:
        result.error = str(exc)
        log.error("sync failed: %s", exc)
    result.target_requests = target.requests_made
    result.target_writes = target.writes
    result.finished_at = _now()
    store.update_run_counts(summary.run_id, {**store.run(summary.run_id).counts, **_run_counts(result)})
    return result


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_run_report(config: Config, result: SyncResult) -> tuple[Path, Path]:
    """Write the run's JSON and HTML reports into the reports folder beside the state store."""
    return write_reports(build_report(result), config.reports)


def _run_counts(result: SyncResult) -> dict[str, Any]:
    return {
        "sync": result.counts(), "dry_run": result.dry_run, "target": result.target,
        "target_writes": result.target_writes, "outcome": result.outcome, "error": result.error,
        **{f"stage_{k}": v for k, v in result.counters.items()},
    }


# --- the harvested catalogue as a whole, offline from the state store: export it, validate it


def _require_records(store: StateStore, source: SourceConfig) -> None:
    if store.record_count(source.name) == 0:
        raise HarvesterError(
            f"{store.path}: no harvested datasets for source {source.name!r}; run `harvester harvest` first"
        )


def mapped_datasets(store: StateStore, source: SourceConfig, stages: Stages) -> Iterator[MappedDataset]:
    """Every active record of the source mapped to a DCAT-AP-NL graph."""
    for record in store.records(source.name):
        yield map_dataset(record.raw, stages.context, stages.mappings, stages.options)


def export_source(config: Config, source: SourceConfig, store: StateStore, fmt: str) -> CatalogueExport:
    """The source's catalogue as RDF bytes in `fmt`, and the mapping issues met on the way."""
    _require_records(store, source)
    stages = build_stages(config, source, store)
    datasets = list(mapped_datasets(store, source, stages))
    issues = [str(issue) for mapped in datasets for issue in mapped.issues]
    return CatalogueExport(export_catalog(datasets, stages.context, stages.mappings, stages.options, fmt), fmt, issues)


def validate_catalogue(config: Config, source: SourceConfig, store: StateStore) -> CatalogueValidation:
    """Validate every dataset (results, valid or invalid with their findings, go to the state store)
    and the catalogue record graph."""
    _require_records(store, source)
    stages = build_stages(config, source, store)
    run_id = store.runs(source.name, limit=1)[0].id
    datasets = [_validated(item) for item in prepare(store, source.name, stages, run_id)]
    mapped = list(mapped_datasets(store, source, stages))
    graph = catalog_graph(mapped, stages.context, stages.mappings, stages.options)
    validation = stages.validator.validate_datasets(((m.uri, m.graph) for m in mapped), context_graph=graph)
    return CatalogueValidation(source.name, datasets, validation.context.to_dict(), dict(stages.counters))


def _validated(item: Prepared) -> dict[str, Any]:
    """One dataset of the validation report: SHACL findings, then the mapping's issues."""
    findings = list(item.findings) + [{**u, "severity": "mapping-" + u["severity"]} for u in item.unmapped]
    return {"source_id": item.source_id, "name": item.source_name, "identifier": item.identifier,
            "title": item.title, "valid": item.valid, "findings": findings}
