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
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {scrub_data(k, secrets): scrub_data(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_data(v, secrets) for v in value]
    return value
