"""How the state store writes what it keeps: timestamps, content hashes and stored JSON.

Timestamps are UTC text (`iso`), read back with `parse_iso`; `same_moment` compares the
metadata_modified values of a CKAN source. A record's content hash is the SHA-256 of its
canonical JSON. A stage result's JSON is kept LZ4-packed (`pack_json` of `stored_json`) and
read back with `parse_stored`, which also reads the plain JSON text older stores hold.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

import lz4.block
import orjson


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """A UTC timestamp as `YYYY-MM-DDTHH:MM:SS.ffffffZ`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    """Parse a timestamp written by `iso` (or any ISO 8601 form; naive means UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def same_moment(a: str | None, b: str | None) -> bool:
    """Whether two metadata_modified values name the same moment, to the millisecond (CKAN's
    search index keeps milliseconds, "2026-01-02T03:04:05.12Z", where package dicts carry
    microseconds, "2026-01-02T03:04:05.120456")."""
    if not a or not b:
        return False
    if a == b:
        return True
    try:
        first = datetime.fromisoformat(str(a).replace("Z", "+00:00")).replace(tzinfo=None)
        second = datetime.fromisoformat(str(b).replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return False
    return abs((first - second).total_seconds()) < 0.001


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no insignificant white space: the basis of content hashes."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(data: Any) -> str:
    """The SHA-256 (hex) of `data`'s canonical JSON. Written by orjson, whose bytes are
    canonical_json's for what a package dict holds (a float with a negative exponent aside:
    1e-7 where json writes 1e-07); what orjson refuses, canonical_json writes."""
    try:
        text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = canonical_json(data).encode("utf-8")
    return hashlib.sha256(text).hexdigest()


def stored_json(data: Any) -> bytes:
    """Compact JSON of a stage result as the state store keeps it, as UTF-8 bytes: once parsed,
    equal to what json.dumps writes. What orjson refuses (integers beyond 64 bits, a lone
    surrogate) json.dumps writes, in ASCII, so that a lone surrogate is kept as its escape and
    the text is still valid UTF-8."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":")).encode("ascii")


def pack_json(text: bytes) -> bytes:
    """A stage result's JSON (`stored_json`) as the state store keeps it: LZ4-compressed (a
    result is repetitive JSON: findings, package, score)."""
    return lz4.block.compress(text)


def parse_stored(value: str | bytes) -> Any:
    """A stored result's JSON, parsed: packed (`pack_json`) or, as stores kept it before, text.
    ValueError when it is neither."""
    if isinstance(value, bytes):
        try:
            value = lz4.block.decompress(value)
        except lz4.block.LZ4BlockError as exc:
            raise ValueError(f"a packed result that does not unpack ({exc})") from None
    return parse_json(value)


def parse_json(text: str | bytes) -> Any:
    """JSON text parsed as json.loads parses it, by orjson where it can (ValueError when it is
    not JSON)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what only json reads (a lone surrogate's escape, a huge integer)
        return json.loads(text)
