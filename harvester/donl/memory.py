"""An in-memory data.overheid.nl: the test double of harvester.donl.api.TargetApi that the tests
and the benchmark plan and apply against (plan.TargetReader + the writes apply.Applier makes,
with request and write counters like TargetApi's).

Like CKAN, it hands out a fresh copy of a package on every read: packages are kept as JSON,
compressed so that the benchmark's peak memory, which includes this target, is mostly the
harvester's own. The inventory is read one package at a time, as TargetApi reads it page by
page."""

from __future__ import annotations

import copy
import datetime
import itertools
import json
import threading
import zlib
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from harvester.donl.compare import canonical_hash


class MemoryTarget:
    """Packages by id; `create` assigns ids (package and resources) and every write stamps
    `metadata_modified`, like CKAN does."""

    def __init__(self, url: str = "memory://data.overheid.nl") -> None:
        self.url = url
        self.packages = _Packages()
        self.by_name: dict[str, str] = {}
        self.requests_made = 0
        self.writes = 0
        self.creates = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- plan.TargetReader ---------------------------------------------------------------------
    def iter_inventory(self, owner_org: str) -> Iterator[dict[str, Any]]:
        self.requests_made += max(1, -(-len(self.packages) // 1000))  # pages of 1000
        for package in self.packages.values():
            if package.get("owner_org") == owner_org and package.get("state") != "deleted" \
                    and package.get("identifier"):
                yield package

    def iter_inventory_light(self, owner_org: str) -> Iterator[dict[str, Any]]:
        """As TargetApi.iter_inventory_light: id, name, state and metadata_modified, from an index
        (as CKAN answers them from its search index), no package decoded."""
        self.requests_made += max(1, -(-len(self.packages) // 1000))
        for fields in self.packages.index.values():
            if fields["owner_org"] == owner_org and fields["state"] != "deleted":
                yield {k: fields[k] for k in ("id", "name", "state", "metadata_modified")}

    def packages_by_id(self, ids: list[str]) -> Iterator[dict[str, Any]]:
        """As TargetApi.packages: the whole packages with these ids."""
        self.requests_made += max(1, -(-len(ids) // 40))
        for package_id in ids:
            if package_id in self.packages:
                yield self.packages[package_id]

    def inventory(self, owner_org: str) -> dict[str, dict[str, Any]]:
        return {p["identifier"]: p for p in self.iter_inventory(owner_org)}

    def find_identifiers(self, identifiers: list[str]) -> dict[str, dict[str, Any]]:
        self.requests_made += max(1, -(-len(identifiers) // 50))
        found = {}
        for identifier in identifiers:
            key = self.packages.by_identifier.get(identifier)
            if key is not None:
                found[identifier] = self.packages[key]
        return found

    def show(self, package_id: str) -> dict[str, Any] | None:
        self.requests_made += 1
        key = package_id if package_id in self.packages else self.by_name.get(package_id)
        return self.packages.get(key) if key else None

    # -- the writes apply.Applier makes ----------------------------------------------------------
    def create(self, package: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests_made += 1
            self.writes += 1
            self.creates += 1
            stored = copy.deepcopy(package)
            stored["id"] = f"pkg-{next(self._ids)}"
            for res in stored.get("resources") or []:
                res.setdefault("id", f"res-{next(self._ids)}")
            stored["state"] = "active"
            stored["metadata_modified"] = _now()
            self.packages[stored["id"]] = stored
            self.by_name[stored["name"]] = stored["id"]
            return stored

    def update(self, package: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests_made += 1
            self.writes += 1
            stored = copy.deepcopy(package)
            for res in stored.get("resources") or []:
                res.setdefault("id", f"res-{next(self._ids)}")
            stored.setdefault("state", "active")
            stored["metadata_modified"] = _now()
            self.packages[stored["id"]] = stored
            self.by_name[stored["name"]] = stored["id"]
            return stored

    def withdraw(self, package_id: str) -> None:
        with self._lock:
            self.requests_made += 1
            self.writes += 1
            key = package_id if package_id in self.packages else self.by_name.get(package_id)
            if key:
                package = self.packages[key]
                package["state"] = "deleted"
                package["metadata_modified"] = _now()
                self.packages[key] = package

    def fingerprint(self) -> str:
        """One hash over every package (to show that a run changed nothing)."""
        return canonical_hash({"all": sorted(canonical_hash(p) for p in self.packages.values())})

    def save(self, path: Path) -> None:
        """Keep the packages in a JSON Lines file (for the benchmark's next phase)."""
        with open(path, "w", encoding="utf-8") as out:
            out.write(json.dumps({"next": next(self._ids)}) + "\n")
            out.writelines(json.dumps(package, ensure_ascii=False) + "\n" for package in self.packages.values())

    @classmethod
    def load(cls, path: Path, url: str = "memory://data.overheid.nl") -> MemoryTarget:
        target = cls(url)
        with open(path, encoding="utf-8") as lines:
            target._ids = itertools.count(json.loads(next(lines))["next"])
            for line in lines:
                package = json.loads(line)
                target.packages[package["id"]] = package
                target.by_name[package["name"]] = package["id"]
        return target


def _now() -> str:
    """CKAN's form of metadata_modified: UTC, ISO 8601 with microseconds, no zone."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat()


class _Packages(MutableMapping):
    """Package id -> package, each kept as zlib-compressed JSON (a decoded copy per read), with
    an index by identifier and the fields a light inventory reads."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self.by_identifier: dict[str, str] = {}
        self.index: dict[str, dict[str, Any]] = {}

    def __getitem__(self, key: str) -> dict[str, Any]:
        return json.loads(zlib.decompress(self._data[key]))

    def __setitem__(self, key: str, package: dict[str, Any]) -> None:
        self._data[key] = zlib.compress(json.dumps(package, ensure_ascii=False).encode("utf-8"), 1)
        if package.get("identifier"):
            self.by_identifier[package["identifier"]] = key
        self.index[key] = {"id": key, "name": package.get("name"), "state": package.get("state"),
                           "metadata_modified": package.get("metadata_modified"),
                           "owner_org": package.get("owner_org")}

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self.index.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data
