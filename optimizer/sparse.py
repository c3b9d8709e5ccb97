"""One area count without the full model: kept pairs, a Lagrangian bound, the survivors.

When the full model would not fit the memory budget (or the pairs are too many for
it to pay), an area count is solved on a model of a few pairs per municipality:

1. `keep_pairs`: each municipality's nearest leads and each lead's nearest members;
   the least cost of every pair left out is kept too (search/lagrange.py).
2. A Lagrangian bound over *all* pairs (the left-out ones are accounted for by those
   least costs), valid for the full problem whatever happens next.
3. An incumbent: the warm start, else the heuristic on the kept pairs, improved by
   the usual rounds (root LP, lead-set descent, branch and bound) on the kept pairs
   within a share of the time. Any plan of the kept pairs is a plan of the full
   problem.
4. The Lagrangian again, against that incumbent, and the pairs it cannot exclude
   (`survivors`, kept or not): every plan better than the incumbent uses only them.
   When they fit, the rounds solve the model of the survivors: its optimum (or its
   bound, if stopped) is then the full problem's, since nothing outside can do
   better than the incumbent.

Memory grows with the pairs kept and surviving (and the instance's own n × n
matrices), never with the n² pairs of the full model.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from .data.plan import Plan
from .errors import InfeasibleModelError, MemoryBudgetError
from .memory import MemoryBudget, gigabytes
from .mip.pairs import ModelSize, estimate, pairs_only
from .model.evaluate import evaluate
from .model.problem import Problem
from .model.verify import verify
from .result import Solution
from .rounds import Rounds, _proves
from .search.heuristic import heuristic_plan
from .search.lagrange import Lagrangian, keep_pairs, survivors
from .status import Status

PER_MEMBER = 12
"""Leads kept per municipality (its nearest)."""
PER_LEAD = 40
"""Members kept per lead (its nearest)."""
FIRST_ITERATIONS = 150
"""Subgradient steps before there is an incumbent."""
ITERATIONS = 600
"""Subgradient steps against the incumbent."""
HEURISTIC_SHARE = 0.25
"""Share of the time left the heuristic may take on the kept pairs."""
LARGE_HEURISTIC_SHARE = 0.6
"""... when the kept pairs are too many for the rounds on them to pay."""
KEPT_SHARE = 0.5
"""Share of the time left the rounds may take on the kept pairs."""
SPARSE_PAIRS = 250_000
"""More pairs than this in the full model: the sparse model even when memory allows the
full one (HiGHS's presolve of 640,000 pairs did not finish in 120 s)."""
ROUNDS_PAIRS = 250_000
"""More kept pairs than this: no rounds on the kept pairs (they would not pay within the
time; the heuristic gets the time instead)."""


def needs_sparse(problem: Problem, strategy: str, budget: MemoryBudget) -> ModelSize | None:
    """The full model's size when it should not be built (over the budget or too many
    pairs), else None. Raises MemoryBudgetError when it does not fit and the sparse model
    cannot stand in (a problem that is more than pairs)."""
    size = estimate(problem, strategy)
    too_big = not budget.fits(size.bytes)
    if not too_big and size.pairs <= SPARSE_PAIRS:
        return None
    why = pairs_only(problem)
    if why is None:
        return size
    if not too_big:
        return None
    raise MemoryBudgetError(
        f"the model needs about {gigabytes(size.bytes)} ({size.pairs:,} assignment pairs, "
        f"{size.nonzeros:,} nonzeros) but the memory limit is {gigabytes(budget.limit)}, "
        f"and the sparse model cannot stand in ({why}): raise --memory-limit, or allow "
        "fewer pairs (areas.max_distance_km, areas.candidate_leads)")


def restricted(problem: Problem, member: np.ndarray, lead: np.ndarray,
               opened: np.ndarray | None = None) -> Problem:
    """The problem with only these pairs allowed (and these leads open); a lead's own
    pair (j, j) must be among them for j to lead."""
    mask = np.zeros((problem.n, problem.n), dtype=bool)
    mask[member, lead] = True
    fixed = problem.fixed
    if opened is not None and len(opened):
        fixed = tuple(sorted({*problem.fixed, *(int(j) for j in opened)}))
    return replace(problem, allowed=problem.allowed & mask, fixed=fixed)


def kept_problem(problem: Problem, pairs) -> Problem:
    """The problem restricted to the kept pairs (and every lead's own pair)."""
    own = np.arange(problem.n)
    return restricted(problem, np.concatenate([pairs.member, own]),
                      np.concatenate([pairs.lead, own]))


def sparse_one(run: Rounds, problem: Problem, warm_start: Plan | None,
               budget: MemoryBudget, size: ModelSize) -> Solution:
    """Solve one area count on the sparse model (module docstring).

    (long: the steps of the module docstring in order, each stopping on the deadline
    with what it has: pairs kept, bound, incumbent, survivors, the final model)
    """
    deadline = run.deadline
    say = run.say
    halt = deadline.expired
    say(f"sparse model: the full one would need about {gigabytes(size.bytes)} "
        f"({size.pairs:,} pairs)")
    try:
        pairs = keep_pairs(problem, per_member=PER_MEMBER, per_lead=PER_LEAD, halt=halt)
    except TimeoutError:
        return run.solution(problem, Status.NO_SOLUTION, None, -np.inf,
                            ("sparse", 0, 0, 0), run.why("while the pairs were chosen"))
    lag = Lagrangian(problem, pairs)
    lb = lag.run(iterations=FIRST_ITERATIONS, halt=halt)
    bound = lb.bound
    if not np.isfinite(bound) and bound > 0:
        raise InfeasibleModelError("no plan meets the floors and the area count even with "
                                   "fractional assignments (Lagrangian relaxation)")
    say(f"Lagrangian bound {bound:,.2f} over {pairs.count:,} kept pairs "
        f"({time.perf_counter() - run.start:.1f} s)")
    incumbent: tuple[float, Plan] | None = None
    if warm_start is not None and verify(problem, warm_start).ok:
        incumbent = (evaluate(problem, warm_start).objective, warm_start)
    kept = kept_problem(problem, pairs)
    if incumbent is None and run.heuristic and not halt():
        left = deadline.remaining()
        small = len(pairs.member) <= ROUNDS_PAIRS  # else the rounds on them do not pay
        plan = heuristic_plan(kept, time_limit=None if left is None else
                              (HEURISTIC_SHARE if small else LARGE_HEURISTIC_SHARE) * left,
                              deadline=deadline, starts=2 if small else 6)
        if plan is not None and verify(problem, plan).ok:
            incumbent = (evaluate(problem, plan).objective, plan)
            say(f"heuristic plan: {incumbent[0]:,.2f} ({time.perf_counter() - run.start:.1f} s)")
    rounds = cuts = nodes = 0
    kept_size = estimate(kept, run.strategy)
    if not halt() and budget.fits(kept_size.bytes) and kept_size.pairs <= ROUNDS_PAIRS:
        left = deadline.remaining()
        sub = _sub_run(run, None if left is None else KEPT_SHARE * left)
        try:
            sol = sub.one(kept, incumbent[1] if incumbent else None)
        except InfeasibleModelError:
            sol = None
        if sol is not None:
            rounds, cuts, nodes = rounds + sol.rounds, cuts + sol.cuts, nodes + (sol.nodes or 0)
            if sol.plan is not None and verify(problem, sol.plan).ok and (
                    incumbent is None or sol.objective < incumbent[0]):
                incumbent = (sol.objective, sol.plan)
                say(f"best plan on the kept pairs: {incumbent[0]:,.2f} "
                    f"({time.perf_counter() - run.start:.1f} s)")
    message = "sparse model"
    if incumbent is not None and not halt():
        lb = lag.run(upper=incumbent[0], lam=lb.lam, iterations=ITERATIONS, halt=halt,
                     target_gap=run.gap)
        bound = max(bound, lb.bound)
        say(f"Lagrangian bound {bound:,.2f} against the plan "
            f"({time.perf_counter() - run.start:.1f} s)")
        if not _proves(incumbent[0], bound, run.gap) and not halt():
            left = budget.limit - size.dense - 400 * 2**20
            most = max(0, left // (8 * 8 * 16))  # a pair costs about 8 nonzeros of 16 B
            alive = survivors(lag, lb, incumbent[0], max_pairs=most, halt=halt)
            if alive is not None:
                share = 100.0 * (1.0 - len(alive.member) / max(1, size.pairs))
                say(f"{len(alive.member):,} pairs survive the Lagrangian fixing "
                    f"({share:.1f} % excluded)")
                message = f"sparse model; {share:.0f} % of the pairs excluded by the " \
                          "Lagrangian bound"
                final = restricted(problem, alive.member, alive.lead, alive.opened)
                if budget.fits(estimate(final, run.strategy).bytes):
                    sub = _sub_run(run, None)
                    try:
                        sol = sub.one(final, incumbent[1])
                    except InfeasibleModelError:  # nothing beats the incumbent
                        sol = None
                        bound = max(bound, incumbent[0])
                    if sol is not None:
                        rounds += sol.rounds
                        cuts += sol.cuts
                        nodes += sol.nodes or 0
                        if sol.status is Status.INFEASIBLE:
                            bound = max(bound, incumbent[0])
                        elif sol.bound is not None:
                            bound = max(bound, min(incumbent[0], sol.bound))
                        if sol.plan is not None and sol.objective < incumbent[0] \
                                and verify(problem, sol.plan).ok:
                            incumbent = (sol.objective, sol.plan)
    counts = ("cuts" if problem.contiguity else "none", rounds, cuts, nodes)
    if incumbent is not None and _proves(incumbent[0], bound, run.gap):
        return run.solution(problem, Status.OPTIMAL, incumbent, bound, counts,
                            f"proven optimal; {message}")
    status = Status.FEASIBLE if incumbent is not None else Status.NO_SOLUTION
    return run.solution(problem, status, incumbent, bound, counts,
                        run.why(f"before the gap closed ({message})") if halt()
                        else f"{message}; the gap did not close")


def _sub_run(run: Rounds, seconds: float | None) -> Rounds:
    """The rounds for a restricted model: their own notes and messages, a shorter clock."""
    return replace(run, deadline=run.deadline.sooner(seconds), notes=[],
                   say=lambda _msg: None, start=time.perf_counter())
