"""Options shared by several commands, each declared once, and the parsing of their values.

Help texts that list choices derive from the registries they choose from: the back
ends (`backends.DESCRIPTIONS`), the objective terms (`model.objective.TERMS`) and
the files of a run directory (`output.write.FILES`).
"""

from __future__ import annotations

from pathlib import Path

import click

from ..backends import NAMES, describe_backends
from ..cluster import CONNECT_SECONDS, LOST_SECONDS
from ..errors import InputError
from ..memory import MemoryBudget, parse_size
from ..mip.formulation import STRATEGIES
from ..model.parse import load_model
from ..model.schema import PlanningModel
from ..output.run_dir import run_model
from ..output.write import files_help
from ..values import MAX_THREADS, count_range, describe, number


class Number(click.ParamType):
    """A finite number in a range (click's FloatRange lets NaN through)."""

    name = "number"

    def __init__(self, **limits) -> None:
        self.limits = limits

    def convert(self, value, param, ctx) -> float:
        try:
            return number(value, "value", text=True, **self.limits)
        except InputError:
            self.fail(f"must be {describe(**self.limits)}, got {value!r}", param, ctx)


class PathValue(click.Path):
    """A path; an empty one (`--out ""`, which would mean the current folder) is refused."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path names no file or folder", param, ctx)
        return super().convert(value, param, ctx)


POSITIVE = Number(lo=0, lo_open=True)
NON_NEGATIVE = Number(lo=0)
GAP = Number(lo=0, hi=1, hi_open=True)
FILE = PathValue(dir_okay=False, path_type=Path)
FOLDER = PathValue(path_type=Path)
MAX_WORKERS = 256
"""Most workers of a local Dask cluster."""


def model_argument(fn):
    return click.argument("model", type=FILE)(fn)


def model_option(required: bool = True, help: str = "Planning model (TOML)."):
    return click.option("--model", "-m", "model", required=required, type=FILE, help=help)


def backend_option(what: str = "the solve"):
    return click.option("--backend", "-b", type=click.Choice(NAMES), metavar="NAME",
                        help=f"Back end of {what}: {describe_backends()}. Default: the "
                             "model's solver.backend, else highs.")


def time_limit_option(help: str):
    return click.option("--time-limit", "-t", type=POSITIVE, help=help)


def areas_option(allow_max: bool = False):
    more = ", or max (the largest number of areas)" if allow_max else ""
    return click.option("--areas", "-k", "areas",
                        help=f"Override the area count: K or K1-K2{more}.")


def regional_leads_option(short: bool = True):
    """--regional-leads (-r unless `short` is false: `report` uses -r for --reference)."""
    flags = ["--regional-leads", "-r"] if short else ["--regional-leads"]
    return click.option(*flags, "leads", help="With an organiser: regional leads besides its "
                        "own area, K or K1-K2.")


def out_option(help: str | None = None, required: bool = False):
    return click.option("--out", "-o", type=FOLDER, required=required,
                        help=help or f"Write {files_help()} here (finance.csv with "
                        "[finance]; the geometry files when the instance has polygons).")


def json_option(what: str = "the summary"):
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON only.")


def quiet_option(help: str = "No progress line."):
    return click.option("--quiet", "-q", is_flag=True, help=help)


def contiguity_option(help: str = "Exact contiguity strategy (default: the model's)."):
    return click.option("--contiguity", type=click.Choice(STRATEGIES), help=help)


def threads_option(default: int | None = None, help: str = "Solver threads."):
    return click.option("--threads", type=click.IntRange(0, MAX_THREADS), default=default,
                        show_default=default is not None, help=help)


def money_input_options(fn):
    """--statistics FILE and --subsidies FILE: a planner's own figures for this run."""
    fn = click.option("--subsidies", type=FILE, help="A subsidy file code,subsidy_eur[,year,"
                      "source] in place of the model's finance.subsidy.")(fn)
    return click.option("--statistics", type=FILE, help="A statistics overlay (code and any "
                        "of population, labour_force, jobseekers, working_age_population, "
                        "foreign_language_share, long_term_unemployed; year, source) whose "
                        "figures replace the instance's.")(fn)


def cluster_options(fn):
    """--scheduler, --workers, --connect-timeout and --worker-wait (sweep, bench)."""
    options = [
        click.option("--scheduler", metavar="ADDRESS",
                     help="An existing Dask cluster (tcp://host:8786); default: a local "
                          "cluster."),
        click.option("--workers", "-w", type=click.IntRange(1, MAX_WORKERS),
                     help="Workers of a local Dask cluster (default: one per core)."),
        click.option("--connect-timeout", type=Number(lo=0, lo_open=True, hi=3600),
                     default=CONNECT_SECONDS, show_default=True,
                     help="Seconds --scheduler may take to answer (an address that does not "
                          "answer, or not as a Dask scheduler, is refused)."),
        click.option("--worker-wait", type=Number(lo=0, lo_open=True, hi=86400),
                     default=LOST_SECONDS, show_default=True,
                     help="Seconds to wait while the cluster has no worker before stopping "
                          "(finished results are kept; the same command resumes)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def count(text: str, option: str) -> int:
    """A whole number ≥ 0 given as text (`--exemptions 2`)."""
    if not text.strip().isdigit():
        raise InputError(f"{option}: expected a whole number ≥ 0, got {text!r}")
    return int(text)


def with_counts(planning: PlanningModel, areas: str | None,
                leads: str | None) -> PlanningModel:
    """Apply --areas (every area, or max) or --regional-leads (besides the organiser's own
    area)."""
    if areas is not None and leads is not None:
        raise InputError("--areas and --regional-leads: give one of them")
    if areas is not None and areas.strip().lower() == "max":
        if planning.organiser is not None:
            raise InputError("--areas max: the largest number of areas needs a model without "
                             "an organiser, and no --regional-leads")
        return planning.with_most_areas()
    if areas is not None:
        if planning.organiser is not None:
            raise InputError(f"--areas: {planning.source} has an organiser; give "
                             "--regional-leads (the leads besides its own area)")
        planning = planning.with_areas(*count_range(areas, "--areas"))
    if leads is not None:
        planning = planning.with_regional_leads(*count_range(leads, "--regional-leads",
                                                             least=0))
    return planning


def load_with_overrides(model: Path, areas: str | None = None, leads: str | None = None, *,
                        exemptions: str | None = None, hard_floor: float | None = None,
                        exemption_mode: str | None = None, reference: Path | None = None,
                        max_moves: int | None = None, cost_per_move: float | None = None,
                        statistics: Path | None = None, subsidies: Path | None = None
                        ) -> PlanningModel:
    """The model file with the command line's overrides, each validated as the model key it
    sets (`--exemptions N` is `exemptions.max`, `--reference` is `reference.plan`,
    `--statistics` is `instance.statistics`, `--subsidies` replaces `finance.subsidy` by a
    file, ...)."""
    settings: dict = {}
    if statistics is not None:
        settings["instance.statistics"] = str(statistics.resolve())
    if subsidies is not None:
        settings["finance.subsidy"] = {"file": str(subsidies.resolve())}
    if exemptions is not None:
        settings["exemptions.enabled"] = True
        if exemptions != "fewest":
            settings["exemptions.max"] = count(exemptions, "--exemptions")
    for key, value in (("exemptions.hard_floor", hard_floor),
                       ("exemptions.mode", exemption_mode),
                       ("reference.plan", None if reference is None else
                        str(reference.resolve())),
                       ("reference.max_moves", max_moves),
                       ("reference.cost_per_move", cost_per_move)):
        if value is not None:
            settings[key] = value
    if any(k.startswith("exemptions.") for k in settings):
        settings["exemptions.enabled"] = True
    return with_counts(load_model(model, settings), areas, leads)


def plan_file(path: Path) -> Path:
    """A plan file, or a run directory's assignment.csv."""
    if path.is_dir():
        if not (path / "assignment.csv").exists():
            raise InputError(f"{path}: a directory without assignment.csv")
        return path / "assignment.csv"
    return path


def model_of(plans: tuple[Path, ...], model: Path | None) -> Path:
    """The model given with --model, else the one the first run directory among `plans`
    names in its summary.json (the run's own model)."""
    if model is not None:
        return model
    for path in plans:
        if path.is_dir():
            return run_model(path)
    raise InputError(f"{plans[0]}: a plan file needs --model MODEL (only a run directory "
                     "names its model)")


def plan_name(path: Path) -> str:
    """A plan's name in words: a run directory's name, else the file's stem
    (`employment_areas_2025.csv` → `employment areas 2025`)."""
    return (path.name if path.is_dir() else path.stem).replace("_", " ") or str(path)


def plan_names(a: Path, b: Path) -> tuple[str, str]:
    """Short names for two plans (files or run directories); their folders when the names
    agree, A and B when those do too."""
    na, nb = plan_name(a), plan_name(b)
    if na == nb:
        na, nb = a.resolve().parent.name or na, b.resolve().parent.name or nb
    return (na, nb) if na != nb else ("A", "B")


def memory_option(f):
    """--memory-limit SIZE: the memory the run may use (optimizer.memory)."""
    return click.option(
        "--memory-limit", "memory_limit", metavar="SIZE",
        help="Memory the run may use, e.g. 4G (default: half the machine's memory). A model "
             "that would not fit is solved on the sparse model or refused with what it "
             "would need; past the limit the solve stops and keeps its best plan.")(f)


def memory_budget(text: str | None) -> MemoryBudget:
    """The budget of --memory-limit (the default share when not given)."""
    return MemoryBudget.default() if text is None else MemoryBudget(parse_size(text))
