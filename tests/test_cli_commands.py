"""Every command of `harvester` on the bundled example: each leaves with the exit code the README's
"Exit codes" table gives for what happened, and none prints a traceback.

The commands run in order on one copy of examples/ (without its state/ folder), as an operator
would: harvest, look, validate, export, plan, sync, list the runs, read the report; then the
failures each code stands for. They run twice: in this process through click's test runner, and
as the installed `harvester` console script from another working directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.namespace import DCAT, RDF

from harvester.cli import main
from harvester.errors import ExitCode
from harvester.store.lock import StateLock
from tests.conftest import REPO

DATASETS = 57  # in the bundled DUO snapshot


@dataclass
class Ran:
    """What one command did: its exit code and what it printed."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Example:
    """A copy of examples/ and what ran on it, by step."""

    config: Path
    folder: Path
    ran: dict[str, Ran]


def in_process(config: Path, args: list[str], cwd: Path) -> Ran:
    """The command in this process; an exception it let out is shown as the traceback it would print."""
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return Ran(result.exit_code, result.stdout, stderr)


def entry_point(config: Path, args: list[str], cwd: Path) -> Ran:
    """The console script pip installed, run from `cwd`, with the package found as installed."""
    script = Path(sys.executable).parent / "harvester"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.run([str(script), "--config", str(config), *args], cwd=cwd, env=env,
                             capture_output=True, text=True, timeout=600, check=False)
    return Ran(process.returncode, process.stdout, process.stderr)


def datasets_in(data: str, fmt: str) -> int:
    return len(set(Graph().parse(data=data, format=fmt).subjects(RDF.type, DCAT.Dataset)))


def row(name: str, value: object) -> str:
    """The regular expression of one `label  value` row of a summary table."""
    return rf"(?m)^{re.escape(name)}\s+{re.escape(str(value))}$"


def _harvest(ran: Ran, folder: Path) -> None:
    assert re.search(row("seen", DATASETS), ran.stdout) and re.search(row("new", DATASETS), ran.stdout)


def _status(ran: Ran, folder: Path) -> None:
    assert f"{DATASETS} at the source, 0 gone at the source" in ran.stdout


def _validate_text(ran: Ran, folder: Path) -> None:
    assert f"{DATASETS} valid, 0 invalid of {DATASETS} datasets" in ran.stdout


def _validate_json(ran: Ran, folder: Path) -> None:
    outcome = json.loads(ran.stdout)
    assert (outcome["total"], outcome["valid"], outcome["invalid"]) == (DATASETS, DATASETS, 0)
    assert outcome["catalogue"]["conforms"] is True


def _export(fmt: str) -> Callable[[Ran, Path], None]:
    def check(ran: Ran, folder: Path) -> None:
        assert datasets_in(ran.stdout, fmt) == DATASETS

    return check


#: the first line of a planned action: what, the dataset's name, its identifier
ACTION = r"(?m)^create {5}\S+  https://onderwijsdata\.duo\.nl/dataset/"


def _plan_shown(ran: Ran, folder: Path) -> None:
    """The actions, field by field, then the note and the counts."""
    assert len(re.findall(ACTION, ran.stdout)) == DATASETS
    assert re.search(r"(?m)^    \+ title: ", ran.stdout)
    assert "note: no target configured" in ran.stdout and re.search(row("create", DATASETS), ran.stdout)


def _plan_quiet(ran: Ran, folder: Path) -> None:
    """Only the counts."""
    assert re.search(row("create", DATASETS), ran.stdout)
    assert not re.search(ACTION, ran.stdout) and "note:" not in ran.stdout


def _plan_out(ran: Ran, folder: Path) -> None:
    _plan_shown(ran, folder)
    written = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert written["dry_run"] is True and written["counts"]["create"] == DATASETS
    assert all(action["package"] for action in written["actions"])


def _plan_json(ran: Ran, folder: Path) -> None:
    plan = json.loads(ran.stdout)
    assert plan["counts"]["create"] == DATASETS
    assert all(action["findings"] is not None and action["title"] for action in plan["actions"])


def _sync_dry_run(ran: Ran, folder: Path) -> None:
    assert re.search(row("outcome", "success"), ran.stdout) and re.search(row("create", DATASETS), ran.stdout)
    assert (folder / "state" / "reports" / "run-2.json").is_file()


def _runs(ran: Ran, folder: Path) -> None:
    assert [line.split()[1] for line in ran.stdout.splitlines()] == ["sync", "harvest"]


def _report_text(ran: Ran, folder: Path) -> None:
    assert str(DATASETS) in ran.stdout


def _report_json(ran: Ran, folder: Path) -> None:
    report = json.loads(ran.stdout)
    assert report["run_id"] == 2 and report["planned"]["create"] == DATASETS


def _report_html(ran: Ran, folder: Path) -> None:
    assert ran.stdout.lstrip().lower().startswith("<!doctype html")


def _says(text: str) -> Callable[[Ran, Path], None]:
    def check(ran: Ran, folder: Path) -> None:
        assert text in ran.output

    return check


@dataclass
class Step:
    """A command, the exit code the README's table gives for its situation, and what it must show."""

    name: str
    args: list[str]
    code: ExitCode
    check: Callable[[Ran, Path], None]
    locked: bool = False


# in order: the sync is run 2 (after the harvest, run 1)
STEPS = [
    Step("harvest", ["harvest"], ExitCode.OK, _harvest),
    Step("status", ["status"], ExitCode.OK, _status),
    Step("validate", ["validate"], ExitCode.OK, _validate_text),
    Step("validate-json", ["validate", "--format", "json"], ExitCode.OK, _validate_json),
    Step("export-turtle", ["export", "--format", "turtle"], ExitCode.OK, _export("turtle")),
    Step("export-json-ld", ["export", "--format", "json-ld"], ExitCode.OK, _export("json-ld")),
    Step("export-xml", ["export", "--format", "xml"], ExitCode.OK, _export("xml")),
    Step("plan", ["plan"], ExitCode.OK, _plan_shown),
    Step("plan-quiet", ["-q", "plan"], ExitCode.OK, _plan_quiet),
    Step("plan-out", ["plan", "--plan-out", "{folder}/plan.json"], ExitCode.OK, _plan_out),
    Step("plan-json", ["--json", "plan"], ExitCode.OK, _plan_json),
    Step("sync-dry-run", ["sync", "--dry-run"], ExitCode.OK, _sync_dry_run),
    Step("runs", ["runs"], ExitCode.OK, _runs),
    Step("report-text", ["report", "2"], ExitCode.OK, _report_text),
    Step("report-json", ["report", "2", "--format", "json"], ExitCode.OK, _report_json),
    Step("report-html", ["report", "2", "--format", "html"], ExitCode.OK, _report_html),
    # what each other code stands for
    Step("report-of-no-run", ["report", "999"], ExitCode.RUN_FAILED, _says("no report for run 999")),
    Step("validate-nothing-harvested", ["--state", "{folder}/empty.sqlite", "validate"], ExitCode.RUN_FAILED,
         _says("run `harvester harvest` first")),
    Step("plan-nothing-harvested", ["--state", "{folder}/empty.sqlite", "plan"], ExitCode.CONFIG,
         _says("run `harvester harvest` first")),
    Step("sync-without-target", ["sync"], ExitCode.CONFIG, _says("no target configured")),
    Step("unknown-source", ["export", "--source", "elders"], ExitCode.CONFIG, _says("no source named 'elders'")),
    Step("unknown-option", ["plan", "--no-such-option"], ExitCode.USAGE, _says("No such option")),
    Step("harvest-while-locked", ["harvest"], ExitCode.LOCKED, _says("another run holds the lock"), locked=True),
]


def run_steps(tmp_path: Path, run: Callable[[Path, list[str], Path], Ran]) -> Example:
    folder = tmp_path / "examples"
    shutil.copytree(REPO / "examples", folder, ignore=shutil.ignore_patterns("state"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = folder / "duo-offline.toml"
    ran = {}
    for step in STEPS:
        args = [arg.replace("{folder}", str(folder)) for arg in step.args]
        if step.locked:
            with StateLock(folder / "state" / "harvester.sqlite"):
                ran[step.name] = run(config, args, elsewhere)
        else:
            ran[step.name] = run(config, args, elsewhere)
    return Example(config, folder, ran)


@pytest.fixture(scope="module", params=[in_process, entry_point], ids=["in-process", "entry-point"])
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Example:
    return run_steps(tmp_path_factory.mktemp(request.param.__name__), request.param)


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_command(example: Example, step: Step) -> None:
    ran = example.ran[step.name]
    assert "Traceback" not in ran.output, ran.output
    assert ran.code == step.code, ran.output
    step.check(ran, example.folder)


def test_the_entry_point_is_the_installed_console_script() -> None:
    script = Path(sys.executable).parent / "harvester"
    assert script.is_file(), f"{script}: install the package (pip install -e .) for its console script"
    assert "harvester.cli" in script.read_text(encoding="utf-8")


def readme_exit_codes() -> dict[int, str]:
    """The README's "Exit codes" table: code -> meaning."""
    text = REPO.joinpath("README.md").read_text(encoding="utf-8")
    after = text.split("Exit codes, for schedulers:", 1)[1].lstrip("\n")
    table = after.split("\n\n", 1)[0]
    return {int(code): meaning for code, meaning in re.findall(r"(?m)^\| (\d+) \| (.+) \|$", table)}


def test_the_readme_table_gives_each_exit_code_its_meaning() -> None:
    table = readme_exit_codes()
    assert sorted(table) == sorted(int(code) for code in ExitCode)
    words = {ExitCode.OK: "everything applied", ExitCode.DATASETS: "invalid", ExitCode.USAGE: "usage error",
             ExitCode.RUN_FAILED: "run itself failed", ExitCode.CONFIG: "configuration error",
             ExitCode.LOCKED: "holds the lock"}
    for code, words_of_it in words.items():
        assert words_of_it in table[code], (code, table[code])
