"""Run a harvest: list a source's packages into the state store and record the run.

    summary = harvest(source_config, store, mode="full")

Full mode reads every dataset whole (the state store compares their content, so every change
at the source is seen) and asks the source about the datasets it no longer lists (deleted,
private or draft there is not the same as gone); incremental mode asks only for datasets
modified since the last complete run (less a safety overlap). The context (organisations,
groups, licences) is read only after a complete listing, and kept only when read whole.
Packages are staged as they arrive and merged in one transaction at the end, so a run killed
half-way changes nothing and the next run completes it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from harvester.config import SourceConfig
from harvester.errors import HarvesterError
from harvester.source.ckan import CkanSource
from harvester.source.dump import DumpSource
from harvester.source.listing import Listing, Unchanged, Withheld, organization_keys
from harvester.store.encoding import content_hash, parse_iso, utcnow
from harvester.store.rows import WITHHELD, package_access
from harvester.store.state import StateStore

log = logging.getLogger(__name__)

BATCH = 200
FLUSH_SECONDS = 1.0
ProgressFn = Callable[[str, int, int | None], None]


@dataclass
class HarvestSummary:
    """What one harvest run did: the counts a person reads at the end of the run."""

    run_id: int
    source: str
    location: str
    mode: str
    method: str = ""
    outcome: str = "running"
    complete: bool = False
    total: int | None = None
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    returned: int = 0
    errors: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One line for logs and terminals."""
        return (
            f"{self.source}: {self.mode} harvest {self.outcome} ({'complete' if self.complete else 'INCOMPLETE'}): "
            f"seen {self.seen}, new {self.new}, changed {self.changed}, unchanged {self.unchanged}, "
            f"gone {self.gone}, errors {self.errors}"
        )


def choose_mode(config: SourceConfig, store: StateStore, requested: str | None) -> str:
    """`full` or `incremental`: as requested, else as the source's schedule says.

    With no request, a run is full unless the source is configured for mostly incremental runs
    (`full_every_runs` > 1 or `full_every_days`) and the last full complete run is recent enough.
    Without any complete run to start from, a run is always full.
    """
    last_full = store.last_complete_run(config.name, full=True)
    if requested == "full" or last_full is None:
        return "full"
    if requested == "incremental":
        return "incremental"
    if config.full_every_runs <= 1 and config.full_every_days is None:
        return "full"
    since_full = [r for r in store.runs(config.name, limit=1000) if r.id > last_full.id and r.kind in ("harvest", "sync")]
    if len(since_full) + 1 >= config.full_every_runs and config.full_every_runs > 1:
        return "full"
    if config.full_every_days is not None:
        age = utcnow() - parse_iso(last_full.started_at)
        if age >= timedelta(days=config.full_every_days):
            return "full"
    return "incremental"


def harvest(
    config: SourceConfig,
    store: StateStore,
    mode: str | None = "full",
    *,
    source: CkanSource | DumpSource | None = None,
    progress: ProgressFn | None = None,
    kind: str = "harvest",
) -> HarvestSummary:
    """Harvest `config`'s source into `store` and return the run's summary.

    Raises nothing for a source that fails: the run is recorded as failed and the summary says
    why. Errors in the configuration or the state store do raise.
    """
    source = source or open_source(config)
    actual_mode = choose_mode(config, store, mode)
    run_id = store.begin_run(kind, config.name, source.location, actual_mode,
                             source_kind="dump" if isinstance(source, DumpSource) else "ckan",
                             organization=config.organization)
    summary = HarvestSummary(run_id=run_id, source=config.name, location=source.location, mode=actual_mode)
    listing = Listing()
    since = _since(config, store) if actual_mode == "incremental" else None
    try:
        previous = store.context(config.name) or {}
        organizations: set[str] = set((previous.get("organizations") or {}).keys())
        listed = _list(source, store, run_id, since, listing, summary, organizations, progress)
        _guard_empty_listing(store, config.name, actual_mode, summary.seen, listing)
        if actual_mode == "full" and listing.complete and isinstance(source, CkanSource):
            _ask_about_vanished(source, store, run_id, sorted(store.record_ids(config.name) - listed), listing)
        context = source.context(organizations, listing) if listing.complete else None
        if context is not None:
            store.stage_context(run_id, context.to_dict())
        counts = store.finish_harvest(
            run_id,
            complete=listing.complete,
            full=actual_mode == "full",
            problems=listing.problems,
            extra_counts={"errors": listing.errors, "requests": source.requests_made, "method": listing.method},
        )
    except HarvesterError as exc:
        store.fail_run(run_id, str(exc), listing.problems,
                       {"seen": summary.seen, "errors": listing.errors + 1, "requests": source.requests_made})
        summary.outcome, summary.error = "failed", str(exc)
        summary.errors = listing.errors + 1
        summary.problems = listing.problems + [str(exc)]
        summary.requests = source.requests_made
        log.error("%s: harvest failed: %s", config.name, exc)
        return summary
    summary.method = listing.method
    summary.total = listing.total
    summary.complete = listing.complete
    summary.outcome = "success" if listing.complete else "incomplete"
    summary.errors = listing.errors
    summary.problems = listing.problems
    summary.requests = source.requests_made
    for key in ("new", "changed", "unchanged", "gone", "returned"):
        setattr(summary, key, counts[key])
    log.info(summary.line())
    return summary


def _since(config: SourceConfig, store: StateStore) -> datetime:
    """Where an incremental listing starts: the start of the last complete run, less the overlap."""
    last = store.last_complete_run(config.name)
    assert last is not None
    since = parse_iso(last.started_at) - timedelta(minutes=config.overlap_minutes)
    log.info("%s: incremental since %s (last complete run %d, overlap %d min)",
             config.name, since.isoformat(), last.id, config.overlap_minutes)
    return since


class _Staging:
    """What a listing gave, staged in batches: the packages that are new or changed, and the ids
    of those the state store holds as they are (listed light and unchanged, or whole with the
    content hash and access stored): their dicts need not be written again."""

    def __init__(self, store: StateStore, run_id: int) -> None:
        self.store, self.run_id = store, run_id
        self.stored = store.known_content(store.run(run_id).source)
        self.listed: set[str] = set()
        self.batch: list[dict[str, Any]] = []
        self.hashes: list[str] = []
        self.unchanged: list[str] = []
        self.flushed = time.monotonic()

    def add(self, package: dict[str, Any] | Unchanged) -> None:
        if isinstance(package, Unchanged):
            self.unchanged.append(package.id)
            self.listed.add(package.id)
            return
        ident, digest = str(package["id"]), content_hash(package)
        self.listed.add(ident)
        if self.stored.get(ident) == (digest, package_access(package)):
            self.unchanged.append(ident)
        else:
            self.batch.append(package)
            self.hashes.append(digest)
        if len(self.batch) >= BATCH or len(self.unchanged) >= 10 * BATCH \
                or time.monotonic() - self.flushed >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.store.stage_records(self.run_id, self.batch, self.hashes)
        self.store.stage_seen(self.run_id, self.unchanged)
        self.batch, self.hashes, self.unchanged, self.flushed = [], [], [], time.monotonic()


def _list(source: CkanSource | DumpSource, store: StateStore, run_id: int, since: datetime | None,
          listing: Listing, summary: HarvestSummary, organizations: set[str],
          progress: ProgressFn | None) -> set[str]:
    """Stage what the listing gives (see _Staging); count it in `summary`, add the packages'
    organisations to `organizations`. Returns the ids listed."""
    known = store.known_modified(summary.source) if isinstance(source, CkanSource) and since else None
    staging = _Staging(store, run_id)
    for package in source.packages(listing, since, known):
        summary.seen += 1
        if not isinstance(package, Unchanged):
            organizations |= organization_keys(package)
        staging.add(package)
        if progress:
            progress("harvest", summary.seen, listing.total)
    staging.flush()
    return staging.listed


def _ask_about_vanished(source: CkanSource, store: StateStore, run_id: int, missing: list[str],
                        listing: Listing) -> None:
    """Stage what the source says of the records a complete full listing no longer holds: the
    packages it still shows (deleted, private or draft there, or public after all), and the
    ids of those it refuses to show as WITHHELD. The others are marked gone at the merge."""
    if not missing:
        return
    packages: list[dict[str, Any]] = []
    withheld: list[str] = []
    for answer in source.vanished(missing, listing):
        if isinstance(answer, Withheld):
            withheld.append(answer.id)
        else:
            packages.append(answer)
    store.stage_records(run_id, packages)
    store.stage_seen(run_id, withheld, access=WITHHELD)
    log.info("%d datasets no longer listed: %d still shown by the source, %d refused to us",
             len(missing), len(packages), len(withheld))


def _guard_empty_listing(store: StateStore, source: str, mode: str, seen: int, listing: Listing) -> None:
    """A full listing of zero datasets where the store holds some is not trusted as complete."""
    if mode != "full" or seen > 0 or not listing.complete:
        return
    held = store.record_count(source)
    if held:
        listing.incomplete(
            f"the source listed no datasets at all where {held} were seen before; "
            "treated as incomplete so that nothing is concluded removed"
        )


def open_source(config: SourceConfig) -> CkanSource | DumpSource:
    """The source a configuration entry describes."""
    if config.type == "dump":
        assert config.path is not None
        return DumpSource(config.path, base_url=config.url)
    return CkanSource(config)
