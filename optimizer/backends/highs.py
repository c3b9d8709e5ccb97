"""HiGHS through highspy: the model is passed as arrays, no file in between.

HiGHS looks at its time limit only now and then (a large model's presolve
can run a minute past it), so the solve runs in a worker thread: HiGHS's
interrupt callbacks stop it as soon as the deadline passes or a stop is
requested, and a HiGHS that is still in presolve a grace second later is
left to finish in the background (it stops at its first callback) while the
caller goes on with the start it has.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from functools import cache

import numpy as np

from ..mip.milp import MILP
from ..status import Status
from ..stopping import Deadline
from .base import Backend, SolverResult, keep_start, run_interruptible


def highs_lp(milp: MILP):
    """The MILP as a `highspy.HighsLp` (column-wise matrix, infinite bounds as kHighsInf)."""
    import highspy

    inf = highspy.kHighsInf
    csc = milp.A.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = milp.num_cols
    lp.num_row_ = milp.num_rows
    lp.col_cost_ = np.asarray(milp.c, dtype=float)
    lp.col_lower_ = np.nan_to_num(milp.col_lo, neginf=-inf, posinf=inf)
    lp.col_upper_ = np.nan_to_num(milp.col_hi, neginf=-inf, posinf=inf)
    lp.row_lower_ = np.nan_to_num(milp.row_lo, neginf=-inf, posinf=inf)
    lp.row_upper_ = np.nan_to_num(milp.row_hi, neginf=-inf, posinf=inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    kinds = [highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger]
    lp.integrality_ = [kinds[k] for k in np.asarray(milp.integer, dtype=bool).tolist()]
    return lp


PRESOLVE_RULE_OFF = 1 << 16
"""HiGHS 1.16 presolve rules switched off (`presolve_rule_off`): with rule 16 on, the
4-area North Ostrobothnia model with the pairs fixed by reduced cost and by the
Lagrangian bound was "solved optimal" at 1,749,404 although a plan of 1,604,959 is feasible
in it (with presolve off, or this one rule off, HiGHS finds the right answer)."""
CUTOFF_SLACK = 1e-9
"""Relative slack above a start's value for HiGHS's cutoff (`objective_bound`)."""
WARM_START_OPTIONS = {
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_allow_restart": False,
}


@cache
def _silence_banner() -> None:
    """HiGHS prints a banner to fd 1 when the first `Highs` is made; keep stdout clean."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs():
    import highspy

    _silence_banner()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


class HighsBackend(Backend):
    name = "highs"
    module = "highspy"
    capabilities = frozenset({"warm_start", "fractional_objective", "threads", "node_limit",
                              "cutoff"})

    @classmethod
    @cache
    def version(cls) -> str:
        return f"HiGHS {new_highs().version()}"

    def solve(self, milp, *, deadline=None, gap=0.0, warm_start=None, threads=None, log=False,
              node_limit=None, deterministic=False, cutoff=None):
        """Minimise `milp` with HiGHS (see `Backend.solve`).

        (long: one solver call read top to bottom: options, the model, the start as a
        cutoff, the interruptible call, the answer mapped to the shared result)
        """
        import highspy

        start = time.perf_counter()
        deadline = deadline or Deadline()
        time_limit = deadline.remaining()
        h = new_highs()
        if log:
            # The log goes to stderr through HiGHS's logging callback, never to stdout.
            h.setOptionValue("log_to_console", False)
            h.cbLogging += lambda e: print(e.message, end="", file=sys.stderr, flush=True)
        h.setOptionValue("output_flag", bool(log))
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("presolve_rule_off", PRESOLVE_RULE_OFF)
        if time_limit is not None and not deterministic:  # else the callbacks keep it
            h.setOptionValue("time_limit", max(float(time_limit), 1e-3))
        if threads is not None:
            h.setOptionValue("threads", int(threads))
        if node_limit is not None:
            h.setOptionValue("mip_max_nodes", int(node_limit))
        h.passModel(highs_lp(milp))
        outside = _finite(cutoff)  # a plan known elsewhere (objective with the offset)
        limit = None if outside is None else outside - milp.offset
        start_value = None
        if warm_start is not None:
            # A good incumbent is given: spend the effort on the bound, not on
            # HiGHS's own sub-MIP heuristics and restarts (several times faster
            # on the floor-constrained models measured in benchmarks/). It is passed
            # as a cutoff, not with setSolution: HiGHS 1.16 can read a start in the
            # presolved space without the presolve's objective offset and then
            # declare it optimal (found on a model with many columns fixed).
            for option, value in WARM_START_OPTIONS.items():
                h.setOptionValue(option, value)
            x0 = np.asarray(warm_start, dtype=float)
            start_value = float(milp.c @ x0)
        bounds = [v + CUTOFF_SLACK * max(1.0, abs(v)) for v in (start_value, limit)
                  if v is not None]
        if bounds:
            h.setOptionValue("objective_bound", min(bounds))

        halt = threading.Event()  # set by run_interruptible when this thread is interrupted
        reached: list[float] = []  # the search's bound when it reached the cutoff

        def check(event) -> None:
            if halt.is_set() or deadline.expired():
                event.interrupt()

        def check_mip(event) -> None:
            check(event)
            if cutoff is not None:
                now = _finite(cutoff)
                dual = float(event.data_out.mip_dual_bound) + milp.offset
                if now is not None and dual >= now - CUTOFF_SLACK * max(1.0, abs(now)):
                    reached.append(dual)
                    event.interrupt()

        h.cbSimplexInterrupt += check
        h.cbIpmInterrupt += check
        h.cbMipInterrupt += check_mip
        finished, _ = run_interruptible(h.run, halt.set, deadline)
        if not finished:
            why = deadline.request.reason if deadline.stopped() else "its time limit"
            return keep_start(SolverResult(
                Status.NO_SOLUTION, self.name, self.version(), time.perf_counter() - start,
                message=f"HiGHS did not stop within half a second of {why} (it was presolving) "
                        "and was left to finish in the background"), milp, warm_start)
        wall = time.perf_counter() - start
        ms = h.getModelStatus()
        info = h.getInfo()
        MS = highspy.HighsModelStatus
        has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
        values = np.array(h.getSolution().col_value) if has_sol else None
        obj = float(info.objective_function_value) + milp.offset if has_sol else None
        dual = float(info.mip_dual_bound)
        bound = dual + milp.offset if np.isfinite(dual) else None
        nodes = int(info.mip_node_count)
        message = h.modelStatusToString(ms)
        if ms == MS.kOptimal:
            status = Status.OPTIMAL
        elif ms in (MS.kInfeasible, MS.kObjectiveBound):
            status = Status.INFEASIBLE
        elif ms in (MS.kTimeLimit, MS.kInterrupt, MS.kIterationLimit, MS.kSolutionLimit):
            status = Status.FEASIBLE if has_sol else Status.NO_SOLUTION
        else:
            return SolverResult(Status.ERROR, self.name, self.version(), wall,
                                message=f"HiGHS model status {message}")
        if status is not Status.OPTIMAL and status is not Status.FEASIBLE:
            values = obj = None
        if ms == MS.kInterrupt and deadline.stopped():
            message = deadline.request.reason
        start_obj = None if start_value is None else start_value + milp.offset
        known = [v for v in (start_obj, outside) if v is not None]
        if known:
            # Nodes were pruned against min(start, cutoff): nothing there goes below it, so
            # the bound is at most that value unless HiGHS closed the gap itself.
            best_known = min(known)
            above = obj is not None and obj > best_known + CUTOFF_SLACK * max(1.0,
                                                                               abs(best_known))
            if status is Status.INFEASIBLE or (status is Status.OPTIMAL and above):
                # "optimal" above the limit means only that nothing lies below it
                status = Status.FEASIBLE if obj is not None else Status.NO_SOLUTION
                bound = best_known
                message = f"{message}: no plan below the " + (
                    "start" if start_obj is not None and start_obj <= best_known else "cutoff")
            elif status is not Status.OPTIMAL:
                if reached:  # HiGHS may not report the bound it had when interrupted
                    bound = max(reached[-1], -np.inf if bound is None else bound)
                    message = f"{message}: the bound reached the cutoff"
                bound = None if bound is None else min(bound, best_known)
            if start_obj is not None and (obj is None or obj > start_obj):
                obj, values = start_obj, x0.copy()
                if status is Status.NO_SOLUTION:
                    status = Status.FEASIBLE
            if obj is not None and bound is not None and status is not Status.OPTIMAL \
                    and bound >= obj - 1e-9 * max(1.0, abs(obj)):
                status = Status.OPTIMAL  # nothing below the plan: it is optimal
            if bound is not None and obj is not None:
                bound = min(bound, obj)
        return SolverResult(status, self.name, self.version(), wall, obj, bound, nodes, values,
                            message=message)


def _finite(cutoff) -> float | None:
    """The cutoff's current value, None when there is none (or it is still infinite)."""
    if cutoff is None:
        return None
    value = float(cutoff())
    return value if np.isfinite(value) else None


class HighsRelaxation:
    """The LP relaxation of a MILP kept in one HiGHS object, so rows can be added and the
    LP re-solved from the last basis (the root cut loop of search/fixing.py). Each solve is
    stopped by HiGHS's interrupt callback at the deadline or on a stop request."""

    def __init__(self, milp: MILP, *, threads: int | None = None,
                 deadline: Deadline | None = None):
        self.h = new_highs()
        if threads is not None:
            self.h.setOptionValue("threads", int(threads))
        self.h.passModel(highs_lp(milp.relaxation()))
        self.num_cols = milp.num_cols
        self.deadline = deadline or Deadline()

        def check(event) -> None:
            if self.deadline.expired():
                event.interrupt()

        self.h.cbSimplexInterrupt += check
        self.h.cbIpmInterrupt += check

    def set_time_limit(self, seconds: float | None) -> None:
        import highspy

        self.h.setOptionValue("time_limit", highspy.kHighsInf if seconds is None
                              else max(float(seconds), 1e-3))

    def solve(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(primal x, row duals y) of an optimal LP, or None (infeasible, limit, stop)."""
        import highspy

        if self.deadline.expired():
            return None
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = self.h.getSolution()
        return np.array(sol.col_value), np.array(sol.row_dual)

    def add_rows(self, rows) -> None:
        import highspy

        inf = highspy.kHighsInf
        A = rows.matrix(self.num_cols).tocsr()
        A.sum_duplicates()
        self.h.addRows(A.shape[0], np.nan_to_num(rows.lo, neginf=-inf, posinf=inf),
                       np.nan_to_num(rows.hi, neginf=-inf, posinf=inf), A.nnz,
                       A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32),
                       A.data.astype(float))
