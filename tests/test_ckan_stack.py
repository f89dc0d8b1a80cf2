"""Smoke tests of the local CKAN 2.12 test stack (tests/ckan_stack) and its Solr stand-in.

The stand-in tests talk HTTP to the stand-in the way pysolr does and need nothing installed. The
stack tests use the real stack through the fixtures of tests.ckan_stack.plugin (they skip when it
is not installed, and fail under CI=true).
"""

from __future__ import annotations

import json

import ckanapi
import pytest
import requests

from tests.ckan_stack.plugin import TINY_SCHEMA
from tests.ckan_stack.solr_standin import SolrStandin

ORG_ID = "5a1f0c3e-1111-4c6b-9a59-000000000001"
GROUP_ID = "5a1f0c3e-2222-4c6b-9a59-000000000002"
PKG_IDS = ["0b7c2f9e-0000-4000-8000-000000000001", "3f2d4c1a-0000-4000-8000-000000000002",
           "9e8d7c6b-0000-4000-8000-000000000003"]


def small_dump() -> dict:
    """A 3-package dump shaped like DUO's package_show output."""
    modified = ["2025-11-03T08:00:00.000001", "2026-01-15T10:30:00.000002",
                "2026-02-20T16:45:00.000003"]
    packages = []
    for n, (pid, when) in enumerate(zip(PKG_IDS, modified), start=1):
        packages.append({
            "id": pid, "name": f"duo-dataset-{n}", "title": f"DUO dataset {n}",
            "notes": "Aantallen leerlingen per school", "license_id": "cc-by",
            "owner_org": ORG_ID, "organization": {"id": ORG_ID, "name": "duo"},
            "metadata_created": f"2024-0{n}-01T09:00:00.000000", "metadata_modified": when,
            "num_resources": 1, "state": "active", "type": "dataset", "private": False,
            "tags": [{"name": "onderwijs", "display_name": "onderwijs"}, {"name": f"tag-{n}"}],
            "groups": [{"id": GROUP_ID, "name": "leerlingen"}],
            "extras": [{"key": "theme", "value": "Onderwijs en wetenschap"},
                       {"key": "frequency", "value": "jaarlijks"}],
            "resources": [{
                "id": f"d00d0000-0000-4000-8000-00000000000{n}", "name": f"bestand {n}",
                "url": f"https://example.org/duo/{n}.csv", "format": "CSV", "position": 0,
                "package_id": pid, "datastore_active": True,
                "schema": {"fields": [{"name": "BRIN", "type": "string"}]},
            }],
        })
    return {"format": "ckan-dump/1", "source_url": "https://onderwijsdata.duo.nl",
            "organizations": [{"id": ORG_ID, "name": "duo", "title": "DUO",
                               "package_count": 3, "type": "organization"}],
            "groups": [{"id": GROUP_ID, "name": "leerlingen", "title": "Leerlingen"}],
            "licenses": [], "packages": packages}


# --- Solr stand-in, over HTTP as pysolr talks to it -------------------------------------------

@pytest.fixture
def solr_standin():
    """A running stand-in with a core `c` holding four CKAN-like documents."""
    with SolrStandin() as standin:
        docs = [{"index_id": f"i{n}", "id": pid, "name": f"p{n}", "site_id": "s",
                 "entity_type": "package", "state": "active", "capacity": "public",
                 "title": title, "tags": tags, "metadata_modified": modified}
                for n, (pid, title, tags, modified) in enumerate([
                    ("c", "Leerlingen per school", ["onderwijs", "po"], "2026-02-01T00:00:00Z"),
                    ("a", "Studenten hbo", ["onderwijs"], "2025-12-31T23:59:59.999Z"),
                    ("d", "Examens", ["vo"], "2026-01-01T00:00:00Z"),
                    ("b", "Scholen adressen", [], "2026-03-01T12:00:00Z")])]
        post(standin, "update/?commit=true", json.dumps(docs), "application/json")
        yield standin


def post(standin: SolrStandin, path: str, body: str, ctype: str) -> requests.Response:
    """POST to core `c` of the stand-in."""
    response = requests.post(f"{standin.core_url('c')}/{path}", data=body.encode(),
                             headers={"Content-Type": f"{ctype}; charset=utf-8"}, timeout=5)
    response.raise_for_status()
    return response


def select(standin: SolrStandin, **params) -> dict:
    """GET select on core `c`; returns the decoded JSON."""
    params = {k.replace("_", "."): v for k, v in params.items()}
    response = requests.get(f"{standin.core_url('c')}/select/", timeout=5,
                            params={"wt": "json", **params})
    response.raise_for_status()
    return response.json()


def ids(answer: dict) -> list[str]:
    """The ids of the returned documents, in order."""
    return [doc["id"] for doc in answer["response"]["docs"]]


def test_standin_pages_by_id(solr_standin):
    fq = ['+site_id:"s"', "+state:active"]
    first = select(solr_standin, q="*:*", fq=fq, sort="id asc", rows=2, start=0, fl="id")
    second = select(solr_standin, q="*:*", fq=fq, sort="id asc", rows=2, start=2, fl="id")
    assert first["response"]["numFound"] == second["response"]["numFound"] == 4
    assert ids(first) + ids(second) == ["a", "b", "c", "d"]


def test_standin_date_ranges_and_negation(solr_standin):
    since = select(solr_standin, q="*:*", fq="metadata_modified:[2026-01-01T00:00:00Z TO *]",
                   sort="metadata_modified desc")
    assert ids(since) == ["b", "c", "d"]
    exclusive = select(solr_standin, q="*:*",
                       fq="metadata_modified:{2026-01-01T00:00:00Z TO *]")
    assert sorted(ids(exclusive)) == ["b", "c"]
    assert ids(select(solr_standin, q="-tags:onderwijs", sort="id asc")) == ["b", "d"]
    assert ids(select(solr_standin, q="tags:onderwijs AND -name:p0")) == ["a"]


def test_standin_field_queries_dismax_and_facets(solr_standin):
    either = select(solr_standin, q='name:"p2" OR id:"b"', q_op="AND", sort="id asc")
    assert ids(either) == ["b", "d"]
    free_text = select(solr_standin, q="scholen", defType="dismax", qf="name^4 title^4 text")
    assert ids(free_text) == ["b"]
    answer = select(solr_standin, q="*:*", facet="true", facet_field="tags", facet_mincount=1)
    assert answer["facet_counts"]["facet_fields"]["tags"] == ["onderwijs", 2, "po", 1, "vo", 1]


def test_standin_xml_delete_and_errors(solr_standin):
    post(solr_standin, "update/?commit=true",
         '<delete><query>+entity_type:package AND +(id:"a" OR name:"a") AND +site_id:"s"'
         "</query></delete>", "text/xml")
    assert select(solr_standin, q="*:*")["response"]["numFound"] == 3
    core = solr_standin.core_url("c")
    bad = requests.get(f"{core}/select/", params={"q": "*:*", "sort": "id up"}, timeout=5)
    assert bad.status_code == 400 and "Can't determine a Sort Order" in bad.json()["error"]["msg"]
    schema = requests.get(f"{core}/schema", params={"wt": "schema.xml"}, timeout=5)
    assert 'name="ckan-2.12"' in schema.text


# --- the real stack ---------------------------------------------------------------------------

def search(site, **params) -> dict:
    """package_search on a site."""
    return site.ckan.action.package_search(**params)


def test_stack_comes_up(ckan_source):
    status = ckan_source.ckan.action.status_show()
    assert status["ckan_version"] == "2.12.0"
    assert "activity" in status["extensions"]
    assert ckan_source.url.startswith("http://127.0.0.1:") and ckan_source.api_key


def test_seed_pages_with_sort_id_asc(ckan_source):
    ckan_source.seed(small_dump())
    pages = [search(ckan_source, sort="id asc", rows=2, start=start) for start in (0, 2)]
    assert [page["count"] for page in pages] == [3, 3]
    seen = [pkg["id"] for page in pages for pkg in page["results"]]
    assert seen == sorted(PKG_IDS)


def test_seed_keeps_ids_extras_resources_and_dates(ckan_source):
    ckan_source.seed(small_dump())
    pkg = ckan_source.ckan.action.package_show(id="duo-dataset-2")
    assert pkg["id"] == PKG_IDS[1] and pkg["owner_org"] == ORG_ID
    assert {e["key"]: e["value"] for e in pkg["extras"]}["theme"] == "Onderwijs en wetenschap"
    assert sorted(t["name"] for t in pkg["tags"]) == ["onderwijs", "tag-2"]
    assert [g["name"] for g in pkg["groups"]] == ["leerlingen"]
    assert pkg["metadata_modified"] == "2026-01-15T10:30:00.000002"
    assert pkg["metadata_created"] == "2024-02-01T09:00:00"
    resource = pkg["resources"][0]
    assert resource["id"] == "d00d0000-0000-4000-8000-000000000002"
    assert resource["datastore_active"] is True
    assert resource["schema"] == {"fields": [{"name": "BRIN", "type": "string"}]}


def test_metadata_modified_range_filter(ckan_source):
    ckan_source.seed(small_dump())
    since = search(ckan_source, fq="metadata_modified:[2026-01-01T00:00:00Z TO *]",
                   sort="metadata_modified desc")
    assert since["count"] == 2
    assert [p["id"] for p in since["results"]] == [PKG_IDS[2], PKG_IDS[1]]


def test_patch_then_show(ckan_source):
    ckan_source.seed(small_dump())
    ckan_source.ckan.action.package_patch(id=PKG_IDS[0], title="Nieuwe titel")
    shown = ckan_source.ckan.action.package_show(id=PKG_IDS[0])
    assert shown["title"] == "Nieuwe titel"
    assert shown["metadata_modified"] != "2025-11-03T08:00:00.000001"
    found = search(ckan_source, q="title:nieuwe")
    assert [p["id"] for p in found["results"]] == [PKG_IDS[0]]


def test_delete_removes_from_search(ckan_source):
    ckan_source.seed(small_dump())
    ckan_source.ckan.action.package_delete(id=PKG_IDS[1])
    remaining = search(ckan_source, rows=10)
    assert remaining["count"] == 2
    assert PKG_IDS[1] not in [p["id"] for p in remaining["results"]]
    assert ckan_source.ckan.action.package_show(id=PKG_IDS[1])["state"] == "deleted"


def test_reset_purges_everything_and_seed_file_reads_jsonl(ckan_source, tmp_path):
    ckan_source.seed(small_dump())
    ckan_source.ckan.action.package_delete(id=PKG_IDS[0])
    ckan_source.reset()
    assert search(ckan_source)["count"] == 0
    assert ckan_source.ckan.action.organization_list() == []
    with pytest.raises(ckanapi.NotFound):
        ckan_source.ckan.action.package_show(id=PKG_IDS[0])
    lines = tmp_path / "packages.jsonl"
    lines.write_text("\n".join(json.dumps(p) for p in small_dump()["packages"]))
    report = ckan_source.seed_file(lines)
    assert report.packages == PKG_IDS
    assert search(ckan_source, fq="organization:duo")["count"] == 3


def test_target_with_scheming_rejects_missing_required_field(ckan_target_factory):
    target = ckan_target_factory(TINY_SCHEMA)
    assert "scheming_datasets" in target.ckan.action.status_show()["extensions"]
    org = target.ckan.action.organization_create(name="publisher")
    with pytest.raises(ckanapi.ValidationError) as error:
        target.ckan.action.package_create(name="no-theme", title="No theme",
                                          owner_org=org["id"])
    assert "theme" in error.value.error_dict
    created = target.ckan.action.package_create(name="with-theme", title="With theme",
                                                owner_org=org["id"], theme="Onderwijs")
    assert target.ckan.action.package_show(id=created["id"])["theme"] == "Onderwijs"
