"""The root relaxation, its separator rows, and variable fixing by reduced cost.

Before the search, the LP relaxation is solved and re-solved with the lazy rows
it violates (fractional separation, contiguity.py) for a few rounds. Its row
duals y give, by weak duality and for any x in the MILP's box,

    c·x ≥ L(y) + Σ_{d_k>0} d_k (x_k − lo_k) + Σ_{d_k<0} |d_k| (hi_k − x_k),
    d = c − Aᵀy,   L(y) = Σ_r y_r·(lo_r if y_r > 0 else hi_r) + Σ_k min(d_k lo_k, d_k hi_k).

L(y) is recomputed here from y (signs clipped to the rows' finite sides), so the
bound holds whatever the LP solver's tolerances were. A binary column whose
every setting to 1 costs more than the incumbent's value over L is fixed to 0
in every better plan, and symmetrically to 1. The contiguity rows sharpen this
(`extra_cost`): x_ij = 1 forces x_vj = 1 along a whole path from j to i, so the
cost of setting it is the cheapest such path in reduced costs (the idea of
Validi, Buchanan & Lykhovyd's Lagrangian fixing, applied to LP duals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..backends.highs import HighsRelaxation
from ..mip.milp import MILP, RowBlock

ROOT_ROUNDS = 25
"""Most separation rounds at the root."""
ROOT_STALL = 1e-5
"""A round that improves the LP bound by less than this share ends the loop."""
FIX_MARGIN = 1e-6
"""Relative margin above the incumbent before a column is fixed (numerical safety)."""
TINY = 1e-9
"""Reduced costs this small on unbounded columns are read as zero."""


@dataclass(frozen=True, eq=False)
class Root:
    """The root relaxation: a valid lower bound, the LP optimum, the reduced costs
    (on the MILP with the root's rows), and the rows that were added."""

    bound: float
    x: np.ndarray
    reduced: np.ndarray
    rows: RowBlock
    rounds: int
    duals: np.ndarray | None = None
    """The row duals y of the last LP (the MILP's rows, then the added ones)."""


def root_relaxation(milp: MILP, *, rounds: int = ROOT_ROUNDS, time_limit: float | None = None,
                    threads: int | None = None, deadline=None) -> Root | None:
    """Solve the LP relaxation, adding violated lazy rows for up to `rounds` rounds.

    None when the LP is infeasible or stops at the limit or the `deadline` (a
    `stopping.Deadline`, also ended by a stop request): nothing can be said then."""
    import time


    start = time.perf_counter()
    lp = HighsRelaxation(milp, threads=threads, deadline=deadline)
    added = RowBlock()
    value = -np.inf
    done = 0
    while True:
        if time_limit is not None:
            lp.set_time_limit(time_limit - (time.perf_counter() - start))
        res = lp.solve()
        if res is None:
            return None
        x, y = res
        new_value = float(milp.c @ x + milp.offset)
        stalled = new_value - value <= ROOT_STALL * max(1.0, abs(new_value))
        value = new_value
        if milp.lazy is None or done >= rounds or (done and stalled):
            break
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
        rows = milp.lazy.violated(x, integral=False)
        if not len(rows):
            break
        lp.add_rows(rows)
        added.extend(rows)
        done += 1
    full = milp.with_rows(added)
    bound, d = dual_bound(full, y)
    return Root(bound, x, d, added, done, np.asarray(y, dtype=float))


def dual_bound(milp: MILP, y: np.ndarray) -> tuple[float, np.ndarray]:
    """(L(y), d) for row multipliers y (signs clipped to valid ones); -inf if unbounded."""
    y = np.asarray(y, dtype=float).copy()
    y[(y > 0) & ~np.isfinite(milp.row_lo)] = 0.0
    y[(y < 0) & ~np.isfinite(milp.row_hi)] = 0.0
    rows = np.where(y > 0, y * np.nan_to_num(milp.row_lo, neginf=0.0),
                    y * np.nan_to_num(milp.row_hi, posinf=0.0)).sum()
    d = milp.c - milp.A.T @ y
    scale = max(1.0, float(np.abs(milp.c).max(initial=0.0)))
    lo, hi = milp.col_lo, milp.col_hi
    bad = ((d > TINY * scale) & ~np.isfinite(lo)) | ((d < -TINY * scale) & ~np.isfinite(hi))
    if np.any(bad):
        return -np.inf, d
    cols = np.where(d > 0, d * np.nan_to_num(lo, neginf=0.0), d * np.nan_to_num(hi, posinf=0.0))
    return float(rows + cols.sum() + milp.offset), d


@dataclass(frozen=True)
class Fixing:
    """Columns fixed to 0 and to 1 (boolean masks over the MILP's columns)."""

    zero: np.ndarray
    one: np.ndarray

    def apply(self, milp: MILP) -> MILP:
        lo, hi = milp.col_lo.copy(), milp.col_hi.copy()
        hi[self.zero] = 0.0
        lo[self.one] = 1.0
        return replace(milp, col_lo=lo, col_hi=hi)

    def share(self, columns: np.ndarray) -> float:
        """Share of the given columns (a mask or index array) fixed either way."""
        fixed = (self.zero | self.one)[columns]
        return float(fixed.mean()) if fixed.size else 0.0


def reduced_cost_fixing(milp: MILP, root: Root, incumbent: float,
                        extra_cost: Callable[[np.ndarray], np.ndarray] | None = None
                        ) -> Fixing:
    """Binary columns fixed because every plan that sets them otherwise costs more than
    `incumbent` (the value of a known plan, which stays feasible).

    `extra_cost(d⁺)` may return, per column, a larger cost of setting it to 1 implied
    by the lazy rows (a sum of reduced costs of columns that must then be 1 too)."""
    d = root.reduced
    binary = milp.integer & (milp.col_lo == 0) & (milp.col_hi == 1)
    if not np.isfinite(root.bound):
        none = np.zeros(milp.num_cols, dtype=bool)
        return Fixing(none, none.copy())
    limit = incumbent + FIX_MARGIN * max(1.0, abs(incumbent))
    # the least cost of raising a column to 1 (nothing for a column already at 1)
    up = np.where(milp.col_lo >= 1.0, 0.0, np.maximum(d, 0.0))
    if extra_cost is not None:
        implied = extra_cost(up)
        up[: len(implied)] = np.maximum(up[: len(implied)], implied)
    zero = binary & (root.bound + up > limit)
    one = binary & ~zero & (root.bound + np.where(milp.col_hi <= 0.0, 0.0, np.maximum(-d, 0.0))
                            > limit)
    return Fixing(zero, one)
