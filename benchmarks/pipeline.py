"""Benchmark: our pipeline against the naive chain, on a generated DUO-like catalogue.

    .venv/bin/python benchmarks/pipeline.py --datasets 10000 [--json]

One run, in this order (each phase in its own forked process, so each has its own peak RSS and
none inherits another's memory; they share the SQLite state store on disk):

1. *previous run*: a local CKAN-like server (benchmarks/ckan_server.py) serves N generated
   packages (benchmarks/catalogue.py: 3 resources each, about 5% broken); a full harvest, the
   pipeline, a plan against an empty in-memory data.overheid.nl (benchmarks/memory_target.py)
   and apply.Applier with `--writers` writers: the first publication. The create calls are
   counted (the valid datasets, each exactly once).
2. *measured run*: since the previous run, `--changed` of the datasets (default 10%) changed at
   the source, and the mapping tables were updated (catalogue.updated_mappings: the project's,
   with a row added to themes.csv that no generated dataset uses, as when a data owner maps a
   new CKAN group). Harvest; a copy of the state store and the target as they are now is kept
   (`before-apply/`: the end-to-end runs below plan there). The stored results were made with
   the tables before, so every record is mapped, validated and converted again: the pipeline
   alone (nothing kept) with per-stage times: read, map, validate, target (package +
   quality), store. Then the plan alone: prepared from the stored results and planned
   streaming against the state store and target of the previous run, the updates applied
   (apply timed apart). From here on every phase maps with the updated tables.
3. `--repeat` rounds (default 5) of two phases, each in a fresh process, with the naive chain
   (4) between the first half of the rounds and the second, so that ours and the naive
   chain's figures come from the same stretch of time (a shared machine's speed drifts over
   minutes; each phase's run is reported, the rate is the median run's):
   - *end to end*, in a fresh copy of the one made before the apply, as sync.plan_source does
     it (paying, as a fresh run does, for reading and compiling the shapes): every record
     mapped again, its result replaced, prepare (map, validate, to-target) and plan streaming
     (Planner.plan_batch per plan.PLAN_BATCH prepared datasets), nothing applied: ours = N /
     the median run's seconds, with the highest peak RSS. Every run must plan the same.
   - *no-change sync*: nothing changed at the source since the measured run's apply. Harvest
     + prepare + plan (the modules a sync runs loaded before the clock starts, as in the
     CLI): the counters (pipeline.Stages.counters: mapped, validated, reused), the source
     requests, the target writes, and the datasets/s of the whole sync.
4. *naive chain*: map every package, one rdflib Graph for the whole catalogue, pySHACL over it
   (our shapes, the background vocabulary), in a fresh process; on at most `--naive-max`
   datasets (its datasets/s is used for the ratio when N is larger; the output says so).

The result's `schedule` lists the phases in the order they ran, with their start (seconds
since the benchmark began).

Before the phases, the harvester's modules are compiled to bytecode (compile_bytecode).

Prints per-stage datasets/s and peak RSS; the last line is `ratio ours/naive: <x>`. With
`--json`, the first line is the whole result as one JSON object and the last line is the same
ratio line. Timing figures depend on the machine; tests only check that this runs
(tests/test_benchmark.py).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `harvester` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import catalogue
from benchmarks.ckan_server import CatalogueServer
from harvester.donl.memory import MemoryTarget

SOURCE = "bench"
OWNER_ORG = "dienst-uitvoering-onderwijs"
#: where the measured run leaves a copy of the state store and target as they were before its
#: apply: the end-to-end runs plan there
BEFORE_APPLY = "before-apply"
#: the mapping tables from the measured run on: the project's, with a row added that no generated
#: dataset uses (catalogue.updated_mappings)
UPDATED_TABLES = "mapping-tables"
#: where each end-to-end run gets its fresh copy of BEFORE_APPLY
END_TO_END = "end-to-end"


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def in_child(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run `function(*args)` in a forked process; its result dict, with its own peak RSS."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def target() -> None:
        try:
            result = function(*args)
            result["peak_rss_mib"] = round(peak_rss_mib(), 1)
            child.send({"ok": result})
        except BaseException:  # noqa: BLE001 - reported to the parent
            child.send({"error": traceback.format_exc()})
        finally:
            child.close()

    process = ctx.Process(target=target)
    process.start()
    child.close()
    try:
        message = parent.recv()
    except EOFError:
        message = {"error": f"the child process died (exit code {process.exitcode})"}
    process.join()
    if "error" in message:
        raise RuntimeError(message["error"])
    return message["ok"]


# --- the phases ---------------------------------------------------------------------------------


def _setup(workdir: Path, url: str) -> tuple[Any, Any, Any]:
    from harvester.config import SourceConfig
    from harvester.store.state import StateStore

    source = SourceConfig(name=SOURCE, type="ckan", url=url, page_size=1000, timeout=120,
                          retries=1, backoff=0.1, mapping=catalogue.mapping_table())
    store = StateStore.open(workdir / "state.sqlite")
    return source, store, None


def _stages(source: Any, store: Any, tables: Path | None = None) -> Any:
    """The pipeline's stages with the mapping tables in `tables` (None: the project's)."""
    from harvester.dcat.options import MappingOptions
    from harvester.dcat.tables import load_mappings
    from harvester.pipeline import Stages, context_of
    from harvester.shacl.validator import Validator

    mappings = load_mappings(tables)
    options = MappingOptions.from_config(source.mapping, "benchmark mapping")
    validator = Validator(ontology=mappings.vocabulary_graph, lazy=True)
    return Stages(mappings=mappings, options=options, validator=validator,
                  context=context_of(store, source.name, source.url))


def _settings(store: Any, summary: Any) -> Any:
    from harvester.jobs import withdraw_permission
    from harvester.plan import PlanSettings

    may, why = withdraw_permission(store, SOURCE, summary)
    return PlanSettings(owner_org=OWNER_ORG, may_withdraw=may, withdraw_blocked_reason=why)


def _harvest(source: Any, store: Any) -> tuple[Any, float]:
    from harvester.source.harvest import harvest

    started = time.perf_counter()
    summary = harvest(source, store, "full", kind="sync")
    seconds = time.perf_counter() - started
    if summary.outcome != "success":
        raise RuntimeError(f"harvest {summary.outcome}: {summary.error or summary.problems}")
    return summary, seconds


def _plan_and_apply(store: Any, stages: Any, target: Any, summary: Any,
                    writers: int | None) -> tuple[Any, dict[str, int], float, float]:
    """Prepare, plan and apply (with `writers`; None: plan only) batch by batch, as
    sync.plan_source does. The plan (its actions slimmed as sync slims them), the applied
    counts, the seconds of prepare + plan and the seconds of apply."""
    from harvester.apply import Applier
    from harvester.jobs import gone_records
    from harvester.pipeline import prepare
    from harvester.plan import Plan, Planner, plan_stream

    started = time.perf_counter()
    prepared = prepare(store, SOURCE, stages, summary.run_id)
    planner = Planner(SOURCE, store.publications(target.url), target, _settings(store, summary),
                      refusals=store.refusals(target.url))
    plan = Plan(source=SOURCE, target=target.url, owner_org=OWNER_ORG)
    applier = Applier(plan, store, target, summary.run_id, SOURCE,
                      publications=planner.publications)
    applied = {"done": 0, "failed": 0}
    apply_seconds = 0.0

    def carry_out(actions: list[Any]) -> None:
        nonlocal apply_seconds
        if writers is not None:
            begun = time.perf_counter()
            for key, value in applier.run(writers, None, actions).items():
                applied[key] += value
            apply_seconds += time.perf_counter() - begun
        for action in actions:
            action.package = None
        plan.actions.extend(actions)

    plan_stream(planner, prepared, gone_records(store, SOURCE), carry_out)
    return plan, applied, time.perf_counter() - started - apply_seconds, apply_seconds


def previous_run(workdir: Path, url: str, writers: int) -> dict[str, Any]:
    """Phase 1: harvest, pipeline, plan against an empty target, apply (first publication)."""
    source, store, _ = _setup(workdir, url)
    summary, harvest_seconds = _harvest(source, store)
    stages = _stages(source, store)
    target = MemoryTarget()
    plan, applied, plan_seconds, apply_seconds = _plan_and_apply(store, stages, target, summary, writers)
    counts = plan.counts()
    target.save(workdir / "target.jsonl")
    store.close()
    return {
        "harvest_seconds": harvest_seconds, "source_requests": summary.requests,
        "prepare_and_plan_seconds": plan_seconds, "apply_seconds": apply_seconds,
        "plan": counts, "applied": applied, "create_calls": target.creates,
        "target_writes": target.writes, "writers": writers,
    }


def end_to_end(workdir: Path, url: str, summary: Any, tables: Path | None = None) -> dict[str, Any]:
    """End to end, as sync does it, in a fresh process (so that it pays for reading and compiling
    the shapes as a fresh run does), with the mapping tables in `tables`: the previous run's
    results no longer stand (the tables changed), so every record is mapped again and its
    result replaced; prepared and planned batch by batch; nothing applied. `workdir` is a fresh
    copy of the store and target as they were before the measured run's apply."""
    source, store, _ = _setup(workdir, url)
    target = MemoryTarget.load(workdir / "target.jsonl")
    started = time.perf_counter()
    streamed = streaming_plan(store, _stages(source, store, tables), target, summary)
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds, "plan": streamed}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Of repeated runs of a phase, the one whose `seconds` is the median (of an even number,
    the slower of the middle two): what the phase's rate is reported from."""
    return sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]


def measured_run(workdir: Path, url: str, writers: int, tables: Path | None = None) -> dict[str, Any]:
    """Phase 2: some datasets changed at the source, and the run maps with the mapping tables in
    `tables` (changed since the previous run: every record is mapped again). Harvest, then a
    copy of the state store and target as they are now (`BEFORE_APPLY`, where the end-to-end
    runs plan), then per-stage times; plan; apply."""
    from harvester.pipeline import prepare

    source, store, _ = _setup(workdir, url)
    summary, harvest_seconds = _harvest(source, store)
    store.close()
    snapshot(workdir, workdir / BEFORE_APPLY)

    # the pipeline alone with per-stage times: every record mapped again (the stored results
    # were made with the tables before), nothing kept
    source, store, _ = _setup(workdir, url)
    target = MemoryTarget.load(workdir / "target.jsonl")
    stages = _stages(source, store, tables)
    started = time.perf_counter()
    seen = 0
    valid = 0
    for item in prepare(store, SOURCE, stages, summary.run_id):  # streaming: nothing kept
        seen += 1
        valid += item.valid
    pipeline_seconds = time.perf_counter() - started
    counters_fresh = dict(stages.counters)
    timings = {k: round(v, 3) for k, v in stages.timings.items()}

    # the plan alone: prepared from the results just stored (read again, not mapped), planned
    # and applied (the updates) batch by batch; apply is timed apart
    plan, applied, plan_seconds, apply_seconds = _plan_and_apply(
        store, _stages(source, store, tables), target, summary, writers)
    plan_rss = peak_rss_mib()
    target.save(workdir / "target.jsonl")
    store.close()
    return {
        "harvest_seconds": harvest_seconds, "source_requests": summary.requests,
        "changed_at_source": summary.changed, "datasets": seen, "valid": valid,
        "pipeline_seconds": pipeline_seconds, "stage_seconds": timings,
        "counters": counters_fresh,
        "plan_seconds": plan_seconds, "plan": plan.counts(), "plan_peak_rss_mib": round(plan_rss, 1),
        "apply_seconds": apply_seconds, "applied": applied, "target_writes": target.writes,
        "_summary": summary,
    }


def snapshot(workdir: Path, into: Path) -> None:
    """Copy the (closed) state store and the target of `workdir` into `into`."""
    into.mkdir(parents=True, exist_ok=True)
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "target.jsonl"):
        if (workdir / name).exists():
            shutil.copyfile(workdir / name, into / name)
        elif (into / name).exists():
            (into / name).unlink()


def streaming_plan(store: Any, stages: Any, target: Any, summary: Any) -> dict[str, int]:
    """Prepare and plan as sync.plan_source does (without applying), a batch of
    `plan.PLAN_BATCH` prepared datasets at a time. The plan's counts."""
    plan, _, _, _ = _plan_and_apply(store, stages, target, summary, None)
    return plan.counts()


def no_change_sync(workdir: Path, url: str, tables: Path | None = None) -> dict[str, Any]:
    """Phase 3: a whole sync where nothing changed at the source: harvest, then prepare and plan
    streaming, batch by batch, as sync.plan_source does (there is nothing to apply)."""
    # the modules a sync runs, loaded before the clock starts, as the CLI has loaded them when
    # its sync command begins (the other phases have them too before they time anything)
    begun = time.perf_counter()
    import harvester.jobs  # noqa: F401
    imports_seconds = time.perf_counter() - begun
    source, store, _ = _setup(workdir, url)
    target = MemoryTarget.load(workdir / "target.jsonl")
    before = target.fingerprint()
    started = time.perf_counter()
    summary, harvest_seconds = _harvest(source, store)
    stages = _stages(source, store, tables)
    setup_seconds = time.perf_counter() - started - harvest_seconds
    middle = time.perf_counter()
    counts = streaming_plan(store, stages, target, summary)
    datasets = stages.counters["reused"] + stages.counters["mapped"]
    plan_seconds = time.perf_counter() - middle
    total = time.perf_counter() - started
    writes = sum(v for k, v in counts.items() if k in ("create", "update", "withdraw"))
    store.close()
    return {
        "datasets": datasets, "seconds": total, "imports_seconds": imports_seconds,
        "harvest_seconds": harvest_seconds,
        "stages_setup_seconds": setup_seconds, "prepare_seconds": 0.0,
        "plan_seconds": plan_seconds, "counters": dict(stages.counters),
        "source_requests": summary.requests, "changed_at_source": summary.changed,
        "planned_writes": writes, "target_writes": target.writes,
        "target_unchanged": target.fingerprint() == before, "plan": dict(sorted(counts.items())),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def naive_chain(n: int, seed: int, invalid_share: float) -> dict[str, Any]:
    """Phase 4: rdflib graph for the whole catalogue + pySHACL over it."""
    import pyshacl
    from rdflib import Graph

    from harvester.dcat.dataset import map_dataset
    from harvester.dcat.options import MappingOptions
    from harvester.dcat.tables import load_mappings
    from harvester.shacl.validator import Validator
    from harvester.source.context import SourceContext

    mappings = load_mappings()
    options = MappingOptions.from_config(catalogue.mapping_table(), "benchmark mapping")
    lists = catalogue.context_lists()
    context = SourceContext.from_dict({
        "base_url": catalogue.SOURCE_URL,
        "organizations": {o["name"]: o for o in lists["organizations"]},
        "groups": {g["name"]: g for g in lists["groups"]},
        "licenses": {lic["id"]: lic for lic in lists["licenses"]},
    })
    validator = Validator(ontology=mappings.vocabulary_graph(), engine="pyshacl")
    packages = list(catalogue.packages(n, seed, invalid_share))
    started = time.perf_counter()
    graph = Graph()
    for package in packages:
        for triple in map_dataset(package, context, mappings, options).graph:
            graph.add(triple)
    for triple in validator.background:
        graph.add(triple)
    graph_seconds = time.perf_counter() - started
    middle = time.perf_counter()
    conforms, report, _ = pyshacl.validate(graph, shacl_graph=validator.shapes_graph,
                                           inference="none", allow_warnings=True,
                                           allow_infos=True, advanced=False)
    shacl_seconds = time.perf_counter() - middle
    return {"datasets": n, "triples": len(graph), "graph_seconds": graph_seconds,
            "pyshacl_seconds": shacl_seconds, "seconds": graph_seconds + shacl_seconds,
            "conforms": bool(conforms)}


# --- the whole run ------------------------------------------------------------------------------


def compile_bytecode() -> None:
    """Compile the harvester's modules to bytecode, as an installed package has them. Each phase
    runs in a fresh process; where PYTHONDONTWRITEBYTECODE is set (as on the machine the README's
    figures come from) each would otherwise compile them from source again, 40-100 ms a phase
    that a real installation does not spend."""
    import compileall

    import harvester

    compileall.compile_dir(str(Path(harvester.__file__).parent), quiet=1)


def run(n: int, *, seed: int = catalogue.SEED, invalid_share: float = 0.05,
        changed_share: float = 0.10, writers: int = 1, naive_max: int = 10_000,
        naive: bool = True, workdir: Path | None = None, repeat: int = 5) -> dict[str, Any]:
    """The whole benchmark; returns the result (see the module docstring). The end-to-end and
    no-change phases run `repeat` times each; their rates are the median run's."""
    own_dir = None
    if workdir is None:
        own_dir = tempfile.TemporaryDirectory(prefix="harvester-bench-")
        workdir = Path(own_dir.name)
    changed = frozenset(range(0, n, max(1, round(1 / changed_share)))) if changed_share > 0 else frozenset()
    result: dict[str, Any] = {
        "datasets": n, "resources_per_dataset": 3, "seed": seed, "invalid_share": invalid_share,
        "changed": len(changed), "machine": machine(),
    }
    compile_bytecode()
    clock = time.perf_counter()
    schedule: list[list[Any]] = []

    def timed(phase: str, function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        schedule.append([phase, round(time.perf_counter() - clock, 1)])
        return in_child(function, *args)

    try:
        with CatalogueServer(n, seed, invalid_share) as server:
            result["previous_run"] = timed("previous run", previous_run, workdir, server.url, writers)
        with CatalogueServer(n, seed, invalid_share, changed) as server:
            tables = catalogue.updated_mappings(workdir / UPDATED_TABLES)
            measured = timed("measured run", measured_run, workdir, server.url, writers, tables)
            summary = measured.pop("_summary")
            result["measured_run"] = measured
            # the end-to-end and no-change runs in rounds, half of them before the naive chain
            # and half after (with one round: before it), so that ours and the naive chain's are
            # measured over the same stretch of time (a shared machine's speed drifts over minutes)
            runs: list[dict[str, Any]] = []
            quiet: list[dict[str, Any]] = []
            for round_ in range(repeat):
                if round_ == repeat // 2 and naive:
                    result["naive"] = timed("naive chain", naive_chain, min(n, naive_max), seed,
                                            invalid_share)
                snapshot(workdir / BEFORE_APPLY, workdir / END_TO_END)  # each run in a fresh copy
                runs.append(timed("end to end", end_to_end, workdir / END_TO_END, server.url,
                                  summary, tables))
                quiet.append(timed("no-change sync", no_change_sync, workdir, server.url, tables))
        if any(run["plan"] != runs[0]["plan"] for run in runs):
            raise RuntimeError(f"the end-to-end runs planned differently: {[run['plan'] for run in runs]}")
        measured.update({
            "streaming_seconds": median_run(runs)["seconds"],
            "streaming_runs": [run["seconds"] for run in runs], "streaming_plan": runs[0]["plan"],
            "end_to_end_peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
        })
        result["no_change_sync"] = dict(median_run(quiet), runs=[run["seconds"] for run in quiet],
                                        peak_rss_mib=max(run["peak_rss_mib"] for run in quiet))
        result["schedule"] = schedule
    finally:
        if own_dir is not None:
            own_dir.cleanup()
    summarise(result)
    return result


def summarise(result: dict[str, Any]) -> None:
    n = result["datasets"]
    measured = result["measured_run"]
    stages = measured["stage_seconds"]
    mapped = measured["counters"]["mapped"] or n
    result["rates"] = {
        "harvest": rate(n, measured["harvest_seconds"]),
        "read": rate(n, stages["read"]),
        "map": rate(mapped, stages["map"]),
        "validate": rate(mapped, stages["validate"]),
        "to_target": rate(mapped, stages["target"]),
        "store_results": rate(mapped, stages["store"]),
        "pipeline": rate(n, measured["pipeline_seconds"]),
        "plan": rate(n, measured["plan_seconds"]),
        "end_to_end": rate(n, measured["streaming_seconds"]),
        "no_change_sync": rate(n, result["no_change_sync"]["seconds"]),
    }
    result["source_request_limit"] = math.ceil(n / 1000) + 5
    naive = result.get("naive")
    if naive:
        result["rates"]["naive"] = rate(naive["datasets"], naive["seconds"])
        result["ratio"] = result["rates"]["end_to_end"] / result["rates"]["naive"]
    else:
        result["ratio"] = None


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory,
            "python": platform.python_version(), "system": platform.platform()}


def report_lines(result: dict[str, Any]) -> list[str]:
    n = result["datasets"]
    r = result["rates"]
    m = result["measured_run"]
    p = result["previous_run"]
    c = result["no_change_sync"]
    mach = result["machine"]
    lines = [
        f"{n} datasets x 3 resources ({result['changed']} changed at the source in the measured "
        f"run); {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB, Python {mach['python']}",
        "phases, in order: " + ", ".join(f"{phase} (at {start:.0f} s)" for phase, start in result["schedule"]),
        "",
        "first publication (previous run)",
        f"  plan counts       {p['plan']}",
        f"  create calls      {p['create_calls']} (writers: {p['writers']})",
        f"  peak RSS          {p['peak_rss_mib']:.0f} MiB",
        "measured run (every record mapped and validated again)",
        f"  harvest           {r['harvest']:>10,.0f} datasets/s  ({m['source_requests']} requests)",
        f"  read              {r['read']:>10,.0f} datasets/s",
        f"  map               {r['map']:>10,.0f} datasets/s",
        f"  validate          {r['validate']:>10,.0f} datasets/s",
        f"  to-target         {r['to_target']:>10,.0f} datasets/s  (package + quality score)",
        f"  store results     {r['store_results']:>10,.0f} datasets/s",
        f"  pipeline          {r['pipeline']:>10,.0f} datasets/s  (map + validate + to-target, streaming)",
        f"  plan              {r['plan']:>10,.0f} datasets/s  (from the stored results, streaming; "
        f"{m['plan']}; peak RSS {m['plan_peak_rss_mib']:.0f} MiB)",
        f"  end to end        {r['end_to_end']:>10,.0f} datasets/s  (map + validate + to-target + "
        f"plan, streaming as sync does it; {m['streaming_plan']}; peak RSS "
        f"{m['end_to_end_peak_rss_mib']:.0f} MiB; {_runs(n, m['streaming_runs'])})",
        "no-change sync",
        f"  whole sync        {r['no_change_sync']:>10,.0f} datasets/s  (harvest "
        f"{c['harvest_seconds']:.2f} s, prepare + plan streaming {c['plan_seconds']:.2f} s; "
        f"{_runs(n, c['runs'])})",
        f"  counters          {c['counters']}",
        f"  source requests   {c['source_requests']} (limit {result['source_request_limit']})",
        f"  target writes     {c['target_writes']} (planned {c['planned_writes']})",
        f"  peak RSS          {c['peak_rss_mib']:.0f} MiB",
    ]
    naive = result.get("naive")
    if naive:
        note = "" if naive["datasets"] == n else f" (measured on {naive['datasets']} datasets)"
        lines += [
            "naive chain (one rdflib graph + pySHACL)" + note,
            f"  graph             {naive['graph_seconds']:.1f} s",
            f"  pySHACL           {naive['pyshacl_seconds']:.1f} s",
            f"  naive             {r['naive']:>10,.1f} datasets/s  (peak RSS {naive['peak_rss_mib']:.0f} MiB)",
        ]
    lines.append(f"ratio ours/naive: {result['ratio']:.1f}" if result["ratio"] else
                 "ratio ours/naive: not measured (--no-naive)")
    return lines


def _runs(n: int, seconds: list[float]) -> str:
    """The rates of a phase's runs, for the report: 'runs 2,310 / 2,250 / 2,401 per s, median'."""
    if len(seconds) == 1:
        return "one run"
    return "runs " + " / ".join(f"{rate(n, s):,.0f}" for s in seconds) + " per s, median"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, required=True, help="catalogue size N")
    parser.add_argument("--json", action="store_true", help="print the result as JSON first")
    parser.add_argument("--seed", type=int, default=catalogue.SEED)
    parser.add_argument("--invalid-share", type=float, default=0.05)
    parser.add_argument("--changed", type=float, default=0.10,
                        help="share of datasets changed at the source in the measured run")
    parser.add_argument("--writers", type=int, default=1, help="parallel writers for apply")
    parser.add_argument("--naive-max", type=int, default=10_000,
                        help="measure the naive chain on at most this many datasets")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive chain")
    parser.add_argument("--workdir", type=Path, help="keep the state store here")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of the end-to-end and the no-change phases, each in a fresh "
                             "process; their rates are the median run's (default 5)")
    args = parser.parse_args(argv)
    if args.datasets < 1:
        parser.error("--datasets must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    result = run(args.datasets, seed=args.seed, invalid_share=args.invalid_share,
                 changed_share=args.changed, writers=args.writers,
                 naive_max=args.naive_max,
                 naive=not args.no_naive, workdir=args.workdir, repeat=args.repeat)
    lines = report_lines(result)
    if args.json:
        print(json.dumps(result, sort_keys=True, default=str))
        print(lines[-1])
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
