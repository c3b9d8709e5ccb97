"""Seeded random planar instances: any size on demand, for scale tests and benchmarks.

Municipalities are random points in a box of Finland's size (longitude 21–31°,
latitude 60–70°); neighbours are the edges of their Delaunay triangulation
(planar and connected, like real border graphs); attributes follow skewed
distributions like the Finnish ones (a few big towns, many small ones):
population log-normal, labour force about half of it, jobseekers about a
tenth of the labour force. The same `n` and `seed` give the same instance,
byte for byte, on every machine.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import Delaunay

from ..errors import InputError
from ..values import MAX_MUNICIPALITIES
from .instance import Instance

LON_RANGE = (21.0, 31.0)
LAT_RANGE = (60.0, 70.0)
MEDIAN_POPULATION = 5000.0
POPULATION_SIGMA = 1.1
"""Log-normal shape: the biggest of 300 municipalities is about 20 times the median."""


def random_planar(n: int, seed: int, *, name: str | None = None) -> Instance:
    """A random planar instance with `n` municipalities (n ≥ 3), reproducible from `seed`."""
    if isinstance(n, bool) or not isinstance(n, int) or not 3 <= n <= MAX_MUNICIPALITIES:
        raise InputError(f"random instance: n must be 3 to {MAX_MUNICIPALITIES:,} "
                         f"municipalities, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"random instance: the seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(*LON_RANGE, n), 6)
    lat = np.round(rng.uniform(*LAT_RANGE, n), 6)
    # Equal-area-ish plane for the triangulation: longitude shrinks with latitude.
    xy = np.column_stack([lon * np.cos(np.radians(lat.mean())), lat])
    tri = Delaunay(xy)
    s = tri.simplices
    edges = np.unique(np.sort(np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]), axis=1),
                      axis=0)
    population = np.round(rng.lognormal(np.log(MEDIAN_POPULATION), POPULATION_SIGMA, n)) + 100
    labour_force = np.round(population * rng.uniform(0.42, 0.52, n))
    jobseekers = np.round(labour_force * rng.uniform(0.05, 0.15, n), 2)
    width = len(str(n))
    codes = tuple(f"{i:0{width}d}" for i in range(1, n + 1))
    return Instance(
        name=name or f"random-{n}-{seed}",
        codes=codes,
        names=tuple(f"R{c}" for c in codes),
        attributes={"population": population, "labour_force": labour_force,
                    "jobseekers": jobseekers, "lon": lon, "lat": lat},
        edges=edges,
        metadata={"generator": "optimizer.generate.random_planar", "n": n, "seed": seed},
    )


def random_model(instance_file: str, n: int, *, areas: int | None = None,
                 floor: float = 20000.0) -> str:
    """A planning model (TOML text) for a random instance, shaped like the mainland's:
    `areas` areas (default n // 7, the mainland's ratio of municipalities to areas), each
    with a labour force of at least `floor`, jobseeker-weighted travel and a fixed cost
    per area."""
    k = areas if areas is not None else max(1, n // 7)
    return (f'name = "random-{n}"\n'
            f'description = "seeded random planar instance, {k} areas"\n\n'
            f"[instance]\npath = {instance_file!r}\n\n"
            f"[areas]\ncount = {k}\n\n"
            f"[floors]\nlabour_force = {floor:g}\n\n"
            '[objective]\ntravel_weight = "jobseekers"\ncost_per_weighted_km = 4.72\n'
            "fixed_cost_per_area = 50000\n")
