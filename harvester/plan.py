"""Stage 5, the plan: what to do on the target for each dataset, decided without writing anything.

For every prepared (mapped, validated, converted) dataset of a source, and every dataset this
harvester published for it before, the plan holds one action:

- `create`    not on the target yet: a new package (field-level diff against nothing);
- `update`    ours, changed since we last sent it (field-level diff against the target);
- `unchanged` ours, and what we would send hashes the same as what we last sent;
- `withdraw`  ours, gone from a complete, successful, full harvest for longer than the grace
              period (held back, with the reason, when the run would withdraw too many);
- `conflict`  the target holds a dataset with this identifier that we did not create, or one of
              ours was edited on the target since our last write (drift): never overwritten
              unless the operator says so (`adopt` / `overwrite_drift`);
- `invalid`   SHACL violations, unmapped values or target rules broken: not published.

Datasets are matched by their stable identifier: first through the state store, then by
searching the target's `identifier` field; never by title.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from itertools import chain, islice
from typing import Any, Callable, Iterable, Protocol

from harvester.collector import collector_paused, survivors_frozen
from harvester.donl.compare import canonical_hash, diff_packages, normal_hash, normalise_package
from harvester.donl.convert import TargetDataset
from harvester.donl.rules import check_package
from harvester.lazy import Deferred, deferred_fields, handover
from harvester.pipeline import Prepared
from harvester.store.state import (
    Publication,
    pack_json,
    parse_iso,
    parse_stored,
    same_moment,
    stored_json,
)

ACTIONS = ("create", "update", "unchanged", "withdraw", "conflict", "invalid")


class TargetReader(Protocol):
    url: str

    def inventory(self, owner_org: str) -> dict[str, dict[str, Any]]: ...

    def find_identifiers(self, identifiers: list[str]) -> dict[str, dict[str, Any]]: ...

    def show(self, package_id: str) -> dict[str, Any] | None: ...


@dataclass
class Gone:
    """A source dataset the last complete full harvest no longer saw."""

    source_id: str
    name: str
    gone_at: str


@dataclass
class PlanSettings:
    """What the operator allows this run to do."""

    owner_org: str
    grace_days: float = 7.0
    withdraw_threshold: float = 0.10
    adopt: bool = False
    overwrite_drift: bool = False
    force_withdraw: bool = False
    may_withdraw: bool = False
    withdraw_blocked_reason: str = ""
    now: datetime | None = None


@deferred_fields("title", "findings", "unmapped", "quality", "package", "changes")
@dataclass
class Action:
    """What the plan decided for one dataset, and why (what it shows of the dataset, its title,
    findings and quality, is taken from the prepared dataset when first read)."""

    action: str
    identifier: str
    source_id: str | None
    title: str = ""
    name: str | None = None
    target_id: str | None = None
    reason: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)
    package: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    distribution_uris: list[str] = field(default_factory=list)
    held: bool = False
    restore: bool = False
    adopt: bool = False
    interrupted_create: bool = False
    quality: dict[str, Any] | None = None
    outcome: str | None = None
    messages: list[str] = field(default_factory=list)
    result_key: str | None = None
    #: for a dataset the pre-send check refused: the key over what the check read (apply
    #: records the refusal under it, and a later plan with the same key need not check again)
    refusal_key: str | None = None

    def to_dict(self, with_package: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data.pop("refusal_key")
        if not with_package:
            data.pop("package")
        return data


@dataclass
class Plan:
    """Every action for one source on one target, plus notes a person should read."""

    source: str
    target: str
    owner_org: str
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {name: 0 for name in ACTIONS}
        counts["withdraw_held"] = 0
        for action in self.actions:
            if action.action == "withdraw" and action.held:
                counts["withdraw_held"] += 1
            else:
                counts[action.action] += 1
        return counts

    def writes(self) -> list[Action]:
        """The actions that would call the target."""
        return [a for a in self.actions if a.action in ("create", "update") or (a.action == "withdraw" and not a.held)]

    def to_dict(self, with_packages: bool = False) -> dict[str, Any]:
        return {
            "source": self.source, "target": self.target, "owner_org": self.owner_org,
            "counts": self.counts(), "notes": self.notes,
            "actions": [a.to_dict(with_packages) for a in self.actions],
        }


def derive_name(source_name: str, taken: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    """A CKAN name (URL part) from the source's name: lower case, a-z 0-9 - _, 2 to 100 characters."""
    text = unicodedata.normalize("NFKD", source_name).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", text).strip("-_")[:100] or "dataset"
    if len(name) < 2:
        name = f"dataset-{name}"
    return unique_name(name, taken)


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3`, ... when taken."""
    if name not in taken:
        return name
    number = 2
    while True:
        candidate = f"{name[:95]}-{number}"
        if candidate not in taken:
            return candidate
        number += 1


def _changes(ours: dict[str, Any], theirs: dict[str, Any],
             ours_normal: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [{"field": c.field, "old": c.old, "new": c.new} for c in diff_packages(ours, theirs, ours_normal)]


@dataclass
class Held:
    """What the plan keeps of a package on the target: enough to match and to detect drift."""

    id: str
    name: str
    state: str
    hash: str


def held(package: dict[str, Any], known: Publication | None = None) -> Held:
    """The compact form of a target package. When it still carries the metadata_modified the
    target gave it at our last write, it was not edited since: its hash is the one we recorded."""
    modified = package.get("metadata_modified")
    if known is not None and known.target_hash and modified and modified == known.target_modified:
        digest = known.target_hash
    else:
        digest = canonical_hash(package)
    return Held(id=str(package.get("id") or ""), name=str(package.get("name") or ""),
                state=str(package.get("state") or "active"), hash=digest)


def read_inventory(target: TargetReader, owner_org: str, publications: dict[str, Publication]
                   ) -> dict[str, Held]:
    """The owner organisation's packages on the target, compactly, by identifier.

    Where the target can list only a few fields of each package (`iter_inventory_light`), a
    package we wrote that still has the metadata_modified the target gave it at our last write
    is taken as we recorded it; only the others (edited since, or not ours) are read whole.
    """
    inventory: dict[str, Held] = {}
    light = getattr(target, "iter_inventory_light", None)
    whole: Iterable[dict[str, Any]]
    if light is None:
        whole = target.iter_inventory(owner_org) if hasattr(target, "iter_inventory") \
            else target.inventory(owner_org).values()
    else:
        ours = {pub.target_id: pub for pub in publications.values() if pub.target_id and pub.target_hash}
        unknown: list[str] = []
        sent_whole: list[dict[str, Any]] = []
        for entry in light(owner_org):
            pub = ours.get(entry.get("id"))
            if pub is not None and same_moment(entry.get("metadata_modified"), pub.target_modified):
                inventory[pub.identifier] = Held(id=str(entry["id"]), name=str(entry.get("name") or ""),
                                                 state=str(entry.get("state") or "active"),
                                                 hash=pub.target_hash or "")
            elif "identifier" in entry:  # a CKAN that ignores `fl` sends the whole package
                sent_whole.append(entry)
            elif entry.get("id"):
                unknown.append(str(entry["id"]))
        whole = chain(sent_whole, target.packages_by_id(unknown) if unknown else ())  # type: ignore[attr-defined]
    for package in whole:
        identifier = package.get("identifier")
        if isinstance(identifier, str) and identifier:
            inventory[identifier] = held(package, publications.get(identifier))
    return inventory


class Planner:
    """Plans a source's datasets batch by batch (streaming), then its withdrawals at the end.

    The target's packages of the owner organisation are read once and kept compactly (id, name,
    state, canonical hash); a full package is fetched again only where a diff must be shown.
    """

    def __init__(self, source: str, publications: dict[str, Publication], target: TargetReader,
                 settings: PlanSettings, refusals: dict[str, tuple[str, str]] | None = None) -> None:
        self.source = source
        self.publications = publications
        #: what earlier runs' pre-send checks refused (StateStore.refusals)
        self.refusals = refusals or {}
        self.target = target
        self.settings = settings
        self.notes: list[str] = []
        with collector_paused():
            self.inventory = read_inventory(target, settings.owner_org, publications)
        self.taken_names = {pub.target_name for pub in publications.values()} | {
            h.name for h in self.inventory.values() if h.name}

    # -- datasets ---------------------------------------------------------------------------

    def plan_batch(self, prepared: Iterable[Prepared]) -> list[Action]:
        """One action per prepared dataset of this batch."""
        items = list(prepared)
        unknown = sorted({  # (an invalid dataset is not published: no need to look for it)
            p.identifier for p in items
            if p.valid and p.identifier and p.identifier not in self.publications
            and p.identifier not in self.inventory
        })
        elsewhere = self.target.find_identifiers(unknown) if unknown else {}
        return [self._decide(item, elsewhere) for item in items]

    def _full(self, identifier: str) -> dict[str, Any] | None:
        """The target's current package for an identifier we hold in the inventory."""
        entry = self.inventory.get(identifier)
        return self.target.show(entry.id) if entry is not None else None

    def _decide(self, item: Prepared, elsewhere: dict[str, dict[str, Any]]) -> Action:
        settings, source = self.settings, self.source
        identifier = item.identifier or f"(no identifier: source id {item.source_id})"
        # the target package as the prepared dataset holds it (a stored result's still unread):
        # a create's changes are made from it when the run report reads them
        target_handle = handover(item, "target")
        # what the action shows of the dataset is handed over still deferred where it is, so
        # that the action (kept for the run report) does not keep the prepared dataset
        base = Action(action="invalid", identifier=identifier, source_id=item.source_id,
                      title=handover(item, "title"), findings=handover(item, "findings"),
                      unmapped=handover(item, "unmapped"), quality=handover(item, "quality"),
                      result_key=item.result_key)
        if not item.valid or not item.identifier:
            base.reason = _invalid_reason(item)
            return base
        pub = self.publications.get(item.identifier)
        if pub is not None and pub.source != source:
            return _conflict(base, f"published from another source ({pub.source}); this source may not change it")
        if pub is not None and pub.owner_org != settings.owner_org:
            return _conflict(base, f"published under organisation {pub.owner_org!r}, not {settings.owner_org!r}")
        current = self.inventory.get(item.identifier)
        if (pub is not None and pub.status == "active" and item.result_key and pub.result_key == item.result_key
                and current is not None and current.state == "active" and current.hash == pub.target_hash):
            # the same result as the one we published (so a package exists), not edited since
            base.action, base.reason = "unchanged", "unchanged at the source since our last write, and not edited on the target"
            base.name, base.target_id = pub.target_name, pub.target_id
            return base
        if pub is not None:
            name, resource_ids = pub.target_name, dict(pub.resource_ids)
        else:
            name, resource_ids = derive_name(item.source_name, self.taken_names), {}
        pending = pub is not None and pub.status == "pending" and current is not None and current.name == pub.target_name
        refusal_key = None
        if not pending and item.result_key:
            refusal_key = _refusal_key(item.result_key, name, settings.owner_org, resource_ids)
            known = self.refusals.get(item.identifier)
            if known is not None and known[0] == refusal_key:  # refused before, and nothing it read changed
                base.name = name
                base.package = Deferred(_package_of, handover(item, "target"), name, settings.owner_org, resource_ids)
                return _refused(base, json.loads(known[1]))
        if item.target is None:
            base.reason = _invalid_reason(item)
            return base
        full = None
        if pending:
            full = self._full(item.identifier)
            resource_ids = _resource_ids_by_position(item.target, full or {})
        package = item.target.package(name, settings.owner_org, resource_ids)
        base.name, base.package = name, package
        base.distribution_uris = [r.distribution_uri for r in item.target.resources]
        # the hash's normal form, and later the update's diff's (the id an update adds is the
        # target's own field: normalise_package leaves it out)
        normal = normalise_package(package)
        new_hash = normal_hash(normal)
        if (pub is not None and pub.status == "active" and new_hash == pub.sent_hash and current is not None
                and current.state == "active" and current.hash == pub.target_hash):
            # nothing would be sent (as after a change of the mapping tables that does not touch
            # this dataset), so the pre-send check has nothing to judge
            base.action, base.reason = "unchanged", "what we would send is what we last sent"
            base.target_id, base.package = pub.target_id, None
            return base
        problems = check_package(package)
        if problems:
            base.refusal_key = refusal_key
            return _refused(base, [{"field": p.field, "message": p.message} for p in problems])

        if pub is None:
            other = self._full(item.identifier) if current is not None else elsewhere.get(item.identifier)
            if other is None:
                self.taken_names.add(name)
                base.action, base.reason = "create", "not on the target yet"
                base.changes = Deferred(_new_fields, target_handle, name, settings.owner_org, resource_ids)
                return base
            where = (f"{other.get('name')!r} in organisation "
                     f"{(other.get('organization') or {}).get('name') or other.get('owner_org')!r}")
            if settings.adopt and current is not None:
                base.action, base.adopt, base.target_id = "update", True, other.get("id")
                base.name = other.get("name") or name
                base.package = item.target.package(base.name, settings.owner_org,
                                                   _resource_ids_by_position(item.target, other))
                base.package["id"] = other.get("id")
                base.reason = f"adopting {where}, which this harvester did not create (--adopt)"
                base.changes = _changes(base.package, other)
                return base
            base.changes = _changes(package, other)
            return _conflict(base, f"the target already holds {where} with this identifier, not created by this "
                                   "harvester; left alone (use --adopt to take it over)")

        base.target_id = pub.target_id
        if pub.status == "pending":
            if full is not None:
                base.action, base.interrupted_create, base.target_id = "update", True, full.get("id")
                package["id"] = full.get("id")
                base.reason = "finishing a create that an earlier run started but did not record"
                base.changes = _changes(package, full)
                return base
            base.action, base.reason = "create", "an earlier create did not reach the target; creating it now"
            base.changes = Deferred(_new_fields, target_handle, name, settings.owner_org, resource_ids)
            return base

        if pub.status == "withdrawn":
            previous = self.target.show(pub.target_id) if pub.target_id else None
            package["id"] = pub.target_id
            base.action, base.restore = "update", True
            base.reason = (f"back at the source after being withdrawn on {pub.withdrawn_at}; "
                           "restored with the same identifier and id")
            base.changes = _changes(package, previous or pub.target_snapshot or {})
            return base

        if current is None or current.state == "deleted":
            shown = self.target.show(pub.target_id) if pub.target_id else None
            if shown is None or shown.get("state") == "deleted":
                what = "deleted on the target by someone else" if shown is not None else "no longer on the target"
                if settings.overwrite_drift:
                    package["id"] = pub.target_id
                    base.action, base.restore = "update", shown is not None
                    base.reason = f"{what}; restored because of --overwrite-drift"
                    base.changes = _changes(package, shown or {})
                    return base
                return _conflict(base, f"{what}; left alone (use --overwrite-drift to restore it)")
            current = held(shown)
        package["id"] = current.id or pub.target_id
        drift = pub.target_hash is not None and current.hash != pub.target_hash
        if drift and not settings.overwrite_drift:
            now = self.target.show(current.id) or {}
            base.changes = _changes(now, pub.target_snapshot or {})
            return _conflict(base, "edited on the target since our last write (drift); left alone "
                                   "(the changes shown are the target's; use --overwrite-drift to overwrite)")
        if new_hash == pub.sent_hash and not drift:
            base.action, base.reason = "unchanged", "what we would send is what we last sent"
            base.package = None
            return base
        base.action = "update"
        base.reason = "overwriting changes made on the target (--overwrite-drift)" if drift else "changed at the source"
        base.changes = _changes(package, self.target.show(current.id) or {}, normal)
        return base

    # -- withdrawals ------------------------------------------------------------------------

    def withdrawals(self, gone: Iterable[Gone]) -> list[Action]:
        """Withdraw actions for datasets gone at the source past the grace period (held back when
        too many would go at once); the reasons for any not withdrawn go to `notes`."""
        settings, source = self.settings, self.source
        by_source_id = {pub.source_id: pub for pub in self.publications.values() if pub.source == source}
        now = settings.now or datetime.now().astimezone()
        grace = timedelta(days=settings.grace_days)
        candidates: list[Action] = []
        out: list[Action] = []
        for record in gone:
            pub = by_source_id.get(record.source_id)
            if pub is None or pub.status != "active":
                continue
            action = Action(action="withdraw", identifier=pub.identifier, source_id=record.source_id,
                            title=(pub.target_snapshot or {}).get("title", record.name), name=pub.target_name,
                            target_id=pub.target_id)
            if not settings.may_withdraw:
                self.notes.append(f"{pub.identifier}: gone at the source, but not withdrawn: {settings.withdraw_blocked_reason}")
                continue
            due = parse_iso(record.gone_at) + grace
            if due > now:
                self.notes.append(f"{pub.identifier} ({pub.target_name}): gone at the source since {record.gone_at}; "
                                  f"withdrawn after the grace period, on or after {due.isoformat(timespec='seconds')}")
                continue
            current = self.inventory.get(pub.identifier)
            if current is not None and pub.target_hash and current.hash != pub.target_hash:
                action.changes = _changes(self.target.show(current.id) or {}, pub.target_snapshot or {})
                out.append(_conflict(action, "gone at the source, but edited on the target since our "
                                             "last write; not withdrawn automatically"))
                continue
            action.reason = f"gone at the source since {record.gone_at} (grace period {settings.grace_days:g} days passed)"
            candidates.append(action)
        active = sum(1 for pub in self.publications.values() if pub.source == source and pub.status == "active")
        limit = settings.withdraw_threshold * max(active, 1)
        if candidates and len(candidates) > limit and not settings.force_withdraw:
            self.notes.append(
                f"withdrawing nothing: {len(candidates)} of {active} published datasets would be withdrawn, more "
                f"than the threshold of {settings.withdraw_threshold:.0%}; check the source, then run with --force-withdraw"
            )
            for action in candidates:
                action.held = True
                action.reason += f"; HELD BACK: more than {settings.withdraw_threshold:.0%} of the datasets at once"
        return out + candidates


PLAN_BATCH = 500


def plan_stream(planner: Planner, prepared: Iterable[Prepared], gone: Iterable[Gone],
                handle: Callable[[list[Action]], None], size: int = PLAN_BATCH) -> None:
    """Plan `prepared` `size` datasets at a time, then the withdrawals, handing each batch of
    actions to `handle` (which may apply them) before the next batch is prepared."""
    items = iter(prepared)
    # the collector is off for the whole loop and collects once per batch (settle): switched
    # back on between batches, it ran each time it was, over all that the batch had made
    with survivors_frozen() as settle, collector_paused():
        while batch := list(islice(items, size)):
            handle(planner.plan_batch(batch))
            settle()
        handle(planner.withdrawals(gone))


def make_plan(
    source: str,
    prepared: Iterable[Prepared],
    gone: Iterable[Gone],
    publications: dict[str, Publication],
    target: TargetReader,
    settings: PlanSettings,
) -> Plan:
    """Decide, for every dataset, what the apply stage should do, in one go. Makes no write calls."""
    planner = Planner(source, publications, target, settings)
    plan = Plan(source=source, target=target.url, owner_org=settings.owner_org)
    plan.actions = planner.plan_batch(sorted(prepared, key=lambda p: (p.identifier or "", p.source_id)))
    plan.actions += planner.withdrawals(gone)
    plan.notes = planner.notes
    return plan


def _conflict(action: Action, reason: str) -> Action:
    action.action, action.reason = "conflict", reason
    action.package = None
    return action


def _refused(action: Action, problems: list[dict[str, str]]) -> Action:
    action.problems = problems
    action.reason = "data.overheid.nl would refuse it: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return action


def _refusal_key(result_key: str, name: str, owner_org: str, resource_ids: dict[str, str]) -> str:
    """A key over everything the pre-send check of a dataset's package reads: the result (its
    target package, and the code and value lists that made and check it), the name, the owner
    organisation and the target's resource ids."""
    text = json.dumps([result_key, name, owner_org, sorted(resource_ids.items())], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def shelve_package(action: Action) -> None:
    """Keep the package of an action that is not applied now (a dry run) compactly, packed as
    the state store packs results, made again when read (the plan file shows it): a plan keeps
    its actions until the run report, and a package is kilobytes of Python objects."""
    package = handover(action, "package")
    if isinstance(package, dict):
        action.package = Deferred(parse_stored, pack_json(stored_json(package)))


def _new_fields(target: Any, name: str, owner_org: str, resource_ids: dict[str, str]) -> list[dict[str, Any]]:
    """The changes a create makes: every field of the package, made again from the prepared
    dataset's target when first read (kept made, the changes of a first publication of N
    datasets held every package until the run report: 2 GB at N = 100,000)."""
    package = _package_of(target, name, owner_org, resource_ids)
    return _changes(package, {}) if package is not None else []


def _package_of(target: Any, name: str, owner_org: str, resource_ids: dict[str, str]) -> dict[str, Any] | None:
    """The package of a prepared dataset's target (handed over, perhaps still deferred)."""
    if type(target) is Deferred:
        target = target.function(*target.args)
    return target.package(name, owner_org, resource_ids) if target is not None else None


def _invalid_reason(item: Prepared) -> str:
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


def _resource_ids_by_position(target: TargetDataset, package: dict[str, Any]) -> dict[str, str]:
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
