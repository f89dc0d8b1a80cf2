"""What the `harvester` command shows of a job's result (harvester.jobs): aligned rows, a line
per run or dataset, the plan (harvester.console.plan), or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harvester.console.plan import (
    action_lines,
    dataset_line,
    detail_lines,
    needs_person,
    plan_lines,
    summary_line,
)

if TYPE_CHECKING:  # pragma: no cover - types only: showing a result needs none of the job stack
    from harvester.jobs import (
        CatalogueExport,
        CatalogueValidation,
        DocumentsValidation,
        DocumentValidation,
        PlanResult,
        RunReport,
        StoreStatus,
        SyncResult,
    )
    from harvester.plan import Action
    from harvester.source.harvest import HarvestSummary
    from harvester.store.rows import Run


def echo_table(rows: list[tuple[str, str]], err: bool = False) -> None:
    """Print `label value` rows aligned."""
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        click.echo(f"{label:<{width}}  {value}", err=err)


def echo_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout (what `--json` gives)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)


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


# --- the state store and its runs ------------------------------------------------------------------


def run_line(run: dict[str, Any] | None) -> str:
    """One run (as `Run.to_dict()` gives it) on one line: kind, mode, outcome, times and counts."""
    if not run:
        return "-"
    return (f"#{run['id']} {run['kind']} {_what(run)} {_outcome(run)} "
            f"started {run['started_at']} finished {run['finished_at'] or '-'}; {_counts(run)}")


def echo_status(status: StoreStatus) -> None:
    """The state store, then per source its record counts and last (complete) run."""
    if not status.exists:
        click.echo(f"no state store at {status.state}: nothing harvested yet (run `harvester harvest`)")
        return
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


def echo_runs(runs: list[Run], state: Path) -> None:
    """A row per run: id, start time, kind, dry run or applied (a harvest: its mode), target,
    outcome, counts per action, source."""
    if not runs:
        where = "" if state.exists() else " (no state store there: nothing harvested yet)"
        click.echo(f"no runs in {state}{where}")
        return
    rows = [(f"#{r['id']}", r["started_at"], r["kind"], _what(r), r["counts"].get("target") or "-",
             _outcome(r), _counts(r), f"[{r['source']}]") for r in (run.to_dict() for run in runs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _what(run: dict[str, Any]) -> str:
    """A sync or apply run: `dry run` or `applied`; a harvest: its mode."""
    counts = run.get("counts") or {}
    if run["kind"] == "apply" or "dry_run" in counts:
        return "dry run" if counts.get("dry_run") else "applied"
    return str(run["mode"])


def _outcome(run: dict[str, Any]) -> str:
    """A sync's or apply's own outcome (its harvest's is the run's outcome)."""
    return str((run.get("counts") or {}).get("outcome") or run["outcome"])


def _counts(run: dict[str, Any]) -> str:
    """The counts per action of a sync or apply (those that are not 0), else the harvest's."""
    counts = run.get("counts") or {}
    if isinstance(counts.get("sync"), dict):
        done = [f"{key} {value}" for key, value in counts["sync"].items() if value]
        return ", ".join(done) or "nothing to do"
    keys = ("seen", "new", "changed", "unchanged", "gone", "errors")
    return ", ".join(f"{k} {counts[k]}" for k in keys if k in counts)


# --- the catalogue ---------------------------------------------------------------------------------


def echo_validation(validation: CatalogueValidation) -> None:
    """Each dataset, valid or not, with its SHACL findings and mapping issues and, apart, what
    data.overheid.nl would refuse; the catalogue record's findings; the totals."""
    for item in validation.datasets:
        state = "valid" if item["valid"] else "INVALID"
        click.echo(f"{state:<8} {item['name']}  {item['identifier']}")
        echo_lines(map(_finding_line, item["findings"]))
        for refusal in item.get("refusals") or []:
            click.echo(f"  [data.overheid.nl would refuse] {refusal['field']}: {refusal['message']}")
    for finding in validation.catalogue["findings"]:
        click.echo(f"catalogue [{finding['severity']}] {finding['focus_node']} {finding.get('path') or ''}: {finding['message']}")
    click.echo(f"{validation.valid} valid, {validation.invalid} invalid of {validation.total} datasets; "
               f"{validation.violations} violation(s), {validation.warnings} warning(s); "
               f"data.overheid.nl would refuse {validation.refused} package(s)")


def _finding_line(finding: dict[str, Any]) -> str:
    """A SHACL finding or mapping issue of a dataset: severity, where, the value, the message."""
    where = finding.get("focus_node") or finding.get("dataset")
    path = finding.get("path") or finding.get("field") or ""
    value = "= " + str(finding["value"]) if finding.get("value") else ""
    return f"  [{finding['severity']}] {where} {path} {value}: {finding['message']}"


def echo_document_validation(validation: DocumentsValidation, *, quiet: bool = False, as_json: bool = False) -> None:
    """Files validated on their own (`validate FILE...`): per file (unless `quiet`) a line with its
    verdict, then its findings grouped per focus node; a file that could not be read as an error on
    stderr; the bilingual summary last. `as_json`: the whole result as one JSON document instead
    (the errors still on stderr)."""
    if as_json:
        echo_json(validation.to_dict())
    for document in validation.documents:
        if document.error is not None:
            click.echo(f"error: {document.error}", err=True)
        elif not (as_json or quiet):
            echo_lines(_document_lines(document))
    if not as_json:
        click.echo(documents_summary(validation.total, validation.conform, validation.not_conform,
                                     validation.unreadable))


def _document_lines(document: DocumentValidation) -> Iterable[str]:
    """A file's verdict and counts, then each focus node with its findings."""
    counts = document.counts()
    verdict = "voldoet / conforms" if document.conforms else "voldoet NIET / does NOT conform"
    yield (f"{document.path}  ({document.format_name}, {counts['triples']} triples, {counts['judged']} "
           f"node(s) judged): {verdict}; {counts['violations']} violation(s), {counts['warnings']} warning(s)")
    for focus, found in document.by_focus_node():
        node = document.nodes.get(focus, {})
        types = " ".join(document.short(t) for t in node.get("types", []))
        yield f"  {node.get('label', focus)}" + (f"  ({types})" if types else "")
        for finding in found:
            value = f" = {document.shown_value(finding.value)}" if finding.value is not None else ""
            yield f"    [{finding.severity}] {document.short(finding.path)}{value}: {finding.message}"


def documents_summary(total: int, conform: int, not_conform: int, unreadable: int = 0) -> str:
    """`3 bestanden, 2 voldoen, 1 voldoet niet / 3 files, 2 conform, 1 does not` (the unreadable
    ones only when there are)."""
    dutch = [_count(total, "bestand", "bestanden"), _count(conform, "voldoet", "voldoen"),
             _count(not_conform, "voldoet niet", "voldoen niet")]
    english = [_count(total, "file", "files"), _count(conform, "conforms", "conform"),
               _count(not_conform, "does not", "do not")]
    if unreadable:
        dutch.append(f"{unreadable} onleesbaar")
        english.append(f"{unreadable} unreadable")
    return f"{', '.join(dutch)} / {', '.join(english)}"


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def echo_export(export: CatalogueExport, output: Path | None) -> None:
    """The mapping issues on stderr; the RDF to `output`, else to stdout."""
    for issue in export.issues:
        click.echo(f"mapping {issue}", err=True)
    if export.left_out:
        click.echo(f"left out {len(export.left_out)} invalid dataset(s), which a sync does not publish: "
                   f"{', '.join(export.left_out)} (--include-invalid exports them)", err=True)
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


# --- plans and runs that publish ---------------------------------------------------------------------


def echo_plan(result: PlanResult, *, quiet: bool = False, unchanged: bool = False, diff: bool = False) -> None:
    """The plan's lines (unless `quiet`), where it was saved, then its summary line."""
    if not quiet:
        echo_lines(plan_lines(result.plan, unchanged=unchanged, diff=diff))
    if result.plan_file is not None:
        click.echo(f"saved the plan to {result.plan_file}; apply it with `harvester apply {result.plan_file}`")
    click.echo(summary_line(result.counts()))


def echo_action(action: Action) -> None:
    """One dataset of a plan in full (`plan --show NAME`)."""
    click.echo(dataset_line(action))
    echo_lines(detail_lines(action))


def echo_sync(result: SyncResult, *, quiet: bool = False, unchanged: bool = False, diff: bool = False) -> None:
    """A run that published or planned: what it did per dataset (unless `quiet`), the run in
    rows, then its summary line."""
    plan = result.plan
    if plan is not None and not quiet:
        if result.dry_run:
            echo_lines(plan_lines(plan, unchanged=unchanged, diff=diff))
        else:
            echo_lines(_applied_lines(result, unchanged=unchanged, diff=diff))
    echo_table(_sync_rows(result))
    if plan is not None:
        click.echo(summary_line(result.counts(), applied=not result.dry_run))


def _applied_lines(result: SyncResult, *, unchanged: bool, diff: bool) -> Iterable[str]:
    """Of an applied run: a line per dataset written, failed or needing a person; the notes."""
    assert result.plan is not None
    shown = [a for a in result.plan.actions if _shown_after_apply(a, unchanged)]
    yield from action_lines(result.plan, shown, legend="  = unchanged" if unchanged else "", diff=diff)


def _shown_after_apply(action: Action, unchanged: bool) -> bool:
    """Written or tried, needing a person, or (when asked) unchanged."""
    return action.outcome is not None or needs_person(action) or (unchanged and action.action == "unchanged")


def _sync_rows(result: SyncResult) -> list[tuple[str, str]]:
    """The run's target, harvest, outcome, where its report is, and its error."""
    harvest = result.harvest
    listing = "complete" if harvest and harvest.complete else "INCOMPLETE"
    what = "dry run" if result.dry_run else ("applied" if result.kind == "sync" else "applied a saved plan")
    rows = [("run", f"{result.run_id} ({what}) -> {result.target}"),
            ("harvest", f"{'run ' + str(harvest.run_id) + ', ' if result.kind == 'apply' and harvest else ''}"
                        f"{harvest.mode if harvest else None}, listing {listing}"),
            ("outcome", result.outcome),
            ("report", str(result.report_html))]
    if result.error:
        rows.append(("error", result.error))
    return rows


def echo_init(path: Path) -> None:
    """Where the starting configuration went, and what to do next."""
    click.echo(f"wrote {path}: a starting configuration (a CKAN source; data.overheid.nl's test and production targets)")
    click.echo("next: fill in owner_org and the [sources.*.mapping] table, set $DONL_TEST_API_KEY, then")
    click.echo(f"  harvester --config {path} harvest")
    click.echo(f"  harvester --config {path} plan --target test --out plan.json")
    click.echo(f"  harvester --config {path} apply plan.json")
