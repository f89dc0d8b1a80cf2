"""Load CKAN dumps into a stack instance, and reset it; `CkanSite` is what the fixtures hand out.

A dump is `{"format": "ckan-dump/1", "source_url": ..., "organizations": [...], "groups": [...],
"licenses": [...], "packages": [package_show dicts]}`; a plain list of package dicts, or a `.jsonl`
file with one package per line, is accepted too. Seeding creates organisations and groups (keeping
their ids and names), installs the licences (restarting the instance when they differ from its
current list), then creates each package with its own id, name, resources (with their ids and
extra keys), extras, tags, groups, owner_org and metadata_modified; metadata_created is restored
in the database afterwards and the search index rebuilt, so package_show/package_search show the
dump's dates.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .stack import CkanInstance, CkanStack

DUMP_FORMAT = "ckan-dump/1"
PACKAGE_READONLY = {
    "metadata_created", "creator_user_id", "num_resources", "num_tags", "organization",
    "isopen", "license_title", "license_url", "relationships_as_object",
    "relationships_as_subject", "tracking_summary", "revision_id", "revision_timestamp",
}
RESOURCE_READONLY = {"package_id", "position", "tracking_summary", "revision_id", "state",
                     "metadata_modified"}
GROUP_FIELDS = ("id", "name", "title", "description", "image_url", "type", "extras",
                "approval_status")


class SeedError(RuntimeError):
    """A package of the dump could not be created (the message names it and CKAN's error)."""


@dataclass
class SeedReport:
    """What a seed created: dump org/group id or name -> created id, and package ids in order."""

    organizations: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    packages: list[str] = field(default_factory=list)
    licenses_changed: bool = False


def load_dump(source: Any) -> dict[str, Any]:
    """Normalise a dump (dict, list of packages, or a .json/.jsonl path) to the dict form."""
    if isinstance(source, (str, Path)):
        source = _read_dump_file(Path(source))
    if isinstance(source, list):
        source = {"format": DUMP_FORMAT, "packages": source}
    if not isinstance(source, dict) or not isinstance(source.get("packages", []), list):
        raise TypeError("a dump is a dict with a 'packages' list, or a list of packages")
    if source.get("format", DUMP_FORMAT) != DUMP_FORMAT:
        raise ValueError(f"unsupported dump format {source.get('format')!r}")
    return {"format": DUMP_FORMAT, "source_url": source.get("source_url"),
            "organizations": list(source.get("organizations") or []),
            "groups": list(source.get("groups") or []),
            "licenses": list(source.get("licenses") or []),
            "packages": list(source.get("packages") or [])}


def _read_dump_file(path: Path) -> Any:
    """Read a .json dump or a .jsonl file of packages."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


class CkanSite:
    """A running CKAN instance of the stack, as tests use it.

    Attributes: `name`, `url`, `api_key` (sysadmin API token), `ckan` (ckanapi.RemoteCKAN as
    sysadmin), `instance` (the stack's CkanInstance), `stack`.
    """

    def __init__(self, stack: CkanStack, instance: CkanInstance, workers: int = 4):
        self.stack, self.instance, self.workers = stack, instance, workers
        self._local = threading.local()
        self.ckan = instance.remote()

    @property
    def name(self) -> str:
        """The instance name (also its ckan.site_id and Solr core)."""
        return self.instance.name

    @property
    def url(self) -> str:
        """The site URL."""
        return self.instance.url

    @property
    def api_key(self) -> str:
        """The sysadmin's API token."""
        return self.instance.api_key

    def action(self, action_name: str, /, **data: Any) -> Any:
        """Call an action as sysadmin (thread-safe: one client per thread)."""
        remote = getattr(self._local, "remote", None)
        if remote is None or remote.apikey != self.api_key:
            remote = self._local.remote = self.instance.remote()
        return remote.call_action(action_name, data)

    def sql(self, statement: str) -> list[list[str]]:
        """Run SQL in this instance's database."""
        return self.stack.sql(self.instance, statement)

    # --- reset ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Purge every dataset (also deleted/draft/private), organisation and group.

        Users, orphaned tags and a licence list installed by seed() stay.
        """
        package_ids = [row[0] for row in self.sql("SELECT id FROM package")]
        self._parallel(lambda pid: self.action("dataset_purge", id=pid), package_ids)
        for group_id, is_org in self.sql('SELECT id, is_organization FROM "group"'):
            action = "organization_purge" if is_org == "t" else "group_purge"
            self.action(action, id=group_id)

    # --- seeding ----------------------------------------------------------------------------

    def seed_file(self, path: str | Path) -> SeedReport:
        """Seed from a .json dump or .jsonl package file."""
        return self.seed(load_dump(Path(path)))

    def seed(self, dump: Any) -> SeedReport:
        """Create the dump's organisations, groups, licences and packages in this instance."""
        dump = load_dump(dump)
        report = SeedReport()
        report.licenses_changed = self.set_licenses(dump["licenses"])
        for org in dump["organizations"]:
            self._create_group(org, True, report.organizations)
        for group in dump["groups"]:
            self._create_group(group, False, report.groups)
        for pkg in dump["packages"]:
            self._ensure_package_owner(pkg, report)
            self._ensure_package_groups(pkg, report)
        packages = [self._package_payload(pkg, report) for pkg in dump["packages"]]
        report.packages = self._create_packages(packages)
        self._restore_created_dates(dump["packages"])
        return report

    def set_licenses(self, licenses: list[dict[str, Any]]) -> bool:
        """Make the instance's licence list the given one (restarts it); True if it changed."""
        if not licenses:
            return False
        current = {lic["id"]: lic.get("title") for lic in self.action("license_list")}
        wanted = {lic["id"]: lic.get("title") for lic in licenses}
        if current == wanted:
            return False
        path = self.instance.dir / "licenses.json"
        path.write_text(json.dumps(licenses, indent=1), encoding="utf-8")
        self.stack.restart_instance(self.instance, {"licenses_group_url": path.as_uri()})
        self.ckan = self.instance.remote()
        return True

    def _create_group(self, data: dict[str, Any], is_org: bool, mapping: dict[str, str]) -> None:
        """Create an organisation or group from a dump dict; map its dump id and name."""
        payload = {k: data[k] for k in GROUP_FIELDS if data.get(k) not in (None, "")}
        if payload.get("type") in ("organization", "group"):
            del payload["type"]  # the default types; custom ones are kept
        created = self.action("organization_create" if is_org else "group_create", **payload)
        for key in (data.get("id"), data.get("name")):
            if key:
                mapping[key] = created["id"]

    def _ensure_package_owner(self, pkg: dict[str, Any], report: SeedReport) -> None:
        """Create the package's organisation from its `organization` dict if the dump lacks it."""
        owner, org = pkg.get("owner_org"), pkg.get("organization")
        if owner and owner not in report.organizations and isinstance(org, dict):
            if org.get("name") in report.organizations:
                report.organizations[owner] = report.organizations[org["name"]]
            else:
                self._create_group(org, True, report.organizations)

    def _ensure_package_groups(self, pkg: dict[str, Any], report: SeedReport) -> None:
        """Create the groups a package names that the dump's group list lacks."""
        for group in pkg.get("groups") or []:
            if not ({group.get("id"), group.get("name")} & report.groups.keys()):
                self._create_group(group, False, report.groups)

    def _package_payload(self, pkg: dict[str, Any], report: SeedReport) -> dict[str, Any]:
        """A package_create payload from a package_show-style dict."""
        payload = {k: v for k, v in pkg.items() if k not in PACKAGE_READONLY and v is not None}
        owner = pkg.get("owner_org")
        if owner:
            payload["owner_org"] = report.organizations.get(owner, owner)
        payload["tags"] = [{"name": t["name"] if isinstance(t, dict) else t}
                           for t in pkg.get("tags") or []]
        payload["groups"] = [{"id": report.groups.get(g.get("id"))
                              or report.groups.get(g.get("name")) or g.get("name")}
                             for g in pkg.get("groups") or []]
        payload["resources"] = [{k: v for k, v in res.items()
                                 if k not in RESOURCE_READONLY and v is not None}
                                for res in pkg.get("resources") or []]
        return payload

    def _create_packages(self, payloads: list[dict[str, Any]]) -> list[str]:
        """package_create all payloads; returns their ids in order.

        CKAN creates a free tag when a package first uses it, and two packages created at the
        same moment with the same new tag give two tag rows of that name. So packages that
        bring a tag not yet seen are created one by one first, and the rest in parallel.
        """
        first_wave, seen_tags = [], set()
        for index, payload in enumerate(payloads):
            tags = {tag["name"] for tag in payload.get("tags", [])}
            if tags - seen_tags:
                first_wave.append(index)
                seen_tags |= tags
        second_wave = sorted(set(range(len(payloads))) - set(first_wave))
        ids: dict[int, str] = {}
        for index in first_wave:
            ids[index] = self._create_package(payloads[index])
        created = self._parallel(lambda i: self._create_package(payloads[i]), second_wave)
        ids.update(zip(second_wave, created, strict=True))
        return [ids[i] for i in range(len(payloads))]

    def _create_package(self, payload: dict[str, Any]) -> str:
        """package_create one payload; SeedError naming the package when CKAN refuses it."""
        try:
            return self.action("package_create", **payload)["id"]
        except Exception as exc:
            raise SeedError(f"seeding package {payload.get('name')!r} failed: {exc}") from exc

    def _restore_created_dates(self, packages: list[dict[str, Any]]) -> None:
        """Set metadata_created from the dump (CKAN ignores it on create) and reindex."""
        dates = [(p["id"], p["metadata_created"]) for p in packages
                 if p.get("id") and p.get("metadata_created")]
        if not dates:
            return
        values = ", ".join(f"('{_sql_text(pid)}', '{_sql_text(when)}'::timestamp)"
                           for pid, when in dates)
        self.sql("UPDATE package SET metadata_created = v.created FROM (VALUES "
                 f"{values}) AS v(id, created) WHERE package.id = v.id")
        self.stack.reindex(self.instance, [pid for pid, _ in dates])

    def _parallel(self, func: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """Map func over items with a few threads (CKAN serves requests in threads)."""
        if len(items) <= 1 or self.workers <= 1:
            return [func(item) for item in items]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(func, items))


def _sql_text(value: str) -> str:
    """Escape a value for a single-quoted SQL literal."""
    return str(value).replace("'", "''")
