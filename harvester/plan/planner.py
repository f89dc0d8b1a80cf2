"""The planner: a Case per prepared dataset, decided by the rules (rules.py) batch by batch, and
the withdrawals, decided at the end: of the datasets gone at the source (after the grace
period), and of those we published that may no longer be (not public at the source, or of an
organisation the target no longer publishes: at once)."""

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
#: makes prepared datasets complete (harvester.pipeline.complete on an open store)
Complete = Callable[[list[Prepared]], list[Prepared]]


class Planner:
    """Plans a source's datasets batch by batch (streaming), then its withdrawals at the end.

    The target's packages of the organisations the datasets go to are read once and kept
    compactly (id, name, state, canonical hash, organisation); a full package is fetched again
    only where a diff must be shown.
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
        #: source organisation -> organisation on the target (None: see `owner_org_of`)
        self.organizations = target_organisations(settings, target)
        self.inventory = read_inventory(target, {settings.owner_org, *(self.organizations or {}).values()},
                                        publications)
        self.taken_names = {pub.target_name for pub in publications.values()} | {
            h.name for h in self.inventory.values() if h.name}
        #: (dataset, its publication, why) of ours that may no longer be published: withdrawn
        #: with the withdrawals
        self.unpublished: list[tuple[Prepared, Publication, str]] = []
        self._ours_by_source_id: dict[str, Publication] | None = None

    # -- datasets ---------------------------------------------------------------------------

    def owner_org_of(self, item: Prepared) -> str | None:
        """The organisation on the target a dataset goes to (None: its organisation is not
        published): as `organizations` maps its organisation; without such a map, `owner_org`
        for the source's own organisation, or for every one when the source names none."""
        mapping = self.organizations
        if mapping is None and item.source_organization:
            mapping = {item.source_organization: self.settings.owner_org}
        if mapping is None:
            return self.settings.owner_org
        return mapping.get(item.organization or "")

    def plan_batch(self, prepared: Iterable[Prepared], complete: Complete | None = None) -> list[Action]:
        """One action per prepared dataset of this batch, except for those of ours that may no
        longer be published: their withdrawals come with `withdrawals`. A dataset prepared from
        its result's summary (not `complete`) is planned unchanged from its keys, or else made
        complete (`complete`, for all such of the batch at once) and planned as any other."""
        items = list(prepared)
        decided: dict[int, Action] = {}
        partial = []
        for index, item in enumerate(items):
            if not item.complete:
                action = self._unchanged_from_keys(item)
                if action is not None:
                    decided[index] = action
                else:
                    partial.append(index)
        if partial:
            if complete is None:
                raise ValueError("plan_batch: datasets prepared from their summaries need `complete`")
            for index, item in zip(partial, complete([items[i] for i in partial]), strict=True):
                items[index] = item
        unknown = sorted({  # (an invalid or unpublished dataset is not published: no need to look for it)
            p.identifier for index, p in enumerate(items)
            if index not in decided and p.valid and p.identifier and p.identifier not in self.publications
            and p.identifier not in self.inventory and rules.unpublished_reason(p, self.owner_org_of(p)) is None
        })
        elsewhere = self.target.find_identifiers(unknown) if unknown else {}
        return [action for index, item in enumerate(items)
                if (action := decided.get(index) or self._decide(item, elsewhere)) is not None]

    def _unchanged_from_keys(self, item: Prepared) -> Action | None:
        """The action of a dataset the rules before the package find unchanged (the same result
        as the one we published, held as we left it), else None."""
        case = self._case(item, {})
        if rules.not_published(case) or rules.invalid(case) or rules.not_ours(case):
            return None
        return rules.unchanged_result(case)

    def _decide(self, item: Prepared, elsewhere: dict[str, dict[str, Any]]) -> Action | None:
        """The action of the first rule that decides: first those that need no package, then
        (the package made) those that judge it, for a new dataset or for one of ours. None for
        one of ours not to be published any more (withdrawn with the withdrawals)."""
        case = self._case(item, elsewhere)
        skipped = rules.not_published(case)
        if skipped is not None:
            return self._not_published(case, skipped)
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
                or rules.drift(case) or rules.unchanged_since_sent(case) or rules.nothing_to_send(case)
                or rules.update(case))

    def _not_published(self, case: Case, skipped: Action) -> Action | None:
        """A dataset not to be published: skipped, unless we published it from this source;
        then it is withdrawn with the withdrawals (None here)."""
        pub = case.pub or self._ours_by_source().get(case.item.source_id)
        if pub is None or pub.source != self.source or pub.status != "active":
            return skipped
        self.unpublished.append((case.item, pub, skipped.reason))
        return None

    def _ours_by_source(self) -> dict[str, Publication]:
        """This source's publications by source id (for datasets that have no identifier)."""
        if self._ours_by_source_id is None:
            # (a copy first: writers of earlier batches may add publications meanwhile)
            self._ours_by_source_id = {pub.source_id: pub for pub in list(self.publications.values())
                                       if pub.source == self.source}
        return self._ours_by_source_id

    def _case(self, item: Prepared, elsewhere: dict[str, dict[str, Any]]) -> Case:
        """What the rules judge a dataset by: its publication, its inventory entry, its place on
        the target (name, resource ids) and the action to be decided."""
        identifier = item.identifier or f"(no identifier: source id {item.source_id})"
        pub = self.publications.get(identifier)
        owner_org = self.owner_org_of(item)
        action = Action(action="invalid", identifier=identifier, source_id=item.source_id, title=item.title,
                        name=pub.target_name if pub is not None else item.source_name,
                        findings=item.findings, unmapped=item.unmapped, quality=item.quality,
                        result_key=item.result_key, owner_org=owner_org, findings_count=item.findings_count)
        current = self.inventory.get(identifier)
        if pub is not None:
            name, resource_ids = pub.target_name, dict(pub.resource_ids)
        else:
            name, resource_ids = derive_name(item.source_name, self.taken_names), {}
        case = Case(item, action, self.settings, self.source, self.target.show, pub, current, name,
                    resource_ids, self.taken_names, owner_org=owner_org, elsewhere=elsewhere.get(identifier),
                    known_refusal=self.refusals.get(identifier))
        case.pending = pub is not None and pub.status == "pending" and current is not None \
            and current.name == pub.target_name
        if not case.pending and item.result_key and owner_org is not None:
            case.refusal_key = rules.refusal_key(item.result_key, name, owner_org, resource_ids)
        return case

    # -- withdrawals ------------------------------------------------------------------------

    def withdrawals(self, gone: Iterable[Gone]) -> list[Action]:
        """Withdraw actions for datasets gone at the source past the grace period, and for ours
        that may no longer be published (at once), all held back when too many would go at once;
        the reasons for any gone one not withdrawn go to `notes`, an unpublished one not
        withdrawn is skipped (with the reason). One edited on the target since our last write is
        a conflict, not withdrawn."""
        ours = self._ours_by_source()
        now = self.settings.now or datetime.now().astimezone()
        decided: list[Action] = []
        candidates: list[Action] = []
        for record in gone:
            pub = ours.get(record.source_id)
            if pub is None or pub.status != "active" or not self._may_withdraw(pub) \
                    or not self._grace_passed(record, pub, now):
                continue
            detail = f" since {record.gone_at} (grace period {self.settings.grace_days:g} days passed)"
            action = self._withdrawal(record.source_id, record.name, pub, "gone at the source", detail)
            (decided if action.action == "conflict" else candidates).append(action)
        for item, pub, why in self.unpublished:
            action = self._unpublish(item, pub, why)
            (candidates if action.action == "withdraw" else decided).append(action)
        self._hold_back(candidates)
        return decided + candidates

    def _unpublish(self, item: Prepared, pub: Publication, why: str) -> Action:
        """The withdraw action of one of ours that may no longer be published, without a grace
        period; skipped (still on the target) when this run may not withdraw."""
        if not self.settings.may_withdraw:
            return Action(action="skip", identifier=pub.identifier, source_id=item.source_id, title=item.title,
                          name=pub.target_name, target_id=pub.target_id,
                          reason=f"{why}; still on the target, not withdrawn: {self.settings.withdraw_blocked_reason}")
        return self._withdrawal(item.source_id, item.source_name, pub, why, ": withdrawn without a grace period")

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

    def _withdrawal(self, source_id: str, source_name: str, pub: Publication, why: str, detail: str) -> Action:
        """The withdraw action of a dataset (`why`, and `detail` after it, its reason); a conflict
        when it was edited on the target since our last write (drift)."""
        action = Action(action="withdraw", identifier=pub.identifier, source_id=source_id,
                        title=(pub.target_snapshot or {}).get("title", source_name), name=pub.target_name,
                        target_id=pub.target_id)
        current = self.inventory.get(pub.identifier)
        if current is not None and pub.target_hash and current.hash != pub.target_hash:
            action.changes = rules.changes(self.target.show(current.id) or {}, pub.target_snapshot or {})
            return rules.conflict(action, f"{why}, but edited on the target since our last write; "
                                          "not withdrawn automatically")
        action.reason = why + detail
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


def target_organisations(settings: PlanSettings, target: TargetReader) -> dict[str, str] | None:
    """Source organisation -> organisation on the target: the settings' map, else the target
    profile's `organizations` (a target client that carries its profile, as TargetApi does);
    None when neither maps any."""
    if settings.organizations is not None:
        return dict(settings.organizations)
    profile = getattr(getattr(target, "config", None), "organizations", None)
    return dict(profile) if profile else None


def plan_stream(planner: Planner, prepared: Iterable[Prepared], gone: Iterable[Gone],
                handle: Callable[[list[Action]], None], size: int = PLAN_BATCH,
                complete: Complete | None = None, settle: Callable[[], None] | None = None) -> None:
    """Plan `prepared` `size` datasets at a time, then the withdrawals, handing each batch of
    actions to `handle` (which may apply them, or hand them to writers) before the next batch
    is prepared; `complete` makes datasets prepared from their summaries complete
    (Planner.plan_batch); `settle()`, called before the withdrawals are planned, waits for
    the writes handed over (the withdrawals count the publications)."""
    items = iter(prepared)
    while batch := list(islice(items, size)):
        handle(planner.plan_batch(batch, complete))
    if settle is not None:
        settle()
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
