"""Every command of `harvester` on the bundled example: each leaves with the exit code the README's
"Exit codes" table gives for what happened, and none prints a traceback.

The commands run in order on one copy of examples/ (without its state/ folder), as an operator
would: harvest, look, validate, export, plan, sync, list the runs, read the report; then the
failures each code stands for. They run twice: in this process through click's test runner, and
as the installed `harvester` console script from another working directory. The global options
are given before and after the command.

After the steps: no configuration anywhere, `init`, and a plan saved and applied against a local
data.overheid.nl (benchmarks/target_server.py), refused when stale.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from rdflib import Graph
from rdflib.namespace import DCAT, RDF

from harvester.cli import main
from harvester.errors import ExitCode
from harvester.store.lock import StateLock
from tests.conftest import REPO
from tests.faultproxy import Fault, FaultProxy

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


def _validate_file(ran: Ran, folder: Path) -> None:
    """The exported catalogue as a document: its line, then the summary."""
    assert re.search(rf"(?m)^{re.escape(str(folder / 'catalogue.jsonld'))}  \(JSON-LD, \d+ triples, \d+ node\(s\) "
                     r"judged\): voldoet / conforms; 0 violation\(s\)", ran.stdout)
    assert _last_line(ran) == "1 bestand, 1 voldoet, 0 voldoen niet / 1 file, 1 conforms, 0 do not"


def _validate_file_json(ran: Ran, folder: Path) -> None:
    outcome = json.loads(ran.stdout)
    assert outcome["conforms"] is True and outcome["files"] == outcome["conform"] == 1
    [document] = outcome["documents"]
    assert document["format"] == "json-ld" and document["counts"]["judged"] > DATASETS


#: a dataset's line in a plan: the symbol of a create, its name, how many resources it has
CREATE_LINE = r"(?m)^\+ \S+  \(new, \d+ resources?\)$"
LEGEND = "+ create  ~ update  - withdraw  ! needs a person"
SUMMARY = "Plan: 57 to create, 0 to update, 0 to withdraw; nothing needs a person."


def _last_line(ran: Ran) -> str:
    return ran.stdout.rstrip("\n").splitlines()[-1]


def _plan_shown(ran: Ran, folder: Path) -> None:
    """A legend, a line per dataset that would change, the notes said once, the summary last."""
    assert len(re.findall(CREATE_LINE, ran.stdout)) == DATASETS
    assert ran.stdout.startswith(LEGEND)
    assert "? no target configured" in ran.stdout and _last_line(ran) == SUMMARY
    notes = [line for line in ran.stdout.splitlines() if line.startswith("? ")]
    assert len(notes) == len(set(notes)) and any(line.endswith(f"({DATASETS} datasets)") for line in notes)
    assert "    + title: " not in ran.stdout  # field by field only with --diff
    assert len(ran.stdout.splitlines()) < DATASETS + 15


def _plan_quiet(ran: Ran, folder: Path) -> None:
    """Only the summary line."""
    assert ran.stdout == SUMMARY + "\n"


def _plan_diff(ran: Ran, folder: Path) -> None:
    assert len(re.findall(CREATE_LINE, ran.stdout)) == DATASETS
    assert len(re.findall(r"(?m)^      \+ title: ", ran.stdout)) == DATASETS and _last_line(ran) == SUMMARY


def _plan_show(ran: Ran, folder: Path) -> None:
    """One dataset in full: its line, why, its identifier, each field."""
    lines = ran.stdout.splitlines()
    assert lines[0] == "+ adressen_so  (new, 3 resources)" and "create: not on the target yet" in lines[1]
    assert re.search(r"(?m)^      \+ title: \"Adressen van instellingen", ran.stdout)
    assert len(re.findall(CREATE_LINE, ran.stdout)) == 1


def _saved_plan(name: str) -> Callable[[Ran, Path], None]:
    def check(ran: Ran, folder: Path) -> None:
        written = json.loads((folder / name).read_text(encoding="utf-8"))
        assert written["dry_run"] is True and written["counts"]["create"] == DATASETS
        assert all(action["package"] for action in written["actions"])
        basis = written["basis"]
        assert written["format"] == "dcat-ap-nl-harvester/plan/1" and basis["harvest_run"] == 1
        assert basis["target"] == {"name": None, "url": "offline:empty-target", "owner_org": "(none)"}
        assert len(basis["target_packages"]) == DATASETS
        assert all(held["id"] is None for held in basis["target_packages"].values())
        assert f"apply it with `harvester apply {folder / name}`" in ran.stdout and _last_line(ran) == SUMMARY

    return check


def _plan_json(ran: Ran, folder: Path) -> None:
    plan = json.loads(ran.stdout)
    assert plan["counts"]["create"] == DATASETS and plan["pending"] == DATASETS and plan["changes_pending"] is True
    assert all(action["findings"] is not None and action["title"] for action in plan["actions"])


def _sync_dry_run(ran: Ran, folder: Path) -> None:
    """The plan as `plan` shows it, the run in rows, the summary last: some 70 lines for 57 creates."""
    assert re.search(row("outcome", "success"), ran.stdout) and _last_line(ran) == SUMMARY
    assert len(re.findall(CREATE_LINE, ran.stdout)) == DATASETS and ran.stdout.startswith(LEGEND)
    assert DATASETS + 5 <= len(ran.stdout.splitlines()) <= DATASETS + 15
    assert (folder / "state" / "reports" / "run-2.json").is_file()


def _runs(ran: Ran, folder: Path) -> None:
    """Per run: id, start, kind, dry run or applied (a harvest: its mode), target, outcome, counts."""
    sync, harvest = (line.split("  ") for line in ran.stdout.splitlines())
    sync, harvest = [c.strip() for c in sync if c.strip()], [c.strip() for c in harvest if c.strip()]
    assert sync[0] == "#2" and sync[2:] == ["sync", "dry run", "offline:empty-target", "success",
                                              f"create {DATASETS}", "[duo]"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*Z", sync[1])
    assert harvest[0] == "#1" and harvest[2:5] == ["harvest", "full", "-"] and harvest[5] == "success"
    assert harvest[6].startswith(f"seen {DATASETS}, new {DATASETS}")


def _report_text(ran: Ran, folder: Path) -> None:
    assert str(DATASETS) in ran.stdout


def _report_json(ran: Ran, folder: Path) -> None:
    report = json.loads(ran.stdout)
    assert report["run_id"] == 2 and report["planned"]["create"] == DATASETS


def _report_json_full(ran: Ran, folder: Path) -> None:
    report = json.loads(ran.stdout)
    packages = [d["package"] for d in report["datasets"] if d.get("package")]
    assert len(packages) == DATASETS and all(p["fields"].get("identifier") for p in packages)


def _report_html(ran: Ran, folder: Path) -> None:
    assert ran.stdout.lstrip().lower().startswith("<!doctype html")


def _no_state_made(name: str, text: str) -> Callable[[Ran, Path], None]:
    """The command says there is no state store (and where it looked), and makes none."""
    def check(ran: Ran, folder: Path) -> None:
        assert text in ran.output and str(folder / name) in ran.output
        assert not (folder / name).exists() and not (folder / (name + ".lock")).exists()

    return check


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
    Step("export-to-file", ["export", "--format", "json-ld", "-o", "{folder}/catalogue.jsonld"], ExitCode.OK,
         _says("bytes to")),
    Step("validate-file", ["validate", "{folder}/catalogue.jsonld"], ExitCode.OK, _validate_file),
    Step("validate-file-json", ["--json", "validate", "{folder}/catalogue.jsonld"], ExitCode.OK, _validate_file_json),
    Step("plan", ["plan"], ExitCode.OK, _plan_shown),
    Step("plan-quiet", ["-q", "plan"], ExitCode.OK, _plan_quiet),
    Step("plan-quiet-after", ["plan", "-q"], ExitCode.OK, _plan_quiet),
    Step("plan-diff", ["plan", "--diff"], ExitCode.OK, _plan_diff),
    Step("plan-show", ["plan", "--show", "adressen_so"], ExitCode.OK, _plan_show),
    Step("plan-out", ["plan", "-q", "--out", "{folder}/plan.json"], ExitCode.OK, _saved_plan("plan.json")),
    Step("plan-plan-out", ["plan", "--plan-out", "{folder}/plan-2.json", "-q"], ExitCode.OK, _saved_plan("plan-2.json")),
    Step("plan-json", ["--json", "plan"], ExitCode.OK, _plan_json),
    Step("plan-json-after", ["plan", "--json"], ExitCode.OK, _plan_json),
    Step("plan-changes-pending", ["plan", "-q", "--detailed-exitcode"], ExitCode.CHANGES_PENDING, _plan_quiet),
    Step("sync-dry-run", ["sync", "--dry-run"], ExitCode.OK, _sync_dry_run),
    Step("runs", ["runs"], ExitCode.OK, _runs),
    Step("report-text", ["report", "2"], ExitCode.OK, _report_text),
    Step("report-json", ["report", "2", "--format", "json"], ExitCode.OK, _report_json),
    Step("report-json-full", ["report", "2", "--format", "json", "--full"], ExitCode.OK, _report_json_full),
    Step("report-html", ["report", "2", "--format", "html"], ExitCode.OK, _report_html),
    Step("report-full-not-json", ["report", "2", "--full"], ExitCode.USAGE, _says("--full goes with --format json")),
    # what each other code stands for
    Step("report-of-no-run", ["report", "999"], ExitCode.USAGE, _says("no report for run 999")),
    Step("plan-show-of-no-dataset", ["plan", "--show", "elders"], ExitCode.USAGE, _says("no dataset 'elders' in the plan")),
    Step("status-nothing-harvested", ["--state", "{folder}/empty.sqlite", "status"], ExitCode.OK,
         _no_state_made("empty.sqlite", "no state store at")),
    Step("runs-nothing-harvested", ["runs", "--state", "{folder}/empty.sqlite"], ExitCode.OK,
         _no_state_made("empty.sqlite", "no state store there")),
    Step("validate-nothing-harvested", ["--state", "{folder}/empty.sqlite", "validate"], ExitCode.USAGE,
         _no_state_made("empty.sqlite", "run `harvester harvest`")),
    Step("plan-nothing-harvested", ["plan", "--state", "{folder}/empty.sqlite"], ExitCode.USAGE,
         _no_state_made("empty.sqlite", "nothing harvested yet")),
    Step("export-nothing-harvested", ["--state", "{folder}/empty.sqlite", "export"], ExitCode.USAGE,
         _no_state_made("empty.sqlite", "no state store at")),
    Step("report-nothing-harvested", ["--state", "{folder}/empty.sqlite", "report", "1"], ExitCode.USAGE,
         _no_state_made("empty.sqlite", "no state store at")),
    Step("sync-without-target", ["sync"], ExitCode.CONFIG, _says("no target configured")),
    Step("unknown-source", ["export", "--source", "elders"], ExitCode.CONFIG, _says("no source named 'elders'")),
    Step("unknown-option", ["plan", "--no-such-option"], ExitCode.USAGE, _says("No such option")),
    Step("full-and-incremental", ["harvest", "--full", "--incremental"], ExitCode.USAGE,
         _says("give --full or --incremental, not both")),
    Step("sync-full-and-incremental", ["sync", "--dry-run", "--incremental", "--full"], ExitCode.USAGE,
         _says("give --full or --incremental, not both")),
    Step("target-url-without-owner-org", ["plan", "--target-url", "http://127.0.0.1:9"], ExitCode.USAGE,
         _says("--target-url needs --owner-org")),
    Step("target-and-target-url", ["sync", "--target", "t", "--target-url", "http://x", "--owner-org", "o"],
         ExitCode.USAGE, _says("give --target or --target-url, not both")),
    Step("validate-missing-file", ["validate", "{folder}/nowhere.ttl"], ExitCode.USAGE,
         _says("nowhere.ttl: bestand niet gevonden / no such file")),
    Step("validate-unparsable-file", ["validate", "--input-format", "turtle", "{folder}/duo-offline.toml"],
         ExitCode.USAGE, _says("duo-offline.toml:6:1: geen geldige Turtle / not valid Turtle")),
    Step("apply-without-plan-file", ["apply", "{folder}/no-plan.json"], ExitCode.USAGE, _says("no such plan file")),
    Step("apply-offline-plan", ["apply", "{folder}/plan.json"], ExitCode.USAGE, _says("planned against no target")),
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
    after = text.split("### Exit codes, for schedulers and scripts", 1)[1].lstrip("\n")
    table = after.split("\n\n", 1)[0]
    return {int(code): meaning for code, meaning in re.findall(r"(?m)^\| (\d+) \| (.+) \|$", table)}


def test_the_readme_table_gives_each_exit_code_its_meaning() -> None:
    table = readme_exit_codes()
    assert sorted(table) == sorted(int(code) for code in ExitCode)
    words = {ExitCode.OK: "everything applied", ExitCode.DATASETS: "invalid", ExitCode.USAGE: "usage error",
             ExitCode.RUN_FAILED: "run itself failed", ExitCode.CONFIG: "configuration error",
             ExitCode.LOCKED: "holds the lock", ExitCode.CHANGES_PENDING: "changes pending"}
    for code, words_of_it in words.items():
        assert words_of_it in table[code], (code, table[code])


# --- no configuration; a starting one ------------------------------------------------------------


def test_without_any_configuration_it_says_where_it_looked_and_how_to_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARVESTER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    for args in (["status"], ["plan"], ["sync", "--dry-run"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == ExitCode.CONFIG, result.output
        assert "no configuration file found" in result.stderr and "harvester init" in result.stderr
        assert "--config" in result.stderr and "$HARVESTER_CONFIG" in result.stderr
        assert str(tmp_path / "harvester.toml") in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_init_writes_a_starting_configuration_that_loads_and_never_overwrites(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harvester.config import load_config

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "--source-url", "https://data.example.org/",
                                       "--organization", "afdeling", "--owner-org", "mijn-org"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "harvester.toml"
    config = load_config(written)
    [source] = config.sources.values()
    assert (source.url, source.organization, source.type) == ("https://data.example.org", "afdeling", "ckan")
    assert set(config.targets) == {"test", "production"}
    test, production = config.targets["test"], config.targets["production"]
    assert test.url == "https://test.data.overheid.nl/data" and production.url == "https://data.overheid.nl/data"
    assert (test.api_key_env, production.api_key_env) == ("DONL_TEST_API_KEY", "DONL_API_KEY")
    assert test.owner_org == production.owner_org == "mijn-org" and production.production and not test.production
    assert config.target(None) is test
    text = written.read_text(encoding="utf-8")
    assert text.count("\n# ") > 10 and "api_key = " not in text

    before = written.read_bytes()
    again = CliRunner().invoke(main, ["init"])
    assert again.exit_code == ExitCode.CONFIG and "already exists" in again.stderr
    assert written.read_bytes() == before
    other = CliRunner().invoke(main, ["init", "-o", str(tmp_path / "other.toml")])
    assert other.exit_code == 0 and load_config(tmp_path / "other.toml").source(None).url == "https://onderwijsdata.duo.nl"


def test_global_options_go_before_or_after_the_command(tmp_path: Path) -> None:
    folder = tmp_path / "examples"
    shutil.copytree(REPO / "examples", folder, ignore=shutil.ignore_patterns("state"))
    config = str(folder / "duo-offline.toml")
    runner = CliRunner()
    after = runner.invoke(main, ["sync", "--dry-run", "-q", "--json", "--config", config])
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["counts"]["create"] == DATASETS
    state = str(tmp_path / "elsewhere.sqlite")
    before = runner.invoke(main, ["--config", config, "--state", state, "-q", "harvest"])
    mixed = runner.invoke(main, ["--config", config, "status", "--state", state, "--json"])
    assert before.exit_code == mixed.exit_code == 0, mixed.output
    assert json.loads(mixed.stdout)["state"] == state


# --- a saved plan, applied -------------------------------------------------------------------------


class Target:
    """The bundled example against a local data.overheid.nl (benchmarks/target_server.py)."""

    def __init__(self, tmp_path: Path, server: object, monkeypatch: pytest.MonkeyPatch) -> None:
        from benchmarks.target_server import API_KEY, ORGANISATION

        self.server = server
        self.folder = tmp_path / "examples"
        shutil.copytree(REPO / "examples", self.folder, ignore=shutil.ignore_patterns("state"))
        self.config = self.folder / "duo-offline.toml"
        self.config.write_text(self.config.read_text(encoding="utf-8").replace(
            "# How DUO", f'[targets.test]\nurl = "{server.url}"\napi_key_env = "LOCAL_TARGET_KEY"\n'  # type: ignore[attr-defined]
                         f'owner_org = "{ORGANISATION}"\nretries = 0\n\n# How DUO', 1), encoding="utf-8")
        monkeypatch.setenv("LOCAL_TARGET_KEY", API_KEY)
        self.api_key = API_KEY

    def run(self, *args: str) -> Ran:
        return in_process(self.config, list(args), self.folder)

    def action(self, action: str, **data: object) -> dict:
        answer = requests.post(f"{self.server.url}/api/3/action/{action}", json=data,  # type: ignore[attr-defined]
                               headers={"Authorization": self.api_key}, timeout=10)
        return answer.json()["result"]


@pytest.fixture()
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    from benchmarks.target_server import TargetServer

    with TargetServer() as server:
        yield Target(tmp_path, server, monkeypatch)


def test_a_saved_plan_is_applied_exactly_and_a_stale_one_is_refused(target: Target) -> None:
    assert target.run("harvest").code == 0
    planned = target.run("plan", "--out", str(target.folder / "plan.json"), "--detailed-exitcode", "-q")
    assert planned.code == ExitCode.CHANGES_PENDING, planned.output
    saved = json.loads((target.folder / "plan.json").read_text(encoding="utf-8"))
    creates = {a["identifier"]: a["name"] for a in saved["actions"] if a["action"] == "create"}
    assert len(creates) == DATASETS and saved["basis"]["target"]["name"] == "test"

    applied = target.run("--json", "apply", str(target.folder / "plan.json"))
    assert applied.code == 0, applied.output
    summary = json.loads(applied.stdout)
    assert summary["counts"]["created"] == DATASETS and summary["dry_run"] is False
    on_target = target.action("package_search", q="*:*", rows=1000)["results"]
    assert {p["identifier"]: p["name"] for p in on_target} == creates
    assert target.server.stats()["writes_by_action"] == {  # type: ignore[attr-defined]
        "package_create": DATASETS, "package_update": 0, "package_delete": 0}

    nothing = target.run("plan", "--detailed-exitcode")
    assert nothing.code == 0 and nothing.stdout.rstrip().endswith(
        f"Plan: 0 to create, 0 to update, 0 to withdraw ({DATASETS} unchanged); nothing needs a person.")
    assert not [line for line in nothing.stdout.splitlines() if line[:2] in ("= ", "+ ", "~ ", "- ")]
    verbose = target.run("plan", "-v")  # the unchanged datasets only when asked
    assert len([line for line in verbose.stdout.splitlines() if line.startswith("= ")]) == DATASETS
    again = target.run("apply", str(target.folder / "plan.json"))
    assert again.code == ExitCode.RUN_FAILED and "the plan is stale" in again.stderr
    assert f"{DATASETS} planned dataset(s) changed on the target" in again.stderr
    listed = target.run("runs")
    assert re.search(rf"(?m)^#2 .* apply +applied +{re.escape(target.server.url)} +success +created {DATASETS}",  # type: ignore[attr-defined]
                     listed.stdout), listed.stdout

    # an update planned, then the dataset edited on the target before the plan is applied
    dump = target.folder / "duo" / "duo-catalogue.json"
    data = json.loads(dump.read_text(encoding="utf-8"))
    data["packages"][0]["title"] = "Een nieuwe titel"
    dump.write_text(json.dumps(data), encoding="utf-8")
    assert target.run("harvest").code == 0
    update = target.run("plan", "--out", str(target.folder / "update.json"))
    [line] = [line for line in update.stdout.splitlines() if line.startswith("~ ")]
    assert re.fullmatch(r"~ \S+  \(.*title.*\)", line), update.stdout
    name = line.split()[1]
    edited = {**target.action("package_show", id=name), "notes": "Bewerkt op het doel"}
    target.action("package_update", **edited)
    stale = target.run("apply", str(target.folder / "update.json"))
    assert stale.code == ExitCode.RUN_FAILED and "1 planned dataset(s) changed on the target" in stale.stderr
    assert name in stale.stderr
    assert target.server.stats()["writes_by_action"]["package_update"] == 1  # type: ignore[attr-defined] # the edit


def test_a_saved_plan_is_refused_after_a_new_harvest_or_other_mapping_tables(target: Target) -> None:
    assert target.run("harvest").code == 0
    plan_file = str(target.folder / "plan.json")
    assert target.run("plan", "--out", plan_file).code == 0
    assert target.run("harvest").code == 0
    newer = target.run("apply", plan_file)
    assert newer.code == ExitCode.RUN_FAILED and "harvested again since the plan (run 2; the plan is of run 1)" in newer.stderr

    assert target.run("plan", "--out", plan_file).code == 0
    target.config.write_text(target.config.read_text(encoding="utf-8").replace(
        'contact_name = "DUO Informatieproducten"', 'contact_name = "DUO"'), encoding="utf-8")
    changed = target.run("apply", plan_file)
    assert changed.code == ExitCode.RUN_FAILED and "mapping tables, shapes, mapping options" in changed.stderr
    assert target.server.stats()["writes"] == 0  # type: ignore[attr-defined]


def test_a_dead_target_is_named_as_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "examples"
    shutil.copytree(REPO / "examples", folder, ignore=shutil.ignore_patterns("state"))
    config = folder / "duo-offline.toml"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config.write_text(config.read_text(encoding="utf-8").replace(
        "# How DUO", f'[targets.test]\nurl = "http://127.0.0.1:{port}"\nowner_org = "o"\nretries = 0\n\n# How DUO', 1),
        encoding="utf-8")
    ran = in_process(config, ["--json", "sync", "--dry-run"], folder)
    assert ran.code == ExitCode.RUN_FAILED, ran.output
    error = json.loads(ran.stdout)["error"]
    assert error.startswith(f"target 'test' (127.0.0.1:{port}) unreachable: ") and "connection refused" in error
    planned = in_process(config, ["plan"], folder)
    assert planned.code == ExitCode.RUN_FAILED
    assert f"error: target 'test' (127.0.0.1:{port}) unreachable: " in planned.stderr


def test_a_refused_target_gets_one_quick_retry_then_is_unreachable() -> None:
    """A refused connection is not worth the policy's retries (4, with waits up to a minute):
    one quick retry, then an UnreachableError naming the target and its host."""
    from harvester.config import TargetConfig
    from harvester.donl.api import TargetApi
    from harvester.errors import UnreachableError

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    waits: list[float] = []
    api = TargetApi(TargetConfig(name="test", url=f"http://127.0.0.1:{port}", retries=4), None,
                    read_only=True, sleep=waits.append)
    with pytest.raises(UnreachableError, match=rf"target 'test' \(127.0.0.1:{port}\) unreachable: .*connection refused"):
        api.show("some-dataset")
    assert api.requests_made == 2 and len(waits) == 1 and waits[0] <= 1.0


REFUSED_KEY = '{"success": false, "error": {"__type": "Authorization Error", "message": "Access denied"}}'


def test_an_api_key_the_source_or_target_refuses_is_an_authorisation_error(tmp_path: Path) -> None:
    """Exit code 4, as for the configuration: the key, or its account's rights, need fixing."""
    with FaultProxy() as source:
        source.add(Fault(times=10, status=403, body=REFUSED_KEY))
        harvested = CliRunner().invoke(main, ["harvest", "--source-url", source.url, "--state", str(tmp_path / "s.sqlite")])
        assert source.calls("package_list") == 0  # no other way of listing is tried with a refused key
    assert harvested.exit_code == ExitCode.CONFIG, harvested.output
    assert "403 not authorised" in harvested.stderr and f"source {source.url.removeprefix('http://')}" in harvested.stderr

    folder = tmp_path / "examples"
    shutil.copytree(REPO / "examples", folder, ignore=shutil.ignore_patterns("state"))
    config = folder / "duo-offline.toml"
    with FaultProxy() as target:
        target.add(Fault(times=10, status=403, body=REFUSED_KEY))
        config.write_text(config.read_text(encoding="utf-8").replace(
            "# How DUO", f'[targets.test]\nurl = "{target.url}"\nowner_org = "o"\nretries = 0\n\n# How DUO', 1),
            encoding="utf-8")
        synced = in_process(config, ["--json", "sync", "--dry-run"], folder)
        planned = in_process(config, ["plan"], folder)
    assert synced.code == ExitCode.CONFIG and "403 not authorised" in json.loads(synced.stdout)["error"]
    assert planned.code == ExitCode.CONFIG and "error: target 'test'" in planned.stderr
