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
from functools import partial

import numpy as np

from .backends import PORTFOLIO as BACKEND_PORTFOLIO
from .backends import Status, get_backend
from .backends.base import relative_gap
from .backends.cbc import remove_stale_folders
from .errors import BackendError, InfeasibleModelError, signal_name
from .figures import PlanFigures, evaluate
from .formulation import STRATEGIES, build
from .heuristic import heuristic_plan, repair_plan
from .model import Problem
from .plan import Plan
from .precheck import diagnose
from .search.fixing import reduced_cost_fixing, root_relaxation
from .search.incumbent import descend
from .search.localsearch import search_plan
from .search.parallel import cores, run_all
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
INCUMBENT_SECONDS = 10.0
"""Most time the lead-set descent (search/incumbent.py) may take before the full solve."""
INCUMBENT_SHARE = 0.2
"""Share of a time limit the lead-set descent may take."""
ROOT_SHARE = 0.2
"""Share of a time limit the root relaxation may take."""
LOCAL_SECONDS = 5.0
"""Most time the tabu search (search/localsearch.py) may take when the heuristic finds no plan."""
LOCAL_SHARE = 0.1
"""Share of a time limit the tabu search may take."""
SEARCH_MIN_N = 40
"""Fewer municipalities than this: no lead-set descent and no tabu search (the MIP is done
sooner: with them North Ostrobothnia's 5 areas took 3.9 s instead of 1.0 s, while the
mainland's 45 areas took 11.7 s instead of 43.9 s)."""
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
    (search/fixing.py), and hand the rows to the solver; `fixing`: fix columns by reduced cost
    against the incumbent; `incumbent`: improve the incumbent by the lead-set descent
    (search/incumbent.py) before the full solve.
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

    def off(self) -> tuple[str, ...]:
        """The names of the levers switched off."""
        return tuple(n for n in self.__dataclass_fields__ if not getattr(self, n))


NO_LEVERS = Levers(root=False, fixing=False, incumbent=False)

PORTFOLIO = tuple((b, "cuts") for b in BACKEND_PORTFOLIO)
"""The entrants of `backend="portfolio"`: (back end, contiguity strategy), raced in
parallel processes; the first to prove wins."""
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
    levers: Levers | None = None,
    workers: int | None = None,
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

    `workers` processes (default: one per core) solve the counts of a range side by
    side (one at a time under a node limit, which the counts share);
    `backend="portfolio"` races the `PORTFOLIO` entrants and keeps the first proof.
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
    levers = Levers() if levers is None else levers
    workers = cores() if workers is None else max(1, int(workers))
    if node_limit is not None:
        workers = 1
    with stop.cooperating() if stop is not None else nullcontext():
        if name == "portfolio":
            return race(problem, PORTFOLIO, workers=workers, time_limit=limit, gap=gap,
                        warm_start=warm_start, heuristic=heuristic, levers=levers,
                        progress=progress, stop=stop, deterministic=deterministic,
                        since=since, reserve=reserve)
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
            node_limit=node_limit, deterministic=deterministic, levers=levers,
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
                            workers=workers, deadline=deadline)
            sol = run.combine(problem, [p for p in parts if p is not None])
            lost = [sub.k_min for (sub, _), p in zip(subs, parts, strict=True) if p is None]
            if lost and sol.status is not Status.ERROR:  # no bound for those counts
                sol = replace(sol, bound=None,
                              status=Status.FEASIBLE if sol.plan is not None
                              else Status.NO_SOLUTION,
                              message=f"{sol.message}; no answer for "
                                      f"{', '.join(map(str, lost))} area(s) in time")
            return sol
        parts = []
        for sub, start in subs:
            k = sub.k_min
            run.say(f"{k - 1} regional leads:" if problem.organiser is not None
                    else f"{k} areas:")
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
    levers: Levers = NO_LEVERS

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

    def local_search(self, problem: Problem, form, root) -> Plan | None:
        """A first plan by the tabu search of search/localsearch.py, verified, or None."""
        left = self.remaining()
        budget = LOCAL_SECONDS if left is None else min(LOCAL_SECONDS, LOCAL_SHARE * left)
        lead = search_plan(problem, _lead_weight(problem, form, root), time_limit=budget,
                           halt=self.deadline.expired)
        if lead is None:
            return None
        plan = Plan.from_leads(problem.instance, lead)
        return plan if verify(problem, plan).ok else None

    def descent(self, problem: Problem, form, root, start: Plan | None) -> Plan | None:
        """A better incumbent from the lead-set descent (search/incumbent.py), each restricted
        problem solved exactly by the same back end without the levers."""
        left = self.remaining()
        budget = INCUMBENT_SECONDS if left is None else min(INCUMBENT_SECONDS,
                                                             INCUMBENT_SHARE * left)
        weight = _lead_weight(problem, form, root)

        def solve_for_leads(sub: Problem, seconds: float) -> Plan | None:
            if self.deadline.expired():
                return None
            run = replace(self, start=time.perf_counter(), time_limit=seconds, heuristic=False,
                          levers=NO_LEVERS, say=lambda _msg: None, notes=[],
                          deadline=self.deadline.sooner(seconds))
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
        incumbent: tuple[float, Plan] | None = None
        given = warm_start is not None
        if warm_start is not None:
            check = verify(problem, warm_start)
            if check.ok:
                incumbent = (evaluate(problem, warm_start).objective, warm_start)
            else:
                if given:
                    self.notes.append("the warm start breaks a rule of the model and was not "
                                      f"used: {check.violations[0].message}")
                warm_start = None
        bound = -np.inf
        rounds = cuts = nodes = 0
        root = None
        fixed = ""  # the share of pairs fixed, said in the message
        if self.levers.root and problem.k_max > 1 and not self.deadline.expired():
            left = self.remaining()
            root = root_relaxation(
                milp, time_limit=None if left is None or self.deterministic else ROOT_SHARE * left,
                threads=self.threads, deadline=self.deadline)
            if root is not None:
                bound = root.bound
                self.say(f"root LP bound {root.bound:,.2f} after {root.rounds} rounds, "
                         f"{len(root.rows)} separator rows "
                         f"({time.perf_counter() - self.start:.1f} s)")
        starts = "warm_start" in engine.capabilities
        # the descent and the tabu search are budgeted in seconds: not in deterministic mode
        descent = self.levers.incumbent and problem.k_max > 1 and starts \
            and not self.deterministic and problem.n >= SEARCH_MIN_N
        if warm_start is None and self.heuristic and starts and not self.deadline.expired():
            if self.deterministic:
                warm_start = heuristic_plan(problem, time_limit=None, deadline=self.deadline,
                                            steps=HEURISTIC_STEPS)
            else:
                left = self.remaining()
                budget = HEURISTIC_SECONDS if left is None else min(HEURISTIC_SECONDS,
                                                                    HEURISTIC_SHARE * left)
                if descent:
                    budget = min(budget, HEURISTIC_SECONDS_BEFORE_DESCENT)
                warm_start = heuristic_plan(problem, time_limit=budget, deadline=self.deadline)
            if warm_start is not None:
                incumbent = (evaluate(problem, warm_start).objective, warm_start)
                self.say(f"heuristic plan: {incumbent[0]:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
        if self.levers.root and root is None:
            descent = False  # the LP is infeasible (so is the model) or out of time
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
                fixed = f"{100 * share:.0f} % of the assignment pairs fixed"
                self.say(f"fixed {100 * share:.1f} % of {form.num_pairs} pairs")
            milp = milp.with_rows(root.rows)
        x0 = form.start(warm_start) if warm_start is not None else None

        def finish(status: Status, message: str) -> Solution:
            return self.solution(problem, status, incumbent, bound,
                                 (form.strategy, rounds, cuts, nodes),
                                 f"{message}; {fixed}" if fixed else message)

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
            new_cuts = (milp.lazy.violated(res.values, integral=True)
                        if milp.lazy is not None else None)
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
