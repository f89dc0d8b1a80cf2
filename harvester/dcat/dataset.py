"""CKAN package -> DCAT-AP-NL 3.0 dcat:Dataset: `map_dataset` and its product, MappedDataset.

`map_dataset(package, context, mappings, options)` runs the steps of `_STEPS` in order
(identity, texts, agents, themes, value lists, dates, pages, coverage, distributions, licence,
data service, high value) and then builds the dataset's catalogue record. The result holds the dataset's
triples (every node it links to typed and described, so the graph validates on its own), the
issues met on the way, and the resource id -> distribution URI table.

What each property is made from, and the rules (stable URIs, identifiers, licences, themes,
formats, defaults and fallbacks, URL rewrites), are in docs/mapping.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rdflib import Graph, Literal, URIRef

from harvester.dcat.agents import add_agents
from harvester.dcat.coverage import add_spatial, add_temporal
from harvester.dcat.descriptions import descriptions_for, theme_uris
from harvester.dcat.distribution import add_distributions
from harvester.dcat.fields import as_list, is_http, is_persistent_uri, text_of, translated, uri_part
from harvester.dcat.hvd import add_high_value
from harvester.dcat.issues import MappingIssue
from harvester.dcat.licence import add_dataset_licence
from harvester.dcat.options import MappingOptions, portal_url
from harvester.dcat.package import Field, PackageMapping, add_fields
from harvester.dcat.rdf import ADMS, DCAT, DCAT_AP_NL_30, DCT, FOAF, SKOS, TYPE
from harvester.dcat.service import service_triples
from harvester.dcat.tables import lookup
from harvester.dcat.terms import term
from harvester.dcat.text import plain_text, single_line
from harvester.dcat.triples import TripleView, new_graph
from harvester.dcat.values import ACCESS_RIGHTS, FREQUENCY, LANGUAGE, THEME, ValueRule, resolve
from harvester.source.context import SourceContext

__all__ = ["MappedDataset", "map_dataset"]


@dataclass
class MappedDataset:
    """One package mapped to DCAT-AP-NL: its graph plus what the catalogue and publisher need.

    `graph` is built (once) when it is first read: the mapper hands over its triples as `view`,
    and the pipeline's stages read `triple_view()`. A MappedDataset made with a Graph reads
    that graph.
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
        graph = view.graph() if view is not None else new_graph()
        self.__dict__["_graph"] = graph
    return graph


def _set_graph(self: MappedDataset, value: Graph | None) -> None:
    self.__dict__["_graph"] = value


# the dataclass's __init__ assigns `graph` through this property (None: build it from `view`)
MappedDataset.graph = property(_get_graph, _set_graph,  # type: ignore[assignment]
                               doc="The dataset's rdflib Graph (built on first read).")


def map_dataset(package: dict, context: SourceContext, mappings: Any,
                options: MappingOptions) -> MappedDataset:
    """Map one CKAN package dict to DCAT-AP-NL 3.0 (docs/mapping.md gives the rules)."""
    m = PackageMapping(package, context, descriptions_for(mappings, options),
                       portal_url(options, context))
    for step in _STEPS:
        step(m)
    record, modified = _catalog_record(m)
    return MappedDataset(
        source_id=m.pkg_id, name=m.name, uri=m.uri, identifier=m.uri, graph=None,  # built on read
        issues=m.issues.items, distribution_uris=m.distribution_uris, record=record,
        modified=str(modified) if modified is not None else None, view=TripleView(m.triples),
    )


# --- identity -----------------------------------------------------------------------------------


def _identity(m: PackageMapping) -> None:
    """The dataset's URI and dct:identifier (a persistent `identifier`, else the URI built on
    the CKAN id), and its other identifiers as adms:Identifiers."""
    m.local = _local_uri(m)
    identifier = text_of(m.get("identifier"))
    m.uri, other_ids = _dataset_uri(m, identifier)
    m.ds = URIRef(m.uri)
    m.add(m.ds, TYPE, DCAT.Dataset)
    m.add(m.ds, DCT.identifier, Literal(m.uri))
    for value in map(text_of, as_list(m.get("alternate_identifier", "guid"))):
        if value and value not in other_ids and value != m.uri:
            other_ids.append(value)
    for i, value in enumerate(other_ids, 1):
        node = m.link(m.ds, ADMS.identifier, f"{m.local}#identifier-{i}", ADMS.Identifier)
        m.add(node, SKOS.notation, Literal(value))


def _local_uri(m: PackageMapping) -> str:
    """<portal>/dataset/<package id>: the base of the dataset's own URIs."""
    if m.pkg_id:
        return f"{m.portal}/dataset/{uri_part(m.pkg_id)}"
    m.issues.error("id", None, "the package has no CKAN id, so it has no stable URI (a URI "
                               "built from the name would change on a rename)")
    key = m.name or hashlib.sha1(
        json.dumps(m.pkg, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{m.portal}/dataset/{uri_part(key)}"


def _dataset_uri(m: PackageMapping, identifier: str) -> tuple[str, list[str]]:
    """(the dataset's URI, its other identifiers so far)."""
    portal = m.portal
    on_portal = identifier.startswith(f"{portal}/dataset/") or \
        identifier.replace("http://", "https://", 1).startswith(
            f"{portal.replace('http://', 'https://', 1)}/dataset/")
    by_name = on_portal and identifier.rstrip("/") != m.local
    if by_name:  # the portal's own page by name: it changes on a rename, so it is no identity
        m.issues.warning("identifier", identifier, "a portal URL built from the package name is "
                                                   "not a persistent identifier; the URI is "
                                                   "built from the CKAN id")
    if identifier and is_persistent_uri(identifier) and not by_name:
        return identifier, []
    return m.local, [identifier] if identifier else []


# --- title, description, keywords ---------------------------------------------------------------


def _texts(m: PackageMapping) -> None:
    """dct:title, dct:description (in the metadata's language, then the translations) and
    dcat:keyword."""
    pkg = m.pkg
    titles = translated(pkg.get("title_translated"))
    title = single_line(text_of(pkg.get("title")))
    _translatable(m, DCT.title, title, titles, single_line)
    if not title and not titles:
        m.issues.error("title", None, "the package has no title (dct:title is mandatory)")
    notes = pkg.get("notes")
    if not text_of(notes):
        notes = pkg.get("description") if isinstance(pkg.get("description"), str) else None
    notes = plain_text(text_of(notes))
    translations = translated(pkg.get("notes_translated"))
    _translatable(m, DCT.description, notes, translations, plain_text)
    if len(notes) > m.o.description_max_length:
        m.issues.warning("notes", f"{len(notes)} characters",
                         f"the description is longer than {m.o.description_max_length} "
                         "characters; kept whole")
    if not notes and not translations:
        m.issues.error("notes", None, "the package has no description (dct:description is "
                                      "mandatory)")
    _keywords(m)


def _translatable(m: PackageMapping, predicate: URIRef, text: str,
                  translations: list[tuple[str, Any]], clean: Callable[[Any], str]) -> None:
    """`text` in the metadata's language, and each translation that says something else."""
    if text:
        m.add(m.ds, predicate, m.source.text(text))
    for tag, value in translations:
        value = clean(value)
        if value and not (tag == m.source.lang and value == text):
            m.add(m.ds, predicate, Literal(value, lang=tag))


def _keywords(m: PackageMapping) -> None:
    """dcat:keyword: the tags and `keywords` extra, then the `tags_translated` words."""
    seen: set[str] = set()
    for tag in as_list(m.pkg.get("tags")) + as_list(m.extras.get("keywords"),
                                                    split_commas=True):
        word = single_line(tag.get("display_name") or tag.get("name")
                           if isinstance(tag, dict) else text_of(tag))
        if word and word not in seen:
            seen.add(word)
            m.add(m.ds, DCAT.keyword, m.source.text(word))
    for tag, words in translated(m.pkg.get("tags_translated"), many=True):
        for word in map(single_line, words):
            if word and not (tag == m.source.lang and word in seen):
                m.add(m.ds, DCAT.keyword, Literal(word, lang=tag))


# --- themes and the other value lists -----------------------------------------------------------


def _themes(m: PackageMapping) -> None:
    """dcat:theme: the groups and `theme` field in the themes table (each gives its EU data
    theme and OWMS themes); one EU data theme is needed (else theme_fallback's is added)."""
    values = [group.get("name") if isinstance(group, dict) else group
              for group in as_list(m.pkg.get("groups"))]
    values.extend(as_list(m.get("theme", "themes")))
    themes = resolve(m.m, values, "theme", m.issues, THEME, m.o)
    if themes and not any(getattr(theme, "eu_theme", None) for theme in themes):
        themes += _eu_theme_fallback(m)
    seen: set[str] = set()
    for uri in (uri for theme in themes for uri in theme_uris(theme)):
        if uri not in seen:
            seen.add(uri)
            m.add(m.ds, DCAT.theme, term(uri))
            m.describe(m.source.concept(uri))


def _eu_theme_fallback(m: PackageMapping) -> list[Any]:
    fallback = m.o.theme_fallback
    extra = lookup(m.m.theme, fallback) if fallback else None
    if extra is not None and getattr(extra, "eu_theme", None):
        m.issues.warning("theme", None, "no EU data theme among the package's themes; "
                                        f"adding theme_fallback {fallback!r}")
        return [extra]
    m.issues.error("theme", None, "no EU data theme among the package's themes (dcat:theme "
                                  "needs one) and no theme_fallback giving one is configured")
    return []


class _ValueProperty(NamedTuple):
    """A property whose values are concepts of a value table: the first given of the package
    fields or extras `keys` (a list, or `split_commas`), looked up by `rule`; each concept is
    described as a `cls`."""

    keys: tuple[str, ...]
    predicate: URIRef
    rule: ValueRule
    cls: URIRef
    split_commas: bool = False


_VALUE_PROPERTIES = (
    _ValueProperty(("access_rights",), DCT.accessRights, ACCESS_RIGHTS, DCT.RightsStatement),
    _ValueProperty(("language", "metadata_language"), DCT.language, LANGUAGE,
                   DCT.LinguisticSystem, split_commas=True),
    _ValueProperty(("frequency", "accrual_periodicity", "update_frequency"),
                   DCT.accrualPeriodicity, FREQUENCY, DCT.Frequency),
)


def _value_lists(m: PackageMapping) -> None:
    """dct:accessRights, dct:language and dct:accrualPeriodicity (see _VALUE_PROPERTIES)."""
    for row in _VALUE_PROPERTIES:
        values = as_list(m.get(*row.keys), split_commas=row.split_commas)
        refs = []
        for concept in resolve(m.m, values, row.keys[0], m.issues, row.rule, m.o):
            refs.append(term(concept.uri))
            m.add(m.ds, row.predicate, refs[-1])
            m.describe(m.source.concept(concept.uri, row.cls, label=concept.label))
        if row.predicate == DCT.language:
            m.languages = refs


# --- dates, version, pages, standards -----------------------------------------------------------

#: the straight package field -> dataset property rows (the first given field or extra wins;
#: then the package field `then`)
_DATES_AND_VERSION = (
    Field(("issued", "dcat_issued"), DCT.issued, "date", then="metadata_created"),
    Field(("modified", "dcat_modified"), DCT.modified, "date", then="metadata_modified"),
    Field(("version",), DCAT.version, "line"),
    Field(("version_notes",), ADMS.versionNotes, "text"),
)
_DOCUMENTATION = (Field(("documentation",), FOAF.page, "pages"),)


def _dates_and_version(m: PackageMapping) -> None:
    m.dates = add_fields(m, m.ds, _DATES_AND_VERSION, lambda keys: m.get(*keys))


def _pages(m: PackageMapping) -> None:
    """dcat:landingPage (the `landing_page` template) and foaf:page (the package's `url`,
    unless it is the landing page, and its `documentation`)."""
    landing = _landing_page(m)
    if landing:
        m.link(m.ds, DCAT.landingPage, landing)
    source_url = text_of(m.pkg.get("url"))
    if is_http(source_url) and source_url != landing:
        m.link(m.ds, FOAF.page, source_url)
    add_fields(m, m.ds, _DOCUMENTATION, lambda keys: m.get(*keys))


def _landing_page(m: PackageMapping) -> str:
    name = m.name or m.pkg_id
    if not m.o.landing_page or not name:
        return ""
    try:
        url = m.o.landing_page.format(portal_url=m.portal, name=uri_part(name),
                                      id=uri_part(m.pkg_id or name))
    except (KeyError, IndexError, ValueError):
        return ""
    return url if is_http(url) else ""


def _standards(m: PackageMapping) -> None:
    """dct:conformsTo: each `conforms_to` URL, or a standard of its own named by the text."""
    for i, value in enumerate(map(text_of, as_list(m.get("conforms_to"))), 1):
        if is_http(value):
            std = value
        elif value:
            std = f"{m.local}#standard-{i}"
            m.add(URIRef(std), DCT.title, Literal(single_line(value)))
        else:
            continue
        m.link(m.ds, DCT.conformsTo, std, DCT.Standard)


# --- the data service, the catalogue record -----------------------------------------------------


def _data_service(m: PackageMapping) -> None:
    """The source's DataService, described, when a distribution links to it."""
    if m.uses_service:
        m.describe(service_triples(m.source, m.portal))
        m.add(m.source.service_uri, DCAT.servesDataset, m.ds)


def _catalog_record(m: PackageMapping) -> tuple[tuple, Literal | None]:
    """(the triples of the dataset's dcat:CatalogRecord, its dct:modified)."""
    record = URIRef(f"{m.local}#record")
    modified = m.date(m.pkg.get("metadata_modified"), "metadata_modified", report=False) or \
        m.dates.get(DCT.modified) or m.dates.get(DCT.issued)
    t: list[tuple] = [(record, TYPE, DCAT.CatalogRecord), (record, FOAF.primaryTopic, m.ds),
                      (record, DCT.conformsTo, DCAT_AP_NL_30), (DCAT_AP_NL_30, TYPE, DCT.Standard)]
    if modified is not None:
        t.append((record, DCT.modified, modified))
    else:
        m.issues.error("metadata_modified", None, "no modification date: the catalogue record "
                                                  "needs dct:modified")
    created = m.date(m.pkg.get("metadata_created"), "metadata_created", report=False)
    if created is not None:
        t.append((record, DCT.issued, created))
    language = lookup(m.m.language, m.o.default_language)
    if language is not None:
        t.append((record, DCT.language, term(language.uri)))
        t.extend(m.source.concept(language.uri, DCT.LinguisticSystem, label=language.label))
    else:
        m.issues.error("default_language", m.o.default_language,
                       "the metadata language is not in the languages table")
    return tuple(t), modified


#: the steps of map_dataset, in order (each adds to the PackageMapping)
_STEPS: tuple[Callable[[PackageMapping], None], ...] = (
    _identity,
    _texts,
    add_agents,
    _themes,
    _value_lists,
    _dates_and_version,
    _pages,
    _standards,
    add_temporal,
    add_spatial,
    add_distributions,
    add_dataset_licence,
    _data_service,
    add_high_value,
)
