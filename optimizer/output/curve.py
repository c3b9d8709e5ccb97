"""The moves-against-cost curve as a table, moves.csv and moves.png.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..decisions.moves import MovesCurve
from ..staging import staged_directory
from .escape import plain_text


def curve_csv(curve: MovesCurve) -> str:
    rows = curve.rows()
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return buf.getvalue()


def curve_table(curve: MovesCurve) -> str:
    """The curve as a terminal table (≤ 100 columns)."""
    head = f"{'max moves':>9}  {'moves':>5}  {'cost €/yr':>12}  {'bound €/yr':>12}  " \
           f"{'gain €/yr':>10}  {'of optimum':>10}  {'status':<17}  {'time s':>6}"
    lines = [head, "-" * len(head)]
    for r in curve.rows():
        def num(v, fmt):
            return "–" if v is None else format(v, fmt)
        lines.append(f"{r['max_moves']!s:>9}  {num(r['moves'], 'd'):>5}  "
                     f"{num(r['cost'], ',.0f'):>12}  {num(r['bound'], ',.0f'):>12}  "
                     f"{num(r['gain'], ',.0f'):>10}  "
                     f"{num(r['share_of_optimum_gain'], '.1%'):>10}  {r['status']:<17}  "
                     f"{r['wall_time_s']:>6.1f}")
    if curve.reference_cost is not None:
        lines.append(f"the reference plan itself costs {curve.reference_cost:,.0f} €/yr")
    return "\n".join(lines)


def write_curve(curve: MovesCurve, out: Path, title: str) -> list[Path]:
    """moves.csv and moves.png in `out` (atomically)."""

    with staged_directory(Path(out)) as stage:
        (stage / "moves.csv").write_text(curve_csv(curve), encoding="utf-8")
        _plot(curve, stage / "moves.png", title)
    return [Path(out) / "moves.csv", Path(out) / "moves.png"]


@plain_text
def _plot(curve: MovesCurve, path: Path, title: str) -> None:
    import matplotlib
    import matplotlib.pyplot as plt

    pts = [p for p in curve.points if p.cost is not None]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=130)
    xs = [p.max_moves for p in pts]
    ys = [p.cost for p in pts]
    ax.plot(xs, ys, "-", color="#1f77b4", zorder=1)
    for p in pts:
        proven = p.decision.proven
        ax.scatter([p.max_moves], [p.cost], zorder=2, s=28,
                   facecolor="#1f77b4" if proven else "white", edgecolor="#1f77b4")
    if curve.reference_cost is not None:
        ax.axhline(curve.reference_cost, color="#d62728", ls="--", lw=1,
                   label="reference plan as it is")
    if curve.optimum_cost is not None:
        ax.axhline(curve.optimum_cost, color="#2ca02c", ls=":", lw=1.2,
                   label="optimum without a limit on moves"
                   + ("" if curve.optimum.proven else " (not proven)"))
    ax.set_xlabel("most municipalities moved")
    ax.set_ylabel("cost €/yr")
    ax.set_title(title, fontsize=10)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.legend(fontsize=8, title="filled: proven optimal", title_fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
