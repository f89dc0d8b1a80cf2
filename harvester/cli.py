"""The `harvester` command. Thin: every command calls library functions that tests call too.

Exit codes (for schedulers):
  0  everything done
  1  some datasets invalid, in conflict or failed
  2  usage error (bad command-line arguments)
  3  the run itself failed or its listing was incomplete
  4  configuration error
  5  another run holds the lock on this state store
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from harvester.version import __version__
from harvester.config import Config, adhoc_source, load_config
from harvester.console import Progress, echo_table, setup_logging
from harvester.errors import ConfigError, HarvesterError
from harvester.source.harvest import harvest as run_harvest
from harvester.store.lock import StateLock
from harvester.store.state import StateStore

EXIT_OK = 0
EXIT_DATASETS = 1
EXIT_RUN_FAILED = 3
EXIT_CONFIG = 4
EXIT_LOCKED = 5

log = logging.getLogger("harvester")


class Env:
    """What every command gets: the loaded configuration and how to open the state store."""

    def __init__(self, config: Config, quiet: bool, as_json: bool) -> None:
        self.config = config
        self.quiet = quiet
        self.as_json = as_json

    def store(self) -> StateStore:
        return StateStore.open(self.config.state)


def fail(exc: HarvesterError) -> None:
    """Print a typed error and leave with its exit code."""
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Configuration file (default: $HARVESTER_CONFIG, else ./harvester.toml).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              help="State store file (overrides the configuration).")
@click.option("-v", "--verbose", count=True, help="More log output.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.version_option(__version__, prog_name="harvester")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, state_path: Path | None, verbose: int,
         quiet: bool, as_json: bool) -> None:
    """Harvest a CKAN catalogue, map it to DCAT-AP-NL 3.0 and publish it on data.overheid.nl."""
    setup_logging(verbose, quiet or as_json)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        fail(exc)
    if state_path is not None:
        config.state = state_path.resolve()
    ctx.obj = Env(config, quiet, as_json)


@main.command()
@click.option("--source", "source_name", help="A source named in the configuration.")
@click.option("--source-url", help="Harvest any CKAN at this base URL, without a config entry.")
@click.option("--full", "mode", flag_value="full", help="See every dataset (detects removals).")
@click.option("--incremental", "mode", flag_value="incremental",
              help="Only datasets modified since the last complete run.")
@click.pass_obj
def harvest(env: Env, source_name: str | None, source_url: str | None, mode: str | None) -> None:
    """Harvest CKAN dataset metadata into the state store."""
    try:
        if source_name and source_url:
            raise ConfigError("command line: give --source or --source-url, not both")
        source = adhoc_source(source_url) if source_url else env.config.source(source_name)
        progress = Progress(enabled=not (env.quiet or env.as_json))
        with StateLock(env.config.state), env.store() as store:
            summary = run_harvest(source, store, mode or "full", progress=progress)
        progress.finish()
    except HarvesterError as exc:
        fail(exc)
    if env.as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        rows = [
            ("source", f"{summary.source} ({summary.location})"),
            ("run", f"{summary.run_id} ({summary.mode}, via {summary.method or '-'})"),
            ("outcome", f"{summary.outcome}, listing {'complete' if summary.complete else 'INCOMPLETE'}"),
            ("seen", str(summary.seen)), ("new", str(summary.new)), ("changed", str(summary.changed)),
            ("unchanged", str(summary.unchanged)), ("gone", str(summary.gone)),
            ("errors", str(summary.errors)), ("requests", str(summary.requests)),
        ]
        echo_table(rows)
        for problem in summary.problems:
            click.echo(f"problem: {problem}", err=True)
    sys.exit(EXIT_OK if summary.outcome == "success" else EXIT_RUN_FAILED)


@main.command()
@click.pass_obj
def status(env: Env) -> None:
    """Show the state store: sources, their last runs and record counts."""
    try:
        with env.store() as store:
            sources = store.sources()
            version = store.schema_version
    except HarvesterError as exc:
        fail(exc)
    if env.as_json:
        click.echo(json.dumps({"state": str(env.config.state), "schema_version": version,
                               "sources": sources}, indent=2, ensure_ascii=False))
        return
    click.echo(f"state store: {env.config.state} (schema version {version})")
    if not sources:
        click.echo("no sources harvested yet")
    for src in sources:
        click.echo("")
        rows: list[tuple[str, str]] = [
            ("source", f"{src['name']} ({src['kind']}: {src['location']})"),
            ("records", f"{src['records']} at the source, {src['gone']} gone at the source"),
        ]
        rows.append(("last run", _run_line(src["last_run"])))
        rows.append(("last complete run", _run_line(src["last_complete_run"])))
        echo_table(rows)


def _run_line(run: dict[str, Any] | None) -> str:
    if not run:
        return "-"
    counts = run.get("counts") or {}
    numbers = ", ".join(f"{k} {counts[k]}" for k in ("seen", "new", "changed", "unchanged", "gone", "errors") if k in counts)
    return (f"#{run['id']} {run['kind']} {run['mode']} {run['outcome']} "
            f"started {run['started_at']} finished {run['finished_at'] or '-'}; {numbers}")


def _source_for(env: Env, source_name: str | None) -> Any:
    return env.config.source(source_name)


@main.command()
@click.option("--source", "source_name", help="A source named in the configuration.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def validate(env: Env, source_name: str | None, fmt: str) -> None:
    """Validate the harvested catalogue with SHACL and mark invalid datasets in the state store.

    Exit code 0 when every dataset conforms, 1 when any has a violation.
    """
    from harvester.jobs import validate_catalogue

    try:
        source = _source_for(env, source_name)
        with StateLock(env.config.state), env.store() as store:
            outcome = validate_catalogue(env.config, source, store)
    except HarvesterError as exc:
        fail(exc)
    if fmt == "json" or env.as_json:
        click.echo(json.dumps(outcome, indent=2, ensure_ascii=False))
    else:
        for item in outcome["datasets"]:
            state = "valid" if item["valid"] else "INVALID"
            click.echo(f"{state:<8} {item['name']}  {item['identifier']}")
            for finding in item["findings"]:
                click.echo(f"  [{finding['severity']}] {finding.get('focus_node') or finding.get('dataset')} "
                           f"{finding.get('path') or finding.get('field') or ''} "
                           f"{'= ' + str(finding['value']) if finding.get('value') else ''}: {finding['message']}")
        for finding in outcome["catalogue"]["findings"]:
            click.echo(f"catalogue [{finding['severity']}] {finding['focus_node']} {finding.get('path') or ''}: {finding['message']}")
        click.echo(f"{outcome['valid']} valid, {outcome['invalid']} invalid of {outcome['total']} datasets; "
                   f"{outcome['violations']} violation(s), {outcome['warnings']} warning(s)")
    sys.exit(EXIT_OK if outcome["invalid"] == 0 and outcome["catalogue"]["conforms"] else EXIT_DATASETS)


@main.command()
@click.option("--source", "source_name", help="A source named in the configuration.")
@click.option("--format", "fmt", type=click.Choice(["turtle", "json-ld", "xml"]), default="turtle", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (default: stdout).")
@click.pass_obj
def export(env: Env, source_name: str | None, fmt: str, output: Path | None) -> None:
    """Write the harvested catalogue as DCAT-AP-NL 3.0 RDF (deterministic, self-contained)."""
    from harvester.jobs import export_source

    try:
        source = _source_for(env, source_name)
        with env.store() as store:
            data, issues = export_source(env.config, source, store, fmt)
    except HarvesterError as exc:
        fail(exc)
    for issue in issues:
        click.echo(f"mapping {issue}", err=True)
    if output:
        output.write_bytes(data)
        click.echo(f"wrote {len(data)} bytes to {output}", err=True)
    else:
        click.echo(data.decode("utf-8"), nl=False)


def _target_options(func: Any) -> Any:
    options = [
        click.option("--target", "target_name", help="A target profile named in the configuration (production only when named)."),
        click.option("--target-url", help="An ad-hoc target CKAN without a config entry (API key from $HARVESTER_API_KEY)."),
        click.option("--owner-org", help="With --target-url: the data owner's organisation on the target."),
        click.option("--adopt", is_flag=True, help="Take over same-identifier datasets this harvester did not create."),
        click.option("--overwrite-drift", is_flag=True, help="Overwrite datasets edited on the target since our last write."),
        click.option("--force-withdraw", is_flag=True, help="Withdraw even when more than the threshold would go."),
        click.option("--plan-out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the plan as JSON to this file."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _choose_target(env: Env, name: str | None, url: str | None, owner_org: str | None, *, dry_run: bool) -> Any:
    from harvester.config import TargetConfig, _check_url

    if url:
        if name:
            raise ConfigError("command line: give --target or --target-url, not both")
        if not owner_org:
            raise ConfigError("command line: --target-url needs --owner-org (the organisation on the target)")
        return TargetConfig(name="adhoc", url=_check_url(url, "--target-url", "command line"), owner_org=owner_org)
    if name is None and not env.config.targets and dry_run:
        return None
    return env.config.target(name)


def _print_plan(plan: Any) -> None:
    for action in plan.actions:
        label = action.action + (" (held)" if action.held else "")
        click.echo(f"{label:<10} {action.name or action.source_id}  {action.identifier}")
        click.echo(f"           {action.reason}")
        for change in action.changes:
            old, new = change.get("old"), change.get("new")
            if old is None:
                click.echo(f"    + {change['field']}: {json.dumps(new, ensure_ascii=False)}")
            elif new is None:
                click.echo(f"    - {change['field']}: {json.dumps(old, ensure_ascii=False)}")
            else:
                click.echo(f"    ~ {change['field']}: {json.dumps(old, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}")
        for problem in action.problems:
            click.echo(f"    ! {problem['field']}: {problem['message']}")
        for finding in action.findings:
            if finding.get("severity") == "violation":
                click.echo(f"    ! {finding.get('focus_node')} {finding.get('path') or ''}: {finding['message']}")
        for issue in action.unmapped:
            click.echo(f"    ? {issue['field']} {issue.get('value') or ''}: {issue['message']}")
    for note in plan.notes:
        click.echo(f"note: {note}")


def _write_plan(path: Path | None, plan: Any, extra: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps({**extra, **plan.to_dict(with_packages=True)}, indent=2, ensure_ascii=False), encoding="utf-8")


@main.command()
@click.option("--source", "source_name", help="A source named in the configuration.")
@_target_options
@click.pass_obj
def plan(env: Env, source_name: str | None, target_name: str | None, target_url: str | None,
         owner_org: str | None, adopt: bool, overwrite_drift: bool, force_withdraw: bool, plan_out: Path | None) -> None:
    """Plan create / update / unchanged / withdraw / conflict / invalid against the target; no writes."""
    from harvester.jobs import SyncOptions, open_target, plan_source

    try:
        source = _source_for(env, source_name)
        target_config = _choose_target(env, target_name, target_url, owner_org, dry_run=True)
        target = open_target(target_config, dry_run=True)
        options = SyncOptions(dry_run=True, adopt=adopt, overwrite_drift=overwrite_drift, force_withdraw=force_withdraw)
        with StateLock(env.config.state), env.store() as store:
            runs = store.runs(source.name, limit=1)
            if not runs:
                raise ConfigError(f"no harvest of source {source.name!r} in {store.path} yet; run `harvester harvest` first")
            the_plan, _, _ = plan_source(env.config, source, target_config, target, store, runs[0].id, options, None)
    except HarvesterError as exc:
        fail(exc)
    _write_plan(plan_out, the_plan, {"dry_run": True})
    if env.as_json:
        click.echo(json.dumps(the_plan.to_dict(), indent=2, ensure_ascii=False))
    else:
        if not env.quiet:
            _print_plan(the_plan)
        echo_table([(k, str(v)) for k, v in the_plan.counts().items()])
    counts = the_plan.counts()
    sys.exit(EXIT_DATASETS if counts["invalid"] or counts["conflict"] or counts["withdraw_held"] else EXIT_OK)


@main.command()
@click.option("--dry-run", is_flag=True, help="Stop after the plan: print it, write nothing to the target.")
@click.option("--source", "source_name", help="A source named in the configuration.")
@click.option("--full", "mode", flag_value="full", help="A full harvest (the default; sees removals).")
@click.option("--incremental", "mode", flag_value="incremental", help="Only datasets modified since the last complete run.")
@click.option("--check-urls", is_flag=True, help="Check that access and download URLs answer (for the quality score).")
@_target_options
@click.pass_obj
def sync(env: Env, dry_run: bool, source_name: str | None, mode: str | None, check_urls: bool,
         target_name: str | None, target_url: str | None, owner_org: str | None, adopt: bool,
         overwrite_drift: bool, force_withdraw: bool, plan_out: Path | None) -> None:
    """Harvest, map, validate, plan and apply: the scheduled job. Writes a JSON and HTML run report."""
    from harvester.jobs import SyncOptions, write_run_report
    from harvester.jobs import sync as run_sync

    try:
        source = _source_for(env, source_name)
        target_config = _choose_target(env, target_name, target_url, owner_org, dry_run=dry_run)
        chosen_mode = mode or ("full" if source.full_every_runs <= 1 and source.full_every_days is None else None)
        options = SyncOptions(dry_run=dry_run, mode=chosen_mode, adopt=adopt, overwrite_drift=overwrite_drift,
                              force_withdraw=force_withdraw, check_urls=check_urls)
        progress = Progress(enabled=not (env.quiet or env.as_json))
        with StateLock(env.config.state), env.store() as store:
            result = run_sync(env.config, source, target_config, store, options, progress=progress)
            progress.finish()
            json_path, html_path = write_run_report(env.config, result)
    except HarvesterError as exc:
        fail(exc)
    if result.plan is not None:
        _write_plan(plan_out, result.plan, {"dry_run": dry_run, "run_id": result.run_id})
    summary = {
        "run_id": result.run_id, "source": result.source, "target": result.target, "dry_run": dry_run,
        "outcome": result.outcome, "harvest_mode": result.harvest.mode if result.harvest else None,
        "harvest_complete": bool(result.harvest and result.harvest.complete),
        "counts": result.counts(), "target_writes": result.target_writes, "error": result.error,
        "report_json": str(json_path), "report_html": str(html_path),
    }
    if env.as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        if dry_run and result.plan is not None and not env.quiet:
            _print_plan(result.plan)
        rows = [("run", f"{result.run_id} ({'dry run' if dry_run else 'applied'}) -> {result.target}"),
                ("harvest", f"{summary['harvest_mode']}, listing {'complete' if summary['harvest_complete'] else 'INCOMPLETE'}"),
                ("outcome", result.outcome)]
        rows += [(k, str(v)) for k, v in result.counts().items()]
        rows += [("report", str(html_path))]
        if result.error:
            rows.append(("error", result.error))
        echo_table(rows)
    sys.exit({"success": EXIT_OK, "attention": EXIT_DATASETS}.get(result.outcome, EXIT_RUN_FAILED))


@main.command()
@click.option("--source", "source_name", help="Only runs of this source.")
@click.option("--limit", default=20, show_default=True, help="How many runs.")
@click.pass_obj
def runs(env: Env, source_name: str | None, limit: int) -> None:
    """List past runs, newest first."""
    try:
        with env.store() as store:
            found = store.runs(source_name, limit=limit)
    except HarvesterError as exc:
        fail(exc)
    if env.as_json:
        click.echo(json.dumps([r.to_dict() for r in found], indent=2, ensure_ascii=False))
        return
    for run in found:
        click.echo(_run_line(run.to_dict()) + f" [{run.source}]")


@main.command()
@click.argument("run_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.pass_obj
def report(env: Env, run_id: int, fmt: str, output: Path | None) -> None:
    """Print or write the report of run RUN_ID."""
    from harvester.report.build import load_report
    from harvester.report.html import render_html
    from harvester.report.text import render_text

    try:
        data = load_report(env.config.reports, run_id)
    except FileNotFoundError:
        click.echo(f"error: no report for run {run_id} in {env.config.reports}", err=True)
        sys.exit(EXIT_RUN_FAILED)
    text = {"text": render_text, "html": render_html}.get(fmt, lambda d: json.dumps(d, indent=2, ensure_ascii=False))(data)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text)


if __name__ == "__main__":  # pragma: no cover
    main()
