"""What the `harvester` command shows: progress while a job works (progress.py), then the job's
result (show.py), a plan as terraform shows one (plan.py)."""

from harvester.console.plan import find_action, plan_lines, summary_line
from harvester.console.progress import Progress, setup_logging, stderr_console
from harvester.console.show import (
    documents_summary,
    echo_action,
    echo_document_validation,
    echo_export,
    echo_harvest,
    echo_init,
    echo_json,
    echo_plan,
    echo_report,
    echo_runs,
    echo_status,
    echo_sync,
    echo_table,
    echo_validation,
    run_line,
)

__all__ = [
    "Progress", "documents_summary", "echo_action", "echo_document_validation", "echo_export", "echo_harvest", "echo_init", "echo_json", "echo_plan",
    "echo_report", "echo_runs", "echo_status", "echo_sync", "echo_table", "echo_validation", "find_action",
    "plan_lines", "run_line", "setup_logging", "stderr_console", "summary_line",
]
