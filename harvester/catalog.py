"""The harvested catalogue as a whole, offline from the state store: export it, validate it.

Both re-run mapping from the raw package dicts the last harvest stored, so mapping can be
repeated (after a change to the mapping tables, say) without touching the network.
"""

from __future__ import annotations

from typing import Any, Iterator

from .config import Config, SourceConfig
from .errors import HarvesterError
from .export import export_catalog
from .mapper import MappedDataset, catalog_graph, map_dataset
from .pipeline import Stages, prepare
from .state import StateStore
from .sync import build_stages


def _require_records(store: StateStore, source: SourceConfig) -> None:
    if store.record_count(source.name) == 0:
        raise HarvesterError(
            f"{store.path}: no harvested datasets for source {source.name!r}; run `harvester harvest` first"
        )


def mapped_datasets(store: StateStore, source: SourceConfig, stages: Stages) -> Iterator[MappedDataset]:
    """Every active record of the source mapped to a DCAT-AP-NL graph."""
    for record in store.records(source.name):
        yield map_dataset(record.raw, stages.context, stages.mappings, stages.options)


def export_source(config: Config, source: SourceConfig, store: StateStore, fmt: str) -> tuple[bytes, list[str]]:
    """The source's catalogue as RDF bytes in `fmt`, and the mapping issues met on the way."""
    _require_records(store, source)
    stages = build_stages(config, source, store)
    datasets = list(mapped_datasets(store, source, stages))
    issues = [str(issue) for mapped in datasets for issue in mapped.issues]
    return export_catalog(datasets, stages.context, stages.mappings, stages.options, fmt), issues


def validate_catalogue(config: Config, source: SourceConfig, store: StateStore) -> dict[str, Any]:
    """Validate every dataset (results, valid or invalid with their findings, go to the state store)
    and the catalogue record graph; return a report for people and machines."""
    _require_records(store, source)
    stages = build_stages(config, source, store)
    run_id = store.runs(source.name, limit=1)[0].id
    datasets = []
    for item in prepare(store, source.name, stages, run_id):
        findings = list(item.findings) + [
            {**u, "severity": "mapping-" + u["severity"]} for u in item.unmapped
        ]
        datasets.append({
            "source_id": item.source_id, "name": item.source_name, "identifier": item.identifier,
            "title": item.title, "valid": item.valid, "findings": findings,
        })
    mapped = list(mapped_datasets(store, source, stages))
    graph = catalog_graph(mapped, stages.context, stages.mappings, stages.options)
    catalogue_dict = stages.validator.validate_datasets(((m.uri, m.graph) for m in mapped), context_graph=graph).context.to_dict()
    every = [f for d in datasets for f in d["findings"]]
    return {
        "source": source.name,
        "total": len(datasets),
        "valid": sum(1 for d in datasets if d["valid"]),
        "invalid": sum(1 for d in datasets if not d["valid"]),
        "violations": sum(1 for f in every if f["severity"] in ("violation", "mapping-error")),
        "warnings": sum(1 for f in every if f["severity"] in ("warning", "mapping-warning")),
        "stages": dict(stages.counters),
        "datasets": datasets,
        "catalogue": catalogue_dict,
    }
