"""The run report as one self-contained HTML page.

    page = render_html(report)          # the dict of build_report() or load_report()

The page is laid out by the Jinja2 templates in templates/ (shipped in the package; autoescape
on): report.html.j2 holds the page, dataset.html.j2 one dataset's details, quality.html.j2 the
quality score, its metrics table and its charts, report.css the style sheet. This module gives
them what they cannot easily work out themselves: the order of the datasets, the geometry of the
bar charts and the text of a value.

The page needs nothing but a browser: inline CSS, inline SVG bar charts, no script, no
external file, font or image. User-facing labels are Dutch first ("Actie nodig / Needs a
person"). Like every form of the report it is scrubbed of secrets (harvester.report.scrub).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from harvester.report.labels import (
    ACTION_LABELS,
    COUNT_KEYS,
    COUNT_LABELS,
    NEEDS_LABELS,
    OUTCOME_LABELS,
    PLANNED_LABELS,
    both,
    label,
)
from harvester.report.quality import BAND_LABELS_NL, DIMENSIONS, METRICS, NOT_CHECKED
from harvester.report.scrub import scrub, scrub_data, secret_values

__all__ = ["render_html"]

#: The order of the datasets on the page (after those that need a person).
_ACTION_ORDER = {"conflict": 0, "invalid": 1, "withdraw": 2, "update": 3, "create": 4,
                 "unchanged": 5}
#: The lowest share of the points that gets each bar colour (a CSS class).
_FILLS = ((0.85, "q-hi"), (0.55, "q-mid"), (0.3, "q-low"))
#: What a value cut off by `_json_text` ends with.
_TRUNCATED = "\n… (ingekort / truncated; zie het JSON-rapport / see the JSON report)"
#: Harvest counts shown under the completeness table, when the harvest has them.
_HARVEST_KEYS = ("new", "changed", "unchanged", "gone", "returned", "errors", "requests")


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


def _entry(item: Any) -> Mapping[str, Any]:
    """A finding, problem or unmapped value as a mapping (a bare one is its message)."""
    return item if isinstance(item, Mapping) else {"message": item}


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


# --- charts -------------------------------------------------------------------------------------


def _share(dim: Mapping[str, Any]) -> float:
    """A dimension's points as a share of its maximum."""
    maximum = float(dim.get("max") or 0)
    return float(dim.get("points") or 0) / maximum if maximum else 0.0


def _fill_class(share: float) -> str:
    return next((name for lowest, name in _FILLS if share >= lowest), "q-bad")


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


def _mini_chart(dimensions: Mapping[str, Any]) -> BarChart:
    """Small vertical bars, one per dimension, for a table cell (`y` is a bar's top edge and
    `length` its height; `label` is Dutch only)."""
    bar_width, gap, height = 14, 4, 32
    bars = []
    for i, (name, dim) in enumerate(dimensions.items()):
        length = max(1.0, height * min(_share(dim), 1.0))
        bars.append(Bar(dimension=name, label=DIMENSIONS.get(name, (name, name))[0],
                        points=dim.get("points"), maximum=dim.get("max"),
                        fill=_fill_class(_share(dim)), x=i * (bar_width + gap),
                        y=height - length, length=length))
    return BarChart(width=len(bars) * (bar_width + gap), height=height, track=bar_width,
                    bars=bars)


# --- datasets -----------------------------------------------------------------------------------


def _dataset_badge(d: Mapping[str, Any]) -> tuple[str, str]:
    """(CSS class, label) of a dataset's action badge."""
    action = d.get("action", "")
    need = d.get("needs_person")
    text = label(ACTION_LABELS, action)
    if d.get("held"):
        text += " (tegengehouden / held back)"
    if d.get("outcome"):
        text += f" — {d['outcome']}"
    return (f"a-{need}" if need else f"a-{action}"), text


def _split_findings(findings: list[Any]) -> tuple[list[Mapping], list[Mapping]]:
    """(violations, the other findings) of a dataset."""
    entries = [_entry(f) for f in findings]
    violations = [f for f in entries if f.get("severity") == "violation"]
    return violations, [f for f in entries if f.get("severity") != "violation"]


def _dataset_groups(datasets: list[Mapping[str, Any]]) -> tuple[list[tuple[int, Mapping]],
                                                                list[tuple[int, Mapping]]]:
    """(datasets shown in full, unchanged datasets listed in one table), each as (index,
    dataset): first those that need a person, then by action, then as the plan had them."""
    ordered = sorted(enumerate(datasets), key=lambda p: (
        0 if p[1].get("needs_person") else 1, _ACTION_ORDER.get(p[1].get("action"), 9), p[0]))
    unchanged = [(i, d) for i, d in ordered
                 if d.get("action") == "unchanged" and not d.get("needs_person")]
    listed = {i for i, _ in unchanged}
    return [(i, d) for i, d in ordered if i not in listed], unchanged


def _scored(datasets: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The datasets with a quality score, lowest score first."""
    return sorted((d for d in datasets if d.get("quality")),
                  key=lambda d: (d["quality"].get("scaled_total", 0), d["identifier"]))


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
        HARVEST_KEYS=_HARVEST_KEYS, bar_chart_layout=_bar_chart, mini_chart_layout=_mini_chart,
        metric_rows=_metric_rows, dataset_badge=_dataset_badge, split_findings=_split_findings,
        dataset_groups=_dataset_groups, scored=_scored, entry=_entry,
    )
    return environment


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script)."""
    r = scrub_data(report, secret_values())
    page = _environment().get_template("report.html.j2").render(
        r=r, outcome=r.get("outcome", "failed"))
    return scrub(page)
