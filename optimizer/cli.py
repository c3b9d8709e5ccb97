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
from .economics.finance import settle
from .economics.tables import area_money_table, finance_text
from .errors import BackendError, InfeasibleModelError, InputError, OptimizerError
from .figures import evaluate
from .formulation import STRATEGIES
from .model import PlanningModel, bind, load_model
from .outputs import preload_map_modules, write_outputs
from .plan import UNASSIGNED, read_plan
from .progress import ProgressLine
from .report import (
    area_table,
    figures_json,
    members_list,
    organiser_line,
    plan_title,
    solver_line,
    status_words,
    verification_json,
    verification_text,
)
from .solve import solve as solve_problem
from .verify import verify


def _plain_console():
    """A stderr console that never draws a live line (the solver's own log is printing)."""
    from rich.console import Console

    return Console(stderr=True, force_terminal=False, force_interactive=False)


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
@_regional_option
@click.option("--warm-start", type=click.Path(dir_okay=False, path_type=Path),
              help="Start from a plan file (assignment or code,area format).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Write assignment.csv, summary.json, areas.geojson and map.png (and "
                   "finance.csv with [finance]) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON only.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the solver line.")
@click.option("--log", is_flag=True, help="Show the solver's own log.")
@handles_errors
def solve(model, backend, time_limit, gap, contiguity, areas, leads, warm_start, out, as_json,
          quiet, log):
    """Solve a planning MODEL (TOML) and print the areas and the solver's certificate."""
    if out is not None:
        preload_map_modules()
    planning = _with_counts(load_model(model), areas, leads)
    problem = bind(planning)
    start = read_plan(warm_start, problem.instance) if warm_start else None
    talk = not (as_json or quiet)
    with ProgressLine(talk, first=f"solving {planning.name}",
                      console=None if not log else _plain_console()) as progress:
        sol = solve_problem(problem, backend=backend, strategy=contiguity,
                            time_limit=time_limit, gap=gap, warm_start=start, log=log,
                            progress=progress)
    summary = {"model": planning.name, "model_file": str(model),
               "instance": problem.instance.name, **sol.summary()}
    fin = None
    if sol.figures is not None:
        summary.update(figures_json(sol.figures))
        summary["verification"] = verification_json(verify(problem, sol.plan))
        if planning.finance is not None:
            fin = settle(problem, sol.plan)
            summary["finance"] = fin.summary()
    if out is not None:
        title = plan_title(problem.instance, len(sol.figures.areas) if sol.figures else 0,
                           status_words(str(sol.status), sol.gap, sol.backend),
                           f"model {planning.name} ({model.name})")
        write_outputs(out, sol.plan, sol.figures, summary, title,
                      {"finance.csv": fin.to_csv()} if fin is not None else None)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        if talk and sol.figures is not None:
            click.echo(area_table(sol.figures))
            click.echo()
            click.echo(members_list(sol.figures))
            click.echo()
            if (line := organiser_line(problem, sol.figures)) is not None:
                click.echo(line)
                click.echo()
            if fin is not None:
                click.echo(area_money_table(fin))
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
@_regional_option
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Write summary.json (and the map when the plan has geometry) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON only.")
@handles_errors
def check(plan, model, areas, leads, out, as_json):
    """Verify a PLAN file against a MODEL and print its figures; list every broken rule."""
    planning = _with_counts(load_model(model), areas, leads)
    problem = bind(planning)
    p = read_plan(plan, problem.instance)
    figs = evaluate(problem, p)
    v = verify(problem, p)
    summary = {"model": planning.name, "model_file": str(model), "plan_file": str(plan),
               "instance": problem.instance.name, "notes": list(p.notes),
               **figures_json(figs), "verification": verification_json(v)}
    if out is not None:
        complete = bool((p.lead != UNASSIGNED).all())
        words = "every rule holds" if v.ok else \
            f"breaks {len(v.violations)} rule{'s' if len(v.violations) != 1 else ''}"
        title = plan_title(problem.instance, len(figs.areas), words,
                           f"{plan.name} checked against model {planning.name}")
        write_outputs(out, p if complete else None, figs, summary, title)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        for note in p.notes:
            click.echo(f"note: {note}")
        click.echo(area_table(figs))
        click.echo()
        click.echo(members_list(figs))
        click.echo()
        if (line := organiser_line(problem, figs)) is not None:
            click.echo(line)
            click.echo()
        click.echo(verification_text(v))
    if not v.ok:
        sys.exit(1)


@cli.command()
@click.argument("plan", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", "-m", "model", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Planning model (TOML) with a [finance] table.")
@_regional_option
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Write finance.csv and summary.json here.")
@click.option("--json", "as_json", is_flag=True, help="Print the settlement as JSON only.")
@handles_errors
def finance(plan, model, leads, out, as_json):
    """Who pays what under a PLAN: subsidies, shares to the organiser, each area's cost and
    deficit or surplus, incentives and sanctions, and every municipality's net position.

    Any plan is settled, also one that breaks a rule of the model (the rules it breaks
    are counted; `optimizer check` lists them).
    """
    planning = _with_counts(load_model(model), None, leads)
    if planning.finance is None:
        raise InputError(f"{model}: no [finance] table, so nothing says who pays what")
    problem = bind(planning)
    p = read_plan(plan, problem.instance)
    fin = settle(problem, p)
    figs = evaluate(problem, p)
    v = verify(problem, p)
    summary = {"model": planning.name, "model_file": str(model), "plan_file": str(plan),
               "instance": problem.instance.name, "notes": list(p.notes),
               "verification": verification_json(v), "finance": fin.summary()}
    if out is not None:
        write_outputs(out, None, figs, summary, f"{plan.name}: who pays what",
                      {"finance.csv": fin.to_csv()})
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    for note in p.notes:
        click.echo(f"note: {note}")
    click.echo(f"plan {plan} under {planning.name}: " + (
        "every rule holds" if v.ok else f"breaks {len(v.violations)} rule(s) of the model "
        "(optimizer check lists them)"))
    if (line := organiser_line(problem, figs)) is not None:
        click.echo(line)
    click.echo()
    click.echo(finance_text(fin))
    if out is not None:
        click.echo(f"\noutputs written to {out}/")


@cli.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--model", "-m", "model", type=click.Path(dir_okay=False, path_type=Path),
              help="For a run directory: the model to re-verify with (default: the one its "
                   "summary.json names).")
@click.option("--reference", "-r", type=click.Path(dir_okay=False, path_type=Path),
              help="A plan to compare with: moved municipalities and both plans' figures.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for report.html (default: the run directory; for a MODEL "
                   "out/<model name>, where the solve's files go too).")
@click.option("--backend", "-b", help="For a MODEL: the back end (default: the model's).")
@click.option("--time-limit", "-t", type=click.FloatRange(min=0, min_open=True),
              help="For a MODEL: wall-clock seconds for the solve.")
@click.option("--areas", "-k", "areas", help="For a MODEL: override the area count (K or K1-K2).")
@_regional_option(short=False)
@click.option("--quiet", "-q", is_flag=True, help="Print only the report's path.")
@handles_errors
def report(target, model, reference, out, backend, time_limit, areas, leads, quiet):
    """Write one self-contained HTML report (no network needed) for a run directory
    (from solve/check --out) or a MODEL (solved first): the solver's certificate, the areas,
    the map, the money when the run has finance.csv, and a comparison with --reference."""
    from .reporting.comparison import compare
    from .reporting.html import write_report
    from .reporting.run import load_run

    failed = 0
    if target.suffix == ".toml" and not target.is_dir():
        run_dir = out or Path("out") / load_model(target).name
        try:
            click.get_current_context().invoke(solve, model=target, backend=backend,
                                               time_limit=time_limit, areas=areas,
                                               leads=leads, out=run_dir, quiet=True)
        except SystemExit as exc:  # 1: no plan, still reported; anything else stops here
            if exc.code != 1:
                raise
            failed = 1
        model = model or target
    elif target.is_dir():
        run_dir = target
        if any(v is not None for v in (backend, time_limit, areas, leads)):
            raise InputError("--backend, --time-limit, --areas and --regional-leads apply "
                             "to a MODEL, "
                             f"not to the run directory {target}")
    else:
        raise InputError(f"{target}: neither a run directory nor a model file (.toml)")
    run = load_run(run_dir, model)
    comparison = None
    if reference is not None:
        if run.plan is None:
            raise InputError(f"{run_dir}: the run has no plan to compare with {reference}")
        ref = read_plan(reference, run.problem.instance)
        comparison = compare(run.problem, run.plan, ref, reference.name)
    path = write_report(run, out or run_dir, comparison)
    click.echo(f"report written to {path}" if not quiet else str(path))
    if failed:
        sys.exit(failed)


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
@click.option("--quiet", "-q", is_flag=True, help="No progress line, only the table.")
@handles_errors
def bench(suite, backends, contiguity, time_limit, repeat, threads, only, out, best_known,
          quiet):
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
    with ProgressLine(not quiet, first=f"suite {s.name}", unit="configurations") as progress:
        def finished(rs) -> None:
            progress.done(len(rs))
            if out is not None:
                b.write_csv(rs, out)

        rows = b.run_suite(s, b.load_references(best_known), backends=split(backends),
                           strategies=split(contiguity), time_limit=time_limit, repeat=repeat,
                           threads=threads, only=split(only), progress=progress,
                           on_row=finished)
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
