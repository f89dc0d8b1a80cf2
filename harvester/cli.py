"""The `harvester` command: a thin shell over `harvester.jobs`.

Each command parses its options, calls one job, shows the job's result (`harvester.console`) and
returns it; the group turns errors and outcomes into exit codes in one place (`_Commands`, with
the table in `harvester.errors`): 0 everything done, 1 some datasets invalid, in conflict or
failed, 2 usage error (a missing run or report included), 3 the run failed or its listing was
incomplete, 4 configuration or authorisation error, 5 another run holds the lock on this state
store, 6 (`plan --detailed-exitcode`) changes pending.

The global options (--config, --state, --profile, -v, -q, --json) are taken before or after the command:
`harvester -q sync --dry-run` and `harvester sync --dry-run -q` are the same.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import click

from harvester import jobs
from harvester.config import DEFAULT_CONFIG_NAME, PROFILES, Config, load_config
from harvester.console import (
    Progress,
    echo_action,
    echo_document_validation,
    echo_export,
    echo_harvest,
    echo_init,
    echo_json,
    echo_plan,
    echo_report,
    echo_runs,
    echo_status,
    echo_sync,
    echo_validation,
    find_action,
    setup_logging,
    stderr_console,
)
from harvester.errors import ExitCode, HarvesterError, UsageError
from harvester.version import __version__


class Env:
    """What every command gets: the global options (from before or after the command), the
    configuration (loaded when first asked for) and how to show results."""

    def __init__(self) -> None:
        self.config_path: Path | None = None
        self.state_path: Path | None = None
        #: --profile: the DCAT-AP-NL version to validate against (overrides the configuration)
        self.profile: str | None = None
        self.verbose = 0
        self.quiet = False
        self.as_json = False
        #: a command that names everything itself (harvest --source-url) may run on the defaults
        self.allow_defaults = False
        self.console = stderr_console()
        self._config: Config | None = None

    def remember(self, name: str, value: Any) -> None:
        """A global option's value, given before or after the command (-v counts add up)."""
        if name == "verbose":
            self.verbose += value or 0
        elif value not in (None, False):
            setattr(self, name, value)

    def start(self) -> None:
        """Set up logging once every option is known."""
        setup_logging(self.verbose, self.quiet or self.as_json, console=self.console)

    @property
    def config(self) -> Config:
        if self._config is None:
            config = load_config(self.config_path, allow_defaults=self.allow_defaults)
            if self.state_path is not None:
                config.state = self.state_path.resolve()
            if self.profile is not None:
                config.profile = self.profile
            self._config = config
        return self._config

    def progress(self) -> Progress:
        """Progress display, silent under --quiet and --json."""
        return Progress(console=self.console, enabled=not (self.quiet or self.as_json))


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.ensure_object(Env).remember(str(param.name), value)
    return value


def _global_options() -> list[click.Option]:
    """The options every command takes, before or after its name."""
    path = click.Path(dir_okay=False, path_type=Path)
    return [
        click.Option(["--config", "config_path"], type=path, expose_value=False, callback=_remember,
                     help=f"Configuration file (default: $HARVESTER_CONFIG, else ./{DEFAULT_CONFIG_NAME})."),
        click.Option(["--state", "state_path"], type=path, expose_value=False, callback=_remember,
                     help="State store file (overrides the configuration)."),
        click.Option(["--profile", "profile"], type=click.Choice(PROFILES), expose_value=False,
                     callback=_remember,
                     help="DCAT-AP-NL version to validate against: 3.0 (adopted, the default) or "
                          "3.0.1 (working version); overrides the configuration."),
        click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_remember,
                     help="More output: log lines at debug level, unchanged datasets in a plan."),
        click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_remember,
                     help="Print only the summary."),
        click.Option(["--json", "as_json"], is_flag=True, expose_value=False, callback=_remember,
                     help="Print the summary as JSON on stdout."),
    ]


#: The cyclic garbage collector's thresholds while a command runs: a run holds many small,
#: long-lived objects (the plan, the publications), which the default thresholds (700, 10, 10)
#: traverse again and again (docs/performance.md: "After: the collector's thresholds ...").
COLLECTOR_THRESHOLDS = (100_000, 50, 100)


class _Command(click.Command):
    """A command that takes the global options too, and sets up logging before it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options())

    def invoke(self, ctx: click.Context) -> Any:
        ctx.ensure_object(Env).start()
        gc.set_threshold(*COLLECTOR_THRESHOLDS)
        return super().invoke(ctx)


class _Commands(click.Group):
    """The command group; a typed error from any command (or from loading the configuration)
    is printed and leaves with its exit code, and a command's result leaves with its own."""

    command_class = _Command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarvesterError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(jobs.exit_code_of(exc))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]},
             params=_global_options())
@click.version_option(__version__, prog_name="harvester")
def main() -> None:
    """Harvest a CKAN catalogue, map it to DCAT-AP-NL 3.0 and publish it on data.overheid.nl.

    The options above are taken before or after the command. Start with `harvester init`.
    """


@main.result_callback()
@click.pass_context
def _leave(ctx: click.Context, result: Any, **_: Any) -> None:
    """Leave with the exit code of the command's result: its own, its outcome's, or 0."""
    code = getattr(result, "exit_code", None)
    ctx.exit(code if code is not None else ExitCode.for_outcome(getattr(result, "outcome", "success")))


_source_option = click.option("--source", "source_name", help="A source named in the configuration.")


def _mode(full: bool, incremental: bool) -> str | None:
    if full and incremental:
        raise UsageError("command line: give --full or --incremental, not both")
    return "full" if full else ("incremental" if incremental else None)


def _mode_options(func: Any) -> Any:
    func = click.option("--incremental", is_flag=True, help="Only datasets modified since the last complete run.")(func)
    return click.option("--full", is_flag=True, help="A full harvest (sees removals; the default).")(func)


@main.command()
@_source_option
@click.option("--source-url", help="Harvest any CKAN at this base URL, without a config entry.")
@_mode_options
@click.pass_obj
def harvest(env: Env, source_name: str | None, source_url: str | None, full: bool, incremental: bool) -> Any:
    """Harvest CKAN dataset metadata into the state store."""
    mode = _mode(full, incremental) or "full"
    env.allow_defaults = source_url is not None
    progress = env.progress()
    try:
        summary = jobs.harvest(env.config, source_name, source_url, mode, progress=progress)
    finally:
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
@click.argument("files", metavar="[FILE]...", nargs=-1, type=click.Path(path_type=Path))
@_source_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--input-format", type=click.Choice(list(jobs.DOCUMENT_FORMATS)),
              help="With FILE: the RDF format of every file (default: from its extension, else its content).")
@click.pass_obj
def validate(env: Env, files: tuple[Path, ...], source_name: str | None, fmt: str, input_format: str | None) -> Any:
    """Validate the harvested catalogue with SHACL, and each package as data.overheid.nl would;
    mark invalid datasets in the state store. With FILE...: validate those DCAT-AP-NL documents
    (Turtle, RDF/XML, JSON-LD, N-Triples; a catalogue or a single dataset, distribution or data
    service) instead, offline, without a configuration file or the state store.

    Exit code 0 when every dataset (every file) conforms, 1 when any does not, 2 when a file is
    not there or does not parse.
    """
    if files:
        return _validate_files(env, files, source_name, fmt == "json" or env.as_json, input_format)
    if input_format is not None:
        raise UsageError("command line: --input-format goes with FILE arguments")
    validation = jobs.validate(env.config, source_name)
    if fmt == "json" or env.as_json:
        echo_json(validation.to_dict())
    else:
        echo_validation(validation)
    return validation


def _validate_files(env: Env, files: tuple[Path, ...], source_name: str | None, as_json: bool,
                    input_format: str | None) -> Any:
    if source_name is not None:
        raise UsageError("command line: give FILE arguments or --source, not both")
    env.allow_defaults = True
    validation = jobs.validate_documents(env.config, files, input_format)
    echo_document_validation(validation, as_json=as_json, quiet=env.quiet)
    return validation


@main.command()
@_source_option
@click.option("--format", "fmt", type=click.Choice(["turtle", "json-ld", "xml"]), default="turtle", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (default: stdout).")
@click.option("--include-invalid", is_flag=True, help="Export the invalid datasets too (a sync does not publish them).")
@click.pass_obj
def export(env: Env, source_name: str | None, fmt: str, output: Path | None, include_invalid: bool) -> None:
    """Write the catalogue a sync publishes as DCAT-AP-NL 3.0 RDF (deterministic, self-contained)."""
    echo_export(jobs.export(env.config, source_name, fmt, include_invalid), output)


def _target_options(func: Any) -> Any:
    options = [
        click.option("--target", "target_name", help="A target profile named in the configuration (production only when named)."),
        click.option("--target-url", help="An ad-hoc target CKAN without a config entry (API key from $HARVESTER_API_KEY)."),
        click.option("--owner-org", help="With --target-url: the data owner's organisation on the target."),
        click.option("--adopt", is_flag=True, help="Take over same-identifier datasets this harvester did not create."),
        click.option("--overwrite-drift", is_flag=True, help="Overwrite datasets edited on the target since our last write."),
        click.option("--force-withdraw", is_flag=True, help="Withdraw even when more than the threshold would go."),
        click.option("--out", "--plan-out", "plan_out", type=click.Path(dir_okay=False, path_type=Path),
                     help="Save the plan as JSON to this file (a dry run's: for `harvester apply FILE`)."),
        click.option("--diff", is_flag=True, help="Show each dataset's changes field by field."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command()
@_source_option
@_target_options
@click.option("--show", "show_name", metavar="NAME", help="Show one dataset of the plan in full (its name, source id or identifier).")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 6 when the plan would write (whatever else it holds), 0 when there is nothing "
                   "to do; otherwise as usual (1 when datasets need a person).")
@click.pass_obj
def plan(env: Env, source_name: str | None, target_name: str | None, target_url: str | None,
         owner_org: str | None, adopt: bool, overwrite_drift: bool, force_withdraw: bool, plan_out: Path | None,
         diff: bool, show_name: str | None, detailed_exitcode: bool) -> Any:
    """Plan create / update / withdraw against the target from the last harvest; no writes.

    Prints a line per dataset that would change and a summary; --out FILE saves the plan for
    `harvester apply FILE`.
    """
    progress = env.progress()
    try:
        planned = jobs.plan_sync(
            env.config, source_name, jobs.TargetChoice(target_name, target_url, owner_org),
            jobs.SyncOptions(adopt=adopt, overwrite_drift=overwrite_drift, force_withdraw=force_withdraw),
            plan_out, progress=progress,
        )
    finally:
        progress.finish()
    if show_name is not None:
        _show_one(planned.plan, show_name)
    elif env.as_json:
        echo_json(planned.to_dict())
    else:
        echo_plan(planned, quiet=env.quiet, unchanged=env.verbose > 0, diff=diff)
    if detailed_exitcode and planned.pending:
        click.get_current_context().exit(ExitCode.CHANGES_PENDING)
    return planned


def _show_one(plan: Any, name: str) -> None:
    action = find_action(plan, name)
    if action is None:
        raise UsageError(f"no dataset {name!r} in the plan (give its name, source id or identifier)")
    echo_action(action)


@main.command()
@click.option("--dry-run", is_flag=True, help="Stop after the plan: print it, write nothing to the target.")
@_source_option
@_mode_options
@click.option("--check-urls", is_flag=True, help="Check that access and download URLs answer (for the quality score).")
@_target_options
@click.pass_obj
def sync(env: Env, dry_run: bool, source_name: str | None, full: bool, incremental: bool, check_urls: bool,
         target_name: str | None, target_url: str | None, owner_org: str | None, adopt: bool,
         overwrite_drift: bool, force_withdraw: bool, plan_out: Path | None, diff: bool) -> Any:
    """Harvest, map, validate, plan and apply: the scheduled job. Writes a JSON and HTML run report."""
    options = jobs.SyncOptions(dry_run=dry_run, mode=_mode(full, incremental), adopt=adopt,
                               overwrite_drift=overwrite_drift, force_withdraw=force_withdraw, check_urls=check_urls)
    progress = env.progress()
    try:
        result = jobs.sync(env.config, source_name, jobs.TargetChoice(target_name, target_url, owner_org), options,
                           plan_out, progress=progress)
    finally:
        progress.finish()
    _echo_run(env, result, diff)
    return result


def _echo_run(env: Env, result: Any, diff: bool) -> None:
    if env.as_json:
        echo_json(result.summary())
    else:
        echo_sync(result, quiet=env.quiet, unchanged=env.verbose > 0, diff=diff)


@main.command()
@click.argument("plan_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--diff", is_flag=True, help="Show each dataset's changes field by field.")
@click.pass_obj
def apply(env: Env, plan_file: Path, diff: bool) -> Any:
    """Apply exactly the plan saved in FILE (`plan --out FILE`).

    Refused, with the reason and exit code 3, when since the plan was made the source was
    harvested again, the mapping tables or shapes changed, or a planned dataset changed on the
    target.
    """
    progress = env.progress()
    try:
        result = jobs.apply_plan(env.config, plan_file, progress=progress)
    finally:
        progress.finish()
    _echo_run(env, result, diff)
    return result


@main.command()
@click.option("--source", "source_name", help="Only runs of this source.")
@click.option("--limit", default=20, show_default=True, help="How many runs.")
@click.pass_obj
def runs(env: Env, source_name: str | None, limit: int) -> None:
    """List past runs, newest first: kind, dry run or applied, target, outcome, counts."""
    found = jobs.runs(env.config, source_name, limit)
    if env.as_json:
        echo_json([r.to_dict() for r in found])
    else:
        echo_runs(found, env.config.state)


@main.command()
@click.argument("run_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.option("--full", is_flag=True, help="JSON only: add each dataset's whole target package (from the state store).")
@click.pass_obj
def report(env: Env, run_id: int, fmt: str, output: Path | None, full: bool) -> None:
    """Print or write the report of run RUN_ID."""
    if full and fmt != "json":
        raise click.UsageError("--full goes with --format json")
    echo_report(jobs.run_report(env.config, run_id, fmt, full), output)


@main.command()
@click.option("--source-url", help="The source CKAN's base URL (default: https://onderwijsdata.duo.nl).")
@click.option("--organization", help="Only this organisation's datasets at the source.")
@click.option("--owner-org", help="The data owner's organisation on data.overheid.nl.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path(DEFAULT_CONFIG_NAME),
              show_default=True, help="Where to write the configuration (never over an existing file).")
@click.pass_obj
def init(env: Env, source_url: str | None, organization: str | None, owner_org: str | None, output: Path) -> None:
    """Write a commented starting configuration: a CKAN source, data.overheid.nl's test and
    production targets."""
    echo_init(jobs.init_config(output, source_url, organization, owner_org))


if __name__ == "__main__":  # pragma: no cover
    main()
