"""What the `harvester` command shows: progress while a job works, then the job's result.

While a job works: a progress bar on a terminal, plain log lines elsewhere. Off a terminal (cron,
systemd, a pipe) every event is one line with a UTC timestamp and no control characters, so the
journal and log files stay readable. When it is done: the result of each job (`harvester.jobs`)
as aligned rows, per-dataset lines, or JSON.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover - types only: showing a result needs none of the job stack
    from harvester.jobs import (
        CatalogueExport,
        CatalogueValidation,
        RunReport,
        StoreStatus,
        SyncResult,
    )
    from harvester.plan import Action, Plan
    from harvester.source.harvest import HarvestSummary
    from harvester.store.rows import Run

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", self.converter(record.created))


def setup_logging(verbose: int = 0, quiet: bool = False, stream: IO[str] | None = None) -> None:
    """Log to stderr: warnings when quiet, info by default, debug with -v."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_UTCFormatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "rdflib", "pyshacl", "ckanapi"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class Progress:
    """Progress of the stages of a run (harvest, map+validate, plan, apply).

    On a terminal: one line, redrawn, with a bar per stage (the stages interleave when a run
    streams batch by batch). Off a terminal: a log line per stage every `every` items and at
    the end of a stage.
    """

    def __init__(self, stream: IO[str] | None = None, enabled: bool = True, every: int = 500) -> None:
        self.stream = stream or sys.stderr
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = enabled
        self.every = every
        self._stages: dict[str, tuple[int, int | None]] = {}
        self._logged: dict[str, int] = {}
        self._log = logging.getLogger("harvester.progress")

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        self._stages[stage] = (done, total)
        if self.tty:
            line = "  ".join(self.bar(name, *state, width=12) for name, state in self._stages.items())
            self.stream.write("\r" + line[:200])
            self.stream.flush()
        elif done - self._logged.get(stage, 0) >= self.every or (total is not None and done == total):
            self._logged[stage] = done
            self._log.info("%s: %d%s", stage, done, f"/{total}" if total is not None else "")

    @staticmethod
    def bar(stage: str, done: int, total: int | None, width: int = 30) -> str:
        if not total:
            return f"{stage} {done}"
        filled = int(width * min(done, total) / total)
        return f"{stage} [{'#' * filled}{'-' * (width - filled)}] {done}/{total}"

    def finish(self) -> None:
        if self.tty and self._stages:
            self.stream.write("\n")
            self.stream.flush()
        self._stages = {}


def echo_table(rows: list[tuple[str, str]], err: bool = False) -> None:
    """Print `label value` rows aligned."""
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        click.echo(f"{label:<{width}}  {value}", err=err)


def echo_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout (what `--json` gives)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_harvest(summary: HarvestSummary) -> None:
    """The counts of a harvest; its problems on stderr."""
    echo_table([
        ("source", f"{summary.source} ({summary.location})"),
        ("run", f"{summary.run_id} ({summary.mode}, via {summary.method or '-'})"),
        ("outcome", f"{summary.outcome}, listing {'complete' if summary.complete else 'INCOMPLETE'}"),
        ("seen", str(summary.seen)), ("new", str(summary.new)), ("changed", str(summary.changed)),
        ("unchanged", str(summary.unchanged)), ("gone", str(summary.gone)),
        ("errors", str(summary.errors)), ("requests", str(summary.requests)),
    ])
    for problem in summary.problems:
        click.echo(f"problem: {problem}", err=True)


def run_line(run: dict[str, Any] | None) -> str:
    """One run (as `Run.to_dict()` gives it) on one line: kind, mode, outcome, times and counts."""
    if not run:
        return "-"
    counts = run.get("counts") or {}
    numbers = ", ".join(f"{k} {counts[k]}" for k in ("seen", "new", "changed", "unchanged", "gone", "errors") if k in counts)
    return (f"#{run['id']} {run['kind']} {run['mode']} {run['outcome']} "
            f"started {run['started_at']} finished {run['finished_at'] or '-'}; {numbers}")


def echo_status(status: StoreStatus) -> None:
    """The state store, then per source its record counts and last (complete) run."""
    click.echo(f"state store: {status.state} (schema version {status.schema_version})")
    if not status.sources:
        click.echo("no sources harvested yet")
    for src in status.sources:
        click.echo("")
        echo_table([
            ("source", f"{src['name']} ({src['kind']}: {src['location']})"),
            ("records", f"{src['records']} at the source, {src['gone']} gone at the source"),
            ("last run", run_line(src["last_run"])),
            ("last complete run", run_line(src["last_complete_run"])),
        ])


def echo_runs(runs: list[Run]) -> None:
    """One line per run, with its source."""
    for run in runs:
        click.echo(run_line(run.to_dict()) + f" [{run.source}]")


def echo_validation(validation: CatalogueValidation) -> None:
    """Each dataset, valid or not, with its findings; the catalogue record's findings; the totals."""
    for item in validation.datasets:
        state = "valid" if item["valid"] else "INVALID"
        click.echo(f"{state:<8} {item['name']}  {item['identifier']}")
        _echo_lines(map(_finding_line, item["findings"]))
    for finding in validation.catalogue["findings"]:
        click.echo(f"catalogue [{finding['severity']}] {finding['focus_node']} {finding.get('path') or ''}: {finding['message']}")
    click.echo(f"{validation.valid} valid, {validation.invalid} invalid of {validation.total} datasets; "
               f"{validation.violations} violation(s), {validation.warnings} warning(s)")


def _finding_line(finding: dict[str, Any]) -> str:
    """A SHACL finding or mapping issue of a dataset: severity, where, the value, the message."""
    where = finding.get("focus_node") or finding.get("dataset")
    path = finding.get("path") or finding.get("field") or ""
    value = "= " + str(finding["value"]) if finding.get("value") else ""
    return f"  [{finding['severity']}] {where} {path} {value}: {finding['message']}"


def echo_export(export: CatalogueExport, output: Path | None) -> None:
    """The mapping issues on stderr; the RDF to `output`, else to stdout."""
    for issue in export.issues:
        click.echo(f"mapping {issue}", err=True)
    if output:
        output.write_bytes(export.data)
        click.echo(f"wrote {len(export.data)} bytes to {output}", err=True)
    else:
        click.echo(export.data.decode("utf-8"), nl=False)


def echo_report(report: RunReport, output: Path | None) -> None:
    """The rendered report to `output`, else to stdout."""
    if output:
        output.write_text(report.text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(report.text)


def plan_lines(plan: Plan) -> Iterator[str]:
    """The plan for a person: each action with its reason and, field by field, what it changes;
    then the plan's notes."""
    for action in plan.actions:
        yield from _action_lines(action)
    for note in plan.notes:
        yield f"note: {note}"


def _action_lines(action: Action) -> Iterator[str]:
    label = action.action + (" (held)" if action.held else "")
    yield f"{label:<10} {action.name or action.source_id}  {action.identifier}"
    yield f"           {action.reason}"
    yield from map(_change_line, action.changes)
    for problem in action.problems:
        yield f"    ! {problem['field']}: {problem['message']}"
    for finding in action.findings:
        if finding.get("severity") == "violation":
            yield f"    ! {finding.get('focus_node')} {finding.get('path') or ''}: {finding['message']}"
    for issue in action.unmapped:
        yield f"    ? {issue['field']} {issue.get('value') or ''}: {issue['message']}"


def _change_line(change: dict[str, Any]) -> str:
    """`+ field: new` for an added field, `- field: old` for a removed one, else `~ field: old -> new`."""
    old, new = (json.dumps(change.get(key), ensure_ascii=False) for key in ("old", "new"))
    if change.get("old") is None:
        return f"    + {change['field']}: {new}"
    if change.get("new") is None:
        return f"    - {change['field']}: {old}"
    return f"    ~ {change['field']}: {old} -> {new}"


def echo_plan(plan: Plan, *, actions: bool = True) -> None:
    """The plan's actions (unless `actions` is false), then its counts."""
    if actions:
        _echo_lines(plan_lines(plan))
    echo_table([(k, str(v)) for k, v in plan.counts().items()])


def echo_sync(result: SyncResult, *, actions: bool = True) -> None:
    """A dry run's plan (unless `actions` is false), then the run in rows."""
    if result.dry_run and result.plan is not None and actions:
        _echo_lines(plan_lines(result.plan))
    echo_table(_sync_rows(result))


def _sync_rows(result: SyncResult) -> list[tuple[str, str]]:
    """The run's target, harvest, outcome and counts, where its report is, and its error."""
    harvest = result.harvest
    listing = "complete" if harvest and harvest.complete else "INCOMPLETE"
    rows = [("run", f"{result.run_id} ({'dry run' if result.dry_run else 'applied'}) -> {result.target}"),
            ("harvest", f"{harvest.mode if harvest else None}, listing {listing}"),
            ("outcome", result.outcome)]
    rows += [(k, str(v)) for k, v in result.counts().items()]
    rows += [("report", str(result.report_html))]
    if result.error:
        rows.append(("error", result.error))
    return rows


def _echo_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)
