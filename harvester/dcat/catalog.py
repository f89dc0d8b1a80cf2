"""The dcat:Catalog around the mapped datasets: `catalog_graph`.

The catalogue's own properties come from the `catalog_*` and `contact_*` options; each dataset
adds its dcat:CatalogRecord (made by map_dataset); the source's dcat:DataService and the
concept schemes of the themes used (dcat:themeTaxonomy) are described as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import Graph, URIRef

from harvester.dcat.dataset import MappedDataset
from harvester.dcat.descriptions import Descriptions, descriptions_for, scheme_label
from harvester.dcat.fields import temporal_literal
from harvester.dcat.options import MappingOptions, catalog_uri, portal_url
from harvester.dcat.rdf import DCAT, DCT, FOAF, TYPE
from harvester.dcat.service import service_triples
from harvester.dcat.tables import lookup
from harvester.dcat.terms import term
from harvester.dcat.text import plain_text, single_line
from harvester.dcat.triples import graph_of
from harvester.errors import ConfigError
from harvester.source.context import SourceContext

__all__ = ["catalog_graph"]

_WHERE = "[sources.NAME.mapping]"


def catalog_graph(datasets: Iterable[MappedDataset], context: SourceContext, mappings: Any,
                  options: MappingOptions) -> Graph:
    """The dcat:Catalog around `datasets`: the mandatory catalogue properties, one
    dcat:CatalogRecord per dataset (dct:language, dct:modified, foaf:primaryTopic), the source's
    dcat:DataService, and descriptions of the concepts used (themes, organisations, ...).

    Raises ConfigError when a catalogue setting DCAT-AP-NL needs is missing or not in the tables.
    """
    source = descriptions_for(mappings, options)
    portal = portal_url(options, context)
    missing = [k for k in ("catalog_title", "catalog_description", "catalog_publisher")
               if not getattr(options, k)]
    if missing:
        raise ConfigError(f"{_WHERE}: the catalogue needs key(s) {', '.join(missing)} "
                          "(DCAT-AP makes title, description and publisher mandatory)")
    cat = URIRef(catalog_uri(options, portal))
    t = _catalogue(source, cat, portal)
    schemes: set[str] = set()
    t += _datasets(source, cat, datasets, schemes)
    if options.data_service is not None:
        service = service_triples(source, portal)
        t += [(cat, DCAT.service, source.service_uri), *service]
        schemes.update(_schemes(mappings, (o for _, p, o in service if p == DCAT.theme)))
    for scheme in sorted(schemes):
        t.append((cat, DCAT.themeTaxonomy, URIRef(scheme)))
        t.extend(source.scheme(scheme))
    return graph_of(t)


def _catalogue(source: Descriptions, cat: URIRef, portal: str) -> list[tuple]:
    """The catalogue's own properties: title, description, publisher, creator, contact point,
    homepage, language and licence."""
    o = source.o
    t: list[tuple] = [(cat, TYPE, DCAT.Catalog),
                      (cat, DCT.title, source.text(single_line(o.catalog_title))),
                      (cat, DCT.description, source.text(plain_text(o.catalog_description)))]
    t += _agent(source, cat, DCT.publisher, "catalog_publisher")
    if o.catalog_creator:
        t += _agent(source, cat, DCT.creator, "catalog_creator")
    contact = source.contact(portal)
    if contact is None:
        raise ConfigError(f"{_WHERE}: the catalogue needs a contact point (DCAT-AP-NL): set "
                          "contact_email or contact_url (and contact_name)")
    t += [(cat, DCAT.contactPoint, contact[0]), *contact[1]]
    homepage = URIRef(o.catalog_homepage or portal)
    t += [(cat, FOAF.homepage, homepage), (homepage, TYPE, FOAF.Document)]
    language = lookup(source.m.language, o.default_language)
    if language is not None:
        t.append((cat, DCT.language, term(language.uri)))
        t.extend(source.concept(language.uri, DCT.LinguisticSystem, label=language.label))
    if o.catalog_licence:
        licence = lookup(source.m.licence, o.catalog_licence)
        if licence is None:
            raise ConfigError(f"{_WHERE}: key 'catalog_licence' {o.catalog_licence!r} is not in "
                              "the licences table")
        t += [(cat, DCT.license, term(licence.uri)), *source.licence(licence)]
    return t


def _agent(source: Descriptions, cat: URIRef, predicate: URIRef, key: str) -> list[tuple]:
    value = getattr(source.o, key)
    agent = source.agent(value)
    if agent is None:
        raise ConfigError(f"{_WHERE}: key {key!r} {value!r} is not in the organisations table")
    return [(cat, predicate, agent[0]), *agent[1]]


def _datasets(source: Descriptions, cat: URIRef, datasets: Iterable[MappedDataset],
              schemes: set[str]) -> list[tuple]:
    """dcat:dataset and dcat:record of each dataset (with its record's triples), the
    DataService's dcat:servesDataset, the themes used, and the catalogue's dct:modified (the
    latest of the records'). Adds the themes' concept schemes to `schemes`."""
    t: list[tuple] = []
    latest: str | None = None
    for mapped in sorted(datasets, key=lambda d: d.uri):
        ds = URIRef(mapped.uri)
        t.append((cat, DCAT.dataset, ds))
        if mapped.record:
            t += [(cat, DCAT.record, mapped.record[0][0]), *mapped.record]
        view = mapped.triple_view()
        serves = (source.service_uri, DCAT.servesDataset, ds)
        if source.service_uri is not None and serves in view:
            t.append(serves)
        if mapped.modified and (latest is None or mapped.modified > latest):
            latest = mapped.modified
        themes = list(view.objects(ds, DCAT.theme))
        schemes.update(_schemes(source.m, themes))
        for theme in themes:
            t.extend(source.concept(str(theme)))
    modified = temporal_literal(latest) if latest is not None else None
    if modified is not None:
        t.append((cat, DCT.modified, modified))
    return t


def _schemes(mappings: Any, concepts: Iterable[Any]) -> set[str]:
    """The concept schemes the mapping tables give `concepts`."""
    schemes = set()
    for concept in concepts:
        found = scheme_label(mappings, str(concept))
        if found is not None and found[1]:
            schemes.add(found[1])
    return schemes
