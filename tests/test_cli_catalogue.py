"""`harvester validate` and `harvester export` on the offline DUO catalogue."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

from harvester.cli import main
from harvester.errors import ExitCode
from harvester.store.state import StateStore
from tests.test_scheduled import SNAPSHOT, offline_config


def harvested(tmp_path: Path, packages: list | None = None) -> Path:
    config = offline_config(tmp_path, packages)
    result = CliRunner().invoke(main, ["--config", str(config), "harvest"])
    assert result.exit_code == 0, result.output
    return config


def test_validate_reports_every_dataset_and_exits_0_when_all_conform(tmp_path: Path) -> None:
    config = harvested(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "validate", "--format", "json"])
    assert result.exit_code == ExitCode.OK, result.output
    outcome = json.loads(result.stdout)
    assert (outcome["total"], outcome["valid"], outcome["invalid"], outcome["violations"]) == (57, 57, 0, 0)
    assert outcome["catalogue"]["conforms"] is True
    text = CliRunner().invoke(main, ["--config", str(config), "validate"])
    assert "57 valid, 0 invalid of 57 datasets" in text.stdout


def test_validate_marks_invalid_datasets_in_the_state_store_with_the_report(tmp_path: Path) -> None:
    packages = json.loads(SNAPSHOT.read_text())["packages"]
    broken = packages[3]
    broken["license_id"] = "geen-idee"
    broken.pop("license_url", None)
    broken.pop("license_title", None)
    config = harvested(tmp_path, packages)
    result = CliRunner().invoke(main, ["--config", str(config), "validate"])
    assert result.exit_code == ExitCode.DATASETS
    assert f"INVALID  {broken['name']}" in result.stdout and "geen-idee" in result.stdout
    with StateStore.open(tmp_path / "state" / "harvester.sqlite") as store:
        results = store.results("duo")
    assert not results[broken["id"]].valid
    assert any("geen-idee" in str(f.get("value")) for f in results[broken["id"]].findings)
    assert sum(1 for r in results.values() if r.valid) == 56


def test_export_is_deterministic_and_holds_every_dataset(tmp_path: Path) -> None:
    config = harvested(tmp_path)
    first, second = tmp_path / "a.ttl", tmp_path / "b.ttl"
    for out in (first, second):
        result = CliRunner().invoke(main, ["--config", str(config), "export", "-o", str(out)])
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    graph = Graph().parse(first)
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == 57
    assert (URIRef("https://onderwijsdata.duo.nl/catalog"), RDF.type, DCAT.Catalog) in graph
    jsonld = CliRunner().invoke(main, ["--config", str(config), "export", "--format", "json-ld"])
    assert len(set(Graph().parse(data=jsonld.stdout, format="json-ld").subjects(RDF.type, DCAT.Dataset))) == 57


def test_validate_before_any_harvest_says_what_to_do(tmp_path: Path) -> None:
    config = offline_config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "validate"])
    assert result.exit_code == 3 and "run `harvester harvest` first" in result.output
