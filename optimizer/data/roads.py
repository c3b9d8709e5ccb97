"""Road and ferry travel from an OpenStreetMap extract: the drivable network, snapping, routes.

`read_roads` reads an extract (`.osm.pbf`, `.osm`, and whatever else libosmium reads,
through the `osmium` package) in one streaming pass and builds a directed graph whose
nodes are the junctions of the drivable ways (shape points are folded into the edges,
so the graph is several times smaller than the extract). Each edge carries its minutes
and km:

* a road's speed is its `maxspeed` tag (`maxspeed:forward` / `:backward` per
  direction; `FI:urban` 50, `FI:rural` 80, `FI:motorway` 120, `FI:living_street` 20;
  `mph` converted), else the default of its road class (`ROAD_SPEEDS`), times
  `Speeds.factor`; `oneway` (and roundabouts and motorways, which are one-way by
  definition) are honoured; ways closed to motor vehicles are left out;
* a ferry (`route=ferry`, not closed to motor vehicles) takes its `duration` tag, else
  its length at `Speeds.ferry_kmh`, plus `Speeds.ferry_wait` minutes of waiting; a ferry
  the extract cuts (some of its nodes outside) is left out and named in the statistics.

`snap` puts each municipal centre on the nearest junction of the largest strongly
connected part of the network (so that every centre can reach every other) and refuses
centres farther than a radius, naming them. `route_matrix` runs Dijkstra's algorithm
(`scipy.sparse.csgraph`) from every centre and returns the minutes of the fastest route
and the km of that same route for every ordered pair.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from .instance import EARTH_RADIUS_KM

ROAD_SPEEDS: Mapping[str, float] = {
    "motorway": 110.0, "motorway_link": 60.0,
    "trunk": 90.0, "trunk_link": 50.0,
    "primary": 80.0, "primary_link": 50.0,
    "secondary": 70.0, "secondary_link": 50.0,
    "tertiary": 60.0, "tertiary_link": 40.0,
    "unclassified": 50.0, "road": 40.0,
    "residential": 40.0, "living_street": 20.0, "service": 20.0,
}
"""km/h of a road class without a usable `maxspeed` tag, and the classes counted as
drivable. Set from Finland's general limits (Road Traffic Act 729/2018 § 31 and § 34:
80 km/h outside and 50 km/h inside built-up areas, 20 km/h in a living street;
motorways 120 in summer and 100 in winter, taken as 110) and lowered for the minor
classes, which are mostly inside towns; a planner may override any with `--speed`."""

FERRY_KMH = 15.0
"""Speed of a ferry without a `duration` tag: Finland's road ferries (lossit) cross at
about 8 knots, 15 km/h."""

FERRY_WAIT_MINUTES = 10.0
"""Minutes of waiting added to every ferry crossing (illustrative: a departure every
20 minutes means 10 minutes' wait on average)."""

NAMED_LIMITS = {"urban": 50.0, "rural": 80.0, "motorway": 120.0, "living_street": 20.0,
                "trunk": 100.0, "walk": 6.0}
"""`maxspeed=FI:urban` and friends (the implicit limits of the OSM wiki's table for
Finland), and `maxspeed=walk`."""

_NO = {"no", "private", "agricultural", "forestry", "delivery", "emergency"}
_YES = {"yes", "designated", "destination", "permissive", "customers"}
_FORWARD = {"yes", "true", "1"}
_BACKWARD = {"-1", "reverse"}
_SPEED = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(mph|km/h|kmh|kph)?\s*$")


@dataclass(frozen=True)
class Speeds:
    """How fast the network is travelled: km/h per road class, a factor on every road
    speed, the ferries' speed without a duration and the wait at each crossing."""

    by_class: Mapping[str, float] = field(default_factory=lambda: dict(ROAD_SPEEDS))
    factor: float = 1.0
    ferry_kmh: float = FERRY_KMH
    ferry_wait: float = FERRY_WAIT_MINUTES

    def describe(self) -> str:
        """One line for the matrix file's header."""
        classes = ", ".join(f"{k} {v:g}" for k, v in self.by_class.items())
        factor = "" if self.factor == 1 else f" × {self.factor:g}"
        return (f"maxspeed tags, else km/h by class ({classes}){factor}; ferries: "
                f"duration tag, else {self.ferry_kmh:g} km/h, + {self.ferry_wait:g} min wait")


def parse_maxspeed(value: str | None) -> float | None:
    """km/h of a `maxspeed` value, or None when it gives no number (`none`, `signals`)."""
    if not value:
        return None
    first = value.split(";")[0].strip()
    m = _SPEED.match(first)
    if m:
        kmh = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
        return kmh if kmh > 0 else None
    if first == "walk":
        return NAMED_LIMITS["walk"]
    if ":" in first:
        country, kind = first.split(":", 1)
        if country.upper() == "FI" or kind in ("urban", "rural", "living_street"):
            return NAMED_LIMITS.get(kind)
    return None


def parse_duration(value: str | None) -> float | None:
    """Minutes of a ferry's `duration` tag (`mm`, `hh:mm`, `hh:mm:ss` or ISO 8601 `PT1H5M`),
    or None when it is absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        if text.upper().startswith("PT"):
            m = re.fullmatch(r"PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?",
                             text.upper())
            if not m or not any(m.groups()):
                return None
            h, mi, s = (float(g) if g else 0.0 for g in m.groups())
            minutes = 60 * h + mi + s / 60
        else:
            parts = [float(p) for p in text.split(":")]
            if len(parts) == 1:
                minutes = parts[0]
            elif len(parts) == 2:
                minutes = 60 * parts[0] + parts[1]
            elif len(parts) == 3:
                minutes = 60 * parts[0] + parts[1] + parts[2] / 60
            else:
                return None
    except ValueError:
        return None
    return minutes if math.isfinite(minutes) and minutes > 0 else None


def _closed(tags) -> bool:
    """Closed to cars: `motor_vehicle`/`motorcar` says no, or `access` does and neither
    of them says yes."""
    for key in ("motorcar", "motor_vehicle"):
        v = tags.get(key)
        if v is not None:
            return v in _NO
    return tags.get("access") in _NO


def _direction(tags, highway: str) -> tuple[bool, bool]:
    """(forward allowed, backward allowed) from `oneway`, roundabouts and motorways."""
    oneway = tags.get("oneway")
    if oneway in _FORWARD:
        return True, False
    if oneway in _BACKWARD:
        return False, True
    if oneway == "no":
        return True, True
    if tags.get("junction") in ("roundabout", "circular") or highway == "motorway":
        return True, False
    return True, True


@dataclass(frozen=True)
class ReadStats:
    """What the reader took from the extract."""

    ways: int = 0
    ferries: int = 0
    ferries_cut: tuple[str, ...] = ()
    """Ferries left out because the extract cuts them (their names)."""
    ways_cut: int = 0
    """Roads that leave the extract (kept up to its edge)."""


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed graph of junctions: `lon`/`lat` per node; per edge its tail, head,
    minutes, km and whether it is a ferry. Parallel edges are reduced to the fastest."""

    source: str
    lon: np.ndarray
    lat: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    minutes: np.ndarray
    km: np.ndarray
    ferry: np.ndarray
    speeds: Speeds
    stats: ReadStats

    @property
    def n(self) -> int:
        return len(self.lon)

    def matrix(self, weight: str = "minutes"):
        """The graph as a CSR matrix weighted by `minutes` or `km`."""
        import scipy.sparse as sp

        w = self.minutes if weight == "minutes" else self.km
        return sp.csr_matrix((w, (self.tail, self.head)), shape=(self.n, self.n))

    def main_part(self) -> np.ndarray:
        """Mask of the nodes in the largest strongly connected part (each reaches each)."""
        from scipy.sparse.csgraph import connected_components

        if self.n == 0:
            return np.zeros(0, dtype=bool)
        _, labels = connected_components(self.matrix(), directed=True, connection="strong")
        return labels == np.bincount(labels).argmax()


def _haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def read_roads(path: str | Path, speeds: Speeds | None = None,
               progress: Callable[[str], None] | None = None) -> RoadNetwork:
    """The drivable road and ferry network of an OSM extract (see the module's doc)."""
    import osmium

    speeds = speeds or Speeds()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"OpenStreetMap extract {path} is not a regular file (a folder, "
                         "device or FIFO)" if path.exists() else
                         f"OpenStreetMap extract not found: {path}")
    refs: list[np.ndarray] = []
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    fwd_kmh: list[float] = []
    back_kmh: list[float] = []
    ferry_min: list[float] = []
    ferry_way: list[bool] = []
    ways = ferries = 0
    cut: list[str] = []
    try:
        processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                     .with_locations()
                     .with_filter(osmium.filter.KeyFilter("highway", "route")))
        for obj in processor:
            if not obj.is_way():
                continue
            tags = obj.tags
            highway = tags.get("highway")
            is_ferry = tags.get("route") == "ferry"
            if is_ferry:
                if _closed(tags):
                    continue
            elif highway not in speeds.by_class or tags.get("area") == "yes" or _closed(tags):
                continue
            nodes = obj.nodes
            ids = np.fromiter((n.ref for n in nodes), dtype=np.int64, count=len(nodes))
            lon = np.fromiter((n.lon if n.location.valid() else np.nan for n in nodes),
                              dtype=float, count=len(nodes))
            lat = np.fromiter((n.lat if n.location.valid() else np.nan for n in nodes),
                              dtype=float, count=len(nodes))
            if is_ferry:
                name = tags.get("name") or f"way {obj.id}"
                if np.isnan(lon).any():
                    cut.append(name)
                    continue
                ferries += 1
                duration = parse_duration(tags.get("duration"))
                ferry_min.append(np.nan if duration is None else duration)
                fwd_kmh.append(speeds.ferry_kmh)
                back_kmh.append(speeds.ferry_kmh)
            else:
                ways += 1
                forward, backward = _direction(tags, highway)
                base = parse_maxspeed(tags.get("maxspeed")) or speeds.by_class[highway]
                f = parse_maxspeed(tags.get("maxspeed:forward")) or base
                b = parse_maxspeed(tags.get("maxspeed:backward")) or base
                fwd_kmh.append(f * speeds.factor if forward else 0.0)
                back_kmh.append(b * speeds.factor if backward else 0.0)
                ferry_min.append(np.nan)
            ferry_way.append(is_ferry)
            refs.append(ids)
            lons.append(lon)
            lats.append(lat)
            if progress is not None and (ways + ferries) % 50000 == 0:
                progress(f"reading {path.name}: {ways:,} roads, {ferries:,} ferries")
    except RuntimeError as exc:  # libosmium: not an OSM file, truncated, unknown format
        raise InputError(f"{path}: cannot read as an OpenStreetMap extract: {exc}") from None
    if progress is not None:
        progress(f"building the network of {ways:,} roads and {ferries:,} ferries")
    return _build(str(path), refs, lons, lats, np.array(fwd_kmh), np.array(back_kmh),
                  np.array(ferry_way, dtype=bool), np.array(ferry_min), speeds,
                  ReadStats(ways=ways, ferries=ferries, ferries_cut=tuple(cut)))


def _build(source: str, refs, lons, lats, fwd_kmh, back_kmh, ferry_way, ferry_min,
           speeds: Speeds, stats: ReadStats) -> RoadNetwork:
    """Junction graph from the ways' node lists (vectorised: one pass over all nodes).

    (long: one vectorised pass over every node of every way, kept together so that the
    arrays it builds are freed at its end)
    """
    empty = np.zeros(0)
    nothing = RoadNetwork(source, empty, empty, np.zeros(0, np.int64), np.zeros(0, np.int64),
                          empty, empty, np.zeros(0, bool), speeds, stats)
    if not refs:
        return nothing
    counts = np.array([len(r) for r in refs])
    ref = np.concatenate(refs)
    lon = np.concatenate(lons)
    lat = np.concatenate(lats)
    way = np.repeat(np.arange(len(refs)), counts)
    valid = ~np.isnan(lon)
    # pieces: a way is cut where it leaves the extract (a node without a location)
    start = np.zeros(len(ref), dtype=bool)
    start[np.cumsum(counts)[:-1]] = True
    start[0] = True
    start[1:] |= ~valid[:-1]
    piece = np.cumsum(start)[valid]
    ways_cut = len(np.unique(way[~valid]))
    stats = ReadStats(stats.ways, stats.ferries, stats.ferries_cut, ways_cut)
    nothing = replace(nothing, stats=stats)
    ref, lon, lat, way = ref[valid], lon[valid], lat[valid], way[valid]
    if not len(ref):
        return nothing
    # a junction: a node on two ways (or twice on one), or the end of a piece
    _, inverse, used = np.unique(ref, return_inverse=True, return_counts=True)
    first = np.r_[True, piece[1:] != piece[:-1]]
    last = np.r_[piece[1:] != piece[:-1], True]
    junction = (used[inverse] > 1) | first | last
    # consecutive pairs inside a piece, grouped into segments between junctions
    pair = np.flatnonzero(~last)
    if not len(pair):  # no way has two nodes inside the extract
        return nothing
    raw = np.cumsum(junction)[pair]
    begins = np.r_[True, raw[1:] != raw[:-1]]
    ends = np.r_[raw[1:] != raw[:-1], True]
    seg = np.cumsum(begins) - 1
    pair_km = _haversine_km(lon[pair], lat[pair], lon[pair + 1], lat[pair + 1])
    w = way[pair]
    nseg = int(begins.sum())
    km = np.bincount(seg, pair_km, minlength=nseg)

    def seg_minutes(kmh: np.ndarray) -> np.ndarray:
        v = kmh[w]
        pair_min = np.where(v > 0, pair_km / np.where(v > 0, v, 1.0) * 60, np.inf)
        return np.bincount(seg, pair_min, minlength=nseg)

    seg_fwd = seg_minutes(fwd_kmh)
    seg_back = seg_minutes(back_kmh)
    seg_way = w[begins]
    tail_pos = pair[begins]
    head_pos = pair[ends] + 1
    # ferries: their duration (or length at the ferry speed) plus the wait, by km share
    is_ferry = ferry_way[seg_way]
    if is_ferry.any():
        way_km = np.bincount(seg_way[is_ferry], km[is_ferry], minlength=len(ferry_way))
        total = way_km[seg_way]
        share = np.where(total > 0, km / np.where(total > 0, total, 1.0), 1.0)
        fm = ferry_min[seg_way]
        crossing = np.where(np.isnan(fm), km / speeds.ferry_kmh * 60, fm * share)
        minutes = crossing + speeds.ferry_wait * share
        seg_fwd = np.where(is_ferry, minutes, seg_fwd)
        seg_back = np.where(is_ferry, minutes, seg_back)
    # graph nodes: the junctions, numbered
    nodes, node_of = np.unique(ref[junction], return_inverse=True)
    pos_node = np.full(len(ref), -1, dtype=np.int64)
    pos_node[junction] = node_of
    node_lon = np.zeros(len(nodes))
    node_lat = np.zeros(len(nodes))
    node_lon[node_of] = lon[junction]
    node_lat[node_of] = lat[junction]
    a, b = pos_node[tail_pos], pos_node[head_pos]
    tail = np.concatenate([a, b])
    head = np.concatenate([b, a])
    minutes = np.concatenate([seg_fwd, seg_back])
    dist = np.concatenate([km, km])
    ferry = np.concatenate([is_ferry, is_ferry])
    keep = np.isfinite(minutes) & (tail != head)
    tail, head, minutes, dist, ferry = (x[keep] for x in (tail, head, minutes, dist, ferry))
    minutes = np.maximum(minutes, 1e-9)  # a zero weight would not be an edge for scipy
    order = np.lexsort((minutes, head, tail))  # parallel edges: the fastest first
    tail, head, minutes, dist, ferry = (x[order] for x in (tail, head, minutes, dist, ferry))
    first_of = np.r_[True, (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])]
    tail, head, minutes, dist, ferry = (x[first_of] for x in (tail, head, minutes, dist, ferry))
    return RoadNetwork(source, node_lon, node_lat, tail, head, minutes, dist, ferry, speeds,
                       stats)


def _unit_vectors(lon, lat) -> np.ndarray:
    lam, phi = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


@dataclass(frozen=True)
class Snapped:
    """Each centre's network node and its distance to it (km)."""

    node: np.ndarray
    km: np.ndarray


def snap(network: RoadNetwork, lon: Sequence[float], lat: Sequence[float],
         labels: Sequence[str], radius_km: float) -> Snapped:
    """The nearest junction of the network's largest strongly connected part for each
    point; points farther than `radius_km` are refused, each named with its distance."""
    from scipy.spatial import cKDTree

    part = np.flatnonzero(network.main_part())
    if not len(part):
        raise InputError(f"{network.source}: the extract has no drivable road")
    tree = cKDTree(_unit_vectors(network.lon[part], network.lat[part]))
    chord, k = tree.query(_unit_vectors(lon, lat))
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))
    far = np.flatnonzero(km > radius_km)
    if len(far):
        shown = ", ".join(f"{labels[i]} {km[i]:.1f} km" for i in far[:8])
        more = f" and {len(far) - 8} more" if len(far) > 8 else ""
        raise InputError(
            f"{network.source} does not cover the instance: {len(far)} of {len(km)} centres "
            f"are farther than {radius_km:g} km from its drivable network (nearest road: "
            f"{shown}{more}); use an extract that covers them, or a larger --snap-km")
    return Snapped(part[k], km)


def route_matrix(network: RoadNetwork, nodes: np.ndarray,
                 progress: Callable[[int, int], None] | None = None,
                 batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(minutes, km) of the fastest route from every node in `nodes` to every other, km
    being the length of that same route; inf where no route exists.

    One Dijkstra per source (`scipy.sparse.csgraph.dijkstra`, `batch` sources a call so
    that its distance arrays stay `batch` × nodes); the route's km are added up along
    the predecessor tree back from the targets, all targets at once."""
    from scipy.sparse.csgraph import dijkstra

    graph = network.matrix("minutes")
    n_graph = network.n
    keys = network.tail * n_graph + network.head  # sorted: edges are ordered by (tail, head)
    k = len(nodes)
    minutes = np.full((k, k), np.inf)
    km = np.full((k, k), np.inf)
    for s in range(0, k, batch):
        rows = nodes[s:s + batch]
        dist, pred = dijkstra(graph, directed=True, indices=rows, return_predecessors=True)
        minutes[s:s + len(rows)] = dist[:, nodes]
        for r in range(len(rows)):
            km[s + r] = _route_km(pred[r], nodes, keys, network.km, n_graph)
            km[s + r, ~np.isfinite(minutes[s + r])] = np.inf
        if progress is not None:
            progress(min(s + batch, k), k)
    return minutes, km


def _route_km(pred: np.ndarray, targets: np.ndarray, keys: np.ndarray, edge_km: np.ndarray,
              n: int) -> np.ndarray:
    """km from the tree's root to each target, walking the predecessors back together."""
    acc = np.zeros(len(targets))
    cur = targets.copy()
    live = np.flatnonzero(pred[cur] >= 0)
    while len(live):
        c = cur[live]
        p = pred[c]
        acc[live] += edge_km[np.searchsorted(keys, p.astype(np.int64) * n + c)]
        cur[live] = p
        live = live[pred[p] >= 0]
    return acc


@dataclass(frozen=True, eq=False)
class ExtractMatrix:
    """Travel times between an instance's centres from an extract, with what a planner
    should know about them (header lines for the file, and the same for the terminal)."""

    minutes: np.ndarray
    km: np.ndarray
    snapped: Snapped
    network: RoadNetwork
    header: tuple[str, ...]

    @property
    def unreachable(self) -> int:
        """Ordered pairs of distinct centres without a route."""
        return int((~np.isfinite(self.minutes)).sum())


def extract_matrix(network: RoadNetwork, codes: Sequence[str], names: Sequence[str],
                   lon: Sequence[float], lat: Sequence[float], *, snap_km: float = 2.0,
                   progress: Callable[[int, int], None] | None = None) -> ExtractMatrix:
    """Snap the centres onto `network` and route every ordered pair (see `snap`,
    `route_matrix`); the header names the extract, the speeds and the snapping."""
    labels = [f"{nm} ({c})" for c, nm in zip(codes, names, strict=True)]
    snapped = snap(network, lon, lat, labels, snap_km)
    minutes, km = route_matrix(network, snapped.node, progress)
    far = int(np.argmax(snapped.km))
    stats = network.stats
    cut = (f"; left out, cut by the extract: {', '.join(stats.ferries_cut)}"
           if stats.ferries_cut else "")
    header = (
        f"source: road and ferry routes in OpenStreetMap extract {Path(network.source).name} "
        "(© OpenStreetMap contributors, ODbL 1.0), the fastest route by car",
        f"speeds: {network.speeds.describe()}",
        f"network: {network.n:,} junctions, {len(network.tail):,} one-way edges from "
        f"{stats.ways:,} roads and {stats.ferries:,} ferries{cut}",
        f"centres: {len(codes)} (instance lon/lat) snapped to the nearest junction: median "
        f"{1000 * float(np.median(snapped.km)):.0f} m, farthest {labels[far]} "
        f"{1000 * float(snapped.km[far]):.0f} m",
        "computed by: optimizer instances travel-times (osmium reads the extract, "
        "scipy.sparse.csgraph's Dijkstra routes)",
    )
    return ExtractMatrix(minutes, km, snapped, network, header)
