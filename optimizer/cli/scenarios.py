"""Commands over many solves: `pareto` (a front of two terms) and `sweep` (a grid on Dask)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..decisions.base import SolveOptions
from ..decisions.pareto import MAX_POINTS, PARETO_TERMS, pareto_front
from ..decisions.sweep import SweepOptions, SweepProgress, grid
from ..errors import InfeasibleModelError, InputError
from ..model.binding import bind
from ..model.objective import describe_terms
from ..model.parse import load_model
from ..output.front import FOLDERS as FRONT_FOLDERS
from ..output.front import FRONT_SECONDS, front_csv, front_table, write_front
from ..output.sweep import resume_words, run_sweep, summary_table
from ..output.write import prepare_outputs
from ..staging import OutputDir
from ..values import MAX_THREADS
from .app import command, started
from .options import (
    FOLDER,
    areas_option,
    backend_option,
    cluster_options,
    json_option,
    model_argument,
    out_option,
    quiet_option,
    regional_leads_option,
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
@click.option("--points", "-n", type=click.IntRange(2, MAX_POINTS), default=5,
              show_default=True,
              help="Most points on the front (the two ends and ε values between them).")
@areas_option()
@regional_leads_option()
@backend_option("each solve")
@time_limit_option("Wall-clock seconds for the whole command; points stopped by it are "
                   "marked, and no solve starts after it.")
@out_option("Write pareto.csv, pareto.png and plans/ here (default: out/<model>-pareto), "
            "replacing an earlier front there.")
@json_option("the points")
@quiet_option()
def pareto(model, x_term, y_term, points, areas, leads, backend, time_limit, out, as_json,
           quiet, stop):
    """The Pareto front of two objective terms of a MODEL by the exact ε-constraint method:
    every point proven optimal (or marked not), only non-dominated points. SIGINT or
    SIGTERM stops it: the points found so far are written (exit 130 or 143)."""
    begun = started()
    if x_term == y_term:
        raise InputError("--x and --y must name different terms")
    planning = with_counts(load_model(model), areas, leads)
    if planning.most_areas:
        raise InputError(f"{model}: a front needs an area count, not \"max\" (use --areas)")
    problem = bind(planning)
    out = out or Path("out") / f"{planning.name}-pareto"
    OutputDir.open(out, folders=FRONT_FOLDERS).discard()  # writable? before any work
    prepare_outputs()  # the plotting libraries load while the front is solved
    with ProgressLine(not (as_json or quiet), first=f"front of {planning.name}") as progress, \
            stop.cooperating():
        front = pareto_front(problem, x_term, y_term, points,
                             SolveOptions(backend=backend, time_limit=time_limit,
                                          progress=progress, started=begun, stop=stop,
                                          reserve=FRONT_SECONDS))
    if not front.points:
        if stop.signum is not None:
            click.echo(f"{stop.reason} before the first point was found; nothing written",
                       err=True)
            sys.exit(128 + stop.signum)
        if front.stopped is not None:
            raise InfeasibleModelError(f"{model}: {front.stopped} before a plan was found, so "
                                       "there is no front")
        raise InfeasibleModelError(f"{model}: no plan satisfies every rule, so there is no front")
    write_front(front, out, f"{planning.name}: {x_term} against {y_term}")
    if as_json:
        click.echo(json.dumps(front.rows(), indent=2, ensure_ascii=False))
    else:
        click.echo(front_table(front) if not quiet else front_csv(front).rstrip())
        click.echo(f"{len(front.points)} non-dominated points from {front.solves} solves; "
                   + ("every point proven optimal" if front.proven
                      else "hollow/'no': not proven optimal")
                   + (f"; {front.stopped}: the front is not complete" if front.stopped
                      else ""))
        click.echo(f"pareto.csv, pareto.png and plans/ written to {out}/")
    if stop.signum is not None:
        click.echo(f"{stop.reason} after {front.solves} solves: the {len(front.points)} "
                   f"point(s) found so far are written to {out}/ (a point whose solve was "
                   "stopped is marked not proven)", err=True)
        sys.exit(128 + stop.signum)


@command()
@model_argument
@click.option("--set", "sets", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="A model key and its values (repeat for a grid), e.g. "
                   "floors.labour_force=16000,18000 or areas.count=4,5.")
@click.option("--out", "-o", required=True, type=FOLDER,
              help="One folder per scenario, summary.csv and summary.png here.")
@cluster_options
@click.option("--sequential", is_flag=True,
              help="No cluster: the scenarios one after another in this process.")
@backend_option("each scenario")
@time_limit_option("Wall-clock seconds per scenario.")
@click.option("--threads", type=click.IntRange(1, MAX_THREADS), default=1, show_default=True,
              help="Solver threads per scenario.")
@quiet_option("No progress line, only the table.")
def sweep(model, sets, out, scheduler, workers, connect_timeout, worker_wait, sequential,
          backend, time_limit, threads, quiet, stop):
    """Solve the grid of scenarios of a MODEL in parallel on Dask: each plan verified and
    kept in its own folder, failures reported without losing the others, finished
    scenarios kept on a rerun while their inputs are unchanged, summary.csv and
    summary.png. SIGINT or SIGTERM stops it with the finished scenarios kept (exit 130 or
    143); the same command finishes the rest."""
    if sequential and (scheduler or workers):
        raise InputError("--sequential runs without a cluster: drop --scheduler/--workers")
    scenarios = grid(sets)
    stop.kept = f"finished scenarios are kept in {out}/"
    with ProgressLine(not quiet, first=f"sweep of {model.name}", unit="scenarios") as line:
        result = run_sweep(model, scenarios, out,
                           options=SweepOptions(backend=backend, time_limit=time_limit,
                                                threads=threads),
                           scheduler=scheduler, workers=workers, sequential=sequential,
                           progress=SweepProgress(len(scenarios), say=line, count=line.done),
                           stop=stop, connect_timeout=connect_timeout, lost_after=worker_wait)
    click.echo(summary_table(result))
    if result.interrupted is not None:
        click.echo(f"{stop.reason} after {result.wall_time:.1f} s: "
                   f"{resume_words(result, out)}", err=True)
        sys.exit(128 + stop.signum)
    bad = [r for r in result.results if r.status == "error"]
    click.echo(f"{len(result.results)} scenarios in {result.wall_time:.1f} s ({result.where})"
               + (f"; {len(bad)} failed" if bad else "")
               + f"; summary.csv and summary.png written to {out}/")
    if bad:
        sys.exit(1)
