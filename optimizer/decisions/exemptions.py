"""Exemptions instead of "infeasible": the fewest areas that need an exemption from a floor.

The law lets the Government exempt an employment area from the 20,000 floor (six
areas had one in 2025). With `[exemptions]` an area may miss the exemptable
floors if the plan declares its exemption (formulation (4), (E)); a hard floor,
when given, still holds. Lexicographic: the fewest exempted areas first (proven),
then the cheapest plan with exactly that many (proven). When a model without
exemptions is infeasible, `explain_infeasible` says which floor falls short where,
by how much, and how many exemptions would make it feasible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..data.plan import Plan
from ..errors import InfeasibleModelError
from ..model.binding import bind
from ..model.evaluate import evaluate
from ..model.precheck import count_bound
from ..model.problem import Problem
from ..model.schema import Exemptions
from ..result import Solution
from ..search.heuristic import heuristic_plan
from ..status import Status
from ..stopping import Deadline
from .base import Decision, SolveOptions

EXPLAIN_SECONDS = 20.0
"""Most time spent finding how many exemptions an infeasible model would need."""


@dataclass(frozen=True)
class ExemptArea:
    """An exempted area and the floor it misses: its figure and the shortfall."""

    lead_code: str
    lead_name: str
    member_names: tuple[str, ...]
    floor: str
    value: float
    limit: float

    @property
    def shortfall(self) -> float:
        return max(self.limit - self.value, 0.0)

    def as_dict(self) -> dict:
        return {"lead_code": self.lead_code, "lead_name": self.lead_name,
                "members": list(self.member_names), "floor": self.floor, "value": self.value,
                "limit": self.limit, "shortfall": self.shortfall}




def short_areas(problem: Problem, plan: Plan) -> dict[int | str, list[ExemptArea]]:
    """Every area below an exemptable floor, with each floor it misses."""
    inst = problem.instance
    out: dict[int | str, list[ExemptArea]] = {}
    for key, members in plan.areas().items():
        code, name = plan.lead_label(key)
        for b in problem.floors:
            if not b.exemptable:
                continue
            total = float(b.values[members].sum()) + b.offset
            if total < b.limit - 1e-6:
                out.setdefault(key, []).append(ExemptArea(
                    code, name, tuple(inst.names[i] for i in members), b.label, total, b.limit))
    return out


def exempted_areas(problem: Problem, plan: Plan) -> tuple[ExemptArea, ...]:
    """The plan's declared exemptions, each with the floor it misses (by lead name)."""
    short = short_areas(problem, plan)
    return tuple(sorted((x for k in plan.exempt for x in short.get(k, ())),
                        key=lambda x: (x.lead_name, x.floor)))


def declare_short(problem: Problem, plan: Plan) -> Plan:
    """The plan declaring an exemption for exactly the areas below an exemptable floor."""
    return plan.with_exempt(short_areas(problem, plan))


def tidy(sol: Solution) -> Solution:
    """Drop exemptions a plan declares for areas that meet every floor (they cost nothing
    when exemptions are not counted in the objective, so a solver may leave them)."""
    problem = sol.problem
    if sol.plan is None or not sol.plan.exempt or \
            problem.objective_weights.get("exemptions", 0):
        return sol
    plan = sol.plan.with_exempt(set(sol.plan.exempt) & set(short_areas(problem, sol.plan)))
    return replace(sol, plan=plan, figures=evaluate(problem, plan))


def relaxed_start(problem: Problem, time_limit: float = 2.0,
                  deadline: Deadline | None = None) -> Plan | None:
    """A quick plan that meets every rule but the exemptable floors, its short areas declared
    (a start for the fewest-exemptions phase); None if none is found or it needs more
    exemptions than allowed."""
    relaxed = replace(problem, floors=tuple(b for b in problem.floors if not b.exemptable),
                      exemptions=None, limits={k: v for k, v in problem.limits.items()
                                               if k != "exemptions"}, weights=None)
    if relaxed.needs_phases:
        return None
    plan = heuristic_plan(relaxed, time_limit=time_limit, deadline=deadline)
    if plan is None:
        return None
    plan = declare_short(problem, plan)
    most = problem.limits.get("exemptions")
    return None if most is not None and len(plan.exempt) > most else plan


def arithmetic_exemptions(problem: Problem) -> tuple[int, str]:
    """Exemptions the sums alone prove necessary, before any search: at least k_min areas,
    but at most `count_bound` of them can meet every floor. Returns (how many, why in
    words); (0, "") when the sums prove none."""
    most = count_bound(replace(problem, floors=tuple(b for b in problem.floors
                                                     if b.exemptable)))
    need = problem.k_min - most
    if need <= 0:
        return 0, ""
    return need, (f"{problem.k_min} areas, but at most {most} can meet the exemptable floors "
                  "(each municipality that meets them alone is one area, the others hold "
                  "their total over the floor)")


def fewest_exemptions(problem: Problem, options: SolveOptions) -> Decision:
    """Phase 1: minimise the number of exempted areas; phase 2: the cheapest plan with that
    many. Both proven unless a limit stops them (then said so). What the sums alone prove
    is said before the search and bounds the answer from below."""
    base = dict(problem.objective_weights) if problem.weights is None else dict(problem.weights)
    first = replace(problem, weights={"exemptions": 1.0})
    least, why = arithmetic_exemptions(problem)
    notes = (f"at least {least} exemption{'s' if least != 1 else ''} before any search: "
             f"{why}",) if least else ()
    if least:
        options.say(notes[0])
    options.say("fewest exemptions: heuristic start")
    start = relaxed_start(first, deadline=options.deadline(first))
    one = options.solve(first, warm_start=start)
    phases: list[tuple[str, Solution]] = [("fewest exemptions", one)]
    if one.plan is None:
        return Decision("fewest exemptions", one, tuple(phases), None, False,
                        _at_least(_ceil(one.bound), least), notes)
    fewest = round(one.objective)
    proven = one.status is Status.OPTIMAL
    options.say(f"{fewest} exemption(s){'' if proven else ' (not proven)'}; now the cost")
    second = replace(problem, weights=base, limits={**problem.limits, "exemptions": fewest})
    two = tidy(options.solve(second, warm_start=one.plan))
    phases.append(("cost", two))
    if two.plan is None:  # stopped before a plan: the first phase's plan is still an answer
        two = tidy(replace(two, problem=second, plan=one.plan,
                           figures=evaluate(second, one.plan), status=Status.FEASIBLE,
                           objective=evaluate(second, one.plan).objective))
    return Decision("fewest exemptions", two, tuple(phases), float(fewest), proven,
                    float(fewest) if proven else _at_least(_ceil(one.bound), least), notes)


def _at_least(bound: float | None, least: int) -> float | None:
    """A lower bound on the exemptions, no weaker than the arithmetic one."""
    if not least:
        return bound
    return float(least) if bound is None else max(bound, float(least))


def _ceil(bound: float | None) -> float | None:
    return None if bound is None else float(math.ceil(bound - 1e-6))


def with_exemptions(problem: Problem, *, max_exemptions: int | None = None) -> Problem:
    """The problem with every floor exemptable (the fewest-first mode), bound afresh."""
    model = problem.model
    ex = model.exemptions if model.exemptions.enabled else Exemptions(enabled=True)
    ex = replace(ex, enabled=True, max=max_exemptions if max_exemptions is not None else ex.max)
    return bind(replace(model, exemptions=ex), problem.instance)


@dataclass(frozen=True, eq=False)
class Infeasibility:
    """Why no plan exists, as far as a short fewest-exemptions solve could tell: `verdict`
    is 'exemptions' (the `decision` says how many and which areas), 'none' (the model is
    feasible with every floor exempted and needs none), 'no help' (the other rules cannot
    be met), 'unsettled' (not answered in `time_limit` s) or 'impossible' (`detail`
    says why even exempting every floor fails)."""

    reason: str
    verdict: str
    decision: Decision | None = None
    time_limit: float = EXPLAIN_SECONDS
    detail: str = ""


def infeasibility(problem: Problem, reason: str, *, backend: str | None = None,
                  time_limit: float = EXPLAIN_SECONDS, stop=None) -> Infeasibility | None:
    """Try the fewest-exemptions question for a short time on a model that proved
    infeasible; None when the model has no floor to exempt (or already allows it)."""
    if not problem.floors or problem.exemptions is not None:
        return None
    try:
        relaxed = with_exemptions(problem)
        decision = fewest_exemptions(relaxed, SolveOptions(backend=backend,
                                                           time_limit=time_limit, stop=stop))
    except InfeasibleModelError as exc:
        return Infeasibility(reason, "impossible", time_limit=time_limit, detail=str(exc))
    first = decision.phases[0][1]
    if first.plan is None:
        verdict = "no help" if first.status is Status.INFEASIBLE else "unsettled"
        return Infeasibility(reason, verdict, decision, time_limit)
    return Infeasibility(reason, "exemptions" if int(decision.answer) else "none", decision,
                         time_limit)
