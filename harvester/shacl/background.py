"""The background graph: what every validation knows besides the data.

The shapes test class ranges and value-list membership, which needs to know what the values
*are* (that .../data-theme/EDUC is a skos:Concept in the EU data-theme list, that a licence URI
is a dct:LicenseDocument, ...). The project's mapping tables know that: every validation adds the
background graph built by `background_graph()` from `load_mappings().vocabulary_graph()`, with
the class axioms of the vocabularies DCAT-AP reuses, to the data.

The compiled engine looks the background up by subject only: `BackgroundBySubject` gives it the
same triples as `background_graph()` of the vocabulary graph, each subject's made from the
mapping tables' `Vocabulary` when first looked up, so a run never builds the whole graph (tens of
thousands of value-list terms) for the few terms its datasets use.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import rdflib
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from harvester.dcat.terms import shared
from harvester.dcat.vocabulary import PredicateObjects, Vocabulary, add_triple
from harvester.errors import HarvesterError

_DCT = rdflib.Namespace("http://purl.org/dc/terms/")
_EU = "http://publications.europa.eu/resource/authority/"

# Class axioms of the vocabularies DCAT-AP reuses (DCAT 3, DCMI Terms, FOAF, vCard), as far as
# class-range checks need them: a dcat:Dataset is a dcat:Resource (the range of
# foaf:primaryTopic), a dct:MediaType is a dct:MediaTypeOrExtent (the range of dct:format), a
# foaf:Organization is a foaf:Agent, a vcard:Organization is a vcard:Kind.
_AXIOMS_TTL = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
dcat:Dataset rdfs:subClassOf dcat:Resource .
dcat:DataService rdfs:subClassOf dcat:Resource .
dcat:Catalog rdfs:subClassOf dcat:Resource .
dcat:DatasetSeries rdfs:subClassOf dcat:Resource .
dct:MediaType rdfs:subClassOf dct:MediaTypeOrExtent .
foaf:Organization rdfs:subClassOf foaf:Agent .
foaf:Person rdfs:subClassOf foaf:Agent .
foaf:Group rdfs:subClassOf foaf:Agent .
vcard:Organization rdfs:subClassOf vcard:Kind .
vcard:Individual rdfs:subClassOf vcard:Kind .
vcard:Group rdfs:subClassOf vcard:Kind .
vcard:Location rdfs:subClassOf vcard:Kind .
"""

# A concept of these EU lists is used as the value of a property whose DCMI/DCAT range is the
# class given here (dct:accessRights -> dct:RightsStatement, dct:language ->
# dct:LinguisticSystem, dct:accrualPeriodicity -> dct:Frequency, dct:format ->
# dct:MediaTypeOrExtent). The EU publishes e.g. its frequency concepts typed dct:Frequency;
# our tables hold only URIs and labels, so the background graph adds these types.
SCHEME_RANGE_TYPES: dict[str, URIRef] = {
    _EU + "access-right": _DCT.RightsStatement,
    _EU + "language": _DCT.LinguisticSystem,
    _EU + "frequency": _DCT.Frequency,
    _EU + "file-type": _DCT.MediaTypeOrExtent,
}


class VocabularyError(HarvesterError):
    """The vocabulary background graph (from the mapping tables) cannot be built."""


def background_graph(vocabulary: Graph | None = None) -> Graph:
    """The knowledge every validation adds to the data: class axioms + the value-list vocabulary.

    `vocabulary` is `load_mappings().vocabulary_graph()` (or a test's stand-in). The result also
    types every concept of the EU access-right, language, frequency and file-type lists with the
    class its property expects (see SCHEME_RANGE_TYPES).
    """
    g = Graph(store="SimpleMemory")  # quicker to fill than the default store; same lookups
    g.parse(data=_AXIOMS_TTL, format="turtle")
    if vocabulary is None:
        return g
    add = g.add
    for triple in vocabulary:
        add(triple)
    for scheme, cls in SCHEME_RANGE_TYPES.items():
        typed = set(vocabulary.subjects(RDF.type, cls))  # the value lists type their terms
        for concept in vocabulary.subjects(SKOS.inScheme, URIRef(scheme)):
            if concept not in typed:
                add((concept, RDF.type, cls))
    return g


class BackgroundBySubject:
    """`background_graph(vocabulary.graph())` indexed by subject (predicate -> {object: None},
    in the graph's order, vocabulary IRIs as their shared instances), each subject's entry made
    when first looked up: what the compiled engine reads (`get`)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._vocabulary = vocabulary
        self._axioms: dict[Any, PredicateObjects] = {}
        for t in Graph().parse(data=_AXIOMS_TTL, format="turtle"):
            add_triple(self._axioms, *t)
        self._made: dict[Any, PredicateObjects | None] = {}

    def get(self, subject: Any, default: Any = None) -> Any:
        found = self._made.get(subject, self)
        if found is self:
            found = self._made[subject] = self._describe(subject)
        return default if found is None else found

    def _describe(self, subject: Any) -> PredicateObjects | None:
        parts = [po for po in (self._axioms.get(subject), self._vocabulary.about(subject)) if po]
        if not parts:
            return None
        po: PredicateObjects = {}
        for part in parts:
            for p, objects in part.items():
                mine = po.setdefault(shared(p), {})
                for o in objects:
                    mine[shared(o)] = None
        schemes = po.get(SKOS.inScheme, ())
        types = po.get(RDF.type, {})
        for scheme, cls in SCHEME_RANGE_TYPES.items():
            if URIRef(scheme) in schemes and cls not in types:
                types = po.setdefault(RDF.type, types)
                types[shared(cls)] = None
        return po


_default_background: Graph | None = None
_default_background_lock = threading.Lock()


def default_background() -> Graph:
    """background_graph() over the project's mapping tables (built once per process)."""
    global _default_background
    with _default_background_lock:
        if _default_background is None:
            try:
                from harvester.dcat.tables import load_mappings
            except ImportError as exc:  # pragma: no cover - the module is part of the project
                raise VocabularyError(
                    f"cannot build the validation background graph: harvester.dcat.tables is "
                    f"not importable ({exc})"
                ) from exc
            _default_background = background_graph(load_mappings().vocabulary_graph())
        return _default_background


class BackgroundIndex:
    """The background graph by subject, for collecting the part a data graph can reach."""

    def __init__(self, background: Graph) -> None:
        self._background = background
        self._by_subject: dict[rdflib.term.Node, list[tuple]] | None = None
        self._always: list[tuple] = []

    def _index(self) -> dict[rdflib.term.Node, list[tuple]]:
        """The index, made when first asked for (the compiled engine never asks)."""
        if self._by_subject is None:
            by_subject: dict[rdflib.term.Node, list[tuple]] = defaultdict(list)
            for t in self._background:
                if t[1] == RDFS.subClassOf:
                    self._always.append(t)
                else:
                    by_subject[t[0]].append(t)
            self._by_subject = by_subject
        return self._by_subject

    def reachable_from(self, data: Graph) -> Iterator[tuple]:
        """Every rdfs:subClassOf axiom, and the background's triples about the nodes `data`
        has, and about the nodes those link to (and so on)."""
        by_subject = self._index()
        yield from self._always
        todo = [n for t in data for n in (t[0], t[2]) if not isinstance(n, Literal)]
        seen: set[rdflib.term.Node] = set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for t in by_subject.get(node, ()):
                yield t
                if not isinstance(t[2], Literal):
                    todo.append(t[2])


__all__ = [
    "SCHEME_RANGE_TYPES",
    "BackgroundBySubject",
    "BackgroundIndex",
    "VocabularyError",
    "background_graph",
    "default_background",
]
