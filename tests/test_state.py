"""The SQLite state store: migrations, staged runs merged atomically, gone-at-source marks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from harvester.errors import StateError
from harvester.store.encoding import content_hash, pack_json, parse_stored, stored_json
from harvester.store.migrations import MIGRATIONS
from harvester.store.rows import Publication, Result
from harvester.store.state import PAGE_SIZE, StateStore


def pkg(ident: str, title: str = "t", **extra: object) -> dict:
    return {"id": ident, "name": f"name-{ident}", "title": title, "metadata_modified": "2026-01-01T00:00:00", **extra}


def harvest_once(store: StateStore, packages: list[dict], *, complete: bool = True, full: bool = True) -> dict:
    run = store.begin_run("harvest", "src", "file.json", "full" if full else "incremental")
    store.stage_records(run, packages)
    return store.finish_harvest(run, complete=complete, full=full)


def test_a_new_store_has_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "new.sqlite") as store:
        assert store.db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 16384
    old = sqlite3.connect(tmp_path / "old.sqlite")
    old.execute("CREATE TABLE t (x)")
    old.commit()
    old.close()
    with StateStore.open(tmp_path / "old.sqlite") as store:
        assert store.db.execute("PRAGMA page_size").fetchone()[0] == 4096
        harvest_once(store, [pkg("a")])
        assert store.record("src", "a") is not None


def test_new_store_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "sub" / "s.sqlite") as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_of_schema_4_keeps_its_raw_dicts_when_migrated(tmp_path: Path) -> None:
    """Migration 5 moves the raw package dicts out of `records` into `record_raws`; migration 6
    adds an empty table of refusals; migration 7 moves the results' JSON into `result_json`;
    migration 8 the publications' snapshots into `published_snapshots`; migration 9 gives
    results a key column (empty for the results stored before: their key is made as before);
    migration 10 works out each record's access from its raw dict."""
    import json

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:4], start=1):
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version={number}")
    db.execute("INSERT INTO sources (name, location, kind, created_at) VALUES ('src', 'f', 'dump', 'x')")
    raw = pkg("a", title="Oude titel")
    db.execute("INSERT INTO records (source, source_id, name, metadata_modified, content_hash, raw, "
               "first_seen_run, last_seen_run, last_changed_run) VALUES ('src', 'a', 'name-a', NULL, ?, ?, 1, 1, 1)",
               (content_hash(raw), json.dumps(raw)))
    for source_id, extra in (("p", {"private": True}), ("d", {"state": "draft"}), ("x", {"state": "deleted"})):
        hidden = {**pkg(source_id), **extra}
        db.execute("INSERT INTO records (source, source_id, name, metadata_modified, content_hash, raw, "
                   "first_seen_run, last_seen_run, last_changed_run) VALUES ('src', ?, ?, NULL, ?, ?, 1, 1, 1)",
                   (source_id, "name-" + source_id, content_hash(hidden), json.dumps(hidden)))
    for source_id, package in (("a", '{"title": "T"}'), ("b", None)):
        db.execute("INSERT INTO results (source, source_id, content_hash, fingerprint, identifier, valid, findings, "
                   "target_package, run_id) VALUES ('src', ?, ?, 'fp', 'urn:' || ?, 1, '[{\"x\": 1}]', ?, 1)",
                   (source_id, content_hash(raw), source_id, package))
    db.execute("INSERT INTO published (target_url, identifier, source, source_id, owner_org, target_name, target_id, "
               "status, sent_hash, target_hash, target_snapshot, resource_ids, result_key, target_modified) "
               "VALUES ('https://t', 'urn:a', 'src', 'a', 'org', 'name-a', 'p1', 'active', 's', 't', "
               "'{\"id\": \"p1\"}', '{\"d\": \"r1\"}', 'rk', '2026-01-01T00:00:00')")
    db.commit()
    db.close()
    with StateStore.open(path) as store:
        assert store.schema_version == len(MIGRATIONS) == 11
        assert store.refusals("https://t") == {}
        columns = [row[1] for row in store.db.execute("PRAGMA table_info(records)")]
        assert "raw" not in columns
        record = store.record("src", "a")
        assert record is not None and record.raw == raw and record.access == "public"
        assert {r.source_id: r.access for r in store.records("src", include_unpublished=True)} == {
            "a": "public", "d": "draft", "p": "private", "x": "deleted"}
        assert [r.source_id for r in store.records("src")] == ["a"]
        result = store.results_for("src", ["a"])["a"]
        assert (result.identifier, result.valid, result.target_package) == ("urn:a", True, {"title": "T"})
        assert result.findings == [{"x": 1}] and result.result_key is None
        assert store.results_for("src", ["b"])["b"].target_package is None
        assert {k: (r.findings, r.target_package) for k, r in store.results("src").items()} == {
            "a": ([{"x": 1}], {"title": "T"}), "b": ([{"x": 1}], None)}
        columns = [row[1] for row in store.db.execute("PRAGMA table_info(results)")]
        assert "findings" not in columns and "target_package" not in columns
        pub = store.publications("https://t")["urn:a"]
        assert (pub.resource_ids, pub.result_key, pub.target_snapshot) == ({"d": "r1"}, "rk", {"id": "p1"})
        columns = [row[1] for row in store.db.execute("PRAGMA table_info(published)")]
        assert "target_snapshot" not in columns and "target_modified" in columns
        counts = harvest_once(store, [pkg("a", title="Nieuwe titel")])
        assert counts["changed"] == 1
        assert next(store.records("src")).raw["title"] == "Nieuwe titel"


def test_a_publications_snapshot_is_kept_apart_and_written_only_when_set(tmp_path: Path) -> None:
    """The snapshot lives in `published_snapshots`: saving a publication read from the store
    keeps it without reading it; setting or clearing it writes it; forgetting removes it."""
    def snapshots(store: StateStore) -> list[tuple[str, str]]:
        return [tuple(row) for row in store.db.execute("SELECT identifier, target_snapshot FROM published_snapshots")]

    with StateStore.open(tmp_path / "s.sqlite") as store:
        pub = Publication(target_url="https://t", identifier="urn:a", source="src", source_id="a",
                          owner_org="org", target_name="name-a", target_id="p1", status="active")
        pub.target_snapshot = {"id": "p1", "title": "Eerste"}
        store.save_publication(pub)
        assert snapshots(store) == [("urn:a", '{"id": "p1", "title": "Eerste"}')]

        read = store.publications("https://t")["urn:a"]
        assert read.snapshot_json is None  # not read with the publication
        read.status = "pending"
        store.db.execute("UPDATE published_snapshots SET target_snapshot = '{\"id\": \"p1\", \"x\": 1}'")
        store.save_publication(read)  # the stored snapshot stands (not rewritten from memory)
        again = store.publications("https://t")["urn:a"]
        assert again.status == "pending" and again.target_snapshot == {"id": "p1", "x": 1}

        again.target_snapshot = {"id": "p1", "title": "Tweede"}
        store.save_publication(again)
        assert store.publications("https://t")["urn:a"].target_snapshot == {"id": "p1", "title": "Tweede"}
        again.target_snapshot = None
        store.save_publication(again)
        assert snapshots(store) == [] and store.publications("https://t")["urn:a"].target_snapshot is None

        again.target_snapshot = {"id": "p1"}
        store.save_publication(again)
        store.forget_publication("https://t", "urn:a")
        assert snapshots(store) == [] and store.publications("https://t") == {}


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    StateStore.open(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="newer than this harvester knows"):
        StateStore.open(path)


def test_a_file_that_is_not_sqlite_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="s.sqlite"):
        StateStore.open(path)


def test_counts_new_changed_unchanged(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        assert harvest_once(store, [pkg("a"), pkg("b")])["new"] == 2
        counts = harvest_once(store, [pkg("a"), pkg("b", title="changed")])
        assert (counts["new"], counts["changed"], counts["unchanged"]) == (0, 1, 1)
        record = store.record("src", "b")
        assert record is not None and record.raw["title"] == "changed"
        assert record.content_hash == content_hash(pkg("b", title="changed"))
        assert record.first_seen_run == 1 and record.last_changed_run == 2


def test_raw_package_is_kept_exactly(tmp_path: Path) -> None:
    package = pkg("a", notes="regel 1\r\nregel 2", extras=[{"key": "theme", "value": '["x", "y"]'}])
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest_once(store, [package])
        record = store.record("src", "a")
        assert record is not None and record.raw == package
        assert list(record.raw) == list(package)


@pytest.mark.parametrize("value", [
    {"title": "Één dataset – “quoted”\n", "tags": ["a", "b"], "size": 12, "ratio": 0.5, "none": None},
    {"value": 2 ** 70, "nested": [{"deep": [1, 2.25, True, False]}]},  # beyond 64 bits: json.dumps writes it
    ["\u0000\t\"\\", "\U0001F600", ""],
    ["\ud800"],  # a lone surrogate, which UTF-8 cannot hold: json.dumps writes it
])
def test_stored_json_parses_back_to_what_json_dumps_writes(value: object) -> None:
    data = stored_json(value)
    assert isinstance(data, bytes)
    text = data.decode("utf-8")  # valid UTF-8: storable as SQLite text
    assert json.loads(text) == json.loads(json.dumps(value, ensure_ascii=False)) == value
    assert parse_stored(pack_json(data)) == value  # and packed, as the state store keeps it


def test_results_are_stored_packed_and_text_results_still_read(tmp_path: Path) -> None:
    findings = [{"severity": "warning", "focus_node": f"https://x/d/{i}", "path": "http://purl.org/dc/terms/type",
                 "value": None, "message": "Aanbevolen gegeven ontbreekt – “type” / Recommended", "shape": "urn:s"}
                for i in range(12)]
    package = {"title": "Één dataset", "quality": {"total": 268}, "target": {"fields": {"size": 2 ** 70}}}
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest_once(store, [pkg("a"), pkg("b"), pkg("c")])
        store.save_results([Result("src", "a", "h", "fp", "urn:a", True, findings, package, 1, 0, 0),
                            Result("src", "b", "h", "fp", "urn:b", False, [], None, 1, 1, 0)])
        kinds = store.db.execute("SELECT typeof(findings), length(findings), typeof(target_package) "
                                 "FROM result_json WHERE source_id = 'a'").fetchone()
        assert kinds[0] == "blob" and kinds[2] == "blob"
        assert kinds[1] < len(json.dumps(findings)) / 3  # packed: a third of the text or less
        for results in (store.results("src"), store.results_for("src", ["a", "b"])):
            assert (results["a"].findings, results["a"].target_package) == (findings, package)
            assert (results["b"].findings, results["b"].target_package) == ([], None)
        # a result stored as text, as stores before packing kept them, reads as before
        with store.transaction() as db:
            db.execute("INSERT INTO results (source, source_id, content_hash, fingerprint, identifier, valid, "
                       "run_id, has_package, violations, mapping_errors, result_key) "
                       "VALUES ('src', 'c', 'h', 'fp', 'urn:c', 1, 1, 1, 0, 0, 'key-c')")
            db.execute("INSERT INTO result_json (source, source_id, findings, target_package) VALUES ('src', 'c', ?, ?)",
                       (json.dumps(findings), json.dumps(package)))
        assert store.db.execute("SELECT typeof(findings) FROM result_json WHERE source_id = 'c'").fetchone()[0] == "text"
        again = store.results_for("src", ["c"])["c"]
        assert (again.findings, again.target_package, again.result_key) == (findings, package, "key-c")
        # a packed result that is damaged: an error that names the record, not a crash
        with store.transaction() as db:
            db.execute("UPDATE result_json SET findings = X'00FFFFFF0102' WHERE source_id = 'a'")
        with pytest.raises(StateError, match="findings of record a of source src cannot be read"):
            store.results_for("src", ["a"])


def test_what_the_store_reads_is_usable_after_it_is_closed(tmp_path: Path) -> None:
    """Records, results and publications hold their values: a report or plan that reads them
    after the run closed the store gets them (publication snapshots read before closing)."""
    path = tmp_path / "s.sqlite"
    with StateStore.open(path) as store:
        harvest_once(store, [pkg("a", title="Eerste"), pkg("b")])
        store.save_results([Result("src", "a", "h", "fp", "urn:a", True, [{"severity": "info"}],
                                   {"title": "Eerste", "target": {"fields": {}}}, 1, 0, 0, "key-a")])
        pub = Publication(target_url="https://t", identifier="urn:a", source="src", source_id="a",
                          owner_org="org", target_name="name-a", target_id="p1", status="active",
                          resource_ids={"d": "r1"})
        store.save_publication(pub)
    with StateStore.open(path) as store:
        records = list(store.records("src"))
        results = store.results_for("src", ["a", "b"])
        publications = store.publications("https://t")
    assert [(r.source_id, r.raw["title"]) for r in records] == [("a", "Eerste"), ("b", "t")]
    assert list(results) == ["a"] and results["a"].findings == [{"severity": "info"}]
    assert results["a"].target_package == {"title": "Eerste", "target": {"fields": {}}}
    assert results["a"].result_key == "key-a"
    assert publications["urn:a"].resource_ids == {"d": "r1"}


def test_gone_only_after_complete_full_listing(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest_once(store, [pkg("a"), pkg("b")])
        assert harvest_once(store, [pkg("a")], complete=False)["gone"] == 0
        assert harvest_once(store, [pkg("a")], full=False)["gone"] == 0
        assert harvest_once(store, [pkg("a")])["gone"] == 1
        gone = store.record("src", "b")
        assert gone is not None and gone.gone_at is not None
        assert [r.source_id for r in store.records("src")] == ["a"]
        assert len(list(store.records("src", include_gone=True))) == 2
        counts = harvest_once(store, [pkg("a"), pkg("b")])
        assert counts["returned"] == 1
        back = store.record("src", "b")
        assert back is not None and back.gone_at is None


def test_a_run_that_dies_leaves_records_untouched_and_is_aborted_next_time(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with StateStore.open(path) as store:
        harvest_once(store, [pkg("a")])
        run = store.begin_run("harvest", "src", "file.json", "full")
        store.stage_records(run, [pkg("a", title="half"), pkg("z")])
        # the process dies here: no finish_harvest
    with StateStore.open(path) as store:
        record = store.record("src", "a")
        assert record is not None and record.raw["title"] == "t"
        assert store.record("src", "z") is None
        next_run = store.begin_run("harvest", "src", "file.json", "full")
        assert store.run(run).outcome == "aborted"
        assert store.db.execute("SELECT COUNT(*) FROM staged_records WHERE run_id = ?", (run,)).fetchone()[0] == 0
        store.stage_records(next_run, [pkg("a", title="half"), pkg("z")])
        counts = store.finish_harvest(next_run, complete=True, full=True)
        assert (counts["new"], counts["changed"]) == (1, 1)


def test_failed_run_keeps_previous_records_and_last_complete_run(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest_once(store, [pkg("a")])
        run = store.begin_run("harvest", "src", "file.json", "full")
        store.stage_records(run, [pkg("b")])
        store.fail_run(run, "source down")
        assert store.run(run).outcome == "failed" and store.run(run).error == "source down"
        assert [r.source_id for r in store.records("src")] == ["a"]
        last = store.last_complete_run("src")
        assert last is not None and last.id == 1


def test_a_failing_merge_rolls_back_completely(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest_once(store, [pkg("a")])
        run = store.begin_run("harvest", "src", "file.json", "full")
        store.stage_records(run, [pkg("a", title="new"), pkg("b")])
        store.db.execute("CREATE TRIGGER boom BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        with pytest.raises(sqlite3.DatabaseError, match="disk full"):
            store.finish_harvest(run, complete=True, full=True)
        record = store.record("src", "a")
        assert record is not None and record.raw["title"] == "t"
        assert store.run(run).outcome == "running"


def test_sources_overview(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest_once(store, [pkg("a"), pkg("b")])
        harvest_once(store, [pkg("a")])
        [overview] = store.sources()
        assert overview["records"] == 1 and overview["gone"] == 1
        assert overview["last_run"]["id"] == 2 and overview["last_complete_run"]["counts"]["gone"] == 1


def test_who_may_see_a_record_is_kept_and_only_public_ones_are_listed(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest_once(store, [pkg("a"), pkg("b", private=True), pkg("c", state="draft"), pkg("d")])
        assert [r.source_id for r in store.records("src")] == ["a", "d"]
        assert {r.source_id: r.access for r in store.records("src", include_unpublished=True)} == {
            "a": "public", "b": "private", "c": "draft", "d": "public"}
        assert store.record_ids("src") == {"a", "b", "c", "d"}
        # d is no longer listed, and the source refuses to show it: withheld, not gone
        run = store.begin_run("harvest", "src", "file.json", "full")
        store.stage_records(run, [pkg("a"), pkg("b", private=True), pkg("c", state="draft")])
        store.stage_seen(run, ["d"], access="withheld")
        counts = store.finish_harvest(run, complete=True, full=True)
        assert (counts["changed"], counts["unchanged"], counts["gone"]) == (1, 3, 0)
        record = store.record("src", "d")
        assert record is not None and record.access == "withheld" and record.gone_at is None
        # public again, with the dict it had: public again, and counted as a change
        counts = harvest_once(store, [pkg("a"), pkg("b"), pkg("c", state="draft"), pkg("d")])
        assert (counts["changed"], counts["unchanged"]) == (2, 2)
        assert [r.source_id for r in store.records("src")] == ["a", "b", "d"]


def test_the_organisation_a_source_is_configured_for_is_recorded(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        assert store.source_organization("src") is None
        store.begin_run("harvest", "src", "x", "full", organization="duo")
        assert store.source_organization("src") == "duo"
        store.begin_run("harvest", "src", "x", "full")
        assert store.source_organization("src") is None


def test_the_content_hash_is_that_of_the_canonical_json(tmp_path: Path) -> None:
    import hashlib

    from harvester.store.encoding import canonical_json

    def expected(data: object) -> str:
        return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()

    snapshot = json.loads((Path(__file__).parent.parent / "examples/duo/duo-catalogue.json").read_text("utf-8"))
    assert all(content_hash(p) == expected(p) for p in snapshot["packages"])
    for odd in ({"size": 2**70}, {1: "a key that is no string"}, {"t": "\u2028\x00é😀", "n": None}):
        assert content_hash(odd) == expected(odd)

