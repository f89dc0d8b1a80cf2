"""Golden outputs of the bundled DUO catalogue, recorded before the redesign into packages.

The bytes of `harvester export` and the JSON of `sync --dry-run --plan-out` must stay as they were
unless a change of the mapping or conversion logic means them to change; then that change bumps
`harvester.version.LOGIC_VERSION` (so that results stored by the old logic are made anew), the
files under tests/fixtures/golden/ are written anew with UPDATE_GOLDEN=1, and the change is
reviewed as data. Writing changed outputs under the version they were recorded with fails.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harvester.cli import main
from harvester.version import LOGIC_VERSION

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
RECORDED_VERSION = GOLDEN / "LOGIC_VERSION"
#: the golden files this test session recorded under the new version (so that a second one may)
_RECORDED_NOW: list[str] = []


@pytest.fixture()
def example(repo_dir: Path, tmp_path: Path) -> Path:
    """A copy of examples/ without its state, so every run starts from an empty store."""
    folder = tmp_path / "examples"
    shutil.copytree(repo_dir / "examples", folder, ignore=shutil.ignore_patterns("state"))
    return folder / "duo-offline.toml"


def _run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _recorded_version() -> str:
    return RECORDED_VERSION.read_text(encoding="utf-8").strip()


def _compare(actual: bytes, golden: Path, *, packed: bool = False) -> None:
    expected = gzip.decompress(golden.read_bytes()) if packed else golden.read_bytes()
    if os.environ.get("UPDATE_GOLDEN") and actual != expected:
        assert LOGIC_VERSION != _recorded_version() or _RECORDED_NOW, \
            f"{golden.name} changes: bump LOGIC_VERSION in harvester/version.py first"
        golden.write_bytes(gzip.compress(actual, mtime=0) if packed else actual)
        RECORDED_VERSION.write_text(LOGIC_VERSION + "\n", encoding="utf-8")
        _RECORDED_NOW.append(golden.name)
        expected = actual
    assert actual == expected, f"output differs from {golden.name} (UPDATE_GOLDEN=1 to record it anew)"


def test_export_of_the_bundled_catalogue_is_the_golden_turtle(example: Path, tmp_path: Path):
    _run("--config", str(example), "harvest")
    out = tmp_path / "export.ttl"
    _run("--config", str(example), "export", "-o", str(out))
    _compare(out.read_bytes(), GOLDEN / "duo-export.ttl")


def test_dry_run_plan_of_the_bundled_catalogue_is_the_golden_plan(example: Path, tmp_path: Path):
    out = tmp_path / "plan.json"
    _run("-q", "--config", str(example), "sync", "--dry-run", "--plan-out", str(out))
    plan = json.loads(out.read_text(encoding="utf-8"))
    golden = GOLDEN / "duo-dry-run-plan.json.gz"
    if not os.environ.get("UPDATE_GOLDEN"):  # keys added to the plan file since are not compared
        plan = _as_recorded(plan, json.loads(gzip.decompress(golden.read_bytes())))
    for action in plan["actions"]:  # a cache key of the stored result, not an output
        action.pop("result_key", None)
    canonical = json.dumps(plan, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8")
    _compare(canonical, golden, packed=True)


def _as_recorded(plan: dict, recorded: dict) -> dict:
    """The plan with only the top-level and per-action keys the recorded plan has (a key it lacks
    stays missing, so the comparison fails); every value, packages included, compared whole."""
    def keys_of(value: dict, keys: dict) -> dict:
        return {key: value[key] for key in keys if key in value}

    shown = keys_of(plan, recorded)
    if len(plan.get("actions", [])) == len(recorded.get("actions", [])):
        shown["actions"] = [keys_of(action, old)
                            for action, old in zip(plan["actions"], recorded["actions"])]
    return shown


def test_golden_outputs_were_recorded_with_this_logic_version():
    """A bumped LOGIC_VERSION goes with golden outputs recorded anew (UPDATE_GOLDEN=1)."""
    assert _recorded_version() == LOGIC_VERSION
