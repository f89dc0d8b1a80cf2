"""Run reports: what one sync run did, as JSON and as a self-contained HTML page.

    report = build_report(result, quality=scores, catalogue_quality=score_catalogue(...))
    json_path, html_path = write_reports(report, config.reports)   # run-<id>.json, run-<id>.html
    print(render_text(load_report(config.reports, run_id)))         # `harvester report RUN_ID`

The report holds the run's counts per action (planned counts on a dry run), the harvest's
completeness (full or incremental, complete or not, its problems), every dataset's action with
the field-level diff of an update, its validation findings, the target's rejection messages and
its unmapped values, a "needs a person" list (conflicts, invalid datasets, failed writes and
withdrawals held back by the threshold) and the metadata quality score per dataset and for the
catalogue (harvester.report.quality). Its JSON form follows report.schema.json (shipped beside this
module).

The HTML page needs nothing but a browser: inline CSS, inline SVG bar charts, no script, no
external file, font or image. User-facing labels are Dutch first ("Actie nodig / Needs a
person").

Secrets: a report is built only from the run's result; it never holds environment variables or
HTTP headers. As a second line of defence every report, its JSON file, its HTML page and its
text form are scrubbed of the value of any environment variable whose name contains KEY, TOKEN,
SECRET, PASSWORD or PASSWD (values of at least MIN_SECRET_LENGTH characters).
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harvester.version import __version__
from harvester.report.quality import (
    BAND_LABELS_NL,
    DIMENSIONS,
    METRICS,
    NOT_CHECKED,
    score_catalogue,
)

if TYPE_CHECKING:  # pragma: no cover - types only; report.py needs no sync/plan at run time
    from harvester.jobs import SyncResult

__all__ = [
    "REPORT_FORMAT",
    "SCHEMA_PATH",
    "build_report",
    "load_report",
    "render_html",
    "render_text",
    "report_paths",
    "scrub",
    "write_reports",
]

REPORT_FORMAT = "dcat-ap-nl-harvester/run-report/1"
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")

#: What the report says in place of a secret's value.
REDACTED = "[verwijderd/redacted]"
#: Shorter values of secret-named variables are not scrubbed (they would wreck the text).
MIN_SECRET_LENGTH = 6
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD", re.IGNORECASE)

COUNT_KEYS = ("created", "updated", "unchanged", "withdrawn", "conflict", "invalid", "failed",
              "withdraw_held")
_PLANNED_AS = {"create": "created", "update": "updated", "unchanged": "unchanged",
               "withdraw": "withdrawn", "conflict": "conflict", "invalid": "invalid",
               "withdraw_held": "withdraw_held"}
COUNT_LABELS: dict[str, tuple[str, str]] = {
    "created": ("Aangemaakt", "Created"),
    "updated": ("Bijgewerkt", "Updated"),
    "unchanged": ("Ongewijzigd", "Unchanged"),
    "withdrawn": ("Ingetrokken", "Withdrawn"),
    "conflict": ("Conflict", "Conflict"),
    "invalid": ("Ongeldig", "Invalid"),
    "failed": ("Mislukt", "Failed"),
    "withdraw_held": ("Intrekking tegengehouden", "Withdrawal held back"),
}
PLANNED_LABELS: dict[str, tuple[str, str]] = {
    "created": ("Aan te maken", "To create"),
    "updated": ("Bij te werken", "To update"),
    "unchanged": ("Ongewijzigd", "Unchanged"),
    "withdrawn": ("In te trekken", "To withdraw"),
    "conflict": ("Conflict", "Conflict"),
    "invalid": ("Ongeldig", "Invalid"),
    "failed": ("Mislukt", "Failed"),
    "withdraw_held": ("Intrekking tegengehouden", "Withdrawal held back"),
}
ACTION_LABELS: dict[str, tuple[str, str]] = {
    "create": ("aanmaken", "create"),
    "update": ("bijwerken", "update"),
    "unchanged": ("ongewijzigd", "unchanged"),
    "withdraw": ("intrekken", "withdraw"),
    "conflict": ("conflict", "conflict"),
    "invalid": ("ongeldig", "invalid"),
}
NEEDS_LABELS: dict[str, tuple[str, str]] = {
    "conflict": ("Conflict", "Conflict"),
    "invalid": ("Ongeldig", "Invalid"),
    "failed": ("Schrijven mislukt", "Write failed"),
    "withdraw_held": ("Intrekking tegengehouden", "Withdrawal held back"),
}
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    "success": ("Geslaagd", "Success"),
    "attention": ("Aandacht nodig", "Needs attention"),
    "incomplete": ("Onvolledig", "Incomplete"),
    "failed": ("Mislukt", "Failed"),
}
_TEXT_DETAILS = 5
_ORDER = {"conflict": 0, "invalid": 1, "withdraw": 2, "update": 3, "create": 4, "unchanged": 5}


# --- secrets ------------------------------------------------------------------------------------


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables named like secrets, longest first."""
    env = os.environ if environ is None else environ
    found: set[str] = set()
    for name, value in env.items():
        if not isinstance(value, str) or not _SECRET_NAME.search(name):
            continue
        for candidate in (value, value.strip()):
            if len(candidate) >= MIN_SECRET_LENGTH:
                found.add(candidate)
    return sorted(found, key=lambda v: (-len(v), v))


def scrub(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` without the value of any secret-named environment variable (also HTML- or
    JSON-escaped)."""
    for value in secret_values(environ):
        variants = {value, html.escape(value), html.escape(value, quote=False),
                    json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
        for variant in sorted(variants, key=len, reverse=True):
            if variant and variant in text:
                text = text.replace(variant, REDACTED)
    return text


def _scrub_obj(value: Any, secrets: list[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_scrub_obj(k, secrets): _scrub_obj(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_obj(v, secrets) for v in value]
    return value


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
        from dataclasses import asdict

        return _jsonable(asdict(value))
    return str(value)


# --- building -----------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _counts(result: Any) -> tuple[str, dict[str, int], dict[str, int] | None]:
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


def _outcome(result: Any) -> str:
    try:
        outcome = str(result.outcome)
    except Exception:  # noqa: BLE001 - a report is written whatever state the result is in
        outcome = "failed"
    return outcome if outcome in OUTCOME_LABELS else "failed"


def _harvest(result: Any) -> dict[str, Any] | None:
    summary = getattr(result, "harvest", None)
    if summary is None:
        return None
    data = summary.to_dict() if hasattr(summary, "to_dict") else dict(vars(summary))
    return _jsonable(data)


def _completeness(result: Any, harvest: dict[str, Any] | None) -> dict[str, Any]:
    problems: list[str] = []
    if harvest is not None:
        problems.extend(str(p) for p in harvest.get("problems") or [])
        if harvest.get("error"):
            problems.append(str(harvest["error"]))
    error = getattr(result, "error", None)
    if error and str(error) not in problems:
        problems.append(str(error))
    return {
        "mode": (harvest or {}).get("mode"),
        "complete": bool((harvest or {}).get("complete")),
        "harvest_outcome": (harvest or {}).get("outcome"),
        "seen": (harvest or {}).get("seen"),
        "total": (harvest or {}).get("total"),
        "problems": problems,
    }


def _quality_for(action: Any, quality: Mapping[str, dict] | None) -> dict[str, Any] | None:
    if quality:
        for key in (getattr(action, "identifier", None), getattr(action, "source_id", None)):
            if key and key in quality:
                return quality[key]
    return getattr(action, "quality", None) or None


def _needs(action: Any) -> str | None:
    """Why a person must look at this action (a NEEDS_LABELS key), or None."""
    if getattr(action, "outcome", None) == "failed":
        return "failed"
    if action.action == "conflict":
        return "conflict"
    if action.action == "invalid":
        return "invalid"
    if action.action == "withdraw" and getattr(action, "held", False):
        return "withdraw_held"
    return None


def _dataset(action: Any, quality: Mapping[str, dict] | None) -> dict[str, Any]:
    findings = list(getattr(action, "findings", None) or [])
    left_out = 0
    if action.action == "unchanged":  # reported when the dataset was written; keep big runs readable
        kept = [f for f in findings if isinstance(f, Mapping) and f.get("severity") == "violation"]
        left_out, findings = len(findings) - len(kept), kept
    changes = []
    for change in getattr(action, "changes", None) or []:
        item = change if isinstance(change, Mapping) else _jsonable(change)
        changes.append({"field": str(item.get("field", "")), "old": _jsonable(item.get("old")),
                        "new": _jsonable(item.get("new"))})
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
        "changes": changes,
        "findings": _jsonable(findings),
        "findings_left_out": left_out,
        "unmapped": _jsonable(list(getattr(action, "unmapped", None) or [])),
        "problems": _jsonable(list(getattr(action, "problems", None) or [])),
        "messages": [str(m) for m in getattr(action, "messages", None) or []],
        "quality": _jsonable(_quality_for(action, quality)),
    }


def _need_details(entry: dict[str, Any]) -> list[str]:
    details: list[str] = []
    if entry["reason"]:
        details.append(entry["reason"])
    for finding in entry["findings"]:
        if isinstance(finding, Mapping) and finding.get("severity") == "violation":
            path = f" ({finding.get('path')})" if finding.get("path") else ""
            details.append(f"SHACL{path}: {finding.get('message', '')}")
    for item in entry["unmapped"]:
        if isinstance(item, Mapping) and item.get("severity") == "error":
            details.append(f"{item.get('field', '')}: {item.get('message', '')}")
    for problem in entry["problems"]:
        if isinstance(problem, Mapping):
            details.append(f"{problem.get('field', '')}: {problem.get('message', '')}")
    details.extend(entry["messages"])
    unique: list[str] = []
    for detail in details:  # a reason often quotes the problems it is made of
        if detail and not any(detail in earlier for earlier in unique):
            unique.append(detail)
    return unique


def build_report(
    result: SyncResult,
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
    kind, counts, planned = _counts(result)
    harvest = _harvest(result)
    plan = getattr(result, "plan", None)
    datasets = [_dataset(a, quality) for a in (plan.actions if plan is not None else [])]
    needs = [
        {"kind": d["needs_person"], "identifier": d["identifier"], "title": d["title"],
         "action": d["action"], "details": _need_details(d)}
        for d in datasets if d["needs_person"]
    ]
    needs.sort(key=lambda n: (list(NEEDS_LABELS).index(n["kind"]), n["identifier"]))
    scores = list(quality.values()) if quality else [d["quality"] for d in datasets if d["quality"]]
    if catalogue_quality is None and scores:
        catalogue_quality = score_catalogue(scores)
    report = {
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
        "counts_kind": kind,
        "counts": counts,
        "planned": planned,
        "applied": _jsonable(dict(getattr(result, "applied", None) or {})),
        "stages": _jsonable(dict(getattr(result, "counters", None) or {})),
        "target_requests": int(getattr(result, "target_requests", 0) or 0),
        "target_writes": int(getattr(result, "target_writes", 0) or 0),
        "harvest": harvest,
        "completeness": _completeness(result, harvest),
        "notes": [str(n) for n in (plan.notes if plan is not None else [])],
        "needs_person": needs,
        "datasets": datasets,
        "quality": {
            "catalogue": _jsonable(catalogue_quality),
            "datasets_scored": sum(1 for d in datasets if d["quality"]),
        },
    }
    return _scrub_obj(_jsonable(report), secret_values())


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
    data = _scrub_obj(_jsonable(report), secret_values())
    json_path, html_path = report_paths(folder, data["run_id"])
    _write_atomic(json_path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    _write_atomic(html_path, render_html(data))
    return json_path, html_path


def load_report(folder: Path, run_id: int) -> dict[str, Any]:
    """The JSON report of run `run_id` in `folder` (FileNotFoundError when there is none)."""
    json_path, _ = report_paths(folder, run_id)
    return json.loads(json_path.read_text(encoding="utf-8"))


# --- text ---------------------------------------------------------------------------------------


def _both(labels: tuple[str, str]) -> str:
    nl, en = labels
    return nl if nl == en else f"{nl} / {en}"


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                             sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _score_line(score: Mapping[str, Any]) -> str:
    band = score.get("band")
    band_text = f"{BAND_LABELS_NL.get(band, band)} / {band}" if band else "-"
    line = f"{score.get('total')} / {score.get('max')} punten/points, {band_text}"
    if score.get("max") != score.get("full_max"):
        line += (f" (op de schaal van/on the scale of {score.get('full_max')}: "
                 f"{score.get('scaled_total')}; niet alle URL's gecontroleerd / not all URLs "
                 "checked)")
    return line


def render_text(report: dict) -> str:
    """The report for a terminal: what `harvester report RUN_ID` prints."""
    r = _scrub_obj(report, secret_values())
    out: list[str] = []
    mode = " (proefdraai / dry run)" if r.get("dry_run") else ""
    out.append(f"Run {r.get('run_id')}: {r.get('source')} -> {r.get('target')}{mode}")
    outcome = r.get("outcome", "failed")
    out.append(f"Resultaat / outcome: {_both(OUTCOME_LABELS.get(outcome, (outcome, outcome)))}")
    out.append(f"Gestart / started {r.get('started_at') or '-'}, klaar / finished "
               f"{r.get('finished_at') or '-'}, rapport / report {r.get('generated_at')}")
    if r.get("error"):
        out.append(f"Fout / error: {r['error']}")
    c = r.get("completeness") or {}
    complete = "volledig / complete" if c.get("complete") else "ONVOLLEDIG / INCOMPLETE"
    out.append(f"Oogst / harvest: {c.get('mode') or '-'}, {complete}, "
               f"gezien / seen {c.get('seen') if c.get('seen') is not None else '-'}")
    for problem in c.get("problems") or []:
        out.append(f"  probleem / problem: {problem}")
    kind = r.get("counts_kind")
    labels = PLANNED_LABELS if kind == "planned" else COUNT_LABELS
    title = "Gepland / Planned" if kind == "planned" else "Uitgevoerd / Done"
    out.append(f"{title}:")
    for key in COUNT_KEYS:
        out.append(f"  {_both(labels[key]):<48} {(r.get('counts') or {}).get(key, 0):>6}")
    for note in r.get("notes") or []:
        out.append(f"Opmerking / note: {note}")
    needs = r.get("needs_person") or []
    out.append(f"Actie nodig / Needs a person: {len(needs)}")
    for item in needs:
        label = _both(NEEDS_LABELS.get(item["kind"], (item["kind"], item["kind"])))
        out.append(f"  [{label}] {item['identifier']} {item.get('title') or ''}".rstrip())
        details = item.get("details") or []
        for detail in details[:_TEXT_DETAILS]:
            out.append(f"      - {_short(detail, 200)}")
        if len(details) > _TEXT_DETAILS:
            out.append(f"      ... {len(details) - _TEXT_DETAILS} meer / more (zie het "
                       "HTML- of JSON-rapport / see the HTML or JSON report)")
    updates = [d for d in r.get("datasets") or [] if d.get("action") == "update" and d.get("changes")]
    if updates:
        out.append("Wijzigingen / Changes:")
        for d in updates:
            out.append(f"  {d['identifier']} {d.get('title') or ''}".rstrip())
            for change in d["changes"]:
                out.append(f"      {change['field']}: {_short(change.get('old'), 60)} -> "
                           f"{_short(change.get('new'), 60)}")
    catalogue = (r.get("quality") or {}).get("catalogue")
    if catalogue:
        out.append(f"Kwaliteit catalogus / Catalogue quality ({catalogue.get('datasets')} "
                   f"datasets): {_score_line(catalogue)}")
        for name, dim in (catalogue.get("dimensions") or {}).items():
            out.append(f"  {_both(DIMENSIONS.get(name, (name, name))):<40} "
                       f"{dim.get('points'):>7} / {dim.get('max')}")
    return scrub("\n".join(out) + "\n")


# --- HTML ---------------------------------------------------------------------------------------

_CSS = """
:root{--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#154273;color:#fff;padding:16px 24px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0}
main{padding:8px 24px 40px;max-width:1200px}
h2{border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--bg)}
td.num{text-align:right;font-variant-numeric:tabular-nums;width:7em}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;font-weight:600;background:var(--bg);border:1px solid var(--line);color:#1f2328}
.o-success,.b-Excellent{background:#dafbe1;border-color:#1a7f37}
.o-attention,.o-incomplete,.b-Good{background:#fff8c5;border-color:#9a6700}
.b-Sufficient{background:#ffe7c2;border-color:#bc4c00}
.o-failed,.b-Bad{background:#ffebe9;border-color:#cf222e}
.a-conflict,.a-invalid,.a-failed,.a-withdraw_held{background:#ffebe9;border-color:#cf222e}
.a-update,.a-create{background:#ddf4ff;border-color:#0969da}
.a-withdraw{background:#fff8c5;border-color:#9a6700}
.muted{color:var(--muted)}
details.dataset{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 10px}
details.dataset>summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:13px}
ul{margin:4px 0;padding-left:22px}
.chart text{font:13px system-ui,Arial,sans-serif;fill:#1f2328}
.chart .track{fill:#eaeef2}
.q-hi{fill:#2da44e}.q-mid{fill:#d4a72c}.q-low{fill:#e16f24}.q-bad{fill:#cf222e}
.sev-violation{color:var(--bad);font-weight:600}.sev-warning{color:var(--warn)}
.old{background:#ffebe9}.new{background:#dafbe1}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _he(labels: tuple[str, str]) -> str:
    return _e(_both(labels))


def _fill_class(fraction: float) -> str:
    if fraction >= 0.85:
        return "q-hi"
    if fraction >= 0.55:
        return "q-mid"
    if fraction >= 0.3:
        return "q-low"
    return "q-bad"


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _svg_bars(dimensions: Mapping[str, Any], *, element_id: str | None = None,
              title: str = "") -> str:
    """A horizontal bar per dimension: points as a share of the dimension's maximum."""
    label_w, bar_w, row_h = 250, 360, 30
    width = label_w + bar_w + 110
    height = row_h * len(dimensions) + 10
    ident = f' id="{_e(element_id)}"' if element_id else ""
    parts = [(f'<svg class="chart quality-chart"{ident} xmlns="http://www.w3.org/2000/svg" '
              f'role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
              f'aria-label="{_e(title)}"><title>{_e(title)}</title>')]
    for i, (name, dim) in enumerate(dimensions.items()):
        points, maximum = float(dim.get("points") or 0), float(dim.get("max") or 0)
        fraction = points / maximum if maximum else 0.0
        y = 5 + i * row_h
        label = _both(DIMENSIONS.get(name, (name, name)))
        parts.append(
            f'<g class="bar" data-dimension="{_e(name)}" data-points="{_num(dim.get("points"))}" '
            f'data-max="{_num(dim.get("max"))}">'
            f'<text x="0" y="{y + 18}">{_e(label)}</text>'
            f'<rect class="track" x="{label_w}" y="{y + 4}" width="{bar_w}" height="20" rx="3"/>'
            f'<rect class="fill {_fill_class(fraction)}" x="{label_w}" y="{y + 4}" '
            f'width="{bar_w * min(fraction, 1.0):.1f}" height="20" rx="3"/>'
            f'<text class="value" x="{label_w + bar_w + 8}" y="{y + 18}">'
            f'{_num(dim.get("points"))} / {_num(dim.get("max"))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_mini(dimensions: Mapping[str, Any], title: str) -> str:
    """Five small vertical bars (one per dimension) for a table cell."""
    bar_w, gap, height = 14, 4, 32
    width = len(dimensions) * (bar_w + gap)
    parts = [(f'<svg class="chart mini" xmlns="http://www.w3.org/2000/svg" role="img" '
              f'width="{width}" height="{height}" aria-label="{_e(title)}">'
              f'<title>{_e(title)}</title>')]
    for i, (name, dim) in enumerate(dimensions.items()):
        maximum = float(dim.get("max") or 0)
        fraction = float(dim.get("points") or 0) / maximum if maximum else 0.0
        h = max(1.0, height * min(fraction, 1.0))
        x = i * (bar_w + gap)
        label = DIMENSIONS.get(name, (name, name))[0]
        parts.append(f'<rect class="track" x="{x}" y="0" width="{bar_w}" height="{height}"/>'
                     f'<rect class="fill {_fill_class(fraction)}" x="{x}" y="{height - h:.1f}" '
                     f'width="{bar_w}" height="{h:.1f}"><title>{_e(label)}: '
                     f'{_num(dim.get("points"))} / {_num(dim.get("max"))}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _band_badge(score: Mapping[str, Any]) -> str:
    band = score.get("band")
    if not band:
        return '<span class="badge">-</span>'
    return (f'<span class="badge b-{_e(band)}">{_e(BAND_LABELS_NL.get(band, band))} / '
            f'{_e(band)}</span>')


def _value_text(metric: Mapping[str, Any]) -> str:
    value = metric.get("value")
    if value == NOT_CHECKED or metric.get("checked") is False:
        return "niet gecontroleerd / not checked"
    if isinstance(value, bool):
        return "ja / yes" if value else "nee / no"
    if "count" in metric and "of" in metric:
        return f"{metric['count']} van/of {metric['of']} distributies/distributions"
    if isinstance(value, (int, float)):
        return f"{value * 100:.0f}%"
    return _e(value)


def _metrics_table(score: Mapping[str, Any]) -> str:
    rows = []
    for dim_name, dim in (score.get("dimensions") or {}).items():
        for name, metric in (dim.get("metrics") or {}).items():
            labels = METRICS.get(name)
            label = f"{labels[4]} / {labels[5]}" if labels else name
            rows.append(f'<tr data-metric="{_e(name)}"><td>{_e(DIMENSIONS.get(dim_name, (dim_name,))[0])}'
                        f'</td><td>{_e(label)}</td><td>{_e(_value_text(metric))}</td>'
                        f'<td class="num">{_num(metric.get("points"))} / {_num(metric.get("max"))}'
                        f'</td></tr>')
    return ("<table class=\"metrics\"><tr><th>Dimensie / Dimension</th><th>Meting / Metric</th>"
            "<th>Waarde / Value</th><th>Punten / Points</th></tr>" + "".join(rows) + "</table>")


def _score_html(score: Mapping[str, Any]) -> str:
    text = (f'<strong class="score-total">{_e(score.get("total"))}</strong> / {_e(score.get("max"))} '
            f'punten/points {_band_badge(score)}')
    if score.get("max") != score.get("full_max"):
        text += (f' <span class="muted">niet alle URL\'s gecontroleerd: score uit '
                 f'{_e(score.get("max"))} in plaats van {_e(score.get("full_max"))}, op de schaal '
                 f'van {_e(score.get("full_max"))}: {_e(score.get("scaled_total"))} / not all URLs '
                 f'checked: scored out of {_e(score.get("max"))}, {_e(score.get("scaled_total"))} '
                 f'on the {_e(score.get("full_max"))} scale</span>')
    return text


def _json_block(value: Any, limit: int = 4000) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1,
                                                             sort_keys=True)
    if len(text) > limit:
        text = text[:limit] + "\n… (ingekort / truncated; zie het JSON-rapport / see the JSON report)"
    return f"<pre>{_e(text)}</pre>"


def _findings_list(findings: list[Mapping[str, Any]]) -> str:
    items = []
    for f in findings:
        sev = str(f.get("severity", ""))
        where = " ".join(_e(x) for x in (f.get("focus_node"), f.get("path")) if x)
        value = (f' <span class="muted">waarde/value: {_e(f.get("value"))}</span>'
                 if f.get("value") else "")
        items.append(f'<li><span class="sev-{_e(sev)}">{_e(sev)}</span> {_e(f.get("message"))} '
                     f'<span class="muted">{where}</span>{value}</li>')
    return '<ul class="findings">' + "".join(items) + "</ul>"


def _dataset_html(d: Mapping[str, Any], index: int) -> str:
    action = d.get("action", "")
    need = d.get("needs_person")
    badge_class = f"a-{need}" if need else f"a-{action}"
    label = _both(ACTION_LABELS.get(action, (action, action)))
    if d.get("held"):
        label += " (tegengehouden / held back)"
    if d.get("outcome"):
        label += f" — {d['outcome']}"
    is_open = " open" if need or d.get("changes") and action == "update" else ""
    out = [(f'<details class="dataset" id="dataset-{index}" data-action="{_e(action)}" '
            f'data-identifier="{_e(d.get("identifier"))}"{is_open}>'
            f'<summary><span class="badge {badge_class}">{_e(label)}</span> '
            f'{_e(d.get("title") or d.get("name") or "")} '
            f'<span class="muted">{_e(d.get("identifier"))}</span></summary>')]
    if d.get("reason"):
        out.append(f'<p class="reason">{_e(d["reason"])}</p>')
    facts = [(k, d.get(k)) for k in ("source_id", "name", "target_id") if d.get(k)]
    if facts:
        out.append('<p class="muted">' + ", ".join(f"{_e(k)}: {_e(v)}" for k, v in facts) + "</p>")
    if d.get("changes"):
        title = ("Wijzigingen per veld / Field-level changes" if action != "conflict"
                 else "Verschillen / Differences")
        out.append(f"<h4>{title}</h4><table class=\"changes\"><tr><th>Veld / Field</th>"
                   "<th>Oud / Old</th><th>Nieuw / New</th></tr>")
        for change in d["changes"]:
            out.append(f'<tr><td>{_e(change.get("field"))}</td><td class="old">'
                       f'{_json_block(change.get("old"), 1500)}</td><td class="new">'
                       f'{_json_block(change.get("new"), 1500)}</td></tr>')
        out.append("</table>")
    if d.get("findings"):
        findings = [f if isinstance(f, Mapping) else {"message": f} for f in d["findings"]]
        violations = [f for f in findings if f.get("severity") == "violation"]
        others = [f for f in findings if f.get("severity") != "violation"]
        out.append("<h4>Validatie / Validation (SHACL)</h4>")
        if violations:
            out.append(_findings_list(violations))
        if others:
            out.append(f"<details><summary>{len(others)} waarschuwing(en) en opmerking(en) / "
                       f"warning(s) and note(s)</summary>{_findings_list(others)}</details>")
    if d.get("problems") or d.get("messages"):
        out.append("<h4>Afgewezen door het doel / Rejected by the target</h4><ul class=\"problems\">")
        for p in d.get("problems") or []:
            p = p if isinstance(p, Mapping) else {"message": p}
            out.append(f"<li><code>{_e(p.get('field', ''))}</code> {_e(p.get('message'))}</li>")
        for m in d.get("messages") or []:
            out.append(f"<li>{_e(m)}</li>")
        out.append("</ul>")
    if d.get("unmapped"):
        out.append("<h4>Niet gekoppelde waarden / Unmapped values</h4><ul class=\"unmapped\">")
        for u in d["unmapped"]:
            u = u if isinstance(u, Mapping) else {"message": u}
            value = f' <code>{_e(u.get("value"))}</code>' if u.get("value") is not None else ""
            out.append(f'<li><span class="sev-{"violation" if u.get("severity") == "error" else "warning"}">'
                       f'{_e(u.get("severity", ""))}</span> <code>{_e(u.get("field", ""))}</code>'
                       f'{value}: {_e(u.get("message"))}</li>')
        out.append("</ul>")
    score = d.get("quality")
    if score:
        out.append(f'<h4>Kwaliteit / Quality</h4><p>{_score_html(score)}</p>')
        out.append(_svg_bars(score.get("dimensions") or {},
                             title=f"Kwaliteit / Quality {d.get('identifier')}"))
        out.append(f"<details><summary>Metingen / Metrics</summary>{_metrics_table(score)}</details>")
    out.append("</details>")
    return "".join(out)


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script)."""
    r = _scrub_obj(report, secret_values())
    outcome = r.get("outcome", "failed")
    run_id = r.get("run_id")
    kind = r.get("counts_kind")
    labels = PLANNED_LABELS if kind == "planned" else COUNT_LABELS
    dry = " — proefdraai / dry run" if r.get("dry_run") else ""
    h: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Run {_e(run_id)}: {_e(r.get('source'))} — rapport / report</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<header><h1>Synchronisatierapport / Sync report — run {_e(run_id)}{_e(dry)}</h1>',
        f"<p>{_e(r.get('source'))} → {_e(r.get('target'))}"
        + (f" (organisatie / organisation {_e(r.get('owner_org'))})" if r.get("owner_org") else "")
        + "</p>",
        (f'<p>Resultaat / Outcome: <span class="badge o-{_e(outcome)}" id="outcome">'
         f"{_he(OUTCOME_LABELS.get(outcome, (outcome, outcome)))}</span> · gestart / started "
         f"{_e(r.get('started_at') or '-')} · klaar / finished {_e(r.get('finished_at') or '-')}"
         f" · rapport / report {_e(r.get('generated_at'))}</p></header><main>"),
    ]
    if r.get("error"):
        h.append(f'<p class="sev-violation" id="error">Fout / Error: {_e(r["error"])}</p>')

    # summary
    title = "Gepland (proefdraai) / Planned (dry run)" if kind == "planned" else "Uitgevoerd / Done"
    h.append(f'<section id="summary"><h2>Samenvatting / Summary</h2><p>{_e(title)}</p>'
             '<table class="counts"><tr><th>Actie / Action</th><th>Aantal / Count</th></tr>')
    for key in COUNT_KEYS:
        h.append(f'<tr><td>{_he(labels[key])}</td><td class="num count" data-count="{key}">'
                 f"{_e((r.get('counts') or {}).get(key, 0))}</td></tr>")
    h.append("</table>")
    h.append(f"<p class=\"muted\">Verzoeken aan het doel / target requests: "
             f"{_e(r.get('target_requests'))}, schrijfacties / writes: {_e(r.get('target_writes'))}"
             + "".join(f", {_e(k)}: {_e(v)}" for k, v in (r.get("stages") or {}).items())
             + "</p></section>")

    # completeness
    c = r.get("completeness") or {}
    complete = "volledig / complete" if c.get("complete") else "ONVOLLEDIG / INCOMPLETE"
    h.append('<section id="completeness"><h2>Volledigheid / Completeness</h2><table>'
             f"<tr><th>Oogstwijze / Harvest mode</th><td>{_e(c.get('mode') or '-')}</td></tr>"
             f'<tr><th>Volledig / Complete</th><td id="complete" class="'
             f'{"" if c.get("complete") else "sev-violation"}">{_e(complete)}</td></tr>'
             f"<tr><th>Oogstresultaat / Harvest outcome</th><td>{_e(c.get('harvest_outcome') or '-')}</td></tr>"
             f"<tr><th>Gezien / Seen</th><td>{_e(c.get('seen') if c.get('seen') is not None else '-')}"
             f"{' van/of ' + _e(c.get('total')) if c.get('total') is not None else ''}</td></tr>"
             "</table>")
    harvest = r.get("harvest") or {}
    if harvest:
        keys = ("new", "changed", "unchanged", "gone", "returned", "errors", "requests")
        h.append('<p class="muted">' + ", ".join(f"{k}: {_e(harvest.get(k))}" for k in keys
                                                  if k in harvest) + "</p>")
    if c.get("problems"):
        h.append("<h3>Problemen / Problems</h3><ul class=\"run-problems\">"
                 + "".join(f"<li>{_e(p)}</li>" for p in c["problems"]) + "</ul>")
    if r.get("notes"):
        h.append("<h3>Opmerkingen / Notes</h3><ul class=\"notes\">"
                 + "".join(f"<li>{_e(n)}</li>" for n in r["notes"]) + "</ul>")
    h.append("</section>")

    # needs a person
    needs = r.get("needs_person") or []
    h.append(f'<section id="needs-person"><h2>Actie nodig / Needs a person ({len(needs)})</h2>')
    if needs:
        h.append("<table><tr><th>Soort / Kind</th><th>Dataset</th><th>Waarom / Why</th></tr>")
        for item in needs:
            kind_label = _he(NEEDS_LABELS.get(item["kind"], (item["kind"], item["kind"])))
            details = "".join(f"<li>{_e(x)}</li>" for x in item.get("details") or [])
            h.append(f'<tr class="needs-person" data-kind="{_e(item["kind"])}">'
                     f'<td><span class="badge a-{_e(item["kind"])}">{kind_label}</span></td>'
                     f'<td>{_e(item.get("title"))}<br><span class="muted">{_e(item["identifier"])}'
                     f"</span></td><td><ul>{details}</ul></td></tr>")
        h.append("</table>")
    else:
        h.append("<p>Niets / Nothing.</p>")
    h.append("</section>")

    # quality
    q = r.get("quality") or {}
    catalogue = q.get("catalogue")
    datasets = r.get("datasets") or []
    h.append('<section id="quality"><h2>Metadatakwaliteit / Metadata quality (MQA)</h2>')
    if catalogue:
        h.append(f"<p>Catalogus / Catalogue ({_e(catalogue.get('datasets'))} datasets, gemiddelde / "
                 f"mean): {_score_html(catalogue)}</p>")
        h.append(_svg_bars(catalogue.get("dimensions") or {}, element_id="quality-chart",
                           title="Kwaliteit per dimensie / Quality per dimension"))
        bands = catalogue.get("bands") or {}
        if bands:
            h.append('<p class="muted">' + ", ".join(
                f"{_e(BAND_LABELS_NL.get(b, b))} / {_e(b)}: {_e(n)}" for b, n in bands.items())
                + "</p>")
        h.append(f"<details><summary>Metingen catalogus / Catalogue metrics</summary>"
                 f"{_metrics_table(catalogue)}</details>")
        scored = sorted((d for d in datasets if d.get("quality")),
                        key=lambda d: (d["quality"].get("scaled_total", 0), d["identifier"]))
        if scored:
            h.append("<table class=\"dataset-scores\"><tr><th>Dataset</th><th>Score</th>"
                     "<th>Niveau / Band</th><th>Per dimensie / Per dimension</th></tr>")
            for d in scored:
                s = d["quality"]
                h.append(f'<tr data-identifier="{_e(d["identifier"])}"><td>{_e(d.get("title"))}'
                         f'<br><span class="muted">{_e(d["identifier"])}</span></td>'
                         f'<td class="num">{_e(s.get("total"))} / {_e(s.get("max"))}</td>'
                         f"<td>{_band_badge(s)}</td><td>"
                         f"{_svg_mini(s.get('dimensions') or {}, str(d['identifier']))}</td></tr>")
            h.append("</table>")
    else:
        h.append("<p>Geen kwaliteitsscore berekend / No quality score computed.</p>")
    h.append("</section>")

    # datasets
    ordered = sorted(enumerate(datasets), key=lambda p: (
        0 if p[1].get("needs_person") else 1, _ORDER.get(p[1].get("action"), 9), p[0]))
    unchanged = [(i, d) for i, d in ordered if d.get("action") == "unchanged"
                 and not d.get("needs_person")]
    compact = {i for i, _ in unchanged}
    others = [(i, d) for i, d in ordered if i not in compact]
    h.append(f'<section id="datasets"><h2>Datasets ({len(datasets)})</h2>')
    for i, d in others:
        h.append(_dataset_html(d, i))
    if unchanged:
        h.append(f"<h3>Ongewijzigd / Unchanged ({len(unchanged)})</h3><table class=\"unchanged\">"
                 "<tr><th>Dataset</th><th>Identificatie / Identifier</th><th>Score</th></tr>")
        for _, d in unchanged:
            s = d.get("quality") or {}
            score = f"{_e(s.get('total'))} / {_e(s.get('max'))}" if s else "-"
            h.append(f"<tr><td>{_e(d.get('title'))}</td><td>{_e(d.get('identifier'))}</td>"
                     f'<td class="num">{score}</td></tr>')
        h.append("</table>")
    h.append("</section>")
    h.append(f'<footer class="muted"><p>dcat-ap-nl-harvester {_e(r.get("harvester_version"))} · '
             f"{_e(r.get('format'))}</p></footer></main></body></html>")
    return scrub("\n".join(h) + "\n")
