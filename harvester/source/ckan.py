"""A CKAN 2.9+ action API as a source: `package_search` pages sorted by id (falling back to
`package_list` + `package_show` where search is unavailable), `package_show` for the datasets a
complete listing no longer holds, and once per run `organization_show`, `group_list` and
`license_list` for the context.

With an API key (`api_key_env`) the listing holds the private and draft datasets the key may see
as well: they are harvested, and the plan keeps them off the target.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Iterator

from harvester.config import SourceConfig, api_key_from_env
from harvester.errors import HarvesterError, SourceError
from harvester.source.context import SourceContext
from harvester.source.http import CkanActionClient, RetryPolicy
from harvester.source.listing import Listing, Unchanged, Withheld, check_package, modified_after
from harvester.store.encoding import same_moment

log = logging.getLogger(__name__)

FETCH_BATCH = 200
GROUP_PAGE = 25  # CKAN's default ckan.group_and_organization_list_all_fields_max
#: at most this many datasets a listing no longer holds are asked about in one run; the others
#: count as gone (withdrawn after the grace period)
VANISHED_CHECKS = 200
#: what the action client's error says of a 403 and of a 404 answer
_REFUSED, _UNKNOWN = "403 not authorised", "404 not found"


class _ContextFailed(Exception):
    """A context call failed: the context of this run is incomplete."""


def solr_time(moment: datetime) -> str:
    """A moment as Solr wants it in a range query: `2026-01-31T12:00:00Z`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class CkanSource:
    """A CKAN action API as a source of package dicts."""

    def __init__(self, config: SourceConfig, client: CkanActionClient | None = None) -> None:
        self.config = config
        self.location = config.url
        api_key = api_key_from_env(config.api_key_env, f"source {config.name!r}", required=True)
        #: with a key, the listing asks for the private and draft datasets it may see too
        self.keyed = bool(api_key)
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

        A full listing (no `since`) reads every package whole, so that the state store compares
        the content of each: a change that left metadata_modified as it was (CKAN keeps it when
        a sysadmin deletes a resource) is seen too. An incremental one, with `known` (source id
        -> metadata_modified the state store holds) and a source that allows it
        (`light_listing`), asks only for ids and modification times, yields `Unchanged` for
        datasets the store already holds as they are, and fetches the full dicts of the others
        in batches.
        """
        light = since is not None and bool(known) and self.config.light_listing
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
                **({"include_private": True, "include_drafts": True} if self.keyed else {}),
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
            yield check_package(package, f"package_search id={ident}")

    def _fq(self, since: datetime | None) -> str:
        """The filter of a listing: none for a full one (every organisation's datasets: which of
        them are published is the plan's to decide), the modification time for an incremental one."""
        return f"+metadata_modified:[{solr_time(since)} TO *]" if since is not None else ""

    def _search_page(self, start: int, since: datetime | None, light: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {
            "q": "*:*", "sort": "id asc", "rows": self.config.page_size, "start": start,
        }
        if light:
            params["fl"] = "id,name,metadata_modified"
        fq = self._fq(since)
        if fq:
            params["fq"] = fq
        if self.keyed:
            params["include_private"] = params["include_drafts"] = "true"
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
                package = check_package(package, f"package_search result at start={start}")
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
                package = check_package(self.client.call("package_show", {"id": name}), f"package_show id={name}")
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

    def vanished(self, ids: list[str], listing: Listing) -> Iterator[dict[str, Any] | Withheld]:
        """What the source says of datasets a complete listing no longer holds, asked for one by
        one (package_show): the package (deleted there; with a key also private or draft; or
        public after all, missing from a search index that lags), or `Withheld` when the source
        refuses to show it (403: private, draft or deleted). One it does not know (404) is left
        out: gone. After the first other failure no more are asked for; the rest count as gone,
        as do those beyond VANISHED_CHECKS."""
        if len(ids) > VANISHED_CHECKS:
            listing.problems.append(f"{len(ids)} datasets are no longer listed; the first {VANISHED_CHECKS} "
                                    "were asked about, the others count as gone")
        for ident in ids[:VANISHED_CHECKS]:
            try:
                package = check_package(self.client.call("package_show", {"id": ident}), f"package_show id={ident}")
            except HarvesterError as exc:
                if _REFUSED in str(exc):
                    yield Withheld(ident)
                    continue
                if _UNKNOWN in str(exc):
                    continue
                listing.errors += 1
                listing.problems.append(f"dataset {ident} is no longer listed and asking for it failed: {exc}")
                return
            yield package

    def context(self, organizations: set[str], listing: Listing) -> SourceContext | None:
        """The organisations owning the listed packages (those the source does not know left
        out), every group, and the licence list; None when a call failed (no more are made
        after the first failure): a partial context never replaces the stored one."""
        ctx = SourceContext(base_url=self.config.url)
        try:
            self._organizations(ctx, organizations, listing)
            self._groups(ctx, listing)
            self._licenses(ctx, listing)
        except _ContextFailed:
            return None
        return ctx

    def _organizations(self, ctx: SourceContext, keys: set[str], listing: Listing) -> None:
        for key in sorted(keys):
            org = self._context_call("organization_show", {"id": key, "include_users": "false",
                                                           "include_datasets": "false"}, listing)
            if isinstance(org, dict) and org.get("name"):
                org.pop("users", None)
                ctx.organizations[org["name"]] = org

    def _groups(self, ctx: SourceContext, listing: Listing) -> None:
        offset = 0
        while True:
            groups = self._context_call("group_list", {"all_fields": "true", "include_extras": "true",
                                                       "limit": GROUP_PAGE, "offset": offset}, listing)
            if not isinstance(groups, list):
                return
            for group in groups:
                if isinstance(group, dict) and group.get("name"):
                    group.pop("users", None)
                    group.pop("packages", None)
                    ctx.groups[group["name"]] = group
            if len(groups) < GROUP_PAGE:
                return
            offset += GROUP_PAGE

    def _licenses(self, ctx: SourceContext, listing: Listing) -> None:
        licenses = self._context_call("license_list", {}, listing)
        for lic in licenses if isinstance(licenses, list) else []:
            if isinstance(lic, dict) and lic.get("id"):
                ctx.licenses[lic["id"]] = lic

    def _context_call(self, action: str, params: dict[str, Any], listing: Listing) -> Any:
        """One context call's result; None for a thing the source does not know (404);
        _ContextFailed, the problem recorded, when it fails."""
        try:
            return self.client.call(action, params)
        except HarvesterError as exc:
            if _UNKNOWN in str(exc):
                return None
            listing.errors += 1
            listing.problems.append(f"context: {exc}; the context of the last complete run is kept")
            log.warning("context: %s", exc)
            raise _ContextFailed from None
