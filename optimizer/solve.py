"""Solve a problem: precheck → formulation → back end (→ cut rounds) → verified plan.

This is the one entry point that the Python API and the CLI share. A plan
leaves only after the independent verifier accepts it; a run stopped by a
limit is never reported as optimal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from .backends import Status, get_backend
from .backends.base import relative_gap
from .errors import BackendError, InfeasibleModelError
from .figures import PlanFigures, evaluate
from .fixing import reduced_cost_fixing, root_relaxation
from .formulation import STRATEGIES, build
from .heuristic import heuristic_plan, repair_plan
from .incumbent import descend
from .localsearch import search_plan
from .model import Problem
from .parallel import cores, run_all
from .plan import Plan
from .precheck import diagnose
from .terms import expand
from .verify import Verification, verify

OBJECTIVE_TOL = 1e-6
HEURISTIC_SECONDS = 2.0
"""Most time the heuristic may take before the solver starts."""
HEURISTIC_STARTS_ALONE = 200
"""Starts per area count when the heuristic is the whole answer (`--backend heuristic`)."""
REPAIR_SECONDS = 1.0
"""Most time spent turning one relaxed optimum into a contiguous plan."""
HEURISTIC_SHARE = 0.1
"""Share of a time limit the heuristic may take."""
INCUMBENT_SECONDS = 10.0
"""Most time the lead-set descent (incumbent.py) may take before the full solve."""
INCUMBENT_SHARE = 0.2
"""Share of a time limit the lead-set descent may take."""
ROOT_SHARE = 0.2
"""Share of a time limit the root relaxation may take."""
LOCAL_SECONDS = 5.0
"""Most time the tabu search (localsearch.py) may take when the heuristic finds no plan."""
LOCAL_SHARE = 0.1
"""Share of a time limit the tabu search may take."""
HEURISTIC_SECONDS_BEFORE_DESCENT = 1.0
"""Most time the heuristic may take when the lead-set descent can follow."""
DESCENT_GAP = 0.01
"""The lead-set descent runs when the incumbent is further than this (relative) from the
root bound, or when there is none."""


@dataclass(frozen=True)
class Levers:
    """The speed-ups around the solver, each of which can be switched off (for the
    ablation in benchmarks/README.md). None changes what is proven, only how fast.

    `root`: solve the LP relaxation first, with separator rows at fractional points
    (fixing.py), and hand the rows to the solver; `fixing`: fix columns by reduced cost
    against the incumbent; `incumbent`: improve the incumbent by the lead-set descent
    (incumbent.py) before the full solve.
    """

    root: bool = True
    fixing: bool = True
    incumbent: bool = True

    @classmethod
    def parse(cls, off: str | None) -> Levers:
        """Levers with the comma-separated names in `off` switched off."""
        names = [x.strip() for x in (off or "").split(",") if x.strip()]
        unknown = [x for x in names if x not in cls.__dataclass_fields__]
        if unknown:
            raise BackendError(f"unknown lever {unknown[0]!r} (choose from "
                               f"{', '.join(cls.__dataclass_fields__)})")
        return cls(**dict.fromkeys(names, False))


NO_LEVERS = Levers(root=False, fixing=False, incumbent=False)

PORTFOLIO = (("highs", "cuts"), ("scipopt", "cuts"))
"""The entrants of `backend="portfolio"`: (back end, contiguity strategy), raced in
parallel processes; the first to prove wins."""


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
    heuristic: bool = True,
    threads: int | None = None,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
    levers: Levers | None = None,
    workers: int | None = None,
) -> Solution:
    """Solve `problem` exactly (unless a limit stops it). Options default to the model's.

    Without a `warm_start`, the heuristic supplies one when it finds a plan;
    a start that breaks a rule is not used. With `strategy="cuts"` the model
    is re-solved with separator cuts until the plan is contiguous; every
    relaxation's bound is a valid bound for the full problem. A range of area
    counts is solved one count at a time (each is far easier than the range);
    the best plan wins and the bound is the smallest of the counts' bounds.

    `workers` processes (default: one per core) solve the counts of a range side by
    side; `backend="portfolio"` races the `PORTFOLIO` entrants and keeps the first proof.
    """
    if (why := problem.needs_phases) is not None:
        raise BackendError(f"model {problem.model.name!r} asks for {why}: solve it with "
                           "optimizer.decisions.solve_model (the CLI's solve does)")
    opts = problem.model.solver
    strategy = strategy or opts.contiguity
    if strategy not in STRATEGIES:
        raise BackendError(f"unknown contiguity strategy {strategy!r} "
                           f"(choose from {', '.join(STRATEGIES)})")
    name = backend or opts.backend
    workers = cores() if workers is None else max(1, int(workers))
    if name == "portfolio":
        return race(problem, PORTFOLIO, workers=workers, time_limit=time_limit, gap=gap,
                    warm_start=warm_start, heuristic=heuristic, levers=levers,
                    progress=progress)
    if name == "heuristic":
        return heuristic_solution(problem, time_limit=time_limit or opts.time_limit,
                                  say=progress)
    engine = get_backend(name)
    if warm_start is not None:
        engine.require("warm_start", "start from a given plan")
    run = _Run(
        engine=engine, strategy=strategy, start=time.perf_counter(),
        time_limit=time_limit if time_limit is not None else opts.time_limit,
        gap=opts.gap if gap is None else gap,
        threads=threads if threads is not None else opts.threads,
        heuristic=heuristic, log=log, say=progress or (lambda _msg: None),
        levers=Levers() if levers is None else levers,
    )
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleModelError("the model cannot be satisfied: " + "; ".join(reasons))
    if problem.k_min == problem.k_max or expand(problem.objective_weights).get("areas"):
        return run.one(problem, warm_start)  # one MIP when the count itself is weighed
    subs = []
    for k in range(problem.k_min, problem.k_max + 1):
        sub = replace(problem, k_min=k, k_max=k, model=problem.model.with_areas(k))
        if not diagnose(sub):
            start = warm_start if warm_start is not None and len(warm_start.areas()) == k \
                else None
            subs.append((sub, start))
    workers = min(workers, len(subs))
    if workers > 1:
        run.say(f"{len(subs)} area counts in {workers} parallel processes")
        alone = replace(run, say=lambda _msg: None,
                        threads=1 if "threads" in engine.capabilities else run.threads)
        parts = run_all([partial(alone.one, sub, start) for sub, start in subs],
                        workers=workers)
        return run.combine(problem, parts)
    parts = []
    for sub, start in subs:
        k = sub.k_min
        run.say(f"{k - 1} regional leads:" if problem.organiser is not None else f"{k} areas:")
        parts.append(run.one(sub, start))
    return run.combine(problem, parts)


def race(problem: Problem, entrants, *, workers: int, progress=None, **options) -> Solution:
    """The entrants' solves side by side; the first proof (optimal or infeasible) wins and
    stops the rest. Without a proof, the best plan and the best bound of all are kept
    (every entrant's bound is a valid bound on the same problem)."""
    say = progress or (lambda _msg: None)
    say(f"racing {', '.join(f'{b}/{s}' for b, s in entrants)}")
    tasks = [partial(solve, problem, backend=b, strategy=s, workers=1, **options)
             for b, s in entrants]
    results = run_all(tasks, workers=workers,
                      done=lambda _i, sol: sol.status in (Status.OPTIMAL, Status.INFEASIBLE))
    done = [r for r in results if r is not None]
    proof = next((r for r in done if r.status in (Status.OPTIMAL, Status.INFEASIBLE)), None)
    if proof is not None:
        return replace(proof, message=f"{proof.message}; won the race against "
                       f"{len(entrants) - 1} other entrant(s)")
    found = [r for r in done if r.plan is not None]
    best = min(found, key=lambda r: r.objective) if found else done[0]
    bounds = [r.bound for r in done if r.bound is not None]
    bound = max(bounds) if bounds else None
    if best.objective is not None and bound is not None:
        bound = min(bound, best.objective)
    status = best.status
    if best.plan is not None and bound is not None and _proves(best.objective, bound,
                                                               best.gap_limit):
        status = Status.OPTIMAL
    return replace(best, status=status, bound=bound,
                   message=f"{best.message}; best of a race of {len(entrants)} entrants")


@dataclass
class _Run:
    """Options and clock shared by the solves of one `solve` call."""

    engine: object
    strategy: str
    start: float
    time_limit: float | None
    gap: float
    threads: int | None
    heuristic: bool
    log: bool
    say: Callable[[str], None]
    levers: Levers = NO_LEVERS

    def remaining(self) -> float | None:
        if self.time_limit is None:
            return None
        return self.time_limit - (time.perf_counter() - self.start)

    def solution(self, problem, status, incumbent, bound, counts, message, notes=()):
        plan = incumbent[1] if incumbent and status.has_solution else None
        figs = evaluate(problem, plan) if plan is not None else None
        final = bound if status is not Status.INFEASIBLE else None
        if final is not None and figs is not None:
            final = min(final, figs.objective)  # a bound never exceeds a known plan's value
        return Solution(problem, status, plan, figs, figs.objective if figs else None,
                        float(final) if final is not None and np.isfinite(final) else None,
                        time.perf_counter() - self.start, self.engine.name,
                        self.engine.version(), counts[0], counts[1], counts[2], counts[3],
                        self.gap, self.time_limit, "; ".join([message, *notes]))

    def combine(self, problem: Problem, parts: list[Solution]) -> Solution:
        """One certificate for a range of area counts from the per-count solutions."""
        found = [s for s in parts if s.plan is not None]
        best = min(found, key=lambda s: s.objective) if found else None
        live = [s for s in parts if s.status is not Status.INFEASIBLE]
        bound = min((s.bound if s.bound is not None else -np.inf) for s in live) if live \
            else None
        counts = (parts[0].strategy if parts else self.strategy,
                  sum(s.rounds for s in parts), sum(s.cuts for s in parts),
                  sum(s.nodes or 0 for s in parts))
        per_k = ", ".join(f"{s.problem.k_min}: {s.status}"
                          + (f" {s.objective:,.2f}" if s.objective is not None else "")
                          for s in parts)
        if any(s.status is Status.ERROR for s in parts):
            return self.solution(problem, Status.ERROR, None, None, counts,
                                 next(s.message for s in parts if s.status is Status.ERROR))
        if not live:
            return self.solution(problem, Status.INFEASIBLE, None, None, counts,
                                 f"no area count admits a plan ({per_k})")
        incumbent = (best.objective, best.plan) if best else None
        settled = all(s.status is Status.OPTIMAL or s is best
                      or (best and s.bound is not None and _proves(best.objective, s.bound,
                                                                   self.gap)) for s in live)
        if best is not None and best.status is Status.OPTIMAL and settled:
            return self.solution(problem, Status.OPTIMAL, incumbent, bound, counts,
                                 f"proven optimal over every area count ({per_k})")
        status = Status.FEASIBLE if best else Status.NO_SOLUTION
        return self.solution(problem, status, incumbent, bound, counts,
                             f"time limit reached ({per_k})")

    def local_search(self, problem: Problem, form, root) -> Plan | None:
        """A first plan by the tabu search of localsearch.py, verified, or None."""
        left = self.remaining()
        budget = LOCAL_SECONDS if left is None else min(LOCAL_SECONDS, LOCAL_SHARE * left)
        lead = search_plan(problem, _lead_weight(problem, form, root), time_limit=budget)
        if lead is None:
            return None
        plan = Plan.from_leads(problem.instance, lead)
        return plan if verify(problem, plan).ok else None

    def descent(self, problem: Problem, form, root, start: Plan | None) -> Plan | None:
        """A better incumbent from the lead-set descent (incumbent.py), each restricted
        problem solved exactly by the same back end without the levers."""
        left = self.remaining()
        budget = INCUMBENT_SECONDS if left is None else min(INCUMBENT_SECONDS,
                                                             INCUMBENT_SHARE * left)
        weight = _lead_weight(problem, form, root)

        def solve_for_leads(sub: Problem, seconds: float) -> Plan | None:
            run = replace(self, start=time.perf_counter(), time_limit=seconds, heuristic=False,
                          levers=NO_LEVERS, say=lambda _msg: None)
            try:
                sol = run.one(sub, None)
            except InfeasibleModelError:
                return None
            return sol.plan

        return descend(problem, solve_for_leads, start, weight, time_limit=budget,
                       bound=root.bound if root is not None else -np.inf)

    def one(self, problem: Problem, warm_start: Plan | None) -> Solution:
        """Solve a problem with one area count (the cut loop lives here)."""
        engine = self.engine
        form = build(problem, self.strategy)
        milp = form.milp
        notes: list[str] = []
        incumbent: tuple[float, Plan] | None = None
        if warm_start is not None:
            if verify(problem, warm_start).ok:
                incumbent = (evaluate(problem, warm_start).objective, warm_start)
            else:
                notes.append("the warm start breaks a rule of the model and was not used")
                warm_start = None
        bound = -np.inf
        rounds = cuts = nodes = 0
        root = None
        if self.levers.root and problem.k_max > 1:
            left = self.remaining()
            root = root_relaxation(milp, time_limit=None if left is None else ROOT_SHARE * left,
                                   threads=self.threads)
            if root is not None:
                bound = root.bound
                self.say(f"root LP bound {root.bound:,.2f} after {root.rounds} rounds, "
                         f"{len(root.rows)} separator rows "
                         f"({time.perf_counter() - self.start:.1f} s)")
        starts = "warm_start" in engine.capabilities
        descent = self.levers.incumbent and problem.k_max > 1 and starts
        if warm_start is None and self.heuristic and starts:
            left = self.remaining()
            budget = HEURISTIC_SECONDS if left is None else min(HEURISTIC_SECONDS,
                                                                HEURISTIC_SHARE * left)
            if descent:
                budget = min(budget, HEURISTIC_SECONDS_BEFORE_DESCENT)
            warm_start = heuristic_plan(problem, time_limit=budget)
            if warm_start is not None:
                incumbent = (evaluate(problem, warm_start).objective, warm_start)
                self.say(f"heuristic plan: {incumbent[0]:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
        if incumbent is None and descent and (problem.floors or problem.caps):
            found = self.local_search(problem, form, root)
            if found is not None:
                warm_start = found
                incumbent = (evaluate(problem, found).objective, found)
                self.say(f"local search plan: {incumbent[0]:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
        if descent and (incumbent is None or not _proves(incumbent[0], bound, DESCENT_GAP)):
            better = self.descent(problem, form, root, warm_start)
            if better is not None and (incumbent is None
                                       or evaluate(problem, better).objective < incumbent[0]):
                warm_start = better
                incumbent = (evaluate(problem, better).objective, better)
                self.say(f"lead-set descent: {incumbent[0]:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
        if incumbent is not None and _proves(incumbent[0], bound, self.gap):
            return self.solution(problem, Status.OPTIMAL, incumbent, bound,
                                 (form.strategy, 0, 0, 0),
                                 "proven optimal: the root relaxation's bound meets the plan")
        if root is not None:
            if self.levers.fixing and incumbent is not None:
                fixing = reduced_cost_fixing(milp, root, incumbent[0], _extra_cost(milp))
                milp = fixing.apply(milp)
                share = fixing.share(np.arange(form.num_pairs))
                notes.append(f"{100 * share:.0f} % of the assignment pairs fixed")
                self.say(f"fixed {100 * share:.1f} % of {form.num_pairs} pairs")
            milp = milp.with_rows(root.rows)
        x0 = form.start(warm_start) if warm_start is not None else None

        def finish(status: Status, message: str) -> Solution:
            return self.solution(problem, status, incumbent, bound,
                                 (form.strategy, rounds, cuts, nodes), message, notes)

        def stopped(why: str) -> Solution:
            return finish(Status.FEASIBLE if incumbent else Status.NO_SOLUTION, why)

        while True:
            remaining = self.remaining()
            if remaining is not None and remaining <= 0:
                return stopped("time limit reached " + ("between cut rounds" if rounds
                                                        else "before the first solve"))
            start_vec = x0 if x0 is not None and milp.is_feasible(x0) else None
            self.say(f"round {rounds + 1}: {engine.name} on {milp.num_cols} columns, "
                     f"{milp.num_rows} rows ({time.perf_counter() - self.start:.1f} s)")
            res = engine.solve(milp, time_limit=remaining, gap=self.gap, warm_start=start_vec,
                               threads=self.threads, log=self.log)
            if start_vec is not None and not _consistent(milp, res):
                # HiGHS has been seen to report the objective of its presolved start with the
                # start's own values: solve the round again without the start.
                notes.append("the back end's answer with the start did not match its values; "
                             "that round was solved again without the start")
                res = engine.solve(milp, time_limit=self.remaining(), gap=self.gap,
                                   threads=self.threads, log=self.log)
            rounds += 1
            nodes += res.nodes or 0
            if res.bound is not None:
                bound = max(bound, res.bound)
            if res.status is Status.ERROR:
                incumbent = None
                return finish(Status.ERROR, res.message)
            if res.status is Status.INFEASIBLE:
                return finish(Status.INFEASIBLE,
                              "the solver proved that no plan satisfies every rule")
            if res.status is Status.NO_SOLUTION:
                return stopped("time limit reached before the solver found a plan")
            plan = form.plan(res.values)
            new_cuts = (milp.lazy.violated(res.values, integral=True)
                        if milp.lazy is not None else None)
            if new_cuts is not None and len(new_cuts):
                repaired = repair_plan(problem, plan, time_limit=REPAIR_SECONDS)
                if repaired is not None:
                    value = evaluate(problem, repaired).objective
                    if incumbent is None or value < incumbent[0] - 1e-9:
                        incumbent = (value, repaired)
                        x0 = form.start(repaired)
                        self.say(f"repaired plan: {value:,.2f}")
                if res.status is not Status.OPTIMAL:
                    return stopped("time limit reached before a contiguous plan was proven "
                                   "optimal")
                if incumbent is not None and _proves(incumbent[0], bound, self.gap):
                    return finish(Status.OPTIMAL, "proven optimal: the relaxation's bound "
                                  "meets the best contiguous plan")
                cuts += len(new_cuts)
                milp = milp.with_rows(new_cuts)
                continue
            problem_found = _checked(problem, plan, res.objective)
            if problem_found:
                incumbent = None
                return finish(Status.ERROR, problem_found)
            if incumbent is None or res.objective <= incumbent[0]:
                incumbent = (res.objective, plan)
            if res.status is Status.OPTIMAL:
                return finish(Status.OPTIMAL, "proven optimal")
            return stopped(f"stopped before proving optimality ({res.message})")


def _lead_weight(problem: Problem, form, root) -> np.ndarray | None:
    """The root LP's x_jj per municipality (0 where it may not lead), None without a root."""
    if root is None:
        return None
    weight = np.zeros(problem.n)
    leads = np.flatnonzero(form.lead_col >= 0)
    weight[leads] = root.x[form.lead_col[leads]]
    return weight


def _extra_cost(milp):
    """The lazy rows' implied cost of setting a column to 1, when they offer one."""
    return getattr(milp.lazy, "path_costs", None)


def heuristic_solution(problem: Problem, *, time_limit: float | None = None,
                       say: Callable[[str], None] | None = None) -> Solution:
    """The heuristic's plan as a solution: never optimal; bound from the LP relaxation."""
    start = time.perf_counter()
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleModelError("the model cannot be satisfied: " + "; ".join(reasons))
    budget = HEURISTIC_SECONDS * 2.5 if time_limit is None else time_limit
    plan = heuristic_plan(problem, time_limit=budget, starts=HEURISTIC_STARTS_ALONE)
    lp = get_backend("highs").solve(build(problem, "cuts").milp.relaxation())
    bound = lp.objective if lp.status is Status.OPTIMAL else None
    if say is not None:
        say(f"heuristic: {'a plan' if plan else 'no plan'} in {time.perf_counter() - start:.2f} s")
    figs = evaluate(problem, plan) if plan is not None else None
    status = Status.FEASIBLE if plan is not None else Status.NO_SOLUTION
    return Solution(problem, status, plan, figs, figs.objective if figs else None, bound,
                    time.perf_counter() - start, "heuristic", "heuristic", "heuristic", 0, 0, None,
                    0.0, time_limit, "heuristic plan; bound from the LP relaxation")


def _consistent(milp, res) -> bool:
    """Whether a result's objective is what its values give (c·x + offset)."""
    if res.values is None or res.objective is None:
        return True
    value = milp.objective(res.values)
    return abs(value - res.objective) <= OBJECTIVE_TOL * max(1.0, abs(value))


def _proves(value: float, bound: float, gap: float) -> bool:
    """Whether a lower bound certifies a plan of this value as optimal within the gap."""
    return bound >= value - max(gap * abs(value), OBJECTIVE_TOL * max(1.0, abs(value)))


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
