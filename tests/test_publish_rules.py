"""Publishing exactly what may be published (issue 16): the source and comparison side, fast,
against a scripted CKAN client; then end to end against real CKAN servers (marked `ckan`): a
source seeded with datasets made here, and the data.overheid.nl stand-in.

- Only public, active datasets are published; one turned private, draft or deleted at the
  source is withdrawn at the next complete run, without the grace period.
- A target profile publishes the source organisations it maps, each under its own organisation.
- A full harvest compares content: a change that kept metadata_modified is seen.
- A change that alters only the modification date is not written.
- The fields the portal's curators set survive an update and are no drift.
- A listing that failed makes no context calls, and a partial context is never kept.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harvester.config import SourceConfig
from harvester.donl.compare import (
    CURATED_FIELDS,
    FieldChange,
    canonical_hash,
    diff_packages,
    keep_curated,
    only_modification_date,
)
from harvester.errors import SourceError
from harvester.source.ckan import CkanSource
from harvester.source.harvest import harvest
from harvester.store.state import StateStore
from tests.test_publish_ckan import ORG, SNAPSHOT, Setup, donl, target_packages  # noqa: F401 (donl: a fixture)

URL = "https://ckan.example.org"


def package(ident: str, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "name": f"name-{ident}", "title": ident.upper(), "state": "active", "private": False,
            "metadata_modified": "2026-01-01T00:00:00", "organization": {"name": "duo"}, **fields}


class ScriptedCkan:
    """The action client of a CkanSource, answering from `packages` (the listing), `shown`
    (package_show by id: a dict, or the text of the error it raises) and `fail` (action ->
    error text); it logs every call."""

    def __init__(self, packages: list[dict[str, Any]], shown: dict[str, Any] | None = None,
                 fail: dict[str, str] | None = None) -> None:
        self.packages, self.shown, self.fail = packages, shown or {}, fail or {}
        self.log: list[tuple[str, dict[str, Any]]] = []

    @property
    def requests_made(self) -> int:
        return len(self.log)

    def url(self, action: str) -> str:
        return f"{URL}/api/3/action/{action}"

    def call(self, action: str, params: dict[str, Any] | None = None, *, post: bool = False) -> Any:
        params = params or {}
        self.log.append((action, params))
        if action in self.fail:
            raise SourceError(f"CKAN action {action} at {self.url(action)}: {self.fail[action]}")
        if action == "package_search":
            rows = [{k: p[k] for k in ("id", "name", "metadata_modified")} if params.get("fl") else p
                    for p in self.packages]
            return {"count": len(rows), "results": copy.deepcopy(rows)}
        if action == "package_show":
            answer = self.shown.get(params["id"], "404 not found: Not found")
            if isinstance(answer, str):
                raise SourceError(f"CKAN action package_show at {self.url(action)}: {answer}")
            return copy.deepcopy(answer)
        return {"organization_show": {"name": "duo", "title": "DUO"}, "group_list": [],
                "license_list": [{"id": "cc-by"}]}[action]

    def actions(self) -> list[str]:
        return [action for action, _ in self.log]


def run(store: StateStore, client: ScriptedCkan, mode: str = "full") -> Any:
    config = SourceConfig(name="src", url=URL, organization="duo")
    return harvest(config, store, mode, source=CkanSource(config, client=client))  # type: ignore[arg-type]


def test_a_full_harvest_reads_every_package_whole_and_sees_a_change_that_kept_the_date(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        resources = [{"id": "r1", "url": "https://x/1"}, {"id": "r2", "url": "https://x/2"}]
        run(store, ScriptedCkan([package("a", resources=resources), package("b")]))
        client = ScriptedCkan([package("a", resources=resources[:1]), package("b")])
        summary = run(store, client)
        [(_, listing)] = [(a, q) for a, q in client.log if a == "package_search"]
        assert "fl" not in listing and "fq" not in listing  # whole packages, every organisation
        assert (summary.seen, summary.changed, summary.unchanged) == (2, 1, 1)
        record = store.record("src", "a")
        assert record is not None and [r["id"] for r in record.raw["resources"]] == ["r1"]
        assert store.source_organization("src") == "duo"
        incremental = ScriptedCkan([package("a", resources=resources[:1]), package("b")])
        run(store, incremental, "incremental")
        assert incremental.log[0][1]["fl"] == "id,name,metadata_modified"  # incremental runs stay light


def test_a_full_harvest_writes_only_the_packages_that_changed(tmp_path: Path, monkeypatch) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        run(store, ScriptedCkan([package("a"), package("b"), package("c", private=True)]))
        staged: list[str] = []
        stage = store.stage_records
        monkeypatch.setattr(store, "stage_records", lambda run_id, packages, hashes=None: (
            staged.extend(p["id"] for p in packages), stage(run_id, packages, hashes))[1])
        summary = run(store, ScriptedCkan([package("a", title="Nieuw"), package("b"), package("c")]))
        assert staged == ["a", "c"] and (summary.changed, summary.unchanged) == (2, 1)
        assert [r.source_id for r in store.records("src")] == ["a", "b", "c"]


def test_datasets_no_longer_listed_are_asked_about_one_by_one(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        run(store, ScriptedCkan([package(i) for i in "abcde"]))
        client = ScriptedCkan([package("a")], shown={
            "b": package("b", state="deleted"),                           # with a key: shown deleted
            "c": "403 not authorised: User  not authorized to read package c",  # private, draft or deleted
            "d": package("d"),                                            # public after all (an index behind)
        })                                                                # e: 404, purged: gone
        summary = run(store, client)
        assert client.actions() == ["package_search"] + ["package_show"] * 4 + [
            "organization_show", "group_list", "license_list"]
        assert summary.complete and (summary.gone, summary.changed, summary.unchanged) == (1, 2, 2)
        access = {r.source_id: r.access for r in store.records("src", include_unpublished=True)}
        assert access == {"a": "public", "b": "deleted", "c": "withheld", "d": "public"}
        assert store.record("src", "e").gone_at is not None  # type: ignore[union-attr]


def test_after_a_failed_question_the_rest_count_as_gone(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        run(store, ScriptedCkan([package(i) for i in "abc"]))
        client = ScriptedCkan([package("a")], shown={"b": "answered HTTP 500, success false: boom"})
        summary = run(store, client)
        assert client.actions().count("package_show") == 1
        assert summary.gone == 2 and any("asking for it failed" in p for p in summary.problems)


def test_a_failed_listing_makes_no_context_calls_and_keeps_the_stored_context(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        run(store, ScriptedCkan([package("a")]))
        stored = store.context("src")
        assert stored is not None and stored["licenses"] == {"cc-by": {"id": "cc-by"}}
        client = ScriptedCkan([package("a"), package("b")])
        client.packages[1] = package("a")  # the same dataset twice: the listing is incomplete
        summary = run(store, client)
        assert not summary.complete and client.actions() == ["package_search"]
        assert store.context("src") == stored


def test_a_failing_context_call_ends_the_context_and_keeps_the_stored_one(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        run(store, ScriptedCkan([package("a")]))
        stored = store.context("src")
        client = ScriptedCkan([package("a", organization={"name": "nieuw"})],
                              fail={"group_list": "answered HTTP 500, success false: boom"})
        summary = run(store, client)
        assert client.actions() == ["package_search", "organization_show", "organization_show", "group_list"]
        assert summary.complete and summary.errors == 1
        assert any("the context of the last complete run is kept" in p for p in summary.problems)
        assert store.context("src") == stored


def test_an_organisation_the_source_does_not_know_is_left_out_of_the_context(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as store:
        client = ScriptedCkan([package("a")], fail={"organization_show": "404 not found: Not found"})
        summary = run(store, client)
        assert summary.errors == 0 and client.actions()[-1] == "license_list"
        context = store.context("src")
        assert context is not None and context["organizations"] == {} and "cc-by" in context["licenses"]


def test_a_keyed_listing_asks_for_private_and_draft_datasets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_KEY", "secret")
    client = ScriptedCkan([package("a")])
    config = SourceConfig(name="src", url=URL, api_key_env="SOURCE_KEY")
    with StateStore.open(tmp_path / "s.sqlite") as store:
        harvest(config, store, "full", source=CkanSource(config, client=client))  # type: ignore[arg-type]
    listing = client.log[0][1]
    assert (listing["include_private"], listing["include_drafts"]) == ("true", "true")


# -- the comparison ---------------------------------------------------------------------------


def test_the_curated_fields_are_the_classifications_and_never_compared() -> None:
    assert CURATED_FIELDS == {"high_value", "basis_register", "referentie_data", "national_coverage"}
    ours = {"identifier": "urn:x", "title": "T", "modified": "2025-01-01T00:00:00"}
    theirs = dict(ours, high_value="true", basis_register="true", referentie_data="false")
    assert canonical_hash(ours) == canonical_hash(theirs) and diff_packages(ours, theirs) == []
    sent = dict(ours, high_value="True")  # set from a High Value Dataset category: ours, and sent
    keep_curated(sent, theirs)
    assert sent == dict(ours, high_value="True", basis_register="true", referentie_data="false")


def test_a_change_of_the_modification_date_alone_is_told_apart() -> None:
    ours = {"identifier": "urn:x", "title": "T", "modified": "2025-02-01T00:00:00"}
    theirs = dict(ours, modified="2025-01-01")
    changes = diff_packages(ours, theirs)
    assert changes == [FieldChange("modified", "2025-01-01T00:00:00", "2025-02-01T00:00:00")]
    assert only_modification_date(changes)
    assert not only_modification_date(diff_packages(dict(ours, title="U"), theirs))
    assert not only_modification_date([])


# -- end to end: a real source CKAN, the data.overheid.nl stand-in ----------------------------

INSPECTIE = "inspectie-van-het-onderwijs"
SOURCE_KEY_ENV = "HARVESTER_TEST_SOURCE_KEY"
PUBLIC = ("adressen_so", "adressen_ho", "01voins-v1", "02voins-v1")
HIDDEN = {"adressen_vo": {"private": True}, "bogewicht-v1": {"state": "draft"}}
OTHER = "boschoolgewicht"  # of the inspectorate at the source


def seed_source(site: Any) -> None:
    """The source: four public DUO datasets, one private, one draft, and one of another
    organisation (the inspectorate, "inspectie")."""
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    by_name = {p["name"]: p for p in snapshot["packages"]}
    inspectie = {"id": "9a0c8e52-0000-4000-8000-000000000001", "name": "inspectie",
                 "title": "Inspectie van het Onderwijs"}
    packages = [by_name[name] for name in PUBLIC]
    packages += [{**by_name[name], **change} for name, change in HIDDEN.items()]
    packages.append({**by_name[OTHER], "owner_org": inspectie["id"], "organization": inspectie})
    site.seed({**snapshot, "organizations": snapshot["organizations"] + [inspectie], "packages": packages})


class SourceSetup(Setup):
    """Setup (tests/test_publish_ckan.py) with the real source CKAN configured for organisation
    `duo`, read with its sysadmin key when `keyed`, and the target profile's `organizations`."""

    def __init__(self, tmp: Path, source: Any, donl: Any) -> None:
        super().__init__(tmp, donl.url, donl.api_key, withdraw_threshold=0.5)
        self.source = source
        self.template = self.config.read_text(encoding="utf-8")
        self.configure()

    def configure(self, *, keyed: bool = False, organizations: dict[str, str] | None = None) -> None:
        source = f'url = "{self.source.url}"\norganization = "duo"\n'
        if keyed:
            source += f'api_key_env = "{SOURCE_KEY_ENV}"\n'
        text = self.template.replace('type = "dump"\npath = "duo.json"\nurl = "https://onderwijsdata.duo.nl"\n', source)
        if organizations is not None:
            table = ", ".join(f'{key} = "{value}"' for key, value in organizations.items())
            text = text.replace(f'owner_org = "{ORG}"\n', f'owner_org = "{ORG}"\norganizations = {{ {table} }}\n')
        self.config.write_text(text, encoding="utf-8")

    def planned(self, *args: str) -> tuple[int, dict[str, Any], dict[str, dict[str, Any]]]:
        """Sync, and the plan's actions by source name."""
        path = self.tmp / "plan.json"
        code, summary, output = self.sync("--plan-out", str(path), *args)
        assert code in (0, 1), output
        actions = json.loads(path.read_text(encoding="utf-8"))["actions"]
        return code, summary, {a["name"]: a for a in actions}

    def change(self, name: str, **fields: Any) -> None:
        self.source.action("package_patch", id=name, **fields)


@pytest.fixture()
def published(ckan_source: Any, donl: Any, tmp_path: Path, monkeypatch) -> SourceSetup:
    """The source seeded, and a first sync done: the four public DUO datasets on the target."""
    seed_source(ckan_source)
    monkeypatch.setenv(SOURCE_KEY_ENV, ckan_source.api_key)
    setup = SourceSetup(tmp_path, ckan_source, donl)
    code, summary, actions = setup.planned()
    assert code == 0 and summary["counts"]["created"] == 4, actions
    return setup


def on_target(donl: Any) -> dict[str, dict[str, Any]]:
    """The target's active packages by name."""
    return {p["name"]: p for p in target_packages(donl)}


def test_private_and_draft_datasets_never_reach_the_target_even_with_a_source_key(
        ckan_source: Any, donl: Any, tmp_path: Path, monkeypatch) -> None:
    seed_source(ckan_source)
    monkeypatch.setenv(SOURCE_KEY_ENV, ckan_source.api_key)
    setup = SourceSetup(tmp_path, ckan_source, donl)
    setup.configure(keyed=True)
    code, summary, actions = setup.planned()
    assert code == 0 and summary["counts"]["created"] == 4
    assert {name: (a["action"], a["reason"]) for name, a in actions.items() if a["action"] == "skip"} == {
        "adressen_vo": ("skip", "private at the source"), "bogewicht-v1": ("skip", "draft at the source"),
        OTHER: ("skip", "other organisation: inspectie")}
    assert all(actions[name]["package"] is None for name in (*HIDDEN, OTHER))
    assert sorted(on_target(donl)) == sorted(PUBLIC)


def test_a_dataset_turned_private_after_publication_is_withdrawn_at_the_next_run(
        published: SourceSetup, donl: Any) -> None:
    published.change("adressen_so", private=True)  # read without a key: the source refuses to show it
    code, summary, actions = published.planned()
    assert code == 0 and summary["counts"]["withdrawn"] == 1, actions
    assert actions["adressen_so"]["reason"] == (
        "no longer shown by the source (private, draft or deleted there): withdrawn without a grace period")
    published.configure(keyed=True)
    published.change("adressen_ho", private=True)  # read with a key: listed, private
    code, summary, actions = published.planned()
    assert code == 0 and summary["counts"]["withdrawn"] == 1, actions
    assert actions["adressen_ho"]["reason"] == "private at the source: withdrawn without a grace period"
    assert actions["adressen_so"]["action"] == "skip"  # withdrawn already
    assert sorted(on_target(donl)) == ["01voins-v1", "02voins-v1"]
    assert donl.action("package_show", id="adressen_so")["state"] == "deleted"


def test_another_organisations_dataset_is_published_only_when_the_profile_maps_it(
        published: SourceSetup, donl: Any) -> None:
    assert OTHER not in on_target(donl)
    donl.action("organization_create", name=INSPECTIE, title="Inspectie van het Onderwijs")
    published.configure(organizations={"duo": ORG, "inspectie": INSPECTIE})
    code, summary, actions = published.planned()
    assert code == 0 and (summary["counts"]["created"], summary["counts"]["unchanged"]) == (1, 4), actions
    shown = donl.action("package_show", id=OTHER)
    assert shown["organization"]["name"] == INSPECTIE
    assert {p["organization"]["name"] for name, p in on_target(donl).items() if name != OTHER} == {ORG}
    code, summary, actions = published.planned()
    assert code == 0 and summary["counts"]["unchanged"] == 5 and summary["target_writes"] == 0, actions


def test_a_curated_field_set_on_the_target_survives_an_update_and_is_no_conflict(
        published: SourceSetup, donl: Any) -> None:
    donl.action("package_patch", id="adressen_so", high_value="true", basis_register="true")
    code, summary, actions = published.planned()
    assert code == 0 and summary["counts"]["conflict"] == 0 and summary["target_writes"] == 0, actions
    published.change("adressen_so", title="Adressen speciaal onderwijs (herzien)")
    code, summary, actions = published.planned()
    assert code == 0 and summary["counts"]["updated"] == 1, actions
    shown = donl.action("package_show", id="adressen_so")
    assert shown["title"] == "Adressen speciaal onderwijs (herzien)"
    assert (str(shown["high_value"]).lower(), str(shown["basis_register"]).lower()) == ("true", "true")
    assert [c["field"] for c in actions["adressen_so"]["changes"]] == ["modified", "title"]


def test_a_resource_deleted_without_a_new_modification_date_leaves_the_target(
        published: SourceSetup, donl: Any) -> None:
    from tests.test_harvest_ckan import keep_modified

    before = published.source.action("package_show", id="adressen_so")
    keep_modified(published.source, before,
                  lambda: published.source.action("resource_delete", id=before["resources"][0]["id"]))
    target_before = donl.action("package_show", id="adressen_so")
    code, summary, actions = published.planned()
    assert code == 0 and summary["counts"]["updated"] == 1, actions
    after = donl.action("package_show", id="adressen_so")
    assert len(after["resources"]) == len(target_before["resources"]) - 1 == 2
    assert {r["id"] for r in after["resources"]} < {r["id"] for r in target_before["resources"]}


def test_a_change_to_an_unmapped_extra_makes_no_write(published: SourceSetup, donl: Any) -> None:
    extras = published.source.action("package_show", id="adressen_so")["extras"]
    before = donl.action("package_show", id="adressen_so")
    published.change("adressen_so", extras=[*extras, {"key": "interne_notitie", "value": "alleen voor ons"}])
    code, summary, actions = published.planned()
    assert code == 0 and summary["target_writes"] == 0, actions  # (counted before anything is sent)
    assert (actions["adressen_so"]["action"], actions["adressen_so"]["reason"]) == (
        "unchanged", "only the modification date changed; it goes out with the next real change")
    assert donl.action("package_show", id="adressen_so")["metadata_modified"] == before["metadata_modified"]
