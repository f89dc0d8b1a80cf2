"""What the plan stage makes: a Plan of one Action per dataset, and what it is made from (the
operator's PlanSettings, the Gone records of the last full harvest)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

ACTIONS = ("create", "update", "unchanged", "withdraw", "conflict", "invalid", "skip")


@dataclass
class Gone:
    """A source dataset the last complete full harvest no longer saw."""

    source_id: str
    name: str
    gone_at: str


@dataclass
class PlanSettings:
    """What the operator allows this run to do."""

    owner_org: str
    grace_days: float = 7.0
    withdraw_threshold: float = 0.10
    adopt: bool = False
    overwrite_drift: bool = False
    force_withdraw: bool = False
    may_withdraw: bool = False
    withdraw_blocked_reason: str = ""
    now: datetime | None = None
    #: source organisation name -> the organisation on the target its datasets go to; the
    #: datasets of other organisations are not published. None: the target profile's
    #: `organizations`, else the source's own organisation to `owner_org` (every organisation
    #: when the source names none)
    organizations: dict[str, str] | None = None


@dataclass
class Action:
    """What the plan decided for one dataset, and why, with what the run report shows of it."""

    action: str
    identifier: str
    source_id: str | None
    title: str = ""
    name: str | None = None
    target_id: str | None = None
    reason: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)
    package: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    distribution_uris: list[str] = field(default_factory=list)
    held: bool = False
    restore: bool = False
    adopt: bool = False
    interrupted_create: bool = False
    quality: dict[str, Any] | None = None
    outcome: str | None = None
    messages: list[str] = field(default_factory=list)
    result_key: str | None = None
    #: for a dataset the pre-send check refused: the key over what the check read (apply
    #: records the refusal under it, and a later plan with the same key need not check again)
    refusal_key: str | None = None
    #: the organisation on the target the dataset is published under (None: not published)
    owner_org: str | None = None
    #: planned from the keys of its stored result alone (a dataset unchanged): how many SHACL
    #: findings it has; its `findings` and `quality` were not read (the run report reads the
    #: quality from the state store). None: `findings` holds them all
    findings_count: int | None = None

    def to_dict(self, with_package: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data.pop("refusal_key")
        if data["findings_count"] is None:
            data.pop("findings_count")
        if not with_package:
            data.pop("package")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Action:
        """The action `to_dict` gave (keys this version does not know are left out)."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class Plan:
    """Every action for one source on one target, plus notes a person should read."""

    source: str
    target: str
    owner_org: str
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Actions by kind (held withdrawals apart); `skip` only when there are any (the plan
        files of runs before it existed have no such count)."""
        counts = {name: 0 for name in ACTIONS}
        counts["withdraw_held"] = 0
        for action in self.actions:
            if action.action == "withdraw" and action.held:
                counts["withdraw_held"] += 1
            else:
                counts[action.action] += 1
        if not counts["skip"]:
            del counts["skip"]
        return counts

    def writes(self) -> list[Action]:
        """The actions that would call the target."""
        return [a for a in self.actions if a.action in ("create", "update") or (a.action == "withdraw" and not a.held)]

    def to_dict(self, with_packages: bool = False) -> dict[str, Any]:
        return {
            "source": self.source, "target": self.target, "owner_org": self.owner_org,
            "counts": self.counts(), "notes": self.notes,
            "actions": [a.to_dict(with_packages) for a in self.actions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """The plan `to_dict` gave (its counts are made anew from the actions)."""
        return cls(source=data["source"], target=data["target"], owner_org=data["owner_org"],
                   actions=[Action.from_dict(a) for a in data.get("actions") or []],
                   notes=list(data.get("notes") or []))
