"""A solver-neutral mixed-integer linear program: minimise c·x subject to row and column bounds.

Every back end translates this one object; nothing solver-specific lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import scipy.sparse as sp


class LazyRows(Protocol):
    """Rows too many to write out, produced on demand (contiguity's separator rows)."""

    def violated(self, x: np.ndarray, *, integral: bool) -> RowBlock:
        """Rows of the family that x violates. At an integral x the answer is exact: no
        row means x satisfies them all; at a fractional x it may miss some."""


@dataclass(frozen=True, eq=False)
class MILP:
    """min c·x + offset  s.t.  row_lo ≤ Ax ≤ row_hi,  col_lo ≤ x ≤ col_hi,  x_k ∈ ℤ if integer.

    `implied_integer` marks continuous columns that may be restricted to integers
    without losing optimality (such as flows once x is integral). It is not a
    constraint: solvers with continuous columns ignore it; CP-SAT, which has
    none, needs it to accept the column. Default: no column.

    `lazy`, when given, is a family of further rows that every solution must
    satisfy. A back end with the `lazy_rows` capability enforces them inside its
    search; for the others, rounds.py adds the violated ones and re-solves.
    """

    c: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    implied_integer: np.ndarray | None = None
    offset: float = 0.0
    lazy: LazyRows | None = None

    def __post_init__(self) -> None:
        n = len(self.c)
        implied = (np.zeros(n, dtype=bool) if self.implied_integer is None
                   else np.asarray(self.implied_integer, dtype=bool))
        if implied.shape != (n,):
            raise ValueError(f"implied_integer has shape {implied.shape}, expected ({n},)")
        object.__setattr__(self, "implied_integer", implied)

    @property
    def num_cols(self) -> int:
        return len(self.c)

    @property
    def num_rows(self) -> int:
        return self.A.shape[0]

    def with_rows(self, rows: RowBlock) -> MILP:
        """A copy with extra rows appended (cuts)."""
        if not len(rows.lo):
            return self
        block = rows.matrix(self.num_cols)
        return replace(
            self, A=sp.vstack([self.A, block], format="csr"),
            row_lo=np.concatenate([self.row_lo, rows.lo]),
            row_hi=np.concatenate([self.row_hi, rows.hi]),
        )

    def relaxation(self) -> MILP:
        """The LP relaxation (integrality dropped; implied integrality no longer holds;
        lazy rows dropped, which only weakens it)."""
        none = np.zeros_like(self.integer)
        return replace(self, integer=none, implied_integer=none, lazy=None)

    def is_feasible(self, x: np.ndarray, tol: float = 1e-6) -> bool:
        """Whether x satisfies every row, bound and integrality (used to vet warm starts)."""
        ax = self.A @ x
        return bool(
            np.all(ax >= self.row_lo - tol) and np.all(ax <= self.row_hi + tol)
            and np.all(x >= self.col_lo - tol) and np.all(x <= self.col_hi + tol)
            and np.all(np.abs(x[self.integer] - np.round(x[self.integer])) <= tol)
        )

    def objective(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.offset)


class RowBlock:
    """Rows collected as COO triplets: each `add` appends lo ≤ Σ vals·x[cols] ≤ hi."""

    def __init__(self) -> None:
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._lo: list[float] = []
        self._hi: list[float] = []

    def add(self, cols, vals, lo: float = -np.inf, hi: float = np.inf) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(vals, dtype=float), cols.shape)
        self._rows.append(np.full(len(cols), len(self._lo), dtype=np.int64))
        self._cols.append(cols)
        self._vals.append(vals)
        self._lo.append(lo)
        self._hi.append(hi)

    def add_many(self, rows, cols, vals, lo, hi) -> None:
        """Append many rows at once; `rows` numbers them 0..r-1 within this call."""
        lo = np.asarray(lo, dtype=float)
        base = len(self._lo)
        self._rows.append(np.asarray(rows, dtype=np.int64) + base)
        self._cols.append(np.asarray(cols, dtype=np.int64))
        self._vals.append(np.broadcast_to(np.asarray(vals, dtype=float), np.shape(cols)))
        self._lo.extend(lo.tolist())
        self._hi.extend(np.broadcast_to(np.asarray(hi, dtype=float), lo.shape).tolist())

    def extend(self, other: RowBlock) -> None:
        """Append every row of `other`."""
        base = len(self._lo)
        self._rows.extend(r + base for r in other._rows)
        self._cols.extend(other._cols)
        self._vals.extend(other._vals)
        self._lo.extend(other._lo)
        self._hi.extend(other._hi)

    def __len__(self) -> int:
        return len(self._lo)

    @property
    def lo(self) -> np.ndarray:
        return np.array(self._lo, dtype=float)

    @property
    def hi(self) -> np.ndarray:
        return np.array(self._hi, dtype=float)

    def matrix(self, num_cols: int) -> sp.csr_matrix:
        if not self._rows:
            return sp.csr_matrix((0, num_cols))
        return sp.csr_matrix(
            (np.concatenate(self._vals), (np.concatenate(self._rows), np.concatenate(self._cols))),
            shape=(len(self._lo), num_cols),
        )
