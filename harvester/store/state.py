"""The state store: one SQLite file holding runs, harvested source records and what was published.

    with StateStore.open("state/harvester.sqlite") as store:
        run_id = store.begin_run("harvest", "duo", url, "full")

The file runs in WAL mode; its schema is brought up to date when it is opened (harvester/store/
migrations.py). A harvest writes what it fetches into a staging table of its own run as it goes,
and merges it into the records in one transaction at the end; a run that dies before that leaves
the records as they were, and the next run marks it `aborted` and drops its staging rows. What
it reads back are the plain dataclasses of harvester/store/rows.py.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from harvester.errors import StateError
from harvester.store.encoding import (
    content_hash,
    iso,
    pack_json,
    parse_stored,
    stored_json,
    utcnow,
)
from harvester.store.migrations import migrate
from harvester.store.rows import (
    PUBLICATION_COLUMNS,
    RECORD_COLUMNS,
    RECORD_KEY_COLUMNS,
    RESULT_COLUMNS,
    SUMMARY_COLUMNS,
    PUBLIC,
    Publication,
    Record,
    RecordKey,
    Result,
    ResultSummary,
    Run,
    package_access,
)

#: the page size of a new store: a result's packed JSON is a few kilobytes, more than SQLite's
#: default 4 KB page holds (each would chain an overflow page) and what a 16 KB page does
PAGE_SIZE = 16384
#: records and results are looked up this many source ids per query
_IDS_PER_QUERY = 500


class StateStore:
    """The SQLite state store. Open with `StateStore.open(path)`; use as a context manager."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.db = connection
        #: one transaction at a time on the connection (a sync writes from its apply thread
        #: while it stores the results it prepares)
        self._writing = threading.RLock()

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
        """One all-or-nothing write: committed at the end, rolled back on any exception. Threads
        take turns: a transaction of one waits for that of another to end."""
        with self._writing:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs -------------------------------------------------------------------------------

    def begin_run(self, kind: str, source: str, location: str, mode: str, source_kind: str = "ckan",
                  organization: str | None = None) -> int:
        """Record the start of a run (committed at once) and clean up runs that died. The source
        is recorded with its location, kind and the organisation it is configured for."""
        now = iso(utcnow())
        with self.transaction() as db:
            self._abort_dead_runs(db)
            db.execute(
                "INSERT OR IGNORE INTO sources (name, location, kind, created_at) VALUES (?, ?, ?, ?)",
                (source, location, source_kind, now),
            )
            db.execute("UPDATE sources SET location = ?, kind = ?, organization = ? WHERE name = ?",
                       (location, source_kind, organization, source))
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

    def stage_records(self, run_id: int, packages: Iterable[dict[str, Any]],
                      hashes: Iterable[str] | None = None) -> int:
        """Keep packages fetched by a running harvest (committed; merged by `finish_harvest`);
        `hashes`: their content hashes, when the caller has them."""
        packages = list(packages)
        digests = list(hashes) if hashes is not None else [content_hash(pkg) for pkg in packages]
        rows = [
            (
                run_id, str(pkg["id"]), str(pkg.get("name") or pkg["id"]), pkg.get("metadata_modified"),
                digest, json.dumps(pkg, ensure_ascii=False), package_access(pkg),
            )
            for pkg, digest in zip(packages, digests, strict=True)
        ]
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO staged_records (run_id, source_id, name, metadata_modified, "
                "content_hash, raw, access) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def stage_seen(self, run_id: int, source_ids: Iterable[str], access: str | None = None) -> None:
        """Keep the ids a light listing saw unchanged, or (with `access`) ids the source answered
        for without their package (WITHHELD); merged by `finish_harvest`."""
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO staged_seen (run_id, source_id, access) VALUES (?, ?, ?)",
                           [(run_id, i, access) for i in source_ids])

    def record_ids(self, source: str) -> set[str]:
        """The source ids of the source's records that are not gone."""
        return {row[0] for row in self.db.execute(
            "SELECT source_id FROM records WHERE source = ? AND gone_at IS NULL", (source,))}

    def source_organization(self, source: str) -> str | None:
        """The organisation the source was configured for at its last run (None: not named)."""
        row = self.db.execute("SELECT organization FROM sources WHERE name = ?", (source,)).fetchone()
        return row[0] if row else None

    def known_content(self, source: str) -> dict[str, tuple[str, str]]:
        """Source id -> (content hash, access) of every record of the source (gone ones included)."""
        return {row[0]: (row[1], row[2]) for row in self.db.execute(
            "SELECT source_id, content_hash, access FROM records WHERE source = ?", (source,))}

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
        source = self.run(run_id).source
        now = iso(utcnow())
        problems = list(problems)
        with self.transaction() as db:
            counts = {"seen": 0, "new": 0, "changed": 0, "unchanged": 0, "gone": 0, "returned": 0}
            _merge_staged(db, source, run_id, counts)
            _merge_seen(db, source, run_id, counts)
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

    def records(self, source: str, *, include_gone: bool = False, gone_only: bool = False,
                include_unpublished: bool = False) -> Iterator[Record]:
        """The source's public records in source-id order: those not public at the source only
        with `include_unpublished`, gone ones only when asked (`gone_only`: only those, whoever
        may see them)."""
        sql = "WHERE r.source = ?"
        if gone_only:
            sql += " AND r.gone_at IS NOT NULL"
        elif not include_gone:
            sql += " AND r.gone_at IS NULL"
        if not (gone_only or include_unpublished):
            sql += f" AND r.access = '{PUBLIC}'"
        for row in self._plain().execute(f"{_RECORD_SELECT} {sql} ORDER BY r.source_id", (source,)):
            yield self._record(row)

    def record_keys(self, source: str) -> Iterator[RecordKey]:
        """The keys of the source's records that are not gone, whoever may see them, in
        source-id order (as `records(source, include_unpublished=True)`, without their raw dicts)."""
        rows = self._plain().execute(f"SELECT {RECORD_KEY_COLUMNS} FROM records WHERE source = ? "
                                     "AND gone_at IS NULL ORDER BY source_id", (source,))
        for row in rows:
            yield RecordKey(*row)

    def records_for(self, source: str, source_ids: list[str]) -> dict[str, Record]:
        """These records of a source, with their raw dicts, by source id."""
        found: dict[str, Record] = {}
        for chunk, marks in _chunks(source_ids):
            for row in self._plain().execute(f"{_RECORD_SELECT} WHERE r.source = ? AND r.source_id IN ({marks})",
                                             [source, *chunk]):
                found[row[1]] = self._record(row)
        return found

    def record_count(self, source: str) -> int:
        """How many of the source's records are not gone."""
        row = self.db.execute("SELECT COUNT(*) FROM records WHERE source = ? AND gone_at IS NULL", (source,)).fetchone()
        return int(row[0])

    def record(self, source: str, source_id: str) -> Record | None:
        row = self._plain().execute(f"{_RECORD_SELECT} WHERE r.source = ? AND r.source_id = ?",
                                    (source, source_id)).fetchone()
        return self._record(row) if row else None

    def _record(self, row: tuple[Any, ...]) -> Record:
        if row[-1] is None:
            raise StateError(f"{self.path}: record {row[1]} of source {row[0]} has no raw package dict")
        return Record.from_row(row)

    def context(self, source: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM contexts WHERE source = ?", (source,)).fetchone()
        return json.loads(row["data"]) if row else None

    def _plain(self) -> sqlite3.Cursor:
        """A cursor giving plain tuples (for rows read by position)."""
        cursor = self.db.cursor()
        cursor.row_factory = None
        return cursor

    # -- stage results ----------------------------------------------------------------------

    def results(self, source: str) -> dict[str, Result]:
        """The stored results of a source, by source id."""
        return self._results(self._plain().execute(f"{_RESULT_SELECT} WHERE r.source = ?", (source,)))

    def results_for(self, source: str, source_ids: list[str]) -> dict[str, Result]:
        """The stored results of these records of a source, by source id."""
        found: dict[str, Result] = {}
        for chunk, marks in _chunks(source_ids):
            found.update(self._results(self._plain().execute(
                f"{_RESULT_SELECT} WHERE r.source = ? AND r.source_id IN ({marks})", [source, *chunk])))
        return found

    def result_summaries(self, source: str, source_ids: list[str]) -> dict[str, ResultSummary]:
        """The small columns of the stored results of these records of a source, by source id
        (their findings and packages are not read)."""
        found: dict[str, ResultSummary] = {}
        for chunk, marks in _chunks(source_ids):
            rows = self._plain().execute(f"SELECT {SUMMARY_COLUMNS} FROM results WHERE source = ? "
                                         f"AND source_id IN ({marks})", [source, *chunk])
            found.update((row[0], ResultSummary.from_row(row, self._parser(source, row[0]))) for row in rows)
        return found

    def result_qualities(self, source: str, source_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The quality scores kept beside the stored results of these records of a source, by
        source id (a record with none kept is left out)."""
        found: dict[str, dict[str, Any]] = {}
        for chunk, marks in _chunks(source_ids):
            rows = self._plain().execute(f"SELECT source_id, quality FROM results WHERE source = ? "
                                         f"AND source_id IN ({marks}) AND quality IS NOT NULL", [source, *chunk])
            found.update((sid, self._parser(source, sid)("quality", quality)) for sid, quality in rows)
        return found

    def _results(self, rows: Iterable[tuple[Any, ...]]) -> dict[str, Result]:
        return {row[1]: Result.from_row(row, self._parser(row[0], row[1])) for row in rows}

    def _parser(self, source: str, source_id: str) -> Any:
        """What parses one stored result's JSON columns: StateError, naming the record, when
        one cannot be read."""

        def parse(column: str, value: str | bytes) -> Any:
            try:
                return parse_stored(value)
            except ValueError as exc:
                raise StateError(f"{self.path}: the stored {column} of record {source_id} of source {source} "
                                 f"cannot be read ({exc}); `harvester sync` maps it again after "
                                 "dropping the results (StateStore.drop_results)") from None

        return parse

    def save_results(self, results: Iterable[Result]) -> None:
        """Store mapping/validation results, their JSON packed (one transaction)."""
        rows = [(r, pack_json(stored_json(r.findings)),
                 pack_json(stored_json(r.target_package)) if r.target_package is not None else None)
                for r in results]
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO results (source, source_id, content_hash, fingerprint, identifier, "
                "valid, run_id, has_package, violations, mapping_errors, result_key, title, organization, "
                "findings_count, unmapped, quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.source, r.source_id, r.content_hash, r.fingerprint, r.identifier, int(r.valid), r.run_id,
                  package is not None, r.violations, r.mapping_errors, r.result_key, r.title, r.organization,
                  r.findings_count, _packed_or_none(r.unmapped), _packed_or_none(r.quality))
                 for r, _, package in rows],
            )
            db.executemany(
                "INSERT OR REPLACE INTO result_json (source, source_id, findings, target_package) "
                "VALUES (?, ?, ?, ?)", [(r.source, r.source_id, findings, package) for r, findings, package in rows])

    def drop_results(self, source: str) -> None:
        """Forget the stored results of a source (its records are mapped again next time)."""
        with self.transaction() as db:
            db.execute("DELETE FROM results WHERE source = ?", (source,))
            db.execute("DELETE FROM result_json WHERE source = ?", (source,))

    # -- publications -----------------------------------------------------------------------

    def publications(self, target_url: str, source: str | None = None) -> dict[str, Publication]:
        """What was published on a target (optionally for one source), by identifier. A
        publication's snapshot is read from the store when its `target_snapshot` is first used."""
        sql, args = f"SELECT {', '.join(PUBLICATION_COLUMNS)} FROM published WHERE target_url = ?", [target_url]
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        return {row[1]: Publication.from_row(row, self.snapshot) for row in self._plain().execute(sql, args)}

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


def _chunks(source_ids: list[str]) -> Iterator[tuple[list[str], str]]:
    """The source ids `_IDS_PER_QUERY` at a time, each chunk with its `?` marks."""
    for start in range(0, len(source_ids), _IDS_PER_QUERY):
        chunk = source_ids[start:start + _IDS_PER_QUERY]
        yield chunk, ",".join("?" * len(chunk))


def _packed_or_none(data: Any) -> bytes | None:
    """Packed JSON of a summary column; None (NULL) for nothing (None or empty)."""
    return pack_json(stored_json(data)) if data else None


_RECORD_SELECT = f"SELECT {RECORD_COLUMNS} FROM records r LEFT JOIN record_raws w USING (source, source_id)"
_RESULT_SELECT = f"SELECT {RESULT_COLUMNS} FROM results r JOIN result_json j USING (source, source_id)"


def _merge_staged(db: sqlite3.Connection, source: str, run_id: int, counts: dict[str, int]) -> None:
    """The records a harvest fetched (staged_records) into the records: new ones inserted, changed
    ones rewritten, unchanged ones marked seen; counted in `counts`."""
    staged = db.execute(
        "SELECT s.source_id, s.name, s.metadata_modified, s.content_hash, s.raw, s.access, "
        "r.content_hash AS old_hash, r.gone_at AS old_gone, r.access AS old_access "
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
                "first_seen_run, last_seen_run, last_changed_run, access) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source, row["source_id"], row["name"], row["metadata_modified"],
                 row["content_hash"], run_id, run_id, run_id, row["access"]),
            )
            _write_raw(db, source, row)
            continue
        if row["old_gone"] is not None:
            counts["returned"] += 1
        if row["old_hash"] != row["content_hash"]:
            counts["changed"] += 1
            db.execute(
                "UPDATE records SET name = ?, metadata_modified = ?, content_hash = ?, access = ?, "
                "last_seen_run = ?, last_changed_run = ?, gone_at = NULL, gone_run = NULL "
                "WHERE source = ? AND source_id = ?",
                (row["name"], row["metadata_modified"], row["content_hash"], row["access"],
                 run_id, run_id, source, row["source_id"]),
            )
            _write_raw(db, source, row)
        else:  # (the same dict, so the same access, unless the record was WITHHELD before)
            counts["changed" if row["access"] != row["old_access"] else "unchanged"] += 1
            db.execute(
                "UPDATE records SET last_seen_run = ?, access = ?, gone_at = NULL, gone_run = NULL "
                "WHERE source = ? AND source_id = ?",
                (run_id, row["access"], source, row["source_id"]),
            )


def _write_raw(db: sqlite3.Connection, source: str, row: sqlite3.Row) -> None:
    db.execute("INSERT OR REPLACE INTO record_raws (source, source_id, raw) VALUES (?, ?, ?)",
               (source, row["source_id"], row["raw"]))


def _merge_seen(db: sqlite3.Connection, source: str, run_id: int, counts: dict[str, int]) -> None:
    """The records a light listing saw unchanged, or the source answered for without their
    package (staged_seen, with their new access), marked seen; counted in `counts`."""
    seen, returned, moved = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(r.gone_at IS NOT NULL), 0), "
        "COALESCE(SUM(s.access IS NOT NULL AND s.access != r.access), 0) FROM staged_seen s "
        "JOIN records r ON r.source = ? AND r.source_id = s.source_id WHERE s.run_id = ?",
        (source, run_id)).fetchone()
    counts["seen"] += int(seen)
    counts["changed"] += int(moved)
    counts["unchanged"] += int(seen) - int(moved)
    counts["returned"] += int(returned)
    db.execute(
        "UPDATE records SET last_seen_run = ?, gone_at = NULL, gone_run = NULL, access = COALESCE("
        "(SELECT s.access FROM staged_seen s WHERE s.run_id = ? AND s.source_id = records.source_id), access) "
        "WHERE source = ? AND source_id IN (SELECT source_id FROM staged_seen WHERE run_id = ?)",
        (run_id, run_id, source, run_id))
    db.execute("DELETE FROM staged_seen WHERE run_id = ?", (run_id,))
