"""A run directory read back: its certificate checked, its plan re-verified, its money recomputed.

`solve --out`, `check --out`, `finance --out` and a sweep's scenarios write a run
directory; the report is made from it. summary.json is read through its schema
(`summary.read_summary`: a malformed field is one error); the plan is read again,
checked by the verifier against the model the run names (with a scenario's
settings), its objective and its money (with [finance]) recomputed from the model
and the plan; nothing shown is parsed back from the files we wrote. What summary.json
alone can say (status, bound, gap, time) is checked against the recomputed figures
and against what the run's kind can claim (`doubts`): the report never calls a plan
optimal on a certificate that does not hold. A run whose objective the model no
longer reproduces is refused rather than reported.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.plan import UNASSIGNED, Plan
from ..data.planfile import read_plan
from ..economics.settle import Finance, settle
from ..errors import InputError
from ..model.binding import bind
from ..model.evaluate import PlanFigures, evaluate
from ..model.parse import load_model
from ..model.problem import Problem
from ..model.verify import Verification, verify
from ..staging import MANIFEST, own_entries
from ..status import Status
from .summary import read_summary

OBJECTIVE_RTOL = 1e-6
GAP_TOL = 1e-6
"""Slack when a gap or a bound is compared with what the objective allows."""
SOLVED = ("solve", "scenario")
"""Run kinds with a solver's certificate; the others (check, finance) have none."""


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
    plan_source: str | None = None
    """Where the plan was read: the folder's assignment.csv, or the plan file a check or a
    settlement names; None without a plan."""

    @property
    def kind(self) -> str:
        return str(self.summary["kind"])

    @property
    def is_check(self) -> bool:
        """A plan checked or settled (`check`, `finance`): no solver was run."""
        return self.kind not in SOLVED

    @property
    def gap(self) -> float | None:
        """The gap of the stated bound against the recomputed objective (None without
        both)."""
        bound = self.summary.get("bound")
        obj = self.figures.objective if self.figures is not None else None
        if obj is None or not isinstance(bound, int | float):
            return None
        return abs(obj - bound) / max(abs(obj), 1e-9)


def _plan_path(directory: Path, summary: Mapping) -> tuple[Path | None, str | None]:
    """The run's plan: its assignment.csv (when the folder's manifest, if any, lists it), or
    for a check or a settlement the plan file its summary names."""
    own = own_entries(directory) if (directory / MANIFEST).exists() else None
    path = directory / "assignment.csv"
    if path.is_file() and (own is None or "assignment.csv" in own):
        return path, "assignment.csv"
    named = summary.get("plan_file")
    if summary["kind"] not in SOLVED and named:
        for candidate in (Path(named), directory / named):
            if candidate.is_file():
                return candidate, str(named)
    return None, None


def run_model(directory: str | Path) -> Path:
    """The model file a run directory's summary.json names (for a command given a run
    directory without --model); a plan file instead of a directory needs --model."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: a plan file needs --model (only a run directory "
                         "names its model)")
    return _model_file(directory, read_summary(directory / "summary.json"))


def _model_file(directory: Path, summary: dict) -> Path:
    """The model file `summary` (of `directory`) names, found from here."""
    model_file = summary["model_file"]
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
    summary = read_summary(directory / "summary.json")
    model_file = model if model is not None else _model_file(directory, summary)
    overrides = dict(summary.get("model_overrides") or {})  # the run's own input files
    if summary["kind"] == "scenario":
        overrides.update(summary.get("settings") or {})
    planning = load_model(model_file, overrides or None)
    problem = bind(planning)
    plan = figs = ver = None
    path, source = _plan_path(directory, summary)
    if path is not None:
        plan = read_plan(path, problem.instance)
        k, stated = len(plan.areas()), summary.get("areas")
        if not problem.k_min <= k <= problem.k_max and isinstance(stated, list) \
                and len(stated) == k:  # the run's own count (solve --areas K, check -k K)
            # else verified under the model's count, which says what is wrong
            with contextlib.suppress(InputError):
                problem = bind(planning.with_areas(k) if planning.organiser is None
                               else planning.with_regional_leads(k - 1))
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
        and not (plan.lead == UNASSIGNED).any() and problem.subsidy is not None else None
    return Run(directory, summary, problem, plan, figs, ver, money, source)


def doubts(run: Run) -> list[str]:
    """Why the run's certificate cannot be taken as it stands, in words (empty: it holds):
    a status its kind cannot have, a plan missing or present against its status, an
    objective not stated, a bound above the objective, an `optimal` whose gap is above the
    accepted gap, an area count that is not the plan's."""
    s, out = run.summary, []
    status = s.get("status")
    if run.is_check:
        if status is not None:
            out.append(f"summary.json of a {run.kind} run claims the solver status "
                       f"{status!r}, but no solver was run")
        if run.plan is None:
            out.append("the run directory has no plan to verify (assignment.csv missing)")
        return out
    if status is None:
        return [f"summary.json of a {run.kind} run states no status"]
    has_plan = Status(status).has_solution
    if has_plan and run.plan is None:
        return [f"summary.json says {status}, but the run directory has no plan "
                "(assignment.csv missing)"]
    if not has_plan:
        if run.plan is not None:
            out.append(f"summary.json says {status}, but the run directory holds a plan")
        return out
    stated = s.get("areas")
    k = len(run.figures.areas) if run.figures is not None else 0
    if isinstance(stated, list) and len(stated) != k:
        out.append(f"summary.json describes {len(stated)} areas, the plan has {k}")
    obj = run.figures.objective if run.figures is not None else None
    if s.get("objective") is None:
        out.append(f"summary.json says {status} but states no objective for its plan")
    bound = s.get("bound")
    limit = s.get("gap_limit") or 0.0
    if bound is not None and obj is not None and \
            bound > obj + GAP_TOL * max(1.0, abs(obj)):
        out.append(f"the bound {bound:,.2f} is above the objective {obj:,.2f}, which no "
                   "minimum allows")
    if status == Status.OPTIMAL.value:
        if bound is None:
            out.append("summary.json says optimal but states no bound")
        elif run.gap is not None and run.gap > limit + GAP_TOL:
            out.append(f"summary.json says optimal, but its bound leaves a gap of "
                       f"{run.gap:.2%}, above the accepted {limit:.2%}")
        if not 0 <= limit < 1:
            out.append(f"the accepted gap {limit!r} is not in [0, 1)")
    stated_gap = s.get("gap")
    if stated_gap is not None and run.gap is not None and \
            abs(stated_gap - run.gap) > max(GAP_TOL, 1e-3 * run.gap):
        out.append(f"summary.json states a gap of {stated_gap:.2%}, but its bound and the "
                   f"plan's objective give {run.gap:.2%}")
    return out + _count_doubts(s.get("per_count") or [], k, obj, status)


def _count_doubts(per_count: list[dict], k: int, obj: float | None, status: str) -> list[str]:
    """The cost of each area count (why this count) must agree with the plan: its own
    count at the plan's recomputed objective and, when optimal, no count cheaper."""
    if not per_count or obj is None:
        return []
    tol = GAP_TOL * max(1.0, abs(obj))
    own = next((c for c in per_count if c.get("areas") == k), None)
    if own is None or own.get("objective") is None or abs(own["objective"] - obj) > tol:
        return [f"summary.json's cost of {k} areas is not the plan's {obj:,.2f}"]
    cheaper = [c for c in per_count if c.get("objective") is not None
               and c["objective"] < obj - tol]
    if cheaper and status == Status.OPTIMAL.value:
        return [f"summary.json says {cheaper[0]['areas']} areas cost "
                f"{cheaper[0]['objective']:,.2f}, less than the plan it calls optimal"]
    return []
