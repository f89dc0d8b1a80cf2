"""The public API of `harvester`: which names it exports, that each is there, and that importing
the package stays cheap."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import harvester
from tests.conftest import REPO

PUBLIC = [
    "__version__",
    # the configuration
    "Config", "SourceConfig", "TargetConfig", "load_config",
    # the jobs, what they are asked and what they return
    "harvest", "status", "validate", "export", "plan_sync", "sync", "runs", "run_report",
    "SyncOptions", "TargetChoice",
    "StoreStatus", "CatalogueValidation", "CatalogueExport", "PlanResult", "SyncResult", "RunReport",
    "HarvestSummary", "Plan", "Action", "Run",
    # the errors, and the exit codes of the command
    "ExitCode", "HarvesterError", "ConfigError", "LockedError", "SourceError", "StateError",
    "MappingError", "TargetError", "ReportNotFoundError",
]


def test_the_exported_names() -> None:
    assert sorted(harvester.__all__) == sorted(PUBLIC)


def test_every_exported_name_is_there_and_listed_by_dir() -> None:
    for name in harvester.__all__:
        assert getattr(harvester, name) is not None, name
        assert name in dir(harvester), name
    from harvester import HarvesterError, jobs, sync

    assert sync is jobs.sync and issubclass(harvester.ConfigError, HarvesterError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        harvester.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("harvester.no_such_name did not raise AttributeError")


def test_no_exported_name_is_also_a_module_of_the_package() -> None:
    """A submodule, once imported, is an attribute of the package and would hide the name."""
    assert [n for n in harvester.__all__ if importlib.util.find_spec(f"harvester.{n}") is not None] == []


def test_importing_the_package_or_its_errors_loads_no_job_stack() -> None:
    code = ("import sys, harvester, harvester.errors; "
            "print(sorted(m for m in sys.modules if m.startswith(('harvester', 'rdflib', 'pyshacl', 'ckanapi'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.stdout.strip() == "['harvester', 'harvester.errors', 'harvester.version']"
