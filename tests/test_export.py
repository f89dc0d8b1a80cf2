"""The catalogue export (harvester.dcat.export): deterministic bytes, self-contained, three formats."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.compare import isomorphic

from harvester.dcat.dataset import map_dataset
from harvester.dcat.export import export_catalog, export_graph
from harvester.dcat.options import MappingOptions
from harvester.dcat.rdf import DCAT, DCT, FOAF, NAMESPACES, RDF, SKOS
from harvester.dcat.tables import load_mappings
from harvester.errors import HarvesterError
from harvester.source.context import SourceContext

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mapper"
PACKAGES = ["01voins-v1", "p03hoinschr", "adressen_so", "rio_nfo_po_vo_vavo_mbo_ho-changelog",
            "rich-package"]
SPDX = "http://spdx.org/rdf/terms#"
VCARD_KIND = URIRef("http://www.w3.org/2006/vcard/ns#Kind")
EU = "http://publications.europa.eu/resource/authority/"

#: predicates whose objects the shapes give a class range: each must be typed in the export
LINKS = [
    DCT.publisher, DCT.creator, DCAT.contactPoint, DCT.license, DCAT.theme, DCT.conformsTo,
    FOAF.page, DCAT.landingPage, DCT.accessRights, DCT.language, DCT.format, DCAT.mediaType,
    DCT.accrualPeriodicity, DCT.temporal, DCT.spatial, DCAT.distribution, DCAT.accessService,
    DCAT.accessURL, DCAT.downloadURL, URIRef(SPDX + "checksum"), URIRef(SPDX + "algorithm"),
    DCAT.endpointURL, DCAT.endpointDescription, DCAT.dataset, DCAT.record, DCAT.service,
    FOAF.primaryTopic, FOAF.homepage, DCAT.themeTaxonomy, SKOS.inScheme,
    URIRef("http://www.w3.org/ns/adms#identifier"),
]


@pytest.fixture(scope="module")
def mappings():
    return load_mappings()


@pytest.fixture(scope="module")
def context() -> SourceContext:
    return SourceContext.from_dict(json.loads((FIXTURES / "duo-context.json").read_text("utf-8")))


def options() -> MappingOptions:
    table = tomllib.loads((FIXTURES / "duo-mapping.toml").read_text("utf-8"))
    return MappingOptions.from_config(table["sources"]["duo"]["mapping"], "tests")


def packages() -> list[dict]:
    return [json.loads((FIXTURES / f"{n}.json").read_text("utf-8")) for n in PACKAGES]


@pytest.fixture(scope="module")
def mapped(context, mappings):
    opts = options()
    return [map_dataset(p, context, mappings, opts) for p in packages()]


@pytest.fixture(scope="module")
def exported(mapped, context, mappings) -> Graph:
    data = export_catalog(mapped, context, mappings, options(), "turtle")
    return Graph().parse(data=data, format="turtle")


# --- determinism --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["turtle", "json-ld", "xml"])
def test_export_is_deterministic(fmt, mapped, context, mappings):
    first = export_catalog(mapped, context, mappings, options(), fmt)
    again = export_catalog(mapped, context, mappings, options(), fmt)
    assert first == again
    # shuffled input, freshly mapped with fresh options and tables: the same bytes
    shuffled = packages()
    random.Random(7).shuffle(shuffled)
    fresh_opts, fresh_maps = options(), load_mappings()
    remapped = [map_dataset(p, context, fresh_maps, fresh_opts) for p in shuffled]
    assert export_catalog(remapped, context, fresh_maps, fresh_opts, fmt) == first


def test_export_is_deterministic_across_processes(repo_dir):
    """Python's string hashing differs per process; the bytes must not."""
    script = textwrap.dedent(f"""
        import hashlib, json, tomllib, sys
        from pathlib import Path
        from harvester.source.context import SourceContext
        from harvester.dcat.export import export_catalog
        from harvester.dcat.dataset import map_dataset
        from harvester.dcat.options import MappingOptions
        from harvester.dcat.tables import load_mappings
        F = Path({str(FIXTURES)!r})
        ctx = SourceContext.from_dict(json.loads((F / "duo-context.json").read_text("utf-8")))
        table = tomllib.loads((F / "duo-mapping.toml").read_text("utf-8"))
        opts = MappingOptions.from_config(table["sources"]["duo"]["mapping"], "x")
        m = load_mappings()
        pk = [json.loads((F / f"{{n}}.json").read_text("utf-8")) for n in {PACKAGES!r}]
        ds = [map_dataset(p, ctx, m, opts) for p in pk]
        for fmt in ("turtle", "json-ld", "xml"):
            print(fmt, hashlib.sha256(export_catalog(ds, ctx, m, opts, fmt)).hexdigest())
    """)
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                check=False, env=env, cwd=repo_dir, timeout=300)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 3


def test_no_blank_nodes(exported):
    assert not any(isinstance(term, BNode) for triple in exported for term in triple)


def test_only_the_shared_prefixes_are_bound(mapped, context, mappings):
    data = export_catalog(mapped, context, mappings, options(), "turtle").decode("utf-8")
    prefixes = dict(re.findall(r"^@prefix (\w*): <([^>]+)> \.$", data, flags=re.MULTILINE))
    assert prefixes, data[:500]
    assert all(NAMESPACES.get(p) == ns for p, ns in prefixes.items()), prefixes


# --- self-contained -----------------------------------------------------------------------------


def test_every_linked_resource_is_typed(exported):
    untyped = sorted({
        (str(p), str(o)) for p in LINKS for o in exported.objects(None, p)
        if not isinstance(o, BNode) and exported.value(o, RDF.type) is None
    })
    assert untyped == []


def test_specific_classes(exported):
    def objects(p):
        return set(exported.objects(None, p))

    assert objects(DCT.publisher) and all((o, RDF.type, FOAF.Agent) in exported
                                          for o in objects(DCT.publisher) | objects(DCT.creator))
    assert all((o, RDF.type, VCARD_KIND) in exported for o in objects(DCAT.contactPoint))
    assert all((o, RDF.type, FOAF.Document) in exported
               for o in objects(FOAF.page) | objects(DCAT.landingPage))
    assert all((o, RDF.type, DCT.Standard) in exported for o in objects(DCT.conformsTo))
    assert all((o, RDF.type, DCT.LicenseDocument) in exported for o in objects(DCT.license))
    assert all((o, RDF.type, DCT.PeriodOfTime) in exported for o in objects(DCT.temporal))
    assert all((o, RDF.type, DCT.Location) in exported for o in objects(DCT.spatial))
    assert all((o, RDF.type, SKOS.Concept) in exported for o in objects(DCAT.theme))
    assert all((o, RDF.type, DCAT.DataService) in exported for o in objects(DCAT.accessService))


def test_non_eu_concepts_are_described(exported):
    """OWMS themes and organisations: skos:Concept with skos:prefLabel and skos:inScheme."""
    owms = [o for o in exported.objects(None, DCAT.theme)
            if str(o).startswith("http://standaarden.overheid.nl/owms/terms/")]
    organisations = set(exported.objects(None, DCT.publisher))
    assert owms and organisations
    for concept in set(owms) | organisations:
        assert (concept, RDF.type, SKOS.Concept) in exported, concept
        assert exported.value(concept, SKOS.prefLabel) is not None, concept
        scheme = exported.value(concept, SKOS.inScheme)
        assert scheme is not None, concept
        assert (scheme, RDF.type, SKOS.ConceptScheme) in exported
        assert exported.value(scheme, DCT.title) is not None
    for organisation in organisations:
        assert exported.value(organisation, FOAF.name) is not None


def test_export_holds_catalogue_and_all_datasets(exported, mapped):
    catalogs = list(exported.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    assert set(exported.objects(catalogs[0], DCAT.dataset)) == {URIRef(m.uri) for m in mapped}
    for m in mapped:
        for triple in m.graph:
            assert triple in exported
    assert len(list(exported.subjects(RDF.type, DCAT.CatalogRecord))) == len(mapped)
    assert len(list(exported.subjects(RDF.type, DCAT.DataService))) == 1


# --- formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, parser", [("turtle", "turtle"), ("json-ld", "json-ld"),
                                         ("xml", "xml")])
def test_formats_parse_to_the_same_graph(fmt, parser, mapped, context, mappings, exported):
    data = export_catalog(mapped, context, mappings, options(), fmt)
    assert isinstance(data, bytes)
    assert isomorphic(Graph().parse(data=data, format=parser), exported)


def test_unknown_format(mapped, context, mappings):
    with pytest.raises(HarvesterError, match="unknown export format 'n3'"):
        export_catalog(mapped, context, mappings, options(), "n3")


def test_export_graph_matches_export(mapped, context, mappings, exported):
    assert isomorphic(export_graph(mapped, context, mappings, options()), exported)


# --- scale --------------------------------------------------------------------------------------


def test_export_of_many_datasets_binds_no_prefix_per_dataset(context, mappings):
    """Thousands of dataset URIs must not make the Turtle serializer quadratic: that happens when
    a prefix is bound per dataset, so none may be (the speed itself is the benchmark's)."""
    opts = options()
    base = packages()
    many = []
    for i in range(600):
        pkg = json.loads(json.dumps(base[i % len(base)]))
        pkg["id"] = f"00000000-0000-4000-8000-{i:012d}"
        pkg["name"] = f"pakket-{i}"
        for j, res in enumerate(pkg["resources"]):
            res["id"] = f"10000000-0000-4000-8000-{i:06d}{j:06d}"
        many.append(map_dataset(pkg, context, mappings, opts))
    data = export_catalog(many, context, mappings, opts, "turtle")
    assert data.count(b"@prefix") <= len(NAMESPACES)
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(
        export_catalog(list(reversed(many)), context, mappings, opts, "turtle")).hexdigest()


# --- validity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["3.0", "3.0.1"])
def test_export_conforms_to_the_project_shapes(mapped, context, mappings, profile):
    """The whole export (catalogue, records, DataService, datasets) has no SHACL violation under
    either profile, also the rich package, whose dataset is in two languages ("nl,en"): its
    distributions, which name no language of their own, get none of the two rather than both
    (the adopted DCAT-AP-NL 3.0 allows a distribution one language)."""
    validate = pytest.importorskip("harvester.shacl.validator")
    graph = export_graph(mapped, context, mappings, options())
    report = validate.Validator(profile=profile).validate(graph)
    assert report.violations == [], report.to_text()[:4000]
    rich = next(m for m in mapped if m.name == "voorbeeld-rijk-pakket")
    assert len(set(graph.objects(URIRef(rich.uri), DCT.language))) == 2
    assert rich.distribution_uris
    assert all(len(set(graph.objects(URIRef(d), DCT.language))) <= 1
               for d in rich.distribution_uris.values())


def test_the_export_is_what_a_sync_publishes_without_its_invalid_datasets(repo_dir, tmp_path):
    """`harvester export` leaves out a dataset a sync would not publish (invalid: here one whose
    frequency is in no table and has no fallback) and names it; --include-invalid exports it too."""
    import shutil

    from click.testing import CliRunner

    from harvester.cli import main

    folder = tmp_path / "examples"
    shutil.copytree(repo_dir / "examples", folder, ignore=shutil.ignore_patterns("state"))
    config = folder / "duo-offline.toml"
    dump = folder / "duo" / "duo-catalogue.json"
    catalogue = json.loads(dump.read_text(encoding="utf-8"))
    broken = catalogue["packages"][0]
    broken["frequency"] = "af en toe"
    dump.write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
    uri = f"https://onderwijsdata.duo.nl/dataset/{broken['id']}"

    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "harvest"]).exit_code == 0
    plain = runner.invoke(main, ["--config", str(config), "export", "-o", str(tmp_path / "plain.ttl")])
    assert plain.exit_code == 0, plain.output
    assert f"left out 1 invalid dataset(s), which a sync does not publish: {broken['name']}" in plain.output
    every = runner.invoke(main, ["--config", str(config), "export", "--include-invalid",
                                 "-o", str(tmp_path / "every.ttl")])
    assert every.exit_code == 0 and "left out" not in every.output
    datasets = {name: set(Graph().parse(tmp_path / name, format="turtle").subjects(RDF.type, DCAT.Dataset))
                for name in ("plain.ttl", "every.ttl")}
    assert URIRef(uri) in datasets["every.ttl"] and URIRef(uri) not in datasets["plain.ttl"]
    assert datasets["every.ttl"] - datasets["plain.ttl"] == {URIRef(uri)}
