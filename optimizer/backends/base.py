"""The back-end interface: one small base class, one status vocabulary, one result type."""

from __future__ import annotations

import importlib.util
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import ClassVar

import numpy as np

from ..errors import BackendError
from ..milp import MILP


@cache
def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False


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


@dataclass(frozen=True, eq=False)
class SolverResult:
    """The outcome of one back-end call, filled the same way by every back end."""

    status: Status
    backend: str
    version: str
    wall_time: float
    objective: float | None = None
    bound: float | None = None
    nodes: int | None = None
    values: np.ndarray | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if self.status.has_solution and (self.values is None or self.objective is None):
            raise BackendError(f"{self.backend}: status {self.status} without a solution")
        if self.status is Status.OPTIMAL and self.bound is None:
            object.__setattr__(self, "bound", self.objective)

    @property
    def gap(self) -> float | None:
        return relative_gap(self.objective, self.bound)


CAPABILITIES = frozenset({"warm_start", "fractional_objective", "threads", "lazy_rows"})
"""What a back end may declare: accept a start solution, non-integer objective
coefficients, a thread count, enforce `MILP.lazy` inside its own search."""


class Backend(ABC):
    """A thin translation of `MILP` into one solver. Subclasses declare what they support."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]]
    module: ClassVar[str] = ""
    """The Python module the back end needs; `available` checks it can be found."""

    @classmethod
    def available(cls) -> bool:
        """Whether the solver can run here (cheap; no solve)."""
        return _findable(cls.module)

    @classmethod
    @abstractmethod
    def version(cls) -> str: ...

    @abstractmethod
    def solve(
        self,
        milp: MILP,
        *,
        time_limit: float | None = None,
        gap: float = 0.0,
        warm_start: np.ndarray | None = None,
        threads: int | None = None,
        log: bool = False,
    ) -> SolverResult:
        """Minimise `milp`; `time_limit` is wall-clock seconds."""

    def require(self, capability: str, why: str) -> None:
        if capability not in self.capabilities:
            raise BackendError(f"back end {self.name!r} cannot {why} (no '{capability}' support)")
