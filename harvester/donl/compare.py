"""Comparing data.overheid.nl packages: what we would send against what the target holds.

`normalise_package` keeps what a package says: without TARGET_MANAGED_FIELDS, CURATED_FIELDS,
the defaults the target fills in, empty values and key order, so that what we send and what
package_show gives back for it are the same (tests/test_donl_standin.py checks this against the
stand-in).

    canonical_hash(body) == canonical_hash(package_show_result)    # nothing to update
    diff_packages(body, package_show_result)                       # else: what changed
    keep_curated(body, package_show_result)                        # the curators' fields kept
    only_modification_date(diff_packages(...))                     # not worth a write

`package_key` names a stored target dataset's package before it is made: what the plan compares
to decide that a result is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harvester.donl.formats import DAY_FORMAT, array_items, parse_time
from harvester.donl.rules import AVAILABLE, DATASET_FIELDS, RESOURCE_FIELDS
from harvester.donl.valuelists import ValueLists
from harvester.version import LOGIC_VERSION

__all__ = [
    "CURATED_FIELDS",
    "MODIFICATION_DATE",
    "TARGET_MANAGED_FIELDS",
    "FieldChange",
    "canonical_hash",
    "diff_packages",
    "keep_curated",
    "normal_hash",
    "normalise_package",
    "only_modification_date",
    "package_key",
]

#: fields the target sets or derives itself (or that we never send), ignored when comparing
TARGET_MANAGED_FIELDS: frozenset[str] = frozenset({
    # package
    "id", "changetype", "communities", "metadata_created", "metadata_modified", "revision_id",
    "revision_timestamp", "num_resources", "num_tags", "organization", "owner_org", "state",
    "creator_user_id", "isopen", "license_title", "license_url", "private", "type", "groups",
    "relationships_as_object", "relationships_as_subject", "tracking_summary", "extras",
    "author", "author_email", "maintainer", "maintainer_email",
    # resource
    "package_id", "position", "created", "last_modified", "cache_url", "cache_last_updated",
    "url_type", "mimetype", "mimetype_inner", "resource_type", "datastore_active",
})
#: dataset fields that data.overheid.nl's curators set on a published dataset and that a source
#: does not have: DCAT-AP-DONL's classifications (donl:classifiedAs), high value (also set from a
#: High Value Dataset category, when the source names one), base register, reference data and
#: national coverage. They are read from the target and sent back as they are (`keep_curated`),
#: and never compared: they are not ours, so they cannot drift
CURATED_FIELDS: frozenset[str] = frozenset({"high_value", "basis_register", "referentie_data",
                                            "national_coverage"})
#: the package's modification date (made from the source's metadata_modified): a change of it
#: alone is not sent; it goes out with the next change of anything else
MODIFICATION_DATE = "modified"
_ALL_FIELDS = DATASET_FIELDS + RESOURCE_FIELDS
_DATE_FIELDS = frozenset(f.name for f in _ALL_FIELDS if f.kind == "date")
_BOOLEAN_FIELDS = frozenset(f.name for f in DATASET_FIELDS if f.kind == "boolean")
_LIST_FIELDS = frozenset(f.name for f in _ALL_FIELDS if f.many)
_NOT_COMPARED = TARGET_MANAGED_FIELDS | CURATED_FIELDS | {"resources", "tags"}
_TRUE = ("true", "1", "yes")
_EMPTY = (None, "", [], {})

Normal = dict[str, Any]


@dataclass(frozen=True)
class FieldChange:
    """A field-level difference: `old` is the target's value, `new` ours (None: absent)."""

    field: str
    old: Any
    new: Any


def package_key(target_json: bytes, lists: ValueLists) -> str:
    """A result's key from its target dataset's stored JSON: the same key means the same target
    package, whatever else changed (the mapping tables, the shapes: a result they left as it
    was keeps its key, so the plan sees it unchanged without building its package). Part of the
    key are what makes a package of the JSON and checks it before it is sent: the logic's
    version (harvester.version.LOGIC_VERSION) and what data.overheid.nl's value lists hold."""
    parts = (LOGIC_VERSION.encode(), lists.content_digest.encode(), target_json)
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


# --- the normal form ----------------------------------------------------------------------------


def _normal_text(key: str, text: str) -> Any:
    """A string value as the target stores it: stripped, a bare date with midnight, a list sent
    as a PostgreSQL array as its items."""
    text = text.strip()
    if key in _DATE_FIELDS and parse_time(text, DAY_FORMAT) is not None:
        return text + "T00:00:00"
    if key in _LIST_FIELDS:
        items = array_items(text)
        if items is not None:
            return items
    return text


def _normal_size(value: Any) -> Any:
    """A size as an integer, 0 as absent (what is no number stays as it is)."""
    if value in (None, ""):
        return value
    try:
        return int(value) or None
    except (TypeError, ValueError):
        return value


def _normal_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        value = _normal_text(key, value)
    if key in _BOOLEAN_FIELDS:
        return "true" if str(value).strip().lower() in _TRUE else None
    if key == "size":
        return _normal_size(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted({v.strip() for v in value if v.strip()})
    return value


def _normal_dict(data: Mapping[str, Any]) -> Normal:
    """The compared fields of a package or resource dict, normalised, without empty values."""
    out: Normal = {}
    for key, value in data.items():
        if key not in _NOT_COMPARED:
            value = _normal_value(key, value)
            if value not in _EMPTY:
                out[key] = value
    return out


def _normal_fields(package: Mapping[str, Any]) -> Normal:
    """normalise_package without the resources."""
    out = _normal_dict(package)
    if out.get("dataset_status") == AVAILABLE:
        del out["dataset_status"]
    tags = sorted({str((t.get("name") or "") if isinstance(t, dict) else t).strip()
                   for t in package.get("tags") or [] if t} - {""})
    if tags:
        out["tags"] = tags
    return out


def _resources(package: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [r for r in package.get("resources") or [] if isinstance(r, dict)]


def normalise_package(package: Mapping[str, Any] | None) -> Normal:
    """What of a package counts when comparing: without the target's own fields and the
    curators', defaults the target fills in (dataset_status beschikbaar), empty values and key
    order; bare dates as the target stores them, lists of values as sorted sets, tags as sorted
    names."""
    package = package or {}
    out = _normal_fields(package)
    resources = [_normal_dict(r) for r in _resources(package)]
    if resources:
        out["resources"] = resources
    return out


def canonical_hash(package: Mapping[str, Any] | None) -> str:
    """A stable SHA-256 of what a package says (see normalise_package): the same for what we
    sent and for what the target gives back for it, whatever the key order."""
    return normal_hash(normalise_package(package))


def normal_hash(normal: Mapping[str, Any]) -> str:
    """canonical_hash of a package from its normalise_package() (when the caller has it)."""
    text = json.dumps(normal, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def keep_curated(package: dict[str, Any], theirs: Mapping[str, Any] | None) -> None:
    """Put into `package` (what we send) the CURATED_FIELDS the target's package `theirs` holds
    and `package` does not set, as they are: an update leaves the curators' values in place."""
    for key in sorted(CURATED_FIELDS):
        value = (theirs or {}).get(key)
        if package.get(key) in _EMPTY and value not in _EMPTY:
            package[key] = value


# --- differences --------------------------------------------------------------------------------


def _field_changes(new: Mapping[str, Any], old: Mapping[str, Any],
                   prefix: str = "") -> list[FieldChange]:
    """The keys whose values differ between two normal forms, sorted."""
    return [FieldChange(prefix + key, old.get(key), new.get(key))
            for key in sorted(set(new) | set(old)) if new.get(key) != old.get(key)]


def _match_resources(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]
                     ) -> tuple[list[tuple[int, int | None]], list[int]]:
    """Pairs (our index, their index or None) matched by id, then by url; their unmatched."""
    free = set(range(len(theirs)))
    by_id = {r.get("id"): j for j, r in enumerate(theirs) if r.get("id")}
    pairs: dict[int, int | None] = {}
    for i, res in enumerate(ours):
        j = by_id.get(res["id"]) if res.get("id") else None
        if j in free:
            free.discard(j)
            pairs[i] = j
    for i, res in enumerate(ours):
        if i not in pairs:
            url = res.get("url")
            pairs[i] = next((j for j in sorted(free) if url and theirs[j].get("url") == url), None)
            free.discard(pairs[i])
    return sorted(pairs.items()), sorted(free)


def _resource_changes(ours: list[dict[str, Any]], our_normal: list[Normal],
                      theirs: list[dict[str, Any]]) -> list[FieldChange]:
    """Resources added, changed (field by field) and removed; see diff_packages."""
    their_normal = [_normal_dict(r) for r in theirs]
    pairs, removed = _match_resources(ours, theirs)
    changes: list[FieldChange] = []
    for i, j in pairs:
        if j is None:
            changes.append(FieldChange(f"resources[{i}]", None, our_normal[i]))
        else:
            changes += _field_changes(our_normal[i], their_normal[j], f"resources[{i}].")
    for j in removed:
        label = theirs[j].get("id") or theirs[j].get("url") or str(j)
        changes.append(FieldChange(f"resources[removed:{label}]", their_normal[j], None))
    return changes


def diff_packages(ours: Mapping[str, Any] | None,
                  theirs: Mapping[str, Any] | None,
                  ours_normal: Mapping[str, Any] | None = None) -> list[FieldChange]:
    """Field-level differences between what we would send and what the target holds (`old` is
    theirs, `new` ours), ignoring TARGET_MANAGED_FIELDS and what normalise_package ignores.
    Resources are paired by id, then by url; the paths are `resources[<our index>].<field>`,
    `resources[<our index>]` (added) and `resources[removed:<id or url>]`. Package fields come
    first, each part sorted by path. `ours_normal`: normalise_package(ours), when the caller has
    it already."""
    ours, theirs = ours or {}, theirs or {}
    if ours_normal is None:
        ours_normal = normalise_package(ours)
    fields = {k: v for k, v in ours_normal.items() if k != "resources"}
    changes = _field_changes(fields, _normal_fields(theirs))
    return changes + _resource_changes(_resources(ours), list(ours_normal.get("resources") or ()),
                                       _resources(theirs))


def only_modification_date(changes: list[FieldChange]) -> bool:
    """Whether `changes` (diff_packages) are a change of the package's modification date alone."""
    return bool(changes) and all(change.field == MODIFICATION_DATE for change in changes)
