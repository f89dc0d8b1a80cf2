"""High-value datasets: configuration, the HVD category list, mapping, shapes, the target package.

A dataset is marked high-value in the configuration (`[sources.NAME.high_value]`, or a rule of
`[[sources.NAME.high_value_rules]]`); its graph then has dcatap:hvdCategory and
dcatap:applicableLegislation, our HVD shapes (shapes/dcat-ap-nl-hvd.ttl) check it, and its
data.overheid.nl package says high_value. The agreement tests compare our HVD verdicts with
SEMIC's HVD shapes (pySHACL, ../shared) on the HVD examples and on our own marked output.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import rdflib
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from harvester.config import MAPPINGS_DIR, SHAPES_DIR, parse_config
from harvester.dcat.dataset import map_dataset
from harvester.dcat.hvd_categories import (
    HVD_LEGISLATION,
    HVD_SCHEME,
    HvdCategories,
    high_value_marking,
    load_hvd_categories,
)
from harvester.dcat.options import MappingOptions
from harvester.dcat.rdf import DCAT, DCATAP, FOAF
from harvester.donl.convert import to_target
from harvester.errors import ConfigError, MappingError
from harvester.shacl.background import background_graph
from harvester.shacl.validator import Finding, Validator
from tests import test_mapper
from tests.conftest import REPO

SERVICE = URIRef("https://onderwijsdata.duo.nl/api/3/action/datastore_search")
LAW = URIRef(HVD_LEGISLATION)
STATISTICS = "http://data.europa.eu/bna/c_e1da4e07"
MOBILITY = "http://data.europa.eu/bna/c_b79e35eb"
HVD_EXAMPLES = "reference/peers/semic-dcat-ap-hvd-3.0.0-examples"
HVD_SHAPES = "reference/shapes/semic-dcat-ap-hvd-3.0.0/hvd-SHACL.ttl"
HVD_RDF = "reference/valuelists/eu-nal-current/high-value-dataset-category.rdf"

# the mapper tests' fixtures (the loaded tables, DUO's source context) and helpers
mappings, context = test_mapper.mappings, test_mapper.context
duo_table, package = test_mapper.duo_table, test_mapper.package


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["compiled", "pyshacl"])
def validator(request, mappings) -> Validator:
    return Validator(SHAPES_DIR, ontology=mappings.vocabulary_graph, engine=request.param)


def options_for(mappings, datasets=None, rules=(), documentation=True) -> MappingOptions:
    table = duo_table()
    if documentation and "data_service" in table:
        table["data_service"]["documentation"] = ["https://docs.ckan.org/en/latest/api/"]
    marking = high_value_marking(datasets or {}, list(rules), mappings.hvd_categories,
                                 "test.toml", "duo")
    return MappingOptions.from_config(table, "test.toml [sources.duo.mapping]", high_value=marking)


def source_table(**keys) -> dict:
    return {"sources": {"duo": {"type": "ckan", "url": "https://onderwijsdata.duo.nl", **keys}}}


def violations(report) -> set[tuple[str, str]]:
    """(focus node, local name of the shape) of each violation of our HVD shapes."""
    return {(f.focus_node, f.shape.rsplit(":", 1)[-1]) for f in report.findings
            if f.severity == "violation" and "Hvd" in (f.shape or "")}


# --- the category list --------------------------------------------------------------------------


def test_the_list_holds_the_96_categories_with_their_six_top_categories(mappings):
    categories = mappings.hvd_categories
    assert len(categories) == 96
    assert sum(1 for c in categories if not c.parent) == 6
    statistics = mappings.hvd_category("c_e1da4e07")
    assert (statistics.label_nl, statistics.label_en) == ("Statistiek", "Statistics")
    assert mappings.hvd_category(STATISTICS) is statistics
    assert mappings.hvd_category(STATISTICS.replace("http:", "https:") + "/") is statistics
    assert mappings.hvd_category("C_E1DA4E07") is statistics
    assert mappings.hvd_category("c_00000000") is None


def test_the_vocabulary_graph_puts_every_category_in_the_list(mappings):
    graph = mappings.vocabulary_graph()
    scheme = URIRef(HVD_SCHEME)
    members = set(graph.subjects(rdflib.namespace.SKOS.inScheme, scheme))
    assert members == {URIRef(c.uri) for c in mappings.hvd_categories}
    assert (LAW, RDF.type, URIRef("http://data.europa.eu/eli/ontology#LegalResource")) in graph


def test_the_table_is_what_the_generator_makes_of_the_eu_list(shared_dir):
    import importlib.util

    spec = importlib.util.spec_from_file_location("hvd_categories_tool", REPO / "tools" / "hvd_categories.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    render = tool.render

    source = shared_dir / HVD_RDF
    graph = Graph().parse(source, format="xml")
    made = render(graph, "../shared/" + HVD_RDF)
    assert made == (MAPPINGS_DIR / "hvd_categories.csv").read_text("utf-8")
    codes = {str(graph.value(c, URIRef("http://purl.org/dc/elements/1.1/identifier")))
             for c in graph.subjects(rdflib.namespace.SKOS.inScheme, URIRef(HVD_SCHEME))}
    assert codes == {c.code for c in load_hvd_categories(MAPPINGS_DIR)}


def test_a_folder_without_the_table_uses_the_shipped_one_and_a_broken_one_is_named(tmp_path):
    assert len(load_hvd_categories(tmp_path)) == 96
    broken = tmp_path / "hvd_categories.csv"
    broken.write_text("uri,code,label_nl,label_en,parent\n"
                      "http://data.europa.eu/bna/c_1,c_2,Een,One,\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"hvd_categories.csv, line 2: uri .* does not end in its code"):
        HvdCategories(broken)


# --- configuration ------------------------------------------------------------------------------


def test_the_configuration_reads_datasets_and_rules(tmp_path):
    cfg = parse_config(source_table(
        high_value={"p01hoinges": "c_dd313021", "adressen_so": ["c_e1da4e07", MOBILITY]},
        high_value_rules=[{"tag": "statistiek", "category": "c_e1da4e07"},
                          {"field": "hvd", "value": "ja", "category": ["c_b79e35eb"]}],
    ), tmp_path / "h.toml")
    source = cfg.source("duo")
    assert source.high_value == {"p01hoinges": ("c_dd313021",),
                                 "adressen_so": ("c_e1da4e07", MOBILITY)}
    assert source.high_value_rules == [{"tag": "statistiek", "category": ("c_e1da4e07",)},
                                       {"field": "hvd", "value": "ja", "category": ("c_b79e35eb",)}]
    assert parse_config(source_table(), tmp_path / "h.toml").source("duo").high_value == {}


@pytest.mark.parametrize(("keys", "message"), [
    ({"high_value": {"p01hoinges": 3}}, r"\[sources.duo.high_value\]: key 'p01hoinges' must be an HVD category"),
    ({"high_value": {"p01hoinges": []}}, r"key 'p01hoinges' must be an HVD category"),
    ({"high_value": "c_e1da4e07"}, r"key 'high_value' must be a dict"),
    ({"high_value_rules": [{"category": "c_e1da4e07"}]},
     r"\[\[sources.duo.high_value_rules\]\] rule 1: needs exactly one of 'tag', 'group' or 'field'"),
    ({"high_value_rules": [{"tag": "a", "group": "b", "category": "c_e1da4e07"}]}, r"rule 1: needs exactly one"),
    ({"high_value_rules": [{"field": "hvd", "category": "c_e1da4e07"}]}, r"rule 1: needs exactly one .* 'value'"),
    ({"high_value_rules": [{"tag": "a", "value": "b", "category": "c_e1da4e07"}]}, r"rule 1: needs exactly one"),
    ({"high_value_rules": [{"tag": "statistiek"}]}, r"rule 1: key 'category' is required"),
    ({"high_value_rules": [{"tag": " ", "category": "c_e1da4e07"}]}, r"rule 1: key 'tag' must be a non-empty"),
    ({"high_value_rules": [{"tag": "a", "category": "c_e1da4e07", "kind": "x"}]}, r"rule 1: unknown key 'kind'"),
    ({"high_value_rules": ["statistiek"]}, r"rule 1: must be a table"),
])
def test_a_malformed_high_value_table_is_a_config_error_naming_file_and_key(tmp_path, keys, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_config(source_table(**keys), tmp_path / "h.toml")
    assert str(tmp_path / "h.toml") in str(caught.value)


def test_an_unknown_category_names_file_key_value_and_the_closest_code(mappings):
    with pytest.raises(ConfigError) as caught:
        high_value_marking({"p01hoinges": ("c_dd31302",)}, [], mappings.hvd_categories,
                           "/etc/h.toml", "duo")
    text = str(caught.value)
    assert text.startswith("/etc/h.toml [sources.duo.high_value]: key 'p01hoinges': 'c_dd31302' ")
    assert "did you mean 'c_dd313021', Aardobservatie en milieu" in text
    with pytest.raises(ConfigError, match=r"high_value_rules\]\] rule 2: key 'category': "
                                          r"'Statistics' is not a category.*did you mean 'c_e1da4e07'"):
        high_value_marking({}, [{"tag": "a", "category": ("c_e1da4e07",)},
                                {"tag": "b", "category": ("Statistics",)}],
                           mappings.hvd_categories, "/etc/h.toml", "duo")


def test_a_config_error_reaches_the_command_line(tmp_path, repo_dir):
    from click.testing import CliRunner

    from harvester.cli import main

    text = (repo_dir / "examples" / "duo-offline.toml").read_text("utf-8")
    text = text.replace('path = "duo/duo-catalogue.json"',
                        f'path = "{repo_dir / "examples" / "duo" / "duo-catalogue.json"}"')
    text += '\n[sources.duo.high_value]\n"p01hoinges" = "c_nope"\n'
    config = tmp_path / "h.toml"
    config.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "sync", "--dry-run"])
    assert result.exit_code == 4, result.output
    assert "[sources.duo.high_value]: key 'p01hoinges': 'c_nope'" in result.output


# --- marking and mapping ------------------------------------------------------------------------


def test_datasets_are_marked_by_name_id_tag_group_and_field(mappings):
    marking = high_value_marking(
        {"adressen_so": ("c_e1da4e07",), "id-2": ("c_b79e35eb",)},
        [{"tag": "Statistiek", "category": ("c_e1da4e07",)},
         {"group": "verkeer", "category": ("c_b79e35eb",)},
         {"field": "hvd", "value": "JA", "category": ("c_b79e35eb",)}],
        mappings.hvd_categories, "t.toml", "duo")
    assert marking.categories_for({"name": "adressen_so"}, {}) == (STATISTICS,)
    assert marking.categories_for({"name": "x", "id": "id-2"}, {}) == (MOBILITY,)
    assert marking.categories_for({"tags": [{"name": "statistiek"}]}, {}) == (STATISTICS,)
    assert marking.categories_for({"groups": [{"name": "verkeer"}]}, {}) == (MOBILITY,)
    assert marking.categories_for({}, {"hvd": "ja"}) == (MOBILITY,)
    assert marking.categories_for({"hvd": ["nee", "ja"]}, {}) == (MOBILITY,)
    assert marking.categories_for({"name": "adressen_so", "tags": ["statistiek"],
                                   "groups": [{"name": "verkeer"}]}, {}) == (STATISTICS, MOBILITY)
    assert marking.categories_for({"name": "other", "tags": ["onderwijs"]}, {"hvd": "nee"}) == ()
    assert high_value_marking({}, [], mappings.hvd_categories, "t.toml", "duo") is None


def test_a_marked_dataset_gets_category_and_legislation_everywhere_the_hvd_profile_asks(
        mappings, context):
    mapped = map_dataset(package("adressen_so"), context, mappings,
                         options_for(mappings, {"adressen_so": ("c_e1da4e07",)}))
    g, ds = mapped.graph, URIRef(mapped.uri)
    assert set(g.objects(ds, DCATAP.hvdCategory)) == {URIRef(STATISTICS)}
    assert set(g.objects(ds, DCATAP.applicableLegislation)) == {LAW}
    distributions = set(g.objects(ds, DCAT.distribution))
    assert len(distributions) == 3
    assert all((d, DCATAP.applicableLegislation, LAW) in g for d in distributions)
    assert (SERVICE, DCATAP.hvdCategory, URIRef(STATISTICS)) in g
    assert (SERVICE, DCATAP.applicableLegislation, LAW) in g
    assert (URIRef(STATISTICS), rdflib.namespace.SKOS.inScheme, URIRef(HVD_SCHEME)) in g
    assert (LAW, RDF.type, URIRef("http://data.europa.eu/eli/ontology#LegalResource")) in g


@pytest.mark.parametrize("name", ["adressen_so", "p03hoinschr", "rich-package"])
def test_an_unmarked_dataset_is_mapped_exactly_as_without_any_marking(mappings, context, name):
    plain = map_dataset(package(name), context, mappings, options_for(mappings))
    others = map_dataset(package(name), context, mappings,
                         options_for(mappings, {"someone-else": ("c_e1da4e07",)},
                                     [{"tag": "no-such-tag", "category": ("c_e1da4e07",)}]))
    assert others.triple_view().graph().serialize(format="nt", encoding="utf-8") == \
        plain.triple_view().graph().serialize(format="nt", encoding="utf-8")
    assert not any(p in (DCATAP.hvdCategory, DCATAP.applicableLegislation)
                   for _, p, _ in plain.graph)


# --- our HVD shapes -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def marked(mappings, context):
    return map_dataset(package("adressen_so"), context, mappings,
                       options_for(mappings, {"adressen_so": ("c_e1da4e07",)}))


def _copy(graph: Graph) -> Graph:
    out = Graph()
    for t in graph:
        out.add(t)
    return out


def test_a_correctly_marked_dataset_conforms(validator, marked):
    report = validator.validate(_copy(marked.graph))
    assert report.conforms, [f.message for f in report.findings if f.severity == "violation"]


def test_a_dataset_naming_the_regulation_without_a_category_is_caught(validator, marked):
    g = _copy(marked.graph)
    g.remove((None, DCATAP.hvdCategory, None))
    assert violations(validator.validate(g)) == {
        (marked.uri, "HvdLegislation-dcatap_hvdCategory-min"),
        (str(SERVICE), "HvdLegislation-dcatap_hvdCategory-min")}


def test_a_category_outside_the_list_is_caught(validator, marked):
    g = _copy(marked.graph)
    g.remove((URIRef(marked.uri), DCATAP.hvdCategory, None))
    theme = URIRef("http://publications.europa.eu/resource/authority/data-theme/EDUC")
    g.add((URIRef(marked.uri), DCATAP.hvdCategory, theme))  # a skos:Concept of another list
    assert violations(validator.validate(g)) == {(marked.uri, "HvdResource-dcatap_hvdCategory-list")}


def test_a_category_without_the_regulation_is_caught(validator, marked):
    g = _copy(marked.graph)
    g.remove((URIRef(marked.uri), DCATAP.applicableLegislation, None))
    other_law = URIRef("http://data.europa.eu/eli/dir/2007/2/2019-06-26")
    g.add((URIRef(marked.uri), DCATAP.applicableLegislation, other_law))
    g.add((other_law, RDF.type, URIRef("http://data.europa.eu/eli/ontology#LegalResource")))
    assert violations(validator.validate(g)) == {
        (marked.uri, "HvdResource-dcatap_applicableLegislation-hvd")}


def test_a_distribution_without_the_regulation_and_a_service_without_documentation_are_caught(
        validator, marked):
    g = _copy(marked.graph)
    distribution = next(g.objects(URIRef(marked.uri), DCAT.distribution))
    g.remove((distribution, DCATAP.applicableLegislation, None))
    g.remove((SERVICE, FOAF.page, None))
    assert violations(validator.validate(g)) == {
        (marked.uri, "HvdResource-dcat_distribution-hvd"),
        (str(SERVICE), "HvdResource-foaf_page-min")}


def test_other_legislation_alone_does_not_make_a_dataset_high_value(validator, mappings, context):
    mapped = map_dataset(package("adressen_so"), context, mappings, options_for(mappings))
    g = _copy(mapped.graph)
    other_law = URIRef("http://data.europa.eu/eli/dir/2007/2/2019-06-26")
    g.add((URIRef(mapped.uri), DCATAP.applicableLegislation, other_law))
    g.add((other_law, RDF.type, URIRef("http://data.europa.eu/eli/ontology#LegalResource")))
    assert violations(validator.validate(g)) == set()


# --- the compiled engine's sh:targetSubjectsOf --------------------------------------------------

_SUBJECTS_OF_SHAPES = """
@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
ex:NeedsName a sh:PropertyShape ;
    sh:targetSubjectsOf ex:marked ; sh:targetClass ex:Thing ;
    sh:path ex:name ; sh:minCount 1 ;
    sh:message "naam ontbreekt"@nl, "name missing"@en .
"""
_SUBJECTS_OF_DATA = """
@prefix ex: <http://example.org/> .
ex:a ex:marked true .
ex:b ex:marked true ; ex:name "b" .
ex:c a ex:Thing ; ex:marked true .
ex:d a ex:Thing ; ex:name "d" .
ex:e ex:other true .
"""


def test_the_compiled_engine_targets_subjects_of_a_property_as_pyshacl_does(tmp_path):
    (tmp_path / "s.ttl").write_text(_SUBJECTS_OF_SHAPES, encoding="utf-8")
    found = {}
    for engine in ("compiled", "pyshacl"):
        validator = Validator.from_files([tmp_path / "s.ttl"], Graph(), engine=engine)
        assert validator.engine == engine
        report = validator.validate(Graph().parse(data=_SUBJECTS_OF_DATA, format="turtle"))
        found[engine] = sorted((f.focus_node, f.path, f.message) for f in report.findings)
    assert found["compiled"] == found["pyshacl"] == [
        ("http://example.org/a", "http://example.org/name", "naam ontbreekt / name missing"),
        ("http://example.org/c", "http://example.org/name", "naam ontbreekt / name missing")]


# --- agreement with SEMIC's HVD shapes ----------------------------------------------------------

R5R = "http://data.europa.eu/r5r/"
#: the official rules ours state: (path of the official result, constraint component)
_OFFICIAL = {(R5R + "hvdCategory", "MinCount"), (R5R + "applicableLegislation", "MinCount"),
             (str(FOAF.page), "MinCount")}


def high_value_nodes(g: Graph) -> set:
    """What our shapes treat as high-value: what has a category or names the regulation, and
    the distributions those describe."""
    marked = set(g.subjects(DCATAP.hvdCategory, None)) | set(g.subjects(DCATAP.applicableLegislation, LAW))
    return marked | {d for m in marked for d in g.objects(m, DCAT.distribution)}


def _official(g: Graph, shapes: Graph, background: Graph) -> set[tuple[str, str]]:
    import pyshacl

    data = _copy(g) + background
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    wanted = high_value_nodes(g)
    found = set()
    for r in results.subjects(RDF.type, SH.ValidationResult):
        path = str(results.value(r, SH.resultPath))
        component = str(results.value(r, SH.sourceConstraintComponent)).rsplit("#", 1)[-1]
        focus = results.value(r, SH.focusNode)
        if (path, component.removesuffix("ConstraintComponent")) in _OFFICIAL and focus in wanted:
            found.add((str(focus), path))
    return found


#: our HVD shapes -> the path SEMIC's shapes report the same fault under
_SEMIC_PATH = {"HvdLegislation-dcatap_hvdCategory-min": R5R + "hvdCategory",
               "HvdResource-dcatap_applicableLegislation-hvd": R5R + "applicableLegislation",
               "HvdResource-foaf_page-min": str(FOAF.page)}


def worded_as_semic(f: Finding, g: Graph) -> list[Finding]:
    """Our finding `f` on graph `g` as SEMIC's HVD shapes word it: the same fault under their
    (focus node, path). A dataset whose distributions lack the regulation becomes one finding per
    such distribution (described in `g`); a finding of another shape is returned as it is."""
    shape = (f.shape or "").rsplit(":", 1)[-1]
    if shape in _SEMIC_PATH:
        return [replace(f, path=_SEMIC_PATH[shape])]
    if shape == "HvdResource-dcat_distribution-hvd":
        return [replace(f, focus_node=str(d), path=R5R + "applicableLegislation")
                for d in g.objects(URIRef(f.focus_node), DCAT.distribution)
                if (d, RDF.type, DCAT.Distribution) in g
                and (d, DCATAP.applicableLegislation, LAW) not in g]
    return [f]


def _ours(g: Graph, validator: Validator) -> set[tuple[str, str]]:
    """Our HVD findings as the official shapes word them (focus node, path)."""
    return {(w.focus_node, w.path) for f in validator.validate(_copy(g)).findings
            if "Hvd" in (f.shape or "") for w in worded_as_semic(f, g)}


@pytest.fixture(scope="module")
def official_shapes(shared_dir) -> Graph:
    return Graph().parse(shared_dir / HVD_SHAPES)


@pytest.fixture(scope="module")
def compiled(mappings) -> Validator:
    return Validator(SHAPES_DIR, ontology=mappings.vocabulary_graph, engine="compiled")


def _examples(shared_dir: Path) -> list[tuple[str, Graph]]:
    parsed = []
    for path in sorted((shared_dir / HVD_EXAMPLES).glob("*.ttl")):
        try:
            parsed.append((path.name, Graph().parse(path, format="turtle")))
        except Exception:  # noqa: BLE001 - SOURCES.md: example-bees_wasps_dataset.ttl does not parse
            assert path.name == "example-bees_wasps_dataset.ttl"
    return parsed


def test_our_hvd_verdicts_agree_with_semics_on_the_hvd_examples(shared_dir, official_shapes,
                                                                 compiled, mappings):
    background = background_graph(mappings.vocabulary_graph())
    examples = _examples(shared_dir)
    assert len(examples) == 14
    flagged = 0
    for name, g in examples:
        official = _official(g, official_shapes, background)
        assert _ours(g, compiled) == official, name
        flagged += len(official)
    assert flagged >= 10  # the examples do break the rules: the comparison is not empty


@pytest.mark.parametrize("documentation", [True, False])
def test_our_marked_output_agrees_with_semics_hvd_shapes(shared_dir, official_shapes, compiled,
                                                        mappings, context, documentation):
    mapped = map_dataset(package("adressen_so"), context, mappings,
                         options_for(mappings, {"adressen_so": ("c_e1da4e07",)},
                                     documentation=documentation))
    background = background_graph(mappings.vocabulary_graph())
    official = _official(mapped.graph, official_shapes, background)
    assert _ours(mapped.graph, compiled) == official
    assert official == (set() if documentation else {(str(SERVICE), str(FOAF.page))})


# --- data.overheid.nl ---------------------------------------------------------------------------


def test_a_marked_dataset_is_high_value_on_data_overheid_nl_and_others_say_nothing(
        mappings, context, marked):
    package_of = to_target(marked, mappings).package(marked.name, "duo")
    assert package_of["high_value"] is True
    plain = map_dataset(package("adressen_so"), context, mappings, options_for(mappings))
    assert "high_value" not in to_target(plain, mappings).package(plain.name, "duo")
