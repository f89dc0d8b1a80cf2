"""The run report for a terminal: what `harvester report RUN_ID` prints.

    print(render_text(load_report(config.reports, run_id)))

One line per fact, in the order a person reads them: the run and its outcome, the counts, the
harvest's completeness, the datasets that need a person (each with its problems per field, a
conflict with its diff: ours against the target's), the changed datasets (the updates' and
withdrawals' field-level diffs, the creates one line each), the unchanged datasets one line
each, the catalogue's quality score on its one scale and the plan's notes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harvester.report.entries import FindingKinds
from harvester.report.labels import (
    COUNT_KEYS,
    COUNT_LABELS,
    NEEDS_LABELS,
    ORIGIN_LABELS,
    OUTCOME_LABELS,
    PLANNED_LABELS,
    SIDE_LABELS,
    both,
    label,
)
from harvester.report.quality import BAND_LABELS_NL, DIMENSIONS
from harvester.report.scrub import scrub, scrub_data, secret_values
from harvester.report.sections import Row, Sections, diff_sides, problems_by_field

__all__ = ["render_text"]

#: Problems shown per dataset that needs a person; the HTML and JSON reports have them all.
_TEXT_PROBLEMS = 8


def _short(value: Any, limit: int = 120) -> str:
    """A value on one line of at most `limit` characters (JSON when it is not a string)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                             sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _band(band: str | None) -> str:
    return f"{BAND_LABELS_NL.get(band, band)} / {band}" if band else "-"


def _score_line(score: Mapping[str, Any]) -> str:
    """A score on its one scale: points out of the maximum, and the band."""
    return f"{score.get('total')} / {score.get('max')} punten/points, {_band(score.get('band'))}"


def _run_lines(r: Mapping[str, Any], _sections: Sections) -> list[str]:
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


def _count_lines(r: Mapping[str, Any], _sections: Sections) -> list[str]:
    """The counts (done, or planned on a dry run)."""
    planned = r.get("counts_kind") == "planned"
    labels = PLANNED_LABELS if planned else COUNT_LABELS
    counts = r.get("counts") or {}
    lines = ["Gepland / Planned:" if planned else "Uitgevoerd / Done:"]
    lines.extend(f"  {both(labels[key]):<48} {counts.get(key, 0):>6}" for key in COUNT_KEYS)
    return lines


def _completeness_lines(r: Mapping[str, Any], _sections: Sections) -> list[str]:
    """The harvest's mode, whether it saw everything, and its problems."""
    c = r.get("completeness") or {}
    complete = "volledig / complete" if c.get("complete") else "ONVOLLEDIG / INCOMPLETE"
    seen = c.get("seen") if c.get("seen") is not None else "-"
    lines = [f"Oogst / harvest: {c.get('mode') or '-'}, {complete}, gezien / seen {seen}"]
    lines.extend(f"  probleem / problem: {problem}" for problem in c.get("problems") or [])
    return lines


def _diff_lines(d: Mapping[str, Any], indent: str) -> list[str]:
    """A dataset's field-level diff, one field a line: first column -> second column."""
    if not d.get("changes"):
        return []
    first, second, swapped = diff_sides(d)
    lines = []
    if d.get("compare"):
        lines.append(f"{indent}{label(SIDE_LABELS, first)} -> {label(SIDE_LABELS, second)}:")
    for change in d["changes"]:
        left, right = change.get("old"), change.get("new")
        if swapped:
            left, right = right, left
        lines.append(f"{indent}{change.get('field')}: {_short(left, 60)} -> {_short(right, 60)}")
    return lines


def _problem_lines(d: Mapping[str, Any], kinds: FindingKinds, indent: str) -> list[str]:
    """A dataset's problems per field, at most _TEXT_PROBLEMS of them."""
    lines = [f"{indent}{name}: [{label(ORIGIN_LABELS, p.origin)}] {_short(p.message, 200)}"
             for name, problems in problems_by_field(d, kinds) for p in problems]
    if len(lines) > _TEXT_PROBLEMS:
        more = len(lines) - _TEXT_PROBLEMS
        lines = [*lines[:_TEXT_PROBLEMS], (f"{indent}... {more} meer / more (zie het HTML- of "
                                           "JSON-rapport / see the HTML or JSON report)")]
    return lines


def _heading(d: Mapping[str, Any], kind: str) -> str:
    return f"  [{kind}] {d.get('identifier')} {d.get('title') or d.get('name') or ''}".rstrip()


def _needs_lines(_r: Mapping[str, Any], sections: Sections) -> list[str]:
    """The datasets that need a person: why, their problems per field, a conflict's diff."""
    lines = [f"Actie nodig / Needs a person: {len(sections.needs)}"]
    for d in sections.needs:
        lines.append(_heading(d, label(NEEDS_LABELS, d.get("needs_person"))))
        if d.get("reason"):
            lines.append(f"      {_short(d['reason'], 200)}")
        lines.extend(_problem_lines(d, sections.kinds, "      - "))
        lines.extend(_diff_lines(d, "      "))
    return lines


def _row_line(row: Row, with_score: bool) -> str:
    score = f"{row.total}/{row.maximum} " if with_score and row.total is not None else ""
    return f"  {row.name:<32} {row.identifier}  {score}{_band(row.band)}"


def _changed_lines(r: Mapping[str, Any], sections: Sections) -> list[str]:
    """The updates' and withdrawals' field-level diffs, and the creates one line each."""
    lines = []
    if sections.changed:
        lines.append("Wijzigingen / Changes:")
        for d in sections.changed:
            lines.append(_heading(d, d.get("action", "")))
            lines.extend(_diff_lines(d, "      "))
    if sections.created:
        labels = PLANNED_LABELS if r.get("counts_kind") == "planned" else COUNT_LABELS
        lines.append(f"{both(labels['created'])}: {len(sections.created)}")
        lines.extend(_row_line(row, True) for row in sections.created)
    return lines


def _unchanged_lines(_r: Mapping[str, Any], sections: Sections) -> list[str]:
    """The unchanged datasets, one line each: name, identifier, band."""
    if not sections.unchanged:
        return []
    lines = [f"{both(COUNT_LABELS['unchanged'])}: {len(sections.unchanged)}"]
    lines.extend(_row_line(row, False) for row in sections.unchanged)
    return lines


def _skipped_lines(_r: Mapping[str, Any], sections: Sections) -> list[str]:
    """The datasets not published, one line each: name, identifier, why."""
    if not sections.skipped:
        return []
    lines = [f"{both(COUNT_LABELS['skipped'])}: {len(sections.skipped)}"]
    lines.extend(f"  {row.name or '-'}  {row.identifier}  ({reason})" for row, reason in sections.skipped)
    return lines


def _quality_lines(r: Mapping[str, Any], _sections: Sections) -> list[str]:
    """The catalogue's quality score and its points per dimension."""
    catalogue = (r.get("quality") or {}).get("catalogue")
    if not catalogue:
        return []
    lines = [(f"Kwaliteit catalogus / Catalogue quality ({catalogue.get('datasets')} "
              f"datasets): {_score_line(catalogue)}")]
    lines.extend(f"  {label(DIMENSIONS, name):<40} {dim.get('points'):>7} / {dim.get('max')}"
                 for name, dim in (catalogue.get("dimensions") or {}).items())
    return lines


def _note_lines(r: Mapping[str, Any], _sections: Sections) -> list[str]:
    return [f"Opmerking / note: {note}" for note in r.get("notes") or []]


#: The text's sections, in order.
_SECTIONS = (_run_lines, _count_lines, _completeness_lines, _needs_lines, _changed_lines,
             _unchanged_lines, _skipped_lines, _quality_lines, _note_lines)


def render_text(report: dict) -> str:
    """The report for a terminal: what `harvester report RUN_ID` prints."""
    r = scrub_data(report, secret_values())
    sections = Sections(FindingKinds(r.get("finding_kinds") or []))
    for entry in r.get("datasets") or []:
        sections.add(entry)
    sections.finish()
    lines = [line for section in _SECTIONS for line in section(r, sections)]
    return scrub("\n".join(lines) + "\n")
