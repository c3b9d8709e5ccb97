"""Options shared by several commands, each declared once, and the parsing of their values.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..errors import InputError
from ..model.parse import load_model
from ..model.schema import PlanningModel
from ..values import describe, number


class _Number(click.ParamType):
    """A finite number in a range (click's FloatRange lets NaN through)."""

    name = "number"

    def __init__(self, **limits) -> None:
        self.limits = limits

    def convert(self, value, param, ctx) -> float:
        try:
            return number(value, "value", text=True, **self.limits)
        except InputError:
            self.fail(f"must be {describe(**self.limits)}, got {value!r}", param, ctx)


def _area_range(value: str | None, flag: str = "--areas", least: int = 1):
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(?:(?:-|\.\.)\s*(\d+)\s*)?", value)
    if not m:
        raise InputError(f"{flag}: expected K or K1-K2, got {value!r}")
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    if not least <= lo <= hi:
        raise InputError(f"{flag}: need {least} <= K1 <= K2, got {value!r}")
    return lo, hi


def _with_counts(planning: PlanningModel, areas: str | None,
                 leads: str | None) -> PlanningModel:
    """Apply --areas (every area) or --regional-leads (besides the organiser's own area)."""
    if areas is not None and leads is not None:
        raise InputError("--areas and --regional-leads: give one of them")
    if (rng := _area_range(areas)) is not None:
        if planning.organiser is not None:
            raise InputError(f"--areas: {planning.source} has an organiser; give "
                             "--regional-leads (the leads besides its own area)")
        planning = planning.with_areas(*rng)
    if (rng := _area_range(leads, "--regional-leads", 0)) is not None:
        planning = planning.with_regional_leads(*rng)
    return planning


def _regional_option(fn=None, *, short: bool = True):
    """--regional-leads (-r unless `short` is false: `report` uses -r for --reference)."""
    def deco(f):
        flags = ["--regional-leads", "-r"] if short else ["--regional-leads"]
        return click.option(*flags, "leads",
                            help="With an organiser: regional leads besides its own area, "
                                 "K or K1-K2.")(f)
    return deco if fn is None else deco(fn)


def _model_options(model: Path, areas: str | None, leads: str | None, exemptions: str | None,
                   hard_floor: float | None, exemption_mode: str | None,
                   reference: Path | None, max_moves: int | None,
                   cost_per_move: float | None):
    """The model file with the command line's overrides (validated as model keys)."""
    settings: dict = {}
    if exemptions is not None:
        settings["exemptions.enabled"] = True
        if exemptions != "fewest":
            settings["exemptions.max"] = _count(exemptions, "--exemptions")
    if hard_floor is not None:
        settings["exemptions.hard_floor"] = hard_floor
    if exemption_mode is not None:
        settings["exemptions.mode"] = exemption_mode
    if reference is not None:
        settings["reference.plan"] = str(reference.resolve())
    if max_moves is not None:
        settings["reference.max_moves"] = max_moves
    if cost_per_move is not None:
        settings["reference.cost_per_move"] = cost_per_move
    if any(k.startswith("exemptions.") and k != "exemptions.enabled" for k in settings) \
            and "exemptions.enabled" not in settings:
        settings["exemptions.enabled"] = True
    planning = load_model(model, settings)
    if areas is not None and areas.strip().lower() == "max":
        if leads is not None or planning.organiser is not None:
            raise InputError("--areas max: the largest number of areas needs a model without "
                             "an organiser, and no --regional-leads")
        return planning.with_most_areas()
    return _with_counts(planning, areas, leads)


def _count(text: str, option: str) -> int:
    if not text.strip().isdigit():
        raise InputError(f"{option}: expected a whole number ≥ 0, got {text!r}")
    return int(text)


def _move_steps(text: str | None) -> list[int] | None:
    if text is None:
        return None
    steps = [_count(x, "--max-moves") for x in text.split(",") if x.strip()]
    if not steps:
        raise InputError(f"--max-moves: expected N or N1,N2,..., got {text!r}")
    return steps


def _plan_file(path: Path) -> Path:
    """A plan file, or a run directory's assignment.csv."""
    if path.is_dir():
        if not (path / "assignment.csv").exists():
            raise InputError(f"{path}: a directory without assignment.csv")
        return path / "assignment.csv"
    return path


def _plan_names(a: Path, b: Path) -> tuple[str, str]:
    """Short names for two plans: file stems, or their folders when the stems agree."""
    na, nb = a.stem, b.stem
    if na == nb:
        na, nb = a.parent.name or na, b.parent.name or nb
    return (na, nb) if na != nb else ("A", "B")


def memory_option(f):
    """--memory-limit SIZE: the memory the run may use (optimizer.memory)."""
    return click.option(
        "--memory-limit", "memory_limit", metavar="SIZE",
        help="Memory the run may use, e.g. 4G (default: half the machine's memory). A model "
             "that would not fit is solved on the sparse model or refused with what it "
             "would need; past the limit the solve stops and keeps its best plan.")(f)


def memory_budget(text: str | None):
    """The budget of --memory-limit (the default share when not given)."""
    from ..memory import MemoryBudget, parse_size

    return MemoryBudget.default() if text is None else MemoryBudget(parse_size(text))
