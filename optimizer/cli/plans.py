"""Commands on existing plans: `check`, `finance`, `compare` and `report`.
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
from ..economics.settle import settle
from ..errors import InputError
from ..model.binding import bind
from ..model.evaluate import evaluate
from ..model.parse import load_model
from ..model.verify import verify
from ..output.money_text import finance_text
from ..output.text import (
    area_table,
    figures_json,
    members_list,
    organiser_line,
    plan_title,
    verification_json,
    verification_text,
)
from ..output.write import write_outputs
from .app import cli, handles_errors
from .options import _model_options, _plan_file, _plan_names, _regional_option, _with_counts
from .solve import solve


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
    from ..decisions.exemptions import declare_short, exempted_areas, shortfall_summary

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
    from ..decisions.matched import compare
    from ..output.report_html import write_report
    from ..output.run_dir import load_run

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
    from ..decisions.compare import compare_plans
    from ..output.comparison import comparison_text, write_comparison

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
