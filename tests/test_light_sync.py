"""A sync plans a dataset unchanged from its stored result's keys (harvester.pipeline's `light`
mode), without reading its findings and package: its plan and report must say what the same sync
says with every result read whole, and an old store (results without their summaries) must still
sync as before."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from benchmarks import catalogue
from benchmarks.ckan_server import CatalogueServer
from benchmarks.job import toml_text
from benchmarks.target_server import API_KEY, ORGANISATION, TargetServer
from harvester.cli import main
from harvester.store.state import StateStore

KEY_ENV = "LIGHT_SYNC_DONL_API_KEY"
N = 40
#: what differs between two runs' reports whatever they did
RUN_KEYS = ("run_id", "generated_at", "started_at", "finished_at", "harvest", "stages")


@pytest.fixture()
def servers() -> Any:
    source = CatalogueServer(N, catalogue.SEED, 0.1)
    target = TargetServer()
    source.start()
    target.start()
    try:
        yield source, target
    finally:
        source.stop()
        target.stop()


def _config(tmp_path: Path, source_url: str, target_url: str) -> Path:
    config = {"state": "state/h.sqlite",
              "sources": {"duo": {"type": "ckan", "url": source_url, "mapping": catalogue.mapping_table()}},
              "targets": {"bench": {"url": target_url, "api_key_env": KEY_ENV, "owner_org": ORGANISATION}}}
    path = tmp_path / "harvester.toml"
    path.write_text(toml_text(config), encoding="utf-8")
    return path


def _sync(config: Path, *args: str) -> dict[str, Any]:
    os.environ[KEY_ENV] = API_KEY
    done = CliRunner().invoke(main, ["--config", str(config), "--json", "sync", "--target", "bench", *args])
    assert done.exit_code in (0, 1), done.output
    summary = json.loads(done.stdout)
    report = json.loads(Path(summary["report_json"]).read_text(encoding="utf-8"))
    return {key: value for key, value in report.items() if key not in RUN_KEYS}


def test_an_unchanged_dataset_is_reported_as_when_its_result_is_read_whole(servers: Any, tmp_path: Path) -> None:
    source, target = servers
    config = _config(tmp_path, source.url, target.url)
    _sync(config)  # the first publication
    whole = _sync(config, "--plan-out", str(tmp_path / "plan.json"))  # a saved plan reads every result whole
    light = _sync(config)
    assert light["counts"]["unchanged"] > 0 and light["counts"]["created"] == 0
    assert light == whole


def test_a_store_whose_results_have_no_summaries_syncs_as_before(servers: Any, tmp_path: Path) -> None:
    source, target = servers
    config = _config(tmp_path, source.url, target.url)
    _sync(config)
    whole = _sync(config, "--plan-out", str(tmp_path / "plan.json"))
    with StateStore.open(tmp_path / "state" / "h.sqlite") as store:  # as results stored before migration 11
        store.db.execute("UPDATE results SET title = NULL, organization = NULL, findings_count = NULL, "
                         "unmapped = NULL, quality = NULL")
    assert _sync(config) == whole
