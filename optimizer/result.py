"""What a solve returns: the certificate and, when found, the verified plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from .data.plan import Plan
from .model.evaluate import PlanFigures
from .model.problem import Problem
from .status import Status, relative_gap


@dataclass(frozen=True)
class CountResult:
    """One area count of a range: what its solve proved and found."""

    areas: int
    status: Status
    objective: float | None
    bound: float | None

    def as_dict(self) -> dict:
        return {"areas": self.areas, "status": str(self.status), "objective": self.objective,
                "bound": self.bound}


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
    per_count: tuple[CountResult, ...] = ()
    """Each area count of a range, solved on its own: why this count and not another."""

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
            "per_count": [c.as_dict() for c in self.per_count],
        }
