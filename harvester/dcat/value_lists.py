"""The complete value lists (mappings/valuelists.csv and mappings/valuelists/*.csv).

The mapping tables map source values to URIs; the value lists say which URIs a list holds, all of
them, as the list's publisher has it (the EU file-type, language, frequency, ... lists, IANA's
media types, the ADMS publisher types, data.overheid.nl's spatial and theme lists). The registry
valuelists.csv names each list's scheme, term prefix, classes, source and edition, and its file;
each file lists the terms' codes (URI = prefix + code) with optional labels. tools/valuelists.py
writes them from ../shared. `load_value_lists` reads and checks them; `add_to_graph` gives every
validation their membership (harvester.dcat.tables.Mappings.vocabulary_graph).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib.namespace import DCTERMS, RDF, SKOS

from harvester.dcat.table_files import Row, TableSpec, check_row, fail, read_table, uri_safe

__all__ = ["REGISTRY_FILE", "ValueList", "add_to_graph", "load_value_lists"]

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


def add_to_graph(graph: rdflib.Graph, lists: dict[str, ValueList], described: set[str],
                 schemes: set[str]) -> None:
    """Add each list's terms to `graph`: their classes, skos:inScheme and labels (a SKOS
    concept without one is labelled with its code), and each scheme as a skos:ConceptScheme. Terms in `described` and schemes in `schemes` (those the
    mapping tables describe) are left as the tables describe them."""
    add = graph.add
    for found in lists.values():
        scheme = rdflib.URIRef(found.scheme)
        if found.scheme not in schemes:
            add((scheme, RDF.type, SKOS.ConceptScheme))
            title = rdflib.Literal(found.label_nl, lang="nl")
            add((scheme, SKOS.prefLabel, title))
            add((scheme, DCTERMS.title, title))
        classes = [rdflib.URIRef(c) for c in found.classes]
        concept = _CONCEPT in found.classes
        twins = _SAME_TERMS_UNDER.get(found.prefix, ())
        for uri, (label_nl, label_en) in found.terms.items():
            for other in twins:
                twin = rdflib.URIRef(other + uri[len(found.prefix):])
                for cls in classes:
                    add((twin, RDF.type, cls))
                add((twin, SKOS.inScheme, scheme))
            if uri in described:
                continue
            node = rdflib.URIRef(uri)
            for cls in classes:
                add((node, RDF.type, cls))
            add((node, SKOS.inScheme, scheme))
            if not concept:
                continue
            if label_nl:
                add((node, SKOS.prefLabel, rdflib.Literal(label_nl, lang="nl")))
            if label_en:
                add((node, SKOS.prefLabel, rdflib.Literal(label_en, lang="en")))
            if not (label_nl or label_en):  # a concept has a label; the list gives only its code
                add((node, SKOS.prefLabel, rdflib.Literal(uri[len(found.prefix):])))
