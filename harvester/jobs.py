"""The whole job: harvest, map, validate, convert, plan, and (unless a dry run) apply.

    result = sync(config, source_config, target_config, store, SyncOptions(dry_run=True))

Each stage lives in its own module; this one only strings them together and records the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from harvester.apply import Applier
from harvester.config import Config, SourceConfig, TargetConfig, api_key_from_env
from harvester.dcat.catalog import catalog_graph
from harvester.dcat.dataset import MappedDataset, map_dataset
from harvester.dcat.export import export_catalog
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import load_mappings
from harvester.donl.api import EmptyTarget, TargetApi
from harvester.errors import ConfigError, HarvesterError
from harvester.pipeline import Stages, context_of, prepare, prepare_started
from harvester.plan import Action, Gone, Plan, Planner, PlanSettings, plan_stream, shelve_package
from harvester.shacl.validator import Validator
from harvester.source.harvest import HarvestSummary, harvest
from harvester.store.state import StateStore

log = logging.getLogger(__name__)
ProgressFn = Callable[[str, int, int | None], None]


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
class SyncResult:
    """Everything a report needs about one run."""

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


def build_stages(config: Config, source: SourceConfig, store: StateStore) -> Stages:
    """The mapping tables, options, shapes and stored source context for a source."""
    mappings = load_mappings(config.mappings)
    options = MappingOptions.from_config(source.mapping, f"{config.path or 'configuration'} [sources.{source.name}.mapping]")
    validator = Validator(config.shapes, ontology=mappings.vocabulary_graph, lazy=True)
    return Stages(mappings=mappings, options=options, validator=validator,
                  context=context_of(store, source.name, source.url), workers=source.workers)


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
        runs = [r for r in store.runs(source, limit=20) if r.kind in ("harvest", "sync")]
        run = runs[0] if runs else None
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
    # the workers map the first batches while the planner reads the publications and inventory
    prepared = prepare_started(store, source.name, stages, run_id, progress=progress)
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
            else:  # a dry run: the plan file may show the packages, kept compact until then
                for action in actions:
                    shelve_package(action)
            plan.actions.extend(actions)

        plan_stream(planner, prepared, gone_records(store, source.name), carry_out)
    finally:
        prepared.close()  # a planner that failed (target unreachable): the workers stop
    plan.notes = planner.notes
    if isinstance(target, EmptyTarget):
        plan.notes.insert(0, "no target configured: planned against an empty target (what a first publication would create)")
    return plan, stages, applied


def sync(
    config: Config,
    source: SourceConfig,
    target_config: TargetConfig | None,
    store: StateStore,
    options: SyncOptions,
    progress: ProgressFn | None = None,
) -> SyncResult:
    """Run the whole job for one source and one target; never raises for a source or target failure."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    target = open_target(target_config, dry_run=options.dry_run)
    summary = harvest(source, store, options.mode, progress=progress, kind="sync")
    result = SyncResult(run_id=summary.run_id, source=source.name, target=target.url,
                        dry_run=options.dry_run, harvest=summary, plan=None, started_at=started)
    if summary.outcome == "failed":
        result.error = summary.error
        result.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
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
    result.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    store.update_run_counts(summary.run_id, {**store.run(summary.run_id).counts, **_run_counts(result)})
    return result


def write_run_report(config: Config, result: SyncResult) -> tuple[Path, Path]:
    """Write the run's JSON and HTML reports into the reports folder beside the state store."""
    from harvester.report.build import build_report, write_reports

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


def export_source(config: Config, source: SourceConfig, store: StateStore, fmt: str) -> tuple[bytes, list[str]]:
    """The source's catalogue as RDF bytes in `fmt`, and the mapping issues met on the way."""
    _require_records(store, source)
    stages = build_stages(config, source, store)
    datasets = list(mapped_datasets(store, source, stages))
    issues = [str(issue) for mapped in datasets for issue in mapped.issues]
    return export_catalog(datasets, stages.context, stages.mappings, stages.options, fmt), issues


def validate_catalogue(config: Config, source: SourceConfig, store: StateStore) -> dict[str, Any]:
    """Validate every dataset (results, valid or invalid with their findings, go to the state store)
    and the catalogue record graph; return a report for people and machines."""
    _require_records(store, source)
    stages = build_stages(config, source, store)
    run_id = store.runs(source.name, limit=1)[0].id
    datasets = []
    for item in prepare(store, source.name, stages, run_id):
        findings = list(item.findings) + [
            {**u, "severity": "mapping-" + u["severity"]} for u in item.unmapped
        ]
        datasets.append({
            "source_id": item.source_id, "name": item.source_name, "identifier": item.identifier,
            "title": item.title, "valid": item.valid, "findings": findings,
        })
    mapped = list(mapped_datasets(store, source, stages))
    graph = catalog_graph(mapped, stages.context, stages.mappings, stages.options)
    catalogue_dict = stages.validator.validate_datasets(((m.uri, m.graph) for m in mapped), context_graph=graph).context.to_dict()
    every = [f for d in datasets for f in d["findings"]]
    return {
        "source": source.name,
        "total": len(datasets),
        "valid": sum(1 for d in datasets if d["valid"]),
        "invalid": sum(1 for d in datasets if not d["valid"]),
        "violations": sum(1 for f in every if f["severity"] in ("violation", "mapping-error")),
        "warnings": sum(1 for f in every if f["severity"] in ("warning", "mapping-warning")),
        "stages": dict(stages.counters),
        "datasets": datasets,
        "catalogue": catalogue_dict,
    }
