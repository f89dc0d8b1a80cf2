"""The planner's rules (harvester/plan/rules.py and the withdrawals of planner.py), one at a time,
against the in-memory target (harvester/donl/memory.py) and a state store in tmp_path.

The datasets are made by hand as the pipeline would prepare them (a Prepared with its target
package), so no mapping, validation or CKAN is needed: each test runs in milliseconds. A
dataset is published by planning it and applying the plan (harvester/apply.py), as a sync does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

import pytest

from harvester.apply import Applier
from harvester.donl.api import TargetValidationError
from harvester.donl.convert import TargetDataset, TargetResource
from harvester.donl.rules import FieldProblem
from harvester.donl.memory import MemoryTarget
from harvester.pipeline import Prepared
from harvester.plan import Action, Gone, Plan, Planner, PlanSettings, rules
from harvester.store.encoding import iso
from harvester.store.state import StateStore

SOURCE = "duo"
ORG = "dienst-uitvoering-onderwijs"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
NLD = "http://publications.europa.eu/resource/authority/language/NLD"
DUO = "http://standaarden.overheid.nl/owms/terms/Dienst_Uitvoering_Onderwijs"
LICENCE = "http://creativecommons.org/licenses/by/4.0/deed.nl"


def dataset(number: int, title: str | None = None, **fields: Any) -> Prepared:
    """A valid prepared dataset whose package data.overheid.nl accepts; `fields` replace the
    package's (None: left out)."""
    identifier = f"https://onderwijsdata.duo.nl/dataset/{number}"
    package = {
        "identifier": identifier, "title": title or f"Dataset {number}", "notes": "Leerlingen per school.",
        "authority": DUO, "publisher": DUO, "contact_point_name": "DUO",
        "contact_point_email": "info@duo.nl", "metadata_language": NLD, "language": [NLD],
        "license_id": LICENCE, "theme": ["http://standaarden.overheid.nl/owms/terms/Basisonderwijs_(thema)"],
        "modified": "2025-07-10T01:30:20",
    }
    package.update(fields)
    package = {key: value for key, value in package.items() if value is not None}
    resource = {"url": f"https://onderwijsdata.duo.nl/{number}.csv", "name": "CSV", "description": "Alles",
                "metadata_language": NLD, "language": [NLD], "license_id": LICENCE,
                "format": "http://publications.europa.eu/resource/authority/file-type/CSV"}
    target = TargetDataset(identifier=identifier, source_name=f"dataset-{number}", fields=package,
                           resources=[TargetResource(f"{identifier}/csv", resource)])
    return Prepared(source_id=f"source-{number}", source_name=f"dataset-{number}", identifier=identifier,
                    title=package.get("title", ""), valid=True, target=target,
                    result_key="result-" + json.dumps(package, sort_keys=True))


def invalid_dataset(number: int, **counts: Any) -> Prepared:
    """A dataset the pipeline found invalid (SHACL violations or values without a mapping)."""
    item = dataset(number)
    item.valid = False
    item.findings = [{"severity": "violation", "message": "dct:title missing"}] * counts.get("violations", 0)
    item.unmapped = [{"severity": "error", "value": "?"}] * counts.get("errors", 0)
    return item


class LaggingTarget(MemoryTarget):
    """The in-memory target, able to leave packages out of its inventory (as a search index
    that has not caught up yet)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: set[str] = set()

    def iter_inventory_light(self, owner_org: str) -> Iterable[dict[str, Any]]:
        return (entry for entry in super().iter_inventory_light(owner_org) if entry["id"] not in self.hidden)


@dataclass
class World:
    store: StateStore
    target: LaggingTarget
    run_id: int

    def plan(self, prepared: Iterable[Prepared] = (), gone: Iterable[Gone] = (), **settings: Any) -> Plan:
        """The plan of `prepared` and `gone` (may_withdraw unless said otherwise)."""
        settings.setdefault("may_withdraw", True)
        planner = Planner(SOURCE, self.store.publications(self.target.url), self.target,
                          PlanSettings(owner_org=ORG, now=NOW, **settings), refusals=self.store.refusals(self.target.url))
        plan = Plan(source=SOURCE, target=self.target.url, owner_org=ORG)
        plan.actions = planner.plan_batch(prepared) + planner.withdrawals(gone)
        plan.notes = planner.notes
        return plan

    def apply(self, plan: Plan) -> dict[str, int]:
        return Applier(plan, self.store, self.target, self.run_id, SOURCE).run()  # type: ignore[arg-type]

    def publish(self, *prepared: Prepared) -> Plan:
        plan = self.plan(prepared)
        assert self.apply(plan) == {"done": len(prepared), "failed": 0}
        return plan

    def one(self, item: Prepared, **settings: Any) -> Action:
        [action] = self.plan([item], **settings).actions
        return action

    def package(self, item: Prepared) -> dict[str, Any]:
        pub = self.store.publications(self.target.url)[item.identifier or ""]
        return self.target.packages[pub.target_id or ""]

    def edit_on_target(self, item: Prepared, **fields: Any) -> None:
        """Someone changes our package on the target, a minute after our write (the light
        inventory tells edits apart by metadata_modified, to the millisecond)."""
        package = {**self.package(item), **fields}
        modified = datetime.fromisoformat(package["metadata_modified"]) + timedelta(minutes=1)
        self.target.packages[package["id"]] = {**package, "metadata_modified": modified.isoformat()}


@pytest.fixture()
def world(tmp_path: Path) -> Iterable[World]:
    store = StateStore.open(tmp_path / "state.sqlite")
    run_id = store.begin_run("sync", SOURCE, "memory", "full")
    yield World(store, LaggingTarget(), run_id)
    store.close()


def gone(item: Prepared, days: float) -> Gone:
    """The record of a dataset the full harvest no longer saw, `days` before NOW."""
    return Gone(item.source_id, item.source_name, iso(NOW - timedelta(days=days)))


# -- unchanged --------------------------------------------------------------------------------


def test_the_same_result_again_is_unchanged_and_writes_nothing(world: World) -> None:
    world.publish(dataset(1))
    writes = world.target.writes
    plan = world.plan([dataset(1)])
    [action] = plan.actions
    assert (action.action, action.reason) == (
        "unchanged", "unchanged at the source since our last write, and not edited on the target")
    assert action.target_id == world.package(dataset(1))["id"] and action.package is None
    assert plan.writes() == [] and world.apply(plan) == {"done": 0, "failed": 0}
    assert world.target.writes == writes


def test_a_new_result_with_the_same_package_is_unchanged(world: World, monkeypatch) -> None:
    """After a change of the mapping tables that leaves this package as it was (a new result
    key): what we would send is what we last sent, so nothing is sent and the pre-send check
    (here one that would refuse it) is not asked."""
    world.publish(dataset(1))
    monkeypatch.setattr(rules, "check_package", lambda package: [FieldProblem("title", "refused")])
    again = dataset(1)
    again.result_key = "a result of new mapping tables"
    action = world.one(again)
    assert (action.action, action.reason) == ("unchanged", "what we would send is what we last sent")
    assert action.package is None and action.problems == []


def test_ours_missing_from_the_inventory_is_judged_as_the_target_shows_it(world: World) -> None:
    """A package the inventory did not list (an index not caught up) that the target still
    shows as we left it is unchanged; shown edited, it is drift."""
    world.publish(dataset(1))
    world.target.hidden.add(world.package(dataset(1))["id"])
    again = dataset(1)
    again.result_key = "another result"
    action = world.one(again)
    assert (action.action, action.reason) == ("unchanged", "what we would send is what we last sent")
    world.edit_on_target(dataset(1), title="Met de hand")
    world.target.hidden.add(world.package(dataset(1))["id"])
    assert world.one(again).action == "conflict"


# -- create -----------------------------------------------------------------------------------


def test_a_dataset_not_on_the_target_is_created_with_every_field_as_a_change(world: World) -> None:
    plan = world.plan([dataset(1), dataset(2)])
    first, second = plan.actions
    assert (first.action, first.reason, first.name) == ("create", "not on the target yet", "dataset-1")
    fields = {change["field"] for change in first.changes}
    assert {"title", "identifier", "name", "resources[0]"} <= fields
    assert all(change["old"] is None for change in first.changes)
    assert first.package is not None and first.package["identifier"] == dataset(1).identifier
    assert second.action == "create" and plan.writes() == plan.actions
    assert world.apply(plan) == {"done": 2, "failed": 0}
    assert world.target.creates == 2
    assert {p.status for p in world.store.publications(world.target.url).values()} == {"active"}


def test_a_create_takes_its_name_so_the_next_one_gets_another(world: World) -> None:
    twin = dataset(2)
    twin.source_name = "dataset-1"
    names = [a.name for a in world.plan([dataset(1), twin]).actions]
    assert names == ["dataset-1", "dataset-1-2"]


def test_a_create_an_earlier_run_began_is_finished_or_made_again(world: World) -> None:
    """A `pending` mark (a create whose answer was not recorded): when the target holds the
    package under the name we gave it, the create is finished as an update of that package;
    when it does not, the create is made now."""
    world.publish(dataset(1))
    pub = world.store.publications(world.target.url)[dataset(1).identifier or ""]
    pub.status = "pending"
    world.store.save_publication(pub)
    action = world.one(dataset(1))
    assert (action.action, action.interrupted_create, action.target_id) == ("update", True, pub.target_id)
    assert action.package is not None and action.package["id"] == pub.target_id
    assert action.package["resources"][0]["id"] == world.package(dataset(1))["resources"][0]["id"]
    world.target.packages.pop(pub.target_id or "")
    action = world.one(dataset(1))
    assert (action.action, action.reason) == ("create", "an earlier create did not reach the target; creating it now")


# -- ownership: adopt, conflict ---------------------------------------------------------------


def _theirs(item: Prepared, owner_org: str = ORG) -> dict[str, Any]:
    """A package with our dataset's identifier that someone else created on the target."""
    assert item.target is not None
    package = item.target.package("handmatig-ingevoerd", owner_org)
    package["title"] = "Handmatig ingevoerd"
    return package


def test_a_dataset_we_did_not_create_is_a_conflict_unless_adopted(world: World) -> None:
    theirs = world.target.create(_theirs(dataset(1)))
    plan = world.plan([dataset(1)])
    [action] = plan.actions
    assert action.action == "conflict" and "not created by this harvester" in action.reason
    assert "--adopt" in action.reason and action.package is None
    assert [c for c in action.changes if c["field"] == "title"] == [
        {"field": "title", "old": "Handmatig ingevoerd", "new": "Dataset 1"}]
    assert plan.writes() == [] and world.apply(plan) == {"done": 0, "failed": 0}

    adopted = world.plan([dataset(1)], adopt=True)
    [action] = adopted.actions
    assert (action.action, action.adopt, action.target_id, action.name) == (
        "update", True, theirs["id"], "handmatig-ingevoerd")
    assert action.package is not None and action.package["id"] == theirs["id"]
    assert action.package["resources"][0]["id"] == theirs["resources"][0]["id"]
    assert world.apply(adopted) == {"done": 1, "failed": 0}
    assert world.target.packages[theirs["id"]]["title"] == "Dataset 1" and world.target.creates == 1
    pub = world.store.publications(world.target.url)[dataset(1).identifier or ""]
    assert pub.adopted and pub.target_id == theirs["id"]
    assert world.one(dataset(1)).action == "unchanged"


def test_a_dataset_we_did_not_create_in_another_organisation_is_never_adopted(world: World) -> None:
    world.target.create(_theirs(dataset(1), owner_org="een-andere-organisatie"))
    action = world.one(dataset(1), adopt=True)
    assert action.action == "conflict" and "'een-andere-organisatie'" in action.reason


def test_ours_from_another_source_or_organisation_is_a_conflict(world: World) -> None:
    """Ours from another source; ours under another organisation than its dataset goes to (as
    published there, and still there on the target)."""
    world.publish(dataset(1), dataset(2))
    pubs = world.store.publications(world.target.url)
    pubs[dataset(1).identifier or ""].source = "een-andere-bron"
    pubs[dataset(2).identifier or ""].owner_org = "een-andere-organisatie"
    for pub in pubs.values():
        world.store.save_publication(pub)
    moved = world.package(dataset(2))
    world.target.packages[moved["id"]] = {**moved, "owner_org": "een-andere-organisatie"}
    other_source, other_org = world.plan([dataset(1, "Nieuw"), dataset(2, "Nieuw")]).actions
    assert other_source.action == "conflict" and "another source (een-andere-bron)" in other_source.reason
    assert other_org.action == "conflict" and "organisation 'een-andere-organisatie'" in other_org.reason


def test_ours_deleted_on_the_target_is_a_conflict_unless_overwrite_drift(world: World) -> None:
    world.publish(dataset(1))
    package_id = world.package(dataset(1))["id"]
    world.target.withdraw(package_id)  # someone else deleted it
    action = world.one(dataset(1))
    assert action.action == "conflict" and action.reason.startswith("deleted on the target by someone else")
    action = world.one(dataset(1), overwrite_drift=True)
    assert (action.action, action.restore, action.target_id) == ("update", True, package_id)
    assert action.reason == "deleted on the target by someone else; restored because of --overwrite-drift"


# -- drift ------------------------------------------------------------------------------------


def test_ours_edited_on_the_target_is_a_conflict_and_overwrite_drift_updates_it(world: World) -> None:
    world.publish(dataset(1))
    world.edit_on_target(dataset(1), title="Met de hand verbeterd")
    plan = world.plan([dataset(1, "Nieuw bij de bron")])
    [action] = plan.actions
    assert action.action == "conflict" and "drift" in action.reason and action.package is None
    assert {"field": "title", "old": "Dataset 1", "new": "Met de hand verbeterd"} in action.changes
    assert plan.writes() == []

    plan = world.plan([dataset(1, "Nieuw bij de bron")], overwrite_drift=True)
    [action] = plan.actions
    assert (action.action, action.reason) == ("update", "overwriting changes made on the target (--overwrite-drift)")
    assert {"field": "title", "old": "Met de hand verbeterd", "new": "Nieuw bij de bron"} in action.changes
    assert world.apply(plan) == {"done": 1, "failed": 0}
    assert world.package(dataset(1))["title"] == "Nieuw bij de bron"


def test_drift_without_a_change_at_the_source_is_a_conflict_too(world: World) -> None:
    world.publish(dataset(1))
    world.edit_on_target(dataset(1), notes="Met de hand")
    assert world.one(dataset(1)).action == "conflict"


# -- update, restore --------------------------------------------------------------------------


def test_a_change_at_the_source_is_an_update_of_our_package(world: World) -> None:
    world.publish(dataset(1))
    before = world.package(dataset(1))
    plan = world.plan([dataset(1, "Nieuw bij de bron")])
    [action] = plan.actions
    assert (action.action, action.reason, action.target_id) == ("update", "changed at the source", before["id"])
    assert action.changes == [{"field": "title", "old": "Dataset 1", "new": "Nieuw bij de bron"}]
    assert world.apply(plan) == {"done": 1, "failed": 0}
    after = world.package(dataset(1))
    assert after["title"] == "Nieuw bij de bron" and after["resources"][0]["id"] == before["resources"][0]["id"]


def test_a_dataset_back_after_being_withdrawn_is_restored_with_its_identifier_and_id(world: World) -> None:
    world.publish(*(dataset(n) for n in range(1, 11)))
    original = world.package(dataset(1))
    assert world.apply(world.plan(gone=[gone(dataset(1), days=8)])) == {"done": 1, "failed": 0}
    assert world.target.packages[original["id"]]["state"] == "deleted"
    plan = world.plan([dataset(1)])
    [action] = plan.actions
    assert (action.action, action.restore, action.target_id) == ("update", True, original["id"])
    assert action.reason.startswith("back at the source after being withdrawn on ")
    assert world.apply(plan) == {"done": 1, "failed": 0}
    back = world.target.packages[original["id"]]
    assert back["state"] == "active" and back["identifier"] == original["identifier"]
    assert world.target.creates == 10


# -- withdraw ---------------------------------------------------------------------------------


def test_a_dataset_gone_at_the_source_is_withdrawn_only_after_the_grace_period(world: World) -> None:
    world.publish(*(dataset(n) for n in range(1, 11)))
    plan = world.plan(gone=[gone(dataset(1), days=6.9)], grace_days=7)
    assert plan.actions == [] and "withdrawn after the grace period, on or after" in plan.notes[0]
    plan = world.plan(gone=[gone(dataset(1), days=7.1)], grace_days=7)
    [action] = plan.actions
    assert (action.action, action.held, action.target_id) == ("withdraw", False, world.package(dataset(1))["id"])
    assert "grace period 7 days passed" in action.reason and plan.notes == []
    assert world.apply(plan) == {"done": 1, "failed": 0}
    assert world.store.publications(world.target.url)[dataset(1).identifier or ""].status == "withdrawn"


def test_too_many_withdrawals_at_once_are_held_back_unless_forced(world: World) -> None:
    world.publish(*(dataset(n) for n in range(1, 11)))
    two = [gone(dataset(1), days=8), gone(dataset(2), days=8)]
    plan = world.plan(gone=two, withdraw_threshold=0.10)
    assert [(a.action, a.held) for a in plan.actions] == [("withdraw", True)] * 2
    assert all("HELD BACK" in a.reason for a in plan.actions)
    assert plan.notes[0].startswith("withdrawing nothing: 2 of 10 published datasets would be withdrawn")
    assert plan.writes() == [] and world.apply(plan) == {"done": 0, "failed": 0}
    assert len(world.plan(gone=two[:1], withdraw_threshold=0.10).writes()) == 1
    forced = world.plan(gone=two, withdraw_threshold=0.10, force_withdraw=True)
    assert [(a.action, a.held) for a in forced.actions] == [("withdraw", False)] * 2
    assert world.apply(forced) == {"done": 2, "failed": 0}


def test_an_incomplete_harvest_withdraws_nothing(world: World) -> None:
    world.publish(*(dataset(n) for n in range(1, 11)))
    why = "the latest harvest (run 2) was failed and its listing incomplete"
    plan = world.plan(gone=[gone(dataset(1), days=30)], may_withdraw=False, withdraw_blocked_reason=why,
                      force_withdraw=True)
    assert plan.actions == []
    assert plan.notes == [f"{dataset(1).identifier}: gone at the source, but not withdrawn: {why}"]


def test_a_gone_dataset_edited_on_the_target_is_a_conflict_not_withdrawn(world: World) -> None:
    world.publish(*(dataset(n) for n in range(1, 11)))
    world.edit_on_target(dataset(1), title="Met de hand")
    [action] = world.plan(gone=[gone(dataset(1), days=8)]).actions
    assert action.action == "conflict" and "not withdrawn automatically" in action.reason


# -- invalid ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("item", "reason"), [
    (invalid_dataset(1, violations=2), "not published: 2 SHACL violation(s)"),
    (invalid_dataset(1, errors=1), "not published: 1 value(s) without a mapping or fallback"),
    (Prepared(source_id="s", source_name="x", identifier=None, title="", valid=True), "not published: no identifier"),
    (Prepared(source_id="s", source_name="x", identifier="https://e.org/1", title="", valid=True),
     "not published: mapping failed"),
])
def test_an_invalid_dataset_is_never_planned_for_the_target(world: World, item: Prepared, reason: str) -> None:
    plan = world.plan([item])
    [action] = plan.actions
    assert (action.action, action.reason, action.package) == ("invalid", reason, None)
    assert plan.writes() == [] and world.apply(plan) == {"done": 0, "failed": 0} and world.target.writes == 0


def test_an_invalid_dataset_we_published_is_not_touched(world: World) -> None:
    world.publish(dataset(1))
    action = world.one(invalid_dataset(1, violations=1))
    assert action.action == "invalid" and world.plan([invalid_dataset(1, violations=1)]).writes() == []


def test_a_package_the_pre_send_check_refuses_is_invalid_and_remembered(world: World) -> None:
    """The pre-send check's refusal is recorded by apply; the next plan of the same package
    takes the problems from the store."""
    refused = dataset(1, contact_point_email=None)
    plan = world.plan([refused])
    [action] = plan.actions
    assert action.action == "invalid" and action.reason.startswith("data.overheid.nl would refuse it: contact_point")
    assert action.problems and action.refusal_key and action.package is not None
    assert world.apply(plan) == {"done": 0, "failed": 0} and world.target.writes == 0
    again = world.one(dataset(1, contact_point_email=None))
    assert (again.action, again.reason, again.problems) == ("invalid", action.reason, action.problems)
    assert again.refusal_key is None and again.package == action.package


def test_an_invalid_dataset_is_named_by_its_source_name(world: World) -> None:
    assert world.one(invalid_dataset(1, violations=1)).name == "dataset-1"
    nameless = Prepared(source_id="s", source_name="zonder-naam", identifier=None, title="", valid=True)
    assert world.one(nameless).name == "zonder-naam"


# -- not published: private, draft, deleted, other organisations ------------------------------


def hidden(item: Prepared, access: str) -> Prepared:
    """`item` as it is when the source no longer shows it to everyone."""
    item.access = access
    return item


def of(item: Prepared, organization: str, source_organization: str | None = "duo") -> Prepared:
    """`item` of `organization` at a source configured for `source_organization`."""
    item.organization, item.source_organization = organization, source_organization
    return item


@pytest.mark.parametrize(("access", "reason"), [
    ("private", "private at the source"), ("draft", "draft at the source"),
    ("deleted", "deleted at the source"),
    ("withheld", "no longer shown by the source (private, draft or deleted there)"),
])
def test_a_dataset_not_public_at_the_source_is_skipped_and_never_written(
        world: World, access: str, reason: str) -> None:
    plan = world.plan([hidden(dataset(1), access), hidden(invalid_dataset(2, violations=1), access)])
    assert [(a.action, a.reason, a.name) for a in plan.actions] == [
        ("skip", reason, "dataset-1"), ("skip", reason, "dataset-2")]
    assert all(a.package is None and a.changes == [] for a in plan.actions)
    assert plan.counts()["skip"] == 2 and plan.counts()["invalid"] == 0
    assert plan.writes() == [] and world.apply(plan) == {"done": 0, "failed": 0}
    assert world.target.writes == 0 and world.target.requests_made <= 1  # the inventory only


def test_ours_turned_private_is_withdrawn_at_once_within_the_threshold(world: World) -> None:
    world.publish(*(dataset(n) for n in range(1, 11)))
    plan = world.plan([hidden(dataset(1), "private"), dataset(2)], grace_days=7)
    unchanged, withdraw = plan.actions  # (the withdrawal comes with the withdrawals, at the end)
    assert (unchanged.action, withdraw.action, withdraw.held) == ("unchanged", "withdraw", False)
    assert withdraw.reason == "private at the source: withdrawn without a grace period"
    assert withdraw.target_id == world.package(dataset(1))["id"] and plan.notes == []
    assert world.apply(plan) == {"done": 1, "failed": 0}
    assert world.target.packages[withdraw.target_id or ""]["state"] == "deleted"
    assert world.one(hidden(dataset(1), "private")).action == "skip"  # withdrawn: nothing more to do
    two = world.plan([hidden(dataset(2), "draft"), hidden(dataset(3), "withheld")], withdraw_threshold=0.10)
    assert [(a.action, a.held) for a in two.actions] == [("withdraw", True)] * 2
    assert two.notes[0].startswith("withdrawing nothing: 2 of 9 published datasets would be withdrawn")


def test_ours_turned_private_is_not_withdrawn_by_a_run_that_may_not_withdraw(world: World) -> None:
    world.publish(dataset(1))
    why = "the latest harvest (run 2) was incremental; only a full harvest can see removals"
    plan = world.plan([hidden(dataset(1), "private")], may_withdraw=False, withdraw_blocked_reason=why)
    [action] = plan.actions
    assert (action.action, action.name) == ("skip", "dataset-1")
    assert action.reason == f"private at the source; still on the target, not withdrawn: {why}"
    assert plan.writes() == [] and world.apply(plan) == {"done": 0, "failed": 0} and plan.notes == []


def test_ours_turned_private_but_edited_on_the_target_is_a_conflict(world: World) -> None:
    world.publish(dataset(1))
    world.edit_on_target(dataset(1), title="Met de hand")
    [action] = world.plan([hidden(dataset(1), "deleted")]).actions
    assert action.action == "conflict"
    assert action.reason == ("deleted at the source, but edited on the target since our last write; "
                             "not withdrawn automatically")


def test_only_the_source_organisation_is_published_by_default(world: World) -> None:
    ours, theirs = of(dataset(1), "duo"), of(dataset(2), "inspectie")
    plan = world.plan([ours, theirs])
    assert [(a.action, a.reason, a.owner_org) for a in plan.actions] == [
        ("create", "not on the target yet", ORG), ("skip", "other organisation: inspectie", None)]
    nameless = of(dataset(3), "inspectie", source_organization=None)  # a source that names none
    assert (world.one(nameless).action, world.one(nameless).owner_org) == ("create", ORG)


def test_a_mapped_organisation_is_published_under_its_own_organisation(world: World) -> None:
    mapping = {"duo": ORG, "inspectie": "inspectie-van-het-onderwijs"}
    theirs = of(dataset(2), "inspectie")
    plan = world.plan([of(dataset(1), "duo"), theirs, of(dataset(3), "cito")], organizations=mapping)
    assert [(a.action, a.owner_org) for a in plan.actions] == [
        ("create", ORG), ("create", "inspectie-van-het-onderwijs"), ("skip", None)]
    assert plan.actions[1].package is not None
    assert plan.actions[1].package["owner_org"] == "inspectie-van-het-onderwijs"
    assert world.apply(plan) == {"done": 2, "failed": 0}
    assert world.package(theirs)["owner_org"] == "inspectie-van-het-onderwijs"
    again = world.plan([of(dataset(1), "duo"), of(dataset(2), "inspectie")], organizations=mapping)
    assert [a.action for a in again.actions] == ["unchanged", "unchanged"]
    # the profile no longer maps it: not to be published, so withdrawn
    dropped = world.plan([of(dataset(1), "duo"), of(dataset(2), "inspectie")], organizations={"duo": ORG},
                         withdraw_threshold=0.5)
    assert [(a.action, a.reason) for a in dropped.actions] == [
        ("unchanged", "unchanged at the source since our last write, and not edited on the target"),
        ("withdraw", "other organisation: inspectie: withdrawn without a grace period")]


class LeakyTarget(LaggingTarget):
    """A target whose organisation filter lets every package through (as CKAN's package_search
    did with a bare `organization:"x" OR owner_org:"x"`, to which it adds its own +state clause)."""

    def iter_inventory_light(self, owner_org: str) -> Iterable[dict[str, Any]]:
        every = [LaggingTarget.iter_inventory_light(self, org)
                 for org in sorted({p["owner_org"] for p in self.packages.index.values()})]
        return (entry for entries in every for entry in entries)


def test_each_package_is_judged_in_its_own_organisation_whatever_the_filter_lets_through(world: World) -> None:
    mapping = {"duo": ORG, "inspectie": "inspectie-van-het-onderwijs"}
    items = [of(dataset(1), "duo"), of(dataset(2), "inspectie")]
    assert world.apply(world.plan(items, organizations=mapping)) == {"done": 2, "failed": 0}
    leaky = LeakyTarget()
    leaky.packages, leaky.by_name = world.target.packages, world.target.by_name
    world.target = leaky
    assert [a.action for a in world.plan(items, organizations=mapping).actions] == ["unchanged", "unchanged"]


def test_a_dataset_of_a_mapped_organisation_is_recorded_under_that_organisation(world: World) -> None:
    """The publication of a dataset created under a mapped organisation says so, so that the
    next plan finds it ours there (and not in the profile's own owner_org)."""
    mapping = {"duo": ORG, "inspectie": "inspectie-van-het-onderwijs"}
    items = [of(dataset(1), "duo"), of(dataset(2), "inspectie")]
    assert world.apply(world.plan(items, organizations=mapping)) == {"done": 2, "failed": 0}
    published = world.store.publications(world.target.url)
    assert {published[i.identifier or ""].owner_org for i in items} == {ORG, "inspectie-van-het-onderwijs"}
    assert published[items[1].identifier or ""].owner_org == "inspectie-van-het-onderwijs"


def test_the_target_profile_maps_organisations_when_the_settings_do_not(world: World) -> None:
    from harvester.config import TargetConfig
    from harvester.plan.planner import target_organisations

    world.target.config = TargetConfig(name="test", owner_org=ORG,  # type: ignore[attr-defined]
                                       organizations={"inspectie": "inspectie-van-het-onderwijs"})
    assert target_organisations(PlanSettings(owner_org=ORG), world.target) == {
        "inspectie": "inspectie-van-het-onderwijs"}
    assert target_organisations(PlanSettings(owner_org=ORG, organizations={}), world.target) == {}
    assert [a.owner_org for a in world.plan([of(dataset(1), "duo"), of(dataset(2), "inspectie")]).actions] == [
        None, "inspectie-van-het-onderwijs"]


# -- what the portal curates, and the modification date alone ---------------------------------


def test_fields_the_curators_set_are_no_drift_and_survive_an_update(world: World) -> None:
    world.publish(dataset(1))
    world.edit_on_target(dataset(1), high_value="true", basis_register="true")
    assert world.one(dataset(1)).action == "unchanged"
    plan = world.plan([dataset(1, "Nieuw bij de bron")])
    [action] = plan.actions
    assert action.action == "update" and action.changes == [
        {"field": "title", "old": "Dataset 1", "new": "Nieuw bij de bron"}]
    assert action.package is not None and (action.package["high_value"], action.package["basis_register"]) == (
        "true", "true")
    assert world.apply(plan) == {"done": 1, "failed": 0}
    after = world.package(dataset(1))
    assert (after["title"], after["high_value"], after["basis_register"]) == ("Nieuw bij de bron", "true", "true")
    assert world.one(dataset(1, "Nieuw bij de bron")).action == "unchanged"


def test_a_new_modification_date_alone_is_not_written(world: World) -> None:
    world.publish(dataset(1))
    writes = world.target.writes
    later = dataset(1, modified="2025-09-01T08:00:00")  # an extra we do not send changed at the source
    plan = world.plan([later])
    [action] = plan.actions
    assert (action.action, action.reason) == (
        "unchanged", "only the modification date changed; it goes out with the next real change")
    assert plan.writes() == [] and world.apply(plan) == {"done": 0, "failed": 0}
    assert world.target.writes == writes
    assert world.one(dataset(1, modified="2025-09-01T08:00:00")).reason.startswith("unchanged at the source")
    changed = world.plan([dataset(1, "Nieuw", modified="2025-10-01T08:00:00")])
    [update] = changed.actions
    assert update.action == "update" and {c["field"] for c in update.changes} == {"title", "modified"}
    assert world.apply(changed) == {"done": 1, "failed": 0}
    assert world.package(dataset(1))["modified"] == "2025-10-01T08:00:00"


def test_a_package_the_target_holds_as_we_left_it_is_not_written_again(world: World) -> None:
    """What we last sent hashed otherwise (as under an older comparison), but the package is
    what the target holds as we left it: nothing to send."""
    world.publish(dataset(1))
    pub = world.store.publications(world.target.url)[dataset(1).identifier or ""]
    pub.sent_hash = "hashed by an older comparison"
    world.store.save_publication(pub)
    again = dataset(1)
    again.result_key = "another result"
    action = world.one(again)
    assert (action.action, action.reason) == ("unchanged", "what we would send is what the target holds as we left it")


# -- writes that all fail the same way ---------------------------------------------------------------


class RefusingTarget(MemoryTarget):
    """A target that refuses every create the same way (as a wrong owner_org would be)."""

    refused = 0

    def create(self, package: dict[str, Any]) -> dict[str, Any]:
        self.refused += 1
        raise TargetValidationError("package_create refused", {"owner_org": ["Organization does not exist"]})


def test_a_run_whose_first_writes_all_fail_the_same_way_stops_after_a_few(world: World) -> None:
    from harvester.apply import STOP_AFTER_SAME_FAILURES

    world.target = RefusingTarget()
    plan = world.plan([dataset(n) for n in range(1, 9)])
    assert [a.action for a in plan.actions] == ["create"] * 8
    applier = Applier(plan, world.store, world.target, world.run_id, SOURCE)  # type: ignore[arg-type]
    assert applier.run() == {"done": 0, "failed": STOP_AFTER_SAME_FAILURES}
    assert world.target.refused == STOP_AFTER_SAME_FAILURES  # no call for the other three
    assert applier.stopped and "owner_org: Organization does not exist" in applier.stopped
    assert [a.outcome for a in plan.actions] == ["failed"] * STOP_AFTER_SAME_FAILURES + [None] * 3


def test_failures_after_a_write_that_went_through_do_not_stop_the_run(world: World) -> None:
    class RefusingAfterOne(RefusingTarget):
        def create(self, package: dict[str, Any]) -> dict[str, Any]:
            if not self.packages:
                return MemoryTarget.create(self, package)
            return super().create(package)

    world.target = RefusingAfterOne()
    plan = world.plan([dataset(n) for n in range(1, 9)])
    applier = Applier(plan, world.store, world.target, world.run_id, SOURCE)  # type: ignore[arg-type]
    assert applier.run() == {"done": 1, "failed": 7} and applier.stopped is None
