"""Progress while a job works, and the log lines beside it.

On a terminal: rich's progress bars, one per stage in the order a run goes through them, with
log lines printed above the bars (rich's RichHandler on the same console), so that the two
never collide. Off a terminal (cron, systemd, a pipe): every event is one log line with a UTC
timestamp and no control characters, each said once.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable
from typing import IO, Any

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Task, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: the stages of a run, in the order it goes through them, and how each is shown
STAGES = {
    "harvest": "harvest",
    "map+validate": "map+validate",
    "plan": "plan",
    "apply": "apply",
    "report": "writing the report",
}
NOISY_LOGGERS = ("urllib3", "rdflib", "pyshacl", "ckanapi")


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", self.converter(record.created))


def stderr_console(stream: IO[str] | None = None) -> Console:
    """The console progress and log lines go to: `stream`, else standard error."""
    return Console(file=stream) if stream is not None else Console(stderr=True)


def setup_logging(verbose: int = 0, quiet: bool = False, stream: IO[str] | None = None,
                  console: Console | None = None) -> None:
    """Log warnings when quiet, info by default, debug with -v: through rich on a terminal
    `console`, else as plain timestamped lines to `stream` (default standard error)."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    handler: logging.Handler
    if console is not None and console.is_terminal:
        handler = RichHandler(console=console, show_path=verbose > 0, markup=False, log_time_format="%H:%M:%S")
    else:
        handler = logging.StreamHandler(stream or (console.file if console is not None else sys.stderr))
        handler.setFormatter(_UTCFormatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class _StageBars(RichProgress):
    """rich's Progress with its rows in the order of the stages of a run."""

    def make_tasks_table(self, tasks: Iterable[Task]) -> Table:
        return super().make_tasks_table(sorted(tasks, key=lambda task: task.fields.get("order", len(STAGES))))


class Progress:
    """Progress of the stages of a run (harvest, map+validate, plan, apply, writing the report):
    call it with (stage, done, total); `finish()` when the run is done.

    On a terminal console: a bar per stage. Off a terminal: a log line per stage every `every`
    items and at the end of a stage, never the same event twice.
    """

    def __init__(self, console: Console | None = None, enabled: bool = True, every: int = 500,
                 stream: IO[str] | None = None) -> None:
        self.console = console or stderr_console(stream)
        self.enabled = enabled
        self.tty = enabled and self.console.is_terminal
        self.every = every
        self._bars: _StageBars | None = None
        self._tasks: dict[str, Any] = {}
        self._logged: dict[str, tuple[int, int | None]] = {}
        self._lock = threading.Lock()
        self._log = logging.getLogger("harvester.progress")

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self.tty:
            self._bar(stage, done, total)
        else:
            self._line(stage, done, total)

    def _bar(self, stage: str, done: int, total: int | None) -> None:
        with self._lock:
            if self._bars is None:
                self._bars = _StageBars(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                                        TimeElapsedColumn(), console=self.console, transient=False)
                self._bars.start()
            task = self._tasks.get(stage)
            if task is None:
                order = list(STAGES).index(stage) if stage in STAGES else len(STAGES)
                task = self._tasks[stage] = self._bars.add_task(STAGES.get(stage, stage), total=total, order=order)
        self._bars.update(task, completed=done, total=total)

    def _line(self, stage: str, done: int, total: int | None) -> None:
        with self._lock:
            last = self._logged.get(stage)
            ended = total is not None and done >= total
            if last == (done, total) or (done - (last[0] if last else 0) < self.every and not ended):
                return
            self._logged[stage] = (done, total)
        self._log.info("%s: %d%s", STAGES.get(stage, stage), done, f"/{total}" if total is not None else "")

    def finish(self) -> None:
        """The run is done: the bars stay as they ended, later output goes below them."""
        with self._lock:
            bars, self._bars = self._bars, None
            self._tasks = {}
        if bars is not None:
            bars.stop()
