"""`harvester validate` and `harvester export` on the offline DUO catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

from harvester.cli import main
from harvester.donl.rules import FieldProblem
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
    assert result.exit_code == ExitCode.USAGE and "run `harvester harvest`" in result.output
    assert not (tmp_path / "state").exists()


def test_validate_and_sync_count_what_data_overheid_nl_would_refuse_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-send check is part of both: a dataset SHACL finds valid but data.overheid.nl would
    refuse is invalid in `validate` (its problems labelled apart) as in the dry run's plan."""
    import harvester.jobs.catalogue
    import harvester.plan.rules

    refuse = {"adressen_so", "adressen_vo"}

    def check(package: dict, lists: object = None) -> list[FieldProblem]:
        return [FieldProblem("title", "test refusal")] if package["name"] in refuse else []

    monkeypatch.setattr(harvester.jobs.catalogue, "check_package", check)
    monkeypatch.setattr(harvester.plan.rules, "check_package", check)
    config = harvested(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "validate"])
    assert result.exit_code == ExitCode.DATASETS, result.output
    assert "55 valid, 2 invalid of 57 datasets; 0 violation(s)" in result.stdout
    assert "data.overheid.nl would refuse 2 package(s)" in result.stdout
    assert result.stdout.count("[data.overheid.nl would refuse] title: test refusal") == 2
    assert "INVALID  adressen_so" in result.stdout
    as_json = json.loads(CliRunner().invoke(main, ["--config", str(config), "validate", "--format", "json"]).stdout)
    assert (as_json["invalid"], as_json["refused"], as_json["violations"]) == (2, 2, 0)
    refused = [d for d in as_json["datasets"] if d["refusals"]]
    assert {d["name"] for d in refused} == refuse and all(not d["valid"] for d in refused)
    assert all(f["severity"] != "violation" for d in refused for f in d["findings"])

    synced = CliRunner().invoke(main, ["--config", str(config), "--json", "sync", "--dry-run"])
    assert json.loads(synced.stdout)["counts"]["invalid"] == as_json["invalid"]
