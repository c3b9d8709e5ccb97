"""`optimizer solve`: a model's question answered, the plan verified, the outputs written.

`solve_run` does the work (solve, explain an infeasible model, settle the money,
summary.json, the run directory) and returns it; `show` prints it. `report` on a
model file calls the same two functions.
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import click

from ..data.planfile import read_plan
from ..decisions.base import Decision, SolveOptions
from ..decisions.exemptions import ExemptArea, exempted_areas
from ..decisions.moves import MAX_STEPS, is_proven, moves_curve
from ..decisions.question import solve_model
from ..economics.settle import Finance, settle
from ..economics.sources import money_sources
from ..errors import InfeasibleModelError, InputError
from ..memory import MemoryGuard
from ..model.binding import bind
from ..model.parse import load_model
from ..model.problem import Problem
from ..model.schema import EXEMPTION_MODES
from ..model.verify import verify
from ..output.curve import curve_csv, curve_table, write_curve
from ..output.money_tables import money_tables_text
from ..output.sources import banner_text, sources_text
from ..output.summary import infeasible_summary, run_summary
from ..output.text import (
    answer_line,
    area_money_table,
    area_table,
    count_line,
    decision_words,
    explain_infeasible,
    interrupted_line,
    members_list,
    organiser_line,
    organiser_name,
    phase_line,
    plan_title,
    shortfall_summary,
    solver_line,
)
from ..output.write import money_files, output_seconds, prepare_outputs, write_outputs
from ..staging import OutputDir
from ..status import Status
from ..words import plural
from .app import command, plain_console, started
from .options import (
    FILE,
    GAP,
    NON_NEGATIVE,
    areas_option,
    backend_option,
    contiguity_option,
    count,
    json_option,
    load_with_overrides,
    memory_budget,
    memory_option,
    model_argument,
    money_input_options,
    out_option,
    quiet_option,
    regional_leads_option,
    time_limit_option,
)
from .progress import ProgressLine


@dataclass(frozen=True, eq=False)
class SolveRun:
    """A solve as the command line reports it: the answer, what was computed from its
    plan (verification, money, exemptions) and whether the outputs were written."""

    problem: Problem
    model_file: Path
    decision: Decision
    summary: dict
    finance: Finance | None
    exempt: tuple[ExemptArea, ...]
    explanation: str | None
    written: bool


def solve_run(problem: Problem, model_file: Path, options: SolveOptions, *,
              out: Path | None = None, warm_start=None) -> SolveRun:
    """Answer the model's question; on a plan, verify it, settle its money and write the run
    directory `out` (a folder checked before any work, replaced as one set). An infeasible
    model is explained and raised as InfeasibleModelError, its folder saying so."""
    outdir = OutputDir.open(out) if out is not None else None  # writable? before any work
    say = options.say
    with outdir or nullcontext():
        try:
            decision = solve_model(problem, options, warm_start=warm_start)
        except InfeasibleModelError as exc:
            say("explaining why no plan exists")
            message = explain_infeasible(problem, str(exc), backend=options.backend,
                                         stop=options.stop)
            if outdir is not None:  # the folder says so too, instead of an older plan
                write_outputs(outdir, None, None,
                              infeasible_summary(problem, model_file, message),
                              problem.model.name)
            raise InfeasibleModelError(message) from None
        sol = decision.solution
        explanation = None
        if sol.status is Status.INFEASIBLE and problem.exemptions is None:
            say("explaining why no plan exists")
            explanation = explain_infeasible(problem, "no plan satisfies every rule",
                                             backend=options.backend, stop=options.stop)
        final = sol.problem
        plan = sol.plan
        exempt = exempted_areas(final, plan) if plan is not None else ()
        fin = settle(final, plan) if plan is not None and final.model.finance else None
        summary = run_summary(
            "solve", problem, model_file, decision=decision, figures=sol.figures,
            verification=verify(final, plan) if plan is not None else None, finance=fin,
            exempted=exempt if problem.exemptions is not None else None)
        written = outdir is not None and (sol.interrupted is None or plan is not None)
        if written:
            title = plan_title(problem.instance, len(sol.figures.areas) if sol.figures else 0,
                               decision_words(decision),
                               f"model {problem.model.name} ({model_file.name})",
                               organiser_name(problem))
            write_outputs(outdir, plan, sol.figures, summary, title,
                          money_files(fin, final))
            if options.stop is not None:
                options.stop.cooperative = True  # a signal now only changes the exit code
    return SolveRun(problem, model_file, decision, summary, fin, exempt, explanation, written)


def show(run: SolveRun, *, talk: bool, out: Path | None) -> None:
    """The run on the terminal: areas, members, the two tiers, money, exemptions, the
    answer and its phases, the certificate, and where the outputs went."""
    problem, decision = run.problem, run.decision
    sol = decision.solution
    if talk and sol.figures is not None:
        sources = money_sources(problem)
        blocks = [area_table(sol.figures), members_list(sol.figures),
                  organiser_line(problem, sol.figures), banner_text(sources),
                  area_money_table(run.finance) if run.finance is not None else None,
                  money_tables_text(run.finance) if run.finance is not None else None,
                  sources_text(sources) if sources else None]
        for block in blocks:
            if block is not None:
                click.echo(block)
                click.echo()
    if problem.exemptions is not None and sol.plan is not None:
        click.echo(shortfall_summary(run.exempt))
    if decision.answer is not None or len(decision.phases) > 1:
        click.echo(answer_line(decision))
        for name, phase in decision.phases[:-1]:
            click.echo(phase_line(name, phase))
    click.echo(solver_line(sol))
    if talk and (line := count_line(sol, problem.organiser is not None)) is not None:
        click.echo(line)
    if sol.plan is not None and talk:
        click.echo("plan verified: every rule holds")
    if run.explanation:
        click.echo(run.explanation)
    elif sol.message and not sol.status.has_solution:
        click.echo(sol.message)
    if problem.reference is not None and sol.figures is not None and talk:
        click.echo(f"{plural(int(sol.figures.terms['moves']), 'municipality')} change lead from "
                   f"{problem.model.reference.path.name}")
    if run.written and talk:
        click.echo(f"outputs written to {out}/")


def _move_steps(text: str | None) -> list[int] | None:
    if text is None:
        return None
    steps = [count(x, "--max-moves") for x in text.split(",") if x.strip()]
    if not steps:
        raise InputError(f"--max-moves: expected N or N1,N2,..., got {text!r}")
    if len(set(steps)) > MAX_STEPS:
        raise InputError(f"--max-moves: at most {MAX_STEPS} bounds, got {len(set(steps))}")
    return steps


@command()
@model_argument
@backend_option()
@time_limit_option("Wall-clock seconds for the whole command; a stopped run is reported as "
                   "feasible-at-limit, never optimal.")
@click.option("--gap", type=GAP, help="Relative gap accepted as optimal (default: the model's).")
@contiguity_option()
@areas_option(allow_max=True)
@click.option("--exemptions", "exemptions", is_flag=False, flag_value="fewest", default=None,
              metavar="[N]", help="Areas may miss the floors with an exemption: the fewest "
              "exemptions first, then the cost; with N, at most N.")
@click.option("--hard-floor", type=NON_NEGATIVE,
              help="With --exemptions: a floor even an exempted area must meet.")
@click.option("--exemption-mode", type=click.Choice(EXEMPTION_MODES),
              help="fewest: the fewest exemptions first; allowed: the cheapest plan with at "
                   "most --exemptions N.")
@click.option("--reference", type=FILE,
              help="A plan to stay close to (e.g. the 2025 areas): moves are counted against it.")
@click.option("--max-moves", help="At most N municipalities move from --reference; "
              "N1,N2,... solves each and writes the moves-vs-cost curve.")
@click.option("--cost-per-move", type=NON_NEGATIVE,
              help="€/yr added to the objective for each municipality moved from --reference.")
@regional_leads_option()
@click.option("--warm-start", type=FILE,
              help="Start from a plan file (assignment or code,area format).")
@out_option()
@json_option()
@quiet_option("Print only the solver line.")
@click.option("--log", is_flag=True, help="Show the solver's own log (on stderr).")
@click.option("--node-limit", type=click.IntRange(min=1),
              help="Stop after this many branch-and-bound nodes (a work limit: the same "
                   "answer at any speed; not CP-SAT).")
@click.option("--deterministic", is_flag=True, default=None,
              help="Budget the heuristic in steps, not seconds, for the same answer on a busy "
                   "and a quiet machine (default: the model's solver.deterministic).")
@click.option("--best-only", is_flag=True,
              help="With a range of area counts, let the counts prune against each other: "
                   "faster, but the other counts' costs are then only bounded (the report's "
                   "'why this count' says 'at least').")
@money_input_options
@memory_option
def solve(model, backend, time_limit, gap, contiguity, areas, exemptions, hard_floor,
          exemption_mode, reference, max_moves, cost_per_move, leads, warm_start, out,
          as_json, quiet, log, node_limit, deterministic, best_only, statistics, subsidies,
          memory_limit, stop):
    """Solve a planning MODEL (TOML) and print the areas and the solver's certificate.

    With [exemptions] (or --exemptions) the fewest areas needing an exemption are found
    first; with -k max the largest number of areas; with --reference and --max-moves the
    best plan moving at most N municipalities (N1,N2,...: the curve).

    SIGINT (Ctrl-C) or SIGTERM stops the solve: the best verified plan found so far is
    written (as feasible-at-limit) and the exit code is 130 or 143.
    """
    begun = started()
    budget = memory_budget(memory_limit)
    if out is not None:
        prepare_outputs()  # the map libraries load while the model is read and solved
    steps = _move_steps(max_moves)
    if (steps is not None or cost_per_move is not None) and reference is None \
            and load_model(model).reference is None:
        raise InputError("--max-moves and --cost-per-move need --reference PLAN (or "
                         "[reference] in the model)")
    planning = load_with_overrides(
        model, areas, leads, exemptions=exemptions, hard_floor=hard_floor,
        exemption_mode=exemption_mode, reference=reference,
        max_moves=steps[0] if steps and len(steps) == 1 else None, cost_per_move=cost_per_move,
        statistics=statistics, subsidies=subsidies)
    problem = bind(planning)
    talk = not (as_json or quiet)
    if steps is not None and len(steps) > 1:
        return _moves_curve(problem, steps, out, talk, as_json, SolveOptions(
            backend=backend, strategy=contiguity, time_limit=time_limit, gap=gap, log=log,
            stop=stop, memory_limit=budget.limit))
    start = read_plan(warm_start, problem.instance) if warm_start else None
    with MemoryGuard(budget, lambda why: stop.set(why=why)), \
            ProgressLine(talk, first=f"solving {planning.name}",
                         console=None if not log else plain_console()) as progress:
        options = SolveOptions(
            backend=backend, strategy=contiguity, time_limit=time_limit, gap=gap, log=log,
            progress=progress, started=begun, stop=stop, node_limit=node_limit,
            deterministic=deterministic, memory_limit=budget.limit, prune_counts=best_only,
            reserve=output_seconds(problem.instance) if out is not None else 0.0)
        run = solve_run(problem, model, options, out=out, warm_start=start)
    if as_json:
        click.echo(json.dumps(run.summary, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        for note in run.decision.all_notes:
            click.echo(f"note: {note}", err=True)
        show(run, talk=talk, out=out)
    sol = run.decision.solution
    if stop.signum is not None:
        click.echo(interrupted_line(sol, stop.reason, out if run.written else None), err=True)
        sys.exit(128 + stop.signum)
    if not sol.status.has_solution:
        sys.exit(1)


def _moves_curve(problem: Problem, steps: list[int], out: Path | None, talk: bool,
                 as_json: bool, options: SolveOptions) -> None:
    """`--max-moves N1,N2,...`: one solve per bound (the time limit is each point's), the
    curve as a table, CSV and PNG. A signal ends it after the point being solved: the
    points so far are written (the stopped one not proven), exit 130 or 143."""
    out = out or Path("out") / f"{problem.model.name}-moves"
    OutputDir.open(out).discard()  # writable? before any work
    prepare_outputs()  # the plotting libraries load while the points are solved
    stop = options.stop
    with ProgressLine(talk, first=f"moves curve of {problem.model.name}") as progress, \
            stop.cooperating() if stop is not None else nullcontext():
        curve = moves_curve(problem, steps, replace(options, progress=progress))
    if stop is not None and stop.signum is not None and not curve.points:
        click.echo(f"{stop.reason} before the first point was solved; nothing written",
                   err=True)
        sys.exit(128 + stop.signum)
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
    if stop is not None and stop.signum is not None:
        cut = curve.points[-1].solution.interrupted is not None
        click.echo(f"{stop.reason}: {len(curve.points)} of {len(set(steps))} points written to "
                   f"{out}/" + (" (the last one stopped before its proof: not proven)"
                                if cut else "")
                   + "; the optimum without a limit was not found (its solve was stopped "
                   "or not begun)", err=True)
        sys.exit(128 + stop.signum)
    if not all(p.solution.status.has_solution for p in curve.points):
        sys.exit(1)

