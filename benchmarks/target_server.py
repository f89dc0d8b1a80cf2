"""A local data.overheid.nl for benchmarks: the CKAN action API that harvester.donl.api.TargetApi
calls (through ckanapi), in its own process.

    with TargetServer(delay=0.05) as target:     # runs in a child process
        target.url; target.stats(); target.reset(); target.save(path); target.load(path)

It answers, in CKAN's envelope (`{"success": true, "result": ...}`; a refusal is HTTP 409 with
`{"__type": "Validation Error", field: [messages]}`, an unknown package 404 `Not Found Error`):

- `package_search`: `fq` is one or more `field:"value"` or `field:("a" OR "b")` clauses joined by
  OR, on `id`, `name`, `identifier`, `owner_org` or `organization`; `fl` (a list or a comma
  separated string) gives only those fields; `rows` (at most 1000) and `start` page through the
  matches, always sorted by id; `q`, `sort` and `include_private` are accepted and ignored.
  Deleted packages are not found, as in CKAN's search index.
- `package_show` (by id or name, deleted ones too), `package_create`, `package_update` and
  `package_delete` (soft: state `deleted`).
- `organization_show` and `organization_list_for_user` (the benchmark's user may edit every
  organisation the server knows).

The packages live in harvester.donl.memory.MemoryTarget. A create or update is refused with the
validators' rules (harvester.donl.convert.check_package), and also when its `owner_org` is not an
organisation of the server or its `name` is taken by another package, as data.overheid.nl
refuses them. Writes need the API key in the Authorization header (403 otherwise).

`delay` seconds are waited before each answer, standing for the network. The server counts the
requests by action, the write requests (create, update, delete: accepted or refused) and the
refused ones: `stats()` or GET /_stats (the counters run on across `reset` and `load`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmarks.ckan_server import ActionState, ServerProcess
from harvester.apply import NAME_IN_USE
from harvester.donl.rules import check_package
from harvester.donl.memory import MemoryTarget

ORGANISATION = "dienst-uitvoering-onderwijs"
API_KEY = "bench-5f0c2e7a9d41b36e8a17c4d2f09b"
WRITE_ACTIONS = ("package_create", "package_update", "package_delete")
ROWS_MAX = 1000
#: the fields a light search answers from the index, without decoding a package
INDEX_FIELDS = frozenset({"id", "name", "state", "metadata_modified", "owner_org"})

_CLAUSE = re.compile(r'\s*(?:OR\s+)?(\w+):(\((?:[^()"]|"(?:[^"\\]|\\.)*")*\)|"(?:[^"\\]|\\.)*"|[^\s()]+)\s*')
_PHRASE = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


class Refused(Exception):
    """A write data.overheid.nl would refuse: `errors` in CKAN's form (field -> messages)."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(str(errors))
        self.errors = errors


class NotFound(Exception):
    """No such package or organisation."""


class BadQuery(Exception):
    """A search filter this server does not understand."""


def organisation(name: str) -> dict[str, Any]:
    """The organisation dict the server shows for `name`."""
    return {"id": f"org-{name}", "name": name, "title": name, "display_name": name,
            "type": "organization", "is_organization": True, "state": "active",
            "approval_status": "approved", "capacity": "editor"}


def parse_filter(fq: str) -> list[tuple[str, set[str]]]:
    """The (field, values) clauses of an OR-joined filter query, also as one required group
    (`+(a OR b)`); a package matches any of them."""
    fq = fq.strip()
    if fq.startswith("+(") and fq.endswith(")"):
        fq = fq[2:-1]
    clauses: list[tuple[str, set[str]]] = []
    position = 0
    while position < len(fq):
        match = _CLAUSE.match(fq, position)
        if match is None or match.end() == position:
            raise BadQuery(f"cannot read the filter from {fq[position:]!r}")
        field, value = match.groups()
        phrases = _PHRASE.findall(value)
        values = {_ESCAPE.sub(r"\1", p) for p in phrases} if phrases else {value.strip("()")}
        clauses.append((field, values))
        position = match.end()
    return clauses


def field_list(fl: Any) -> list[str]:
    """The fields `fl` asks for (a list, or text separated by commas or spaces); [] for all."""
    if not fl:
        return []
    if isinstance(fl, str):
        return [f for f in re.split(r"[,\s]+", fl) if f]
    return [str(f) for f in fl]


def error_dict(problems: Iterable[Any]) -> dict[str, Any]:
    """check_package's FieldProblems as CKAN's error dict (a resource's under `resources`, by
    position)."""
    errors: dict[str, Any] = {}
    for problem in problems:
        match = re.fullmatch(r"resources\[(\d+)\]\.(.+)", problem.field)
        if match is None:
            errors.setdefault(problem.field, []).append(problem.message)
            continue
        index, key = int(match.group(1)), match.group(2)
        resources = errors.setdefault("resources", [])
        resources.extend({} for _ in range(index + 1 - len(resources)))
        resources[index].setdefault(key, []).append(problem.message)
    return errors


class _TargetState(ActionState):
    """The packages (a MemoryTarget) and the actions on them."""

    def __init__(self, delay: float, organisations: tuple[str, ...], api_key: str | None) -> None:
        super().__init__(delay)
        self.organisations = {name: organisation(name) for name in organisations}
        self.api_key = api_key
        self.refused = 0
        self.store_lock = threading.RLock()
        self.target = MemoryTarget()
        self._search_cache: tuple[int, str, list[str]] | None = None
        self._generation = 0
        self.actions_table = {
            "package_search": self.package_search, "package_show": self.package_show,
            "package_create": self.package_create, "package_update": self.package_update,
            "package_delete": self.package_delete, "organization_show": self.organization_show,
            "organization_list_for_user": self.organization_list_for_user,
        }

    # -- the envelope's side: dispatch, authorisation, errors --------------------------------

    def answer(self, action: str, params: dict[str, Any], headers: Any = None) -> tuple[int, Any]:
        handler = self.actions_table.get(action)
        if handler is None:
            return 400, {"__type": "Bad Request", "message": f"Action name not known: {action}"}
        if action in WRITE_ACTIONS and self.api_key and (headers or {}).get("Authorization") != self.api_key:
            return 403, {"__type": "Authorization Error",
                         "message": f"User not authorized to call {action}"}
        try:
            with self.store_lock:
                return 200, handler(params)
        except Refused as exc:
            with self.lock:
                self.refused += 1
            return 409, {"__type": "Validation Error", **exc.errors}
        except NotFound as exc:
            return 404, {"__type": "Not Found Error", "message": f"Not found: {exc}"}
        except BadQuery as exc:
            return 409, {"__type": "Search Query Error", "message": f"Search Query Error: {exc}"}

    def stats(self) -> dict[str, Any]:
        """The base counters, the write requests (accepted or refused), the refused ones and the
        number of packages held."""
        stats = super().stats()
        stats["writes"] = sum(stats["actions"].get(action, 0) for action in WRITE_ACTIONS)
        stats["writes_by_action"] = {a: stats["actions"].get(a, 0) for a in WRITE_ACTIONS}
        stats["refused"] = self.refused
        stats["packages"] = len(self.target.packages)
        return stats

    def control(self, message: Any) -> Any:
        """Also `reset` (no packages), ("save", path) and ("load", path) (MemoryTarget's file)."""
        with self.store_lock:
            if message == "reset":
                self.target = MemoryTarget()
            elif isinstance(message, tuple) and message[0] == "save":
                self.target.save(Path(message[1]))
            elif isinstance(message, tuple) and message[0] == "load":
                self.target = MemoryTarget.load(Path(message[1]))
            else:
                return super().control(message)
            self._generation += 1
            return len(self.target.packages)

    # -- reads ---------------------------------------------------------------------------------

    def package_search(self, params: dict[str, Any]) -> dict[str, Any]:
        keys = self._matching(str(params.get("fq") or ""))
        rows = min(int(params.get("rows", 10)), ROWS_MAX)
        start = int(params.get("start", 0))
        fields = field_list(params.get("fl"))
        return {"count": len(keys), "results": [self._found(key, fields) for key in keys[start:start + rows]]}

    def package_show(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.target.packages[self._key(params.get("id"))]

    def organization_show(self, params: dict[str, Any]) -> dict[str, Any]:
        name = self._organisation_name(str(params.get("id") or ""))
        if name is None:
            raise NotFound(f"organisation {params.get('id')!r}")
        return self.organisations[name]

    def organization_list_for_user(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.organisations.values())

    def _matching(self, fq: str) -> list[str]:
        """The ids of the active packages the filter matches, sorted (kept until the next write,
        as the pages of one search are asked for one after another)."""
        cached = self._search_cache
        if cached is not None and cached[0] == self._generation and cached[1] == fq:
            return cached[2]
        keys: set[str] = set()
        for field, values in parse_filter(fq) if fq.strip() not in ("", "*:*") else [("*", set())]:
            keys.update(self._keys_for(field, values))
        index = self.target.packages.index
        found = sorted(key for key in keys if index[key]["state"] != "deleted")
        self._search_cache = (self._generation, fq, found)
        return found

    def _keys_for(self, field: str, values: set[str]) -> Iterable[str]:
        """The ids of the packages (deleted ones too) whose `field` has one of `values`."""
        finders = {"*": self._all, "id": self._by_id, "name": self._by_name,
                   "identifier": self._by_identifier, "owner_org": self._by_organisation,
                   "organization": self._by_organisation}
        if field not in finders:
            raise BadQuery(f"no search on field {field!r}")
        return finders[field](values)

    def _all(self, values: set[str]) -> list[str]:
        return list(self.target.packages.index)

    def _by_id(self, values: set[str]) -> list[str]:
        return [v for v in values if v in self.target.packages]

    def _by_name(self, values: set[str]) -> list[str]:
        return [self.target.by_name[v] for v in values if v in self.target.by_name]

    def _by_identifier(self, values: set[str]) -> list[str]:
        packages = self.target.packages
        keys = [packages.by_identifier[v] for v in values if v in packages.by_identifier]
        # (the index keeps an identifier a package no longer has)
        return [k for k in keys if packages[k].get("identifier") in values]

    def _by_organisation(self, values: set[str]) -> list[str]:
        names = {self._organisation_name(v) or v for v in values}
        return [k for k, f in self.target.packages.index.items()
                if (self._organisation_name(str(f["owner_org"])) or f["owner_org"]) in names]

    def _found(self, key: str, fields: list[str]) -> dict[str, Any]:
        if fields and INDEX_FIELDS.issuperset(fields):
            entry = self.target.packages.index[key]
            return {f: entry[f] for f in fields}
        package = self.target.packages[key]
        return {f: package[f] for f in fields if f in package} if fields else package

    def _key(self, id_or_name: Any) -> str:
        value = str(id_or_name or "")
        key = value if value in self.target.packages else self.target.by_name.get(value)
        if key is None:
            raise NotFound(f"package {value!r}")
        return key

    def _organisation_name(self, id_or_name: str) -> str | None:
        for name, org in self.organisations.items():
            if id_or_name in (name, org["id"]):
                return name
        return None

    # -- writes --------------------------------------------------------------------------------

    def package_create(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check(params, None)
        self._generation += 1
        return self.target.create(params)

    def package_update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = self._key(params.get("id") or params.get("name"))
        self._check(params, key)
        self._generation += 1
        return self.target.update({**params, "id": key})

    def package_delete(self, params: dict[str, Any]) -> None:
        key = self._key(params.get("id"))
        self._generation += 1
        self.target.withdraw(key)

    def _check(self, package: dict[str, Any], key: str | None) -> None:
        """Refuse what data.overheid.nl would: the validators' rules, an unknown organisation, a
        name another package holds."""
        errors = error_dict(check_package(package))
        if self._organisation_name(str(package.get("owner_org") or "")) is None:
            errors.setdefault("owner_org", []).append("Organization does not exist")
        holder = self.target.by_name.get(str(package.get("name") or ""))
        if holder is not None and holder != key:
            errors.setdefault("name", []).append(NAME_IN_USE)
        if errors:
            raise Refused(errors)


class TargetServer(ServerProcess):
    """A local data.overheid.nl (the CKAN action API over a MemoryTarget), in a child process."""

    def __init__(self, delay: float = 0.0, organisations: tuple[str, ...] = (ORGANISATION,),
                 api_key: str | None = API_KEY) -> None:
        super().__init__()
        self.delay = delay
        self.organisations = tuple(organisations)
        self.api_key = api_key

    def make_state(self) -> ActionState:
        return _TargetState(self.delay, self.organisations, self.api_key)

    def reset(self) -> None:
        """Start again with no packages."""
        self.control("reset")

    def save(self, path: Path) -> int:
        """Keep the packages in a file (MemoryTarget.save); returns how many."""
        return int(self.control(("save", str(path))))

    def load(self, path: Path) -> int:
        """Hold the packages of a file `save` wrote, and nothing else; returns how many."""
        return int(self.control(("load", str(path))))
