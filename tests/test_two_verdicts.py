"""Two questions, two answers: "is this DCAT-AP-NL 3.0?" (the shapes of the chosen profile) and
"will data.overheid.nl accept it?" (the pre-send check, harvester.donl.rules.check_package).

data.overheid.nl's own rules (a contact point's name; an e-mail address, web address or phone)
are not DCAT-AP-NL rules: a description without them conforms, and the pre-send check refuses
it. The run report shows both verdicts for a dataset. The profile comes from the configuration
or, overriding it, from --profile.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import URIRef

from harvester.cli import main
from harvester.config import PROFILES
from tests.profile_cases import DCAT, VCARD

REPO = Path(__file__).resolve().parent.parent
PRE_SEND_CONTACT = "website, email or phone is required for a valid contact_point"


@pytest.fixture(scope="module")
def mappings():
    from harvester.dcat.tables import load_mappings

    return load_mappings()


@pytest.fixture(scope="module")
def mapped_duo_dataset(mappings):
    """The first package of the bundled DUO catalogue, mapped as the bundled configuration says."""
    from harvester.config import load_config
    from harvester.dcat.dataset import map_dataset
    from harvester.dcat.options import MappingOptions
    from harvester.source.context import SourceContext

    source = load_config(REPO / "examples" / "duo-offline.toml").source("duo")
    options = MappingOptions.from_config(source.mapping, "examples/duo-offline.toml")
    dump = json.loads((REPO / "examples" / "duo" / "duo-catalogue.json").read_text("utf-8"))
    return map_dataset(dump["packages"][0], SourceContext(base_url=dump["source_url"]), mappings, options)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_contact_point_without_name_is_dcat_ap_nl_but_not_for_data_overheid_nl(
        mapped_duo_dataset, mappings, profile) -> None:
    from harvester.donl.convert import to_target
    from harvester.donl.rules import check_package
    from harvester.shacl.validator import Validator

    mapped = mapped_duo_dataset
    validator = Validator(ontology=mappings.vocabulary_graph(), profile=profile)
    graph = mapped.graph
    [contact] = graph.objects(URIRef(mapped.uri), DCAT.contactPoint)
    assert validator.validate(graph).conforms
    assert check_package(to_target(mapped, mappings).package(mapped.name, "duo")) == []

    removed = [t for p in (VCARD.fn, VCARD.hasEmail, VCARD.hasURL, VCARD.hasTelephone)
               for t in graph.triples((contact, p, None))]
    assert {p for _, p, _ in removed} >= {VCARD.fn, VCARD.hasEmail}
    for t in removed:
        graph.remove(t)
    try:
        report = validator.validate(graph)
        problems = check_package(to_target(mapped, mappings).package(mapped.name, "duo"))
    finally:
        for t in removed:
            graph.add(t)
    assert report.conforms, report.to_text()
    assert not [f for f in report.findings if f.focus_node == str(contact)]
    by_field = {(p.field, p.message) for p in problems}
    assert ("contact_point_name", "Missing value") in by_field
    assert ("contact_point_email", PRE_SEND_CONTACT) in by_field


@pytest.mark.parametrize(("given", "problem"), [
    ("https://duo.nl/contact", None),
    ("duo.nl/contact", "contact_point_website"),
])
def test_a_web_address_given_as_text_reaches_the_package(mapped_duo_dataset, mappings, given,
                                                          problem) -> None:
    """DCAT-AP-NL allows vcard:hasURL as text: it is sent as the contact point's website, and
    the pre-send check (not the DCAT-AP-NL verdict) judges whether data.overheid.nl takes it."""
    from rdflib import Literal

    from harvester.donl.convert import to_target
    from harvester.donl.rules import check_package
    from harvester.shacl.validator import Validator

    mapped = mapped_duo_dataset
    graph = mapped.graph
    [contact] = graph.objects(URIRef(mapped.uri), DCAT.contactPoint)
    before = list(graph.triples((contact, VCARD.hasURL, None)))
    for t in before:
        graph.remove(t)
    graph.add((contact, VCARD.hasURL, Literal(given)))
    try:
        report = Validator(ontology=mappings.vocabulary_graph()).validate(graph)
        package = to_target(mapped, mappings).package(mapped.name, "duo")
    finally:
        graph.remove((contact, VCARD.hasURL, Literal(given)))
        for t in before:
            graph.add(t)
    assert report.conforms, report.to_text()
    assert package["contact_point_website"] == given
    fields = {p.field for p in check_package(package)}
    assert (problem in fields) if problem else "contact_point_website" not in fields


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of examples/ (without its state) to run the bundled configuration in."""
    folder = tmp_path / "examples"
    shutil.copytree(REPO / "examples", folder, ignore=shutil.ignore_patterns("state"))
    return folder


def test_the_run_report_shows_both_verdicts_for_a_dataset(examples: Path) -> None:
    """A dataset whose licence is not open: DCAT-AP-NL 3.0 (its findings are warnings only),
    refused by the pre-send check (an open licence for a public, available dataset). Its entry
    in the run report holds both: the DCAT-AP-NL findings and the pre-send problems."""
    dump = examples / "duo" / "duo-catalogue.json"
    catalogue = json.loads(dump.read_text(encoding="utf-8"))
    catalogue["packages"][0]["license_id"] = "notspecified"
    dump.write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
    name = catalogue["packages"][0]["name"]

    ran = CliRunner().invoke(main, ["--config", str(examples / "duo-offline.toml"), "sync", "--dry-run"])
    assert ran.exit_code == 1, ran.output  # one dataset needs a person
    report = json.loads((examples / "state" / "reports" / "run-1.json").read_text(encoding="utf-8"))
    [entry] = [d for d in report["datasets"] if d.get("name") == name]
    kinds = report["finding_kinds"]
    severities = {kinds[f["kind"]]["severity"] for f in entry["findings"]}
    assert entry["action"] == "invalid"
    assert entry["findings"] and severities == {"warning"}  # DCAT-AP-NL: conforms, with warnings
    [problem] = entry["problems"]  # data.overheid.nl: refused
    assert problem["field"] == "license_id" and "an open license must be provided" in problem["message"]
    page = (examples / "state" / "reports" / "run-1.html").read_text(encoding="utf-8")
    assert "an open license must be provided" in page


@pytest.mark.parametrize("file_profile, option, chosen", [
    (None, [], "3.0"),
    ('profile = "3.0.1"\n', [], "3.0.1"),
    ('profile = "3.0.1"\n', ["--profile", "3.0"], "3.0"),
    (None, ["--profile", "3.0.1"], "3.0.1"),
])
def test_the_profile_option_overrides_the_configuration(examples: Path, monkeypatch, file_profile,
                                                        option, chosen) -> None:
    from harvester.jobs import steps

    made: list[str] = []

    class Recording(steps.Validator):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self.profile)

    monkeypatch.setattr(steps, "Validator", Recording)
    config = examples / "duo-offline.toml"
    if file_profile:
        config.write_text(file_profile + config.read_text(encoding="utf-8"), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "harvest"]).exit_code == 0
    # the global option goes before or after the command
    for args in ([*option, "--config", str(config), "validate"], ["--config", str(config), "validate", *option]):
        ran = runner.invoke(main, args)
        assert ran.exit_code == 0, ran.output
    assert made and set(made) == {chosen}


def test_an_unknown_profile_option_is_a_usage_error(examples: Path) -> None:
    ran = CliRunner().invoke(main, ["--config", str(examples / "duo-offline.toml"), "--profile", "2.0",
                                    "validate"])
    assert ran.exit_code == 2
    assert "--profile" in ran.output and "'2.0' is not one of '3.0', '3.0.1'" in ran.output
