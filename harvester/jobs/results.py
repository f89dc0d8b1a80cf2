"""What the operator asks of a job (SyncOptions, TargetChoice), and what each job returns.

A result needs no open state store: what it shows was read before the store closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harvester.errors import ExitCode
from harvester.plan import Plan
from harvester.source.harvest import HarvestSummary

# --- what the operator asks for ------------------------------------------------------------------


@dataclass
class SyncOptions:
    """What the operator asked for on the command line."""

    dry_run: bool = False
    mode: str | None = None
    adopt: bool = False
    overwrite_drift: bool = False
    force_withdraw: bool = False
    check_urls: bool = False


@dataclass
class TargetChoice:
    """Which target: a profile named in the configuration, or an ad-hoc CKAN URL with the owner's
    organisation there; neither picks the configuration's single non-production profile."""

    name: str | None = None
    url: str | None = None
    owner_org: str | None = None


# --- what the jobs return ------------------------------------------------------------------------


@dataclass
class StoreStatus:
    """The state store: its schema version, and each source with its record counts and last runs;
    `exists` is false when there is no state store yet (nothing harvested)."""

    state: Path
    schema_version: int
    sources: list[dict[str, Any]]
    exists: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"state": str(self.state), "exists": self.exists, "schema_version": self.schema_version,
                "sources": self.sources}


@dataclass
class CatalogueValidation:
    """Every dataset of a source validated (each with its SHACL findings and mapping issues, and
    what data.overheid.nl would refuse of its package), and the catalogue record."""

    source: str
    datasets: list[dict[str, Any]]
    catalogue: dict[str, Any]
    stages: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.datasets)

    @property
    def valid(self) -> int:
        return sum(1 for d in self.datasets if d["valid"])

    @property
    def invalid(self) -> int:
        return self.total - self.valid

    def _findings(self, *severities: str) -> int:
        return sum(1 for d in self.datasets for f in d["findings"] if f["severity"] in severities)

    @property
    def violations(self) -> int:
        return self._findings("violation", "mapping-error")

    @property
    def warnings(self) -> int:
        return self._findings("warning", "mapping-warning")

    @property
    def refused(self) -> int:
        """Datasets whose package data.overheid.nl would refuse (the pre-send check)."""
        return sum(1 for d in self.datasets if d.get("refusals"))

    @property
    def outcome(self) -> str:
        """`success` when every dataset and the catalogue record conform, else `attention`."""
        return "success" if self.invalid == 0 and self.catalogue["conforms"] else "attention"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "total": self.total, "valid": self.valid, "invalid": self.invalid,
            "violations": self.violations, "warnings": self.warnings, "refused": self.refused,
            "stages": self.stages, "datasets": self.datasets, "catalogue": self.catalogue,
        }


@dataclass
class CatalogueExport:
    """A source's catalogue as RDF bytes, and the mapping issues met on the way."""

    data: bytes
    format: str
    issues: list[str] = field(default_factory=list)
    #: the names of the invalid datasets left out (not published, so not exported)
    left_out: list[str] = field(default_factory=list)


def needs_person(counts: dict[str, int]) -> bool:
    """Whether counts of a plan or run hold datasets invalid, in conflict, failed or held back."""
    return any(counts.get(key) for key in ("invalid", "conflict", "failed", "withdraw_held"))


@dataclass
class PlanResult:
    """The plan of a sync from the last harvest, without writes; `plan_file` where it was saved."""

    run_id: int
    plan: Plan
    plan_file: Path | None = None

    def counts(self) -> dict[str, int]:
        return self.plan.counts()

    @property
    def pending(self) -> int:
        """How many writes (creates, updates, withdrawals not held back) the plan would make."""
        return len(self.plan.writes())

    @property
    def outcome(self) -> str:
        """`attention` when a dataset is invalid or in conflict or a withdrawal is held, else `success`."""
        return "attention" if needs_person(self.counts()) else "success"

    def to_dict(self) -> dict[str, Any]:
        """The plan as `--json plan` prints it: the plan, its harvest run and how many writes wait."""
        return {**self.plan.to_dict(), "run_id": self.run_id, "pending": self.pending,
                "changes_pending": self.pending > 0,
                "plan_file": str(self.plan_file) if self.plan_file else None}


@dataclass
class SyncResult:
    """Everything a report needs about one run (and, once written, where its reports are).

    A run of `harvester apply` is one too: its `harvest` is the run the plan was made from."""

    run_id: int
    source: str
    target: str
    dry_run: bool
    harvest: HarvestSummary | None
    plan: Plan | None
    applied: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    target_requests: int = 0
    target_writes: int = 0
    error: str | None = None
    started_at: str = ""
    finished_at: str = ""
    report_json: Path | None = None
    report_html: Path | None = None
    #: the exit code of the error that ended the run, when it is not a failed run's (3): an
    #: API key the source or target refused (4)
    error_code: int | None = None
    #: `sync` or `apply`
    kind: str = "sync"
    #: on a dry run whose plan is saved: what the plan was made from (harvester.jobs.saved)
    basis: dict[str, Any] | None = None

    @property
    def outcome(self) -> str:
        """`failed`, `incomplete`, `attention` (invalid/conflict/failed datasets) or `success`."""
        if self.error or self.harvest is None or self.harvest.outcome == "failed":
            return "failed"
        if not self.harvest.complete:
            return "incomplete"
        return "attention" if needs_person(self.counts()) else "success"

    @property
    def exit_code(self) -> int:
        """What the command leaves with: the error's code, else the outcome's."""
        return self.error_code if self.error_code is not None else int(ExitCode.for_outcome(self.outcome))

    @property
    def pending(self) -> int:
        """On a dry run, how many writes the plan would make; else 0."""
        return len(self.plan.writes()) if self.dry_run and self.plan is not None else 0

    def counts(self) -> dict[str, int]:
        """created, updated, unchanged, withdrawn, conflict, invalid, failed (+ planned on a dry run)."""
        if self.plan is None:
            return {}
        planned = self.plan.counts()
        if self.dry_run:
            return planned
        done = {"created": 0, "updated": 0, "withdrawn": 0, "failed": 0}
        names = {"create": "created", "update": "updated", "withdraw": "withdrawn"}
        for action in self.plan.actions:
            if action.outcome == "failed":
                done["failed"] += 1
            elif action.outcome == "done" and action.action in names:
                done[names[action.action]] += 1
        return {**done, "unchanged": planned["unchanged"], "conflict": planned["conflict"],
                "invalid": planned["invalid"], "withdraw_held": planned["withdraw_held"],
                "skipped": planned.get("skip", 0)}

    def run_counts(self) -> dict[str, Any]:
        """What the state store keeps of the run beside its harvest counts (`harvester runs`)."""
        return {
            "sync": self.counts(), "dry_run": self.dry_run, "target": self.target,
            "target_writes": self.target_writes, "outcome": self.outcome, "error": self.error,
            **{f"stage_{k}": v for k, v in self.counters.items()},
        }

    def summary(self) -> dict[str, Any]:
        """The run in a few keys: what `harvester --json sync` prints."""
        return {
            "run_id": self.run_id, "source": self.source, "target": self.target, "dry_run": self.dry_run,
            "outcome": self.outcome, "harvest_mode": self.harvest.mode if self.harvest else None,
            "harvest_complete": bool(self.harvest and self.harvest.complete),
            "counts": self.counts(), "pending": self.pending, "changes_pending": self.pending > 0,
            "target_writes": self.target_writes, "error": self.error,
            "report_json": str(self.report_json), "report_html": str(self.report_html),
        }


@dataclass
class RunReport:
    """The report of one run, rendered as `text`, `json` or `html`."""

    run_id: int
    format: str
    text: str
