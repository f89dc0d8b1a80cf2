"""The complete value lists (harvester/mappings/valuelists.csv, valuelists/*.csv) and the shapes
that check membership of them (harvester/shapes/dcat-ap-nl-valuelists.ttl).

The reference tests compare each list with its source in ../shared/reference (skip without it,
fail under CI=true); the validation tests need only the project."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS

from harvester.dcat.tables import Mappings, load_mappings
from harvester.errors import MappingError
from harvester.shacl.validator import Validator

REPO = Path(__file__).resolve().parent.parent
MAPPINGS = REPO / "harvester" / "mappings"
GRAPHS = Path(__file__).resolve().parent / "fixtures" / "graphs"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
OWMS = "http://standaarden.overheid.nl/owms/terms/"
ADMS = rdflib.Namespace("http://www.w3.org/ns/adms#")
DCATAP = rdflib.Namespace("http://data.europa.eu/r5r/")
DATASET = URIRef("https://onderwijsdata.duo.nl/dataset/p01hoinges")
DISTRIBUTION = URIRef("https://onderwijsdata.duo.nl/dataset/p01hoinges/resource/"
                      "3b1a7f5e-0f7c-4d0e-9a55-1c2d3e4f5a6b")
PUBLISHER = URIRef(OWMS + "Dienst_Uitvoering_Onderwijs")


@pytest.fixture(scope="module")
def m() -> Mappings:
    return load_mappings()


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def _missing(m: Mappings, name: str, uris: set[str]) -> None:
    missing = sorted(uris - set(m.value_lists[name].terms))
    assert not missing, f"{name}: {len(missing)} term(s) of the reference missing, e.g. {missing[:5]}"


# ---------------------------------------------------------------- the lists against ../shared

EU_FILES = {
    "access-right": "access-right-skos.rdf",
    "distribution-status": "distribution-status-skos.rdf",
    "data-theme": "data-theme-skos.rdf",
    "frequency": "frequency.rdf",
    "language": "language.rdf",
    "file-type": "file-type.rdf",
    "licence": "licences-skos.rdf",
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(EU_FILES))
def test_every_term_of_the_eu_list_is_in_our_list(m, shared_dir, name):
    g = Graph().parse(shared_dir / "reference/valuelists/eu-nal-current" / EU_FILES[name])
    uris = {str(s) for s in g.subjects(SKOS.inScheme, URIRef(EU + name))}
    assert uris
    _missing(m, name, uris)
    edition = str(g.value(URIRef(EU + name), rdflib.OWL.versionInfo))
    assert m.value_lists[name].edition == edition


@pytest.mark.shared
def test_file_types_carry_the_labelled_editions_iana_mapping(shared_dir):
    g = Graph().parse(shared_dir / "reference/valuelists/eu-nal-current/filetypes-skos.rdf")
    rows = (MAPPINGS / "valuelists" / "file-type.csv").read_text("utf-8")
    shp = g.value(URIRef(EU + "file-type/SHP"), SKOS.prefLabel)
    assert f"SHP,,{shp}," in rows


@pytest.mark.shared
def test_every_registered_iana_media_type_is_in_our_list(m, shared_dir):
    root = ET.parse(shared_dir / "reference/valuelists/iana-media-types/media-types.xml").getroot()
    templates = {IANA + " ".join(f.text.split())
                 for f in root.iter("{http://www.iana.org/assignments}file")
                 if f.get("type") == "template" and f.text}
    assert len(templates) > 2000
    _missing(m, "media-type", templates)


@pytest.mark.shared
def test_every_adms_publisher_type_is_in_our_list(m, shared_dir):
    g = Graph().parse(shared_dir / "reference/valuelists/eu-nal-2016/ADMS_SKOS_v1.00.rdf")
    uris = {str(s) for s in g.subjects(SKOS.inScheme,
                                       URIRef("http://purl.org/adms/publishertype/1.0"))}
    assert len(uris) == 11
    _missing(m, "publisher-type", uris)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["provincie", "gemeente", "waterschap", "koninkrijksdeel",
                                  "spatial-scheme"])
def test_every_dutch_spatial_term_is_in_our_list(m, shared_dir, name):
    file = "spatial_scheme" if name == "spatial-scheme" else f"spatial_{name}"
    data = json.loads((shared_dir / "reference/valuelists/donl-waardelijsten-2023"
                       / f"overheid_{file}.json").read_text("utf-8"))
    _missing(m, name, set(data))


@pytest.mark.shared
def test_every_theme_of_the_donl_hierarchy_is_in_our_list(m, shared_dir):
    hierarchy = json.loads((shared_dir / "reference/valuelists/donl-ckan/hierarchy_theme.json")
                           .read_text("utf-8"))
    uris = set(hierarchy) | {u for paths in hierarchy.values() for p in paths for u in p.split("|")}
    _missing(m, "taxonomie-beleidsagenda", uris)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["dataset-status", "planned-availability"])
def test_closed_lists_hold_the_codes_sources_md_names(m, shared_dir, name):
    text = " ".join((shared_dir / "reference/SOURCES.md").read_text("utf-8").split())
    found = re.search(rf"{name} ([A-Z_]+(?:, [A-Z_]+)*)", text)
    assert found, f"SOURCES.md no longer lists the {name} codes"
    _missing(m, name, {f"{EU}{name}/{code}" for code in found.group(1).split(", ")})


def test_the_generator_writes_the_committed_lists(tmp_path, shared_dir):
    """tools/valuelists.py run again gives the committed files (the lists are its output)."""
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "tools", copy / "tools")
    shutil.copytree(REPO / "harvester", copy / "harvester",
                    ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, str(copy / "tools" / "valuelists.py"), "--shared",
                           str(shared_dir)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    for path in sorted((MAPPINGS / "valuelists").glob("*.csv")) + [MAPPINGS / "valuelists.csv"]:
        written = copy / "harvester" / "mappings" / path.relative_to(MAPPINGS)
        assert written.read_bytes() == path.read_bytes(), f"{path.name} differs from a fresh run"


# ---------------------------------------------------------------- the registry and loader

def test_every_list_names_its_source_and_edition(m):
    assert len(m.value_lists) >= 18
    for found in m.value_lists.values():
        assert found.source and found.edition and len(found) > 0, found.name
        assert all(uri.startswith(found.prefix) for uri in found.terms), found.name


def test_the_country_list_says_it_is_not_a_copy_of_the_eu_list(m):
    country = m.value_lists["country"]
    assert country.source.startswith("NOT a copy")
    assert EU + "country/NLD" in country and EU + "country/1A0" in country


def test_in_list_answers_membership_and_names_the_lists_on_a_wrong_name(m):
    assert m.in_list("media-type", IANA + "application/vnd.shp")
    assert not m.in_list("media-type", IANA + "application/x-not-registered")
    with pytest.raises(KeyError, match="language"):
        m.in_list("no-such-list", EU + "language/NLD")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, target)
    return target


def test_a_duplicate_code_is_an_error_naming_file_and_line(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "valuelists" / "planned-availability.csv"
    path.write_text(path.read_text("utf-8") + "STABLE,,,,\n", encoding="utf-8")
    lines = path.read_text("utf-8").count("\n")
    with pytest.raises(MappingError, match=rf"planned-availability.csv, line {lines}: code 'STABLE'"):
        load_mappings(folder)


def test_a_missing_list_file_is_an_error(tmp_path):
    folder = _copy(tmp_path)
    (folder / "valuelists" / "country.csv").unlink()
    with pytest.raises(MappingError, match="country.csv: mapping table not found"):
        load_mappings(folder)


def test_a_list_file_outside_the_folder_is_refused(tmp_path):
    folder = _copy(tmp_path)
    registry = folder / "valuelists.csv"
    registry.write_text(registry.read_text("utf-8").replace(",country.csv", ",../country.csv"),
                        encoding="utf-8")
    with pytest.raises(MappingError, match=r"valuelists.csv, line \d+: column 'file'"):
        load_mappings(folder)


def test_the_lists_change_the_mapping_fingerprint(tmp_path, m):
    folder = _copy(tmp_path)
    path = folder / "valuelists" / "country.csv"
    path.write_text(path.read_text("utf-8").replace("\nZWE,", "\nZWX,"), encoding="utf-8")
    assert load_mappings(folder).fingerprint != m.fingerprint


def test_terms_the_tables_describe_keep_the_tables_description(m):
    g = m.vocabulary_graph()
    nld = URIRef(EU + "language/NLD")
    assert set(g.objects(nld, SKOS.prefLabel)) == {rdflib.Literal("Nederlands", lang="nl")}
    frisian_dialect = URIRef(EU + "language/STQ")  # Saterland Frisian: only in the list
    assert (frisian_dialect, SKOS.inScheme, URIRef(EU + "language")) in g
    assert (frisian_dialect, RDF.type, DCTERMS.LinguisticSystem) in g


# ---------------------------------------------------------------- membership in validation

def _graph() -> Graph:
    return Graph().parse(GRAPHS / "duo-p01hoinges.ttl", format="turtle")


def _violations(validator: Validator, g: Graph, shape: str) -> list:
    report = validator.validate(g)
    return [f for f in report.violations if f.shape == f"urn:dcat-ap-nl-harvester:shape:{shape}"]


# (shape, node, property, a term of the list, a term outside it, a term of another list)
CASES = [
    ("Dataset-adms_status-list", DATASET, ADMS.status, EU + "dataset-status/COMPLETED",
     EU + "dataset-status/FINISHED", EU + "distribution-status/COMPLETED"),
    ("Distribution-adms_status-list", DISTRIBUTION, ADMS.status,
     EU + "distribution-status/DEPRECATED", EU + "distribution-status/GONE",
     EU + "dataset-status/DEPRECATED"),
    ("Distribution-dcatap_availability-list", DISTRIBUTION, DCATAP.availability,
     EU + "planned-availability/EXPERIMENTAL", EU + "planned-availability/FOREVER",
     EU + "frequency/ANNUAL"),
    ("Dataset-dct_spatial-list", DATASET, DCTERMS.spatial, EU + "country/BEL",
     EU + "country/XYZ", EU + "language/NLD"),
    ("Dataset-dct_language-list", DATASET, DCTERMS.language, EU + "language/STQ",
     EU + "language/XXQ", EU + "country/NLD"),
    ("Distribution-dct_format-list", DISTRIBUTION, DCTERMS.format, EU + "file-type/SHP",
     EU + "file-type/SHAPE", IANA + "application/vnd.shp"),
    ("Dataset-dct_accrualPeriodicity-list", DATASET, DCTERMS.accrualPeriodicity,
     EU + "frequency/10MIN", EU + "frequency/SOMETIMES", EU + "planned-availability/STABLE"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_term_of_the_list_passes_and_others_fail(validator, case):
    shape, node, prop, member, outside, other = case
    for value, fails in ((member, False), (outside, True), (other, True)):
        g = _graph()
        g.set((node, prop, URIRef(value)))
        assert bool(_violations(validator, g, shape)) is fails, (shape, value)


def test_application_vnd_shp_is_a_registered_media_type(validator):
    g = _graph()
    g.set((DISTRIBUTION, URIRef("http://www.w3.org/ns/dcat#mediaType"),
           URIRef(IANA + "application/vnd.shp")))
    assert validator.validate(g).violations == []
    g.set((DISTRIBUTION, URIRef("http://www.w3.org/ns/dcat#mediaType"),
           URIRef(IANA + "application/x-made-up")))
    assert validator.validate(g).violations


@pytest.mark.parametrize("place", [EU + "country/NLD", EU + "country/1A0", OWMS + "Drenthe",
                                   OWMS + "Wetterskip_Fryslan", OWMS + "Aruba",
                                   EU + "place/NLD_AMS", "https://sws.geonames.org/2750405/"])
def test_a_place_of_a_prescribed_list_is_accepted_as_spatial(validator, place):
    g = _graph()
    g.add((DATASET, DCTERMS.spatial, URIRef(place)))
    assert _violations(validator, g, "Dataset-dct_spatial-list") == []


def test_an_eu_country_passes_the_whole_validation_as_spatial(validator):
    g = _graph()
    g.add((DATASET, DCTERMS.spatial, URIRef(EU + "country/NLD")))
    assert validator.validate(g).violations == []


def test_every_term_of_the_complete_lists_is_accepted(validator, m):
    """One dataset per list term would be slow; one graph with each list's terms as values of
    the property that uses the list gives the same verdict per value."""
    g = _graph()
    uses = {"language": (DATASET, DCTERMS.language), "frequency": (DATASET, DCTERMS.accrualPeriodicity),
            "file-type": (DISTRIBUTION, DCTERMS.format),
            "media-type": (DISTRIBUTION, URIRef("http://www.w3.org/ns/dcat#mediaType")),
            "licence": (DISTRIBUTION, DCTERMS.license), "data-theme": (DATASET, URIRef(
                "http://www.w3.org/ns/dcat#theme")),
            "taxonomie-beleidsagenda": (DATASET, URIRef("http://www.w3.org/ns/dcat#theme")),
            "country": (DATASET, DCTERMS.spatial), "gemeente": (DATASET, DCTERMS.spatial),
            "provincie": (DATASET, DCTERMS.spatial), "waterschap": (DATASET, DCTERMS.spatial),
            "koninkrijksdeel": (DATASET, DCTERMS.spatial)}
    for name, (node, prop) in uses.items():
        for uri in m.value_lists[name].terms:
            g.add((node, prop, URIRef(uri)))
    values = {str(o) for _, _, o in g}
    bad = [f for f in validator.validate(g).violations if f.value in values
           and "maxCount" not in (f.shape or "") and not (f.shape or "").endswith("-max")]
    assert bad == [], bad[:5]


def test_access_rights_accept_only_the_three_values_the_specification_names(validator, m):
    """DCAT-AP-NL 3.0 (151-Waardelijsten): "Gebruik één van de volgende waarden: public;
    restricted; non-public" - the other terms of the EU list are refused on purpose."""
    allowed = {EU + "access-right/" + c for c in ("PUBLIC", "RESTRICTED", "NON_PUBLIC")}
    assert allowed < set(m.value_lists["access-right"].terms)
    for uri in m.value_lists["access-right"].terms:
        g = _graph()
        g.set((DATASET, DCTERMS.accessRights, URIRef(uri)))
        assert bool(_violations(validator, g, "Dataset-dct_accessRights-list")) is \
            (uri not in allowed), uri


def test_every_media_type_of_the_format_table_is_registered_at_iana(m):
    registered = m.value_lists["media-type"]
    media = {fmt.media_type for fmt in m._formats.values() if fmt.media_type}
    assert sorted(media - set(registered.terms)) == []


@pytest.mark.parametrize("kind", [None, "http://purl.org/adms/publishertype/NationalAuthority",
                                  EU + "data-theme/GOVE"])
def test_a_publishers_type_is_not_bound_to_a_list(validator, kind):
    """DCAT-AP-NL 3.0 gives a foaf:Agent's dct:type the range skos:Concept and names no list
    for it (151-Waardelijsten): an ADMS publisher type, another concept or none all pass."""
    g = _graph()
    assert (PUBLISHER, DCTERMS.type, None) not in g and (PUBLISHER, RDF.type, FOAF.Agent) in g
    if kind is not None:
        g.add((PUBLISHER, DCTERMS.type, URIRef(kind)))
    assert validator.validate(g).violations == []
