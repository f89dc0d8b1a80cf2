"""The rules that decide a dataset's action, each a function of the dataset's Case (what the
planner gathered for it) that returns the action when it decides, else None.

The planner (planner.py) tries them in order; the first that decides gives the action:

- not published: not public at the source (private, draft, deleted), or of an organisation
                the target profile does not publish: skipped, never written (one we published
                is withdrawn, with the withdrawals);
- invalid:      SHACL violations, values without a mapping, no package, or a package the
                pre-send check refuses (now, or in an earlier run with the same key);
- ownership:    ours from another source or organisation, or gone from the target, or a dataset
                with our identifier that we did not create: a conflict;
- unchanged:    the same result or package as the one we last sent, held as we left it;
- create/adopt: a new dataset; one with our identifier that we did not create only with `adopt`;
- restore:      back after being withdrawn: the same identifier and target id;
- drift:        ours, edited on the target since our last write: a conflict unless
                `overwrite_drift`;
- date only:    ours, and only the modification date changed (or nothing, against what the
                target holds as we left it): not written (the date goes out with the next
                real change);
- update:       ours, changed; the fields the portal's curators set are sent back as they are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from harvester.donl.compare import (
    diff_packages,
    keep_curated,
    normal_hash,
    normalise_package,
    only_modification_date,
)
from harvester.donl.convert import TargetDataset
from harvester.donl.rules import check_package
from harvester.pipeline import Prepared
from harvester.plan.model import Action, PlanSettings
from harvester.plan.target import Held, held
from harvester.store.rows import DELETED, DRAFT, PRIVATE, PUBLIC, WITHHELD, Publication

#: reads a package on the target by id or name (TargetReader.show)
Show = Callable[[str], "dict[str, Any] | None"]
#: why a dataset that is not public at the source is not published, by its access
NOT_PUBLIC = {PRIVATE: "private at the source", DRAFT: "draft at the source",
              DELETED: "deleted at the source",
              WITHHELD: "no longer shown by the source (private, draft or deleted there)"}


@dataclass
class Case:
    """One prepared dataset while its action is decided: its publication (what we wrote for it
    before), its entry in the target's inventory, where it would go (name and resource ids),
    what the rules may consult, and the action taking shape."""

    item: Prepared
    action: Action
    settings: PlanSettings
    #: the source being planned
    source: str
    show: Show
    pub: Publication | None
    current: Held | None
    name: str
    resource_ids: dict[str, str]
    #: the names in use on the target (a create takes its name)
    taken_names: set[str]
    #: the organisation on the target the dataset goes to (None: its organisation is not published)
    owner_org: str | None = None
    #: the package with this identifier the target holds outside the owner organisation's
    #: inventory (looked up for new datasets only)
    elsewhere: dict[str, Any] | None = None
    #: a create of ours that an earlier run began: the target holds a package with its name
    pending: bool = False
    #: the key over what the pre-send check reads (None: the check's verdict is not kept), and
    #: the key and problems an earlier run's check recorded
    refusal_key: str | None = None
    known_refusal: tuple[str, str] | None = None
    #: the target's package of an unfinished create
    full: dict[str, Any] | None = None
    #: the package we would send, its normal form and that form's hash
    package: dict[str, Any] = field(default_factory=dict)
    normal: dict[str, Any] = field(default_factory=dict)
    new_hash: str = ""
    #: ours, edited on the target since our last write
    drift: bool = False


# -- before the package is made -----------------------------------------------------------------


def not_published(case: Case) -> Action | None:
    """Not published (skip): a dataset that is not public at the source, or of an organisation
    the target does not publish, is never written (nor judged: it needs no person)."""
    reason = unpublished_reason(case.item, case.owner_org)
    if reason is None:
        return None
    case.action.action, case.action.reason = "skip", reason
    return case.action


def unpublished_reason(item: Prepared, owner_org: str | None) -> str | None:
    """Why a dataset is not published (None: it may be): not public at the source, or of an
    organisation that goes to no organisation on the target."""
    if item.access != PUBLIC:
        return NOT_PUBLIC.get(item.access, f"{item.access} at the source")
    if owner_org is None:
        return f"other organisation: {item.organization or '(none)'}"
    return None


def invalid(case: Case) -> Action | None:
    """Invalid: SHACL violations or values without a mapping (or no identifier): never planned
    for the target."""
    if case.item.valid and case.item.identifier:
        return None
    case.action.reason = invalid_reason(case.item)
    return case.action


def not_ours(case: Case) -> Action | None:
    """Ownership: what we published from another source, or that is under another organisation
    than the one its dataset goes to (where the target's inventory found it, else where we
    published it), is not this run's to change (a conflict)."""
    pub = case.pub
    if pub is None:
        return None
    if pub.source != case.source:
        return conflict(case.action, f"published from another source ({pub.source}); this source may not change it")
    under = case.current.owner_org if case.current is not None and case.current.owner_org else pub.owner_org
    if under != case.owner_org:
        return conflict(case.action, f"published under organisation {under!r}, not {case.owner_org!r}")
    return None


def unchanged_result(case: Case) -> Action | None:
    """Unchanged: the same result (so the same package) as the one we published, and the target
    holds it as we left it: nothing to build or send."""
    pub = case.pub
    if pub is None or pub.status != "active" or not case.item.result_key \
            or pub.result_key != case.item.result_key or not _as_we_left_it(pub, case.current):
        return None
    case.action.action = "unchanged"
    case.action.reason = "unchanged at the source since our last write, and not edited on the target"
    case.action.name, case.action.target_id = pub.target_name, pub.target_id
    return case.action


def refused_before(case: Case) -> Action | None:
    """Invalid: the pre-send check of an earlier run refused this package, and nothing the check
    reads changed since (the same refusal key): the same problems, not checked again."""
    known = case.known_refusal
    if case.refusal_key is None or known is None or known[0] != case.refusal_key:
        return None
    target = case.item.target
    case.action.name = case.name
    case.action.package = (target.package(case.name, case.owner_org or "", case.resource_ids)
                           if target is not None else None)
    return refused(case.action, json.loads(known[1]))


def without_package(case: Case) -> Action | None:
    """Invalid: no target package could be made of the dataset."""
    if case.item.target is not None:
        return None
    case.action.reason = invalid_reason(case.item)
    return case.action


def make_package(case: Case) -> None:
    """The package we would send (for an unfinished create, with the resource ids the target
    gave it) and its hash; the action shows it. The hash's normal form is the update diff's too
    (the id an update adds is the target's own field: normalise_package leaves it out)."""
    target = case.item.target
    assert target is not None
    if case.pending:
        case.full = case.show(case.current.id) if case.current is not None else None
        case.resource_ids = resource_ids_by_position(target, case.full or {})
    case.package = target.package(case.name, case.owner_org or "", case.resource_ids)
    case.normal = normalise_package(case.package)
    case.new_hash = normal_hash(case.normal)
    case.action.name, case.action.package = case.name, case.package
    case.action.distribution_uris = [r.distribution_uri for r in target.resources]


# -- the package made ---------------------------------------------------------------------------


def unchanged_package(case: Case) -> Action | None:
    """Unchanged: what we would send hashes the same as what we last sent, and the target holds
    it as we left it (as after a change of the mapping tables that does not touch this dataset):
    nothing is sent, so the pre-send check has nothing to judge."""
    pub = case.pub
    if pub is None or pub.status != "active" or case.new_hash != pub.sent_hash \
            or not _as_we_left_it(pub, case.current):
        return None
    case.action.action, case.action.reason = "unchanged", "what we would send is what we last sent"
    case.action.target_id, case.action.package = pub.target_id, None
    return case.action


def refused_by_check(case: Case) -> Action | None:
    """Invalid: data.overheid.nl would refuse the package (the pre-send check); apply records the
    refusal under the case's refusal key."""
    problems = check_package(case.package)
    if not problems:
        return None
    case.action.refusal_key = case.refusal_key
    return refused(case.action, [{"field": p.field, "message": p.message} for p in problems])


def create_or_adopt(case: Case) -> Action:
    """Create or adopt: a dataset we never published is created when the target holds none with
    its identifier; one there that this harvester did not create is a conflict, left alone,
    unless `adopt` (and it is in the organisation the dataset goes to)."""
    other = case.show(case.current.id) if case.current is not None else case.elsewhere
    if other is None:
        case.taken_names.add(case.name)
        return _create(case, "not on the target yet")
    if case.settings.adopt and case.current is not None and case.current.owner_org == case.owner_org:
        return _adopt(case, other)
    case.action.changes = changes(case.package, other)
    return conflict(case.action, f"the target already holds {_where(other)} with this identifier, not created "
                                 "by this harvester; left alone (use --adopt to take it over)")


def _adopt(case: Case, other: dict[str, Any]) -> Action:
    """Adopt: take over the target's dataset with our identifier, keeping its name, id and
    resource ids (--adopt)."""
    action, target = case.action, case.item.target
    assert target is not None
    action.action, action.adopt, action.target_id = "update", True, other.get("id")
    action.name = other.get("name") or case.name
    action.package = target.package(action.name, case.owner_org or "", resource_ids_by_position(target, other))
    action.package["id"] = other.get("id")
    keep_curated(action.package, other)
    action.reason = f"adopting {_where(other)}, which this harvester did not create (--adopt)"
    action.changes = changes(action.package, other)
    return action


# -- ours ---------------------------------------------------------------------------------------


def unfinished_create(case: Case) -> Action | None:
    """Create: a create of ours that an earlier run began is made now when it did not reach the
    target, and finished as an update when the target holds it."""
    if case.pub is None or case.pub.status != "pending":
        return None
    if case.full is None:
        return _create(case, "an earlier create did not reach the target; creating it now")
    action = case.action
    action.action, action.interrupted_create, action.target_id = "update", True, case.full.get("id")
    case.package["id"] = case.full.get("id")
    keep_curated(case.package, case.full)
    action.reason = "finishing a create that an earlier run started but did not record"
    action.changes = changes(case.package, case.full)
    return action


def restore(case: Case) -> Action | None:
    """Restore: a dataset back at the source after we withdrew it is updated back, with the
    same identifier and target id."""
    pub = case.pub
    if pub is None or pub.status != "withdrawn":
        return None
    previous = case.show(pub.target_id) if pub.target_id else None
    case.package["id"] = pub.target_id
    keep_curated(case.package, previous)
    action = case.action
    action.action, action.restore = "update", True
    action.reason = (f"back at the source after being withdrawn on {pub.withdrawn_at}; "
                     "restored with the same identifier and id")
    action.changes = changes(case.package, previous or pub.target_snapshot or {})
    return action


def gone_from_target(case: Case) -> Action | None:
    """Ownership: one of ours the target no longer holds, or holds deleted by someone else, is a
    conflict, left alone, unless `overwrite_drift` (then restored). One missing from the
    inventory that the target still shows is judged, as shown, by the rules after this one."""
    pub = case.pub
    if pub is None or (case.current is not None and case.current.state != "deleted"):
        return None
    shown = case.show(pub.target_id) if pub.target_id else None
    if shown is not None and shown.get("state") != "deleted":
        case.current = held(shown)
        return None
    what = "deleted on the target by someone else" if shown is not None else "no longer on the target"
    if not case.settings.overwrite_drift:
        return conflict(case.action, f"{what}; left alone (use --overwrite-drift to restore it)")
    case.package["id"] = pub.target_id
    keep_curated(case.package, shown)
    action = case.action
    action.action, action.restore = "update", shown is not None
    action.reason = f"{what}; restored because of --overwrite-drift"
    action.changes = changes(case.package, shown or {})
    return action


def drift(case: Case) -> Action | None:
    """Drift: one of ours edited on the target since our last write is a conflict, left alone
    (the changes shown are the target's), unless `overwrite_drift`."""
    pub, current = case.pub, case.current
    assert pub is not None and current is not None
    case.package["id"] = current.id or pub.target_id
    case.drift = pub.target_hash is not None and current.hash != pub.target_hash
    if not case.drift or case.settings.overwrite_drift:
        return None
    case.action.changes = changes(case.show(current.id) or {}, pub.target_snapshot or {})
    return conflict(case.action, "edited on the target since our last write (drift); left alone "
                                 "(the changes shown are the target's; use --overwrite-drift to overwrite)")


def unchanged_since_sent(case: Case) -> Action | None:
    """Unchanged: ours, not edited on the target, and what we would send is what we last sent."""
    if case.drift or case.pub is None or case.new_hash != case.pub.sent_hash:
        return None
    case.action.action, case.action.reason = "unchanged", "what we would send is what we last sent"
    case.action.package = None
    return case.action


def nothing_to_send(case: Case) -> Action | None:
    """Unchanged: ours, not edited on the target, and what we would send differs from what the
    target holds as we left it (our last write's snapshot) in the modification date alone, as
    after a change at the source to something we do not send, or not at all (as when what we
    last sent hashed otherwise): not written; a new date goes out with the next real change."""
    snapshot = case.pub.target_snapshot if case.pub is not None and not case.drift else None
    if not snapshot:
        return None
    found = diff_packages(case.package, snapshot, case.normal)
    if found and not only_modification_date(found):
        return None
    case.action.action, case.action.package = "unchanged", None
    case.action.reason = ("only the modification date changed; it goes out with the next real change" if found
                          else "what we would send is what the target holds as we left it")
    return case.action


def update(case: Case) -> Action:
    """Update: ours, changed at the source, or edited on the target and overwritten
    (`overwrite_drift`). The curated fields the target holds are sent back as they are."""
    assert case.current is not None
    action = case.action
    action.action = "update"
    action.reason = "overwriting changes made on the target (--overwrite-drift)" if case.drift \
        else "changed at the source"
    theirs = case.show(case.current.id) or {}
    keep_curated(case.package, theirs)
    action.changes = changes(case.package, theirs, case.normal)
    return action


# -- helpers ------------------------------------------------------------------------------------


def _as_we_left_it(pub: Publication, current: Held | None) -> bool:
    """The target holds the package active, with the hash it had after our last write."""
    return current is not None and current.state == "active" and current.hash == pub.target_hash


def _create(case: Case, reason: str) -> Action:
    """A create: its changes are every field of the package."""
    case.action.action, case.action.reason = "create", reason
    case.action.changes = changes(case.package, {})
    return case.action


def _where(package: dict[str, Any]) -> str:
    """A target package's name and organisation, for a reason."""
    return (f"{package.get('name')!r} in organisation "
            f"{(package.get('organization') or {}).get('name') or package.get('owner_org')!r}")


def conflict(action: Action, reason: str) -> Action:
    """The action made a conflict: nothing is sent."""
    action.action, action.reason = "conflict", reason
    action.package = None
    return action


def refused(action: Action, problems: list[dict[str, str]]) -> Action:
    """The action (invalid) with the problems the pre-send check found."""
    action.problems = problems
    action.reason = "data.overheid.nl would refuse it: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return action


def changes(ours: dict[str, Any], theirs: dict[str, Any],
            ours_normal: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The field-level changes from `theirs` to `ours`, as the plan shows them."""
    return [{"field": c.field, "old": c.old, "new": c.new} for c in diff_packages(ours, theirs, ours_normal)]


def refusal_key(result_key: str, name: str, owner_org: str, resource_ids: dict[str, str]) -> str:
    """A key over everything the pre-send check of a dataset's package reads: the result (its
    target package, and the code and value lists that made and check it), the name, the owner
    organisation and the target's resource ids."""
    text = json.dumps([result_key, name, owner_org, sorted(resource_ids.items())], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def invalid_reason(item: Prepared) -> str:
    """Why a dataset is not published: its violations, unmapped values, missing identifier."""
    parts = []
    violations = item.violations
    if violations is None:
        violations = sum(f.get("severity") == "violation" for f in item.findings)
    if violations:
        parts.append(f"{violations} SHACL violation(s)")
    errors = item.mapping_errors
    if errors is None:
        errors = sum(u.get("severity") == "error" for u in item.unmapped)
    if errors:
        parts.append(f"{errors} value(s) without a mapping or fallback")
    if not item.identifier:
        parts.append("no identifier")
    return "not published: " + (", ".join(parts) or "mapping failed")


def resource_ids_by_position(target: TargetDataset, package: dict[str, Any]) -> dict[str, str]:
    """Target resource ids for our distributions, matched by URL, else by position."""
    resources = [r for r in package.get("resources") or [] if r.get("id")]
    by_url = {r.get("url"): r["id"] for r in resources}
    ids: dict[str, str] = {}
    for index, res in enumerate(target.resources):
        rid = by_url.get(res.fields.get("url"))
        if rid is None and index < len(resources):
            rid = resources[index]["id"]
        if rid and rid not in ids.values():
            ids[res.distribution_uri] = rid
    return ids
