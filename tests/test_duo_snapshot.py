"""The bundled offline DUO catalogue snapshot (examples/duo/duo-catalogue.json).

The structural tests read only the committed snapshot. The reproducibility test rebuilds it
from ../shared with examples/duo/build_snapshot.py (skips without ../shared, fails under CI).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "examples" / "duo" / "duo-catalogue.json"
BUILD_SCRIPT = REPO / "examples" / "duo" / "build_snapshot.py"
INTERNAL_HOST = "beheer-ggm-ckan-prd.apps.prd.duo.rijksapps.nl"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DUO_GROUPS = {
    "basisonderwijs",
    "voorgezet-onderwijs",
    "middelbaarberoepsonderwijs",
    "hoger-onderwijs",
    "speciaal-onderwijs-en-leerproblemen",
    "inburgering",
    "arbeidsovereenkomst-en-cao",
}


def _load_build_module():
    spec = importlib.util.spec_from_file_location("duo_build_snapshot", BUILD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def packages(snapshot) -> list[dict]:
    return snapshot["packages"]


def test_committed_snapshot_equals_a_fresh_build(shared_dir):
    build = _load_build_module()
    fresh = build.render(build.build(shared_dir))
    assert SNAPSHOT.read_bytes() == fresh, (
        "examples/duo/duo-catalogue.json is out of date: run python examples/duo/build_snapshot.py"
    )


def test_build_is_deterministic(shared_dir):
    build = _load_build_module()
    assert build.render(build.build(shared_dir)) == build.render(build.build(shared_dir))


def test_every_real_dataset_name_and_nothing_else(shared_dir, packages):
    catalogue = json.loads(
        (shared_dir / "reference/duo/cedanl-catalog/duo_resources.json").read_text("utf-8")
    )
    assert {rec["_ckan_id"] for rec in catalogue} == {p["name"] for p in packages}
    real_resources = {r["id"]: r for rec in catalogue for r in rec["_resources"]}
    ours = {r["id"]: r for p in packages for r in p["resources"]}
    assert set(real_resources) == set(ours)
    for rid, real in real_resources.items():
        assert ours[rid]["url"] == real["url"]
        assert ours[rid]["format"] == real["format"]
        assert ours[rid]["name"] == real["naam"]


def test_top_level_shape(snapshot):
    assert snapshot["format"] == "ckan-dump/1"
    assert snapshot["source_url"] == "https://onderwijsdata.duo.nl"
    for key in ("organizations", "groups", "licenses", "packages"):
        assert isinstance(snapshot[key], list) and snapshot[key]
    assert [o["name"] for o in snapshot["organizations"]] == ["duo"]
    assert all("users" not in o for o in snapshot["organizations"] + snapshot["groups"])
    assert {g["name"] for g in snapshot["groups"]} == DUO_GROUPS
    assert {"notspecified", "odc-pddl", "odc-odbl", "cc-by"} <= {
        lic["id"] for lic in snapshot["licenses"]
    }


def test_57_packages_with_unique_ids_and_names(packages):
    assert len(packages) == 57
    assert len({p["id"] for p in packages}) == 57
    assert len({p["name"] for p in packages}) == 57
    assert all(UUID.match(p["id"]) for p in packages)


def test_packages_look_like_package_show(snapshot, packages):
    org = snapshot["organizations"][0]
    group_ids = {g["name"]: g["id"] for g in snapshot["groups"]}
    licence_ids = {lic["id"] for lic in snapshot["licenses"]}
    required = {
        "id", "name", "title", "notes", "url", "version", "author", "maintainer",
        "maintainer_email", "license_id", "license_title", "license_url", "metadata_created",
        "metadata_modified", "state", "type", "private", "owner_org", "organization", "groups",
        "tags", "extras", "num_resources", "num_tags", "resources",
    }
    for p in packages:
        assert required <= set(p), p["name"]
        assert p["state"] == "active" and p["type"] == "dataset" and p["private"] is False
        assert p["owner_org"] == org["id"] == p["organization"]["id"]
        assert p["license_id"] in licence_ids
        assert p["num_resources"] == len(p["resources"])
        assert p["num_tags"] == len(p["tags"])
        assert p["metadata_created"] <= p["metadata_modified"]
        for g in p["groups"]:
            assert {"id", "name", "title", "display_name"} <= set(g)
            assert group_ids[g["name"]] == g["id"]
        for extra in p["extras"]:
            assert set(extra) == {"key", "value"}


def test_every_package_has_resources(packages):
    res_required = {
        "id", "package_id", "name", "description", "format", "mimetype", "url", "url_type",
        "datastore_active", "position", "created", "last_modified", "size", "hash", "state",
    }
    for p in packages:
        assert p["resources"], p["name"]
        for pos, r in enumerate(p["resources"]):
            assert res_required <= set(r), (p["name"], r["id"])
            assert r["package_id"] == p["id"]
            assert r["position"] == pos
            assert UUID.match(r["id"])
    all_ids = [r["id"] for p in packages for r in p["resources"]]
    assert len(all_ids) == len(set(all_ids))


def test_package_uuid_matches_resource_download_urls(packages):
    for p in packages:
        for r in p["resources"]:
            m = re.search(r"/dataset/([0-9a-f-]{36})/resource/([0-9a-f-]{36})/download/", r["url"])
            if m:
                assert m.group(1) == p["id"] and m.group(2) == r["id"]


def test_formats(packages):
    formats = Counter(r["format"] for p in packages for r in p["resources"])
    assert set(formats) == {"CSV", "PDF", "PNG"}
    for p in packages:
        for r in p["resources"]:
            if r["datastore_active"]:
                assert r["format"] == "CSV" and r["mimetype"] == "text/csv" and r["hash"] is None


def test_quirk_crlf_notes(packages):
    assert any("\r\n" in p["notes"] for p in packages)
    p03 = next(p for p in packages if p["name"] == "p03hoinschr")
    assert p03["notes"].endswith("duaal onderwijs.ht.")  # DUO's own typo, kept


def test_quirk_misspelt_group(packages):
    assert any(g["name"] == "voorgezet-onderwijs" for p in packages for g in p["groups"])


def test_quirk_internal_host_urls(packages):
    assert any(INTERNAL_HOST in r["url"] for p in packages for r in p["resources"])


def test_quirk_theme_extra_plain_uri_and_json_list(packages):
    values = [e["value"] for p in packages for e in p["extras"] if e["key"] == "theme"]
    plain = [v for v in values if v.startswith("http://standaarden.overheid.nl/owms/terms/")]
    listed = [v for v in values if v.startswith("[")]
    assert plain and listed
    for v in listed:
        uris = json.loads(v)
        assert isinstance(uris, list) and len(uris) > 1
        assert all(u.startswith("http://standaarden.overheid.nl/owms/terms/") for u in uris)


def test_resource_schema_where_known(packages):
    voins = next(p for p in packages if p["name"] == "01voins-v1")
    fields = voins["resources"][0]["schema"]["fields"]
    assert fields[0]["name"] == "SCHOOLJAAR"
    assert {f["type"] for f in fields} <= {"number", "string", "integer"}
