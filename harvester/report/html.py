"""The run report as one self-contained HTML page, rendered as a stream into its file.

    write_html(report, sections, handle)   # the report's facts, its Sections, an open file
    page = render_html(report)              # the dict of build_report() or load_report()

The page is laid out by the Jinja2 templates in templates/ (shipped in the package; autoescape
on): report.html.j2 holds the page, dataset.html.j2 a dataset's card, quality.html.j2 the
quality score on its one scale, its charts, its legend and its metrics table, report.css the
style sheet. This module gives them what they cannot easily work out themselves: the geometry of
the bar charts, the bands' legend and the text of a value. Jinja2 renders the page piece by
piece (`generate()`), and the pieces go to the file as they come.

The page needs nothing but a browser: inline CSS, inline SVG bar charts, no script, no
external file, font or image. User-facing labels are Dutch first ("Actie nodig / Needs a
person"). Like every form of the report it is scrubbed of secrets (harvester.report.scrub).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TextIO

import jinja2

from harvester.report.entries import FindingKinds
from harvester.report.labels import (
    ACTION_LABELS,
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
from harvester.report.quality import (
    BAND_LABELS_NL,
    BANDS,
    DIMENSIONS,
    FULL_MAX,
    METRICS,
    NOT_CHECKED,
    URL_METRICS_MAX,
)
from harvester.report.scrub import scrub, scrub_data, secret_values
from harvester.report.sections import (
    Sections,
    diff_sides,
    problems_by_field,
    reason_adds,
    score_dimensions,
    warnings_by_field,
)

__all__ = ["render_html", "write_html"]

#: The lowest share of the points that reaches each band (a CSS class colours it as the band).
_FILLS = tuple((lowest / FULL_MAX, f"q-{band}") for band, lowest in BANDS)
#: What a value cut off by `_json_text` ends with.
_TRUNCATED = "\n… (ingekort / truncated; zie het JSON-rapport / see the JSON report)"
#: Harvest counts shown under the completeness table, when the harvest has them.
_HARVEST_KEYS = ("new", "changed", "unchanged", "gone", "returned", "errors", "requests")
#: From how many datasets that need a person on the page sums up their most common problems.
_COMMON_FROM = 5
#: How much of the page is gathered before it is scrubbed and written.
_BLOCK = 1 << 16


# --- values as the page shows them --------------------------------------------------------------


def _num(value: Any) -> str:
    """A number without trailing zeros (30.50 -> 30.5, 30.0 -> 30)."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _json_text(value: Any, limit: int = 4000) -> str:
    """A value as indented JSON (a string as it is), cut off after `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1,
                                                             sort_keys=True)
    if len(text) > limit:
        text = text[:limit] + _TRUNCATED
    return text


def _value_text(metric: Mapping[str, Any]) -> str:
    """What a quality metric measured, in words."""
    value = metric.get("value")
    if value == NOT_CHECKED or metric.get("checked") is False:
        return "niet gecontroleerd / not checked"
    if isinstance(value, bool):
        return "ja / yes" if value else "nee / no"
    if "count" in metric and "of" in metric:
        return f"{metric['count']} van/of {metric['of']} distributies/distributions"
    if isinstance(value, (int, float)):
        return f"{value * 100:.0f}%"
    return "" if value is None else str(value)


def _band_label(band: str) -> str:
    return f"{BAND_LABELS_NL.get(band, band)} / {band}"


def _side_class(side: str) -> str:
    """The CSS class of a diff's column: ours, the target's, old or new."""
    return "ours" if side.startswith("ours") else "target" if side == "target_now" else side


def _metric_rows(score: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per metric of a score: its name, dimension, label, value in words and points."""
    rows = []
    for dim_name, dim in (score.get("dimensions") or {}).items():
        for name, metric in (dim.get("metrics") or {}).items():
            labels = METRICS.get(name)
            rows.append({"name": name, "dimension": DIMENSIONS.get(dim_name, (dim_name,))[0],
                         "label": f"{labels[4]} / {labels[5]}" if labels else name,
                         "value": _value_text(metric), "points": metric.get("points"),
                         "max": metric.get("max")})
    return rows


def _dataset_badge(d: Mapping[str, Any]) -> tuple[str, str]:
    """(CSS class, label) of a dataset's action badge."""
    action = d.get("action", "")
    need = d.get("needs_person")
    text = label(NEEDS_LABELS, need) if need else label(ACTION_LABELS, action)
    if need == "failed":
        text += f" ({label(ACTION_LABELS, action)})"
    for flag, words in (("restore", "hersteld / restored"), ("adopt", "overgenomen / adopted")):
        if d.get(flag):
            text += f" ({words})"
    return (f"a-{need}" if need else f"a-{action}"), text


# --- charts -------------------------------------------------------------------------------------


def _share(dim: Mapping[str, Any]) -> float:
    """A dimension's points as a share of its maximum."""
    maximum = float(dim.get("max") or 0)
    return float(dim.get("points") or 0) / maximum if maximum else 0.0


def _fill_class(share: float) -> str:
    return next((name for lowest, name in _FILLS if share >= lowest), _FILLS[-1][1])


@dataclass(frozen=True)
class Bar:
    """One dimension's bar: where it starts (x, y), how long it is, and its points."""

    dimension: str
    label: str
    points: Any
    maximum: Any
    fill: str
    x: int
    y: float
    length: float

    @property
    def text_y(self) -> float:
        """The baseline of the text beside a horizontal bar."""
        return self.y + 14


@dataclass(frozen=True)
class BarChart:
    """Bars, one per dimension, on tracks `track` long (a horizontal chart has the dimension's
    name in the first `label_width` and its points after the track)."""

    width: int
    height: int
    track: int
    bars: list[Bar]
    label_width: int = 0

    @property
    def value_x(self) -> int:
        return self.label_width + self.track + 8


def _bar_chart(dimensions: Mapping[str, Any]) -> BarChart:
    """A horizontal bar per dimension: points as a share of the dimension's maximum."""
    label_width, track, row_height = 250, 360, 30
    bars = [Bar(dimension=name, label=label(DIMENSIONS, name), points=dim.get("points"),
                maximum=dim.get("max"), fill=_fill_class(_share(dim)), x=label_width,
                y=9 + i * row_height, length=track * min(_share(dim), 1.0))
            for i, (name, dim) in enumerate(dimensions.items())]
    return BarChart(width=label_width + track + 110, height=row_height * len(bars) + 10,
                    track=track, bars=bars, label_width=label_width)


@dataclass(frozen=True)
class BandStep:
    """A band of the legend: its name, its colour and where it starts."""

    name: str
    fill: str
    lowest: int
    share: str


_BAND_LEGEND = tuple(BandStep(band, fill, lowest, f"{lowest / FULL_MAX * 100:.1f}")
                     for (band, lowest), (_share_from, fill) in zip(BANDS, _FILLS, strict=True))


# --- the page -----------------------------------------------------------------------------------


def _blank_none(value: Any) -> Any:
    """What a template prints for a value: nothing for None."""
    return "" if value is None else value


@cache
def _environment() -> jinja2.Environment:
    """The templates of the page, read from the package (also from a built wheel)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("harvester.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_blank_none,
    )
    environment.filters.update(num=_num, json_text=_json_text, both=both, band_label=_band_label)
    environment.globals.update(
        label=label, COUNT_KEYS=COUNT_KEYS, COUNT_LABELS=COUNT_LABELS,
        NEEDS_LABELS=NEEDS_LABELS, OUTCOME_LABELS=OUTCOME_LABELS, PLANNED_LABELS=PLANNED_LABELS,
        ORIGIN_LABELS=ORIGIN_LABELS, SIDE_LABELS=SIDE_LABELS, HARVEST_KEYS=_HARVEST_KEYS,
        bar_chart_layout=_bar_chart, metric_rows=_metric_rows,
        dataset_badge=_dataset_badge, side_class=_side_class, diff_sides=diff_sides,
        problems_by_field=problems_by_field, warnings_by_field=warnings_by_field,
        score_dimensions=score_dimensions, reason_adds=reason_adds, band_legend=_BAND_LEGEND, full_max=FULL_MAX,
        url_points=URL_METRICS_MAX, COMMON_FROM=_COMMON_FROM,
    )
    return environment


def write_html(report: Mapping[str, Any], sections: Sections, handle: TextIO) -> None:
    """Write the page of a report into `handle` as Jinja2 renders it: `report` holds its facts
    (all but the datasets), `sections` its datasets (already scrubbed)."""
    secrets = secret_values()
    r = scrub_data(dict(report), secrets)
    catalogue = (r.get("quality") or {}).get("catalogue")
    pieces = _environment().get_template("report.html.j2").generate(
        r=r, outcome=r.get("outcome", "failed"), sections=sections, kinds=sections.kinds,
        catalogue=catalogue)
    block: list[str] = []
    size = 0
    for piece in pieces:
        block.append(piece)
        size += len(piece)
        if size >= _BLOCK:
            handle.write(scrub("".join(block)))
            block, size = [], 0
    handle.write(scrub("".join(block)))


def render_html(report: Mapping[str, Any]) -> str:
    """The report (held whole) as one self-contained HTML page (inline CSS and SVG, no
    script)."""
    secrets = secret_values()
    sections = Sections(FindingKinds(report.get("finding_kinds") or []))
    for entry in report.get("datasets") or []:
        sections.add(scrub_data(entry, secrets))
    facts = {k: v for k, v in report.items() if k != "datasets"}
    out = io.StringIO()
    write_html(facts, sections.finish(), out)
    return out.getvalue()
