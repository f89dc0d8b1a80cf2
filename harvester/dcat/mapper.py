"""CKAN package -> DCAT-AP-NL 3.0 RDF graph (rdflib), and the catalogue around the datasets.

`map_dataset(package, context, mappings, options)` turns one CKAN `package_show` dict into a
`MappedDataset`: its URI and identifier, an rdflib graph with the dcat:Dataset, its
dcat:Distributions and every node they link to (typed, so the graph is self-contained), the
issues met on the way, and the resource id -> distribution URI table.

`catalog_graph(datasets, context, mappings, options)` builds the dcat:Catalog with one
dcat:CatalogRecord per dataset, the source's dcat:DataService (its DataStore API) and the
descriptions of the vocabulary concepts used.

Rules (see MappingOptions for the per-source settings):

* Stable URIs. A dataset's URI is the package's own `identifier` (field or extra) when that is a
  persistent http(s) URI, else `<portal_url>/dataset/<package id>`: the CKAN id, never the name,
  so renaming a package never changes it. Distributions are
  `<portal_url>/dataset/<package id>/resource/<resource id>`. Nodes that only exist inside one
  dataset (contact point, period, checksum, column schema, catalogue record) are hash URIs on
  `<portal_url>/dataset/<package id>`. There are no blank nodes, so graphs compare and serialise
  deterministically.
* Mandatory DCAT-AP-NL 3.0 properties come from the package or from the per-source defaults in
  MappingOptions, never from invention. What is missing or not in a value table becomes a
  MappingIssue naming the dataset, the field and the value: with a configured fallback the
  dataset gets it and the issue is a "warning"; without one the issue is an "error" and the
  dataset is `invalid` (it must not be published).
* Text is cleaned by harvester.dcat.text (Markdown/HTML to plain text, `\\r\\n` to `\\n`). A
  description longer than `description_max_length` characters is kept whole, with a warning.
* Resource URLs are rewritten by the configured `url_rewrites` rules (e.g. DUO's internal host
  to its public DataStore dump URL).

What a dataset graph holds: the dcat:Dataset, its distributions and every node they link to,
typed and described (agents, contact point, documents, standards, periods, locations,
checksums, licences, the value-list concepts with skos:prefLabel/skos:inScheme and their
concept schemes, and, when a distribution links to it, the configured DataService), so each
graph validates on its own. The catalogue record's triples are kept aside in
`MappedDataset.record` for `catalog_graph`. Graphs use rdflib's SimpleMemory store.

Speed: the mapper collects plain triples; URIRefs of vocabulary terms and the descriptions of
concepts/agents/the data service are computed once per (mappings, options) pair and reused; no
namespace is bound per dataset and no SPARQL is used. The triples are handed over as a
`TripleView` (an index by subject); the rdflib Graph is only built when `MappedDataset.graph`
is first read, which the pipeline never does (building it was a third of the mapping time).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlparse

from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.memory import SimpleMemory

from harvester.dcat.tables import lookup as _lookup
from harvester.dcat.terms import shared, term
from harvester.dcat.text import plain_text as _plain_text_uncached
from harvester.dcat.text import single_line as _single_line_uncached
from harvester.errors import ConfigError
from harvester.source.context import SourceContext

# The text helpers are pure; titles, resource names and descriptions repeat across a catalogue.
_plain_text_cached = lru_cache(maxsize=4096)(_plain_text_uncached)
_single_line_cached = lru_cache(maxsize=16384)(_single_line_uncached)


def plain_text(text: Any) -> str:
    return _plain_text_cached(text) if isinstance(text, str) else _plain_text_uncached(text)


def single_line(text: Any) -> str:
    return _single_line_cached(text) if isinstance(text, str) else _single_line_uncached(text)

__all__ = [
    "NAMESPACES",
    "DataServiceOptions",
    "MappedDataset",
    "MappingIssue",
    "MappingOptions",
    "TripleView",
    "UrlRewrite",
    "catalog_graph",
    "map_dataset",
]

# --- vocabulary ---------------------------------------------------------------------------------

class _Vocab:
    """A namespace whose terms are URIRefs built once and then plain attribute reads (rdflib's
    namespace classes build or look up the URIRef on every attribute access)."""

    def __init__(self, base: str) -> None:
        self._base = base

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("_"):
            raise AttributeError(name)
        ref = term(self._base + name)
        setattr(self, name, ref)
        return ref

    def __str__(self) -> str:
        return self._base


ADMS = _Vocab("http://www.w3.org/ns/adms#")
DCAT = _Vocab("http://www.w3.org/ns/dcat#")
DCATAP = _Vocab("http://data.europa.eu/r5r/")
DCT = _Vocab("http://purl.org/dc/terms/")
FOAF = _Vocab("http://xmlns.com/foaf/0.1/")
GSP = _Vocab("http://www.opengis.net/ont/geosparql#")
LOCN = _Vocab("http://www.w3.org/ns/locn#")
OWL = _Vocab("http://www.w3.org/2002/07/owl#")
RDF = _Vocab("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = _Vocab("http://www.w3.org/2000/01/rdf-schema#")
SKOS = _Vocab("http://www.w3.org/2004/02/skos/core#")
SPDX = _Vocab("http://spdx.org/rdf/terms#")
VCARD = _Vocab("http://www.w3.org/2006/vcard/ns#")
XSD = _Vocab("http://www.w3.org/2001/XMLSchema#")

#: The prefixes an export binds (once, on the export graph; never per dataset).
NAMESPACES: dict[str, str] = {
    "adms": str(ADMS), "dcat": str(DCAT), "dcatap": str(DCATAP), "dct": str(DCT),
    "foaf": str(FOAF), "gsp": str(GSP), "locn": str(LOCN), "owl": str(OWL), "rdf": str(RDF),
    "rdfs": str(RDFS), "skos": str(SKOS), "spdx": str(SPDX), "vcard": str(VCARD),
    "xsd": str(XSD),
}

IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
TABLE_SCHEMA_SPEC = URIRef("https://specs.frictionlessdata.io/table-schema/")
#: The application profile every catalogue record conforms to.
DCAT_AP_NL_30 = URIRef("https://docs.geostandaarden.nl/dcat/dcat-ap-nl30/")

_TYPE = RDF.type
_CHECKSUM_ALGORITHMS = {
    "md5": SPDX.checksumAlgorithm_md5, "sha1": SPDX.checksumAlgorithm_sha1,
    "sha-1": SPDX.checksumAlgorithm_sha1, "sha224": SPDX.checksumAlgorithm_sha224,
    "sha256": SPDX.checksumAlgorithm_sha256, "sha-256": SPDX.checksumAlgorithm_sha256,
    "sha384": SPDX.checksumAlgorithm_sha384, "sha512": SPDX.checksumAlgorithm_sha512,
    "sha-512": SPDX.checksumAlgorithm_sha512,
}
_CHECKSUM_BY_LENGTH = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384",
                       128: "sha512"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_MIMETYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_YEAR = re.compile(r"^\d{4}$")
_YEAR_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_URL_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})(?:\.(?:gz|zip|bz2))?$")
_TRUE = {"true", "1", "yes", "ja", "y"}
#: the value table each kind of value is looked up in (for messages)
_TABLES = {"theme": "themes", "licence": "licences", "format": "formats",
           "language": "languages", "frequency": "frequencies", "access right": "access_rights",
           "EU data theme": "themes"}


# --- public data classes ------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingIssue:
    """Something the mapper could not map as-is. `severity` "error" marks the dataset invalid."""

    dataset: str
    field: str
    value: str | None
    message: str
    severity: str  # "error" | "warning"

    def __str__(self) -> str:
        value = "" if self.value is None else f" {self.value!r}"
        return f"{self.severity}: {self.dataset}: {self.field}{value}: {self.message}"


class TripleView:
    """A read-only, rdflib-Graph-like view of a fixed set of triples, indexed by subject.

    What the pipeline reads from a mapped dataset (validation, the target package, the quality
    score) it reads from this view: building it costs a tenth of building an rdflib Graph (whose
    store keeps three indexes per triple). It answers the Graph reads those stages use:
    iteration, `len`, `in` (None is a wildcard), `objects`, `subjects`, `predicate_objects`,
    `value` and `triples`; `graph()` builds the rdflib Graph. Duplicate triples count once.
    """

    __slots__ = ("spo",)

    def __init__(self, triples: Iterable[tuple] = ()) -> None:
        spo: dict[Any, dict[Any, dict[Any, None]]] = {}
        _index_triples(spo, triples, {})
        #: subject -> predicate -> {object: None} (do not modify: a subject's dict may be
        #: shared with other views)
        self.spo = spo

    @classmethod
    def from_index(cls, spo: dict[Any, dict[Any, dict[Any, None]]]) -> TripleView:
        """A view of an index already built (subject -> predicate -> {object: None})."""
        view = cls.__new__(cls)
        view.spo = spo
        return view

    def __iter__(self):
        for s, po in self.spo.items():
            for p, os_ in po.items():
                for o in os_:
                    yield s, p, o

    def __len__(self) -> int:
        return sum(len(os_) for po in self.spo.values() for os_ in po.values())

    def __contains__(self, triple: tuple) -> bool:
        return next(self.triples(triple), None) is not None

    def triples(self, pattern: tuple):
        s, p, o = pattern
        subjects = self.spo.items() if s is None else (
            ((s, self.spo[s]),) if s in self.spo else ())
        for subject, po in subjects:
            pairs = po.items() if p is None else (((p, po[p]),) if p in po else ())
            for predicate, os_ in pairs:
                if o is None:
                    for obj in os_:
                        yield subject, predicate, obj
                elif o in os_:
                    yield subject, predicate, o

    def objects(self, subject: Any = None, predicate: Any = None, unique: bool = False):
        if subject is not None and predicate is not None:
            po = self.spo.get(subject)
            return iter(po.get(predicate, ()) if po is not None else ())
        return (o for _, _, o in self.triples((subject, predicate, None)))

    def subjects(self, predicate: Any = None, object: Any = None, unique: bool = False):
        seen: set = set()
        for s, _, _ in self.triples((None, predicate, object)):
            if s not in seen:
                seen.add(s)
                yield s

    def predicate_objects(self, subject: Any = None, unique: bool = False):
        return ((p, o) for _, p, o in self.triples((subject, None, None)))

    def value(self, subject: Any = None, predicate: Any = None, object: Any = None,
              default: Any = None, any: bool = True) -> Any:
        if object is None:
            return next(self.objects(subject, predicate), default)
        return next(self.subjects(predicate, object), default)

    def graph(self) -> Graph:
        """The triples as an rdflib Graph (SimpleMemory store)."""
        graph = _new_graph()
        store_add = graph.store.add
        for triple in self:
            store_add(triple, graph, False)
        return graph


def _index_triples(spo: dict, triples: Iterable[tuple], borrowed: dict) -> None:
    """Add `triples` to the index `spo`, in order. `borrowed` holds the subjects whose dicts
    are still (partly) a shared description's (see `_own_predicate`): they are copied before
    they are added to."""
    for s, p, o in triples:
        po = spo.get(s)
        if po is None:
            spo[s] = {p: {o: None}}
            continue
        if s in borrowed:
            po = _own_predicate(spo, borrowed, s, p)
        os_ = po.get(p)
        if os_ is None:
            po[p] = {o: None}
        else:
            os_[o] = None


def _own_predicate(spo: dict, borrowed: dict, s: Any, p: Any) -> dict:
    """Subject `s`'s predicate dict, made the index's own as far as adding to predicate `p`
    needs: `borrowed[s]` is None while the subject's dict is a description's, else the set of
    its predicates whose object dicts still are."""
    shared = borrowed[s]
    po = spo[s]
    if shared is None:
        po = spo[s] = dict(po)
        shared = borrowed[s] = set(po)
    if p in shared:
        po[p] = dict(po[p])
        shared.discard(p)
    return po


def _index_description(spo: dict, description: _Description, borrowed: dict) -> None:
    """Add a shared description's triples to the index `spo`, as `_index_triples` would add
    them one by one; a subject new to `spo` gets the description's dicts themselves."""
    for s, po in description.spo.items():
        mine = spo.get(s)
        if mine is None:
            spo[s] = po
            borrowed[s] = None
            continue
        if mine == po:  # e.g. the concept scheme of two concepts: nothing to add
            continue
        if s in borrowed:
            for p in po:
                mine = _own_predicate(spo, borrowed, s, p)
        add_objects(mine, po)


def add_objects(mine: dict, po: dict) -> None:
    """Add the predicate -> objects dicts `po` of one subject to `mine`, another index's dicts of
    that subject (whose object dicts are its own: they are added to, `po`'s are copied)."""
    for p, os_ in po.items():
        have = mine.get(p)
        if have is None:
            mine[p] = dict(os_)
        else:
            have.update(os_)


@dataclass
class MappedDataset:
    """One package mapped to DCAT-AP-NL: its graph plus what the catalogue and publisher need.

    `graph` is built (once) when it is first read: the mapper hands over its triples as `view`,
    and the pipeline's stages read `triple_view()` instead, so a dataset that only passes through
    the pipeline never pays for an rdflib Graph. A MappedDataset made with a Graph works as
    before (its view is built from the graph).
    """

    source_id: str
    name: str
    uri: str
    identifier: str
    graph: Graph
    issues: list[MappingIssue]
    distribution_uris: dict[str, str]  # resource id ("#<position>" without id) -> distribution URI
    #: triples of this dataset's dcat:CatalogRecord (added by catalog_graph, not in `graph`)
    record: tuple = ()
    #: the package's metadata_modified as an xsd literal's lexical form (catalogue dct:modified)
    modified: str | None = None
    #: the mapper's triples (the same as `graph`'s until someone changes the graph)
    view: TripleView | None = field(default=None, repr=False, compare=False)

    @property
    def invalid(self) -> bool:
        """True when an issue has severity "error": the dataset must not be published."""
        return any(i.severity == "error" for i in self.issues)

    @property
    def errors(self) -> list[MappingIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[MappingIssue]:
        return [i for i in self.issues if i.severity != "error"]

    def triple_view(self) -> TripleView:
        """The dataset's triples for reading: the mapper's view while `graph` was never read
        (so it cannot have been changed), else a view of the graph as it is now."""
        graph = self.__dict__.get("_graph")
        if graph is None and self.view is not None:
            return self.view
        return TripleView(self.graph)


def _get_graph(self: MappedDataset) -> Graph:
    graph = self.__dict__.get("_graph")
    if graph is None:
        view = self.__dict__.get("view")
        graph = view.graph() if view is not None else _new_graph()
        self.__dict__["_graph"] = graph
    return graph


def _set_graph(self: MappedDataset, value: Graph | None) -> None:
    self.__dict__["_graph"] = value


# the dataclass's __init__ assigns `graph` through this property (None: build it from `view`)
MappedDataset.graph = property(_get_graph, _set_graph,  # type: ignore[assignment]
                               doc="The dataset's rdflib Graph (built on first read).")


@dataclass(frozen=True)
class UrlRewrite:
    """One `url_rewrites` rule: the part of a URL that `pattern` (a regex, searched) matches is
    replaced by `replacement`, in which `{resource_id}` and `{package_id}` are filled in and
    regex group references (`\\1`, `\\g<name>`) work. The first matching rule wins; a rule
    that needs an id the resource lacks does not apply. Fields are plain strings (so
    `dataclasses.asdict` of the options is JSON-ready); the compiled regex is cached."""

    pattern: str
    replacement: str

    @property
    def regex(self) -> re.Pattern:
        compiled = self.__dict__.get("_regex")
        if compiled is None:
            compiled = re.compile(self.pattern)
            object.__setattr__(self, "_regex", compiled)
        return compiled

    def apply(self, url: str, resource_id: str, package_id: str) -> str | None:
        match = self.regex.search(url)
        if match is None:
            return None
        if ("{resource_id}" in self.replacement and not resource_id) or (
            "{package_id}" in self.replacement and not package_id
        ):
            return None
        expanded = match.expand(self.replacement).replace("{resource_id}", resource_id) \
            .replace("{package_id}", package_id)
        return url[:match.start()] + expanded + url[match.end():]


@dataclass
class DataServiceOptions:
    """`[sources.NAME.mapping.data_service]`: the source's API as a dcat:DataService.

    Keys: `uri` (its URI), `title`, `description`, `endpoint_url` (dcat:endpointURL),
    `endpoint_description` (dcat:endpointDescription: URL of the API's public documentation),
    `licence` (licences table value), `themes` (list of group names or theme URIs, at least one
    must give an EU data theme) are required. Optional: `identifier` (default: `uri`),
    `access_rights` (default: the source's `access_rights`), `publisher` (organisations table
    name or URI; default: `catalog_publisher`), `creator` (default: the publisher), `keywords`
    (list), `language` (language code; default: `default_language`), `landing_page`,
    `documentation` (list of URLs, foaf:page), `conforms_to` (list of standard URIs).
    """

    uri: str
    title: str
    description: str
    endpoint_url: str
    endpoint_description: str
    licence: str
    themes: tuple[str, ...]
    identifier: str | None = None
    access_rights: str | None = None
    publisher: str | None = None
    creator: str | None = None
    keywords: tuple[str, ...] = ()
    language: str | None = None
    landing_page: str | None = None
    documentation: tuple[str, ...] = ()
    conforms_to: tuple[str, ...] = ()

    _REQUIRED = ("uri", "title", "description", "endpoint_url", "endpoint_description",
                 "licence", "themes")
    _URLS = ("uri", "endpoint_url", "endpoint_description", "landing_page")
    _LISTS = ("themes", "keywords", "documentation", "conforms_to")

    @classmethod
    def from_config(cls, table: Any, where: str) -> DataServiceOptions:
        where = f"{where} data_service"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table with keys "
                              f"{', '.join(cls._REQUIRED)} (got {table!r})")
        allowed = set(cls._REQUIRED) | {
            "identifier", "access_rights", "publisher", "creator", "keywords", "language",
            "landing_page", "documentation", "conforms_to"}
        _check_keys(table, allowed, where)
        for key in cls._REQUIRED:
            if key not in table or table[key] in ("", [], None):
                raise ConfigError(f"{where}: key {key!r} is required "
                                  f"({_DATA_SERVICE_HELP[key]})")
        values: dict[str, Any] = {}
        for key in allowed:
            if key not in table:
                continue
            value = table[key]
            if key in cls._LISTS:
                values[key] = _str_list(value, key, where)
                if key in ("documentation", "conforms_to"):
                    for item in values[key]:
                        _check_http(item, f"{key} item", where)
            else:
                values[key] = _str_value(value, key, where)
                if key in cls._URLS:
                    _check_http(values[key], key, where)
        return cls(**values)


_DATA_SERVICE_HELP = {
    "uri": "the service's URI, an http(s) URL",
    "title": "the service's name",
    "description": "a description of the service; DCAT-AP-NL makes it mandatory",
    "endpoint_url": "the API's root URL, e.g. .../api/3/action/datastore_search",
    "endpoint_description": "the URL of the API's public documentation",
    "licence": "a value of the licences table, e.g. a CKAN licence id or licence URI",
    "themes": "a list of group names or theme URIs giving at least one EU data theme",
}


@dataclass
class MappingOptions:
    """Per-source mapping settings: the `[sources.NAME.mapping]` table of the config file.

    Nothing DUO-specific is built in: a source's portal, catalogue, contact point and defaults
    all come from this table. Treat an instance as read-only once it has been used: the mapper
    caches what it derives from it. Keys (all optional unless a rule below needs them):

    Portal and catalogue
      `portal_url`            the CKAN portal's base URL; dataset/distribution URIs and landing
                              pages are built on it (default: the source context's base_url).
      `landing_page`          template of a dataset's landing page; `{portal_url}`, `{name}`,
                              `{id}` are filled in (default "{portal_url}/dataset/{name}").
      `catalog_uri`           the dcat:Catalog's URI (default "<portal_url>/catalog").
      `catalog_title`         the catalogue's title (required for the catalogue export).
      `catalog_description`   the catalogue's description (required for the catalogue export).
      `catalog_publisher`     the catalogue's publisher: a name or URI of the organisations
                              table (required for the catalogue export).
      `catalog_creator`       the catalogue's creator (organisations table; optional,
                              DCAT-AP-NL recommends it).
      `catalog_homepage`      the catalogue's foaf:homepage (default: `portal_url`).
      `catalog_licence`       the catalogue's own licence (licences table; optional).
      `default_language`      language code of the metadata text (literal tags) and the default
                              dct:language of datasets/records (default "nl").

    Contact point (used when a package names none with an e-mail address or URL)
      `contact_name`          vcard:fn of the source's contact point.
      `contact_email`         its e-mail address (becomes a mailto: URI).
      `contact_url`           its contact web page. `contact_email` or `contact_url` is needed.
      `contact_uri`           URI of that vcard:Kind node (default "<catalog_uri>#contact").

    Defaults and fallbacks (values are looked up in the mapping tables). A *default* applies
    silently when the package has no value; a *fallback* applies, with a warning issue, when the
    package's value is missing or not in the table. Without either the dataset gets an error.
      `access_rights`         default access right (e.g. "public" or an EU access-right URI).
      `access_rights_fallback`  fallback for an access right not in the table.
      `frequency`             default dct:accrualPeriodicity (optional property: no default, no
                              property).
      `frequency_fallback`    fallback for a frequency not in the table.
      `language_fallback`     fallback for a language not in the table.
      `licence_fallback`      licence for a package whose licence is missing or not in the table.
      `licence_overrides`     table package name or id -> licence value, for packages whose own
                              licence field is known to be wrong.
      `theme_fallback`        theme (group name or theme URI) for a package with no EU theme.
      `format_fallback`       file type for a resource whose format is missing or not in the table.
      `organisation_fallback` publisher (organisations table) for a package whose organisation is
                              missing or not in the table.
      `creator_is_publisher`  true: a package without author/creator gets its publisher as
                              dct:creator (default false: that is an error).

    Resources
      `url_rewrites`          list of {pattern (regex), replacement} tables; replacement may use
                              {resource_id} and {package_id}. Applied to every resource URL.
      `documentation_types`   resource_type values that mark a resource as documentation: its URL
                              becomes the dataset's foaf:page (default ["documentation"]).
      `documentation_formats` resource formats (CKAN `format`, case-insensitive) that mark a
                              resource as documentation too, e.g. ["PDF"] (default: none).
      `documentation_as_distribution`  whether such a resource is also a distribution
                              (default true).
      `description_max_length`  longer descriptions are kept whole with a warning (default 2000).
      `data_service`          the source's API as a dcat:DataService (see DataServiceOptions);
                              distributions of resources with `datastore_active` true link to it
                              with dcat:accessService.
    """

    portal_url: str | None = None
    landing_page: str = "{portal_url}/dataset/{name}"
    catalog_uri: str | None = None
    catalog_title: str | None = None
    catalog_description: str | None = None
    catalog_publisher: str | None = None
    catalog_creator: str | None = None
    catalog_homepage: str | None = None
    catalog_licence: str | None = None
    default_language: str = "nl"
    contact_name: str | None = None
    contact_email: str | None = None
    contact_url: str | None = None
    contact_uri: str | None = None
    access_rights: str | None = None
    access_rights_fallback: str | None = None
    frequency: str | None = None
    frequency_fallback: str | None = None
    language_fallback: str | None = None
    licence_fallback: str | None = None
    licence_overrides: dict[str, str] = field(default_factory=dict)
    theme_fallback: str | None = None
    format_fallback: str | None = None
    organisation_fallback: str | None = None
    creator_is_publisher: bool = False
    url_rewrites: tuple[UrlRewrite, ...] = ()
    documentation_types: tuple[str, ...] = ("documentation",)
    documentation_formats: tuple[str, ...] = ()
    documentation_as_distribution: bool = True
    description_max_length: int = 2000
    data_service: DataServiceOptions | None = None

    _STRINGS = (
        "portal_url", "landing_page", "catalog_uri", "catalog_title", "catalog_description",
        "catalog_publisher", "catalog_creator", "catalog_homepage", "catalog_licence",
        "default_language", "contact_name", "contact_email", "contact_url", "contact_uri",
        "access_rights", "access_rights_fallback", "frequency", "frequency_fallback",
        "language_fallback", "licence_fallback", "theme_fallback", "format_fallback",
        "organisation_fallback",
    )
    _URLS = ("portal_url", "catalog_uri", "catalog_homepage", "contact_url", "contact_uri")

    # The mapper's caches for these options live in the instance attribute `_mapper_cache`,
    # which is not a dataclass field: asdict(), ==, repr() and pickling leave it out.

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_mapper_cache", None)
        return state

    @classmethod
    def known_keys(cls) -> list[str]:
        """Every key the `[sources.NAME.mapping]` table accepts."""
        return sorted(set(cls._STRINGS) | {
            "licence_overrides", "creator_is_publisher", "url_rewrites", "documentation_types",
            "documentation_formats", "documentation_as_distribution", "description_max_length",
            "data_service"})

    @classmethod
    def from_config(cls, table: Mapping[str, Any] | None, where: str) -> MappingOptions:
        """Check a `[sources.NAME.mapping]` table and build the options.

        Raises ConfigError naming `where`, the key and what is expected, for an unknown key or a
        value of the wrong kind.
        """
        table = dict(table or {})
        _check_keys(table, set(cls.known_keys()), where)
        values: dict[str, Any] = {}
        for key in cls._STRINGS:
            if key in table:
                values[key] = _str_value(table[key], key, where)
                if key in cls._URLS:
                    values[key] = _check_http(values[key], key, where)
        if "portal_url" in values:
            values["portal_url"] = values["portal_url"].rstrip("/")
        if "contact_email" in values:
            email = values["contact_email"].removeprefix("mailto:")
            if not _EMAIL.match(email):
                raise ConfigError(f"{where}: key 'contact_email' must be an e-mail address, "
                                  f"got {table['contact_email']!r}")
            values["contact_email"] = email
        if "default_language" in values and not _LANG_TAG.match(values["default_language"]):
            raise ConfigError(f"{where}: key 'default_language' must be a language code such as "
                              f"'nl' or 'en', got {values['default_language']!r}")
        if "landing_page" in values:
            _check_template(values["landing_page"], "landing_page", where,
                            ("portal_url", "name", "id"))
        for key in ("creator_is_publisher", "documentation_as_distribution"):
            if key in table:
                if not isinstance(table[key], bool):
                    raise ConfigError(f"{where}: key {key!r} must be true or false, "
                                      f"got {table[key]!r}")
                values[key] = table[key]
        if "description_max_length" in table:
            value = table["description_max_length"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{where}: key 'description_max_length' must be a positive "
                                  f"integer, got {value!r}")
            values["description_max_length"] = value
        for key in ("documentation_types", "documentation_formats"):
            if key in table:
                values[key] = tuple(v.lower() for v in _str_list(table[key], key, where))
        if "licence_overrides" in table:
            overrides = table["licence_overrides"]
            if not isinstance(overrides, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in overrides.items()
            ):
                raise ConfigError(f"{where}: key 'licence_overrides' must be a table of package "
                                  f"name or id = licence value, got {overrides!r}")
            values["licence_overrides"] = dict(overrides)
        if "url_rewrites" in table:
            values["url_rewrites"] = _url_rewrites(table["url_rewrites"], where)
        if "data_service" in table:
            values["data_service"] = DataServiceOptions.from_config(table["data_service"], where)
        return cls(**values)


# --- config helpers -----------------------------------------------------------------------------


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; expected one of: "
                              f"{', '.join(sorted(allowed))}")


def _str_value(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: key {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _str_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise ConfigError(f"{where}: key {key!r} must be a list of non-empty strings, "
                          f"got {value!r}")
    return tuple(v.strip() for v in value)


def _check_http(value: str, key: str, where: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value:
        raise ConfigError(f"{where}: key {key!r} must be an http(s) URL, got {value!r}")
    return value


def _check_template(value: str, key: str, where: str, names: tuple[str, ...]) -> None:
    try:
        value.format(**{n: "x" for n in names})
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"{where}: key {key!r} may only use the placeholders "
                          f"{', '.join('{' + n + '}' for n in names)}; got {value!r} ({exc})"
                          ) from None


def _check_group_refs(pattern: re.Pattern, replacement: str) -> None:
    for ref in re.findall(r"\\(\d+)|\\g<([^>]*)>", replacement):
        number, name = ref
        key = number or name
        if key.isdigit():
            if int(key) > pattern.groups:
                raise re.error(f"no group {key}")
        elif key not in pattern.groupindex:
            raise re.error(f"no group named {key!r}")


def _url_rewrites(value: Any, where: str) -> tuple[UrlRewrite, ...]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: key 'url_rewrites' must be a list of tables "
                          f"{{pattern = \"regex\", replacement = \"url\"}}, got {value!r}")
    rules = []
    for i, rule in enumerate(value):
        here = f"{where}: url_rewrites[{i}]"
        if not isinstance(rule, dict):
            raise ConfigError(f"{here} must be a table {{pattern, replacement}}, got {rule!r}")
        _check_keys(rule, {"pattern", "replacement"}, here)
        for key in ("pattern", "replacement"):
            if not isinstance(rule.get(key), str) or not rule[key]:
                raise ConfigError(f"{here}: key {key!r} is required and must be a non-empty "
                                  f"string, got {rule.get(key)!r}")
        try:
            pattern = re.compile(rule["pattern"])
        except re.error as exc:
            raise ConfigError(f"{here}: key 'pattern' is not a valid regular expression "
                              f"({exc}): {rule['pattern']!r}") from None
        bad = set(re.findall(r"\{([^{}]*)\}", rule["replacement"])) - {"resource_id",
                                                                        "package_id"}
        if bad:
            raise ConfigError(f"{here}: key 'replacement' may only use the placeholders "
                              f"{{resource_id}} and {{package_id}}, got {sorted(bad)}")
        try:  # group references must exist in the pattern
            _check_group_refs(pattern, rule["replacement"])
        except (re.error, IndexError) as exc:
            raise ConfigError(f"{here}: key 'replacement' refers to a group the pattern does "
                              f"not have ({exc}): {rule['replacement']!r}") from None
        rules.append(UrlRewrite(rule["pattern"], rule["replacement"]))
    return tuple(rules)


# --- small value helpers ------------------------------------------------------------------------


#: what counts as no value (a module constant: a tuple written out with [] and {} in it is
#: built anew, list and dict included, each time it is evaluated)
_EMPTY = (None, "", [], {})


def _s(value: Any) -> str:
    """A trimmed string, "" for None/empty/non-scalar values."""
    if type(value) is str:
        return value.strip()
    if value is None or isinstance(value, (dict, list, tuple, bool)):
        return ""
    return str(value).strip()


def _extras(package: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    extras = package.get("extras")
    if isinstance(extras, dict):
        return dict(extras)
    if isinstance(extras, list):
        for item in extras:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                out[item["key"]] = item.get("value")
    return out


def _get(package: Mapping[str, Any], extras: Mapping[str, Any], *keys: str) -> Any:
    """The first non-empty value among package[key] and extras[key] for `keys`."""
    for key in keys:
        value = package.get(key)
        if value not in _EMPTY:
            return value
        value = extras.get(key)
        if value not in _EMPTY:
            return value
    return None


def _as_list(value: Any, *, split_commas: bool = False) -> list[Any]:
    """A list from a list, a JSON list in a string, or a single value (optionally split at ,)."""
    if value in _EMPTY:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return [v for v in parsed if v not in (None, "")]
            text = text[1:-1]
            split_commas = True
        if text.startswith("{") and text.endswith("}"):
            try:
                return [json.loads(text)]
            except ValueError:
                pass
        if split_commas and "," in text:
            return [part.strip().strip('"') for part in text.split(",") if part.strip()]
        return [text] if text else []
    return [value]


_HTTP_URL = re.compile(r"^https?://[^\s/?#@]+(?:[/?#][^\s]*)?$")


def _is_http(value: str) -> bool:
    """An absolute http(s) URL with a host and no whitespace."""
    return bool(value) and _HTTP_URL.match(value) is not None


def _is_persistent_uri(value: str) -> bool:
    """An http(s) URI usable as a dataset's identity (a host with a dot, a path or fragment)."""
    if not _is_http(value):
        return False
    parsed = urlparse(value)
    return "." in parsed.netloc and (parsed.path not in ("", "/") or bool(parsed.fragment))


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _s(value).lower() in _TRUE


def _temporal(value: Any) -> Literal | None:
    """A CKAN date/time string as an xsd:dateTime/date/gYearMonth/gYear literal (None if not)."""
    text = _s(value)
    return _temporal_literal(text) if text else None


@lru_cache(maxsize=256)  # a package's dates recur in its resources and catalogue record
def _temporal_literal(text: str) -> Literal | None:
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
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return _datetime_literal(parsed)


# --- literals whose lexical form, datatype and value are known ----------------------------------
#
# Literal() works a literal's lexical form, datatype and value out of what it is given (some
# 1.5-3 microseconds: about a tenth of the mapping time, for the dates and texts of a dataset).
# Where the mapper already knows all three, `_new_literal` builds the same object directly: it
# fills the slots of rdflib's Literal (_language, _datatype, _value, _ill_typed: private to
# rdflib 7), so it is used only when `_literal_builder` finds at import that what it builds is
# indistinguishable from what Literal() builds; else the helpers below call Literal().


def _literal_builder() -> Any:
    """A function (lexical, language, datatype, value, ill_typed) -> Literal that builds what
    Literal() builds for a (language-tagged) string, an xsd:dateTime, an xsd:nonNegativeInteger
    and an xsd:hexBinary (None if this rdflib differs)."""
    def build(lexical: str, language: str | None, datatype: URIRef | None, value: Any,
              ill_typed: bool | None = None) -> Literal:
        lit = str.__new__(Literal, lexical)
        lit._language = language
        lit._datatype = datatype
        lit._value = value
        lit._ill_typed = ill_typed
        return lit

    stamp = datetime.fromisoformat("2024-02-29T13:14:15.5+01:00")
    samples = [(("tekst", "nl", None, "tekst"), Literal("tekst", lang="nl")),
               (("tekst", None, None, "tekst"), Literal("tekst")),
               ((stamp.isoformat(), None, XSD.dateTime, stamp), Literal(stamp)),
               ((stamp.replace(tzinfo=None).isoformat(), None, XSD.dateTime,
                 stamp.replace(tzinfo=None)), Literal(stamp.replace(tzinfo=None))),
               (("42", None, XSD.nonNegativeInteger, 42, False),
                Literal("42", datatype=XSD.nonNegativeInteger)),
               (("0", None, XSD.nonNegativeInteger, 0, False), Literal("0", datatype=XSD.nonNegativeInteger)),
               (("0a1b", None, XSD.hexBinary, bytes.fromhex("0a1b"), False),
                Literal("0a1b", datatype=XSD.hexBinary))]
    slots = [name for cls in Literal.__mro__ for name in getattr(cls, "__slots__", ())]
    try:
        for args, made in samples:
            built = build(*args)
            if not (type(built) is type(made) and built == made and made == built
                    and hash(built) == hash(made) and str(built) == str(made)
                    and built.n3() == made.n3() and repr(built) == repr(made)
                    and built.__reduce__() == made.__reduce__()
                    and all(getattr(built, n) == getattr(made, n) for n in slots)
                    and type(built.value) is type(made.value)):
                return None
    except Exception:  # noqa: BLE001 - any difference means: use Literal()
        return None
    return build


_new_literal = _literal_builder()
#: language tag given -> the tag Literal() stores (None for ""), for each tag Literal() accepted
_LANGUAGES: dict[str | None, str | None] = {None: None}


def _text_literal(text: str, lang: str | None) -> Literal:
    """Literal(text, lang=lang)."""
    language = _LANGUAGES.get(lang, _LANGUAGES)
    if _new_literal is None or language is _LANGUAGES or type(text) is not str:
        made = Literal(text, lang=lang)  # raises ValueError on a malformed tag
        _LANGUAGES[lang] = made.language
        return made
    return _new_literal(text, language, None, text)


def _datetime_literal(value: datetime) -> Literal:
    """Literal(value): an xsd:dateTime literal (lexical form value.isoformat())."""
    if _new_literal is None or type(value) is not datetime:
        return Literal(value)
    return _new_literal(value.isoformat(), None, XSD.dateTime, value)


def _count_literal(value: int) -> Literal:
    """Literal(str(value), datatype=XSD.nonNegativeInteger)."""
    if _new_literal is None or type(value) is not int or value < 0:
        return Literal(str(value), datatype=XSD.nonNegativeInteger)
    return _new_literal(str(value), None, XSD.nonNegativeInteger, value, False)


def _hex_literal(text: str) -> Literal:
    """Literal(text, datatype=XSD.hexBinary) for a string of hexadecimal digits."""
    if _new_literal is None or type(text) is not str or len(text) % 2 or not _HEX.fullmatch(text):
        return Literal(text, datatype=XSD.hexBinary)
    return _new_literal(text, None, XSD.hexBinary, bytes.fromhex(text), False)


def _non_negative_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value >= 0 else None
    text = _s(value)
    return int(text) if text.isdigit() else None


@lru_cache(maxsize=1024)  # a package's id is quoted for each of its resources
def _uri_part(value: str) -> str:
    return quote(value, safe="-._~")


# --- the mapper ---------------------------------------------------------------------------------


class _Issues:
    __slots__ = ("dataset", "items")

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self.items: list[MappingIssue] = []

    def error(self, field_: str, value: Any, message: str) -> None:
        self.items.append(MappingIssue(self.dataset, field_, _issue_value(value), message,
                                       "error"))

    def warning(self, field_: str, value: Any, message: str) -> None:
        self.items.append(MappingIssue(self.dataset, field_, _issue_value(value), message,
                                       "warning"))


def _issue_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


class _Description(tuple):
    """The cached triples describing one thing (a concept, an agent, a licence, the data
    service), shared by every graph that links to it; `spo` holds them by subject, as a
    TripleView indexes them (do not modify)."""

    def __new__(cls, triples: Iterable[tuple]) -> _Description:
        self = super().__new__(cls, triples)
        self.spo = TripleView(self).spo
        return self


class _Triples(list):
    """The triples of one graph being built. `describe(triples)` adds a description only once,
    however many nodes link to the thing described; a cached `_Description` is not copied but
    indexed by reference when the view is made (`view()`)."""

    __slots__ = ("_seen", "_shared")

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[int, tuple] = {}
        #: (number of own triples added before it, description), in the order described
        self._shared: list[tuple[int, _Description]] = []

    def describe(self, triples: tuple) -> None:
        key = id(triples)
        if key not in self._seen:
            self._seen[key] = triples  # keeps the tuple alive, so its id is not reused
            if type(triples) is _Description:
                self._shared.append((len(self), triples))
            else:
                self.extend(triples)

    def view(self) -> TripleView:
        """Every triple added, own and described, as a TripleView: the same index as
        `TripleView` of all of them in the order they were added, sharing the descriptions'
        dicts for the subjects this graph adds nothing to."""
        spo: dict[Any, dict[Any, dict[Any, None]]] = {}
        borrowed: dict = {}
        done = 0
        for position, description in self._shared:
            if position > done:
                _index_triples(spo, self[done:position], borrowed)
                done = position
            _index_description(spo, description, borrowed)
        _index_triples(spo, self[done:] if done else self, borrowed)
        return TripleView.from_index(spo)


class _Mapper:
    """Mapping state shared by every package of one source: resolved defaults and cached
    descriptions of the concepts, agents and the data service."""

    def __init__(self, mappings: Any, options: MappingOptions) -> None:
        self.m = mappings
        self.o = options
        self.lang = options.default_language
        self._concepts: dict[tuple, tuple] = {}
        self._literals: dict[str, Literal] = {}
        self._agents: dict[str, tuple[URIRef, tuple] | None] = {}
        self._service: tuple | None = None
        self._vocabulary: Graph | None = None
        self.service_uri = URIRef(options.data_service.uri) if options.data_service else None
        self.doc_types = frozenset(options.documentation_types)
        self.doc_formats = frozenset(options.documentation_formats)

    # -- caches ------------------------------------------------------------------------------

    def text(self, value: str) -> Literal:
        lit = self._literals.get(value)
        if lit is None:
            lit = _text_literal(value, self.lang)
            if len(self._literals) < 50000:
                self._literals[value] = lit
        return lit

    @property
    def vocabulary(self) -> Graph:
        """The mapping tables' vocabulary graph (types and labels of every URI they map to)."""
        if self._vocabulary is None:
            try:
                self._vocabulary = self.m.vocabulary_graph()
            except AttributeError:
                self._vocabulary = Graph()
        return self._vocabulary

    def concept(self, uri: str, *classes: URIRef, label: str | None = None,
                skos_concept: bool = True) -> tuple:
        """Triples describing a value-list term, as the mapping tables describe it (the same
        triples the validator's background graph holds), plus `classes`. With `skos_concept`
        it is also made a skos:Concept with a Dutch skos:prefLabel and its skos:inScheme."""
        key = (uri, classes, skos_concept)
        cached = self._concepts.get(key)
        if cached is not None:
            return cached
        ref = term(uri)
        triples = [(ref, shared(p), shared(o)) for p, o in self.vocabulary.predicate_objects(ref)
                   if p != SKOS.exactMatch]
        triples.extend((ref, _TYPE, cls) for cls in classes)
        if skos_concept:
            found = _label(self.m, uri)
            name, scheme = found if found is not None else (label, None)
            has = {p for _, p, _ in triples}
            if name:
                triples.append((ref, _TYPE, SKOS.Concept))
                if SKOS.prefLabel not in has:
                    triples.append((ref, SKOS.prefLabel, Literal(name, lang="nl")))
                if scheme and SKOS.inScheme not in has:
                    triples.append((ref, SKOS.inScheme, term(scheme)))
        for scheme in [o for _, p, o in triples if p == SKOS.inScheme]:
            triples.extend(self.scheme(str(scheme)))
        result = _Description(dict.fromkeys(triples))
        self._concepts[key] = result
        return result

    def scheme(self, scheme: str) -> tuple:
        """A concept scheme: skos:ConceptScheme with the dct:title DCAT-AP requires (the label
        the mapping tables give it, else its URI)."""
        key = ("scheme", scheme)
        cached = self._concepts.get(key)
        if cached is None:
            ref = term(scheme)
            title = self.scheme_title(scheme)
            cached = ((ref, _TYPE, SKOS.ConceptScheme),
                      (ref, DCT.title, Literal(title, lang="nl") if title else Literal(scheme)))
            self._concepts[key] = cached
        return cached

    def scheme_title(self, scheme: str) -> str | None:
        """The label the mapping tables give a concept scheme."""
        value = self.vocabulary.value(URIRef(scheme), SKOS.prefLabel)
        return str(value) if value is not None else None

    def agent(self, value: str | None) -> tuple[URIRef, tuple] | None:
        """(URI, triples) of an organisation from the organisations table, None if unknown.
        The organisation is a foaf:Agent with foaf:name and, as a term of the organisations
        value list, a skos:Concept with skos:prefLabel and skos:inScheme."""
        if not value:
            return None
        if value in self._agents:
            return self._agents[value]
        org = _lookup(self.m.organisation, value)
        result = None
        if org is not None and getattr(org, "uri", None):
            ref = term(org.uri)
            name_nl = getattr(org, "name_nl", None) or getattr(org, "name_en", None)
            triples = list(self.concept(org.uri, FOAF.Agent, label=name_nl))
            names = {p for _, p, _ in triples}
            if FOAF.name not in names:
                if name_nl:
                    triples.append((ref, FOAF.name, Literal(name_nl, lang="nl")))
                name_en = getattr(org, "name_en", None)
                if name_en and name_en != name_nl:
                    triples.append((ref, FOAF.name, Literal(name_en, lang="en")))
            result = (ref, _Description(triples))
        self._agents[value] = result
        return result

    # -- portal ------------------------------------------------------------------------------

    def portal(self, context: SourceContext | None) -> str:
        portal = self.o.portal_url or (context.base_url if context is not None else "")
        portal = (portal or "").rstrip("/")
        if not portal:
            raise ConfigError("mapping option 'portal_url' is not set and the source context has "
                              "no base_url; set portal_url in [sources.NAME.mapping]")
        return portal

    def catalog_uri(self, portal: str) -> str:
        return self.o.catalog_uri or f"{portal}/catalog"

    def default_contact(self, portal: str) -> tuple[URIRef, tuple] | None:
        o = self.o
        if not (o.contact_email or o.contact_url):
            return None
        key = ("contact", portal)
        cached = self._concepts.get(key)
        if cached is None:
            ref = URIRef(o.contact_uri or f"{self.catalog_uri(portal)}#contact")
            cached = (ref, _Description(_contact_triples(ref, o.contact_name, o.contact_email,
                                                         o.contact_url, self.lang)))
            self._concepts[key] = cached
        return cached

    # -- value tables ------------------------------------------------------------------------

    def resolve(self, lookup, values: list[Any], field_: str, issues: _Issues, *,
                fallback: str | None, fallback_key: str, default: str | None = None,
                default_key: str | None = None, required: bool = True, many: bool = False,
                what: str) -> list[Any]:
        """Look `values` up in a value table (`lookup`); report what is missing or unmapped.

        Every value not in the table is reported on its own, naming the field and the value.
        When some value maps, the unmapped ones are warnings (left out). When none maps: the
        fallback is used (the issues are warnings) or, without one, they are errors. When no
        value is given: the default applies silently; else the fallback (warning); else an
        error, unless the property is optional (`required` False).
        """
        found: list[Any] = []
        unmapped: list[str] = []
        for value in values:
            text = _s(value)
            if not text:
                continue
            hit = _lookup(lookup, text)
            if hit is None:
                if text not in unmapped:
                    unmapped.append(text)
            elif hit not in found:
                found.append(hit)
            if found and not many:
                break
        table = _TABLES.get(what, f"{what}s")
        if found:
            for text in unmapped:
                issues.warning(field_, text, f"{what} {text!r} is not in the {table} table; "
                                             "left out")
            return found
        if not unmapped:
            if default:
                hit = _lookup(lookup, default)
                if hit is not None:
                    return [hit]
                issues.error(field_, default, f"the configured {default_key} {default!r} is not "
                                              f"in the {table} table")
                return []
            if not required:
                return []
        hit = _lookup(lookup, fallback) if fallback else None
        if fallback and hit is None:
            issues.error(field_, fallback, f"the configured {fallback_key} {fallback!r} is not "
                                           f"in the {table} table")
        if not unmapped:
            if hit is not None:
                issues.warning(field_, None, f"no {what} given; using {fallback_key} "
                                             f"{fallback!r}")
                return [hit]
            if not fallback:
                hint = f"{default_key} or {fallback_key}" if default_key else fallback_key
                issues.error(field_, None, f"no {what} given (set {hint} in "
                                           "[sources.NAME.mapping])")
            return []
        for text in unmapped:
            if hit is not None:
                issues.warning(field_, text, f"{what} {text!r} is not in the {table} table; "
                                             f"using {fallback_key} {fallback!r}")
            elif not fallback:
                issues.error(field_, text, f"{what} {text!r} is not in the {table} table and no "
                                           f"{fallback_key} is configured")
        return [hit] if hit is not None else []

    # -- the data service --------------------------------------------------------------------

    def service(self, portal: str) -> tuple:
        """The triples describing the configured DataService (cached). Raises ConfigError when
        a configured value is not in the value tables."""
        if self._service is not None:
            return self._service
        ds = self.o.data_service
        if ds is None:
            self._service = ()
            return self._service
        where = "[sources.NAME.mapping.data_service]"
        ref = self.service_uri  # the same term as the datasets' dcat:accessService
        t: list[tuple] = [(ref, _TYPE, DCAT.DataService)]
        t.append((ref, DCT.title, self.text(single_line(ds.title))))
        t.append((ref, DCT.description, self.text(plain_text(ds.description))))
        t.append((ref, DCT.identifier, Literal(ds.identifier or ds.uri)))
        for key, prop in (("endpoint_url", DCAT.endpointURL),
                          ("endpoint_description", DCAT.endpointDescription)):
            url = URIRef(getattr(ds, key))
            t.append((ref, prop, url))
            t.append((url, _TYPE, RDFS.Resource))
        licence = _lookup(self.m.licence, ds.licence)
        if licence is None:
            raise ConfigError(f"{where}: key 'licence' {ds.licence!r} is not in the licences table")
        t.append((ref, DCT.license, term(licence.uri)))
        t.extend(self.licence_triples(licence))
        rights_value = ds.access_rights or self.o.access_rights
        if not rights_value:
            raise ConfigError(f"{where}: key 'access_rights' is not set (nor the source's "
                              "access_rights); DCAT-AP-NL makes it mandatory")
        rights = _lookup(self.m.access_rights, rights_value)
        if rights is None:
            raise ConfigError(f"{where}: access_rights {rights_value!r} is not in the "
                              "access-rights table")
        t.append((ref, DCT.accessRights, term(rights.uri)))
        t.extend(self.concept(rights.uri, DCT.RightsStatement, label=rights.label))
        eu = False
        for value in ds.themes:
            theme = _lookup(self.m.theme, value)
            if theme is None:
                raise ConfigError(f"{where}: theme {value!r} is not in the themes table")
            for uri in _theme_uris(theme):
                t.append((ref, DCAT.theme, term(uri)))
                t.extend(self.concept(uri))
            eu = eu or bool(theme.eu_theme)
        if not eu:
            raise ConfigError(f"{where}: key 'themes' gives no EU data theme")
        publisher_value = ds.publisher or self.o.catalog_publisher
        publisher = self.agent(publisher_value)
        if publisher is None:
            raise ConfigError(f"{where}: publisher {publisher_value!r} (data_service.publisher or "
                              "catalog_publisher) is not in the organisations table")
        t.append((ref, DCT.publisher, publisher[0]))
        t.extend(publisher[1])
        creator = self.agent(ds.creator) if ds.creator else publisher
        if creator is None:
            raise ConfigError(f"{where}: key 'creator' {ds.creator!r} is not in the "
                              "organisations table")
        t.append((ref, DCT.creator, creator[0]))
        t.extend(creator[1])
        contact = self.default_contact(portal)
        if contact is None:
            raise ConfigError("[sources.NAME.mapping]: the data service needs a contact point: "
                              "set contact_email or contact_url")
        t.append((ref, DCAT.contactPoint, contact[0]))
        t.extend(contact[1])
        for keyword in ds.keywords:
            t.append((ref, DCAT.keyword, self.text(single_line(keyword))))
        language = _lookup(self.m.language, ds.language or self.o.default_language)
        if language is not None:
            t.append((ref, DCT.language, term(language.uri)))
            t.extend(self.concept(language.uri, DCT.LinguisticSystem, label=language.label))
        if ds.landing_page:
            page = URIRef(ds.landing_page)
            t.append((ref, DCAT.landingPage, page))
            t.append((page, _TYPE, FOAF.Document))
        for url in ds.documentation:
            page = URIRef(url)
            t.append((ref, FOAF.page, page))
            t.append((page, _TYPE, FOAF.Document))
        for url in ds.conforms_to:
            std = URIRef(url)
            t.append((ref, DCT.conformsTo, std))
            t.append((std, _TYPE, DCT.Standard))
        self._service = _Description(t)
        return self._service

    def licence_triples(self, licence: Any) -> tuple:
        """A licence: dct:LicenseDocument with its label (as the licences table has it)."""
        key = ("licence", licence.uri)
        cached = self._concepts.get(key)
        if cached is None:
            ref = term(licence.uri)
            t = list(self.concept(licence.uri, DCT.LicenseDocument, skos_concept=False))
            label = getattr(licence, "label", None)
            if label and not any(p == RDFS.label for _, p, _ in t):
                t.append((ref, RDFS.label, Literal(label, lang="nl")))
            cached = _Description(t)
            self._concepts[key] = cached
        return cached

    # -- one package -------------------------------------------------------------------------

    def map(self, package: Any, context: SourceContext | None) -> MappedDataset:
        portal = self.portal(context)
        not_a_package = not isinstance(package, dict)
        pkg = {} if not_a_package else package
        extras = _extras(pkg)
        pkg_id = _s(pkg.get("id"))
        name = _s(pkg.get("name"))
        label = name or pkg_id or _s(pkg.get("title")) or "(package without name or id)"
        issues = _Issues(label)
        if not_a_package:
            issues.error("package", (_issue_value(package) or "")[:200] or None,
                         "a CKAN package must be a JSON object")
        lang = self.lang
        text = self.text
        t = _Triples()
        add = t.append
        o = self.o

        # -- identity -----------------------------------------------------------------------
        if pkg_id:
            local = f"{portal}/dataset/{_uri_part(pkg_id)}"
        else:
            issues.error("id", None, "the package has no CKAN id, so it has no stable URI "
                                     "(a URI built from the name would change on a rename)")
            fallback_key = name or hashlib.sha1(
                json.dumps(pkg, sort_keys=True, default=str).encode()).hexdigest()[:16]
            local = f"{portal}/dataset/{_uri_part(fallback_key)}"
        identifier_value = _get(pkg, extras, "identifier")
        identifier_text = _s(identifier_value)
        other_ids: list[str] = []
        on_portal = identifier_text.startswith(f"{portal}/dataset/") or \
            identifier_text.replace("http://", "https://", 1).startswith(
                f"{portal.replace('http://', 'https://', 1)}/dataset/")
        if on_portal and identifier_text.rstrip("/") != local:
            # the portal's own page by name: it changes on a rename, so it is no identity
            issues.warning("identifier", identifier_text, "a portal URL built from the package "
                                                          "name is not a persistent identifier; "
                                                          "the URI is built from the CKAN id")
        if identifier_text and _is_persistent_uri(identifier_text) and not (
            on_portal and identifier_text.rstrip("/") != local
        ):
            uri = identifier_text
        else:
            uri = local
            if identifier_text:
                other_ids.append(identifier_text)
        ds = URIRef(uri)
        add((ds, _TYPE, DCAT.Dataset))
        add((ds, DCT.identifier, _text_literal(uri, None)))
        for value in _as_list(_get(pkg, extras, "alternate_identifier", "guid")):
            if _s(value) and _s(value) not in other_ids and _s(value) != uri:
                other_ids.append(_s(value))
        for i, value in enumerate(other_ids, 1):
            node = URIRef(f"{local}#identifier-{i}")
            add((ds, ADMS.identifier, node))
            add((node, _TYPE, ADMS.Identifier))
            add((node, SKOS.notation, _text_literal(value, None)))

        # -- title, description, keywords ----------------------------------------------------
        titles = _translated(pkg.get("title_translated"))
        title = single_line(_s(pkg.get("title")))
        if title:
            add((ds, DCT.title, text(title)))
        for tag, value in titles:
            value = single_line(value)
            if value and not (tag == lang and value == title):
                add((ds, DCT.title, _text_literal(value, tag)))
        if not title and not titles:
            issues.error("title", None, "the package has no title (dct:title is mandatory)")
        notes_raw = pkg.get("notes")
        if not _s(notes_raw):
            notes_raw = pkg.get("description") if isinstance(pkg.get("description"), str) else None
        notes = plain_text(_s(notes_raw))
        notes_tr = _translated(pkg.get("notes_translated"))
        if notes:
            add((ds, DCT.description, text(notes)))
            if len(notes) > o.description_max_length:
                issues.warning("notes", f"{len(notes)} characters",
                               f"the description is longer than {o.description_max_length} "
                               "characters; kept whole")
        for tag, value in notes_tr:
            value = plain_text(value)
            if value and not (tag == lang and value == notes):
                add((ds, DCT.description, _text_literal(value, tag)))
        if not notes and not notes_tr:
            issues.error("notes", None, "the package has no description (dct:description is "
                                        "mandatory)")
        seen_kw: set[str] = set()
        for tag in _as_list(pkg.get("tags")) + _as_list(extras.get("keywords"), split_commas=True):
            word = single_line(tag.get("display_name") or tag.get("name")
                               if isinstance(tag, dict) else _s(tag))
            if word and word not in seen_kw:
                seen_kw.add(word)
                add((ds, DCAT.keyword, text(word)))
        for tag, words in _translated(pkg.get("tags_translated"), many=True):
            for word in words:
                word = single_line(word)
                if word and not (tag == lang and word in seen_kw):
                    add((ds, DCAT.keyword, _text_literal(word, tag)))

        # -- publisher and creator -----------------------------------------------------------
        publisher = self._publisher(pkg, extras, context, issues)
        if publisher is not None:
            add((ds, DCT.publisher, publisher[0]))
            t.describe(publisher[1])
        creator = self._creator(pkg, extras, local, publisher, issues)
        if creator is not None:
            add((ds, DCT.creator, creator[0]))
            t.describe(creator[1])

        # -- contact point -------------------------------------------------------------------
        contact = self._contact(pkg, extras, local, portal, issues)
        if contact is not None:
            add((ds, DCAT.contactPoint, contact[0]))
            t.describe(contact[1])

        # -- themes --------------------------------------------------------------------------
        theme_values: list[Any] = []
        for group in _as_list(pkg.get("groups")):
            theme_values.append(group.get("name") if isinstance(group, dict) else group)
        theme_values.extend(_as_list(_get(pkg, extras, "theme", "themes")))
        themes = self.resolve(self.m.theme, theme_values, "theme", issues, many=True,
                              fallback=o.theme_fallback, fallback_key="theme_fallback",
                              what="theme")
        if themes and not any(getattr(th, "eu_theme", None) for th in themes):
            extra = _lookup(self.m.theme, o.theme_fallback) if o.theme_fallback else None
            if extra is not None and getattr(extra, "eu_theme", None):
                issues.warning("theme", None, "no EU data theme among the package's themes; "
                                              f"adding theme_fallback {o.theme_fallback!r}")
                themes.append(extra)
            else:
                issues.error("theme", None, "no EU data theme among the package's themes "
                                            "(dcat:theme needs one) and no theme_fallback giving "
                                            "one is configured")
        seen_themes: set[str] = set()
        for theme in themes:
            for turi in _theme_uris(theme):
                if turi not in seen_themes:
                    seen_themes.add(turi)
                    add((ds, DCAT.theme, term(turi)))
                    t.describe(self.concept(turi))

        # -- access rights, language, frequency ----------------------------------------------
        for rights in self.resolve(
            self.m.access_rights, _as_list(_get(pkg, extras, "access_rights")), "access_rights",
            issues, fallback=o.access_rights_fallback, fallback_key="access_rights_fallback",
            default=o.access_rights, default_key="access_rights", what="access right",
        ):
            add((ds, DCT.accessRights, term(rights.uri)))
            t.describe(self.concept(rights.uri, DCT.RightsStatement, label=rights.label))
        languages = self.resolve(
            self.m.language, _as_list(_get(pkg, extras, "language", "metadata_language"),
                                      split_commas=True),
            "language", issues, many=True, fallback=o.language_fallback,
            fallback_key="language_fallback", default=o.default_language,
            default_key="default_language", what="language")
        language_refs = []
        for language in languages:
            ref = term(language.uri)
            language_refs.append(ref)
            add((ds, DCT.language, ref))
            t.describe(self.concept(language.uri, DCT.LinguisticSystem, label=language.label))
        for freq in self.resolve(
            self.m.frequency, _as_list(_get(pkg, extras, "frequency", "accrual_periodicity",
                                            "update_frequency")),
            "frequency", issues, fallback=o.frequency_fallback, fallback_key="frequency_fallback",
            default=o.frequency, default_key="frequency", required=False, what="frequency",
        ):
            add((ds, DCT.accrualPeriodicity, term(freq.uri)))
            t.describe(self.concept(freq.uri, DCT.Frequency, label=freq.label))

        # -- dates, version, pages -----------------------------------------------------------
        issued = self._date(_get(pkg, extras, "issued", "dcat_issued") or
                            pkg.get("metadata_created"), "issued", issues)
        modified = self._date(_get(pkg, extras, "modified", "dcat_modified") or
                              pkg.get("metadata_modified"), "modified", issues)
        if issued is not None:
            add((ds, DCT.issued, issued))
        if modified is not None:
            add((ds, DCT.modified, modified))
        version = single_line(_s(_get(pkg, extras, "version")))
        if version:
            add((ds, DCAT.version, Literal(version)))
        version_notes = plain_text(_s(_get(pkg, extras, "version_notes")))
        if version_notes:
            add((ds, ADMS.versionNotes, text(version_notes)))
        landing = _landing_page(o.landing_page, portal, name or pkg_id, pkg_id)
        if landing:
            page = URIRef(landing)
            add((ds, DCAT.landingPage, page))
            add((page, _TYPE, FOAF.Document))
        pages: list[str] = []
        source_url = _s(pkg.get("url"))
        if _is_http(source_url) and source_url != landing:
            pages.append(source_url)
        for value in _as_list(_get(pkg, extras, "documentation")):
            if _is_http(_s(value)):
                pages.append(_s(value))
        for url in pages:
            page = URIRef(url)
            add((ds, FOAF.page, page))
            add((page, _TYPE, FOAF.Document))
        for i, value in enumerate(_as_list(_get(pkg, extras, "conforms_to")), 1):
            value = _s(value)
            if _is_http(value):
                std = URIRef(value)
            elif value:
                std = URIRef(f"{local}#standard-{i}")
                add((std, DCT.title, Literal(single_line(value))))
            else:
                continue
            add((ds, DCT.conformsTo, std))
            add((std, _TYPE, DCT.Standard))
        self._temporal(pkg, extras, ds, local, add, issues)
        self._spatial(pkg, extras, ds, local, add)

        # -- distributions -------------------------------------------------------------------
        distribution_uris: dict[str, str] = {}
        licence_cache: dict[str, Any] = {}
        uses_service = False
        resources = pkg.get("resources")
        if resources is not None and not isinstance(resources, list):
            issues.warning("resources", None, "resources is not a list; ignored")
            resources = []
        for index, res in enumerate(resources or []):
            if not isinstance(res, dict) or res.get("state") == "deleted":
                continue
            dist_uri, linked = self._distribution(
                res, index, pkg, extras, context, pkg_id, name, portal, local, ds, t,
                language_refs, licence_cache, issues)
            uses_service = uses_service or linked
            if dist_uri:
                distribution_uris[_s(res.get("id")) or f"#{index}"] = dist_uri
        if not distribution_uris:
            issues.warning("resources", None, "the dataset has no distribution (the package has "
                                              "no resource, or only documentation)")
        if uses_service and self.service_uri is not None:
            t.describe(self.service(portal))
            add((self.service_uri, DCAT.servesDataset, ds))

        # -- catalogue record (added to the catalogue graph) ---------------------------------
        record_uri = URIRef(f"{local}#record")
        record_modified = self._date(pkg.get("metadata_modified"), "metadata_modified", issues,
                                     report=False) or modified or issued
        record: list[tuple] = [(record_uri, _TYPE, DCAT.CatalogRecord),
                               (record_uri, FOAF.primaryTopic, ds),
                               (record_uri, DCT.conformsTo, DCAT_AP_NL_30),
                               (DCAT_AP_NL_30, _TYPE, DCT.Standard)]
        if record_modified is not None:
            record.append((record_uri, DCT.modified, record_modified))
        else:
            issues.error("metadata_modified", None, "no modification date: the catalogue record "
                                                    "needs dct:modified")
        created = self._date(pkg.get("metadata_created"), "metadata_created", issues,
                             report=False)
        if created is not None:
            record.append((record_uri, DCT.issued, created))
        meta_lang = _lookup(self.m.language, o.default_language)
        if meta_lang is not None:
            record.append((record_uri, DCT.language, term(meta_lang.uri)))
            record.extend(self.concept(meta_lang.uri, DCT.LinguisticSystem, label=meta_lang.label))
        else:
            issues.error("default_language", o.default_language,
                         "the metadata language is not in the languages table")

        return MappedDataset(
            source_id=pkg_id, name=name, uri=uri, identifier=uri, graph=None,  # built on read
            issues=issues.items, distribution_uris=distribution_uris, record=tuple(record),
            modified=str(record_modified) if record_modified is not None else None,
            view=t.view(),
        )

    # -- parts -------------------------------------------------------------------------------

    def _date(self, value: Any, field_: str, issues: _Issues, *, report: bool = True
              ) -> Literal | None:
        if value in (None, ""):
            return None
        lit = _temporal(value)
        if lit is None and report:
            issues.warning(field_, _s(value) or _issue_value(value),
                           "not a date or date-time; left out")
        return lit

    def _publisher(self, pkg, extras, context, issues: _Issues):
        """The publisher: the owner organisation (or the package's own publisher field) looked
        up in the organisations table."""
        org = pkg.get("organization") if isinstance(pkg.get("organization"), dict) else None
        if org is None and context is not None:
            org = context.organization(_s(pkg.get("owner_org")))
        candidates: list[tuple[str, str]] = []  # (value, field)
        if org:
            candidates += [(_s(org.get(k)), "organization") for k in ("name", "title", "id")]
        elif _s(pkg.get("owner_org")):
            candidates.append((_s(pkg.get("owner_org")), "owner_org"))
        explicit = _agent_fields(pkg, extras, "publisher")
        if explicit:
            candidates += [(explicit.get("uri", ""), "publisher"),
                           (explicit.get("name", ""), "publisher")]
        candidates = [(v, f) for v, f in candidates if v]
        for value, _ in candidates:
            found = self.agent(value)
            if found is not None:
                return found
        fallback = self.o.organisation_fallback
        shown, field_ = candidates[0] if candidates else (None, "organization")
        if fallback:
            found = self.agent(fallback)
            if found is not None:
                why = (f"organisation {shown!r} is not in the organisations table" if shown
                       else "the package has no organisation")
                issues.warning(field_, shown, f"{why}; using organisation_fallback {fallback!r}")
                return found
            issues.error(field_, fallback, f"the configured organisation_fallback {fallback!r} "
                                           "is not in the organisations table")
            return None
        if shown:
            issues.error(field_, shown, f"organisation {shown!r} is not in the organisations "
                                        "table and no organisation_fallback is configured "
                                        "(dct:publisher is mandatory)")
        else:
            issues.error(field_, None, "the package has no organisation (owner_org) and no "
                                       "organisation_fallback is configured (dct:publisher is "
                                       "mandatory)")
        return None

    def _creator(self, pkg, extras, local: str, publisher, issues: _Issues):
        explicit = _agent_fields(pkg, extras, "creator")
        if explicit:
            for value in (explicit.get("uri"), explicit.get("name")):
                found = self.agent(value) if value else None
                if found is not None:
                    return found
            if explicit.get("name"):
                return self._local_agent(explicit, explicit.get("uri"), f"{local}#creator")
        author = single_line(_s(pkg.get("author")))
        if author:
            found = self.agent(author)
            if found is not None:
                return found
            return self._local_agent({"name": author, "email": _s(pkg.get("author_email"))},
                                     None, f"{local}#creator")
        if self.o.creator_is_publisher:
            return publisher
        issues.error("author", None, "the package names no creator (author) and "
                                     "creator_is_publisher is not set (dct:creator is mandatory)")
        return None

    def _local_agent(self, fields: dict, uri: str | None, fallback_uri: str):
        ref = URIRef(uri) if uri and _is_http(uri) else URIRef(fallback_uri)
        t = [(ref, _TYPE, FOAF.Agent), (ref, FOAF.name, Literal(single_line(fields["name"])))]
        email = fields.get("email", "").removeprefix("mailto:")
        if _EMAIL.match(email):
            t.append((ref, FOAF.mbox, URIRef(f"mailto:{email}")))
        if _is_http(fields.get("url", "")):
            homepage = URIRef(fields["url"])
            t.append((ref, FOAF.homepage, homepage))
            t.append((homepage, _TYPE, FOAF.Document))
        return ref, tuple(t)

    def _contact(self, pkg, extras, local: str, portal: str, issues: _Issues):
        candidates: list[dict[str, str]] = []
        for item in _as_list(pkg.get("contact")):
            if isinstance(item, dict):
                candidates.append({k: _s(item.get(k)) for k in ("name", "email", "url",
                                                                 "identifier", "uri")})
        name = _s(_get(pkg, extras, "contact_name"))
        email = _s(_get(pkg, extras, "contact_email", "contact-email"))
        url = _s(_get(pkg, extras, "contact_uri", "contact_url"))
        if email or url:
            candidates.append({"name": name, "email": email, "url": url})
        for who in ("maintainer", "author"):
            if _s(pkg.get(f"{who}_email")):
                candidates.append({"name": _s(pkg.get(who)), "email": _s(pkg.get(f"{who}_email"))})
        for cand in candidates:
            email = cand.get("email", "").removeprefix("mailto:")
            url = cand.get("url", "")
            email_ok = bool(_EMAIL.match(email))
            url_ok = _is_http(url)
            if email and not email_ok:
                issues.warning("contact", email, "not an e-mail address; ignored")
            if not (email_ok or url_ok):
                continue
            ref_value = cand.get("uri") or cand.get("identifier") or ""
            ref = URIRef(ref_value) if _is_http(ref_value) else URIRef(f"{local}#contact")
            fn = single_line(cand.get("name")) or self.o.contact_name or (email if email_ok
                                                                         else url)
            return ref, tuple(_contact_triples(ref, fn, email if email_ok else None,
                                               url if url_ok else None, self.lang))
        default = self.default_contact(portal)
        if default is None:
            issues.error("maintainer_email", None, "the package has no contact e-mail or URL and "
                                                   "neither contact_email nor contact_url is "
                                                   "configured (dcat:contactPoint is mandatory)")
        return default

    def _temporal(self, pkg, extras, ds, local, add, issues: _Issues) -> None:
        periods: list[tuple[Any, Any]] = []
        for item in _as_list(pkg.get("temporal_coverage")):
            if isinstance(item, dict):
                periods.append((item.get("start"), item.get("end")))
        start = _get(pkg, extras, "temporal_start", "temporal_coverage_from",
                     "temporal_coverage-from")
        end = _get(pkg, extras, "temporal_end", "temporal_coverage_to", "temporal_coverage-to")
        if start or end:
            start_list, end_list = _as_list(start), _as_list(end)
            periods.append((start_list[0] if start_list else None,
                            end_list[0] if end_list else None))
        n = 0
        for start, end in periods:
            lits = [(DCAT.startDate, self._date(start, "temporal_start", issues)),
                    (DCAT.endDate, self._date(end, "temporal_end", issues))]
            lits = [(p, lit) for p, lit in lits if lit is not None]
            if not lits:
                continue
            n += 1
            node = URIRef(f"{local}#temporal-{n}")
            add((ds, DCT.temporal, node))
            add((node, _TYPE, DCT.PeriodOfTime))
            for prop, lit in lits:
                add((node, prop, lit))

    def _spatial(self, pkg, extras, ds, local, add) -> None:
        places: list[dict[str, Any]] = []
        for item in _as_list(pkg.get("spatial_coverage")):
            if isinstance(item, dict):
                places.append(item)
        uri = _s(_get(pkg, extras, "spatial_uri"))
        text_ = _s(_get(pkg, extras, "spatial_text"))
        bbox = _get(pkg, extras, "spatial_bbox")
        centroid = _get(pkg, extras, "spatial_centroid")
        if uri or text_ or bbox or centroid:
            places.append({"uri": uri, "text": text_, "bbox": bbox, "centroid": centroid})
        for n, place in enumerate(places, 1):
            puri = _s(place.get("uri"))
            node = URIRef(puri) if _is_http(puri) else URIRef(f"{local}#spatial-{n}")
            props = []
            label = single_line(_s(place.get("text")))
            if label:
                props.append((SKOS.prefLabel, self.text(label)))
            for key, prop in (("bbox", DCAT.bbox), ("centroid", DCAT.centroid)):
                value = place.get(key)
                if isinstance(value, dict):
                    value = json.dumps(value, sort_keys=True, separators=(",", ":"))
                if _s(value):
                    props.append((prop, Literal(_s(value), datatype=GSP.geoJSONLiteral)))
            if not props and not _is_http(puri):
                continue
            add((ds, DCT.spatial, node))
            add((node, _TYPE, DCT.Location))
            for prop, value in props:
                add((node, prop, value))

    def _licence(self, res, pkg, extras, context, cache: dict, issues: _Issues):
        """The licence of a resource: its own `license`, else the package's (overrides first)."""
        own = _s(res.get("license") or res.get("license_id"))
        if own:
            key = f"res:{own}"
            if key not in cache:
                cache[key] = self._licencelookup([own], "license", issues)
            return cache[key]
        if "pkg" not in cache:
            values: list[str] = []
            override = (self.o.licence_overrides.get(_s(pkg.get("id")))
                        or self.o.licence_overrides.get(_s(pkg.get("name"))))
            if override:
                values.append(override)
            else:
                lic_id = _s(pkg.get("license_id"))
                if lic_id:
                    values.append(lic_id)
                    known = context.licenses.get(lic_id) if context is not None else None
                    if isinstance(known, dict) and _s(known.get("url")):
                        values.append(_s(known.get("url")))
                if _s(pkg.get("license_url")):
                    values.append(_s(pkg.get("license_url")))
                if _s(extras.get("license")):
                    values.append(_s(extras.get("license")))
            cache["pkg"] = self._licencelookup(values, "license_id", issues)
        return cache["pkg"]

    def _licencelookup(self, values: list[str], field_: str, issues: _Issues):
        for value in values:
            hit = _lookup(self.m.licence, value)
            if hit is not None:
                return hit
        found = self.resolve(self.m.licence, values[:1], field_, issues,
                             fallback=self.o.licence_fallback, fallback_key="licence_fallback",
                             what="licence")
        return found[0] if found else None

    def _format(self, res, url: str, issues: _Issues, field_: str):
        fmt = _s(res.get("format"))
        mimetype = _s(res.get("mimetype"))
        for value in (fmt, mimetype):
            if value:
                hit = _lookup(self.m.file_format, value)
                if hit is not None:
                    return hit
        if not fmt and not mimetype:
            match = _URL_EXTENSION.search(urlparse(url).path) if url else None
            if match:
                hit = _lookup(self.m.file_format, match.group(1))
                if hit is not None:
                    issues.warning(field_, match.group(1),
                                   "no format or mimetype given; file type taken from the URL's "
                                   "extension")
                    return hit
        values = [v for v in (fmt, mimetype) if v]
        found = self.resolve(self.m.file_format, values[:1], field_, issues,
                             fallback=self.o.format_fallback, fallback_key="format_fallback",
                             what="format")
        return found[0] if found else None

    def _distribution(self, res, index, pkg, extras, context, pkg_id, name, portal, local, ds,
                      t, language_refs, licence_cache, issues: _Issues):
        add = t.append
        rid = _s(res.get("id"))
        where = f"resources[{index}]"
        if rid:
            dist_uri = f"{portal}/dataset/{_uri_part(pkg_id or name)}/resource/{_uri_part(rid)}"
        else:
            issues.warning(f"{where}.id", None, "the resource has no id; its distribution URI is "
                                                "built from its position")
            dist_uri = f"{local}/resource/{index}"
        dist = URIRef(dist_uri)
        rname = single_line(_s(res.get("name")))
        is_doc = (_s(res.get("resource_type")).lower() in self.doc_types
                  or _s(res.get("format")).lower() in self.doc_formats)
        url = _s(res.get("url"))
        access = _s(res.get("access_url"))
        download = _s(res.get("download_url"))
        url = self._rewrite(url, rid, pkg_id)
        access = self._rewrite(access, rid, pkg_id)
        download = self._rewrite(download, rid, pkg_id)
        if url and not _is_http(url):
            issues.warning(f"{where}.url", url, "not an http(s) URL; ignored")
            url = ""
        if is_doc and url:
            page = URIRef(url)
            add((ds, FOAF.page, page))
            add((page, _TYPE, FOAF.Document))
            if rname:
                add((page, DCT.title, self.text(rname)))
            if not self.o.documentation_as_distribution:
                return None, False
        add((ds, DCAT.distribution, dist))
        add((dist, _TYPE, DCAT.Distribution))
        if rname:
            add((dist, DCT.title, self.text(rname)))
        description = plain_text(_s(res.get("description")))
        if description:
            add((dist, DCT.description, self.text(description)))
        datastore = _truthy(res.get("datastore_active"))
        access = access if _is_http(access) else ""
        download = download if _is_http(download) else ""
        fmt = self._format(res, download or url, issues, f"{where}.format")
        if not download and url and self._is_download(res, fmt, url, datastore):
            download = url
        access = access or url or download
        if not access:
            access = f"{portal}/dataset/{_uri_part(pkg_id or name)}/resource/{_uri_part(rid)}" \
                if rid else ""
            if access:
                issues.warning(f"{where}.url", None, "the resource has no URL; its access URL is "
                                                     "its page on the portal")
            else:
                issues.error(f"{where}.url", None, "the resource has no URL (dcat:accessURL is "
                                                   "mandatory)")
        access_ref = None
        if access:
            access_ref = URIRef(access)
            add((dist, DCAT.accessURL, access_ref))
            add((access_ref, _TYPE, RDFS.Resource))
        if download:
            ref = access_ref if download == access else URIRef(download)  # one term per URL
            add((dist, DCAT.downloadURL, ref))
            add((ref, _TYPE, RDFS.Resource))
        if fmt is not None:
            add((dist, DCT.format, term(fmt.file_type)))
            t.describe(self.concept(fmt.file_type, DCT.MediaTypeOrExtent,
                                  label=getattr(fmt, "label", None)))
        if download:
            media = _media_type_uri(getattr(fmt, "media_type", None) if fmt is not None else None)
            if media is None:
                media = _media_type_uri(_s(res.get("mimetype")))
            if media is not None:
                add((dist, DCAT.mediaType, media))
                t.describe(self.concept(str(media), DCT.MediaType, skos_concept=False))
            else:
                issues.warning(f"{where}.mimetype", _s(res.get("mimetype")) or None,
                               "no IANA media type for this download")
        licence = self._licence(res, pkg, extras, context, licence_cache, issues)
        if licence is not None:
            add((dist, DCT.license, term(licence.uri)))
            t.describe(self.licence_triples(licence))
        size = _non_negative_int(res.get("size") if res.get("size") not in (None, "")
                                 else res.get("byte_size"))
        if size is not None:
            add((dist, DCAT.byteSize, _count_literal(size)))
        self._checksum(res, dist, dist_uri, add, issues, where)
        issued = self._date(res.get("issued") or res.get("created"), f"{where}.created", issues)
        modified = self._date(res.get("modified") or res.get("last_modified")
                              or res.get("metadata_modified"), f"{where}.last_modified", issues)
        if issued is not None:
            add((dist, DCT.issued, issued))
        if modified is not None:
            add((dist, DCT.modified, modified))
        res_langs = [lang for lang in (
            _lookup(self.m.language, v) for v in _as_list(res.get("language"), split_commas=True)
        ) if lang is not None]
        if res_langs:
            for lang in res_langs:
                add((dist, DCT.language, term(lang.uri)))
                t.describe(self.concept(lang.uri, DCT.LinguisticSystem, label=lang.label))
        else:
            for ref in language_refs:
                add((dist, DCT.language, ref))
        self._schema(res, dist, dist_uri, rname, portal, rid, add, issues, where)
        for value in _as_list(res.get("documentation")):
            if _is_http(_s(value)):
                page = URIRef(_s(value))
                add((dist, FOAF.page, page))
                add((page, _TYPE, FOAF.Document))
        rights = plain_text(_s(res.get("rights")))
        if rights:
            node = URIRef(f"{dist_uri}#rights")
            add((dist, DCT.rights, node))
            add((node, _TYPE, DCT.RightsStatement))
            add((node, RDFS.label, self.text(rights)))
        linked = False
        if datastore and self.service_uri is not None:
            add((dist, DCAT.accessService, self.service_uri))
            linked = True
        return dist_uri, linked

    def _rewrite(self, url: str, rid: str, pkg_id: str) -> str:
        if not url:
            return url
        for rule in self.o.url_rewrites:
            new = rule.apply(url, rid, pkg_id)
            if new is not None:
                return new
        return url

    @staticmethod
    def _is_download(res, fmt, url: str, datastore: bool) -> bool:
        """Whether a resource's URL serves the file itself (not a web page or an API)."""
        if datastore or _s(res.get("url_type")) == "upload" or "/download/" in url \
                or "/datastore/dump/" in url:
            return True
        if _s(res.get("resource_type")).lower() in ("api", "service", "webservice"):
            return False
        media = _s(getattr(fmt, "media_type", None) if fmt is not None else None) or \
            _s(res.get("mimetype"))
        media = media.rsplit("/media-types/", 1)[-1]
        if not media or media in ("text/html", "application/xhtml+xml"):
            return False
        return fmt is not None

    def _checksum(self, res, dist, dist_uri, add, issues: _Issues, where: str) -> None:
        raw = _s(res.get("hash"))
        if not raw:
            return
        algo_name = ""
        value = raw
        if ":" in raw and not raw.startswith("http"):
            algo_name, value = raw.split(":", 1)
            algo_name = algo_name.strip().lower()
            value = value.strip()
        if not _HEX.match(value):
            issues.warning(f"{where}.hash", raw, "not a hexadecimal checksum; left out")
            return
        algo_value = _s(res.get("hash_algorithm"))
        if algo_value.startswith(str(SPDX)):
            algorithm = URIRef(algo_value)
        else:
            algorithm = _CHECKSUM_ALGORITHMS.get((algo_value or algo_name).lower()) or \
                _CHECKSUM_ALGORITHMS.get(_CHECKSUM_BY_LENGTH.get(len(value), ""))
        if algorithm is None:
            issues.warning(f"{where}.hash", raw, "checksum algorithm unknown; left out")
            return
        node = URIRef(f"{dist_uri}#checksum")
        add((dist, SPDX.checksum, node))
        add((node, _TYPE, SPDX.Checksum))
        add((node, SPDX.algorithm, algorithm))
        add((algorithm, _TYPE, SPDX.ChecksumAlgorithm))
        add((node, SPDX.checksumValue, _hex_literal(value.lower())))

    def _schema(self, res, dist, dist_uri, rname, portal, rid, add, issues, where) -> None:
        schema = res.get("schema")
        if schema in _EMPTY:
            return
        if isinstance(schema, str):
            text = schema.strip()
            if _is_http(text):
                std = URIRef(text)
                add((dist, DCT.conformsTo, std))
                add((std, _TYPE, DCT.Standard))
                return
            try:
                schema = json.loads(text)
            except ValueError:
                issues.warning(f"{where}.schema", text[:200], "neither a URL nor a JSON table "
                                                              "schema; left out")
                return
        if not isinstance(schema, dict):
            issues.warning(f"{where}.schema", _issue_value(schema)[:200], "not a table schema "
                                                                          "object; left out")
            return
        std = URIRef(f"{dist_uri}#schema")
        add((dist, DCT.conformsTo, std))
        add((std, _TYPE, DCT.Standard))
        title = single_line(_s(schema.get("title"))) or (
            f"{rname} (kolomschema)" if rname and self.lang == "nl" else
            f"{rname} (table schema)" if rname else "")
        if title:
            add((std, DCT.title, self.text(title)))
        fields_ = schema.get("fields")
        if isinstance(fields_, list) and fields_:
            add((std, DCT.conformsTo, TABLE_SCHEMA_SPEC))
            add((TABLE_SCHEMA_SPEC, _TYPE, DCT.Standard))
            lines = []
            for col in fields_:
                if not isinstance(col, dict) or not _s(col.get("name")):
                    continue
                line = _s(col.get("name"))
                if _s(col.get("type")):
                    line += f" ({_s(col.get('type'))})"
                desc = single_line(_s(col.get("description")) or _s(col.get("title")))
                if desc:
                    line += f": {desc}"
                lines.append(line)
            if lines:
                add((std, DCT.description, self.text("\n".join(lines))))
        if rid:
            api = URIRef(f"{portal}/api/3/action/resource_show?id={_uri_part(rid)}")
            add((std, RDFS.seeAlso, api))
            add((api, _TYPE, RDFS.Resource))


def _contact_triples(ref: URIRef, name: str | None, email: str | None, url: str | None,
                     lang: str) -> list[tuple]:
    t = [(ref, _TYPE, VCARD.Kind)]
    fn = single_line(name or email or url or "")
    if fn:
        t.append((ref, VCARD.fn, Literal(fn)))
    if email:
        t.append((ref, VCARD.hasEmail, URIRef(f"mailto:{email}")))
    if url:
        page = URIRef(url)
        t.append((ref, VCARD.hasURL, page))
    return t


def _agent_fields(pkg, extras, role: str) -> dict[str, str]:
    """A package's own publisher/creator (ckanext-dcat list-of-dicts or `<role>_*` extras)."""
    value = pkg.get(role)
    items = _as_list(value)
    if items and isinstance(items[0], dict):
        item = items[0]
        return {"name": _s(item.get("name")), "uri": _s(item.get("uri") or item.get("identifier")),
                "email": _s(item.get("email")), "url": _s(item.get("url"))}
    out = {}
    for key, names in (("name", (f"{role}_name", f"dcat_{role}_name")),
                       ("uri", (f"{role}_uri", f"dcat_{role}_uri", f"{role}_identifier")),
                       ("email", (f"{role}_email", f"dcat_{role}_email")),
                       ("url", (f"{role}_url", f"dcat_{role}_url"))):
        found = _get(pkg, extras, *names)
        if _s(found):
            out[key] = _s(found)
    if not out and isinstance(value, str) and value.strip():
        out = {"name": value.strip()}
    return out


def _translated(value: Any, many: bool = False) -> list[tuple[str, Any]]:
    """(language tag, value) pairs of a ckanext-fluent/scheming `*_translated` dict, sorted."""
    if not isinstance(value, dict):
        return []
    out = []
    for tag in sorted(value):
        if not isinstance(tag, str) or not _LANG_TAG.match(tag):
            continue
        item = value[tag]
        if many:
            if isinstance(item, list):
                out.append((tag, [_s(v) for v in item if _s(v)]))
        elif _s(item):
            out.append((tag, _s(item)))
    return out


def _landing_page(template: str, portal: str, name: str, pkg_id: str) -> str:
    if not template or not (name or pkg_id):
        return ""
    try:
        url = template.format(portal_url=portal, name=_uri_part(name or pkg_id),
                              id=_uri_part(pkg_id or name))
    except (KeyError, IndexError, ValueError):
        return ""
    return url if _is_http(url) else ""


def _media_type_uri(value: str | None) -> URIRef | None:
    value = _s(value)
    if not value:
        return None
    if _is_http(value):
        return term(value)  # described as a concept, whose term this is
    value = value.split(";", 1)[0].strip().lower()
    if _MIMETYPE.match(value):
        return term(IANA_MEDIA_TYPES + value)
    return None


def _theme_uris(theme: Any) -> list[str]:
    uris = []
    if getattr(theme, "eu_theme", None):
        uris.append(theme.eu_theme)
    for uri in getattr(theme, "owms_themes", ()) or ():
        if uri and uri not in uris:
            uris.append(uri)
    return uris




def _label(mappings: Any, uri: str) -> tuple[str, str | None] | None:
    try:
        found = mappings.label(uri)
    except (KeyError, ValueError, TypeError):
        return None
    if not found:
        return None
    name, scheme = found
    return (name, scheme) if name else None


def _new_graph() -> Graph:
    """An empty graph on rdflib's SimpleMemory store: plain nested dicts, so adding a triple
    costs about a quarter of the default (context-aware) store's add. The mapper only adds
    terms it built itself, so it adds straight to the store, skipping Graph.add's type checks."""
    return Graph(store=SimpleMemory())


# --- entry points -------------------------------------------------------------------------------


def _mapper_for(mappings: Any, options: MappingOptions) -> _Mapper:
    entry = options.__dict__.get("_mapper_cache")
    if entry is None or entry[0] is not mappings:
        entry = (mappings, _Mapper(mappings, options))
        options.__dict__["_mapper_cache"] = entry
    return entry[1]


def map_dataset(package: dict, context: SourceContext, mappings: Any,
                options: MappingOptions) -> MappedDataset:
    """Map one CKAN package dict to DCAT-AP-NL 3.0 (see the module docstring for the rules)."""
    return _mapper_for(mappings, options).map(package, context)


def catalog_graph(datasets: Iterable[MappedDataset], context: SourceContext, mappings: Any,
                  options: MappingOptions) -> Graph:
    """The dcat:Catalog around `datasets`: the mandatory catalogue properties, one
    dcat:CatalogRecord per dataset (dct:language, dct:modified, foaf:primaryTopic), the source's
    dcat:DataService, and descriptions of the concepts used (themes, organisations, ...).

    Raises ConfigError when a catalogue setting DCAT-AP-NL needs is missing or not in the tables.
    """
    mapper = _mapper_for(mappings, options)
    o = options
    portal = mapper.portal(context)
    where = "[sources.NAME.mapping]"
    missing = [k for k in ("catalog_title", "catalog_description", "catalog_publisher")
               if not getattr(o, k)]
    if missing:
        raise ConfigError(f"{where}: the catalogue needs key(s) {', '.join(missing)} "
                          "(DCAT-AP makes title, description and publisher mandatory)")
    cat = URIRef(mapper.catalog_uri(portal))
    t: list[tuple] = [(cat, _TYPE, DCAT.Catalog),
                      (cat, DCT.title, mapper.text(single_line(o.catalog_title))),
                      (cat, DCT.description, mapper.text(plain_text(o.catalog_description)))]
    publisher = mapper.agent(o.catalog_publisher)
    if publisher is None:
        raise ConfigError(f"{where}: key 'catalog_publisher' {o.catalog_publisher!r} is not in "
                          "the organisations table")
    t.append((cat, DCT.publisher, publisher[0]))
    t.extend(publisher[1])
    if o.catalog_creator:
        creator = mapper.agent(o.catalog_creator)
        if creator is None:
            raise ConfigError(f"{where}: key 'catalog_creator' {o.catalog_creator!r} is not in "
                              "the organisations table")
        t.append((cat, DCT.creator, creator[0]))
        t.extend(creator[1])
    contact = mapper.default_contact(portal)
    if contact is None:
        raise ConfigError(f"{where}: the catalogue needs a contact point (DCAT-AP-NL): set "
                          "contact_email or contact_url (and contact_name)")
    t.append((cat, DCAT.contactPoint, contact[0]))
    t.extend(contact[1])
    homepage = URIRef(o.catalog_homepage or portal)
    t.append((cat, FOAF.homepage, homepage))
    t.append((homepage, _TYPE, FOAF.Document))
    language = _lookup(mappings.language, o.default_language)
    if language is not None:
        t.append((cat, DCT.language, term(language.uri)))
        t.extend(mapper.concept(language.uri, DCT.LinguisticSystem, label=language.label))
    if o.catalog_licence:
        licence = _lookup(mappings.licence, o.catalog_licence)
        if licence is None:
            raise ConfigError(f"{where}: key 'catalog_licence' {o.catalog_licence!r} is not in "
                              "the licences table")
        t.append((cat, DCT.license, term(licence.uri)))
        t.extend(mapper.licence_triples(licence))

    latest: str | None = None
    schemes: set[str] = set()
    for mapped in sorted(datasets, key=lambda d: d.uri):
        ds = URIRef(mapped.uri)
        t.append((cat, DCAT.dataset, ds))
        if mapped.record:
            t.append((cat, DCAT.record, mapped.record[0][0]))
            t.extend(mapped.record)
        view = mapped.triple_view()
        if mapper.service_uri is not None and \
                (mapper.service_uri, DCAT.servesDataset, ds) in view:
            t.append((mapper.service_uri, DCAT.servesDataset, ds))
        if mapped.modified and (latest is None or mapped.modified > latest):
            latest = mapped.modified
        for theme in view.objects(ds, DCAT.theme):
            found = _label(mappings, str(theme))
            if found is not None and found[1]:
                schemes.add(found[1])
            t.extend(mapper.concept(str(theme)))
    if latest is not None:
        lit = _temporal(latest)
        if lit is not None:
            t.append((cat, DCT.modified, lit))
    if o.data_service is not None:
        service = mapper.service(portal)
        t.append((cat, DCAT.service, mapper.service_uri))
        t.extend(service)
        for s, p, obj in service:
            if p == DCAT.theme:
                found = _label(mappings, str(obj))
                if found is not None and found[1]:
                    schemes.add(found[1])
    for scheme in sorted(schemes):
        t.append((cat, DCAT.themeTaxonomy, URIRef(scheme)))
        t.extend(mapper.scheme(scheme))
    graph = _new_graph()
    store_add = graph.store.add
    for triple in t:
        store_add(triple, graph, False)
    return graph
