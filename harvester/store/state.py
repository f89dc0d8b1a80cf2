"""The state store: one SQLite file holding runs, harvested source records and what was published.

Schema changes are numbered migrations (PRAGMA user_version). The file runs in WAL mode. A harvest
writes what it fetches into a staging table of its own run as it goes, and merges it into the
records in one transaction at the end; a run that dies before that leaves the records as they
were, and the next run marks it `aborted` and drops its staging rows.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from harvester.collector import collector_paused
from harvester.errors import StateError
from harvester.lazy import Deferred, deferred_fields
from harvester.store.encoding import (
    content_hash,
    iso,
    pack_json,
    parse_iso,
    parse_stored,
    same_moment,
    stored_json,
    utcnow,
)
from harvester.store.migrations import migrate

# Names harvester/plan.py, harvester/apply.py and harvester/pipeline.py import from this module;
# the time and JSON helpers live in harvester.store.encoding (the importers move there).
__all__ = [
    "PAGE_SIZE", "Publication", "Record", "Result", "Run", "StateStore", "content_hash", "iso",
    "pack_json", "parse_iso", "parse_stored", "same_moment", "stored_json", "utcnow",
]

log = logging.getLogger(__name__)

#: the page size of a new store: a result's packed JSON is a few kilobytes, more than SQLite's
#: default 4 KB page holds (each would chain an overflow page) and what a 16 KB page does
PAGE_SIZE = 16384


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


@deferred_fields("raw")
@dataclass
class Record:
    """One source dataset as last harvested (`raw` is parsed when first read)."""

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


@deferred_fields("findings", "target_package")
@dataclass
class Result:
    """The mapping and validation result for one source record, cached by content and fingerprint
    (`findings` and `target_package` are parsed when first read)."""

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


@deferred_fields("resource_ids")
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


#: the columns `publications` reads, in order (the snapshot is read when first used)
_PUBLICATION_READ = (
    "target_url", "identifier", "source", "source_id", "owner_org", "target_name", "target_id", "status",
    "sent_hash", "target_hash", "resource_ids", "adopted", "created_run", "last_written_run",
    "last_written_at", "withdrawn_at", "withdrawn_run", "result_key", "target_modified",
)
#: the columns records and results are read with (the JSON is read when first used)
_RECORD_COLUMNS = ("source, source_id, name, metadata_modified, content_hash, first_seen_run, "
                   "last_seen_run, last_changed_run, gone_at, gone_run")
_RESULT_COLUMNS = ("source, source_id, content_hash, fingerprint, identifier, valid, run_id, has_package, "
                   "violations, mapping_errors, result_key")
_RESULT_WIDTH = len(_RESULT_COLUMNS.split(", "))


def _publication(row: tuple[Any, ...], snapshot_loader: Any) -> Publication:
    """A Publication from a row of the `_PUBLICATION_READ` columns, in that order."""
    (target_url, identifier, source, source_id, owner_org, target_name, target_id, status, sent_hash,
     target_hash, resource_ids, adopted, created_run, last_written_run, last_written_at, withdrawn_at,
     withdrawn_run, result_key, target_modified) = row
    return Publication(
        target_url=target_url, identifier=identifier, source=source, source_id=source_id,
        owner_org=owner_org, target_name=target_name, target_id=target_id, status=status,
        sent_hash=sent_hash, target_hash=target_hash, resource_ids=Deferred(json.loads, resource_ids),
        adopted=bool(adopted), created_run=created_run, last_written_run=last_written_run,
        last_written_at=last_written_at, withdrawn_at=withdrawn_at, withdrawn_run=withdrawn_run,
        result_key=result_key, target_modified=target_modified, snapshot_loader=snapshot_loader,
    )


class StateStore:
    """The SQLite state store. Open with `StateStore.open(path)`; use as a context manager."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        #: threads of checkpoints_in_background (close waits for them)
        self._checkpointers: list[threading.Thread] = []
        self.db = connection

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> "StateStore":
        """Open (creating if needed) and migrate the state store at `path`."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            new = not path.exists() or path.stat().st_size == 0
            db = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
            db.row_factory = sqlite3.Row
            if new:  # (a store's page size is fixed when it is made)
                db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise StateError(f"{path}: cannot open the state store: {exc}") from None
        migrate(db, path)
        return cls(path, db)

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing write: committed at the end, rolled back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def close(self) -> None:
        # a background checkpoint still under way ends first, so that this connection is the last
        # one to close and SQLite folds the log into the database file and removes it, as always
        for thread in self._checkpointers:
            thread.join(timeout=60)
        self.db.close()

    @contextmanager
    def checkpoints_in_background(self, every: float = 0.5) -> Iterator[None]:
        """While a run stores results batch after batch: the log (WAL) is copied into the
        database file every `every` seconds by a thread with a connection of its own (a passive
        checkpoint: it never waits for, nor holds up, this connection's writes), instead of by
        the one commit of this connection that takes the log past SQLite's limit, which then
        waited for the copy and its fsync (~0.08 s, holding up the pipeline). SQLite's own
        checkpoints are back on afterwards; a copy under way then finishes in its thread (which
        `close` waits for)."""
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        stop = threading.Event()
        path = self.path

        def copy() -> None:
            try:
                con = sqlite3.connect(path, timeout=60, isolation_level=None)
            except sqlite3.Error as exc:
                log.warning("%s: background checkpoints not started: %s", path, exc)
                return
            try:
                while not stop.wait(every):
                    con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # SQLite's own checkpoints take over again
                log.warning("%s: background checkpoint failed: %s", path, exc)
            finally:
                con.close()

        thread = threading.Thread(target=copy, name="state-checkpoints", daemon=True)
        thread.start()
        self._checkpointers = [t for t in self._checkpointers if t.is_alive()] + [thread]
        try:
            yield
        finally:
            stop.set()
            self.db.execute("PRAGMA wal_autocheckpoint=1000")

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs -------------------------------------------------------------------------------

    def begin_run(self, kind: str, source: str, location: str, mode: str, source_kind: str = "ckan") -> int:
        """Record the start of a run (committed at once) and clean up runs that died."""
        now = iso(utcnow())
        with self.transaction() as db:
            self._abort_dead_runs(db)
            db.execute(
                "INSERT OR IGNORE INTO sources (name, location, kind, created_at) VALUES (?, ?, ?, ?)",
                (source, location, source_kind, now),
            )
            db.execute("UPDATE sources SET location = ?, kind = ? WHERE name = ?", (location, source_kind, source))
            cursor = db.execute(
                "INSERT INTO runs (kind, source, location, mode, started_at, outcome) "
                "VALUES (?, ?, ?, ?, ?, 'running')",
                (kind, source, location, mode, now),
            )
            return int(cursor.lastrowid or 0)

    def _abort_dead_runs(self, db: sqlite3.Connection) -> None:
        dead = [row[0] for row in db.execute("SELECT id FROM runs WHERE outcome = 'running'")]
        for run_id in dead:
            db.execute(
                "UPDATE runs SET outcome = 'aborted', finished_at = ?, "
                "error = COALESCE(error, 'the run stopped before it finished (killed or crashed)') "
                "WHERE id = ?",
                (iso(utcnow()), run_id),
            )
            db.execute("DELETE FROM staged_records WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM staged_contexts WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM staged_seen WHERE run_id = ?", (run_id,))

    def fail_run(self, run_id: int, error: str, problems: Iterable[str] = (), counts: dict[str, Any] | None = None) -> None:
        """Mark a run failed; its staged records are dropped, the records stay as they were."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET outcome = 'failed', finished_at = ?, complete = 0, error = ?, "
                "problems = ?, counts = ? WHERE id = ?",
                (iso(utcnow()), error, json.dumps(list(problems), ensure_ascii=False),
                 json.dumps(counts or {}), run_id),
            )
            db.execute("DELETE FROM staged_records WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM staged_contexts WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM staged_seen WHERE run_id = ?", (run_id,))

    def run(self, run_id: int) -> Run:
        row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StateError(f"{self.path}: no run with id {run_id}")
        return Run.from_row(row)

    def runs(self, source: str | None = None, limit: int = 50) -> list[Run]:
        sql = "SELECT * FROM runs"
        args: tuple[Any, ...] = ()
        if source:
            sql += " WHERE source = ?"
            args = (source,)
        sql += " ORDER BY id DESC LIMIT ?"
        return [Run.from_row(r) for r in self.db.execute(sql, args + (limit,))]

    def last_complete_run(self, source: str, *, full: bool | None = None) -> Run | None:
        """The latest run of `source` whose listing was complete (optionally: a full one)."""
        sql = "SELECT * FROM runs WHERE source = ? AND complete = 1 AND outcome = 'success'"
        if full is not None:
            sql += " AND mode = 'full'" if full else " AND mode = 'incremental'"
        row = self.db.execute(sql + " ORDER BY id DESC LIMIT 1", (source,)).fetchone()
        return Run.from_row(row) if row else None

    def update_run_counts(self, run_id: int, counts: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET counts = ? WHERE id = ?", (json.dumps(counts), run_id))

    # -- harvested records ------------------------------------------------------------------

    def stage_records(self, run_id: int, packages: Iterable[dict[str, Any]]) -> int:
        """Keep packages fetched by a running harvest (committed; merged by `finish_harvest`)."""
        rows = [
            (
                run_id, str(pkg["id"]), str(pkg.get("name") or pkg["id"]), pkg.get("metadata_modified"),
                content_hash(pkg), json.dumps(pkg, ensure_ascii=False),
            )
            for pkg in packages
        ]
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO staged_records "
                "(run_id, source_id, name, metadata_modified, content_hash, raw) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def stage_seen(self, run_id: int, source_ids: Iterable[str]) -> None:
        """Keep the ids a light listing saw unchanged (merged by `finish_harvest`)."""
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO staged_seen (run_id, source_id) VALUES (?, ?)",
                           [(run_id, i) for i in source_ids])

    def known_modified(self, source: str) -> dict[str, str]:
        """Source id -> metadata_modified of every record of the source (gone ones included)."""
        return {row[0]: row[1] for row in self.db.execute(
            "SELECT source_id, metadata_modified FROM records WHERE source = ? AND metadata_modified IS NOT NULL",
            (source,))}

    def stage_context(self, run_id: int, context: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO staged_contexts (run_id, data) VALUES (?, ?)",
                (run_id, json.dumps(context, ensure_ascii=False, sort_keys=True)),
            )

    def finish_harvest(
        self,
        run_id: int,
        *,
        complete: bool,
        full: bool,
        problems: Iterable[str] = (),
        extra_counts: dict[str, Any] | None = None,
        outcome: str | None = None,
    ) -> dict[str, int]:
        """Merge the run's staged records into the records, in one transaction, and close the run.

        New and changed records are written; unchanged ones only get `last_seen_run`. When the
        listing was complete and full, records of this source that it did not list are marked
        gone at the source (kept, not deleted); records that come back lose that mark.
        """
        run = self.run(run_id)
        source = run.source
        now = iso(utcnow())
        problems = list(problems)
        with self.transaction() as db:
            counts = {"seen": 0, "new": 0, "changed": 0, "unchanged": 0, "gone": 0, "returned": 0}
            staged = db.execute(
                "SELECT s.source_id, s.name, s.metadata_modified, s.content_hash, s.raw, "
                "r.content_hash AS old_hash, r.gone_at AS old_gone "
                "FROM staged_records s LEFT JOIN records r "
                "ON r.source = ? AND r.source_id = s.source_id WHERE s.run_id = ?",
                (source, run_id),
            )
            for row in staged:
                counts["seen"] += 1
                if row["old_hash"] is None:
                    counts["new"] += 1
                    db.execute(
                        "INSERT INTO records (source, source_id, name, metadata_modified, content_hash, "
                        "first_seen_run, last_seen_run, last_changed_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (source, row["source_id"], row["name"], row["metadata_modified"],
                         row["content_hash"], run_id, run_id, run_id),
                    )
                    db.execute("INSERT OR REPLACE INTO record_raws (source, source_id, raw) VALUES (?, ?, ?)",
                               (source, row["source_id"], row["raw"]))
                    continue
                if row["old_gone"] is not None:
                    counts["returned"] += 1
                if row["old_hash"] != row["content_hash"]:
                    counts["changed"] += 1
                    db.execute(
                        "UPDATE records SET name = ?, metadata_modified = ?, content_hash = ?, "
                        "last_seen_run = ?, last_changed_run = ?, gone_at = NULL, gone_run = NULL "
                        "WHERE source = ? AND source_id = ?",
                        (row["name"], row["metadata_modified"], row["content_hash"],
                         run_id, run_id, source, row["source_id"]),
                    )
                    db.execute("INSERT OR REPLACE INTO record_raws (source, source_id, raw) VALUES (?, ?, ?)",
                               (source, row["source_id"], row["raw"]))
                else:
                    counts["unchanged"] += 1
                    db.execute(
                        "UPDATE records SET last_seen_run = ?, gone_at = NULL, gone_run = NULL "
                        "WHERE source = ? AND source_id = ?",
                        (run_id, source, row["source_id"]),
                    )
            seen = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(r.gone_at IS NOT NULL), 0) FROM staged_seen s "
                "JOIN records r ON r.source = ? AND r.source_id = s.source_id WHERE s.run_id = ?",
                (source, run_id)).fetchone()
            counts["seen"] += int(seen[0])
            counts["unchanged"] += int(seen[0])
            counts["returned"] += int(seen[1])
            db.execute(
                "UPDATE records SET last_seen_run = ?, gone_at = NULL, gone_run = NULL "
                "WHERE source = ? AND source_id IN (SELECT source_id FROM staged_seen WHERE run_id = ?)",
                (run_id, source, run_id))
            db.execute("DELETE FROM staged_seen WHERE run_id = ?", (run_id,))
            if complete and full:
                cursor = db.execute(
                    "UPDATE records SET gone_at = ?, gone_run = ? "
                    "WHERE source = ? AND last_seen_run != ? AND gone_at IS NULL",
                    (now, run_id, source, run_id),
                )
                counts["gone"] = cursor.rowcount
            context = db.execute("SELECT data FROM staged_contexts WHERE run_id = ?", (run_id,)).fetchone()
            if context is not None:
                db.execute(
                    "INSERT OR REPLACE INTO contexts (source, run_id, data) VALUES (?, ?, ?)",
                    (source, run_id, context["data"]),
                )
            db.execute("DELETE FROM staged_records WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM staged_contexts WHERE run_id = ?", (run_id,))
            all_counts: dict[str, Any] = dict(counts)
            all_counts.update(extra_counts or {})
            db.execute(
                "UPDATE runs SET outcome = ?, finished_at = ?, complete = ?, counts = ?, problems = ? "
                "WHERE id = ?",
                (outcome or ("success" if complete else "incomplete"), now, int(complete),
                 json.dumps(all_counts), json.dumps(problems, ensure_ascii=False), run_id),
            )
        return counts

    def records(self, source: str, *, include_gone: bool = False, gone_only: bool = False) -> Iterator[Record]:
        """The source's records in source-id order (gone ones only when asked; `gone_only`: only
        those). Their raw package dicts are read when first used (see `raws` for many at once)."""
        sql = f"SELECT {_RECORD_COLUMNS} FROM records WHERE source = ?"
        if gone_only:
            sql += " AND gone_at IS NOT NULL"
        elif not include_gone:
            sql += " AND gone_at IS NULL"
        for row in self._plain().execute(sql + " ORDER BY source_id", (source,)):
            yield self._record(row)

    def raws(self, source: str, source_ids: list[str]) -> dict[str, str]:
        """The raw package dicts (JSON text) of these records, by source id."""
        return dict(self._rows_for("SELECT source_id, raw FROM record_raws", source, source_ids))

    def _plain(self) -> sqlite3.Cursor:
        """A cursor giving plain tuples (cheaper than sqlite3.Row for many rows)."""
        cursor = self.db.cursor()
        cursor.row_factory = None
        return cursor

    def _rows_for(self, select: str, source: str, source_ids: list[str]) -> Iterator[tuple[Any, ...]]:
        """`select` (up to its WHERE) for these records of a source, 500 ids per query."""
        for start in range(0, len(source_ids), 500):
            chunk = source_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self._plain().execute(f"{select} WHERE source = ? AND source_id IN ({marks})",
                                             [source, *chunk])

    def _record(self, row: tuple[Any, ...]) -> Record:
        """A Record from a row of `_RECORD_COLUMNS`; its raw dict is read when first used."""
        (source, source_id, name, modified, content_hash_, first, last, changed, gone_at, gone_run) = row
        return Record(source=source, source_id=source_id, name=name, metadata_modified=modified,
                      content_hash=content_hash_, raw=Deferred(self._raw, source, source_id),
                      first_seen_run=first, last_seen_run=last, last_changed_run=changed,
                      gone_at=gone_at, gone_run=gone_run)

    def _raw(self, source: str, source_id: str) -> dict[str, Any]:
        row = self.db.execute("SELECT raw FROM record_raws WHERE source = ? AND source_id = ?",
                              (source, source_id)).fetchone()
        if row is None:
            raise StateError(f"{self.path}: record {source_id} of source {source} has no raw package dict")
        return json.loads(row[0])

    def record_count(self, source: str) -> int:
        """How many of the source's records are not gone."""
        row = self.db.execute("SELECT COUNT(*) FROM records WHERE source = ? AND gone_at IS NULL", (source,)).fetchone()
        return int(row[0])

    def record(self, source: str, source_id: str) -> Record | None:
        row = self._plain().execute(
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE source = ? AND source_id = ?", (source, source_id)
        ).fetchone()
        return self._record(row) if row else None

    def context(self, source: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM contexts WHERE source = ?", (source,)).fetchone()
        return json.loads(row["data"]) if row else None

    # -- stage results and publications --------------------------------------------------

    def results(self, source: str) -> dict[str, Result]:
        """The cached results of a source, by source id, with their JSON (usable after close)."""
        columns = ", ".join(f"r.{c}" for c in _RESULT_COLUMNS.split(", "))
        rows = self._plain().execute(
            f"SELECT {columns}, j.findings, j.target_package FROM results r JOIN result_json j "
            "USING (source, source_id) WHERE r.source = ?", (source,))
        width = _RESULT_WIDTH
        return {row[1]: self._result(row[:width], row[width], row[width + 1]) for row in rows}

    def results_for(self, source: str, source_ids: list[str]) -> dict[str, Result]:
        """The cached results of these records of a source, by source id. Their findings and
        target packages are read from the store when first used."""
        rows = self._rows_for(f"SELECT {_RESULT_COLUMNS} FROM results", source, source_ids)
        return {row[1]: self._result(row) for row in rows}

    def _result(self, row: tuple[Any, ...], findings: str | bytes | None = None,
                package: str | bytes | None = None) -> Result:
        """A Result from a row of `_RESULT_COLUMNS`; its JSON parsed from `findings` and `package`
        when given, else read from the store when first used."""
        (source, source_id, content_hash_, fingerprint, identifier, valid, run_id, has_package, violations,
         mapping_errors, key) = row

        def stored(column: str, text: str | bytes | None) -> Deferred:
            if text is not None:
                return Deferred(parse_stored, text)
            return Deferred(self.result_json, source, source_id, column, content_hash_)

        return Result(
            source=source, source_id=source_id, content_hash=content_hash_, fingerprint=fingerprint,
            identifier=identifier, valid=bool(valid), run_id=run_id,
            findings=stored("findings", findings),
            target_package=stored("target_package", package) if has_package else None,
            violations=violations, mapping_errors=mapping_errors, result_key=key,
        )

    def result_json(self, source: str, source_id: str, column: str, content_hash: str) -> Any:
        """One stored result's `findings` or `target_package`, parsed (StateError when the result
        is no longer the one for `content_hash`)."""
        if column not in ("findings", "target_package"):
            raise ValueError(f"not a JSON column of results: {column!r}")
        row = self.db.execute(f"SELECT j.{column}, r.content_hash FROM results r JOIN result_json j "
                              "USING (source, source_id) WHERE r.source = ? AND r.source_id = ?",
                              (source, source_id)).fetchone()
        if row is None or row[1] != content_hash:
            raise StateError(f"{self.path}: the stored result of record {source_id} of source {source} "
                             "changed or went away while it was in use")
        if row[0] is None:
            return None
        try:
            return parse_stored(row[0])
        except ValueError as exc:
            raise StateError(f"{self.path}: the stored {column} of record {source_id} of source {source} "
                             f"cannot be read ({exc}); `harvester sync` maps it again after "
                             "dropping the results (StateStore.drop_results)") from None

    def save_results(self, results: Iterable[Result]) -> None:
        """Store mapping/validation results (one transaction)."""
        self.save_result_rows([
            (r.source, r.source_id, r.content_hash, r.fingerprint, r.identifier, int(r.valid),
             pack_json(stored_json(r.findings)),
             pack_json(stored_json(r.target_package)) if r.target_package is not None else None,
             r.run_id, r.violations, r.mapping_errors, r.result_key)
            for r in results
        ])

    def save_result_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Store results already encoded: (source, source_id, content_hash, fingerprint,
        identifier, valid, findings JSON, target package JSON, run_id, violations,
        mapping_errors, result key) per row, the JSON packed (`pack_json`) or as text; one
        transaction."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO results (source, source_id, content_hash, fingerprint, identifier, "
                "valid, run_id, has_package, violations, mapping_errors, result_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r[0], r[1], r[2], r[3], r[4], r[5], r[8], r[7] is not None, r[9], r[10], r[11]) for r in rows],
            )
            db.executemany(
                "INSERT OR REPLACE INTO result_json (source, source_id, findings, target_package) "
                "VALUES (?, ?, ?, ?)", [(r[0], r[1], r[6], r[7]) for r in rows])

    def drop_results(self, source: str) -> None:
        """Forget the stored results of a source (its records are mapped again next time)."""
        with self.transaction() as db:
            db.execute("DELETE FROM results WHERE source = ?", (source,))
            db.execute("DELETE FROM result_json WHERE source = ?", (source,))

    def publications(self, target_url: str, source: str | None = None) -> dict[str, Publication]:
        """What was published on a target (optionally for one source), by identifier. Snapshots
        are read from the store only when a publication's `target_snapshot` is used."""
        sql, args = f"SELECT {', '.join(_PUBLICATION_READ)} FROM published WHERE target_url = ?", [target_url]
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        loader = self.snapshot
        with collector_paused():  # tens of thousands of objects, none of them in a cycle
            return {row[1]: _publication(row, loader) for row in self._plain().execute(sql, args)}

    def snapshot(self, target_url: str, identifier: str) -> str | None:
        """The stored target snapshot (JSON text) of one publication."""
        row = self.db.execute("SELECT target_snapshot FROM published_snapshots WHERE target_url = ? "
                              "AND identifier = ?", (target_url, identifier)).fetchone()
        return row[0] if row else None

    def save_publication(self, pub: Publication) -> None:
        """Record (insert or replace) one publication, committed at once. Its snapshot is
        written when it was set (or cleared) since the publication was read from the store."""
        key = (pub.target_url, pub.identifier)
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO published (target_url, identifier, source, source_id, owner_org, "
                "target_name, target_id, status, sent_hash, target_hash, resource_ids, "
                "adopted, created_run, last_written_run, last_written_at, withdrawn_at, withdrawn_run, "
                "result_key, target_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, pub.source, pub.source_id, pub.owner_org,
                 pub.target_name, pub.target_id, pub.status, pub.sent_hash, pub.target_hash,
                 json.dumps(pub.resource_ids, sort_keys=True), int(pub.adopted), pub.created_run,
                 pub.last_written_run, pub.last_written_at, pub.withdrawn_at, pub.withdrawn_run,
                 pub.result_key, pub.target_modified),
            )
            if pub.snapshot_loader is not None:  # as read: the stored snapshot stands
                return
            if pub.snapshot_json is None:
                db.execute("DELETE FROM published_snapshots WHERE target_url = ? AND identifier = ?", key)
            else:
                db.execute("INSERT OR REPLACE INTO published_snapshots (target_url, identifier, target_snapshot) "
                           "VALUES (?, ?, ?)", (*key, pub.snapshot_json))

    def save_result_keys(self, target_url: str, keys: Iterable[tuple[str, str]]) -> None:
        """Record, per (identifier, result key), that this result is what the publication on the
        target already holds (the plan found it unchanged); one transaction."""
        with self.transaction() as db:
            db.executemany("UPDATE published SET result_key = ? WHERE target_url = ? AND identifier = ?",
                           [(key, target_url, identifier) for identifier, key in keys])

    def refusals(self, target_url: str) -> dict[str, tuple[str, str]]:
        """What the pre-send check found for datasets on a target: identifier -> (check key,
        problems as JSON)."""
        rows = self._plain().execute("SELECT identifier, check_key, problems FROM refusals WHERE target_url = ?",
                                     (target_url,))
        return {identifier: (key, problems) for identifier, key, problems in rows}

    def save_refusals(self, target_url: str, refusals: Iterable[tuple[str, str, str]]) -> None:
        """Record (identifier, check key, problems as JSON) per refused dataset; one transaction."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO refusals (target_url, identifier, check_key, problems) "
                           "VALUES (?, ?, ?, ?)", [(target_url, *refusal) for refusal in refusals])

    def forget_publication(self, target_url: str, identifier: str) -> None:
        with self.transaction() as db:
            for table in ("published", "published_snapshots"):
                db.execute(f"DELETE FROM {table} WHERE target_url = ? AND identifier = ?", (target_url, identifier))

    # -- overview ---------------------------------------------------------------------------

    def sources(self) -> list[dict[str, Any]]:
        """Every source with its record counts and its last run and last complete run."""
        result = []
        for row in self.db.execute("SELECT * FROM sources ORDER BY name"):
            name = row["name"]
            active, gone = self.db.execute(
                "SELECT COALESCE(SUM(gone_at IS NULL), 0), COALESCE(SUM(gone_at IS NOT NULL), 0) "
                "FROM records WHERE source = ?",
                (name,),
            ).fetchone()
            last = self.runs(name, limit=1)
            complete = self.last_complete_run(name)
            result.append({
                "name": name, "location": row["location"], "kind": row["kind"],
                "records": int(active), "gone": int(gone),
                "last_run": last[0].to_dict() if last else None,
                "last_complete_run": complete.to_dict() if complete else None,
            })
        return result
