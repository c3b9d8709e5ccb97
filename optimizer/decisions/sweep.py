"""Scenario sweeps: the grid of `--set key=v1,v2` values and one scenario's solve.

Every scenario is the model file with some keys set (validated like the file,
before anything runs); a worker answers the model's question (`solve_model`)
and returns the decision, or the failure as a message. A scenario's result is
keyed by what produced it (`input_key`: the resolved model and instance, the
options, the back end and the release), so a rerun keeps it only while all of
them are unchanged.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import itertools
import json
import re
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._moved import getattr_for
from ..cluster import watch_event
from ..data.load import load_instance
from ..errors import InfeasibleModelError, InputError, Interrupted, OptimizerError
from ..model.binding import bind
from ..model.parse import load_model
from ..model.problem import Problem
from ..stopping import StopRequest
from ..version import __version__
from .base import SolveOptions
from .question import solve_model

MAX_SCENARIOS = 10_000
"""Most scenarios a grid may hold (each is a solve and a folder)."""
MAX_ID = 100
"""Longest scenario folder name before it is cut and made unique by a hash."""


@dataclass(frozen=True)
class Scenario:
    """One point of the grid: dotted model keys and their values (`name`: its folder, made
    distinct from the grid's other scenarios by `grid`)."""

    settings: tuple[tuple[str, Any], ...]
    name: str | None = None

    @property
    def id(self) -> str:
        """A folder name: `labour_force=18000+count=4` (last key part, value)."""
        return self.name or _plain_id(self.settings)[0]


def _plain_id(settings) -> tuple[str, bool]:
    """The readable folder name and whether it says the settings exactly (no character
    replaced, not cut)."""
    raw = "+".join(f"{k.rsplit('.', 1)[-1]}={value_text(v)}" for k, v in settings)
    safe = re.sub(r"[^\w.=+,\-\[\]]", "_", raw, flags=re.ASCII) or "base"
    safe = "_" + safe if safe.startswith((".", "-")) else safe
    exact = safe == raw and len(safe) <= MAX_ID
    return safe[:MAX_ID], exact


def _settings_hash(settings) -> str:
    text = json.dumps([[k, type(v).__name__, v] for k, v in settings], sort_keys=True,
                      default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def distinct(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """The scenarios with folder names that differ: a name that had to be changed (a
    character a file name cannot hold, a length cut) or that another scenario shares gets
    a hash of its exact settings (`description=a_b-1f2e3d4c`)."""
    plain = [_plain_id(sc.settings) for sc in scenarios]
    count: dict[str, int] = {}
    for name, _ in plain:
        count[name.lower()] = count.get(name.lower(), 0) + 1  # case-insensitive file systems
    out = []
    for sc, (name, exact) in zip(scenarios, plain, strict=True):
        if not exact or count[name.lower()] > 1:
            name = f"{name[:MAX_ID - 9]}-{_settings_hash(sc.settings)}"
        out.append(replace_name(sc, name))
    return out


def replace_name(sc: Scenario, name: str) -> Scenario:
    return Scenario(sc.settings, name)


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
    """Every combination of `key=v1,v2,...` (the last key varies fastest), each with a
    folder name of its own (`distinct`); at most `MAX_SCENARIOS`."""
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
        if not axes[-1]:
            raise InputError(f"--set: no value for {key!r} in {item!r}")
        seen_values: set[str] = set()
        for _, v in axes[-1]:
            text = json.dumps([type(v).__name__, v], sort_keys=True, default=str)
            if text in seen_values:
                raise InputError(f"--set: {key!r} lists the value {value_text(v)!r} twice")
            seen_values.add(text)
    size = 1
    for axis in axes:
        size *= len(axis)
        if size > MAX_SCENARIOS:
            raise InputError(f"--set: the grid has more than {MAX_SCENARIOS:,} scenarios "
                             "(the product of the numbers of values)")
    return distinct([Scenario(tuple(combo)) for combo in itertools.product(*axes)])


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


def solve_scenario(problem: Problem, options: SweepOptions, stop: StopRequest | None = None,
                   event: str | None = None):
    """Run on a worker (or here): the model's question answered, or the failure as a
    message. `stop` ends the solve early (here); `event` names a Dask event whose setting
    does the same on a worker (the sweep was stopped)."""

    started = time.perf_counter()
    stop = stop or StopRequest()
    try:
        with watch_event(event, stop), stop.cooperating():
            return solve_model(problem, SolveOptions(backend=options.backend,
                                                     time_limit=options.time_limit,
                                                     threads=options.threads, stop=stop))
    except InfeasibleModelError as exc:
        return ("infeasible", str(exc), time.perf_counter() - started)
    except Interrupted:
        raise
    except OptimizerError as exc:
        return ("error", str(exc), time.perf_counter() - started)


def input_key(problem: Problem, options: SweepOptions) -> str:
    """What a scenario's result depends on, as a hash: the bound problem (the model with
    its settings, the instance's numbers, the catalogue and subsidies as bound), the
    options, the back end that answers and this release."""
    backend = options.backend or problem.model.solver.backend
    limit = options.time_limit if options.time_limit is not None \
        else problem.model.solver.time_limit
    h = hashlib.sha256()
    _feed(h, (problem, backend, limit, options.threads, __version__))
    return h.hexdigest()[:16]


def _feed(h, value, depth: int = 0) -> None:
    """Feed a canonical form of `value` to the hash: dataclasses field by field, arrays by
    their bytes, mappings sorted; file paths are left out (what a file says is bound into
    the other fields, where it lies does not change the result)."""
    if depth > 40:
        raise ValueError("input_key: value nested too deeply")
    if value is None or isinstance(value, bool | int | str):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, float):
        h.update(f"float:{value!r};".encode())
    elif isinstance(value, Path):
        h.update(b"path;")
    elif isinstance(value, enum.Enum):
        _feed(h, value.value, depth + 1)
    elif isinstance(value, np.ndarray):
        h.update(f"array:{value.dtype.str}:{value.shape};".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic):
        _feed(h, value.item(), depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"{type(value).__qualname__}(".encode())
        for f in dataclasses.fields(value):
            h.update(f"{f.name}=".encode())
            _feed(h, getattr(value, f.name), depth + 1)
        h.update(b")")
    elif isinstance(value, Mapping):
        h.update(b"{")
        for k in sorted(value, key=repr):
            _feed(h, k, depth + 1)
            _feed(h, value[k], depth + 1)
        h.update(b"}")
    elif isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        h.update(f"{type(value).__name__}[".encode())
        for v in items:
            _feed(h, v, depth + 1)
        h.update(b"]")
    elif hasattr(value, "tocsr"):  # a scipy sparse matrix
        _feed(h, value.toarray(), depth + 1)
    else:
        raise TypeError(f"input_key: cannot hash a {type(value).__name__}")


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
    interrupted: str | None = None
    """The signal that stopped the sweep (SIGINT, SIGTERM), None when it ran to the end."""

    @property
    def finished(self) -> int:
        """Scenarios with a result (solved now or kept from an earlier run)."""
        return sum(r.status != NOT_RUN for r in self.results)


NOT_RUN = "not-run"
"""The status of a scenario a stopped sweep did not finish (a rerun solves it)."""


__getattr__ = getattr_for(__name__)  # names moved to optimizer.output in 0.2
