"""Commands over many solves: `pareto` (a front of two terms) and `sweep` (a grid on Dask)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..decisions.base import SolveOptions
from ..decisions.pareto import PARETO_TERMS, pareto_front
from ..decisions.sweep import SweepOptions, SweepProgress, grid
from ..errors import InfeasibleModelError, InputError
from ..model.binding import bind
from ..model.objective import describe_terms
from ..model.parse import load_model
from ..output.front import front_csv, front_table, write_front
from ..output.sweep import run_sweep, summary_table
from .app import command
from .options import (
    FOLDER,
    areas_option,
    backend_option,
    json_option,
    model_argument,
    out_option,
    quiet_option,
    time_limit_option,
    with_counts,
)
from .progress import ProgressLine


@command()
@model_argument
@click.option("--x", "x_term", default="cost", show_default=True,
              type=click.Choice(PARETO_TERMS), metavar="TERM",
              help=f"Term on the x axis, one of: {describe_terms()}.")
@click.option("--y", "y_term", default="travel", show_default=True,
              type=click.Choice(PARETO_TERMS), metavar="TERM",
              help="Term on the y axis (the terms of --x).")
@click.option("--points", "-n", type=click.IntRange(min=2), default=5, show_default=True,
              help="Most points on the front (the two ends and ε values between them).")
@areas_option()
@backend_option("each solve")
@time_limit_option("Wall-clock seconds for the whole front; points stopped by it are marked.")
@out_option("Write pareto.csv, pareto.png and plans/ here (default: out/<model>-pareto).")
@json_option("the points")
@quiet_option()
def pareto(model, x_term, y_term, points, areas, backend, time_limit, out, as_json, quiet):
    """The Pareto front of two objective terms of a MODEL by the exact ε-constraint method:
    every point proven optimal (or marked not), only non-dominated points."""
    if x_term == y_term:
        raise InputError("--x and --y must name different terms")
    planning = with_counts(load_model(model), areas, None)
    if planning.most_areas:
        raise InputError(f"{model}: a front needs an area count, not \"max\" (use --areas)")
    problem = bind(planning)
    with ProgressLine(not (as_json or quiet), first=f"front of {planning.name}") as progress:
        front = pareto_front(problem, x_term, y_term, points,
                             SolveOptions(backend=backend, time_limit=time_limit,
                                          progress=progress))
    if not front.points:
        raise InfeasibleModelError(f"{model}: no plan satisfies every rule, so there is no front")
    out = out or Path("out") / f"{planning.name}-pareto"
    write_front(front, out, f"{planning.name}: {x_term} against {y_term}")
    if as_json:
        click.echo(json.dumps(front.rows(), indent=2, ensure_ascii=False))
        return
    click.echo(front_table(front) if not quiet else front_csv(front).rstrip())
    click.echo(f"{len(front.points)} non-dominated points from {front.solves} solves; "
               + ("every point proven optimal" if front.proven
                  else "hollow/'no': not proven optimal"))
    click.echo(f"pareto.csv, pareto.png and plans/ written to {out}/")


@command()
@model_argument
@click.option("--set", "sets", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="A model key and its values (repeat for a grid), e.g. "
                   "floors.labour_force=16000,18000 or areas.count=4,5.")
@click.option("--out", "-o", required=True, type=FOLDER,
              help="One folder per scenario, summary.csv and summary.png here.")
@click.option("--scheduler", metavar="ADDRESS",
              help="An existing Dask cluster (tcp://host:8786); default: a local cluster.")
@click.option("--workers", "-w", type=click.IntRange(min=1),
              help="Workers of the local cluster (default: one per core).")
@click.option("--sequential", is_flag=True,
              help="No cluster: the scenarios one after another in this process.")
@backend_option("each scenario")
@time_limit_option("Wall-clock seconds per scenario.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Solver threads per scenario.")
@quiet_option("No progress line, only the table.")
def sweep(model, sets, out, scheduler, workers, sequential, backend, time_limit, threads,
          quiet):
    """Solve the grid of scenarios of a MODEL in parallel on Dask: each plan verified and
    kept in its own folder, failures reported without losing the others, finished
    scenarios skipped on a rerun, summary.csv and summary.png."""
    if sequential and (scheduler or workers):
        raise InputError("--sequential runs without a cluster: drop --scheduler/--workers")
    scenarios = grid(sets)
    with ProgressLine(not quiet, first=f"sweep of {model.name}", unit="scenarios") as line:
        result = run_sweep(model, scenarios, out,
                           options=SweepOptions(backend=backend, time_limit=time_limit,
                                                threads=threads),
                           scheduler=scheduler, workers=workers, sequential=sequential,
                           progress=SweepProgress(len(scenarios), say=line, count=line.done))
    click.echo(summary_table(result))
    bad = [r for r in result.results if r.status == "error"]
    click.echo(f"{len(result.results)} scenarios in {result.wall_time:.1f} s ({result.where})"
               + (f"; {len(bad)} failed" if bad else "")
               + f"; summary.csv and summary.png written to {out}/")
    if bad:
        sys.exit(1)
