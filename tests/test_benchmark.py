"""The benchmark (benchmarks/pipeline.py) runs, at a small N, so that it cannot rot.

Only what the benchmark counts is checked (every dataset seen, the no-change sync maps and
validates nothing and writes nothing, one create call per created dataset); its timings are
reported, never asserted.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_and_reports_every_stage() -> None:
    n = 60
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pipeline.py"), "--datasets", str(n), "--json",
         "--naive-max", "30", "--writers", "2", "--repeat", "2"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[0])
    assert lines[-1].startswith("ratio ours/naive: ")
    assert abs(float(lines[-1].split(": ")[1]) - result["ratio"]) < 0.1 and result["ratio"] > 0

    first = result["previous_run"]
    assert first["create_calls"] == first["plan"]["create"] > 0
    assert first["plan"]["create"] + first["plan"]["invalid"] == n
    assert first["applied"] == {"done": first["plan"]["create"], "failed": 0}

    measured = result["measured_run"]
    assert measured["datasets"] == n
    assert measured["counters"] == {"mapped": n, "validated": n, "reused": 0}
    assert measured["changed_at_source"] == result["changed"] > 0
    assert measured["plan"]["update"] > 0 and measured["plan"]["create"] == 0
    assert measured["applied"] == {"done": measured["plan"]["update"], "failed": 0}
    assert measured["target_writes"] == measured["plan"]["update"]
    assert sum(measured["streaming_plan"].values()) == n
    # two end-to-end runs, each planning the same; the rate is the slower one's (the median of 2)
    assert len(measured["streaming_runs"]) == 2
    assert measured["streaming_seconds"] == max(measured["streaming_runs"])
    assert abs(result["rates"]["end_to_end"] - n / max(measured["streaming_runs"])) < 1e-6
    for stage in ("read", "map", "validate", "target", "store"):
        assert measured["stage_seconds"][stage] >= 0
    assert measured["end_to_end_peak_rss_mib"] > 0

    quiet = result["no_change_sync"]
    assert quiet["datasets"] == n
    assert len(quiet["runs"]) == 2 and quiet["seconds"] == max(quiet["runs"])
    assert quiet["counters"] == {"mapped": 0, "validated": 0, "reused": n}
    assert quiet["planned_writes"] == 0 and quiet["target_writes"] == 0
    assert quiet["target_unchanged"] is True
    assert quiet["changed_at_source"] == 0
    # package_search pages + the context (organisation, groups, licences)
    assert quiet["source_requests"] >= math.ceil(n / 1000)

    assert result["naive"]["datasets"] == 30
    # the rounds of end to end + no-change, half before the naive chain and half after
    assert [phase for phase, _ in result["schedule"]] == [
        "previous run", "measured run", "end to end", "no-change sync", "naive chain",
        "end to end", "no-change sync"]
    starts = [start for _, start in result["schedule"]]
    assert starts == sorted(starts)
    for name in ("map", "validate", "to_target", "plan", "end_to_end", "no_change_sync", "naive"):
        assert result["rates"][name] > 0
    assert result["machine"]["cores"] >= 1


def test_the_generated_catalogue_is_deterministic() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks import catalogue

    assert catalogue.generate(25) == catalogue.generate(25)
    assert catalogue.package(7) == catalogue.generate(10)["packages"][7]
    assert catalogue.package_id(7) == catalogue.package(7)["id"]
    broken = [p for p in catalogue.packages(400)
              if any(e["key"] == "benchmark_break" for e in p["extras"])]
    assert 5 <= len(broken) <= 40
    assert all(len(p["resources"]) == 3 for p in catalogue.packages(20))


def test_a_repeated_phase_is_reported_by_its_median_run() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.pipeline import median_run

    runs = [{"seconds": 4.1, "id": "a"}, {"seconds": 3.2, "id": "b"}, {"seconds": 5.0, "id": "c"}]
    assert median_run(runs)["id"] == "a"
    assert median_run(runs[:2])["id"] == "a"  # of two, the slower
    assert median_run(runs[1:2])["id"] == "b"
