"""What every source gives the harvest: package dicts and a `Listing` that says whether the
listing was the whole catalogue.

A listing is incomplete when any page failed or was inconsistent (a duplicate id, fewer datasets
than announced, a total that changed mid-run). An incomplete listing is never used to conclude
that a dataset was removed at the source.

A source that can say more about the datasets a complete listing no longer holds
(`CkanSource.vanished`) gives their package dicts (deleted, private or draft there) or, where it
refuses to show one, `Withheld`: these are no longer public, which is not the same as gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Protocol

from harvester.errors import SourceError
from harvester.source.context import SourceContext

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Unchanged:
    """A listed dataset whose metadata_modified equals what the state store holds: not fetched."""

    id: str
    name: str
    metadata_modified: str


@dataclass(frozen=True)
class Withheld:
    """A dataset the source no longer lists and refuses to show (private, draft or deleted there)."""

    id: str


@dataclass
class Listing:
    """What one run's listing of a source turned out to be."""

    method: str = ""
    total: int | None = None
    complete: bool = True
    problems: list[str] = field(default_factory=list)
    errors: int = 0

    def incomplete(self, problem: str) -> None:
        """Record why this listing cannot be trusted to be the whole catalogue."""
        self.complete = False
        self.problems.append(problem)
        log.warning("listing incomplete: %s", problem)


class Source(Protocol):
    """What the harvest needs of a source."""

    location: str

    def packages(self, listing: Listing, since: datetime | None = None,
                 known: dict[str, str] | None = None) -> Iterator[dict[str, Any] | Unchanged]:
        ...

    def context(self, organizations: set[str], listing: Listing) -> SourceContext | None:
        """The context (None when it could not be read whole)."""
        ...

    @property
    def requests_made(self) -> int:
        ...


def modified_after(package: dict[str, Any], since: datetime) -> bool:
    """True when the package's metadata_modified (naive UTC in CKAN) is at or after `since`."""
    value = package.get("metadata_modified")
    if not value:
        return True
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment >= since


def check_package(package: Any, where: str) -> dict[str, Any]:
    if not isinstance(package, dict):
        raise SourceError(f"{where}: expected a CKAN package object, got {type(package).__name__}")
    if not package.get("id"):
        raise SourceError(f"{where}: the package has no 'id' (name: {package.get('name')!r}); "
                          "a stable id is needed to follow a dataset across runs")
    return package


def organization_name(package: dict[str, Any]) -> str | None:
    """The name (or, failing that, id) of the organisation that owns a package."""
    org = package.get("organization")
    if isinstance(org, dict) and org.get("name"):
        return str(org["name"])
    owner = package.get("owner_org")
    return str(owner) if owner else None


def organization_keys(package: dict[str, Any]) -> set[str]:
    """The name (or, failing that, id) of the organisation that owns a package, as a set."""
    name = organization_name(package)
    return {name} if name else set()
