"""The vocabulary by subject (harvester.dcat.vocabulary) and the background by subject
(harvester.shacl.background.BackgroundBySubject) say exactly what the whole graphs say, in the
same order: a run that looks terms up one by one sees what one built whole would see."""

from __future__ import annotations

import pytest
from rdflib import BNode, Literal, URIRef

from harvester.dcat.tables import load_mappings
from harvester.shacl.background import BackgroundBySubject, background_graph
from harvester.shacl.validator import _background_spo


@pytest.fixture(scope="module")
def mappings():
    return load_mappings()


def _by_subject(graph) -> dict:
    index: dict = {}
    for s, p, o in graph:
        index.setdefault(s, {}).setdefault(p, {})[o] = None
    return index


def _ordered(po: dict | None) -> list | None:
    return None if po is None else [(p, list(objects)) for p, objects in po.items()]


def test_each_subject_is_described_as_the_whole_graph_describes_it(mappings):
    whole = _by_subject(mappings.vocabulary_graph())
    vocabulary = load_mappings().vocabulary()  # fresh: nothing looked up yet
    assert len(whole) > 10_000  # the value lists' terms are in it
    for subject, po in whole.items():
        assert _ordered(vocabulary.about(subject)) == _ordered(po), subject


def test_the_whole_graph_is_the_triples_in_order(mappings):
    vocabulary = mappings.vocabulary()
    assert set(vocabulary.graph()) == set(vocabulary.triples())
    assert mappings.vocabulary_graph() is mappings.vocabulary_graph()


def test_what_the_vocabulary_does_not_hold_is_none(mappings):
    vocabulary = mappings.vocabulary()
    for node in (URIRef("http://example.org/not-a-term"), Literal("nl"), BNode()):
        assert vocabulary.about(node) is None
    language = URIRef("http://publications.europa.eu/resource/authority/language/NLD")
    assert vocabulary.about(Literal(str(language))) is None
    assert vocabulary.about(language) is not None


def test_the_background_by_subject_is_the_whole_background_indexed(mappings):
    whole = _background_spo(background_graph(mappings.vocabulary_graph()))
    lazy = BackgroundBySubject(load_mappings().vocabulary())
    for subject, po in whole.items():
        assert _ordered(lazy.get(subject)) == _ordered(po), subject
    assert lazy.get(URIRef("http://example.org/not-a-term")) is None
    assert lazy.get(Literal("x"), "absent") == "absent"
