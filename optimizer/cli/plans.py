"""Commands on existing plans: `check`, `finance`, `compare` and `report`.

Each reads a plan (a file or a run directory's assignment.csv), verifies it
against the model and computes every figure it shows from the model and the plan.
"""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import click

from ..data.plan import UNASSIGNED
from ..data.planfile import read_plan
from ..decisions.base import SolveOptions
from ..decisions.compare import compare, compare_plans
from ..decisions.exemptions import declare_short, exempted_areas
from ..economics.settle import settle
from ..economics.sources import money_sources
from ..errors import InfeasibleModelError, InputError
from ..model.binding import bind
from ..model.evaluate import evaluate
from ..model.verify import verify
from ..output.comparison import comparison_text, write_comparison
from ..output.money_tables import money_tables_text
from ..output.report_html import write_report
from ..output.run_dir import load_run
from ..output.sources import banner_text, sources_text
from ..output.summary import run_summary, verification_json
from ..output.text import (
    area_table,
    finance_text,
    interrupted_line,
    members_list,
    organiser_line,
    organiser_name,
    plan_title,
    shortfall_summary,
    verification_text,
)
from ..output.write import money_files, write_outputs
from .app import command, started
from .options import (
    FOLDER,
    areas_option,
    backend_option,
    json_option,
    load_with_overrides,
    model_of,
    model_option,
    money_input_options,
    out_option,
    plan_file,
    plan_name,
    plan_names,
    quiet_option,
    regional_leads_option,
    time_limit_option,
)
from .solve import show, solve_run


@command()
@click.argument("plan", type=FOLDER)
@model_option(required=False, help="Planning model (TOML); default: the one a run "
              "directory's summary.json names.")
@areas_option()
@regional_leads_option()
@click.option("--exemptions", "exemptions", is_flag=False, flag_value="any", default=None,
              metavar="[N]", help="The model's floors may be missed by exempted areas (at most "
              "N); a plan without an 'exempt' column has its short areas taken as exempted.")
@out_option("Write summary.json (and the maps when the instance has polygons) here.")
@json_option("the result")
@money_input_options
def check(plan, model, areas, leads, exemptions, out, as_json, statistics, subsidies):
    """Verify a PLAN (a file or a run directory) against a MODEL and print its figures;
    list every broken rule."""
    model = model_of((plan,), model)
    plan = plan_file(plan)
    planning = load_with_overrides(model, areas, leads,
                                   exemptions=None if exemptions == "any" else exemptions,
                                   statistics=statistics, subsidies=subsidies)
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
    summary = run_summary("check", problem, model, plan_file=plan, figures=figs,
                          verification=v, notes=notes)
    if out is not None:
        complete = bool((p.lead != UNASSIGNED).all())
        words = "every rule holds" if v.ok else \
            f"breaks {len(v.violations)} rule{'s' if len(v.violations) != 1 else ''}"
        title = plan_title(problem.instance, len(figs.areas), words,
                           f"{plan.name} checked against model {planning.name}",
                           organiser_name(problem))
        write_outputs(out, p if complete else None, figs, summary, title)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        for note in notes:
            click.echo(f"note: {note}", err=True)
        blocks = [area_table(figs), members_list(figs), organiser_line(problem, figs),
                  shortfall_summary(exempted_areas(problem, p))
                  if problem.exemptions is not None else None]
        for block in blocks:
            if block is not None:
                click.echo(block)
                click.echo()
        click.echo(verification_text(v))
    if not v.ok:
        sys.exit(1)


@command()
@click.argument("plan", type=FOLDER)
@model_option(required=False, help="Planning model (TOML) with a [finance] table; default: "
              "the one a run directory's summary.json names.")
@regional_leads_option()
@out_option("Write finance.csv, finance_sources.csv and summary.json here.")
@json_option("the settlement")
@money_input_options
def finance(plan, model, leads, out, as_json, statistics, subsidies):
    """Who pays what under a PLAN (a plan file or a run directory): subsidies, shares to the
    organiser, each area's cost and deficit or surplus, incentives and sanctions, and every
    municipality's net position.

    Any plan is settled, also one that breaks a rule of the model (the rules it breaks
    are counted; `optimizer check` lists them). PLAN is a file or a run directory.
    """
    model = model_of((plan,), model)
    plan = plan_file(plan)
    planning = load_with_overrides(model, None, leads, statistics=statistics,
                                   subsidies=subsidies)
    if planning.finance is None:
        raise InputError(f"{model}: no [finance] table, so nothing says who pays what")
    problem = bind(planning)
    p = read_plan(plan, problem.instance)
    left = [i for i in range(problem.n) if p.lead[i] == UNASSIGNED]
    if left:
        raise InputError(f"{plan}: the plan leaves {problem.instance.label(left[0])}"
                         + (f" and {len(left) - 1} more" if len(left) > 1 else "")
                         + " out of every area; who pays what needs every municipality in an "
                         "area")
    fin = settle(problem, p)
    figs = evaluate(problem, p)
    v = verify(problem, p)
    summary = run_summary("finance", problem, model, plan_file=plan, verification=v,
                          finance=fin, notes=p.notes)
    if out is not None:
        write_outputs(out, None, figs, summary, f"{plan.name}: who pays what",
                      money_files(fin, problem))
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    for note in p.notes:
        click.echo(f"note: {note}", err=True)
    sources = money_sources(problem)
    if (banner := banner_text(sources)) is not None:
        click.echo(banner)
    click.echo(f"plan {plan} under {planning.name}: " + (
        "every rule holds" if v.ok else f"breaks {len(v.violations)} rule(s) of the model "
        "(optimizer check lists them)"))
    if (line := organiser_line(problem, figs)) is not None:
        click.echo(line)
    click.echo()
    click.echo(finance_text(fin))
    click.echo()
    click.echo(money_tables_text(fin))
    click.echo()
    click.echo(sources_text(sources))
    if out is not None:
        click.echo(f"\noutputs written to {out}/")


@command()
@click.argument("target", type=FOLDER)
@model_option(required=False, help="For a run directory: the model to re-verify with "
              "(default: the one its summary.json names).")
@click.option("--reference", "-r", type=FOLDER,
              help="A plan (a file or a run directory) to compare with: the municipalities "
                   "that change lead and both plans' figures and money.")
@out_option("Directory for report.html (default: the run directory; for a MODEL "
            "out/<model name>, where the solve's files go too).")
@backend_option("the solve (for a MODEL)")
@time_limit_option("For a MODEL: wall-clock seconds for the solve.")
@areas_option()
@regional_leads_option(short=False)
@quiet_option("Print only the report's path.")
def report(target, model, reference, out, backend, time_limit, areas, leads, quiet, stop):
    """Write one self-contained HTML report (no network needed) for a run directory
    (from solve/check --out) or a MODEL (solved first): the solver's certificate, the areas,
    the map, the money when the model has [finance], and a comparison with --reference."""
    failed = 0
    if target.suffix == ".toml" and not target.is_dir():
        planning = load_with_overrides(target, areas, leads)
        run_dir = out or Path("out") / planning.name
        try:
            run = solve_run(bind(planning), target, SolveOptions(
                backend=backend, time_limit=time_limit, started=started(), stop=stop),
                out=run_dir)
            for note in run.decision.all_notes:
                click.echo(f"note: {note}", err=True)
            show(run, talk=False, out=run_dir)
            if stop.signum is not None:
                click.echo(interrupted_line(run.decision.solution, stop.reason,
                                            run_dir if run.written else None), err=True)
                sys.exit(128 + stop.signum)
            failed = 0 if run.decision.solution.status.has_solution else 1
        except InfeasibleModelError as exc:  # still reported: the folder says why
            click.echo(f"error: {exc}", err=True)
            failed = 1
        model = model or target
    elif target.is_dir():
        run_dir = target
        if any(v is not None for v in (backend, time_limit, areas, leads)):
            raise InputError("--backend, --time-limit, --areas and --regional-leads apply "
                             f"to a MODEL, not to the run directory {target}")
    else:
        raise InputError(f"{target}: neither a run directory nor a model file (.toml)")
    run = load_run(run_dir, model)
    comparison = None
    if reference is not None:
        if run.plan is None:
            raise InputError(f"{run_dir}: the run has no plan to compare with {reference}")
        ref = read_plan(plan_file(reference), run.problem.instance)
        comparison = compare(run.problem, run.plan, ref, plan_name(reference))
    path = write_report(run, out or run_dir, comparison)
    click.echo(f"report written to {path}" if not quiet else str(path))
    if failed:
        sys.exit(failed)


@command("compare")
@click.argument("plan_a", type=FOLDER)
@click.argument("plan_b", type=FOLDER)
@model_option(required=False, help="Planning model (TOML); default: the one a run "
              "directory among the plans names.")
@out_option("Write compare.csv, compare.md, map.html and map.png here.")
@json_option("the comparison")
@money_input_options
def compare_command(plan_a, plan_b, model, out, as_json, statistics, subsidies):
    """Compare PLAN_B with PLAN_A (files or run directories) under a MODEL: the municipalities
    that move and where, each area in both plans, the difference in every objective term."""
    model = model_of((plan_b, plan_a), model)
    file_a, file_b = plan_file(plan_a), plan_file(plan_b)
    problem = bind(load_with_overrides(model, statistics=statistics, subsidies=subsidies))
    a = read_plan(file_a, problem.instance)
    b = read_plan(file_b, problem.instance)
    name_a, name_b = plan_names(plan_a, plan_b)
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
