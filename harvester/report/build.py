"""Run reports: what one sync run did, as plain JSON data, written beside the run's HTML page.

    json_path, html_path = write_run_reports(result, config.reports)  # run-<id>.json, .html
    report = build_report(result)                                     # the same, as one dict
    print(render_text(load_report(config.reports, run_id)))           # `harvester report RUN_ID`

The report holds the run's counts per action (planned counts on a dry run), the harvest's
completeness (full or incremental, complete or not, its problems), every dataset's entry
(harvester.report.entries: its action, the field-level diff of an update, withdrawal or
conflict, its validation findings, unmapped values, the target's rules it breaks and answers,
its quality score), a "needs a person" list (conflicts, invalid datasets, failed writes and
withdrawals held back by the threshold) and the catalogue's metadata quality score
(harvester.report.quality). Its JSON form follows report.schema.json (shipped beside this
module). The HTML page is harvester.report.html's, the terminal text harvester.report.text's.

`write_run_reports` writes both files as streams: it goes through the plan's actions once,
writing each dataset's entry to the JSON file as it is made and keeping for the page only what
the page shows of it (harvester.report.sections), then renders the page into its file. The
packages sent are left out (the state store holds them): `full=True` adds them, and
harvester.report.files.copy_with_packages adds them to a stored report.

The report is built from what a sync run produced, read through the structural types below
(RunResult, RunPlan, ReportedAction): harvester.jobs.SyncResult is one, without this package
importing it.

Secrets: a report is built only from the run's result; it never holds environment variables or
HTTP headers. As a second line of defence every report, its JSON file, its HTML page and its
text form are scrubbed of secret-named environment variables' values (harvester.report.scrub).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harvester.report.entries import (
    FindingKinds,
    dataset_entry,
    jsonable,
    need_of,
    needs_order,
)
from harvester.report.files import JsonReportWriter, atomic_file
from harvester.report.html import write_html
from harvester.report.labels import COUNT_KEYS, OUTCOME_LABELS
from harvester.report.quality import CatalogueScore
from harvester.report.scrub import scrub_data, secret_values
from harvester.report.sections import Sections
from harvester.version import __version__

if TYPE_CHECKING:  # pragma: no cover - a type of the run's harvest, read through getattr
    from harvester.source.harvest import HarvestSummary

__all__ = [
    "REPORT_FORMAT",
    "SCHEMA_PATH",
    "ReportedAction",
    "RunPlan",
    "RunReport",
    "RunResult",
    "build_report",
    "load_report",
    "report_paths",
    "write_reports",
    "write_run_reports",
]

REPORT_FORMAT = "dcat-ap-nl-harvester/run-report/2"
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")

#: A plan's own count keys -> the report's (COUNT_KEYS), for the planned counts of a dry run.
_PLANNED_AS = {"create": "created", "update": "updated", "unchanged": "unchanged",
               "withdraw": "withdrawn", "conflict": "conflict", "invalid": "invalid",
               "withdraw_held": "withdraw_held", "skip": "skipped"}
#: The keys a report has after its datasets (known once every dataset was seen).
_TRAILER_KEYS = ("needs_person", "quality", "finding_kinds")


# --- what a report is built from ----------------------------------------------------------------


class ReportedAction(Protocol):
    """One dataset's planned action as the report reads it (harvester.plan.Action is one).

    `action` and `identifier` are required; the report reads every other attribute with a
    default when an action lacks it."""

    action: str
    identifier: str
    source_id: str | None
    title: str
    name: str | None
    target_id: str | None
    reason: str
    changes: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    unmapped: list[dict[str, Any]]
    problems: list[dict[str, str]]
    messages: list[str]
    held: bool
    restore: bool
    adopt: bool
    outcome: str | None
    quality: dict[str, Any] | None
    package: dict[str, Any] | None


class RunPlan(Protocol):
    """The plan of a run as the report reads it (harvester.plan.Plan is one). The report goes
    through its actions once."""

    owner_org: str

    @property
    def actions(self) -> Iterable[ReportedAction]: ...

    @property
    def notes(self) -> Iterable[str]: ...

    def counts(self) -> Mapping[str, int]: ...


class RunResult(Protocol):
    """What one sync run produced, as the report reads it (harvester.jobs.SyncResult is one)."""

    run_id: int
    source: str
    target: str
    dry_run: bool
    applied: dict[str, int]
    counters: dict[str, int]
    target_requests: int
    target_writes: int
    error: str | None
    started_at: str
    finished_at: str

    @property
    def harvest(self) -> HarvestSummary | None: ...

    @property
    def plan(self) -> RunPlan | None: ...

    @property
    def outcome(self) -> str: ...

    def counts(self) -> Mapping[str, int]: ...


#: the quality scores the state store keeps beside these datasets' results, by source id
StoredQuality = Callable[[list[str]], "Mapping[str, dict[str, Any]]"]
#: how many actions the report reads the stored quality scores of at once
_QUALITY_BATCH = 1000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- the run ------------------------------------------------------------------------------------


def _counts(result: RunResult) -> tuple[str, dict[str, int], dict[str, int] | None]:
    """(kind, counts in COUNT_KEYS, the plan's own counts)."""
    plan = getattr(result, "plan", None)
    planned = dict(plan.counts()) if plan is not None else None
    counts = {key: 0 for key in COUNT_KEYS}
    if getattr(result, "dry_run", False):
        for key, value in (planned or {}).items():
            if key in _PLANNED_AS:
                counts[_PLANNED_AS[key]] += int(value)
        return "planned", counts, planned
    for key, value in (result.counts() if plan is not None else {}).items():
        if key in counts:
            counts[key] = int(value)
    return "done", counts, planned


def _outcome(result: RunResult) -> str:
    try:
        outcome = str(result.outcome)
    except Exception:  # noqa: BLE001 - a report is written whatever state the result is in
        outcome = "failed"
    return outcome if outcome in OUTCOME_LABELS else "failed"


def _run_facts(result: RunResult, generated_at: str | None) -> dict[str, Any]:
    """Which run this is, where it went, when, and how it ended."""
    plan = getattr(result, "plan", None)
    return {
        "format": REPORT_FORMAT,
        "harvester_version": __version__,
        "run_id": int(result.run_id),
        "generated_at": generated_at or _now(),
        "started_at": getattr(result, "started_at", "") or "",
        "finished_at": getattr(result, "finished_at", "") or "",
        "source": result.source,
        "target": result.target,
        "owner_org": getattr(plan, "owner_org", None) if plan is not None else None,
        "dry_run": bool(result.dry_run),
        "outcome": _outcome(result),
        "error": getattr(result, "error", None),
    }


def _count_facts(result: RunResult) -> dict[str, Any]:
    """The counts per action (planned on a dry run), per stage and of the target's requests."""
    kind, counts, planned = _counts(result)
    return {
        "counts_kind": kind,
        "counts": counts,
        "planned": planned,
        "applied": jsonable(dict(getattr(result, "applied", None) or {})),
        "stages": jsonable(dict(getattr(result, "counters", None) or {})),
        "target_requests": int(getattr(result, "target_requests", 0) or 0),
        "target_writes": int(getattr(result, "target_writes", 0) or 0),
    }


def _harvest(result: RunResult) -> dict[str, Any] | None:
    summary = getattr(result, "harvest", None)
    if summary is None:
        return None
    data = summary.to_dict() if hasattr(summary, "to_dict") else dict(vars(summary))
    return jsonable(data)


def _completeness(result: RunResult, harvest: dict[str, Any] | None) -> dict[str, Any]:
    """Whether the harvest saw the whole source, and every problem of the harvest and run."""
    facts = harvest or {}
    problems = [str(p) for p in facts.get("problems") or []]
    if facts.get("error"):
        problems.append(str(facts["error"]))
    error = getattr(result, "error", None)
    if error and str(error) not in problems:
        problems.append(str(error))
    return {
        "mode": facts.get("mode"),
        "complete": bool(facts.get("complete")),
        "harvest_outcome": facts.get("outcome"),
        "seen": facts.get("seen"),
        "total": facts.get("total"),
        "problems": problems,
    }


def _header(result: RunResult, generated_at: str | None) -> dict[str, Any]:
    """What a report says before its datasets: the run, its counts, the harvest and the notes."""
    plan = getattr(result, "plan", None)
    harvest = _harvest(result)
    return {
        **_run_facts(result, generated_at),
        **_count_facts(result),
        "harvest": harvest,
        "completeness": _completeness(result, harvest),
        "notes": [str(n) for n in (plan.notes if plan is not None else [])],
    }


# --- the datasets -------------------------------------------------------------------------------


def _score_for(action: ReportedAction, quality: Mapping[str, dict] | None) -> dict | None:
    """An action's quality score: from the `quality` map (by identifier or source id), else its
    own."""
    if quality:
        for key in (getattr(action, "identifier", None), getattr(action, "source_id", None)):
            if key and key in quality:
                return quality[key]
    return getattr(action, "quality", None) or None


def _stored(action: ReportedAction, score: dict | None) -> bool:
    """Whether an action's quality score is to be read from the state store: it has none, and
    it was planned from its result's keys alone (its `findings_count` is set)."""
    return score is None and bool(action.source_id) and getattr(action, "findings_count", None) is not None


class RunReport:
    """A run's report made dataset by dataset: its `header`, then its `datasets()` (the plan's
    actions, gone through once), then its `trailer()` (what is known once every dataset was
    seen: the "needs a person" list, the catalogue's quality score, the findings' texts).

    `quality` maps a dataset's identifier (or source id) to its `score_dataset()` result; an
    action's own `quality` is used when the map has none, and for an action planned from its
    result's keys alone (its `findings_count` set, its quality not read) `stored_quality(source
    ids)` gives it, read for a batch of actions at once. Without `catalogue_quality` the
    catalogue's score is the `score_catalogue()` of the scores of the datasets that are not
    invalid. `full`: each dataset's entry has the
    package sent (its action's `package`).
    """

    def __init__(self, result: RunResult, *, quality: Mapping[str, dict] | None = None,
                 catalogue_quality: dict | None = None, generated_at: str | None = None,
                 full: bool = False, stored_quality: StoredQuality | None = None) -> None:
        self.secrets = secret_values()
        self.header = scrub_data(jsonable(_header(result, generated_at)), self.secrets)
        plan = getattr(result, "plan", None)
        self._actions: Iterable[ReportedAction] = plan.actions if plan is not None else ()
        self._quality, self._catalogue, self._full = quality, catalogue_quality, full
        self._stored_quality = stored_quality
        self.kinds = FindingKinds()
        self._needs: list[dict[str, Any]] = []
        self._scores = CatalogueScore()
        self._scored = 0

    def _scored_actions(self) -> Iterator[tuple[ReportedAction, dict | None]]:
        """Each action with its quality score; those planned from their keys alone get theirs
        from `stored_quality`, read for a batch of actions at once."""
        actions = iter(self._actions)
        while batch := list(islice(actions, _QUALITY_BATCH)):
            scores = [_score_for(action, self._quality) for action in batch]
            wanted = [action.source_id for action, score in zip(batch, scores) if _stored(action, score)]
            stored = self._stored_quality(wanted) if wanted and self._stored_quality is not None else {}
            for action, score in zip(batch, scores):
                yield action, (stored.get(action.source_id) if _stored(action, score) else score)

    def datasets(self) -> Iterator[dict[str, Any]]:
        """Each dataset's entry, scrubbed, as its action comes (the actions are gone through
        once)."""
        for action, score in self._scored_actions():
            package = getattr(action, "package", None) if self._full else None
            entry = scrub_data(dataset_entry(action, score, self.kinds, package), self.secrets)
            if score and action.action != "invalid":
                self._scores.add(score)
            self._scored += 1 if entry.get("quality") else 0
            need = need_of(entry, self.kinds)
            if need is not None:
                self._needs.append(need)
            yield entry

    def trailer(self) -> dict[str, Any]:
        """The "needs a person" list, the catalogue's quality score and the findings' texts."""
        catalogue = self._catalogue
        if catalogue is None and self._scores.count:
            catalogue = self._scores.result()
        trailer = {
            "needs_person": sorted(self._needs, key=needs_order),
            "quality": {"catalogue": jsonable(catalogue), "datasets_scored": self._scored},
            "finding_kinds": self.kinds.table,
        }
        return scrub_data(jsonable(trailer), self.secrets)


class _LoadedReport:
    """A report held whole (built, or loaded from its JSON file) in RunReport's shape."""

    def __init__(self, report: Mapping[str, Any]) -> None:
        self.secrets = secret_values()
        data = scrub_data(jsonable(report), self.secrets)
        self.header = {k: v for k, v in data.items()
                       if k not in _TRAILER_KEYS and k != "datasets"}
        self._datasets = data.get("datasets") or []
        self._trailer = {k: data.get(k) for k in _TRAILER_KEYS}
        self._trailer["finding_kinds"] = self._trailer["finding_kinds"] or []
        self.kinds = FindingKinds(self._trailer["finding_kinds"])

    def datasets(self) -> Iterator[dict[str, Any]]:
        return iter(self._datasets)

    def trailer(self) -> dict[str, Any]:
        return self._trailer


def build_report(result: RunResult, *, quality: dict[str, dict] | None = None,
                 catalogue_quality: dict | None = None, generated_at: str | None = None,
                 full: bool = False) -> dict[str, Any]:
    """The run report of a sync result as one dict (plain JSON data; see report.schema.json)
    what `write_run_reports` writes; see RunReport for the arguments."""
    report = RunReport(result, quality=quality, catalogue_quality=catalogue_quality,
                       generated_at=generated_at, full=full)
    datasets = list(report.datasets())
    return {**report.header, "datasets": datasets, **report.trailer()}


# --- files --------------------------------------------------------------------------------------


def report_paths(folder: Path, run_id: int) -> tuple[Path, Path]:
    """(run-<id>.json, run-<id>.html) in `folder`."""
    folder = Path(folder)
    return folder / f"run-{int(run_id)}.json", folder / f"run-{int(run_id)}.html"


def _write(report: RunReport | _LoadedReport, folder: Path) -> tuple[Path, Path]:
    """Write a report's JSON file as its datasets come, then its page from what was kept."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = report_paths(folder, report.header["run_id"])
    sections = Sections(report.kinds)
    with atomic_file(json_path) as handle:
        writer = JsonReportWriter(handle)
        writer.begin(report.header)
        for entry in report.datasets():
            writer.dataset(entry)
            sections.add(entry)
        trailer = report.trailer()
        writer.end(trailer)
    with atomic_file(html_path) as handle:
        write_html({**report.header, **trailer}, sections.finish(), handle)
    return json_path, html_path


def write_run_reports(result: RunResult, folder: Path, *, quality: dict[str, dict] | None = None,
                      catalogue_quality: dict | None = None, generated_at: str | None = None,
                      full: bool = False, stored_quality: StoredQuality | None = None) -> tuple[Path, Path]:
    """Write the report of a sync result as run-<id>.json and run-<id>.html into `folder`
    (created if needed), each atomically (a temporary file renamed over the final name), going
    through the plan's actions once; see RunReport for the arguments. Returns their paths."""
    return _write(RunReport(result, quality=quality, catalogue_quality=catalogue_quality,
                            generated_at=generated_at, full=full, stored_quality=stored_quality), folder)


def write_reports(report: Mapping[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write a report held whole (`build_report`, `load_report`) as run-<id>.json and
    run-<id>.html into `folder`, as `write_run_reports` does."""
    return _write(_LoadedReport(report), folder)


def load_report(folder: Path, run_id: int) -> dict[str, Any]:
    """The JSON report of run `run_id` in `folder` (FileNotFoundError when there is none)."""
    json_path, _ = report_paths(folder, run_id)
    with open(json_path, encoding="utf-8") as handle:
        return json.load(handle)
