"""The vocabulary the mapping tables and value lists describe, by subject, made as it is asked for.

The vocabulary graph (`Mappings.vocabulary_graph()`) holds every URI the tables map to, typed and
labelled, and every term of the complete value lists (tens of thousands of triples, most of them
the 8,000 languages and 2,000 media types of the lists). A run needs the description of the few
terms its datasets use: the mapper describes each term a dataset links to, the compiled SHACL
engine looks a node's types and scheme up by subject. `Vocabulary` answers `about(subject)` with
that subject's predicates and objects exactly as the whole graph holds them (the same triples,
the predicates in the order they were first added, each one's objects in the order added), and
makes the whole graph only when asked (`graph()`: pySHACL, a check of the whole background).

The triples of the tables (`table_triples`, a few thousand) are indexed at once; those of a list
term only when that term is asked for. The order of the whole graph is: the tables' triples, then
each list in the registry's order, its scheme (unless the tables describe it) and its terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import rdflib

from harvester.dcat.value_lists import ValueList, scheme_triples, term_triples, twin_triples, twins

__all__ = ["PredicateObjects", "Vocabulary", "add_triple"]

#: predicate -> {object: None}: a subject's triples, in the order they were added
PredicateObjects = dict[Any, dict[Any, None]]


def add_triple(spo: dict[Any, PredicateObjects], s: Any, p: Any, o: Any) -> None:
    """Add (s, p, o) to a subject index, keeping the order of first addition."""
    po = spo.get(s)
    if po is None:
        spo[s] = {p: {o: None}}
        return
    objects = po.get(p)
    if objects is None:
        po[p] = {o: None}
    else:
        objects[o] = None


class Vocabulary:
    """The vocabulary graph's triples by subject (see the module docstring). Do not modify what
    it returns: the mapper and the validator share it."""

    def __init__(self, table_triples: Callable[[], Iterable[tuple]], lists: dict[str, ValueList],
                 described: set[str], schemes: set[str]) -> None:
        self._table_triples = table_triples
        self._lists = tuple(lists.values())
        self._described = described
        self._schemes = schemes
        self._tables: dict[Any, PredicateObjects] | None = None
        self._lists_of: dict[str, tuple[int, ...]] | None = None
        self._made: dict[Any, PredicateObjects | None] = {}

    def about(self, subject: Any) -> PredicateObjects | None:
        """`subject`'s predicates and objects, None when the vocabulary says nothing of it."""
        found = self._made.get(subject, self)
        if found is self:
            found = self._made[subject] = self._describe(subject)
        return found  # type: ignore[return-value]

    def _describe(self, subject: Any) -> PredicateObjects | None:
        if not isinstance(subject, rdflib.URIRef):
            return None
        tables = self._table_index()
        own = tables.get(subject)
        picks = self._list_index().get(str(subject), ())
        if not picks:
            return own
        spo: dict[Any, PredicateObjects] = {}
        for p, objects in (own or {}).items():
            spo.setdefault(subject, {})[p] = dict(objects)
        for index in picks:
            for s, p, o in self._list_triples(self._lists[index], str(subject)):
                add_triple(spo, s, p, o)
        return spo.get(subject)

    def _list_triples(self, found: ValueList, uri: str) -> Iterator[tuple]:
        if found.scheme == uri and uri not in self._schemes:
            yield from scheme_triples(found)
        if uri in found.terms and uri not in self._described:
            yield from term_triples(found, uri)
        elif uri not in found.terms and found.scheme != uri:
            yield from twin_triples(found, uri)

    def _table_index(self) -> dict[Any, PredicateObjects]:
        if self._tables is None:
            spo: dict[Any, PredicateObjects] = {}
            for s, p, o in self._table_triples():
                add_triple(spo, s, p, o)
            self._tables = spo
        return self._tables

    def _list_index(self) -> dict[str, tuple[int, ...]]:
        """Which lists (by position) hold each term or scheme URI."""
        if self._lists_of is None:
            lists_of: dict[str, tuple[int, ...]] = {}
            for index, found in enumerate(self._lists):
                for uri in (found.scheme, *found.terms, *twins(found)):
                    held = lists_of.get(uri, ())
                    if index not in held:
                        lists_of[uri] = (*held, index)
            self._lists_of = lists_of
        return self._lists_of

    def triples(self) -> Iterator[tuple]:
        """Every triple, in the whole graph's order."""
        yield from self._table_triples()
        for found in self._lists:
            if found.scheme not in self._schemes:
                yield from scheme_triples(found)
            for uri in found.terms:
                if uri not in self._described:
                    yield from term_triples(found, uri)
            for twin in twins(found):
                yield from twin_triples(found, twin)

    def graph(self) -> rdflib.Graph:
        """The whole vocabulary as an rdflib graph (SimpleMemory store)."""
        g = rdflib.Graph(store="SimpleMemory")
        g.bind("skos", rdflib.namespace.SKOS)
        g.bind("dct", rdflib.namespace.DCTERMS)
        g.bind("foaf", rdflib.namespace.FOAF)
        add = g.add
        for triple in self.triples():
            add(triple)
        return g
