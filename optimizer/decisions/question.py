"""Solve a model by the question it asks: the cheapest plan, the fewest exemptions first,
or the largest number of areas. Each question is a sequence of exact solves (phases);
the last phase's plan is the answer and was verified under that phase's problem.
"""

from __future__ import annotations

from dataclasses import replace

from ..model.problem import Problem
from ..model.verify import verify
from .areas import most_areas
from .base import Decision, SolveOptions
from .exemptions import declare_short, fewest_exemptions, tidy


def solve_model(problem: Problem, options: SolveOptions | None = None, *,
                warm_start=None) -> Decision:
    """The model's question answered: cheapest plan, fewest exemptions, or most areas.
    `warm_start` starts a single solve (the questions in phases make their own starts;
    against a reference plan, the reference itself starts it when it keeps every rule)."""
    options = options or SolveOptions()
    if problem.needs_phases:
        decision = most_areas(problem, options) if problem.model.most_areas \
            else fewest_exemptions(problem, options)
        if warm_start is None:
            return decision
        unused = f"the warm start was not used: the model asks for {problem.needs_phases}"
        return replace(decision, notes=(*decision.notes, unused))
    if warm_start is None and problem.reference is not None:
        warm_start = reference_start(problem)  # zero moves: a start the heuristic lacks
    sol = tidy(options.solve(problem, warm_start=warm_start))
    return Decision("cost", sol, (("cost", sol),))

def reference_start(problem: Problem):
    """The reference plan itself as a start (its short areas declared exempt when the
    model allows exemptions), or None when it breaks a rule of the problem."""
    plan = problem.reference.plan
    if problem.exemptions is not None:
        plan = declare_short(problem, plan)
    return plan if verify(problem, plan).ok else None
