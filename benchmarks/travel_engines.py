"""Many-to-many shortest paths on a synthetic road grid: scipy.sparse.csgraph, igraph, pandana.

The measurement behind the choice of scipy for `optimizer instances travel-times` (see
the README, "Travel times by road"). A side × side grid, edges 0.2-1.5 km at 30-100 km/h
in both directions, `k` random centres (292, the mainland's count): the minutes of the
fastest route between every pair and (scipy, igraph) the km of that same route. Usage:

    python benchmarks/travel_engines.py SIDE scipy|igraph|igraph-dist|pandana [K]

igraph and pandana are not dependencies of the package: `pip install igraph pandana`.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph


def grid(side: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = side * side
    idx = np.arange(n).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    km = rng.uniform(0.2, 1.5, len(u))
    speed = rng.choice([30, 50, 80, 100], len(u), p=[0.4, 0.3, 0.2, 0.1])
    minutes = km / speed * 60
    return (n, idx, np.concatenate([u, v]), np.concatenate([v, u]),
            np.concatenate([km, km]), np.concatenate([minutes, minutes]), rng)


def main() -> None:
    side, engine = int(sys.argv[1]), sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 292
    n, idx, tail, head, km, minutes, rng = grid(side)
    src = rng.choice(n, k, replace=False)
    t0 = time.perf_counter()
    out_t = np.empty((k, k))
    out_k = np.empty((k, k))
    if engine == "scipy":  # as optimizer.data.roads.route_matrix does it
        g = sp.csr_matrix((minutes, (tail, head)), shape=(n, n))
        order = np.argsort(tail * n + head)
        keys, edge_km = (tail * n + head)[order], km[order]
        for s in range(0, k, 16):
            dist, pred = csgraph.dijkstra(g, indices=src[s:s + 16], return_predecessors=True)
            out_t[s:s + 16] = dist[:, src]
            for r in range(dist.shape[0]):
                acc, cur = np.zeros(k), src.copy()
                live = np.flatnonzero(pred[r][cur] >= 0)
                while len(live):
                    c = cur[live]
                    p = pred[r][c]
                    acc[live] += edge_km[np.searchsorted(keys, p * n + c)]
                    cur[live] = p
                    live = live[pred[r][p] >= 0]
                out_k[s + r] = acc
    elif engine in ("igraph", "igraph-dist"):
        import igraph as ig

        g = ig.Graph(n=n, edges=np.column_stack([tail, head]).tolist(), directed=True)
        if engine == "igraph-dist":  # minutes only: no km of the route
            out_t = np.asarray(g.distances(source=src.tolist(), target=src.tolist(),
                                           weights=minutes))
        else:
            for r, s in enumerate(src):
                paths = g.get_shortest_paths(int(s), to=src.tolist(), weights=minutes,
                                             output="epath")
                for c, ep in enumerate(paths):
                    e = np.asarray(ep, dtype=np.int64)
                    out_t[r, c] = minutes[e].sum()
                    out_k[r, c] = km[e].sum()
    elif engine == "pandana":
        import pandana
        import pandas as pd

        xy = np.column_stack([idx.ravel() % side, idx.ravel() // side]).astype(float)
        net = pandana.Network(pd.Series(xy[:, 0]), pd.Series(xy[:, 1]), pd.Series(tail),
                              pd.Series(head), pd.DataFrame({"minutes": minutes}),
                              twoway=False)
        built = time.perf_counter()
        a, b = np.repeat(src, k), np.tile(src, k)
        out_t = np.asarray(net.shortest_path_lengths(a, b, imp_name="minutes")).reshape(k, k)
        queried = time.perf_counter()
        net.shortest_paths(a, b, imp_name="minutes")  # what the km of each route would need
        print(f"pandana: contraction {built - t0:.2f} s, lengths {queried - built:.2f} s, "
              f"paths {time.perf_counter() - queried:.2f} s")
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{engine}: {n:,} nodes, {k} centres: {time.perf_counter() - t0:.2f} s, "
          f"max RSS {rss} MB, Σ minutes {out_t.sum():.3f}")


if __name__ == "__main__":
    main()
