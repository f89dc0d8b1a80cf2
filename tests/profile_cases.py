"""The rules on which the two DCAT-AP-NL profiles differ, as cases on the hand-written DUO-like
graphs (tests/fixtures/graphs/): each is an "at most one" of the adopted DCAT-AP-NL 3.0 (profile
"3.0") that the 3.0.1 working version widened to "many" (shapes/README.md, "Profiles").

Used by tests/test_validate.py (our shapes) and tests/test_shapes_agreement.py (ours against
the official shapes of each version).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "graphs"

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"

P01 = URIRef("https://onderwijsdata.duo.nl/dataset/p01hoinges")
P01_DIST = URIRef(
    "https://onderwijsdata.duo.nl/dataset/p01hoinges/resource/3b1a7f5e-0f7c-4d0e-9a55-1c2d3e4f5a6b"
)
SERVICE = URIRef("https://onderwijsdata.duo.nl/api/3/action/datastore_search")
CATALOG = URIRef("https://onderwijsdata.duo.nl/catalog")
SECOND_CONTACT = URIRef("https://onderwijsdata.duo.nl/#tweede-contactpunt")
RIGHTS = Namespace("https://onderwijsdata.duo.nl/#rechten-")


def load(*names: str) -> Graph:
    g = Graph()
    for name in names:
        g.parse(FIXTURES / name, format="turtle")
    return g


def second_contact(g: Graph, node: URIRef) -> None:
    g.add((node, DCAT.contactPoint, SECOND_CONTACT))
    g.add((SECOND_CONTACT, RDF.type, VCARD.Organization))
    g.add((SECOND_CONTACT, VCARD.fn, Literal("DUO Informatieproducten", lang="nl")))


def second_language(g: Graph, node: URIRef) -> None:
    g.add((node, DCT.language, URIRef(EU_LANGUAGE + "ENG")))


def two_spatial_resolutions(g: Graph, node: URIRef) -> None:
    for metres in ("10.0", "100.0"):
        g.add((node, DCAT.spatialResolutionInMeters, Literal(metres, datatype=XSD.decimal)))


def two_rights(g: Graph, node: URIRef) -> None:
    for name in ("a", "b"):
        g.add((node, DCT.rights, RIGHTS[name]))
        g.add((RIGHTS[name], RDF.type, DCT.RightsStatement))


#: (fixture graphs, node, what gives it a second value, property): valid in both profiles as
#: loaded; with the second value a violation in "3.0" only
PROFILE_DIFFERENCES: list[tuple[tuple[str, ...], URIRef, Callable[[Graph, URIRef], None], URIRef]] = [
    (("duo-p01hoinges.ttl",), P01, second_contact, DCAT.contactPoint),
    (("duo-p01hoinges.ttl",), P01, two_spatial_resolutions, DCAT.spatialResolutionInMeters),
    (("duo-p01hoinges.ttl",), P01_DIST, second_language, DCT.language),
    (("duo-p01hoinges.ttl",), P01_DIST, two_rights, DCT.rights),
    (("duo-dataservice.ttl", "duo-p01hoinges.ttl"), SERVICE, second_contact, DCAT.contactPoint),
    (("duo-catalog.ttl", "duo-p01hoinges.ttl", "duo-adressen-ho.ttl"), CATALOG, two_rights, DCT.rights),
]


def widened(names: tuple[str, ...], node: URIRef, add_second: Callable[[Graph, URIRef], None]) -> Graph:
    """The fixture graphs `names` with a second value added to `node` by `add_second`."""
    g = load(*names)
    add_second(g, node)
    return g


def case_id(case: tuple) -> str:
    """A short test id for a PROFILE_DIFFERENCES case."""
    _, node, add_second, _ = case
    return f"{str(node).rsplit('/', 1)[-1][:16]}-{add_second.__name__}"
