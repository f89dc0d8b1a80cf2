"""One dataset's entry of the run report: what the run did with it, compactly.

    kinds = FindingKinds()
    entry = dataset_entry(action, score, kinds)        # plain JSON data, one line of the report
    needs = need_of(entry, kinds)                      # its "needs a person" item, or None

An entry holds a dataset's facts: its action, identifier, name, title, why, the field-level diff
of an update, withdrawal or conflict, its validation findings, unmapped values, the target's
rules it breaks and answers, and its quality score. Keys whose value is empty or the default
(false, null, nothing) are left out. What the state store already holds is left out too: the
package sent (a create's diff would be every field of it), unless `package` is given.

Findings are compact: the text of a finding (severity, path, message, shape) is the same for
every dataset it is found in, so the report holds each text once (`FindingKinds`, the report's
`finding_kinds`) and a dataset's finding names its kind, its focus node (left out when it is the
dataset itself, relative to the identifier when below it: "/resource/...") and its value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from harvester.dcat.rdf import NAMESPACES
from harvester.report.labels import NEEDS_LABELS

__all__ = [
    "WHOLE",
    "FindingKinds",
    "Problem",
    "compact_score",
    "dataset_entry",
    "focus_node",
    "jsonable",
    "need_of",
    "needs_order",
    "problem_items",
    "short_field",
]

#: The flags of an action the report keeps when they are set.
_FLAGS = ("held", "restore", "adopt")
#: The text attributes of an action the report keeps when they have a value.
_TEXTS = ("source_id", "target_id", "outcome", "reason")
#: What the old and new columns of a conflict's diff hold: a conflict over a dataset we published
#: (it has a target id) compares our last write with the target now (someone's hand edit is
#: "new"); any other compares the target's package with ours, never sent.
_CONFLICT_SIDES = {True: {"old": "ours_last_sent", "new": "target_now"},
                   False: {"old": "target_now", "new": "ours_to_send"}}
#: The keys of a finding's text, shared by every dataset it is found in.
_KIND_KEYS = ("severity", "path", "message", "shape")
#: Namespaces as a field's name shows them (longest first, so the most specific one wins).
_PREFIXES = sorted(((ns, prefix) for prefix, ns in NAMESPACES.items()), key=lambda p: -len(p[0]))
#: The field a problem of the dataset as a whole is listed under.
WHOLE = "(dataset)"
#: How the "needs a person" list says a problem, by where it was found.
_DETAIL_FORMS = {"shacl": "SHACL ({field}): {message}", "mapping": "{field}: {message}",
                 "target": "{field}: {message}", "answer": "{message}"}


def jsonable(value: Any) -> Any:
    """Plain JSON data: dicts with string keys, lists, strings, numbers, booleans, null."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    if hasattr(value, "__dataclass_fields__"):
        return jsonable(asdict(value))
    return str(value)


class FindingKinds:
    """The distinct texts of the findings of a report, numbered in the order first seen. A
    finding about a node outside any one dataset (a licence document, the publisher) is the
    same in every dataset that shares the node: its kind holds the node too."""

    def __init__(self, table: list[dict[str, Any]] | None = None) -> None:
        self.table: list[dict[str, Any]] = list(table or [])
        self._index = {self._key(kind, kind.get("focus_node")): i
                       for i, kind in enumerate(self.table)}

    @staticmethod
    def _key(finding: Mapping[str, Any], node: str | None) -> tuple:
        return (*(str(finding.get(key)) if finding.get(key) is not None else None
                  for key in _KIND_KEYS), node)

    def number(self, finding: Mapping[str, Any], shared_node: str | None = None) -> int:
        """The number of a finding's kind (a new one is added to the table); `shared_node`:
        the node it is about, when that is outside the dataset."""
        key = self._key(finding, shared_node)
        if key not in self._index:
            self._index[key] = len(self.table)
            self.table.append({k: v for k, v in zip((*_KIND_KEYS, "focus_node"), key, strict=True)
                               if v is not None})
        return self._index[key]

    def of(self, finding: Mapping[str, Any]) -> Mapping[str, Any]:
        """The text of a compact finding (a finding written in full is its own text)."""
        kind = finding.get("kind")
        if isinstance(kind, int) and 0 <= kind < len(self.table):
            return self.table[kind]
        return finding

    def node_of(self, finding: Mapping[str, Any]) -> str | None:
        """The node a compact finding is about, as focus_node() keeps it (None: the dataset)."""
        return finding.get("focus_node") or self.of(finding).get("focus_node")


def focus_node(node: str | None, identifier: str) -> str | None:
    """A focus node as a finding keeps it: None for the dataset itself, the rest of it for a
    node below the dataset's identifier ("/resource/..."), else the node as it is."""
    if node is None or node == identifier:
        return None
    node = str(node)
    if identifier and node.startswith(identifier) and node[len(identifier)] in "/#":
        return node[len(identifier):]
    return node


def _finding(finding: Any, identifier: str, kinds: FindingKinds) -> dict[str, Any]:
    """A finding as the report keeps it: its kind, and its focus node (below the dataset) and
    value when given."""
    item = finding if isinstance(finding, Mapping) else {"severity": "", "message": str(finding)}
    node = focus_node(item.get("focus_node"), identifier)
    shared = node is not None and node[:1] not in "/#"
    compact: dict[str, Any] = {"kind": kinds.number(item, node if shared else None)}
    if node is not None and not shared:
        compact["focus_node"] = node
    if item.get("value") is not None:
        compact["value"] = str(item["value"])
    return compact


def _listed(action: Any, name: str) -> list[Any]:
    """An action's list attribute `name` (empty when it has none)."""
    return list(getattr(action, name, None) or [])


def _findings(action: Any, kinds: FindingKinds) -> tuple[list[dict[str, Any]], int]:
    """(the findings reported, how many were left out): an unchanged dataset keeps only its
    violations (the rest was reported when it was written; keeps big runs readable). An action
    planned from its result's keys alone says how many findings it has (`findings_count`)
    without them (it has no violations: it is valid)."""
    findings = _listed(action, "findings")
    if action.action == "unchanged":
        kept = [f for f in findings if isinstance(f, Mapping) and f.get("severity") == "violation"]
    else:
        kept = findings
    counted = getattr(action, "findings_count", None)
    total = len(findings) if counted is None else counted
    identifier = str(action.identifier)
    return [_finding(f, identifier, kinds) for f in kept], total - len(kept)


def _changes(action: Any) -> list[dict[str, Any]]:
    """The field-level diff of an action; none for a create (every field of the package sent,
    which the state store holds)."""
    if action.action == "create":
        return []
    changes = []
    for change in _listed(action, "changes"):
        item = change if isinstance(change, Mapping) else jsonable(change)
        changes.append({"field": str(item.get("field", "")), "old": jsonable(item.get("old")),
                        "new": jsonable(item.get("new"))})
    return changes


def _unmapped(action: Any) -> list[Any]:
    """The values the mapper could not map, without the dataset's name each repeats and without
    empty values."""
    return [{k: v for k, v in item.items() if k != "dataset" and v is not None}
            if isinstance(item, Mapping) else item
            for item in jsonable(_listed(action, "unmapped"))]


def compact_score(score: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A dataset's quality score as the report keeps it: the total out of the maximum, the band,
    the points per dimension, and those of each metric that scored less than its maximum (the
    maxima follow from the method; a metric left out scored its maximum, or was not checked)."""
    if not score:
        return None
    dimensions = score.get("dimensions") or {}
    if all(not isinstance(d, Mapping) for d in dimensions.values()):
        return jsonable(score)  # compact already
    return {
        "total": score.get("total"), "max": score.get("max"), "band": score.get("band"),
        "urls_checked": bool(score.get("urls_checked")),
        "distributions": score.get("distributions", 0),
        "dimensions": {name: dim.get("points") for name, dim in dimensions.items()},
        "metrics": {metric: entry.get("points") for dim in dimensions.values()
                    for metric, entry in (dim.get("metrics") or {}).items()
                    if entry.get("checked", True) and entry.get("points") != entry.get("max")},
    }


def _needs(action: Any) -> str | None:
    """Why a person must look at this action (a NEEDS_LABELS key), or None."""
    if getattr(action, "outcome", None) == "failed":
        return "failed"
    if action.action in ("conflict", "invalid"):
        return action.action
    if action.action == "withdraw" and getattr(action, "held", False):
        return "withdraw_held"
    return None


def _put(entry: dict[str, Any], key: str, value: Any) -> None:
    """Keep `value` under `key` unless it is empty or the default."""
    if value not in (None, False, "", [], {}, 0):
        entry[key] = value


def dataset_entry(action: Any, score: Mapping[str, Any] | None, kinds: FindingKinds,
                  package: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One dataset's entry of the report (plain JSON data; see report.schema.json's dataset).

    `score` is its quality score (left out for an invalid dataset, which is not published);
    `package`, when given, the full package sent to the target."""
    entry: dict[str, Any] = {"identifier": str(action.identifier), "action": action.action,
                             "name": getattr(action, "name", None),
                             "title": getattr(action, "title", "") or ""}
    for key in _TEXTS:
        _put(entry, key, jsonable(getattr(action, key, None)))
    for flag in _FLAGS:
        _put(entry, flag, bool(getattr(action, flag, False)))
    _put(entry, "needs_person", _needs(action))
    changes = _changes(action)
    _put(entry, "changes", changes)
    if action.action == "conflict" and changes:
        entry["compare"] = _CONFLICT_SIDES[bool(entry.get("target_id"))]
    findings, left_out = _findings(action, kinds)
    _put(entry, "findings", findings)
    _put(entry, "findings_left_out", left_out)
    _put(entry, "unmapped", _unmapped(action))
    _put(entry, "problems", jsonable(_listed(action, "problems")))
    _put(entry, "messages", [str(m) for m in _listed(action, "messages")])
    if action.action != "invalid":
        _put(entry, "quality", compact_score(score))
    if package is not None:
        entry["package"] = jsonable(package)
    return entry


# --- needs a person -------------------------------------------------------------------------------


def short_field(path: Any) -> str:
    """A SHACL path as a field's name: "dct:title" for http://purl.org/dc/terms/title."""
    if not path:
        return WHOLE
    text = str(path)
    for namespace, prefix in _PREFIXES:
        if text.startswith(namespace):
            return f"{prefix}:{text[len(namespace):]}"
    return text


@dataclass(frozen=True)
class Problem:
    """One problem of a dataset: where it was found (an ORIGIN_LABELS key), what it says, and
    the node or value it is about."""

    origin: str
    message: str
    where: str = ""


def _where(*parts: Any) -> str:
    return " ".join(str(p) for p in parts if p not in (None, ""))


def _violations(entry: Mapping[str, Any], kinds: FindingKinds) -> Iterator[tuple[str, Problem]]:
    for finding in entry.get("findings") or []:
        text = kinds.of(finding)
        if text.get("severity") == "violation":
            yield short_field(text.get("path")), Problem(
                "shacl", str(text.get("message", "")),
                _where(kinds.node_of(finding), finding.get("value")))


def _mapping_errors(entry: Mapping[str, Any]) -> Iterator[tuple[str, Problem]]:
    for item in entry.get("unmapped") or []:
        if isinstance(item, Mapping) and item.get("severity") == "error":
            yield str(item.get("field") or WHOLE), Problem(
                "mapping", str(item.get("message", "")), _where(item.get("value")))


def _target_problems(entry: Mapping[str, Any]) -> Iterator[tuple[str, Problem]]:
    for item in entry.get("problems") or []:
        if isinstance(item, Mapping):
            yield str(item.get("field") or WHOLE), Problem("target", str(item.get("message", "")))
    for message in entry.get("messages") or []:
        yield WHOLE, Problem("answer", str(message))


def problem_items(entry: Mapping[str, Any], kinds: FindingKinds) -> list[tuple[str, Problem]]:
    """(field, problem) for each SHACL violation, mapping error, target rule the package breaks
    and answer of the target, in that order."""
    return [*_violations(entry, kinds), *_mapping_errors(entry), *_target_problems(entry)]


def _need_details(entry: Mapping[str, Any], kinds: FindingKinds) -> list[str]:
    """Why a dataset needs a person: its reason and its problems; each said once."""
    details = [entry["reason"]] if entry.get("reason") else []
    details.extend(_DETAIL_FORMS[problem.origin].format(field=name, message=problem.message)
                   for name, problem in problem_items(entry, kinds))
    unique: list[str] = []
    for detail in details:  # a reason often quotes the problems it is made of
        if detail and not any(detail in earlier for earlier in unique):
            unique.append(detail)
    return unique


def need_of(entry: Mapping[str, Any], kinds: FindingKinds) -> dict[str, Any] | None:
    """A dataset's item of the "needs a person" list, or None when it needs no one."""
    kind = entry.get("needs_person")
    if not kind:
        return None
    return {"kind": kind, "identifier": entry["identifier"], "title": entry.get("title") or "",
            "action": entry["action"], "details": _need_details(entry, kinds)}


def needs_order(item: Mapping[str, Any]) -> tuple[int, str]:
    """The order of the "needs a person" list: by kind (NEEDS_LABELS order), then identifier."""
    kinds = list(NEEDS_LABELS)
    kind = item.get("kind") or item.get("needs_person")
    return (kinds.index(kind) if kind in kinds else len(kinds), str(item.get("identifier")))
