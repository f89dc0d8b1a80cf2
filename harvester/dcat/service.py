"""The source's API as a dcat:DataService (`[sources.NAME.mapping.data_service]`).

Its description goes into the catalogue graph and into every dataset graph with a distribution
that links to it (dcat:accessService), so that graph validates on its own. Every value it takes
from the mapping tables must be there: a missing one is a ConfigError, not a MappingIssue.
"""

from __future__ import annotations

from typing import Any

from rdflib import Literal, URIRef

from harvester.dcat.descriptions import Descriptions, theme_uris
from harvester.dcat.options import DataServiceOptions
from harvester.dcat.rdf import DCAT, DCT, FOAF, RDFS, TYPE
from harvester.dcat.tables import lookup
from harvester.dcat.terms import term
from harvester.dcat.text import plain_text, single_line
from harvester.errors import ConfigError

__all__ = ["service_triples"]

_WHERE = "[sources.NAME.mapping.data_service]"

#: (option, property, class of the linked node) of the service's links to web pages
_LINKS = (
    ("endpoint_url", DCAT.endpointURL, RDFS.Resource),
    ("endpoint_description", DCAT.endpointDescription, RDFS.Resource),
    ("landing_page", DCAT.landingPage, FOAF.Document),
    ("documentation", FOAF.page, FOAF.Document),
    ("conforms_to", DCT.conformsTo, DCT.Standard),
)


def service_triples(source: Descriptions, portal: str) -> tuple:
    """The triples describing the configured DataService (() when none is configured), built
    once per source. Raises ConfigError when a configured value is not in the value tables."""
    if source.o.data_service is None:
        return ()
    return source.cached(("service",), lambda: _describe(source, source.o.data_service, portal))


def _describe(source: Descriptions, ds: DataServiceOptions, portal: str) -> tuple:
    ref = source.service_uri  # the same term as the datasets' dcat:accessService
    t: list[tuple] = [(ref, TYPE, DCAT.DataService),
                      (ref, DCT.title, source.text(single_line(ds.title))),
                      (ref, DCT.description, source.text(plain_text(ds.description))),
                      (ref, DCT.identifier, Literal(ds.identifier or ds.uri))]
    t += _links(ref, ds, _LINKS[:2])
    t += _licence(source, ref, ds)
    t += _access_rights(source, ref, ds)
    t += _themes(source, ref, ds)
    t += _agents(source, ref, ds, portal)
    t += [(ref, DCAT.keyword, source.text(single_line(keyword))) for keyword in ds.keywords]
    language = lookup(source.m.language, ds.language or source.o.default_language)
    if language is not None:
        t.append((ref, DCT.language, term(language.uri)))
        t.extend(source.concept(language.uri, DCT.LinguisticSystem, label=language.label))
    t += _links(ref, ds, _LINKS[2:])
    return tuple(t)


def _links(ref: URIRef, ds: DataServiceOptions, rows: tuple) -> list[tuple]:
    t = []
    for key, predicate, cls in rows:
        value = getattr(ds, key)
        for url in (value,) if isinstance(value, str) else value or ():
            node = URIRef(url)
            t += [(ref, predicate, node), (node, TYPE, cls)]
    return t


def _required(found: Any, message: str) -> Any:
    if found is None:
        raise ConfigError(f"{_WHERE}: {message}")
    return found


def _licence(source: Descriptions, ref: URIRef, ds: DataServiceOptions) -> list[tuple]:
    licence = _required(lookup(source.m.licence, ds.licence),
                        f"key 'licence' {ds.licence!r} is not in the licences table")
    return [(ref, DCT.license, term(licence.uri)), *source.licence(licence)]


def _access_rights(source: Descriptions, ref: URIRef, ds: DataServiceOptions) -> list[tuple]:
    value = _required(ds.access_rights or source.o.access_rights or None,
                      "key 'access_rights' is not set (nor the source's access_rights); "
                      "DCAT-AP-NL makes it mandatory")
    rights = _required(lookup(source.m.access_rights, value),
                       f"access_rights {value!r} is not in the access-rights table")
    return [(ref, DCT.accessRights, term(rights.uri)),
            *source.concept(rights.uri, DCT.RightsStatement, label=rights.label)]


def _themes(source: Descriptions, ref: URIRef, ds: DataServiceOptions) -> list[tuple]:
    t: list[tuple] = []
    eu = False
    for value in ds.themes:
        theme = _required(lookup(source.m.theme, value),
                          f"theme {value!r} is not in the themes table")
        for uri in theme_uris(theme):
            t.append((ref, DCAT.theme, term(uri)))
            t.extend(source.concept(uri))
        eu = eu or bool(theme.eu_theme)
    if not eu:
        raise ConfigError(f"{_WHERE}: key 'themes' gives no EU data theme")
    return t


def _agents(source: Descriptions, ref: URIRef, ds: DataServiceOptions,
            portal: str) -> list[tuple]:
    publisher_value = ds.publisher or source.o.catalog_publisher
    publisher = _required(source.agent(publisher_value),
                          f"publisher {publisher_value!r} (data_service.publisher or "
                          "catalog_publisher) is not in the organisations table")
    creator = _required(source.agent(ds.creator) if ds.creator else publisher,
                        f"key 'creator' {ds.creator!r} is not in the organisations table")
    contact = source.contact(portal)
    if contact is None:
        raise ConfigError("[sources.NAME.mapping]: the data service needs a contact point: "
                          "set contact_email or contact_url")
    return [(ref, DCT.publisher, publisher[0]), *publisher[1],
            (ref, DCT.creator, creator[0]), *creator[1],
            (ref, DCAT.contactPoint, contact[0]), *contact[1]]
