"""Value mapping tables (mappings/*.csv), loaded into lookups: `load_mappings` and Mappings.

The tables are data: CSV files that start with ``# `` comment lines naming their source of truth
and explaining their columns, followed by a CSV header row and the rows (harvester.dcat.table_files
reads and checks them; line numbers in its errors are physical line numbers of the file).

Tables (all required):

=================  ==============================================================================
themes.csv         key, eu_theme, owms_themes ("|"-separated), label_nl [, note]
licences.csv       key, uri, donl, label [, note]
formats.csv        key, file_type, media_type (may be empty), label, machine_readable,
                   non_proprietary [, note]
organisations.csv  key, uri, name_nl, name_en [, note]
languages.csv      key, uri, donl, label [, note]
frequencies.csv    key, uri, donl, label [, note]
access_rights.csv  key, uri, donl, label [, note]
schemes.csv        table, column, prefix, scheme, label_nl: the concept scheme of each URI column
=================  ==============================================================================

hvd_categories.csv (uri, code, label_nl, label_en, parent: the EU list of high-value dataset
categories) is read by harvester.dcat.hvd_categories; a folder without it uses the shipped one.

Besides these mapping tables, the folder holds the complete value lists (valuelists.csv, the
registry, and valuelists/*.csv; harvester.dcat.value_lists): `Mappings.value_lists`,
`Mappings.in_list`, and their terms in `vocabulary()` (by subject, as asked for) and
`vocabulary_graph()` (whole). A folder without valuelists.csv has
no lists.

Lookups are case-insensitive and ignore surrounding whitespace. For URL-like values the scheme
(http/https), a leading ``www.`` and a trailing ``/`` are ignored as well. Every URI a table maps
*to* is also a lookup key of that table (unless a row already uses it as its key), so e.g.
``licence("http://creativecommons.org/licenses/by/4.0/deed.nl")`` works.

A malformed table raises :class:`harvester.errors.MappingError` whose message names the file, the
line and what was expected.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rdflib
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS

from harvester.config import MAPPINGS_DIR
from harvester.dcat.hvd_categories import HvdCategory, load_hvd_categories
from harvester.dcat.table_files import (
    BOOLS,
    SPECS,
    TABLE_FILES,
    Row,
    check_row,
    fail,
    is_uri,
    read_table,
)
from harvester.dcat.value_lists import ValueList, load_value_lists
from harvester.dcat.vocabulary import Vocabulary
from harvester.errors import MappingError

DEFAULT_PATH = MAPPINGS_DIR

__all__ = [
    "DEFAULT_PATH",
    "TABLE_FILES",
    "Concept",
    "FileFormat",
    "Licence",
    "Mappings",
    "Organisation",
    "Theme",
    "ValueList",
    "load_mappings",
]


@dataclass(frozen=True)
class Theme:
    eu_theme: str
    owms_themes: tuple[str, ...]
    label_nl: str


@dataclass(frozen=True)
class Licence:
    uri: str
    donl: str
    label: str


@dataclass(frozen=True)
class FileFormat:
    file_type: str
    media_type: str | None
    label: str
    machine_readable: bool
    non_proprietary: bool


@dataclass(frozen=True)
class Organisation:
    uri: str
    name_nl: str
    name_en: str


@dataclass(frozen=True)
class Concept:
    """A language, frequency or access right: the DCAT-AP-NL URI and data.overheid.nl's value."""

    uri: str
    donl: str
    label: str


_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_LICENCE_SUFFIX = re.compile(r"/(deed\.[a-z]{2}(-[a-z]{2})?|legalcode(\.[a-z]{2})?)$")


# --------------------------------------------------------------------------------------------
# normalisation of keys and queries
# --------------------------------------------------------------------------------------------


def _norm(value: str) -> str:
    text = " ".join(str(value).split()).casefold()
    if _URL_RE.match(text):
        text = text.split("://", 1)[1]
        text = text.removeprefix("www.").rstrip("/")
    return text


def _norm_licence(value: str) -> str:
    text = _norm(value)
    if "/" in text:
        text = _LICENCE_SUFFIX.sub("", text).rstrip("/")
    return text


def _norm_format(value: str) -> str:
    text = str(value).strip()
    if not _URL_RE.match(text):
        text = text.split(";", 1)[0].strip()  # mimetype parameters
        if text.startswith(".") and len(text) > 1:
            text = text[1:]  # file extension
    return _norm(text)


def _norm_language(value: str) -> str:
    text = _norm(value)
    if not _URL_RE.match(str(value).strip()):
        text = text.replace("_", "-")
    return text


# --------------------------------------------------------------------------------------------
# the mappings
# --------------------------------------------------------------------------------------------


@dataclass
class _UriInfo:
    label: str
    scheme: str | None
    roles: set[str]


class Mappings:
    """All value mapping tables, loaded and checked. Build with :func:`load_mappings`."""

    fingerprint: str

    def __init__(self, path: Path) -> None:
        self.path = path
        self._themes: dict[str, Theme] = {}
        self._licences: dict[str, Licence] = {}
        self._formats: dict[str, FileFormat] = {}
        self._organisations: dict[str, Organisation] = {}
        self._languages: dict[str, Concept] = {}
        self._frequencies: dict[str, Concept] = {}
        self._access_rights: dict[str, Concept] = {}
        self._uris: dict[str, _UriInfo] = {}
        self._uris_norm: dict[str, str] = {}  # normalised URI -> URI as written in the table
        self._schemes: dict[str, str] = {}  # scheme URI -> label
        self._same_as: list[tuple[str, str]] = []  # licence uri <-> donl
        self._org_names: dict[str, tuple[str, str]] = {}
        #: the complete value lists by name (mappings/valuelists.csv; see harvester.dcat.value_lists)
        self.value_lists: dict[str, ValueList] = {}
        self._vocabulary: Vocabulary | None = None
        self._vocabulary_graph: rdflib.Graph | None = None
        self._load()

    # ---------------------------------------------------------------- public lookups

    def theme(self, value: str) -> Theme | None:
        """The themes for a CKAN group name or an OWMS / EU theme URI (or bare EU code)."""
        return self._themes.get(_norm(value)) if value else None

    def licence(self, value: str) -> Licence | None:
        """The licence for a CKAN licence id or a licence URL."""
        return self._licences.get(_norm_licence(value)) if value else None

    def file_format(self, value: str) -> FileFormat | None:
        """The file format for a CKAN format string, extension or mimetype (case-insensitive)."""
        return self._formats.get(_norm_format(value)) if value else None

    def organisation(self, name: str) -> Organisation | None:
        """The organisation for a CKAN organisation name (or its URI)."""
        return self._organisations.get(_norm(name)) if name else None

    def language(self, value: str) -> Concept | None:
        return self._languages.get(_norm_language(value)) if value else None

    def frequency(self, value: str) -> Concept | None:
        return self._frequencies.get(_norm(value)) if value else None

    def access_rights(self, value: str) -> Concept | None:
        return self._access_rights.get(_norm(value)) if value else None

    def label(self, uri: str) -> tuple[str, str] | None:
        """(Dutch preferred label, concept scheme URI) for any URI a table maps to."""
        if not uri:
            return None
        info = self._uris.get(uri.strip())
        if info is None:
            exact = self._uris_norm.get(_norm(uri))
            info = self._uris.get(exact) if exact else None
        if info is None or info.scheme is None:
            return None
        return info.label, info.scheme

    def hvd_category(self, value: str) -> HvdCategory | None:
        """The high-value dataset category with this code or URI (hvd_categories.csv)."""
        return self.hvd_categories.get(value)

    def vocabulary(self) -> Vocabulary:
        """Background knowledge for SHACL and the mapper, by subject: every URI the tables map
        to, typed and labelled, and every term of the value lists with its list (skos:inScheme)
        and classes; each list term described only when asked for (harvester.dcat.vocabulary).
        Made once per Mappings and shared by every caller: do not modify what it returns."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary(self._table_triples, self.value_lists, set(self._uris),
                                          set(self._schemes))
        return self._vocabulary

    def vocabulary_graph(self) -> rdflib.Graph:
        """The whole of `vocabulary()` as an rdflib graph (SimpleMemory store), made once per
        Mappings and shared by every caller: do not modify it. A run reads `vocabulary()`."""
        if self._vocabulary_graph is None:
            self._vocabulary_graph = self.vocabulary().graph()
        return self._vocabulary_graph

    def _table_triples(self) -> Iterator[tuple]:
        """The triples the mapping tables give: their schemes, the URIs they map to, the
        licences' exact matches and the high-value dataset categories."""
        for scheme, label in sorted(self._schemes.items()):
            node = rdflib.URIRef(scheme)
            yield node, RDF.type, SKOS.ConceptScheme
            yield node, SKOS.prefLabel, rdflib.Literal(label, lang="nl")
            yield node, DCTERMS.title, rdflib.Literal(label, lang="nl")
        for uri, info in sorted(self._uris.items()):
            yield from self._uri_triples(rdflib.URIRef(uri), info)
        for a, b in self._same_as:
            yield rdflib.URIRef(a), SKOS.exactMatch, rdflib.URIRef(b)
            yield rdflib.URIRef(b), SKOS.exactMatch, rdflib.URIRef(a)
        yield from self.hvd_categories.triples()

    def _uri_triples(self, node: rdflib.URIRef, info: _UriInfo) -> Iterator[tuple]:
        label_nl = rdflib.Literal(info.label, lang="nl")
        for role in sorted(info.roles):
            for cls in _ROLE_CLASSES[role]:
                yield node, RDF.type, cls
            if role in _CONCEPT_ROLES:
                yield node, RDF.type, SKOS.Concept
                if info.scheme:
                    yield node, SKOS.inScheme, rdflib.URIRef(info.scheme)
                yield node, SKOS.prefLabel, label_nl
            elif role == "media_type":
                yield node, RDFS.label, rdflib.Literal(info.label)
            elif role == "licence":
                yield node, RDFS.label, label_nl
            elif role == "organisation":
                name_nl, name_en = self._org_names[str(node)]
                yield node, FOAF.name, rdflib.Literal(name_nl, lang="nl")
                yield node, FOAF.name, rdflib.Literal(name_en, lang="en")

    def in_list(self, name: str, uri: str) -> bool:
        """Whether `uri` is a term of the value list `name` (e.g. "language", "media-type")."""
        found = self.value_lists.get(name)
        if found is None:
            raise KeyError(f"no value list {name!r}; expected one of "
                           f"{', '.join(sorted(self.value_lists))}")
        return uri in found

    def __repr__(self) -> str:
        return f"Mappings(path={str(self.path)!r}, fingerprint={self.fingerprint[:12]}…)"

    # ---------------------------------------------------------------- loading

    def _load(self) -> None:
        raw: dict[str, bytes] = {}
        tables: dict[str, list[Row]] = {}
        for name, spec in SPECS.items():
            path = self.path / spec.filename
            raw[spec.filename], rows = read_table(path, spec)
            for row in rows:
                check_row(path, spec, row)
            tables[name] = rows
        self.value_lists, list_files = load_value_lists(self.path)
        raw.update(list_files)
        digest = hashlib.sha256()
        for filename in sorted(raw):
            digest.update(filename.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(raw[filename]).digest())
        self.hvd_categories = load_hvd_categories(self.path)  # harvester.dcat.hvd_categories
        digest.update(self.hvd_categories.digest)
        self.fingerprint = digest.hexdigest()

        scheme_rules = self._load_schemes(tables["schemes"])
        self._load_themes(tables["themes"], scheme_rules)
        self._load_licences(tables["licences"], scheme_rules)
        self._load_formats(tables["formats"], scheme_rules)
        self._load_organisations(tables["organisations"], scheme_rules)
        for name, target in (("languages", self._languages),
                             ("frequencies", self._frequencies),
                             ("access_rights", self._access_rights)):
            norm = _norm_language if name == "languages" else _norm
            self._load_concepts(name, tables[name], target, scheme_rules, norm)

    def _file(self, table: str) -> Path:
        return self.path / SPECS[table].filename

    def _load_schemes(self, rows: list[Row]) -> dict[tuple[str, str], list[tuple[str, str]]]:
        path = self._file("schemes")
        rules: dict[tuple[str, str], list[tuple[str, str]]] = {}
        seen: dict[tuple[str, str, str], int] = {}
        for row in rows:
            table, column, prefix = row["table"], row["column"], row["prefix"]
            if table not in SPECS or table == "schemes":
                raise fail(path, row.line, f"unknown table {table!r}; expected one of "
                            f"{', '.join(n for n in SPECS if n != 'schemes')}")
            uri_columns = dict(SPECS[table].uri_columns)
            if column not in uri_columns:
                raise fail(path, row.line, f"{table}.csv has no URI column {column!r}; expected "
                            f"one of {', '.join(uri_columns)}")
            if not is_uri(prefix):
                raise fail(path, row.line, f"column 'prefix' value {prefix!r} is not the start "
                            f"of an absolute http(s) URI")
            key = (table, column, prefix)
            if key in seen:
                raise fail(path, row.line, f"duplicate scheme rule for {table}.{column} prefix "
                            f"{prefix} (first on line {seen[key]})")
            seen[key] = row.line
            rules.setdefault((table, column), []).append((prefix, row["scheme"]))
            self._schemes[row["scheme"]] = row["label_nl"]
        for value in rules.values():
            value.sort(key=lambda item: len(item[0]), reverse=True)
        return rules

    def _scheme_for(self, rules, table: str, column: str, uri: str, line: int) -> str:
        for prefix, scheme in rules.get((table, column), ()):
            if uri.startswith(prefix):
                return scheme
        raise fail(self._file(table), line, f"no concept scheme for {table}.{column} value "
                    f"{uri}; expected a row in {self._file('schemes').name} with table "
                    f"{table!r}, column {column!r} and a prefix of this URI")

    def _note_uri(self, uri: str, label: str, scheme: str, role: str) -> None:
        info = self._uris.get(uri)
        if info is None:
            self._uris[uri] = _UriInfo(label, scheme, {role})
            self._uris_norm.setdefault(_norm(uri), uri)
        else:
            info.roles.add(role)

    def _register_keys(
        self, table: str, rows: list[Row], make: Callable[[Row], object],
        target: dict, norm: Callable[[str], str], key_column: str = "key",
    ) -> None:
        path = self._file(table)
        first_line: dict[str, int] = {}
        for row in rows:
            key = norm(row[key_column])
            if not key:
                raise fail(path, row.line, f"column '{key_column}' is empty; expected a value")
            if key in first_line:
                raise fail(path, row.line, f"duplicate key {row[key_column]!r} (case-insensitive;"
                            f" first defined on line {first_line[key]}); expected each key once")
            first_line[key] = row.line
            target[key] = make(row)

    @staticmethod
    def _alias(target: dict, norm: Callable[[str], str], values: Iterable[str], obj) -> None:
        for value in values:
            if value:
                target.setdefault(norm(value), obj)

    def _load_themes(self, rows: list[Row], rules) -> None:
        path = self._file("themes")

        def make(row: Row) -> Theme:
            owms = tuple(part.strip() for part in row["owms_themes"].split("|"))
            return Theme(eu_theme=row["eu_theme"], owms_themes=owms, label_nl=row["label_nl"])

        self._register_keys("themes", rows, make, self._themes, _norm)
        for row in rows:
            theme = self._themes[_norm(row["key"])]
            for column, uris in (("eu_theme", (theme.eu_theme,)),
                                 ("owms_themes", theme.owms_themes)):
                for uri in uris:
                    own = self._themes.get(_norm(uri))
                    if own is None:
                        raise fail(path, row.line, f"{column} {uri} has no row of its own; "
                                    f"expected a row keyed by this URI (it gives its label)")
                    scheme = self._scheme_for(rules, "themes", column, uri, row.line)
                    self._note_uri(uri, own.label_nl, scheme, column)

    def _load_licences(self, rows: list[Row], rules) -> None:
        path = self._file("licences")
        by_uri: dict[str, Row] = {}
        for row in rows:
            first = by_uri.setdefault(row["uri"], row)
            if (row["donl"], row["label"]) != (first["donl"], first["label"]):
                raise fail(path, row.line, f"uri {row['uri']} has donl/label "
                            f"{row['donl']!r}/{row['label']!r} but line {first.line} gives "
                            f"{first['donl']!r}/{first['label']!r}; expected the same values "
                            f"for the same uri")
        self._register_keys("licences", rows,
                            lambda r: Licence(r["uri"], r["donl"], r["label"]),
                            self._licences, _norm_licence)
        donl_owner: dict[str, str] = {}
        for row in rows:
            lic = self._licences[_norm_licence(row["key"])]
            self._alias(self._licences, _norm_licence, (lic.uri, lic.donl), lic)
            for column in ("uri", "donl"):
                uri = row[column]
                self._note_uri(uri, row["label"],
                               self._scheme_for(rules, "licences", column, uri, row.line),
                               "licence")
            # A donl value is the exact match of the first uri that uses it; later uris mapped
            # to the same donl value (e.g. PDDL -> CC0) are only its closest DONL equivalent.
            owner = donl_owner.setdefault(lic.donl, lic.uri)
            if owner == lic.uri != lic.donl and (lic.uri, lic.donl) not in self._same_as:
                self._same_as.append((lic.uri, lic.donl))

    def _load_formats(self, rows: list[Row], rules) -> None:
        def make(row: Row) -> FileFormat:
            return FileFormat(
                file_type=row["file_type"],
                media_type=row["media_type"] or None,
                label=row["label"],
                machine_readable=BOOLS[row["machine_readable"].casefold()],
                non_proprietary=BOOLS[row["non_proprietary"].casefold()],
            )

        self._register_keys("formats", rows, make, self._formats, _norm_format)
        for row in rows:
            fmt = self._formats[_norm_format(row["key"])]
            self._alias(self._formats, _norm_format, (fmt.file_type, fmt.media_type or ""), fmt)
            self._note_uri(fmt.file_type, fmt.label,
                           self._scheme_for(rules, "formats", "file_type", fmt.file_type, row.line),
                           "file_type")
            if fmt.media_type:
                scheme = self._scheme_for(rules, "formats", "media_type", fmt.media_type,
                                          row.line)
                self._note_uri(fmt.media_type, fmt.media_type.split("/media-types/", 1)[-1], scheme,
                               "media_type")

    def _load_organisations(self, rows: list[Row], rules) -> None:
        path = self._file("organisations")
        self._register_keys("organisations", rows,
                            lambda r: Organisation(r["uri"], r["name_nl"], r["name_en"]),
                            self._organisations, _norm)
        for row in rows:
            org = self._organisations[_norm(row["key"])]
            names = (org.name_nl, org.name_en)
            if self._org_names.setdefault(org.uri, names) != names:
                raise fail(path, row.line, f"uri {org.uri} has other names than on an earlier "
                            f"line; expected the same name_nl and name_en for the same uri")
            self._alias(self._organisations, _norm, (org.uri,), org)
            self._note_uri(org.uri, org.name_nl,
                           self._scheme_for(rules, "organisations", "uri", org.uri, row.line),
                           "organisation")

    def _load_concepts(self, table: str, rows: list[Row], target: dict, rules, norm) -> None:
        path = self._file(table)
        by_uri: dict[str, Row] = {}
        for row in rows:
            first = by_uri.setdefault(row["uri"], row)
            if (row["donl"], row["label"]) != (first["donl"], first["label"]):
                raise fail(path, row.line, f"uri {row['uri']} has donl/label "
                            f"{row['donl']!r}/{row['label']!r} but line {first.line} gives "
                            f"{first['donl']!r}/{first['label']!r}; expected the same values "
                            f"for the same uri")
        self._register_keys(table, rows, lambda r: Concept(r["uri"], r["donl"], r["label"]),
                            target, norm)
        role = _TABLE_ROLE[table]
        for row in rows:
            concept = target[norm(row["key"])]
            self._alias(target, norm, (concept.uri, concept.donl), concept)
            for column in ("uri", "donl"):
                uri = row[column]
                self._note_uri(uri, row["label"],
                               self._scheme_for(rules, table, column, uri, row.line), role)


_TABLE_ROLE = {"languages": "language", "frequencies": "frequency",
               "access_rights": "access_right"}
_CONCEPT_ROLES = {"eu_theme", "owms_themes", "file_type", "language", "frequency",
                  "access_right"}
_ROLE_CLASSES: dict[str, tuple[rdflib.URIRef, ...]] = {
    "eu_theme": (),
    "owms_themes": (),
    "file_type": (DCTERMS.MediaTypeOrExtent,),
    "media_type": (DCTERMS.MediaType,),
    "licence": (DCTERMS.LicenseDocument,),
    "organisation": (FOAF.Agent, FOAF.Organization),
    "language": (DCTERMS.LinguisticSystem,),
    "frequency": (DCTERMS.Frequency,),
    "access_right": (DCTERMS.RightsStatement,),
}


def load_mappings(path: str | Path | None = None) -> Mappings:
    """Load and check the mapping tables in `path` (default: the repository's mappings/)."""
    folder = Path(path) if path is not None else DEFAULT_PATH
    if not folder.is_dir():
        raise MappingError(f"{folder}: mapping folder not found; expected a folder holding "
                           f"{', '.join(TABLE_FILES)}")
    return Mappings(folder)


def lookup(function: Any, value: Any) -> Any:
    """Call a value-table lookup (e.g. `mappings.licence`); None when there is no lookup, no value,
    or the value is not in the table (or the lookup refuses it)."""
    if function is None or not value:
        return None
    try:
        return function(value)
    except (KeyError, ValueError, TypeError):
        return None
