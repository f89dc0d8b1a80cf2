"""The state store's schema: numbered migrations, applied in order (PRAGMA user_version).

The list is history: a migration, once released, is never changed or removed, so that every
state file made by an earlier harvester is brought up to this one's schema. A schema change is a
new migration at the end.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from harvester.errors import StateError

MIGRATIONS: list[str] = [
    # 1: runs, records and the source context
    """
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        location TEXT NOT NULL,
        kind TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        location TEXT NOT NULL,
        mode TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT NOT NULL,
        complete INTEGER,
        counts TEXT NOT NULL DEFAULT '{}',
        problems TEXT NOT NULL DEFAULT '[]',
        error TEXT
    );
    CREATE INDEX runs_source ON runs (source, id);
    CREATE TABLE records (
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        name TEXT NOT NULL,
        metadata_modified TEXT,
        content_hash TEXT NOT NULL,
        raw TEXT NOT NULL,
        first_seen_run INTEGER NOT NULL,
        last_seen_run INTEGER NOT NULL,
        last_changed_run INTEGER NOT NULL,
        gone_at TEXT,
        gone_run INTEGER,
        PRIMARY KEY (source, source_id)
    );
    CREATE TABLE staged_records (
        run_id INTEGER NOT NULL,
        source_id TEXT NOT NULL,
        name TEXT NOT NULL,
        metadata_modified TEXT,
        content_hash TEXT NOT NULL,
        raw TEXT NOT NULL,
        PRIMARY KEY (run_id, source_id)
    );
    CREATE TABLE contexts (
        source TEXT PRIMARY KEY,
        run_id INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE staged_contexts (
        run_id INTEGER PRIMARY KEY,
        data TEXT NOT NULL
    );
    """,
    # 2: per-record mapping/validation results, and what was published on which target
    """
    CREATE TABLE results (
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        identifier TEXT,
        valid INTEGER NOT NULL,
        findings TEXT NOT NULL,
        target_package TEXT,
        run_id INTEGER NOT NULL,
        PRIMARY KEY (source, source_id)
    );
    CREATE TABLE published (
        target_url TEXT NOT NULL,
        identifier TEXT NOT NULL,
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        owner_org TEXT NOT NULL,
        target_name TEXT NOT NULL,
        target_id TEXT,
        status TEXT NOT NULL,
        sent_hash TEXT,
        target_hash TEXT,
        target_snapshot TEXT,
        resource_ids TEXT NOT NULL DEFAULT '{}',
        adopted INTEGER NOT NULL DEFAULT 0,
        created_run INTEGER,
        last_written_run INTEGER,
        last_written_at TEXT,
        withdrawn_at TEXT,
        withdrawn_run INTEGER,
        PRIMARY KEY (target_url, identifier)
    );
    CREATE INDEX published_source ON published (target_url, source, source_id);
    """,
    # 3: datasets a light listing saw unchanged (no raw dict fetched), and result keys on publications
    """
    CREATE TABLE staged_seen (
        run_id INTEGER NOT NULL,
        source_id TEXT NOT NULL,
        PRIMARY KEY (run_id, source_id)
    );
    ALTER TABLE published ADD COLUMN result_key TEXT
    """,
    # 4: the target's metadata_modified after our last write (a package that still carries it was
    # not edited since, so its hash need not be computed again)
    """
    ALTER TABLE published ADD COLUMN target_modified TEXT
    """,
    # 5: the raw package dicts in a table of their own (a run marks every record it saw, and with
    # the dicts, kilobytes each, in the same rows every mark rewrote them all); the big JSON
    # columns of results and published last in their rows (SQLite reads a row's columns in order,
    # so the small ones before them are read without the kilobytes)
    """
    CREATE TABLE record_raws (
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        raw TEXT NOT NULL,
        PRIMARY KEY (source, source_id)
    );
    INSERT INTO record_raws (source, source_id, raw) SELECT source, source_id, raw FROM records;
    ALTER TABLE records DROP COLUMN raw;
    CREATE TABLE results_new (
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        identifier TEXT,
        valid INTEGER NOT NULL,
        run_id INTEGER NOT NULL,
        findings TEXT NOT NULL,
        target_package TEXT,
        PRIMARY KEY (source, source_id)
    );
    INSERT INTO results_new (source, source_id, content_hash, fingerprint, identifier, valid, run_id,
                             findings, target_package)
        SELECT source, source_id, content_hash, fingerprint, identifier, valid, run_id, findings,
               target_package FROM results;
    DROP TABLE results;
    ALTER TABLE results_new RENAME TO results;
    CREATE TABLE published_new (
        target_url TEXT NOT NULL,
        identifier TEXT NOT NULL,
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        owner_org TEXT NOT NULL,
        target_name TEXT NOT NULL,
        target_id TEXT,
        status TEXT NOT NULL,
        sent_hash TEXT,
        target_hash TEXT,
        resource_ids TEXT NOT NULL DEFAULT '{}',
        adopted INTEGER NOT NULL DEFAULT 0,
        created_run INTEGER,
        last_written_run INTEGER,
        last_written_at TEXT,
        withdrawn_at TEXT,
        withdrawn_run INTEGER,
        result_key TEXT,
        target_modified TEXT,
        target_snapshot TEXT,
        PRIMARY KEY (target_url, identifier)
    );
    INSERT INTO published_new SELECT target_url, identifier, source, source_id, owner_org, target_name,
        target_id, status, sent_hash, target_hash, resource_ids, adopted, created_run, last_written_run,
        last_written_at, withdrawn_at, withdrawn_run, result_key, target_modified, target_snapshot
        FROM published;
    DROP TABLE published;
    ALTER TABLE published_new RENAME TO published;
    CREATE INDEX published_source ON published (target_url, source, source_id)
    """,
    # 6: the datasets data.overheid.nl would refuse (the plan's pre-send check), with a key over
    # everything that check reads: a run with the same key takes the problems from here
    """
    CREATE TABLE refusals (
        target_url TEXT NOT NULL,
        identifier TEXT NOT NULL,
        check_key TEXT NOT NULL,
        problems TEXT NOT NULL,
        PRIMARY KEY (target_url, identifier)
    )
    """,
    # 7: the results' JSON (kilobytes per dataset) in a table of its own: a sync reads the small
    # columns of every result (is it still the one for this content and code?) and the JSON of
    # only the few it shows or sends; with the JSON in the same rows, a row filled a page. The
    # counts of SHACL violations and mapping errors beside them say why an invalid dataset is
    # not published without its findings being read (NULL: not counted, read the findings)
    """
    CREATE TABLE result_json (
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        findings TEXT NOT NULL,
        target_package TEXT,
        PRIMARY KEY (source, source_id)
    );
    INSERT INTO result_json (source, source_id, findings, target_package)
        SELECT source, source_id, findings, target_package FROM results;
    CREATE TABLE results_new (
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        identifier TEXT,
        valid INTEGER NOT NULL,
        run_id INTEGER NOT NULL,
        has_package INTEGER NOT NULL,
        violations INTEGER,
        mapping_errors INTEGER,
        PRIMARY KEY (source, source_id)
    );
    INSERT INTO results_new (source, source_id, content_hash, fingerprint, identifier, valid, run_id,
                             has_package)
        SELECT source, source_id, content_hash, fingerprint, identifier, valid, run_id,
               target_package IS NOT NULL FROM results;
    DROP TABLE results;
    ALTER TABLE results_new RENAME TO results
    """,
    # 8: the target's snapshot of a publication (the package as the target returned it after our
    # last write, kilobytes) in a table of its own: a plan reads the small columns of every
    # publication and the snapshot of only the few it diffs; with the snapshots in the same rows,
    # reading those columns read the whole table. The table is made anew (ALTER TABLE ... DROP
    # COLUMN left its pages as sparse as they were)
    """
    CREATE TABLE published_snapshots (
        target_url TEXT NOT NULL,
        identifier TEXT NOT NULL,
        target_snapshot TEXT NOT NULL,
        PRIMARY KEY (target_url, identifier)
    );
    INSERT INTO published_snapshots (target_url, identifier, target_snapshot)
        SELECT target_url, identifier, target_snapshot FROM published WHERE target_snapshot IS NOT NULL;
    CREATE TABLE published_new (
        target_url TEXT NOT NULL,
        identifier TEXT NOT NULL,
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        owner_org TEXT NOT NULL,
        target_name TEXT NOT NULL,
        target_id TEXT,
        status TEXT NOT NULL,
        sent_hash TEXT,
        target_hash TEXT,
        resource_ids TEXT NOT NULL DEFAULT '{}',
        adopted INTEGER NOT NULL DEFAULT 0,
        created_run INTEGER,
        last_written_run INTEGER,
        last_written_at TEXT,
        withdrawn_at TEXT,
        withdrawn_run INTEGER,
        result_key TEXT,
        target_modified TEXT,
        PRIMARY KEY (target_url, identifier)
    );
    INSERT INTO published_new SELECT target_url, identifier, source, source_id, owner_org, target_name,
        target_id, status, sent_hash, target_hash, resource_ids, adopted, created_run, last_written_run,
        last_written_at, withdrawn_at, withdrawn_run, result_key, target_modified
        FROM published;
    DROP TABLE published;
    ALTER TABLE published_new RENAME TO published;
    CREATE INDEX published_source ON published (target_url, source, source_id)
    """,
    # 9: a result's key kept with it: what identifies its target package (a digest of the package's
    # content and the code that builds packages), so that a dataset whose package a change of the
    # mapping tables or shapes left as it was is still seen unchanged from its key alone
    """
    ALTER TABLE results ADD COLUMN result_key TEXT
    """,
    # 10: whether a record may be published (`access`: public, private, draft, deleted, or
    # withheld: no longer listed and refused to us), worked out from the raw dicts already
    # stored; and the organisation a source is configured for (the one published by default)
    """
    ALTER TABLE records ADD COLUMN access TEXT NOT NULL DEFAULT 'public';
    UPDATE records SET access = COALESCE((
        SELECT CASE
            WHEN json_extract(w.raw, '$.state') = 'deleted' THEN 'deleted'
            WHEN json_extract(w.raw, '$.state') LIKE 'draft%' THEN 'draft'
            WHEN json_extract(w.raw, '$.private') IN (1, 'true', 'True') THEN 'private'
            ELSE 'public' END
        FROM record_raws w WHERE w.source = records.source AND w.source_id = records.source_id), 'public');
    ALTER TABLE staged_records ADD COLUMN access TEXT NOT NULL DEFAULT 'public';
    ALTER TABLE staged_seen ADD COLUMN access TEXT;
    ALTER TABLE sources ADD COLUMN organization TEXT
    """,
    # 11: what a sync needs of a result that still stands, in small columns of its own: the
    # dataset's title and organisation at the source, how many SHACL findings it has and its
    # mapping issues (packed JSON, NULL when none), and its quality score (packed JSON, last: the
    # run report reads it per dataset), so that a dataset planned unchanged from its keys is
    # planned and reported without its findings and package being read. NULL findings_count: a
    # result stored before, read whole
    """
    ALTER TABLE results ADD COLUMN title TEXT;
    ALTER TABLE results ADD COLUMN organization TEXT;
    ALTER TABLE results ADD COLUMN findings_count INTEGER;
    ALTER TABLE results ADD COLUMN unmapped BLOB;
    ALTER TABLE results ADD COLUMN quality BLOB
    """,
]


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the store on `db` (the file at `path`, for messages) to the latest schema, one
    migration per transaction. StateError when the file is not a state store, is newer than
    this harvester knows, or a migration fails."""
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StateError(f"{path}: not a state store (SQLite says: {exc})") from None
    if version > len(MIGRATIONS):
        raise StateError(
            f"{path}: the state store has schema version {version}, newer than this "
            f"harvester knows ({len(MIGRATIONS)}); upgrade the harvester"
        )
    for number in range(version, len(MIGRATIONS)):
        try:
            _apply(db, number)
        except sqlite3.Error as exc:
            raise StateError(f"{path}: migration {number + 1} failed: {exc}") from None


def _apply(db: sqlite3.Connection, number: int) -> None:
    """Migration `number` (0-based) and the schema version after it, all or nothing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in MIGRATIONS[number].split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version={number + 1}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
