"""The steps the jobs are made of, each on an open state store: choose and open the target, build
the stages, plan (and apply) a source's datasets streaming batch by batch, run a whole sync, and
turn what failed into an error that names the side and its exit code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from harvester.apply import Applier, ApplyQueue
from harvester.config import Config, SourceConfig, TargetConfig, _check_url, api_key_from_env
from harvester.dcat.hvd_categories import high_value_marking
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import load_mappings
from harvester.donl.api import EmptyTarget, TargetApi
from harvester.errors import ConfigError, ExitCode, HarvesterError, NotAuthorisedError, TargetError, UsageError
from harvester.jobs.results import SyncOptions, SyncResult, TargetChoice
from harvester.jobs.saved import plan_basis
from harvester.pipeline import Stages, complete, context_of, prepare
from harvester.plan import Action, Gone, Plan, Planner, PlanSettings, plan_stream
from harvester.report.build import write_run_reports
from harvester.shacl.validator import Validator
from harvester.source.harvest import HarvestSummary, open_source
from harvester.source.harvest import harvest as harvest_source
from harvester.store.rows import Run
from harvester.store.state import StateStore

log = logging.getLogger(__name__)
ProgressFn = Callable[[str, int, int | None], None]


# --- the steps of the jobs -----------------------------------------------------------------------


def choose_target(config: Config, choice: TargetChoice, *, dry_run: bool) -> TargetConfig | None:
    """The target's configuration: an ad-hoc one for a URL, else the named (or only safe) profile;
    None on a dry run of a configuration without targets (planned against an empty target)."""
    if choice.url:
        if choice.name:
            raise UsageError("command line: give --target or --target-url, not both")
        if not choice.owner_org:
            raise UsageError("command line: --target-url needs --owner-org (the organisation on the target)")
        return adhoc_target(choice.url, choice.owner_org)
    if choice.owner_org:
        raise UsageError("command line: --owner-org goes with --target-url (a configured target names its own)")
    if choice.name is None and not config.targets and dry_run:
        return None
    return config.target(choice.name)


def adhoc_target(url: str, owner_org: str) -> TargetConfig:
    """The configuration of a target given on the command line (--target-url, --owner-org)."""
    return TargetConfig(name="adhoc", url=_check_url(url, "--target-url", "command line"), owner_org=owner_org)


def build_stages(config: Config, source: SourceConfig, store: StateStore) -> Stages:
    """The mapping tables, options, shapes and stored source context for a source."""
    mappings = load_mappings(config.mappings)
    high_value = high_value_marking(source.high_value, source.high_value_rules, mappings.hvd_categories,
                                    str(config.path or "configuration"), source.name)
    options = MappingOptions.from_config(source.mapping, f"{config.path or 'configuration'} [sources.{source.name}.mapping]",
                                         high_value=high_value)
    validator = Validator(config.shapes, ontology=mappings.vocabulary, lazy=True, profile=config.profile)
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
    light: bool = False,
) -> tuple[Plan, Stages, dict[str, int]]:
    """Prepare, plan and (with `apply`) apply the source's datasets, streaming batch by batch,
    then its withdrawals. Returns the plan (its actions slimmed after they were applied). With
    `light`, a dataset unchanged is planned from its stored result's keys (its action without
    its findings and quality: for a run whose plan is only reported, not saved or shown whole)."""
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
    prepared = prepare(store, source.name, stages, run_id, progress=progress, light=light)
    try:
        planner = Planner(source.name, store.publications(target.url), target, settings,
                          refusals=store.refusals(target.url))
        plan = Plan(source=source.name, target=target.url, owner_org=settings.owner_org)
        applier = writes = None
        if apply and isinstance(target, TargetApi):
            applier = Applier(plan, store, target, run_id, source.name, publications=planner.publications)
            applier.expected = 0
            writes = ApplyQueue(applier, target_config.writers if target_config else 1, progress)

        planned = 0
        total = store.record_count(source.name)

        def carry_out(actions: list[Action]) -> None:
            nonlocal planned
            planned += len(actions)
            if progress and actions:
                progress("plan", planned, max(total, planned))
            plan.actions.extend(actions)
            if applier is not None and writes is not None:
                applier.expected += sum(1 for a in actions
                                        if a.action in ("create", "update", "withdraw") and not a.held)
                writes.put(actions)

        try:
            plan_stream(planner, prepared, gone_records(store, source.name), carry_out,
                        complete=lambda items: complete(store, source.name, items),
                        settle=writes.settle if writes is not None else None)
        except BaseException as exc:
            if writes is not None:  # what was handed over is written; on an interrupt, no more
                writes.close(raise_failure=False, interrupted=not isinstance(exc, Exception))
            raise
        if writes is not None:
            writes.close()
        applied = writes.applied if writes is not None else {"done": 0, "failed": 0}
    finally:
        prepared.close()  # a planner that failed (target unreachable): nothing more is prepared
    plan.notes = planner.notes
    if applier is not None and applier.stopped:
        raise WritesStopped(applier.stopped, plan, stages, applied)
    if isinstance(target, EmptyTarget):
        plan.notes.insert(0, "no target configured: planned against an empty target (what a first publication would create)")
    return plan, stages, applied


def sync_source(
    config: Config,
    source: SourceConfig,
    target_config: TargetConfig | None,
    store: StateStore,
    options: SyncOptions,
    progress: ProgressFn | None = None,
    keep_basis: bool = False,
) -> SyncResult:
    """Run the whole job for one source and one target; never raises for a source or target
    failure. With `keep_basis` (a dry run whose plan is saved), `result.basis` holds what the
    plan was made from (harvester.jobs.saved)."""
    started = _now()
    target = open_target(target_config, dry_run=options.dry_run)
    opened = open_source(source)
    summary = harvest_source(source, store, options.mode, source=opened, progress=progress, kind="sync")
    result = SyncResult(run_id=summary.run_id, source=source.name, target=target.url,
                        dry_run=options.dry_run, harvest=summary, plan=None, started_at=started)
    if summary.outcome == "failed":
        result.error = summary.error
        failure = source_failure(opened, summary)
        result.error_code = exit_code_of(failure) if failure is not None else None
        result.finished_at = _now()
        return result
    try:
        notes = check_target(target, target_config)
        try:
            plan, stages, applied = plan_source(config, source, target_config, target, store, summary.run_id,
                                                options, summary, progress, apply=not options.dry_run,
                                                light=not keep_basis)
        except WritesStopped as stop:
            plan, stages, applied = stop.plan, stop.stages, stop.applied
            result.error, result.error_code = str(stop), int(stop.exit_code)
        plan.notes[:0] = notes
        result.plan, result.counters, result.applied = plan, dict(stages.counters), applied
        if keep_basis and options.dry_run:
            result.basis = plan_basis(store, source.name, summary.run_id, stages, target,
                                      target_config.name if target_config else None, plan)
    except HarvesterError as exc:
        failure = on_target(exc, target_config)
        result.error, result.error_code = str(failure), exit_code_of(failure)
        log.error("sync failed: %s", failure)
    result.target_requests = target.requests_made
    result.target_writes = target.writes
    result.finished_at = _now()
    store.update_run_counts(summary.run_id, {**store.run(summary.run_id).counts, **result.run_counts()})
    return result


def apply_saved(store: StateStore, source: SourceConfig, api: TargetApi, target_config: TargetConfig,
                plan: Plan, harvest_run: int, progress: ProgressFn | None = None) -> SyncResult:
    """Apply a saved plan's actions (harvester.jobs.saved) through the Applier, as a run of its
    own (kind `apply`) whose harvest is the run the plan was made from."""
    started = _now()
    run_id = store.begin_run("apply", source.name, source.location, "apply",
                             source_kind="dump" if source.type == "dump" else "ckan")
    result = SyncResult(run_id=run_id, source=source.name, target=api.url, dry_run=False,
                        harvest=summary_of(store.run(harvest_run)), plan=plan, started_at=started, kind="apply")
    applier = Applier(plan, store, api, run_id, source.name)
    applier.expected = len(plan.writes())
    try:
        result.applied = applier.run(target_config.writers, progress)
        if applier.stopped:
            result.error, result.error_code = applier.stopped, int(ExitCode.RUN_FAILED)
    except HarvesterError as exc:
        failure = on_target(exc, target_config)
        result.error, result.error_code = str(failure), exit_code_of(failure)
        log.error("apply failed: %s", failure)
    result.target_requests, result.target_writes = api.requests_made, api.writes
    result.finished_at = _now()
    store.finish_harvest(run_id, complete=False, full=False, outcome=result.outcome,
                         problems=[result.error] if result.error else [])
    store.update_run_counts(run_id, {**store.run(run_id).counts, **result.run_counts()})
    return result


class WritesStopped(HarvesterError):
    """The applier stopped: the run's first writes all failed the same way. Carries what the
    run had made (the plan, its stages and the counts applied) for its report."""

    def __init__(self, message: str, plan: Plan, stages: Stages, applied: dict[str, int]) -> None:
        super().__init__(message)
        self.plan, self.stages, self.applied = plan, stages, applied


def check_target(target: TargetApi | EmptyTarget, target_config: TargetConfig | None) -> list[str]:
    """Before anything is planned: the target's organisations (owner_org and those the profile
    maps to) exist, and the API key may create datasets in them (ConfigError or
    NotAuthorisedError, exit 4, naming the target, its URL and the organisation). Returns the
    notes a plan should carry: planned without a key, the target's private and draft datasets
    were not seen."""
    if not isinstance(target, TargetApi) or target_config is None:
        return []
    where = f"target {target_config.name!r} ({target_config.url})"
    organisations = sorted({target_config.owner_org, *target_config.organizations.values()} - {""})
    for organisation in organisations:
        if not target.organisation_exists(organisation):
            raise ConfigError(f"{where}: organisation {organisation!r} does not exist there; check owner_org "
                              "(and organizations) in the target profile")
    if not target.has_key:
        return [f"planned without an API key: {where} showed only its public datasets, so a create may "
                "really be a conflict with a private or draft dataset there"]
    allowed = target.organisations_for("create_dataset")
    refused = [organisation for organisation in organisations if organisation not in allowed]
    if refused:
        raise NotAuthorisedError(f"{where}: the API key in ${target_config.api_key_env} may not create datasets "
                                 f"in organisation {', '.join(map(repr, refused))}")
    return []


def summary_of(run: Run) -> HarvestSummary:
    """The summary of a harvest as the state store recorded it."""
    counts = run.counts or {}
    numbers = {key: int(counts.get(key) or 0)
               for key in ("seen", "new", "changed", "unchanged", "gone", "returned", "errors", "requests")}
    return HarvestSummary(run_id=run.id, source=run.source, location=run.location, mode=run.mode,
                          method=str(counts.get("method") or ""), outcome=run.outcome,
                          complete=bool(run.complete), problems=list(run.problems), error=run.error, **numbers)


# --- what failed, and where ------------------------------------------------------------------------


def source_failure(opened: Any, summary: HarvestSummary) -> HarvesterError | None:
    """The error that ended a failed harvest when its exit code is not a failed run's (an API key
    the source refused: 4); the source's client keeps the last error it raised."""
    failure = getattr(getattr(opened, "client", None), "failure", None)
    if summary.outcome == "failed" and failure is not None and str(failure) == summary.error \
            and exit_code_of(failure) != ExitCode.RUN_FAILED:
        return failure
    return None


def exit_code_of(error: HarvesterError) -> int:
    """An error's exit code (a 403 of the source or the target is an authorisation error, 4)."""
    return int(error.exit_code)


def on_target(error: HarvesterError, target: TargetConfig | None) -> HarvesterError:
    """A target's error, its message saying that it was the target and which (the target's
    client names only the URL)."""
    if not isinstance(error, TargetError) or target is None or str(error).startswith("target "):
        return error
    host = urlparse(target.url).netloc or target.url
    error.args = (f"target {target.name!r} ({host}): {error}",)  # the same error: its kind and exit code stay
    return error


def no_state_message(config: Config) -> str:
    """What to say when the state store is not there: where it was looked for, what to do."""
    named = f"the configuration {config.path}" if config.path else "the built-in defaults"
    return (f"no state store at {config.state} (named by --state or by the `state` key of {named}): "
            "nothing harvested yet; run `harvester harvest` (or `harvester sync`) first")


def require_state(config: Config) -> None:
    """Raise (usage error, 2) when the state store is not there: a command that only reads it
    must not make an empty one."""
    if not config.state.exists():
        raise UsageError(no_state_message(config))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_run_report(config: Config, result: SyncResult, store: StateStore) -> tuple[Path, Path]:
    """Write the run's JSON and HTML reports into the reports folder beside the state store
    (open: the scores of the datasets planned from their keys are read from it)."""
    return write_run_reports(result, config.reports,
                             stored_quality=lambda source_ids: store.result_qualities(result.source, source_ids))




