"""Land or sea at a point, for the printed map's sea: the GLOBE land mask (1 km, NOAA
NGDC, public domain, as packaged by global-land-mask, MIT).

The whole globe takes about 3 s to load, longer than solving the demo; a cut of it
around Finland ships with the package (data/land_finland.npz, written by
instances/finland/make_land_mask.py) and answers every point inside it with the same
cells. Points elsewhere load the globe.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

CUT = Path(__file__).with_name("data") / "land_finland.npz"


@cache
def _cut() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(water, origin, step, first): the cut's cells (True = water) and where they lie in
    the globe's grid."""
    with np.load(CUT) as f:
        shape = tuple(int(v) for v in f["shape"])
        water = np.unpackbits(f["water"], axis=1, count=shape[1]).astype(bool)
        return water, f["origin"].copy(), f["step"].copy(), f["first"].copy()


def is_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray | None:
    """Whether each point (degrees) is on land (lakes count as land); None when neither the
    cut nor the global-land-mask package can answer."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    water, origin, step, first = _cut()
    rows = ((lat - origin[0]) / step[0]).astype(int) - first[0]
    cols = ((lon - origin[1]) / step[1]).astype(int) - first[1]
    if rows.size and rows.min() >= 0 and cols.min() >= 0 \
            and rows.max() < water.shape[0] and cols.max() < water.shape[1]:
        return ~water[rows, cols]
    try:
        from global_land_mask import globe
    except ImportError:
        return None
    return globe.is_land(lat, lon)
