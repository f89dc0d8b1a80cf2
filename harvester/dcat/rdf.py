"""The RDF vocabulary the mapper writes.

Each namespace is a `Vocab` whose terms are the shared URIRefs of harvester.dcat.terms, so the
predicates and classes of every mapped graph are the instances the later stages look up.
"""

from __future__ import annotations

from rdflib import URIRef

from harvester.dcat.terms import term

__all__ = [
    "ADMS", "DCAT", "DCATAP", "DCAT_AP_NL_30", "DCT", "FOAF", "GSP", "IANA_MEDIA_TYPES", "LOCN",
    "NAMESPACES", "OWL", "RDF", "RDFS", "SKOS", "SPDX", "TABLE_SCHEMA_SPEC", "TYPE", "VCARD",
    "XSD", "Vocab",
]


class Vocab:
    """A namespace: `DCT.title` (or `DCT["title"]`) is the shared URIRef of `<namespace>title`."""

    def __init__(self, base: str) -> None:
        self._base = base

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("_"):
            raise AttributeError(name)
        ref = self[name]
        setattr(self, name, ref)
        return ref

    def __getitem__(self, name: str) -> URIRef:
        """`VCARD["organization-name"]`: a term whose name is no Python identifier."""
        return term(self._base + name)

    def __str__(self) -> str:
        return self._base


ADMS = Vocab("http://www.w3.org/ns/adms#")
DCAT = Vocab("http://www.w3.org/ns/dcat#")
DCATAP = Vocab("http://data.europa.eu/r5r/")
DCT = Vocab("http://purl.org/dc/terms/")
FOAF = Vocab("http://xmlns.com/foaf/0.1/")
GSP = Vocab("http://www.opengis.net/ont/geosparql#")
LOCN = Vocab("http://www.w3.org/ns/locn#")
OWL = Vocab("http://www.w3.org/2002/07/owl#")
RDF = Vocab("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Vocab("http://www.w3.org/2000/01/rdf-schema#")
SKOS = Vocab("http://www.w3.org/2004/02/skos/core#")
SPDX = Vocab("http://spdx.org/rdf/terms#")
VCARD = Vocab("http://www.w3.org/2006/vcard/ns#")
XSD = Vocab("http://www.w3.org/2001/XMLSchema#")

#: The prefixes an export binds (once, on the export graph; never per dataset).
NAMESPACES: dict[str, str] = {
    "adms": str(ADMS), "dcat": str(DCAT), "dcatap": str(DCATAP), "dct": str(DCT),
    "foaf": str(FOAF), "gsp": str(GSP), "locn": str(LOCN), "owl": str(OWL), "rdf": str(RDF),
    "rdfs": str(RDFS), "skos": str(SKOS), "spdx": str(SPDX), "vcard": str(VCARD),
    "xsd": str(XSD),
}

TYPE = RDF.type
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
TABLE_SCHEMA_SPEC = URIRef("https://specs.frictionlessdata.io/table-schema/")
#: The application profile every catalogue record conforms to.
DCAT_AP_NL_30 = URIRef("https://docs.geostandaarden.nl/dcat/dcat-ap-nl30/")
