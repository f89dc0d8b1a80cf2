"""Harvesting from a real CKAN 2.12 (started locally by tests/ckan_stack), seeded with the DUO snapshot.

Faults that a real server gives only rarely (5xx, 429, a total that changes mid-run, a page that
fails, a killed process) are produced by the fault proxy in front of it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harvester.config import SourceConfig
from harvester.source.harvest import harvest
from harvester.store.state import StateStore
from tests.conftest import REPO
from tests.faultproxy import Fault, FaultProxy

SNAPSHOT = REPO / "examples" / "duo" / "duo-catalogue.json"


@pytest.fixture()
def duo_ckan(ckan_source: Any) -> Any:
    """The source CKAN holding exactly the DUO snapshot."""
    ckan_source.reset()
    ckan_source.seed_file(SNAPSHOT)
    return ckan_source


def source_config(url: str, **settings: Any) -> SourceConfig:
    config = SourceConfig(name="duo", url=url, timeout=20, retries=3, backoff=0.05, max_backoff=0.2)
    for key, value in settings.items():
        setattr(config, key, value)
    return config


def snapshot_ids() -> set[str]:
    return {p["id"] for p in json.loads(SNAPSHOT.read_text())["packages"]}


def test_full_harvest_pages_through_the_whole_catalogue(duo_ckan: Any, tmp_path: Path) -> None:
    with FaultProxy(duo_ckan.url) as proxy, StateStore.open(tmp_path / "s.sqlite") as store:
        summary = harvest(source_config(proxy.url, page_size=10), store)
        assert summary.outcome == "success" and summary.complete and summary.method == "package_search"
        assert (summary.seen, summary.new, summary.total) == (57, 57, 57)
        assert proxy.calls("package_search") == 6
        starts = [int(q["start"][0]) for a, q, _ in proxy.log if a == "package_search"]
        assert starts == [0, 10, 20, 30, 40, 50]
        assert {r.source_id for r in store.records("duo")} == snapshot_ids()
        record = store.record("duo", "173cbf21-1567-464a-bccd-518cd7a46bd0")
        assert record is not None and record.name == "01voins-v1"
        assert record.raw["resources"][0]["id"] == "d49219cc-2f36-4c2d-8007-b385ba44ec8d"
        assert any(e["key"] == "theme" for e in record.raw["extras"])
        context = store.context("duo")
        assert context is not None and context["organizations"]["duo"]["title"] == "DUO"
        assert "voorgezet-onderwijs" in context["groups"] and "cc-by" in context["licenses"]
        proxy.log.clear()
        second = harvest(source_config(proxy.url, page_size=1000), store)
        assert (second.unchanged, second.changed, second.new) == (57, 0, 0)
        assert [a for a, _, _ in proxy.log] == ["package_search", "organization_show", "group_list", "license_list"]
        assert second.requests == 4  # every package whole, in one page of 1000
        assert "fl" not in proxy.log[0][1]
        third = harvest(source_config(proxy.url, light_listing=False), store)
        assert (third.unchanged, third.requests) == (57, 4)


def test_incremental_fetches_only_changed_datasets(duo_ckan: Any, tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(source_config(duo_ckan.url), store)
        time.sleep(1.1)
        duo_ckan.ckan.action.package_patch(id="01voins-v1", title="Leerlingen VO (nieuw)")
        duo_ckan.ckan.action.package_patch(id="p01hoinges", notes="Nieuwe beschrijving")
        with FaultProxy(duo_ckan.url) as proxy:
            summary = harvest(source_config(proxy.url, overlap_minutes=0), store, "incremental")
            listing, fetch = [q for a, q, _ in proxy.log if a == "package_search"]
        assert summary.mode == "incremental" and summary.complete
        assert (summary.seen, summary.changed, summary.new, summary.gone) == (2, 2, 0, 0)
        assert "metadata_modified:[" in listing["fq"][0] and listing["fl"] == ["id,name,metadata_modified"]
        assert fetch == {}  # the two changed datasets' full dicts, asked for in one POST
        record = store.record("duo", "173cbf21-1567-464a-bccd-518cd7a46bd0")
        assert record is not None and record.raw["title"] == "Leerlingen VO (nieuw)"


def test_removed_dataset_is_detected_by_full_runs_only(duo_ckan: Any, tmp_path: Path) -> None:
    """Only a complete full listing concludes anything of a dataset it no longer holds: deleted
    at the source (which refuses to show it to us) it is withheld; purged, it is gone."""
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(source_config(duo_ckan.url), store)
        removed = duo_ckan.ckan.action.package_show(id="adressen_ho")
        duo_ckan.ckan.action.package_delete(id="adressen_ho")
        incremental = harvest(source_config(duo_ckan.url), store, "incremental")
        assert incremental.gone == 0
        with FaultProxy(duo_ckan.url) as proxy:
            proxy.add(Fault(action="package_search", times=20, status=503, body="down",
                            when=lambda q: q.get("start") == ["20"]))
            broken = harvest(source_config(proxy.url, page_size=20, retries=1), store, "full")
        assert broken.outcome == "incomplete" and not broken.complete and broken.gone == 0
        assert any("page at start=20 failed" in p for p in broken.problems)
        full = harvest(source_config(duo_ckan.url), store, "full")
        assert full.complete and (full.seen, full.changed, full.gone) == (56, 1, 0)
        deleted = store.record("duo", removed["id"])
        assert deleted is not None and deleted.access == "withheld" and deleted.gone_at is None
        duo_ckan.action("dataset_purge", id=removed["id"])
        purged = harvest(source_config(duo_ckan.url), store, "full")
        assert purged.complete and purged.gone == 1 and purged.seen == 56
        gone = store.record("duo", removed["id"])
        assert gone is not None and gone.gone_at is not None and gone.gone_run == purged.run_id


def test_5xx_and_429_are_retried_then_succeed(duo_ckan: Any, tmp_path: Path) -> None:
    with FaultProxy(duo_ckan.url) as proxy, StateStore.open(tmp_path / "s.sqlite") as store:
        proxy.add(Fault(action="package_search", times=2, status=502, body="<html>Bad Gateway</html>", content_type="text/html"))
        proxy.add(Fault(action="package_search", times=1, status=429, headers={"Retry-After": "0"}, body="slow down",
                        when=lambda q: q.get("start") == ["30"]))
        summary = harvest(source_config(proxy.url, page_size=30), store)
        assert summary.outcome == "success" and summary.seen == 57
        assert [s for a, _, s in proxy.log if a == "package_search"] == [502, 502, 200, 429, 200]


def test_a_total_that_changes_mid_run_marks_the_run_incomplete(duo_ckan: Any, tmp_path: Path) -> None:
    created: list[str] = []

    def create_dataset_once(query: dict[str, list[str]]) -> bool:
        if query.get("start") == ["20"] and not created:
            duo_ckan.ckan.action.package_create(name="nieuw-tijdens-harvest", title="Nieuw", owner_org="duo")
            created.append("x")
        return False

    with FaultProxy(duo_ckan.url) as proxy, StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(source_config(duo_ckan.url), store)
        proxy.add(Fault(action="package_search", when=create_dataset_once))
        summary = harvest(source_config(proxy.url, page_size=20), store)
        assert created and summary.outcome == "incomplete" and summary.gone == 0
        assert any("total changed mid-run from 57 to 58" in p for p in summary.problems)


def test_falls_back_to_package_list_and_show_without_search(duo_ckan: Any, tmp_path: Path) -> None:
    with FaultProxy(duo_ckan.url) as proxy, StateStore.open(tmp_path / "s.sqlite") as store:
        proxy.add(Fault(action="package_search", times=100, status=404,
                        body='{"success": false, "error": {"message": "Action name not known: package_search"}}'))
        summary = harvest(source_config(proxy.url, retries=0), store)
        assert summary.method == "package_list" and summary.complete and summary.seen == 57
        assert proxy.calls("package_show") == 57
        assert {r.source_id for r in store.records("duo")} == snapshot_ids()


def test_a_killed_harvest_leaves_the_store_consistent_and_the_next_run_completes(duo_ckan: Any, tmp_path: Path) -> None:
    state = tmp_path / "s.sqlite"
    config = tmp_path / "h.toml"
    with FaultProxy(duo_ckan.url, page_delay=0.6) as proxy:
        config.write_text(f'state = "{state}"\n[sources.duo]\nurl = "{proxy.url}"\npage_size = 5\n')
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        process = subprocess.Popen([sys.executable, "-m", "harvester.cli", "--config", str(config), "harvest"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while proxy.calls("package_search") < 5 and time.time() < deadline:
            time.sleep(0.1)
        with StateStore.open(state) as peek:
            staged = peek.db.execute("SELECT COUNT(*) FROM staged_records").fetchone()[0]
        assert staged > 0
        process.send_signal(signal.SIGKILL)
        process.wait()
    with StateStore.open(state) as store:
        assert list(store.records("duo")) == []
        [run] = store.runs("duo")
        assert run.outcome == "running"
        summary = harvest(source_config(duo_ckan.url), store)
        assert summary.outcome == "success" and summary.new == 57
        assert store.run(run.id).outcome == "aborted"
        assert store.db.execute("SELECT COUNT(*) FROM staged_records").fetchone()[0] == 0


def test_cli_harvests_any_ckan_by_url(duo_ckan: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from harvester.cli import main

    result = CliRunner().invoke(main, ["--state", str(tmp_path / "s.sqlite"), "--json", "harvest",
                                       "--source-url", duo_ckan.url, "--full"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["seen"] == 57 and summary["complete"] is True and summary["source"] in duo_ckan.url


def test_a_light_incremental_listing_fetches_only_what_changed(duo_ckan: Any, tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(source_config(duo_ckan.url), store)
        duo_ckan.ckan.action.package_patch(id="adressen_ho", title="Adressen HO (bijgewerkt)")
        with FaultProxy(duo_ckan.url) as proxy:
            summary = harvest(source_config(proxy.url), store, "incremental")
            assert summary.complete and (summary.seen, summary.changed) == (1, 1)
            assert proxy.calls("package_search") == 2 and summary.requests == 5
            record = store.record("duo", duo_ckan.ckan.action.package_show(id="adressen_ho")["id"])
            assert record is not None and record.raw["title"] == "Adressen HO (bijgewerkt)"
            duo_ckan.ckan.action.package_patch(id="adressen_ho", title="Nog eens")
            proxy.add(Fault(action="package_search", times=5, status=503, body="down",
                            when=lambda q: "fl" not in q))
            broken = harvest(source_config(proxy.url, retries=1), store, "incremental")
        assert broken.outcome == "incomplete" and broken.gone == 0
        assert any("fetching 1 changed datasets failed" in p for p in broken.problems)


def test_a_full_harvest_sees_a_deleted_resource_that_kept_metadata_modified(duo_ckan: Any, tmp_path: Path) -> None:
    """CKAN keeps a package's metadata_modified when a sysadmin deletes a resource (made so here
    by setting it back in the database): a full harvest compares content, so it sees the change."""
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(source_config(duo_ckan.url), store)
        before = duo_ckan.action("package_show", id="01voins-v1")
        keep_modified(duo_ckan, before, lambda: duo_ckan.action("resource_delete", id=before["resources"][0]["id"]))
        summary = harvest(source_config(duo_ckan.url), store, "full")
        assert summary.complete and (summary.changed, summary.unchanged) == (1, 56)
        record = store.record("duo", before["id"])
        assert record is not None and record.metadata_modified == before["metadata_modified"]
        assert [r["id"] for r in record.raw["resources"]] == [r["id"] for r in before["resources"][1:]]


def keep_modified(site: Any, package: dict[str, Any], change: Callable[[], Any]) -> None:
    """Make `change` to a package at the source, then set its metadata_modified back to what it
    was (in the database, and the search index rebuilt for it)."""
    change()
    site.sql(f"UPDATE package SET metadata_modified = '{package['metadata_modified']}' WHERE id = '{package['id']}'")
    site.stack.reindex(site.instance, [package["id"]])


def test_datasets_made_private_or_deleted_are_not_gone(duo_ckan: Any, tmp_path: Path, monkeypatch) -> None:
    """A dataset a full listing no longer holds is asked for: without a key the source refuses
    to show one made private or deleted (withheld); with a key it shows it private or deleted.
    Only one purged is gone."""
    names = ("adressen_ho", "adressen_so", "01voins-v1")
    ids = {name: duo_ckan.action("package_show", id=name)["id"] for name in names}
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(source_config(duo_ckan.url), store)
        duo_ckan.action("package_patch", id="adressen_ho", private=True)
        duo_ckan.action("package_delete", id="adressen_so")
        duo_ckan.action("dataset_purge", id="01voins-v1")
        with FaultProxy(duo_ckan.url) as proxy:
            anonymous = harvest(source_config(proxy.url), store, "full")
            assert proxy.calls("package_show") == 3
        assert anonymous.complete and (anonymous.seen, anonymous.gone, anonymous.changed) == (54, 1, 2)
        access = {r.source_id: r.access for r in store.records("duo", include_unpublished=True)}
        assert (access[ids["adressen_ho"]], access[ids["adressen_so"]]) == ("withheld", "withheld")
        assert ids["01voins-v1"] not in access
        monkeypatch.setenv("SOURCE_KEY", duo_ckan.api_key)
        keyed = harvest(source_config(duo_ckan.url, api_key_env="SOURCE_KEY"), store, "full")
        assert keyed.complete and keyed.seen == 55  # the private one listed
        access = {r.source_id: r.access for r in store.records("duo", include_unpublished=True)}
        assert (access[ids["adressen_ho"]], access[ids["adressen_so"]]) == ("private", "deleted")
