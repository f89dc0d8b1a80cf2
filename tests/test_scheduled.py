"""The scheduled job: one run at a time, stale locks taken over, exit codes a scheduler can act on,
plain log lines off a terminal, --quiet and --json summaries, runs and reports."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from harvester.cli import main
from harvester.errors import ExitCode, LockedError
from harvester.store.lock import StateLock
from tests.conftest import REPO

SNAPSHOT = REPO / "examples" / "duo" / "duo-catalogue.json"
OFFLINE = REPO / "examples" / "duo-offline.toml"


def offline_config(tmp_path: Path, packages: list | None = None) -> Path:
    """A copy of the offline example with its own dump and state in tmp_path."""
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    if packages is not None:
        data["packages"] = packages
    (tmp_path / "duo.json").write_text(json.dumps(data), encoding="utf-8")
    text = OFFLINE.read_text(encoding="utf-8").replace('path = "duo/duo-catalogue.json"', 'path = "duo.json"')
    config = tmp_path / "harvester.toml"
    config.write_text(text, encoding="utf-8")
    return config


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harvester.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, timeout=timeout)


def test_a_second_run_on_the_same_state_exits_at_once_with_the_locked_code(tmp_path: Path) -> None:
    config = offline_config(tmp_path)
    state = tmp_path / "state" / "harvester.sqlite"
    with StateLock(state):
        started = time.monotonic()
        result = run_cli("--config", str(config), "sync", "--dry-run")
        assert time.monotonic() - started < 30
    assert result.returncode == ExitCode.LOCKED
    assert "another run holds the lock" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert not state.exists() or "runs" not in result.stdout


def test_a_sync_while_another_run_holds_the_lock_is_locked_out(tmp_path: Path) -> None:
    """A second run on the same state store exits at once with 5 while the first holds the lock,
    and runs once it is released. (The first is a process holding the lock as a sync does: a real
    sync of the bundled example may end before a second process has even started.)"""
    config = offline_config(tmp_path)
    state = tmp_path / "state" / "harvester.sqlite"
    state.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import sys; from harvester.store.lock import StateLock; "
                               f"held = StateLock({str(state)!r}).acquire(); print('locked', flush=True); "
                               "sys.stdin.readline()"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    args = [sys.executable, "-m", "harvester.cli", "--config", str(config), "sync", "--dry-run"]
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == ExitCode.LOCKED, second.stderr
        assert "another run holds the lock" in second.stderr and f"pid {holder.pid}" in second.stderr
    finally:
        holder.communicate("done\n", timeout=60)
    after = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert after.returncode == ExitCode.OK, after.stderr


def test_a_stale_lock_from_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import time; from harvester.store.lock import StateLock; held = StateLock({str(state)!r}).acquire(); "
                               "print('locked', flush=True); time.sleep(600)"],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(LockedError, match=f"pid {holder.pid}"):
        StateLock(state).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = StateLock(state).acquire()
    try:
        assert lock.stale is not None and lock.stale["pid"] == holder.pid
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    finally:
        lock.release()


def test_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "ok").mkdir()
    ok = offline_config(tmp_path / "ok")
    assert run_cli("--config", str(ok), "sync", "--dry-run").returncode == ExitCode.OK

    bad = tmp_path / "bad"
    bad.mkdir()
    packages = json.loads(SNAPSHOT.read_text())["packages"]
    packages[0] = {k: v for k, v in packages[0].items() if k not in ("license_url", "license_title")}
    packages[0]["license_id"] = "iets-onbekends"
    invalid = offline_config(bad, packages)
    result = run_cli("--config", str(invalid), "sync", "--dry-run")
    assert result.returncode == ExitCode.DATASETS, result.stderr

    broken = tmp_path / "broken"
    broken.mkdir()
    failing = offline_config(broken)
    (broken / "duo.json").write_text("{ not json")
    result = run_cli("--config", str(failing), "sync", "--dry-run")
    assert result.returncode == ExitCode.RUN_FAILED and "not valid JSON" in result.stdout + result.stderr

    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[sources.duo]\ntype = 'dump'\npath = 'x.json'\nspeed = 'fast'\n")
    result = run_cli("--config", str(wrong), "sync", "--dry-run")
    assert result.returncode == ExitCode.CONFIG and "unknown key 'speed'" in result.stderr

    result = run_cli("--config", str(ok), "sync")
    assert result.returncode == ExitCode.CONFIG and "no target configured" in result.stderr


def test_plain_log_lines_off_a_terminal_quiet_and_json(tmp_path: Path) -> None:
    config = offline_config(tmp_path)
    result = run_cli("--config", str(config), "sync", "--dry-run")
    assert result.returncode == ExitCode.OK
    for line in result.stderr.splitlines():
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING|ERROR) ", line), line
    assert "\r" not in result.stderr and "\x1b" not in result.stderr + result.stdout
    events = [line.split(" harvester.progress: ", 1)[1] for line in result.stderr.splitlines() if " harvester.progress: " in line]
    assert events == ["harvest: 57/57", "map+validate: 57/57", "plan: 57/57", "writing the report: 1/1"]
    quiet = run_cli("--config", str(config), "-q", "sync", "--dry-run")
    assert quiet.stderr == "" and "create" in quiet.stdout and "not on the target yet" not in quiet.stdout
    as_json = run_cli("--config", str(config), "--json", "sync", "--dry-run")
    summary = json.loads(as_json.stdout)
    assert summary["counts"]["unchanged"] == 0 and summary["counts"]["create"] == 57
    assert summary["harvest_mode"] == "full" and summary["dry_run"] is True


def test_runs_and_report_commands(tmp_path: Path) -> None:
    config = offline_config(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(config), "--json", "sync", "--dry-run"])
    run_id = json.loads(result.stdout)["run_id"]
    listed = runner.invoke(main, ["--config", str(config), "--json", "runs"])
    assert [r["id"] for r in json.loads(listed.stdout)] == [run_id]
    text = runner.invoke(main, ["--config", str(config), "report", str(run_id)])
    assert text.exit_code == 0 and "57" in text.stdout
    out = tmp_path / "r.html"
    html = runner.invoke(main, ["--config", str(config), "report", str(run_id), "--format", "html", "-o", str(out)])
    assert html.exit_code == 0 and out.read_text().lstrip().lower().startswith("<!doctype html")
    missing = runner.invoke(main, ["--config", str(config), "report", "999"])
    assert missing.exit_code == ExitCode.USAGE and "no report for run 999" in missing.output


def test_scheduled_runs_mostly_incremental_with_a_full_one_every_n(tmp_path: Path) -> None:
    config = offline_config(tmp_path)
    config.write_text(config.read_text().replace('url = "https://onderwijsdata.duo.nl"\n',
                                                 'url = "https://onderwijsdata.duo.nl"\nfull_every_runs = 3\n', 1))
    runner = CliRunner()
    modes = []
    for _ in range(4):
        result = runner.invoke(main, ["--config", str(config), "--json", "sync", "--dry-run"])
        modes.append(json.loads(result.stdout)["harvest_mode"])
    assert modes == ["full", "incremental", "incremental", "full"]


def test_the_report_of_a_real_sync_validates_against_the_shipped_schema(tmp_path: Path) -> None:
    import jsonschema

    config = offline_config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "sync", "--dry-run"])
    report = json.loads(Path(json.loads(result.stdout)["report_json"]).read_text(encoding="utf-8"))
    schema = json.loads((REPO / "harvester" / "report" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)
    assert report["planned"]["create"] == 57 and len(report["datasets"]) == 57
    assert all(d["quality"]["band"] in ("Excellent", "Good", "Sufficient", "Bad") for d in report["datasets"])
