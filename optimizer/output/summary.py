"""summary.json, built in one place for every command that writes a run directory.

`run_summary` is the only writer (solve, check, finance, a sweep's scenario, an
infeasible model); `figures_json` and `verification_json` give the parts other
JSON outputs share (`compare --json`). The format is versioned
(`SUMMARY_VERSION`) so that a reader can refuse a file it does not understand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..decisions.base import Decision
from ..decisions.exemptions import ExemptArea
from ..economics.settle import Finance
from ..economics.sources import money_sources
from ..model.evaluate import PlanFigures
from ..model.problem import Problem
from ..model.verify import Verification

SUMMARY_VERSION = 1
"""Bumped whenever a key changes meaning or type."""
KINDS = ("solve", "check", "finance", "scenario")
"""What wrote the run directory: a solve (with a solver's certificate), a checked plan, a
settlement of a plan, a scenario of a sweep."""


def figures_json(figs: PlanFigures) -> dict:
    """The plan's objective, travel and per-area figures; with travel times the travel keys
    say minutes."""
    key = "weighted_travel_minutes" if figs.distance_unit == "minutes" else "weighted_travel_km"
    areas = [a.as_dict() for a in figs.areas]
    if key != "weighted_travel_km":
        areas = [{(key if k == "weighted_travel_km" else k): v for k, v in a.items()}
                 for a in areas]
    return {"objective": figs.objective, key: figs.travel,
            "travel_weight": figs.travel_weight, "distance_unit": figs.distance_unit,
            "distance_source": figs.distance_source, "areas": areas}


def verification_json(v: Verification) -> dict:
    """The verifier's verdict with every violation and the municipalities it names."""
    return {"ok": v.ok, "violations": [
        {"rule": x.rule, "message": x.message, "municipalities": list(x.municipalities)}
        for x in v.violations]}


def run_summary(kind: str, problem: Problem, model_file: str | Path, *,
                decision: Decision | None = None, figures: PlanFigures | None = None,
                verification: Verification | None = None, finance: Finance | None = None,
                plan_file: str | Path | None = None, notes: Iterable[str] = (),
                exempted: Iterable[ExemptArea] | None = None,
                extra: Mapping[str, Any] | None = None) -> dict:
    """summary.json of a run directory: what wrote it, the model, the solver's certificate
    (a solve's `decision`), the plan's figures and terms, the verification, the money.

    Every figure here is computed from the model and the plan by the caller; `extra`
    adds keys of a caller's own (a sweep's settings and scenario)."""
    if kind not in KINDS:
        raise ValueError(f"unknown run kind {kind!r}")
    out: dict[str, Any] = {"summary_version": SUMMARY_VERSION, "kind": kind,
                           "model": problem.model.name, "model_file": str(model_file),
                           "instance": problem.instance.name}
    if plan_file is not None:
        out["plan_file"] = str(plan_file)
    if problem.model.overrides:  # what the command line set over the file, for a report
        out["model_overrides"] = dict(problem.model.overrides)
    out.update(extra or {})
    if decision is not None:
        out.update(decision.summary())
    if figures is not None:
        out.update(figures_json(figures))
        out["terms"] = dict(figures.terms)
    if verification is not None:
        out["verification"] = verification_json(verification)
    if finance is not None:
        out["finance"] = finance.summary()
    sources = money_sources(problem)
    if sources:  # every money input with its source and year; the banner if illustrative
        out["money_sources"] = sources.summary()
    if exempted is not None:
        out["exempted_areas"] = [x.as_dict() for x in exempted]
    out["notes"] = list(dict.fromkeys([*out.get("notes", ()), *notes]))
    return out


def infeasible_summary(problem: Problem, model_file: str | Path, message: str) -> dict:
    """summary.json of a solve that proved no plan exists (the folder says so, instead of
    keeping an older plan)."""
    return {**run_summary("solve", problem, model_file), "status": "infeasible",
            "message": message}
