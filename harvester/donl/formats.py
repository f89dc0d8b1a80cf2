"""How data.overheid.nl writes values: dates, URIs, tags, media types, lists sent as text; and RDF
literals in those forms.

    donl_date(Literal("2020", datatype=XSD.gYear), end=True)    # "2020-12-31T23:59:59"
    tag_of("po/vo")                                             # "po vo"
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

__all__ = ["DATE_FORMAT", "DAY_FORMAT", "IANA", "donl_date", "is_uri", "media_type_uri", "tag_of"]

#: data.overheid.nl's date-time: no zone, no fraction
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
#: a bare date, which data.overheid.nl stores as its midnight
DAY_FORMAT = "%Y-%m-%d"
IANA = "https://www.iana.org/assignments/media-types/"
_OLD_IANA = "http://www.iana.org/assignments/media-types/"
_MEDIA_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+")
#: CKAN core's tag pattern (a tag may end in one newline: `$` allows it)
TAG = re.compile(r"[\w \-.]*$", re.UNICODE)


def is_uri(value: Any) -> bool:
    """Whether a value is a string with a scheme and a host, as data.overheid.nl's URI check
    asks (urlparse's answer: it splits as urlsplit does, ;parameters apart)."""
    if not isinstance(value, str):
        return False
    parsed = urlsplit(value)
    return bool(parsed.scheme and parsed.netloc)


def parse_time(value: Any, fmt: str) -> datetime | None:
    """`value` read with strptime format `fmt`; None when it is no such string."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def array_items(value: Any) -> list[str] | None:
    """The items of a list sent as a PostgreSQL array literal (`{a,b}` or `{"a","b"}`), as
    CKAN reads them; None when `value` is no such string."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return value.replace('"', "")[1:-1].split(",")
    return None


def tag_of(word: str) -> str:
    """A keyword as a tag data.overheid.nl accepts: refused characters become spaces, runs of
    spaces one, at most 100 characters."""
    text = "".join(ch if TAG.match(ch) else " " for ch in word)
    return " ".join(text.split())[:100].strip()


def media_type_uri(terms: list[Any]) -> str | None:
    """The first term that names an IANA media type (its URI, or a type such as text/csv), as
    its IANA URI."""
    for value in terms:
        text = str(value).strip()
        if text.startswith(IANA):
            return text
        if text.startswith(_OLD_IANA):
            return IANA + text.removeprefix(_OLD_IANA)
        if _MEDIA_TYPE.fullmatch(text):
            return IANA + text.lower()
    return None


# --- dates --------------------------------------------------------------------------------------


def _year_bounds(text: str, end: bool) -> str:
    year = int(text[:4])
    return f"{year:04d}-12-31T23:59:59" if end else f"{year:04d}-01-01T00:00:00"


def _month_bounds(text: str, end: bool) -> str | None:
    year, month = int(text[:4]), int(text[5:7])
    if not 1 <= month <= 12:
        return None
    if end:
        return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}T23:59:59"
    return f"{year:04d}-{month:02d}-01T00:00:00"


#: periods a literal names by its datatype or its form: (datatype, form, its first or last second)
_PERIODS: tuple[tuple[URIRef, re.Pattern[str], Callable[[str, bool], str | None]], ...] = (
    (XSD.gYear, re.compile(r"\d{4}"), _year_bounds),
    (XSD.gYearMonth, re.compile(r"\d{4}-\d{2}"), _month_bounds),
)


def _date_or_moment(value: Any, text: str) -> date | None:
    """A literal's Python value when rdflib made a date or datetime of it, else its text read
    as an ISO date-time or date; None when it is neither."""
    if isinstance(value, date):  # datetime included
        return value
    for parse in (datetime.fromisoformat, date.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def donl_date(term: Any, end: bool = False) -> str | None:
    """An RDF date literal in data.overheid.nl's format (`end`: the last second it covers). A
    zoned date-time is converted to UTC; a date is its midnight (end: 23:59:59); a year or a
    year and month its first (end: last) second."""
    if not isinstance(term, Literal):
        return None
    text = str(term).strip()
    for datatype, form, bounds in _PERIODS:
        if term.datatype == datatype or form.fullmatch(text):
            return bounds(text, end)
    value = _date_or_moment(term.toPython(), text)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime(DATE_FORMAT)
    if isinstance(value, date):
        return value.strftime(DAY_FORMAT) + ("T23:59:59" if end else "T00:00:00")
    return None
