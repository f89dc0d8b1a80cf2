"""The mapper: CKAN package -> DCAT-AP-NL 3.0 graph (harvester.dcat.dataset, .catalog, .options)
and text hygiene.

Golden files: tests/fixtures/mapper/<package>.json (DUO packages from the bundled snapshot, and
rich-package.json, a package of our own that uses every field the mapper knows) map, with the
DUO mapping options in duo-mapping.toml, to a graph isomorphic to <package>.ttl.
After an intended change, regenerate them with

    UPDATE_GOLDEN=1 pytest tests/test_mapper.py -k golden

and review the diff of the .ttl files.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from harvester.dcat.catalog import catalog_graph
from harvester.dcat.dataset import MappedDataset, map_dataset
from harvester.dcat.issues import MappingIssue
from harvester.dcat.options import MappingOptions
from harvester.dcat.rdf import DCAT, DCT, FOAF, NAMESPACES, RDF, SKOS, XSD
from harvester.dcat.tables import load_mappings
from harvester.dcat.text import markdown_to_text, plain_text, single_line, strip_html
from harvester.errors import ConfigError
from harvester.source.context import SourceContext

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mapper"
DUO_GOLDEN = ["01voins-v1", "p03hoinschr", "adressen_so", "rio_nfo_po_vo_vavo_mbo_ho-changelog"]
GOLDEN = [*DUO_GOLDEN, "rich-package"]  # rich-package.json: a package of our own, every field
VCARD = "http://www.w3.org/2006/vcard/ns#"
SPDX = "http://spdx.org/rdf/terms#"
SPX_SHA256 = SPDX + "checksumAlgorithm_sha256"
EU = "http://publications.europa.eu/resource/authority/"
EDUC = URIRef(EU + "data-theme/EDUC")
PORTAL = "https://onderwijsdata.duo.nl"
SERVICE = URIRef(PORTAL + "/api/3/action/datastore_search")


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mappings():
    return load_mappings()


@pytest.fixture(scope="module")
def context() -> SourceContext:
    return SourceContext.from_dict(json.loads((FIXTURES / "duo-context.json").read_text("utf-8")))


def duo_table() -> dict:
    data = tomllib.loads((FIXTURES / "duo-mapping.toml").read_text("utf-8"))
    return data["sources"]["duo"]["mapping"]


def duo_options(**changes) -> MappingOptions:
    table = duo_table()
    for key, value in changes.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return MappingOptions.from_config(table, "tests [sources.duo.mapping]")


@pytest.fixture(scope="module")
def options() -> MappingOptions:
    return duo_options()


def package(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


def issues_for(mapped: MappedDataset, field: str) -> list[MappingIssue]:
    return [i for i in mapped.issues if i.field == field]


def ds(mapped: MappedDataset) -> URIRef:
    return URIRef(mapped.uri)


def describe_diff(expected: Graph, actual: Graph) -> str:
    _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))

    def lines(g: Graph) -> str:
        return "\n".join(sorted(" ".join(t.n3() for t in triple) for triple in g)) or "(none)"

    return (f"\n--- only in the golden file ({len(only_expected)}):\n{lines(only_expected)}"
            f"\n+++ only in the mapped graph ({len(only_actual)}):\n{lines(only_actual)}")


# --- golden graphs ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_graph(name, context, mappings, options):
    mapped = map_dataset(package(name), context, mappings, options)
    golden = FIXTURES / f"{name}.ttl"
    if os.environ.get("UPDATE_GOLDEN"):
        g = Graph(bind_namespaces="none")
        for prefix, ns in NAMESPACES.items():
            g.bind(prefix, ns)
        for triple in mapped.graph:
            g.add(triple)
        golden.write_bytes(g.serialize(format="turtle", encoding="utf-8"))
    expected = Graph().parse(golden, format="turtle")
    assert isomorphic(expected, mapped.graph), f"{name}: graph differs from {golden.name}" + \
        describe_diff(expected, mapped.graph)
    assert not mapped.invalid, mapped.issues


def test_golden_packages_are_the_snapshot_packages(repo_dir):
    """The golden fixtures are verbatim copies of packages in examples/duo/duo-catalogue.json."""
    snapshot = repo_dir / "examples" / "duo" / "duo-catalogue.json"
    if not snapshot.exists():
        pytest.skip("examples/duo/duo-catalogue.json not present")
    packages = {p["name"]: p for p in json.loads(snapshot.read_text("utf-8"))["packages"]}
    for name in DUO_GOLDEN:
        assert packages[name] == package(name), f"{name}.json differs from the snapshot"


def test_duo_dataset_has_every_mandatory_property(context, mappings, options):
    mapped = map_dataset(package("01voins-v1"), context, mappings, options)
    g, d = mapped.graph, ds(mapped)
    assert mapped.uri == PORTAL + "/dataset/173cbf21-1567-464a-bccd-518cd7a46bd0"
    assert mapped.identifier == mapped.uri and mapped.source_id == "173cbf21-1567-464a-bccd-518cd7a46bd0"
    assert g.value(d, DCT.identifier) == Literal(mapped.uri)
    assert g.value(d, DCT.title).language == "nl"
    assert g.value(d, DCT.description).language == "nl"
    publisher = g.value(d, DCT.publisher)
    assert publisher == URIRef("http://standaarden.overheid.nl/owms/terms/Dienst_Uitvoering_Onderwijs")
    assert (publisher, RDF.type, FOAF.Agent) in g and g.value(publisher, FOAF.name) is not None
    assert g.value(d, DCT.creator) == publisher
    contact = g.value(d, DCAT.contactPoint)
    assert (contact, RDF.type, URIRef(VCARD + "Kind")) in g
    assert g.value(contact, URIRef(VCARD + "fn")) is not None
    assert g.value(contact, URIRef(VCARD + "hasEmail")) == URIRef("mailto:informatieproducten@duo.nl")
    themes = set(g.objects(d, DCAT.theme))
    assert EDUC in themes
    assert URIRef("http://standaarden.overheid.nl/owms/terms/Voortgezet_onderwijs_(thema)") in themes
    assert g.value(d, DCT.accessRights) == URIRef(EU + "access-right/PUBLIC")
    assert g.value(d, DCT.language) == URIRef(EU + "language/NLD")
    assert g.value(d, DCAT.landingPage) == URIRef(PORTAL + "/dataset/01voins-v1")
    assert g.value(d, DCT.modified) == Literal("2023-05-02T13:30:23.352647", datatype=XSD.dateTime)
    assert g.value(d, DCT.issued).datatype == XSD.dateTime
    assert [str(k) for k in g.objects(d, DCAT.keyword)] == ["leerlingen"]


def test_duo_distribution(context, mappings, options):
    mapped = map_dataset(package("01voins-v1"), context, mappings, options)
    g = mapped.graph
    rid = "d49219cc-2f36-4c2d-8007-b385ba44ec8d"
    dist = URIRef(f"{mapped.uri}/resource/{rid}")
    assert mapped.distribution_uris == {rid: str(dist)}
    assert (ds(mapped), DCAT.distribution, dist) in g
    dump = URIRef(f"{PORTAL}/datastore/dump/{rid}")
    assert g.value(dist, DCAT.accessURL) == dump
    assert g.value(dist, DCAT.downloadURL) == dump
    assert g.value(dist, DCT.license) == URIRef(EU + "licence/CC_BY_4_0")
    assert g.value(dist, DCT.format) == URIRef(EU + "file-type/CSV")
    assert g.value(dist, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert g.value(dist, DCAT.byteSize) == Literal("30659096", datatype=XSD.nonNegativeInteger)
    assert g.value(dist, DCAT.accessService) == SERVICE
    assert g.value(dist, DCT.modified) == Literal("2023-03-23T15:13:30.726666", datatype=XSD.dateTime)
    schema = g.value(dist, DCT.conformsTo)
    assert (schema, RDF.type, DCT.Standard) in g
    assert "SCHOOLJAAR (number)" in str(g.value(schema, DCT.description))
    # the DataService the distribution links to is described in the graph too
    assert (SERVICE, RDF.type, DCAT.DataService) in g
    assert (SERVICE, DCAT.servesDataset, ds(mapped)) in g


def test_documentation_resources_become_foaf_page(context, mappings, options):
    """documentation_as "page" (the default): each documentation resource is a foaf:page of the
    dataset, titled with its name, and no distribution."""
    pkg = package("rio_nfo_po_vo_vavo_mbo_ho-changelog")
    mapped = map_dataset(pkg, context, mappings, options)
    g = mapped.graph
    pages = set(g.objects(ds(mapped), FOAF.page))
    assert len(pages) == 9  # 8 PDFs and the PNG model
    for page in pages:
        assert (page, RDF.type, FOAF.Document) in g and g.value(page, DCT.title) is not None
    assert mapped.distribution_uris == {}
    assert not set(g.subjects(RDF.type, DCAT.Distribution))
    (issue,) = issues_for(mapped, "resources")  # the dataset has no distribution left
    assert issue.severity == "warning"


def test_documentation_as_distribution_is_not_also_a_page(context, mappings):
    pkg = package("rio_nfo_po_vo_vavo_mbo_ho-changelog")
    mapped = map_dataset(pkg, context, mappings, duo_options(documentation_as="distribution"))
    assert len(mapped.distribution_uris) == 9
    assert not set(mapped.graph.objects(ds(mapped), FOAF.page))
    with pytest.raises(ConfigError, match="'documentation_as' must be one of 'page', "
                                          "'distribution'"):
        duo_options(documentation_as="both")


def _description_of(mapped: MappedDataset, index: int = 0) -> str:
    dist = URIRef(list(mapped.distribution_uris.values())[index])
    return str(mapped.graph.value(dist, DCT.description))


def test_a_resource_without_description_is_described_by_its_columns(context, mappings, options):
    pkg = package("01voins-v1")
    res = pkg["resources"][0]
    names = [f["name"] for f in res["schema"]["fields"]]
    assert len(names) == 17
    res["description"] = ""
    described = _description_of(map_dataset(pkg, context, mappings, options))
    assert described == "CSV, 17 kolommen: " + ", ".join(names[:10]) + ", ..."
    # a DataStore field list as JSON text: columns by id, without DataStore's own _id
    res["schema"] = json.dumps({"fields": [{"id": "_id"}, {"id": "PEILJAAR", "type": "text"}]})
    assert _description_of(map_dataset(pkg, context, mappings, options)) == \
        "CSV, 1 kolom: PEILJAAR"
    english = duo_options(default_language="en", language_fallback=None)
    res["schema"] = {"fields": [{"name": "A"}, {"name": "B"}]}
    assert _description_of(map_dataset(pkg, context, mappings, english)) == \
        "CSV, 2 columns: A, B"


def test_a_resource_without_description_or_schema_is_described_by_its_file(context, mappings,
                                                                            options):
    pkg = package("adressen_so")
    mapped = map_dataset(pkg, context, mappings, options)
    assert _description_of(mapped) == "CSV-bestand besturenso.csv"
    res = pkg["resources"][0]
    res["url"] = "https://example.org/api/besturen"  # no file name: the file type alone
    assert _description_of(map_dataset(pkg, context, mappings, options)) == "CSV-bestand"
    res["url"] = "https://example.org/bestanden/besturen%20so.csv?versie=2"
    assert _description_of(map_dataset(pkg, context, mappings, options)) == \
        "CSV-bestand besturen so.csv"
    res.update(format="WMS", mimetype=None, url="https://example.org/wms")  # a service: no file
    assert _description_of(map_dataset(pkg, context, mappings, options)) == "WMS"


def test_a_resource_description_of_its_own_is_kept(context, mappings, options):
    pkg = package("adressen_so")
    pkg["resources"][0]["description"] = "## Besturen\r\nAlle **besturen**."
    mapped = map_dataset(pkg, context, mappings, options)
    assert _description_of(mapped) == "Besturen\n\nAlle besturen."


def test_checksum_when_ckan_has_a_hash(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["resources"][0]["hash"] = "sha256:" + "ab" * 32
    mapped = map_dataset(pkg, context, mappings, options)
    g = mapped.graph
    node = g.value(URIRef(mapped.distribution_uris[pkg["resources"][0]["id"]]),
                   URIRef(SPDX + "checksum"))
    assert g.value(node, URIRef(SPDX + "algorithm")) == URIRef(SPX_SHA256)
    assert g.value(node, URIRef(SPDX + "checksumValue")) == Literal("ab" * 32,
                                                                    datatype=XSD.hexBinary)


# --- stable identifiers -------------------------------------------------------------------------


def test_identifier_survives_a_rename(context, mappings, options):
    original = map_dataset(package("01voins-v1"), context, mappings, options)
    renamed_pkg = package("01voins-v1")
    renamed_pkg["name"] = "vo-leerlingen-per-vestiging"
    renamed_pkg["title"] = "Een nieuwe titel"
    renamed = map_dataset(renamed_pkg, context, mappings, options)
    assert renamed.uri == original.uri
    assert renamed.identifier == original.identifier
    assert renamed.distribution_uris == original.distribution_uris
    assert renamed.name == "vo-leerlingen-per-vestiging"
    # only the landing page (the portal page is per name) and the title change
    _, only_old, only_new = graph_diff(to_isomorphic(original.graph), to_isomorphic(renamed.graph))
    for changed, mapped in ((only_old, original), (only_new, renamed)):
        landing = mapped.graph.value(ds(mapped), DCAT.landingPage)
        assert set(changed) == {(ds(mapped), DCAT.landingPage, landing),
                                (landing, RDF.type, FOAF.Document),
                                (ds(mapped), DCT.title, mapped.graph.value(ds(mapped), DCT.title))}


def test_persistent_identifier_is_the_uri(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["extras"].append({"key": "identifier", "value": "https://data.duo.nl/id/dataset/01voins"})
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.uri == "https://data.duo.nl/id/dataset/01voins"
    assert mapped.graph.value(ds(mapped), DCT.identifier) == Literal(mapped.uri)
    # distributions keep their portal URIs, from the CKAN ids
    assert list(mapped.distribution_uris.values()) == [
        PORTAL + "/dataset/173cbf21-1567-464a-bccd-518cd7a46bd0/resource/"
                 "d49219cc-2f36-4c2d-8007-b385ba44ec8d"]


def test_portal_url_by_name_is_not_an_identity(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["extras"].append({"key": "identifier", "value": PORTAL + "/dataset/01voins-v1"})
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.uri == PORTAL + "/dataset/" + pkg["id"]
    assert issues_for(mapped, "identifier")[0].severity == "warning"


def test_non_uri_identifier_is_kept_as_other_identifier(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["identifier"] = "DUO-01VOINS"
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.uri == PORTAL + "/dataset/" + pkg["id"]
    other = mapped.graph.value(ds(mapped), URIRef("http://www.w3.org/ns/adms#identifier"))
    assert mapped.graph.value(other, SKOS.notation) == Literal("DUO-01VOINS")


def test_package_without_id_is_invalid(context, mappings, options):
    pkg = package("01voins-v1")
    del pkg["id"]
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid
    assert issues_for(mapped, "id")[0].severity == "error"


# --- mandatory properties: source removed -> issue or fallback ----------------------------------


def test_missing_title_is_an_error(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["title"] = ""
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid
    (issue,) = issues_for(mapped, "title")
    assert issue.dataset == "01voins-v1" and issue.severity == "error"
    assert mapped.graph.value(ds(mapped), DCT.title) is None


def test_an_invalid_datasets_issues_name_it_by_its_source_name(context, mappings, options):
    """Every issue names the dataset by its CKAN name, as a valid one's do; the id only when the
    package has no name."""
    pkg = package("adressen_so")
    for key in ("id", "notes", "license_id", "license_title", "license_url"):
        pkg.pop(key)
    pkg["resources"][0]["format"] = "PNG"  # a .csv labelled PNG
    mapped = map_dataset(pkg, context, mappings, duo_options(documentation_formats=["PDF"]))
    assert mapped.invalid and {i.field for i in mapped.errors} >= {"id", "notes", "license_id"}
    assert mapped.warnings and {i.dataset for i in mapped.issues} == {"adressen_so"}
    pkg = package("adressen_so")
    pkg.pop("name")
    pkg["notes"] = ""
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid and {i.dataset for i in mapped.issues} == {pkg["id"]}


def test_missing_description_is_an_error(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["notes"] = None
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid and issues_for(mapped, "notes")[0].severity == "error"


def test_missing_organisation(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["organization"] = None
    pkg["owner_org"] = None
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid
    assert issues_for(mapped, "organization")[0].severity == "error"
    assert mapped.graph.value(ds(mapped), DCT.publisher) is None
    # with a configured fallback: a warning and the fallback organisation
    with_fallback = duo_options(organisation_fallback="duo")
    mapped = map_dataset(pkg, context, mappings, with_fallback)
    assert not mapped.invalid
    (issue,) = issues_for(mapped, "organization")
    assert issue.severity == "warning" and "organisation_fallback" in issue.message
    assert mapped.graph.value(ds(mapped), DCT.publisher) is not None


def test_owner_org_id_is_resolved_through_the_context(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["organization"] = None  # only owner_org (the id) is left
    mapped = map_dataset(pkg, context, mappings, options)
    assert not issues_for(mapped, "organization")
    assert mapped.graph.value(ds(mapped), DCT.publisher) is not None


def test_unmapped_organisation_is_reported(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["organization"] = dict(pkg["organization"], name="onbekende-dienst", title="Onbekend",
                               id="x")
    pkg["owner_org"] = "x"
    mapped = map_dataset(pkg, context, mappings, options)
    (issue,) = issues_for(mapped, "organization")
    assert issue.severity == "error" and issue.value == "onbekende-dienst"
    assert issue.dataset == "01voins-v1"


def test_missing_creator(context, mappings):
    opts = duo_options(creator_is_publisher=False)
    mapped = map_dataset(package("01voins-v1"), context, mappings, opts)
    assert mapped.invalid and issues_for(mapped, "author")[0].severity == "error"
    pkg = package("01voins-v1")
    pkg["author"] = "Afdeling Informatieproducten"
    pkg["author_email"] = "ip@example.org"
    mapped = map_dataset(pkg, context, mappings, opts)
    assert not mapped.invalid
    creator = mapped.graph.value(ds(mapped), DCT.creator)
    assert (creator, RDF.type, FOAF.Agent) in mapped.graph
    assert str(mapped.graph.value(creator, FOAF.name)) == "Afdeling Informatieproducten"


def test_missing_contact_point(context, mappings):
    opts = duo_options(contact_email=None, contact_url=None, data_service=None)
    mapped = map_dataset(package("01voins-v1"), context, mappings, opts)
    assert mapped.invalid
    assert issues_for(mapped, "maintainer_email")[0].severity == "error"
    # the package's own maintainer is used when it has one
    pkg = package("01voins-v1")
    pkg["maintainer"] = "Team Open Data"
    pkg["maintainer_email"] = "opendata@example.org"
    mapped = map_dataset(pkg, context, mappings, opts)
    assert not mapped.invalid
    contact = mapped.graph.value(ds(mapped), DCAT.contactPoint)
    assert str(mapped.graph.value(contact, URIRef(VCARD + "fn"))) == "Team Open Data"
    assert mapped.graph.value(contact, URIRef(VCARD + "hasEmail")) == \
        URIRef("mailto:opendata@example.org")


def test_contact_url_alone_is_enough(context, mappings):
    opts = duo_options(contact_email=None)
    mapped = map_dataset(package("01voins-v1"), context, mappings, opts)
    assert not mapped.invalid
    contact = mapped.graph.value(ds(mapped), DCAT.contactPoint)
    assert mapped.graph.value(contact, URIRef(VCARD + "hasURL")) is not None


def test_missing_theme(context, mappings):
    pkg = package("rio_nfo_po_vo_vavo_mbo_ho-changelog")  # no groups, no theme extra
    no_fallback = duo_options(theme_fallback=None)
    mapped = map_dataset(pkg, context, mappings, no_fallback)
    assert mapped.invalid
    (issue,) = issues_for(mapped, "theme")
    assert issue.severity == "error"
    assert not list(mapped.graph.objects(ds(mapped), DCAT.theme))
    mapped = map_dataset(pkg, context, mappings, duo_options())
    assert not mapped.invalid
    (issue,) = issues_for(mapped, "theme")
    assert issue.severity == "warning" and "theme_fallback" in issue.message
    assert EDUC in set(mapped.graph.objects(ds(mapped), DCAT.theme))


def test_theme_extra_as_json_list_and_groups(context, mappings, options):
    mapped = map_dataset(package("adressen_so"), context, mappings, options)
    themes = {str(t) for t in mapped.graph.objects(ds(mapped), DCAT.theme)}
    assert themes == {
        EU + "data-theme/EDUC",
        "http://standaarden.overheid.nl/owms/terms/Basisonderwijs_(thema)",
        "http://standaarden.overheid.nl/owms/terms/Overige_vormen_van_onderwijs",
    }
    for theme in themes:
        t = URIRef(theme)
        assert (t, RDF.type, SKOS.Concept) in mapped.graph
        assert mapped.graph.value(t, SKOS.prefLabel) is not None
        assert mapped.graph.value(t, SKOS.inScheme) is not None


def test_missing_access_rights(context, mappings):
    opts = duo_options(access_rights=None, data_service=None)
    mapped = map_dataset(package("01voins-v1"), context, mappings, opts)
    assert mapped.invalid and issues_for(mapped, "access_rights")[0].severity == "error"


def test_incomplete_data_service_settings_are_config_errors(context, mappings):
    """A dataset whose distribution links to the DataStore describes the service, so missing
    service settings surface at once, naming the key."""
    with pytest.raises(ConfigError, match="access_rights"):
        map_dataset(package("01voins-v1"), context, mappings, duo_options(access_rights=None))
    with pytest.raises(ConfigError, match="contact_email or contact_url"):
        map_dataset(package("01voins-v1"), context, mappings,
                    duo_options(contact_email=None, contact_url=None))


def test_missing_licence(context, mappings, options):
    pkg = package("01voins-v1")
    for key in ("license_id", "license_title", "license_url"):
        pkg.pop(key)
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid and issues_for(mapped, "license_id")[0].severity == "error"
    mapped = map_dataset(pkg, context, mappings, duo_options(licence_fallback="cc-zero"))
    assert not mapped.invalid
    (issue,) = issues_for(mapped, "license_id")
    assert issue.severity == "warning"
    dist = URIRef(next(iter(mapped.distribution_uris.values())))
    assert mapped.graph.value(dist, DCT.license) == URIRef(EU + "licence/CC0")
    assert mapped.graph.value(ds(mapped), DCT.license) == URIRef(EU + "licence/CC0")


def test_dataset_without_resources_keeps_its_licence(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["resources"] = []
    mapped = map_dataset(pkg, context, mappings, options)
    assert not mapped.invalid
    licence = URIRef(EU + "licence/CC_BY_4_0")
    assert mapped.graph.value(ds(mapped), DCT.license) == licence
    assert (licence, RDF.type, DCT.LicenseDocument) in mapped.graph
    for key in ("license_id", "license_title", "license_url"):
        pkg.pop(key, None)
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid and issues_for(mapped, "license_id")[0].severity == "error"


def test_the_dataset_licence_is_the_package_licence(context, mappings, options):
    """A resource with a licence of its own keeps it; the dataset has the package's. A package
    naming none whose every resource has its own has no dataset licence, and no issue."""
    pkg = package("01voins-v1")
    pkg["resources"][0]["license_id"] = "cc-zero"
    mapped = map_dataset(pkg, context, mappings, options)
    dist = URIRef(mapped.distribution_uris[pkg["resources"][0]["id"]])
    assert mapped.graph.value(dist, DCT.license) == URIRef(EU + "licence/CC0")
    assert mapped.graph.value(ds(mapped), DCT.license) == URIRef(EU + "licence/CC_BY_4_0")
    for key in ("license_id", "license_title", "license_url"):
        pkg.pop(key, None)
    mapped = map_dataset(pkg, context, mappings, options)
    assert not mapped.invalid and not issues_for(mapped, "license_id")
    assert mapped.graph.value(ds(mapped), DCT.license) is None


def test_licence_override(context, mappings):
    opts = duo_options(licence_overrides={"01voins-v1": "cc-zero"})
    mapped = map_dataset(package("01voins-v1"), context, mappings, opts)
    dist = URIRef(next(iter(mapped.distribution_uris.values())))
    assert mapped.graph.value(dist, DCT.license) == URIRef(EU + "licence/CC0")


def test_missing_format(context, mappings, options):
    pkg = package("01voins-v1")
    res = pkg["resources"][0]
    res["format"] = ""
    res["mimetype"] = None
    res["url"] = "https://example.org/files/data"  # no extension either
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid
    assert issues_for(mapped, "resources[0].format")[0].severity == "error"
    mapped = map_dataset(pkg, context, mappings, duo_options(format_fallback="csv"))
    assert not mapped.invalid
    assert issues_for(mapped, "resources[0].format")[0].severity == "warning"


def test_format_from_url_extension(context, mappings, options):
    pkg = package("01voins-v1")
    res = pkg["resources"][0]
    res["format"] = ""
    res["mimetype"] = None
    res["url"] = "https://example.org/files/data.csv"
    mapped = map_dataset(pkg, context, mappings, options)
    assert not mapped.invalid
    (issue,) = issues_for(mapped, "resources[0].format")
    assert issue.severity == "warning" and issue.value == "csv"


def test_format_the_file_shows_wins_over_the_label(context, mappings, options):
    """A `.jpg` labelled PNG is published as JPEG, with a warning naming the resource, the
    declared format and the one used."""
    pkg = package("rio_nfo_po_vo_vavo_mbo_ho-changelog")
    index, res = next((i, r) for i, r in enumerate(pkg["resources"]) if r["format"] == "PNG")
    assert res["url"].endswith(".jpg") and res["mimetype"] == "image/jpeg"  # DUO's own
    mapped = map_dataset(pkg, context, mappings, duo_options(documentation_as="distribution"))
    dist = URIRef(mapped.distribution_uris[res["id"]])
    assert mapped.graph.value(dist, DCT.format) == URIRef(EU + "file-type/JPEG")
    assert mapped.graph.value(dist, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/image/jpeg")
    (issue,) = issues_for(mapped, f"resources[{index}].format")
    assert issue.severity == "warning" and issue.value == "PNG" and issue.dataset == pkg["name"]
    assert repr(res["name"]) in issue.message and "JPEG" in issue.message
    assert ".jpg" in issue.message


@pytest.mark.parametrize("declared, url, mimetype, expected, warned", [
    ("PNG", "https://example.org/f/foto.JPG", None, "JPEG", True),
    ("PNG", "https://example.org/f/foto", "image/jpeg", "JPEG", True),  # no extension: mimetype
    ("CSV", "https://example.org/f/data.tsv", "text/csv", "TSV", True),  # the extension first
    ("XLS", "https://example.org/f/data.xlsx", None, "XLSX", True),
    ("CSV", "https://example.org/f/data.csv", "text/csv", "CSV", False),
    ("CSV", "https://example.org/f/data.zip", None, "CSV", False),  # an archive may hold it
    ("CSV", "https://example.org/f/data.txt", "text/plain", "CSV", False),
    ("CSV", "https://example.org/f/data", "application/octet-stream", "CSV", False),
    ("GeoJSON", "https://example.org/f/kaart.json", None, "GEOJSON", False),  # geo+json is JSON
    ("GML", "https://example.org/f/kaart.xml", None, "GML", False),
    ("WMS", "https://example.org/wms/kaart.png", None, "WMS_SRVC", False),  # a service
    ("CSV", "https://example.org/f/export.php", None, "CSV", False),  # not in the table
])
def test_format_from_the_file(declared, url, mimetype, expected, warned, context, mappings):
    pkg = package("01voins-v1")
    pkg["resources"][0].update(format=declared, url=url, mimetype=mimetype)
    mapped = map_dataset(pkg, context, mappings, duo_options(documentation_formats=["PDF"]))
    dist = URIRef(next(iter(mapped.distribution_uris.values())))
    assert mapped.graph.value(dist, DCT.format) == URIRef(EU + "file-type/" + expected)
    assert bool(issues_for(mapped, "resources[0].format")) == warned


def test_missing_resource_url(context, mappings, options):
    pkg = package("rio_nfo_po_vo_vavo_mbo_ho-changelog")
    res = pkg["resources"][0]
    res["url"] = ""
    mapped = map_dataset(pkg, context, mappings, options)
    dist = URIRef(mapped.distribution_uris[res["id"]])
    assert mapped.graph.value(dist, DCAT.accessURL) == dist  # the resource's page on the portal
    assert issues_for(mapped, "resources[0].url")[0].severity == "warning"


def test_missing_metadata_modified_uses_dataset_dates(context, mappings, options):
    pkg = package("01voins-v1")
    del pkg["metadata_modified"]
    mapped = map_dataset(pkg, context, mappings, options)
    assert not mapped.invalid
    assert mapped.modified == pkg["metadata_created"]
    pkg.pop("metadata_created")
    mapped = map_dataset(pkg, context, mappings, options)
    assert mapped.invalid and issues_for(mapped, "metadata_modified")


# --- unmapped values ----------------------------------------------------------------------------


@pytest.mark.parametrize("mutate, field, value, severity", [
    (lambda p: p.update(license_id="mijn-eigen-licentie", license_url=""), "license_id",
     "mijn-eigen-licentie", "error"),
    (lambda p: p["resources"][0].update(format="XYZZY", mimetype="application/x-xyzzy"),
     "resources[0].format", "XYZZY", "error"),
    (lambda p: p["extras"].append({"key": "language", "value": "xx-klingon"}), "language",
     "xx-klingon", "error"),
    (lambda p: p["extras"].append({"key": "frequency", "value": "af en toe"}), "frequency",
     "af en toe", "error"),
    (lambda p: p["extras"].append({"key": "access_rights", "value": "geheim"}), "access_rights",
     "geheim", "error"),
    (lambda p: p["groups"].append({"name": "experiment"}), "theme", "experiment", "warning"),
])
def test_unmapped_values_are_reported(mutate, field, value, severity, context, mappings,
                                      options):
    pkg = package("01voins-v1")
    mutate(pkg)
    mapped = map_dataset(pkg, context, mappings, options)
    found = [i for i in issues_for(mapped, field) if i.value == value]
    assert found, mapped.issues
    assert found[0].dataset == "01voins-v1"
    assert found[0].severity == severity
    assert value in found[0].message


def test_unmapped_value_gets_configured_fallback(context, mappings):
    pkg = package("01voins-v1")
    pkg["extras"].append({"key": "frequency", "value": "af en toe"})
    mapped = map_dataset(pkg, context, mappings, duo_options(frequency_fallback="irregular"))
    (issue,) = issues_for(mapped, "frequency")
    assert issue.severity == "warning" and issue.value == "af en toe"
    assert mapped.graph.value(ds(mapped), DCT.accrualPeriodicity) == \
        URIRef(EU + "frequency/IRREG")


def test_mapped_frequency_and_language(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["extras"] += [{"key": "frequency", "value": "annual"},
                      {"key": "language", "value": '["nl", "en"]'}]
    mapped = map_dataset(pkg, context, mappings, options)
    g = mapped.graph
    assert not mapped.issues
    assert g.value(ds(mapped), DCT.accrualPeriodicity) == URIRef(EU + "frequency/ANNUAL")
    assert set(g.objects(ds(mapped), DCT.language)) == {URIRef(EU + "language/NLD"),
                                                        URIRef(EU + "language/ENG")}


# --- URL rewrites -------------------------------------------------------------------------------


def test_internal_host_is_rewritten_by_config_rule(context, mappings, options):
    pkg = package("01voins-v1")
    assert "beheer-ggm-ckan-prd" in pkg["resources"][0]["url"]
    mapped = map_dataset(pkg, context, mappings, options)
    serialized = mapped.graph.serialize(format="nt")
    assert "beheer-ggm-ckan-prd" not in serialized
    # without the rule the URL stays as CKAN gives it: no special case in code
    mapped = map_dataset(pkg, context, mappings, duo_options(url_rewrites=[]))
    dist = URIRef(next(iter(mapped.distribution_uris.values())))
    assert "beheer-ggm-ckan-prd" in str(mapped.graph.value(dist, DCAT.accessURL))


def test_url_rewrite_placeholders_and_groups(context, mappings):
    rules = [{"pattern": r"^https://example\.org/files/(\w+)\.csv$",
              "replacement": r"https://cdn.example.org/{package_id}/\1/{resource_id}.csv"}]
    pkg = package("01voins-v1")
    pkg["resources"][0]["url"] = "https://example.org/files/leerlingen.csv"
    mapped = map_dataset(pkg, context, mappings, duo_options(url_rewrites=rules))
    dist = URIRef(next(iter(mapped.distribution_uris.values())))
    assert str(mapped.graph.value(dist, DCAT.downloadURL)) == (
        f"https://cdn.example.org/{pkg['id']}/leerlingen/{pkg['resources'][0]['id']}.csv")


@pytest.mark.parametrize("rules, message", [
    ([{"pattern": "([a-z", "replacement": "x"}], "not a valid regular expression"),
    ([{"pattern": "x"}], "'replacement' is required"),
    ([{"pattern": "x", "replacement": "{resourceid}"}], "placeholders"),
    ([{"pattern": "(x)", "replacement": r"y\2"}], "refers to a group"),
    ("not-a-list", "must be a list"),
])
def test_bad_url_rewrites_are_config_errors(rules, message):
    with pytest.raises(ConfigError, match=message) as info:
        duo_options(url_rewrites=rules)
    assert "tests [sources.duo.mapping]" in str(info.value)


# --- text hygiene -------------------------------------------------------------------------------


def test_markdown_notes_become_plain_text(context, mappings, options):
    mapped = map_dataset(package("p03hoinschr"), context, mappings, options)
    text = str(mapped.graph.value(ds(mapped), DCT.description))
    assert "\r" not in text and "##" not in text
    assert text.startswith("Hoger Onderwijs\n\n")  # a heading is a paragraph of its own
    assert "\n\nInleiding\n\n" in text
    assert text.endswith("duaal onderwijs.ht.")  # DUO's own typo is kept


def test_long_description_is_kept_whole_with_a_warning(context, mappings, options):
    pkg = package("p03hoinschr")
    mapped = map_dataset(pkg, context, mappings, options)
    text = str(mapped.graph.value(ds(mapped), DCT.description))
    assert len(text) > 2000
    (issue,) = issues_for(mapped, "notes")
    assert issue.severity == "warning" and "2000" in issue.message
    assert not mapped.invalid
    short = duo_options(description_max_length=100000)
    assert not issues_for(map_dataset(pkg, context, mappings, short), "notes")


def test_html_and_crlf_in_notes(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["notes"] = ("<p>Aantallen <b>leerlingen</b> &amp; scholen</p>\r\n<ul><li>po</li>"
                    "<li>vo</li></ul>\r\nZie <a href=\"https://duo.nl\">duo.nl</a>.")
    pkg["title"] = "  Leerlingen &amp; <i>scholen</i>\r\n"
    mapped = map_dataset(pkg, context, mappings, options)
    g = mapped.graph
    assert str(g.value(ds(mapped), DCT.title)) == "Leerlingen & scholen"
    description = str(g.value(ds(mapped), DCT.description))
    assert description == "Aantallen leerlingen & scholen\n\npo\nvo\n\nZie duo.nl."


def test_emoji_sequences_keep_their_joiners(context, mappings, options):
    pkg = package("01voins-v1")
    pkg["title"] = "Programmeurs 👩\u200d💻 in het onderwijs"
    pkg["notes"] = "## Wie 👨\u200d👩\u200d👧\r\nGezinnen."
    mapped = map_dataset(pkg, context, mappings, options)
    g = mapped.graph
    assert str(g.value(ds(mapped), DCT.title)) == "Programmeurs 👩\u200d💻 in het onderwijs"
    assert str(g.value(ds(mapped), DCT.description)) == "Wie 👨\u200d👩\u200d👧\n\nGezinnen."


@pytest.mark.parametrize("source, expected", [
    ("## Kop\r\nTekst met **vet**, *schuin* en _ook schuin_.",
     "Kop\n\nTekst met vet, schuin en ook schuin."),
    ("Inleiding\n## Kop ##\nTekst\n### Nog een kop\nMeer", "Inleiding\n\nKop\n\nTekst\n\nNog een kop\n\nMeer"),
    ("Zie [de handleiding](https://duo.nl/a_(b)) en ![logo](x.png).", "Zie de handleiding en logo."),
    ("- een\r\n- twee\r\n* drie\r\n1. eerste\r\n2) tweede", "een\ntwee\ndrie\n1. eerste\n2. tweede"),
    ("snake_case_naam en 2*3*4 blijven staan", "snake_case_naam en 2*3*4 blijven staan"),
    ("> citaat\n\n---\n\n`code`", "citaat\n\ncode"),
    ("a  \t b   \n\n\n\n c  ", "a b\n\nc"),
    ("a < b > c en x<=5", "a < b > c en x<=5"),
    ("&lt;b&gt;geen tag&lt;/b&gt; &eacute;&#233;", "<b>geen tag</b> éé"),
    ("Kop\n===\ntekst", "Kop\n\ntekst"),
    ("boven\n***\nonder", "boven\n\nonder"),
    ("<h2>Kop</h2><p>Tekst</p>", "Kop\n\nTekst"),
    ("Team 👩\u200d💻 en 🏳\ufe0f\u200d🌈", "Team 👩\u200d💻 en 🏳\ufe0f\u200d🌈"),
    ("\u200dlos\u200d \u200c en mi\u200cr", "los en mi\u200cr"),
    (None, ""),
])
def test_plain_text(source, expected):
    assert plain_text(source) == expected


def test_text_helpers():
    assert single_line(" a\r\n b  <br/>c &amp; d ") == "a b c & d"
    assert single_line("**niet** markdown") == "**niet** markdown"
    assert strip_html("<script>x()</script><p>a</p>") .strip() == "a"
    assert markdown_to_text("[tekst](http://x.nl)") == "tekst"
    assert plain_text("x\u200b\u00a0y\x07") == "x y"
    assert single_line(" 👩\u200d💻\u200d data\ufeff ") == "👩\u200d💻 data"


# --- any CKAN package ---------------------------------------------------------------------------


def test_ckanext_dcat_examples_map_without_crashing(shared_dir, mappings):
    """Every ckanext-dcat example CKAN dict maps: valid, or with issues that name what is missing."""
    folder = shared_dir / "reference" / "peers" / "ckanext-dcat" / "examples" / "ckan"
    files = sorted(folder.glob("*.json"))
    assert files, f"no examples in {folder}"
    context = SourceContext(base_url="https://ckan.example.org")
    options = MappingOptions.from_config({}, "tests")
    for path in files:
        pkg = json.loads(path.read_text("utf-8"))
        mapped = map_dataset(pkg, context, mappings, options)
        assert isinstance(mapped.graph, Graph) and len(mapped.graph) > 0, path.name
        assert mapped.uri.startswith("https://ckan.example.org/dataset/"), path.name
        if mapped.invalid:
            for issue in mapped.errors:
                assert issue.field and issue.message and issue.dataset, (path.name, issue)
        assert not any((term is None) for t in mapped.graph for term in t)
        mapped.graph.serialize(format="turtle")  # serialisable


def test_ckanext_dcat_full_example_maps_its_fields(shared_dir, mappings):
    path = shared_dir / "reference/peers/ckanext-dcat/examples/ckan/ckan_full_dataset_dcat_ap.json"
    pkg = json.loads(path.read_text("utf-8"))
    pkg["id"] = "00000000-0000-0000-0000-000000000001"
    context = SourceContext(base_url="https://ckan.example.org")
    options = MappingOptions.from_config({"default_language": "en", "access_rights": "public",
                                          "theme_fallback": "onderwijs"}, "tests")
    mapped = map_dataset(pkg, context, mappings, options)
    g, d = mapped.graph, ds(mapped)
    assert g.value(d, DCAT.version) == Literal("1.0b")
    assert {str(k) for k in g.objects(d, DCAT.keyword)} == {"Tag 1", "Tag 2"}
    assert g.value(d, DCT.title) == Literal("Test DCAT dataset", lang="en")
    assert len(set(g.objects(d, DCT.temporal))) == 2
    assert g.value(d, DCT.spatial) == URIRef("https://sws.geonames.org/6361390/")
    contact = g.value(d, DCAT.contactPoint)
    assert g.value(contact, URIRef(VCARD + "hasEmail")) == URIRef("mailto:contact1@example.org")
    assert g.value(d, DCT.creator) == URIRef("http://example.org/creator-id")
    # the publisher is not in the organisations table: an error naming it
    (issue,) = issues_for(mapped, "publisher")
    assert issue.severity == "error" and issue.value == "http://example.org/publisher-id"
    # free-text access rights are not in the table
    assert [i.value for i in issues_for(mapped, "access_rights")] == ["Statement about access rights"]
    dist = URIRef(next(iter(mapped.distribution_uris.values())))
    checksum = g.value(dist, URIRef(SPDX + "checksum"))
    assert g.value(checksum, URIRef(SPDX + "algorithm")) == \
        URIRef(SPDX + "checksumAlgorithm_sha1")
    assert g.value(dist, DCAT.byteSize) == Literal("12323", datatype=XSD.nonNegativeInteger)


def test_non_package_input_does_not_crash(context, mappings, options):
    for value in (None, [], "text", {"resources": "nope", "extras": "x", "tags": [None, 3]}):
        mapped = map_dataset(value, context, mappings, options)
        assert mapped.invalid


# --- options ------------------------------------------------------------------------------------


def test_options_keys_documented():
    doc = MappingOptions.__doc__
    for key in MappingOptions.known_keys():
        assert f"`{key}`" in doc, key


@pytest.mark.parametrize("table, message", [
    ({"portal_url": "x"}, "'portal_url' must be an http(s) URL"),
    ({"bogus": 1}, "unknown key 'bogus'"),
    ({"contact_email": "geen-adres"}, "'contact_email' must be an e-mail address"),
    ({"creator_is_publisher": "ja"}, "'creator_is_publisher' must be true or false"),
    ({"description_max_length": 0}, "'description_max_length' must be a positive integer"),
    ({"default_language": "Nederlands!"}, "'default_language' must be a language code"),
    ({"landing_page": "{portal_url}/{slug}"}, "placeholders"),
    ({"licence_overrides": ["x"]}, "'licence_overrides' must be a table"),
    ({"data_service": {"uri": "https://x.nl"}}, "data_service: key 'title' is required"),
    ({"data_service": "x"}, "data_service: must be a table"),
])
def test_bad_options_are_config_errors(table, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        MappingOptions.from_config(table, "cfg.toml [sources.x.mapping]")
    assert str(info.value).startswith("cfg.toml [sources.x.mapping]")


def test_options_are_plain_data(context, mappings):
    """asdict(options) is JSON (the pipeline fingerprints it) and mapping does not change it;
    options pickle without the mapper's caches."""
    import dataclasses
    import pickle

    opts = duo_options()
    before = json.dumps(dataclasses.asdict(opts), sort_keys=True)
    map_dataset(package("01voins-v1"), context, mappings, opts)
    assert json.dumps(dataclasses.asdict(opts), sort_keys=True) == before
    assert pickle.loads(pickle.dumps(opts)) == opts
    assert opts == duo_options()


def test_no_duo_defaults_built_in():
    options = MappingOptions.from_config({}, "x")
    for key in ("portal_url", "catalog_uri", "catalog_title", "catalog_publisher",
                "contact_email", "contact_url", "access_rights", "data_service"):
        assert getattr(options, key) is None, key
    assert options.url_rewrites == ()


def test_portal_from_context_when_not_configured(mappings):
    ctx = SourceContext(base_url="https://ckan.example.org/")
    mapped = map_dataset(package("01voins-v1"), ctx, mappings, MappingOptions.from_config({}, "x"))
    assert mapped.uri == "https://ckan.example.org/dataset/" + package("01voins-v1")["id"]
    with pytest.raises(ConfigError, match="portal_url"):
        map_dataset(package("01voins-v1"), SourceContext(base_url=""), mappings,
                    MappingOptions.from_config({}, "x"))


# --- catalogue ----------------------------------------------------------------------------------


def test_catalog_graph(context, mappings, options):
    mapped = [map_dataset(package(n), context, mappings, options) for n in GOLDEN]
    g = catalog_graph(mapped, context, mappings, options)
    cat = URIRef(PORTAL + "/catalog")
    assert (cat, RDF.type, DCAT.Catalog) in g
    for prop in (DCT.title, DCT.description, DCT.publisher, DCAT.contactPoint, DCT.language,
                 DCT.license, DCT.modified, FOAF.homepage, DCT.creator):
        assert g.value(cat, prop) is not None, prop
    assert set(g.objects(cat, DCAT.dataset)) == {URIRef(m.uri) for m in mapped}
    records = set(g.objects(cat, DCAT.record))
    assert len(records) == len(mapped)
    for record in records:
        assert (record, RDF.type, DCAT.CatalogRecord) in g
        assert g.value(record, FOAF.primaryTopic) in {URIRef(m.uri) for m in mapped}
        assert g.value(record, DCT.modified) is not None
        assert g.value(record, DCT.language) == URIRef(EU + "language/NLD")
    # the DataStore API as a DataService with everything DCAT-AP-NL makes mandatory
    assert g.value(cat, DCAT.service) == SERVICE
    for prop in (DCT.title, DCT.description, DCAT.endpointURL, DCAT.endpointDescription,
                 DCT.identifier, DCT.accessRights, DCT.license, DCT.publisher, DCAT.contactPoint,
                 DCAT.theme, DCT.creator, DCAT.keyword, DCT.language):
        assert g.value(SERVICE, prop) is not None, prop
    assert (SERVICE, DCAT.servesDataset, URIRef(mapped[0].uri)) in g
    # theme taxonomies are described concept schemes
    for scheme in g.objects(cat, DCAT.themeTaxonomy):
        assert (scheme, RDF.type, SKOS.ConceptScheme) in g and g.value(scheme, DCT.title)


def test_catalog_graph_needs_catalogue_settings(context, mappings):
    with pytest.raises(ConfigError, match="catalog_title"):
        catalog_graph([], context, mappings, duo_options(catalog_title=None))
    with pytest.raises(ConfigError, match="catalog_publisher"):
        catalog_graph([], context, mappings, duo_options(catalog_publisher="nobody-knows"))
    with pytest.raises(ConfigError, match="licence"):
        service = dict(duo_table()["data_service"], licence="geen-licentie")
        catalog_graph([], context, mappings, duo_options(data_service=service))


# --- validation against the project's shapes ----------------------------------------------------


def test_duo_snapshot_maps_to_valid_dcat_ap_nl(repo_dir, context, mappings, options):
    """Every DUO package of the bundled snapshot maps without errors and validates without
    violations (DataService, catalogue and records included)."""
    validate = pytest.importorskip("harvester.shacl.validator")
    snapshot = repo_dir / "examples" / "duo" / "duo-catalogue.json"
    if not snapshot.exists():
        pytest.skip("examples/duo/duo-catalogue.json not present")
    packages = json.loads(snapshot.read_text("utf-8"))["packages"]
    mapped = [map_dataset(p, context, mappings, options) for p in packages]
    assert [m.name for m in mapped if m.invalid] == []
    reports = validate.Validator().validate_datasets(
        [(m.name, m.graph) for m in mapped],
        context_graph=catalog_graph(mapped, context, mappings, options))
    violations = {k: [f.message for f in r.violations] for k, r in reports.items() if r.violations}
    assert violations == {}
    assert reports.context.violations == []
