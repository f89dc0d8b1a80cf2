"""Progress display: bars per stage on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import io
import logging

import pytest

from harvester.console import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_redrawn_line_with_a_bar_per_stage() -> None:
    screen = Terminal()
    progress = Progress(stream=screen)
    for stage, done in (("harvest", 57), ("map+validate", 20), ("plan", 20), ("apply", 3)):
        progress(stage, done, 57 if stage != "apply" else 10)
    progress.finish()
    last = screen.getvalue().split("\r")[-1]
    assert last.startswith("harvest [############] 57/57")
    assert "map+validate [####--------] 20/57" in last and "apply [###---------] 3/10" in last
    assert last.endswith("\n")


def test_off_a_terminal_progress_is_logged_every_n_items(caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress(stream=io.StringIO(), every=100)
    with caplog.at_level(logging.INFO, logger="harvester.progress"):
        for done in range(1, 251):
            progress("map+validate", done, 250)
    assert [r.getMessage() for r in caplog.records] == ["map+validate: 100/250", "map+validate: 200/250",
                                                        "map+validate: 250/250"]


def test_disabled_progress_prints_nothing() -> None:
    screen = Terminal()
    progress = Progress(stream=screen, enabled=False)
    progress("harvest", 1, 2)
    progress.finish()
    assert screen.getvalue() == ""
