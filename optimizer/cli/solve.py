"""`optimizer solve`: a model's question answered, the plan verified, the outputs written.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import click

from ..backends import NAMES
from ..data.planfile import read_plan
from ..economics.settle import settle
from ..errors import InfeasibleModelError, InputError
from ..memory import MemoryGuard
from ..mip.formulation import STRATEGIES
from ..model.binding import bind
from ..model.parse import load_model
from ..model.schema import EXEMPTION_MODES
from ..model.verify import verify
from ..output.money_text import area_money_table
from ..output.text import (
    area_table,
    figures_json,
    members_list,
    organiser_line,
    plan_title,
    solver_line,
    status_words,
    verification_json,
)
from ..output.write import output_seconds, prepare_outputs, write_outputs
from ..staging import OutputDir
from ..status import Status
from ..stopping import StopRequest
from .app import _STARTED, _plain_console, cli, handles_errors
from .options import (
    _model_options,
    _move_steps,
    _Number,
    _regional_option,
    memory_budget,
    memory_option,
)
from .progress import ProgressLine


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
@memory_option
@handles_errors
def solve(model, backend, time_limit, gap, contiguity, areas, leads, exemptions, hard_floor,
          exemption_mode, reference, max_moves, cost_per_move, warm_start, out, as_json, quiet,
          log, node_limit, deterministic, memory_limit, stop):
    """Solve a planning MODEL (TOML) and print the areas and the solver's certificate.

    With [exemptions] (or --exemptions) the fewest areas needing an exemption are found
    first; with -k max the largest number of areas; with --reference and --max-moves the
    best plan moving at most N municipalities (N1,N2,...: the curve).

    SIGINT (Ctrl-C) or SIGTERM stops the solve: the best verified plan found so far is
    written (as feasible-at-limit) and the exit code is 130 or 143.
    """
    from ..decisions import SolveOptions, explain_infeasible, solve_model
    from ..decisions.exemptions import exempted_areas, shortfall_summary

    begun = _STARTED or time.perf_counter()
    budget = memory_budget(memory_limit)
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
    with outdir or nullcontext(), MemoryGuard(budget, lambda why: stop.set(why=why)):
        with ProgressLine(talk, first=f"solving {planning.name}",
                          console=None if not log else _plain_console()) as progress:
            options = SolveOptions(
                backend=backend, strategy=contiguity, time_limit=time_limit, gap=gap, log=log,
                progress=progress, started=begun, stop=stop, node_limit=node_limit,
                deterministic=deterministic, memory_limit=budget.limit,
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
    from ..decisions import SolveOptions
    from ..decisions.moves import is_proven, moves_curve
    from ..output.curve import curve_csv, curve_table, write_curve

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
