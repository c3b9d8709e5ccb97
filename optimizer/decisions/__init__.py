"""Decisions a planner takes on top of single solves: exemptions instead of "infeasible",
the largest number of areas, two plans compared, minimal change from a reference plan,
Pareto fronts of two objective terms and scenario sweeps on a Dask cluster."""

from .areas import count_bound, greedy_most_areas, most_areas
from .base import Decision, SolveOptions
from .exemptions import (
    ExemptArea,
    exempted_areas,
    fewest_exemptions,
    infeasibility,
    with_exemptions,
)
from .question import solve_model

__all__ = [
    "Decision",
    "ExemptArea",
    "SolveOptions",
    "count_bound",
    "exempted_areas",
    "fewest_exemptions",
    "greedy_most_areas",
    "infeasibility",
    "most_areas",
    "solve_model",
    "with_exemptions",
]
