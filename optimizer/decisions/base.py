"""What every decision shares: the solve options (one clock for all phases) and the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..model.problem import Problem
from ..result import Solution
from ..solve import solve
from ..status import Status
from ..stopping import Deadline, StopRequest


@dataclass(frozen=True)
class SolveOptions:
    """What every phase shares: back end, strategy, one clock, gap, threads, progress.

    The time limit counts from `started` for all phases together (one deadline for the
    command, `reserve` seconds of it kept for writing the outputs); `stop` ends every
    phase early; a node limit applies to each phase.
    """

    backend: str | None = None
    strategy: str | None = None
    time_limit: float | None = None
    gap: float | None = None
    threads: int | None = None
    log: bool = False
    progress: Callable[[str], None] | None = None
    started: float = field(default_factory=time.perf_counter)
    stop: StopRequest | None = None
    node_limit: int | None = None
    deterministic: bool | None = None
    reserve: float = 0.0
    memory_limit: int | None = None
    """Bytes the model may use (optimizer.memory; None: the default share)."""
    prune_counts: bool = False
    """The counts of a range prune against each other (optimizer.solve): for questions
    that need the best plan only, not each count's own cost."""

    def deadline(self, problem: Problem) -> Deadline:
        """The command's deadline (for the work between the solves, such as starts)."""
        limit = self.time_limit if self.time_limit is not None else \
            problem.model.solver.time_limit
        return Deadline.within(limit, since=self.started, reserve=self.reserve,
                               request=self.stop)

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def solve(self, problem: Problem, warm_start=None) -> Solution:
        """One exact solve within what is left of the time limit."""
        return solve(problem, backend=self.backend, strategy=self.strategy,
                     time_limit=self.time_limit, since=self.started, reserve=self.reserve,
                     gap=self.gap, warm_start=warm_start, threads=self.threads, log=self.log,
                     progress=self.progress, stop=self.stop, node_limit=self.node_limit,
                     deterministic=self.deterministic, memory_limit=self.memory_limit,
                     prune_counts=self.prune_counts)


@dataclass(frozen=True, eq=False)
class Decision:
    """The answer to a model's question.

    `solution` is the last phase (its plan verified under `solution.problem`);
    `phases` names every solve; `answer` is the first phase's figure (the fewest
    exemptions, the most areas), `answer_proven` whether its solve proved it and
    `answer_bound` the best bound on it when not.
    """

    question: str
    solution: Solution
    phases: tuple[tuple[str, Solution], ...]
    answer: float | None = None
    answer_proven: bool = False
    answer_bound: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def proven(self) -> bool:
        """Every phase proven optimal."""
        return all(s.status is Status.OPTIMAL for _, s in self.phases)

    @property
    def wall_time(self) -> float:
        return sum(s.wall_time for _, s in self.phases)

    def summary(self) -> dict:
        out = {"question": self.question, **self.solution.summary(),
               "phases": [{"phase": name, **s.summary()} for name, s in self.phases]}
        if self.answer is not None:
            out["answer"] = {"value": self.answer, "proven": self.answer_proven,
                             "bound": self.answer_bound}
        out["notes"] = list(self.all_notes)
        return out

    @property
    def all_notes(self) -> tuple[str, ...]:
        """The final solve's notes (clamped counts, an unused warm start) and the question's."""
        return tuple(dict.fromkeys((*self.solution.notes, *self.notes)))
