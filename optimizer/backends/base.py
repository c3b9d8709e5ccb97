"""The back-end interface: one small base class and one result type (the one status
vocabulary is optimizer/status.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import ClassVar, TypeVar

import numpy as np

from ..errors import BackendError
from ..mip.milp import MILP
from ..status import Status, relative_gap
from ..stopping import Deadline

T = TypeVar("T")

POLL_SECONDS = 0.05
"""How often a waiting thread looks at the deadline and the stop request."""
GRACE_SECONDS = 0.5
"""Seconds an interrupted solver thread gets to stop and hand back what it has; after
that it is abandoned. HiGHS, CP-SAT and SCIP stop within milliseconds of an interrupt
they see; one they do not see in this time (HiGHS in presolve) can take minutes."""


@cache
def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False






@dataclass(frozen=True, eq=False)
class SolverResult:
    """The outcome of one back-end call, filled the same way by every back end."""

    status: Status
    backend: str
    version: str
    wall_time: float
    objective: float | None = None
    bound: float | None = None
    nodes: int | None = None
    values: np.ndarray | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if self.status.has_solution and (self.values is None or self.objective is None):
            raise BackendError(f"{self.backend}: status {self.status} without a solution")
        if self.status is Status.OPTIMAL and self.bound is None:
            object.__setattr__(self, "bound", self.objective)

    @property
    def gap(self) -> float | None:
        return relative_gap(self.objective, self.bound)


CAPABILITIES = frozenset({"warm_start", "fractional_objective", "threads", "node_limit",
                          "lazy_rows", "cutoff"})
"""What a back end may declare: accept a start solution, non-integer objective
coefficients, a thread count, a limit on branch-and-bound nodes, enforce `MILP.lazy`
inside its own search, prune against a cutoff given by the caller (and watched live)."""


class Backend(ABC):
    """A thin translation of `MILP` into one solver. Subclasses declare what they support."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]]
    module: ClassVar[str] = ""
    """The Python module the back end needs; `available` checks it can be found."""

    @classmethod
    def available(cls) -> bool:
        """Whether the solver can run here (cheap; no solve)."""
        return _findable(cls.module)

    @classmethod
    @abstractmethod
    def version(cls) -> str: ...

    @abstractmethod
    def solve(
        self,
        milp: MILP,
        *,
        deadline: Deadline | None = None,
        gap: float = 0.0,
        warm_start: np.ndarray | None = None,
        threads: int | None = None,
        log: bool = False,
        node_limit: int | None = None,
        deterministic: bool = False,
        cutoff: Callable[[], float] | None = None,
    ) -> SolverResult:
        """Minimise `milp` and return what was proven.

        `cutoff()` (with the `cutoff` capability; others ignore it) is the value of a plan
        known elsewhere, which may fall while the solve runs: only plans below it are of
        interest, so the search prunes against it and stops once its bound reaches it.
        A solve that finds nothing below it returns no plan (or the start) with that
        bound, never "infeasible".

        `deadline` (the caller's one clock and stop request; None: no limit) is kept
        to within `GRACE_SECONDS` however the solver checks its clock; a stop
        requested on it (by a signal handler or another thread) ends the solve the
        same way.
        `node_limit` bounds branch-and-bound nodes (a work limit that gives the
        same answer at any speed); `deterministic` asks for a run whose answer
        does not depend on thread timing. The solver log (`log`) goes to stderr.
        """

    def stopped_early(self, deadline: Deadline, since: float, where: str, milp: MILP,
                      warm_start: np.ndarray | None) -> SolverResult:
        """The result of a solve the deadline (or a stop) ended before the solver ran, e.g.
        while the model was loaded: no plan but the start, if one was given."""
        return keep_start(SolverResult(Status.NO_SOLUTION, self.name, self.version(),
                                       time.perf_counter() - since,
                                       message=f"{deadline.why} {where}"), milp, warm_start)

    def one_thread(self, threads: int | None) -> None:
        """Refuse a thread count other than one for a back end that runs on one."""
        if threads is not None and threads != 1:
            self.require("threads", f"use {threads} threads ({self.name} runs on one)")

    def require(self, capability: str, why: str) -> None:
        if capability not in self.capabilities:
            raise BackendError(f"back end {self.name!r} cannot {why} (no '{capability}' support)")


class StoppedEarly(Exception):
    """Raised inside a back end when the deadline passes while it prepares the model."""


def check_deadline(deadline: Deadline) -> None:
    if deadline.expired():
        raise StoppedEarly


def keep_start(res: SolverResult, milp: MILP, warm_start: np.ndarray | None) -> SolverResult:
    """`res`, unless the solver stopped or failed without a plan at least as good as a
    valid start: then the start, as a feasible result (a start is never lost)."""
    if warm_start is None or res.status in (Status.OPTIMAL, Status.INFEASIBLE):
        return res
    x = np.asarray(warm_start, dtype=float)
    if not milp.is_feasible(x):
        return res
    value = milp.objective(x)
    if res.status is Status.FEASIBLE and res.objective <= value + 1e-9 * max(1.0, abs(value)):
        return res
    bound = None if res.bound is None else min(res.bound, value)
    return SolverResult(Status.FEASIBLE, res.backend, res.version, res.wall_time, value, bound,
                        res.nodes, x.copy(), message=f"{res.message}; the start is returned")


ABANDONED: list[threading.Thread] = []
"""Solver threads that did not stop within the grace after an interrupt; each ends at
its solver's next interrupt check (see `run_interruptible`)."""


def run_interruptible(call: Callable[[], T], interrupt: Callable[[], None],
                      deadline: Deadline, *, grace: float | None = None
                      ) -> tuple[bool, T | None]:
    """Run `call()` (a blocking solver call that releases the GIL) in a worker thread
    while this thread watches `deadline`.

    When the deadline passes or a stop is requested, `interrupt()` (the solver's own
    interrupt, which must be harmless to repeat) is called at every poll, so an
    interrupt that came before the solver was ready is not lost. A call that has not
    returned `grace` seconds later is
    abandoned and (False, None) returned, so the caller keeps its time promise even
    when a solver does not look at its flags (HiGHS in presolve, say); it finishes in
    the background. Otherwise (True, result); an exception in `call` is re-raised here,
    and an exception here (a second Ctrl-C) interrupts the call before it propagates.
    """
    grace = GRACE_SECONDS if grace is None else grace
    box: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name="optimizer-solver", daemon=True)
    worker.start()
    interrupted_at: float | None = None
    try:
        while not done.wait(POLL_SECONDS):
            if interrupted_at is None and deadline.expired():
                interrupted_at = time.perf_counter()
            if interrupted_at is not None:
                if time.perf_counter() - interrupted_at > grace:
                    ABANDONED.append(worker)
                    return False, None
                interrupt()
    except BaseException:
        interrupt()
        done.wait(grace)
        raise
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return True, box.get("value")  # type: ignore[return-value]


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send what C code prints on file descriptor 1 to stderr for a while, so a solver's
    log never mixes with the program's output (`--json`)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
