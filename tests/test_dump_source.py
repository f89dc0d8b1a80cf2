"""The dump source (JSON, CKAN dump object, JSON Lines) and harvests from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvester.config import SourceConfig
from harvester.errors import SourceError
from harvester.source.dump import DumpSource
from harvester.source.harvest import harvest
from harvester.source.listing import Listing
from harvester.store.state import StateStore


def packages(n: int) -> list[dict]:
    return [{"id": f"id-{i:03d}", "name": f"ds-{i}", "metadata_modified": f"2026-0{1 + i % 9}-01T00:00:00",
             "owner_org": "org-1", "organization": {"name": "duo", "id": "org-1"}} for i in range(n)]


def dump_config(path: Path) -> SourceConfig:
    return SourceConfig(name="dump", type="dump", path=path)


def test_reads_a_list_an_object_and_jsonl(tmp_path: Path) -> None:
    data = packages(3)
    (tmp_path / "list.json").write_text(json.dumps(data))
    (tmp_path / "obj.json").write_text(json.dumps({"packages": data, "organizations": [{"name": "duo", "title": "DUO"}],
                                                   "groups": [{"name": "g"}], "licenses": [{"id": "cc-by"}],
                                                   "source_url": "https://example.org"}))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(p) for p in data) + "\n\n")
    for name in ("list.json", "obj.json", "lines.jsonl"):
        source = DumpSource(tmp_path / name)
        listing = Listing()
        assert [p["id"] for p in source.packages(listing)] == [p["id"] for p in data]
        assert listing.complete and listing.total == 3
    ctx = DumpSource(tmp_path / "obj.json").context({"duo"}, Listing())
    assert ctx.base_url == "https://example.org" and ctx.organizations["duo"]["title"] == "DUO"
    assert set(ctx.groups) == {"g"} and set(ctx.licenses) == {"cc-by"}


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bad.json", '{"packages": [\n {"id": "a",}\n]}', r"bad.json, line 2, column 13: not valid JSON"),
        ("bad.jsonl", '{"id": "a"}\n{"id": ', r"bad.jsonl, line 2, column 8: not valid JSON"),
        ("noid.json", '[{"name": "x"}]', r"noid.json, packages\[0\]: the package has no 'id' \(name: 'x'\)"),
        ("scalar.json", '"hello"', "expected a list of CKAN packages or an object with a 'packages' list"),
        ("notobj.jsonl", '[1, 2]', r"notobj.jsonl, line 1: expected a CKAN package object, got list"),
    ],
)
def test_malformed_dumps_name_file_and_place(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(SourceError, match=message):
        DumpSource(tmp_path / name).load()


def test_missing_dump_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="dump file not found"):
        DumpSource(tmp_path / "gone.json").load()


def test_harvest_from_a_malformed_dump_fails_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(packages(4)))
    with StateStore.open(tmp_path / "s.sqlite") as store:
        assert harvest(dump_config(path), store).new == 4
        path.write_text('{"packages": [')
        summary = harvest(dump_config(path), store)
        assert summary.outcome == "failed" and "not valid JSON" in (summary.error or "")
        assert len(list(store.records("dump"))) == 4
        assert store.run(summary.run_id).outcome == "failed"


def test_removed_dataset_is_gone_only_in_full_mode(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(packages(5)))
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(dump_config(path), store)
        path.write_text(json.dumps(packages(4)))
        incremental = harvest(dump_config(path), store, "incremental")
        assert incremental.mode == "incremental" and incremental.gone == 0
        full = harvest(dump_config(path), store, "full")
        assert full.gone == 1
        gone = store.record("dump", "id-004")
        assert gone is not None and gone.gone_at is not None


def test_an_empty_listing_is_not_trusted_to_remove_everything(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(packages(5)))
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(dump_config(path), store)
        path.write_text("[]")
        summary = harvest(dump_config(path), store)
        assert summary.outcome == "incomplete" and summary.gone == 0
        assert "listed no datasets at all where 5 were seen before" in summary.problems[0]
        assert len(list(store.records("dump"))) == 5


def test_incremental_without_a_complete_run_is_full(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(packages(2)))
    with StateStore.open(tmp_path / "s.sqlite") as store:
        assert harvest(dump_config(path), store, "incremental").mode == "full"


def test_schedule_makes_every_nth_run_full(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(packages(2)))
    config = dump_config(path)
    config.full_every_runs = 3
    with StateStore.open(tmp_path / "s.sqlite") as store:
        modes = [harvest(config, store, None).mode for _ in range(7)]
    assert modes == ["full", "incremental", "incremental", "full", "incremental", "incremental", "full"]
