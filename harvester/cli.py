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

from . import __version__
from .config import Config, adhoc_source, load_config
from .console import Progress, echo_table, setup_logging
from .errors import ConfigError, HarvesterError
from .harvest import harvest as run_harvest
from .state import StateStore

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
        with env.store() as store:
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


if __name__ == "__main__":  # pragma: no cover
    main()
