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
import textwrap
from dataclasses import dataclass, replace

from ..data.plan import Plan
from ..errors import InfeasibleModelError
from ..model.binding import bind
from ..model.evaluate import evaluate
from ..model.problem import Problem
from ..model.schema import Exemptions
from ..output.text import WIDTH, region_name
from ..result import Solution
from ..search.heuristic import heuristic_plan
from ..status import Status
from ..stopping import Deadline
from .base import Decision, SolveOptions

EXPLAIN_SECONDS = 20.0
"""Most time spent finding how many exemptions an infeasible model would need."""
SHOWN_NAMES = 6


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

    def line(self) -> str:
        return (f"{self.lead_name} ({len(self.member_names)} municipalities: "
                f"{_names(self.member_names)}): {self.floor} {self.value:,.0f} < "
                f"{self.limit:,.0f}, {self.shortfall:,.0f} short")

    def as_dict(self) -> dict:
        return {"lead_code": self.lead_code, "lead_name": self.lead_name,
                "members": list(self.member_names), "floor": self.floor, "value": self.value,
                "limit": self.limit, "shortfall": self.shortfall}


def _names(names, shown: int = SHOWN_NAMES) -> str:
    names = sorted(names)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def short_areas(problem: Problem, plan: Plan) -> dict[int | str, list[ExemptArea]]:
    """Every area below an exemptable floor, with each floor it misses."""
    inst = problem.instance
    out: dict[int | str, list[ExemptArea]] = {}
    for key, members in plan.areas().items():
        code, name = plan.lead_label(key)
        for b in problem.floors:
            if not b.exemptable:
                continue
            total = float(b.values[members].sum())
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


def fewest_exemptions(problem: Problem, options: SolveOptions) -> Decision:
    """Phase 1: minimise the number of exempted areas; phase 2: the cheapest plan with that
    many. Both proven unless a limit stops them (then said so)."""
    base = dict(problem.objective_weights) if problem.weights is None else dict(problem.weights)
    first = replace(problem, weights={"exemptions": 1.0})
    options.say("fewest exemptions: heuristic start")
    start = relaxed_start(first, deadline=options.deadline(first))
    one = options.solve(first, warm_start=start)
    phases: list[tuple[str, Solution]] = [("fewest exemptions", one)]
    if one.plan is None:
        return Decision("fewest exemptions", one, tuple(phases), None, False,
                        _ceil(one.bound))
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
                    float(fewest) if proven else _ceil(one.bound))


def _ceil(bound: float | None) -> float | None:
    return None if bound is None else float(math.ceil(bound - 1e-6))


def with_exemptions(problem: Problem, *, max_exemptions: int | None = None) -> Problem:
    """The problem with every floor exemptable (the fewest-first mode), bound afresh."""
    model = problem.model
    ex = model.exemptions if model.exemptions.enabled else Exemptions(enabled=True)
    ex = replace(ex, enabled=True, max=max_exemptions if max_exemptions is not None else ex.max)
    return bind(replace(model, exemptions=ex), problem.instance)


def explain_infeasible(problem: Problem, reason: str, *, backend: str | None = None,
                       time_limit: float = EXPLAIN_SECONDS, stop=None) -> str:
    """Why no plan exists, in a planner's terms, and what exemptions would need.

    Tries the fewest-exemptions question for a short time: when it is answered, the
    message names the floor, the areas that fall short (by their municipalities) and by
    how much, and the number of exemptions `--exemptions` would need.
    """
    lines = [reason]
    if not problem.floors or problem.exemptions is not None:
        return reason
    try:
        relaxed = with_exemptions(problem)
        decision = fewest_exemptions(relaxed, SolveOptions(backend=backend,
                                                           time_limit=time_limit, stop=stop))
    except InfeasibleModelError as exc:
        return f"{reason}; even with exemptions from every floor: {exc}"
    first = decision.phases[0][1]
    if first.plan is None:
        if first.status is Status.INFEASIBLE:
            return (f"{reason}. Exempting areas from the floors would not help: the other "
                    "rules (area count, contiguity, caps, locks) cannot be met")
        return (f"{reason}. Whether exemptions help was not settled in {time_limit:g} s: "
                "try `--exemptions`")
    plan = decision.solution.plan
    short = exempted_areas(decision.solution.problem, plan)
    n = int(decision.answer)
    if not n:
        return reason
    floors = " and ".join(sorted({x.floor for x in short}))
    region = region_name(problem.instance)
    count = (f"{problem.k_min}" if problem.k_min == problem.k_max
             else f"{problem.k_min}–{problem.k_max}")
    if decision.answer_proven:
        need = (f"at least {n} area{'s' if n != 1 else ''} must fall short of {floors} "
                "(proven)")
    else:
        low = int(decision.answer_bound or 0)
        need = (f"between {low} and {n} areas must fall short of {floors} (not settled in "
                f"{time_limit:g} s)")
    lines.append(f"{region} cannot be split into {count} contiguous areas that all meet "
                 f"the floors: {need}. `--exemptions` finds the cheapest plan with "
                 f"{n} exemption{'s' if n != 1 else ''}, for instance:")
    lines.append(shortfall_summary(short))
    return "\n".join(textwrap.fill(x, WIDTH) if not x.startswith(" ") and "\n" not in x
                     else x for x in lines)


def shortfall_summary(areas: tuple[ExemptArea, ...]) -> str:
    """The exempted areas, one line per area with each floor it misses (terminal output)."""
    if not areas:
        return "no area has an exemption"
    by_area: dict[str, list[ExemptArea]] = {}
    for x in areas:
        by_area.setdefault(x.lead_code, []).append(x)
    n = len(by_area)
    lines = [f"{n} exempted area{'s' if n != 1 else ''}:"]
    for xs in by_area.values():
        x = xs[0]
        misses = "; ".join(f"{y.floor} {y.value:,.0f} < {y.limit:,.0f} ({y.shortfall:,.0f} "
                           "short)" for y in xs)
        lines.append(textwrap.fill(
            f"{x.lead_name} ({len(x.member_names)} municipalities: {_names(x.member_names)}): "
            f"{misses}", WIDTH, initial_indent="  - ", subsequent_indent="      "))
    return "\n".join(lines)
