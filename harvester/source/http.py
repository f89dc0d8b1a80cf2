"""CKAN action API calls with a timeout, bounded retries with backoff, and clear errors.

Used by the source (reading any CKAN) and the target (writing to data.overheid.nl). The API key
travels in the `Authorization` header only; it is never part of a URL, a log line or an error.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests

from harvester.errors import HarvesterError, SourceError
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


class CkanActionClient:
    """Calls `<base_url>/api/3/action/<action>` and returns the `result` of a successful answer."""

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
        self.policy = policy or RetryPolicy()
        self.error = error
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if api_key:
            self.session.headers["Authorization"] = api_key
        self.sleep = sleep
        self.requests_made = 0

    def url(self, action: str) -> str:
        return f"{self.base_url}/api/3/action/{action}"

    def call(self, action: str, params: dict[str, Any] | None = None, *, post: bool = False) -> Any:
        """Call `action`; retry 429/5xx/timeouts/connection errors; raise `self.error` otherwise."""
        url = self.url(action)
        attempts = self.policy.retries + 1
        last_problem = ""
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                self.requests_made += 1
                if post:
                    response = self.session.post(url, json=params or {}, timeout=self.policy.timeout)
                else:
                    response = self.session.get(url, params=params or {}, timeout=self.policy.timeout)
            except requests.Timeout:
                last_problem = f"no answer within {self.policy.timeout:g} s (timeout)"
            except requests.ConnectionError as exc:
                last_problem = f"connection failed ({type(exc).__name__})"
            else:
                if response.status_code not in RETRY_STATUS:
                    return self._result(action, url, response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                last_problem = f"HTTP {response.status_code}: {_excerpt(response.text)}"
            if attempt + 1 < attempts:
                pause = self.policy.wait(attempt, retry_after)
                log.warning("CKAN %s at %s: %s; retry %d/%d in %.1f s", action, url, last_problem,
                            attempt + 1, self.policy.retries, pause)
                self.sleep(pause)
        raise self.error(
            f"CKAN action {action} at {url} failed after {attempts} attempt(s): {last_problem}"
        )

    def _result(self, action: str, url: str, response: requests.Response) -> Any:
        content_type = response.headers.get("Content-Type", "")
        try:
            body = response.json()
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
            raise self.error(
                f"CKAN action {action} at {url}: 403 not authorised: {_error_text(body)}; "
                "check that the API key is valid and its account may do this"
            )
        if response.status_code == 404 and not body.get("success"):
            raise self.error(f"CKAN action {action} at {url}: 404 not found: {_error_text(body)}")
        if not body["success"] or response.status_code >= 400:
            raise self.error(
                f"CKAN action {action} at {url} answered HTTP {response.status_code}, success false: "
                f"{_error_text(body)}",
            )
        return body.get("result")


def _error_text(body: dict[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        message = error.get("message") or ""
        kind = error.get("__type") or ""
        fields = {k: v for k, v in error.items() if k not in ("message", "__type")}
        parts = [p for p in (kind, message, json.dumps(fields, ensure_ascii=False) if fields else "") if p]
        return _excerpt(" ".join(parts), 400)
    return _excerpt(json.dumps(error, ensure_ascii=False), 400)
