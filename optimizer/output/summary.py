"""summary.json, built in one place for every command that writes a run directory, and read
back in one place.

`run_summary` is the only writer (solve, check, finance, a sweep's scenario, an
infeasible model); `figures_json` and `verification_json` give the parts other
JSON outputs share (`compare --json`). The format is versioned
(`SUMMARY_VERSION`) and described by `SCHEMA` (every key a reader uses, with its
type); `read_summary` is the only reader: a file of another version, a key of the
wrong type or a value out of its vocabulary is one error naming the key, so nothing
downstream formats a string as a number or counts the letters of a list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..decisions.base import Decision
from ..decisions.exemptions import ExemptArea
from ..economics.settle import Finance
from ..economics.sources import money_sources
from ..errors import InputError
from ..model.evaluate import PlanFigures
from ..model.problem import Problem
from ..model.verify import Verification
from ..reading import read_json
from ..status import Status
from ..values import shown

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


# -- reading it back ----------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A key of summary.json: its JSON type (`number`: finite, `integer`: whole, `string`,
    `bool`, `list`, `object`), whether null is allowed, and the words a string may be."""

    kind: str
    nullable: bool = True
    choices: tuple[str, ...] | None = None
    items: str | None = None
    """The type of a list's items."""


CERTIFICATE: dict[str, Field] = {
    "status": Field("string", False, tuple(s.value for s in Status)),
    "objective": Field("number"), "bound": Field("number"), "gap": Field("number"),
    "gap_limit": Field("number"), "wall_time_s": Field("number", False),
    "time_limit_s": Field("number"), "backend": Field("string"), "version": Field("string"),
    "contiguity": Field("string"), "cut_rounds": Field("integer"),
    "cuts_added": Field("integer"), "nodes": Field("integer"), "node_limit": Field("integer"),
    "deterministic": Field("bool"), "interrupted": Field("string"),
    "message": Field("string"), "notes": Field("list", items="string"),
}
"""A solver's certificate (`Solution.summary`): the top level of a solve's summary and each
of its phases."""
SCHEMA: dict[str, Field] = {
    "summary_version": Field("integer", False), "kind": Field("string", False, KINDS),
    "model": Field("string", False), "model_file": Field("string", False),
    "instance": Field("string"), "plan_file": Field("string"), "question": Field("string"),
    **CERTIFICATE,
    "phases": Field("list", items="object"), "answer": Field("object"),
    "weighted_travel_km": Field("number"), "weighted_travel_minutes": Field("number"),
    "travel_weight": Field("string"), "distance_unit": Field("string"),
    "distance_source": Field("string"), "areas": Field("list", False, items="object"),
    "terms": Field("object"), "verification": Field("object"), "finance": Field("object"),
    "exempted_areas": Field("list", items="object"), "settings": Field("object"),
    "scenario": Field("object"), "input_key": Field("string"),
    "model_overrides": Field("object"), "per_count": Field("list", items="object"),
}
"""Every top-level key a reader may use and its type (version `SUMMARY_VERSION`); other keys
are ignored."""
AREA: dict[str, Field] = {"lead_code": Field("string", False),
                          "members": Field("list", items="string")}
PER_COUNT: dict[str, Field] = {"areas": Field("integer", False), "objective": Field("number"),
                               "status": Field("string")}
ANSWER: dict[str, Field] = {"value": Field("number"), "proven": Field("bool"),
                            "bound": Field("number")}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    return isinstance(value, {"string": str, "bool": bool, "list": list,
                              "object": dict}[kind])


_WORDS = {"number": "a finite number", "integer": "a whole number", "string": "a string",
          "bool": "true or false", "list": "a list", "object": "a JSON object"}


def _check(data: Mapping, fields: Mapping[str, Field], where: str) -> None:
    for key, f in fields.items():
        if key not in data:
            continue
        value = data[key]
        if value is None:
            if not f.nullable:
                raise InputError(f"{where}: '{key}' must not be null")
            continue
        if not _type_ok(value, f.kind):
            raise InputError(f"{where}: '{key}' must be {_WORDS[f.kind]}"
                             f"{' or null' if f.nullable else ''}, got {shown(value)}")
        if f.choices is not None and value not in f.choices:
            raise InputError(f"{where}: '{key}' must be one of {', '.join(f.choices)}, "
                             f"got {shown(value)}")
        if f.items is not None:
            bad = next((v for v in value if not _type_ok(v, f.items)), _NONE)
            if bad is not _NONE:
                raise InputError(f"{where}: every item of '{key}' must be "
                                 f"{_WORDS[f.items]}, got {shown(bad)}")


_NONE = object()


def validate_summary(data: Any, where: str) -> dict:
    """`data` checked against `SCHEMA` (and the certificate of each phase, each area's lead
    and members, the answer); InputError naming the key at fault."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object, got {shown(data)}")
    version = data.get("summary_version")
    if version != SUMMARY_VERSION or isinstance(version, bool):
        raise InputError(f"{where}: 'summary_version' is {shown(version)}; this release reads "
                         f"version {SUMMARY_VERSION} (written by another release, or not a "
                         "summary.json)")
    for key in ("kind", "model", "model_file"):
        if key not in data:
            raise InputError(f"{where}: the key '{key}' is missing")
    _check(data, SCHEMA, where)
    for k, phase in enumerate(data.get("phases") or ()):
        _check(phase, CERTIFICATE, f"{where}: phases[{k}]")
    for k, area in enumerate(data.get("areas") or ()):
        _check(area, AREA, f"{where}: areas[{k}]")
    for k, count in enumerate(data.get("per_count") or ()):
        _check(count, PER_COUNT, f"{where}: per_count[{k}]")
    if data.get("answer") is not None:
        _check(data["answer"], ANSWER, f"{where}: answer")
    verification = data.get("verification")
    if verification is not None:
        _check(verification, {"ok": Field("bool", False),
                              "violations": Field("list", items="object")},
               f"{where}: verification")
    return data


def read_summary(path: str | Path) -> dict:
    """A run directory's summary.json, read (a regular file, bounded in size) and validated
    (`validate_summary`); InputError (one line) otherwise."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path.parent}: not a run directory (no summary.json)")
    return validate_summary(read_json(path, "run summary", InputError), str(path))
