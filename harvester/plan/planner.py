"""The planner: a Case per prepared dataset, decided by the rules (rules.py) batch by batch, and
the withdrawals of the datasets gone at the source, decided at the end."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Callable, Iterable

from harvester.pipeline import Prepared
from harvester.plan import rules
from harvester.plan.model import Action, Gone, Plan, PlanSettings
from harvester.plan.rules import Case
from harvester.plan.target import TargetReader, derive_name, read_inventory
from harvester.store.encoding import parse_iso
from harvester.store.rows import Publication

PLAN_BATCH = 500


class Planner:
    """Plans a source's datasets batch by batch (streaming), then its withdrawals at the end.

    The target's packages of the owner organisation are read once and kept compactly (id, name,
    state, canonical hash); a full package is fetched again only where a diff must be shown.
    """

    def __init__(self, source: str, publications: dict[str, Publication], target: TargetReader,
                 settings: PlanSettings, refusals: dict[str, tuple[str, str]] | None = None) -> None:
        self.source = source
        self.publications = publications
        #: what earlier runs' pre-send checks refused (StateStore.refusals)
        self.refusals = refusals or {}
        self.target = target
        self.settings = settings
        self.notes: list[str] = []
        self.inventory = read_inventory(target, settings.owner_org, publications)
        self.taken_names = {pub.target_name for pub in publications.values()} | {
            h.name for h in self.inventory.values() if h.name}

    # -- datasets ---------------------------------------------------------------------------

    def plan_batch(self, prepared: Iterable[Prepared]) -> list[Action]:
        """One action per prepared dataset of this batch."""
        items = list(prepared)
        unknown = sorted({  # (an invalid dataset is not published: no need to look for it)
            p.identifier for p in items
            if p.valid and p.identifier and p.identifier not in self.publications
            and p.identifier not in self.inventory
        })
        elsewhere = self.target.find_identifiers(unknown) if unknown else {}
        return [self._decide(item, elsewhere) for item in items]

    def _decide(self, item: Prepared, elsewhere: dict[str, dict[str, Any]]) -> Action:
        """The action of the first rule that decides: first those that need no package, then
        (the package made) those that judge it, for a new dataset or for one of ours."""
        case = self._case(item, elsewhere)
        decided = (rules.invalid(case) or rules.not_ours(case) or rules.unchanged_result(case)
                   or rules.refused_before(case) or rules.without_package(case))
        if decided is not None:
            return decided
        rules.make_package(case)
        decided = rules.unchanged_package(case) or rules.refused_by_check(case)
        if decided is not None:
            return decided
        if case.pub is None:
            return rules.create_or_adopt(case)
        case.action.target_id = case.pub.target_id
        return (rules.unfinished_create(case) or rules.restore(case) or rules.gone_from_target(case)
                or rules.drift(case) or rules.unchanged_since_sent(case) or rules.update(case))

    def _case(self, item: Prepared, elsewhere: dict[str, dict[str, Any]]) -> Case:
        """What the rules judge a dataset by: its publication, its inventory entry, its place on
        the target (name, resource ids) and the action to be decided."""
        identifier = item.identifier or f"(no identifier: source id {item.source_id})"
        action = Action(action="invalid", identifier=identifier, source_id=item.source_id, title=item.title,
                        findings=item.findings, unmapped=item.unmapped, quality=item.quality,
                        result_key=item.result_key)
        pub = self.publications.get(identifier)
        current = self.inventory.get(identifier)
        if pub is not None:
            name, resource_ids = pub.target_name, dict(pub.resource_ids)
        else:
            name, resource_ids = derive_name(item.source_name, self.taken_names), {}
        case = Case(item, action, self.settings, self.source, self.target.show, pub, current, name,
                    resource_ids, self.taken_names, elsewhere=elsewhere.get(identifier),
                    known_refusal=self.refusals.get(identifier))
        case.pending = pub is not None and pub.status == "pending" and current is not None \
            and current.name == pub.target_name
        if not case.pending and item.result_key:
            case.refusal_key = rules.refusal_key(item.result_key, name, self.settings.owner_org, resource_ids)
        return case

    # -- withdrawals ------------------------------------------------------------------------

    def withdrawals(self, gone: Iterable[Gone]) -> list[Action]:
        """Withdraw actions for datasets gone at the source past the grace period (held back when
        too many would go at once); the reasons for any not withdrawn go to `notes`. One edited
        on the target since our last write is a conflict, not withdrawn."""
        ours = {pub.source_id: pub for pub in self.publications.values() if pub.source == self.source}
        now = self.settings.now or datetime.now().astimezone()
        conflicts: list[Action] = []
        candidates: list[Action] = []
        for record in gone:
            pub = ours.get(record.source_id)
            if pub is None or pub.status != "active" or not self._may_withdraw(pub) \
                    or not self._grace_passed(record, pub, now):
                continue
            action = self._withdrawal(record, pub)
            (conflicts if action.action == "conflict" else candidates).append(action)
        self._hold_back(candidates)
        return conflicts + candidates

    def _may_withdraw(self, pub: Publication) -> bool:
        """Withdraw only after a complete, successful, full harvest (else noted, for each)."""
        if not self.settings.may_withdraw:
            self.notes.append(f"{pub.identifier}: gone at the source, but not withdrawn: "
                              f"{self.settings.withdraw_blocked_reason}")
        return self.settings.may_withdraw

    def _grace_passed(self, record: Gone, pub: Publication, now: datetime) -> bool:
        """Withdraw only once gone for longer than the grace period (else noted)."""
        due = parse_iso(record.gone_at) + timedelta(days=self.settings.grace_days)
        if due > now:
            self.notes.append(f"{pub.identifier} ({pub.target_name}): gone at the source since {record.gone_at}; "
                              f"withdrawn after the grace period, on or after {due.isoformat(timespec='seconds')}")
            return False
        return True

    def _withdrawal(self, record: Gone, pub: Publication) -> Action:
        """The withdraw action of a dataset gone at the source; a conflict when it was edited on
        the target since our last write (drift)."""
        action = Action(action="withdraw", identifier=pub.identifier, source_id=record.source_id,
                        title=(pub.target_snapshot or {}).get("title", record.name), name=pub.target_name,
                        target_id=pub.target_id)
        current = self.inventory.get(pub.identifier)
        if current is not None and pub.target_hash and current.hash != pub.target_hash:
            action.changes = rules.changes(self.target.show(current.id) or {}, pub.target_snapshot or {})
            return rules.conflict(action, "gone at the source, but edited on the target since our "
                                          "last write; not withdrawn automatically")
        action.reason = (f"gone at the source since {record.gone_at} "
                         f"(grace period {self.settings.grace_days:g} days passed)")
        return action

    def _hold_back(self, candidates: list[Action]) -> None:
        """The withdraw threshold: when more than that share of this source's published datasets
        would be withdrawn at once, all are held back (noted) unless `force_withdraw`."""
        settings = self.settings
        active = sum(1 for pub in self.publications.values() if pub.source == self.source and pub.status == "active")
        if not candidates or len(candidates) <= settings.withdraw_threshold * max(active, 1) \
                or settings.force_withdraw:
            return
        self.notes.append(
            f"withdrawing nothing: {len(candidates)} of {active} published datasets would be withdrawn, more "
            f"than the threshold of {settings.withdraw_threshold:.0%}; check the source, then run with --force-withdraw"
        )
        for action in candidates:
            action.held = True
            action.reason += f"; HELD BACK: more than {settings.withdraw_threshold:.0%} of the datasets at once"


def plan_stream(planner: Planner, prepared: Iterable[Prepared], gone: Iterable[Gone],
                handle: Callable[[list[Action]], None], size: int = PLAN_BATCH) -> None:
    """Plan `prepared` `size` datasets at a time, then the withdrawals, handing each batch of
    actions to `handle` (which may apply them) before the next batch is prepared."""
    items = iter(prepared)
    while batch := list(islice(items, size)):
        handle(planner.plan_batch(batch))
    handle(planner.withdrawals(gone))


def make_plan(
    source: str,
    prepared: Iterable[Prepared],
    gone: Iterable[Gone],
    publications: dict[str, Publication],
    target: TargetReader,
    settings: PlanSettings,
) -> Plan:
    """Decide, for every dataset, what the apply stage should do, in one go. Makes no write calls."""
    planner = Planner(source, publications, target, settings)
    plan = Plan(source=source, target=target.url, owner_org=settings.owner_org)
    plan.actions = planner.plan_batch(sorted(prepared, key=lambda p: (p.identifier or "", p.source_id)))
    plan.actions += planner.withdrawals(gone)
    plan.notes = planner.notes
    return plan
