"""Saved plans: a dry run's plan written to a file (`harvester plan --out FILE`) with what it was
made from (its basis), to be applied later exactly as it was made (`harvester apply FILE`), or
refused when what it was made from changed since:

- the harvest: a newer harvest of the source, or other records than the plan saw;
- the stages: the pipeline's fingerprint (mapping tables, shapes, mapping options, harvester);
- the target: each dataset the plan would write, as the target held it (its id and
  metadata_modified, or its absence) when the plan was made.

The file is the plan's JSON (the keys `--plan-out` always wrote, packages included) with
`format`, `made_at` and `basis` added.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from harvester.errors import UsageError
from harvester.pipeline import Stages
from harvester.plan import Plan
from harvester.store.rows import Run
from harvester.store.state import StateStore

PLAN_FORMAT = "dcat-ap-nl-harvester/plan/1"
#: the runs that harvest (an `apply` run does not)
HARVEST_KINDS = ("harvest", "sync")


class IdentifierFinder(Protocol):
    """What the basis reads of the target (TargetApi and EmptyTarget are ones)."""

    url: str

    def find_identifiers(self, identifiers: list[str]) -> dict[str, dict[str, Any]]: ...


# --- what a plan is made from ----------------------------------------------------------------------


def plan_basis(store: StateStore, source: str, run_id: int, stages: Stages, target: IdentifierFinder,
               target_name: str | None, plan: Plan) -> dict[str, Any]:
    """What `plan` was made from: the harvest run and its records, the stages' fingerprint, the
    target, and each dataset it would write as the target holds it now."""
    return {
        "source": source,
        "harvest_run": run_id,
        "records": records_digest(store, source),
        "fingerprint": stages.fingerprint(),
        "check_urls": bool(stages.check_urls),
        "target": {"name": target_name, "url": target.url, "owner_org": plan.owner_org},
        "target_packages": target_packages(target, {a.identifier: a.name for a in plan.writes()}),
    }


def records_digest(store: StateStore, source: str) -> str:
    """A digest over the source's harvested records: their ids, content and gone marks."""
    digest = hashlib.sha256()
    for record in store.records(source, include_gone=True):
        digest.update(f"{record.source_id}\t{record.content_hash}\t{record.gone_at or ''}\n".encode())
    return digest.hexdigest()


def target_packages(target: IdentifierFinder, names: dict[str, str | None]) -> dict[str, dict[str, Any]]:
    """Each identifier's package on the target: its id and metadata_modified (None for both when
    the target has none), with the dataset's name for messages."""
    found = target.find_identifiers(sorted(names)) if names else {}
    return {identifier: {"name": names[identifier], **_as_held(found.get(identifier))}
            for identifier in sorted(names)}


def _as_held(package: dict[str, Any] | None) -> dict[str, Any]:
    if package is None:
        return {"id": None, "metadata_modified": None}
    return {"id": package.get("id"), "metadata_modified": package.get("metadata_modified")}


def latest_harvest(store: StateStore, source: str) -> Run | None:
    """The source's latest run that harvested (a harvest or sync, not an apply)."""
    return next((r for r in store.runs(source, limit=1000) if r.kind in HARVEST_KINDS), None)


# --- the plan file -------------------------------------------------------------------------------


def write_plan_file(path: Path | None, plan: Plan, extra: dict[str, Any],
                    basis: dict[str, Any] | None = None) -> None:
    """Write the plan, with its packages, as JSON to `path` (nothing when `path` is None); with
    its `basis`, `harvester apply` can apply it."""
    if path is None:
        return
    data = {**extra, **plan.to_dict(with_packages=True)}
    if basis is not None:
        data.update(format=PLAN_FORMAT, made_at=datetime.now(UTC).isoformat(timespec="seconds"), basis=basis)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def read_plan_file(path: Path) -> dict[str, Any]:
    """A saved plan that `harvester apply` can apply; a usage error (2) says why a file is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not a readable plan file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT or not isinstance(data.get("basis"), dict):
        raise UsageError(f"{path}: not a plan saved by `harvester plan --out` (format {PLAN_FORMAT}); "
                         "make one with `harvester plan --out FILE`")
    if data.get("dry_run") is not True:
        raise UsageError(f"{path}: the plan of run {data.get('run_id')}, which applied it already")
    return data


# --- is it still the plan it was ---------------------------------------------------------------------


def stale_reasons(basis: dict[str, Any], store: StateStore, fingerprint: str, target: IdentifierFinder) -> list[str]:
    """Why a saved plan no longer fits: what changed since it was made (nothing: [])."""
    reasons = harvest_changes(basis, store)
    if fingerprint != basis["fingerprint"]:
        reasons.append("the mapping tables, shapes, mapping options or the harvester itself changed since the plan")
    return reasons + target_changes(basis["target_packages"], target)


def harvest_changes(basis: dict[str, Any], store: StateStore) -> list[str]:
    """A newer harvest of the source, or other records than the plan saw."""
    source, planned = basis["source"], basis["harvest_run"]
    latest = latest_harvest(store, source)
    if latest is None or latest.id != planned:
        newer = f"run {latest.id}" if latest is not None else "no harvest at all"
        return [f"source {source!r} was harvested again since the plan ({newer}; the plan is of run {planned})"]
    if records_digest(store, source) != basis["records"]:
        return [f"the harvested records of source {source!r} changed since the plan"]
    return []


def target_changes(recorded: dict[str, dict[str, Any]], target: IdentifierFinder) -> list[str]:
    """The planned datasets the target holds otherwise than when the plan was made."""
    now = target_packages(target, {identifier: held.get("name") for identifier, held in recorded.items()})
    changed = [held.get("name") or identifier for identifier, held in sorted(recorded.items())
               if _moment(held) != _moment(now[identifier])]
    if not changed:
        return []
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return [f"{len(changed)} planned dataset(s) changed on the target {target.url} since the plan "
            f"(created, edited or deleted there): {shown}"]


def _moment(held: dict[str, Any]) -> tuple[Any, Any]:
    return held.get("id"), held.get("metadata_modified")
