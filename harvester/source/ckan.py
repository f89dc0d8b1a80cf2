"""Stage 1, the source: list a catalogue's CKAN package dicts and fetch their context.

Two kinds of source give the same thing, an iterator of package dicts plus a `Listing` that says
whether the listing was complete:

- `CkanSource` reads any CKAN 2.9+ action API: `package_search` pages sorted by id (falling back
  to `package_list` + `package_show` where search is unavailable), and once per run
  `organization_show`, `group_list` + `group_show` and `license_list` for the context.
- `DumpSource` reads package dicts from a JSON or JSONL file (offline runs and tests).

A listing is incomplete when any page failed or was inconsistent (a duplicate id, fewer datasets
than announced, a total that changed mid-run). An incomplete listing is never used to conclude
that a dataset was removed at the source.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Protocol

from harvester.config import SourceConfig, api_key_from_env
from harvester.errors import SourceError
from harvester.source.context import SourceContext
from harvester.source.http import CkanActionClient, RetryPolicy
from harvester.store.encoding import same_moment

log = logging.getLogger(__name__)

FETCH_BATCH = 200
GROUP_PAGE = 25  # CKAN's default ckan.group_and_organization_list_all_fields_max


@dataclass(frozen=True)
class Unchanged:
    """A listed dataset whose metadata_modified equals what the state store holds: not fetched."""

    id: str
    name: str
    metadata_modified: str


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

    def context(self, organizations: set[str], listing: Listing) -> SourceContext:
        ...

    @property
    def requests_made(self) -> int:
        ...


def solr_time(moment: datetime) -> str:
    """A moment as Solr wants it in a range query: `2026-01-31T12:00:00Z`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _check_package(package: Any, where: str) -> dict[str, Any]:
    if not isinstance(package, dict):
        raise SourceError(f"{where}: expected a CKAN package object, got {type(package).__name__}")
    if not package.get("id"):
        raise SourceError(f"{where}: the package has no 'id' (name: {package.get('name')!r}); "
                          "a stable id is needed to follow a dataset across runs")
    return package


def organization_keys(package: dict[str, Any]) -> set[str]:
    """The name (or, failing that, id) of the organisation that owns a package."""
    org = package.get("organization")
    if isinstance(org, dict) and org.get("name"):
        return {org["name"]}
    owner = package.get("owner_org")
    return {owner} if owner else set()


class CkanSource:
    """A CKAN action API as a source of package dicts."""

    def __init__(self, config: SourceConfig, client: CkanActionClient | None = None) -> None:
        self.config = config
        self.location = config.url
        api_key = api_key_from_env(config.api_key_env, f"source {config.name!r}", required=True)
        self.private = bool(api_key)
        self.client = client or CkanActionClient(
            config.url,
            RetryPolicy(config.timeout, config.retries, config.backoff, config.max_backoff),
            api_key=api_key,
            error=SourceError,
        )

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    def packages(self, listing: Listing, since: datetime | None = None,
                 known: dict[str, str] | None = None) -> Iterator[dict[str, Any] | Unchanged]:
        """Every package (or, with `since`, those modified since then), each exactly once.

        With `known` (source id -> metadata_modified the state store holds) and a source that
        allows it (`light_listing`), the listing asks only for ids and modification times, yields
        `Unchanged` for datasets the store already holds as they are, and fetches the full dicts
        of the others in batches: a run where little changed costs a few requests.
        """
        light = bool(known) and self.config.light_listing
        try:
            first = self._search_page(0, since, light)
        except SourceError as exc:
            log.warning("package_search unavailable (%s); falling back to package_list + package_show", exc)
            listing.problems.append(f"package_search unavailable, used package_list + package_show: {exc}")
            yield from self._list_and_show(listing, since)
            return
        if not light:
            yield from self._search(listing, since, first, light=False)
            return
        assert known is not None
        wanted: list[str] = []
        for entry in self._search(listing, since, first, light=True):
            if entry["id"] in known and same_moment(known[entry["id"]], entry.get("metadata_modified")):
                yield Unchanged(entry["id"], str(entry.get("name") or entry["id"]), str(entry.get("metadata_modified")))
                continue
            wanted.append(entry["id"])
            if len(wanted) >= FETCH_BATCH:
                yield from self._fetch(wanted, listing)
                wanted = []
        if wanted:
            yield from self._fetch(wanted, listing)

    def _fetch(self, ids: list[str], listing: Listing) -> Iterator[dict[str, Any]]:
        """The full package dicts of `ids` (one package_search per batch); missing ones make the
        listing incomplete."""
        terms = " OR ".join(f'"{i}"' for i in ids)
        try:
            result = self.client.call("package_search", {
                "q": "*:*", "fq": f"id:({terms})", "rows": len(ids), "start": 0, "sort": "id asc",
                **({"include_private": True} if self.private else {}),
            }, post=True)
        except SourceError as exc:
            listing.errors += 1
            listing.incomplete(f"fetching {len(ids)} changed datasets failed: {exc}")
            return
        found = {p.get("id"): p for p in (result or {}).get("results") or [] if isinstance(p, dict)}
        for ident in ids:
            package = found.get(ident)
            if package is None:
                listing.incomplete(f"dataset {ident} was listed but could not be fetched")
                continue
            yield _check_package(package, f"package_search id={ident}")

    def _fq(self, since: datetime | None) -> str:
        parts = []
        if since is not None:
            parts.append(f"metadata_modified:[{solr_time(since)} TO *]")
        if self.config.organization:
            parts.append(f'organization:"{self.config.organization}"')
        return " ".join(f"+{p}" for p in parts)

    def _search_page(self, start: int, since: datetime | None, light: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {
            "q": "*:*", "sort": "id asc", "rows": self.config.page_size, "start": start,
        }
        if light:
            params["fl"] = "id,name,metadata_modified"
        fq = self._fq(since)
        if fq:
            params["fq"] = fq
        if self.private:
            params["include_private"] = "true"
        result = self.client.call("package_search", params)
        if not isinstance(result, dict) or not isinstance(result.get("results"), list) or not isinstance(result.get("count"), int):
            raise SourceError(
                f"CKAN action package_search at {self.client.url('package_search')}: the result has no "
                f"'count' and 'results' list (start={start}); is this a CKAN action API?"
            )
        return result

    def _search(self, listing: Listing, since: datetime | None, page: dict[str, Any],
                light: bool = False) -> Iterator[dict[str, Any]]:
        listing.method = "package_search"
        total = listing.total = page["count"]
        seen: set[str] = set()
        start = 0
        while True:
            if page["count"] != total:
                listing.incomplete(f"the total changed mid-run from {total} to {page['count']} (page at start={start})")
            for package in page["results"]:
                package = _check_package(package, f"package_search result at start={start}")
                if package["id"] in seen:
                    listing.incomplete(f"dataset {package['id']} ({package.get('name')}) listed twice (page at start={start})")
                    continue
                seen.add(package["id"])
                yield package
            start += len(page["results"])
            if not page["results"] or start >= page["count"]:
                break
            try:
                page = self._search_page(start, since, light)
            except SourceError as exc:
                listing.errors += 1
                listing.incomplete(f"page at start={start} failed: {exc}")
                return
        if len(seen) != total:
            listing.incomplete(f"listed {len(seen)} datasets where the source announced {total}")

    def _list_and_show(self, listing: Listing, since: datetime | None) -> Iterator[dict[str, Any]]:
        listing.method = "package_list"
        names = self.client.call("package_list")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SourceError(f"CKAN action package_list at {self.client.url('package_list')}: the result is not a list of names")
        if len(set(names)) != len(names):
            listing.incomplete("package_list named some datasets more than once")
        listing.total = len(set(names))
        seen: set[str] = set()
        for name in dict.fromkeys(names):
            try:
                package = _check_package(self.client.call("package_show", {"id": name}), f"package_show id={name}")
            except SourceError as exc:
                listing.errors += 1
                listing.incomplete(f"dataset {name}: {exc}")
                continue
            if package["id"] in seen:
                listing.incomplete(f"dataset {package['id']} came back under two names")
                continue
            seen.add(package["id"])
            if since is None or modified_after(package, since):
                yield package

    def context(self, organizations: set[str], listing: Listing) -> SourceContext:
        """The organisations owning the listed packages, every group, and the licence list."""
        ctx = SourceContext(base_url=self.config.url)
        for key in sorted(organizations):
            org = self._optional("organization_show", {"id": key, "include_users": "false", "include_datasets": "false"}, listing)
            if isinstance(org, dict) and org.get("name"):
                org.pop("users", None)
                ctx.organizations[org["name"]] = org
        offset = 0
        while True:
            groups = self._optional("group_list", {"all_fields": "true", "include_extras": "true",
                                                   "limit": GROUP_PAGE, "offset": offset}, listing)
            if not isinstance(groups, list):
                break
            for group in groups:
                if isinstance(group, dict) and group.get("name"):
                    group.pop("users", None)
                    group.pop("packages", None)
                    ctx.groups[group["name"]] = group
            if len(groups) < GROUP_PAGE:
                break
            offset += GROUP_PAGE
        licenses = self._optional("license_list", {}, listing) or []
        for lic in licenses if isinstance(licenses, list) else []:
            if isinstance(lic, dict) and lic.get("id"):
                ctx.licenses[lic["id"]] = lic
        return ctx

    def _optional(self, action: str, params: dict[str, Any], listing: Listing) -> Any:
        try:
            return self.client.call(action, params)
        except SourceError as exc:
            listing.errors += 1
            listing.problems.append(f"context: {exc}")
            log.warning("context: %s", exc)
            return None


class DumpSource:
    """A file of CKAN package dicts: a JSON list, a CKAN dump object, or JSON Lines."""

    def __init__(self, path: str | Path, base_url: str = "") -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self._data: dict[str, Any] | None = None
        self.base_url = base_url

    @property
    def requests_made(self) -> int:
        return 0

    def load(self) -> dict[str, Any]:
        """The dump as `{"packages": [...], "organizations": [...], ...}` (read once)."""
        if self._data is None:
            self._data = read_dump(self.path)
        return self._data

    def packages(self, listing: Listing, since: datetime | None = None,
                 known: dict[str, str] | None = None) -> Iterator[dict[str, Any] | Unchanged]:
        listing.method = "dump"
        packages = self.load()["packages"]
        listing.total = len(packages)
        seen: set[str] = set()
        for package in packages:
            if package["id"] in seen:
                listing.incomplete(f"{self.path}: dataset {package['id']} appears twice")
                continue
            seen.add(package["id"])
            if since is None or modified_after(package, since):
                yield package

    def context(self, organizations: set[str], listing: Listing) -> SourceContext:
        data = self.load()
        ctx = SourceContext(base_url=self.base_url or data.get("source_url") or "")
        for org in data.get("organizations") or []:
            if isinstance(org, dict) and org.get("name"):
                ctx.organizations[org["name"]] = org
        for group in data.get("groups") or []:
            if isinstance(group, dict) and group.get("name"):
                ctx.groups[group["name"]] = group
        for lic in data.get("licenses") or []:
            if isinstance(lic, dict) and lic.get("id"):
                ctx.licenses[lic["id"]] = lic
        return ctx


def read_dump(path: Path) -> dict[str, Any]:
    """Read a dump file; a malformed one raises SourceError naming the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: dump file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the dump file: {exc}") from None
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        packages = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                packages.append(_check_package(json.loads(line), f"{path}, line {number}"))
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path}, line {number}, column {exc.colno}: not valid JSON: {exc.msg}") from None
        return {"packages": packages}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    if isinstance(data, list):
        data = {"packages": data}
    if not isinstance(data, dict) or not isinstance(data.get("packages"), list):
        raise SourceError(f"{path}: expected a list of CKAN packages or an object with a 'packages' list")
    for index, package in enumerate(data["packages"]):
        _check_package(package, f"{path}, packages[{index}]")
    return data


def open_source(config: SourceConfig) -> CkanSource | DumpSource:
    """The source a configuration entry describes."""
    if config.type == "dump":
        assert config.path is not None
        return DumpSource(config.path, base_url=config.url)
    return CkanSource(config)
