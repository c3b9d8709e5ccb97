"""The one-file report: certificate, areas, map, money and a comparison in one HTML file.

Everything is inside the file (the map's Leaflet too), so it opens offline and
can be forwarded as it is. The report is made from a run directory (see
`run`), never from numbers it cannot re-derive: the plan is re-verified and
its objective recomputed before anything is shown.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from ..decisions.compare import Comparison
from ..economics.cents import money
from ..model.evaluate import PlanFigures
from ..staging import staged_directory
from ..version import __version__
from . import escape
from .leaflet import LICENCE
from .map_html import PlanLayer, area_palette, map_html
from .municipalities import label, municipality_frame
from .run_dir import Run, doubts
from .text import plan_title, status_words, travel_unit

TEMPLATE = Path(__file__).with_name("templates") / "report.html"
NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class Verdict:
    text: str
    css: str
    note: str


def _num(v, digits: int = 0) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def table(head: Sequence[str], rows: Sequence[Sequence], numeric: Sequence[bool],
          total: Sequence | None = None, css: Sequence[str] | None = None) -> Markup:
    """An HTML table; cells are escaped, numeric columns right-aligned."""
    def cells(row, tag="td"):
        out = []
        for k, v in enumerate(row):
            cls = ["num"] if numeric[k] else []
            if css and css[k]:
                cls.append(css[k])
            attr = f' class="{" ".join(cls)}"' if cls else ""
            text = v if isinstance(v, Markup) else escape.text(v)
            out.append(f"<{tag}{attr}>{text}</{tag}>")
        return "".join(out)

    body = "".join(f"<tr>{cells(r)}</tr>" for r in rows)
    if total is not None:
        body += f'<tr class="total">{cells(total)}</tr>'
    return Markup(f"<table><thead><tr>{cells(head, 'th')}</tr></thead>"
                  f"<tbody>{body}</tbody></table>")


def areas_table(figs: PlanFigures, colours: dict[str, str] | None = None) -> Markup:
    """Areas sorted by lead: members, attribute totals, staff, travel, cost, member names."""
    has_fte = any(a.fte is not None for a in figs.areas)
    unit = travel_unit(figs)
    head = ["area (lead)", "members", *map(label, figs.attributes)]
    head += (["FTE"] if has_fte else []) + [f"travel ({unit})", "cost (€/yr)", "municipalities"]
    numeric = [False, True, *[True] * len(figs.attributes)] + ([True] if has_fte else [])
    numeric += [True, True, False]
    rows = []
    for a in sorted(figs.areas, key=lambda a: a.lead_name):
        swatch = ""
        if colours and a.lead_code in colours:
            swatch = f'<span class="swatch" style="background:{colours[a.lead_code]}"></span>'
        lead = Markup(swatch + escape.text(f"{a.lead_name} ({a.lead_code})")
                      + (" — lead outside the instance" if a.travel is None else ""))
        row = [lead, len(a.members)]
        row += [_num(a.totals[k], 2 if k == "jobseekers" else 0) for k in figs.attributes]
        row += ([_num(a.fte)] if has_fte else []) + [_num(a.travel), _num(a.cost),
                                                     ", ".join(sorted(a.member_names))]
        rows.append(row)
    total = ["total", sum(len(a.members) for a in figs.areas)]
    total += [_num(sum(a.totals[k] for a in figs.areas), 2 if k == "jobseekers" else 0)
              for k in figs.attributes]
    total += ([_num(sum(a.fte for a in figs.areas))] if has_fte else [])
    total += [_num(figs.travel), _num(figs.objective), ""]
    css = [""] * (len(head) - 1) + ["members"]
    return table(head, rows, numeric, total, css)


def municipalities_table(run: Run) -> Markup:
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
        return _num(None if r[column] != r[column] else r[column], digits)

    rows = [[r["name"], r["code"], r["lead_name"] + (" (outside)" if r["lead_outside"] else ""),
             *([cell(r, "minutes_to_lead", 0)] if by_road else []), cell(r, "km_to_lead", 1),
             *(_num(r[a], 2 if a == "jobseekers" else 0) for a in attrs)]
            for _, r in frame.iterrows()]
    return table(head, rows, [False, False, False, *([True] if by_road else []), True,
                              *[True] * len(attrs)])


def finance_section(run: Run) -> dict | None:
    """Who pays what per municipality, recomputed from the model and the plan (euros to the
    cent), with the total row; None without [finance]."""
    fin = run.finance
    if fin is None:
        return None
    head = ["municipality", "code", "area (lead)", "subsidy €", "to the organiser €",
            "to the area €", "equalisation €", "sanctions €", "organiser's result €", "net €"]
    fields = ("subsidy", "to_organiser", "to_area", "equalisation", "sanctions",
              "organiser_result", "net")
    rows = [[m.name, m.code, m.lead_name, *(money(getattr(m, k), decimals=True)
                                            for k in fields)]
            for m in fin.municipalities]
    total = ["total", "", "", *(money(sum(getattr(m, k) for m in fin.municipalities),
                                      decimals=True) for k in fields)]
    return {"note": "Who pays what, per municipality, computed from the model and the plan "
                    "(€/yr). Equalisation > 0 pays an area's deficit, < 0 receives a share of "
                    "its surplus; net = −equalisation − sanctions + organiser's result.",
            "table": table(head, rows, [False] * 3 + [True] * len(fields), total)}


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


def comparison_section(cmp: Comparison, figs: PlanFigures) -> dict:
    n = len(cmp.moves)
    diff = (None if figs.objective is None or cmp.figures.objective is None
            else figs.objective - cmp.figures.objective)
    summary = f"{n} municipalit{'y moves' if n == 1 else 'ies move'} between areas."
    if diff is not None:
        summary += (f" The plan costs {figs.objective:,.0f} €/yr, the reference "
                    f"{cmp.figures.objective:,.0f} €/yr under the same model: a difference "
                    f"of {diff:+,.0f} €/yr.")
    moves = table(["municipality", "code", "reference area", "plan's area"],
                  [[m.name, m.code, m.before, m.after] for m in cmp.moves],
                  [False, False, False, False])
    return {"name": cmp.name, "summary": summary, "moves": moves if n else None,
            "verification": cmp.verification, "areas": areas_table(cmp.figures)}


def report_html(run: Run, comparison: Comparison | None = None) -> str:
    """The report as one HTML document."""
    from jinja2 import Environment, select_autoescape

    inst = run.problem.instance
    k = len(run.figures.areas) if run.figures else 0
    v = verdict(run)
    title = plan_title(inst, k, v.text)
    sub = (f"Model {run.problem.model.name} · instance {inst.name} · {inst.n} municipalities"
           f" · travel: {inst.distance_source}")
    map_doc = colours = None
    if run.plan is not None:
        layers = [PlanLayer("plan", run.plan, run.figures,
                            {m.index: f"{m.name}: {m.before} → {m.after}"
                             for m in comparison.moves} if comparison else {})]
        if comparison is not None:
            layers.append(PlanLayer(f"reference: {comparison.name}", comparison.reference,
                                    comparison.figures))
        map_doc = map_html(layers, title=title)
        colours = area_palette(run.plan, run.figures)
    env = Environment(autoescape=select_autoescape(default=True))
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        title=title, subtitle=sub, verdict=v, certificate=certificate(run),
        verification=run.verification,
        areas=areas_table(run.figures, colours) if run.figures else None,
        map=map_doc, sandbox=escape.SANDBOX, finance=finance_section(run),
        comparison=comparison_section(comparison, run.figures) if comparison else None,
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
