"""The `harvester` command: a thin shell over `harvester.jobs`.

Each command parses its options, calls one job, shows the job's result (`harvester.console`) and
returns it; the group turns errors and outcomes into exit codes in one place (`_Commands`, with
the table in `harvester.errors`): 0 everything done, 1 some datasets invalid, in conflict or
failed, 2 usage error, 3 the run failed or its listing was incomplete, 4 configuration error,
5 another run holds the lock on this state store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from harvester import jobs
from harvester.config import Config, load_config
from harvester.console import (
    Progress,
    echo_export,
    echo_harvest,
    echo_json,
    echo_plan,
    echo_report,
    echo_runs,
    echo_status,
    echo_sync,
    echo_validation,
    setup_logging,
)
from harvester.errors import ExitCode, HarvesterError
from harvester.version import __version__


class Env:
    """What every command gets: the loaded configuration and how to show results."""

    def __init__(self, config: Config, quiet: bool, as_json: bool) -> None:
        self.config = config
        self.quiet = quiet
        self.as_json = as_json

    def progress(self) -> Progress:
        """Progress display, silent under --quiet and --json."""
        return Progress(enabled=not (self.quiet or self.as_json))


class _Commands(click.Group):
    """The command group; a typed error from any command (or from loading the configuration)
    is printed and leaves with its exit code, and a command's result leaves with its outcome's."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarvesterError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
    config = load_config(config_path)
    if state_path is not None:
        config.state = state_path.resolve()
    ctx.obj = Env(config, quiet, as_json)


@main.result_callback()
@click.pass_context
def _leave(ctx: click.Context, result: Any, **_: Any) -> None:
    """Leave with the exit code of the command's result: its outcome's, or 0 when it has none."""
    ctx.exit(ExitCode.for_outcome(getattr(result, "outcome", "success")))


_source_option = click.option("--source", "source_name", help="A source named in the configuration.")


@main.command()
@_source_option
@click.option("--source-url", help="Harvest any CKAN at this base URL, without a config entry.")
@click.option("--full", "mode", flag_value="full", default=True, help="See every dataset (detects removals).")
@click.option("--incremental", "mode", flag_value="incremental",
              help="Only datasets modified since the last complete run.")
@click.pass_obj
def harvest(env: Env, source_name: str | None, source_url: str | None, mode: str) -> Any:
    """Harvest CKAN dataset metadata into the state store."""
    progress = env.progress()
    summary = jobs.harvest(env.config, source_name, source_url, mode, progress=progress)
    progress.finish()
    if env.as_json:
        echo_json(summary.to_dict())
    else:
        echo_harvest(summary)
    return summary


@main.command()
@click.pass_obj
def status(env: Env) -> None:
    """Show the state store: sources, their last runs and record counts."""
    found = jobs.status(env.config)
    if env.as_json:
        echo_json(found.to_dict())
    else:
        echo_status(found)


@main.command()
@_source_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def validate(env: Env, source_name: str | None, fmt: str) -> Any:
    """Validate the harvested catalogue with SHACL and mark invalid datasets in the state store.

    Exit code 0 when every dataset conforms, 1 when any has a violation.
    """
    validation = jobs.validate(env.config, source_name)
    if fmt == "json" or env.as_json:
        echo_json(validation.to_dict())
    else:
        echo_validation(validation)
    return validation


@main.command()
@_source_option
@click.option("--format", "fmt", type=click.Choice(["turtle", "json-ld", "xml"]), default="turtle", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (default: stdout).")
@click.pass_obj
def export(env: Env, source_name: str | None, fmt: str, output: Path | None) -> None:
    """Write the harvested catalogue as DCAT-AP-NL 3.0 RDF (deterministic, self-contained)."""
    echo_export(jobs.export(env.config, source_name, fmt), output)


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


@main.command()
@_source_option
@_target_options
@click.pass_obj
def plan(env: Env, source_name: str | None, target_name: str | None, target_url: str | None,
         owner_org: str | None, adopt: bool, overwrite_drift: bool, force_withdraw: bool, plan_out: Path | None) -> Any:
    """Plan create / update / unchanged / withdraw / conflict / invalid against the target; no writes."""
    planned = jobs.plan_sync(
        env.config, source_name, jobs.TargetChoice(target_name, target_url, owner_org),
        jobs.SyncOptions(adopt=adopt, overwrite_drift=overwrite_drift, force_withdraw=force_withdraw),
        plan_out,
    )
    if env.as_json:
        echo_json(planned.plan.to_dict())
    else:
        echo_plan(planned.plan, actions=not env.quiet)
    return planned


@main.command()
@click.option("--dry-run", is_flag=True, help="Stop after the plan: print it, write nothing to the target.")
@_source_option
@click.option("--full", "mode", flag_value="full", help="A full harvest (the default; sees removals).")
@click.option("--incremental", "mode", flag_value="incremental", help="Only datasets modified since the last complete run.")
@click.option("--check-urls", is_flag=True, help="Check that access and download URLs answer (for the quality score).")
@_target_options
@click.pass_obj
def sync(env: Env, dry_run: bool, source_name: str | None, mode: str | None, check_urls: bool,
         target_name: str | None, target_url: str | None, owner_org: str | None, adopt: bool,
         overwrite_drift: bool, force_withdraw: bool, plan_out: Path | None) -> Any:
    """Harvest, map, validate, plan and apply: the scheduled job. Writes a JSON and HTML run report."""
    options = jobs.SyncOptions(dry_run=dry_run, mode=mode, adopt=adopt, overwrite_drift=overwrite_drift,
                               force_withdraw=force_withdraw, check_urls=check_urls)
    progress = env.progress()
    result = jobs.sync(env.config, source_name, jobs.TargetChoice(target_name, target_url, owner_org), options,
                       plan_out, progress=progress)
    progress.finish()
    if env.as_json:
        echo_json(result.summary())
    else:
        echo_sync(result, actions=not env.quiet)
    return result


@main.command()
@click.option("--source", "source_name", help="Only runs of this source.")
@click.option("--limit", default=20, show_default=True, help="How many runs.")
@click.pass_obj
def runs(env: Env, source_name: str | None, limit: int) -> None:
    """List past runs, newest first."""
    found = jobs.runs(env.config, source_name, limit)
    if env.as_json:
        echo_json([r.to_dict() for r in found])
    else:
        echo_runs(found)


@main.command()
@click.argument("run_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.pass_obj
def report(env: Env, run_id: int, fmt: str, output: Path | None) -> None:
    """Print or write the report of run RUN_ID."""
    echo_report(jobs.run_report(env.config, run_id, fmt), output)


if __name__ == "__main__":  # pragma: no cover
    main()
