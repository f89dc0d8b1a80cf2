"""A CKAN 2.9+ action API as a source: `package_search` pages sorted by id (falling back to
`package_list` + `package_show` where search is unavailable), and once per run
`organization_show`, `group_list` + `group_show` and `license_list` for the context.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Iterator

from harvester.config import SourceConfig, api_key_from_env
from harvester.errors import SourceError
from harvester.source.context import SourceContext
from harvester.source.http import CkanActionClient, RetryPolicy
from harvester.source.listing import Listing, Unchanged, check_package, modified_after
from harvester.store.encoding import same_moment

log = logging.getLogger(__name__)

FETCH_BATCH = 200
GROUP_PAGE = 25  # CKAN's default ckan.group_and_organization_list_all_fields_max


def solr_time(moment: datetime) -> str:
    """A moment as Solr wants it in a range query: `2026-01-31T12:00:00Z`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
            yield check_package(package, f"package_search id={ident}")

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
