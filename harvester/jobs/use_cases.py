"""The jobs, one function each: what the `harvester` command's commands call.

Every job opens the state store itself (and takes its lock when it writes); a job that only
reads the store never makes one: without it, it says where it looked.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from harvester.config import Config, TargetConfig, adhoc_source, write_starting_config
from harvester.errors import HarvesterError, ReportNotFoundError, StalePlanError, UsageError
from harvester.jobs.catalogue import export_source, validate_catalogue
from harvester.jobs.results import (
    CatalogueExport,
    CatalogueValidation,
    PlanResult,
    RunReport,
    StoreStatus,
    SyncOptions,
    SyncResult,
    TargetChoice,
)
from harvester.jobs.saved import (
    latest_harvest,
    plan_basis,
    read_plan_file,
    stale_reasons,
    write_plan_file,
)
from harvester.jobs.steps import (
    ProgressFn,
    adhoc_target,
    apply_saved,
    build_stages,
    check_target,
    choose_target,
    no_state_message,
    on_target,
    open_target,
    plan_source,
    require_state,
    source_failure,
    sync_source,
    write_run_report,
)
from harvester.plan import Plan
from harvester.report.build import load_report, report_paths
from harvester.report.files import copy_with_packages, packages_from_store
from harvester.report.html import render_html
from harvester.report.text import render_text
from harvester.source.harvest import HarvestSummary, open_source
from harvester.source.harvest import harvest as harvest_source
from harvester.store.lock import StateLock
from harvester.store.rows import Run
from harvester.store.state import StateStore


def harvest(config: Config, source: str | None = None, source_url: str | None = None, mode: str | None = "full",
            progress: ProgressFn | None = None) -> HarvestSummary:
    """Harvest a configured source (or any CKAN at `source_url`) into the state store. A harvest
    that failed because the source refused the API key raises that error (exit code 4)."""
    if source and source_url:
        raise UsageError("command line: give --source or --source-url, not both")
    chosen = adhoc_source(source_url) if source_url else config.source(source)
    opened = open_source(chosen)
    with StateLock(config.state), StateStore.open(config.state) as store:
        summary = harvest_source(chosen, store, mode, source=opened, progress=progress)
    failure = source_failure(opened, summary)
    if failure is not None:
        raise failure
    return summary


def status(config: Config) -> StoreStatus:
    """The state store's sources, their last runs and record counts (none, without a store)."""
    if not config.state.exists():
        return StoreStatus(config.state, 0, [], exists=False)
    with StateStore.open(config.state) as store:
        return StoreStatus(config.state, store.schema_version, store.sources())


def validate(config: Config, source: str | None = None) -> CatalogueValidation:
    """Validate the harvested catalogue; invalid datasets are marked in the state store. Packages
    are checked as data.overheid.nl would with the default target's organisation, when there is one."""
    chosen = config.source(source)
    require_state(config)
    owner_org = _default_owner_org(config)
    with StateLock(config.state), StateStore.open(config.state) as store:
        return validate_catalogue(config, chosen, store, owner_org)


def _default_owner_org(config: Config) -> str | None:
    try:
        return config.target(None).owner_org if config.targets else None
    except HarvesterError:  # several targets and none named: the check only reads that there is one
        return next(iter(config.targets.values())).owner_org


def export(config: Config, source: str | None = None, fmt: str = "turtle",
           include_invalid: bool = False) -> CatalogueExport:
    """The harvested catalogue as DCAT-AP-NL 3.0 RDF (`turtle`, `json-ld` or `xml`): what a sync
    publishes, so without the invalid datasets unless `include_invalid`."""
    chosen = config.source(source)
    require_state(config)
    with StateStore.open(config.state) as store:
        return export_source(config, chosen, store, fmt, include_invalid)


def plan_sync(config: Config, source: str | None = None, target: TargetChoice | None = None,
              options: SyncOptions | None = None, plan_out: Path | None = None,
              progress: ProgressFn | None = None) -> PlanResult:
    """What a sync would do on the target, from the last harvest; no writes. With `plan_out`,
    the plan (with the packages and what it was made from) is saved there as JSON, for
    `apply_plan`."""
    chosen = config.source(source)
    target_config = choose_target(config, target or TargetChoice(), dry_run=True)
    api = open_target(target_config, dry_run=True)
    options = replace(options or SyncOptions(), dry_run=True)
    require_state(config)
    with StateLock(config.state), StateStore.open(config.state) as store:
        latest = latest_harvest(store, chosen.name)
        if latest is None:
            raise UsageError(f"no harvest of source {chosen.name!r} in {store.path} yet; run `harvester harvest` first")
        try:
            notes = check_target(api, target_config)
            plan, stages, _ = plan_source(config, chosen, target_config, api, store, latest.id, options, None,
                                          progress)
            plan.notes[:0] = notes
            basis = None
            if plan_out is not None:
                basis = plan_basis(store, chosen.name, latest.id, stages, api,
                                   target_config.name if target_config else None, plan)
        except HarvesterError as exc:
            raise on_target(exc, target_config) from None
        write_plan_file(plan_out, plan, {"dry_run": True}, basis)
    return PlanResult(latest.id, plan, plan_out)


def sync(config: Config, source: str | None = None, target: TargetChoice | None = None,
         options: SyncOptions | None = None, plan_out: Path | None = None,
         progress: ProgressFn | None = None) -> SyncResult:
    """The scheduled job: harvest, map, validate, plan and (unless a dry run) apply; writes the
    run's JSON and HTML reports, and with `plan_out` the plan as JSON (a dry run's can be
    applied later with `apply_plan`)."""
    chosen = config.source(source)
    options = options or SyncOptions()
    target_config = choose_target(config, target or TargetChoice(), dry_run=options.dry_run)
    if options.mode is None and chosen.full_every_runs <= 1 and chosen.full_every_days is None:
        options = replace(options, mode="full")  # every run is a full one: no need to choose
    with StateLock(config.state), StateStore.open(config.state) as store:
        result = sync_source(config, chosen, target_config, store, options, progress=progress,
                             keep_basis=plan_out is not None)
        _write_report(config, result, store, progress)
        if result.plan is not None:
            write_plan_file(plan_out, result.plan, {"dry_run": options.dry_run, "run_id": result.run_id},
                            result.basis)
    return result


def _write_report(config: Config, result: SyncResult, store: StateStore, progress: ProgressFn | None) -> None:
    """Write the run's reports, as the last stage of the run."""
    if progress:
        progress("report", 0, 1)
    result.report_json, result.report_html = write_run_report(config, result, store)
    if progress:
        progress("report", 1, 1)


def apply_plan(config: Config, plan_file: Path, progress: ProgressFn | None = None) -> SyncResult:
    """Apply a plan saved by `plan_sync(plan_out=...)` or a dry run's `sync(plan_out=...)`:
    exactly its actions, through the same Applier a sync uses. Refused (StalePlanError, exit 3)
    when the harvest, the stages or a planned dataset on the target changed since it was made."""
    saved = read_plan_file(plan_file)
    basis = saved["basis"]
    chosen = config.source(basis["source"])
    target_config = planned_target(config, basis["target"], plan_file)
    api = open_target(target_config, dry_run=False)
    require_state(config)
    with StateLock(config.state), StateStore.open(config.state) as store:
        stages = build_stages(config, chosen, store)
        stages.check_urls = bool(basis.get("check_urls"))
        try:
            check_target(api, target_config)
            reasons = stale_reasons(basis, store, stages.fingerprint(), api)
        except HarvesterError as exc:
            raise on_target(exc, target_config) from None
        if reasons:
            raise StalePlanError(f"{plan_file}: the plan is stale, nothing applied: " + "; ".join(reasons)
                                 + "; make a new one with `harvester plan --out FILE`")
        result = apply_saved(store, chosen, api, target_config, Plan.from_dict(saved), basis["harvest_run"], progress)
        _write_report(config, result, store, progress)
    return result


def planned_target(config: Config, target: dict[str, Any], plan_file: Path) -> TargetConfig:
    """The target a saved plan was made for, as the configuration (or the plan, for an ad-hoc
    target) names it now."""
    name, url, owner_org = target.get("name"), target.get("url"), target.get("owner_org")
    if name is None:
        raise UsageError(f"{plan_file}: planned against no target (offline); plan against a target "
                         "(--target NAME, or --target-url and --owner-org) to apply it")
    if name == "adhoc":
        return adhoc_target(url, owner_org)
    configured = config.target(name)
    if (configured.url, configured.owner_org) != (url, owner_org):
        raise StalePlanError(f"{plan_file}: target {name!r} is now {configured.url} for {configured.owner_org!r}; "
                             f"the plan was made for {url} for {owner_org!r}; make a new plan")
    return configured


def runs(config: Config, source: str | None = None, limit: int = 20) -> list[Run]:
    """Past runs, newest first (of one source, or of all; none without a state store)."""
    if not config.state.exists():
        return []
    with StateStore.open(config.state) as store:
        return store.runs(source, limit=limit)


_RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": render_text,
    "html": render_html,
    "json": lambda data: json.dumps(data, indent=2, ensure_ascii=False),
}


def run_report(config: Config, run_id: int, fmt: str = "text", full: bool = False) -> RunReport:
    """The report of run `run_id`, rendered as `text`, `json` or `html`; `full` JSON adds each
    dataset's whole target package, read from the state store (the report leaves them out)."""
    try:
        data = load_report(config.reports, run_id)
    except FileNotFoundError:
        where = "" if config.state.exists() else f"; {no_state_message(config)}"
        raise ReportNotFoundError(f"no report for run {run_id} in {config.reports}{where}") from None
    if fmt == "json" and full:
        require_state(config)
        out = io.StringIO()
        with StateStore.open(config.state) as store:
            copy_with_packages(report_paths(config.reports, run_id)[0], out,
                               packages_from_store(store, str(data.get("source", ""))))
        return RunReport(run_id, fmt, out.getvalue().rstrip("\n"))
    return RunReport(run_id, fmt, _RENDERERS[fmt](data))


def init_config(path: Path, source_url: str | None = None, organization: str | None = None,
                owner_org: str | None = None) -> Path:
    """Write a commented starting configuration to `path` (never over an existing file)."""
    kwargs = {"source_url": source_url} if source_url else {}
    return write_starting_config(path, organization=organization, owner_org=owner_org, **kwargs)

