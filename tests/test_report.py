"""The run report (harvester.report.build, .text, .html): JSON against its schema, text, and the
HTML page as headless Chromium renders it.

The sync result is built by hand from Plan/Action objects: a conflict, an invalid dataset, an
update with a field-level diff, a withdrawal held back by the threshold, a failed write, a
create and an unchanged dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from rdflib import Graph

from harvester.dcat.tables import load_mappings
from harvester.jobs import SyncResult
from harvester.plan import Action, Plan
from harvester.report.build import SCHEMA_PATH, build_report, load_report, write_reports
from harvester.report.html import render_html
from harvester.report.quality import dataset_urls, score_dataset
from harvester.report.scrub import REDACTED, scrub
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
               reason="the target already holds 'adressen-ho' in organisation 'ocw' with this "
                      "identifier, not created by this harvester; left alone (use --adopt to take "
                      "it over)",
               changes=[{"field": "notes", "old": "Hun beschrijving", "new": "Onze beschrijving"}]),
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
                         "new": "https://onderwijsdata.duo.nl/datastore/dump/r1"}]),
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
               changes=[{"field": "title", "old": None, "new": "Nieuwe dataset"}]),
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


def test_report_validates_against_schema(report, validator):
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    # and survives a JSON round trip unchanged
    assert json.loads(json.dumps(report)) == report


def test_counts_and_completeness(report):
    assert report["counts_kind"] == "done"
    assert report["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "withdrawn": 0,
                                "conflict": 1, "invalid": 1, "failed": 1, "withdraw_held": 1}
    assert report["planned"] == {"create": 1, "update": 2, "unchanged": 1, "withdraw": 0,
                                 "conflict": 1, "invalid": 1, "withdraw_held": 1}
    assert report["outcome"] == "attention"
    assert report["completeness"] == {"mode": "full", "complete": True,
                                      "harvest_outcome": "success", "seen": 6, "total": 6,
                                      "problems": []}
    assert report["notes"] and "threshold" in report["notes"][0]


def test_needs_a_person(report):
    needs = {(n["kind"], n["identifier"]) for n in report["needs_person"]}
    assert needs == {("conflict", CONFLICT), ("invalid", INVALID), ("withdraw_held", HELD),
                     ("failed", FAILED)}
    invalid = next(n for n in report["needs_person"] if n["kind"] == "invalid")
    assert any("Distribution has no licence" in d for d in invalid["details"])
    assert any("other-closed" in d or "license_id" in d for d in invalid["details"])
    assert not any("No keywords" in d for d in invalid["details"])  # warnings are not listed


def test_datasets_carry_diff_findings_problems_unmapped_and_quality(report, quality):
    by_id = {d["identifier"]: d for d in report["datasets"]}
    assert by_id[UPDATED]["changes"][0] == {"field": "title", "old": "Ingeschrevenen ho",
                                            "new": "Ingeschrevenen hoger onderwijs"}
    assert by_id[INVALID]["findings"][0]["path"] == "dct:license"
    assert by_id[INVALID]["unmapped"][0]["value"] == "other-closed"
    assert by_id[FAILED]["problems"] == [{"field": "contact_point_email",
                                          "message": "must be an e-mail address"}]
    assert by_id[FAILED]["messages"][0].startswith("HTTP 409")
    assert by_id[HELD]["held"] is True and by_id[HELD]["needs_person"] == "withdraw_held"
    assert by_id[UPDATED]["quality"] == quality[UPDATED]
    assert by_id[HELD]["quality"] is None
    catalogue = report["quality"]["catalogue"]
    assert catalogue["datasets"] == 5 and report["quality"]["datasets_scored"] == 5
    assert catalogue["urls_checked"] is False  # only some datasets had their URLs checked


def test_dry_run_reports_planned_counts(quality, validator):
    report = build_report(_result(dry_run=True, applied={}, target_writes=0), quality=quality)
    assert report["counts_kind"] == "planned"
    assert report["counts"] == {"created": 1, "updated": 2, "unchanged": 1, "withdrawn": 0,
                                "conflict": 1, "invalid": 1, "failed": 0, "withdraw_held": 1}
    assert not list(validator.iter_errors(report))
    assert "Gepland / Planned" in render_text(report)


def test_failed_harvest_without_plan(validator):
    summary = _harvest(outcome="failed", complete=False, seen=2,
                       problems=["package_search: HTTP 502 after 5 attempts"],
                       error="the source did not answer")
    result = _result(harvest=summary, plan=None, error="the source did not answer", applied={},
                     counters={})
    report = build_report(result)
    assert not list(validator.iter_errors(report))
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
    assert not list(validator.iter_errors(report))
    assert report["outcome"] == "incomplete"
    assert report["completeness"]["mode"] == "incremental"


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


def test_quality_from_the_actions(quality, validator):
    """Without a quality map, each action's own `quality` (Prepared.quality) is reported."""
    result = _result()
    for action in result.plan.actions:
        action.quality = quality.get(action.identifier)
    report = build_report(result)
    assert not list(validator.iter_errors(report))
    by_id = {d["identifier"]: d for d in report["datasets"]}
    assert by_id[INVALID]["quality"] == quality[INVALID]
    assert report["quality"]["catalogue"]["datasets"] == 5


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

def test_text_report(report):
    text = render_text(report)
    assert "Run 7: duo -> https://data.overheid.nl" in text
    assert "Actie nodig / Needs a person: 4" in text
    assert CONFLICT in text and HELD in text
    assert "title: Ingeschrevenen ho -> Ingeschrevenen hoger onderwijs" in text
    assert "Kwaliteit catalogus / Catalogue quality (5 datasets)" in text


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
    outputs = {"json": json_path.read_text("utf-8"), "html": html_path.read_text("utf-8"),
               "text": render_text(report), "dict": json.dumps(report, ensure_ascii=False)}
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
        if tag not in {"meta", "br", "rect", "input", "img", "hr", "link"}:
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

    # the summary counts
    counts = {el["attrs"]["data-count"]: _Dom.text(el) for el in dom.find("td")
              if "data-count" in el["attrs"]}
    assert counts == {"created": "1", "updated": "1", "unchanged": "1", "withdrawn": "0",
                      "conflict": "1", "invalid": "1", "failed": "1", "withdraw_held": "1"}
    assert _Dom.text(dom.find("span", id="outcome")[0]) == "Aandacht nodig / Needs attention"

    # the conflict, in the needs-a-person list and among the datasets
    section = dom.find("section", id="needs-person")[0]
    assert "Actie nodig / Needs a person (4)" in _Dom.text(section)
    conflict_rows = dom.find("tr", data_kind="conflict")
    assert len(conflict_rows) == 1
    assert CONFLICT in _Dom.text(conflict_rows[0]) and "--adopt" in _Dom.text(conflict_rows[0])
    assert dom.find("tr", data_kind="withdraw_held") and dom.find("tr", data_kind="invalid")
    assert dom.find("details", data_action="conflict", data_identifier=CONFLICT)

    # the update's field-level diff
    update = dom.find("details", data_action="update", data_identifier=UPDATED)[0]
    assert "Ingeschrevenen ho" in _Dom.text(update) and "resources[0].url" in _Dom.text(update)

    # the catalogue's quality chart: one bar per dimension, as wide as the points earned
    chart = dom.find("svg", id="quality-chart")
    assert len(chart) == 1
    bars = [el for el in dom.find("g") if el["attrs"].get("class") == "bar"
            and "data-dimension" in el["attrs"]]
    dims = [b["attrs"]["data-dimension"] for b in bars[:5]]
    assert dims == ["findability", "accessibility", "interoperability", "reusability",
                    "contextuality"]
    catalogue = report["quality"]["catalogue"]["dimensions"]
    assert float(bars[0]["attrs"]["data-points"]) == pytest.approx(
        catalogue["findability"]["points"])
    assert "Vindbaarheid / Findability" in _Dom.text(bars[0])

    # a screenshot, kept as a test artefact
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "run-report.png"
    shot.unlink(missing_ok=True)
    taken = _run_chromium(binary, tmp_path / "profile-shot", f"--screenshot={shot}",
                          "--window-size=1280,2400", "--hide-scrollbars", url)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copyfile(html_path, ARTIFACTS / "run-report.html")
