"""One run at a time per state store: an exclusive lock on `<state>.lock`.

The lock is an OS file lock (flock), so the kernel releases it when the process that holds it
dies, however it dies. The file also records who took it (pid, host, time, command); a run that
finds such a record but gets the lock knows the earlier run was killed, says so, and takes over.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import IO, Any

from harvester.errors import LockedError
from harvester.store.encoding import iso, utcnow

log = logging.getLogger(__name__)


class StateLock:
    """`with StateLock(state_path):` holds the lock for the block, or raises LockedError at once."""

    def __init__(self, state_path: str | Path, command: str = "") -> None:
        self.path = Path(str(state_path) + ".lock")
        self.command = command or " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
        self._file: IO[str] | None = None
        self.stale: dict[str, Any] | None = None

    def acquire(self) -> "StateLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(handle)
            handle.close()
            who = f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}" if holder else "another process"
            raise LockedError(
                f"{self.path}: another run holds the lock on this state store ({who}); "
                "this run exits without doing anything"
            ) from None
        previous = _read(handle)
        if previous:
            self.stale = previous
            log.warning("took over the lock left by a run that did not finish (pid %s on %s since %s)",
                        previous.get("pid"), previous.get("host"), previous.get("since"))
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": iso(utcnow()),
                                 "command": self.command}))
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is None:
            return
        self._file.seek(0)
        self._file.truncate()
        self._file.flush()
        fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    def __enter__(self) -> "StateLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read(handle: IO[str]) -> dict[str, Any]:
    handle.seek(0)
    text = handle.read().strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"pid": "?", "host": "?", "since": "?"}
    return data if isinstance(data, dict) else {}
