"""The catalogue export: the dcat:Catalog graph plus every dataset graph, as one RDF document.

`export_catalog(datasets, context, mappings, options, fmt)` returns bytes (UTF-8) in Turtle,
JSON-LD or RDF/XML. The export is

* deterministic: the same datasets give the same bytes, in whatever order they come. The mapper
  makes no blank nodes (should one turn up, it is replaced by an IRI derived from the graph's
  canonical form), the triples are added to the output graph in sorted order and the Turtle
  serializer sorts subjects and objects itself;
* self-contained: every node a shape gives a class range is typed in it (agents foaf:Agent,
  contact points vcard:Kind, documents foaf:Document, standards dct:Standard, licences
  dct:LicenseDocument, periods dct:PeriodOfTime, locations dct:Location, ...), and the
  vocabulary concepts it uses (EU data themes, OWMS themes, organisations, file types, ...) are
  described with rdf:type skos:Concept, skos:prefLabel and skos:inScheme.

The prefixes of NAMESPACES are bound once on the output graph; nothing is bound per dataset.
Turtle is written by a subclass of rdflib's serializer that abbreviates only those namespaces:
rdflib's own would register a namespace for every dataset and distribution IRI and slow down
quadratically with the number of datasets.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.plugins.serializers.turtle import TurtleSerializer
from rdflib.plugins.stores.memory import SimpleMemory

from harvester.dcat.catalog import catalog_graph
from harvester.dcat.dataset import MappedDataset
from harvester.dcat.options import MappingOptions
from harvester.dcat.rdf import DCAT, NAMESPACES, RDF
from harvester.errors import HarvesterError
from harvester.source.context import SourceContext

__all__ = ["FORMATS", "export_catalog", "export_graph", "serialize_graph"]

#: Accepted `fmt` values -> (rdflib serializer name, file extension, media type).
FORMATS: dict[str, tuple[str, str, str]] = {
    "turtle": ("turtle", "ttl", "text/turtle"),
    "ttl": ("turtle", "ttl", "text/turtle"),
    "json-ld": ("json-ld", "jsonld", "application/ld+json"),
    "jsonld": ("json-ld", "jsonld", "application/ld+json"),
    "xml": ("xml", "rdf", "application/rdf+xml"),
    "rdf": ("xml", "rdf", "application/rdf+xml"),
    "rdfxml": ("xml", "rdf", "application/rdf+xml"),
}


def export_graph(datasets: Iterable[MappedDataset], context: SourceContext, mappings: Any,
                 options: MappingOptions) -> Graph:
    """The catalogue graph and all dataset graphs in one graph, triples added in sorted order
    (so the graph's own order does not depend on the order of `datasets`)."""
    items = list(datasets)
    catalog = catalog_graph(items, context, mappings, options)
    triples: set[tuple] = set(catalog)
    for mapped in items:
        triples.update(mapped.graph)
    if any(isinstance(term, BNode) for triple in triples for term in triple):
        catalog_uri = catalog.value(predicate=RDF.type, object=DCAT.Catalog)
        triples = _skolemised(triples, str(catalog_uri or "urn:dcat-ap-nl-harvester:catalog"))
    # SimpleMemory keeps triples in insertion-ordered dicts only (the default store also keeps
    # a set of them, whose order depends on the process's string hashing), so serializers that
    # emit in store order (JSON-LD, RDF/XML) give the same bytes in every process.
    graph = Graph(store=SimpleMemory(), bind_namespaces="none")
    for prefix, namespace in sorted(NAMESPACES.items()):
        graph.bind(prefix, namespace, override=True, replace=True)
    store_add = graph.store.add
    for triple in sorted(triples, key=_triple_key):
        store_add(triple, graph, False)
    return graph


def serialize_graph(graph: Graph, fmt: str = "turtle") -> bytes:
    """`graph` as UTF-8 bytes in `fmt` (see FORMATS)."""
    try:
        serializer = FORMATS[fmt.lower()][0]
    except KeyError:
        raise HarvesterError(f"unknown export format {fmt!r}; expected one of: "
                             f"{', '.join(sorted(FORMATS))}") from None
    if serializer == "json-ld":
        data = graph.serialize(format="json-ld", context=dict(sorted(NAMESPACES.items())),
                               auto_compact=True, sort_keys=True, indent=2, encoding="utf-8")
        return _sorted_json_ld(data)
    if serializer == "turtle":
        stream = io.BytesIO()
        _TurtleSerializer(graph).serialize(stream, encoding="utf-8")
        return stream.getvalue()
    data = graph.serialize(format=serializer, encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode("utf-8")


def export_catalog(datasets: Iterable[MappedDataset], context: SourceContext, mappings: Any,
                   options: MappingOptions, fmt: str = "turtle") -> bytes:
    """The whole catalogue (catalogue graph + every dataset graph) as bytes in `fmt`:
    "turtle" (default), "json-ld" or "xml" (RDF/XML). Deterministic and self-contained."""
    if fmt.lower() not in FORMATS:
        raise HarvesterError(f"unknown export format {fmt!r}; expected one of: "
                             f"{', '.join(sorted(FORMATS))}")
    return serialize_graph(export_graph(datasets, context, mappings, options), fmt)


_PREFIXES = sorted(((p, ns) for p, ns in NAMESPACES.items()), key=lambda item: -len(item[1]))
_SAFE_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _TurtleSerializer(TurtleSerializer):
    """rdflib's Turtle serializer, with prefixed names only for the shared NAMESPACES.

    rdflib computes a prefixed name for every IRI it writes, and keeps every namespace part it
    sees (".../dataset/<id>/resource/", ".../dataset/<id>#", ...) in a trie it scans linearly:
    with thousands of datasets that makes serialising quadratic. Here every other IRI is
    written in full, without touching rdflib's namespace manager."""

    def get_pname(self, uri: Any, gen_prefix: bool = True) -> str | None:
        if not isinstance(uri, URIRef):
            return None
        for prefix, namespace in _PREFIXES:
            if uri.startswith(namespace):
                local = uri[len(namespace):]
                if not _SAFE_LOCAL.match(local):
                    return None
                return f"{self.addNamespace(prefix, URIRef(namespace))}:{local}"
        return None


# --- helpers ------------------------------------------------------------------------------------


def _term_key(term: Any) -> tuple:
    if isinstance(term, Literal):
        return (2, str(term), str(term.datatype or ""), term.language or "")
    if isinstance(term, BNode):
        return (1, str(term), "", "")
    return (0, str(term), "", "")


def _triple_key(triple: tuple) -> tuple:
    s, p, o = triple
    return (_term_key(s), str(p), _term_key(o))


def _sorted_json_ld(data: bytes | str) -> bytes:
    """rdflib's JSON-LD serializer walks the subjects through a set (hash order, which differs
    per process): sort the nodes by @id and every multi-valued property's values."""
    doc = json.loads(data)

    def canonical(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (v if k == "@list" else canonical(v)) for k, v in value.items()}
        if isinstance(value, list):
            items = [canonical(v) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        return value

    if isinstance(doc, dict) and isinstance(doc.get("@graph"), list):
        doc["@graph"] = sorted((canonical(n) for n in doc["@graph"]),
                               key=lambda n: (str(n.get("@id", "")) if isinstance(n, dict)
                                              else "", json.dumps(n, sort_keys=True)))
    else:
        doc = canonical(doc)
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8") + b"\n"


def _skolemised(triples: set[tuple], base: str) -> set[tuple]:
    """Blank nodes replaced by IRIs named after the canonical (content-derived) labels."""
    g = Graph()
    for triple in triples:
        g.add(triple)
    canonical = to_canonical_graph(g)
    root = base.split("#", 1)[0].rstrip("/")

    def fix(term: Any) -> Any:
        return URIRef(f"{root}/.well-known/genid/{term}") if isinstance(term, BNode) else term

    return {(fix(s), p, fix(o)) for s, p, o in canonical}
