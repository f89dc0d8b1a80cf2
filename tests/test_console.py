"""Progress and log lines: rich's bars beside log lines on a terminal, each event once as a
plain timestamped line elsewhere."""

from __future__ import annotations

import io
import logging
import re

import pytest
from rich.console import Console

from harvester.console import Progress, setup_logging

#: what a run reports, as the jobs call progress: a stage's last event may come twice (the plan
#: stage is told its total after the datasets and again after the withdrawals)
EVENTS = [("harvest", n, 57) for n in range(1, 58)] + [("map+validate", 57, 57)] + \
         [("plan", 57, 57), ("plan", 57, 57)] + [("apply", n, 10) for n in range(1, 11)] + \
         [("report", 0, 1), ("report", 1, 1)]
#: the C0 control characters (but newline) and DEL: none off a terminal
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _plain(stream: io.StringIO) -> Progress:
    console = Console(file=stream)
    setup_logging(console=console)
    return Progress(console=console, every=20)


def test_off_a_terminal_each_event_is_one_timestamped_line_once() -> None:
    stream = io.StringIO()
    progress = _plain(stream)
    for event in EVENTS:
        progress(*event)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "harvest: 20/57", "harvest: 40/57", "harvest: 57/57", "map+validate: 57/57", "plan: 57/57",
        "apply: 10/10", "writing the report: 1/1"]
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO harvester\.progress: ", line) for line in lines)
    assert len(lines) == len(set(lines)) and not CONTROL.search(stream.getvalue())


def test_off_a_terminal_progress_is_logged_every_n_items(caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress(console=Console(file=io.StringIO()), every=100)
    with caplog.at_level(logging.INFO, logger="harvester.progress"):
        for done in range(1, 251):
            progress("map+validate", done, 250)
        progress("map+validate", 250, 250)
    assert [r.getMessage() for r in caplog.records] == ["map+validate: 100/250", "map+validate: 200/250",
                                                        "map+validate: 250/250"]


def test_on_a_terminal_bars_per_stage_in_order_and_log_lines_above_them() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    setup_logging(console=console)
    progress = Progress(console=console)
    assert progress.tty
    progress("plan", 20, 57)  # out of order: shown after the stages before it
    progress("harvest", 57, 57)
    logging.getLogger("harvester.test").warning("a log line between the bars")
    for event in EVENTS:
        progress(*event)
    progress.finish()
    text = screen.getvalue()
    final = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text.rsplit("\x1b[2K", 1)[-1])
    rows = [line for line in final.splitlines() if line.strip()]
    assert [row.split()[0] for row in rows] == ["harvest", "map+validate", "plan", "apply", "writing"]
    assert "57/57" in rows[0] and "10/10" in rows[3] and "1/1" in rows[4]
    logged = [line for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).splitlines()
              if "a log line between the bars" in line]
    assert logged and all("57/57" not in line and "━" not in line for line in logged)
    assert "WARNING" in logged[0]


def test_disabled_progress_prints_nothing() -> None:
    screen = io.StringIO()
    progress = Progress(console=Console(file=screen, force_terminal=True), enabled=False)
    progress("harvest", 1, 2)
    progress.finish()
    assert screen.getvalue() == ""


def test_datasets_not_published_are_counted_and_shown_only_when_asked() -> None:
    """A private dataset or another organisation's is no change and needs no person: the plan's
    lines leave it out unless -v, and the summary line counts it."""
    from harvester.console.plan import plan_lines, summary_line
    from harvester.plan import Action, Plan

    plan = Plan(source="duo", target="t", owner_org="o", actions=[
        Action(action="create", identifier="https://x/a", source_id="a", name="nieuw"),
        Action(action="skip", identifier="https://x/b", source_id="b", name="geheim",
               reason="private at the source"),
    ])
    quiet = list(plan_lines(plan))
    assert any(line.startswith("+ nieuw") for line in quiet) and not any("geheim" in line for line in quiet)
    shown = list(plan_lines(plan, unchanged=True))
    assert "x geheim  (not published: private at the source)" in shown
    assert summary_line(plan.counts()) == "Plan: 1 to create, 0 to update, 0 to withdraw (1 not published); " \
                                          "nothing needs a person."
