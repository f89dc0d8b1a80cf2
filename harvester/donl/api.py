"""The target's CKAN action API (data.overheid.nl or its test environment), through ckanapi.

Reads (inventory, search by identifier, show) and writes (create, update, soft delete) with a
timeout, bounded retries with backoff on 429/5xx/timeouts, a pause between writes, and a
read-only mode in which every write is refused before anything is sent (dry runs).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

import ckanapi
import requests

from harvester.config import TargetConfig
from harvester.errors import ExitCode, TargetError, UnreachableError
from harvester.source.http import (
    RETRY_STATUS,
    USER_AGENT,
    ConnectionProblem,
    RetryPolicy,
    connection_problem,
    parse_retry_after,
)

log = logging.getLogger(__name__)

IDENTIFIER_BATCH = 40

#: what the light inventory reads of each package: fields CKAN's search index stores, so the
#: target answers without sending (or even reading) the packages themselves
INVENTORY_FIELDS = ("id", "name", "state", "metadata_modified")


def _text(problem: ConnectionProblem | str) -> str:
    return problem.text if isinstance(problem, ConnectionProblem) else problem


class _Retryable(Exception):
    def __init__(self, status: int, body: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}: {' '.join(body.split())[:200]}")
        self.retry_after = retry_after


class _RemoteCKAN(ckanapi.RemoteCKAN):
    """ckanapi's client, but 429/5xx answers become retryable errors that keep Retry-After."""

    def _request_fn(self, url, data, headers, files, requests_kwargs):  # type: ignore[no-untyped-def]
        r = self.session.post(url, data=data, headers=headers, files=files, allow_redirects=False, **requests_kwargs)
        if r.status_code in RETRY_STATUS:
            raise _Retryable(r.status_code, r.text, parse_retry_after(r.headers.get("Retry-After")))
        return r.status_code, r.text

    def _request_fn_get(self, url, data_dict, headers, requests_kwargs):  # type: ignore[no-untyped-def]
        r = self.session.get(url, params=data_dict, headers=headers, **requests_kwargs)
        if r.status_code in RETRY_STATUS:
            raise _Retryable(r.status_code, r.text, parse_retry_after(r.headers.get("Retry-After")))
        return r.status_code, r.text


class TargetValidationError(TargetError):
    """The target refused a package; `errors` holds its field messages (field -> list of text)."""

    def __init__(self, message: str, errors: dict[str, Any]) -> None:
        super().__init__(message)
        self.errors = errors


class TargetNotAuthorised(TargetError):
    """The target answered 403: the API key is wrong, or its account may not do this (exit 4,
    as for a source; apply still records it on the one dataset and goes on)."""

    exit_code = ExitCode.CONFIG


class TargetNotFound(TargetError):
    """The target has no such package (or organisation)."""


class TargetApi:
    """One target CKAN, used by the plan (reads) and the apply stage (writes)."""

    def __init__(
        self,
        config: TargetConfig,
        api_key: str | None,
        *,
        read_only: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.url = config.url
        self.read_only = read_only
        self.policy = RetryPolicy(config.timeout, config.retries, config.backoff, config.max_backoff)
        self.sleep = sleep
        self.requests_made = 0
        self.writes = 0
        self._lock = threading.Lock()
        self._last_write = 0.0
        self._local = threading.local()
        self._api_key = api_key
        self.host = urlparse(self.url).netloc or self.url
        #: whether the target answered any request (then a lost connection is no dead server)
        self.answered = False

    def _ckan(self) -> _RemoteCKAN:
        ckan = getattr(self._local, "ckan", None)
        if ckan is None:
            ckan = self._local.ckan = _RemoteCKAN(self.url, apikey=self._api_key, user_agent=USER_AGENT,
                                                  session=requests.Session())
        return ckan

    def call(self, action: str, data: dict[str, Any] | None = None, *, write: bool = False) -> Any:
        """Call an action with retries; map ckanapi's errors to TargetError with the target's words."""
        if write:
            if self.read_only:
                raise TargetError(f"dry run: {action} at {self.url} was not sent (read-only mode)")
            self._pace()
        attempt = 0
        while True:
            retry_after = None
            problem: ConnectionProblem | str
            with self._lock:
                self.requests_made += 1
                if write:
                    self.writes += 1
            try:
                answer = self._ckan().call_action(action, data or {}, requests_kwargs={"timeout": self.policy.timeout})
                self.answered = True
                return answer
            except _Retryable as exc:
                self.answered = True
                problem, retry_after = str(exc), exc.retry_after
            except (requests.Timeout, requests.ConnectionError) as exc:
                problem = connection_problem(exc, self.host, self.policy.timeout)
            except ckanapi.ValidationError as exc:
                errors = dict(exc.error_dict) if isinstance(exc.error_dict, dict) else {"message": str(exc)}
                errors.pop("__type", None)
                raise TargetValidationError(
                    f"{action} at {self.url} refused by the target: {_describe(errors)}", errors
                ) from None
            except ckanapi.NotAuthorized as exc:
                raise TargetNotAuthorised(
                    f"{action} at {self.url}: 403 not authorised ({_short(exc)}); check the API key's "
                    f"account and that it may edit organisation {self.config.owner_org!r}"
                ) from None
            except ckanapi.NotFound as exc:
                raise TargetNotFound(f"{action} at {self.url}: not found ({_short(exc)})") from None
            except ckanapi.CKANAPIError as exc:
                raise TargetError(f"{action} at {self.url}: unexpected answer: {_short(exc)}") from None
            if attempt >= self.policy.retries_for(problem):
                raise self._give_up(action, attempt + 1, problem)
            pause = self.policy.pause(attempt, retry_after, problem)
            log.warning("target %s at %s: %s; retry %d/%d in %.1f s", action, self.url, _text(problem),
                        attempt + 1, self.policy.retries_for(problem), pause)
            self.sleep(pause)
            attempt += 1

    def _give_up(self, action: str, attempts: int, problem: ConnectionProblem | str) -> Exception:
        """The error after the last attempt: UnreachableError for a target that never answered."""
        what = f"{action} at {self.url} failed after {attempts} attempt(s): {_text(problem)}"
        if isinstance(problem, ConnectionProblem) and not self.answered:
            return UnreachableError(f"target {self.config.name!r} ({self.host}) unreachable: {what}")
        return TargetError(what)

    def _pace(self) -> None:
        """Keep `write_pause` seconds between write calls (across writer threads)."""
        if self.config.write_pause <= 0:
            return
        with self._lock:
            wait = self._last_write + self.config.write_pause - time.monotonic()
            self._last_write = max(time.monotonic(), self._last_write + self.config.write_pause)
        if wait > 0:
            self.sleep(wait)

    # -- reads ------------------------------------------------------------------------------

    def search(self, fq: str, rows: int = 1000, fields: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
        """Every package matching a Solr filter, page by page (sorted by id); with `fields`, only
        those fields of each (package_search `fl`)."""
        start = 0
        while True:
            query: dict[str, Any] = {"q": "*:*", "fq": fq, "rows": rows, "start": start,
                                     "sort": "id asc", "include_private": True}
            if fields:
                query["fl"] = list(fields)
            result = self.call("package_search", query)
            batch = result.get("results") or []
            yield from batch
            start += len(batch)
            if not batch or start >= int(result.get("count") or 0):
                return

    def iter_inventory(self, owner_org: str) -> Iterator[dict[str, Any]]:
        """The owner organisation's packages on the target, page by page."""
        return self.search(_organisation_filter(owner_org))

    def iter_inventory_light(self, owner_org: str) -> Iterator[dict[str, Any]]:
        """The `INVENTORY_FIELDS` of each of the owner organisation's packages, page by page
        (a target whose CKAN ignores `fl` sends the whole packages instead)."""
        return self.search(_organisation_filter(owner_org), fields=INVENTORY_FIELDS)

    def packages_by_id(self, ids: list[str]) -> Iterator[dict[str, Any]]:
        """The whole packages with these ids (those the target has), a search per
        `IDENTIFIER_BATCH` ids."""
        for i in range(0, len(ids), IDENTIFIER_BATCH):
            chunk = ids[i:i + IDENTIFIER_BATCH]
            yield from self.search("id:(" + " OR ".join(_quoted(value) for value in chunk) + ")")

    def inventory(self, owner_org: str) -> dict[str, dict[str, Any]]:
        """The owner organisation's packages on the target that carry an identifier, by identifier."""
        found: dict[str, dict[str, Any]] = {}
        for package in self.iter_inventory(owner_org):
            identifier = package.get("identifier")
            if isinstance(identifier, str) and identifier:
                found[identifier] = package
        return found

    def find_identifiers(self, identifiers: list[str]) -> dict[str, dict[str, Any]]:
        """Packages anywhere on the target whose identifier is one of `identifiers`."""
        found: dict[str, dict[str, Any]] = {}
        wanted = set(identifiers)
        for i in range(0, len(identifiers), IDENTIFIER_BATCH):
            chunk = identifiers[i:i + IDENTIFIER_BATCH]
            terms = " OR ".join(_quoted(value) for value in chunk)
            for package in self.search(f"identifier:({terms})"):
                if package.get("identifier") in wanted:
                    found[package["identifier"]] = package
        return found

    @property
    def has_key(self) -> bool:
        """Whether the target is read (and written) with an API key."""
        return bool(self._api_key)

    def organisation_exists(self, name: str) -> bool:
        """Whether the target has the organisation (by name or id)."""
        try:
            self.call("organization_show", {"id": name, "include_datasets": False})
        except TargetNotFound:
            return False
        return True

    def organisations_for(self, permission: str) -> set[str]:
        """The names and ids of the organisations the API key's user has `permission` in
        (CKAN's organization_list_for_user)."""
        found = self.call("organization_list_for_user", {"permission": permission}) or []
        return {str(org.get(key)) for org in found if isinstance(org, dict) for key in ("name", "id")
                if org.get(key)}

    def show(self, package_id: str) -> dict[str, Any] | None:
        """The package, or None when the target has no package with that id or name."""
        try:
            return self.call("package_show", {"id": package_id})
        except TargetNotFound:
            return None

    # -- writes -----------------------------------------------------------------------------

    def create(self, package: dict[str, Any]) -> dict[str, Any]:
        return self.call("package_create", package, write=True)

    def update(self, package: dict[str, Any]) -> dict[str, Any]:
        return self.call("package_update", package, write=True)

    def withdraw(self, package_id: str) -> None:
        """CKAN soft delete (state `deleted`); never a purge."""
        self.call("package_delete", {"id": package_id}, write=True)


class EmptyTarget:
    """A target with nothing on it, for dry runs without a configured target (offline)."""

    url = "offline:empty-target"
    read_only = True
    requests_made = 0
    writes = 0

    def inventory(self, owner_org: str) -> dict[str, dict[str, Any]]:
        return {}

    def find_identifiers(self, identifiers: list[str]) -> dict[str, dict[str, Any]]:
        return {}

    def show(self, package_id: str) -> dict[str, Any] | None:
        return None


def _organisation_filter(owner_org: str) -> str:
    """The organisation's packages, as one required group: CKAN appends its own clauses (the
    package states) to the filter, and a bare `a OR b` then matched every package."""
    return f'+(organization:"{owner_org}" OR owner_org:"{owner_org}")'


def _quoted(value: str) -> str:
    """A Solr phrase for `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _describe(errors: dict[str, Any]) -> str:
    parts = []
    for key, value in sorted(errors.items()):
        text = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {text}")
    return ", ".join(parts)


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
