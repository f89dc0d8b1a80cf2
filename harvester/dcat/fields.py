"""Reading the values of a CKAN package: strings, lists, extras, URLs, dates and language maps.

CKAN portals store the same kind of value in many shapes (a list, a JSON list in a string, a
comma-separated string, a ckanext-scheming extra); these helpers give the mapper one shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlparse

from rdflib import Literal

from harvester.dcat.rdf import XSD

#: what counts as no value
EMPTY = (None, "", [], {})
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_HTTP_URL = re.compile(r"^https?://[^\s/?#@]+(?:[/?#][^\s]*)?$")
_YEAR = re.compile(r"^\d{4}$")
_YEAR_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_TRUE = {"true", "1", "yes", "ja", "y"}
_NOT_JSON = object()


def text_of(value: Any) -> str:
    """A trimmed string, "" for None/empty/non-scalar values."""
    if value is None or isinstance(value, (dict, list, tuple, bool)):
        return ""
    return str(value).strip()


def extras_of(package: Mapping[str, Any]) -> dict[str, Any]:
    """A package's extras as a dict (CKAN gives a list of {key, value})."""
    extras = package.get("extras")
    if isinstance(extras, dict):
        return dict(extras)
    out: dict[str, Any] = {}
    if isinstance(extras, list):
        for item in extras:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                out[item["key"]] = item.get("value")
    return out


def first_given(package: Mapping[str, Any], extras: Mapping[str, Any], *keys: str) -> Any:
    """The first non-empty value among package[key] and extras[key] for `keys`."""
    for key in keys:
        for where in (package, extras):
            value = where.get(key)
            if value not in EMPTY:
                return value
    return None


def as_list(value: Any, *, split_commas: bool = False) -> list[Any]:
    """A list from a list, a JSON list in a string, or a single value (optionally split at ,)."""
    if value in EMPTY:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    if isinstance(value, str):
        return _list_in_text(value.strip(), split_commas)
    return [value]


def _list_in_text(text: str, split_commas: bool) -> list[Any]:
    if text.startswith("[") and text.endswith("]"):
        parsed = _json(text)
        if isinstance(parsed, list):
            return [v for v in parsed if v not in (None, "")]
        text = text[1:-1]
        split_commas = True
    if text.startswith("{") and text.endswith("}"):
        parsed = _json(text, _NOT_JSON)
        if parsed is not _NOT_JSON:
            return [parsed]
    if split_commas and "," in text:
        return [part.strip().strip('"') for part in text.split(",") if part.strip()]
    return [text] if text else []


def _json(text: str, otherwise: Any = None) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return otherwise


def is_http(value: str) -> bool:
    """An absolute http(s) URL with a host and no whitespace."""
    return bool(value) and _HTTP_URL.match(value) is not None


def is_persistent_uri(value: str) -> bool:
    """An http(s) URI usable as a dataset's identity (a host with a dot, a path or fragment)."""
    if not is_http(value):
        return False
    parsed = urlparse(value)
    return "." in parsed.netloc and (parsed.path not in ("", "/") or bool(parsed.fragment))


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return text_of(value).lower() in _TRUE


def non_negative_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value >= 0 else None
    text = text_of(value)
    return int(text) if text.isdigit() else None


def uri_part(value: str) -> str:
    """`value` percent-encoded for use as one segment of a URI."""
    return quote(value, safe="-._~")


def translated(value: Any, many: bool = False) -> list[tuple[str, Any]]:
    """(language tag, value) pairs of a ckanext-fluent/scheming `*_translated` dict, sorted;
    with `many` the values are lists of strings."""
    if not isinstance(value, dict):
        return []
    out = []
    for tag in sorted(value):
        if not isinstance(tag, str) or not LANG_TAG.match(tag):
            continue
        item = _translation(value[tag], many)
        if item is not None:
            out.append((tag, item))
    return out


def _translation(item: Any, many: bool) -> Any:
    if not many:
        return text_of(item) or None
    if isinstance(item, list):
        return [text_of(v) for v in item if text_of(v)]
    return None


def temporal_literal(value: Any) -> Literal | None:
    """A CKAN date/time as an xsd:gYear, xsd:gYearMonth, xsd:date or xsd:dateTime literal
    (None when it is none of these)."""
    text = text_of(value)
    if not text:
        return None
    if _YEAR.match(text):
        return Literal(text, datatype=XSD.gYear)
    if _YEAR_MONTH.match(text):
        return Literal(text, datatype=XSD.gYearMonth)
    if len(text) == 10:
        try:
            return Literal(date.fromisoformat(text).isoformat(), datatype=XSD.date)
        except ValueError:
            return None
    try:
        return Literal(datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1)))
    except ValueError:
        return None
