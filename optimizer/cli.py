"""The `optimizer` command: a thin layer over the Python API.

Exit codes: 0 success, 1 infeasible / no solution / a plan that breaks rules,
2 bad input (one line naming the file, key or municipality; no traceback),
130 / 143 stopped by SIGINT / SIGTERM (128 + the signal's number).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import re
import signal
import sys
import textwrap
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import click

from . import __version__
from .backends import NAMES, Status
from .economics.finance import settle
from .economics.tables import area_money_table, finance_text
from .errors import BackendError, InfeasibleModelError, InputError, Interrupted, OptimizerError
from .figures import evaluate
from .files import OutputDir, write_text_atomically
from .formulation import STRATEGIES
from .model import EXEMPTION_MODES, PlanningModel, bind, load_model
from .outputs import output_seconds, prepare_outputs, write_outputs
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
from .stopping import StopRequest, process_age, stop_on_signals
from .values import MAX_THREADS, describe, number
from .verify import verify


def _plain_console():
    """A stderr console that never draws a live line (the solver's own log is printing)."""
    from rich.console import Console

    return Console(stderr=True, force_terminal=False, force_interactive=False)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handles_errors(fn):
    """Turn the toolkit's named errors into one line on stderr and an exit code.

    SIGINT and SIGTERM go to a `StopRequest` (passed to the command as `stop` when it
    takes one): a solve in progress stops and keeps its best plan; anywhere else (or on
    a second signal) the command ends at once, its staged files removed, with 128 + the
    signal's number.
    """

    wants_stop = "stop" in inspect.signature(fn).parameters

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        stop = StopRequest()
        if wants_stop:
            kwargs["stop"] = stop
        try:
            with stop_on_signals(stop):
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="optimizer")
def cli() -> None:
    """Design contiguous production areas (employment areas) exactly, with free MIP solvers."""


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


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--backend", "-b", type=click.Choice(NAMES),
              help="highs, cbc, cpsat, scip, or heuristic (default: the model's, else highs).")
@click.option("--time-limit", "-t", type=_Number(lo=0, lo_open=True),
              help="Wall-clock seconds; a stopped run is reported as feasible, never optimal.")
@click.option("--gap", type=_Number(lo=0, hi=1, hi_open=True),
              help="Relative gap accepted as optimal (default: the model's).")
@click.option("--contiguity", type=click.Choice(STRATEGIES),
              help="Exact contiguity strategy (default: the model's).")
@click.option("--areas", "-k", "areas",
              help="Override the area count: K, K1-K2, or max (the largest number of areas).")
@click.option("--exemptions", "exemptions", is_flag=False, flag_value="fewest", default=None,
              metavar="[N]", help="Areas may miss the floors with an exemption: the fewest "
              "exemptions first, then the cost; with N, at most N.")
@click.option("--hard-floor", type=click.FloatRange(min=0),
              help="With --exemptions: a floor even an exempted area must meet.")
@click.option("--exemption-mode", type=click.Choice(EXEMPTION_MODES),
              help="fewest: the fewest exemptions first; allowed: the cheapest plan with at "
                   "most --exemptions N.")
@click.option("--reference", type=click.Path(dir_okay=False, path_type=Path),
              help="A plan to stay close to (e.g. the 2025 areas): moves are counted against it.")
@click.option("--max-moves", help="At most N municipalities move from --reference; "
              "N1,N2,... solves each and writes the moves-vs-cost curve.")
@click.option("--cost-per-move", type=click.FloatRange(min=0),
              help="€/yr added to the objective for each municipality moved from --reference.")
@_regional_option
@click.option("--warm-start", type=click.Path(dir_okay=False, path_type=Path),
              help="Start from a plan file (assignment or code,area format).")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Write assignment.csv, plan.csv, summary.json, areas.geojson, areas.gpkg, "
                   "map.png and map.html (and finance.csv with [finance]) here.")
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
def solve(model, backend, time_limit, gap, contiguity, areas, leads, exemptions, hard_floor,
          exemption_mode, reference, max_moves, cost_per_move, warm_start, out, as_json, quiet,
          log, node_limit, deterministic, stop):
    """Solve a planning MODEL (TOML) and print the areas and the solver's certificate.

    With [exemptions] (or --exemptions) the fewest areas needing an exemption are found
    first; with -k max the largest number of areas; with --reference and --max-moves the
    best plan moving at most N municipalities (N1,N2,...: the curve).

    SIGINT (Ctrl-C) or SIGTERM stops the solve: the best verified plan found so far is
    written (as feasible-at-limit) and the exit code is 130 or 143.
    """
    from .decisions import SolveOptions, explain_infeasible, solve_model
    from .decisions.exemptions import exempted_areas, shortfall_summary

    begun = _STARTED or time.perf_counter()
    if out is not None:
        prepare_outputs()  # the map libraries load while the model is read and solved
    steps = _move_steps(max_moves)
    if (steps is not None or cost_per_move is not None) and reference is None \
            and load_model(model).reference is None:
        raise InputError("--max-moves and --cost-per-move need --reference PLAN (or "
                         "[reference] in the model)")
    planning = _model_options(model, areas, leads, exemptions, hard_floor, exemption_mode,
                              reference, steps[0] if steps and len(steps) == 1 else None,
                              cost_per_move)
    problem = bind(planning)
    if steps is not None and len(steps) > 1:
        return _moves_curve(problem, steps, out, backend, contiguity, time_limit, gap,
                            log, as_json, quiet, stop)
    start = read_plan(warm_start, problem.instance) if warm_start else None
    talk = not (as_json or quiet)
    outdir = OutputDir.open(out) if out is not None else None  # writable? before any work
    with outdir or nullcontext():
        with ProgressLine(talk, first=f"solving {planning.name}",
                          console=None if not log else _plain_console()) as progress:
            options = SolveOptions(
                backend=backend, strategy=contiguity, time_limit=time_limit, gap=gap, log=log,
                progress=progress, started=begun, stop=stop, node_limit=node_limit,
                deterministic=deterministic,
                reserve=output_seconds(problem.instance) if outdir else 0.0)
            try:
                decision = solve_model(problem, options, warm_start=start)
            except InfeasibleModelError as exc:
                progress("explaining why no plan exists")
                message = explain_infeasible(problem, str(exc), backend=backend, stop=stop)
                if outdir is not None:  # the folder says so too, instead of an older plan
                    write_outputs(outdir, None, None, {
                        "model": planning.name, "model_file": str(model),
                        "instance": problem.instance.name, "status": "infeasible",
                        "message": message}, planning.name)
                raise InfeasibleModelError(message) from None
            sol = decision.solution
            explanation = None
            if sol.status is Status.INFEASIBLE and problem.exemptions is None:
                progress("explaining why no plan exists")
                explanation = explain_infeasible(problem, "no plan satisfies every rule",
                                                 backend=backend, stop=stop)
        final = sol.problem
        exempt = exempted_areas(final, sol.plan) if sol.plan is not None else ()
        if not as_json:
            for note in decision.all_notes:
                click.echo(f"note: {note}", err=True)
        summary = {"model": planning.name, "model_file": str(model),
                   "instance": problem.instance.name, **decision.summary()}
        fin = None
        if sol.figures is not None:
            summary.update(figures_json(sol.figures))
            summary["terms"] = dict(sol.figures.terms)
            summary["verification"] = verification_json(verify(final, sol.plan))
            if planning.finance is not None:
                fin = settle(final, sol.plan)
                summary["finance"] = fin.summary()
        if problem.exemptions is not None:
            summary["exempted_areas"] = [x.as_dict() for x in exempt]
        written = False
        if outdir is not None and (sol.interrupted is None or sol.plan is not None):
            title = plan_title(problem.instance, len(sol.figures.areas) if sol.figures else 0,
                               _decision_words(decision),
                               f"model {planning.name} ({model.name})")
            write_outputs(outdir, sol.plan, sol.figures, summary, title,
                          {"finance.csv": fin.to_csv()} if fin is not None else None)
            written = True
            stop.cooperative = True  # a signal from here on only changes the exit code
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
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
        if problem.exemptions is not None and sol.plan is not None:
            click.echo(shortfall_summary(exempt))
        if decision.answer is not None or len(decision.phases) > 1:
            click.echo(_answer_line(decision))
            for name, phase in decision.phases[:-1]:
                click.echo(_phase_line(name, phase))
        click.echo(solver_line(sol))
        if sol.plan is not None and talk:
            click.echo("plan verified: every rule holds")
        if explanation:
            click.echo(explanation)
        elif sol.message and not sol.status.has_solution:
            click.echo(sol.message)
        if problem.reference is not None and sol.figures is not None and talk:
            click.echo(f"{sol.figures.terms['moves']:.0f} municipalities move from "
                       f"{problem.model.reference.path.name}")
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


def _phase_line(name: str, sol) -> str:
    """An earlier phase's certificate in one short line."""
    value = "–" if sol.objective is None else f"{abs(sol.objective):,.0f}"
    bound = "–" if sol.bound is None else f"{abs(sol.bound):,.2f}"
    return (f"phase '{name}': {sol.status} · value {value} · bound {bound} · "
            f"time {sol.wall_time:.2f} s")


def _answer_line(decision) -> str:
    """The first phase's answer in words: the fewest exemptions or the most areas."""
    if decision.answer is None:
        return f"{decision.question}: no answer (no plan found)"
    what = {"fewest exemptions": "fewest exempted areas",
            "most areas": "largest number of areas"}.get(decision.question, decision.question)
    if decision.answer_proven:
        return f"{what}: {decision.answer:.0f} (proven)"
    side = "at least" if decision.question == "fewest exemptions" else "at most"
    bound = "" if decision.answer_bound is None else f"; {side} {decision.answer_bound:.0f}"
    return f"{what}: {decision.answer:.0f} (not proven{bound})"


def _decision_words(decision) -> str:
    sol = decision.solution
    words = status_words(str(sol.status), sol.gap, sol.backend)
    if decision.question == "most areas" and decision.answer is not None:
        words = ("the most areas" + ("" if decision.answer_proven else " found, not proven")
                 + f"; cost {words}")
    elif decision.question == "fewest exemptions" and decision.answer is not None:
        n = int(decision.answer)
        words = (f"{n} exemption{'s' if n != 1 else ''}"
                 + (" (the fewest)" if decision.answer_proven else " (not proven fewest)")
                 + f", {words}")
    return words


def _moves_curve(problem, steps, out, backend, contiguity, time_limit, gap, log,
                 as_json, quiet, stop) -> None:
    """`--max-moves N1,N2,...`: one solve per bound (the time limit is each point's), the
    curve as a table, CSV and PNG."""
    from .decisions import SolveOptions
    from .decisions.moves import curve_csv, curve_table, is_proven, moves_curve, write_curve

    talk = not (as_json or quiet)
    out = out or Path("out") / f"{problem.model.name}-moves"
    OutputDir.open(out).discard()  # writable? before any work
    with ProgressLine(talk, first=f"moves curve of {problem.model.name}") as progress:
        curve = moves_curve(problem, steps, SolveOptions(
            backend=backend, strategy=contiguity, time_limit=time_limit, gap=gap, log=log,
            progress=progress, stop=stop))
    title = (f"{problem.model.name}: cost against municipalities moved from "
             f"{problem.model.reference.path.name}")
    write_curve(curve, out, title)
    if as_json:
        click.echo(json.dumps(curve.rows(), indent=2, ensure_ascii=False))
    else:
        click.echo(curve_table(curve) if talk else curve_csv(curve).rstrip())
        if talk:
            click.echo("every point proven optimal" if is_proven(curve)
                       else "not every point proven optimal (see status)")
            click.echo(f"moves.csv and moves.png written to {out}/")
    if not all(p.solution.status.has_solution for p in curve.points):
        sys.exit(1)


@cli.command()
@click.argument("plan", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", "-m", "model", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Planning model (TOML).")
@click.option("--areas", "-k", "areas", help="Override the area count: K or K1-K2.")
@_regional_option
@click.option("--exemptions", "exemptions", is_flag=False, flag_value="any", default=None,
              metavar="[N]", help="The model's floors may be missed by exempted areas (at most "
              "N); a plan without an 'exempt' column has its short areas taken as exempted.")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Write summary.json (and the map when the plan has geometry) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON only.")
@handles_errors
def check(plan, model, areas, leads, exemptions, out, as_json):
    """Verify a PLAN file against a MODEL and print its figures; list every broken rule."""
    from .decisions.exemptions import declare_short, exempted_areas, shortfall_summary

    planning = _model_options(model, areas, leads, None if exemptions == "any" else exemptions,
                              None, None, None, None, None)
    if exemptions == "any":
        planning = replace(planning, exemptions=replace(planning.exemptions, enabled=True))
    problem = bind(planning)
    p = read_plan(plan, problem.instance)
    if problem.exemptions is not None and not p.exempt:
        p = declare_short(problem, p)
        p = replace(p, notes=(*p.notes, f"the plan declares no exemption: its {len(p.exempt)} "
                              "area(s) below an exemptable floor are taken as exempted"))
    figs = evaluate(problem, p)
    v = verify(problem, p)
    notes = [*problem.notes, *p.notes]
    summary = {"model": planning.name, "model_file": str(model), "plan_file": str(plan),
               "instance": problem.instance.name, "notes": notes,
               **figures_json(figs), "verification": verification_json(v)}
    if out is not None:
        complete = bool((p.lead != UNASSIGNED).all())
        words = "every rule holds" if v.ok else \
            f"breaks {len(v.violations)} rule{'s' if len(v.violations) != 1 else ''}"
        title = plan_title(problem.instance, len(figs.areas), words,
                           f"{plan.name} checked against model {planning.name}")
        write_outputs(out, p if complete else None, figs, summary, title)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        for note in notes:
            click.echo(f"note: {note}")
        click.echo(area_table(figs))
        click.echo()
        click.echo(members_list(figs))
        click.echo()
        if (line := organiser_line(problem, figs)) is not None:
            click.echo(line)
            click.echo()
        if problem.exemptions is not None:
            click.echo(shortfall_summary(exempted_areas(problem, p)))
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
@click.option("--out", "-o", type=click.Path(path_type=Path),
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
@click.option("--out", "-o", type=click.Path(path_type=Path),
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


@cli.command("compare")
@click.argument("plan_a", type=click.Path(path_type=Path))
@click.argument("plan_b", type=click.Path(path_type=Path))
@click.option("--model", "-m", "model", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Planning model (TOML).")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Write compare.csv, compare.md, map.html and map.png here.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON only.")
@handles_errors
def compare_command(plan_a, plan_b, model, out, as_json):
    """Compare PLAN_B with PLAN_A (files or run directories) under a MODEL: the municipalities
    that move and where, each area in both plans, the difference in every objective term."""
    from .decisions.compare import compare_plans, comparison_text, write_comparison

    file_a, file_b = _plan_file(plan_a), _plan_file(plan_b)
    problem = bind(load_model(model))
    a = read_plan(file_a, problem.instance)
    b = read_plan(file_b, problem.instance)
    name_a, name_b = _plan_names(file_a, file_b)
    c = compare_plans(problem, a, b, name_a, name_b)
    if out is not None:
        write_comparison(c, out)
    if as_json:
        click.echo(json.dumps({
            "plan_a": str(file_a), "plan_b": str(file_b), "model": str(model),
            "moves": [{"code": m.code, "name": m.name, "from": m.before, "to": m.after}
                      for m in c.moves],
            "terms": [{"term": t, "unit": u, "a": x, "b": y, "difference": d}
                      for t, u, x, y, d in c.term_rows()],
            "verification_a": verification_json(c.verification_a),
            "verification_b": verification_json(c.verification_b)},
            indent=2, ensure_ascii=False))
        return
    for name, plan in ((name_a, a), (name_b, b)):
        for note in plan.notes:
            click.echo(textwrap.fill(f"note ({name}): {note}", 100, subsequent_indent="    "))
    click.echo(comparison_text(c))
    if out is not None:
        click.echo(f"compare.csv, compare.md, map.html and map.png written to {out}/")


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--x", "x_term", default="cost", show_default=True,
              help="Term on the x axis: cost (fixed + staff), travel, fixed, staffing, total, "
                   "exemptions, moves or areas.")
@click.option("--y", "y_term", default="travel", show_default=True, help="Term on the y axis.")
@click.option("--points", "-n", type=click.IntRange(min=2), default=5, show_default=True,
              help="Most points on the front (the two ends and ε values between them).")
@click.option("--areas", "-k", "areas", help="Override the area count: K or K1-K2.")
@click.option("--backend", "-b", help="Back end (default: the model's).")
@click.option("--time-limit", "-t", type=click.FloatRange(min=0, min_open=True),
              help="Wall-clock seconds for the whole front; points stopped by it are marked.")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Write pareto.csv, pareto.png and plans/ here (default: "
                   "out/<model>-pareto).")
@click.option("--json", "as_json", is_flag=True, help="Print the points as JSON only.")
@click.option("--quiet", "-q", is_flag=True, help="No progress line.")
@handles_errors
def pareto(model, x_term, y_term, points, areas, backend, time_limit, out, as_json, quiet):
    """The Pareto front of two objective terms of a MODEL by the exact ε-constraint method:
    every point proven optimal (or marked not), only non-dominated points."""
    from .decisions import SolveOptions
    from .decisions.pareto import PARETO_TERMS, front_csv, front_table, pareto_front, write_front

    for opt, term in (("--x", x_term), ("--y", y_term)):
        if term not in PARETO_TERMS:
            raise InputError(f"{opt}: unknown term {term!r} (choose from "
                             f"{', '.join(PARETO_TERMS)})")
    if x_term == y_term:
        raise InputError("--x and --y must name different terms")
    planning = load_model(model)
    if (rng := _area_range(areas)) is not None:
        planning = planning.with_areas(*rng)
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


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "sets", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="A model key and its values (repeat for a grid), e.g. "
                   "floors.labour_force=16000,18000 or areas.count=4,5.")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="One folder per scenario, summary.csv and summary.png here.")
@click.option("--scheduler", metavar="ADDRESS",
              help="An existing Dask cluster (tcp://host:8786); default: a local cluster.")
@click.option("--workers", "-w", type=click.IntRange(min=1),
              help="Workers of the local cluster (default: one per core).")
@click.option("--sequential", is_flag=True,
              help="No cluster: the scenarios one after another in this process.")
@click.option("--backend", "-b", help="Back end (default: the model's).")
@click.option("--time-limit", "-t", type=click.FloatRange(min=0, min_open=True),
              help="Wall-clock seconds per scenario.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Solver threads per scenario.")
@click.option("--quiet", "-q", is_flag=True, help="No progress line, only the table.")
@handles_errors
def sweep(model, sets, out, scheduler, workers, sequential, backend, time_limit, threads,
          quiet):
    """Solve the grid of scenarios of a MODEL in parallel on Dask: each plan verified and
    kept in its own folder, failures reported without losing the others, finished
    scenarios skipped on a rerun, summary.csv and summary.png."""
    from .decisions.sweep import SweepOptions, SweepProgress, grid, run_sweep, summary_table

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
@click.option("--scheduler", metavar="ADDRESS",
              help="Run the configurations on an existing Dask cluster (tcp://host:8786).")
@click.option("--workers", "-w", type=click.IntRange(min=1),
              help="Run them on a local Dask cluster with this many workers (times then "
                   "include the contention).")
@click.option("--quiet", "-q", is_flag=True, help="No progress line, only the table.")
@click.option("--levers-off", metavar="NAMES",
              help="Switch speed-ups off for an ablation: root, fixing, incumbent "
                   "(comma-separated).")
@handles_errors
def bench(suite, backends, contiguity, time_limit, repeat, threads, only, out, best_known,
          scheduler, workers, quiet, levers_off):
    """Run a benchmark SUITE (a name in benchmarks/suites/ or a TOML path).

    Every plan is verified. Exits 1 when a plan fails verification, an optimum
    differs from a known optimum, or a known-infeasible model gets a plan.
    """
    from . import bench as b

    s = b.load_suite(b.suite_path(suite))
    from .solve import Levers

    Levers.parse(levers_off)  # a bad name is bad input before anything runs
    split = lambda v: tuple(x.strip() for x in v.split(",") if x.strip()) if v else None  # noqa: E731
    for name in split(backends) or ():
        if name not in NAMES:
            raise InputError(f"--backends: unknown back end {name!r}")
    for name in split(contiguity) or ():
        if name not in STRATEGIES:
            raise InputError(f"--contiguity: unknown strategy {name!r}")
    from contextlib import nullcontext

    from .cluster import dask_client

    cluster = dask_client(scheduler, workers) if scheduler or workers else nullcontext()
    with ProgressLine(not quiet, first=f"suite {s.name}", unit="configurations") as progress, \
            cluster as client:
        def finished(rs) -> None:
            progress.done(len(rs))
            if out is not None:
                b.write_csv(rs, out)

        rows = b.run_suite(s, b.load_references(best_known), backends=split(backends),
                           strategies=split(contiguity), time_limit=time_limit, repeat=repeat,
                           threads=threads, only=split(only), progress=progress,
                           on_row=finished, client=client, levers_off=levers_off)
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
@click.option("--raw", type=click.Path(path_type=Path),
              default=Path("instances/finland/raw"), show_default=True,
              help="Folder with the official raw files.")
@click.option("--out", type=click.Path(path_type=Path),
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
