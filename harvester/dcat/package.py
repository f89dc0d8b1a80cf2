"""One CKAN package being mapped: what the mapping steps read and what they make.

A `PackageMapping` holds the package, its extras and the source's Descriptions (what the steps
read), and the triples and issues gathered so far (what they make). `add_fields` reads the
straight field -> property tables (rows of `Field`), as the dataset and distribution steps use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from rdflib import Literal, URIRef

from harvester.dcat.descriptions import Descriptions
from harvester.dcat.fields import (
    as_list,
    extras_of,
    first_given,
    is_http,
    temporal_literal,
    text_of,
)
from harvester.dcat.issues import Issues, issue_value
from harvester.dcat.rdf import FOAF, TYPE
from harvester.dcat.text import plain_text, single_line
from harvester.source.context import SourceContext

__all__ = ["Field", "PackageMapping", "add_fields"]


class PackageMapping:
    """The state of one package's mapping (see the module docstring)."""

    def __init__(self, package: Any, context: SourceContext | None, source: Descriptions,
                 portal: str) -> None:
        self.source = source
        self.o = source.o
        self.m = source.m
        self.context = context
        self.portal = portal
        self.pkg: dict = package if isinstance(package, dict) else {}
        self.extras = extras_of(self.pkg)
        self.pkg_id = text_of(self.pkg.get("id"))
        self.name = text_of(self.pkg.get("name"))
        label = self.name or self.pkg_id or text_of(self.pkg.get("title")) or \
            "(package without name or id)"
        self.issues = Issues(label)
        if not isinstance(package, dict):
            self.issues.error("package", (issue_value(package) or "")[:200] or None,
                              "a CKAN package must be a JSON object")
        self.triples: list[tuple] = []
        #: set by the identity step: the dataset's URI, its node, and the base of its hash URIs
        self.uri = ""
        self.ds: URIRef = URIRef("")
        self.local = ""
        #: set by the steps, read by later ones
        self.languages: list[URIRef] = []  # the dataset's dct:language
        self.dates: dict[URIRef, Literal] = {}  # the dataset's dct:issued / dct:modified
        self.distribution_uris: dict[str, str] = {}
        #: the licences looked up so far (harvester.dcat.licence), each once per package
        self.licences: dict[str, Any] = {}
        self.uses_service = False

    # -- reading --------------------------------------------------------------------------------

    def get(self, *keys: str) -> Any:
        """The first non-empty value of the package fields or extras `keys`."""
        return first_given(self.pkg, self.extras, *keys)

    def date(self, value: Any, field: str, *, report: bool = True) -> Literal | None:
        """`value` as a date literal; a warning naming `field` when it is not a date."""
        if value in (None, ""):
            return None
        lit = temporal_literal(value)
        if lit is None and report:
            self.issues.warning(field, text_of(value) or issue_value(value),
                                "not a date or date-time; left out")
        return lit

    # -- making ---------------------------------------------------------------------------------

    def add(self, s: Any, p: Any, o: Any) -> None:
        self.triples.append((s, p, o))

    def describe(self, triples: Iterable[tuple]) -> None:
        """Add the description of something a node links to."""
        self.triples.extend(triples)

    def link(self, s: Any, p: Any, url: str, cls: URIRef = FOAF.Document) -> URIRef:
        """Link `s` to the node `url` and type that node `cls`."""
        node = URIRef(url)
        self.add(s, p, node)
        self.add(node, TYPE, cls)
        return node


class Field(NamedTuple):
    """A straight field -> property row: the value of the first given of `keys` becomes
    `predicate` as `kind` says (see `_KINDS`). `field` names the value in issues (default: the
    first key); `then` is a package field read when none of `keys` is given."""

    keys: tuple[str, ...]
    predicate: URIRef
    kind: str
    field: str = ""
    then: str = ""


def _line(m: PackageMapping, value: Any, field: str) -> list[Any]:
    text = single_line(text_of(value))
    return [Literal(text)] if text else []


def _title(m: PackageMapping, value: Any, field: str) -> list[Any]:
    text = single_line(text_of(value))
    return [m.source.text(text)] if text else []


def _text(m: PackageMapping, value: Any, field: str) -> list[Any]:
    text = plain_text(text_of(value))
    return [m.source.text(text)] if text else []


def _date(m: PackageMapping, value: Any, field: str) -> list[Any]:
    lit = m.date(value, field)
    return [lit] if lit is not None else []


def _pages(m: PackageMapping, value: Any, field: str) -> list[Any]:
    return [text_of(v) for v in as_list(value) if is_http(text_of(v))]


#: Field.kind -> (package mapping, value, field) -> the objects to add (a "pages" object is a
#: URL, linked as a foaf:Document)
_KINDS: dict[str, Callable[[PackageMapping, Any, str], list[Any]]] = {
    "line": _line,    # one-line text, a plain literal
    "title": _title,  # one-line text in the metadata's language
    "text": _text,    # Markdown/HTML as plain text in the metadata's language
    "date": _date,    # an xsd date/time literal; a warning when it is not a date
    "pages": _pages,  # URLs (a list or one), each a foaf:Document
}


def add_fields(m: PackageMapping, node: URIRef, rows: Iterable[Field],
               read: Callable[[tuple[str, ...]], Any], where: str = "") -> dict[URIRef, Any]:
    """Add `node`'s properties from the `rows`, reading each row's keys with `read`; returns
    predicate -> the last object added. `where` prefixes the fields named in issues."""
    added: dict[URIRef, Any] = {}
    for row in rows:
        value = read(row.keys)
        if row.then:
            value = value or m.pkg.get(row.then)
        field = f"{where}{row.field or row.keys[0]}"
        for obj in _KINDS[row.kind](m, value, field):
            if row.kind == "pages":
                m.link(node, row.predicate, obj)
            else:
                m.add(node, row.predicate, obj)
            added[row.predicate] = obj
    return added
