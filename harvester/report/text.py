"""The run report for a terminal: what `harvester report RUN_ID` prints.

    print(render_text(load_report(config.reports, run_id)))

One line per fact, section after section: the run and its outcome, the harvest's completeness,
the counts, the plan's notes, the datasets that need a person (with at most a few reasons
each), the field-level changes of the updates and the catalogue's quality score.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harvester.report.labels import (
    COUNT_KEYS,
    COUNT_LABELS,
    NEEDS_LABELS,
    OUTCOME_LABELS,
    PLANNED_LABELS,
    both,
    label,
)
from harvester.report.quality import BAND_LABELS_NL, DIMENSIONS
from harvester.report.scrub import scrub, scrub_data, secret_values

__all__ = ["render_text"]

#: Reasons shown per dataset that needs a person; the HTML and JSON reports have them all.
_TEXT_DETAILS = 5


def _short(value: Any, limit: int = 120) -> str:
    """A value on one line of at most `limit` characters (JSON when it is not a string)."""
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


def _run_lines(r: Mapping[str, Any]) -> list[str]:
    """The run: source and target, outcome, times and error."""
    mode = " (proefdraai / dry run)" if r.get("dry_run") else ""
    lines = [
        f"Run {r.get('run_id')}: {r.get('source')} -> {r.get('target')}{mode}",
        f"Resultaat / outcome: {label(OUTCOME_LABELS, r.get('outcome', 'failed'))}",
        (f"Gestart / started {r.get('started_at') or '-'}, klaar / finished "
         f"{r.get('finished_at') or '-'}, rapport / report {r.get('generated_at')}"),
    ]
    if r.get("error"):
        lines.append(f"Fout / error: {r['error']}")
    return lines


def _completeness_lines(r: Mapping[str, Any]) -> list[str]:
    """The harvest's mode, whether it saw everything, and its problems."""
    c = r.get("completeness") or {}
    complete = "volledig / complete" if c.get("complete") else "ONVOLLEDIG / INCOMPLETE"
    seen = c.get("seen") if c.get("seen") is not None else "-"
    lines = [f"Oogst / harvest: {c.get('mode') or '-'}, {complete}, gezien / seen {seen}"]
    lines.extend(f"  probleem / problem: {problem}" for problem in c.get("problems") or [])
    return lines


def _count_lines(r: Mapping[str, Any]) -> list[str]:
    """The counts (done, or planned on a dry run) and the plan's notes."""
    planned = r.get("counts_kind") == "planned"
    labels = PLANNED_LABELS if planned else COUNT_LABELS
    counts = r.get("counts") or {}
    lines = ["Gepland / Planned:" if planned else "Uitgevoerd / Done:"]
    lines.extend(f"  {both(labels[key]):<48} {counts.get(key, 0):>6}" for key in COUNT_KEYS)
    lines.extend(f"Opmerking / note: {note}" for note in r.get("notes") or [])
    return lines


def _needs_lines(r: Mapping[str, Any]) -> list[str]:
    """The datasets that need a person, each with its first few reasons."""
    needs = r.get("needs_person") or []
    lines = [f"Actie nodig / Needs a person: {len(needs)}"]
    for item in needs:
        lines.append(f"  [{label(NEEDS_LABELS, item['kind'])}] {item['identifier']} "
                     f"{item.get('title') or ''}".rstrip())
        details = item.get("details") or []
        lines.extend(f"      - {_short(detail, 200)}" for detail in details[:_TEXT_DETAILS])
        if len(details) > _TEXT_DETAILS:
            lines.append(f"      ... {len(details) - _TEXT_DETAILS} meer / more (zie het "
                         "HTML- of JSON-rapport / see the HTML or JSON report)")
    return lines


def _change_lines(r: Mapping[str, Any]) -> list[str]:
    """The field-level changes of every update."""
    updates = [d for d in r.get("datasets") or []
               if d.get("action") == "update" and d.get("changes")]
    if not updates:
        return []
    lines = ["Wijzigingen / Changes:"]
    for d in updates:
        lines.append(f"  {d['identifier']} {d.get('title') or ''}".rstrip())
        lines.extend(f"      {change['field']}: {_short(change.get('old'), 60)} -> "
                     f"{_short(change.get('new'), 60)}" for change in d["changes"])
    return lines


def _quality_lines(r: Mapping[str, Any]) -> list[str]:
    """The catalogue's quality score and its points per dimension."""
    catalogue = (r.get("quality") or {}).get("catalogue")
    if not catalogue:
        return []
    lines = [(f"Kwaliteit catalogus / Catalogue quality ({catalogue.get('datasets')} "
              f"datasets): {_score_line(catalogue)}")]
    lines.extend(f"  {label(DIMENSIONS, name):<40} {dim.get('points'):>7} / {dim.get('max')}"
                 for name, dim in (catalogue.get("dimensions") or {}).items())
    return lines


#: The text's sections, in order.
_SECTIONS = (_run_lines, _completeness_lines, _count_lines, _needs_lines, _change_lines,
             _quality_lines)


def render_text(report: dict) -> str:
    """The report for a terminal: what `harvester report RUN_ID` prints."""
    r = scrub_data(report, secret_values())
    lines = [line for section in _SECTIONS for line in section(r)]
    return scrub("\n".join(lines) + "\n")
