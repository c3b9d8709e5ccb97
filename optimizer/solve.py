"""Solve a problem: precheck → formulation → back end (→ cut rounds) → verified plan.

This is the one entry point that the Python API and the CLI share. A plan
leaves only after the independent verifier accepts it; a run stopped by a
limit is never reported as optimal.

The time limit is a promise for the whole call: one `Deadline` bounds the
heuristic, every solver call, the repairs between cut rounds and the rounds
themselves, and a `StopRequest` (set by a signal handler) ends the run the
same way, keeping the best verified plan found so far. In deterministic mode
the heuristic and the repairs count steps instead of seconds, so the answer is
the same on a busy and a quiet machine unless the wall clock cuts it short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np

from .backends import Status, get_backend
from .backends.base import relative_gap
from .backends.cbc import remove_stale_folders
from .contiguity import separator_cuts
from .errors import BackendError, InfeasibleModelError, signal_name
from .figures import PlanFigures, evaluate
from .formulation import STRATEGIES, build
from .heuristic import heuristic_plan, repair_plan
from .model import Problem
from .plan import Plan
from .precheck import diagnose
from .stopping import Deadline, StopRequest
from .terms import expand
from .values import MAX_THREADS, integer, number
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
HEURISTIC_STEPS = 1000
"""Deterministic mode: the heuristic's budget in steps (repair moves and improvement
passes) instead of seconds; enough for every instance measured to finish its starts."""
REPAIR_STEPS = 200
"""Deterministic mode: steps spent turning one relaxed optimum into a contiguous plan."""


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
    notes: tuple[str, ...] = ()
    """What the user should know besides the status: a clamped area count, an unused
    warm start and why, how a plan file was read."""
    node_limit: int | None = None
    deterministic: bool = False
    interrupted: str | None = None
    """The signal (SIGINT, SIGTERM) that stopped the run early, if one did."""

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
            "nodes": self.nodes, "node_limit": self.node_limit,
            "deterministic": self.deterministic, "interrupted": self.interrupted,
            "message": self.message, "notes": list(self.notes),
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
    stop: StopRequest | None = None,
    node_limit: int | None = None,
    deterministic: bool | None = None,
    since: float | None = None,
    reserve: float = 0.0,
) -> Solution:
    """Solve `problem` exactly (unless a limit stops it). Options default to the model's.

    Without a `warm_start`, the heuristic supplies one when it finds a plan;
    a start that breaks a rule is not used. With `strategy="cuts"` the model
    is re-solved with separator cuts until the plan is contiguous; every
    relaxation's bound is a valid bound for the full problem. A range of area
    counts is solved one count at a time (each is far easier than the range);
    the best plan wins and the bound is the smallest of the counts' bounds.

    `time_limit` (wall-clock seconds for the whole call) is kept to within a
    second or so; `stop`, once set, ends the run early the same way (the first
    signal only sets it while the solve runs). `node_limit` bounds the solver's
    branch-and-bound nodes over the whole run (a work limit); `deterministic`
    budgets the heuristic in steps instead of seconds. `since` is the
    `time.perf_counter()` instant the limit and the reported wall time count from
    (default: now; the CLI passes its own start, so reading the files counts too);
    `reserve` seconds of the limit (at most half of it) are kept for the caller's work
    afterwards, such as writing the outputs.
    """
    if (why := problem.needs_phases) is not None:
        raise BackendError(f"model {problem.model.name!r} asks for {why}: solve it with "
                           "optimizer.decisions.solve_model (the CLI's solve does)")
    opts = problem.model.solver
    strategy = strategy or opts.contiguity
    if strategy not in STRATEGIES:
        raise BackendError(f"unknown contiguity strategy {strategy!r} "
                           f"(choose from {', '.join(STRATEGIES)})")
    limit = opts.time_limit if time_limit is None else number(
        time_limit, "time_limit", lo=0, lo_open=True)
    gap = opts.gap if gap is None else number(gap, "gap", lo=0, hi=1, hi_open=True)
    threads = opts.threads if threads is None else integer(threads, "threads", lo=0,
                                                           hi=MAX_THREADS)
    since = time.perf_counter() if since is None else since
    deadline = Deadline(None if limit is None else since + limit - min(reserve, limit / 2),
                        stop)
    node_limit = node_limit if node_limit is not None else opts.node_limit
    deterministic = opts.deterministic if deterministic is None else deterministic
    notes = [*problem.notes, *(f"warm start: {note}" for note in
                               (warm_start.notes if warm_start is not None else ()))]
    name = backend or opts.backend
    remove_stale_folders()
    with stop.cooperating() if stop is not None else nullcontext():
        if name == "heuristic":
            if warm_start is not None:
                notes.append("the heuristic back end does not use a warm start")
            sol = heuristic_solution(problem, time_limit=limit, say=progress, stop=stop,
                                     deterministic=deterministic, since=since)
            return replace(sol, notes=tuple(notes))
        engine = get_backend(name)
        if warm_start is not None:
            engine.require("warm_start", "start from a given plan")
        if node_limit is not None:
            engine.require("node_limit", "stop after a number of branch-and-bound nodes")
        run = _Run(
            engine=engine, strategy=strategy, start=since, deadline=deadline,
            time_limit=limit, gap=gap,
            threads=threads or None,  # 0 asks for the back end's own default
            heuristic=heuristic, log=log, say=progress or (lambda _msg: None), notes=notes,
            node_limit=node_limit, deterministic=deterministic,
        )
        reasons = diagnose(problem)
        if reasons:
            raise InfeasibleModelError("the model cannot be satisfied: " + "; ".join(reasons))
        if problem.k_min == problem.k_max or expand(problem.objective_weights).get("areas"):
            return run.one(problem, warm_start)  # one MIP when the count itself is weighed
        if warm_start is not None and \
                not problem.k_min <= len(warm_start.areas()) <= problem.k_max:
            run.notes.append(f"the warm start has {len(warm_start.areas())} areas, outside "
                             f"{problem.k_min}–{problem.k_max}, and was not used")
        parts = []
        for k in range(problem.k_min, problem.k_max + 1):
            sub = replace(problem, k_min=k, k_max=k, model=problem.model.with_areas(k))
            if diagnose(sub):
                continue
            start = warm_start if warm_start is not None and len(warm_start.areas()) == k \
                else None
            run.say(f"{k - 1} regional leads:" if problem.organiser is not None
                    else f"{k} areas:")
            parts.append(run.one(sub, start))
        return run.combine(problem, parts)


@dataclass
class _Run:
    """Options, clock and work counters shared by the solves of one `solve` call."""

    engine: object
    strategy: str
    start: float
    deadline: Deadline
    time_limit: float | None
    gap: float
    threads: int | None
    heuristic: bool
    log: bool
    say: Callable[[str], None]
    notes: list[str]
    """Notes for the final solution, gathered over every area count."""
    node_limit: int | None = None
    deterministic: bool = False
    nodes_used: int = 0

    def remaining(self) -> float | None:
        return self.deadline.remaining()

    def nodes_left(self) -> int | None:
        return None if self.node_limit is None else max(self.node_limit - self.nodes_used, 0)

    def why(self, what: str) -> str:
        """Why a run stopped early: a signal, or the time (or node) limit, and where."""
        if self.deadline.stopped():
            return f"{self.deadline.request.reason} {what}"
        if self.deadline.expired():
            return f"time limit reached {what}"
        if self.node_limit is not None:
            return f"node limit reached {what}"
        return f"stopped {what}"

    def solution(self, problem, status, incumbent, bound, counts, message):
        plan = incumbent[1] if incumbent and status.has_solution else None
        figs = evaluate(problem, plan) if plan is not None else None
        final = bound if status is not Status.INFEASIBLE else None
        if final is not None and figs is not None:
            final = min(final, figs.objective)  # a bound never exceeds a known plan's value
        notes = list(self.notes)
        if self.deterministic and status is not Status.OPTIMAL and self.deadline.expired():
            notes.append("the wall clock ended this deterministic run, so a repeat may differ "
                         "(use a node limit for a reproducible stop)")
        request = self.deadline.request
        return Solution(problem, status, plan, figs, figs.objective if figs else None,
                        float(final) if final is not None and np.isfinite(final) else None,
                        time.perf_counter() - self.start, self.engine.name,
                        self.engine.version(), counts[0], counts[1], counts[2], counts[3],
                        self.gap, self.time_limit, message, tuple(dict.fromkeys(notes)),
                        self.node_limit, self.deterministic,
                        _signal(request) if self.deadline.stopped() else None)

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
                             self.why(f"({per_k})"))

    def one(self, problem: Problem, warm_start: Plan | None) -> Solution:
        """Solve a problem with one area count (the cut loop lives here)."""
        engine = self.engine
        form = build(problem, self.strategy)
        milp = form.milp
        incumbent: tuple[float, Plan] | None = None
        given = warm_start is not None
        if warm_start is None and self.heuristic and "warm_start" in engine.capabilities \
                and not self.deadline.expired():
            if self.deterministic:
                warm_start = heuristic_plan(problem, time_limit=None, deadline=self.deadline,
                                            steps=HEURISTIC_STEPS)
            else:
                left = self.remaining()
                share = HEURISTIC_SECONDS if left is None else min(HEURISTIC_SECONDS,
                                                                   HEURISTIC_SHARE * left)
                warm_start = heuristic_plan(problem, time_limit=share, deadline=self.deadline)
            if warm_start is not None:
                self.say(f"heuristic plan: {evaluate(problem, warm_start).objective:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
        if warm_start is not None:
            check = verify(problem, warm_start)
            if check.ok:
                incumbent = (evaluate(problem, warm_start).objective, warm_start)
            else:
                if given:
                    self.notes.append("the warm start breaks a rule of the model and was not "
                                      f"used: {check.violations[0].message}")
                warm_start = None
        x0 = form.start(warm_start) if warm_start is not None else None
        bound = -np.inf
        rounds = cuts = nodes = 0

        def finish(status: Status, message: str) -> Solution:
            return self.solution(problem, status, incumbent, bound,
                                 (form.strategy, rounds, cuts, nodes), message)

        def stopped(why: str) -> Solution:
            return finish(Status.FEASIBLE if incumbent else Status.NO_SOLUTION, why)

        while True:
            remaining = self.remaining()
            if remaining is not None and remaining <= 0:
                return stopped(self.why("between cut rounds" if rounds
                                        else "before the first solve"))
            start_vec = x0 if x0 is not None and milp.is_feasible(x0) else None
            self.say(f"round {rounds + 1}: {engine.name} on {milp.num_cols} columns, "
                     f"{milp.num_rows} rows ({time.perf_counter() - self.start:.1f} s)")
            res = engine.solve(milp, time_limit=remaining, gap=self.gap, warm_start=start_vec,
                               threads=self.threads, log=self.log, stop=self.deadline.request,
                               node_limit=self.nodes_left(), deterministic=self.deterministic)
            if start_vec is not None and not _consistent(milp, res) \
                    and res.status.has_solution and not self.deadline.expired():
                # HiGHS has been seen to report the objective of its presolved start with the
                # start's own values: solve the round again without the start.
                self.notes.append("the back end's answer with the start did not match its "
                                  "values; that round was solved again without the start")
                res = engine.solve(milp, time_limit=self.remaining(), gap=self.gap,
                                   threads=self.threads, log=self.log,
                                   stop=self.deadline.request, node_limit=self.nodes_left(),
                                   deterministic=self.deterministic)
            rounds += 1
            nodes += res.nodes or 0
            self.nodes_used += res.nodes or 0
            if res.bound is not None:
                bound = max(bound, res.bound)
            if res.status is Status.ERROR:
                incumbent = None
                return finish(Status.ERROR, res.message)
            if res.status is Status.INFEASIBLE:
                return finish(Status.INFEASIBLE,
                              "the solver proved that no plan satisfies every rule")
            if res.status is Status.NO_SOLUTION:
                return stopped(self.why(f"before the solver found a plan ({res.message})"))
            plan = form.plan(res.values)
            new_cuts = separator_cuts(form, plan) if problem.contiguity else None
            if new_cuts is not None and len(new_cuts):
                repaired = repair_plan(
                    problem, plan, deadline=self.deadline,
                    time_limit=None if self.deterministic else REPAIR_SECONDS,
                    steps=REPAIR_STEPS if self.deterministic else None)
                if repaired is not None:
                    value = evaluate(problem, repaired).objective
                    if incumbent is None or value < incumbent[0] - 1e-9:
                        incumbent = (value, repaired)
                        x0 = form.start(repaired)
                        self.say(f"repaired plan: {value:,.2f}")
                if res.status is not Status.OPTIMAL:
                    return stopped(self.why("before a contiguous plan was proven optimal "
                                            f"({res.message})"))
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
            return stopped(self.why(f"before proving optimality ({res.message})"))


def _signal(request: StopRequest | None) -> str | None:
    return signal_name(request.signum) if request is not None and request.signum else None


def heuristic_solution(problem: Problem, *, time_limit: float | None = None,
                       say: Callable[[str], None] | None = None,
                       stop: StopRequest | None = None,
                       deterministic: bool = False, since: float | None = None) -> Solution:
    """The heuristic's plan as a solution: never optimal; bound from the LP relaxation.

    Within a time limit the heuristic takes 80 % of it and the LP bound the rest; in
    deterministic mode the heuristic counts steps instead."""
    start = time.perf_counter() if since is None else since
    deadline = Deadline(None if time_limit is None else start + time_limit, stop)
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleModelError("the model cannot be satisfied: " + "; ".join(reasons))
    if deterministic:
        plan = heuristic_plan(problem, time_limit=None, deadline=deadline,
                              steps=HEURISTIC_STEPS * 5, starts=HEURISTIC_STARTS_ALONE)
    else:
        left = deadline.remaining()
        budget = HEURISTIC_SECONDS * 2.5 if left is None else 0.8 * left
        plan = heuristic_plan(problem, time_limit=budget, deadline=deadline,
                              starts=HEURISTIC_STARTS_ALONE)
    lp = get_backend("highs").solve(build(problem, "cuts").milp.relaxation(),
                                    time_limit=deadline.remaining(), stop=stop)
    bound = lp.objective if lp.status is Status.OPTIMAL else None
    if say is not None:
        say(f"heuristic: {'a plan' if plan else 'no plan'} in {time.perf_counter() - start:.2f} s")
    figs = evaluate(problem, plan) if plan is not None else None
    status = Status.FEASIBLE if plan is not None else Status.NO_SOLUTION
    message = "heuristic plan; bound from the LP relaxation"
    if deadline.stopped():
        message = f"{stop.reason}; {message}"
    return Solution(problem, status, plan, figs, figs.objective if figs else None, bound,
                    time.perf_counter() - start, "heuristic", "heuristic", "heuristic", 0, 0, None,
                    0.0, time_limit, message, (), None, deterministic, _signal(stop))


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
