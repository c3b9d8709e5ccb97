"""Scenario sweeps: the grid of `--set key=v1,v2` values and one scenario's solve.

Every scenario is the model file with some keys set (validated like the file,
before anything runs); a worker answers the model's question (`solve_model`)
and returns the decision, or the failure as a message.
"""

from __future__ import annotations

import itertools
import re
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._moved import getattr_for
from ..data.load import load_instance
from ..errors import InfeasibleModelError, InputError, OptimizerError
from ..model.binding import bind
from ..model.parse import load_model
from ..model.problem import Problem
from .base import SolveOptions
from .question import solve_model


@dataclass(frozen=True)
class Scenario:
    """One point of the grid: dotted model keys and their values."""

    settings: tuple[tuple[str, Any], ...]

    @property
    def id(self) -> str:
        """A folder name: `labour_force=18000+count=4` (last key part, value)."""
        parts = [f"{k.rsplit('.', 1)[-1]}={value_text(v)}" for k, v in self.settings]
        return re.sub(r"[^\w.=+,\-\[\]]", "_", "+".join(parts)) or "base"


def value_text(v: Any) -> str:
    """A setting's value as it appears in folder names and tables."""
    if isinstance(v, list):
        return "[" + ",".join(value_text(x) for x in v) + "]"
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    areas: int | None = None
    exemptions: int | None = None
    answer: float | None = None
    verified: bool | None = None
    wall_time: float = 0.0
    message: str = ""
    skipped: bool = False

    def as_dict(self) -> dict:
        return {"id": self.scenario.id, **{k: v for k, v in self.scenario.settings},
                "status": self.status, "objective": self.objective, "bound": self.bound,
                "gap": self.gap, "areas": self.areas, "exemptions": self.exemptions,
                "answer": self.answer, "verified": self.verified,
                "wall_time_s": round(self.wall_time, 3), "message": self.message}


def parse_value(text: str) -> Any:
    """A TOML value (`18000`, `0.5`, `true`, `[4, 5]`, `"max"`), else the bare string."""
    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def _split(values: str) -> list[str]:
    """Comma-separated values; commas inside [...] belong to a list value."""
    out, depth, cur = [], 0, ""
    for ch in values:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [v for v in (x.strip() for x in out) if v]


def grid(sets: Sequence[str]) -> list[Scenario]:
    """Every combination of `key=v1,v2,...` (the last key varies fastest)."""
    axes = []
    seen = set()
    for item in sets:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise InputError(f"--set: expected key=v1,v2,..., got {item!r}")
        if key in seen:
            raise InputError(f"--set: key {key!r} given twice")
        seen.add(key)
        axes.append([(key, parse_value(v)) for v in _split(values)])
    return [Scenario(tuple(combo)) for combo in itertools.product(*axes)]


@dataclass(frozen=True)
class SweepOptions:
    backend: str | None = None
    time_limit: float | None = None
    threads: int | None = 1
    """Solver threads per scenario (one per worker core by default)."""


def bind_scenarios(model: Path, scenarios: Sequence[Scenario]) -> list[Problem]:
    """Every scenario's problem, bound before anything runs (bad keys stop the sweep)."""
    problems = []
    cache: dict = {}
    for sc in scenarios:
        try:
            planning = load_model(model, dict(sc.settings))
            key = (planning.instance_path, planning.instance_options)
            if key not in cache:
                cache[key] = load_instance(planning.instance_path,
                                           **asdict(planning.instance_options))
            problems.append(bind(planning, cache[key]))
        except InputError as exc:
            raise type(exc)(f"scenario {sc.id}: {exc}") from None
    return problems


def solve_scenario(problem: Problem, options: SweepOptions):
    """Run on a worker: the model's question answered, or the failure as a message."""

    started = time.perf_counter()
    try:
        return solve_model(problem, SolveOptions(backend=options.backend,
                                                 time_limit=options.time_limit,
                                                 threads=options.threads))
    except InfeasibleModelError as exc:
        return ("infeasible", str(exc), time.perf_counter() - started)
    except OptimizerError as exc:
        return ("error", str(exc), time.perf_counter() - started)


@dataclass
class SweepProgress:
    """Counts for the progress line: done, running, failed, skipped."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    running: int = 0
    say: Callable[[str], None] = field(default=lambda _m: None)
    count: Callable[[int], None] = field(default=lambda _n: None)

    def update(self, last: str = "") -> None:
        self.count(self.done)
        self.say(f"{self.done}/{self.total} scenarios done · {self.running} running · "
                 f"{self.failed} failed" + (f" · {self.skipped} skipped" if self.skipped
                                            else "") + (f" · last: {last}" if last else ""))


@dataclass(frozen=True, eq=False)
class Sweep:
    results: tuple[ScenarioResult, ...]
    wall_time: float
    where: str
    """What ran it: 'sequential', 'local cluster, N workers' or the scheduler's address."""


__getattr__ = getattr_for(__name__)  # names moved to optimizer.output in 0.2
