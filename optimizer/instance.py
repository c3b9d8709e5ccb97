"""The instance: municipalities, their numeric attributes, adjacency and distances.

An `Instance` is immutable and validated on construction; arrays are read-only.
The exchange format is networkx node-link JSON (node ids are strings, node
attributes numbers), optionally with a GeoPackage of polygons beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .errors import InstanceError

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the design card's definition of great-circle km."""

RESERVED_NODE_KEYS = frozenset({"id", "name"})


def great_circle_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """All-pairs haversine distances in km between points given in degrees."""
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Instance:
    """Municipalities (nodes), numeric attributes, an undirected graph and distances.

    `edges` holds index pairs (i < j), sorted and unique. `distance` is given
    explicitly (`matrix`) or derived from `lon`/`lat` as great-circle km.
    """

    name: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    attributes: Mapping[str, np.ndarray]
    edges: np.ndarray
    matrix: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    geometry_path: Path | None = None

    def __post_init__(self) -> None:
        n = len(self.codes)
        if n == 0:
            raise InstanceError(f"instance {self.name!r} has no municipalities")
        if len(set(self.codes)) != n:
            dup = sorted({c for c in self.codes if self.codes.count(c) > 1})
            raise InstanceError(f"instance {self.name!r}: duplicate node ids {dup}")
        if len(self.names) != n:
            raise InstanceError(f"instance {self.name!r}: {len(self.names)} names for {n} nodes")
        attrs = {}
        for key, values in self.attributes.items():
            arr = np.asarray(values, dtype=float)
            if arr.shape != (n,):
                raise InstanceError(f"instance {self.name!r}: attribute {key!r} has wrong length")
            if not np.all(np.isfinite(arr)):
                bad = self.names[int(np.flatnonzero(~np.isfinite(arr))[0])]
                raise InstanceError(f"instance {self.name!r}: attribute {key!r} missing for {bad}")
            attrs[key] = _readonly(arr)
        object.__setattr__(self, "attributes", attrs)
        edges = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        if edges.size and (edges.min() < 0 or edges.max() >= n):
            raise InstanceError(f"instance {self.name!r}: edge refers to an unknown node")
        if np.any(edges[:, 0] == edges[:, 1]):
            i = int(edges[edges[:, 0] == edges[:, 1]][0, 0])
            raise InstanceError(f"instance {self.name!r}: self-loop at {self.names[i]}")
        edges = np.unique(np.sort(edges, axis=1), axis=0)
        object.__setattr__(self, "edges", _readonly(edges))
        if self.matrix is not None:
            m = np.asarray(self.matrix, dtype=float)
            if m.shape != (n, n) or not np.all(np.isfinite(m)) or m.min() < 0:
                raise InstanceError(
                    f"instance {self.name!r}: distance matrix must be {n}x{n}, finite, >= 0"
                )
            object.__setattr__(self, "matrix", _readonly(m))
        elif not {"lon", "lat"} <= attrs.keys():
            raise InstanceError(
                f"instance {self.name!r}: needs 'lon' and 'lat' attributes or a distance matrix"
            )

    # -- nouns -------------------------------------------------------------

    @property
    def n(self) -> int:
        return len(self.codes)

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each node id."""
        return {c: i for i, c in enumerate(self.codes)}

    @cached_property
    def distance(self) -> np.ndarray:
        """Distance (km or the instance's own cost unit) between every pair of nodes."""
        if self.matrix is not None:
            return self.matrix
        return _readonly(great_circle_km(self.attributes["lon"], self.attributes["lat"]))

    @cached_property
    def adjacency(self) -> sp.csr_matrix:
        """Symmetric 0/1 adjacency matrix (CSR): row i lists the neighbours of i."""
        n = self.n
        e = self.edges
        data = np.ones(2 * len(e), dtype=np.int8)
        rows = np.concatenate([e[:, 0], e[:, 1]])
        cols = np.concatenate([e[:, 1], e[:, 0]])
        return sp.csr_matrix((data, (rows, cols)), shape=(n, n))

    def neighbours(self, i: int) -> np.ndarray:
        a = self.adjacency
        return a.indices[a.indptr[i] : a.indptr[i + 1]]

    def attribute(self, key: str) -> np.ndarray:
        try:
            return self.attributes[key]
        except KeyError:
            known = ", ".join(sorted(self.attributes)) or "none"
            raise InstanceError(
                f"instance {self.name!r} has no attribute {key!r} (known: {known})"
            ) from None

    def label(self, i: int) -> str:
        """Human name of node i, for messages."""
        return f"{self.names[i]} ({self.codes[i]})"

    def resolve(self, ref: str, *, what: str = "municipality") -> int:
        """Index of a node given by id or by exact name."""
        if ref in self.index:
            return self.index[ref]
        matches = [i for i, nm in enumerate(self.names) if nm == ref]
        if len(matches) == 1:
            return matches[0]
        raise InstanceError(f"{what} {ref!r} is not in instance {self.name!r}")

    # -- variants ----------------------------------------------------------

    def with_links(self, links: Iterable[tuple[int, int]]) -> Instance:
        """A copy with extra undirected edges (ferries, bridges) added to the graph."""
        extra = np.asarray(list(links), dtype=np.int64).reshape(-1, 2)
        if not len(extra):
            return self
        return replace(self, edges=np.vstack([self.edges, extra]))

    def subset(self, keep: Iterable[int], name: str) -> Instance:
        """The induced sub-instance on the given node positions (in the given order)."""
        keep = np.asarray(list(keep), dtype=np.int64)
        pos = -np.ones(self.n, dtype=np.int64)
        pos[keep] = np.arange(len(keep))
        e = pos[self.edges]
        e = e[(e >= 0).all(axis=1)]
        return replace(
            self,
            name=name,
            codes=tuple(self.codes[i] for i in keep),
            names=tuple(self.names[i] for i in keep),
            attributes={k: v[keep] for k, v in self.attributes.items()},
            edges=e,
            matrix=None if self.matrix is None else self.matrix[np.ix_(keep, keep)],
        )

    def graph(self) -> nx.Graph:
        """A networkx view (node = position) for graph algorithms."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(map(tuple, self.edges.tolist()))
        return g


# -- node-link JSON --------------------------------------------------------


def to_node_link(inst: Instance, edge_data: Mapping[tuple[int, int], Mapping] | None = None
                 ) -> dict:
    """The instance as a networkx node-link dict (deterministic order)."""
    g = nx.Graph(**dict(inst.metadata), name=inst.name)
    for i, code in enumerate(inst.codes):
        attrs = {k: _json_number(v[i]) for k, v in inst.attributes.items()}
        g.add_node(code, name=inst.names[i], **attrs)
    for a, b in inst.edges.tolist():
        g.add_edge(inst.codes[a], inst.codes[b], **dict((edge_data or {}).get((a, b), {})))
    if inst.matrix is not None:
        g.graph["distance_matrix"] = inst.matrix.tolist()
    return nx.node_link_data(g, edges="edges")


def _json_number(v: float) -> int | float:
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def write_instance(inst: Instance, path: Path, edge_data=None) -> None:
    text = json.dumps(to_node_link(inst, edge_data), ensure_ascii=False, indent=1, sort_keys=True)
    Path(path).write_text(text + "\n", encoding="utf-8")


def load_instance(path: str | Path) -> Instance:
    """Read a node-link JSON instance; a `.gpkg` of the same stem is its geometry."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstanceError(f"instance file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstanceError(f"instance file {path} is not valid JSON: {exc}") from None
    gpkg = path.with_suffix(".gpkg")
    return from_node_link(data, default_name=path.stem, source=str(path),
                          geometry_path=gpkg if gpkg.exists() else None)


def from_node_link(
    data: Any, *, default_name: str = "instance", source: str = "<data>",
    geometry_path: Path | None = None, name_key: str = "name",
) -> Instance:
    """Build an instance from a node-link dict; non-numeric node attributes are dropped."""
    if not isinstance(data, dict) or "nodes" not in data:
        raise InstanceError(f"{source}: not a node-link graph (no 'nodes' list)")
    links_key = "edges" if "edges" in data else "links"
    nodes = data["nodes"]
    links = data.get(links_key, [])
    if not isinstance(nodes, list) or not isinstance(links, list):
        raise InstanceError(f"{source}: 'nodes' and '{links_key}' must be lists")
    graph_attrs = data.get("graph") if isinstance(data.get("graph"), dict) else {}
    codes: list[str] = []
    names: list[str] = []
    columns: dict[str, list] = {}
    for k, node in enumerate(nodes):
        if not isinstance(node, dict) or "id" not in node:
            raise InstanceError(f"{source}: node #{k} has no 'id'")
        code = str(node["id"])
        codes.append(code)
        names.append(str(node.get(name_key, code)))
        for key, val in node.items():
            if key in RESERVED_NODE_KEYS:
                continue
            columns.setdefault(key, [None] * len(nodes))[k] = val
    attributes = {}
    for key, vals in columns.items():
        numeric = [isinstance(v, int | float) and not isinstance(v, bool) for v in vals]
        if all(numeric):
            attributes[key] = np.array(vals, dtype=float)
        elif all(ok or v is None for ok, v in zip(numeric, vals, strict=True)):
            k = vals.index(None)
            raise InstanceError(f"{source}: node {codes[k]!r} ({names[k]}) has no {key!r}")
    index = {c: i for i, c in enumerate(codes)}
    if len(index) != len(codes):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise InstanceError(f"{source}: duplicate node ids {dup}")
    edges = []
    for link in links:
        try:
            edges.append((index[str(link["source"])], index[str(link["target"])]))
        except (KeyError, TypeError):
            raise InstanceError(f"{source}: edge {link!r} refers to an unknown node") from None
    matrix = graph_attrs.pop("distance_matrix", None)
    name = str(graph_attrs.pop("name", default_name) or default_name)
    return Instance(
        name=name,
        codes=tuple(codes),
        names=tuple(names),
        attributes=attributes,
        edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
        matrix=None if matrix is None else np.asarray(matrix, dtype=float),
        metadata=graph_attrs,
        geometry_path=geometry_path,
    )
