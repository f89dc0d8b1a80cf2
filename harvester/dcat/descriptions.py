"""The triples that describe what a source's datasets link to, built once per source.

Every node a dataset graph links to is typed and described in that graph, so each graph
validates on its own: value-list concepts (with skos:prefLabel and skos:inScheme, as the mapping
tables describe them), their concept schemes, licences, organisations and the source's own
contact point. `Descriptions` builds each description once per (mapping tables, options) pair
and hands out the same tuple of triples to every graph that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rdflib import Literal, URIRef

from harvester.dcat.options import MappingOptions, catalog_uri
from harvester.dcat.rdf import DCT, FOAF, RDFS, SKOS, TYPE, VCARD
from harvester.dcat.tables import lookup
from harvester.dcat.terms import shared, term
from harvester.dcat.text import single_line

__all__ = ["Descriptions", "contact_triples", "descriptions_for", "scheme_label", "theme_uris"]


class Descriptions:
    """A source's mapping tables and options, and the descriptions built from them."""

    def __init__(self, mappings: Any, options: MappingOptions) -> None:
        self.m = mappings
        self.o = options
        self.lang = options.default_language
        self.service_uri = URIRef(options.data_service.uri) if options.data_service else None
        self._built: dict[tuple, Any] = {}
        self._about: Callable[[URIRef], dict | None] | None = None

    def cached(self, key: tuple, build: Callable[[], Any]) -> Any:
        """`build()`, called once per `key` (not kept when it raises)."""
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    def text(self, value: str) -> Literal:
        """A literal in the metadata's language (`default_language`)."""
        return Literal(value, lang=self.lang)

    def about(self, ref: URIRef) -> dict:
        """What the mapping tables' vocabulary says of `ref` (predicate -> objects; empty when
        nothing), looked up by subject (harvester.dcat.vocabulary)."""
        if self._about is None:
            vocabulary = getattr(self.m, "vocabulary", None)
            self._about = vocabulary().about if vocabulary is not None else lambda ref: None
        return self._about(ref) or {}

    def concept(self, uri: str, *classes: URIRef, label: str | None = None,
                skos_concept: bool = True) -> tuple:
        """Triples describing a value-list term, as the mapping tables describe it (the same
        triples the validator's background graph holds), plus `classes`. With `skos_concept`
        it is also made a skos:Concept with a Dutch skos:prefLabel and its skos:inScheme.
        The first call for (uri, classes, skos_concept) decides the label."""
        return self.cached(("concept", uri, classes, skos_concept),
                           lambda: self._concept(uri, classes, label, skos_concept))

    def _concept(self, uri: str, classes: tuple, label: str | None,
                 skos_concept: bool) -> tuple:
        ref = term(uri)
        triples = [(ref, shared(p), shared(o)) for p, objects in self.about(ref).items()
                   if p != SKOS.exactMatch for o in objects]
        triples.extend((ref, TYPE, cls) for cls in classes)
        if skos_concept:
            triples.extend(self._skos_concept(ref, label, {p for _, p, _ in triples}))
        for scheme in [o for _, p, o in triples if p == SKOS.inScheme]:
            triples.extend(self.scheme(str(scheme)))
        return tuple(dict.fromkeys(triples))

    def _skos_concept(self, ref: URIRef, label: str | None, has: set) -> list[tuple]:
        found = scheme_label(self.m, str(ref))
        name, scheme = found if found is not None else (label, None)
        if not name:
            return []
        triples = [(ref, TYPE, SKOS.Concept)]
        if SKOS.prefLabel not in has:
            triples.append((ref, SKOS.prefLabel, Literal(name, lang="nl")))
        if scheme and SKOS.inScheme not in has:
            triples.append((ref, SKOS.inScheme, term(scheme)))
        return triples

    def scheme(self, scheme: str) -> tuple:
        """A concept scheme: skos:ConceptScheme with the dct:title DCAT-AP requires (the label
        the mapping tables give it, else its URI)."""
        return self.cached(("scheme", scheme), lambda: self._scheme(scheme))

    def _scheme(self, scheme: str) -> tuple:
        ref = term(scheme)
        labels = self.about(URIRef(scheme)).get(SKOS.prefLabel, ())
        title = str(next(iter(labels))) if labels else ""
        return ((ref, TYPE, SKOS.ConceptScheme),
                (ref, DCT.title, Literal(title, lang="nl") if title else Literal(scheme)))

    def agent(self, value: str | None) -> tuple[URIRef, tuple] | None:
        """(URI, triples) of an organisation from the organisations table, None if unknown.
        The organisation is a foaf:Agent with foaf:name and, as a term of the organisations
        value list, a skos:Concept with skos:prefLabel and skos:inScheme."""
        if not value:
            return None
        return self.cached(("agent", value), lambda: self._agent(value))

    def _agent(self, value: str) -> tuple[URIRef, tuple] | None:
        org = lookup(self.m.organisation, value)
        if org is None or not getattr(org, "uri", None):
            return None
        ref = term(org.uri)
        name_en = getattr(org, "name_en", None)
        name_nl = getattr(org, "name_nl", None) or name_en
        triples = list(self.concept(org.uri, FOAF.Agent, label=name_nl))
        if FOAF.name not in {p for _, p, _ in triples}:
            if name_nl:
                triples.append((ref, FOAF.name, Literal(name_nl, lang="nl")))
            if name_en and name_en != name_nl:
                triples.append((ref, FOAF.name, Literal(name_en, lang="en")))
        return ref, tuple(triples)

    def licence(self, licence: Any) -> tuple:
        """A licence: dct:LicenseDocument with its label (as the licences table has it)."""
        return self.cached(("licence", licence.uri), lambda: self._licence(licence))

    def _licence(self, licence: Any) -> tuple:
        triples = list(self.concept(licence.uri, DCT.LicenseDocument, skos_concept=False))
        label = getattr(licence, "label", None)
        if label and not any(p == RDFS.label for _, p, _ in triples):
            triples.append((term(licence.uri), RDFS.label, Literal(label, lang="nl")))
        return tuple(triples)

    def contact(self, portal: str) -> tuple[URIRef, tuple] | None:
        """(URI, triples) of the source's own contact point (`contact_*` options), None when
        neither contact_email nor contact_url is set."""
        o = self.o
        if not (o.contact_email or o.contact_url):
            return None

        def build() -> tuple[URIRef, tuple]:
            ref = URIRef(o.contact_uri or f"{catalog_uri(o, portal)}#contact")
            return ref, contact_triples(ref, o.contact_name, o.contact_email, o.contact_url)

        return self.cached(("contact", portal), build)


def contact_triples(ref: URIRef, name: str | None, email: str | None,
                    url: str | None) -> tuple:
    """A contact point: vcard:Kind with vcard:fn (the name, else the address), vcard:hasEmail
    and vcard:hasURL."""
    triples = [(ref, TYPE, VCARD.Kind)]
    fn = single_line(name or email or url or "")
    if fn:
        triples.append((ref, VCARD.fn, Literal(fn)))
    if email:
        triples.append((ref, VCARD.hasEmail, URIRef(f"mailto:{email}")))
    if url:
        triples.append((ref, VCARD.hasURL, URIRef(url)))
    return tuple(triples)


def scheme_label(mappings: Any, uri: str) -> tuple[str, str | None] | None:
    """(label, concept scheme) the mapping tables give `uri`, None when they give no label."""
    try:
        found = mappings.label(uri)
    except (KeyError, ValueError, TypeError):
        return None
    if not found:
        return None
    name, scheme = found
    return (name, scheme) if name else None


def descriptions_for(mappings: Any, options: MappingOptions) -> Descriptions:
    """The Descriptions of (mappings, options), made once and kept on `options`."""
    entry = options.__dict__.get("_mapper_cache")
    if entry is None or entry[0] is not mappings:
        entry = (mappings, Descriptions(mappings, options))
        options.__dict__["_mapper_cache"] = entry
    return entry[1]


def theme_uris(theme: Any) -> list[str]:
    """The theme URIs a themes table entry gives: its EU data theme, then its OWMS themes."""
    uris = []
    if getattr(theme, "eu_theme", None):
        uris.append(theme.eu_theme)
    for uri in getattr(theme, "owms_themes", ()) or ():
        if uri and uri not in uris:
            uris.append(uri)
    return uris
