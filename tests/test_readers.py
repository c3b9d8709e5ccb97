"""Foreign instance formats, distance choices and the balance rule.

The literature instances in `instances/literature/` (see its README): US county
dual graphs of Validi, Buchanan & Lykhovyd (2022) and OR-Library p-median files.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, line_instance, model_for

from optimizer.data.load import load_instance
from optimizer.data.nodelink import write_instance
from optimizer.data.orlib import parse_orlib_pmed, parse_orlib_pmedcap
from optimizer.errors import InstanceError, ModelError
from optimizer.model.binding import bind
from optimizer.model.parse import load_model, parse_model
from optimizer.model.schema import Balance

LIT = ROOT / "instances" / "literature"
MODELS = ROOT / "benchmarks" / "models"
COUNTY = {"NH": "33", "KS": "20", "ME": "23", "MS": "28"}
COUNTY_KEYS = {"name_attribute": "NAME10", "lon_attribute": "C_X", "lat_attribute": "C_Y"}


def county(state: str, **kw):
    return load_instance(LIT / f"county{COUNTY[state]}.json", **{**COUNTY_KEYS, **kw})


def published_hess() -> dict[str, list[str]]:
    """The `hess` rows of the published results, by state."""
    with open(LIT / "districting_counties.csv", encoding="utf-8") as fh:
        return {r[0]: r for r in csv.reader(fh, skipinitialspace=True) if r[1] == "hess"}


# -- OR-Library p-median ---------------------------------------------------------


def test_pmed1_reads_as_published():
    inst = load_instance(LIT / "pmed1.txt", format="orlib-pmed")
    assert inst.n == 100
    assert inst.metadata["p"] == 5
    assert inst.metric == "matrix"
    assert len(inst.edges) == 198  # 200 lines, two edges listed twice
    d = inst.distance
    assert np.array_equal(d, d.T) and np.all(np.diag(d) == 0)
    assert np.all(d[~np.eye(100, dtype=bool)] > 0)
    np.testing.assert_array_equal(inst.attribute("weight"), np.ones(100))
    assert inst.codes[0] == "1" and inst.codes[-1] == "100"


def test_pmed_last_listed_cost_counts(tmp_path):
    path = tmp_path / "tiny.txt"
    # 1-2 listed three times (2, then 7, then reversed as 2-1 with 9): the last cost counts,
    # not the minimum; 2-3 once.
    path.write_text(" 3 4 1\n 1 2 2 \n 2 3 1\n 1 2 7\n 2 1 9\n", encoding="ascii")
    inst = load_instance(path, format="orlib-pmed")
    assert inst.distance[0, 1] == 9
    assert inst.distance[0, 2] == 10  # shortest path 1-2-3
    assert inst.distance[1, 2] == 1
    assert inst.edges.tolist() == [[0, 1], [1, 2]]  # graph edges are kept, once each


def test_pmed_shortest_path_beats_a_costly_direct_edge():
    inst = parse_orlib_pmed("3 3 1\n1 2 10\n2 3 1\n1 3 2\n")
    assert inst.distance[0, 1] == 3


@pytest.mark.parametrize(
    "text, needle",
    [("3 2 1\n1 2 5\n", "header says 2 edges"),
     ("3 2 1\n1 2 5\n", "lists 1"),
     ("3 1 1\n1 4 5\n", "outside 1..3"),
     ("3 1 1\n1 1 5\n", "self-loop"),
     ("3 1 1\n1 2 5\n", "not connected"),
     ("3 1 4\n1 2 5\n", "1 <= p <= n"),
     ("3 1 1\n1 2 x\n", "expected numbers")],
)
def test_pmed_defects(text, needle):
    with pytest.raises(InstanceError, match=needle):
        parse_orlib_pmed(text, source="bad.txt")


def test_pmedcap_distances_are_truncated():
    inst = load_instance(LIT / "pmedcap1_1.txt", format="orlib-pmedcap")
    assert inst.n == 50
    assert inst.metadata == {"format": "orlib-pmedcap", "problem": 1, "best_known": 713.0,
                             "p": 5, "capacity": 120.0}
    # customers 1 (2, 62) and 2 (80, 25): sqrt(78² + 37²) = 86.33 -> 86
    assert inst.distance[0, 1] == 86
    x, y = inst.attribute("x"), inst.attribute("y")
    exact = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.testing.assert_array_equal(inst.distance, np.floor(exact))
    assert np.any(inst.distance != exact)
    assert inst.attribute("demand").sum() == 490
    assert len(inst.edges) == 0


def test_pmedcap_handmade_and_headers():
    text = "1 7\n3 2 10\n1 0 0 4\n2 3 4 5\n3 1 1 6\n"
    inst = parse_orlib_pmedcap(text)
    assert inst.distance[0, 1] == 5  # exact 3-4-5
    assert inst.distance[0, 2] == 1  # sqrt 2 -> 1
    assert inst.distance[1, 2] == 3  # sqrt 13 = 3.61 -> 3
    np.testing.assert_array_equal(inst.attribute("demand"), [4, 5, 6])
    # without the problem line, and with a problem count of 1
    assert parse_orlib_pmedcap("3 2 10\n1 0 0 4\n2 3 4 5\n3 1 1 6\n").metadata["p"] == 2
    assert parse_orlib_pmedcap("1\n" + text).metadata["best_known"] == 7
    with pytest.raises(InstanceError, match="holds 20 problems"):
        parse_orlib_pmedcap("20\n" + text)
    with pytest.raises(InstanceError, match="listed twice"):
        parse_orlib_pmedcap("3 2 10\n1 0 0 4\n1 3 4 5\n3 1 1 6\n")
    with pytest.raises(InstanceError, match="header says 3 customers"):
        parse_orlib_pmedcap("3 2 10\n1 0 0 4\n2 3 4 5\n")


def test_orlib_formats_refuse_coordinate_options(tmp_path):
    with pytest.raises(InstanceError, match="'great_circle'"):
        load_instance(LIT / "pmed1.txt", format="orlib-pmed", distance="great_circle")
    with pytest.raises(InstanceError, match="name_attribute"):
        load_instance(LIT / "pmed1.txt", format="orlib-pmed", name_attribute="NAME10")
    with pytest.raises(InstanceError, match="unknown instance format 'csv'"):
        load_instance(LIT / "pmed1.txt", format="csv")
    with pytest.raises(InstanceError, match="not found"):
        load_instance(tmp_path / "nope.txt", format="orlib-pmedcap")


# -- county dual graphs (networkx adjacency JSON) ------------------------------------


@pytest.mark.parametrize("state, nodes, edges", [("NH", 10, 19), ("KS", 105, 263), ("ME", 16, 34)])
def test_county_graph_counts_match_the_paper(state, nodes, edges):
    inst = county(state)
    assert (inst.n, len(inst.edges)) == (nodes, edges)
    assert inst.codes == tuple(str(i) for i in range(nodes))  # node ids are the codes
    assert int(published_hess()[state][2]) == nodes


def test_county_names_coordinates_and_population():
    inst = county("NH")
    assert inst.names[0] == "Hillsborough"
    assert inst.resolve("Hillsborough") == 0
    np.testing.assert_array_equal(inst.attribute("lon"), inst.attribute("C_X"))
    np.testing.assert_array_equal(inst.attribute("lat"), inst.attribute("C_Y"))
    assert inst.attribute("TOTPOP").sum() == 1_316_470  # New Hampshire, Census 2010
    # an attribute only some nodes carry is left out, and says so when asked for
    with pytest.raises(InstanceError, match="'boundary_perim' is missing for"):
        inst.attribute("boundary_perim")


def test_coordinates_from_numeric_strings():
    inst = load_instance(LIT / "county28.json", name_attribute="NAME10",
                         lon_attribute="INTPTLON10", lat_attribute="INTPTLAT10")
    assert inst.n == 82 and len(inst.edges) == 202
    assert -92 < inst.attribute("lon").min() < inst.attribute("lon").max() < -88


def test_county_without_mapping_has_no_coordinates():
    with pytest.raises(InstanceError, match="'lon' and 'lat'"):
        load_instance(LIT / "county33.json")
    with pytest.raises(InstanceError, match="coordinate attribute 'X'"):
        county("NH", lon_attribute="X")
    with pytest.raises(InstanceError, match="name attribute 'LABEL'"):
        county("NH", name_attribute="LABEL")


def test_geodesic_and_great_circle_differ_by_less_than_half_a_percent():
    for state in ("NH", "KS"):
        gc = county(state)
        geo = county(state, distance="geodesic")
        assert gc.metric == "great_circle" and geo.metric == "geodesic"
        off = ~np.eye(gc.n, dtype=bool)
        rel = np.abs(geo.distance[off] / gc.distance[off] - 1)
        assert rel.max() < 0.005
        assert rel.max() > 1e-4  # they really are different measures


def test_metric_survives_a_round_trip(tmp_path):
    geo = county("NH", distance="geodesic")
    write_instance(geo, tmp_path / "nh.json")
    back = load_instance(tmp_path / "nh.json")
    assert back.metric == "geodesic"
    np.testing.assert_allclose(back.distance, geo.distance)
    assert load_instance(tmp_path / "nh.json", distance="great_circle").metric == "great_circle"


def test_matrix_metric_needs_a_matrix():
    with pytest.raises(InstanceError, match="needs a distance matrix"):
        county("NH", distance="matrix")
    inst = line_instance([0, 1, 3], {"pop": [1, 1, 1]})
    assert inst.metric == "matrix"
    with pytest.raises(InstanceError, match="unknown distance 'manhattan'"):
        replace(inst, metric="manhattan")


# -- balance -------------------------------------------------------------------------


def test_balance_limits_arithmetic():
    # P = 1000, k = 3: P/k = 333.33; ±1 % -> [330.0, 336.67] -> L = 330, U = 336
    assert Balance("pop", 0.01).limits(1000, 3) == (330.0, 336.0)
    # P = 101, k = 2, ±0.5 %: [50.2475, 50.7525] -> L = 51 > U = 50: no whole value
    assert Balance("pop", 0.005).limits(101, 2) == (51.0, 50.0)
    assert Balance("pop", 0.0).limits(100, 4) == (25.0, 25.0)


def test_balance_binds_as_a_floor_and_a_cap():
    inst = line_instance([0, 1, 2, 3], {"pop": [300, 200, 260, 240]})
    model = replace(model_for(2), balance=Balance("pop", 0.05))
    problem = bind(model, inst)
    (floor,), (cap,) = problem.floors, problem.caps
    assert (floor.attribute, floor.limit) == ("pop", 475.0)  # ceil(0.95 * 500)
    assert (cap.attribute, cap.limit) == ("pop", 525.0)  # floor(1.05 * 500)
    assert "balance" in floor.label and "balance" in cap.label


def test_balance_needs_a_fixed_area_count():
    inst = line_instance([0, 1, 2, 3], {"pop": [300, 200, 260, 240]})
    with pytest.raises(ModelError, match=r"'balance'.*'areas\.count'"):
        bind(replace(model_for((2, 3)), balance=Balance("pop", 0.05)), inst)
    with pytest.raises(ModelError, match=r"'balance\.attribute'"):
        bind(replace(model_for(2), balance=Balance("people", 0.05)), inst)
    with pytest.raises(ModelError, match=r"'balance\.tolerance'.*no whole value"):
        bind(replace(model_for(3), balance=Balance("pop", 0.0)), inst)


def test_balance_matches_the_published_bounds():
    """L and U of every state's model equal the paper's, except WV's U (their float32)."""
    hess = published_hess()
    for path in sorted((MODELS / "us").glob("*.toml")):
        problem = bind(load_model(path))
        row = hess[path.stem]
        k, lo, hi = int(row[3]), float(row[4]), float(row[5])
        assert problem.k_min == problem.k_max == k
        (floor,), (cap,) = problem.floors, problem.caps
        assert floor.limit == lo, path.stem
        # their calculate_UL computes in single precision: WV's 1.005·P/k = 620752.99 became
        # 620753 there; the rule U = floor(1.005·P/k) gives 620752
        assert cap.limit == (hi - 1 if path.stem == "WV" else hi), path.stem


# -- model-file keys -------------------------------------------------------------------


def parse(text: str, tmp_path: Path):
    import tomllib

    return parse_model(tomllib.loads(text), base=tmp_path, source="m.toml")


BASE = '[instance]\npath = "x.json"\n{instance}\n[areas]\ncount = {count}\n{rest}'


@pytest.mark.parametrize(
    "instance, count, rest, needle",
    [('format = "csv"', 2, "", "'instance.format'"),
     ('distance = "manhattan"', 2, "", "'instance.distance'"),
     ('format = "orlib-pmed"\nname_attribute = "NAME10"', 2, "", "'instance.name_attribute'"),
     ('format = "orlib-pmedcap"\nlat_attribute = "y"', 2, "", "'instance.lat_attribute'"),
     ('format = "orlib-pmed"\ndistance = "geodesic"', 2, "", "'instance.distance'"),
     ("format = 3", 2, "", "'instance.format'"),
     ('lon = "C_X"', 2, "", "unknown key 'instance.lon'"),
     ("", 2, '[balance]\nattribute = "TOTPOP"', "missing key 'balance.tolerance'"),
     ("", 2, "[balance]\ntolerance = 0.01", "missing key 'balance.attribute'"),
     ("", 2, '[balance]\nattribute = "TOTPOP"\ntolerance = 1.5', "'balance.tolerance'"),
     ("", 2, '[balance]\nattribute = "TOTPOP"\ntolerance = true', "'balance.tolerance'"),
     ("", 2, '[balance]\nattribute = "TOTPOP"\ntolerance = 0.1\ncap = 3', "'balance.cap'")],
)
def test_bad_instance_and_balance_keys(tmp_path, instance, count, rest, needle):
    with pytest.raises(ModelError) as info:
        parse(BASE.format(instance=instance, count=count, rest=rest), tmp_path)
    assert needle in str(info.value) and "m.toml" in str(info.value)


def test_instance_keys_reach_load_instance(tmp_path):
    text = BASE.format(instance='format = "orlib-pmed"\ndistance = "matrix"', count=5,
                       rest='[objective]\ntravel_weight = "weight"')
    model = parse(text.replace('"x.json"', f'"{LIT / "pmed1.txt"}"'), tmp_path)
    assert model.instance_options.format == "orlib-pmed"
    assert bind(model).instance.n == 100


@pytest.mark.parametrize(
    "path", sorted(p for sub in ("us", "us-hess", "orlib") for p in (MODELS / sub).glob("*.toml")),
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_benchmark_models_bind(path):
    problem = bind(load_model(path))
    if path.parent.name == "orlib":
        assert problem.k_min == problem.instance.metadata["p"]
        assert not problem.contiguity
        if "capacity" in problem.instance.metadata:
            (cap,) = problem.caps
            assert (cap.attribute, cap.limit) == ("demand", problem.instance.metadata["capacity"])
    else:
        assert problem.contiguity == (path.parent.name == "us")
        assert problem.instance.metric == "geodesic"


# -- known optima with HiGHS -----------------------------------------------------------


@pytest.mark.parametrize("name, optimum", [("pmed1", 5819), ("pmedcap1_1", 713)])
def test_orlib_optimum_with_highs(name, optimum):
    from optimizer.backends import installed_backends
    from optimizer.solve import solve

    if "highs" not in installed_backends():
        pytest.skip("HiGHS is not installed")
    problem = bind(load_model(MODELS / "orlib" / f"{name}.toml"))
    start = time.perf_counter()
    sol = solve(problem, backend="highs")
    elapsed = time.perf_counter() - start
    assert str(sol.status) == "optimal"
    assert math.isclose(sol.objective, optimum, abs_tol=1e-6), (sol.objective, elapsed)
