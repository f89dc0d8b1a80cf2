"""Stage 4: DCAT-AP-NL graph -> data.overheid.nl package, its pre-send check, hashing and diffs.

No CKAN needed (tests/test_donl_standin.py runs the same rules against a local stand-in). Input:
the DUO catalogue snapshot (examples/duo/duo-catalogue.json) through the mapper, and the
hand-written graph tests/fixtures/target/rich-dataset.ttl.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, URIRef

from harvester.dcat.dataset import MappedDataset, map_dataset
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import load_mappings
from harvester.donl.compare import TARGET_MANAGED_FIELDS, FieldChange, canonical_hash, diff_packages
from harvester.donl.convert import TargetDataset, TargetResource, to_target
from harvester.donl.formats import donl_date
from harvester.donl.rules import (
    DATASET_FIELDS,
    RESOURCE_FIELDS,
    FieldProblem,
    check_package,
    problems_from_errors,
)
from harvester.donl.valuelists import load_value_lists, value_lists_fingerprint, value_lists_for
from harvester.source.context import SourceContext

REPO = Path(__file__).resolve().parent.parent
RICH = REPO / "tests" / "fixtures" / "target" / "rich-dataset.ttl"
STANDIN_SCHEMA = REPO / "tests" / "ckan_stack" / "donl" / "donl_schema.yaml"
DS = "https://example.org/dataset/leerlingen"
CSV_DIST, PDF_DIST = f"{DS}/resource/csv", f"{DS}/resource/pdf"
OWMS = "http://standaarden.overheid.nl/owms/terms/"
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
NLD = "http://publications.europa.eu/resource/authority/language/NLD"
MISSING = "Missing value"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture(scope="module")
def mappings() -> Any:
    return load_mappings()


@pytest.fixture(scope="module")
def duo_mapped(mappings: Any) -> list[MappedDataset]:
    dump = json.loads((REPO / "examples" / "duo" / "duo-catalogue.json").read_text("utf-8"))
    options = MappingOptions.from_config({
        "contact_email": "opendata@duo.nl", "contact_name": "DUO Open Onderwijsdata",
        "access_rights": "public", "creator_is_publisher": True, "frequency": "annual",
        "theme_fallback": "onderwijs",
        "url_rewrites": [{
            "pattern": r"^https?://[^/]+/dataset/[^/]+/resource/([^/]+)/download/.*$",
            "replacement": "https://onderwijsdata.duo.nl/datastore/dump/{resource_id}"}],
    }, "test")
    context = SourceContext(base_url=dump["source_url"])
    return [map_dataset(p, context, mappings, options) for p in dump["packages"]]


def rich(graph: Graph | None = None) -> MappedDataset:
    if graph is None:
        graph = Graph()
        graph.parse(RICH)
    return MappedDataset(source_id="id-1", name="leerlingen", uri=DS, identifier=DS, graph=graph,
                         issues=[], distribution_uris={"r-csv": CSV_DIST, "r-pdf": PDF_DIST})


def rich_graph() -> Graph:
    graph = Graph()
    graph.parse(RICH)
    return graph


def remove(graph: Graph, subject: str, prop: str) -> Graph:
    graph.remove((URIRef(subject), URIRef(prop), None))
    return graph


# --- DUO through mapper and to_target -----------------------------------------------------------


def test_duo_datasets_become_packages_data_overheid_nl_accepts(duo_mapped, mappings) -> None:
    """Every DUO dataset converts to a package check_package accepts. DUO's resources mostly have
    no description, which data.overheid.nl requires: the graph describes them (format, file name
    or columns), and the target sends what the graph says, not the title."""
    described = 0
    for mapped in duo_mapped:
        target = to_target(mapped, mappings)
        package = target.package(mapped.name, "duo")
        assert check_package(package) == [], mapped.name
        for dist, resource in zip(target.resources, package["resources"]):
            graph_says = mapped.graph.value(URIRef(dist.distribution_uri), URIRef(DCT + "description"))
            assert resource["description"] == str(graph_says)
            if resource["description"] != resource["name"]:
                described += 1
        assert package["identifier"] == mapped.identifier
        assert package["theme"] and not any(t.startswith(EU_THEME) for t in package["theme"])
        assert package["authority"] == package["publisher"] == OWMS + "Dienst_Uitvoering_Onderwijs"
        assert [r.distribution_uri for r in target.resources] == list(
            mapped.distribution_uris.values())
        assert not any("description" in note for note in target.issues)
    assert described == 302


def test_resources_without_a_description_are_described_by_what_they_hold(duo_mapped,
                                                                         mappings) -> None:
    mapped = next(m for m in duo_mapped if m.name == "adressen_so")
    package = to_target(mapped, mappings).package(mapped.name, "duo")
    assert [r["description"] for r in package["resources"]] == [
        "CSV-bestand besturenso.csv", "CSV-bestand instellingenso.csv",
        "CSV-bestand vestigingenso.csv"]
    mapped = next(m for m in duo_mapped if m.name == "rio_nfo_po_vo_vavo_mbo_ho-changelog")
    package = to_target(mapped, mappings).package(mapped.name, "duo")
    descriptions = {r["description"] for r in package["resources"]}
    assert "PDF-bestand changelog_rio_nfo_po_vo_vavo_mbo_ho-v6.1.0.pdf" in descriptions
    # DUO's model image is labelled PNG; its URL and mimetype say JPEG
    assert "JPEG-bestand pvl-csv-rio-overkoepelend-model-nfo-po-vo-vavo-mbo-ho-180326.jpg" in \
        descriptions


def test_duo_package_fields(duo_mapped, mappings) -> None:
    mapped = next(m for m in duo_mapped if m.name == "01voins-v1")
    package = to_target(mapped, mappings).package("01voins-v1", "duo")
    res = package["resources"][0]
    assert package["theme"] == [OWMS + "Voortgezet_onderwijs_(thema)"]
    assert package["modified"] == "2023-05-02T13:30:23"  # fraction dropped
    assert package["license_id"] == "http://creativecommons.org/licenses/by/4.0/deed.nl"
    assert package["contact_point_email"] == "opendata@duo.nl"
    assert package["metadata_language"] == NLD and package["language"] == [NLD]
    assert package["dataset_status"] == "http://data.overheid.nl/status/beschikbaar"
    assert res["format"] == "http://publications.europa.eu/resource/authority/file-type/CSV"
    assert res["media_type"] == "https://www.iana.org/assignments/media-types/text/csv"
    assert res["url"].startswith("https://onderwijsdata.duo.nl/datastore/dump/")
    assert isinstance(res["size"], int) and isinstance(res["download_url"], list)
    assert "linked_schemas" not in res  # the column schema is a #node of the distribution


def test_licence_of_a_dataset_without_resources(mappings) -> None:
    """The package's licence is the dataset's: a dataset without resources keeps it (it used to
    be on the distributions only, and check_package then said license_id: Missing value)."""
    dump = json.loads((REPO / "examples" / "duo" / "duo-catalogue.json").read_text("utf-8"))
    pkg = dict(next(p for p in dump["packages"] if p["name"] == "adressen_so"), resources=[])
    options = MappingOptions.from_config({
        "contact_email": "opendata@duo.nl", "access_rights": "public",
        "creator_is_publisher": True, "theme_fallback": "onderwijs"}, "test")
    mapped = map_dataset(pkg, SourceContext(base_url=dump["source_url"]), mappings, options)
    package = to_target(mapped, mappings).package(mapped.name, "duo")
    assert package["resources"] == []
    assert package["license_id"] == "http://creativecommons.org/licenses/by/4.0/deed.nl"
    assert check_package(package) == []


def test_the_dataset_licence_wins_over_its_distributions(mappings) -> None:
    """Without a dataset licence the distributions' most frequent is sent (a tie: the first by
    URI, CC0); with one, the dataset's."""
    assert to_target(rich(), mappings).fields["license_id"] == \
        "http://creativecommons.org/publicdomain/zero/1.0/deed.nl"
    graph = rich_graph()
    cc_by = URIRef("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0")
    graph.add((URIRef(DS), URIRef(DCT + "license"), cc_by))
    target = to_target(rich(graph), mappings)
    assert target.fields["license_id"] == "http://creativecommons.org/licenses/by/4.0/deed.nl"
    assert not any("licences" in note for note in target.issues)
    csv = next(r for r in target.resources if r.distribution_uri == CSV_DIST)
    assert csv.fields["license_id"] == "http://creativecommons.org/publicdomain/zero/1.0/deed.nl"


def test_catalogue_record_gives_metadata_language(duo_mapped, mappings) -> None:
    mapped = copy.copy(duo_mapped[0])
    mapped.record = ((URIRef(f"{mapped.uri}#record"), URIRef(DCT + "language"),
                      URIRef("http://publications.europa.eu/resource/authority/language/ENG")),)
    fields = to_target(mapped, mappings).fields
    assert fields["metadata_language"].endswith("/ENG")


# --- the hand-written graph ---------------------------------------------------------------------


def test_rich_graph_gives_the_expected_package(mappings) -> None:
    target = to_target(rich(), mappings)
    package = target.package("leerlingen", "ocw", {PDF_DIST: "res-pdf"})
    assert check_package(package) == []
    expected_top = {
        "name": "leerlingen", "owner_org": "ocw", "identifier": DS,
        "title": "Leerlingen per school",
        "notes": "Aantallen leerlingen per vestiging, per schooljaar.",
        "theme": [OWMS + "Voortgezet_onderwijs_(thema)"],
        # a TOOI URI named "Dienst Uitvoering Onderwijs" -> DONL's URI; authority = rightsHolder
        "publisher": OWMS + "Dienst_Uitvoering_Onderwijs",
        "authority": OWMS + "Ministerie_van_Onderwijs,_Cultuur_en_Wetenschap",
        "contact_point_name": "Team Open Data", "contact_point_email": "opendata@example.org",
        "contact_point_website": "https://example.org/contact",
        "contact_point_phone": "+31-50-1234567",
        "metadata_language": NLD,  # most title/description literals are @nl
        "language": ["http://publications.europa.eu/resource/authority/language/ENG", NLD],
        # CC0 and CC BY once each: the tie goes to the first URI
        "license_id": "http://creativecommons.org/publicdomain/zero/1.0/deed.nl",
        "access_rights": "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
        "modified": "2024-03-05T09:11:12",  # +01:00 -> UTC, fraction dropped
        "issued": "2019-02-01T00:00:00",
        "frequency": "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
        "url": f"{DS}/page",
        "tags": [{"name": "leerlingen"}, {"name": "po vo"}],  # "x" too short; @en left out
        "temporal_start": "2019-01-01T00:00:00", "temporal_end": "2023-12-31T23:59:59",
        "spatial_scheme": [
            "http://standaarden.overheid.nl/owms/4.0/doc/waardelijsten/overheid.gemeente",
            "http://standaarden.overheid.nl/owms/4.0/doc/waardelijsten/overheid.koninkrijksdeel"],
        "spatial_value": [OWMS + "Amsterdam", OWMS + "Nederland"],
        "dataset_status": "http://data.overheid.nl/status/beschikbaar",
        "alternate_identifier": ["https://old.example.org/datasets/42"],
        "documentation": ["https://example.org/docs/leerlingen"],
        "conforms_to": ["https://example.org/standards/telling"],  # not the #standard-1 node
        "version": "2.1", "version_notes": ["Kolom BRIN toegevoegd."],
        "high_value": True,
    }
    assert {k: v for k, v in package.items() if k != "resources"} == expected_top
    csv_res, pdf_res = package["resources"]
    assert csv_res == {
        "url": "https://example.org/files/leerlingen.csv", "name": "Leerlingen (CSV)",
        "description": "Alle schooljaren in een bestand.", "metadata_language": NLD,
        "language": expected_top["language"],  # none of its own: the dataset's
        "license_id": "http://creativecommons.org/publicdomain/zero/1.0/deed.nl",
        "format": "http://publications.europa.eu/resource/authority/file-type/CSV",
        "media_type": "https://www.iana.org/assignments/media-types/text/csv",
        "download_url": ["https://example.org/files/leerlingen.csv"], "size": 1234,
        "release_date": "2019-02-01T09:00:00", "modification_date": "2024-03-05T00:00:00",
        "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "hash_algorithm": "SHA256",
    }
    assert pdf_res["id"] == "res-pdf" and pdf_res["language"] == [NLD]
    assert pdf_res["license_id"] == "http://creativecommons.org/licenses/by/4.0/deed.nl"
    assert pdf_res["documentation"] == ["https://example.org/docs/toelichting"]
    assert any("elders" in note for note in target.issues)  # spatial URI not in a DONL list
    assert any("po/vo" in note for note in target.issues)


def test_spatial_can_be_left_out(mappings) -> None:
    fields = to_target(rich(), mappings, spatial=False).fields
    assert "spatial_scheme" not in fields and "spatial_value" not in fields


def test_package_body_is_a_copy_and_target_round_trips_as_dict(mappings) -> None:
    target = to_target(rich(), mappings)
    body = target.package("leerlingen", "ocw")
    body["theme"].append("x")
    body["resources"][0]["name"] = "changed"
    assert target.package("leerlingen", "ocw") != body
    data = asdict(target)  # what the pipeline stores, and how it rebuilds the target
    data["resources"] = [TargetResource(**r) for r in data["resources"]]
    assert TargetDataset(**data) == target
    assert "id" not in target.package("leerlingen", "ocw")["resources"][0]


# --- mandatory fields the graph lacks -----------------------------------------------------------


MANDATORY_CASES = {
    "title": ([(DS, DCT + "title")], [FieldProblem("title", MISSING)]),
    "description": ([(DS, DCT + "description")], [FieldProblem("notes", MISSING)]),
    "theme": ([(DS, DCAT + "theme")], [FieldProblem("theme", MISSING)]),
    "publisher": ([(DS, DCT + "publisher")], [FieldProblem("publisher", MISSING)]),
    "authority": ([(DS, DCT + "creator"), (DS, DCT + "rightsHolder")],
                  [FieldProblem("authority", MISSING)]),
    "identifier": ([], [FieldProblem("identifier", MISSING)]),
    "modified": ([(DS, DCT + "modified")], [FieldProblem("modified", MISSING)]),
    "language": ([(DS, DCT + "language")], [FieldProblem("language", MISSING),
                                            FieldProblem("resources[0].language", MISSING)]),
    "licence": ([(CSV_DIST, DCT + "license"), (PDF_DIST, DCT + "license")],
                [FieldProblem("license_id", MISSING),
                 FieldProblem("resources[0].license_id", MISSING),
                 FieldProblem("resources[1].license_id", MISSING)]),
    "contact point": ([(DS, DCAT + "contactPoint")], [
        FieldProblem("contact_point_name", MISSING),
        *[FieldProblem(f"contact_point_{k}",
                       "website, email or phone is required for a valid contact_point")
          for k in ("website", "email", "phone")]]),
    "contact means": ([(f"{DS}#contact", VCARD + "hasEmail"), (f"{DS}#contact", VCARD + "hasURL"),
                       (f"{DS}#contact", VCARD + "hasTelephone")],
                      [FieldProblem(f"contact_point_{k}",
                                    "website, email or phone is required for a valid "
                                    "contact_point") for k in ("website", "email", "phone")]),
    "contact name": ([(f"{DS}#contact", VCARD + "fn")],
                     [FieldProblem("contact_point_name", MISSING)]),
    "distribution title": ([(CSV_DIST, DCT + "title")], [FieldProblem("resources[0].name",
                                                                      MISSING)]),
    "distribution description": ([(PDF_DIST, DCT + "description")],
                                 [FieldProblem("resources[1].description", MISSING)]),
    "distribution format": ([(CSV_DIST, DCT + "format")],
                            [FieldProblem("resources[0].format", MISSING)]),
    "distribution url": ([(PDF_DIST, DCAT + "accessURL")],
                         [FieldProblem("resources[1].url", MISSING)]),
}


@pytest.mark.parametrize("case", sorted(MANDATORY_CASES))
def test_missing_mandatory_value_is_a_problem_not_an_invention(mappings, case: str) -> None:
    removals, expected = MANDATORY_CASES[case]
    graph = rich_graph()
    for subject, prop in removals:
        remove(graph, subject, prop)
    mapped = rich(graph)
    if case == "identifier":
        mapped.identifier = ""
        remove(graph, DS, DCT + "identifier")
    package = to_target(mapped, mappings).package("leerlingen", "ocw")
    assert sorted(check_package(package), key=str) == sorted(expected, key=str)


def test_download_url_stands_in_for_a_missing_access_url(mappings) -> None:
    graph = remove(rich_graph(), CSV_DIST, DCAT + "accessURL")
    res = to_target(rich(graph), mappings).package("l", "o")["resources"][0]
    assert res["url"] == "https://example.org/files/leerlingen.csv"


# --- themes -------------------------------------------------------------------------------------


def themes_of(mappings: Any, *themes: str) -> tuple[list[str] | None, list[FieldProblem]]:
    graph = remove(rich_graph(), DS, DCAT + "theme")
    for theme in themes:
        graph.add((URIRef(DS), URIRef(DCAT + "theme"), URIRef(theme)))
    package = to_target(rich(graph), mappings).package("l", "o")
    return package.get("theme"), [p for p in check_package(package) if p.field == "theme"]


def test_eu_theme_is_never_sent(mappings) -> None:
    assert themes_of(mappings, EU_THEME + "EDUC", OWMS + "Hoger_onderwijs_(thema)") == (
        [OWMS + "Hoger_onderwijs_(thema)"], [])
    # only an EU theme: its OWMS themes from the themes table
    assert themes_of(mappings, EU_THEME + "EDUC") == ([OWMS + "Onderwijs_en_wetenschap"], [])
    # an EU theme the table does not know: nothing to send
    assert themes_of(mappings, EU_THEME + "XXXX") == (None, [FieldProblem("theme", MISSING)])


def test_theme_outside_the_taxonomy_is_reported_with_the_list_name(mappings) -> None:
    # DUO's fixture graph writes "Hoger_onderwijs", which is not in the taxonomy
    assert themes_of(mappings, OWMS + "Hoger_onderwijs") == (
        [OWMS + "Hoger_onderwijs"],
        [FieldProblem("theme", "value is part of the list Overheid:Taxonomiebeleidsagenda")])


def test_organisation_not_in_the_donl_list_is_sent_and_reported(mappings) -> None:
    graph = rich_graph()
    remove(graph, DS, DCT + "rightsHolder")
    remove(graph, DS, DCT + "creator")
    graph.add((URIRef(DS), URIRef(DCT + "creator"), URIRef(f"{DS}#creator")))
    package = to_target(rich(graph), mappings).package("leerlingen", "o")
    assert package["authority"] == f"{DS}#creator"
    assert check_package(package) == [
        FieldProblem("authority", "value is part of the list DONL:Organization")]


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("literal, end, expected", [
    (Literal("2024-03-05T10:11:12.345+01:00", datatype=XSD + "dateTime"), False,
     "2024-03-05T09:11:12"),
    (Literal("2024-03-05T10:11:12Z", datatype=XSD + "dateTime"), False, "2024-03-05T10:11:12"),
    (Literal("2023-05-02T13:30:23.352647", datatype=XSD + "dateTime"), False,
     "2023-05-02T13:30:23"),
    (Literal("2024-03-05", datatype=XSD + "date"), False, "2024-03-05T00:00:00"),
    (Literal("2024-03-05", datatype=XSD + "date"), True, "2024-03-05T23:59:59"),
    (Literal("2019", datatype=XSD + "gYear"), False, "2019-01-01T00:00:00"),
    (Literal("2019", datatype=XSD + "gYear"), True, "2019-12-31T23:59:59"),
    (Literal("2024-02", datatype=XSD + "gYearMonth"), True, "2024-02-29T23:59:59"),
    (Literal("2018-04-11T09:00:00"), False, "2018-04-11T09:00:00"),
    (Literal("2018-04-11T09:00:00", datatype=XSD + "dateTime"), True, "2018-04-11T09:00:00"),
    (Literal("2018-04-11T09:00:00-02:30", datatype=XSD + "dateTime"), False, "2018-04-11T11:30:00"),
    (Literal("gisteren", datatype=XSD + "dateTime"), False, None),
    (Literal("11-04-2018"), False, None),
    (URIRef("https://example.org/date"), False, None),
])
def test_dates_in_data_overheid_nl_format(literal, end, expected) -> None:
    value = donl_date(literal, end=end)
    assert value == expected
    if value is not None:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value)


def test_every_sent_date_has_the_format(duo_mapped, mappings) -> None:
    dates = {f.name for f in DATASET_FIELDS + RESOURCE_FIELDS if f.kind == "date"}
    for mapped in duo_mapped[:10] + [rich()]:
        package = to_target(mapped, mappings).package("n", "o")
        for item in [package, *package["resources"]]:
            for key in dates & set(item):
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", item[key]), (key, item[key])


# --- check_package rules ------------------------------------------------------------------------


def base_package() -> dict[str, Any]:
    """The official minimum example (data.overheid.nl docs) plus a contact e-mail: accepted."""
    return {
        "name": "mijndataset1", "owner_org": "org", "title": "mijndataset1",
        "identifier": "https://www.mijn.organisatie.nl/datasets/mijndataset1",
        "notes": "De omschrijving van mijndataset1!", "metadata_language": NLD,
        "authority": OWMS + "'s-Hertogenbosch",
        "publisher": OWMS + "Centraal_Bureau_voor_de_Statistiek",
        "contact_point_name": "John Doe", "contact_point_email": "john.doe@cbs.nl",
        "license_id": "http://creativecommons.org/licenses/by/4.0/deed.nl", "language": [NLD],
        "theme": [OWMS + "Arbeidsomstandigheden_(thema)"], "modified": "2018-04-11T09:00:00",
    }


def resource_body(**changes: Any) -> dict[str, Any]:
    res = {"name": "r", "url": "http://my.organization.com/r", "description": "d",
           "metadata_language": NLD, "language": [NLD],
           "format": "http://publications.europa.eu/resource/authority/file-type/ZIP",
           "license_id": "http://creativecommons.org/publicdomain/mark/1.0/deed.nl"}
    res.update(changes)
    return {k: v for k, v in res.items() if v is not None}


@pytest.mark.parametrize("changes, expected", [
    ({}, []),
    ({"modified": "2018-04-11T09:00:00Z"},
     [("modified", "expected a date, or a list of dates in format %Y-%m-%dT%H:%M:%S")]),
    ({"modified": "2018-04-11"}, []),
    ({"identifier": "mijndataset1"}, [("identifier", "expected an URI, or a list of URIs")]),
    ({"language": NLD}, [("language", "value must be a list")]),
    ({"language": "{" + NLD + "}"}, []),
    ({"language": [NLD, NLD]}, [("language", "duplicates are not allowed")]),
    ({"language": [NLD, {"b": 1, "a": 2}, {"a": 2, "b": 1}]}, [("language", "duplicates are not allowed")]),
    ({"language": [NLD, NLD + " "]}, [("language", "value is part of the list DONL:Language")]),
    ({"metadata_language": [NLD]},
     [("metadata_language", "expected a single value, got a list of values")]),
    ({"theme": [EU_THEME + "EDUC", "x"]},
     [("theme", "value is part of the list Overheid:Taxonomiebeleidsagenda")] * 2),
    ({"theme": []}, [("theme", MISSING)]),
    ({"frequency": "jaarlijks"}, [("frequency", "value is part of the list Overheid:Frequency")]),
    ({"high_value": "ja"}, [("high_value", "expected a boolean or a list of booleans")]),
    ({"high_value": False}, []),
    ({"contact_point_email": ""},
     [(f"contact_point_{k}", "website, email or phone is required for a valid contact_point")
      for k in ("website", "email", "phone")]),
    ({"temporal_start": "2018-01-01", "temporal_end": "2018-01-01T00:00:00"},
     [(k, "temporal_start cannot be greater or equal to temporal_end")
      for k in ("temporal_start", "temporal_end")]),
    ({"legal_foundation_label": "De wet"},
     [(k, f"{k} is required when providing a legal_foundation")
      for k in ("legal_foundation_ref", "legal_foundation_uri")]),
    ({"spatial_value": [OWMS + "Amsterdam"]},
     [("spatial_scheme", "spatial_scheme is required for spatial")]),
    ({"access_rights": "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
      "license_id": OWMS + "geslotenlicentie"},
     [("license_id", ("When dataset_status is set to http://data.overheid.nl/status/beschikbaar "
                      "and access_rights is set to [ http://publications.europa.eu/resource/"
                      "authority/access-right/PUBLIC ], an open license must be provided; got "
                      "http://standaarden.overheid.nl/owms/terms/geslotenlicentie"))]),
    ({"tags": [{"name": "a/b"}, {"name": "ok"}]},
     [("tags", ('Tag "a/b" can only contain alphanumeric characters, spaces (" "), hyphens '
                '("-"), underscores ("_") or dots (".")'))]),
    ({"resources": [resource_body(hash="abc"), resource_body(size="12kB", language=None)]},
     [(f"resources[0].{k}", f"{k} is required when providing a valid checksum")
      for k in ("hash", "hash_algorithm")]
     + [("resources[1].language", MISSING),
        ("resources[1].size", "expected a integer, or a a list of integers")]),
    ({"resources": [resource_body(format="CSV", media_type="text/csv")]},
     [("resources[0].format", "value is part of the list MDR:FiletypeNAL"),
      ("resources[0].media_type", "value is part of the list IANA:Mediatypes")]),
])
def test_check_package_rules(changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    package = base_package()
    package.update(changes)
    assert sorted(map(str, check_package(package))) == sorted(
        str(FieldProblem(f, m)) for f, m in expected)


def test_subschema_fields_must_be_lists_of_dicts() -> None:
    """CKAN refuses these before validating (an "Integrity Error"); empty dicts it ignores."""
    assert check_package(dict(base_package(), tags="onderwijs")) == [FieldProblem(
        "tags", "Only lists of dicts can be placed against subschema ('tags',), not <class "
                "'str'>")]
    assert check_package(dict(base_package(), resources=[{}], tags=[{}, {"name": "ok"}])) == []


def test_default_dataset_status_only_on_create() -> None:
    closed = dict(base_package(), license_id=OWMS + "geslotenlicentie",
                  access_rights="http://publications.europa.eu/resource/authority/access-right/"
                                "PUBLIC")
    assert [p.field for p in check_package(closed)] == ["license_id"]
    assert check_package(dict(closed, id="0b7c2f9e-0000-4000-8000-000000000001")) == []


def test_check_package_does_not_change_its_input() -> None:
    # the validators replace values (a bare date, a "{...}" list) and drop empty fields, of the
    # package and of its resources; the caller's dicts and lists keep theirs
    package = dict(base_package(), modified="2018-04-11", language="{" + NLD + "}", spatial_scheme=[],
                   tags=[{"name": "ok"}],
                   resources=[resource_body(modification_date="2019-01-02", language="{" + NLD + "}",
                                            size="", hash="abc"), "not a dict"])
    before = copy.deepcopy(package)
    problems = check_package(package)
    assert package == before
    assert [p.field for p in problems] == ["resources[0].hash", "resources[0].hash_algorithm"]


def test_a_diff_from_a_normal_form_given_is_the_diff() -> None:
    from harvester.donl.compare import normal_hash, normalise_package

    ours = dict(base_package(), tags=[{"name": "b"}, {"name": "a"}], modified="2018-04-11",
                resources=[resource_body(), resource_body(name="s", url="http://my.organization.com/s"), "x"])
    theirs = dict(base_package(), id="p1", title="Oud", resources=[resource_body(description="oud"),
                                                                   resource_body(url="http://weg")])
    for a, b in ((ours, theirs), (theirs, ours), (ours, {}), ({}, ours)):
        normal = normalise_package(a)
        assert diff_packages(a, b, normal) == diff_packages(a, b)
        assert normal_hash(normal) == canonical_hash(a)
    assert diff_packages(ours, theirs)  # not trivially equal


def test_problems_from_error_dicts() -> None:
    assert problems_from_errors({
        "__type": "Validation Error", "theme": ["value is part of the list X"],
        "tags": ['Tag "a/b" can only contain ...'],
        "resources": [{}, {"format": ["Missing value"], "size": ["a", "b"]}],
    }) == [FieldProblem("theme", "value is part of the list X"),
           FieldProblem("tags", 'Tag "a/b" can only contain ...'),
           FieldProblem("resources[1].format", "Missing value"),
           FieldProblem("resources[1].size", "a"), FieldProblem("resources[1].size", "b")]
    assert problems_from_errors({"format": ["x"]}, "resources[0].") == [
        FieldProblem("resources[0].format", "x")]


# --- value lists and the stand-in schema --------------------------------------------------------


def test_value_lists_come_from_the_mapping_tables(mappings) -> None:
    lists = load_value_lists()
    taxonomy = lists.values("Overheid:Taxonomiebeleidsagenda")
    assert len(taxonomy) == 110 and not any(t.startswith(EU_THEME) for t in taxonomy)
    assert len(lists.values("DONL:Organization")) >= 1649
    assert OWMS + "Dienst_Uitvoering_Onderwijs" in lists.values("DONL:Organization")
    assert len(lists.values("DONL:Language")) == 4
    assert lists.values("non_open_licenses") <= lists.values("DONL:License")
    for name in ("Overheid:Frequency", "Overheid:Openbaarheidsniveau", "MDR:FiletypeNAL",
                 "IANA:Mediatypes", "Overheid:DatasetStatus", "ADMS:DistributieStatus",
                 "Overheid:SpatialScheme", "Overheid:SpatialGemeente"):
        assert lists.values(name), name
    # every list a rule names exists, so a missing list cannot silently accept everything
    named = {f.vocabulary for f in DATASET_FIELDS + RESOURCE_FIELDS if f.vocabulary}
    assert named <= set(lists.lists)


def test_value_lists_fingerprint_is_the_lists_own_without_reading_them(tmp_path: Path) -> None:
    """The fingerprint made from the files equals the loaded lists' own, changes with any table
    the lists name, and a missing table is a MappingError naming it, as when loading."""
    import shutil
    from types import SimpleNamespace

    from harvester.errors import MappingError

    def copy(name: str) -> SimpleNamespace:
        shutil.copytree(REPO / "harvester" / "mappings", tmp_path / name)
        return SimpleNamespace(path=tmp_path / name)

    same, changed, broken = copy("same"), copy("changed"), copy("broken")
    with (changed.path / "donl-valuelists.csv").open("a", encoding="utf-8") as table:
        table.write("Overheid:Frequency,http://example.org/freq/nieuw,Nieuw\n")
    (broken.path / "languages.csv").unlink()
    ours = value_lists_fingerprint(load_mappings())
    assert ours == value_lists_for(load_mappings()).fingerprint == value_lists_fingerprint(same)
    assert value_lists_fingerprint(changed) not in (ours, "")
    assert value_lists_fingerprint(changed) == value_lists_for(changed).fingerprint
    for read in (value_lists_fingerprint, value_lists_for):
        with pytest.raises(MappingError, match="languages.csv"):
            read(broken)


def test_standin_schema_has_the_same_fields_and_mandatory_ones() -> None:
    """tests/ckan_stack/donl/donl_schema.yaml (read as text: the project venv has no YAML
    parser) and DATASET_FIELDS / RESOURCE_FIELDS describe the same fields, mandatory alike."""
    text = STANDIN_SCHEMA.read_text(encoding="utf-8")
    dataset_part, resource_part = text.split("\nresource_fields:", 1)

    def fields(part: str) -> dict[str, bool]:
        out = {}
        for block in re.split(r"\n- ", part)[1:]:
            name = re.search(r"field_name: (\w+)", block).group(1)
            out[name] = bool(re.search(r"validators: \"?not_empty", block))
        return out

    ours = {f.name: f.required for f in DATASET_FIELDS if f.name != "name"}
    assert fields(dataset_part.split("\ndataset_fields:", 1)[1]) == dict(
        ours, changetype=False)
    assert fields(resource_part) == {f.name: f.required for f in RESOURCE_FIELDS}


# --- hashing and diffs --------------------------------------------------------------------------


def shown(package: dict[str, Any]) -> dict[str, Any]:
    """`package` as data.overheid.nl's package_show gives it back (validator-behaviour.md 5/7h)."""
    out = copy.deepcopy(package)
    out.update({
        "id": "454b9c9a-0db1-47b3-8fe9-fe9270ae8d6c", "changetype": ":created",
        "communities": ["https://data.overheid.nl/communities/onderwijs"],
        "dataset_status": out.get("dataset_status") or "http://data.overheid.nl/status/beschikbaar",
        "high_value": "false", "basis_register": "false", "referentie_data": "false",
        "national_coverage": "false", "metadata_created": "2026-11-22T09:44:52.475711",
        "metadata_modified": "2026-11-22T09:44:52.475715", "num_resources": 1, "num_tags": 0,
        "organization": {"id": "aca383e1", "name": "org"}, "owner_org": "aca383e1",
        "private": False, "state": "active", "type": "dataset", "isopen": False,
        "license_title": "CC-BY 4.0", "groups": [], "creator_user_id": "9a4f9a50",
    })
    out["tags"] = [{"name": t["name"], "display_name": t["name"], "id": f"t{i}", "state": "active",
                    "vocabulary_id": None} for i, t in enumerate(out.get("tags") or [])]
    for position, res in enumerate(out.get("resources") or []):
        res.update({"id": f"res-{position}", "package_id": out["id"], "position": position,
                    "created": "2026-11-22T09:44:53", "metadata_modified": "2026-11-22T09:44:53",
                    "last_modified": None, "cache_url": None, "mimetype": None, "state": "active",
                    "url_type": None})
    return dict(reversed(list(out.items())))


def test_canonical_hash_ignores_target_managed_fields_and_order() -> None:
    ours = dict(base_package(), tags=[{"name": "b"}, {"name": "a"}], resources=[resource_body()],
                theme=[OWMS + "Werk_(thema)", OWMS + "Arbeidsomstandigheden_(thema)"])
    theirs = shown(ours)
    theirs["theme"] = list(reversed(ours["theme"]))
    theirs["tags"].reverse()
    assert canonical_hash(ours) == canonical_hash(theirs)
    assert canonical_hash(dict(ours, modified="2018-04-11")) == canonical_hash(
        dict(ours, modified="2018-04-11T00:00:00"))
    assert {"changetype", "communities", "metadata_modified", "organization", "num_resources",
            "id", "position", "package_id"} <= TARGET_MANAGED_FIELDS
    assert len(canonical_hash(ours)) == 64


@pytest.mark.parametrize("change", [
    {"title": "Andere titel"}, {"theme": [OWMS + "Werk_(thema)"]},
    {"dataset_status": "http://data.overheid.nl/status/gepland"}, {"tags": [{"name": "c"}]},
    {"resources": [resource_body(format="http://publications.europa.eu/resource/authority/"
                                        "file-type/CSV")]},
    {"resources": []}, {"name": "andere-naam"},
])
def test_canonical_hash_sees_what_we_send(change: dict[str, Any]) -> None:
    ours = dict(base_package(), resources=[resource_body()], tags=[{"name": "a"}])
    assert canonical_hash(ours) != canonical_hash(dict(ours, **change))


def test_diff_packages_field_level() -> None:
    ours = dict(base_package(), resources=[resource_body(id="res-0"), resource_body(
        url="http://my.organization.com/new", name="nieuw")])
    theirs = shown(dict(base_package(), resources=[resource_body()]))
    theirs["title"] = "Oude titel"
    theirs["resources"][0]["size"] = 10
    theirs["resources"].append(dict(resource_body(url="http://my.organization.com/gone"),
                                    id="res-9"))
    changes = diff_packages(ours, theirs)
    assert changes == [
        FieldChange("title", "Oude titel", "mijndataset1"),
        FieldChange("resources[0].size", 10, None),
        FieldChange("resources[1]", None, resource_body(url="http://my.organization.com/new",
                                                        name="nieuw")),
        FieldChange("resources[removed:res-9]", resource_body(
            url="http://my.organization.com/gone"), None),
    ]
    assert diff_packages(ours, theirs) == changes  # deterministic
    assert diff_packages(theirs, theirs) == []


def test_diff_pairs_resources_by_url_without_ids() -> None:
    a, b = resource_body(url="http://x.org/a", name="a"), resource_body(url="http://x.org/b",
                                                                        name="b")
    theirs = shown(dict(base_package(), resources=[a, b]))
    ours = dict(base_package(), resources=[dict(b, description="nieuw"), a])
    assert diff_packages(ours, theirs) == [FieldChange("resources[0].description", "d", "nieuw")]


def test_diff_of_a_new_package_lists_every_field() -> None:
    ours = dict(base_package(), resources=[resource_body()])
    changes = diff_packages(ours, {})
    assert [c.field for c in changes] == sorted(set(base_package()) - {"owner_org"}) + [
        "resources[0]"]
    assert all(c.old is None for c in changes)
