"""Stage 5, the plan: what to do on the target for each dataset, decided without writing anything.

For every prepared (mapped, validated, converted) dataset of a source, and every dataset this
harvester published for it before, the plan holds one action:

- `create`    not on the target yet: a new package (field-level diff against nothing);
- `update`    ours, changed since we last sent it (field-level diff against the target);
- `unchanged` ours, and what we would send hashes the same as what we last sent;
- `withdraw`  ours, gone from a complete, successful, full harvest for longer than the grace
              period (held back, with the reason, when the run would withdraw too many);
- `conflict`  the target holds a dataset with this identifier that we did not create, or one of
              ours was edited on the target since our last write (drift): never overwritten
              unless the operator says so (`adopt` / `overwrite_drift`);
- `invalid`   SHACL violations, unmapped values or target rules broken: not published.

Datasets are matched by their stable identifier: first through the state store, then by
searching the target's `identifier` field; never by title.

model.py holds what the stage makes (Plan, Action) and reads (PlanSettings, Gone); target.py
what it reads of the target; rules.py the rules that decide a dataset's action; planner.py the
Planner that applies them, batch by batch, and decides the withdrawals.
"""

from harvester.plan.model import ACTIONS, Action, Gone, Plan, PlanSettings
from harvester.plan.planner import PLAN_BATCH, Planner, make_plan, plan_stream
from harvester.plan.target import Held, TargetReader, derive_name, held, read_inventory, unique_name

__all__ = [
    "ACTIONS", "PLAN_BATCH", "Action", "Gone", "Held", "Plan", "PlanSettings", "Planner", "TargetReader",
    "derive_name", "held", "make_plan", "plan_stream", "read_inventory", "unique_name",
]
