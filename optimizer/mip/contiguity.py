"""Separator rows for the cut strategy of contiguity (formulation (6)), found on demand.

For a lead j and a municipality i not adjacent to it, every vertex set S
separating i from j gives the valid row x_ij ≤ Σ_{s∈S} x_sj: in a contiguous
plan, a path from i to j inside j's area passes through S. There are
exponentially many, so the MILP carries them as `lazy` rows (`ContiguityRows`):

* at an integral point, a piece K of area j cut off from j gives S = the
  boundary of K trimmed to the vertices j's side can reach; one row per i ∈ K.
  Every non-contiguous plan gets at least one row, so "no row" means contiguous;
* at a fractional point, a minimum-weight i–j vertex separator under the
  weights x_·j (a maximum flow on the split graph) gives the most violated row
  for the pair, if any; a widest-path test skips the pairs it cannot cut.

A back end that separates inside its search uses both; the cut loop in
rounds.py re-solves with the integral rows.
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import (
    breadth_first_order,
    dijkstra,
    maximum_flow,
)

from ..data.instance import pieces
from .milp import RowBlock

FLOW_SCALE = 1e6
"""Fractional weights become integer capacities (maximum_flow needs integers) at this scale."""
FLOW_INF = 2**30
"""Capacity of the uncuttable arcs of the split graph."""
VIOLATION = 1e-4
"""Least violation for a fractional row to be returned."""
MAX_FLOWS = 40
"""Most maximum-flow computations per fractional separation call."""




class ContiguityRows:
    """The separator rows of a formulation, for `MILP.lazy`.

    Built from the adjacency and the x-column map only (pair_i, pair_j: the
    (municipality, lead) of each x column), so it knows nothing of solvers.
    """

    def __init__(self, adjacency: sp.csr_matrix, pair_i: np.ndarray, pair_j: np.ndarray):
        self.adj = sp.csr_matrix(adjacency, dtype=bool)
        self.n = self.adj.shape[0]
        self.num_pairs = len(pair_i)
        self.pair_i = np.asarray(pair_i, dtype=np.int64)
        self.pair_j = np.asarray(pair_j, dtype=np.int64)
        # Column of x_ij as a sparse n×n map (stored as column + 1; 0 = no column).
        self._cols = sp.csc_matrix((np.arange(1, self.num_pairs + 1), (self.pair_i, self.pair_j)),
                                   shape=(self.n, self.n))
        self._lead_col = np.full(self.n, -1, dtype=np.int64)
        diag = self.pair_i == self.pair_j
        self._lead_col[self.pair_j[diag]] = np.flatnonzero(diag)
        self._split: tuple[sp.csr_matrix, np.ndarray] | None = None

    def column(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(municipalities that may join j, their x columns), by municipality."""
        lo, hi = self._cols.indptr[j], self._cols.indptr[j + 1]
        return self._cols.indices[lo:hi], self._cols.data[lo:hi] - 1

    def col(self, i: int, j: int) -> int:
        members, cols = self.column(j)
        k = np.searchsorted(members, i)
        return int(cols[k]) if k < len(members) and members[k] == i else -1

    def violated(self, x: np.ndarray, *, integral: bool) -> RowBlock:
        """Rows that x violates. At an integral x, none means x is contiguous."""
        x = np.asarray(x[: self.num_pairs], dtype=float)
        return self._integral(x) if integral else self._fractional(x)

    # -- integral points -------------------------------------------------------

    def _integral(self, x: np.ndarray) -> RowBlock:
        on = np.flatnonzero(x > 0.5)
        lead = np.full(self.n, -1, dtype=np.int64)
        lead[self.pair_i[on]] = self.pair_j[on]
        rows = RowBlock()
        for j in np.unique(lead[lead >= 0]):
            members = np.flatnonzero(lead == j)
            if len(members) > 1:
                for piece in pieces(self.adj, members):
                    if j not in piece:
                        self._piece_rows(rows, int(j), piece)
        return rows

    def _piece_rows(self, rows: RowBlock, j: int, piece: np.ndarray) -> None:
        """Rows for the members of `piece`, an island of area j: S = the piece's boundary
        trimmed to the vertices that j's side (those that may join j) touches."""
        adj = self.adj
        n = self.n
        in_piece = np.zeros(n, dtype=bool)
        in_piece[piece] = True
        boundary = np.zeros(n, dtype=bool)
        boundary[adj[piece].indices] = True
        boundary &= ~in_piece
        able, cols = self.column(j)
        free = np.zeros(n, dtype=bool)
        free[able] = True
        free &= ~in_piece & ~boundary
        free[j] = True
        keep = np.flatnonzero(free)
        order = breadth_first_order(adj[keep][:, keep], int(np.searchsorted(keep, j)),
                                    directed=False, return_predecessors=False)
        side = np.zeros(n, dtype=bool)
        side[keep[order]] = True
        touch = np.zeros(n, dtype=bool)
        touch[adj[np.flatnonzero(side)].indices] = True
        sep = np.flatnonzero(boundary & touch)
        sep_cols = cols[np.isin(able, sep)]
        for i in piece:
            rows.add(np.concatenate([[self.col(int(i), j)], sep_cols]),
                     np.concatenate([[1.0], -np.ones(len(sep_cols))]), -np.inf, 0.0)

    # -- fixing ----------------------------------------------------------------

    def path_costs(self, w: np.ndarray) -> np.ndarray:
        """Per x column (i, j), the least total of w (≥ 0, per column) over the columns a
        contiguous plan with x_ij = 1 must also set to 1: x_jj and x_vj for every v on
        some path from j to i inside the municipalities that may join j (i included)."""
        w = np.asarray(w[: self.num_pairs], dtype=float)
        out = np.zeros(self.num_pairs)
        eps = 1e-12 * max(1.0, float(w.max(initial=0.0)))
        for j in np.flatnonzero(self._lead_col >= 0):
            able, cols = self.column(j)
            sub = self.adj[able][:, able].tocsr()
            heads = sub.indices
            # arc u → v costs v's weight; eps keeps zero-weight arcs as arcs
            sub = sp.csr_matrix((w[cols][heads] + eps, heads, sub.indptr), shape=sub.shape)
            root = int(np.searchsorted(able, j))
            dist = dijkstra(sub, directed=True, indices=root)
            dist = np.maximum(dist - eps * len(able), 0.0)  # eps never adds to a cost
            out[cols] = w[self._lead_col[j]] + np.where(np.isfinite(dist), dist, np.inf)
        out[self._lead_col[self._lead_col >= 0]] = w[self._lead_col[self._lead_col >= 0]]
        return out

    # -- fractional points -----------------------------------------------------

    def _fractional(self, x: np.ndarray, tol: float = VIOLATION) -> RowBlock:
        """Most violated separator rows at a fractional x: for the pairs (i, j) whose widest
        path cannot carry x_ij (at most `MAX_FLOWS`, the largest shortfall first), a
        minimum vertex separator by maximum flow."""
        rows = RowBlock()
        adj = self.adj
        candidates = []
        weights = {}
        for j in np.flatnonzero(self._lead_col >= 0):
            if x[self._lead_col[j]] <= tol:
                continue
            able, cols = self.column(j)
            w = np.zeros(self.n)
            w[able] = x[cols]
            w[j] = np.inf
            wide = _widest(adj, w, int(j))
            short = w[able] - wide[able]
            nb_j = adj.indices[adj.indptr[j]: adj.indptr[j + 1]]
            for i, gap in zip(able[short > tol], short[short > tol], strict=True):
                if i != j and i not in nb_j:
                    candidates.append((-gap, int(i), int(j)))
            weights[int(j)] = w
        candidates.sort()
        graphs: dict[int, sp.csr_matrix] = {}
        for _, i, j in candidates[:MAX_FLOWS]:
            w = weights[j]
            if j not in graphs:
                graphs[j] = self._capacities(w)
            sep = self._min_separator(graphs[j], i, j)
            if sep is None:
                continue
            able, cols = self.column(j)
            sep_cols = cols[np.isin(able, sep)]
            if w[i] - x[sep_cols].sum() > tol:
                rows.add(np.concatenate([[self.col(i, j)], sep_cols]),
                         np.concatenate([[1.0], -np.ones(len(sep_cols))]), -np.inf, 0.0)
        return rows

    def _split_graph(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """The split graph's structure (v_in = v, v_out = n + v; arcs v_in → v_out and
        u_out → v_in for each edge) and, per stored arc, its tail."""
        if self._split is None:
            n = self.n
            a = sp.coo_matrix(self.adj)
            src = np.concatenate([np.arange(n), n + a.row])
            dst = np.concatenate([n + np.arange(n), a.col])
            g = sp.csr_matrix((np.ones(len(src), dtype=np.int32), (src, dst)),
                              shape=(2 * n, 2 * n))
            g.sort_indices()
            self._split = (g, np.repeat(np.arange(2 * n), np.diff(g.indptr)))
        return self._split

    def _capacities(self, w: np.ndarray) -> sp.csr_matrix:
        """The split graph with vertex weights w on the v_in → v_out arcs (scaled to
        integers), every other arc uncuttable."""
        g, tails = self._split_graph()
        through = tails < self.n
        cap = np.full(len(g.data), FLOW_INF, dtype=np.int64)
        cap[through] = np.minimum(np.floor(w[tails[through]] * FLOW_SCALE), FLOW_INF)
        out = g.copy()
        out.data = cap.astype(np.int32)
        return out

    def _min_separator(self, g: sp.csr_matrix, i: int, j: int) -> np.ndarray | None:
        """A minimum-weight vertex set separating i from j: the cut of a maximum flow from
        j_out to i_in in the split graph `g` (from `_capacities`); None if there is none."""
        n = self.n
        flow = maximum_flow(g, n + j, i).flow
        residual = (g - flow).tocsr()
        residual.data = (residual.data > 0).astype(np.int8)
        residual.eliminate_zeros()
        reach = breadth_first_order(residual, n + j, directed=True, return_predecessors=False)
        seen = np.zeros(2 * n, dtype=bool)
        seen[reach] = True
        sep = np.flatnonzero(seen[:n] & ~seen[n:])
        sep = sep[(sep != i) & (sep != j)]
        return sep if len(sep) else None


def _widest(adj: sp.csr_matrix, w: np.ndarray, j: int) -> np.ndarray:
    """For every vertex v, the largest b such that some path from j reaches a neighbour of
    v through vertices of weight ≥ b (the bottleneck excludes v itself and j)."""
    n = len(w)
    best = np.zeros(n)
    reach = np.zeros(n)  # bottleneck of the best path to v including v
    reach[j] = np.inf
    heap = [(-np.inf, j)]
    done = np.zeros(n, dtype=bool)
    while heap:
        b, u = heapq.heappop(heap)
        b = -b
        if done[u]:
            continue
        done[u] = True
        for v in adj.indices[adj.indptr[u]: adj.indptr[u + 1]]:
            if b > best[v]:
                best[v] = b
            nb = min(b, w[v])
            if nb > reach[v] and not done[v]:
                reach[v] = nb
                heapq.heappush(heap, (-nb, int(v)))
    return best
