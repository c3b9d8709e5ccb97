"""One area count solved exactly: the incumbent, the root LP, then the back end in cut rounds.

`Rounds` carries what the solves of one `solve` call share (back end, clock,
node budget, notes); `Rounds.one` is the cut loop of docs/design.md §4.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .data.plan import Plan
from .errors import InfeasibleModelError, signal_name
from .mip.formulation import build
from .mip.pairs import pairs_only
from .model.evaluate import evaluate
from .model.problem import Problem
from .model.verify import Verification, verify
from .result import CountResult, Solution
from .search.fixing import reduced_cost_fixing, root_relaxation
from .search.heuristic import heuristic_plan, repair_plan
from .search.incumbent import descend
from .search.lagrange import Lagrangian, keep_pairs, survivors
from .search.levers import (
    DESCENT_GAP,
    HEURISTIC_SECONDS,
    HEURISTIC_SECONDS_BEFORE_DESCENT,
    HEURISTIC_SHARE,
    HEURISTIC_STEPS,
    INCUMBENT_SECONDS,
    INCUMBENT_SHARE,
    LAGRANGE_ITERATIONS,
    LAGRANGE_SECONDS,
    LAGRANGE_SHARE,
    LAGRANGE_UNLESS_FIXED,
    LOCAL_SECONDS,
    LOCAL_SHARE,
    NO_LEVERS,
    REPAIR_SECONDS,
    REPAIR_STEPS,
    ROOT_SHARE,
    SEARCH_MIN_N,
    Levers,
)
from .search.localsearch import search_plan
from .search.parallel import SharedCutoff
from .status import Status
from .stopping import Deadline, StopRequest

OBJECTIVE_TOL = 1e-6


@dataclass
class Rounds:
    """Options, clock and work counters shared by the solves of one `solve` call; `one`
    solves one area count."""

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
    shared: SharedCutoff | None = None
    """The least value of a plan found for another area count of the same problem (or the
    warm start's): a count whose bound reaches it is settled without beating it."""

    def offer(self, incumbent) -> None:
        if self.shared is not None and incumbent is not None:
            self.shared.offer(incumbent[0])

    def settled(self, incumbent, bound: float) -> bool:
        """Whether this count cannot beat the plan of another count (or the start)."""
        if self.shared is None:
            return False
        best = self.shared()
        return bool(np.isfinite(best)) and (incumbent is None or incumbent[0] > best) \
            and _proves(best, bound, self.gap)

    def cutoff(self):
        """The live cutoff for the back end, when it can use one."""
        return self.shared if self.shared is not None and \
            "cutoff" in self.engine.capabilities else None

    def nodes_left(self) -> int | None:
        return None if self.node_limit is None else max(self.node_limit - self.nodes_used, 0)

    def why(self, what: str) -> str:
        """Why a run stopped early: a signal, or the time (or node) limit, and where. A
        solver with its own clock may stop a moment before the deadline does: without a node
        limit, only the time limit is left to have stopped it."""
        if self.deadline.stopped():
            return f"{self.deadline.request.reason} {what}"
        if self.deadline.expired() or (self.node_limit is None and self.deadline.at is not None):
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
        """One certificate for a range of area counts from the per-count solutions (each
        count's result kept in `per_count`)."""
        return replace(self._combine(problem, parts), per_count=tuple(
            CountResult(s.problem.k_min, s.status, s.objective, s.bound) for s in parts))

    def _combine(self, problem: Problem, parts: list[Solution]) -> Solution:
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

    def lagrangian(self, problem: Problem, root, value: float | None, again=None):
        """(relaxation, bound) of the Lagrangian over every pair against the incumbent's
        `value` (None: no plan yet), from the root LP's duals of the assignment rows (1), or
        continued from an earlier (relaxation, bound) `again`; None if it has nothing."""
        left = self.deadline.remaining()
        seconds = None if self.deterministic else (
            LAGRANGE_SECONDS if left is None else min(LAGRANGE_SECONDS, LAGRANGE_SHARE * left))
        lam = None if root is None or root.duals is None else root.duals[: problem.n]
        end = None if seconds is None else time.perf_counter() + seconds

        def halt() -> bool:
            return self.deadline.expired() or (end is not None and time.perf_counter() > end)

        if again is not None:
            lag, lam = again[0], again[1].lam
        else:
            try:
                lag = Lagrangian(problem, keep_pairs(problem, halt=halt))
            except TimeoutError:
                return None
        lb = lag.run(upper=value, lam=lam, halt=halt, target_gap=self.gap,
                     iterations=LAGRANGE_ITERATIONS if again is None else LAGRANGE_ITERATIONS // 3)
        if again is not None and again[1].bound > lb.bound:
            lb = again[1]
        return (lag, lb) if np.isfinite(lb.bound) else None

    def local_search(self, problem: Problem, form, root) -> Plan | None:
        """A first plan by the tabu search of search/localsearch.py, verified, or None."""
        left = self.deadline.remaining()
        budget = LOCAL_SECONDS if left is None else min(LOCAL_SECONDS, LOCAL_SHARE * left)
        lead = search_plan(problem, _lead_weight(problem, form, root), time_limit=budget,
                           halt=self.deadline.expired)
        if lead is None:
            return None
        plan = Plan.from_leads(problem.instance, lead)
        return plan if verify(problem, plan).ok else None

    def descent(self, problem: Problem, form, root, start: Plan | None,
                lagrangian=None) -> Plan | None:
        """A better incumbent from the lead-set descent (search/incumbent.py), each restricted
        problem solved exactly by the same back end without the levers. The leads open in
        the Lagrangian relaxation (a `LagrangeBound`) are its second lead set, after the
        root LP's."""
        left = self.deadline.remaining()
        budget = INCUMBENT_SECONDS if left is None else min(INCUMBENT_SECONDS,
                                                             INCUMBENT_SHARE * left)
        weight = _lead_weight(problem, form, root)
        also = ()
        if lagrangian is not None:
            also = (tuple(int(j) for j in np.flatnonzero(lagrangian.chosen)),)
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
                       bound=root.bound if root is not None else -np.inf, also=also)

    def one(self, problem: Problem, warm_start: Plan | None) -> Solution:
        """Solve a problem with one area count (the cut loop lives here).

        (long: the cut loop of docs/design.md §4 as one sequence: the incumbent, the root LP
        and fixing, then rounds until a proof, a limit or a stop)
        """
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
        bound = _box_bound(milp)
        rounds = cuts = nodes = 0
        root = None
        fixed = ""  # the share of pairs fixed, said in the message
        # The Lagrangian (on a problem of pairs alone) starts from the root LP's duals: tried
        # first without the LP, it converged to a weaker bound (capacitated p-median: 993.9
        # against 1,000.3 after 300 steps) and its leads alone made a poorer descent
        # (Louisiana: no plan in 8 s against one in 4.5 s), which cost more than the LP
        # saved (2.1 s on Nebraska).
        lagrange = self.levers.lagrange and problem.k_max > 1 and pairs_only(problem) is None
        if self.levers.root and problem.k_max > 1 and not self.deadline.expired():
            left = self.deadline.remaining()
            root = root_relaxation(
                milp, time_limit=None if left is None or self.deterministic else ROOT_SHARE * left,
                threads=self.threads, deadline=self.deadline)
            if root is not None:
                bound = max(bound, root.bound)
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
                left = self.deadline.remaining()
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
        lagrangian = None
        if lagrange and incumbent is None and not self.deadline.expired():
            # without a plan, the relaxation's leads start the descent (capacitated p-median:
            # the optimum at once); with one, the bound waits for the descent's plan
            lagrangian = self.lagrangian(problem, root, None)
            if lagrangian is not None:
                bound = max(bound, lagrangian[1].bound)
                self.say(f"Lagrangian bound {lagrangian[1].bound:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
        before = incumbent[0] if incumbent else None
        if descent and (incumbent is None or not _proves(incumbent[0], bound, DESCENT_GAP)):
            better = self.descent(problem, form, root, warm_start,
                                  lagrangian[1] if lagrangian else None)
            if better is not None and (incumbent is None
                                       or evaluate(problem, better).objective < incumbent[0]):
                warm_start = better
                incumbent = (evaluate(problem, better).objective, better)
                self.say(f"lead-set descent: {incumbent[0]:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
        if incumbent is None and descent and (problem.floors or problem.caps):
            found = self.local_search(problem, form, root)
            if found is not None:
                warm_start = found
                incumbent = (evaluate(problem, found).objective, found)
                self.say(f"local search plan: {incumbent[0]:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
        if incumbent is not None and _proves(incumbent[0], bound, self.gap):
            return self.solution(problem, Status.OPTIMAL, incumbent, bound,
                                 (form.strategy, 0, 0, 0),
                                 "proven optimal: the root relaxation's bound meets the plan")
        self.offer(incumbent)
        if self.settled(incumbent, bound):
            return self.solution(problem, Status.FEASIBLE if incumbent else Status.NO_SOLUTION,
                                 incumbent, bound, (form.strategy, 0, 0, 0),
                                 f"no plan below {self.shared():,.2f} (a plan with another area "
                                 "count): the root relaxation's bound reaches it")
        rc_share = 0.0
        if root is not None:
            if self.levers.fixing and incumbent is not None:
                fixing = reduced_cost_fixing(milp, root, incumbent[0], _extra_cost(milp))
                milp = fixing.apply(milp)
                share = rc_share = fixing.share(np.arange(form.num_pairs))
                fixed = (f"{fixed}; " if fixed else "") + \
                    f"{100 * share:.0f} % of the assignment pairs fixed by reduced cost"
                self.say(f"fixed {100 * share:.1f} % of {form.num_pairs} pairs")
            milp = milp.with_rows(root.rows)
        if lagrange and incumbent is not None and not self.deadline.expired() \
                and rc_share < LAGRANGE_UNLESS_FIXED:
            if lagrangian is None or before is None or incumbent[0] < before:
                lagrangian = self.lagrangian(problem, root, incumbent[0], lagrangian)
            if lagrangian is not None:
                bound = max(bound, lagrangian[1].bound)
                self.say(f"Lagrangian bound against the plan {lagrangian[1].bound:,.2f} "
                         f"({time.perf_counter() - self.start:.1f} s)")
                if _proves(incumbent[0], bound, self.gap):
                    return self.solution(problem, Status.OPTIMAL, incumbent, bound,
                                         (form.strategy, 0, 0, 0), "proven optimal: the "
                                         "Lagrangian bound meets the plan")
                milp, share = _lagrange_fix(form, milp, *lagrangian, incumbent)
                if share is not None:
                    fixed = (f"{fixed}; " if fixed else "") + \
                        f"{100 * share:.0f} % of the pairs excluded by the Lagrangian bound"
                    self.say(f"Lagrangian fixing: {100 * share:.1f} % of the pairs excluded")
        x0 = form.start(warm_start) if warm_start is not None else None

        def finish(status: Status, message: str) -> Solution:
            return self.solution(problem, status, incumbent, bound,
                                 (form.strategy, rounds, cuts, nodes),
                                 f"{message}; {fixed}" if fixed else message)

        def stopped(why: str) -> Solution:
            return finish(Status.FEASIBLE if incumbent else Status.NO_SOLUTION, why)

        while True:
            remaining = self.deadline.remaining()
            if remaining is not None and remaining <= 0:
                return stopped(self.why("between cut rounds" if rounds
                                        else "before the first solve"))
            start_vec = x0 if x0 is not None and milp.is_feasible(x0) else None
            self.say(f"round {rounds + 1}: {engine.name} on {milp.num_cols} columns, "
                     f"{milp.num_rows} rows ({time.perf_counter() - self.start:.1f} s)")
            res = engine.solve(milp, deadline=self.deadline, gap=self.gap, warm_start=start_vec,
                               threads=self.threads, log=self.log, node_limit=self.nodes_left(),
                               deterministic=self.deterministic, cutoff=self.cutoff())
            if start_vec is not None and not _consistent(milp, res) \
                    and res.status.has_solution and not self.deadline.expired():
                # HiGHS has been seen to report the objective of its presolved start with the
                # start's own values: solve the round again without the start.
                self.notes.append("the back end's answer with the start did not match its "
                                  "values; that round was solved again without the start")
                res = engine.solve(milp, deadline=self.deadline, gap=self.gap,
                                   threads=self.threads, log=self.log,
                                   node_limit=self.nodes_left(),
                                   deterministic=self.deterministic, cutoff=self.cutoff())
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
            if (res.objective is None or self.shared is None or res.objective >=
                    self.shared()) and self.settled(incumbent, bound):
                return finish(Status.FEASIBLE if incumbent else Status.NO_SOLUTION,
                              f"no plan below {self.shared():,.2f}, the value of a plan with "
                              "another area count")
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
                        self.offer(incumbent)
                        x0 = form.start(repaired)
                        self.say(f"repaired plan: {value:,.2f}")
                        if lagrangian is not None:  # a better plan excludes more pairs
                            milp, _ = _lagrange_fix(form, milp, *lagrangian, incumbent)
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
                self.offer(incumbent)
            if res.status is Status.OPTIMAL:
                return finish(Status.OPTIMAL, "proven optimal")
            return stopped(self.why(f"before proving optimality ({res.message})"))


def _signal(request: StopRequest | None) -> str | None:
    return signal_name(request.signum) if request is not None and request.signum else None


def _lagrange_fix(form, milp, lag, lb, incumbent):
    """The MILP with the pairs the Lagrangian bound excludes against the incumbent fixed to
    0 and the leads it keeps open fixed to 1, and the share of pairs excluded (None, and
    the MILP as it was, when there is nothing to fix or the incumbent would be cut)."""
    alive = survivors(lag, lb, incumbent[0])
    if alive is None:
        return milp, None
    n = form.problem.n
    keep = np.isin(form.pair_i.astype(np.int64) * n + form.pair_j,
                   alive.member.astype(np.int64) * n + alive.lead)
    hi = milp.col_hi.copy()
    lo = milp.col_lo.copy()
    hi[: form.num_pairs][~keep] = 0.0
    opened = form.lead_col[alive.opened]
    lo[opened[opened >= 0]] = 1.0
    x0 = form.start(incumbent[1])
    if x0 is None or np.any(x0 > hi + 1e-9) or np.any(x0 < lo - 1e-9):
        return milp, None  # never cut the incumbent (numerical safety)
    return replace(milp, col_lo=lo, col_hi=hi), float((~keep).mean())


def _box_bound(milp) -> float:
    """The least the objective can be within the columns' bounds alone (−inf if unbounded):
    0 for the largest deficit, whose column is at least 0."""
    c = milp.c
    lo = np.where(c > 0, milp.col_lo, milp.col_hi)
    with np.errstate(invalid="ignore"):
        terms = np.where(c == 0, 0.0, c * lo)
    value = float(terms.sum()) + milp.offset
    return value if np.isfinite(value) else -np.inf


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
