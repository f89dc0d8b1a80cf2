"""The pipeline on worker processes (`Stages(workers=N)`, harvester/workers.py): the same
results as in one process, byte for byte, in record order, with the counters and the result
cache working as before, in bounded memory; a worker that dies or fails stops the run with an
error that names the batch, and never hangs.

Timing is never asserted here (benchmarks/pipeline.py --workers N measures it).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks import catalogue
from harvester import pipeline, workers
from harvester.dcat.dataset import map_dataset
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import load_mappings
from harvester.donl.convert import TargetDataset, TargetResource
from harvester.errors import HarvesterError
from harvester.pipeline import Stages, prepare, resolve_workers
from harvester.shacl.validator import Validator
from harvester.source.context import SourceContext
from harvester.store.state import Record, StateStore, parse_stored
from harvester.workers import WorkerError
from tests.streaming import make_record, peak_while_preparing

SNAPSHOT = Path(__file__).resolve().parent.parent / "examples" / "duo" / "duo-catalogue.json"

pytestmark = pytest.mark.skipif(not workers.fork_available(), reason="worker processes need fork")


@pytest.fixture(scope="module")
def mappings():
    return load_mappings()


@pytest.fixture(scope="module")
def validator(mappings) -> Validator:
    return Validator(ontology=mappings.vocabulary_graph())


@pytest.fixture(autouse=True)
def _deadline():
    """A hung pool fails the test instead of hanging the suite."""
    def stop(*_: Any) -> None:
        raise TimeoutError("the test took more than 240 s: the worker pool hangs")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(240)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _context(data: dict[str, Any], base_url: str) -> SourceContext:
    return SourceContext.from_dict({
        "base_url": base_url,
        "organizations": {o["name"]: o for o in data["organizations"]},
        "groups": {g["name"]: g for g in data["groups"]},
        "licenses": {lic["id"]: lic for lic in data["licenses"]},
    })


def _broken(packages: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Errors injected at random, of the kinds the mapper, the shapes and data.overheid.nl's
    rules catch: missing and wrong values, unknown codes, bad dates, e-mails and URLs."""
    rng = random.Random(seed)
    out = []
    for index, original in enumerate(packages):
        package = json.loads(json.dumps(original))
        if index % 3 == 0:
            how = rng.choice(["no-title", "no-notes", "licence", "format", "date", "email", "url",
                              "no-resources", "group", "temporal"])
            if how == "no-title":
                package["title"] = ""
            elif how == "no-notes":
                package["notes"] = None
            elif how == "licence":
                package["license_id"], package["license_url"] = "eigen-licentie", ""
            elif how == "format" and package.get("resources"):
                package["resources"][0]["format"] = "SUPERFORMAAT"
            elif how == "date":
                package["metadata_modified"] = "gisteren"
            elif how == "email":
                package["maintainer_email"] = "geen e-mail"
            elif how == "url" and package.get("resources"):
                package["resources"][-1]["url"] = "niet een url"
            elif how == "no-resources":
                package["resources"] = []
            elif how == "group":
                package["groups"] = [{"name": "diversen", "title": "Diversen"}]
            else:
                package.setdefault("extras", []).append({"key": "temporal_start", "value": "2020-13-45"})
        out.append(package)
    return out


@pytest.fixture(scope="module")
def sources() -> list[tuple[str, SourceContext, list[Record]]]:
    """The real DUO snapshot and a generated DUO-like catalogue, both with injected errors."""
    snapshot = json.loads(SNAPSHOT.read_text())
    duo = _broken(snapshot["packages"], seed=1)
    generated = _broken(list(catalogue.packages(150, seed=5, invalid_share=0.2)), seed=2)
    return [
        ("duo", _context(snapshot, snapshot["source_url"]), [make_record("duo", p) for p in duo]),
        ("gen", _context(catalogue.context_lists(), catalogue.SOURCE_URL),
         [make_record("gen", p) for p in generated]),
    ]


def _stages(mappings, validator, context: SourceContext, n: int | str = 1) -> Stages:
    return Stages(mappings=mappings, options=MappingOptions.from_config(catalogue.mapping_table(), "test"),
                  validator=validator, context=context, workers=n)


def _summary(item) -> tuple:
    """Everything a Prepared says, the target package included."""
    return (item.source_id, item.source_name, item.identifier, item.valid, item.title,
            json.dumps(item.findings, sort_keys=True), json.dumps(item.unmapped, sort_keys=True),
            json.dumps(item.target.package("x", "org") if item.target else None, sort_keys=True),
            json.dumps([item.target.identifier, item.target.source_name, item.target.issues,
                        [r.distribution_uri for r in item.target.resources]] if item.target else None),
            json.dumps(item.quality, sort_keys=True), item.result_key)


def _rows(store: StateStore) -> list[tuple]:
    return [tuple(row) for row in store.db.execute(
        "SELECT source, source_id, content_hash, fingerprint, identifier, valid, findings, "
        "target_package, run_id, has_package FROM results JOIN result_json USING (source, source_id) "
        "ORDER BY source, source_id")]


def _run(tmp_path: Path, name: str, mappings, validator, sources, n: int | str):
    store = StateStore.open(tmp_path / f"{name}.sqlite")
    out, counters = [], []
    for source, context, records in sources:
        stages = _stages(mappings, validator, context, n)
        out += [_summary(p) for p in prepare(store, source, stages, 1, records=records)]
        counters.append(dict(stages.counters))
        assert stages.timings["map"] > 0 and stages.timings["validate"] > 0
    return store, out, counters


def test_two_workers_give_exactly_what_one_process_gives(tmp_path: Path, mappings, validator,
                                                         sources, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH", 40)  # several batches under way at once
    one, single, single_counters = _run(tmp_path, "one", mappings, validator, sources, 1)
    two, pooled, pooled_counters = _run(tmp_path, "two", mappings, validator, sources, 2)
    assert pooled == single
    # in record order, every record once
    assert [s[0] for s in pooled] == [r.source_id for _, _, records in sources for r in records]
    sizes = [len(records) for _, _, records in sources]
    assert pooled_counters == single_counters == [
        {"mapped": n, "validated": n, "reused": 0} for n in sizes]
    # what the state store keeps is the same too, byte for byte
    assert _rows(two) == _rows(one)
    # the injected errors are there: invalid datasets, SHACL findings, unmapped values
    assert 20 < sum(not s[3] for s in pooled) < len(pooled) - 50
    assert any('"violation"' in s[5] for s in pooled) and any(s[6] != "[]" for s in pooled)
    one.close()
    two.close()


def test_a_second_run_reuses_everything_without_starting_workers(tmp_path: Path, mappings, validator,
                                                                 sources, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH", 50)
    source, context, records = sources[1]
    store = StateStore.open(tmp_path / "state.sqlite")
    first = [_summary(p) for p in prepare(store, source, _stages(mappings, validator, context, 2), 1,
                                          records=records)]

    def no_pool(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a worker pool was started although every result was reused")

    with monkeypatch.context() as patch:
        patch.setattr(workers, "ProcessPoolExecutor", no_pool)
        again = _stages(mappings, validator, context, 2)
        reused = [_summary(p) for p in prepare(store, source, again, 2, records=records)]
    assert again.counters == {"mapped": 0, "validated": 0, "reused": len(records)}
    assert reused == first
    # some changed at the source: only those are mapped (in the workers), in record order
    changed = [r if i % 7 else make_record(source, dict(r.raw, title=f"Nieuwe titel {i}"))
               for i, r in enumerate(records)]
    third = _stages(mappings, validator, context, 2)
    after = list(prepare(store, source, third, 3, records=changed))
    n_changed = len(range(0, len(records), 7))
    assert third.counters == {"mapped": n_changed, "validated": n_changed,
                              "reused": len(records) - n_changed}
    assert [p.source_id for p in after] == [r.source_id for r in records]
    assert after[7].title == "Nieuwe titel 7" and after[8].title == records[8].raw["title"]
    assert [_summary(p) for i, p in enumerate(after) if i % 7] == [s for i, s in enumerate(first) if i % 7]
    store.close()


def test_outcomes_cross_the_process_boundary_as_plain_data(mappings, validator, sources) -> None:
    _, context, records = sources[0]
    stages = _stages(mappings, validator, context)
    timings = dict.fromkeys(("map", "validate", "target", "store"), 0.0)
    items = [(r.source_id, r.name, r.content_hash, r.raw) for r in records[:20]]
    outcomes = pipeline.compute(stages, items, timings)
    plain = (str, bytes, int, float, bool, type(None))

    def check(value: Any, where: str) -> None:
        if isinstance(value, (TargetDataset, TargetResource)):
            value = vars(value)
        if isinstance(value, dict):
            for key, item in value.items():
                assert type(key) is str, where
                check(item, f"{where}.{key}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                check(item, f"{where}[{index}]")
        else:  # exactly these types: an rdflib URIRef or Literal is a str subclass
            assert type(value) in plain, (where, type(value))

    check(outcomes, "outcomes")
    assert pickle.loads(pickle.dumps(outcomes)) == outcomes
    assert all(timings[stage] > 0 for stage in ("map", "validate", "target", "store"))


def test_workers_forked_while_the_collector_is_paused_have_it_on(mappings, validator, sources) -> None:
    """The plan pauses the collector for its whole loop and the pool forks inside it; a worker
    still collects its own cyclic garbage between batches."""
    import gc

    from harvester.collector import collector_paused

    _, context, _ = sources[0]
    with collector_paused(), workers.WorkerPool(_stages(mappings, validator, context), 2) as pool:
        pool.start()
        assert not gc.isenabled()
        answers = {pool._executor.submit(gc.isenabled).result(timeout=60) for _ in range(8)}
    assert answers == {True} and gc.isenabled()


def test_stored_results_hold_what_json_cannot_write_as_utf8(mappings, validator, sources) -> None:
    """A lone surrogate (which UTF-8 cannot hold) in a title and in a value the mapper reports:
    the results' JSON keeps it escaped, and it reads back as it was."""
    _, context, records = sources[0]
    stages = _stages(mappings, validator, context)
    raw = json.loads(json.dumps(records[0].raw))
    raw["title"] = "Titel \ud800 half"
    raw["license_id"], raw["license_url"] = "eigen-\ud800", ""
    timings = dict.fromkeys(("map", "validate", "target", "store"), 0.0)
    plain = [(r.source_id, r.name, r.content_hash, r.raw) for r in records[1:3]]
    outcomes = pipeline.compute(stages, plain + [("x", "x", "h", raw)], timings)
    findings = parse_stored(outcomes[-1][4])
    assert any("\ud800" in (f.get("value") or "") for f in findings), findings
    assert parse_stored(outcomes[-1][5])["title"] == "Titel \ud800 half"
    report = validator.validate_datasets([(m.source_id, m.triple_view()) for m in
                                          [map_dataset(r.raw, context, mappings, stages.options)
                                           for r in records[1:3]]])
    for outcome, record in zip(outcomes, records[1:3]):  # the others: each finding as its to_dict()
        shacl = [f for f in parse_stored(outcome[4]) if not f["severity"].startswith("mapping-")]
        assert shacl == [f.to_dict() for f in report[record.source_id].findings]


def _pool_children() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.is_alive()]


def _crash_on(marker: str, how: str):
    original = pipeline.compute

    def compute(stages, items, timings):
        if any(source_id == marker for source_id, *_ in items):
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise ValueError(f"bad package {marker}")
        return original(stages, items, timings)

    return compute


@pytest.mark.parametrize("how", ["kill", "raise"])
def test_a_worker_that_dies_or_fails_stops_the_run_naming_the_batch(tmp_path: Path, mappings, validator,
                                                                    sources, monkeypatch, how: str) -> None:
    monkeypatch.setattr(pipeline, "BATCH", 30)
    source, context, records = sources[1]
    marker = records[95].source_id  # in the fourth batch: records 91-120
    # the workers are forked: they run the patched compute
    monkeypatch.setattr(pipeline, "compute", _crash_on(marker, how))
    store = StateStore.open(tmp_path / "state.sqlite")
    stages = _stages(mappings, validator, context, 2)
    seen: list[str] = []
    started = time.monotonic()
    with pytest.raises(WorkerError) as caught:
        for item in prepare(store, source, stages, 1, records=records):
            seen.append(item.source_id)
    assert time.monotonic() - started < 120
    error = caught.value
    assert isinstance(error, HarvesterError) and error.exit_code == 3
    message = str(error)
    assert "records 91-120" in message and records[90].source_id in message, message
    if how == "kill":
        assert "died" in message and "SIGKILL" in message, message
    else:
        assert "ValueError" in message and marker in message, message
    # what came before the broken batch was yielded (and stored), in order, and nothing after
    # it; a dead worker breaks the whole pool, so the batches still under way with it (at most
    # workers + AHEAD of them) may be lost: whole batches, never part of one
    before = [r.source_id for r in records[:90]]
    if how == "raise":
        assert seen == before
    else:
        assert seen == before[:len(seen)] and len(seen) % 30 == 0, (len(seen), message)
    assert {r[1] for r in _rows(store)} == set(seen)
    assert _no_pool_children_within(30)
    store.close()


def _no_pool_children_within(seconds: float) -> bool:
    """Whether the pool's worker processes are gone within `seconds`."""
    deadline = time.monotonic() + seconds
    while _pool_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _pool_children()


def test_a_consumer_that_stops_early_leaves_no_workers_behind(tmp_path: Path, mappings, validator,
                                                              sources, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH", 20)
    source, context, records = sources[1]
    store = StateStore.open(tmp_path / "state.sqlite")
    items = prepare(store, source, _stages(mappings, validator, context, 2), 1, records=records)
    first = next(items)
    assert first.source_id == records[0].source_id
    assert _pool_children()
    items.close()
    assert _no_pool_children_within(60)
    store.close()


def test_a_started_prepare_has_the_workers_busy_and_ends_in_small_batches(tmp_path: Path, mappings, validator,
                                                                        sources, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH", 20)
    source, context, records = sources[1]  # 150 records
    store = StateStore.open(tmp_path / "state.sqlite")
    run = store.begin_run("harvest", source, "gen.json", "full")
    store.stage_records(run, [r.raw for r in records])
    store.finish_harvest(run, complete=True, full=True)
    expected = [_summary(p) for p in prepare(store, source, _stages(mappings, validator, context), run)]
    store.drop_results(source)
    sizes: list[int] = []
    submit = workers.WorkerPool.submit
    monkeypatch.setattr(workers.WorkerPool, "submit",
                        lambda self, items, name: sizes.append(len(items)) or submit(self, items, name))
    stages = _stages(mappings, validator, context, 2)
    started = pipeline.prepare_started(store, source, stages, run)
    # before anything is read from it, the workers have the first batches (a window's worth)
    assert _pool_children() and sizes == [20] * (2 + pipeline.AHEAD)
    assert [_summary(p) for p in started] == expected
    # the last 2 * workers * BATCH records go out in batches TAIL_SPLIT times smaller
    assert sizes == [20] * 4 + [20 // pipeline.TAIL_SPLIT] * 14 and sum(sizes) == 150
    assert stages.counters == {"mapped": 150, "validated": 150, "reused": 0}
    assert _no_pool_children_within(60)
    # one that is closed without being read (its planner failed) leaves no workers behind
    store.drop_results(source)
    unread = pipeline.prepare_started(store, source, _stages(mappings, validator, context, 2), run)
    assert _pool_children()
    unread.close()
    assert _no_pool_children_within(60)
    assert store.results_for(source, [r.source_id for r in records]) == {}
    store.close()


def test_without_fork_the_records_are_worked_on_in_this_process(tmp_path: Path, mappings, validator,
                                                                sources, monkeypatch) -> None:
    source, context, records = sources[0]
    store = StateStore.open(tmp_path / "state.sqlite")
    expected = [_summary(p) for p in prepare(store, source, _stages(mappings, validator, context), 1,
                                             records=records)]
    monkeypatch.setattr(workers, "fork_available", lambda: False)
    monkeypatch.setattr(workers, "ProcessPoolExecutor", None)  # would fail if used
    fallback = StateStore.open(tmp_path / "fallback.sqlite")
    stages = _stages(mappings, validator, context, 2)
    assert [_summary(p) for p in prepare(fallback, source, stages, 1, records=records)] == expected
    assert stages.counters["mapped"] == len(records)
    store.close()
    fallback.close()


def test_the_number_of_workers() -> None:
    cores = max(1, os.cpu_count() or 1)
    assert resolve_workers(1) == 1 and resolve_workers(None) == 1
    assert resolve_workers(3) == resolve_workers("3") == 3
    assert resolve_workers(0) == resolve_workers("auto") == resolve_workers(" AUTO ") == cores
    for bad in (-1, "many", 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            resolve_workers(bad)  # type: ignore[arg-type]
    assert Stages.__dataclass_fields__["workers"].default == 1


def test_with_workers_the_pipeline_still_streams_in_bounded_memory(tmp_path: Path, mappings, validator,
                                                                   monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH", 50)
    store = StateStore.open(tmp_path / "state.sqlite")
    context = _context(catalogue.context_lists(), catalogue.SOURCE_URL)
    stages = _stages(mappings, validator, context, 2)
    peak_while_preparing(store, stages, 100, 0)  # caches warmed up
    small = peak_while_preparing(store, stages, 300, 1000)
    large = peak_while_preparing(store, stages, 1200, 5000)
    assert stages.counters["mapped"] == 1600
    # four times the datasets, about the same peak in this process: (workers + AHEAD) batches
    # under way at a time, not the catalogue
    assert large < small * 1.5, (small, large)
    store.close()
