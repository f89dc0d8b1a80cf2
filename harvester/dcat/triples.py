"""A mapped dataset's triples: TripleView, a read-only Graph-like index of them by subject.

The later stages (validation, the target package, the quality score) read a mapped dataset
through its TripleView; an rdflib Graph is built from it only when someone asks for one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import Graph
from rdflib.plugins.stores.memory import SimpleMemory

__all__ = ["TripleView", "add_objects", "graph_of", "new_graph"]


class TripleView:
    """A read-only, rdflib-Graph-like view of a fixed set of triples, indexed by subject.

    It answers the Graph reads the pipeline's stages use: iteration (subjects, their predicates
    and objects in the order they were first added), `len`, `in` (None is a wildcard),
    `objects`, `subjects`, `predicate_objects`, `value` and `triples`; `graph()` builds the
    rdflib Graph. Duplicate triples count once.
    """

    __slots__ = ("spo",)

    def __init__(self, triples: Iterable[tuple] = ()) -> None:
        #: subject -> predicate -> {object: None} (do not modify)
        self.spo: dict[Any, dict[Any, dict[Any, None]]] = {}
        for s, p, o in triples:
            self.spo.setdefault(s, {}).setdefault(p, {})[o] = None

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
        for subject, po in self._subjects(s):
            for predicate, os_ in _matching(po, p):
                if o is None:
                    for obj in os_:
                        yield subject, predicate, obj
                elif o in os_:
                    yield subject, predicate, o

    def _subjects(self, s: Any):
        if s is None:
            return self.spo.items()
        return ((s, self.spo[s]),) if s in self.spo else ()

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
        return graph_of(self)


def _matching(po: dict, p: Any):
    if p is None:
        return po.items()
    return ((p, po[p]),) if p in po else ()


def add_objects(mine: dict, po: dict) -> None:
    """Add the predicate -> objects dicts `po` of one subject to `mine`, another index's dicts of
    that subject (whose object dicts are its own: they are added to, `po`'s are copied)."""
    for p, os_ in po.items():
        have = mine.get(p)
        if have is None:
            mine[p] = dict(os_)
        else:
            have.update(os_)


def new_graph() -> Graph:
    """An empty graph on rdflib's SimpleMemory store, whose plain insertion-ordered dicts give
    the same order in every process."""
    return Graph(store=SimpleMemory())


def graph_of(triples: Iterable[tuple]) -> Graph:
    """`triples` (terms the mapper built) in a new graph, in their order."""
    graph = new_graph()
    store_add = graph.store.add
    for triple in triples:
        store_add(triple, graph, False)
    return graph
