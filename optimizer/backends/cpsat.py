"""CP-SAT, the OR-Tools constraint-programming solver, fed the MILP as integer linear constraints.

CP-SAT knows only integer variables and integer coefficients, so the translation
is exact where it can be and says so where it cannot:

* each row is multiplied by the smallest of 1, 2, 3, 4, 6, 8, 12, 24 times a
  power of ten up to 10^6 that makes its coefficients integral (monthly means
  such as 1234.25 or 953/12 need 4 or 12); the bounds are then rounded inwards,
  which is exact because the row's activity is an integer. A row no multiplier
  fixes is refused;
* the objective is multiplied by a power of ten (the smallest that makes it
  integral, else the one that puts the largest coefficient between 10^9 and
  10^10) and rounded. The reported objective is recomputed exactly from the solution, and
  the reported bound is CP-SAT's bound minus the most the rounding can have
  gained on any point of the bounding box, so it stays a valid lower bound;
* continuous columns are accepted only when `MILP.implied_integer` says that
  restricting them to integers loses no optimum; any other is refused;
* infinite column bounds are replaced by finite ones derived from the rows
  (valid for every feasible point) or, for a column whose cost pushes it
  towards its finite side, by the value beyond which it cannot help any row
  (which keeps an optimal solution); a column with neither is refused.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.sparse as sp

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
)

ROW_MULTIPLIERS = tuple(sorted({m * 10**e for m in (1, 2, 3, 4, 6, 8, 12, 24) for e in range(7)}))
"""Candidate row multipliers, smallest first (1/3, 1/4, 1/12 and decimals up to 10^-6)."""
INTEGRAL_TOL = 1e-9
"""Relative tolerance (to max(1, |v|)) within which a scaled value counts as an integer."""
OBJECTIVE_TARGET = 1e10
"""The rounded objective's largest coefficient is brought just below this size. 1e10
rather than 1e9: on North Ostrobothnia it cuts the bound's rounding slack from 0.85 to
0.08 (5e-7 to 5e-8 of the optimum, against the 1e-6 accepted as optimal) at no measured
cost in speed; activities stay far below 2^53."""
MAX_MAGNITUDE = 2.0**53
"""Largest integer magnitude accepted anywhere (exact in float64, far below int64 overflow)."""
OPTIMAL_TOL = 1e-6
"""Relative slack when checking the corrected bound (the convention of `solve.OBJECTIVE_TOL`)."""
CHECK_EVERY = 10_000
"""Rows or columns written between two looks at the deadline."""
DEFAULT_WORKERS = 8
"""Workers when no thread count is given. Even on 2 cores, 8 workers (CP-SAT's fuller
portfolio: LNS, core and bound-search workers) proved North Ostrobothnia (5 areas) in
14-23 s against 33 s with 1 worker, 70 s with 2 and 115 s with 4."""


@dataclass(frozen=True, eq=False)
class Translation:
    """The integer model handed to CP-SAT and what is needed to read its answer back."""

    model: object  # cp_model.CpModel
    col_lo: np.ndarray
    col_hi: np.ndarray
    scale: float
    bound_slack: float
    notes: tuple[str, ...]
    infeasible: str | None = None
    """Why no integer point can exist, when rounding alone shows it (CP-SAT would call the
    crossed domain an invalid model)."""


def _integral(v: np.ndarray) -> np.ndarray:
    return np.abs(v - np.round(v)) <= INTEGRAL_TOL * np.maximum(1.0, np.abs(v))


def scale_rows(milp: MILP) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """Integer rows: (matrix, lower, upper, multiplier); infinite bounds stay infinite.

    Raises BackendError naming the first row that no multiplier makes integral.
    """
    A = milp.A.tocsr(copy=True)
    A.sum_duplicates()
    m = A.shape[0]
    row_of = np.repeat(np.arange(m), np.diff(A.indptr))
    mult = np.zeros(m)
    pending = np.ones(m, dtype=bool)
    for k in ROW_MULTIPLIERS:
        bad = np.bincount(row_of[~_integral(A.data * k)], minlength=m) > 0
        mult[pending & ~bad] = k
        pending &= bad
        if not pending.any():
            break
    if pending.any():
        r = int(np.flatnonzero(pending)[0])
        vals = A.data[A.indptr[r]: A.indptr[r + 1]]
        odd = vals[~_integral(vals * ROW_MULTIPLIERS[-1])][:3]
        raise BackendError(
            f"cpsat: row {r} has coefficients such as {', '.join(f'{v:.12g}' for v in odd)} "
            f"that no multiplier up to {ROW_MULTIPLIERS[-1]:,} makes integral "
            f"({int(pending.sum())} such rows); use highs, cbc or scip")
    data = np.round(A.data * mult[row_of])
    lo = milp.row_lo * mult
    hi = milp.row_hi * mult
    lo = np.where(np.isfinite(lo), np.ceil(lo - INTEGRAL_TOL * np.maximum(1.0, np.abs(lo))), lo)
    hi = np.where(np.isfinite(hi), np.floor(hi + INTEGRAL_TOL * np.maximum(1.0, np.abs(hi))), hi)
    scaled = sp.csr_matrix((data, A.indices, A.indptr), shape=A.shape)
    return scaled, lo, hi, mult


def _rest_range(A: sp.csr_matrix, r: int, k: int, lo: np.ndarray, hi: np.ndarray):
    """Least and greatest value of row r's activity without column k over the box [lo, hi]."""
    cols = A.indices[A.indptr[r]: A.indptr[r + 1]]
    vals = A.data[A.indptr[r]: A.indptr[r + 1]]
    keep = cols != k
    cols, vals = cols[keep], vals[keep]
    with np.errstate(invalid="ignore"):
        a, b = vals * lo[cols], vals * hi[cols]
    a = np.where(vals == 0, 0.0, a)
    b = np.where(vals == 0, 0.0, b)
    return float(np.minimum(a, b).sum()), float(np.maximum(a, b).sum())



def _needed(milp: MILP, A, k: int, lo: np.ndarray, hi: np.ndarray, rows, up: bool) -> float:
    """How far x_k must go (up: the least value, else the largest) for every row that
    moving it could help to hold; no optimum needs it further, its cost pushing back."""
    need = lo[k] if up else hi[k]
    for r, a in rows:
        if a == 0:
            continue
        rmin, rmax = _rest_range(A, r, k, lo, hi)
        if (a > 0) == up and np.isfinite(milp.row_lo[r]):  # raising a·x_k helps the row's floor
            need = _worst(need, (milp.row_lo[r] - rmin) / a, max if up else min)
        elif (a > 0) != up and np.isfinite(milp.row_hi[r]):
            need = _worst(need, (milp.row_hi[r] - rmax) / a, max if up else min)
    return need

def _worst(need: float, value: float, pick) -> float:
    """`pick(need, value)`, but an unknown (NaN) value makes the result unbounded."""
    if math.isnan(value):
        return math.inf if pick is max else -math.inf
    return pick(need, value)


def finite_bounds(milp: MILP) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Finite column bounds for CP-SAT, with a note per derived bound.

    First, bounds implied by the rows (valid for every feasible point), to a
    fixed point. Then, for a column still unbounded above whose cost is ≥ 0
    (below: ≤ 0), the least value that satisfies every row it helps whatever the
    other columns are: moving the column there from beyond keeps every row and
    does not raise the cost, so an optimal solution survives (staff counts
    priced per FTE are bounded this way). Raises BackendError if one remains.
    Columns are integral here, so derived bounds are rounded.
    """
    lo = milp.col_lo.astype(float).copy()
    hi = milp.col_hi.astype(float).copy()
    if np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
        return lo, hi, []
    A = milp.A.tocsr()
    csc = milp.A.tocsc()
    notes: list[str] = []

    def rows_of(k: int):
        s = slice(csc.indptr[k], csc.indptr[k + 1])
        return zip(csc.indices[s].tolist(), csc.data[s].tolist(), strict=True)

    for _ in range(3):
        changed = False
        for k in np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi))):
            for r, a in rows_of(k):
                if a == 0:
                    continue
                rmin, rmax = _rest_range(A, r, k, lo, hi)
                rlo, rhi = milp.row_lo[r], milp.row_hi[r]
                # a·x ∈ [rlo − rmax, rhi − rmin]
                top, bottom = rhi - rmin, rlo - rmax
                ub, lb = (top / a, bottom / a) if a > 0 else (bottom / a, top / a)
                if np.isfinite(ub) and ub < hi[k]:
                    hi[k], changed = math.floor(ub + INTEGRAL_TOL * max(1.0, abs(ub))), True
                if np.isfinite(lb) and lb > lo[k]:
                    lo[k], changed = math.ceil(lb - INTEGRAL_TOL * max(1.0, abs(lb))), True
        if not changed:
            break
    for up in (True, False):  # an unbounded column its cost pushes away from infinity
        for k in np.flatnonzero(~np.isfinite(hi if up else lo)):
            if (milp.c[k] < 0 if up else milp.c[k] > 0) or not np.isfinite(lo[k] if up
                                                                             else hi[k]):
                continue
            need = _needed(milp, A, k, lo, hi, rows_of(k), up)
            if not np.isfinite(need):
                continue
            if up:
                hi[k] = math.ceil(need - INTEGRAL_TOL * max(1.0, abs(need)))
                notes.append(f"column {k} ≤ {hi[k]:g} (cost ≥ 0; no row needs more)")
            else:
                lo[k] = math.floor(need + INTEGRAL_TOL * max(1.0, abs(need)))
                notes.append(f"column {k} ≥ {lo[k]:g} (cost ≤ 0; no row needs less)")
    open_ = np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi)))
    if len(open_):
        k = int(open_[0])
        raise BackendError(
            f"cpsat: column {k} has bounds [{milp.col_lo[k]:g}, {milp.col_hi[k]:g}] and no finite "
            f"bound follows from the rows ({len(open_)} such columns); CP-SAT needs finite domains")
    return lo, hi, notes


def scale_objective(c: np.ndarray) -> tuple[float, np.ndarray, bool]:
    """(scale, rounded integer coefficients, exact?) for the objective c·scale."""
    big = float(np.max(np.abs(c))) if len(c) else 0.0
    if big == 0.0:
        return 1.0, np.zeros(len(c)), True
    top = math.floor(math.log10(OBJECTIVE_TARGET / big))
    for e in range(min(0, top), top + 1):
        if np.all(_integral(c * 10.0**e)):
            return 10.0**e, np.round(c * 10.0**e), True
    return 10.0**top, np.round(c * 10.0**top), False


def translate(milp: MILP, deadline: Deadline | None = None) -> Translation:
    """The CP-SAT model of `milp`; BackendError when it has no faithful integer form.

    Raises StoppedEarly when `deadline` passes while the rows are written (a large
    model takes seconds here)."""
    deadline = deadline or Deadline()
    from ortools.sat.python import cp_model

    cont = np.flatnonzero(~milp.integer & ~milp.implied_integer)
    if len(cont):
        raise BackendError(
            f"cpsat: column {int(cont[0])} is continuous and not marked implied integer "
            f"({len(cont)} such columns); CP-SAT solves integer programs only "
            "(use highs, cbc or scip)")
    A, row_lo, row_hi, mult = scale_rows(milp)
    col_lo, col_hi, notes = finite_bounds(milp)
    col_lo, col_hi = np.ceil(col_lo - 1e-9), np.floor(col_hi + 1e-9)  # integral domains
    scale, cost, exact = scale_objective(np.asarray(milp.c, dtype=float))
    err = cost / scale - milp.c  # the rounded objective overstates c·x by err·x
    slack = float(np.maximum(err * col_lo, err * col_hi).sum())  # max of err·x on the box
    finite = np.concatenate([row_lo[np.isfinite(row_lo)], row_hi[np.isfinite(row_hi)]])
    ends = np.abs(np.concatenate([col_lo, col_hi, cost, A.data, finite]))
    if ends.size and ends.max() > MAX_MAGNITUDE:
        raise BackendError(f"cpsat: a bound or coefficient exceeds 2^53 after scaling "
                           f"({ends.max():.3g}); CP-SAT's integers would overflow")

    model = cp_model.CpModel()
    crossed = np.flatnonzero(row_lo > row_hi)
    if len(crossed) or np.any(col_lo > col_hi):
        what = (f"row {int(crossed[0])}" if len(crossed)
                else f"column {int(np.flatnonzero(col_lo > col_hi)[0])}")
        return Translation(model, col_lo, col_hi, scale, slack, tuple(notes),
                           infeasible=f"{what} admits no integer value")
    proto = model.proto
    for k, (a, b) in enumerate(zip(col_lo.astype(np.int64).tolist(),
                                   col_hi.astype(np.int64).tolist(), strict=True)):
        if k % CHECK_EVERY == 0:
            check_deadline(deadline)
        proto.variables.add().domain.extend([a, b])
    lo_i = [int(v) if math.isfinite(v) else cp_model.INT_MIN for v in row_lo.tolist()]
    hi_i = [int(v) if math.isfinite(v) else cp_model.INT_MAX for v in row_hi.tolist()]
    data = A.data.astype(np.int64)
    for r in range(A.shape[0]):
        if r % CHECK_EVERY == 0:
            check_deadline(deadline)
        s = slice(A.indptr[r], A.indptr[r + 1])
        lin = proto.constraints.add().linear
        lin.vars.extend(A.indices[s].tolist())
        lin.coeffs.extend(data[s].tolist())
        lin.domain.extend([lo_i[r], hi_i[r]])
    nz = np.flatnonzero(cost)
    proto.objective.vars.extend(nz.tolist())
    proto.objective.coeffs.extend(cost[nz].astype(np.int64).tolist())

    scaled_rows = int(np.sum(mult > 1))
    if scaled_rows:
        notes.insert(0, f"{scaled_rows} rows scaled to integers (multipliers up to "
                        f"{mult.max():g})")
    power = round(math.log10(scale))
    notes.insert(0, f"objective ×10^{power} " + (
        "(exact)" if exact else f"rounded, bound lowered by {slack:.3g} for the rounding"))
    return Translation(model, col_lo, col_hi, scale, slack, tuple(notes))


class CpSatBackend(Backend):
    """CP-SAT: integer programs only; see the module docstring for the translation."""

    name = "cpsat"
    module = "ortools.sat.python.cp_model"
    capabilities = frozenset({"warm_start", "threads"})

    @classmethod
    @cache
    def version(cls) -> str:
        import ortools

        return f"CP-SAT (OR-Tools {ortools.__version__})"

    def solve(self, milp: MILP, *, deadline: Deadline | None = None, gap: float = 0.0,
              warm_start: np.ndarray | None = None, threads: int | None = None,
              log: bool = False, node_limit: int | None = None,
              deterministic: bool = False, cutoff=None) -> SolverResult:
        """Minimise `milp` with CP-SAT (see `Backend.solve`).

        (long: one solver call read top to bottom: options, the translated model, the hint,
        the interruptible call, the answer mapped to the shared result)
        """
        from ortools.sat.python import cp_model

        if node_limit is not None:
            self.require("node_limit", "stop after a number of branch-and-bound nodes")
        start = time.perf_counter()
        deadline = deadline or Deadline()
        time_limit = deadline.remaining()
        try:
            t = translate(milp, deadline)
        except StoppedEarly:
            return self.stopped_early(deadline, start, "while the model was translated for "
                                      "CP-SAT", milp, warm_start)
        if t.infeasible is not None:
            return SolverResult(Status.INFEASIBLE, self.name, self.version(),
                                time.perf_counter() - start, message=t.infeasible)
        hint_ok = warm_start is not None and milp.is_feasible(np.asarray(warm_start, float))
        if warm_start is not None:
            x0 = np.clip(np.round(np.asarray(warm_start, dtype=float)), t.col_lo, t.col_hi)
            t.model.proto.solution_hint.vars.extend(range(milp.num_cols))
            t.model.proto.solution_hint.values.extend(x0.astype(np.int64).tolist())
        solver = cp_model.CpSolver()
        p = solver.parameters
        # Deterministic runs leave the clock to the watchdog: CP-SAT plans its search by
        # its time limit, so giving it one changes the search.
        if time_limit is not None and not deterministic:  # less the translation's time
            p.max_time_in_seconds = max(deadline.remaining(), 1e-3)
        p.relative_gap_limit = float(gap)
        p.num_workers = int(threads) if threads else DEFAULT_WORKERS
        if deterministic:
            # The workers' portfolio, interleaved in fixed batches: the same search
            # whatever the machine's load (CP-SAT's own deterministic mode).
            p.interleave_search = True
        p.log_search_progress = bool(log)
        p.catch_sigint_signal = False  # Ctrl-C is this program's to handle (StopRequest)
        if log:
            p.log_to_stdout = False
            solver.log_callback = lambda line: print(line, file=sys.stderr, flush=True)
        finished, code = run_interruptible(lambda: solver.solve(t.model), solver.stop_search,
                                           deadline)
        if not finished:
            return keep_start(SolverResult(
                Status.NO_SOLUTION, self.name, self.version(), time.perf_counter() - start,
                message="CP-SAT did not stop within half a second of being interrupted and was "
                        "left to finish in the background"), milp, warm_start)
        notes = list(t.notes)

        if deadline.stopped() and code != cp_model.OPTIMAL:
            notes.insert(0, deadline.request.reason)

        def result(status: Status, obj: float | None = None, bound: float | None = None,
                   values: np.ndarray | None = None, extra: tuple[str, ...] = ()) -> SolverResult:
            msg = "; ".join([f"CP-SAT {solver.status_name(code)}", *extra, *notes])
            return SolverResult(status, self.name, self.version(), time.perf_counter() - start,
                                obj, bound, int(solver.num_branches), values, msg)

        if code == cp_model.MODEL_INVALID:
            return result(Status.ERROR, extra=(f"invalid model: {t.model.validate()}",))
        if code == cp_model.INFEASIBLE:
            if hint_ok:
                return result(Status.ERROR, extra=("internal error: the warm start is feasible",))
            return result(Status.INFEASIBLE)
        values = obj = None
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = np.asarray(solver.response_proto.solution, dtype=float)
            obj = milp.objective(values)
        if hint_ok:
            # A time limit during presolve can lose even a feasible hint (or-tools #3750).
            x0 = np.asarray(warm_start, dtype=float)
            if obj is None or milp.objective(x0) < obj:
                notes.insert(0, "returned the warm start (CP-SAT had no better solution)")
                values, obj = x0.copy(), milp.objective(x0)
        raw = float(solver.best_objective_bound)
        # Stopped before presolve ends, CP-SAT leaves objective and bound at their proto
        # default 0, which is no bound at all (it can exceed the optimum).
        unfilled = code == cp_model.UNKNOWN and raw == 0.0 and solver.objective_value == 0.0
        bound = (raw / t.scale - t.bound_slack + milp.offset
                 if math.isfinite(raw) and not unfilled else None)
        if obj is not None and bound is not None:
            bound = min(bound, obj)
        if values is None:
            return result(Status.NO_SOLUTION, bound=bound)
        if code == cp_model.OPTIMAL:
            slack = max(gap * abs(obj), OPTIMAL_TOL * max(1.0, abs(obj)))
            if bound is not None and bound >= obj - slack:
                return result(Status.OPTIMAL, obj, bound, values)
            notes.insert(0, "optimal for the rounded objective, but the rounding leaves a gap "
                            "above the limit")
        return result(Status.FEASIBLE, obj, bound, values)
