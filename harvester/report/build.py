"""Run reports: what one sync run did, as plain JSON data, written beside the run's HTML page.

    report = build_report(result, quality=scores, catalogue_quality=score_catalogue(...))
    json_path, html_path = write_reports(report, config.reports)   # run-<id>.json, run-<id>.html
    print(render_text(load_report(config.reports, run_id)))         # `harvester report RUN_ID`

The report holds the run's counts per action (planned counts on a dry run), the harvest's
completeness (full or incremental, complete or not, its problems), every dataset's action with
the field-level diff of an update, its validation findings, the target's rejection messages and
its unmapped values, a "needs a person" list (conflicts, invalid datasets, failed writes and
withdrawals held back by the threshold) and the metadata quality score per dataset and for the
catalogue (harvester.report.quality). Its JSON form follows report.schema.json (shipped beside this
module). The HTML page is harvester.report.html's, the terminal text harvester.report.text's.

The report is built from what a sync run produced, read through the structural types below
(RunResult, RunPlan, ReportedAction): harvester.jobs.SyncResult is one, without this package
importing it.

Secrets: a report is built only from the run's result; it never holds environment variables or
HTTP headers. As a second line of defence every report, its JSON file, its HTML page and its
text form are scrubbed of secret-named environment variables' values (harvester.report.scrub).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harvester.report.html import render_html
from harvester.report.labels import COUNT_KEYS, NEEDS_LABELS, OUTCOME_LABELS
from harvester.report.quality import score_catalogue
from harvester.report.scrub import scrub_data, secret_values
from harvester.version import __version__

if TYPE_CHECKING:  # pragma: no cover - a type of the run's harvest, read through getattr
    from harvester.source.harvest import HarvestSummary

__all__ = [
    "REPORT_FORMAT",
    "SCHEMA_PATH",
    "ReportedAction",
    "RunPlan",
    "RunResult",
    "build_report",
    "load_report",
    "report_paths",
    "write_reports",
]

REPORT_FORMAT = "dcat-ap-nl-harvester/run-report/1"
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")

#: A plan's own count keys -> the report's (COUNT_KEYS), for the planned counts of a dry run.
_PLANNED_AS = {"create": "created", "update": "updated", "unchanged": "unchanged",
               "withdraw": "withdrawn", "conflict": "conflict", "invalid": "invalid",
               "withdraw_held": "withdraw_held"}


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


class RunPlan(Protocol):
    """The plan of a run as the report reads it (harvester.plan.Plan is one)."""

    owner_org: str

    @property
    def actions(self) -> Sequence[ReportedAction]: ...

    @property
    def notes(self) -> Sequence[str]: ...

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


# --- plain data ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Plain JSON data: dicts with string keys, lists, strings, numbers, booleans, null."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(asdict(value))
    return str(value)


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
        "applied": _jsonable(dict(getattr(result, "applied", None) or {})),
        "stages": _jsonable(dict(getattr(result, "counters", None) or {})),
        "target_requests": int(getattr(result, "target_requests", 0) or 0),
        "target_writes": int(getattr(result, "target_writes", 0) or 0),
    }


def _harvest(result: RunResult) -> dict[str, Any] | None:
    summary = getattr(result, "harvest", None)
    if summary is None:
        return None
    data = summary.to_dict() if hasattr(summary, "to_dict") else dict(vars(summary))
    return _jsonable(data)


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


# --- the datasets -------------------------------------------------------------------------------


def _quality_for(action: ReportedAction,
                 quality: Mapping[str, dict] | None) -> dict[str, Any] | None:
    if quality:
        for key in (getattr(action, "identifier", None), getattr(action, "source_id", None)):
            if key and key in quality:
                return quality[key]
    return getattr(action, "quality", None) or None


def _needs(action: ReportedAction) -> str | None:
    """Why a person must look at this action (a NEEDS_LABELS key), or None."""
    if getattr(action, "outcome", None) == "failed":
        return "failed"
    if action.action in ("conflict", "invalid"):
        return action.action
    if action.action == "withdraw" and getattr(action, "held", False):
        return "withdraw_held"
    return None


def _listed(action: ReportedAction, name: str) -> list[Any]:
    """An action's list attribute `name` (empty when it has none)."""
    return list(getattr(action, name, None) or [])


def _findings(action: ReportedAction) -> tuple[list[Any], int]:
    """(the findings reported, how many were left out): an unchanged dataset keeps only its
    violations (the rest was reported when it was written; keeps big runs readable)."""
    findings = _listed(action, "findings")
    if action.action != "unchanged":
        return findings, 0
    kept = [f for f in findings if isinstance(f, Mapping) and f.get("severity") == "violation"]
    return kept, len(findings) - len(kept)


def _changes(action: ReportedAction) -> list[dict[str, Any]]:
    changes = []
    for change in _listed(action, "changes"):
        item = change if isinstance(change, Mapping) else _jsonable(change)
        changes.append({"field": str(item.get("field", "")), "old": _jsonable(item.get("old")),
                        "new": _jsonable(item.get("new"))})
    return changes


def _dataset(action: ReportedAction, quality: Mapping[str, dict] | None) -> dict[str, Any]:
    """One dataset's entry of the report: its action, why, and what a person needs to judge it."""
    findings, left_out = _findings(action)
    return {
        "identifier": str(action.identifier),
        "source_id": getattr(action, "source_id", None),
        "title": getattr(action, "title", "") or "",
        "name": getattr(action, "name", None),
        "target_id": getattr(action, "target_id", None),
        "action": action.action,
        "held": bool(getattr(action, "held", False)),
        "restore": bool(getattr(action, "restore", False)),
        "adopt": bool(getattr(action, "adopt", False)),
        "outcome": getattr(action, "outcome", None),
        "reason": getattr(action, "reason", "") or "",
        "needs_person": _needs(action),
        "changes": _changes(action),
        "findings": _jsonable(findings),
        "findings_left_out": left_out,
        "unmapped": _jsonable(_listed(action, "unmapped")),
        "problems": _jsonable(_listed(action, "problems")),
        "messages": [str(m) for m in _listed(action, "messages")],
        "quality": _jsonable(_quality_for(action, quality)),
    }


def _field_message(item: Mapping[str, Any]) -> str:
    return f"{item.get('field', '')}: {item.get('message', '')}"


def _need_details(entry: dict[str, Any]) -> list[str]:
    """Why a dataset needs a person: its reason, violations, unmapped errors, the target's
    rejection and messages; each said once."""
    details = [entry["reason"]] if entry["reason"] else []
    for finding in entry["findings"]:
        if isinstance(finding, Mapping) and finding.get("severity") == "violation":
            path = f" ({finding.get('path')})" if finding.get("path") else ""
            details.append(f"SHACL{path}: {finding.get('message', '')}")
    details.extend(_field_message(item) for item in entry["unmapped"]
                   if isinstance(item, Mapping) and item.get("severity") == "error")
    details.extend(_field_message(p) for p in entry["problems"] if isinstance(p, Mapping))
    details.extend(entry["messages"])
    unique: list[str] = []
    for detail in details:  # a reason often quotes the problems it is made of
        if detail and not any(detail in earlier for earlier in unique):
            unique.append(detail)
    return unique


def _needs_person(datasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The datasets a person must look at, by kind (NEEDS_LABELS order), then identifier."""
    needs = [
        {"kind": d["needs_person"], "identifier": d["identifier"], "title": d["title"],
         "action": d["action"], "details": _need_details(d)}
        for d in datasets if d["needs_person"]
    ]
    needs.sort(key=lambda n: (list(NEEDS_LABELS).index(n["kind"]), n["identifier"]))
    return needs


def _quality_summary(datasets: list[dict[str, Any]], quality: dict[str, dict] | None,
                     catalogue_quality: dict | None) -> dict[str, Any]:
    """The catalogue's score (the given one, else that of the dataset scores) and how many
    datasets were scored."""
    scores = list(quality.values()) if quality else [d["quality"] for d in datasets if d["quality"]]
    if catalogue_quality is None and scores:
        catalogue_quality = score_catalogue(scores)
    return {
        "catalogue": _jsonable(catalogue_quality),
        "datasets_scored": sum(1 for d in datasets if d["quality"]),
    }


def build_report(
    result: RunResult,
    *,
    quality: dict[str, dict] | None = None,
    catalogue_quality: dict | None = None,
    generated_at: str | None = None,
) -> dict[str, Any]:
    """The run report of a sync result (plain JSON data; see report.schema.json).

    `quality` maps a dataset's identifier (or source id) to its `score_dataset()` result; an
    action's own `quality` is used when the map has none. Without `catalogue_quality` the
    catalogue's score is the `score_catalogue()` of the dataset scores given.
    """
    plan = getattr(result, "plan", None)
    datasets = [_dataset(a, quality) for a in (plan.actions if plan is not None else [])]
    harvest = _harvest(result)
    report = {
        **_run_facts(result, generated_at),
        **_count_facts(result),
        "harvest": harvest,
        "completeness": _completeness(result, harvest),
        "notes": [str(n) for n in (plan.notes if plan is not None else [])],
        "needs_person": _needs_person(datasets),
        "datasets": datasets,
        "quality": _quality_summary(datasets, quality, catalogue_quality),
    }
    return scrub_data(_jsonable(report), secret_values())


# --- files --------------------------------------------------------------------------------------


def report_paths(folder: Path, run_id: int) -> tuple[Path, Path]:
    """(run-<id>.json, run-<id>.html) in `folder`."""
    folder = Path(folder)
    return folder / f"run-{int(run_id)}.json", folder / f"run-{int(run_id)}.html"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomic(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temp, 0o666 & ~_umask())  # as open() would create it (mkstemp makes it 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def write_reports(report: dict, folder: Path) -> tuple[Path, Path]:
    """Write run-<id>.json and run-<id>.html into `folder` (created if needed), each atomically
    (a temporary file renamed over the final name), and return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = scrub_data(_jsonable(report), secret_values())
    json_path, html_path = report_paths(folder, data["run_id"])
    _write_atomic(json_path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    _write_atomic(html_path, render_html(data))
    return json_path, html_path


def load_report(folder: Path, run_id: int) -> dict[str, Any]:
    """The JSON report of run `run_id` in `folder` (FileNotFoundError when there is none)."""
    json_path, _ = report_paths(folder, run_id)
    return json.loads(json_path.read_text(encoding="utf-8"))
