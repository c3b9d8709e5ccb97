"""SCIP through OR-Tools' `pywraplp` (the SCIP that ships inside the ortools wheel).

SCIP runs on one thread here: for more, OR-Tools would switch to SCIP's
concurrent mode (a race of differently tuned solvers, not a parallel tree
search), which this back end does not offer, so a request for more than one
thread is refused. The time limit is wall-clock (`timing/clocktype
= 2` is set explicitly rather than trusting the default, which older SCIPs
had on CPU time). A warm start is passed with `SetHint`; OR-Tools hands it to
SCIP as a stored solution that SCIP checks before presolving ("feasible
solution given by solution candidate storage" in the log).

Loading a large model takes seconds here, so it looks at the deadline; the
solve runs in a worker thread and is stopped with `InterruptSolve` when the
deadline passes or a stop is requested. SCIP's own Ctrl-C handler is switched
off (`misc/catchctrlc`): a signal is this program's to handle, or SCIP would
swallow it and the run would carry on as if nothing had happened.
"""

from __future__ import annotations

import math
import time
from functools import cache

import numpy as np

from ..errors import BackendError
from ..mip.milp import MILP
from ..stopping import Deadline
from .base import (
    Backend,
    SolverResult,
    Status,
    StoppedEarly,
    check_deadline,
    keep_start,
    run_interruptible,
    stdout_to_stderr,
)

SCIP_PARAMETERS = "timing/clocktype = 2\nmisc/catchctrlc = FALSE\nlimits/gap = {gap!r}\n"
SCIP_INFINITY = 1e20
"""SCIP's default `numerics/infinity`: a bound this large means none."""


@cache
def _pywraplp():
    from ortools.linear_solver import pywraplp

    return pywraplp


class ScipBackend(Backend):
    """SCIP: single-threaded; see the module docstring."""

    name = "scip"
    capabilities = frozenset({"warm_start", "fractional_objective", "node_limit"})

    @classmethod
    @cache
    def available(cls) -> bool:
        try:
            return _pywraplp().Solver.CreateSolver("SCIP") is not None
        except ImportError:
            return False

    @classmethod
    @cache
    def version(cls) -> str:
        import ortools

        own = _pywraplp().Solver.CreateSolver("SCIP").SolverVersion()  # "SCIP 10.0.0 [LP ...]"
        return f"{own} (OR-Tools {ortools.__version__})"

    def solve(self, milp: MILP, *, deadline: Deadline | None = None, gap: float = 0.0,
              warm_start: np.ndarray | None = None, threads: int | None = None,
              log: bool = False, node_limit: int | None = None,
              deterministic: bool = False, cutoff=None) -> SolverResult:
        self.one_thread(threads)
        pywraplp = _pywraplp()
        start = time.perf_counter()
        deadline = deadline or Deadline()
        time_limit = deadline.remaining()
        solver = pywraplp.Solver.CreateSolver("SCIP")
        try:
            xs = _load(solver, milp, deadline)
        except StoppedEarly:
            return self.stopped_early(deadline, start, "while the model was loaded into SCIP",
                                      milp, warm_start)
        if log:
            solver.EnableOutput()
        else:
            solver.SuppressOutput()
        if time_limit is not None and not deterministic:  # else InterruptSolve keeps it
            # Whole milliseconds, less the time spent loading; 0 would mean "no limit".
            solver.SetTimeLimit(max(1, math.ceil(deadline.remaining() * 1000)))
        parameters = SCIP_PARAMETERS.format(gap=float(gap))
        if node_limit is not None:
            parameters += f"limits/nodes = {int(node_limit)}\n"
        if not solver.SetSolverSpecificParametersAsString(parameters):
            raise BackendError(f"scip: OR-Tools rejected the parameters {parameters!r}")
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(params.RELATIVE_MIP_GAP, float(gap))
        if warm_start is not None:
            solver.SetHint(xs, np.asarray(warm_start, dtype=float).tolist())

        def run() -> int:
            if not log:
                return solver.Solve(params)
            with stdout_to_stderr():  # SCIP prints its log on stdout
                return solver.Solve(params)

        finished, code = run_interruptible(run, solver.InterruptSolve, deadline)
        if not finished:
            return keep_start(SolverResult(
                Status.NO_SOLUTION, self.name, self.version(), time.perf_counter() - start,
                message="SCIP did not stop within half a second of being interrupted and was left "
                        "to finish in the background"), milp, warm_start)
        S = pywraplp.Solver
        values = obj = bound = None
        if code in (S.OPTIMAL, S.FEASIBLE):
            values = np.array([v.solution_value() for v in xs])
            values[milp.integer] = np.round(values[milp.integer])
            obj = milp.objective(values)
            # OR-Tools has no bound for NOT_SOLVED (BestBound then reads 0.0, which can
            # exceed the optimum), and SCIP's "no bound yet" is ±1e20, its infinity.
            best = solver.Objective().BestBound()
            bound = best + milp.offset if abs(best) < SCIP_INFINITY else None
            if obj is not None and bound is not None:
                bound = min(bound, obj)  # SCIP's dual bound may pass the primal by a tolerance
        # OPTIMAL includes SCIP's gap limit, INFEASIBLE its infeasible-or-unbounded, and
        # NOT_SOLVED after a solve means a time or node limit without a solution.
        status = {S.OPTIMAL: Status.OPTIMAL, S.FEASIBLE: Status.FEASIBLE,
                  S.INFEASIBLE: Status.INFEASIBLE, S.NOT_SOLVED: Status.NO_SOLUTION}.get(code)
        if code == S.ABNORMAL and deadline.expired():
            status = Status.NO_SOLUTION  # what OR-Tools reports for SCIP interrupted early
        nodes = int(solver.nodes()) if status is not None else None
        wall = time.perf_counter() - start
        label = next((n for n in _CODES if getattr(S, n) == code), str(code))
        if deadline.stopped() and status is not Status.OPTIMAL:
            label += f", {deadline.request.reason}"
        if status is None:
            return SolverResult(Status.ERROR, self.name, self.version(), wall, nodes=nodes,
                                message=f"SCIP via OR-Tools: {label}")
        return keep_start(SolverResult(status, self.name, self.version(), wall, obj, bound, nodes,
                                       values, message=f"SCIP via OR-Tools: {label}"),
                          milp, warm_start)


_CODES = ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNBOUNDED", "ABNORMAL", "MODEL_INVALID",
          "NOT_SOLVED")
"""MPSolver result codes, for messages."""


CHECK_EVERY = 10_000
"""Rows or columns loaded between two looks at the deadline."""


def _load(solver, milp: MILP, deadline: Deadline) -> list:
    """Columns, rows and objective into `solver`; returns the variables in column order.
    Raises StoppedEarly when the deadline passes while loading."""
    inf = solver.infinity()
    lo = np.nan_to_num(milp.col_lo, neginf=-inf, posinf=inf).tolist()
    hi = np.nan_to_num(milp.col_hi, neginf=-inf, posinf=inf).tolist()
    xs = []
    for k, (a, b, z) in enumerate(zip(lo, hi, milp.integer.tolist(), strict=True)):
        if k % CHECK_EVERY == 0:
            check_deadline(deadline)
        xs.append(solver.Var(a, b, bool(z), f"x{k}"))
    A = milp.A.tocsr(copy=True)
    A.sum_duplicates()  # SetCoefficient overwrites, it does not add
    rlo = np.nan_to_num(milp.row_lo, neginf=-inf, posinf=inf).tolist()
    rhi = np.nan_to_num(milp.row_hi, neginf=-inf, posinf=inf).tolist()
    indptr, idx, data = A.indptr.tolist(), A.indices.tolist(), A.data.tolist()
    for r in range(A.shape[0]):
        if r % CHECK_EVERY == 0:
            check_deadline(deadline)
        row = solver.RowConstraint(rlo[r], rhi[r], "")
        for p in range(indptr[r], indptr[r + 1]):
            row.SetCoefficient(xs[idx[p]], data[p])
    objective = solver.Objective()
    for n, k in enumerate(np.flatnonzero(milp.c).tolist()):
        if n % CHECK_EVERY == 0:
            check_deadline(deadline)
        objective.SetCoefficient(xs[k], float(milp.c[k]))
    objective.SetMinimization()
    return xs
