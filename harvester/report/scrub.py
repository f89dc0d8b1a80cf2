"""Secrets kept out of every report: the second line of defence.

A report is built only from the run's result and never holds environment variables or HTTP
headers. On top of that, every report, its JSON file, its HTML page and its text form are
scrubbed of the value of any environment variable whose name contains KEY, TOKEN, SECRET,
PASSWORD or PASSWD (values of at least MIN_SECRET_LENGTH characters), in the plain, HTML-escaped
and JSON-escaped forms in which such a value can appear.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Mapping
from typing import Any

import markupsafe
import orjson

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "scrub", "scrub_data", "secret_values"]

#: What the report says in place of a secret's value.
REDACTED = "[verwijderd/redacted]"
#: Shorter values of secret-named variables are not scrubbed (they would wreck the text).
MIN_SECRET_LENGTH = 6
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD", re.IGNORECASE)


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables named like secrets, longest first."""
    env = os.environ if environ is None else environ
    found: set[str] = set()
    for name, value in env.items():
        if not isinstance(value, str) or not _SECRET_NAME.search(name):
            continue
        for candidate in (value, value.strip()):
            if len(candidate) >= MIN_SECRET_LENGTH:
                found.add(candidate)
    return sorted(found, key=lambda v: (-len(v), v))


def _written_forms(value: str) -> set[str]:
    """The forms a value takes in a page or a JSON file: as it is, HTML-escaped (by the
    standard library or by the page's templates) and JSON-escaped."""
    return {value, html.escape(value), html.escape(value, quote=False),
            str(markupsafe.escape(value)), json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1]}


def scrub(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` without the value of any secret-named environment variable (also HTML- or
    JSON-escaped)."""
    for value in secret_values(environ):
        for form in sorted(_written_forms(value), key=len, reverse=True):
            if form and form in text:
                text = text.replace(form, REDACTED)
    return text


def scrub_data(value: Any, secrets: list[str]) -> Any:
    """JSON data (dicts, lists, strings, ...) with every string's `secrets` redacted."""
    if not secrets or not _may_hold(value, secrets):
        return value
    return _scrubbed(value, secrets)


def _may_hold(value: Any, secrets: list[str]) -> bool:
    """Whether a string in `value` may hold one of the secrets: false only when its JSON text
    holds none of them (a secret JSON writes as it is appears in the text of any string that
    holds it); true when that cannot be told."""
    try:
        text = orjson.dumps(value)
    except TypeError:  # not plain JSON data: look at every string
        return True
    for secret in secrets:
        if any(char in _ESCAPED or char < " " for char in secret) or secret.encode("utf-8", "surrogatepass") in text:
            return True
    return False


#: the characters JSON writes escaped (besides the control characters)
_ESCAPED = frozenset('"\\')


def _scrubbed(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_scrubbed(k, secrets): _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secrets) for v in value]
    return value
