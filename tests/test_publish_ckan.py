"""Publishing end to end against a real CKAN 2.12 configured as a data.overheid.nl stand-in.

The target is the local CKAN with ckanext-scheming and the DCAT-AP-DONL stand-in schema
(tests/ckan_stack/donl); the source is the bundled DUO snapshot as a dump file that each test
changes as the source would change. Faults between the harvester and the target come from the
fault proxy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harvester.cli import main
from harvester.store.state import StateStore
from tests.conftest import REPO
from tests.faultproxy import Fault, FaultProxy

DONL_DIR = REPO / "tests" / "ckan_stack" / "donl"
SNAPSHOT = REPO / "examples" / "duo" / "duo-catalogue.json"
OFFLINE = REPO / "examples" / "duo-offline.toml"
ORG = "dienst-uitvoering-onderwijs"
KEY_ENV = "HARVESTER_TEST_TARGET_KEY"


@pytest.fixture()
def donl(ckan_target_factory: Callable[..., Any]) -> Any:
    """An empty data.overheid.nl stand-in with the data owner's organisation."""
    site = ckan_target_factory(
        DONL_DIR / "donl_schema.yaml", extra_plugins=("donl_standin",), python_path=(str(DONL_DIR),),
        extra_config={"donl_standin.mappings_dir": str(REPO / "harvester" / "mappings")})
    site.action("organization_create", name=ORG, title="Dienst Uitvoering Onderwijs")
    return site


class Setup:
    """A config file in a temp folder: the DUO dump (a copy we change) and the stand-in target."""

    def __init__(self, tmp: Path, target_url: str, api_key: str, **target: Any) -> None:
        self.tmp = tmp
        self.dump = tmp / "duo.json"
        self.data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
        self.save()
        mapping = OFFLINE.read_text(encoding="utf-8").split("# How DUO's CKAN packages become", 1)[1]
        settings = {"grace_days": 7, **target}
        lines = [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
        self.config = tmp / "harvester.toml"
        self.config.write_text(
            'state = "state/h.sqlite"\n\n[sources.duo]\ntype = "dump"\npath = "duo.json"\n'
            'url = "https://onderwijsdata.duo.nl"\n\n'
            f'[targets.test]\nurl = "{target_url}"\napi_key_env = "{KEY_ENV}"\nowner_org = "{ORG}"\n'
            + "\n".join(lines) + "\n\n# How DUO's CKAN packages become" + mapping,
            encoding="utf-8")
        os.environ[KEY_ENV] = api_key
        self.state = tmp / "state" / "h.sqlite"

    def save(self) -> None:
        self.dump.write_text(json.dumps(self.data, ensure_ascii=False), encoding="utf-8")

    def package(self, name: str) -> dict[str, Any]:
        return next(p for p in self.data["packages"] if p["name"] == name)

    def remove(self, *names: str) -> list[dict[str, Any]]:
        removed = [p for p in self.data["packages"] if p["name"] in names]
        self.data["packages"] = [p for p in self.data["packages"] if p["name"] not in names]
        self.save()
        return removed

    def sync(self, *args: str) -> tuple[int, dict[str, Any], str]:
        result = CliRunner().invoke(main, ["--config", str(self.config), "--json", "sync", "--target", "test", *args])
        summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
        return result.exit_code, summary, result.output

    def age_gone_records(self, days: float) -> None:
        with StateStore.open(self.state) as store:
            moment = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - days * 86400))
            store.db.execute("UPDATE records SET gone_at = ? WHERE gone_at IS NOT NULL", (moment,))


@pytest.fixture()
def setup(donl: Any, tmp_path: Path) -> Setup:
    return Setup(tmp_path, donl.url, donl.api_key)


def target_packages(donl: Any, include_deleted: bool = False) -> list[dict[str, Any]]:
    result = donl.action("package_search", q="*:*", rows=1000, include_private=True,
                         include_drafts=True, **({"fq": "+state:(active OR deleted)"} if include_deleted else {}))
    return result["results"]


def test_first_sync_creates_every_dataset_and_the_second_writes_nothing(setup: Setup, donl: Any) -> None:
    with FaultProxy(donl.url) as proxy:
        setup.config.write_text(setup.config.read_text().replace(donl.url, proxy.url))
        code, first, output = setup.sync()
        assert code == 0, output
        assert first["counts"]["created"] == 57 and first["counts"]["failed"] == 0
        assert proxy.calls("package_create") == 57
        packages = target_packages(donl)
        identifiers = [p["identifier"] for p in packages]
        assert len(packages) == 57 and len(set(identifiers)) == 57
        assert {p["name"] for p in packages} == {p["name"] for p in setup.data["packages"]}
        proxy.log.clear()
        code, second, output = setup.sync()
        writes = [a for a, _, _ in proxy.log if a in ("package_create", "package_update", "package_delete", "package_patch")]
        reads = [a for a, _, _ in proxy.log if a not in ("site_read", "status_show")]
    assert code == 0, output
    assert second["counts"]["unchanged"] == 57 and second["target_writes"] == 0 and writes == []
    # the target's organisation and the key's rights checked, then the inventory's few fields
    # were enough: no package was read whole
    assert reads == ["organization_show", "organization_list_for_user", "package_search"], reads


def test_the_light_inventory_reads_a_few_indexed_fields_that_match_what_we_recorded(
        setup: Setup, donl: Any) -> None:
    """package_search with `fl` on CKAN 2.12 gives only those fields, and its metadata_modified
    (from the search index) names the same moment as package_show's, which we record."""
    from harvester.config import TargetConfig
    from harvester.donl.api import INVENTORY_FIELDS, TargetApi
    from harvester.store.encoding import same_moment

    assert setup.sync()[0] == 0
    api = TargetApi(TargetConfig(name="test", url=donl.url, owner_org=ORG, retries=0), donl.api_key,
                    read_only=True)
    light = list(api.iter_inventory_light(ORG))
    assert len(light) == 57 and all(set(entry) == set(INVENTORY_FIELDS) for entry in light)
    with StateStore.open(setup.state) as store:
        recorded = {pub.target_id: pub.target_modified for pub in store.publications(donl.url).values()}
    for entry in light:
        shown = api.show(entry["id"])
        assert shown is not None and shown["name"] == entry["name"] and entry["state"] == "active"
        assert same_moment(entry["metadata_modified"], shown["metadata_modified"])
        assert same_moment(entry["metadata_modified"], recorded[entry["id"]])
    whole = list(api.packages_by_id([entry["id"] for entry in light[:45]] + ["no-such-id"]))
    assert sorted(p["id"] for p in whole) == sorted(entry["id"] for entry in light[:45])
    assert all(p.get("identifier") for p in whole)


def test_a_change_at_the_source_gives_one_update_keeping_resource_ids(setup: Setup, donl: Any) -> None:
    assert setup.sync()[0] == 0
    before = donl.action("package_show", id="01voins-v1")
    setup.package("01voins-v1")["title"] = "VO-leerlingen per vestiging (herzien)"
    setup.package("01voins-v1")["metadata_modified"] = "2026-11-01T10:00:00.000000"
    setup.save()
    code, summary, output = setup.sync()
    assert code == 0, output
    assert (summary["counts"]["updated"], summary["counts"]["unchanged"], summary["counts"]["created"]) == (1, 56, 0)
    after = donl.action("package_show", id="01voins-v1")
    assert after["title"] == "VO-leerlingen per vestiging (herzien)"
    assert after["id"] == before["id"]
    assert [r["id"] for r in after["resources"]] == [r["id"] for r in before["resources"]]
    report = json.loads(Path(summary["report_json"]).read_text())
    [entry] = [d for d in report["datasets"] if d["action"] == "update"]
    assert any(c["field"] == "title" and c["new"] == "VO-leerlingen per vestiging (herzien)" for c in entry["changes"])


def test_removed_dataset_is_withdrawn_after_the_grace_period_and_comes_back(setup: Setup, donl: Any) -> None:
    assert setup.sync()[0] == 0
    original = donl.action("package_show", id="adressen_ho")
    [removed] = setup.remove("adressen_ho")
    code, summary, output = setup.sync()
    assert code == 0 and summary["counts"]["withdrawn"] == 0, output
    assert donl.action("package_show", id="adressen_ho")["state"] == "active"
    setup.age_gone_records(days=8)
    code, summary, output = setup.sync()
    assert code == 0 and summary["counts"]["withdrawn"] == 1, output
    assert donl.action("package_show", id="adressen_ho")["state"] == "deleted"
    setup.data["packages"].append(removed)
    setup.save()
    code, summary, output = setup.sync()
    assert code == 0 and summary["counts"]["updated"] == 1, output
    back = donl.action("package_show", id="adressen_ho")
    assert back["state"] == "active" and back["id"] == original["id"] and back["identifier"] == original["identifier"]
    assert len(target_packages(donl)) == 57


def test_an_empty_or_failing_source_withdraws_nothing(setup: Setup, donl: Any) -> None:
    assert setup.sync()[0] == 0
    setup.data["packages"] = []
    setup.save()
    code, summary, output = setup.sync()
    assert code == 3 and summary["harvest_complete"] is False, output
    setup.age_gone_records(days=30)
    setup.dump.write_text('{"packages": [', encoding="utf-8")
    code, summary, output = setup.sync()
    assert code == 3 and summary["outcome"] == "failed" and "not valid JSON" in (summary["error"] or ""), output
    assert len(target_packages(donl)) == 57


def test_too_many_withdrawals_are_held_back_unless_forced(setup: Setup, donl: Any) -> None:
    assert setup.sync()[0] == 0
    names = [p["name"] for p in setup.data["packages"][:8]]
    setup.remove(*names)
    setup.sync()
    setup.age_gone_records(days=8)
    code, summary, output = setup.sync()
    assert code == 1 and summary["counts"]["withdrawn"] == 0 and summary["counts"]["withdraw_held"] == 8, output
    report = json.loads(Path(summary["report_json"]).read_text())
    assert len([n for n in report["needs_person"] if n["action"] == "withdraw"]) == 8
    assert len(target_packages(donl)) == 57
    code, summary, output = setup.sync("--force-withdraw")
    assert code == 0 and summary["counts"]["withdrawn"] == 8, output
    assert len(target_packages(donl)) == 49


def test_a_dataset_edited_by_hand_on_the_target_is_a_conflict_and_left_alone(setup: Setup, donl: Any) -> None:
    assert setup.sync()[0] == 0
    donl.action("package_patch", id="p01hoinges", title="Met de hand verbeterd")
    setup.package("p01hoinges")["notes"] = "Nieuwe beschrijving bij de bron"
    setup.save()
    code, summary, output = setup.sync()
    assert code == 1 and summary["counts"]["conflict"] == 1 and summary["counts"]["updated"] == 0, output
    assert donl.action("package_show", id="p01hoinges")["title"] == "Met de hand verbeterd"
    report = json.loads(Path(summary["report_json"]).read_text())
    [entry] = [d for d in report["datasets"] if d["action"] == "conflict"]
    assert "drift" in entry["reason"]
    assert any(c["field"] == "title" and c["new"] == "Met de hand verbeterd" for c in entry["changes"])
    code, summary, output = setup.sync("--overwrite-drift")
    assert code == 0 and summary["counts"]["updated"] == 1, output
    shown = donl.action("package_show", id="p01hoinges")
    assert shown["title"] != "Met de hand verbeterd" and shown["notes"] == "Nieuwe beschrijving bij de bron"


def test_a_same_identifier_dataset_created_by_someone_else_is_never_overwritten(setup: Setup, donl: Any) -> None:
    code, planned, output = setup.sync("--dry-run")
    package = setup.package("p02ho1ejrs")
    identifier = f"https://onderwijsdata.duo.nl/dataset/{package['id']}"
    theirs = {
        "name": "handmatig-ingevoerd", "title": "Handmatig ingevoerd", "notes": "Door een mens",
        "owner_org": ORG, "identifier": identifier,
        "metadata_language": "http://publications.europa.eu/resource/authority/language/NLD",
        "language": ["http://publications.europa.eu/resource/authority/language/NLD"],
        "authority": "http://standaarden.overheid.nl/owms/terms/Dienst_Uitvoering_Onderwijs",
        "publisher": "http://standaarden.overheid.nl/owms/terms/Dienst_Uitvoering_Onderwijs",
        "contact_point_name": "Iemand", "contact_point_email": "iemand@example.org",
        "license_id": "http://creativecommons.org/licenses/by/4.0/deed.nl",
        "theme": ["http://standaarden.overheid.nl/owms/terms/Voortgezet_onderwijs_(thema)"],
        "modified": "2024-01-01T00:00:00",
    }
    donl.action("package_create", **theirs)
    code, summary, output = setup.sync()
    assert code == 1 and summary["counts"]["conflict"] == 1 and summary["counts"]["created"] == 56, output
    shown = donl.action("package_show", id="handmatig-ingevoerd")
    assert shown["title"] == "Handmatig ingevoerd"
    assert len([p for p in target_packages(donl) if p["identifier"] == identifier]) == 1
    code, summary, output = setup.sync("--adopt")
    assert code == 0 and summary["counts"]["updated"] == 1, output
    adopted = donl.action("package_show", id="handmatig-ingevoerd")
    assert adopted["title"] == package["title"] and adopted["name"] == "handmatig-ingevoerd"
    code, summary, output = setup.sync()
    assert code == 0 and summary["counts"]["unchanged"] == 57, output


def test_an_answer_lost_after_a_create_does_not_duplicate(setup: Setup, donl: Any) -> None:
    with FaultProxy(donl.url) as proxy:
        setup.config.write_text(setup.config.read_text().replace(donl.url, proxy.url))
        proxy.add(Fault(action="package_create", times=1, status=504, body="gateway timeout",
                        content_type="text/plain", forward_then_fail=True))
        setup.config.write_text(setup.config.read_text().replace("grace_days = 7", "grace_days = 7\nretries = 0"))
        code, summary, output = setup.sync()
        assert code == 1 and summary["counts"]["failed"] == 1 and summary["counts"]["created"] == 56, output
        assert len(target_packages(donl)) == 57
        code, summary, output = setup.sync()
        assert code == 0 and summary["counts"]["updated"] == 1 and summary["counts"]["created"] == 0, output
    identifiers = [p["identifier"] for p in target_packages(donl)]
    assert len(identifiers) == 57 and len(set(identifiers)) == 57


def test_a_sync_killed_mid_apply_and_run_again_leaves_no_duplicates(setup: Setup, donl: Any) -> None:
    setup.config.write_text(setup.config.read_text().replace("grace_days = 7", "grace_days = 7\nwrite_pause = 0.2"))
    env = {**os.environ, "PYTHONPATH": str(REPO), KEY_ENV: donl.api_key}
    process = subprocess.Popen([sys.executable, "-m", "harvester.cli", "--config", str(setup.config), "sync",
                                "--target", "test"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(target_packages(donl)) < 10 and time.time() < deadline:
        time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    created_before = len(target_packages(donl))
    assert 10 <= created_before < 57
    setup.config.write_text(setup.config.read_text().replace("write_pause = 0.2", "write_pause = 0"))
    code, summary, output = setup.sync()
    assert code == 0, output
    identifiers = [p["identifier"] for p in target_packages(donl)]
    assert len(identifiers) == 57 and len(set(identifiers)) == 57
    assert summary["counts"]["created"] + summary["counts"]["updated"] + summary["counts"]["unchanged"] == 57


def test_dry_run_makes_zero_write_calls_and_writes_the_plan(setup: Setup, donl: Any) -> None:
    plan_file = setup.tmp / "plan.json"
    with FaultProxy(donl.url) as proxy:
        setup.config.write_text(setup.config.read_text().replace(donl.url, proxy.url))
        code, summary, output = setup.sync("--dry-run", "--plan-out", str(plan_file))
        actions = {a for a, _, _ in proxy.log}
    assert code == 0, output
    assert summary["counts"]["create"] == 57 and summary["target_writes"] == 0
    assert actions <= {"organization_show", "organization_list_for_user", "package_search", "package_show"}
    assert target_packages(donl) == []
    plan = json.loads(plan_file.read_text())
    assert plan["dry_run"] is True and len(plan["actions"]) == 57
    first = plan["actions"][0]
    assert first["action"] == "create" and any(c["field"] == "title" for c in first["changes"])


def test_the_api_key_never_appears_in_output_logs_reports_or_state(setup: Setup, donl: Any) -> None:
    key = donl.api_key
    assert len(key) > 20
    code, summary, output = setup.sync("--plan-out", str(setup.tmp / "plan.json"))
    assert code == 0, output
    process = subprocess.run([sys.executable, "-m", "harvester.cli", "-v", "--config", str(setup.config), "sync",
                              "--target", "test"], env={**os.environ, "PYTHONPATH": str(REPO), KEY_ENV: key},
                             capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr
    everything = [output, process.stdout, process.stderr]
    for path in setup.tmp.rglob("*"):
        if path.is_file():
            everything.append(path.read_bytes().decode("utf-8", "replace"))
    assert all(key not in text for text in everything)
    assert any("reports" in str(p) for p in setup.tmp.rglob("run-*.html"))


def test_sync_from_the_real_source_ckan_to_the_target(ckan_source: Any, donl: Any, tmp_path: Path) -> None:
    ckan_source.seed_file(SNAPSHOT)
    setup = Setup(tmp_path, donl.url, donl.api_key)
    text = setup.config.read_text().replace('type = "dump"\npath = "duo.json"\nurl = "https://onderwijsdata.duo.nl"',
                                            f'url = "{ckan_source.url}"')
    text = text.replace('portal_url = "https://onderwijsdata.duo.nl"\n', 'portal_url = "https://onderwijsdata.duo.nl"\n', 1)
    setup.config.write_text(text)
    code, summary, output = setup.sync()
    assert code == 0, output
    assert summary["counts"]["created"] == 57
    identifiers = {p["identifier"] for p in target_packages(donl)}
    assert "https://onderwijsdata.duo.nl/dataset/173cbf21-1567-464a-bccd-518cd7a46bd0" in identifiers


# --- checked before planning: the target's organisation and the key's rights -----------------------


def test_a_nonexistent_owner_org_stops_before_any_write_with_exit_4(donl: Any, tmp_path: Path) -> None:
    """A wrong owner_org is found out before planning, dry runs included, not write by write."""
    setup = Setup(tmp_path, donl.url, donl.api_key)
    setup.config.write_text(setup.config.read_text(encoding="utf-8").replace(
        f'owner_org = "{ORG}"', 'owner_org = "no-such-organisation"'), encoding="utf-8")
    for args in (("--dry-run",), ()):
        code, summary, output = setup.sync(*args)
        assert code == 4, output
        assert "organisation 'no-such-organisation' does not exist" in summary["error"]
        assert f"target 'test' ({donl.url})" in summary["error"]
    assert target_packages(donl, include_deleted=True) == []


def test_a_key_without_rights_in_the_organisation_stops_before_any_write_with_exit_4(
        donl: Any, tmp_path: Path) -> None:
    donl.action("user_create", name="zonder-rechten", email="zonder@example.org", password="wachtwoord-123")
    token = donl.action("api_token_create", user="zonder-rechten", name="test")["token"]
    setup = Setup(tmp_path, donl.url, token)
    code, summary, output = setup.sync()
    assert code == 4, output
    assert f"may not create datasets in organisation '{ORG}'" in summary["error"]
    assert f"${KEY_ENV}" in summary["error"] and token not in output
    assert target_packages(donl, include_deleted=True) == []


def test_a_dry_run_without_a_key_says_what_it_cannot_see(donl: Any, tmp_path: Path) -> None:
    setup = Setup(tmp_path, donl.url, "")
    del os.environ[KEY_ENV]
    code, summary, output = setup.sync("--dry-run")
    assert code == 0, output
    report = json.loads(Path(summary["report_json"].replace(".html", ".json")).read_text(encoding="utf-8"))
    assert any("planned without an API key" in note and "may really be a conflict" in note
               for note in report["notes"])
