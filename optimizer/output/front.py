"""A Pareto front as a table, pareto.csv, pareto.png and each point's plan.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..decisions.pareto import ParetoFront
from ..model.objective import LABELS, UNITS
from ..staging import staged_directory
from .escape import plain_text


def front_csv(front: ParetoFront) -> str:
    rows = front.rows()
    buf = io.StringIO()
    fields = list(rows[0]) if rows else ["point", front.x_term, front.y_term, "proven"]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return buf.getvalue()


def front_table(front: ParetoFront) -> str:
    """The front as a terminal table (≤ 100 columns)."""
    hx = f"{front.x_term} {UNITS[front.x_term]}"
    hy = f"{front.y_term} {UNITS[front.y_term]}"
    head = f"{'point':>5}  {hx:>16}  {hy:>16}  {'areas':>5}  {'proven':<6}  leads"
    lines = [head, "-" * 100]
    for r in front.rows():
        leads = r["leads"]
        room = 100 - 56
        leads = leads if len(leads) <= room else leads[: room - 1] + "…"
        lines.append(f"{r['point']:>5}  {r[front.x_term]:>16,.0f}  {r[front.y_term]:>16,.0f}  "
                     f"{r['areas']:>5}  {'yes' if r['proven'] else 'no':<6}  {leads}")
    return "\n".join(lines)


FRONT_SECONDS = 1.0
"""Seconds of a time limit kept for writing the front (the plot, one plan per point)."""
FOLDERS = ("plans",)
"""The sub-folders a front's set holds (checked before the work: `OutputDir.open`)."""


def write_front(front: ParetoFront, out: Path, title: str) -> list[Path]:
    """pareto.csv, pareto.png and each point's plan (plans/point-NN.csv), as one set that
    replaces an earlier front in `out` (nothing of it is left)."""

    with staged_directory(Path(out), folders=FOLDERS) as stage:
        (stage / "pareto.csv").write_text(front_csv(front), encoding="utf-8")
        _plot(front, stage / "pareto.png", title)
        plans = stage / "plans"
        plans.mkdir()
        for k, p in enumerate(front.points, start=1):
            (plans / f"point-{k:02d}.csv").write_text(p.solution.plan.to_csv(),
                                                      encoding="utf-8")
    return [Path(out) / "pareto.csv", Path(out) / "pareto.png", Path(out) / "plans"]


@plain_text
def _plot(front: ParetoFront, path: Path, title: str) -> None:
    import matplotlib
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5), dpi=130)
    xs = [p.x for p in front.points]
    ys = [p.y for p in front.points]
    ax.step(xs, ys, where="post", color="#999999", lw=0.8, zorder=1)
    for k, p in enumerate(front.points, start=1):
        ax.scatter([p.x], [p.y], s=36, zorder=2, edgecolor="#1f77b4",
                   facecolor="#1f77b4" if p.proven else "white")
        ax.annotate(f"{k}: {len(p.solution.figures.areas)} areas", (p.x, p.y),
                    textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax.set_xlabel(f"{LABELS[front.x_term]} ({UNITS[front.x_term]})")
    ax.set_ylabel(f"{LABELS[front.y_term]} ({UNITS[front.y_term]})")
    fmt = matplotlib.ticker.StrMethodFormatter("{x:,.0f}")
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)
    ax.set_title(title + ("" if front.proven else "\n(hollow: not proven optimal)"),
                 fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
