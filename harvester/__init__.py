"""dcat-ap-nl-harvester: CKAN -> DCAT-AP-NL 3.0 -> SHACL -> data.overheid.nl.

The public API: load a configuration, then run the jobs the `harvester` command runs.

    import harvester

    config = harvester.load_config("examples/duo-offline.toml")
    summary = harvester.harvest(config)                  # HarvestSummary
    planned = harvester.plan_sync(config)                # PlanResult, what a sync would do
    result = harvester.sync(config, options=harvester.SyncOptions(dry_run=True))

Every error raised on purpose is a `HarvesterError`; its `exit_code` is what the command leaves with.

The names are loaded when first used (a module `__getattr__`): every module of the package imports
this one first, so `import harvester.errors` stays as cheap as that module and no module imports
the job stack (rdflib, pySHACL, ckanapi) it does not use, nor in a circle. The planning and report
jobs are `plan_sync` and `run_report` (`harvester.jobs`): `harvester.plan` and `harvester.report`
are the modules that make plans and reports.
"""

from __future__ import annotations

import importlib
from typing import Any

from harvester.version import __version__

#: Each public name, by the module that defines it.
_PUBLIC = {
    "harvester.config": ("Config", "SourceConfig", "TargetConfig", "load_config"),
    "harvester.jobs": (
        "harvest", "status", "validate", "export", "plan_sync", "sync", "runs", "run_report",
        "SyncOptions", "TargetChoice",
        "StoreStatus", "CatalogueValidation", "CatalogueExport", "PlanResult", "SyncResult", "RunReport",
    ),
    "harvester.source.harvest": ("HarvestSummary",),
    "harvester.plan": ("Plan", "Action"),
    "harvester.store.state": ("Run",),
    "harvester.errors": (
        "ExitCode", "HarvesterError", "ConfigError", "LockedError", "SourceError", "StateError",
        "MappingError", "TargetError", "ReportNotFoundError",
    ),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = ["__version__", *_MODULE_OF]  # noqa: PLE0604 - the names of the table above


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'harvester' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found at once from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
