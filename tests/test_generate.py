"""Seeded random planar instances (`optimizer instances random`)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.sparse.csgraph import connected_components

from optimizer.cli import cli
from optimizer.data.generate import LAT_RANGE, LON_RANGE, random_planar
from optimizer.data.load import load_instance
from optimizer.data.nodelink import instance_json
from optimizer.errors import InputError
from optimizer.model.binding import bind
from optimizer.model.parse import load_model


@pytest.mark.parametrize("n", [3, 10, 250])
def test_random_planar_instance_is_planar_connected_and_plausible(n):
    inst = random_planar(n, seed=7)
    assert inst.n == n and len(set(inst.codes)) == n
    # a triangulation: connected, and at most 3n − 6 edges (Euler) for n ≥ 3
    assert connected_components(inst.adjacency, directed=False)[0] == 1
    assert n - 1 <= len(inst.edges) <= max(3 * n - 6, n - 1)
    a = inst.attributes
    assert np.all(a["population"] > 0)
    assert np.all((a["labour_force"] > 0) & (a["labour_force"] < a["population"]))
    assert np.all((a["jobseekers"] >= 0) & (a["jobseekers"] < a["labour_force"]))
    assert np.all((a["lon"] >= LON_RANGE[0]) & (a["lon"] <= LON_RANGE[1]))
    assert np.all((a["lat"] >= LAT_RANGE[0]) & (a["lat"] <= LAT_RANGE[1]))


def test_random_planar_instance_depends_only_on_n_and_seed():
    assert instance_json(random_planar(40, 3)) == instance_json(random_planar(40, 3))
    assert instance_json(random_planar(40, 3)) != instance_json(random_planar(40, 4))


@pytest.mark.parametrize(("n", "seed"), [(2, 0), (10, -1), (True, 0), (10, 1.5)])
def test_random_planar_refuses_bad_sizes_and_seeds(n, seed):
    with pytest.raises(InputError, match="random instance"):
        random_planar(n, seed)


def test_instances_random_writes_an_instance_and_a_model_that_bind(tmp_path):
    inst_file = tmp_path / "r.json"
    model_file = tmp_path / "models" / "r.toml"
    model_file.parent.mkdir()
    r = CliRunner().invoke(cli, ["instances", "random", "--n", "50", "--seed", "5",
                                 "--out", str(inst_file), "--model", str(model_file)])
    assert r.exit_code == 0, r.output
    assert inst_file.read_text(encoding="utf-8") == instance_json(random_planar(50, 5))
    problem = bind(load_model(model_file))
    assert problem.n == 50 and (problem.k_min, problem.k_max) == (7, 7)
    assert load_instance(inst_file).metadata["seed"] == 5
    assert [p.name for p in tmp_path.iterdir()] == ["models", "r.json"]  # nothing staged


def test_instances_random_into_a_missing_folder_is_one_line(tmp_path):
    r = CliRunner().invoke(cli, ["instances", "random", "--n", "5",
                                 "--out", str(tmp_path / "no" / "r.json")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.stderr.splitlines() == [f"error: cannot write {tmp_path / 'no' / 'r.json'}: "
                                     f"folder {tmp_path / 'no'} does not exist"]
