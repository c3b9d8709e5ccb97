"""Solve a problem: precheck → formulation → back end (→ cut rounds) → verified plan.

This is the one entry point that the Python API and the CLI share. A plan
leaves only after the independent verifier accepts it; a run stopped by a
limit is never reported as optimal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .backends import Status, get_backend
from .contiguity import separator_cuts
from .errors import BackendError, InfeasibleModelError
from .figures import PlanFigures, evaluate
from .formulation import STRATEGIES, build
from .model import Problem
from .plan import Plan
from .precheck import diagnose
from .verify import Verification, verify

OBJECTIVE_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class Solution:
    """A solve's outcome: status, certificate figures and (when found) the verified plan."""

    problem: Problem
    status: Status
    plan: Plan | None
    figures: PlanFigures | None
    objective: float | None
    bound: float | None
    wall_time: float
    backend: str
    version: str
    strategy: str
    rounds: int
    cuts: int
    nodes: int | None
    gap_limit: float
    time_limit: float | None
    message: str = ""

    @property
    def gap(self) -> float | None:
        from .backends.base import relative_gap

        return relative_gap(self.objective, self.bound)

    def summary(self) -> dict:
        """Machine-readable certificate (everything but the plan's per-area figures)."""
        return {
            "status": str(self.status), "objective": self.objective, "bound": self.bound,
            "gap": self.gap, "gap_limit": self.gap_limit, "wall_time_s": self.wall_time,
            "time_limit_s": self.time_limit, "backend": self.backend, "version": self.version,
            "contiguity": self.strategy, "cut_rounds": self.rounds, "cuts_added": self.cuts,
            "nodes": self.nodes, "message": self.message,
        }


def solve(
    problem: Problem,
    *,
    backend: str | None = None,
    strategy: str | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    warm_start: Plan | None = None,
    threads: int | None = None,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Solution:
    """Solve `problem` exactly (unless a limit stops it). Options default to the model's."""
    opts = problem.model.solver
    backend_name = backend or opts.backend
    strategy = strategy or opts.contiguity
    time_limit = time_limit if time_limit is not None else opts.time_limit
    gap = opts.gap if gap is None else gap
    threads = threads if threads is not None else opts.threads
    if strategy not in STRATEGIES:
        raise BackendError(f"unknown contiguity strategy {strategy!r} "
                           f"(choose from {', '.join(STRATEGIES)})")
    engine = get_backend(backend_name)
    if warm_start is not None:
        engine.require("warm_start", "start from a given plan")
    start = time.perf_counter()
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleModelError("the model cannot be satisfied: " + "; ".join(reasons))
    form = build(problem, strategy)
    milp = form.milp
    x0 = form.start(warm_start) if warm_start is not None else None
    bound = -np.inf
    rounds = cuts = 0
    nodes = 0
    incumbent: tuple[float, Plan] | None = None

    def finish(status: Status, message: str, result_bound: float | None) -> Solution:
        plan = incumbent[1] if incumbent and status.has_solution else None
        figs = evaluate(problem, plan) if plan is not None else None
        if status is Status.OPTIMAL:
            result_bound = max(result_bound if result_bound is not None else -np.inf, bound)
        finite = result_bound is not None and np.isfinite(result_bound)
        return Solution(problem, status, plan, figs, figs.objective if figs else None,
                        float(result_bound) if finite else None,
                        time.perf_counter() - start, engine.name, engine.version(),
                        form.strategy, rounds, cuts, nodes, gap, time_limit, message)

    while True:
        remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
        if remaining is not None and remaining <= 0:
            return finish(Status.FEASIBLE if incumbent else Status.NO_SOLUTION,
                          "time limit reached " + ("between cut rounds" if rounds
                                                   else "before the first solve"), bound)
        start_vec = x0 if x0 is not None and milp.is_feasible(x0) else None
        if progress is not None:
            progress(f"round {rounds + 1}: {engine.name} on {milp.num_cols} columns, "
                     f"{milp.num_rows} rows ({time.perf_counter() - start:.1f} s)")
        res = engine.solve(milp, time_limit=remaining, gap=gap, warm_start=start_vec,
                           threads=threads, log=log)
        rounds += 1
        nodes += res.nodes or 0
        if res.bound is not None:
            bound = max(bound, res.bound)
        if res.status is Status.ERROR:
            return finish(Status.ERROR, res.message, None)
        if res.status is Status.INFEASIBLE:
            return finish(Status.INFEASIBLE,
                          "the solver proved that no plan satisfies every rule", None)
        if res.status is Status.NO_SOLUTION:
            return finish(Status.FEASIBLE if incumbent else Status.NO_SOLUTION,
                          "time limit reached before a contiguous plan was found", bound)
        plan = form.plan(res.values)
        new_cuts = separator_cuts(form, plan) if problem.contiguity else None
        if new_cuts is not None and len(new_cuts):
            if res.status is not Status.OPTIMAL:
                return finish(Status.FEASIBLE if incumbent else Status.NO_SOLUTION,
                              "time limit reached before a contiguous plan was proven "
                              "optimal", bound)
            cuts += len(new_cuts)
            milp = milp.with_rows(new_cuts)
            continue
        problem_found = _checked(problem, plan, res.objective)
        if problem_found:
            return finish(Status.ERROR, problem_found, None)
        incumbent = (res.objective, plan)
        if res.status is Status.OPTIMAL:
            return finish(Status.OPTIMAL, "proven optimal", bound)
        return finish(Status.FEASIBLE, "time limit reached", bound)


def _checked(problem: Problem, plan: Plan, objective: float) -> str | None:
    """None if the plan passes the verifier and its objective matches the solver's."""
    v: Verification = verify(problem, plan)
    if not v.ok:
        return "internal error: the solver's plan fails verification: " + "; ".join(
            x.message for x in v.violations)
    value = evaluate(problem, plan).objective
    if value is None or abs(value - objective) > OBJECTIVE_TOL * max(1.0, abs(value)):
        return f"internal error: the plan's objective {value} differs from the solver's {objective}"
    return None
