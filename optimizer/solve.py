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
from dataclasses import replace
from functools import partial

import numpy as np

from .backends import PORTFOLIO as BACKEND_PORTFOLIO
from .backends import available, get_backend
from .backends.cbc import remove_stale_folders
from .data.plan import Plan
from .errors import BackendError, InfeasibleModelError
from .memory import MemoryBudget
from .mip.formulation import STRATEGIES, build
from .model.evaluate import evaluate
from .model.objective import expand
from .model.precheck import diagnose
from .model.problem import Problem
from .model.verify import verify
from .result import Solution
from .rounds import Rounds, _proves, _signal
from .search.heuristic import heuristic_plan
from .search.lagrange import Lagrangian, keep_pairs
from .search.levers import HEURISTIC_SECONDS, HEURISTIC_STARTS_ALONE, HEURISTIC_STEPS, Levers
from .search.parallel import SharedCutoff, cores, run_all
from .sparse import kept_problem, needs_sparse, sparse_one
from .status import Status
from .stopping import Deadline, StopRequest
from .values import MAX_THREADS, integer, number

PORTFOLIO = tuple((b, "cuts") for b in BACKEND_PORTFOLIO)
"""The entrants of `backend="portfolio"`: (back end, contiguity strategy), raced in
parallel processes; the first to prove wins."""


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
    memory_limit: int | None = None,
    prune_counts: bool = False,
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
    With `prune_counts` the counts prune against each other (the least value any of them,
    or the warm start, has reached is a live cutoff for the others): faster, but a pruned
    count's own cost is then only bounded; without it every count is solved to its end,
    so that `per_count` says exactly what each count would cost (why this count).

    `memory_limit` (bytes; default a share of the machine's memory, optimizer.memory) is
    the budget the model must fit: a count whose full model would not fit, or whose pairs
    are too many for it to pay, is solved on the sparse model (optimizer/sparse.py); one
    that cannot be raises MemoryBudgetError saying what it would need.

    (long: the options' defaults, the memory budget, the back ends that are not solvers
    and the area-count range in the one entry point)
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
    deadline = Deadline.within(limit, since=since, reserve=reserve, request=stop)
    node_limit = node_limit if node_limit is not None else opts.node_limit
    deterministic = opts.deterministic if deterministic is None else deterministic
    notes = [*problem.notes, *(f"warm start: {note}" for note in
                               (warm_start.notes if warm_start is not None else ()))]
    name = backend or opts.backend
    if name == "auto":
        name = auto_backend(problem, workers)
    remove_stale_folders()
    levers = Levers() if levers is None else levers
    workers = cores() if workers is None else max(1, int(workers))
    if node_limit is not None:
        workers = 1
    budget = MemoryBudget.default() if memory_limit is None else MemoryBudget(memory_limit)
    with stop.cooperating() if stop is not None else nullcontext():
        if name == "portfolio":
            return race(problem, PORTFOLIO, workers=workers, time_limit=limit, gap=gap,
                        warm_start=warm_start, heuristic=heuristic, levers=levers,
                        progress=progress, stop=stop, deterministic=deterministic,
                        since=since, reserve=reserve, memory_limit=budget.share(
                            min(workers, len(PORTFOLIO))).limit)
        if name == "heuristic":
            if warm_start is not None:
                notes.append("the heuristic back end does not use a warm start")
            sol = heuristic_solution(problem, time_limit=limit, say=progress, stop=stop,
                                     deterministic=deterministic, since=since, budget=budget)
            return replace(sol, notes=tuple(notes))
        engine = get_backend(name)
        if warm_start is not None:
            engine.require("warm_start", "start from a given plan")
        if node_limit is not None:
            engine.require("node_limit", "stop after a number of branch-and-bound nodes")
        run = Rounds(
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
            return one_count(run, problem, warm_start, budget)  # the count itself weighed
        if warm_start is not None and \
                not problem.k_min <= len(warm_start.areas()) <= problem.k_max:
            run.notes.append(f"the warm start has {len(warm_start.areas())} areas, outside "
                             f"{problem.k_min}–{problem.k_max}, and was not used")
        if prune_counts:  # the counts prune against each other
            run = replace(run, shared=SharedCutoff())
            if warm_start is not None and verify(problem, warm_start).ok:
                run.shared.offer(evaluate(problem, warm_start).objective)
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
            each = budget.share(workers)
            floor = least_value(problem)
            parts = run_all([partial(one_count, alone, sub, start, each)
                             for sub, start in subs], workers=workers, deadline=deadline,
                            done=lambda _i, sol: sol.status is Status.OPTIMAL
                            and floor is not None and _proves(sol.objective, floor, run.gap))
            sol = run.combine(problem, [p for p in parts if p is not None])
            lost = [sub.k_min for (sub, _), p in zip(subs, parts, strict=True) if p is None]
            at_floor = floor is not None and sol.status is Status.OPTIMAL and \
                _proves(sol.objective, floor, run.gap)
            if lost and at_floor:  # the others were stopped: none can go below the floor
                return replace(sol, message=f"{sol.message}; the count(s) "
                               f"{', '.join(map(str, lost))} were stopped: no plan goes "
                               f"below {floor:g}")
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
            parts.append(one_count(run, sub, start, budget))
        return run.combine(problem, parts)


def least_value(problem: Problem) -> float | None:
    """A value no plan can go below whatever its count, when the objective has one without
    a solve: 0 for a weighted sum of terms that are never negative (the largest deficit,
    exemptions, moves, travel), else None. A count proven optimal at it settles a range."""
    weights = expand(problem.objective_weights)
    if all(w >= 0 and (w == 0 or t in ("deficit", "exemptions", "moves", "travel"))
           for t, w in weights.items()):
        return 0.0
    return None


def one_count(run: Rounds, problem: Problem, warm_start: Plan | None,
              budget: MemoryBudget) -> Solution:
    """One area count: the rounds on the full model, or on the sparse model when the full
    one would not fit the memory budget or has too many pairs to pay (sparse.py)."""
    size = needs_sparse(problem, run.strategy, budget)
    if size is None:
        return run.one(problem, warm_start)
    return sparse_one(run, problem, warm_start, budget, size)


def auto_backend(problem: Problem, workers: int | None = None) -> str:
    """The default back end for the problem's class, from the measurements in
    benchmarks/README.md ("Which back end"): HiGHS, except for contiguous areas within a
    balance band (the districting models), where scipopt proves the infeasible and the
    tightest cases several times faster and HiGHS the others, so both are raced when
    there are two cores for them."""
    band = problem.model.balance is not None and problem.contiguity
    if band and (cores() if workers is None else workers) >= 2 and available("portfolio"):
        return "portfolio"
    return "highs"


def race(problem: Problem, entrants, *, workers: int, progress=None, **options) -> Solution:
    """The entrants' solves side by side; the first proof (optimal or infeasible) wins and
    stops the rest. Without a proof, the best plan and the best bound of all are kept
    (every entrant's bound is a valid bound on the same problem). The command's deadline
    and stop request reach the racing processes: a signal stops them all, and the race
    keeps the best of what they hand back (marked interrupted)."""
    say = progress or (lambda _msg: None)
    say(f"racing {', '.join(f'{b}/{s}' for b, s in entrants)}")
    stop = options.get("stop")
    deadline = Deadline.within(options.get("time_limit"), since=options.get("since"),
                               reserve=options.get("reserve", 0.0), request=stop)
    tasks = [partial(solve, problem, backend=b, strategy=s, workers=1, **options)
             for b, s in entrants]
    results = run_all(tasks, workers=workers, deadline=deadline,
                      done=lambda _i, sol: sol.status in (Status.OPTIMAL, Status.INFEASIBLE))
    done = [r for r in results if r is not None]
    if not done:  # every entrant was stopped before it handed anything back
        status = Status.NO_SOLUTION
        return Solution(problem, status, None, None, None, None,
                        time.perf_counter() - (options.get("since") or time.perf_counter()),
                        "portfolio", "portfolio", "cuts", 0, 0, None,
                        options.get("gap") or 0.0, options.get("time_limit"),
                        f"{deadline.why}; no entrant of the race handed back a plan", (), None,
                        bool(options.get("deterministic")), _signal(stop))
    interrupted = _signal(stop) if deadline.stopped() else None
    proof = next((r for r in done if r.status in (Status.OPTIMAL, Status.INFEASIBLE)), None)
    if proof is not None:
        return replace(proof, message=f"{proof.message}; won the race against "
                       f"{len(entrants) - 1} other entrant(s)",
                       interrupted=proof.interrupted or interrupted)
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
    message = f"{best.message}; best of a race of {len(entrants)} entrants"
    if interrupted is not None and not message.startswith(stop.reason):
        message = f"{stop.reason}; {message}"
    return replace(best, status=status, bound=bound, message=message,
                   interrupted=best.interrupted or interrupted)


def heuristic_solution(problem: Problem, *, time_limit: float | None = None,
                       say: Callable[[str], None] | None = None,
                       stop: StopRequest | None = None,
                       deterministic: bool = False, since: float | None = None,
                       budget: MemoryBudget | None = None) -> Solution:
    """The heuristic's plan as a solution: never optimal; bound from the LP relaxation
    (from the Lagrangian relaxation when the model is too large for the budget).

    Within a time limit the heuristic takes 80 % of it and the LP bound the rest; in
    deterministic mode the heuristic counts steps instead."""
    start = time.perf_counter() if since is None else since
    deadline = Deadline.within(time_limit, since=start, request=stop)
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleModelError("the model cannot be satisfied: " + "; ".join(reasons))
    budget = budget or MemoryBudget.default()
    if needs_sparse(problem, "cuts", budget) is not None:
        return _heuristic_sparse(problem, deadline, start, time_limit, say, stop,
                                 deterministic)
    if deterministic:
        plan = heuristic_plan(problem, time_limit=None, deadline=deadline,
                              steps=HEURISTIC_STEPS * 5, starts=HEURISTIC_STARTS_ALONE)
    else:
        left = deadline.remaining()
        budget = HEURISTIC_SECONDS * 2.5 if left is None else 0.8 * left
        plan = heuristic_plan(problem, time_limit=budget, deadline=deadline,
                              starts=HEURISTIC_STARTS_ALONE)
    lp = get_backend("highs").solve(build(problem, "cuts").milp.relaxation(),
                                    deadline=deadline)
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


def _heuristic_sparse(problem: Problem, deadline: Deadline, start: float,
                      time_limit: float | None, say, stop, deterministic: bool) -> Solution:
    """The heuristic on the kept pairs and the Lagrangian bound, for a model too large to
    build."""
    pairs = keep_pairs(problem, halt=deadline.expired)
    kept = kept_problem(problem, pairs)
    left = deadline.remaining()
    plan = heuristic_plan(kept, time_limit=None if left is None else 0.7 * left,
                          deadline=deadline, starts=2,
                          steps=HEURISTIC_STEPS * 5 if deterministic else None)
    figs = evaluate(problem, plan) if plan is not None and verify(problem, plan).ok else None
    lag = Lagrangian(problem, pairs)
    lb = lag.run(upper=figs.objective if figs else None, halt=deadline.expired)
    bound = lb.bound if np.isfinite(lb.bound) else None
    if say is not None:
        say(f"heuristic: {'a plan' if figs else 'no plan'} in {time.perf_counter() - start:.2f} s")
    status = Status.FEASIBLE if figs is not None else Status.NO_SOLUTION
    message = "heuristic plan on the sparse model; bound from the Lagrangian relaxation"
    if deadline.stopped():
        message = f"{stop.reason}; {message}"
    return Solution(problem, status, plan if figs else None, figs,
                    figs.objective if figs else None,
                    bound if bound is None or figs is None else min(bound, figs.objective),
                    time.perf_counter() - start, "heuristic", "heuristic",
                    "heuristic", 0, 0, None, 0.0, time_limit, message, (), None,
                    deterministic, _signal(stop))
