"""A plan for a person, as terraform shows one: one line per dataset that would change (a
symbol, its name, the fields that change), a legend, notes said once with how many datasets they
concern, and a last summary line. Full field-by-field diffs on request.

    + adressen_so  (new, 3 resources)
    ~ leerlingen_vo  (title, modified)
    ! examens_ho  conflict: on the target, not created by this harvester ...
    Plan: 1 to create, 1 to update, 0 to withdraw; 1 conflict needs a person.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - types only
    from harvester.plan import Action, Plan

#: the symbol of each kind of line: what would be written, what needs a person, what is a note
SYMBOLS = {"create": "+", "update": "~", "withdraw": "-", "unchanged": "=", "skip": "x", "person": "!",
           "note": "?"}
LEGEND = "+ create  ~ update  - withdraw  ! needs a person (conflict, invalid, held back, failed)  ? note"
#: at most this many changed field names on a dataset's line
FIELDS_SHOWN = 8
#: a reason on a dataset's line is cut to this many characters
REASON_WIDTH = 110


def label(action: Action) -> str:
    """How a dataset is named on its line: its name on the target, else its title or source id."""
    return action.name or action.title or action.source_id or action.identifier


def needs_person(action: Action) -> bool:
    """Conflicts, invalid datasets, withdrawals held back and failed writes need a person."""
    return action.action in ("conflict", "invalid") or action.held or action.outcome == "failed"


def dataset_line(action: Action) -> str:
    """One dataset on one line: its symbol, its name, and what changes or what is wrong."""
    name = label(action)
    if action.outcome == "failed":
        return f"! {name}  failed: {_cut(action.messages[-1] if action.messages else action.reason)}"
    if action.held:
        return f"! {name}  withdrawal held back: {_cut(action.reason)}"
    if action.action in ("conflict", "invalid"):
        return f"! {name}  {action.action}: {_cut(action.reason)}"
    symbol = SYMBOLS.get(action.action, "?")
    return f"{symbol} {name}  {_what_changes(action)}".rstrip()


def _created(action: Action) -> str:
    """A create's line: new, with how many resources."""
    resources = len((action.package or {}).get("resources") or []) or sum(
        1 for c in action.changes if re.fullmatch(r"resources\[\d+\]", str(c.get("field"))))
    return f"(new, {resources} resource{'s' if resources != 1 else ''})"


def _updated(action: Action) -> str:
    """An update's line: the fields that change (at most FIELDS_SHOWN named)."""
    fields = list(dict.fromkeys(str(c.get("field")) for c in action.changes))
    if not fields:
        return "(restored)" if action.restore else f"({_cut(action.reason)})"
    more = f", +{len(fields) - FIELDS_SHOWN} more" if len(fields) > FIELDS_SHOWN else ""
    return f"({'restored: ' if action.restore else ''}{', '.join(fields[:FIELDS_SHOWN])}{more})"


def _withdrawn(action: Action) -> str:
    return f"({_cut(action.reason)})"


def _not_published(action: Action) -> str:
    return f"(not published: {_cut(action.reason)})"


#: what the line of each kind of action says changes
_CHANGES = {"create": _created, "update": _updated, "withdraw": _withdrawn, "skip": _not_published}


def _what_changes(action: Action) -> str:
    describe = _CHANGES.get(action.action)
    return describe(action) if describe is not None else ""


def _cut(text: str, width: int = REASON_WIDTH) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def shown_actions(actions: Iterable[Action], *, unchanged: bool = False) -> list[Action]:
    """The actions a plan's lines show: every change and every dataset that needs a person; the
    unchanged ones and those not published (private, draft, another organisation's) only when
    asked."""
    return [a for a in actions
            if a.action not in ("unchanged", "skip") or unchanged or a.outcome == "failed"]


def note_lines(plan: Plan, actions: Iterable[Action]) -> Iterator[str]:
    """The plan's notes, then the harmless notes of the datasets, each said once with how many
    datasets it concerns (the most frequent first)."""
    for note in plan.notes:
        yield f"? {note}"
    for text, count in _counted_notes(actions):
        yield f"? {text}  ({count} dataset{'s' if count != 1 else ''})"


def _counted_notes(actions: Iterable[Action]) -> list[tuple[str, int]]:
    """The notes of the datasets to be written, each with how many datasets have it: as said
    when every dataset says it alike, else without the quoted names that differ."""
    counted: Counter[str] = Counter()
    said: dict[str, set[str]] = {}
    for action in actions:
        if action.action not in ("create", "update"):
            continue
        texts = {_note_text(issue) for issue in action.unmapped if issue.get("severity") != "error"}
        for text in texts:
            said.setdefault(_common(text), set()).add(text)
        counted.update({_common(text) for text in texts})
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [(next(iter(said[common])) if len(said[common]) == 1 else common, count) for common, count in ranked]


def _note_text(issue: dict[str, Any]) -> str:
    field = issue.get("field") or ""
    message = str(issue.get("message") or "")
    return message if field == "target" else f"{field}: {message}"


def _common(text: str) -> str:
    """A note without what makes it one dataset's (its quoted names), so that the same note of
    many datasets is said once."""
    return re.sub(r"'[^']*'", "'…'", text)


def summary_line(counts: dict[str, int], *, applied: bool = False) -> str:
    """`Plan: 3 to create, 1 to update, 0 to withdraw; 2 conflicts and 5 invalid need a person.`
    (of an applied run: `Applied: 3 created, ...`)."""
    if applied:
        head = (f"Applied: {counts.get('created', 0)} created, {counts.get('updated', 0)} updated, "
                f"{counts.get('withdrawn', 0)} withdrawn")
    else:
        head = (f"Plan: {counts.get('create', 0)} to create, {counts.get('update', 0)} to update, "
                f"{counts.get('withdraw', 0)} to withdraw")
    aside = [f"{counts[key]} {word}" for key, word in (("unchanged", "unchanged"), ("skip", "not published"),
                                                       ("skipped", "not published")) if counts.get(key)]
    if aside:
        head += f" ({', '.join(aside)})"
    return f"{head}; {_person_part(counts)}."


def _person_part(counts: dict[str, int]) -> str:
    parts = [f"{n} {word if n == 1 else plural}" for key, word, plural in (
        ("failed", "failed", "failed"), ("conflict", "conflict", "conflicts"), ("invalid", "invalid", "invalid"),
        ("withdraw_held", "withdrawal held back", "withdrawals held back")) if (n := counts.get(key, 0))]
    if not parts:
        return "nothing needs a person"
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    total = sum(counts.get(key, 0) for key in ("failed", "conflict", "invalid", "withdraw_held"))
    return f"{joined} {'needs' if total == 1 else 'need'} a person"


def plan_lines(plan: Plan, *, unchanged: bool = False, diff: bool = False) -> Iterator[str]:
    """The legend, a line per dataset shown (with `diff`, each followed by its full diff), the
    notes; no summary line."""
    yield from action_lines(plan, shown_actions(plan.actions, unchanged=unchanged),
                            legend="  = unchanged  x not published" if unchanged else "", diff=diff)


def action_lines(plan: Plan, actions: list[Action], *, legend: str, diff: bool) -> Iterator[str]:
    """The legend (with `legend` added) when any action is shown, a line per action (with `diff`,
    each followed by its full diff), and the plan's notes."""
    if actions:
        yield LEGEND + legend
    for action in actions:
        yield dataset_line(action)
        if diff:
            yield from detail_lines(action)
    yield from note_lines(plan, plan.actions)


def detail_lines(action: Action) -> Iterator[str]:
    """A dataset in full: why, each changed field (`+` added, `-` removed, `~` changed), what is
    wrong with it and its notes."""
    yield f"    {action.action}{' (held)' if action.held else ''}: {action.reason}"
    yield f"    identifier: {action.identifier}"
    yield from map(_change_line, action.changes)
    for problem in action.problems:
        yield f"    ! data.overheid.nl would refuse {problem['field']}: {problem['message']}"
    for finding in action.findings:
        if finding.get("severity") == "violation":
            yield f"    ! {finding.get('focus_node')} {finding.get('path') or ''}: {finding['message']}"
    for issue in action.unmapped:
        mark = "!" if issue.get("severity") == "error" else "?"
        yield f"    {mark} {issue['field']} {issue.get('value') or ''}: {issue['message']}"
    for message in action.messages:
        yield f"    ! {message}"


def _change_line(change: dict[str, Any]) -> str:
    """`+ field: new` for an added field, `- field: old` for a removed one, else `~ field: old -> new`."""
    old, new = (json.dumps(change.get(key), ensure_ascii=False) for key in ("old", "new"))
    if change.get("old") is None:
        return f"      + {change['field']}: {new}"
    if change.get("new") is None:
        return f"      - {change['field']}: {old}"
    return f"      ~ {change['field']}: {old} -> {new}"


def find_action(plan: Plan, wanted: str) -> Action | None:
    """The action of the dataset named `wanted`: its name on the target, source id, identifier
    or title."""
    for action in plan.actions:
        if wanted in (action.name, action.source_id, action.identifier, action.title):
            return action
    return None
