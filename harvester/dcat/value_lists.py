"""The complete value lists (mappings/valuelists.csv and mappings/valuelists/*.csv).

The mapping tables map source values to URIs; the value lists say which URIs a list holds, all of
them, as the list's publisher has it (the EU file-type, language, frequency, ... lists, IANA's
media types, the ADMS publisher types, data.overheid.nl's spatial and theme lists). The registry
valuelists.csv names each list's scheme, term prefix, classes, source and edition, and its file;
each file lists the terms' codes (URI = prefix + code) with optional labels. tools/valuelists.py
writes them from ../shared. `load_value_lists` reads and checks them; `scheme_triples` and `term_triples`
describe them for validation (harvester.dcat.vocabulary, harvester.dcat.tables.Mappings).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib.namespace import DCTERMS, RDF, SKOS

from harvester.dcat.table_files import Row, TableSpec, check_row, fail, read_table, uri_safe

__all__ = ["REGISTRY_FILE", "ValueList", "load_value_lists", "scheme_triples", "term_triples"]

#: the registry of the lists, in the mapping folder; the list files are in its valuelists/
REGISTRY_FILE = "valuelists.csv"
_FOLDER = "valuelists"
_REGISTRY = TableSpec(
    "valuelists", ("name", "scheme", "prefix", "classes", "label_nl", "source", "edition", "file"),
    optional=(), uri_columns=(("scheme", "single"), ("prefix", "single"), ("classes", "multi")),
)
_TERMS = TableSpec("terms", ("code",), optional=("label_nl", "label_en", "media_type",
                                                   "deprecated", "note"))
_CONCEPT = str(SKOS.Concept)
#: term prefixes that name the same terms under another URI: IANA's registry answers a media type
#: at http:// and at https:// alike (DCAT-AP's examples use both), so each media type is known
#: under both
_SAME_TERMS_UNDER = {"https://www.iana.org/assignments/media-types/":
                     ("http://www.iana.org/assignments/media-types/",)}


@dataclass(frozen=True)
class ValueList:
    """One list: its scheme, the classes of its terms, where it comes from, and its terms
    (URI -> (Dutch label, English label), either may be empty)."""

    name: str
    scheme: str
    prefix: str
    classes: tuple[str, ...]
    label_nl: str
    source: str
    edition: str
    file: str
    terms: dict[str, tuple[str, str]]

    def __contains__(self, uri: object) -> bool:
        return uri in self.terms

    def __len__(self) -> int:
        return len(self.terms)


def load_value_lists(folder: Path) -> tuple[dict[str, ValueList], dict[str, bytes]]:
    """The lists of the registry in `folder` by name, and the bytes of every file read (for the
    mapping fingerprint). A folder without a registry has no lists."""
    path = folder / REGISTRY_FILE
    if not path.is_file():
        return {}, {}
    raw, rows = read_table(path, _REGISTRY)
    files = {REGISTRY_FILE: raw}
    lists: dict[str, ValueList] = {}
    for row in rows:
        check_row(path, _REGISTRY, row)
        found = _load_list(folder, path, row, files)
        if found.name in lists:
            raise fail(path, row.line, f"list {found.name!r} is named twice; expected each "
                       f"name once")
        lists[found.name] = found
    return lists, files


def _load_list(folder: Path, registry: Path, row: Row, files: dict[str, bytes]) -> ValueList:
    file = row["file"]
    if "/" in file or "\\" in file or not file.endswith(".csv"):
        raise fail(registry, row.line, f"column 'file' value {file!r}; expected the name of a "
                   f"CSV file in {_FOLDER}/")
    path = folder / _FOLDER / file
    raw, rows = read_table(path, _TERMS)
    files[f"{_FOLDER}/{file}"] = raw
    prefix = row["prefix"]
    terms: dict[str, tuple[str, str]] = {}
    first: dict[str, int] = {}
    for term in rows:  # the prefix is a URI (check_row); a code needs only URI-safe characters
        code = term["code"]
        if not uri_safe(code):
            raise fail(path, term.line, f"code {code!r} is empty or holds a character a URI may "
                       f"not hold; expected the part of the URI after {prefix}")
        uri = prefix + code
        if uri in first:
            raise fail(path, term.line, f"code {code!r} is listed twice (first on line "
                       f"{first[uri]}); expected each code once")
        first[uri] = term.line
        terms[uri] = (term["label_nl"], term["label_en"])
    classes = tuple(part.strip() for part in row["classes"].split("|"))
    return ValueList(row["name"], row["scheme"], prefix, classes, row["label_nl"], row["source"],
                     row["edition"], file, terms)


def scheme_triples(found: ValueList) -> Iterator[tuple]:
    """A list's scheme as a skos:ConceptScheme with its Dutch title (for a scheme the mapping
    tables do not describe)."""
    scheme = rdflib.URIRef(found.scheme)
    title = rdflib.Literal(found.label_nl, lang="nl")
    yield scheme, RDF.type, SKOS.ConceptScheme
    yield scheme, SKOS.prefLabel, title
    yield scheme, DCTERMS.title, title


def term_triples(found: ValueList, uri: str) -> Iterator[tuple]:
    """One term of a list: its classes, skos:inScheme and, for a SKOS concept, its labels (one
    without a label is labelled with its code)."""
    node = rdflib.URIRef(uri)
    for cls in found.classes:
        yield node, RDF.type, rdflib.URIRef(cls)
    yield node, SKOS.inScheme, rdflib.URIRef(found.scheme)
    if _CONCEPT not in found.classes:
        return
    label_nl, label_en = found.terms[uri]
    if label_nl:
        yield node, SKOS.prefLabel, rdflib.Literal(label_nl, lang="nl")
    if label_en:
        yield node, SKOS.prefLabel, rdflib.Literal(label_en, lang="en")
    if not (label_nl or label_en):  # a concept has a label; the list gives only its code
        yield node, SKOS.prefLabel, rdflib.Literal(uri[len(found.prefix):])


def twins(found: ValueList) -> Iterator[str]:
    """The list's terms under their other spelling (`_SAME_TERMS_UNDER`), if it has one."""
    for other in _SAME_TERMS_UNDER.get(found.prefix, ()):
        for uri in found.terms:
            yield other + uri[len(found.prefix):]


def twin_triples(found: ValueList, twin: str) -> Iterator[tuple]:
    """A term under its other spelling: its classes and skos:inScheme (the labels stay with the
    list's own spelling)."""
    node = rdflib.URIRef(twin)
    for cls in found.classes:
        yield node, RDF.type, rdflib.URIRef(cls)
    yield node, SKOS.inScheme, rdflib.URIRef(found.scheme)
