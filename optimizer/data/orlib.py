"""Reading foreign instance formats (OR-Library p-median files) into an `Instance`.

* `orlib-pmed` (Beasley 1985, OR-Library `pmedN.txt`): line 1 `n m p`, then m
  lines `i j cost` (1-based, undirected edges). The distance is the all-pairs
  shortest path; when an edge is listed more than once the LAST cost counts
  (OR-Library's rule, not the minimum). Every node has `weight` 1; the graph
  edges are kept (a p-median model switches contiguity off).
* `orlib-pmedcap` (Osman & Christofides 1994, OR-Library `pmedcap1.txt`, one
  problem per file): optional header lines `problem_count` (must be 1) and
  `problem_no best_known`, then `n p Q`, then n lines `i x y demand`. The
  distance is the truncated Euclidean floor(sqrt(dx² + dy²)); attributes are
  `demand`, `x`, `y`; there are no edges.

Both give an instance with an explicit distance matrix (`metric = "matrix"`),
node ids `"1"`..`"n"` as codes and names, and `p` (and `capacity`,
`problem`, `best_known` where the file has them) in the metadata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from ..errors import InstanceError
from ..reading import read_text
from ..values import MAX_MUNICIPALITIES
from .instance import Instance

ORLIB_FORMATS = ("orlib-pmed", "orlib-pmedcap")


def read_orlib(path: str | Path, format: str, *, distance: str | None = None) -> Instance:
    """Read an OR-Library file of the given format (`orlib-pmed` or `orlib-pmedcap`)."""
    path = Path(path)
    if format not in ORLIB_FORMATS:
        raise InstanceError(f"{path}: not an OR-Library format: {format!r}")
    if distance not in (None, "matrix"):
        raise InstanceError(
            f"{path}: format {format!r} has no longitude/latitude; its distance is its own "
            f"matrix, not {distance!r}"
        )
    text = read_text(path, "instance file", InstanceError, encoding="ascii")
    parse = parse_orlib_pmed if format == "orlib-pmed" else parse_orlib_pmedcap
    return parse(text, name=path.stem, source=str(path))


def _lines(text: str, source: str) -> list[tuple[int, list[float]]]:
    """Non-empty lines as (line number, numbers)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, [float(t) for t in line.split()]))
        except ValueError:
            raise InstanceError(f"{source}:{number}: expected numbers, got {line.strip()!r}"
                                ) from None
    if not out:
        raise InstanceError(f"{source}: the file is empty")
    return out


def _ints(values: list[float], count: int, what: str, source: str, line: int) -> list[int]:
    if len(values) != count or not all(float(v).is_integer() for v in values):
        raise InstanceError(f"{source}:{line}: expected {what} ({count} integers)")
    return [int(v) for v in values]


def _node(i: int, n: int, source: str, line: int) -> int:
    if not 1 <= i <= n:
        raise InstanceError(f"{source}:{line}: node {i} is outside 1..{n}")
    return i - 1


def _size(n: int, source: str, line: int) -> None:
    """Refuse a node count above the limit before anything of its size is allocated."""
    if n > MAX_MUNICIPALITIES:
        raise InstanceError(f"{source}:{line}: {n:,} nodes; at most {MAX_MUNICIPALITIES:,} are "
                            "accepted")


def _codes(n: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(1, n + 1))


def parse_orlib_pmed(text: str, *, name: str = "pmed", source: str = "<pmed>") -> Instance:
    """An OR-Library p-median graph: shortest-path distances, the last listed cost per edge."""
    lines = _lines(text, source)
    first, head = lines[0]
    n, m, p = _ints(head, 3, "'n m p'", source, first)
    _size(n, source, first)
    if n < 1 or m < 0 or not 1 <= p <= n:
        raise InstanceError(f"{source}:{first}: need n >= 1, m >= 0 and 1 <= p <= n")
    rows = lines[1:]
    if len(rows) != m:
        raise InstanceError(f"{source}: header says {m} edges, the file lists {len(rows)}")
    cost: dict[tuple[int, int], float] = {}
    for line, values in rows:
        if len(values) != 3:
            raise InstanceError(f"{source}:{line}: expected 'i j cost'")
        i, j = (_node(v, n, source, line) for v in _ints(values[:2], 2, "'i j'", source, line))
        if i == j:
            raise InstanceError(f"{source}:{line}: edge {i + 1}-{j + 1} is a self-loop")
        if values[2] < 0:
            raise InstanceError(f"{source}:{line}: negative cost {values[2]:g}")
        key = (min(i, j), max(i, j))
        cost[key] = values[2]  # a later listing of the same edge overrides an earlier one
    edges = np.array(list(cost), dtype=np.int64).reshape(-1, 2)
    weights = np.array(list(cost.values()), dtype=float)
    graph = sp.csr_matrix((weights, (edges[:, 0], edges[:, 1])), shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)
    if not np.all(np.isfinite(dist)):
        i, j = np.argwhere(~np.isfinite(dist))[0]
        raise InstanceError(f"{source}: the graph is not connected (no path from node "
                            f"{i + 1} to node {j + 1})")
    return Instance(
        name=name, codes=_codes(n), names=_codes(n), attributes={"weight": np.ones(n)},
        edges=edges, matrix=dist, metadata={"format": "orlib-pmed", "p": p}, metric="matrix",
    )


def parse_orlib_pmedcap(text: str, *, name: str = "pmedcap", source: str = "<pmedcap>"
                        ) -> Instance:
    """An OR-Library capacitated p-median problem: truncated Euclidean distances, `demand`."""
    lines = _lines(text, source)
    metadata: dict = {"format": "orlib-pmedcap"}
    k = 0
    if len(lines[k][1]) == 1:
        (count,) = _ints(lines[k][1], 1, "the problem count", source, lines[k][0])
        if count != 1:
            raise InstanceError(f"{source}:{lines[k][0]}: the file holds {count} problems; "
                                "split it into one file per problem")
        k += 1
    if k < len(lines) and len(lines[k][1]) == 2:
        problem, best = lines[k][1]
        metadata.update(problem=int(problem), best_known=float(best))
        k += 1
    if k >= len(lines):
        raise InstanceError(f"{source}: no 'n p Q' line")
    line, values = lines[k]
    if len(values) != 3:
        raise InstanceError(f"{source}:{line}: expected 'n p Q'")
    n, p = _ints(values[:2], 2, "'n p'", source, line)
    _size(n, source, line)
    capacity = values[2]
    if n < 1 or not 1 <= p <= n or capacity <= 0:
        raise InstanceError(f"{source}:{line}: need n >= 1, 1 <= p <= n and Q > 0")
    metadata.update(p=p, capacity=capacity)
    rows = lines[k + 1:]
    if len(rows) != n:
        raise InstanceError(f"{source}: header says {n} customers, the file lists {len(rows)}")
    xy = np.zeros((n, 2))
    demand = np.zeros(n)
    seen: dict[int, int] = {}
    for line, values in rows:
        if len(values) != 4:
            raise InstanceError(f"{source}:{line}: expected 'i x y demand'")
        (i,) = _ints(values[:1], 1, "a customer number", source, line)
        i = _node(i, n, source, line)
        if i in seen:
            raise InstanceError(f"{source}:{line}: customer {i + 1} listed twice "
                                f"(first on line {seen[i]})")
        seen[i] = line
        if values[3] < 0:
            raise InstanceError(f"{source}:{line}: negative demand {values[3]:g}")
        xy[i] = values[1:3]
        demand[i] = values[3]
    diff = xy[:, None, :] - xy[None, :, :]
    dist = np.floor(np.sqrt((diff**2).sum(axis=2)))  # exact for integer coordinates
    return Instance(
        name=name, codes=_codes(n), names=_codes(n),
        attributes={"demand": demand, "x": xy[:, 0], "y": xy[:, 1]},
        edges=np.zeros((0, 2), dtype=np.int64), matrix=dist, metadata=metadata, metric="matrix",
    )
