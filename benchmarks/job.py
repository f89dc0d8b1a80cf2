"""Benchmark: the job the operator runs, `harvester sync` with its run reports, end to end.

    .venv/bin/python benchmarks/job.py --datasets 1000 [--delay 0.05] [--repeat 3] [--json]
        [--scenarios publish-1,no-change,...] [--profile no-change]

A generated DUO-like catalogue (benchmarks/catalogue.py) is served by a local CKAN-like source
(benchmarks/ckan_server.CatalogueServer), a local data.overheid.nl (benchmarks/target_server.
TargetServer) takes the writes; both wait `--delay` seconds before each answer, standing for the
network. A harvester TOML configuration is written in a temporary folder (source type `ckan` at
the source's URL, the mapping options of catalogue.mapping_table(); target profile `bench` at
the target's URL with its API key in an environment variable), and the INSTALLED `harvester`
console script (beside sys.executable) runs as a subprocess, as cron runs it:
`harvester --config CFG sync --target bench`.

Scenarios (`--scenarios`, default all):

- publish-1, publish-4: the first publication, with 1 and with 4 writers; every run starts from
  an empty state store and an empty target.
- no-change: a sync where nothing changed at the source since the first publication.
- changed-10: a sync where 10 % of the datasets changed at the source (CatalogueServer's
  `changed`: every tenth package).
- mapping-change: a sync after a change of the mapping tables (catalogue.updated_mappings: a row
  no generated package uses), so every record is mapped again and nothing is written.

The last three start each run from the state store and target the first publication left (a
copy kept after it; when no publication scenario runs, an unmeasured publication without delay
makes it). For each run: wall time, CPU seconds (user + system of the harvester process tree: steadier than
the wall time on a shared machine), the CPU seconds of the source and of the target server
(theirs is time the floor does not count: the delay is all it counts), the peak RSS of the harvester's process tree (the sum of
VmRSS over the process and its children, polled from /proc, the highest seen), the requests
the source and the target answered, the target's write requests, the sizes of the run report
(reports/run-*.json and .html beside the state store), the lines on stdout, the exit code, the
counts the run recorded in the state store, and the ratio of the wall time to its floor: for a
publication, writes x delay / writers; for any other sync, (source + target requests) x delay.
Each scenario's figures are the median of `--repeat` runs (the upper median for an even
number); every run's figures are kept in the JSON (`--json`).

`--profile SCENARIO` runs that scenario once under `python -m cProfile` of the harvester script
and prints the 15 entries with the most cumulative time, then the 15 of the harvester's own
modules (cProfile swallows the script's exit status: the profiled run's exit code is 0);
`--profile-out FILE` keeps its data for pstats.

`--keep-baseline DIR` keeps the unmeasured set-up publication in DIR and starts a later
invocation with the same N, seed, invalid share and harvester script from it (its publications
pointed at the new target server's port), for iterating on one scenario; delete DIR when the
code changes what the state store holds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import pstats
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `harvester` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import catalogue
from benchmarks.ckan_server import CatalogueServer
from benchmarks.target_server import API_KEY, ORGANISATION, TargetServer
import harvester

SOURCE = "duo"
TARGET = "bench"
KEY_ENV = "BENCH_DONL_API_KEY"
CHANGED_EVERY = 10  # changed-10: every tenth package changed at the source
STATE = "state/harvester.sqlite"
POLL_SECONDS = 0.05
PROFILE_LINES = 15
HARVESTER_DIR = Path(harvester.__file__).resolve().parent


@dataclass(frozen=True)
class Scenario:
    """One kind of run: its writers, whether it starts empty, what differs at the start."""

    name: str
    what: str
    writers: int = 1
    publication: bool = False
    changed: bool = False
    new_tables: bool = False


SCENARIOS = {s.name: s for s in (
    Scenario("publish-1", "first publication, 1 writer", writers=1, publication=True),
    Scenario("publish-4", "first publication, 4 writers", writers=4, publication=True),
    Scenario("no-change", "nothing changed at the source"),
    Scenario("changed-10", f"1 in {CHANGED_EVERY} datasets changed at the source", changed=True),
    Scenario("mapping-change", "the mapping tables changed (a row no dataset uses)", new_tables=True),
)}

#: the figures of a run that a scenario reports as the median over its runs
FIGURES = ("wall_s", "cpu_s", "source_cpu_s", "target_cpu_s", "floor_s", "ratio", "peak_rss_mib", "source_requests", "target_requests",
           "target_writes", "target_refused", "report_json_bytes", "report_html_bytes",
           "stdout_lines")


def compile_bytecode() -> None:
    """Compile the harvester's modules to bytecode, as an installed package has them (an
    editable install in an environment with PYTHONDONTWRITEBYTECODE would compile them from
    source in every run)."""
    import compileall

    compileall.compile_dir(str(Path(harvester.__file__).parent), quiet=1)


def machine() -> dict[str, Any]:
    """The machine the figures were measured on."""
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


def harvester_script(given: str | None = None) -> Path:
    """The `harvester` console script to run: `given`, else the one installed in this
    interpreter's environment (another installation, e.g. an older release, can be measured
    against the same servers)."""
    script = Path(given) if given else Path(sys.executable).with_name("harvester")
    if not script.exists():
        raise SystemExit(f"{script} not found: install the project in this environment "
                         "(pip install -e .) so that the `harvester` command exists")
    return script


# --- the configuration file ------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def toml_text(table: dict[str, Any], path: tuple[str, ...] = ()) -> str:
    """A TOML document of nested tables of scalars and lists of scalars."""
    lines = [f"[{'.'.join(path)}]"] if path else []
    lines += [f"{key} = {toml_value(value)}" for key, value in table.items() if not isinstance(value, dict)]
    text = "\n".join(lines) + "\n" if lines else ""
    for key, value in table.items():
        if isinstance(value, dict):
            text += "\n" + toml_text(value, (*path, key))
    return text


def write_config(folder: Path, source_url: str, target_url: str, writers: int,
                 mappings: Path | None) -> Path:
    """The harvester's configuration for one run, in `folder` (state and reports go below it)."""
    config: dict[str, Any] = {"state": STATE}
    if mappings is not None:
        config["mappings"] = str(mappings)
    config["sources"] = {SOURCE: {"type": "ckan", "url": source_url,
                                  "mapping": catalogue.mapping_table()}}
    config["targets"] = {TARGET: {"url": target_url, "api_key_env": KEY_ENV,
                                  "owner_org": ORGANISATION, "writers": writers}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "harvester.toml"
    path.write_text(toml_text(config), encoding="utf-8")
    return path


# --- one run of the harvester, watched --------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_kib(root: int) -> int:
    """The sum of VmRSS over a process and all its descendants, in KiB."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            total += _rss_kib(pid)
            todo += _children(pid)
    return total


def run_watched(command: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run `command` to its end, polling its process tree's RSS; its exit code, wall seconds,
    CPU seconds (user and system, of the process and the children it waited for: on a shared
    machine a steadier figure than the wall time), peak RSS, stdout and the tail of stderr."""
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_kib(process.pid))
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    return {"exit_code": process.returncode, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "peak_rss_mib": round(peak / 1024, 1), "stdout": stdout, "stderr_tail": stderr[-3000:]}


def newest_report_sizes(folder: Path) -> dict[str, int]:
    """The sizes of the newest run-*.json and run-*.html in the reports folder (0 when none)."""
    sizes = {}
    for suffix in ("json", "html"):
        reports = sorted(folder.glob(f"run-*.{suffix}"), key=lambda p: p.stat().st_mtime)
        sizes[f"report_{suffix}_bytes"] = reports[-1].stat().st_size if reports else 0
    return sizes


def last_run_counts(state: Path) -> dict[str, Any]:
    """What the newest run of the source recorded in the state store (its counts), read as it
    is: opening it as a StateStore would migrate it to this checkout's schema, which the
    harvester measured (`--harvester`, an older one) may not know."""
    if not state.exists():
        return {}
    with contextlib.closing(sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT counts FROM runs WHERE source = ? ORDER BY id DESC LIMIT 1", (SOURCE,)).fetchone()
    return json.loads(row[0]) if row else {}


def floor_seconds(scenario: Scenario, delay: float, source_requests: int, target_requests: int,
                  writes: int) -> float:
    """The least a run could take on this network: a publication's writes spread over its
    writers; any other sync's requests one after another."""
    if scenario.publication:
        return writes * delay / scenario.writers
    return (source_requests + target_requests) * delay


# --- the benchmark's servers and folders ----------------------------------------------------


class Bench:
    """The source and target servers, the harvester's folder (`job/`), the copy of the state
    and target the first publication left (`baseline/`) and the updated mapping tables."""

    def __init__(self, folder: Path, n: int, delay: float, repeat: int, seed: int,
                 invalid_share: float, script: str | None = None, kept: Path | None = None) -> None:
        self.n, self.delay, self.repeat = n, delay, repeat
        self.seed, self.invalid_share = seed, invalid_share
        self.job, self.baseline, self.tables = folder / "job", folder / "baseline", folder / "tables"
        self.source = CatalogueServer(n, seed, invalid_share, delay=delay)
        self.target = TargetServer(delay=delay)
        self.has_baseline = False
        self.script = harvester_script(script)
        self.kept = kept
        self.profile_copy: Path | None = None
        self.env = {**os.environ, KEY_ENV: API_KEY}

    def __enter__(self) -> Bench:
        self.source.start()
        self.target.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.source.stop()
        self.target.stop()

    @contextlib.contextmanager
    def source_for(self, scenario: Scenario) -> Iterator[CatalogueServer]:
        """The base catalogue's server, or one with every CHANGED_EVERY-th package changed."""
        if not scenario.changed:
            yield self.source
            return
        changed = frozenset(range(0, self.n, CHANGED_EVERY))
        with CatalogueServer(self.n, self.seed, self.invalid_share, changed, delay=self.delay) as server:
            yield server

    def mapping_tables(self, scenario: Scenario) -> Path | None:
        if not scenario.new_tables:
            return None
        if not self.tables.exists():
            catalogue.updated_mappings(self.tables)
        return self.tables

    # -- the state store and target at the start of a run ----------------------------------------

    def empty(self) -> None:
        shutil.rmtree(self.job / "state", ignore_errors=True)
        self.target.reset()

    def keep_baseline(self) -> None:
        shutil.rmtree(self.baseline, ignore_errors=True)
        shutil.copytree(self.job / "state", self.baseline / "state", ignore=shutil.ignore_patterns("reports"))
        self.target.save(self.baseline / "target.jsonl")
        self.has_baseline = True

    def start_from(self, scenario: Scenario) -> None:
        """A publication starts empty; any other scenario from the first publication's end."""
        if scenario.publication:
            self.empty()
        else:
            self.restore()

    def restore(self) -> None:
        shutil.rmtree(self.job / "state", ignore_errors=True)
        shutil.copytree(self.baseline / "state", self.job / "state")
        self.target.load(self.baseline / "target.jsonl")

    def ensure_baseline(self) -> None:
        """A first publication to start the other scenarios from, made without delay when no
        measured publication left one."""
        if self.has_baseline:
            return
        if self.kept is not None and self._baseline_key() == _read_text(self.kept / "baseline.key"):
            shutil.rmtree(self.baseline, ignore_errors=True)
            shutil.copytree(self.kept, self.baseline)
            self._move_target(_read_text(self.kept / "target.url") or "", self.target.url)
            self.has_baseline = True
            return
        for server in (self.source, self.target):
            server.set_delay(0)
        try:
            self.empty()
            run = self.measure(SCENARIOS["publish-4"], self.source)
            if run["exit_code"] not in (0, 1):
                raise RuntimeError(f"the set-up publication failed ({run['exit_code']}): {run['stderr_tail']}")
            self.keep_baseline()
        finally:
            for server in (self.source, self.target):
                server.set_delay(self.delay)
        if self.kept is not None:
            shutil.rmtree(self.kept, ignore_errors=True)
            shutil.copytree(self.baseline, self.kept)
            (self.kept / "baseline.key").write_text(self._baseline_key())
            (self.kept / "target.url").write_text(self.target.url)

    def _move_target(self, old: str, new: str) -> None:
        """Point the kept state store's publications at this run's target (another port)."""
        with contextlib.closing(sqlite3.connect(self.baseline / STATE)) as db, db:
            for table in ("published", "published_snapshots", "refusals"):
                db.execute(f"UPDATE {table} SET target_url = ? WHERE target_url = ?", (new, old))

    def _baseline_key(self) -> str:
        """What a kept baseline was made from: the catalogue and the harvester installation."""
        return json.dumps({"datasets": self.n, "seed": self.seed, "invalid_share": self.invalid_share,
                           "harvester": str(self.script)})

    # -- runs ------------------------------------------------------------------------------------

    def command(self, config: Path, profile_to: Path | None = None) -> list[str]:
        sync = [str(self.script), "--config", str(config), "sync", "--target", TARGET]
        return [sys.executable, "-m", "cProfile", "-o", str(profile_to), *sync] if profile_to else sync

    def measure(self, scenario: Scenario, source: CatalogueServer, profile_to: Path | None = None) -> dict[str, Any]:
        """One `harvester sync` of the scenario, from the state store and target as they are."""
        config = write_config(self.job, source.url, self.target.url, scenario.writers,
                              self.mapping_tables(scenario))
        source_before, target_before = source.stats(), self.target.stats()
        cpu_before = source.cpu_seconds(), self.target.cpu_seconds()
        run = run_watched(self.command(config, profile_to), self.job, self.env)
        cpu_after = source.cpu_seconds(), self.target.cpu_seconds()
        source_after, target_after = source.stats(), self.target.stats()
        stdout = run.pop("stdout")
        if run["exit_code"] in (0, 1):
            run.pop("stderr_tail")
        run.update(
            source_requests=source_after["requests"] - source_before["requests"],
            target_requests=target_after["requests"] - target_before["requests"],
            target_writes=target_after["writes"] - target_before["writes"],
            target_refused=target_after["refused"] - target_before["refused"],
            target_actions={action: count - target_before["actions"].get(action, 0)
                            for action, count in target_after["actions"].items()
                            if count > target_before["actions"].get(action, 0)},
            source_cpu_s=round(cpu_after[0] - cpu_before[0], 3),
            target_cpu_s=round(cpu_after[1] - cpu_before[1], 3),
            stdout_lines=len(stdout.splitlines()),
            **newest_report_sizes(self.job / "state" / "reports"),
        )
        counts = last_run_counts(self.job / STATE)
        run["counts"] = counts.get("sync", {})
        run["stages"] = {k[len("stage_"):]: v for k, v in counts.items() if k.startswith("stage_")}
        run["floor_s"] = round(floor_seconds(scenario, self.delay, run["source_requests"],
                                             run["target_requests"], run["target_writes"]), 3)
        run["ratio"] = round(run["wall_s"] / run["floor_s"], 2) if run["floor_s"] > 0 else None
        return run

    def scenario_runs(self, scenario: Scenario) -> list[dict[str, Any]]:
        """`repeat` runs of a scenario, each from its starting point."""
        if not scenario.publication:
            self.ensure_baseline()
        runs = []
        with self.source_for(scenario) as source:
            for _ in range(self.repeat):
                self.start_from(scenario)
                runs.append(self.measure(scenario, source))
        if scenario.publication and not self.has_baseline:
            self.keep_baseline()
        return runs

    def profile(self, scenario: Scenario, folder: Path) -> dict[str, Any]:
        """One run of the scenario under cProfile: its figures and the top entries by cumulative time."""
        if not scenario.publication:
            self.ensure_baseline()
        out = folder / "harvester.prof"
        with self.source_for(scenario) as source:
            self.start_from(scenario)
            run = self.measure(scenario, source, profile_to=out)
        if self.profile_copy is not None:
            shutil.copyfile(out, self.profile_copy)
        return {"run": run, "profile": top_entries(out), "harvester_profile": top_entries(out, HARVESTER_DIR)}


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def top_entries(profile: Path, within: Path | None = None) -> str:
    """pstats' table of the PROFILE_LINES entries with the most cumulative time (only those in
    modules below `within`, when given)."""
    text = io.StringIO()
    stats = pstats.Stats(str(profile), stream=text).sort_stats("cumulative")
    restrictions: list[Any] = [re.escape(str(within) + os.sep)] if within else []
    stats.print_stats(*restrictions, PROFILE_LINES)
    return text.getvalue()


# --- figures --------------------------------------------------------------------------------


def median(values: list[Any]) -> Any:
    """The (upper) median of the values that are not None; None when there are none."""
    present = sorted(v for v in values if v is not None)
    return present[len(present) // 2] if present else None


def summarise(scenario: Scenario, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A scenario's median figures, its runs' exit codes and counts, and every run."""
    middle = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    return {"what": scenario.what, "writers": scenario.writers,
            "median": {figure: median([run[figure] for run in runs]) for figure in FIGURES},
            "exit_codes": [run["exit_code"] for run in runs],
            "counts": middle["counts"], "stages": middle["stages"], "runs": runs}


def run_benchmark(n: int, *, delay: float, repeat: int, scenarios: list[str], seed: int = catalogue.SEED,
                  invalid_share: float = 0.05, harvester: str | None = None,
                  profile: str | None = None, kept: Path | None = None,
                  profile_copy: Path | None = None) -> dict[str, Any]:
    """The whole benchmark (or, with `profile`, one profiled run of that scenario)."""
    compile_bytecode()
    result: dict[str, Any] = {"datasets": n, "delay_s": delay, "repeat": repeat, "seed": seed,
                              "invalid_share": invalid_share, "harvester": str(harvester_script(harvester)),
                              "changed": len(range(0, n, CHANGED_EVERY)), "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="harvester-job-bench-") as folder, \
            Bench(Path(folder), n, delay, repeat, seed, invalid_share, harvester, kept) as bench:
        bench.profile_copy = profile_copy
        if profile:
            result["profiled"] = {"scenario": profile, **bench.profile(SCENARIOS[profile], Path(folder))}
            return result
        chosen = [name for name in SCENARIOS if name in scenarios]  # publications first
        result["scenarios"] = {name: summarise(SCENARIOS[name], bench.scenario_runs(SCENARIOS[name]))
                               for name in chosen}
    return result


def _counts_text(counts: dict[str, Any]) -> str:
    keys = (("created", "+"), ("updated", "~"), ("unchanged", "="), ("invalid", "!"), ("failed", "x"))
    return " ".join(f"{mark}{counts[key]}" for key, mark in keys if counts.get(key))


def _cell(value: Any, scale: float = 1.0, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value / scale:.{digits}f}" if scale != 1.0 or isinstance(value, float) else str(value)


def table_lines(result: dict[str, Any]) -> list[str]:
    """The result as a table: a row per scenario, the medians of its runs."""
    head = (f"harvester sync, {result['datasets']} datasets, delay {result['delay_s']} s a request, "
            f"median of {result['repeat']} run(s)")
    columns = ("scenario", "wall s", "cpu s", "tgt cpu s", "floor s", "ratio", "RSS MiB", "src req", "tgt req", "writes",
               "json MiB", "html MiB", "stdout", "exit", "outcome (+created ~updated =unchanged !invalid)")
    rows = [columns]
    for name, scenario in result["scenarios"].items():
        m = scenario["median"]
        rows.append((name, _cell(m["wall_s"]), _cell(m["cpu_s"]), _cell(m["target_cpu_s"]), _cell(m["floor_s"]), _cell(m["ratio"], digits=2),
                     _cell(m["peak_rss_mib"]), _cell(m["source_requests"]), _cell(m["target_requests"]),
                     _cell(m["target_writes"]), _cell(m["report_json_bytes"], 2**20, 2),
                     _cell(m["report_html_bytes"], 2**20, 2), _cell(m["stdout_lines"]),
                     ",".join(map(str, scenario["exit_codes"])), _counts_text(scenario["counts"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = [head, ""]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) if i in (0, len(columns) - 1) else cell.rjust(width)
                               for i, (cell, width) in enumerate(zip(row, widths))).rstrip())
    return lines


def profile_lines(result: dict[str, Any]) -> list[str]:
    profiled = result["profiled"]
    run = profiled["run"]
    return [f"profile of {profiled['scenario']} ({result['datasets']} datasets, delay {result['delay_s']} s): "
            f"{run['wall_s']} s under cProfile, floor {run['floor_s']} s, {run['target_writes']} writes",
            profiled["profile"], "the same, in the harvester's own modules only:",
            profiled["harvester_profile"]]


def _scenario_names(values: list[str]) -> list[str]:
    names = [name for value in values for name in value.split(",") if name]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown scenario(s) {', '.join(unknown)}; "
                                         f"choose from {', '.join(SCENARIOS)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, required=True, help="catalogue size N")
    parser.add_argument("--delay", type=float, default=0.05,
                        help="seconds each server waits before answering a request (default 0.05)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS),
                        help=f"which, separated by commas or spaces (default all: {','.join(SCENARIOS)})")
    parser.add_argument("--profile", choices=list(SCENARIOS),
                        help="run this scenario once under cProfile and print the top entries")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--seed", type=int, default=catalogue.SEED)
    parser.add_argument("--invalid-share", type=float, default=0.05)
    parser.add_argument("--harvester", metavar="PATH",
                        help="the harvester command to measure (default: the one beside this Python)")
    parser.add_argument("--keep-baseline", metavar="DIR", type=Path,
                        help="keep the unmeasured set-up publication in DIR and start from it in a later "
                             "run of the same N, seed and harvester (for iterating; delete DIR when the "
                             "code changes what the state store holds)")
    parser.add_argument("--profile-out", metavar="FILE", type=Path,
                        help="with --profile: keep the cProfile data in FILE (for pstats)")
    args = parser.parse_args(argv)
    if args.datasets < 1 or args.repeat < 1 or args.delay < 0:
        parser.error("--datasets and --repeat must be at least 1, --delay at least 0")
    try:
        scenarios = _scenario_names(args.scenarios)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    result = run_benchmark(args.datasets, delay=args.delay, repeat=args.repeat, scenarios=scenarios,
                           seed=args.seed, invalid_share=args.invalid_share,
                           harvester=args.harvester, profile=args.profile, kept=args.keep_baseline,
                           profile_copy=args.profile_out)
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print("\n".join(profile_lines(result) if args.profile else table_lines(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
