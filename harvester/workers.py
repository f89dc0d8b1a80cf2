"""Worker processes for the pipeline: mapper -> validate -> target (+ quality) on all cores.

    with WorkerPool(stages, 2) as pool:
        job = pool.submit(items, "batch of records 1-500 (...)")
        outcomes, seconds = pool.result(job)

A `concurrent.futures.ProcessPoolExecutor` with the fork start method: each worker starts as a
copy of this process, so it has the stages (mapping tables, options, compiled shapes, value
lists, the source's context) without pickling or loading them again, and keeps them for every
batch it gets. A batch goes out as plain data (source id, name, content hash, raw package dict
per record) and comes back as plain data (harvester.pipeline.Outcome: no rdflib terms cross
the process boundary). The parent process keeps the state store to itself: the workers never
touch it.

A worker that dies (killed, out of memory, a crash in C code) or fails on a batch makes
`result` raise `WorkerError`, which names the batch; it never hangs.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Self

from harvester.collector import collector_paused
from harvester.errors import HarvesterError

_STAGES: Any = None
#: in a worker: its slot in the pool's table of what each worker is doing
_SLOT: int = -1
_BOARD: Any = None


class WorkerError(HarvesterError):
    """A worker process died, or failed on a batch."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


def fork_available() -> bool:
    """Whether worker processes can be forked here (Linux and most Unixes; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _start(stages: Any, board: Any, counter: Any) -> None:
    """Runs once in each worker, as it starts: keep the stages for every batch, and take a slot
    in the board where each worker notes (pid, batch number) while it works on a batch."""
    global _STAGES, _SLOT, _BOARD
    _STAGES = stages
    _BOARD = board
    with counter.get_lock():
        _SLOT = counter.value
        counter.value += 1
    # Ctrl-C goes to the whole process group: the parent handles it and shuts the pool down
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the collector as a process starts with it, whatever the parent had paused when it forked
    # (_run pauses it per batch; between batches it collects what a batch left in cycles)
    gc.enable()


def _run(number: int, items: list[Any]) -> tuple[list[Any], dict[str, float]]:
    """Runs in a worker: batch `number` through harvester.pipeline.compute."""
    from harvester import pipeline

    if _STAGES is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("the worker was not started with the pipeline's stages")
    seconds = dict.fromkeys(("map", "validate", "target", "store"), 0.0)
    board = _BOARD if _BOARD is not None and 0 <= _SLOT < len(_BOARD) // 2 else None
    if board is not None:
        board[2 * _SLOT], board[2 * _SLOT + 1] = os.getpid(), number
    with collector_paused():
        outcomes = pipeline.compute(_STAGES, items, seconds)
    if board is not None:
        board[2 * _SLOT + 1] = 0
    return outcomes, seconds


class WorkerPool:
    """`workers` forked processes that run `pipeline.compute` on batches (a context manager)."""

    def __init__(self, stages: Any, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.workers = workers
        self._stages = stages
        self._names: dict[Future, tuple[int, str]] = {}
        self._numbers: dict[int, str] = {}
        self._count = 0
        self._executor: ProcessPoolExecutor | None = None
        self._board: Any = None

    def start(self) -> None:
        """Fork the workers (done by the first `submit`: a run whose records were all reused
        starts none)."""
        if self._executor is not None:
            return
        # what every worker needs, loaded once here (the workers share it with this process)
        self._stages.load()
        context = multiprocessing.get_context("fork")
        # shared memory the workers inherit: (pid, batch number) per worker while it works on a
        # batch, so that the batch a dead worker had is known (the pool does not say)
        self._board = context.RawArray("q", 2 * self.workers)
        counter = context.Value("i", 0)
        self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_start,
                                             initargs=(self._stages, self._board, counter))
        # Fork every worker now, before the pool starts its own threads, with the objects built
        # so far frozen: the collector of a worker then never walks (and so never copies) the
        # mapping tables and shapes it shares with this process.
        gc.freeze()
        try:
            self._executor.submit(time.monotonic).result()
        except BrokenProcessPool as exc:
            self._executor.shutdown(wait=False, cancel_futures=True)
            raise WorkerError(f"the worker processes could not be started: {exc}") from None
        finally:
            gc.unfreeze()

    def submit(self, items: list[Any], name: str) -> Future:
        """Hand a batch to the pool; `name` says which batch it is in error messages."""
        self.start()
        assert self._executor is not None
        self._count += 1
        try:
            future = self._executor.submit(_run, self._count, items)
        except BrokenProcessPool as exc:
            raise WorkerError(f"{name}: the worker pool is broken ({self._deaths()[1] or exc}); "
                              "no more batches can be handed out") from None
        self._names[future] = (self._count, name)
        self._numbers[self._count] = name
        return future

    def result(self, future: Future) -> tuple[list[Any], dict[str, float]]:
        """The batch's outcomes and the seconds spent per stage; WorkerError when it failed."""
        number, name = self._names.pop(future, (0, "a batch"))
        try:
            result = future.result()
        except BrokenProcessPool:
            dead, how = self._deaths()
            culprit = self._numbers.get(dead, name) if dead else name
            raise WorkerError(
                f"{culprit}: a worker process died while mapping and validating it "
                f"({how or 'terminated abruptly'}); the run stops here, nothing of this batch "
                "or of the batches after it was stored") from None
        except HarvesterError as exc:
            raise WorkerError(f"{name}: {exc}", exit_code=exc.exit_code) from exc
        except Exception as exc:
            raise WorkerError(f"{name}: failed in a worker process: {type(exc).__name__}: {exc}") from exc
        finally:
            self._numbers.pop(number, None)
        return result

    def _deaths(self) -> tuple[int, str]:
        """The batch number a dead worker was working on (0: not known), and how the workers
        that died ended, e.g. "worker 1234 killed by SIGKILL" (best effort)."""
        board = self._board
        doing = {}
        if board is not None:
            doing = {board[2 * i]: board[2 * i + 1] for i in range(self.workers) if board[2 * i + 1]}
        processes = list((getattr(self._executor, "_processes", None) or {}).values())
        # the pool notices a death as the process closes its files, a moment before its exit
        # status can be read: wait for it a little
        deadline = time.monotonic() + 2.0
        while True:
            first, notes = 0, []
            for process in processes:
                code = process.exitcode
                # the pool ends the other workers with SIGTERM once one died: not the cause
                if code is None or code == 0 or code == -signal.SIGTERM:
                    continue
                if code < 0:
                    try:
                        how = f"killed by {signal.Signals(-code).name}"
                    except ValueError:
                        how = f"killed by signal {-code}"
                else:
                    how = f"exit code {code}"
                notes.append(f"worker {process.pid} {how}")
                first = first or doing.get(process.pid, 0)
            if notes or not processes or time.monotonic() > deadline:
                return first, ", ".join(notes)
            time.sleep(0.02)

    def close(self, wait: bool = True) -> None:
        self._names.clear()
        self._numbers.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # after an error (or a consumer that stopped early) do not wait for batches under way
        self.close(wait=kind is None)
