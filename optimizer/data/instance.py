"""The instance: municipalities, their numeric attributes, adjacency and distances.

An `Instance` is immutable and validated on construction; arrays are read-only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import InstanceError
from ..values import MAX_MUNICIPALITIES, MAX_NAME, shown
from ..words import did_you_mean

if TYPE_CHECKING:
    import networkx as nx

    from .travel import TravelMatrix


EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the design card's definition of great-circle km."""


METRICS = ("great_circle", "geodesic", "matrix", "file")
"""How `Instance.distance` is obtained: haversine km, WGS84 geodesic km, the own matrix, or
a travel-time file (`optimizer.data.travel`: road minutes or km)."""

SOURCES = {"great_circle": "straight-line km between the centres (great circle)",
           "geodesic": "straight-line km between the centres (WGS84 geodesic)",
           "matrix": "the instance's own distance matrix"}
"""Where the distances come from, in words, for outputs (a file names its own source)."""


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


def _check_names(name, codes, names) -> None:
    """The instance's size and its names within the limits: at most `MAX_MUNICIPALITIES`,
    names and codes of at most `MAX_NAME` characters, no control character or line break."""
    if len(str(name)) > MAX_NAME:
        raise InstanceError(f"instance name {shown(name)} is longer than {MAX_NAME} "
                            "characters")
    if not codes:
        raise InstanceError(f"instance {name!r} has no municipalities")
    if len(codes) > MAX_MUNICIPALITIES:
        raise InstanceError(f"instance {name!r} has {len(codes):,} municipalities; at most "
                            f"{MAX_MUNICIPALITIES:,} are accepted")
    for k, (code, label) in enumerate(zip(codes, names, strict=False)):
        if len(str(code)) > MAX_NAME or len(str(label)) > MAX_NAME:
            raise InstanceError(f"instance {name!r}: municipality {k + 1} has a code or name "
                                f"longer than {MAX_NAME} characters ({shown(code)}, "
                                f"{shown(label)})")
        if _control(str(code)) or _control(str(label)):
            raise InstanceError(f"instance {name!r}: municipality {k + 1} has a code or name "
                                f"with a control character or line break ({shown(code)}, "
                                f"{shown(label)})")


def _control(text: str) -> bool:
    """Whether text holds a control character or a line or paragraph separator (a name
    with one cannot be written to a CSV line and read back)."""
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


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
    travel: TravelMatrix | None = None
    """With metric `"file"`: the travel-time file aligned to the nodes (`distance` is its
    minutes or km; inf where there is no route)."""
    text_attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Text node attributes given for every node (the name of a node's sub-region,
    `subregion_name`, ...): attribute → one string per node."""

    def __post_init__(self) -> None:
        n = len(self.codes)
        _check_names(self.name, self.codes, self.names)
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
        texts = {key: tuple(str(v) for v in values)
                 for key, values in self.text_attributes.items()}
        for key, values in texts.items():
            if len(values) != n:
                raise InstanceError(f"instance {self.name!r}: text attribute {key!r} has "
                                    "wrong length")
        object.__setattr__(self, "text_attributes", texts)
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
        if metric == "file":
            if self.travel is None or self.travel.minutes.shape != (n, n):
                raise InstanceError(f"instance {self.name!r}: distance 'file' needs a "
                                    "travel-time file")
            return
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

    @property
    def region(self) -> str:
        """The region in words: the instance's `region_name`, else its name."""
        name = self.metadata.get("region_name")
        return str(name) if name else self.name.replace("-", " ").replace("_", " ").capitalize()

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each node id."""
        return {c: i for i, c in enumerate(self.codes)}

    @cached_property
    def distance(self) -> np.ndarray:
        """Distance (km, minutes from a travel-time file, or the instance's own cost unit)
        between every pair of nodes; inf where a travel-time file has no route."""
        if self.metric == "matrix":
            return self.matrix
        if self.metric == "file":
            return self.travel.distance
        measure = geodesic_km if self.metric == "geodesic" else great_circle_km
        return _readonly(measure(self.attributes["lon"], self.attributes["lat"]))

    @property
    def distance_unit(self) -> str:
        """`minutes` when the distances are a file's travel times, else `km`."""
        return self.travel.unit if self.metric == "file" else "km"

    @property
    def distance_source(self) -> str:
        """Where the distances come from, in words (a file's own `source:` line)."""
        if self.metric == "file":
            return self.travel.describe()
        return SOURCES[self.metric]

    @property
    def km(self) -> np.ndarray:
        """km between every pair: a travel-time file's route km, else `distance`."""
        return self.travel.km if self.metric == "file" else self.distance

    @property
    def minutes(self) -> np.ndarray | None:
        """Minutes of the fastest route from a travel-time file (None without one)."""
        return self.travel.minutes if self.metric == "file" else None

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
        """Index of a node given by id or by name (exactly, else without regard to case
        when that names one node)."""
        if ref in self.index:
            return self.index[ref]
        matches = [i for i, nm in enumerate(self.names) if nm == ref]
        if len(matches) != 1:
            matches = [i for i, nm in enumerate(self.names) if nm.casefold() == ref.casefold()]
        if len(matches) == 1:
            return matches[0]
        hint = did_you_mean(ref, self.names)
        raise InstanceError(f"{what} {ref!r} is not in instance {self.name!r}{hint}")

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
            text_attributes={k: tuple(v[i] for i in keep)
                             for k, v in self.text_attributes.items()},
            edges=e,
            matrix=None if self.matrix is None else self.matrix[np.ix_(keep, keep)],
            travel=None if self.travel is None else self.travel.subset(keep),
        )

    def graph(self) -> nx.Graph:
        """A networkx view (node = position) for graph algorithms."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(map(tuple, self.edges.tolist()))
        return g


def pieces(adjacency, members: np.ndarray) -> list[np.ndarray]:
    """Connected pieces of the subgraph induced by `members` (positions)."""
    sub = adjacency[members][:, members]
    k, comp = connected_components(sub, directed=False)
    return [members[comp == c] for c in range(k)]
