"""CKAN action API calls with a timeout, bounded retries with backoff, and clear errors.

Used by the source (reading any CKAN); the target's client (harvester.donl.api) shares its retry
policy. The API key travels in the `Authorization` header only; it is never part of a URL, a log
line or an error. Each kind of failure has its own retry budget: a refused connection or an
unknown host name one quick retry at most, timeouts, 429 and 5xx answers the policy's retries.
"""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlparse

import orjson
import requests

from harvester.errors import (
    HarvesterError,
    NotAuthorisedError,
    SourceError,
    TargetError,
    UnreachableError,
)
from harvester.version import __version__

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 500, 502, 503, 504}
USER_AGENT = f"dcat-ap-nl-harvester/{__version__}"


@dataclass
class RetryPolicy:
    """How often and how long to retry: attempts = retries + 1, waits backoff * 2**n, capped."""

    timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 60.0

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        return min(self.backoff * (2**attempt), self.max_backoff)

    def retries_for(self, problem: ConnectionProblem | str) -> int:
        """How many retries this kind of problem gets: one at most for a refused connection or
        an unknown host name, else `retries`."""
        if isinstance(problem, ConnectionProblem) and problem.quick:
            return min(self.retries, 1)
        return self.retries

    def pause(self, attempt: int, retry_after: float | None, problem: ConnectionProblem | str) -> float:
        """The wait before retry `attempt` + 1 of this kind of problem."""
        if isinstance(problem, ConnectionProblem) and problem.quick:
            return min(self.backoff, QUICK_RETRY)
        return self.wait(attempt, retry_after)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True)
class ConnectionProblem:
    """Why a request got no answer: `kind` is `refused`, `dns`, `timeout` or `connection`;
    `quick` problems (refused, dns) get one quick retry at most, the others the policy's."""

    kind: str
    text: str

    @property
    def quick(self) -> bool:
        return self.kind in ("refused", "dns")


def connection_problem(exc: BaseException, host: str, timeout: float) -> ConnectionProblem:
    """What a requests exception says about the connection to `host`, in words a person acts on."""
    if isinstance(exc, requests.Timeout):
        return ConnectionProblem("timeout", f"no answer within {timeout:g} s (timeout) from {host}")
    causes = _causes(exc)
    if any(isinstance(c, socket.gaierror) for c in causes):
        return ConnectionProblem("dns", f"the host name {host} does not resolve (DNS failure; check the URL)")
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return ConnectionProblem("refused", f"connection refused by {host} (is the server down, or the port wrong?)")
    return ConnectionProblem("connection", f"connection failed ({type(exc).__name__}) to {host}")


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and every exception it carries: causes, contexts, reasons, arguments."""
    found: list[BaseException] = []
    todo = [exc]
    while todo and len(found) < 50:
        current = todo.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo += [item for item in linked if isinstance(item, BaseException)]
    return found


#: the wait before the one retry a refused connection or an unknown host name gets, at most
QUICK_RETRY = 1.0


class CkanActionClient:
    """Calls `<base_url>/api/3/action/<action>` and returns the `result` of a successful answer.

    `error` is the error raised for an answer we cannot use (SourceError for a source,
    TargetError for a target); it also says which side a message names. A server that never
    answered (refused, unknown host, every attempt timed out) raises UnreachableError, a 403
    NotAuthorisedError. `failure` is the last error raised.
    """

    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy | None = None,
        api_key: str | None = None,
        error: type[HarvesterError] = SourceError,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = urlparse(self.base_url).netloc or self.base_url
        self.side = "target" if issubclass(error, TargetError) else "source"
        self.policy = policy or RetryPolicy()
        self.error = error
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if api_key:
            self.session.headers["Authorization"] = api_key
        self.sleep = sleep
        self.requests_made = 0
        #: whether the server answered any request (then a lost connection is no dead server)
        self.answered = False
        self.failure: HarvesterError | None = None

    def url(self, action: str) -> str:
        return f"{self.base_url}/api/3/action/{action}"

    def call(self, action: str, params: dict[str, Any] | None = None, *, post: bool = False) -> Any:
        """Call `action`; retry 429/5xx/timeouts/connection errors; raise `self.error` otherwise."""
        try:
            return self._call(action, params, post)
        except HarvesterError as exc:
            self.failure = exc
            raise

    def _call(self, action: str, params: dict[str, Any] | None, post: bool) -> Any:
        url = self.url(action)
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                response = self._send(url, params, post)
            except (requests.Timeout, requests.ConnectionError) as exc:
                problem: ConnectionProblem | str = connection_problem(exc, self.host, self.policy.timeout)
            else:
                self.answered = True
                if response.status_code not in RETRY_STATUS:
                    return self._result(action, url, response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                problem = f"HTTP {response.status_code}: {_excerpt(response.text)}"
            if attempt >= self.policy.retries_for(problem):
                raise self._give_up(action, url, attempt + 1, problem)
            pause = self.policy.pause(attempt, retry_after, problem)
            log.warning("CKAN %s at %s: %s; retry %d/%d in %.1f s", action, url, _text(problem),
                        attempt + 1, self.policy.retries_for(problem), pause)
            self.sleep(pause)
            attempt += 1

    def _send(self, url: str, params: dict[str, Any] | None, post: bool) -> requests.Response:
        self.requests_made += 1
        if post:
            return self.session.post(url, json=params or {}, timeout=self.policy.timeout)
        return self.session.get(url, params=params or {}, timeout=self.policy.timeout)

    def _give_up(self, action: str, url: str, attempts: int, problem: ConnectionProblem | str) -> HarvesterError:
        """The error after the last attempt: UnreachableError for a server that never answered."""
        what = f"CKAN action {action} at {url} failed after {attempts} attempt(s): {_text(problem)}"
        if isinstance(problem, ConnectionProblem):
            if not self.answered:
                return UnreachableError(f"{self.side} {self.host} unreachable: {what}")
            return self.error(f"{self.side} {self.host}: {what}")
        return self.error(what)

    def _result(self, action: str, url: str, response: requests.Response) -> Any:
        content_type = response.headers.get("Content-Type", "")
        try:
            body = _json_body(response)
        except (ValueError, json.JSONDecodeError):
            kind = "HTML" if "html" in content_type or response.text.lstrip().startswith("<") else "not JSON"
            raise self.error(
                f"CKAN action {action} at {url} answered HTTP {response.status_code} with {kind} "
                f"({content_type or 'no content type'}), not a CKAN JSON answer: {_excerpt(response.text)!r}"
            ) from None
        if not isinstance(body, dict) or "success" not in body:
            raise self.error(
                f"CKAN action {action} at {url} answered HTTP {response.status_code} with JSON that is "
                f"not a CKAN action answer (no 'success' key): {_excerpt(json.dumps(body))!r}"
            )
        if response.status_code == 403:
            raise NotAuthorisedError(
                f"{self.side} {self.host}: CKAN action {action} at {url}: 403 not authorised: "
                f"{_error_text(body)}; check that the API key is valid and its account may do this"
            )
        if response.status_code == 404 and not body.get("success"):
            raise self.error(f"CKAN action {action} at {url}: 404 not found: {_error_text(body)}")
        if not body["success"] or response.status_code >= 400:
            raise self.error(
                f"CKAN action {action} at {url} answered HTTP {response.status_code}, success false: "
                f"{_error_text(body)}",
            )
        return body.get("result")


def _json_body(response: requests.Response) -> Any:
    """An answer's JSON: parsed by orjson from its bytes (UTF-8, as CKAN sends it), else as
    requests parses it (another encoding, a byte-order mark); ValueError when it is not JSON."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def _text(problem: ConnectionProblem | str) -> str:
    return problem.text if isinstance(problem, ConnectionProblem) else problem


def _error_text(body: dict[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        message = error.get("message") or ""
        kind = error.get("__type") or ""
        fields = {k: v for k, v in error.items() if k not in ("message", "__type")}
        parts = [p for p in (kind, message, json.dumps(fields, ensure_ascii=False) if fields else "") if p]
        return _excerpt(" ".join(parts), 400)
    return _excerpt(json.dumps(error, ensure_ascii=False), 400)
