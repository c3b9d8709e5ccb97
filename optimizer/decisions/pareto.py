"""Pareto fronts of two objective terms by the exact ε-constraint method.

For terms X (minimised) and Y (bounded): the two ends come from lexicographic
solves (min X then min Y with X at its minimum; min Y then min X with Y at its
minimum). Between them, for ε on a grid of Y values, min X s.t. Y ≤ ε, then min Y
s.t. X at that optimum, so every point found is non-dominated when both solves
are proven. A point whose solves were stopped by a limit is kept but marked
unproven; dominated and repeated points are dropped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..backends import Status
from ..model import Problem
from ..solve import Solution
from ..terms import LABELS, UNITS
from .exemptions import tidy
from .run import SolveOptions

PARETO_TERMS = ("cost", "travel", "fixed", "staffing", "total", "deficit", "exemptions",
                "moves", "areas")
"""Terms a front may use (`cost` = fixed + staff cost; see `optimizer.terms`)."""
REL_STEP = 1e-6
"""Relative tolerance when fixing a term at its optimum in the second solve."""


@dataclass(frozen=True, eq=False)
class ParetoPoint:
    x: float
    y: float
    solution: Solution
    proven: bool
    epsilon: float | None
    """The bound on y this point was found under (None for the two ends)."""


@dataclass(frozen=True, eq=False)
class ParetoFront:
    x_term: str
    y_term: str
    points: tuple[ParetoPoint, ...]
    """Non-dominated points, by increasing x."""
    solves: int

    @property
    def proven(self) -> bool:
        return all(p.proven for p in self.points)

    def rows(self) -> list[dict]:
        out = []
        for k, p in enumerate(self.points, start=1):
            f = p.solution.figures
            out.append({"point": k, self.x_term: p.x, self.y_term: p.y, "proven": p.proven,
                        "areas": len(f.areas), "objective_total": f.terms.get("total"),
                        "epsilon": p.epsilon,
                        "leads": " ".join(sorted(a.lead_name for a in f.areas))})
        return out


def _check_term(term: str) -> str:
    if term not in PARETO_TERMS:
        raise ValueError(f"unknown term {term!r} (choose from {', '.join(PARETO_TERMS)})")
    return term


def _term(sol: Solution, term: str) -> float:
    return float(sol.figures.terms[term])


def _lex(problem: Problem, first: str, second: str, limits: dict, options: SolveOptions,
         start=None) -> tuple[Solution | None, bool, int]:
    """min `first` under `limits`, then min `second` with `first` held at its optimum."""
    p1 = replace(problem, weights={first: 1.0}, limits=limits)
    s1 = options.solve(p1, warm_start=start)
    if s1.plan is None:
        return None, False, 1
    v = _term(s1, first)
    hold = v + REL_STEP * max(1.0, abs(v))
    p2 = replace(problem, weights={second: 1.0},
                 limits={**limits, first: min(limits.get(first, np.inf), hold)})
    s2 = tidy(options.solve(p2, warm_start=s1.plan))
    if s2.plan is None:
        return tidy(s1), False, 2
    return s2, s1.status is Status.OPTIMAL and s2.status is Status.OPTIMAL, 2


def pareto_front(problem: Problem, x: str, y: str, points: int = 5,
                 options: SolveOptions | None = None) -> ParetoFront:
    """Up to `points` non-dominated points of (x, y), both minimised."""
    x, y = _check_term(x), _check_term(y)
    if x == y:
        raise ValueError("the two terms of a front must differ")
    if points < 2:
        raise ValueError("a front needs at least 2 points")
    options = options or SolveOptions()
    base = dict(problem.limits)
    solves = 0
    found: list[ParetoPoint] = []
    options.say(f"front of {x} and {y}: the end with the least {x}")
    left, ok_left, n = _lex(problem, x, y, base, options)
    solves += n
    if left is None:
        return ParetoFront(x, y, (), solves)
    found.append(ParetoPoint(_term(left, x), _term(left, y), left, ok_left, None))
    options.say(f"the end with the least {y}")
    right, ok_right, n = _lex(problem, y, x, base, options)
    solves += n
    if right is not None:
        found.append(ParetoPoint(_term(right, x), _term(right, y), right, ok_right, None))
    if right is not None and found[0].y - found[1].y > REL_STEP * max(1.0, abs(found[0].y)):
        hi, lo = found[0].y, found[1].y
        for k in range(1, points - 1):
            eps = hi - (hi - lo) * k / (points - 1)
            options.say(f"point {k + 2} of {points}: {y} ≤ {eps:,.2f}")
            sol, proven, n = _lex(problem, x, y, {**base, y: min(base.get(y, np.inf), eps)},
                                  options, start=right.plan)
            solves += n
            if sol is not None:
                found.append(ParetoPoint(_term(sol, x), _term(sol, y), sol, proven, eps))
    return ParetoFront(x, y, tuple(non_dominated(found)), solves)


def non_dominated(points: list[ParetoPoint]) -> list[ParetoPoint]:
    """Points no other point dominates (≤ in both, < in one), repeats dropped, by x."""
    def tol(v: float) -> float:
        return REL_STEP * max(1.0, abs(v))

    keep: list[ParetoPoint] = []
    for p in sorted(points, key=lambda p: (p.x, p.y, not p.proven)):
        if any(q.x <= p.x + tol(p.x) and q.y <= p.y + tol(p.y) for q in keep):
            continue
        keep.append(p)
    return keep


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


def write_front(front: ParetoFront, out: Path, title: str) -> list[Path]:
    """pareto.csv, pareto.png and each point's plan (plans/point-NN.csv), as one set."""
    from ..files import staged_directory

    with staged_directory(Path(out)) as stage:
        (stage / "pareto.csv").write_text(front_csv(front), encoding="utf-8")
        _plot(front, stage / "pareto.png", title)
        plans = stage / "plans"
        plans.mkdir()
        for k, p in enumerate(front.points, start=1):
            (plans / f"point-{k:02d}.csv").write_text(p.solution.plan.to_csv(),
                                                      encoding="utf-8")
    return [Path(out) / "pareto.csv", Path(out) / "pareto.png", Path(out) / "plans"]


def _plot(front: ParetoFront, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
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
