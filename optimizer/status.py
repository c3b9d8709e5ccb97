"""The one status vocabulary of every back end and every solve: only OPTIMAL claims optimality."""

from __future__ import annotations

import math
from enum import StrEnum


class Status(StrEnum):
    """What a solve proved. Only OPTIMAL claims optimality (within the stated gap)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible-at-limit"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no-solution-at-limit"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|objective − bound| / max(|objective|, 1e-9), the convention of HiGHS and Gurobi."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)
