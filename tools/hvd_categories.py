"""Writes hvd_categories.csv from the EU Publications Office's HVD category list (SKOS-XL).

    python tools/hvd_categories.py [RDF_FILE] [-o CSV_FILE]

RDF_FILE defaults to ../shared/reference/valuelists/eu-nal-current/high-value-dataset-category.rdf
beside the checkout (see ../shared/reference/SOURCES.md section 7 for its edition); the CSV goes
to harvester/mappings/. Each concept of the scheme http://data.europa.eu/bna/asd487ae75 becomes one
row: its URI, its code (dc:identifier, the last part of the URI), its Dutch and English
skos:prefLabel and the code of its skos:broader concept (empty for the six top categories), in
the list's own order (euvoc:order). The header names the scheme's edition (owl:versionInfo,
dct:issued, dct:modified) and the file read. Not part of the package: a tool run by hand when
the EU publishes a new edition.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import rdflib
from rdflib.namespace import DC, DCTERMS, OWL, RDF, SKOS

SCHEME = rdflib.URIRef("http://data.europa.eu/bna/asd487ae75")
EUVOC_ORDER = rdflib.URIRef("http://publications.europa.eu/ontology/euvoc#order")
CHECKOUT = Path(__file__).resolve().parent.parent
DEFAULT_RDF = CHECKOUT.parent / "shared" / "reference" / "valuelists" / "eu-nal-current" / \
    "high-value-dataset-category.rdf"

_HEADER = """\
# hvd_categories.csv: the EU list of high-value dataset categories (HVD categories)
#
# Source of truth: the EU Publications Office's concept scheme
#   {scheme} ("{title}"),
#   edition {version} (dct:issued {issued}, dct:modified {modified}): {count} concepts, the
#   {tops} top categories of Implementing Regulation (EU) 2023/138 and their sub-categories.
#   Read from its SKOS-XL export
#   {source}
#   (../shared/reference/SOURCES.md section 7) by tools/hvd_categories.py; do
#   not edit by hand, run the script again for a new edition.
# Used for dcatap:hvdCategory of high-value datasets: the configuration's high_value and
# high_value_rules name a category by code or URI (harvester/dcat/hvd.py), and the HVD shapes
# (shapes/dcat-ap-nl-hvd.ttl) check that a category is in this list.
#
# Columns:
#   uri       the concept's URI (http://data.europa.eu/bna/<code>).
#   code      its code (dc:identifier), e.g. c_dd313021.
#   label_nl  its Dutch skos:prefLabel.
#   label_en  its English skos:prefLabel.
#   parent    the code of its broader category; empty for a top category.
"""


def _label(graph: rdflib.Graph, concept: rdflib.URIRef, lang: str) -> str:
    for label in graph.objects(concept, SKOS.prefLabel):
        if isinstance(label, rdflib.Literal) and label.language == lang:
            return " ".join(str(label).split())
    raise SystemExit(f"{concept}: no skos:prefLabel in language {lang!r}")


def _code(graph: rdflib.Graph, concept: rdflib.URIRef) -> str:
    code = graph.value(concept, DC.identifier)
    return str(code) if code is not None else str(concept).rsplit("/", 1)[-1]


def render(graph: rdflib.Graph, source: str) -> str:
    """The CSV text of the HVD categories in `graph`."""
    if (SCHEME, RDF.type, SKOS.ConceptScheme) not in graph:
        raise SystemExit(f"{source}: no skos:ConceptScheme {SCHEME}")
    concepts = sorted(graph.subjects(SKOS.inScheme, SCHEME),
                      key=lambda c: (str(graph.value(c, EUVOC_ORDER) or ""), str(c)))
    out = io.StringIO()
    out.write(_HEADER.format(
        scheme=SCHEME, title=graph.value(SCHEME, DCTERMS.title),
        version=graph.value(SCHEME, OWL.versionInfo), issued=graph.value(SCHEME, DCTERMS.issued),
        modified=graph.value(SCHEME, DCTERMS.modified), count=len(concepts),
        tops=len(set(graph.objects(SCHEME, SKOS.hasTopConcept))), source=source))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["uri", "code", "label_nl", "label_en", "parent"])
    for concept in concepts:
        broader = graph.value(concept, SKOS.broader)
        writer.writerow([str(concept), _code(graph, concept), _label(graph, concept, "nl"),
                         _label(graph, concept, "en"),
                         _code(graph, broader) if broader is not None else ""])
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rdf", nargs="?", type=Path, default=DEFAULT_RDF)
    parser.add_argument("-o", "--output", type=Path, default=CHECKOUT / "harvester" / "mappings" / "hvd_categories.csv")
    args = parser.parse_args(argv)
    graph = rdflib.Graph().parse(args.rdf, format="xml")
    source = "../shared/reference/valuelists/eu-nal-current/" + args.rdf.name
    args.output.write_text(render(graph, source), encoding="utf-8")
    print(f"{args.output}: written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
