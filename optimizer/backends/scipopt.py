"""SCIP through PySCIPOpt, with the MILP's lazy rows separated inside one search tree.

This is the back end that gives contiguity a true branch-and-cut: a constraint
handler checks every candidate solution against `MILP.lazy`, enforces it at
integral LP solutions (violated rows become cuts, or the node is cut off) and
separates violated rows at fractional LP solutions, so the rows grow inside one
tree instead of one re-solve per round. The handler sees only numpy vectors and
`RowBlock`s: it knows nothing about contiguity.

SCIP runs on one thread. The time limit is wall-clock (`timing/clocktype = 2`);
an event handler looks at the deadline and the stop request at every node and
LP and interrupts the solve (SCIP's own Ctrl-C handler is off: a signal is this
program's to handle).
Symmetry handling and the components presolver are switched off: both reason
about the explicit rows only, and the lazy rows may break what they assume.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from functools import cache

import numpy as np

from ..mip.milp import MILP, RowBlock
from ..stopping import Deadline
from .base import (
    Backend,
    SolverResult,
    Status,
    StoppedEarly,
    check_deadline,
    keep_start,
    stdout_to_stderr,
)

SCIP_INFINITY = 1e20
"""SCIP's default `numerics/infinity`."""
PARAMETERS = {
    "timing/clocktype": 2,
    "misc/catchctrlc": False,
    "misc/usesymmetry": 0,
    "constraints/components/maxprerounds": 0,
    "constraints/components/propfreq": -1,
}
SEPARATE_EVERY = 0
"""SCIP's separation frequency for the lazy rows at fractional points: 0 = at the root
only (faster than every node on the US instances measured; integral points are always
enforced)."""
SEPARATE_ROWS = 200
"""Most lazy rows added per separation call at a fractional point."""


@cache
def _module():
    import pyscipopt

    return pyscipopt


def _watch(pyscipopt, deadline: Deadline, cutoff=None, offset: float = 0.0, reached=None):
    """An event handler that interrupts SCIP once `deadline` passes or a stop is requested
    (checked at every solved node and LP, where Python also runs the signal handlers), or
    once its dual bound reaches `cutoff()` (a plan known elsewhere; `reached` is set)."""
    E = pyscipopt.SCIP_EVENTTYPE

    class Watch(pyscipopt.Eventhdlr):
        def eventinit(self):
            for kind in (E.NODESOLVED, E.LPSOLVED):
                self.model.catchEvent(kind, self)

        def eventexit(self):
            for kind in (E.NODESOLVED, E.LPSOLVED):
                self.model.dropEvent(kind, self)

        def eventexec(self, event):
            if deadline.expired():
                self.model.interruptSolve()
            elif cutoff is not None:
                best = float(cutoff())
                if np.isfinite(best) and self.model.getDualbound() + offset >= \
                        best - 1e-9 * max(1.0, abs(best)):
                    reached.append(best)
                    self.model.interruptSolve()

    return Watch()


def _lazy_handler(pyscipopt):
    """The constraint-handler class (made lazily: PySCIPOpt is imported on first use)."""
    R = pyscipopt.SCIP_RESULT

    class LazyRowsHandler(pyscipopt.Conshdlr):
        """Enforces and separates `milp.lazy` over the columns `xs` it covers."""

        def __init__(self, milp: MILP, xs: list, width: int):
            self.lazy = milp.lazy
            self.xs = xs[:width]
            self.all = xs
            self.added = 0

        def values(self, sol) -> np.ndarray:
            get = self.model.getSolVal
            return np.array([get(sol, v) for v in self.xs])

        def add(self, rows: RowBlock, limit: int | None = None) -> int:
            """Rows into the LP as global cuts (and the global cut pool)."""
            m = self.model
            A = rows.matrix(len(self.all)).tocsr()
            lo, hi = rows.lo, rows.hi
            count = A.shape[0] if limit is None else min(limit, A.shape[0])
            for r in range(count):
                row = m.createEmptyRowUnspec(
                    name="lazy", lhs=None if not np.isfinite(lo[r]) else float(lo[r]),
                    rhs=None if not np.isfinite(hi[r]) else float(hi[r]),
                    local=False, removable=True)
                m.cacheRowExtensions(row)
                for p in range(A.indptr[r], A.indptr[r + 1]):
                    m.addVarToRow(row, self.all[A.indices[p]], float(A.data[p]))
                m.flushRowExtensions(row)
                m.addCut(row, forcecut=True)
                m.addPoolCut(row)
                m.releaseRow(row)
            self.added += count
            return count

        def conscheck(self, constraints, solution, checkintegrality, checklprows,
                      printreason, completely, **_):
            bad = self.lazy.violated(self.values(solution), integral=True)
            return {"result": R.INFEASIBLE if len(bad) else R.FEASIBLE}

        def consenfolp(self, constraints, nusefulconss, solinfeasible):
            rows = self.lazy.violated(self.values(None), integral=True)
            if not len(rows):
                return {"result": R.FEASIBLE}
            self.add(rows)
            return {"result": R.SEPARATED}

        def consenfops(self, constraints, nusefulconss, solinfeasible, objinfeasible):
            x = self.values(None)
            rows = self.lazy.violated(x, integral=True)
            if not len(rows):
                return {"result": R.FEASIBLE}
            return {"result": R.CUTOFF if self._all_fixed() else R.INFEASIBLE}

        def _all_fixed(self) -> bool:
            return all(v.getLbLocal() > v.getUbLocal() - 0.5 for v in self.xs)

        def conssepalp(self, constraints, nusefulconss):
            rows = self.lazy.violated(self.values(None), integral=False)
            if not len(rows):
                return {"result": R.DIDNOTFIND}
            self.add(rows, SEPARATE_ROWS)
            return {"result": R.SEPARATED}

        def conslock(self, constraint, locktype, nlockspos, nlocksneg):
            pass  # needscons=False: no constraint objects, so no locks to add

    return LazyRowsHandler


class ScipOptBackend(Backend):
    """SCIP via PySCIPOpt; lazy rows (contiguity) are separated inside its tree."""

    name = "scipopt"
    module = "pyscipopt"
    capabilities = frozenset({"warm_start", "fractional_objective", "lazy_rows", "node_limit",
                              "cutoff"})

    @classmethod
    @cache
    def version(cls) -> str:
        pyscipopt = _module()
        return f"SCIP {pyscipopt.Model().version()} (PySCIPOpt {pyscipopt.__version__})"

    def solve(self, milp: MILP, *, deadline: Deadline | None = None, gap: float = 0.0,
              warm_start: np.ndarray | None = None, threads: int | None = None,
              log: bool = False, node_limit: int | None = None,
              deterministic: bool = False, cutoff=None) -> SolverResult:
        """Minimise `milp` with SCIP, contiguity separated in its tree (see `Backend.solve`).

        (long: one solver call read top to bottom: options, the model, the handler, the
        start, the live cutoff's watch, the call, the answer mapped to the shared result)
        """
        self.one_thread(threads)
        pyscipopt = _module()
        start = time.perf_counter()
        m = pyscipopt.Model()
        m.hideOutput(not log)
        for key, value in PARAMETERS.items():
            m.setParam(key, value)
        m.setParam("limits/gap", float(gap))
        if node_limit is not None:
            m.setParam("limits/totalnodes", int(node_limit))
        deadline = deadline or Deadline()
        time_limit = deadline.remaining()
        reached: list[float] = []
        m.includeEventhdlr(_watch(pyscipopt, deadline, cutoff, milp.offset, reached),
                           "deadline", "interrupts the solve at the deadline, on a stop "
                           "request or when the bound reaches the cutoff")
        outside = None if cutoff is None else float(cutoff())
        if outside is not None and np.isfinite(outside):
            m.setObjlimit(outside - milp.offset)  # only plans below it are of interest
        else:
            outside = None
        try:
            xs = _load(m, milp, pyscipopt, deadline)
        except StoppedEarly:
            return self.stopped_early(deadline, start, "while the model was loaded into SCIP",
                                      milp, warm_start)
        handler = None
        if milp.lazy is not None:
            width = int(getattr(milp.lazy, "num_pairs", milp.num_cols))
            handler = _lazy_handler(pyscipopt)(milp, xs, width)
            m.includeConshdlr(handler, "lazyrows", "rows of MILP.lazy, checked and separated",
                              sepapriority=100, enfopriority=-100, chckpriority=-100,
                              sepafreq=SEPARATE_EVERY, needscons=False)
        if warm_start is not None:
            sol = m.createSol(None)
            for v, val in zip(xs, np.asarray(warm_start, dtype=float).tolist(), strict=True):
                if val:
                    m.setSolVal(sol, v, val)
            m.addSol(sol)
        if time_limit is not None and not deterministic:  # else the event handler keeps it
            left = float(time_limit) - (time.perf_counter() - start)
            m.setParam("limits/time", max(left, 0.01))
        if deadline.expired():
            return self.stopped_early(deadline, start, "before solving", milp, warm_start)
        with stdout_to_stderr() if log else nullcontext():  # SCIP logs on stdout
            m.optimize()
        wall = time.perf_counter() - start
        code = m.getStatus()
        values = obj = bound = None
        if m.getNSols() > 0:
            best = m.getBestSol()
            values = np.array([m.getSolVal(best, v) for v in xs])
            values[milp.integer] = np.round(values[milp.integer])
            obj = milp.objective(values)
        dual = m.getDualbound()
        if abs(dual) < SCIP_INFINITY:
            bound = dual + milp.offset
            if obj is not None:
                bound = min(bound, obj)
        nodes = int(m.getNNodes())
        extra = f", {handler.added} lazy rows" if handler is not None else ""
        message = f"SCIP status {code}{extra}"
        if code == "userinterrupt" and deadline.stopped():
            message = f"{deadline.request.reason}{extra}"
        if code in ("optimal", "gaplimit") and values is not None:
            status = Status.OPTIMAL
        elif code == "infeasible" and outside is not None:
            # nothing below the cutoff (a plan known elsewhere), which is not infeasibility
            status, bound = Status.NO_SOLUTION, outside
            message = f"{message}: no plan below the cutoff"
        elif code == "infeasible":
            status = Status.INFEASIBLE
        elif code in ("timelimit", "nodelimit", "userinterrupt", "totalnodelimit",
                      "stallnodelimit", "memlimit", "sollimit", "bestsollimit"):
            status = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
        else:
            return SolverResult(Status.ERROR, self.name, self.version(), wall, nodes=nodes,
                                message=message)
        if not status.has_solution:
            values = obj = None
        if outside is not None and status is not Status.OPTIMAL and code != "infeasible":
            if reached:
                message = f"{message}: the bound reached the cutoff"
            if bound is not None:  # pruned nodes hold nothing below the cutoff
                bound = min(bound, outside)
        return keep_start(SolverResult(status, self.name, self.version(), wall, obj, bound,
                                       nodes, values, message=message), milp, warm_start)


CHECK_EVERY = 2000
"""Columns or rows loaded between two looks at the deadline (loading 0.6 million columns
took 40 s on a busy machine)."""


def _load(m, milp: MILP, pyscipopt, deadline: Deadline) -> list:
    """Columns (with their objective) and rows; returns the variables in column order.
    Raises StoppedEarly when the deadline passes while loading."""
    Expr, Term = pyscipopt.Expr, pyscipopt.scip.Term
    lo = [None if not np.isfinite(v) else float(v) for v in milp.col_lo]
    hi = [None if not np.isfinite(v) else float(v) for v in milp.col_hi]
    kinds = ["I" if z else "C" for z in milp.integer.tolist()]
    for k in np.flatnonzero(milp.integer & (milp.col_lo >= 0) & (milp.col_hi <= 1)):
        kinds[k] = "B"
    c = milp.c.tolist()
    xs = []
    for k in range(milp.num_cols):
        if k % CHECK_EVERY == 0:
            check_deadline(deadline)
        xs.append(m.addVar(name=f"x{k}", vtype=kinds[k], lb=lo[k], ub=hi[k], obj=c[k]))
    A = milp.A.tocsr(copy=True)
    A.sum_duplicates()
    indptr, idx, data = A.indptr.tolist(), A.indices.tolist(), A.data.tolist()
    rlo, rhi = milp.row_lo.tolist(), milp.row_hi.tolist()
    for r in range(A.shape[0]):
        if r % CHECK_EVERY == 0:
            check_deadline(deadline)
        a, b = rlo[r], rhi[r]
        if indptr[r] == indptr[r + 1]:
            if a > 0 or b < 0:  # an empty row 0 outside its bounds: the MILP is infeasible
                m.addCons(Expr({Term(xs[0]): 0.0}) + 1 <= 0)
            continue
        expr = Expr({Term(xs[idx[p]]): data[p] for p in range(indptr[r], indptr[r + 1])})
        if np.isfinite(a) and np.isfinite(b):
            m.addCons(expr == a if a == b else (expr >= a) <= b)
        elif np.isfinite(b):
            m.addCons(expr <= b)
        elif np.isfinite(a):
            m.addCons(expr >= a)
    return xs
