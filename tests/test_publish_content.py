"""What a published dataset says: source CKAN -> harvester -> the data.overheid.nl stand-in.

The source is the local CKAN 2.12 (tests/ckan_stack), seeded with packages made for these tests:
one without resources but with a licence, one with emoji (zero-width joiners) and Markdown
headings, one with a mislabelled image, resources without descriptions (one with a DataStore
column schema) and a documentation PDF. After a sync, the assertions read what the target holds.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harvester.cli import main
from tests.conftest import REPO
from tests.test_publish_ckan import KEY_ENV, ORG, donl, target_packages  # noqa: F401 (fixture)

SNAPSHOT = REPO / "examples" / "duo" / "duo-catalogue.json"
OFFLINE = REPO / "examples" / "duo-offline.toml"
CC_BY = "http://creativecommons.org/licenses/by/4.0/deed.nl"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FILES = "https://bestanden.example.org/onderwijs"
ZWJ = "\u200d"
COLUMNS = ["PEILJAAR", "BRINNUMMER", "VESTIGINGSNUMMER", "INSTELLINGSNAAM", "STRAATNAAM",
           "HUISNUMMER", "POSTCODE", "PLAATSNAAM", "GEMEENTENAAM", "PROVINCIE", "DENOMINATIE",
           "AANTAL LEERLINGEN"]


def _package(template: dict[str, Any], number: int, name: str, title: str, notes: str,
             resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A DUO-like package (organisation, groups, themes, licence cc-by) of our own."""
    package_id = f"00000000-0000-4000-8000-{number:012d}"
    pkg = copy.deepcopy(template)
    pkg.update(id=package_id, name=name, title=title, notes=notes,
               metadata_modified="2026-11-01T10:00:00.000000",
               metadata_created="2026-10-01T10:00:00.000000",
               resources=[dict(res, id=f"{package_id[:-4]}{number:02d}{i:02d}", position=i)
                          for i, res in enumerate(resources)])
    for key in ("num_resources", "creator_user_id"):
        pkg.pop(key, None)
    return pkg


def _content_dump() -> dict[str, Any]:
    dump = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    template = next(p for p in dump["packages"] if p["name"] == "adressen_so")
    csv = {"format": "CSV", "mimetype": "text/csv", "datastore_active": True}
    dump["packages"] = [
        _package(template, 1, "zonder-bronnen", "Een dataset zonder bronnen",
                 "Deze dataset heeft (nog) geen bestanden, wel een licentie.", []),
        _package(template, 2, "emoji-en-koppen", f"Programmeurs 👩{ZWJ}💻 in het onderwijs",
                 f"## Over 👨{ZWJ}👩{ZWJ}👧 gezinnen\r\nDe eerste alinea.\r\n\r\n"
                 "## Bronnen\r\nDe tweede alinea.",
                 [dict(csv, name="Gezinnen", description="Aantallen gezinnen.",
                       url=f"{FILES}/gezinnen.csv")]),
        _package(template, 3, "bestanden", "Bestanden van allerlei soort",
                 "Een dataset met een afbeelding, tabellen en een toelichting.", [
                     {"name": "Model", "format": "PNG", "url": f"{FILES}/model.jpg"},
                     dict(csv, name="Leerlingen per vestiging", url=f"{FILES}/leerlingen.csv",
                          schema={"fields": [{"name": c, "type": "string"} for c in COLUMNS]}),
                     dict(csv, name="Adressen", url=f"{FILES}/adressen_so.csv"),
                     {"name": "Toelichting", "format": "PDF", "mimetype": "application/pdf",
                      "url": f"{FILES}/toelichting.pdf"},
                 ]),
    ]
    return dump


def _write_config(tmp: Path, source_url: str, target_url: str, api_key: str) -> Path:
    """A config: the source CKAN, the stand-in target, DUO's mapping with PDFs as documentation
    (the image, labelled PNG, stays a distribution)."""
    mapping = OFFLINE.read_text(encoding="utf-8").split("# How DUO's CKAN packages become", 1)[1]
    mapping = mapping.replace('documentation_formats = ["PDF", "PNG"]',
                              'documentation_formats = ["PDF"]')
    assert 'documentation_formats = ["PDF"]' in mapping
    config = tmp / "harvester.toml"
    config.write_text(
        f'state = "state/h.sqlite"\n\n[sources.duo]\nurl = "{source_url}"\n\n'
        f'[targets.test]\nurl = "{target_url}"\napi_key_env = "{KEY_ENV}"\n'
        f'owner_org = "{ORG}"\n\n# How DUO\'s CKAN packages become' + mapping, encoding="utf-8")
    os.environ[KEY_ENV] = api_key
    return config


def _sync(config: Path) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "sync", "--target",
                                       "test"])
    summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, summary, result.output


@pytest.fixture()
def published(ckan_source: Any, donl: Any, tmp_path: Path) -> dict[str, Any]:  # noqa: F811
    """The content packages synced once: the run's summary and report, and what the target
    holds by package name."""
    ckan_source.seed(_content_dump())
    code, summary, output = _sync(_write_config(tmp_path, ckan_source.url, donl.url,
                                                donl.api_key))
    assert code == 0, output
    report = json.loads(Path(summary["report_json"]).read_text(encoding="utf-8"))
    held = {p["name"]: donl.action("package_show", id=p["name"]) for p in target_packages(donl)}
    return {"summary": summary, "report": report, "target": held}


@pytest.mark.ckan
def test_the_stand_in_takes_every_package(published: dict[str, Any]) -> None:
    counts = published["summary"]["counts"]
    assert counts["created"] == 3 and counts["failed"] == 0 and counts["invalid"] == 0
    assert sorted(published["target"]) == ["bestanden", "emoji-en-koppen", "zonder-bronnen"]
    assert all(not d.get("problems") for d in published["report"]["datasets"])


@pytest.mark.ckan
def test_a_dataset_without_resources_keeps_its_licence(published: dict[str, Any]) -> None:
    package = published["target"]["zonder-bronnen"]
    assert package["resources"] == []
    assert package["license_id"] == CC_BY


@pytest.mark.ckan
def test_text_as_written(published: dict[str, Any]) -> None:
    package = published["target"]["emoji-en-koppen"]
    assert package["title"] == f"Programmeurs 👩{ZWJ}💻 in het onderwijs"
    assert package["notes"] == (f"Over 👨{ZWJ}👩{ZWJ}👧 gezinnen\n\nDe eerste alinea.\n\n"
                                "Bronnen\n\nDe tweede alinea.")


@pytest.mark.ckan
def test_resources_are_described_and_the_image_has_the_format_of_its_file(
        published: dict[str, Any]) -> None:
    package = published["target"]["bestanden"]
    resources = {r["name"]: r for r in package["resources"]}
    assert sorted(resources) == ["Adressen", "Leerlingen per vestiging", "Model"]
    assert resources["Leerlingen per vestiging"]["description"] == \
        "CSV, 12 kolommen: " + ", ".join(COLUMNS[:10]) + ", ..."
    assert resources["Adressen"]["description"] == "CSV-bestand adressen_so.csv"
    image = resources["Model"]
    assert image["format"] == FILE_TYPE + "JPEG"
    assert image["description"] == "JPEG-bestand model.jpg"
    [entry] = [d for d in published["report"]["datasets"] if d["name"] == "bestanden"]
    [issue] = [u for u in entry["unmapped"] if u["field"].endswith(".format")]
    assert issue["severity"] == "warning" and issue["value"] == "PNG"
    assert "'Model'" in issue["message"] and "JPEG" in issue["message"]


@pytest.mark.ckan
def test_the_documentation_pdf_is_published_once(published: dict[str, Any]) -> None:
    package = published["target"]["bestanden"]
    pdf = f"{FILES}/toelichting.pdf"
    assert package["documentation"] == [pdf]
    assert all(pdf not in (r.get("url"), *(r.get("download_url") or []))
               for r in package["resources"])
    assert json.dumps(package).count(pdf) == 1


@pytest.mark.ckan
def test_an_invalid_datasets_issues_name_it_by_its_source_name(
        ckan_source: Any, donl: Any, tmp_path: Path) -> None:  # noqa: F811
    dump = _content_dump()
    dump["packages"] = dump["packages"][:1]
    dump["packages"][0]["notes"] = ""  # dct:description is mandatory
    ckan_source.seed(dump)
    code, summary, output = _sync(_write_config(tmp_path, ckan_source.url, donl.url,
                                                donl.api_key))
    assert code == 1 and summary["counts"]["invalid"] == 1, output
    report = json.loads(Path(summary["report_json"]).read_text(encoding="utf-8"))
    [entry] = report["datasets"]  # the report names it by its source name, not its id
    assert entry["action"] == "invalid" and entry["unmapped"] and entry["name"] == "zonder-bronnen"
    assert target_packages(donl) == []
