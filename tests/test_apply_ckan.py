"""A saved plan applied against a real CKAN 2.12 standing in for data.overheid.nl: `plan --out`
then `apply FILE` creates exactly the planned datasets; a plan made stale by an edit on the
target is refused with exit code 3 and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harvester.cli import main
from harvester.errors import ExitCode
from tests.test_publish_ckan import Setup, donl, target_packages  # noqa: F401 - donl: the fixture


def run(setup: Setup, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(setup.config), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.ckan
def test_plan_out_then_apply_creates_exactly_the_plan_and_a_stale_plan_is_refused(
        donl: Any, tmp_path: Path) -> None:  # noqa: F811 - the fixture imported above
    setup = Setup(tmp_path, donl.url, donl.api_key)
    plan_file = tmp_path / "plan.json"
    assert run(setup, "harvest")[0] == 0
    code, out, err = run(setup, "plan", "--target", "test", "--out", str(plan_file), "--detailed-exitcode")
    assert code == ExitCode.CHANGES_PENDING, out + err
    saved = json.loads(plan_file.read_text(encoding="utf-8"))
    planned = {a["identifier"]: a["name"] for a in saved["actions"] if a["action"] == "create"}
    assert len(planned) == 57 and saved["counts"]["create"] == 57
    assert all(held["id"] is None for held in saved["basis"]["target_packages"].values())
    assert target_packages(donl) == []

    code, out, err = run(setup, "--json", "apply", str(plan_file))
    assert code == 0, out + err
    assert json.loads(out)["counts"]["created"] == 57
    assert {p["identifier"]: p["name"] for p in target_packages(donl)} == planned

    # a change at the source, planned as an update; then someone edits that dataset on the target
    changed = setup.package("adressen_so")
    changed["title"] = "Adressen speciaal onderwijs (bijgewerkt)"
    setup.save()
    assert run(setup, "harvest")[0] == 0
    update_file = tmp_path / "update.json"
    code, out, err = run(setup, "plan", "--target", "test", "--out", str(update_file))
    assert code == 0 and "~ adressen_so  (title)" in out, out + err
    donl.action("package_patch", id="adressen_so", notes="Bewerkt op data.overheid.nl")
    code, out, err = run(setup, "apply", str(update_file))
    assert code == ExitCode.RUN_FAILED, out + err
    assert "the plan is stale" in err and "1 planned dataset(s) changed on the target" in err and "adressen_so" in err
    shown = donl.action("package_show", id="adressen_so")
    assert shown["title"] != changed["title"] and shown["notes"] == "Bewerkt op data.overheid.nl"
