"""Solves side by side in forked processes, for machines with more than one core.

Two uses (optimizer/solve.py): the area counts of a range solved at once, and a race of
back ends or strategies in which the first to prove (optimal or infeasible)
wins and the others are killed. Each task runs in a child made by fork, so
nothing but the result is pickled; HiGHS's global thread pool does not survive
a fork and is reset in the child before anything else runs.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import TypeVar

from ..imports import finish as finish_imports
from ..stopping import Deadline, die_with_parent

T = TypeVar("T")

POLL_SECONDS = 0.05
GRACE_SECONDS = 3.0
"""Seconds a child gets past the deadline to hand back its best plan before it is killed."""
STOP_GRACE_SECONDS = 1.0
"""The same after a stop request (a signal): the command promises to end within 2 s."""


class SharedCutoff:
    """The least value of a plan found by any of the processes that solve the counts of one
    range (shared memory, inherited through the fork): each offers its plans, and each
    prunes against the least (a count that cannot beat it is settled)."""

    def __init__(self) -> None:
        try:
            self._value = mp.get_context("fork").Value("d", float("inf"), lock=True)
        except ValueError:  # no fork here: one process, a plain holder
            self._value = None
            self._plain = float("inf")

    def __call__(self) -> float:
        return self._plain if self._value is None else float(self._value.value)

    def offer(self, value: float) -> None:
        if self._value is None:
            self._plain = min(self._plain, float(value))
            return
        with self._value.get_lock():
            if value < self._value.value:
                self._value.value = float(value)


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _reset_solvers() -> None:
    """Make the child's solvers usable after the fork (HiGHS keeps a global scheduler)."""
    try:
        import highspy
    except ImportError:
        return
    highspy.Highs.resetGlobalScheduler(True)


def _child(conn, task: Callable[[], T], parent: int, deadline: Deadline | None) -> None:
    die_with_parent(parent)
    # Ctrl-C reaches the whole process group: the parent decides, and tells the children
    # with SIGTERM, which only asks this solve to stop and keep its best plan.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    request = deadline.request if deadline is not None else None
    if request is not None:
        request.cooperative = True
        signal.signal(signal.SIGTERM, lambda signum, _frame: request.set(signum))
    _reset_solvers()
    try:
        conn.send(("ok", task()))
    except BaseException as exc:  # handed to the parent, which re-raises it
        try:
            conn.send(("error", exc))
        except Exception:
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


def run_all(tasks: Sequence[Callable[[], T]], *, workers: int,
            done: Callable[[int, T], bool] | None = None,
            deadline: Deadline | None = None) -> list[T | None]:
    """Run every task, at most `workers` at a time, each in a forked child; results in
    task order. `done(i, result)` is called as each finishes; if it returns True, the
    tasks still running or waiting are abandoned (killed) and their results are None.
    An exception in a task is raised here after the other children are killed.

    With a `deadline`, a stop request is passed on to the children (SIGTERM: stop and
    hand back the best plan), tasks not yet started are skipped, and a child still
    running `GRACE_SECONDS` after the deadline or the stop is killed (its result None).
    Children die with this process (PR_SET_PDEATHSIG)."""
    finish_imports()  # no fork while a background thread imports
    if workers <= 1 or len(tasks) <= 1 or "fork" not in mp.get_all_start_methods():
        results: list[T | None] = [None] * len(tasks)
        for i, task in enumerate(tasks):
            results[i] = task()
            if done is not None and done(i, results[i]):
                break
        return results
    ctx = mp.get_context("fork")
    results = [None] * len(tasks)
    waiting = list(range(len(tasks)))
    running: dict[object, tuple[int, mp.Process]] = {}
    told: float | None = None  # when the children were told to stop
    try:
        while waiting or running:
            ending = deadline is not None and deadline.expired()
            if ending:
                waiting.clear()
                if deadline.stopped() and told is None:
                    for _, proc in running.values():
                        os.kill(proc.pid, signal.SIGTERM)
                told = told or time.perf_counter()
                grace = STOP_GRACE_SECONDS if deadline.stopped() else GRACE_SECONDS
                if time.perf_counter() - told > grace:
                    return results  # the finally block kills the rest
            while waiting and len(running) < workers:
                i = waiting.pop(0)
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(child, tasks[i], os.getpid(), deadline),
                                   daemon=True)
                proc.start()
                child.close()
                running[parent] = (i, proc)
            for conn in wait(list(running), timeout=POLL_SECONDS):
                i, proc = running.pop(conn)
                try:
                    kind, value = conn.recv()
                except EOFError:
                    kind, value = "error", RuntimeError(
                        f"a parallel solve ended without a result (exit code {proc.exitcode})")
                conn.close()
                proc.join()
                if kind == "error":
                    raise value
                results[i] = value
                if done is not None and done(i, value):
                    return results
        return results
    finally:
        for conn, (_, proc) in running.items():
            proc.kill()
            proc.join()
            conn.close()
