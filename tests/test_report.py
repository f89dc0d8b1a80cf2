"""The run report (harvester.report.build, .files, .text, .html): JSON against its schema, text,
the HTML page as headless Chromium renders it, and reports of many datasets written as streams.

The sync result is built by hand from Plan/Action objects: a conflict (a hand edit on the
target), an invalid dataset, an update with a field-level diff, a withdrawal held back by the
threshold, a failed write, a create and an unchanged dataset.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from rdflib import Graph

from harvester.dcat.tables import load_mappings
from harvester.jobs import SyncResult
from harvester.plan import Action, Plan
from harvester.report import html as report_html
from harvester.report.build import (
    SCHEMA_PATH,
    build_report,
    load_report,
    write_reports,
    write_run_reports,
)
from harvester.report.entries import FindingKinds, compact_score, dataset_entry
from harvester.report.files import copy_with_packages, json_line, packages_from_store
from harvester.report.html import render_html
from harvester.report.quality import dataset_urls, score_dataset
from harvester.report.scrub import REDACTED, scrub
from harvester.report.sections import Sections
from harvester.report.text import render_text
from harvester.source.harvest import HarvestSummary
from tests.conftest import require

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "report"
ARTIFACTS = REPO / "test-artifacts"
BASE = "https://onderwijsdata.duo.nl/dataset/"
SECRET = "sk-donl-0123456789abcdef"

CONFLICT = BASE + "c0ffee00-0000-4000-8000-000000000001"
INVALID = BASE + "c0ffee00-0000-4000-8000-000000000002"
UPDATED = BASE + "c0ffee00-0000-4000-8000-000000000003"
HELD = BASE + "c0ffee00-0000-4000-8000-000000000004"
FAILED = BASE + "c0ffee00-0000-4000-8000-000000000005"
CREATED = BASE + "c0ffee00-0000-4000-8000-000000000006"
UNCHANGED = BASE + "c0ffee00-0000-4000-8000-000000000007"


# --- the sync result ----------------------------------------------------------------------------


def _harvest(**overrides) -> HarvestSummary:
    values = {"run_id": 7, "source": "duo", "location": "https://onderwijsdata.duo.nl",
              "mode": "full", "method": "package_search", "outcome": "success", "complete": True,
              "total": 6, "seen": 6, "new": 1, "changed": 1, "unchanged": 4, "requests": 3}
    values.update(overrides)
    return HarvestSummary(**values)


def _plan() -> Plan:
    plan = Plan(source="duo", target="https://data.overheid.nl", owner_org="duo")
    plan.actions = [
        Action(action="conflict", identifier=CONFLICT, source_id="src-1", title="Adressen ho",
               name="adressen-ho", target_id="tgt-1",
               reason="edited on the target since our last write (drift); left alone (the changes "
                      "shown are the target's; use --overwrite-drift to overwrite)",
               changes=[{"field": "notes", "old": "Onze beschrijving",
                         "new": "Met de hand verbeterd"}]),
        Action(action="invalid", identifier=INVALID, source_id="src-2", title="Examenresultaten",
               reason="not published: 1 SHACL violation(s), 1 value(s) without a mapping or "
                      "fallback",
               findings=[{"severity": "violation", "focus_node": INVALID + "/resource/r1",
                          "path": "dct:license", "value": None,
                          "message": "Distributie heeft geen licentie / Distribution has no licence",
                          "shape": "dcat-ap-nl:DistributionShape"},
                         {"severity": "warning", "focus_node": INVALID, "path": "dcat:keyword",
                          "value": None, "message": "Geen trefwoorden / No keywords",
                          "shape": None}],
               unmapped=[{"dataset": "examenresultaten", "field": "license_id",
                          "value": "other-closed", "severity": "error",
                          "message": "licence 'other-closed' not in the licence table and no "
                                     "licence_fallback is configured"}]),
        Action(action="update", identifier=UPDATED, source_id="src-3",
               title="Ingeschrevenen hoger onderwijs", name="p01hoinges", target_id="tgt-3",
               reason="changed at the source", outcome="done",
               changes=[{"field": "title", "old": "Ingeschrevenen ho", "new":
                         "Ingeschrevenen hoger onderwijs"},
                        {"field": "resources[0].url", "old": "https://example.org/old.csv",
                         "new": "https://onderwijsdata.duo.nl/datastore/dump/r1"}],
               package={"name": "p01hoinges", "title": "Ingeschrevenen hoger onderwijs"}),
        Action(action="withdraw", identifier=HELD, source_id="src-4", title="Oude dataset",
               name="oude-dataset", target_id="tgt-4", held=True,
               reason="gone at the source since 2026-01-01T00:00:00+00:00 (grace period 7 days "
                      "passed); HELD BACK: more than 10% of the datasets at once"),
        Action(action="update", identifier=FAILED, source_id="src-5", title="Leerlingen po",
               name="leerlingen-po", target_id="tgt-5", reason="changed at the source",
               outcome="failed",
               changes=[{"field": "version", "old": "1", "new": "2"}],
               problems=[{"field": "contact_point_email", "message": "must be an e-mail address"}],
               messages=["HTTP 409 Validation Error: contact_point_email"]),
        Action(action="create", identifier=CREATED, source_id="src-6", title="Nieuwe dataset",
               name="nieuwe-dataset", reason="not on the target yet", outcome="done",
               changes=[{"field": "title", "old": None, "new": "Nieuwe dataset"}],
               package={"name": "nieuwe-dataset", "title": "Nieuwe dataset"}),
        Action(action="unchanged", identifier=UNCHANGED, source_id="src-7",
               title="Ongewijzigde dataset", name="ongewijzigd", target_id="tgt-7",
               reason="what we would send is what we last sent"),
    ]
    plan.notes = [("withdrawing nothing: 1 of 5 published datasets would be withdrawn, more "
                   "than the threshold of 10%; check the source, then run with --force-withdraw")]
    return plan


def _result(*, dry_run: bool = False, **overrides) -> SyncResult:
    values = {"run_id": 7, "source": "duo", "target": "https://data.overheid.nl",
              "dry_run": dry_run, "harvest": _harvest(), "plan": _plan(),
              "applied": {"created": 1, "updated": 1, "failed": 1},
              "counters": {"mapped": 6, "validated": 6, "reused": 0},
              "target_requests": 12, "target_writes": 3,
              "started_at": "2026-07-10T10:00:00+00:00", "finished_at": "2026-07-10T10:01:30+00:00"}
    values.update(overrides)
    return SyncResult(**values)


@pytest.fixture(scope="module")
def quality() -> dict[str, dict]:
    """Real scores (harvester.report.quality) of the report fixtures, keyed by dataset identifier."""
    mappings = load_mappings()
    complete = Graph().parse(FIXTURES / "complete-dataset.ttl", format="turtle")
    mixed = Graph().parse(FIXTURES / "mixed-dataset.ttl", format="turtle")
    good = score_dataset(complete, "https://data.example.org/dataset/complete", conforms=True,
                         mappings=mappings)
    poor = score_dataset(mixed, "https://data.example.org/dataset/mixed", conforms=False,
                         mappings=mappings,
                         url_status={u: 200 for u in dataset_urls(
                             mixed, "https://data.example.org/dataset/mixed")})
    return {UPDATED: good, CREATED: good, UNCHANGED: poor, INVALID: poor, CONFLICT: good}


@pytest.fixture()
def report(quality) -> dict:
    return build_report(_result(), quality=quality, generated_at="2026-07-10T10:01:31+00:00")


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- JSON ---------------------------------------------------------------------------------------


def _errors(validator, report) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(report)]


def test_report_validates_against_schema(report, validator):
    assert not _errors(validator, report)
    # and survives a JSON round trip unchanged
    assert json.loads(json.dumps(report)) == report


def test_counts_and_completeness(report):
    assert report["counts_kind"] == "done"
    assert report["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "withdrawn": 0,
                                "conflict": 1, "invalid": 1, "failed": 1, "withdraw_held": 1,
                                "skipped": 0}
    assert report["planned"] == {"create": 1, "update": 2, "unchanged": 1, "withdraw": 0,
                                 "conflict": 1, "invalid": 1, "withdraw_held": 1}
    assert report["outcome"] == "attention"
    assert report["completeness"] == {"mode": "full", "complete": True,
                                      "harvest_outcome": "success", "seen": 6, "total": 6,
                                      "problems": []}
    assert report["notes"] and "threshold" in report["notes"][0]


def test_needs_a_person(report):
    needs = [(n["kind"], n["identifier"]) for n in report["needs_person"]]
    assert needs == [("conflict", CONFLICT), ("invalid", INVALID), ("failed", FAILED),
                     ("withdraw_held", HELD)]
    invalid = next(n for n in report["needs_person"] if n["kind"] == "invalid")
    assert any("Distribution has no licence" in d for d in invalid["details"])
    assert any("other-closed" in d or "license_id" in d for d in invalid["details"])
    assert not any("No keywords" in d for d in invalid["details"])  # warnings are not listed


def test_datasets_carry_diff_findings_problems_unmapped_and_quality(report, quality):
    by_id = {d["identifier"]: d for d in report["datasets"]}
    kinds = FindingKinds(report["finding_kinds"])
    assert by_id[UPDATED]["changes"][0] == {"field": "title", "old": "Ingeschrevenen ho",
                                            "new": "Ingeschrevenen hoger onderwijs"}
    violation = by_id[INVALID]["findings"][0]
    assert kinds.of(violation)["path"] == "dct:license"
    assert kinds.of(violation)["severity"] == "violation"
    assert violation["focus_node"] == "/resource/r1"  # below the dataset: from its identifier
    assert "focus_node" not in by_id[INVALID]["findings"][1]  # the dataset itself
    assert by_id[INVALID]["unmapped"][0]["value"] == "other-closed"
    assert by_id[FAILED]["problems"] == [{"field": "contact_point_email",
                                          "message": "must be an e-mail address"}]
    assert by_id[FAILED]["messages"][0].startswith("HTTP 409")
    assert by_id[HELD]["held"] is True and by_id[HELD]["needs_person"] == "withdraw_held"
    assert "held" not in by_id[UPDATED] and "problems" not in by_id[UPDATED]  # no defaults
    assert by_id[UPDATED]["quality"] == compact_score(quality[UPDATED])
    assert "quality" not in by_id[HELD]
    catalogue = report["quality"]["catalogue"]
    assert catalogue["datasets"] == 4 and report["quality"]["datasets_scored"] == 4
    assert catalogue["urls_checked"] is False  # only some datasets had their URLs checked


def test_a_dataset_score_is_kept_on_one_scale_compactly(quality):
    score = quality[UNCHANGED]
    kept = compact_score(score)
    assert kept["total"] == score["total"] and kept["max"] == score["max"]
    assert kept["band"] == score["band"] and "scaled_total" not in kept
    assert kept["dimensions"] == {name: dim["points"] for name, dim in score["dimensions"].items()}
    below = {metric: entry["points"] for dim in score["dimensions"].values()
             for metric, entry in dim["metrics"].items() if entry["points"] < entry["max"]}
    assert kept["metrics"] == below and below  # a metric left out scored its maximum
    assert compact_score(kept) == kept


def test_invalid_datasets_carry_no_quality_band(report, quality):
    """An invalid dataset is not published: no score in the JSON, no band on the page, and its
    score is not in the catalogue's."""
    [invalid] = [d for d in report["datasets"] if d["identifier"] == INVALID]
    assert "quality" not in invalid and quality[INVALID]["band"]
    page = render_html(report)
    card = re.search(rf'<article[^>]*data-identifier="{re.escape(INVALID)}".*?</article>', page,
                     re.DOTALL).group(0)
    assert 'class="badge b-' not in card and "punten/points" not in card
    assert "Probleem / Problem" in card and 'data-field="dct:license"' in card


def test_a_conflict_compares_ours_with_the_target(report):
    [conflict] = [d for d in report["datasets"] if d["action"] == "conflict"]
    assert conflict["compare"] == {"old": "ours_last_sent", "new": "target_now"}
    # a conflict over a dataset we never published compares the target's with ours to send
    kinds = FindingKinds()
    never_sent = Action(action="conflict", identifier=CONFLICT, source_id="src-1",
                        reason="the target already holds it, not created by this harvester",
                        changes=[{"field": "notes", "old": "Hun beschrijving",
                                  "new": "Onze beschrijving"}])
    entry = dataset_entry(never_sent, None, kinds)
    assert entry["compare"] == {"old": "target_now", "new": "ours_to_send"}
    page = render_html(dict(report, datasets=[entry], needs_person=[]))
    heads = re.search(r'<table class="changes".*?</tr>', page, re.DOTALL).group(0)
    assert heads.index("onze versie (te versturen) / ours (to send)") < heads.index(
        "op het doel nu / on the target now")
    row = re.search(r"<td>notes</td>.*?</tr>", page, re.DOTALL).group(0)
    assert row.index("Onze beschrijving") < row.index("Hun beschrijving")  # ours first


def test_dry_run_reports_planned_counts(quality, validator):
    report = build_report(_result(dry_run=True, applied={}, target_writes=0), quality=quality)
    assert report["counts_kind"] == "planned"
    assert report["counts"] == {"created": 1, "updated": 2, "unchanged": 1, "withdrawn": 0,
                                "conflict": 1, "invalid": 1, "failed": 0, "withdraw_held": 1,
                                "skipped": 0}
    assert not _errors(validator, report)
    assert "Gepland / Planned" in render_text(report)


def test_failed_harvest_without_plan(validator):
    summary = _harvest(outcome="failed", complete=False, seen=2,
                       problems=["package_search: HTTP 502 after 5 attempts"],
                       error="the source did not answer")
    result = _result(harvest=summary, plan=None, error="the source did not answer", applied={},
                     counters={})
    report = build_report(result)
    assert not _errors(validator, report)
    assert report["outcome"] == "failed" and report["datasets"] == []
    assert report["quality"]["catalogue"] is None
    assert report["completeness"]["complete"] is False
    assert report["completeness"]["problems"] == ["package_search: HTTP 502 after 5 attempts",
                                                  "the source did not answer"]
    assert "ONVOLLEDIG / INCOMPLETE" in render_text(report)
    assert "Geen kwaliteitsscore" in render_html(report)


def test_incremental_incomplete_run(quality, validator):
    summary = _harvest(mode="incremental", complete=False, outcome="success",
                       problems=["page 3: HTTP 500, listing incomplete"])
    report = build_report(_result(harvest=summary), quality=quality)
    assert not _errors(validator, report)
    assert report["outcome"] == "incomplete"
    assert report["completeness"]["mode"] == "incremental"


# --- the packages sent: left out, unless asked for -------------------------------------------------


def test_the_json_report_leaves_the_packages_out_and_the_full_one_has_them(quality, validator,
                                                                          tmp_path):
    report = build_report(_result(), quality=quality)
    assert not any("package" in d for d in report["datasets"])
    [create] = [d for d in report["datasets"] if d["action"] == "create"]
    assert "changes" not in create  # every field of the package: the state store holds it

    full = build_report(_result(), quality=quality, full=True)
    assert not _errors(validator, full)
    packages = {d["identifier"]: d.get("package") for d in full["datasets"]}
    assert packages[CREATED] == {"name": "nieuwe-dataset", "title": "Nieuwe dataset"}
    assert packages[UPDATED]["name"] == "p01hoinges" and packages[UNCHANGED] is None

    json_path, _ = write_reports(report, tmp_path)
    # the stored result's JSON: the package fields and resources made, beside title and quality
    made = {"fields": {"identifier": CREATED, "title": "Nieuwe dataset"}, "resources": []}
    stored = {"src-6": SimpleNamespace(target_package={"title": "Nieuwe dataset", "target": made})}
    store = SimpleNamespace(results_for=lambda source, ids: {i: stored[i] for i in ids
                                                              if i in stored})
    out = io.StringIO()
    copy_with_packages(json_path, out, packages_from_store(store, "duo"))
    copied = json.loads(out.getvalue())
    assert not _errors(validator, copied)
    assert [d["identifier"] for d in copied["datasets"] if "package" in d] == [CREATED]
    assert [d["package"] for d in copied["datasets"] if "package" in d] == [made]
    assert {k: v for k, v in copied.items() if k != "datasets"} == {
        k: v for k, v in load_report(tmp_path, 7).items() if k != "datasets"}

    # a report in another layout (an older one, indented) is read whole
    older = tmp_path / "older.json"
    older.write_text(json.dumps(report, indent=2), encoding="utf-8")
    out = io.StringIO()
    copy_with_packages(older, out, lambda d: {"name": d["name"]} if d["name"] else None)
    assert json.loads(out.getvalue())["datasets"][0]["package"] == {"name": "adressen-ho"}


# --- files --------------------------------------------------------------------------------------


def test_write_reports_atomically(report, tmp_path):
    folder = tmp_path / "state" / "reports"
    json_path, html_path = write_reports(report, folder)
    assert (json_path.name, html_path.name) == ("run-7.json", "run-7.html")
    assert load_report(folder, 7) == report
    assert html_path.read_text("utf-8").startswith("<!DOCTYPE html>")
    # written again (e.g. a rerun of the report): replaced, no temporary files left behind
    report2 = dict(report, generated_at="2026-07-10T11:00:00+00:00")
    write_reports(report2, folder)
    assert load_report(folder, 7)["generated_at"] == "2026-07-10T11:00:00+00:00"
    assert sorted(p.name for p in folder.iterdir()) == ["run-7.html", "run-7.json"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert json_path.stat().st_mode & 0o777 == 0o666 & ~umask  # as any file it creates


def test_write_run_reports_is_what_build_report_says(quality, tmp_path):
    """The streamed files hold what build_report() holds, one dataset a line."""
    json_path, html_path = write_run_reports(_result(), tmp_path, quality=quality,
                                             generated_at="2026-07-10T10:01:31+00:00")
    built = build_report(_result(), quality=quality, generated_at="2026-07-10T10:01:31+00:00")
    assert load_report(tmp_path, 7) == built
    lines = json_path.read_text("utf-8").splitlines()
    start = lines.index('"datasets": [')
    assert [json.loads(line.rstrip(",")) for line in lines[start + 1:start + 8]] == \
        built["datasets"]
    assert html_path.read_text("utf-8") == render_html(built)


def test_quality_from_the_actions(quality, validator):
    """Without a quality map, each action's own `quality` (Prepared.quality) is reported."""
    result = _result()
    for action in result.plan.actions:
        action.quality = quality.get(action.identifier)
    report = build_report(result)
    assert not _errors(validator, report)
    by_id = {d["identifier"]: d for d in report["datasets"]}
    assert by_id[UNCHANGED]["quality"] == compact_score(quality[UNCHANGED])
    assert report["quality"]["catalogue"]["datasets"] == 4


# --- many datasets --------------------------------------------------------------------------------

MANY = 5000


@dataclass
class _OnePassPlan:
    """A plan whose actions can be gone through once only."""

    actions: Any
    owner_org: str = "duo"
    notes: list = field(default_factory=list)
    passes: int = 0

    def __post_init__(self) -> None:
        self._actions, self.actions = self.actions, self

    def __iter__(self):
        self.passes += 1
        assert self.passes == 1, "the actions were gone through more than once"
        return iter(self._actions)

    def counts(self) -> dict[str, int]:
        return {"create": 0, "update": 0, "unchanged": MANY, "withdraw": 0, "conflict": 0,
                "invalid": 0, "withdraw_held": 0}


@dataclass
class _ManyResult:
    plan: _OnePassPlan
    run_id: int = 8
    source: str = "duo"
    target: str = "https://data.overheid.nl"
    dry_run: bool = False
    applied: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)
    target_requests: int = 1
    target_writes: int = 0
    error: str | None = None
    started_at: str = "2026-07-10T10:00:00+00:00"
    finished_at: str = "2026-07-10T10:05:00+00:00"
    harvest: Any = None
    outcome: str = "success"

    def counts(self) -> dict[str, int]:
        return {"unchanged": MANY}


def _unchanged_actions(folder: Path, score: dict, seen: dict) -> Any:
    """MANY unchanged actions, each with ten warnings; at the last one, how much of the JSON
    report is on disk already."""
    warnings = [{"severity": "warning", "focus_node": BASE + "x/resource/1", "path": "dct:format",
                 "message": "Aanbevolen / Recommended " * 8, "shape": None}] * 10
    for i in range(MANY):
        if i == MANY - 1:
            seen["written"] = sum(p.stat().st_size for p in folder.glob(".run-8.json.*.tmp"))
        yield Action(action="unchanged", identifier=f"{BASE}c0ffee00-0000-4000-8000-{i:012d}",
                     source_id=f"src-{i}", name=f"dataset-{i:05d}", title=f"Dataset nummer {i}",
                     target_id=f"tgt-{i}", reason="what we would send is what we last sent",
                     findings=warnings, quality=score)


def test_a_report_of_many_datasets_is_written_as_a_stream(quality, validator, tmp_path):
    seen: dict[str, int] = {}
    plan = _OnePassPlan(_unchanged_actions(tmp_path, quality[UPDATED], seen))
    json_path, html_path = write_run_reports(_ManyResult(plan), tmp_path)
    assert plan.passes == 1
    # the datasets went to the file as they came, before the last one was made
    assert seen["written"] > (MANY - 100) * 200
    report = load_report(tmp_path, 8)
    assert len(report["datasets"]) == MANY and not _errors(validator, report)
    # a few hundred bytes per unchanged dataset, in either file
    assert json_path.stat().st_size / MANY < 600
    assert html_path.stat().st_size / MANY < 250
    page = html_path.read_text("utf-8")
    assert page.count("<article") == 0  # the unchanged ones only in the one compact table
    table = re.search(r'<table class="rows unchanged">.*?</table>', page, re.DOTALL).group(0)
    assert table.count("<tr>") == MANY + 1


def test_the_page_is_written_in_pieces(quality):
    sections = Sections(FindingKinds())
    score = compact_score(quality[UPDATED])
    for i in range(MANY):
        sections.add({"identifier": f"{BASE}{i}", "action": "unchanged", "name": f"d-{i}",
                      "title": "", "quality": score})

    class Recorder(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.sizes: list[int] = []

        def write(self, text: str) -> int:
            self.sizes.append(len(text))
            return super().write(text)

    out = Recorder()
    report_html.write_html(build_report(_result(plan=None)), sections.finish(), out)
    assert len(out.getvalue()) > 8 * max(out.sizes)  # never the whole page at once


# --- the page -----------------------------------------------------------------------------------


def test_html_is_self_contained(report):
    page = render_html(report)
    lowered = page.lower()
    for forbidden in ("<script", "<link", "<img", "<iframe", "<object", "@import", "url("):
        assert forbidden not in lowered, forbidden
    assert " src=" not in lowered and " href=" not in lowered
    assert "<style>" in page and "<svg" in page


def test_html_escapes_what_the_source_says():
    """The templates escape every value: markup in a title or reason stays text."""
    result = _result()
    result.plan.actions[2].title = "<script>alert(1)</script>"
    result.plan.actions[2].reason = 'changed "at" <b>the</b> source & more'
    page = render_html(build_report(result))
    assert "<script" not in page.lower() and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;the&lt;/b&gt; source &amp; more" in page


def test_unchanged_datasets_only_in_the_compact_table(report):
    page = render_html(report)
    assert page.count(UNCHANGED) == 1
    row = re.search(r'<table class="rows unchanged">.*?</table>', page, re.DOTALL).group(0)
    assert UNCHANGED in row and "ongewijzigd" in row and "Voldoende / Sufficient" in row
    assert 'data-action="unchanged"' not in page
    # the create: one row of the creates' table, no card
    assert page.count(CREATED) == 1 and 'data-action="create"' not in page


def test_many_datasets_that_need_a_person_are_summed_up_by_problem():
    plan = Plan(source="duo", target="https://data.overheid.nl", owner_org="duo")
    plan.actions = [Action(action="invalid", identifier=f"{BASE}{i}", source_id=f"src-{i}",
                           reason="data.overheid.nl would refuse it",
                           problems=[{"field": "license_id", "message": "an open licence"}]
                           + ([{"field": "notes", "message": "too short"}] if i < 2 else []))
                    for i in range(7)]
    page = render_html(build_report(_result(plan=plan)))
    table = re.search(r'<table class="common-problems">.*?</table>', page, re.DOTALL).group(0)
    rows = re.findall(r"<code>(.*?)</code>.*?</span> (.*?)</td><td class=\"num\">(\d+)<", table)
    assert rows == [("license_id", "an open licence", "7"), ("notes", "too short", "2")]
    # a few are told one by one
    assert 'class="common-problems"' not in render_html(build_report(_result()))


def test_one_quality_scale_with_a_legend(report):
    page = render_html(report)
    assert "op de schaal van" not in page and "scaled" not in page
    legend = re.search(r'<div class="legend".*?</div>', page, re.DOTALL).group(0)
    assert "Balken / " not in legend and "Bars: " in legend
    assert re.findall(r'data-band="(\w+)"', legend) == ["Excellent", "Good", "Sufficient", "Bad"]
    assert "86.7 %" in legend and "325" in legend and "405" in legend
    # each dataset's score on the same scale: points out of the maximum, and the band
    catalogue = report["quality"]["catalogue"]
    assert f'{catalogue["total"]}</strong> / {catalogue["max"]} punten/points' in page


def test_text_report(report):
    text = render_text(report)
    assert "Run 7: duo -> https://data.overheid.nl" in text
    assert "Actie nodig / Needs a person: 4" in text
    assert text.index("Actie nodig") < text.index("Wijzigingen / Changes")
    assert CONFLICT in text and HELD in text
    assert ("onze versie (laatst verstuurd) / ours (last sent) -> op het doel nu / on the "
            "target now:") in text
    assert "notes: Onze beschrijving -> Met de hand verbeterd" in text
    assert "title: Ingeschrevenen ho -> Ingeschrevenen hoger onderwijs" in text
    assert "- dct:license: [SHACL-validatie / SHACL validation]" in text
    assert re.search(rf"ongewijzigd +{re.escape(UNCHANGED)} +Voldoende / Sufficient", text)
    assert "Kwaliteit catalogus / Catalogue quality (4 datasets)" in text


# --- secrets ------------------------------------------------------------------------------------


def test_secrets_are_scrubbed_everywhere(quality, tmp_path, monkeypatch):
    monkeypatch.setenv("DONL_API_KEY", SECRET)
    monkeypatch.setenv("SOME_TOKEN", "tok<&>\"en-4242")
    monkeypatch.setenv("SHORT_KEY", "abc")  # too short to scrub without wrecking the text
    monkeypatch.setenv("HARVESTER_HOME", "/srv/harvester-home")  # not a secret's name
    result = _result()
    result.plan.actions[0].reason += " tok<&>\"en-4242 /srv/harvester-home"
    result.plan.actions[4].messages.append(f"rejected (sent with key {SECRET})")
    report = build_report(result, quality=quality)
    json_path, html_path = write_reports(report, tmp_path)
    streamed = write_run_reports(result, tmp_path / "streamed", quality=quality)
    outputs = {"json": json_path.read_text("utf-8"), "html": html_path.read_text("utf-8"),
               "text": render_text(report), "dict": json.dumps(report, ensure_ascii=False),
               "streamed json": streamed[0].read_text("utf-8"),
               "streamed html": streamed[1].read_text("utf-8")}
    for name, text in outputs.items():
        assert SECRET not in text, name
        assert "tok<&>" not in text and "tok&lt;&amp;&gt;" not in text, name
        assert REDACTED in text, name
        assert "/srv/harvester-home" in text, name
    # a report handed in unscrubbed (e.g. loaded from an older file) is scrubbed on output too
    raw = dict(report, error=f"key {SECRET}")
    assert SECRET not in render_html(raw) and SECRET not in render_text(raw)
    write_reports(raw, tmp_path / "b")
    assert SECRET not in (tmp_path / "b" / "run-7.json").read_text("utf-8")


def test_scrub_handles_escaped_forms():
    env = {"MY_PASSWORD": 'p&ss"w<rd>', "PATH": "/usr/bin:/bin", "API_SECRET": "  padded-secret \n"}
    text = 'a p&amp;ss&quot;w&lt;rd&gt; b p&ss"w<rd> c p&ss\\"w<rd> d padded-secret /usr/bin:/bin'
    cleaned = scrub(text, env)
    assert "p&" not in cleaned and "padded-secret" not in cleaned
    assert cleaned.count(REDACTED) == 4 and "/usr/bin:/bin" in cleaned


def test_scrub_handles_the_templates_escaping():
    """The page's templates escape quotes as numeric references (&#34; &#39;): scrubbed too."""
    env = {"MY_PASSWORD": "p&ss\"w'rd<"}
    cleaned = scrub("a p&amp;ss&#34;w&#39;rd&lt; b", env)
    assert cleaned == f"a {REDACTED} b"


# --- the page in a browser ----------------------------------------------------------------------


class _Dom(HTMLParser):
    """Every element of a page with its attributes and text content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": []}
        self.elements.append(element)
        if tag not in {"meta", "br", "rect", "input", "img", "hr", "link", "col"}:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": []})

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"].append(data)

    def find(self, tag: str | None = None, **attrs) -> list[dict]:
        out = []
        for el in self.elements:
            if tag and el["tag"] != tag:
                continue
            if all(el["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(el)
        return out

    @staticmethod
    def text(element: dict) -> str:
        return " ".join("".join(element["text"]).split())


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(profile)})


#: Where the page's parts are, and the width it is laid out in: added to a copy of the page (the
#: report itself has no script), it writes their boxes into the body for --dump-dom.
_PROBE = """<script>
const boxes = {width: document.documentElement.clientWidth};
for (const id of ["outcome", "summary", "needs-person", "changed", "unchanged", "quality"]) {
  const box = document.getElementById(id).getBoundingClientRect();
  boxes[id] = [box.top, box.bottom];
}
for (const [name, selector] of [["counts", "table.counts"], ["needs-heading", "#needs-person h2"],
                                ["first-need", "#needs-person article h3"]]) {
  const box = document.querySelector(selector).getBoundingClientRect();
  boxes[name] = [box.top, box.bottom];
}
document.body.setAttribute("data-boxes", JSON.stringify(boxes));
</script>"""


def test_html_report_in_headless_chromium(report, tmp_path):
    binary = _chromium()
    require(binary is not None, "chromium is not installed (apt-get install -y chromium)")
    _, html_path = write_reports(report, tmp_path / "reports")
    url = html_path.resolve().as_uri()

    dumped = _run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = _Dom()
    dom.feed(dumped.stdout)
    assert dom.find("body"), "Chromium rendered no page"

    # first the outcome, the counts and what needs a person; then the changed datasets, the
    # unchanged ones, the quality score
    order = [el["attrs"]["id"] for el in dom.find("section")]
    assert order == ["summary", "needs-person", "changed", "unchanged", "quality", "completeness"]
    counts = {el["attrs"]["data-count"]: _Dom.text(el) for el in dom.find("td")
              if "data-count" in el["attrs"]}
    assert counts == {"created": "1", "updated": "1", "unchanged": "1", "withdrawn": "0",
                      "conflict": "1", "invalid": "1", "failed": "1", "withdraw_held": "1",
                      "skipped": "0"}
    assert _Dom.text(dom.find("span", id="outcome")[0]) == "Aandacht nodig / Needs attention"

    # the needs-a-person list: each a card, the conflict with ours against the target's
    section = dom.find("section", id="needs-person")[0]
    assert "Actie nodig / Needs a person (4)" in _Dom.text(section)
    cards = [el for el in dom.find("article") if "data-kind" in el["attrs"]]
    assert [c["attrs"]["data-kind"] for c in cards] == ["conflict", "invalid", "failed",
                                                         "withdraw_held"]
    conflict = _Dom.text(cards[0])
    assert "--overwrite-drift" in conflict and "Met de hand verbeterd" in conflict
    heads = [_Dom.text(th) for th in dom.find("th")]
    assert "onze versie (laatst verstuurd) / ours (last sent)" in heads
    assert "op het doel nu / on the target now" in heads
    conflict_table = dom.find("table", data_columns="ours_last_sent target_now")
    assert len(conflict_table) == 1 and "Oud / Old" not in _Dom.text(conflict_table[0])

    # the update's field-level diff, among the changed datasets
    update = dom.find("article", data_action="update", data_identifier=UPDATED)[0]
    assert "Ingeschrevenen ho" in _Dom.text(update) and "resources[0].url" in _Dom.text(update)

    # the catalogue's quality chart: one bar per dimension, as wide as the points earned
    chart = dom.find("svg", id="quality-chart")
    assert len(chart) == 1
    bars = [el for el in dom.find("g") if el["attrs"].get("class") == "bar"]
    dims = [b["attrs"]["data-dimension"] for b in bars]
    assert dims == ["findability", "accessibility", "interoperability", "reusability",
                    "contextuality"]
    catalogue = report["quality"]["catalogue"]["dimensions"]
    assert float(bars[0]["attrs"]["data-points"]) == pytest.approx(
        catalogue["findability"]["points"])
    assert "Vindbaarheid / Findability" in _Dom.text(bars[0])

    # in a 1280x800 viewport: the outcome, the counts and the start of the needs-a-person list
    probed = tmp_path / "probed.html"
    probed.write_text(html_path.read_text("utf-8").replace("</body>", _PROBE + "</body>"),
                      "utf-8")
    laid_out = _run_chromium(binary, tmp_path / "profile-probe", "--window-size=1280,800",
                             "--hide-scrollbars", "--dump-dom", probed.resolve().as_uri())
    assert laid_out.returncode == 0, laid_out.stderr[-2000:]
    boxes = json.loads(re.search(r'data-boxes="([^"]*)"', laid_out.stdout).group(1)
                       .replace("&quot;", '"'))
    assert boxes["width"] == 1280  # laid out as in the screenshot of the first viewport below
    for part in ("outcome", "counts", "needs-heading", "first-need"):
        assert 0 <= boxes[part][0] and boxes[part][1] <= 800, (part, boxes)
    tops = [boxes[part][0] for part in ("summary", "needs-person", "changed", "unchanged",
                                        "quality")]
    assert tops == sorted(tops)

    # screenshots (the first viewport, the whole page), kept as test artefacts
    ARTIFACTS.mkdir(exist_ok=True)
    for name, size in (("run-report-first-view.png", "1280,800"), ("run-report.png", "1280,2600")):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        taken = _run_chromium(binary, tmp_path / f"profile-{name}", f"--screenshot={shot}",
                              f"--window-size={size}", "--hide-scrollbars", url)
        assert taken.returncode == 0, taken.stderr[-2000:]
        assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copyfile(html_path, ARTIFACTS / "run-report.html")


#: The boxes of the first view's parts, for a page whose needs-a-person list may be empty.
_FIRST_VIEW_PROBE = """<script>
const boxes = {width: document.documentElement.clientWidth};
for (const [name, selector] of [["outcome", "#outcome"], ["counts", "table.counts"],
                                ["needs", "#needs-person"]]) {
  const box = document.querySelector(selector).getBoundingClientRect();
  boxes[name] = [box.top, box.bottom];
}
document.body.setAttribute("data-boxes", JSON.stringify(boxes));
</script>"""


def test_the_bundled_examples_report_shows_outcome_counts_and_needs_above_the_fold(repo_dir, tmp_path):
    """The report of the README's main job (the bundled DUO catalogue's dry run), in headless
    Chromium at 1280x800: the outcome, the counts and the needs-a-person section in the first view."""
    from click.testing import CliRunner

    from harvester.cli import main

    binary = _chromium()
    require(binary is not None, "chromium is not installed (apt-get install -y chromium)")
    shutil.copytree(repo_dir / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("state"))
    ran = CliRunner().invoke(main, ["-q", "--config", str(tmp_path / "examples" / "duo-offline.toml"),
                                    "sync", "--dry-run"], catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    html_path = tmp_path / "examples" / "state" / "reports" / "run-1.html"
    probed = tmp_path / "probed.html"
    probed.write_text(html_path.read_text("utf-8").replace("</body>", _FIRST_VIEW_PROBE + "</body>"), "utf-8")
    laid_out = _run_chromium(binary, tmp_path / "profile", "--window-size=1280,800", "--hide-scrollbars",
                             "--dump-dom", probed.resolve().as_uri())
    assert laid_out.returncode == 0, laid_out.stderr[-2000:]
    boxes = json.loads(re.search(r'data-boxes="([^"]*)"', laid_out.stdout).group(1).replace("&quot;", '"'))
    assert boxes["width"] == 1280
    for part in ("outcome", "counts", "needs"):
        assert 0 <= boxes[part][0] and boxes[part][1] <= 800, (part, boxes)
    dom = _Dom()
    dom.feed(laid_out.stdout)
    counts = {el["attrs"]["data-count"]: _Dom.text(el) for el in dom.find("td") if "data-count" in el["attrs"]}
    assert counts["created"] == "57" and _Dom.text(dom.find("span", id="outcome")[0]) == "Geslaagd / Success"
    assert "Actie nodig / Needs a person (0)" in _Dom.text(dom.find("section", id="needs-person")[0])


def test_datasets_not_published_are_listed_with_why_and_need_no_person(quality, validator):
    """A private dataset and another organisation's are never sent: the report lists them, with
    the reason, apart from the changed and unchanged ones, and nobody needs to act on them."""
    plan = _plan()
    plan.actions += [
        Action(action="skip", identifier="https://onderwijsdata.duo.nl/dataset/geheim", source_id="src-8",
               title="Geheim", name="geheim", reason="private at the source"),
        Action(action="skip", identifier="https://onderwijsdata.duo.nl/dataset/inspectie", source_id="src-9",
               title="Inspectie", name="inspectie-data", reason="other organisation: inspectie"),
    ]
    report = build_report(_result(plan=plan, dry_run=True, applied={}, target_writes=0), quality=quality)
    assert not _errors(validator, report)
    assert report["counts"]["skipped"] == 2 and report["planned"]["skip"] == 2
    assert not any(need["identifier"].endswith(("geheim", "inspectie")) for need in report["needs_person"])
    page = render_html(report)
    section = page[page.index('<section id="not-published">'):]
    section = section[:section.index("</section>")]
    assert "Niet gepubliceerd / Not published (2)" in section
    assert "private at the source" in section and "other organisation: inspectie" in section
    assert "geheim" not in page[page.index('<section id="unchanged">'):page.index('<section id="not-published">')]
    text = render_text(report)
    assert "Niet gepubliceerd / Not published: 2" in text and "geheim" in text and "(private at the source)" in text


@pytest.mark.parametrize("value", [
    {"title": "Leerlingen één", "quality": {"total": 120, "ratio": 0.25}, "findings": [], "held": True},
    {"message": "a lone surrogate \ud800 from a broken source"},  # what orjson refuses
    {"count": 2**70},  # an integer beyond 64 bits, which orjson refuses
])
def test_a_json_line_is_compact_json_that_reads_back_as_it_was(value: dict) -> None:
    line = json_line(value)
    assert "\n" not in line and ", " not in line and json.loads(line) == value
    assert line == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_stored_quality_scores_are_read_a_batch_at_a_time(quality, tmp_path):
    score = quality[UPDATED]
    own = {**score, "total": 1}
    actions = [Action(action="unchanged", identifier=f"{BASE}c0ffee00-0000-4000-8000-{i:012d}",
                      source_id=f"src-{i}", name=f"dataset-{i}", title=f"Dataset {i}", findings_count=0,
                      quality=own if i % 7 == 0 else None)
               for i in range(2500)]
    asked: list[list[str]] = []

    def stored_quality(source_ids: list[str]) -> dict[str, dict]:
        asked.append(list(source_ids))
        return {sid: score for sid in source_ids if sid != "src-5"}  # none kept for src-5

    plan = _OnePassPlan(iter(actions))
    json_path, _ = write_run_reports(_ManyResult(plan), tmp_path, stored_quality=stored_quality)
    assert plan.passes == 1 and [len(batch) for batch in asked] == [857, 857, 428]
    assert [sid for batch in asked for sid in batch] == [a.source_id for a in actions if a.quality is None]
    entries = load_report(tmp_path, 8)["datasets"]
    assert entries[0]["quality"] == compact_score(own) and entries[1]["quality"] == compact_score(score)
    assert "quality" not in entries[5] and len(entries) == 2500
