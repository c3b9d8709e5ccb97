"""Write optimizer/output/data/land_finland.npz: the GLOBE land mask (1 km; NOAA NGDC,
public domain, as packaged by global-land-mask, MIT) cut to Finland and its
neighbourhood, so that a printed map of a Finnish instance paints its sea without
loading the whole globe (about 3 s). Run once; the output is committed.

    python instances/finland/make_land_mask.py
"""

from pathlib import Path

import numpy as np
from global_land_mask import globe

BOX = {"lat": (57.0, 72.0), "lon": (10.0, 38.0)}
"""Every map of a Finnish instance, with its margins, lies inside (degrees)."""
OUT = Path(__file__).resolve().parents[2] / "optimizer" / "output" / "data" / "land_finland.npz"


def main() -> None:
    lat0, lon0 = float(globe._lat[0]), float(globe._lon[0])
    dlat, dlon = float(globe._lat[1] - globe._lat[0]), float(globe._lon[1] - globe._lon[0])
    rows = sorted(int((v - lat0) / dlat) for v in BOX["lat"])
    cols = sorted(int((v - lon0) / dlon) for v in BOX["lon"])
    water = globe._mask[rows[0]: rows[1] + 1, cols[0]: cols[1] + 1]
    np.savez_compressed(OUT, water=np.packbits(water, axis=1), shape=np.array(water.shape),
                        origin=np.array([lat0, lon0]), step=np.array([dlat, dlon]),
                        first=np.array([rows[0], cols[0]]))
    print(f"{OUT}: {water.shape[0]} × {water.shape[1]} cells, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
