"""Instance validation, immutability, node-link round trip, distances and variants."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import grid_instance, line_instance

from optimizer.data.instance import Instance, great_circle_km
from optimizer.data.load import load_instance
from optimizer.data.nodelink import write_instance
from optimizer.errors import InstanceError

HELSINKI = (24.9384, 60.1699)
OULU = (25.4651, 65.0121)


def geo_instance(**overrides) -> Instance:
    """Three municipalities with coordinates (no matrix), a path a - b - c."""
    kw = dict(
        name="geo",
        codes=("091", "564", "009"),
        names=("Helsinki", "Oulu", "Alavieska"),
        attributes={"lon": [HELSINKI[0], OULU[0], 24.3], "lat": [HELSINKI[1], OULU[1], 64.2],
                    "pop": [650_000, 210_000, 2_500.5]},
        edges=np.array([(0, 1), (1, 2)]),
    )
    kw.update(overrides)
    return Instance(**kw)


# -- validation ------------------------------------------------------------------


def test_valid_instance_is_accepted():
    inst = geo_instance()
    assert inst.n == 3
    assert inst.edges.tolist() == [[0, 1], [1, 2]]


@pytest.mark.parametrize(
    ("overrides", "needles"),
    [
        ({"codes": ("091", "564", "091")}, ("duplicate node ids", "'091'")),
        ({"edges": np.array([(0, 1), (1, 3)])}, ("unknown node",)),
        ({"edges": np.array([(0, 1), (-1, 2)])}, ("unknown node",)),
        ({"edges": np.array([(0, 1), (2, 2)])}, ("self-loop", "Alavieska")),
        ({"attributes": {"lon": [1, 2, 3], "lat": [1, 2, 3], "pop": [1, 2]}},
         ("'pop'", "wrong length")),
        ({"attributes": {"lon": [1, 2, 3], "lat": [1, 2, 3], "pop": [1, np.nan, 3]}},
         ("'pop'", "missing for Oulu")),
        ({"attributes": {"lon": [1, 2, 3], "lat": [1, 2, 3], "pop": [1, 2, np.inf]}},
         ("'pop'", "missing for Alavieska")),
        ({"attributes": {"pop": [1, 2, 3]}}, ("'lon' and 'lat'",)),
        ({"attributes": {"lon": [1, 2, 3], "pop": [1, 2, 3]}}, ("'lon' and 'lat'",)),
        ({"attributes": {"pop": [1, 2, 3]}, "matrix": np.zeros((3, 2))}, ("3x3",)),
        ({"attributes": {"pop": [1, 2, 3]}, "matrix": np.zeros((2, 2))}, ("3x3",)),
        ({"attributes": {"pop": [1, 2, 3]}, "matrix": -np.ones((3, 3))}, ("3x3", ">= 0")),
        ({"attributes": {"pop": [1, 2, 3]}, "matrix": np.full((3, 3), np.nan)}, ("finite",)),
        ({"codes": (), "names": (), "attributes": {}, "edges": np.zeros((0, 2))},
         ("no municipalities",)),
        ({"names": ("Helsinki", "Oulu")}, ("2 names for 3 nodes",)),
    ],
    ids=["duplicate", "edge-high", "edge-negative", "self-loop", "length", "nan", "inf",
         "no-lonlat", "lon-only", "matrix-not-square", "matrix-too-small", "matrix-negative",
         "matrix-nan", "empty", "names"],
)
def test_invalid_instance_is_refused(overrides, needles):
    with pytest.raises(InstanceError) as info:
        geo_instance(**overrides)
    message = str(info.value)
    assert "'geo'" in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_matrix_replaces_coordinates():
    inst = geo_instance(attributes={"pop": [1, 2, 3]}, matrix=np.arange(9.0).reshape(3, 3))
    assert inst.distance[1, 2] == 5.0


# -- immutability ------------------------------------------------------------------


def test_arrays_are_read_only():
    inst = grid_instance(2, 2, {"lf": [1, 2, 3, 4]})
    with pytest.raises(ValueError):
        inst.attributes["lf"][0] = 99
    with pytest.raises(ValueError):
        inst.edges[0, 0] = 3
    with pytest.raises(ValueError):
        inst.distance[0, 1] = 0
    with pytest.raises(ValueError):
        geo_instance().distance[0, 1] = 0
    assert inst.attributes["lf"][0] == 1


def test_instance_does_not_alias_its_inputs():
    lf = np.array([1.0, 2.0, 3.0, 4.0])
    matrix = np.ones((4, 4)) - np.eye(4)
    inst = Instance(name="alias", codes=("a", "b", "c", "d"), names=("A", "B", "C", "D"),
                    attributes={"lf": lf}, edges=np.array([(0, 1)]), matrix=matrix)
    lf[0] = 100
    matrix[0, 1] = 100
    assert inst.attributes["lf"][0] == 1
    assert inst.distance[0, 1] == 1
    assert lf.flags.writeable  # the caller's array is left writable


# -- node-link JSON round trip ---------------------------------------------------------


def assert_same(a: Instance, b: Instance) -> None:
    assert b.codes == a.codes
    assert b.names == a.names
    assert set(b.attributes) == set(a.attributes)
    for key in a.attributes:
        np.testing.assert_array_equal(b.attributes[key], a.attributes[key])
    np.testing.assert_array_equal(b.edges, a.edges)


def test_round_trip_with_coordinates(tmp_path):
    inst = geo_instance(metadata={"region": 17, "note": "ä"})
    path = tmp_path / "geo.json"
    write_instance(inst, path)
    back = load_instance(path)
    assert_same(inst, back)
    assert back.name == "geo"
    assert back.matrix is None
    assert dict(back.metadata) == {"region": 17, "note": "ä"}
    np.testing.assert_allclose(back.distance, inst.distance)
    # writing again gives the same text
    write_instance(back, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text("utf-8") == path.read_text("utf-8")


def test_round_trip_with_matrix(tmp_path):
    inst = line_instance([0, 1.5, 4, 10], {"lf": [4, 1, 0.25, 1e6]}, name="lined")
    path = tmp_path / "other-stem.json"
    write_instance(inst, path)
    back = load_instance(path)
    assert_same(inst, back)
    assert back.name == "lined"
    np.testing.assert_array_equal(back.matrix, inst.matrix)
    assert back.geometry_path is None


def test_round_trip_keeps_unordered_edges_and_isolated_nodes(tmp_path):
    inst = Instance(name="iso", codes=("30", "10", "20", "40"), names=("w", "x", "y", "z"),
                    attributes={"lon": [25, 26, 27, 28], "lat": [60, 61, 62, 63]},
                    edges=np.array([(2, 0), (1, 2), (0, 2)]))
    assert inst.edges.tolist() == [[0, 2], [1, 2]]  # normalised: i < j, sorted, unique
    write_instance(inst, tmp_path / "iso.json")
    assert_same(inst, load_instance(tmp_path / "iso.json"))


# -- distances ---------------------------------------------------------------------


def test_great_circle_helsinki_oulu():
    d = great_circle_km(np.array([HELSINKI[0], OULU[0]]), np.array([HELSINKI[1], OULU[1]]))
    assert d[0, 1] == pytest.approx(539, abs=3)


def test_great_circle_is_symmetric_with_zero_diagonal():
    rng = np.random.default_rng(7)
    lon = rng.uniform(19, 32, 25)
    lat = rng.uniform(59, 71, 25)
    d = great_circle_km(lon, lat)
    assert d.shape == (25, 25)
    np.testing.assert_allclose(d, d.T, atol=1e-9)
    np.testing.assert_array_equal(np.diag(d), 0.0)
    assert (d[~np.eye(25, dtype=bool)] > 0).all()
    # one degree of latitude along a meridian is about 111.2 km
    assert great_circle_km([25, 25], [60, 61])[0, 1] == pytest.approx(111.19, abs=0.05)


def test_instance_distance_uses_great_circle_without_matrix():
    inst = geo_instance()
    expected = great_circle_km(inst.attributes["lon"], inst.attributes["lat"])
    np.testing.assert_allclose(inst.distance, expected)
    assert inst.distance[0, 1] == pytest.approx(539, abs=3)


# -- variants ---------------------------------------------------------------------------


def test_subset_gives_the_induced_sub_instance():
    # 3×3 grid n0..n8; keep n4, n0, n1, n8 in that order.
    inst = grid_instance(3, 3, {"lf": np.arange(9) * 10})
    sub = inst.subset([4, 0, 1, 8], "corner")
    assert sub.name == "corner"
    assert sub.codes == ("4", "0", "1", "8")
    assert sub.names == ("n4", "n0", "n1", "n8")
    np.testing.assert_array_equal(sub.attributes["lf"], [40, 0, 10, 80])
    # grid edges among {0, 1, 4, 8}: 0-1 and 1-4 → new positions (1, 2) and (2, 0)
    assert sub.edges.tolist() == [[0, 2], [1, 2]]
    np.testing.assert_array_equal(sub.distance, inst.distance[np.ix_([4, 0, 1, 8], [4, 0, 1, 8])])
    assert inst.n == 9 and len(inst.edges) == 12  # the original is unchanged


def test_subset_of_coordinates_instance_recomputes_distance():
    inst = geo_instance()
    sub = inst.subset([2, 0], "two")
    assert sub.edges.shape == (0, 2)
    assert sub.distance[0, 1] == pytest.approx(inst.distance[2, 0])


def test_with_links_adds_edges():
    inst = line_instance(range(4), {"lf": [1] * 4})
    linked = inst.with_links([(3, 0), (0, 1)])
    assert linked.edges.tolist() == [[0, 1], [0, 3], [1, 2], [2, 3]]
    assert 3 in linked.neighbours(0).tolist() and 0 in linked.neighbours(3).tolist()
    assert inst.edges.tolist() == [[0, 1], [1, 2], [2, 3]]  # the original is unchanged
    assert inst.with_links([]) is inst
    with pytest.raises(InstanceError, match="self-loop"):
        inst.with_links([(2, 2)])
    with pytest.raises(InstanceError, match="unknown node"):
        inst.with_links([(0, 4)])


def test_resolve_by_code_and_name():
    inst = geo_instance()
    assert inst.resolve("564") == 1
    assert inst.resolve("Oulu") == 1
    assert inst.resolve("009") == 2
    with pytest.raises(InstanceError, match=r"municipality 'Espoo' is not in instance 'geo'"):
        inst.resolve("Espoo")
    with pytest.raises(InstanceError, match=r"lead '9' is not in instance"):
        inst.resolve("9", what="lead")


def test_resolve_prefers_code_and_refuses_ambiguous_names():
    inst = Instance(name="amb", codes=("1", "2", "3"), names=("2", "Twin", "Twin"),
                    attributes={"lon": [25, 26, 27], "lat": [60, 61, 62]},
                    edges=np.zeros((0, 2)))
    assert inst.resolve("2") == 1  # code "2" wins over the name "2" of node 0
    with pytest.raises(InstanceError, match="'Twin'"):
        inst.resolve("Twin")


def test_text_attributes_survive_the_exchange_format_and_subsets():
    import json

    from optimizer.data.nodelink import from_node_link, instance_json

    inst = Instance(name="t", codes=("1", "2", "3"), names=("a", "b", "c"),
                    attributes={"subregion": [7, 7, 8], "lon": [0, 1, 2], "lat": [0, 0, 0]},
                    edges=np.array([(0, 1), (1, 2)]),
                    text_attributes={"subregion_name": ("Seven", "Seven", "Eight")})
    back = from_node_link(json.loads(instance_json(inst)))
    assert back.text_attributes == {"subregion_name": ("Seven", "Seven", "Eight")}
    assert back.subset([2, 0], "s").text_attributes == {"subregion_name": ("Eight", "Seven")}
    with pytest.raises(InstanceError, match="text attribute 'x' has wrong length"):
        Instance(name="t", codes=("1",), names=("a",), attributes={"lon": [0], "lat": [0]},
                 edges=np.zeros((0, 2)), text_attributes={"x": ("p", "q")})
