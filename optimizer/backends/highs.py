"""HiGHS through highspy: the model is passed as arrays, no file in between."""

from __future__ import annotations

import os
import sys
import time
from functools import cache

import numpy as np

from ..milp import MILP
from .base import Backend, SolverResult, Status


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
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous
        for k in milp.integer
    ]
    return lp


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
    capabilities = frozenset({"warm_start", "fractional_objective", "threads"})

    @classmethod
    @cache
    def version(cls) -> str:
        return f"HiGHS {new_highs().version()}"

    def solve(self, milp, *, time_limit=None, gap=0.0, warm_start=None, threads=None, log=False):
        import highspy

        start = time.perf_counter()
        h = new_highs()
        h.setOptionValue("output_flag", bool(log))
        h.setOptionValue("mip_rel_gap", float(gap))
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
        if threads is not None:
            h.setOptionValue("threads", int(threads))
        h.passModel(highs_lp(milp))
        cutoff = None
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
            cutoff = start_value + CUTOFF_SLACK * max(1.0, abs(start_value))
            h.setOptionValue("objective_bound", cutoff)
        h.run()
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
        if cutoff is not None:
            start_obj = start_value + milp.offset
            if status is Status.INFEASIBLE:  # nothing at or below the cutoff but the start
                status, bound, message = Status.OPTIMAL, start_obj, \
                    f"{message}: no plan better than the start"
            if obj is None or obj > start_obj:
                if status is Status.NO_SOLUTION:
                    status = Status.FEASIBLE
                obj, values = start_obj, x0.copy()
            if bound is not None:
                bound = min(bound, obj)
        return SolverResult(status, self.name, self.version(), wall, obj, bound, nodes, values,
                            message=message)


class HighsRelaxation:
    """The LP relaxation of a MILP kept in one HiGHS object, so rows can be added and the
    LP re-solved from the last basis (the root cut loop of fixing.py)."""

    def __init__(self, milp: MILP, *, threads: int | None = None):
        self.h = new_highs()
        if threads is not None:
            self.h.setOptionValue("threads", int(threads))
        self.h.passModel(highs_lp(milp.relaxation()))
        self.num_cols = milp.num_cols

    def set_time_limit(self, seconds: float | None) -> None:
        import highspy

        self.h.setOptionValue("time_limit", highspy.kHighsInf if seconds is None
                              else max(float(seconds), 1e-3))

    def solve(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(primal x, row duals y) of an optimal LP, or None (infeasible, limit)."""
        import highspy

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
