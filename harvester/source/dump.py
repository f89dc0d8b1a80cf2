"""A file of CKAN package dicts as a source: a JSON list, a CKAN dump object, or JSON Lines
(offline runs, the bundled example and tests)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from harvester.errors import SourceError
from harvester.source.context import SourceContext
from harvester.source.listing import Listing, Unchanged, check_package, modified_after


class DumpSource:
    """A file of CKAN package dicts: a JSON list, a CKAN dump object, or JSON Lines."""

    def __init__(self, path: str | Path, base_url: str = "") -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self._data: dict[str, Any] | None = None
        self.base_url = base_url

    @property
    def requests_made(self) -> int:
        return 0

    def load(self) -> dict[str, Any]:
        """The dump as `{"packages": [...], "organizations": [...], ...}` (read once)."""
        if self._data is None:
            self._data = read_dump(self.path)
        return self._data

    def packages(self, listing: Listing, since: datetime | None = None,
                 known: dict[str, str] | None = None) -> Iterator[dict[str, Any] | Unchanged]:
        listing.method = "dump"
        packages = self.load()["packages"]
        listing.total = len(packages)
        seen: set[str] = set()
        for package in packages:
            if package["id"] in seen:
                listing.incomplete(f"{self.path}: dataset {package['id']} appears twice")
                continue
            seen.add(package["id"])
            if since is None or modified_after(package, since):
                yield package

    def context(self, organizations: set[str], listing: Listing) -> SourceContext:
        data = self.load()
        ctx = SourceContext(base_url=self.base_url or data.get("source_url") or "")
        for org in data.get("organizations") or []:
            if isinstance(org, dict) and org.get("name"):
                ctx.organizations[org["name"]] = org
        for group in data.get("groups") or []:
            if isinstance(group, dict) and group.get("name"):
                ctx.groups[group["name"]] = group
        for lic in data.get("licenses") or []:
            if isinstance(lic, dict) and lic.get("id"):
                ctx.licenses[lic["id"]] = lic
        return ctx


def read_dump(path: Path) -> dict[str, Any]:
    """Read a dump file; a malformed one raises SourceError naming the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: dump file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the dump file: {exc}") from None
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        packages = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                packages.append(check_package(json.loads(line), f"{path}, line {number}"))
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path}, line {number}, column {exc.colno}: not valid JSON: {exc.msg}") from None
        return {"packages": packages}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    if isinstance(data, list):
        data = {"packages": data}
    if not isinstance(data, dict) or not isinstance(data.get("packages"), list):
        raise SourceError(f"{path}: expected a list of CKAN packages or an object with a 'packages' list")
    for index, package in enumerate(data["packages"]):
        check_package(package, f"{path}, packages[{index}]")
    return data
