"""The instance: municipalities, their numeric attributes, adjacency and distances.

An `Instance` is immutable and validated on construction; arrays are read-only.
The exchange format is networkx node-link JSON (node ids are strings, node
attributes numbers), optionally with a GeoPackage of polygons beside it; the
networkx adjacency layout (`adjacency` lists instead of `links`) is read too.
Foreign formats (OR-Library) are read by `optimizer.readers`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .errors import InstanceError

if TYPE_CHECKING:
    import networkx as nx

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the design card's definition of great-circle km."""

RESERVED_NODE_KEYS = frozenset({"id", "name"})
METRICS = ("great_circle", "geodesic", "matrix")
"""How `Instance.distance` is obtained: haversine km, WGS84 geodesic km, or the own matrix."""
FORMATS = ("node-link", "orlib-pmed", "orlib-pmedcap")
"""Instance file formats `load_instance` reads (the last two via `optimizer.readers`)."""


def great_circle_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """All-pairs haversine distances in km between points given in degrees."""
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def geodesic_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """All-pairs geodesic distances in km on the WGS84 ellipsoid (pyproj.Geod)."""
    from pyproj import Geod

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    i, j = np.triu_indices(n, k=1)
    _, _, metres = Geod(ellps="WGS84").inv(lon[i], lat[i], lon[j], lat[j])
    d = np.zeros((n, n))
    d[i, j] = d[j, i] = np.asarray(metres, dtype=float) / 1000.0
    return d


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Instance:
    """Municipalities (nodes), numeric attributes, an undirected graph and distances.

    `edges` holds index pairs (i < j), sorted and unique. `metric` says how
    `distance` is obtained: `"matrix"` (the explicit `matrix`), `"great_circle"`
    (haversine km from `lon`/`lat`) or `"geodesic"` (WGS84 km from `lon`/`lat`);
    left as None it becomes `"matrix"` when a matrix is given, else `"great_circle"`.
    `partial` lists numeric attributes the source gave for some nodes only (they
    are not in `attributes`): attribute → the first node without it, for messages.
    """

    name: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    attributes: Mapping[str, np.ndarray]
    edges: np.ndarray
    matrix: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    geometry_path: Path | None = None
    metric: str | None = None
    partial: Mapping[str, str] = field(default_factory=dict)

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
                i = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise InstanceError(f"instance {self.name!r}: attribute {key!r} missing for "
                                    f"{self.names[i]} ({self.codes[i]}): {arr[i]} is not a "
                                    "finite number")
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
        metric = self.metric
        if metric is None:
            metric = "matrix" if self.matrix is not None else "great_circle"
            object.__setattr__(self, "metric", metric)
        if metric not in METRICS:
            raise InstanceError(
                f"instance {self.name!r}: unknown distance {metric!r} "
                f"(known: {', '.join(METRICS)})"
            )
        if metric == "matrix" and self.matrix is None:
            raise InstanceError(
                f"instance {self.name!r}: distance 'matrix' needs a distance matrix"
            )
        if metric != "matrix" and not {"lon", "lat"} <= attrs.keys():
            raise InstanceError(
                f"instance {self.name!r}: needs 'lon' and 'lat' attributes or a distance matrix"
            )
        if metric != "matrix":
            for key, limit in (("lat", 90.0), ("lon", 180.0)):
                out = np.flatnonzero(np.abs(attrs[key]) > limit)
                if len(out):
                    i = int(out[0])
                    raise InstanceError(
                        f"instance {self.name!r}: {key!r} of {self.names[i]} ({self.codes[i]}) "
                        f"is {attrs[key][i]:g}, outside [-{limit:g}, {limit:g}] degrees"
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
        if self.metric == "matrix":
            return self.matrix
        measure = geodesic_km if self.metric == "geodesic" else great_circle_km
        return _readonly(measure(self.attributes["lon"], self.attributes["lat"]))

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
            if key in self.partial:
                raise InstanceError(f"instance {self.name!r}: attribute {key!r} is missing for "
                                    f"{self.partial[key]}") from None
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
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(map(tuple, self.edges.tolist()))
        return g


# -- node-link JSON --------------------------------------------------------


def to_node_link(inst: Instance, edge_data: Mapping[tuple[int, int], Mapping] | None = None
                 ) -> dict:
    """The instance as a networkx node-link dict (deterministic order)."""
    import networkx as nx

    g = nx.Graph(**dict(inst.metadata), name=inst.name)
    for i, code in enumerate(inst.codes):
        attrs = {k: _json_number(v[i]) for k, v in inst.attributes.items()}
        g.add_node(code, name=inst.names[i], **attrs)
    for a, b in inst.edges.tolist():
        g.add_edge(inst.codes[a], inst.codes[b], **dict((edge_data or {}).get((a, b), {})))
    if inst.matrix is not None:
        g.graph["distance_matrix"] = inst.matrix.tolist()
    if inst.metric != ("matrix" if inst.matrix is not None else "great_circle"):
        g.graph["distance_metric"] = inst.metric  # only when it is not the implied one
    return nx.node_link_data(g, edges="edges")


def _json_number(v: float) -> int | float:
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def instance_json(inst: Instance, edge_data=None) -> str:
    """The node-link JSON text of an instance (the same bytes for the same instance)."""
    data = to_node_link(inst, edge_data)
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def write_instance(inst: Instance, path: Path, edge_data=None) -> None:
    Path(path).write_text(instance_json(inst, edge_data), encoding="utf-8")


def load_instance(
    path: str | Path, *, format: str = "node-link", name_attribute: str | None = None,
    lon_attribute: str | None = None, lat_attribute: str | None = None,
    distance: str | None = None,
) -> Instance:
    """Read an instance file of the given format (see `FORMATS`).

    For node-link JSON (a `.gpkg` of the same stem is its geometry) the
    attribute keys say which node attribute holds the name and the longitude /
    latitude (default `name`, `lon`, `lat`). `distance` is one of `METRICS`;
    None keeps the file's own choice (its matrix if it has one, else great-circle).
    """
    path = Path(path)
    if format not in FORMATS:
        raise InstanceError(
            f"{path}: unknown instance format {format!r} (known: {', '.join(FORMATS)})"
        )
    if distance is not None and distance not in METRICS:
        raise InstanceError(
            f"{path}: unknown distance {distance!r} (known: {', '.join(METRICS)})"
        )
    if format != "node-link":
        from .readers import read_orlib

        given = [k for k, v in (("name_attribute", name_attribute),
                                ("lon_attribute", lon_attribute),
                                ("lat_attribute", lat_attribute)) if v is not None]
        if given:
            raise InstanceError(f"{path}: format {format!r} has no node attributes to map "
                                f"({', '.join(given)})")
        return read_orlib(path, format, distance=distance)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstanceError(f"instance file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstanceError(f"instance file {path} is not valid JSON: {exc}") from None
    gpkg = path.with_suffix(".gpkg")
    return from_node_link(data, default_name=path.stem, source=str(path),
                          geometry_path=gpkg if gpkg.exists() else None,
                          name_key=name_attribute, lon_key=lon_attribute, lat_key=lat_attribute,
                          metric=distance)


def from_node_link(
    data: Any, *, default_name: str = "instance", source: str = "<data>",
    geometry_path: Path | None = None, name_key: str | None = None,
    lon_key: str | None = None, lat_key: str | None = None, metric: str | None = None,
) -> Instance:
    """Build an instance from a node-link (or networkx adjacency) dict.

    Non-numeric node attributes are dropped; numeric ones missing on some nodes
    are left out and listed in `Instance.partial` (coordinates must be
    complete). `name_key` names the attribute holding the display name
    (default `name`, falling back to the id; an explicit key must be on every
    node). `lon_key` / `lat_key` name attributes
    (numbers or numeric strings) copied into `lon` / `lat`. `metric` overrides
    the graph's own `distance_metric`.
    """
    if not isinstance(data, dict) or "nodes" not in data:
        raise InstanceError(f"{source}: not a node-link graph (no 'nodes' list)")
    links_key = next((k for k in ("edges", "links", "adjacency") if k in data), "edges")
    nodes = data["nodes"]
    links = data.get(links_key, [])
    if not isinstance(nodes, list) or not isinstance(links, list):
        raise InstanceError(f"{source}: 'nodes' and '{links_key}' must be lists")
    graph_attrs = dict(data["graph"]) if isinstance(data.get("graph"), dict) else {}
    codes: list[str] = []
    names: list[str] = []
    columns: dict[str, list] = {}
    for k, node in enumerate(nodes):
        if not isinstance(node, dict) or "id" not in node:
            raise InstanceError(f"{source}: node #{k} has no 'id'")
        code = str(node["id"])
        codes.append(code)
        if name_key is not None and name_key not in node:
            raise InstanceError(f"{source}: node {code!r} has no name attribute {name_key!r}")
        names.append(str(node.get(name_key or "name", code)))
        for key, val in node.items():
            if key in RESERVED_NODE_KEYS:
                continue
            columns.setdefault(key, [None] * len(nodes))[k] = val
    attributes = {}
    partial = {}
    for key, vals in columns.items():
        numeric = [_is_number(v) for v in vals]
        if all(numeric):
            attributes[key] = np.array([_float(v) for v in vals])
        elif all(ok or v is None for ok, v in zip(numeric, vals, strict=True)):
            k = vals.index(None)
            if key in ("lon", "lat", lon_key, lat_key):
                raise InstanceError(f"{source}: node {codes[k]!r} ({names[k]}) has no {key!r}")
            partial[key] = f"{names[k]} ({codes[k]})"
    for target, key in (("lon", lon_key), ("lat", lat_key)):
        if key is not None:
            attributes[target] = _coordinate(columns.get(key), key, codes, source)
    index = {c: i for i, c in enumerate(codes)}
    if len(index) != len(codes):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise InstanceError(f"{source}: duplicate node ids {dup}")
    if links_key == "adjacency":
        if len(links) != len(nodes):
            raise InstanceError(f"{source}: 'adjacency' has {len(links)} lists for "
                                f"{len(nodes)} nodes")
        try:
            links = [{"source": codes[k], "target": nb["id"]}
                     for k, row in enumerate(links) for nb in row]
        except (KeyError, TypeError):
            raise InstanceError(f"{source}: 'adjacency' entries must be {{'id': ...}}") from None
    edges = []
    for link in links:
        try:
            edges.append((index[str(link["source"])], index[str(link["target"])]))
        except (KeyError, TypeError):
            raise InstanceError(f"{source}: edge {link!r} refers to an unknown node") from None
    matrix = graph_attrs.pop("distance_matrix", None)
    own_metric = graph_attrs.pop("distance_metric", None)
    name = str(graph_attrs.pop("name", default_name) or default_name)
    try:
        return Instance(
            name=name,
            codes=tuple(codes),
            names=tuple(names),
            attributes=attributes,
            edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
            matrix=None if matrix is None else _matrix(matrix),
            metadata=graph_attrs,
            geometry_path=geometry_path,
            metric=metric if metric is not None else own_metric,
            partial=partial,
        )
    except InstanceError as exc:  # the constructor's checks: say which file
        raise InstanceError(f"{source}: {exc}") from None


def _matrix(value: Any) -> np.ndarray:
    """A distance matrix from JSON; anything that is not a numeric table gives NaN (refused)."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return np.full((1, 1), np.nan)


def _float(v: int | float) -> float:
    """A JSON number as a float; an integer beyond the double range becomes inf (refused)."""
    try:
        return float(v)
    except OverflowError:
        return float("inf")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _coordinate(values: list | None, key: str, codes: list[str], source: str) -> np.ndarray:
    """A coordinate column from numbers or numeric strings (such as '+42.9116429')."""
    if values is None:
        raise InstanceError(f"{source}: no node has the coordinate attribute {key!r}")
    out = np.empty(len(values))
    for k, v in enumerate(values):
        try:
            if isinstance(v, bool) or v is None:
                raise ValueError
            out[k] = float(v)
        except (TypeError, ValueError, OverflowError):
            raise InstanceError(
                f"{source}: node {codes[k]!r} has no numeric coordinate {key!r} (got {v!r})"
            ) from None
    return out
