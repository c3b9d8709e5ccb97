"""A run directory read back: its certificate, its plan re-verified, its money recomputed.

`solve --out` and `check --out` write a run directory; the report is made from
it. The plan is read again, checked by the verifier against the model the run
names, its objective and its money (with [finance]) recomputed from the model and
the plan; nothing shown is parsed back from the files we wrote. A run whose
numbers the model no longer reproduces is refused rather than reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.plan import Plan
from ..data.planfile import read_plan
from ..economics.settle import Finance, settle
from ..errors import InputError
from ..model.binding import bind
from ..model.evaluate import PlanFigures, evaluate
from ..model.parse import load_model
from ..model.problem import Problem
from ..model.verify import Verification, verify
from ..reading import read_json

OBJECTIVE_RTOL = 1e-6


@dataclass(frozen=True, eq=False)
class Run:
    """What a run directory holds, re-derived where it can be."""

    directory: Path
    summary: Mapping[str, Any]
    problem: Problem
    plan: Plan | None
    figures: PlanFigures | None
    verification: Verification | None
    finance: Finance | None = None
    """Who pays what under the plan, recomputed (with [finance])."""

    @property
    def is_check(self) -> bool:
        """A checked plan (`optimizer check`), not a solve: there is no solver certificate."""
        return "status" not in self.summary


def _read_json(path: Path) -> dict:
    if not path.exists():
        raise InputError(f"{path.parent}: not a run directory (no summary.json)")
    data = read_json(path, "run summary", InputError)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data




def run_model(directory: str | Path) -> Path:
    """The model file a run directory's summary.json names (for a command given a run
    directory without --model); a plan file instead of a directory needs --model."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: a plan file needs --model (only a run directory "
                         "names its model)")
    model_file = _read_json(directory / "summary.json").get("model_file")
    if not model_file:
        raise InputError(f"{directory}/summary.json names no model file: pass --model")
    if not Path(model_file).exists():
        raise InputError(f"{directory}/summary.json names model file {model_file}, which is "
                         "not found from here: pass --model")
    return Path(model_file)


def load_run(directory: str | Path, model: str | Path | None = None) -> Run:
    """Read a run directory; `model` overrides the model file its summary.json names."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: not a run directory")
    summary = _read_json(directory / "summary.json")
    model_file = model if model is not None else run_model(directory)
    overrides = summary.get("model_overrides")
    planning = load_model(model_file, overrides if isinstance(overrides, dict) else None)
    areas = summary.get("areas")
    problem = bind(planning)
    plan = figs = ver = None
    if (directory / "assignment.csv").exists():
        plan = read_plan(directory / "assignment.csv", problem.instance)
        if "status" in summary and areas:  # a solve: its area count may override the model's
            k = len(areas)
            if not problem.k_min <= k <= problem.k_max:
                problem = bind(planning.with_areas(k))
        figs = evaluate(problem, plan)
        ver = verify(problem, plan)
        claimed = summary.get("objective")
        if (isinstance(claimed, int | float) and figs.objective is not None and not
                math.isclose(claimed, figs.objective, rel_tol=OBJECTIVE_RTOL, abs_tol=1e-6)):
            raise InputError(
                f"{directory}/summary.json: objective {claimed:,.2f}, but the plan costs "
                f"{figs.objective:,.2f} under {model_file}: the model changed since the run "
                "(pass the model the run used with --model)")
    money = settle(problem, plan) if plan is not None and planning.finance is not None \
        else None
    return Run(directory, summary, problem, plan, figs, ver, money)
