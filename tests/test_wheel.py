"""The package as an operator installs it: the built wheel in a fresh virtualenv, run from
another folder, does the README's main job. (An editable install hides a file the wheel forgets
to carry, as the mapping tables once were.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.conftest import REPO


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_the_built_wheel_does_the_main_job_from_another_folder(tmp_path: Path) -> None:
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "wheel"),
                  str(REPO)], tmp_path)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "wheel").glob("dcat_ap_nl_harvester-*.whl")

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path).returncode == 0
    python = venv / "bin" / "python"
    # the dependencies come from this environment (no index needed); the harvester only from the wheel
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     tmp_path).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], tmp_path)
    assert installed.returncode == 0, installed.stderr[-2000:]

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(REPO / "examples", elsewhere / "examples", ignore=shutil.ignore_patterns("state"))
    where = _run([str(python), "-c", "import harvester; print(harvester.__file__)"], elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    ran = _run([str(venv / "bin" / "harvester"), "--config", "examples/duo-offline.toml", "sync", "--dry-run"],
               elsewhere)
    assert ran.returncode in (0, 1), ran.stdout[-2000:] + ran.stderr[-2000:]
    assert "Traceback" not in ran.stderr
    lines = ran.stdout.splitlines()
    legend = [line for line in lines if line.startswith("+ create  ~ update")]
    creates = [line for line in lines if line.startswith("+ ") and line not in legend]
    assert len(legend) == 1 and len(creates) == 57  # the bundled datasets, each planned as a create
    assert lines[-1].startswith("Plan: 57 to create")
    assert (elsewhere / "examples" / "state" / "reports" / "run-1.html").exists()
