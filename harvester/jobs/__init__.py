"""The use cases of the harvester, one function each; the `harvester` command is a thin shell over them.

    config = load_config("examples/duo-offline.toml")
    harvest(config)                                     # -> HarvestSummary
    validate(config)                                    # -> CatalogueValidation
    validate_documents(config, [Path("catalogus.ttl")])  # -> DocumentsValidation, no state store
    plan_sync(config, plan_out=Path("plan.json"))       # -> PlanResult, the plan saved
    apply_plan(config, Path("plan.json"))               # -> SyncResult, exactly that plan applied
    sync(config, options=SyncOptions(dry_run=True))     # -> SyncResult

Every job opens the state store itself (and takes its lock when it writes), and returns a result
that needs no open store: what a plan shows is read before the store closes. The steps below the
jobs (`sync_source`, `plan_source`, `validate_catalogue`, `export_source`) take an open store, for
callers that hold one. Each stage lives in its own module; this package only strings them
together and records the run:

    results.py    what the operator asks (SyncOptions, TargetChoice), what the jobs return
    use_cases.py  the jobs
    steps.py      the steps of a sync on an open store, and what failed where
    saved.py      saved plans: what a plan was made from, and whether it still fits
    catalogue.py  the harvested catalogue as a whole: export, validate
    documents.py  DCAT-AP-NL documents given as files, validated as they are (validate FILE...)
"""

from harvester.jobs.catalogue import export_source, mapped_datasets, validate_catalogue
from harvester.jobs.documents import FORMATS as DOCUMENT_FORMATS
from harvester.jobs.documents import (
    DocumentError,
    DocumentsValidation,
    DocumentValidation,
    document_validator,
    validate_documents,
)
from harvester.jobs.results import (
    CatalogueExport,
    CatalogueValidation,
    PlanResult,
    RunReport,
    StoreStatus,
    SyncOptions,
    SyncResult,
    TargetChoice,
)
from harvester.jobs.saved import PLAN_FORMAT, read_plan_file, write_plan_file
from harvester.jobs.steps import (
    build_stages,
    choose_target,
    exit_code_of,
    gone_records,
    open_target,
    plan_source,
    sync_source,
    withdraw_permission,
    write_run_report,
)
from harvester.jobs.use_cases import (
    apply_plan,
    export,
    harvest,
    init_config,
    plan_sync,
    run_report,
    runs,
    status,
    sync,
    validate,
)

__all__ = [
    "DOCUMENT_FORMATS", "PLAN_FORMAT", "CatalogueExport", "CatalogueValidation", "DocumentError",
    "DocumentValidation", "DocumentsValidation", "PlanResult", "RunReport", "StoreStatus",
    "SyncOptions", "SyncResult", "TargetChoice",
    "apply_plan", "build_stages", "choose_target", "document_validator", "exit_code_of", "export", "export_source",
    "gone_records", "harvest", "init_config", "mapped_datasets", "open_target", "plan_source", "plan_sync",
    "read_plan_file", "run_report", "runs", "status", "sync", "sync_source", "validate",
    "validate_catalogue", "validate_documents", "withdraw_permission", "write_plan_file", "write_run_report",
]
