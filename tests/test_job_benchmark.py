"""The job benchmark (benchmarks/job.py) runs the installed `harvester sync` at a small N, so that
it cannot rot; and its local data.overheid.nl (benchmarks/target_server.py) answers as CKAN does.

Only what the benchmark counts is checked (every scenario present, one create per created
dataset, nothing written when nothing changed, the changed datasets written again); timings are
reported, never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest

from benchmarks.job import FIGURES, SCENARIOS, toml_text
from benchmarks.target_server import (
    API_KEY,
    ORGANISATION,
    TargetServer,
    error_dict,
    parse_filter,
)
from harvester.apply import NAME_IN_USE
from harvester.config import TargetConfig, parse_config
from harvester.donl.api import TargetApi, TargetValidationError
from harvester.donl.rules import FieldProblem
from harvester.donl.memory import MemoryTarget
from harvester.errors import TargetError

ROOT = Path(__file__).resolve().parent.parent
N = 30


@pytest.fixture(scope="module")
def result() -> dict:
    script = Path(sys.executable).with_name("harvester")
    assert script.exists(), f"{script}: the benchmark runs the installed console script (pip install -e .)"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "job.py"), "--datasets", str(N), "--delay", "0",
         "--repeat", "1", "--json"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_every_scenario_runs_and_reports_every_figure(result: dict) -> None:
    assert result["datasets"] == N and result["repeat"] == 1
    assert list(result["scenarios"]) == list(SCENARIOS)
    for name, scenario in result["scenarios"].items():
        assert len(scenario["runs"]) == 1, name
        run = scenario["runs"][0]
        assert set(FIGURES) <= set(run), name
        assert scenario["median"] == {figure: run[figure] for figure in FIGURES}, name
        assert scenario["exit_codes"] == [run["exit_code"]] and run["exit_code"] in (0, 1), name
        assert run["source_requests"] > 0 and run["target_requests"] > 0, name
        assert run["peak_rss_mib"] > 0 and run["stdout_lines"] > 0, name
        assert run["report_json_bytes"] > 0 and run["report_html_bytes"] > 0, name
        assert run["floor_s"] == 0 and run["ratio"] is None, name  # no delay: no floor
        assert run["target_refused"] == 0, name  # the pre-send check and the target agree
        assert run["source_cpu_s"] >= 0 and run["target_cpu_s"] >= 0, name


def test_a_first_publication_writes_each_valid_dataset_once(result: dict) -> None:
    for name in ("publish-1", "publish-4"):
        run = result["scenarios"][name]["runs"][0]
        counts = run["counts"]
        assert counts["created"] > 0 and counts["created"] + counts["invalid"] == N, name
        assert run["target_writes"] == counts["created"], name
        assert run["target_actions"]["package_create"] == counts["created"], name
        assert "package_update" not in run["target_actions"], name
    assert result["scenarios"]["publish-1"]["writers"] == 1
    assert result["scenarios"]["publish-1"]["runs"][0]["target_cpu_s"] > 0  # the server's work on each write
    assert result["scenarios"]["publish-4"]["writers"] == 4


def test_a_sync_where_nothing_changed_writes_nothing(result: dict) -> None:
    published = result["scenarios"]["publish-1"]["runs"][0]["counts"]["created"]
    run = result["scenarios"]["no-change"]["runs"][0]
    assert run["target_writes"] == 0
    assert run["counts"]["unchanged"] == published
    assert run["stages"]["reused"] == N and run["stages"]["mapped"] == 0


def test_the_changed_datasets_are_written_again(result: dict) -> None:
    run = result["scenarios"]["changed-10"]["runs"][0]
    counts = run["counts"]
    assert result["changed"] == len(range(0, N, 10))
    assert 0 < counts["updated"] + counts["created"] <= result["changed"]
    assert run["target_writes"] == counts["updated"] + counts["created"]
    assert run["stages"]["mapped"] == result["changed"]


def test_a_mapping_change_that_adds_nothing_used_maps_everything_and_writes_nothing(result: dict) -> None:
    run = result["scenarios"]["mapping-change"]["runs"][0]
    assert run["stages"]["mapped"] == N and run["stages"]["reused"] == 0
    assert run["target_writes"] == 0


# --- the pieces ---------------------------------------------------------------------------------


def test_the_configuration_written_is_what_the_harvester_reads(tmp_path: Path) -> None:
    text = toml_text({"state": "s.sqlite", "sources": {"duo": {"url": "http://127.0.0.1:1",
                                                               "mapping": {"formats": ["PDF"], "flag": True,
                                                                           "data_service": {"title": 'a "b"'}}}},
                      "targets": {"bench": {"url": "http://127.0.0.1:2", "owner_org": "org", "writers": 4}}})
    config = parse_config(tomllib.loads(text), tmp_path / "harvester.toml")
    assert config.sources["duo"].mapping == {"formats": ["PDF"], "flag": True, "data_service": {"title": 'a "b"'}}
    assert config.targets["bench"].writers == 4


def test_filters_are_read_as_or_joined_clauses() -> None:
    assert parse_filter('organization:"duo" OR owner_org:"duo"') == [("organization", {"duo"}),
                                                                     ("owner_org", {"duo"})]
    assert parse_filter('identifier:("https://x/a (1)" OR "b\\"c")') == [("identifier", {"https://x/a (1)", 'b"c'})]
    assert parse_filter("id:abc") == [("id", {"abc"})]
    assert parse_filter('+(organization:"duo" OR owner_org:"duo")') == [("organization", {"duo"}),
                                                                        ("owner_org", {"duo"})]


def test_field_problems_become_ckans_error_dict() -> None:
    errors = error_dict([FieldProblem("title", "Missing value"), FieldProblem("resources[1].url", "Missing value")])
    assert errors == {"title": ["Missing value"], "resources": [{}, {"url": ["Missing value"]}]}


def test_the_target_refuses_and_counts_as_ckan_does() -> None:
    with TargetServer() as server:
        config = TargetConfig(name="bench", url=server.url, owner_org=ORGANISATION, retries=0)
        api = TargetApi(config, API_KEY)
        assert list(api.iter_inventory_light(ORGANISATION)) == []
        assert api.show("no-such-package") is None
        with pytest.raises(TargetValidationError) as refused:
            api.create({"name": "a-dataset", "owner_org": "unknown-org"})
        assert refused.value.errors["owner_org"] == ["Organization does not exist"]
        assert refused.value.errors["title"] == ["Missing value"]
        with pytest.raises(TargetError, match="403"):
            TargetApi(config, "wrong-key").create({"name": "a-dataset"})
        assert api.call("organization_show", {"id": ORGANISATION})["name"] == ORGANISATION
        stats = server.stats()
        with urllib.request.urlopen(server.url + "/_stats") as answer:
            assert json.load(answer) == stats
    assert stats["actions"] == {"package_search": 1, "package_show": 1, "package_create": 2,
                                "organization_show": 1}
    assert stats["requests"] == 5 and stats["writes"] == 2 and stats["refused"] == 1


def test_the_target_searches_withdraws_softly_and_keeps_names(tmp_path: Path) -> None:
    held = MemoryTarget()
    for number in (1, 2):
        held.create({"name": f"dataset-{number}", "owner_org": ORGANISATION, "identifier": f"urn:x:{number}",
                     "title": f"Dataset {number}", "resources": [{"url": "https://x/data.csv"}]})
    held.save(tmp_path / "target.jsonl")
    with TargetServer() as server:
        assert server.load(tmp_path / "target.jsonl") == 2
        api = TargetApi(TargetConfig(name="bench", url=server.url, owner_org=ORGANISATION, retries=0), API_KEY)
        light = list(api.iter_inventory_light(ORGANISATION))
        assert [set(p) for p in light] == [{"id", "name", "state", "metadata_modified"}] * 2
        assert sorted(p["id"] for p in light) == [p["id"] for p in light]
        found = api.find_identifiers(["urn:x:2", "urn:x:3"])
        assert list(found) == ["urn:x:2"] and found["urn:x:2"]["title"] == "Dataset 2"
        api.withdraw("dataset-2")
        assert api.find_identifiers(["urn:x:2"]) == {}
        assert [p["name"] for p in api.iter_inventory(ORGANISATION)] == ["dataset-1"]
        assert api.show("dataset-2")["state"] == "deleted"
        with pytest.raises(TargetValidationError) as refused:
            api.create({"name": "dataset-2", "owner_org": ORGANISATION})
        assert NAME_IN_USE in refused.value.errors["name"]
        server.reset()
        assert api.show("dataset-1") is None
