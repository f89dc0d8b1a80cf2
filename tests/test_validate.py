"""The validation stage (harvester/shacl/) with this project's DCAT-AP-NL 3.0 shapes.

Graphs come from tests/fixtures/graphs/ (hand-written DUO-like descriptions) and are broken in
the test. Values of value lists come from the project's mapping tables (the default background).
"""

from __future__ import annotations

import json
import shutil

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import FOAF, RDF, SH

from harvester.config import PROFILES
from harvester.errors import HarvesterError
from harvester.shacl.shapes import SHIPPED_FINGERPRINTS, fingerprint, probe, profile_files
from harvester.shacl.validator import (
    SHAPES_DIR,
    Finding,
    ShapesError,
    ValidationReport,
    Validator,
)
from tests.profile_cases import (
    CATALOG,
    DCAT,
    DCT,
    P01,
    P01_DIST,
    PROFILE_DIFFERENCES,
    VCARD,
    case_id,
    load,
    second_contact,
    widened,
)

XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
EU = "http://publications.europa.eu/resource/authority/"

ADR = URIRef("https://onderwijsdata.duo.nl/dataset/adressen_ho")
ADR_CSV = URIRef(
    "https://onderwijsdata.duo.nl/dataset/adressen_ho/resource/9c0e7b1a-2222-4c1d-8e3f-aaaaaaaaaaaa"
)
CONTACT = URIRef("https://onderwijsdata.duo.nl/#contactpunt")
RECORD = URIRef("https://onderwijsdata.duo.nl/catalog/record/p01hoinges")


def without(g: Graph, node: URIRef, path: URIRef) -> Graph:
    h = Graph()
    for t in g:
        h.add(t)
    h.remove((node, path, None))
    return h


def replaced(g: Graph, node: URIRef, path: URIRef, value) -> Graph:
    h = without(g, node, path)
    h.add((node, path, value))
    return h


def pairs(findings: list[Finding]) -> set[tuple[str, str | None]]:
    return {(f.focus_node, f.path) for f in findings}


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """Every shipped shape: the shared files and those of every profile."""
    g = Graph()
    for f in sorted({f for profile in PROFILES for f in profile_files(SHAPES_DIR, profile)}):
        g.parse(f, format="turtle")
    return g


# ------------------------------------------------------------------------------------------------
# valid graphs
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [("duo-p01hoinges.ttl",), ("duo-adressen-ho.ttl",),
     ("duo-catalog.ttl", "duo-p01hoinges.ttl", "duo-adressen-ho.ttl")],
    ids=["p01hoinges", "adressen_ho", "catalogue"],
)
def test_valid_graph_conforms(validator: Validator, names) -> None:
    report = validator.validate(load(*names))
    assert report.conforms, report.to_text()
    assert report.violations == []


def test_background_vocabulary_is_itself_valid(validator: Validator) -> None:
    """The mapping tables' concepts, licences and organisations break no shape."""
    report = validator.check_background()
    assert report.violations == [], report.to_text()


# ------------------------------------------------------------------------------------------------
# mandatory properties
# ------------------------------------------------------------------------------------------------

DATASET_MANDATORY = [
    (P01, DCT.title), (P01, DCT.description), (P01, DCT.identifier), (P01, DCT.publisher),
    (P01, DCT.creator), (P01, DCAT.contactPoint), (P01, DCT.accessRights), (P01, DCAT.theme),
    (P01_DIST, DCAT.accessURL), (P01_DIST, DCT.license),
]
CATALOG_MANDATORY = [
    (CATALOG, DCT.title), (CATALOG, DCT.description), (CATALOG, DCT.publisher),
    (CATALOG, DCAT.contactPoint), (CATALOG, DCAT.dataset),
    (RECORD, FOAF.primaryTopic), (RECORD, DCT.modified), (RECORD, DCT.language),
]


def _assert_caught(report: ValidationReport, node: URIRef, path: URIRef, shapes: Graph) -> None:
    assert not report.conforms
    hits = [f for f in report.violations if f.focus_node == str(node) and f.path == str(path)]
    assert hits, f"removing {path} from {node} was not caught:\n{report.to_text()}"
    for f in hits:
        # Dutch first, then English, both taken from the shape's own sh:message
        msgs = {m.language: str(m) for m in shapes.objects(URIRef(f.shape), SH.message)}
        assert f.message == f"{msgs['nl']} / {msgs['en']}"
    assert any("ontbreekt" in f.message and "missing" in f.message for f in hits)


@pytest.mark.parametrize("node,path", DATASET_MANDATORY, ids=lambda x: str(x).rsplit("/", 1)[-1])
def test_each_mandatory_dataset_property_removed_is_caught(validator, shapes, node, path) -> None:
    g = load("duo-p01hoinges.ttl")
    assert (node, path, None) in g
    _assert_caught(validator.validate(without(g, node, path)), node, path, shapes)


@pytest.mark.parametrize("node,path", CATALOG_MANDATORY, ids=lambda x: str(x).rsplit("/", 1)[-1])
def test_each_mandatory_catalogue_property_removed_is_caught(validator, shapes, node, path) -> None:
    g = load("duo-catalog.ttl", "duo-p01hoinges.ttl", "duo-adressen-ho.ttl")
    assert (node, path, None) in g
    _assert_caught(validator.validate(without(g, node, path)), node, path, shapes)


def test_agent_without_name_is_caught(validator, shapes) -> None:
    maker = URIRef("https://onderwijsdata.duo.nl/#afdeling-statistiek")
    g = replaced(load("duo-p01hoinges.ttl"), P01, DCT.creator, maker)
    g.add((maker, RDF.type, FOAF.Agent))
    report = validator.validate(g)
    _assert_caught(report, maker, FOAF.name, shapes)


def test_contact_point_without_name_url_or_email_is_dcat_ap_nl(validator) -> None:
    """DCAT-AP(-NL) 3.0 sets no rule on a vcard:Kind's properties: a contact point's name and a
    way to reach it are data.overheid.nl's demands (harvester.donl.rules), not DCAT-AP-NL's.
    The web address given as text, as the specification's own examples do, is valid too."""
    g = without(without(load("duo-p01hoinges.ttl"), CONTACT, VCARD.fn), CONTACT, VCARD.hasURL)
    report = validator.validate(g)
    assert report.conforms, report.to_text()
    assert not [f for f in report.findings if f.focus_node == str(CONTACT)]
    g.add((CONTACT, VCARD.hasURL, Literal("http://mijnorganisatie.org/")))
    g.add((CONTACT, VCARD.fn, Literal("Mijn Organisatie", lang="nl")))
    assert validator.validate(g).conforms


@pytest.mark.parametrize("address", [Literal("opendata@duo.nl"), URIRef("mailto:opendata@duo.nl")])
def test_an_email_address_as_text_or_mailto_uri_is_dcat_ap_nl(validator, address) -> None:
    """DCAT-AP-NL 3.0 sets no rule on a contact point's properties and its DCAT-AP-DONL examples
    give the address as text (doc/gen/ondersteunendeKlassen.md); what data.overheid.nl wants of
    it is the pre-send check's (harvester.donl.rules)."""
    g = load("duo-p01hoinges.ttl")
    g.remove((CONTACT, VCARD.hasEmail, None))
    g.add((CONTACT, VCARD.hasEmail, address))
    assert validator.validate(g).conforms


@pytest.mark.parametrize("path", [DCT.isReferencedBy, DCAT.endpointDescription])
def test_a_resource_given_as_text_is_refused(validator, path) -> None:
    """dct:isReferencedBy and dcat:endpointDescription have the range rdfs:Resource
    (doc/gen/klassen.md): a reference, not text."""
    g = load("duo-p01hoinges.ttl", "duo-dataservice.ttl")
    node = P01 if path == DCT.isReferencedBy else next(g.subjects(RDF.type, DCAT.DataService))
    g.remove((node, path, None))
    g.add((node, path, Literal("zie de API-documentatie")))
    assert (str(node), str(path)) in pairs(validator.validate(g).violations)
    g.set((node, path, URIRef("https://example.org/openapi.json")))
    assert (str(node), str(path)) not in pairs(validator.validate(g).violations)


# ------------------------------------------------------------------------------------------------
# value lists, ranges, datatypes, cardinality
# ------------------------------------------------------------------------------------------------

WRONG_VALUES = [
    # (node, path, wrong value, why)
    (P01, DCAT.theme, URIRef("http://standaarden.overheid.nl/owms/terms/Hoger_onderwijs_(thema)"),
     "only an OWMS theme, no EU data theme"),
    (P01, DCAT.theme, URIRef("http://example.org/thema/onderwijs"), "unknown theme"),
    (P01, DCT.accessRights, URIRef(EU + "access-right/CONFIDENTIAL"), "not one of the 3 NL values"),
    (P01, DCT.accessRights, URIRef(EU + "frequency/ANNUAL"), "a frequency, not an access right"),
    (P01, DCT.language, URIRef("http://example.org/taal/nl"), "not an EU language"),
    (P01, DCT.accrualPeriodicity, URIRef(EU + "frequency/EVERY_FULL_MOON"), "not an EU frequency"),
    (P01_DIST, DCT["format"], URIRef("https://www.iana.org/assignments/media-types/text/csv"),
     "an IANA type where an EU file type belongs"),
    (P01_DIST, DCT["format"], Literal("CSV"), "text instead of a URI"),
    (P01_DIST, DCAT.mediaType, URIRef(EU + "file-type/CSV"), "an EU file type where IANA belongs"),
    (P01_DIST, DCAT.mediaType, URIRef("http://example.org/media/csv"), "unknown media type"),
    (P01_DIST, DCT.license, URIRef("http://example.org/licentie/eigen"), "not in the licence list"),
    (P01_DIST, DCT.license, URIRef(EU + "data-theme/EDUC"), "a theme, not a licence"),
    (P01_DIST, DCT.language, URIRef(EU + "file-type/CSV"), "a file type, not a language"),
]


@pytest.mark.parametrize("node,path,value,why", WRONG_VALUES, ids=[w[3] for w in WRONG_VALUES])
def test_wrong_value_list_value_is_caught(validator, node, path, value, why) -> None:
    report = validator.validate(replaced(load("duo-p01hoinges.ttl"), node, path, value))
    assert not report.conforms
    assert (str(node), str(path)) in pairs(report.violations), report.to_text()
    for f in report.violations:
        assert " / " in f.message


def test_eu_theme_next_to_owms_theme_is_fine(validator) -> None:
    g = load("duo-p01hoinges.ttl")
    assert (P01, DCAT.theme, URIRef(EU + "data-theme/EDUC")) in g
    assert len(list(g.objects(P01, DCAT.theme))) == 2
    assert validator.validate(g).conforms


@pytest.mark.parametrize(
    "node,path,value",
    [
        (P01, DCT.modified, Literal("gisteren")),
        (P01, DCT.modified, Literal("2024-13-45", datatype=XSD.string)),
        (P01_DIST, DCAT.byteSize, Literal("-5", datatype=XSD.integer)),
        (P01_DIST, DCAT.byteSize, Literal("groot")),
        (P01, DCT.title, URIRef("https://example.org/titel")),
        (P01_DIST, DCAT.accessURL, Literal("https://onderwijsdata.duo.nl/")),
    ],
    ids=["date-text", "date-string", "bytesize-negative", "bytesize-text", "title-uri", "url-text"],
)
def test_wrong_kind_or_datatype_is_caught(validator, node, path, value) -> None:
    report = validator.validate(replaced(load("duo-p01hoinges.ttl"), node, path, value))
    assert (str(node), str(path)) in pairs(report.violations), report.to_text()


def test_more_than_one_identifier_is_caught(validator) -> None:
    g = load("duo-p01hoinges.ttl")
    g.add((P01, DCT.identifier, Literal("p01hoinges")))
    report = validator.validate(g)
    hits = [f for f in report.violations if f.path == str(DCT.identifier)]
    assert hits and "meer dan één" in hits[0].message and "more than one" in hits[0].message


# ------------------------------------------------------------------------------------------------
# recommended properties
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "node,path",
    [(P01, DCAT.keyword), (P01, DCAT.landingPage), (P01, DCT.language), (P01_DIST, DCAT.downloadURL),
     (P01_DIST, DCT["format"])],
    ids=lambda x: str(x).rsplit("/", 1)[-1],
)
def test_missing_recommended_property_is_a_warning_only(validator, node, path) -> None:
    g = load("duo-p01hoinges.ttl")
    assert (node, path, None) in g
    report = validator.validate(without(g, node, path))
    assert report.conforms, report.to_text()
    assert report.violations == []
    hits = [f for f in report.warnings if f.focus_node == str(node) and f.path == str(path)]
    assert len(hits) == 1
    assert hits[0].message.startswith("Aanbevolen gegeven ontbreekt")
    assert "Recommended information is missing" in hits[0].message


# ------------------------------------------------------------------------------------------------
# many datasets in one call
# ------------------------------------------------------------------------------------------------


def test_validate_datasets_attributes_findings_to_the_right_dataset(validator) -> None:
    p01 = without(load("duo-p01hoinges.ttl"), P01, DCT.title)
    adr = without(load("duo-adressen-ho.ttl"), ADR_CSV, DCT.license)
    # a third, valid dataset: a copy of adressen_ho under other URIs
    ok_graph = Graph()
    for t in load("duo-adressen-ho.ttl"):
        ok_graph.add(tuple(
            URIRef(str(n).replace("/dataset/adressen_ho", "/dataset/adressen_ho_kopie"))
            if isinstance(n, URIRef) else n for n in t))
    catalog = without(load("duo-catalog.ttl"), CATALOG, DCT.title)

    reports = validator.validate_datasets(
        [("p01hoinges", p01), ("adressen_ho", adr), ("kopie", ok_graph)], context_graph=catalog
    )
    assert set(reports) == {"p01hoinges", "adressen_ho", "kopie"}
    assert pairs(reports["p01hoinges"].violations) == {(str(P01), str(DCT.title))}
    assert pairs(reports["adressen_ho"].violations) == {(str(ADR_CSV), str(DCT.license))}
    assert reports["kopie"].conforms and reports["kopie"].violations == []
    assert pairs(reports.context.violations) == {(str(CATALOG), str(DCT.title))}
    assert not reports["p01hoinges"].conforms and not reports["adressen_ho"].conforms


def test_shared_node_finding_goes_to_every_dataset_that_holds_it(validator) -> None:
    maker = URIRef("https://onderwijsdata.duo.nl/#afdeling-statistiek")

    def made_by_maker(g: Graph, named: bool) -> Graph:
        h = replaced(g, next(g.subjects(RDF.type, URIRef(DCAT.Dataset))), DCT.creator, maker)
        h.add((maker, RDF.type, FOAF.Agent))
        if named:
            h.add((maker, FOAF.name, Literal("Afdeling Statistiek", lang="nl")))
        return h

    p01 = made_by_maker(load("duo-p01hoinges.ttl"), named=False)
    adr = made_by_maker(load("duo-adressen-ho.ttl"), named=True)  # the same agent, with its name
    reports = validator.validate_datasets([("p01", p01), ("adr", adr)])
    # the merged graph still has the name from adressen_ho's graph: both conform
    assert reports["p01"].conforms and reports["adr"].conforms
    adr2 = made_by_maker(load("duo-adressen-ho.ttl"), named=False)
    reports = validator.validate_datasets([("p01", p01), ("adr", adr2)])
    expected = {(str(maker), str(FOAF.name))}
    assert pairs(reports["p01"].violations) == expected
    assert pairs(reports["adr"].violations) == expected


def test_batched_results_equal_single_results(validator) -> None:
    graphs = {
        "p01": without(load("duo-p01hoinges.ttl"), P01, DCT.accessRights),
        "adr": replaced(load("duo-adressen-ho.ttl"), ADR_CSV, DCT["format"], Literal("CSV")),
    }
    batched = validator.validate_datasets(graphs.items(), batch_size=500)
    one_by_one = validator.validate_datasets(graphs.items(), batch_size=1)
    for key, g in graphs.items():
        single = validator.validate(g)
        assert batched[key].findings == single.findings
        assert one_by_one[key].findings == single.findings


def test_reachable_background_gives_the_same_findings_as_the_whole(validator) -> None:
    """validate() adds only the background the data can reach; that changes no finding."""
    g = without(load("duo-p01hoinges.ttl"), P01, DCT.accessRights)
    g = replaced(g, P01_DIST, DCT["format"], URIRef(EU + "language/NLD"))
    nodes = set(g.subjects())
    whole = [f for node, f in validator._run(without(g, P01, DCT.title), whole=True)
             if node in nodes]
    partial = [f for node, f in validator._run(without(g, P01, DCT.title)) if node in nodes]
    assert sorted(whole, key=repr) == sorted(partial, key=repr)
    assert len(whole) > 5


def test_empty_input_gives_empty_result(validator) -> None:
    reports = validator.validate_datasets([])
    assert dict(reports) == {} and reports.context.conforms


# ------------------------------------------------------------------------------------------------
# report, fingerprint, shape files
# ------------------------------------------------------------------------------------------------


def test_report_to_dict_is_json_serialisable(validator) -> None:
    report = validator.validate(without(load("duo-p01hoinges.ttl"), P01, DCT.title))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["conforms"] is False
    assert data["violation_count"] == len(report.violations) >= 1
    assert data["warning_count"] == len(report.warnings)
    first = data["findings"][0]
    assert set(first) == {"severity", "focus_node", "path", "value", "message", "shape"}
    assert first["severity"] == "violation"  # violations sort first
    assert "Verplicht gegeven ontbreekt" in report.to_text()


def test_fingerprint_is_stable_and_changes_with_the_shapes(validator, tmp_path) -> None:
    copy = tmp_path / "shapes"
    shutil.copytree(SHAPES_DIR, copy)
    assert Validator(copy, ontology=Graph()).fingerprint == validator.fingerprint
    assert len(validator.fingerprint) == 64
    core = copy / "dcat-ap-nl-core.ttl"
    core.write_text(core.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert Validator(copy, ontology=Graph()).fingerprint != validator.fingerprint


@pytest.mark.parametrize(
    "text,complaint",
    [
        ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n<urn:x> a sh:NodeShape ;;; oops", "does not parse"),
        (("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
         "<urn:x> a sh:NodeShape ; sh:targetClass <urn:C> ;\n"
         "  sh:property [ sh:path <urn:p> ; sh:minCount \"veel\" ] ."),
         "not well-formed SHACL"),
        (("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
         "<urn:x> a sh:NodeShape ; sh:targetClass <urn:C> ;\n"
         "  sh:property [ sh:path <urn:p> ; sh:pattern \"([\" ] ."),
         "not well-formed SHACL"),
        (("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
         "<urn:x> a sh:NodeShape ; sh:targetClass <urn:C> ; sh:property <urn:undefined> ."),
         "no shape file defines"),
    ],
    ids=["turtle-syntax", "bad-count", "bad-pattern", "dangling-reference"],
)
def test_bad_shape_file_raises_an_error_naming_the_file(tmp_path, text, complaint) -> None:
    folder = tmp_path / "shapes"
    shutil.copytree(SHAPES_DIR, folder)
    bad = folder / "zz-broken.ttl"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ShapesError) as info:
        Validator(folder, ontology=Graph())
    assert isinstance(info.value, HarvesterError)
    assert str(bad) in str(info.value) and complaint in str(info.value)


def test_missing_or_empty_shapes_folder_raises(tmp_path) -> None:
    with pytest.raises(ShapesError, match="does not exist"):
        Validator(tmp_path / "nope", ontology=Graph())
    (tmp_path / "empty").mkdir()
    with pytest.raises(ShapesError, match="no \\*.ttl"):
        Validator(tmp_path / "empty", ontology=Graph())


def test_project_shapes_conform_to_shacl_shacl(shapes) -> None:
    """The W3C SHACL-SHACL shapes (SHACL spec appendix C) accept our shape files."""
    from pyshacl.entrypoints import meta_validate

    conforms, _, text = meta_validate(shapes, inference="none")
    assert conforms, text


def test_every_shape_has_one_dutch_and_one_english_message(shapes) -> None:
    shape_nodes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
        shapes.subjects(RDF.type, SH.PropertyShape)) | set(shapes.subjects(SH.path, None))
    assert len(shape_nodes) > 250
    for node in shape_nodes:
        langs = sorted(m.language or "-" for m in shapes.objects(node, SH.message))
        assert langs == ["en", "nl"], f"{node}: sh:message languages {langs}"


def test_recommended_shapes_are_warnings_and_nothing_else_is(shapes) -> None:
    for node, severity in shapes.subject_objects(SH.severity):
        assert severity == SH.Warning
        assert "recommended" in str(node)


@pytest.mark.parametrize("profile", PROFILES)
def test_project_shapes_pass_the_well_formedness_probe(profile) -> None:
    """pySHACL loads every constraint of each profile's shipped shapes (the check other shapes
    get when they are loaded) without complaint; shapes with their fingerprint are not probed
    again."""
    files = profile_files(SHAPES_DIR, profile)
    g = Graph()
    for f in files:
        g.parse(f, format="turtle")
    assert probe(g) is None
    shipped = fingerprint(files)
    assert shipped == SHIPPED_FINGERPRINTS[profile], (
        f"the shipped shapes of profile {profile} changed: set "
        f"harvester.shacl.shapes.SHIPPED_FINGERPRINTS[{profile!r}] to {shipped!r}")


def test_only_shapes_other_than_the_shipped_ones_are_probed_when_loaded(tmp_path, monkeypatch) -> None:
    import harvester.shacl.shapes as shapes_module

    monkeypatch.setattr(shapes_module, "_loaded", {})  # as in a new process
    probed: list[int] = []
    monkeypatch.setattr(shapes_module, "probe", lambda g: probed.append(len(g)))
    assert Validator(ontology=Graph()).engine == "compiled"
    assert probed == []
    folder = tmp_path / "shapes"
    shutil.copytree(SHAPES_DIR, folder)
    core = folder / "dcat-ap-nl-core.ttl"
    core.write_text(core.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    Validator(folder, ontology=Graph())
    assert len(probed) == 1
    Validator.from_files(sorted(folder.glob("*.ttl")), Graph(), check=False)
    assert len(probed) == 1


def test_the_vocabulary_graph_can_be_made_when_the_shapes_are_loaded(validator: Validator) -> None:
    """A lazy validator given a function for its vocabulary graph calls it only when it loads
    (a sync whose results all still stand never does), and judges as one given the graph."""
    from harvester.dcat.tables import load_mappings

    made = []

    def vocabulary() -> Graph:
        made.append(1)
        return load_mappings().vocabulary_graph()

    lazy = Validator(ontology=vocabulary, lazy=True)
    assert made == [] and lazy.fingerprint == validator.fingerprint
    broken = without(load("duo-p01hoinges.ttl"), URIRef("https://onderwijsdata.duo.nl/dataset/p01hoinges"),
                     URIRef("http://purl.org/dc/terms/title"))
    report = lazy.validate(broken)
    assert report.violations  # the missing title is found
    assert [f.to_dict() for f in report.findings] == [f.to_dict() for f in validator.validate(broken).findings]
    assert made == [1]


# ------------------------------------------------------------------------------------------------
# profiles: the adopted DCAT-AP-NL 3.0 (default) and the 3.0.1 working version
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def working_version() -> Validator:
    return Validator(profile="3.0.1")


@pytest.mark.parametrize("case", PROFILE_DIFFERENCES, ids=case_id)
def test_at_most_one_in_3_0_and_many_in_3_0_1(validator, working_version, case) -> None:
    names, node, add_second, path = case
    g = load(*names)
    assert validator.validate(g).conforms and working_version.validate(g).conforms
    g = widened(names, node, add_second)
    adopted = validator.validate(g)
    assert not adopted.conforms
    assert pairs(adopted.violations) == {(str(node), str(path))}, adopted.to_text()
    assert "DCAT-AP-NL 3.0" in adopted.violations[0].message
    working = working_version.validate(g)
    assert working.conforms, working.to_text()


def test_two_dataset_contact_points_fail_under_3_0_and_pass_under_3_0_1(validator, working_version
                                                                        ) -> None:
    g = widened(("duo-p01hoinges.ttl",), P01, second_contact)
    assert validator.profile == "3.0"  # the default: the adopted version
    [finding] = validator.validate(g).violations
    assert (finding.focus_node, finding.path) == (str(P01), str(DCAT.contactPoint))
    assert finding.shape == "urn:dcat-ap-nl-harvester:shape:Dataset-dcat_contactPoint-max"
    assert working_version.validate(g).conforms


def test_each_profile_has_its_own_files_and_fingerprint(validator, working_version) -> None:
    shared = sorted(SHAPES_DIR.glob("*.ttl"))
    for v, profile in ((validator, "3.0"), (working_version, "3.0.1")):
        assert v.shape_files[:len(shared)] == shared
        own = v.shape_files[len(shared):]
        assert own and all(f.parent == SHAPES_DIR / "profiles" / profile for f in own)
    assert validator.fingerprint != working_version.fingerprint
    lazy = Validator(ontology=Graph(), lazy=True, profile="3.0.1")
    assert lazy.fingerprint == working_version.fingerprint


def test_unknown_profile_or_missing_profile_folder_raises(tmp_path) -> None:
    with pytest.raises(ShapesError, match="unknown DCAT-AP-NL profile '2.0'"):
        Validator(ontology=Graph(), profile="2.0")
    folder = tmp_path / "shapes"
    shutil.copytree(SHAPES_DIR, folder)
    shutil.rmtree(folder / "profiles" / "3.0.1")
    assert Validator(folder, ontology=Graph(), lazy=True).profile == "3.0"
    with pytest.raises(ShapesError, match=r"no folder profiles/3\.0\.1/"):
        Validator(folder, ontology=Graph(), profile="3.0.1")
