"""The `optimizer` command: a thin layer over the Python API.

Exit codes: 0 success, 1 infeasible / no solution / a plan that breaks rules,
2 bad input (one line naming the file, key or municipality; no traceback).
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

import click

from . import __version__
from .backends import REGISTRY
from .errors import BackendError, InfeasibleModelError, InputError, OptimizerError
from .figures import evaluate
from .formulation import STRATEGIES
from .model import bind, load_model
from .outputs import write_outputs
from .plan import UNASSIGNED, read_plan
from .report import (
    area_table,
    figures_json,
    members_list,
    solver_line,
    verification_json,
    verification_text,
)
from .solve import solve as solve_problem
from .values import MAX_THREADS, describe, number
from .verify import verify


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handles_errors(fn):
    """Turn the toolkit's named errors into one line on stderr and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InputError, BackendError) as exc:
            _fail(str(exc), 2)
        except InfeasibleModelError as exc:
            _fail(str(exc), 1)
        except OptimizerError as exc:
            _fail(str(exc), 1)

    return wrapper


class _OneLineErrors:
    """Usage errors (a bad option value, a missing argument) as one `error:` line with
    exit 2, like every other bad input, instead of click's usage block."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _UsageError(exc.format_message(), exc.ctx) from None

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise _UsageError(exc.format_message(), exc.ctx) from None


class _UsageError(click.UsageError):
    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


class _Command(_OneLineErrors, click.Command):
    pass


class _Group(_OneLineErrors, click.Group):
    command_class = _Command
    group_class = type  # sub-groups are _Group too


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


def _area_range(value: str | None):
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(?:(?:-|\.\.)\s*(\d+)\s*)?", value)
    if not m:
        raise InputError(f"--areas: expected K or K1-K2, got {value!r}")
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    if not 1 <= lo <= hi:
        raise InputError(f"--areas: need 1 <= K1 <= K2, got {value!r}")
    return lo, hi


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="optimizer")
def cli() -> None:
    """Design contiguous production areas (employment areas) exactly, with free MIP solvers."""


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--backend", "-b", type=click.Choice((*REGISTRY, "heuristic")),
              help="highs, cbc, cpsat, scip, or heuristic (default: the model's, else highs).")
@click.option("--time-limit", "-t", type=_Number(lo=0, lo_open=True),
              help="Wall-clock seconds; a stopped run is reported as feasible, never optimal.")
@click.option("--gap", type=_Number(lo=0, hi=1, hi_open=True),
              help="Relative gap accepted as optimal (default: the model's).")
@click.option("--contiguity", type=click.Choice(STRATEGIES),
              help="Exact contiguity strategy (default: the model's).")
@click.option("--areas", "-k", "areas", help="Override the area count: K or K1-K2.")
@click.option("--warm-start", type=click.Path(dir_okay=False, path_type=Path),
              help="Start from a plan file (assignment or code,area format).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Write assignment.csv, summary.json, areas.geojson and map.png here.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON only.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the solver line.")
@click.option("--log", is_flag=True, help="Show the solver's own log.")
@handles_errors
def solve(model, backend, time_limit, gap, contiguity, areas, warm_start, out, as_json, quiet,
          log):
    """Solve a planning MODEL (TOML) and print the areas and the solver's certificate."""
    planning = load_model(model)
    if (rng := _area_range(areas)) is not None:
        planning = planning.with_areas(*rng)
    problem = bind(planning)
    start = read_plan(warm_start, problem.instance) if warm_start else None
    talk = not (as_json or quiet)

    def progress(msg: str) -> None:
        if talk:
            click.echo(msg, err=True)

    sol = solve_problem(problem, backend=backend, strategy=contiguity, time_limit=time_limit,
                        gap=gap, warm_start=start, log=log, progress=progress)
    for note in sol.notes:
        if not as_json:
            click.echo(f"note: {note}", err=True)
    summary = {"model": planning.name, "model_file": str(model),
               "instance": problem.instance.name, **sol.summary()}
    if sol.figures is not None:
        summary.update(figures_json(sol.figures))
        summary["verification"] = verification_json(verify(problem, sol.plan))
    if out is not None:
        title = f"{planning.name}: {len(sol.figures.areas) if sol.figures else 0} areas, " \
                f"{sol.status}"
        write_outputs(out, sol.plan, sol.figures, summary, title)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        if talk and sol.figures is not None:
            click.echo(area_table(sol.figures))
            click.echo()
            click.echo(members_list(sol.figures))
            click.echo()
        click.echo(solver_line(sol))
        if sol.plan is not None and talk:
            click.echo("plan verified: every rule holds")
        if sol.message and not sol.status.has_solution:
            click.echo(sol.message)
        if out is not None and talk:
            click.echo(f"outputs written to {out}/")
    if not sol.status.has_solution:
        sys.exit(1)


@cli.command()
@click.argument("plan", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", "-m", "model", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Planning model (TOML).")
@click.option("--areas", "-k", "areas", help="Override the area count: K or K1-K2.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Write summary.json (and the map when the plan has geometry) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON only.")
@handles_errors
def check(plan, model, areas, out, as_json):
    """Verify a PLAN file against a MODEL and print its figures; list every broken rule."""
    planning = load_model(model)
    if (rng := _area_range(areas)) is not None:
        planning = planning.with_areas(*rng)
    problem = bind(planning)
    p = read_plan(plan, problem.instance)
    figs = evaluate(problem, p)
    v = verify(problem, p)
    notes = [*problem.notes, *p.notes]
    summary = {"model": planning.name, "model_file": str(model), "plan_file": str(plan),
               "instance": problem.instance.name, "notes": notes,
               **figures_json(figs), "verification": verification_json(v)}
    if out is not None:
        complete = bool((p.lead != UNASSIGNED).all())
        write_outputs(out, p if complete else None, figs, summary,
                      f"{plan.name} checked against {planning.name}")
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        for note in notes:
            click.echo(f"note: {note}")
        click.echo(area_table(figs))
        click.echo()
        click.echo(members_list(figs))
        click.echo()
        click.echo(verification_text(v))
    if not v.ok:
        sys.exit(1)


@cli.command()
@click.argument("suite")
@click.option("--backends", help="Comma-separated back ends (default: the suite's).")
@click.option("--contiguity", help="Comma-separated strategies: cuts,flow (default: the suite's).")
@click.option("--time-limit", "-t", type=_Number(lo=0, lo_open=True),
              help="Wall-clock seconds per solve (default: the suite's).")
@click.option("--repeat", "-r", type=click.IntRange(min=1), help="Runs per configuration.")
@click.option("--threads", type=click.IntRange(0, MAX_THREADS),
              help="Solver threads (0 or unset: each back end's own default).")
@click.option("--only", help="Comma-separated instance ids or glob patterns (e.g. 'NH,*-hess').")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the table as CSV (with machine, versions and commit), "
                   "rewritten after every configuration.")
@click.option("--best-known", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("benchmarks/best_known.csv"), show_default=True)
@handles_errors
def bench(suite, backends, contiguity, time_limit, repeat, threads, only, out, best_known):
    """Run a benchmark SUITE (a name in benchmarks/suites/ or a TOML path).

    Every plan is verified. Exits 1 when a plan fails verification, an optimum
    differs from a known optimum, or a known-infeasible model gets a plan.
    """
    from . import bench as b

    s = b.load_suite(b.suite_path(suite))
    split = lambda v: tuple(x.strip() for x in v.split(",") if x.strip()) if v else None  # noqa: E731
    for name in split(backends) or ():
        if name not in b.REGISTRY and name != "heuristic":
            raise InputError(f"--backends: unknown back end {name!r}")
    for name in split(contiguity) or ():
        if name not in STRATEGIES:
            raise InputError(f"--contiguity: unknown strategy {name!r}")
    rows = b.run_suite(s, b.load_references(best_known), backends=split(backends),
                       strategies=split(contiguity), time_limit=time_limit, repeat=repeat,
                       threads=threads, only=split(only),
                       progress=lambda m: click.echo(m, err=True),
                       on_row=(lambda rs: b.write_csv(rs, out)) if out is not None else None)
    click.echo(b.table(rows))
    meta = b.machine()
    click.echo(f"\n{meta['date']} · {meta['cpu']} · {meta['cores']} cores · Python "
               f"{meta['python']} · commit {meta['commit']}")
    if out is not None:
        b.write_csv(rows, out)
        click.echo(f"results written to {out}")
    problems = b.check(rows)
    for line in problems:
        click.echo(f"FAIL {line}", err=True)
    if problems:
        sys.exit(1)


@cli.group()
def instances() -> None:
    """Build the bundled instances from the official raw data."""


@instances.command("build")
@click.option("--raw", type=click.Path(file_okay=False, path_type=Path),
              default=Path("instances/finland/raw"), show_default=True,
              help="Folder with the official raw files.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("instances/finland"), show_default=True)
@handles_errors
def build_instances(raw, out):
    """Build mainland.json, one instance per region and the 2025 plan (reproducibly)."""
    from .finland import build_finland

    rep = build_finland(raw, out)
    click.echo(f"{rep.municipalities} municipalities, {rep.edges} adjacency edges; "
               f"{len(rep.files)} files written to {out}/")


def main() -> None:
    cli(prog_name="optimizer")
