"""What the state store gives back: runs, harvested records, stage results and publications.

Each is a plain dataclass read from one row (with its JSON parsed), usable after the store is
closed; a publication's target snapshot is the one value read when first used (`Publication.
target_snapshot`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable

from harvester.store.encoding import parse_json

#: the columns a record is read from (`Record.from_row`), its raw package dict last
RECORD_COLUMNS = ("r.source, r.source_id, r.name, r.metadata_modified, r.content_hash, r.first_seen_run, "
                  "r.last_seen_run, r.last_changed_run, r.gone_at, r.gone_run, r.access, w.raw")
#: a record's `access`: who may see the dataset at the source. Only `PUBLIC` ones are published;
#: `WITHHELD` is one the source no longer lists and refuses to show us (private, draft or
#: deleted there, the source does not say which)
PUBLIC, PRIVATE, DRAFT, DELETED, WITHHELD = "public", "private", "draft", "deleted", "withheld"
#: the columns a result is read from (`Result.from_row`), its JSON last
RESULT_COLUMNS = ("r.source, r.source_id, r.content_hash, r.fingerprint, r.identifier, r.valid, r.run_id, "
                  "r.violations, r.mapping_errors, r.result_key, j.findings, j.target_package")
#: the small columns a result's summary is read from (`ResultSummary.from_row`), its packed
#: mapping issues last
SUMMARY_COLUMNS = ("source_id, content_hash, fingerprint, identifier, valid, violations, mapping_errors, "
                   "result_key, title, organization, findings_count, unmapped")
#: the columns a record's key is read from (`RecordKey`): a record without its raw package dict
RECORD_KEY_COLUMNS = "source_id, name, content_hash, access"
#: the columns a publication is read from (`Publication.from_row`); its snapshot is read apart
PUBLICATION_COLUMNS = (
    "target_url", "identifier", "source", "source_id", "owner_org", "target_name", "target_id", "status",
    "sent_hash", "target_hash", "resource_ids", "adopted", "created_run", "last_written_run",
    "last_written_at", "withdrawn_at", "withdrawn_run", "result_key", "target_modified",
)


@dataclass
class Run:
    id: int
    kind: str
    source: str
    location: str
    mode: str
    started_at: str
    finished_at: str | None
    outcome: str
    complete: bool | None
    counts: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Run":
        return cls(
            id=row["id"], kind=row["kind"], source=row["source"], location=row["location"],
            mode=row["mode"], started_at=row["started_at"], finished_at=row["finished_at"],
            outcome=row["outcome"],
            complete=None if row["complete"] is None else bool(row["complete"]),
            counts=json.loads(row["counts"]), problems=json.loads(row["problems"]), error=row["error"],
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Record:
    """One source dataset as last harvested, with its raw package dict."""

    source: str
    source_id: str
    name: str
    metadata_modified: str | None
    content_hash: str
    raw: dict[str, Any]
    first_seen_run: int
    last_seen_run: int
    last_changed_run: int
    gone_at: str | None
    gone_run: int | None
    #: who may see the dataset at the source (PUBLIC, PRIVATE, DRAFT, DELETED or WITHHELD)
    access: str = PUBLIC

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> "Record":
        """A Record from a row of RECORD_COLUMNS (the raw dict's JSON text parsed, by orjson as
        a stored result is: `parse_json`)."""
        (source, source_id, name, modified, content_hash, first, last, changed, gone_at, gone_run, access,
         raw) = row
        return cls(source=source, source_id=source_id, name=name, metadata_modified=modified,
                   content_hash=content_hash, raw=parse_json(raw), first_seen_run=first,
                   last_seen_run=last, last_changed_run=changed, gone_at=gone_at, gone_run=gone_run,
                   access=access)


def package_access(package: dict[str, Any]) -> str:
    """Who may see a CKAN package dict at its source: DELETED, DRAFT, PRIVATE or PUBLIC."""
    state = str(package.get("state") or "active")
    if state == "deleted":
        return DELETED
    if state.startswith("draft"):
        return DRAFT
    if package.get("private") in (True, "true", "True"):
        return PRIVATE
    return PUBLIC


@dataclass
class Result:
    """The mapping and validation result for one source record, kept with the record's content
    hash and the fingerprint of what made it."""

    source: str
    source_id: str
    content_hash: str
    fingerprint: str
    identifier: str | None
    valid: bool
    findings: list[dict[str, Any]]
    target_package: dict[str, Any] | None
    run_id: int
    #: how many of the findings are SHACL violations, and of the mapping issues errors (None:
    #: not counted when stored; count them in `findings`)
    violations: int | None = None
    mapping_errors: int | None = None
    #: what identifies the result's target package (target.package_key; None: stored before
    #: results kept their key, or no package)
    result_key: str | None = None
    #: what a sync needs of a result that stands, kept in small columns beside it (None: not
    #: kept, as in results stored before them): the dataset's title and organisation at the
    #: source, how many of `findings` are SHACL findings, its mapping issues and quality score
    title: str | None = None
    organization: str | None = None
    findings_count: int | None = None
    unmapped: list[dict[str, Any]] | None = None
    quality: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: tuple[Any, ...], parse: Callable[[str, Any], Any]) -> "Result":
        """A Result from a row of RESULT_COLUMNS; `parse(column, value)` reads its stored JSON."""
        (source, source_id, content_hash, fingerprint, identifier, valid, run_id, violations,
         mapping_errors, key, findings, package) = row
        return cls(source=source, source_id=source_id, content_hash=content_hash, fingerprint=fingerprint,
                   identifier=identifier, valid=bool(valid), run_id=run_id,
                   findings=parse("findings", findings),
                   target_package=parse("target_package", package) if package is not None else None,
                   violations=violations, mapping_errors=mapping_errors, result_key=key)


@dataclass
class RecordKey:
    """A record without its raw package dict: what decides whether its stored result stands."""

    source_id: str
    name: str
    content_hash: str
    access: str = PUBLIC


@dataclass
class ResultSummary:
    """The small columns of a stored result: enough to tell whether it still stands, and to plan
    and report a dataset found unchanged from its keys, without its findings and package."""

    source_id: str
    content_hash: str
    fingerprint: str
    identifier: str | None
    valid: bool
    violations: int | None
    mapping_errors: int | None
    result_key: str | None
    title: str | None
    organization: str | None
    #: None: the result was stored before its summary was kept (read it whole)
    findings_count: int | None
    unmapped: list[dict[str, Any]]

    @property
    def summarised(self) -> bool:
        return self.findings_count is not None

    @classmethod
    def from_row(cls, row: tuple[Any, ...], parse: Callable[[str, Any], Any]) -> ResultSummary:
        """A summary from a row of SUMMARY_COLUMNS; `parse(column, value)` reads its packed JSON."""
        (source_id, content_hash, fingerprint, identifier, valid, violations, mapping_errors, key, title,
         organization, findings_count, unmapped) = row
        return cls(source_id=source_id, content_hash=content_hash, fingerprint=fingerprint,
                   identifier=identifier, valid=bool(valid), violations=violations,
                   mapping_errors=mapping_errors, result_key=key, title=title, organization=organization,
                   findings_count=findings_count,
                   unmapped=parse("unmapped", unmapped) if unmapped is not None else [])


@dataclass
class Publication:
    """What this harvester wrote for one dataset identifier on one target."""

    target_url: str
    identifier: str
    source: str
    source_id: str
    owner_org: str
    target_name: str
    target_id: str | None
    status: str  # pending | active | withdrawn
    sent_hash: str | None = None
    target_hash: str | None = None
    snapshot_json: str | None = None
    resource_ids: dict[str, str] = field(default_factory=dict)
    adopted: bool = False
    created_run: int | None = None
    last_written_run: int | None = None
    last_written_at: str | None = None
    withdrawn_at: str | None = None
    withdrawn_run: int | None = None
    result_key: str | None = None
    target_modified: str | None = None
    #: reads the stored snapshot (target_url, identifier) -> JSON text; set while the stored
    #: snapshot stands (as read from the store), None once the snapshot was set here
    snapshot_loader: Any = field(default=None, repr=False, compare=False)

    @property
    def target_snapshot(self) -> dict[str, Any] | None:
        """The package as the target returned it after our last write (read when first needed)."""
        if self.snapshot_json is None and self.snapshot_loader is not None:
            self.snapshot_json = self.snapshot_loader(self.target_url, self.identifier)
        return json.loads(self.snapshot_json) if self.snapshot_json else None

    @target_snapshot.setter
    def target_snapshot(self, value: dict[str, Any] | None) -> None:
        self.snapshot_json = json.dumps(value, ensure_ascii=False) if value is not None else None
        self.snapshot_loader = None

    @classmethod
    def from_row(cls, row: tuple[Any, ...], snapshot_loader: Any) -> "Publication":
        """A Publication from a row of PUBLICATION_COLUMNS, in that order."""
        (target_url, identifier, source, source_id, owner_org, target_name, target_id, status, sent_hash,
         target_hash, resource_ids, adopted, created_run, last_written_run, last_written_at, withdrawn_at,
         withdrawn_run, result_key, target_modified) = row
        return cls(
            target_url=target_url, identifier=identifier, source=source, source_id=source_id,
            owner_org=owner_org, target_name=target_name, target_id=target_id, status=status,
            sent_hash=sent_hash, target_hash=target_hash, resource_ids=json.loads(resource_ids),
            adopted=bool(adopted), created_run=created_run, last_written_run=last_written_run,
            last_written_at=last_written_at, withdrawn_at=withdrawn_at, withdrawn_run=withdrawn_run,
            result_key=result_key, target_modified=target_modified, snapshot_loader=snapshot_loader,
        )
