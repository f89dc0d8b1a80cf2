"""The harvested catalogue as a whole, offline from the state store: export it, validate it.

Validation counts a dataset invalid as a sync would: SHACL violations and mapping errors, and
a package data.overheid.nl would refuse (the pre-send check, harvester.donl.convert), reported
apart from the SHACL findings.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from harvester.config import Config, SourceConfig
from harvester.dcat.catalog import catalog_graph
from harvester.dcat.dataset import MappedDataset, map_dataset
from harvester.dcat.export import export_catalog
from harvester.donl.rules import check_package
from harvester.donl.valuelists import ValueLists
from harvester.errors import UsageError
from harvester.jobs.results import CatalogueExport, CatalogueValidation
from harvester.jobs.steps import build_stages
from harvester.pipeline import Prepared, Stages, prepare
from harvester.plan import derive_name
from harvester.store.state import StateStore

#: the owner organisation a package is checked with when no target names one (the check reads
#: only that it is there)
CHECK_OWNER_ORG = "owner-org"


def require_records(store: StateStore, source: SourceConfig) -> None:
    """Raise (usage error, 2) when nothing of the source was harvested into the store."""
    if store.record_count(source.name) == 0:
        raise UsageError(
            f"{store.path}: no harvested datasets for source {source.name!r}; run `harvester harvest` first"
        )


def mapped_datasets(store: StateStore, source: SourceConfig, stages: Stages,
                    leave_out: Collection[str] = ()) -> Iterator[MappedDataset]:
    """Every active record of the source (but those whose source id is in `leave_out`) mapped
    to a DCAT-AP-NL graph."""
    for record in store.records(source.name):
        if record.source_id not in leave_out:
            yield map_dataset(record.raw, stages.context, stages.mappings, stages.options)


def export_source(config: Config, source: SourceConfig, store: StateStore, fmt: str,
                  include_invalid: bool = False) -> CatalogueExport:
    """The source's catalogue as RDF bytes in `fmt`, and the mapping issues met on the way: the
    catalogue a sync publishes, so without the invalid datasets (SHACL violations, mapping
    errors) unless `include_invalid`; `left_out` names those."""
    require_records(store, source)
    stages = build_stages(config, source, store)
    invalid: dict[str, str] = {}
    if not include_invalid:
        run_id = store.runs(source.name, limit=1)[0].id
        invalid = {item.source_id: item.source_name for item in prepare(store, source.name, stages, run_id)
                   if not item.valid}
    datasets = list(mapped_datasets(store, source, stages, leave_out=invalid))
    issues = [str(issue) for mapped in datasets for issue in mapped.issues]
    data = export_catalog(datasets, stages.context, stages.mappings, stages.options, fmt)
    return CatalogueExport(data, fmt, issues, left_out=sorted(invalid.values()))


def validate_catalogue(config: Config, source: SourceConfig, store: StateStore,
                       owner_org: str | None = None) -> CatalogueValidation:
    """Validate every dataset (results, valid or invalid with their findings, go to the state
    store), check the package of each valid one as data.overheid.nl would, and validate the
    catalogue record graph. `owner_org`: the organisation the packages are checked with."""
    require_records(store, source)
    stages = build_stages(config, source, store)
    run_id = store.runs(source.name, limit=1)[0].id
    lists = stages.value_lists
    datasets = [_validated(item, owner_org or CHECK_OWNER_ORG, lists)
                for item in prepare(store, source.name, stages, run_id)]
    mapped = list(mapped_datasets(store, source, stages))
    graph = catalog_graph(mapped, stages.context, stages.mappings, stages.options)
    validation = stages.validator.validate_datasets(((m.uri, m.graph) for m in mapped), context_graph=graph)
    return CatalogueValidation(source.name, datasets, validation.context.to_dict(), dict(stages.counters))


def _validated(item: Prepared, owner_org: str, lists: ValueLists) -> dict[str, Any]:
    """One dataset of the validation report: SHACL findings, then the mapping's issues; and
    apart, what data.overheid.nl would refuse of its package."""
    findings = list(item.findings) + [{**u, "severity": "mapping-" + u["severity"]} for u in item.unmapped]
    refusals = refusals_of(item, owner_org, lists) if item.valid else []
    return {"source_id": item.source_id, "name": item.source_name, "identifier": item.identifier,
            "title": item.title, "valid": item.valid and not refusals, "findings": findings,
            "refusals": refusals}


def refusals_of(item: Prepared, owner_org: str, lists: ValueLists) -> list[dict[str, str]]:
    """What data.overheid.nl would refuse of the package a sync would send for a new dataset."""
    target = item.target
    if target is None:
        return []
    package = target.package(derive_name(item.source_name), owner_org, {})
    return [{"field": p.field, "message": p.message} for p in check_package(package, lists)]
