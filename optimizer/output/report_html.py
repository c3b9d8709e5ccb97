"""The one-file report: certificate, areas, map, money and a comparison in one HTML file.

Everything is inside the file (the map's Leaflet too), so it opens offline and
can be forwarded as it is. The report is made from a run directory (see
`run`), never from numbers it cannot re-derive: the plan is re-verified and
its objective recomputed before anything is shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from ..decisions.compare import Comparison
from ..economics.settle import settle
from ..economics.sources import money_sources
from ..staging import staged_directory
from ..version import __version__
from . import escape
from .leaflet import LICENCE
from .map_html import PlanLayer, area_palette, map_html
from .money_tables import equalisation_line, money_tables
from .municipalities import label, municipality_frame
from .report_tables import (
    MONEY_LEGEND,
    area_money,
    areas_table,
    count_table,
    headline,
    money_rows,
    moves_table,
    num,
    table,
)
from .run_dir import Run, doubts
from .sources import banner_html, sources_html
from .text import organiser_name, plan_title, status_words

TEMPLATE = Path(__file__).with_name("templates") / "report.html"


@dataclass(frozen=True)
class Verdict:
    text: str
    css: str
    note: str


def money_extra(fin) -> Markup:
    """Where deficits are equalised, and the tables of the units, the law's incentive and
    the organiser's sales (output/money_tables.py)."""
    return Markup(f'<p class="sub">{escape.text(equalisation_line(fin))}.</p>'
                  + "".join(t.html() for t in money_tables(fin)))


def verdict(run: Run) -> Verdict:
    """The badge: what the re-verified plan and the checked certificate support, never more.
    A certificate that does not hold (`run_dir.doubts`) or a plan that breaks a rule is
    said so; only a verified plan with a consistent `optimal` certificate is "proven
    optimal"."""
    s = run.summary
    problems = doubts(run)
    v = run.verification
    broken = v is not None and not v.ok
    if run.is_check:
        what = "checked plan" if run.kind == "check" else "settled plan"
        if problems:
            return Verdict(f"{what}: not accepted: {problems[0]}", "bad",
                           "; ".join(problems) + ".")
        return Verdict(f"{what}: " + ("breaks rules" if broken else "every rule holds"),
                       "bad" if broken else "ok",
                       f"{s.get('plan_file') or 'the plan'} was checked against the model; "
                       "no solver was run.")
    if problems:
        return Verdict(f"not accepted: {problems[0]}", "bad",
                       "The certificate in summary.json does not hold: " + "; ".join(problems)
                       + ". Every figure below is recomputed from the model and the plan.")
    if broken:
        n = len(v.violations)
        return Verdict(f"the plan breaks {n} rule{'s' if n != 1 else ''}", "bad",
                       "The plan was verified again against the model and breaks the rules "
                       "listed below, whatever summary.json says.")
    status = str(s.get("status"))
    words = status_words(status, run.gap, str(s.get("backend") or ""))
    if status == "optimal":
        gap = s.get("gap_limit") or 0
        note = ("The bound equals the objective" + (f" within the accepted gap {gap:.2%}."
                                                    if gap else "."))
        return Verdict(words, "ok", note)
    if status == "feasible-at-limit":
        return Verdict(words, "warn", "A plan that satisfies every rule, but no proof that "
                       "none is cheaper: the bound shows how much cheaper one could be.")
    return Verdict(words, "bad", str(s.get("message") or ""))


def certificate(run: Run) -> list[tuple[str, str]]:
    s = run.summary
    rows = []
    if run.figures is not None and run.figures.objective is not None:
        rows.append(("objective (recomputed from the plan)",
                     f"{run.figures.objective:,.2f} €/yr"))
    if run.is_check:
        return [*rows, ("plan file", str(s.get("plan_file", "–"))),
                ("model file", str(s.get("model_file", "–")))]
    gap = run.gap if run.gap is not None else s.get("gap")
    rows += [
        ("status", str(s.get("status"))),
        ("lower bound", "–" if s.get("bound") is None else f"{s['bound']:,.2f} €/yr"),
        ("gap", "–" if gap is None else f"{gap:.4%}"),
        ("accepted gap", f"{(s.get('gap_limit') or 0):.2%}"),
        ("wall time", f"{s.get('wall_time_s', 0):.2f} s"
         + ("" if s.get("time_limit_s") is None else f" (limit {s['time_limit_s']:g} s)")),
        ("back end", str(s.get("version") or s.get("backend"))),
        ("contiguity", f"{s.get('contiguity')}"
         + (f" ({s.get('cut_rounds')} rounds, {s.get('cuts_added')} cuts)"
            if s.get("contiguity") == "cuts" else "")),
        ("nodes", "–" if s.get("nodes") is None else f"{s['nodes']:,}"),
        ("model file", str(s.get("model_file", "–"))),
    ]
    if s.get("message"):
        rows.append(("solver's message", str(s["message"])))
    return rows




def municipalities_table(run: Run) -> Markup:
    """Every municipality with its lead, its distance to it and its figures."""
    frame = municipality_frame(run.plan, run.figures).sort_values("name")
    attrs = list(run.figures.attributes)
    by_road = "minutes_to_lead" in frame.columns
    head = ["municipality", "code", "area (lead)",
            *(["minutes to the lead (road)"] if by_road else []),
            "km to the lead (road)" if by_road else "km to the lead (straight line)",
            *map(label, attrs)]

    def cell(r, column: str, digits: int):
        if r["is_lead"]:
            return "lead"
        return num(None if r[column] != r[column] else r[column], digits)

    rows = [[r["name"], r["code"], r["lead_name"] + (" (outside)" if r["lead_outside"] else ""),
             *([cell(r, "minutes_to_lead", 0)] if by_road else []), cell(r, "km_to_lead", 1),
             *(num(r[a], 2 if a == "jobseekers" else 0) for a in attrs)]
            for _, r in frame.iterrows()]
    return table(head, rows, [False, False, False, *([True] if by_road else []), True,
                              *[True] * len(attrs)])


def report_html(run: Run, comparison: Comparison | None = None) -> str:
    """The report as one HTML document: the headline, what was proven, the areas, why this
    number of leads, the money beside the reference plan's, who changes lead, the map."""
    from jinja2 import Environment, select_autoescape

    problem = run.problem
    inst = problem.instance
    figs = run.figures
    k = len(figs.areas) if figs else 0
    v = verdict(run)
    title = plan_title(inst, k, v.text, organiser=organiser_name(problem))
    sub = (f"Model {problem.model.name} · instance {inst.name} · {inst.n} municipalities"
           f" · travel: {inst.distance_source}")
    per_count = run.summary.get("per_count")
    per_count = per_count if isinstance(per_count, list) and not doubts(run) else []
    ref_money = None
    if comparison is not None and run.finance is not None:
        ref_money = settle(problem, comparison.reference)
    map_doc = colours = None
    if run.plan is not None:
        layers = [PlanLayer("plan", run.plan, figs,
                            {m.index: f"{m.name}: {m.before} → {m.after}"
                             for m in comparison.moves} if comparison else {})]
        if comparison is not None:
            layers.append(PlanLayer(f"reference: {comparison.name}", comparison.reference,
                                    comparison.figures))
        map_doc = map_html(layers, title=title)
        colours = area_palette(run.plan, figs)
    money_section = None
    if run.finance is not None:
        ref_name = comparison.name if comparison is not None else ""
        head, rows, total = money_rows(run.finance, ref_money, ref_name)
        money_section = {
            "areas": area_money(run.finance), "legend": MONEY_LEGEND,
            "municipalities": table(head, rows, [False] * 3 + [True] * (len(head) - 3),
                                    total),
            "extra": money_extra(run.finance)}
    sources = money_sources(problem)
    env = Environment(autoescape=select_autoescape(default=True))
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        title=title, subtitle=sub, verdict=v, certificate=certificate(run),
        headline=headline(problem, figs, run.finance, comparison, ref_money, per_count)
        if figs else [],
        verification=run.verification,
        areas=areas_table(figs, problem, colours) if figs else None,
        counts=count_table(per_count, problem.organiser is not None),
        map=map_doc, sandbox=escape.SANDBOX, money=money_section,
        comparison=None if comparison is None else {
            "name": comparison.name, "moves": moves_table(comparison) if comparison.moves
            else None, "verification": comparison.verification,
            "areas": areas_table(comparison.figures, problem)},
        money_banner=Markup(banner_html(sources)) if sources.banner else None,
        money_sources=Markup(sources_html(sources)) if sources else None,
        municipalities=municipalities_table(run) if run.plan is not None else None,
        n=inst.n, attribution=inst.metadata.get("attribution"), version=__version__,
        date=dt.date.today().isoformat(), source=str(run.directory), leaflet=LICENCE)


def write_report(run: Run, out: Path, comparison: Comparison | None = None) -> Path:
    """Write `out`/report.html atomically, added to the folder's set (nothing else in `out`
    is touched)."""

    text = report_html(run, comparison)
    with staged_directory(Path(out), "add") as stage:
        (stage / "report.html").write_text(text, encoding="utf-8")
    return Path(out) / "report.html"
