"""One URIRef instance per vocabulary IRI, shared by every stage.

The stages look triples up in dicts keyed by rdflib terms. A lookup whose key is the very object
stored in the dict is settled by identity; an equal but distinct URIRef costs a call of rdflib's
Python-level `__eq__`. The mapper builds its predicates, classes and value-table IRIs through
`term`, and validation, conversion and the quality score look them up through `term` too, so
those lookups are identity hits. Only vocabulary and value-table IRIs belong here (a bounded set),
never the IRIs of datasets and distributions.
"""

from __future__ import annotations

from typing import Any

from rdflib import URIRef

_TERMS: dict[str, URIRef] = {}


def term(iri: str) -> URIRef:
    """The shared URIRef for `iri`."""
    found = _TERMS.get(iri)
    if found is None:
        found = _TERMS[iri] = URIRef(iri)
    return found


def shared(node: Any) -> Any:
    """`node` as its shared instance when it is a URIRef, else `node` itself."""
    return term(str(node)) if type(node) is URIRef else node
