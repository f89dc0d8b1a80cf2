"""What the plan reads of the target: its packages of the organisations it publishes under,
compactly (the inventory), and the names in use there."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import chain
from typing import Any, Iterable, Protocol

from harvester.donl.compare import canonical_hash
from harvester.store.encoding import same_moment
from harvester.store.rows import Publication


class TargetReader(Protocol):
    url: str

    def inventory(self, owner_org: str) -> dict[str, dict[str, Any]]: ...

    def find_identifiers(self, identifiers: list[str]) -> dict[str, dict[str, Any]]: ...

    def show(self, package_id: str) -> dict[str, Any] | None: ...


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


@dataclass
class Held:
    """What the plan keeps of a package on the target: enough to match and to detect drift, and
    the organisation it is in (the one whose inventory listed it)."""

    id: str
    name: str
    state: str
    hash: str
    owner_org: str = ""


def held(package: dict[str, Any], known: Publication | None = None, listed_under: str = "") -> Held:
    """The compact form of a target package, in the organisation it names (else the one whose
    inventory listed it). When it still carries the metadata_modified the target gave it at our
    last write, it was not edited since: its hash is the one we recorded."""
    modified = package.get("metadata_modified")
    if known is not None and known.target_hash and modified and modified == known.target_modified:
        digest = known.target_hash
    else:
        digest = canonical_hash(package)
    organization = package.get("organization")
    named = organization.get("name") if isinstance(organization, dict) else None
    return Held(id=str(package.get("id") or ""), name=str(package.get("name") or ""),
                state=str(package.get("state") or "active"), hash=digest,
                owner_org=str(named or listed_under or package.get("owner_org") or ""))


def read_inventory(target: TargetReader, owner_orgs: str | Iterable[str], publications: dict[str, Publication]
                   ) -> dict[str, Held]:
    """The packages of these organisations on the target, compactly, by identifier.

    A package listed under two of them (a target whose organisation filter lets others through,
    as CKAN's does when it adds its own clauses to the filter) is read whole, to learn which
    organisation it is in.
    """
    ours = {pub.target_id: pub for pub in publications.values() if pub.target_id and pub.target_hash}
    inventory: dict[str, Held] = {}
    doubtful: set[str] = set()
    for owner_org in sorted({owner_orgs} if isinstance(owner_orgs, str) else set(owner_orgs)):
        for identifier, entry in _organisation_inventory(target, owner_org, publications, ours).items():
            if inventory.setdefault(identifier, entry).owner_org != entry.owner_org:
                doubtful.add(entry.id)
    for package in _whole(target, sorted(doubtful)):
        identifier = package.get("identifier")
        if isinstance(identifier, str) and identifier:
            inventory[identifier] = held(package, publications.get(identifier))
    return inventory


def _organisation_inventory(target: TargetReader, owner_org: str, publications: dict[str, Publication],
                            ours: dict[str, Publication]) -> dict[str, Held]:
    """One organisation's packages on the target, compactly, by identifier (`ours`: our
    publications by target id).

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
        unknown: list[str] = []
        sent_whole: list[dict[str, Any]] = []
        for entry in light(owner_org):
            pub = ours.get(entry.get("id"))
            if pub is not None and same_moment(entry.get("metadata_modified"), pub.target_modified):
                inventory[pub.identifier] = Held(id=str(entry["id"]), name=str(entry.get("name") or ""),
                                                 state=str(entry.get("state") or "active"),
                                                 hash=pub.target_hash or "", owner_org=owner_org)
            elif "identifier" in entry:  # a CKAN that ignores `fl` sends the whole package
                sent_whole.append(entry)
            elif entry.get("id"):
                unknown.append(str(entry["id"]))
        whole = chain(sent_whole, _whole(target, unknown))
    for package in whole:
        identifier = package.get("identifier")
        if isinstance(identifier, str) and identifier:
            inventory[identifier] = held(package, publications.get(identifier), owner_org)
    return inventory


def _whole(target: TargetReader, ids: list[str]) -> Iterable[dict[str, Any]]:
    """The whole packages with these ids (a target without `packages_by_id` shows each)."""
    if not ids:
        return ()
    by_id = getattr(target, "packages_by_id", None)
    if by_id is not None:
        return by_id(ids)
    return (package for package in map(target.show, ids) if package is not None)
