"""The `optimizer` command: a thin layer over the Python API.

Exit codes: 0 success, 1 infeasible / no solution / a plan that breaks rules,
2 bad input (one line naming the file, key or municipality; no traceback),
130 / 143 stopped by SIGINT / SIGTERM (128 + the signal's number).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import click

from . import __version__
from .errors import BackendError, InfeasibleModelError, InputError, Interrupted, OptimizerError
from .figures import evaluate
from .files import OutputDir, write_text_atomically
from .formulation import STRATEGIES
from .model import bind, load_model
from .outputs import output_seconds, prepare_outputs, write_outputs
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
from .stopping import StopRequest, process_age, stop_on_signals
from .verify import verify


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handles_errors(fn):
    """Turn the toolkit's named errors into one line on stderr and an exit code.

    SIGINT and SIGTERM go to a `StopRequest` passed to the command as `stop`: a
    solve in progress stops and keeps its best plan; anywhere else (or on a second
    signal) the command ends at once, its staged files removed, with 128 + the
    signal's number.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with stop_on_signals(kwargs.setdefault("stop", StopRequest())):
                return fn(*args, **kwargs)
        except Interrupted as exc:
            click.echo(f"{exc} before the run finished; no partial file was kept", err=True)
            sys.exit(128 + exc.signum)
        except (InputError, BackendError) as exc:
            _fail(str(exc), 2)
        except InfeasibleModelError as exc:
            _fail(str(exc), 1)
        except OptimizerError as exc:
            _fail(str(exc), 1)

    return wrapper


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="optimizer")
def cli() -> None:
    """Design contiguous production areas (employment areas) exactly, with free MIP solvers."""


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--backend", "-b",
              help="highs, cbc, cpsat, scip, or heuristic (default: the model's, else highs).")
@click.option("--time-limit", "-t", type=click.FloatRange(min=0, min_open=True),
              help="Wall-clock seconds; a stopped run is reported as feasible, never optimal.")
@click.option("--gap", type=click.FloatRange(0, 1, max_open=True),
              help="Relative gap accepted as optimal (default: the model's).")
@click.option("--contiguity", type=click.Choice(STRATEGIES),
              help="Exact contiguity strategy (default: the model's).")
@click.option("--areas", "-k", "areas", help="Override the area count: K or K1-K2.")
@click.option("--warm-start", type=click.Path(dir_okay=False, path_type=Path),
              help="Start from a plan file (assignment or code,area format).")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Write assignment.csv, summary.json, areas.geojson and map.png here.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON only.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the solver line.")
@click.option("--log", is_flag=True, help="Show the solver's own log (on stderr).")
@click.option("--node-limit", type=click.IntRange(min=1),
              help="Stop after this many branch-and-bound nodes (a work limit: the same "
                   "answer at any speed; not CP-SAT).")
@click.option("--deterministic", is_flag=True, default=None,
              help="Budget the heuristic in steps, not seconds, for the same answer on a busy "
                   "and a quiet machine (default: the model's solver.deterministic).")
@handles_errors
def solve(model, backend, time_limit, gap, contiguity, areas, warm_start, out, as_json, quiet,
          log, node_limit, deterministic, stop):
    """Solve a planning MODEL (TOML) and print the areas and the solver's certificate.

    SIGINT (Ctrl-C) or SIGTERM stops the solve: the best verified plan found so far is
    written (as feasible-at-limit) and the exit code is 130 or 143.
    """
    begun = time.perf_counter()
    planning = load_model(model)
    if (rng := _area_range(areas)) is not None:
        planning = planning.with_areas(*rng)
    problem = bind(planning)
    start = read_plan(warm_start, problem.instance) if warm_start else None
    talk = not (as_json or quiet)

    def progress(msg: str) -> None:
        if talk:
            click.echo(msg, err=True)

    outdir = OutputDir.open(out) if out is not None else None  # writable? before any work
    if outdir is not None:
        prepare_outputs(problem.instance)
    with outdir or nullcontext():
        try:
            sol = solve_problem(problem, backend=backend, strategy=contiguity,
                                time_limit=time_limit, gap=gap, warm_start=start, log=log,
                                progress=progress, stop=stop, node_limit=node_limit,
                                deterministic=deterministic, since=_STARTED or begun,
                                reserve=output_seconds(problem.instance) if outdir else 0.0)
        except InfeasibleModelError as exc:
            if outdir is not None:  # the folder says so too, instead of an older plan
                write_outputs(outdir, None, None, {
                    "model": planning.name, "model_file": str(model),
                    "instance": problem.instance.name, "status": "infeasible",
                    "message": str(exc)}, planning.name)
            raise
        summary = {"model": planning.name, "model_file": str(model),
                   "instance": problem.instance.name, **sol.summary()}
        if sol.figures is not None:
            summary.update(figures_json(sol.figures))
            summary["verification"] = verification_json(verify(problem, sol.plan))
        written = False
        if outdir is not None and (sol.interrupted is None or sol.plan is not None):
            title = f"{planning.name}: {len(sol.figures.areas) if sol.figures else 0} " \
                    f"areas, {sol.status}"
            write_outputs(outdir, sol.plan, sol.figures, summary, title)
            written = True
            stop.cooperative = True  # a signal from here on only changes the exit code
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
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
        if written and talk:
            click.echo(f"outputs written to {out}/")
    if stop.signum is not None:
        click.echo(_interrupted_line(sol, stop, out if written else None), err=True)
        sys.exit(128 + stop.signum)
    if not sol.status.has_solution:
        sys.exit(1)


def _interrupted_line(sol, stop: StopRequest, out: Path | None) -> str:
    """How far an interrupted solve got, in one line."""
    if sol.interrupted is None:
        return f"{stop.reason} after the run had finished" + (
            f"; its outputs are complete in {out}/" if out is not None else "")
    head = f"{stop.reason} after {sol.wall_time:.1f} s: "
    if sol.plan is None:
        return head + "no plan found yet; nothing written"
    gap = "" if sol.gap is None else f", gap {100 * sol.gap:.2f} %"
    found = f"the best plan found so far (objective {sol.objective:,.2f}{gap})"
    return head + (f"{found} is written to {out}/ as {sol.status}" if out is not None
                   else f"{found} is shown above as {sol.status}")


@cli.command()
@click.argument("plan", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", "-m", "model", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Planning model (TOML).")
@click.option("--areas", "-k", "areas", help="Override the area count: K or K1-K2.")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Write summary.json (and the map when the plan has geometry) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON only.")
@handles_errors
def check(plan, model, areas, out, as_json, stop):
    """Verify a PLAN file against a MODEL and print its figures; list every broken rule."""
    planning = load_model(model)
    if (rng := _area_range(areas)) is not None:
        planning = planning.with_areas(*rng)
    problem = bind(planning)
    p = read_plan(plan, problem.instance)
    figs = evaluate(problem, p)
    v = verify(problem, p)
    summary = {"model": planning.name, "model_file": str(model), "plan_file": str(plan),
               "instance": problem.instance.name, "notes": list(p.notes),
               **figures_json(figs), "verification": verification_json(v)}
    if out is not None:
        complete = bool((p.lead != UNASSIGNED).all())
        write_outputs(out, p if complete else None, figs, summary,
                      f"{plan.name} checked against {planning.name}")
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        for note in p.notes:
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
@click.option("--time-limit", "-t", type=click.FloatRange(min=0, min_open=True),
              help="Wall-clock seconds per solve (default: the suite's).")
@click.option("--repeat", "-r", type=click.IntRange(min=1), help="Runs per configuration.")
@click.option("--threads", type=click.IntRange(min=1),
              help="Solver threads (default: each back end's own).")
@click.option("--only", help="Comma-separated instance ids or glob patterns (e.g. 'NH,*-hess').")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the table as CSV (with machine, versions and commit), "
                   "rewritten after every configuration.")
@click.option("--best-known", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("benchmarks/best_known.csv"), show_default=True)
@handles_errors
def bench(suite, backends, contiguity, time_limit, repeat, threads, only, out, best_known, stop):
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
def build_instances(raw, out, stop):
    """Build mainland.json, one instance per region and the 2025 plan (reproducibly)."""
    from .finland import build_finland

    rep = build_finland(raw, out)
    click.echo(f"{rep.municipalities} municipalities, {rep.edges} adjacency edges; "
               f"{len(rep.files)} files written to {out}/")


@instances.command("random")
@click.option("--n", "n", type=click.IntRange(min=3), required=True,
              help="Number of municipalities.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Instance file to write (node-link JSON).")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a planning model for it (n // 7 areas, labour force >= 20,000).")
@handles_errors
def random_instance(n, seed, out, model, stop):
    """Write a seeded random planar instance: Delaunay neighbours of random points in a box
    of Finland's size, Finnish-like attributes; the same N and seed give the same file."""
    from .generate import random_model, random_planar
    from .instance import instance_json

    write_text_atomically(out, instance_json(random_planar(n, seed)))
    if model is not None:
        rel = os.path.relpath(Path(out).resolve(), Path(model).resolve().parent)
        write_text_atomically(model, random_model(Path(rel).as_posix(), n))
    click.echo(f"random planar instance, {n} municipalities, seed {seed}: {out}"
               + (f"; model {model}" if model is not None else ""))


_STARTED: float | None = None
"""When this process started (`time.perf_counter` scale), set by `main`: a time limit
counts from here, so start-up and reading the files count too."""


def main() -> None:
    global _STARTED
    _STARTED = time.perf_counter() - process_age()
    code: int | str | None = 0
    try:
        cli(prog_name="optimizer")
    except SystemExit as exc:
        code = exc.code
    # The run is over: a late signal no longer changes its outcome, and the process
    # leaves at once rather than tear the interpreter down around a solver thread that
    # may still be running in C++ (see backends.base.ABANDONED).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    if isinstance(code, str):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe
            stream.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)
