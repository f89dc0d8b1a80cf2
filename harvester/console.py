"""What a run shows while it works: a progress bar on a terminal, plain log lines elsewhere.

Off a terminal (cron, systemd, a pipe) every event is one line with a UTC timestamp and no control
characters, so the journal and log files stay readable.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import IO

import click

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", self.converter(record.created))


def setup_logging(verbose: int = 0, quiet: bool = False, stream: IO[str] | None = None) -> None:
    """Log to stderr: warnings when quiet, info by default, debug with -v."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_UTCFormatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "rdflib", "pyshacl", "ckanapi"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class Progress:
    """Progress of the stages of a run (harvest, map+validate, plan, apply).

    On a terminal: one line, redrawn, with a bar per stage (the stages interleave when a run
    streams batch by batch). Off a terminal: a log line per stage every `every` items and at
    the end of a stage.
    """

    def __init__(self, stream: IO[str] | None = None, enabled: bool = True, every: int = 500) -> None:
        self.stream = stream or sys.stderr
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = enabled
        self.every = every
        self._stages: dict[str, tuple[int, int | None]] = {}
        self._logged: dict[str, int] = {}
        self._log = logging.getLogger("harvester.progress")

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        self._stages[stage] = (done, total)
        if self.tty:
            line = "  ".join(self.bar(name, *state, width=12) for name, state in self._stages.items())
            self.stream.write("\r" + line[:200])
            self.stream.flush()
        elif done - self._logged.get(stage, 0) >= self.every or (total is not None and done == total):
            self._logged[stage] = done
            self._log.info("%s: %d%s", stage, done, f"/{total}" if total is not None else "")

    @staticmethod
    def bar(stage: str, done: int, total: int | None, width: int = 30) -> str:
        if not total:
            return f"{stage} {done}"
        filled = int(width * min(done, total) / total)
        return f"{stage} [{'#' * filled}{'-' * (width - filled)}] {done}/{total}"

    def finish(self) -> None:
        if self.tty and self._stages:
            self.stream.write("\n")
            self.stream.flush()
        self._stages = {}


def echo_table(rows: list[tuple[str, str]], err: bool = False) -> None:
    """Print `label value` rows aligned."""
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        click.echo(f"{label:<{width}}  {value}", err=err)
