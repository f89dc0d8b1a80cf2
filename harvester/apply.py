"""Stage 6, apply: carry out a plan on the target, one dataset at a time, and record what was done.

Each dataset is written on its own: a refusal (409 ValidationError with the target's field
messages), a 403 or a timeout is recorded on that dataset and the others go on. The state store
records a write only after the target confirmed it; a create first leaves a `pending` mark, so a
run killed between the target's answer and our record is finished by the next run instead of
creating a second dataset with the same identifier.

When the run's first writes all fail the same way (a wrong owner_org, a key without rights),
the rest would too: after `STOP_AFTER_SAME_FAILURES` of them the applier stops (`stopped` says
why) and the run fails instead of making one refused call per dataset.

`ApplyQueue` applies a sync's batches of actions in a thread of its own, in the order they were
planned, while the next batch is prepared and planned: a bounded queue (`QUEUED_BATCHES`) between
the planner and the writers, so that a run's preparation (mapping, validation, conversion) and its
writes overlap instead of taking turns. It writes exactly the actions handed to it.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from harvester.donl.api import TargetApi, TargetValidationError
from harvester.donl.compare import canonical_hash
from harvester.errors import TargetError
from harvester.plan import Action, Plan, unique_name
from harvester.store.encoding import iso, utcnow
from harvester.store.rows import Publication
from harvester.store.state import StateStore

log = logging.getLogger(__name__)

NAME_IN_USE = "That URL is already in use."
MAX_NAME_TRIES = 5
#: a run whose first writes all fail, this many in a row with the same cause, stops writing
STOP_AFTER_SAME_FAILURES = 5
#: batches planned and waiting for the writers, besides the one being written
QUEUED_BATCHES = 1
ProgressFn = Callable[[str, int, int | None], None]


class Applier:
    """Writes a plan's actions through a `TargetApi` and keeps the state store in step."""

    def __init__(self, plan: Plan, store: StateStore, api: TargetApi, run_id: int, source: str,
                 publications: dict[str, Publication] | None = None) -> None:
        self.plan = plan
        self.store = store
        self.api = api
        self.run_id = run_id
        self.source = source
        self._lock = threading.Lock()
        self.publications = publications if publications is not None else store.publications(api.url)
        self.finished = 0
        self.expected = 0
        #: why the applier stopped writing (None while it goes on)
        self.stopped: str | None = None
        self._written = False
        self._causes: list[str] = []

    def run(self, writers: int = 1, progress: ProgressFn | None = None,
            actions: list[Action] | None = None) -> dict[str, int]:
        """Apply the write actions (of `actions`, else of the whole plan); return counts of done and failed."""
        candidates = self.plan.actions if actions is None else actions
        self._remember_results(candidates)
        self._remember_refusals(candidates)
        todo = [a for a in candidates if a.action in ("create", "update") or (a.action == "withdraw" and not a.held)]
        done = {"done": 0, "failed": 0}
        finished = self.finished

        def one(action: Action) -> None:
            nonlocal finished
            if self.stopped:
                return
            try:
                self.apply(action)
                action.outcome = "done"
            except TargetError as exc:
                action.outcome = "failed"
                action.messages.append(str(exc))
                if isinstance(exc, TargetValidationError):
                    action.problems = [
                        {"field": key, "message": "; ".join(map(str, value)) if isinstance(value, list) else str(value)}
                        for key, value in sorted(exc.errors.items())
                    ]
                log.error("%s %s (%s): %s", action.action, action.identifier, action.name, exc)
            with self._lock:
                self._count_cause(action)
                done["done" if action.outcome == "done" else "failed"] += 1
                finished += 1
                self.finished = finished
                if progress:
                    progress("apply", finished, self.expected or None)

        if writers <= 1:
            for action in todo:
                one(action)
        else:
            with ThreadPoolExecutor(max_workers=writers) as pool:
                list(pool.map(one, todo))
        return done

    def _count_cause(self, action: Action) -> None:
        """Note a write's outcome; stop when the run's first writes all failed the same way."""
        if action.outcome == "done":
            self._written = True
        if self._written or action.outcome != "failed":
            return
        self._causes.append(_cause(action))
        last = self._causes[-STOP_AFTER_SAME_FAILURES:]
        if len(last) == STOP_AFTER_SAME_FAILURES and len(set(last)) == 1 and not self.stopped:
            self.stopped = (f"stopped writing: the first {STOP_AFTER_SAME_FAILURES} writes all failed the same "
                            f"way ({last[0]}); the others would too")
            log.error("%s", self.stopped)

    def _remember_results(self, actions: list[Action]) -> None:
        """For datasets planned unchanged from a new result (the mapping tables, shapes or code
        changed, the package did not): record that result as the published one, so that the
        next run sees them unchanged without building their package again."""
        moved = []
        with self._lock:
            for action in actions:
                pub = self.publications.get(action.identifier) if action.action == "unchanged" else None
                if pub is not None and action.result_key and pub.result_key != action.result_key:
                    pub.result_key = action.result_key
                    moved.append((action.identifier, action.result_key))
            if moved:
                self.store.save_result_keys(self.api.url, moved)

    def _remember_refusals(self, actions: list[Action]) -> None:
        """Record what the pre-send check refused, so that the next run with the same package
        (the same refusal key) need not build and check it again."""
        refused = [(a.identifier, a.refusal_key, json.dumps(a.problems, ensure_ascii=False))
                   for a in actions if a.action == "invalid" and a.refusal_key and a.problems]
        if refused:
            self.store.save_refusals(self.api.url, refused)

    def apply(self, action: Action) -> None:
        if action.action == "create":
            self._create(action)
        elif action.action == "update":
            self._update(action)
        elif action.action == "withdraw" and not action.held:
            self._withdraw(action)

    # -- the three writes -------------------------------------------------------------------

    def _create(self, action: Action) -> None:
        assert action.package is not None and action.name is not None
        package = dict(action.package)
        pub = self._pending(action, package["name"])
        for _ in range(MAX_NAME_TRIES):
            try:
                result = self.api.create(package)
            except TargetValidationError as exc:
                if NAME_IN_USE not in str(exc.errors.get("name", "")):
                    self._forget(pub)
                    raise
                existing = self.api.show(package["name"])
                if existing is not None and existing.get("identifier") == action.identifier:
                    log.info("%s: created by an earlier interrupted run as %s; finishing it", action.identifier, package["name"])
                    package["id"] = existing["id"]
                    package["resources"] = _with_ids(package.get("resources") or [], existing)
                    result = self.api.update(package)
                    break
                taken = {package["name"]} | {p.target_name for p in self.publications.values()}
                package["name"] = unique_name(action.name, taken | {package["name"]})
                self._forget(pub)
                pub = self._pending(action, package["name"])
                continue
            break
        else:
            self._forget(pub)
            raise TargetError(f"{action.identifier}: no free name found after {MAX_NAME_TRIES} tries starting at {action.name!r}")
        action.name, action.target_id = result.get("name"), result.get("id")
        self._confirmed(pub, action, package, result, created=True)

    def _update(self, action: Action) -> None:
        assert action.package is not None
        package = dict(action.package)
        if action.restore:
            package["state"] = "active"
        result = self.api.update(package)
        with self._lock:
            pub = self.publications.get(action.identifier)
        if pub is None:
            pub = Publication(
                target_url=self.api.url, identifier=action.identifier, source=self.source,
                source_id=action.source_id or "", owner_org=action.owner_org or self.plan.owner_org,
                target_name=result.get("name") or action.name or "", target_id=result.get("id"),
                status="active", adopted=action.adopt, created_run=self.run_id,
            )
        action.target_id = result.get("id")
        self._confirmed(pub, action, package, result, created=False)

    def _withdraw(self, action: Action) -> None:
        with self._lock:
            pub = self.publications[action.identifier]
        self.api.withdraw(pub.target_id or pub.target_name)
        pub.status = "withdrawn"
        pub.withdrawn_at = iso(utcnow())
        pub.withdrawn_run = self.run_id
        self._save(pub)

    # -- state bookkeeping ------------------------------------------------------------------

    def _pending(self, action: Action, name: str) -> Publication:
        with self._lock:
            existing = self.publications.get(action.identifier)
        pub = existing or Publication(
            target_url=self.api.url, identifier=action.identifier, source=self.source,
            source_id=action.source_id or "", owner_org=action.owner_org or self.plan.owner_org, target_name=name,
            target_id=None, status="pending", created_run=self.run_id,
        )
        pub.target_name, pub.status = name, "pending"
        self._save(pub)
        return pub

    def _forget(self, pub: Publication) -> None:
        with self._lock:
            self.store.forget_publication(pub.target_url, pub.identifier)
            self.publications.pop(pub.identifier, None)

    def _confirmed(self, pub: Publication, action: Action, sent: dict[str, Any], result: dict[str, Any], *, created: bool) -> None:
        """Record a write the target confirmed: hashes, snapshot and resource ids."""
        resources = result.get("resources") or []
        ids = {uri: res["id"] for uri, res in zip(action.distribution_uris, resources) if res.get("id")}
        pub.status = "active"
        pub.target_id = result.get("id") or pub.target_id
        pub.target_name = result.get("name") or pub.target_name
        pub.resource_ids = ids
        pub.sent_hash = canonical_hash(sent)
        pub.target_hash = canonical_hash(result)
        pub.target_snapshot = result
        pub.last_written_run = self.run_id
        pub.last_written_at = iso(utcnow())
        pub.withdrawn_at = pub.withdrawn_run = None
        pub.result_key = action.result_key
        pub.target_modified = result.get("metadata_modified")
        if created and pub.created_run is None:
            pub.created_run = self.run_id
        self._save(pub)

    def _save(self, pub: Publication) -> None:
        with self._lock:
            self.store.save_publication(pub)
            # the snapshot (the target's package, kilobytes) is read back from the store when
            # a later plan needs it, not kept for every publication of the run
            pub.snapshot_json, pub.snapshot_loader = None, self.store.snapshot
            self.publications[pub.identifier] = pub


class ApplyQueue:
    """An Applier's writes of batch after batch in a thread of its own (see the module).

        writes = ApplyQueue(applier, writers, progress)
        writes.put(actions)   # waits while QUEUED_BATCHES batches wait already
        writes.settle()       # every batch handed over is written
        writes.close()        # the same, then the thread ends

    `applied` counts the writes done and failed. Each batch's packages are let go once it is
    written. An error other than a refused write (TargetError, counted on its action) stops the
    writing and is raised by the next `put`, `settle` or `close`."""

    def __init__(self, applier: Applier, writers: int = 1, progress: ProgressFn | None = None) -> None:
        self.applier, self.writers, self.progress = applier, writers, progress
        self.applied = {"done": 0, "failed": 0}
        self._batches: queue.Queue[list[Action] | None] = queue.Queue(maxsize=QUEUED_BATCHES)
        self._failure: BaseException | None = None
        self._reported = False
        self._thread = threading.Thread(target=self._write, name="apply", daemon=True)
        self._thread.start()

    def put(self, actions: list[Action]) -> None:
        self._raise_failure()
        self._batches.put(actions)

    def settle(self) -> None:
        """Wait until every batch handed over is written."""
        self._batches.join()
        self._raise_failure()

    def close(self, *, raise_failure: bool = True, interrupted: bool = False) -> None:
        """Write what was handed over, then end the thread (without `raise_failure`: when the
        planning thread fails itself, its own error is the one to see; `interrupted`: the run
        was interrupted, the writes not yet begun are left undone)."""
        if interrupted and not self.applier.stopped:
            self.applier.stopped = "interrupted"
        self._batches.put(None)
        self._thread.join()
        if raise_failure:
            self._raise_failure()

    def _write(self) -> None:
        while True:
            actions = self._batches.get()
            try:
                if actions is None:
                    return
                if self._failure is None:
                    self._write_batch(actions)
            except BaseException as exc:  # noqa: BLE001 - raised again in the planning thread
                self._failure = exc
            finally:
                self._batches.task_done()

    def _write_batch(self, actions: list[Action]) -> None:
        for key, value in self.applier.run(self.writers, self.progress, actions).items():
            self.applied[key] += value
        for action in actions:
            action.package = None

    def _raise_failure(self) -> None:
        if self._failure is not None and not self._reported:
            self._reported = True
            raise self._failure


def _with_ids(resources: list[dict[str, Any]], existing: dict[str, Any]) -> list[dict[str, Any]]:
    """Our resources with the ids an existing package gave them (by position)."""
    theirs = existing.get("resources") or []
    out = []
    for index, res in enumerate(resources):
        res = dict(res)
        if index < len(theirs) and theirs[index].get("id"):
            res["id"] = theirs[index]["id"]
        out.append(res)
    return out


def _cause(action: Action) -> str:
    """What made a write fail, without what is particular to the dataset: the target's field
    messages of a refusal, else the error's words with the dataset's identifier and name left out."""
    if action.problems:
        return "; ".join(f"{p['field']}: {p['message']}" for p in action.problems)
    text = action.messages[-1] if action.messages else ""
    for particular in (action.identifier, action.name, action.target_id):
        if particular:
            text = text.replace(particular, "…")
    return text
