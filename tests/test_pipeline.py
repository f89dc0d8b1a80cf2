"""The pipeline's fingerprint: what decides whether a stored result still stands."""

from __future__ import annotations

from harvester import pipeline
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import load_mappings
from harvester.pipeline import Stages
from harvester.shacl.validator import Validator
from harvester.source.context import SourceContext


def test_the_fingerprint_follows_the_logic_version(monkeypatch) -> None:
    mappings = load_mappings()
    stages = Stages(mappings=mappings, options=MappingOptions(), context=SourceContext(base_url="https://x"),
                    validator=Validator(ontology=mappings.vocabulary_graph, lazy=True))
    first = stages.fingerprint()
    assert stages.fingerprint() == first
    monkeypatch.setattr(pipeline, "LOGIC_VERSION", pipeline.LOGIC_VERSION + "-next")
    assert stages.fingerprint() != first
