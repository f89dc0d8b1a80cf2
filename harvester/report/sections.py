"""The datasets of a report as a person reads them, for the page and the text.

    sections = Sections(FindingKinds(report["finding_kinds"]))
    for entry in report["datasets"]:
        sections.add(entry)

First the datasets that need a person (conflicts, invalid datasets, failed writes, withdrawals
held back), then the changed ones: updates and withdrawals each with its field-level diff, the
creates in one compact table; last the unchanged datasets in one compact table. A compact table
keeps a `Row` per dataset, not its entry; the datasets not published (private or draft at the
source, another organisation's) come last, each with the reason. The helpers below give what a dataset's card shows:
its problems grouped per field, its warnings per field, the headings of its diff and the points
of its quality score per dimension.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harvester.report.entries import (
    WHOLE,
    FindingKinds,
    Problem,
    needs_order,
    problem_items,
    short_field,
)
from harvester.report.quality import DIMENSIONS, METRICS

__all__ = [
    "Row",
    "Sections",
    "diff_sides",
    "problems_by_field",
    "reason_adds",
    "score_dimensions",
    "warnings_by_field",
]

#: The maximum points of each dimension, with and without the URL checks.
_DIMENSION_MAX = {
    checked: {dim: sum(points for d, points, _level, needs_url, _nl, _en in METRICS.values()
                       if d == dim and (checked or not needs_url))
              for dim in DIMENSIONS}
    for checked in (True, False)
}


@dataclass(frozen=True)
class Row:
    """A dataset in a compact table: its name, identifier, title and quality score."""

    identifier: str
    name: str
    title: str
    total: Any = None
    maximum: Any = None
    band: str | None = None


@dataclass
class Sections:
    """A report's datasets in the order a person reads them (see the module)."""

    kinds: FindingKinds
    needs: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    created: list[Row] = field(default_factory=list)
    unchanged: list[Row] = field(default_factory=list)
    #: datasets not published (private or draft at the source, another organisation), with why
    skipped: list[tuple[Row, str]] = field(default_factory=list)
    total: int = 0
    #: how many of the datasets that need a person have each problem: (field, Problem) -> count
    problem_counts: Counter = field(default_factory=Counter)

    def add(self, entry: dict[str, Any]) -> None:
        """Take one dataset entry in (an entry that needs no full card is kept as a Row)."""
        self.total += 1
        action = entry.get("action")
        if entry.get("needs_person"):
            self.needs.append(entry)
            self.problem_counts.update({(name, problem) for name, problems in
                                        problems_by_field(entry, self.kinds)
                                        for problem in problems})
        elif action in ("update", "withdraw"):
            self.changed.append(entry)
        elif action == "create":
            self.created.append(_row(entry))
        elif action == "skip":
            self.skipped.append((_row(entry), str(entry.get("reason") or "")))
        else:
            self.unchanged.append(_row(entry))

    def finish(self) -> Sections:
        """Put the datasets that need a person in the order of the "needs a person" list."""
        self.needs.sort(key=needs_order)
        self.changed.sort(key=lambda d: 0 if d.get("action") == "withdraw" else 1)
        return self

    def common_problems(self, limit: int = 10) -> list[tuple[str, Problem, int]]:
        """(field, problem, how many datasets have it) of the most common problems of the
        datasets that need a person, most common first."""
        ranked = sorted(self.problem_counts.items(), key=lambda item: (-item[1], item[0][0]))
        return [(name, problem, count) for (name, problem), count in ranked[:limit]]


def _row(entry: Mapping[str, Any]) -> Row:
    score = entry.get("quality") or {}
    return Row(identifier=str(entry.get("identifier", "")), name=str(entry.get("name") or ""),
               title=str(entry.get("title") or ""), total=score.get("total"),
               maximum=score.get("max"), band=score.get("band"))


# --- a dataset's card -----------------------------------------------------------------------------


def problems_by_field(entry: Mapping[str, Any], kinds: FindingKinds
                      ) -> list[tuple[str, list[Problem]]]:
    """A dataset's problems grouped per field, the fields in alphabetical order (the dataset
    as a whole first)."""
    groups: dict[str, list[Problem]] = {}
    for name, problem in problem_items(entry, kinds):
        groups.setdefault(name, []).append(problem)
    return sorted(groups.items(), key=lambda g: (g[0] != WHOLE, g[0]))


def reason_adds(entry: Mapping[str, Any]) -> bool:
    """Whether a dataset's reason says more than its problems (a refusal's reason is made of
    the target's rules the package breaks)."""
    reason = entry.get("reason") or ""
    problems = [p for p in entry.get("problems") or [] if isinstance(p, Mapping)]
    return bool(reason) and not (problems and all(str(p.get("message", "")) in reason
                                                 for p in problems))


def warnings_by_field(entry: Mapping[str, Any], kinds: FindingKinds) -> list[tuple[str, int]]:
    """(field, how many) of a dataset's findings that are not violations, by field."""
    counts: dict[str, int] = {}
    for finding in entry.get("findings") or []:
        text = kinds.of(finding)
        if text.get("severity") != "violation":
            name = short_field(text.get("path"))
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items())


def diff_sides(entry: Mapping[str, Any]) -> tuple[str, str, bool]:
    """(the SIDE_LABELS key of the first column, of the second, whether the first column shows
    `new`): ours first, for a conflict."""
    compare = entry.get("compare") or {}
    old, new = compare.get("old", "old"), compare.get("new", "new")
    if new.startswith("ours"):
        return new, old, True
    return old, new, False


def score_dimensions(score: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The points and maximum of each dimension of a score, as kept compactly (points only) or
    in full (score_dataset's form)."""
    if not score:
        return {}
    maxima = _DIMENSION_MAX[bool(score.get("urls_checked"))]
    dims = {}
    for name, dim in (score.get("dimensions") or {}).items():
        if isinstance(dim, Mapping):
            dims[name] = {"points": dim.get("points"), "max": dim.get("max")}
        else:
            dims[name] = {"points": dim, "max": maxima.get(name)}
    return dims
