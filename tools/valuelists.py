"""Write the value lists in harvester/mappings/valuelists/ from the reference data in ../shared.

    python tools/valuelists.py [--shared ../shared]

Reads the EU Publications Office authority tables, the ADMS vocabulary, IANA's media-types
registry and data.overheid.nl's value lists under ../shared/reference/valuelists (see
../shared/reference/SOURCES.md, sections 4, 7 and 8), and writes one CSV per list plus the
registry harvester/mappings/valuelists.csv, which names each list's scheme, source and edition.
The output is sorted and deterministic: run it again after ../shared gets a newer edition and
review the difference as data.

Lists with no copy in ../shared are written from what this script holds, with their source said
in the registry: dataset-status and planned-availability (closed lists of a few codes), and
countries (ISO 3166-1 alpha-3 codes from Debian's iso-codes package, when installed; otherwise
the committed file is kept as it is).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, SKOS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harvester.dcat.value_lists import ValueList

REPO = Path(__file__).resolve().parent.parent
MAPPINGS = REPO / "harvester" / "mappings"
EU = "http://publications.europa.eu/resource/authority/"
OWMS = "http://standaarden.overheid.nl/owms/terms/"
OWMS_LISTS = "http://standaarden.overheid.nl/owms/4.0/doc/"
IANA = "https://www.iana.org/assignments/media-types/"
DCT = "http://purl.org/dc/terms/"
SKOS_CONCEPT = str(SKOS.Concept)
EU_DEPRECATED = rdflib.URIRef("http://publications.europa.eu/ontology/authority/deprecated")
ISO_3166 = Path("/usr/share/iso-codes/json/iso_3166-1.json")

REGISTRY_HEADER = """\
# valuelists.csv: the complete value lists (controlled vocabularies) DCAT-AP-NL 3.0 names
#
# Written by tools/valuelists.py from ../shared/reference/valuelists (do not edit by hand: change
# the script and run it again). One row per list; the list's terms are in valuelists/<file>.
# harvester.dcat.value_lists reads them; every validation knows each term as a member of its list
# (skos:inScheme <scheme>) of the classes given (the background graph, harvester.shacl.background).
#
# Columns:
#   name      short name of the list.
#   scheme    the concept scheme URI (skos:inScheme of every term).
#   prefix    a term's URI is prefix + its code.
#   classes   "|"-separated classes every term has (the range DCAT-AP gives the property the
#             list is used for; skos:Concept for SKOS lists).
#   label_nl  Dutch name of the list.
#   source    where the terms come from (paths relative to ../shared/reference/).
#   edition   the source's edition (owl:versionInfo of an EU scheme, a registry date, a commit).
#   file      the list's CSV file in valuelists/: code, label_nl, label_en, media_type, deprecated.
"""

LIST_COLUMNS = ("code", "label_nl", "label_en", "media_type", "deprecated")


def value_list(name: str, scheme: str, prefix: str, classes: tuple[str, ...], label_nl: str,
               source: str, edition: str, terms: dict | None = None) -> ValueList:
    """A list as harvester.dcat.value_lists describes it; here its terms map each code to the
    values of its columns (LIST_COLUMNS)."""
    return ValueList(name, scheme, prefix, classes, label_nl, source, edition, f"{name}.csv",
                     terms if terms is not None else {})


def _label(g: rdflib.Graph, node, lang: str) -> str:
    for value in sorted(g.objects(node, SKOS.prefLabel), key=str):
        if isinstance(value, rdflib.Literal) and value.language == lang:
            return " ".join(str(value).split())
    return ""


def _edition(g: rdflib.Graph, scheme: str) -> str:
    return str(g.value(rdflib.URIRef(scheme), OWL.versionInfo) or "")


def eu_list(ref: Path, name: str, file: str, classes: tuple[str, ...], label_nl: str,
            labels: rdflib.Graph | None = None, labels_file: str = "") -> ValueList:
    """An EU authority table: its members from `file`, labels from the file itself or from
    `labels` (an older, labelled edition)."""
    g = rdflib.Graph().parse(ref / "valuelists" / file)
    scheme = EU + name
    source = f"EU Publications Office, valuelists/{file}"
    if labels is not None:
        source += f" (labels{' and IANA media types' if name == 'file-type' else ''}: " \
                  f"valuelists/{labels_file}, edition {_edition(labels, scheme)})"
    found = value_list(name, scheme, scheme + "/", classes, label_nl, source, _edition(g, scheme))
    described = labels if labels is not None else g
    for node in g.subjects(SKOS.inScheme, rdflib.URIRef(scheme)):
        code = str(node).removeprefix(scheme + "/")
        deprecated = str(g.value(node, EU_DEPRECATED) or described.value(node, EU_DEPRECATED) or "")
        found.terms[code] = {
            "label_nl": _label(described, node, "nl"),
            "label_en": _label(described, node, "en"),
            "media_type": _iana_notation(described, node),
            "deprecated": {"true": "yes", "false": "no"}.get(deprecated, ""),
        }
    return found


def _iana_notation(g: rdflib.Graph, node) -> str:
    for value in sorted(g.objects(node, SKOS.notation), key=str):
        if isinstance(value, rdflib.Literal) and str(value.datatype or "").endswith("#IANA_MT"):
            return str(value)
    return ""


def frequency_labels(ref: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(ref / "valuelists/eu-nal-2016/frequencies-skos-ap-act.rdf")


def adms_publisher_types(ref: Path) -> ValueList:
    g = rdflib.Graph().parse(ref / "valuelists/eu-nal-2016/ADMS_SKOS_v1.00.rdf")
    scheme = "http://purl.org/adms/publishertype/1.0"
    found = value_list("publisher-type", scheme, "http://purl.org/adms/publishertype/",
                      (SKOS_CONCEPT,), "Typen uitgevers (ADMS)",
                      "ADMS 1.00 (SEMIC, 2012; no newer edition), "
                      "valuelists/eu-nal-2016/ADMS_SKOS_v1.00.rdf", "1.00")
    for node in g.subjects(SKOS.inScheme, rdflib.URIRef(scheme)):
        code = str(node).removeprefix(found.prefix)
        found.terms[code] = {"label_en": _label(g, node, "en")}
    return found


def iana_media_types(ref: Path) -> ValueList:
    path = ref / "valuelists/iana-media-types/media-types.xml"
    root = ET.parse(path).getroot()
    ns = {"r": "http://www.iana.org/assignments"}
    updated = root.findtext("r:updated", namespaces=ns) or ""
    found = value_list("media-type", IANA.rstrip("/"), IANA, (DCT + "MediaType",),
                      "Mediatypen (IANA)",
                      "IANA Media Types registry, valuelists/iana-media-types/media-types.xml",
                      updated)
    for template in root.iterfind(".//r:record/r:file[@type='template']", ns):
        code = " ".join((template.text or "").split())
        if code:
            found.terms[code] = {}
    return found


def donl_list(ref: Path, name: str, file: str, scheme: str, prefix: str,
              classes: tuple[str, ...], label_nl: str) -> ValueList:
    data = json.loads((ref / "valuelists/donl-waardelijsten-2023" / file).read_text("utf-8"))
    found = value_list(name, scheme, prefix, classes, label_nl,
                      f"data.overheid.nl, valuelists/donl-waardelijsten-2023/{file}",
                      "2023 copy of waardelijsten.dcat-ap-donl.nl")
    for uri, entry in data.items():
        labels = entry.get("labels", {})
        found.terms[uri.removeprefix(prefix)] = {"label_nl": labels.get("nl-NL", ""),
                                                 "label_en": labels.get("en-US", "")}
    return found


def owms_themes(ref: Path) -> ValueList:
    """TaxonomieBeleidsagenda: the terms of data.overheid.nl's theme hierarchy, labelled."""
    hierarchy = json.loads((ref / "valuelists/donl-ckan/hierarchy_theme.json").read_text("utf-8"))
    uris = set(hierarchy) | {u for paths in hierarchy.values() for p in paths for u in p.split("|")}
    labelled = donl_list(ref, "taxonomie-beleidsagenda", "overheid_taxonomiebeleidsagenda.json",
                         OWMS + "TaxonomieBeleidsagenda", OWMS, (SKOS_CONCEPT,),
                         "Taxonomie Beleidsagenda (OWMS)")
    return replace(labelled,
                   source=("data.overheid.nl, valuelists/donl-ckan/hierarchy_theme.json (members; "
                           "labels from valuelists/donl-waardelijsten-2023/"
                           "overheid_taxonomiebeleidsagenda.json)"),
                   edition="ckanext-dataoverheid 06a84f7",
                   terms={u.removeprefix(OWMS): labelled.terms.get(u.removeprefix(OWMS), {})
                          for u in uris})


def closed_list(name: str, label_nl: str, codes: tuple[str, ...]) -> ValueList:
    """dataset-status and planned-availability: no copy of either list exists in ../shared."""
    return value_list(name, EU + name, EU + name + "/", (SKOS_CONCEPT,), label_nl,
                     "EU Publications Office list named by DCAT-AP-NL 3.0 (spec/dcat-ap-nl-3.0-"
                     "adopted/151-Waardelijsten.md); codes as SOURCES.md section 7 lists them "
                     "(no OP file available; not checked against one)",
                     "unknown", {code: {} for code in codes})


DATASET_STATUS = ("COMPLETED", "DEPRECATED", "DEVELOP", "DISCONT", "OP_DATPRO", "WITHDRAWN")
PLANNED_AVAILABILITY = ("AVAILABLE", "EXPERIMENTAL", "STABLE", "TEMPORARY")


def countries(existing: dict[str, dict[str, str]]) -> ValueList | None:
    """The EU country list as far as it can be written without a copy of it: ISO 3166-1 alpha-3
    codes (as the EU list codes current countries) and the EU's own code 1A0 (Kosovo)."""
    found = value_list("country", EU + "country", EU + "country/", (SKOS_CONCEPT, DCT + "Location"),
                      "Landen (EU)",
                      "NOT a copy of the EU country list (none available, SOURCES.md section 7): "
                      "ISO 3166-1 alpha-3 codes from Debian's iso-codes package "
                      "(/usr/share/iso-codes/json/iso_3166-1.json) plus the EU code 1A0 (Kosovo); "
                      "historical and other EU-only codes are missing",
                      "")
    if not ISO_3166.is_file():
        return replace(found, terms=existing) if existing else None
    data = json.loads(ISO_3166.read_text("utf-8"))
    for entry in data["3166-1"]:
        found.terms[entry["alpha_3"]] = {"label_en": entry.get("common_name") or entry["name"]}
    found.terms["1A0"] = {"label_en": "Kosovo"}
    return replace(found, edition=f"iso-codes {_package_version('iso-codes')}".strip())


def _package_version(package: str) -> str:
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                              capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def build(shared: Path) -> list[ValueList]:
    ref = shared / "reference"
    current = "eu-nal-current/"
    concept = (SKOS_CONCEPT,)
    filetypes = rdflib.Graph().parse(ref / "valuelists" / current / "filetypes-skos.rdf")
    lists = [
        eu_list(ref, "data-theme", current + "data-theme-skos.rdf", concept, "Datathema's (EU)"),
        owms_themes(ref),
        eu_list(ref, "access-right", current + "access-right-skos.rdf",
                (SKOS_CONCEPT, DCT + "RightsStatement"), "Toegangsrechten (EU)"),
        eu_list(ref, "frequency", current + "frequency.rdf", (SKOS_CONCEPT, DCT + "Frequency"),
                "Frequenties (EU)", frequency_labels(ref), "eu-nal-2016/frequencies-skos-ap-act.rdf"),
        eu_list(ref, "language", current + "language.rdf", (DCT + "LinguisticSystem",),
                "Talen (EU)"),
        eu_list(ref, "file-type", current + "file-type.rdf",
                (SKOS_CONCEPT, DCT + "MediaTypeOrExtent"), "Bestandstypen (EU)", filetypes,
                current + "filetypes-skos.rdf"),
        iana_media_types(ref),
        eu_list(ref, "licence", current + "licences-skos.rdf",
                (SKOS_CONCEPT, DCT + "LicenseDocument"), "Licenties (EU)"),
        eu_list(ref, "distribution-status", current + "distribution-status-skos.rdf", concept,
                "Distributiestatussen (EU)"),
        closed_list("dataset-status", "Datasetstatussen (EU)", DATASET_STATUS),
        closed_list("planned-availability", "Geplande beschikbaarheid (EU)", PLANNED_AVAILABILITY),
        adms_publisher_types(ref),
    ]
    place = (SKOS_CONCEPT, DCT + "Location")
    for name, file, label in (("provincie", "overheid_spatial_provincie.json", "Provincies"),
                              ("gemeente", "overheid_spatial_gemeente.json", "Gemeenten"),
                              ("waterschap", "overheid_spatial_waterschap.json", "Waterschappen"),
                              ("koninkrijksdeel", "overheid_spatial_koninkrijksdeel.json",
                               "Koninkrijksdelen")):
        lists.append(donl_list(ref, name, file, OWMS_LISTS + "waardelijsten/overheid." + name,
                               OWMS, place, f"{label} (OWMS)"))
    lists.append(donl_list(ref, "spatial-scheme", "overheid_spatial_scheme.json",
                           "https://waardelijsten.dcat-ap-donl.nl/overheid_spatial_scheme.json",
                           OWMS_LISTS,
                           concept, "Ruimtelijke schema's (data.overheid.nl)"))
    country = countries(read_terms(MAPPINGS / "valuelists" / "country.csv"))
    if country is not None:
        lists.append(country)
    return lists


def read_terms(path: Path) -> dict[str, dict[str, str]]:
    """The terms of a list file written earlier (for a list this script cannot rebuild here)."""
    if not path.is_file():
        return {}
    rows = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
    return {row["code"]: {k: v for k, v in row.items() if k != "code" and v}
            for row in csv.DictReader(rows)}


def render_list(found: ValueList) -> str:
    out = io.StringIO()
    out.write(f"# {found.file}: {found.label_nl}, {found.scheme}\n")
    out.write(f"# source: {found.source}; edition: {found.edition or 'unknown'}\n")
    out.write("# written by tools/valuelists.py; see ../valuelists.csv\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LIST_COLUMNS)
    for code in sorted(found.terms):
        term = found.terms[code]
        writer.writerow([code] + [term.get(column, "") for column in LIST_COLUMNS[1:]])
    return out.getvalue()


def render_registry(lists: list[ValueList]) -> str:
    out = io.StringIO()
    out.write(REGISTRY_HEADER)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("name", "scheme", "prefix", "classes", "label_nl", "source", "edition", "file"))
    for found in lists:
        writer.writerow((found.name, found.scheme, found.prefix, "|".join(found.classes),
                         found.label_nl, found.source, found.edition or "unknown", found.file))
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args(argv)
    if not (args.shared / "reference").is_dir():
        print(f"{args.shared}/reference not found; expected the ../shared reference folder",
              file=sys.stderr)
        return 2
    lists = build(args.shared)
    folder = MAPPINGS / "valuelists"
    folder.mkdir(exist_ok=True)
    for found in lists:
        (folder / found.file).write_text(render_list(found), encoding="utf-8")
        print(f"{found.file}: {len(found.terms)} terms ({found.edition or 'edition unknown'})")
    (MAPPINGS / "valuelists.csv").write_text(render_registry(lists), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
