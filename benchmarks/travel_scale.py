"""Write a synthetic OpenStreetMap extract and an instance of N centres on it, to measure
`optimizer instances travel-times` at a size nearer a country's than Helsinki's.

The map is a square grid of roads (every `--every`-th line of a `--side`² lattice of
nodes about 100 m apart, so junctions lie `--every` nodes apart; ways of 15 nodes, speeds
from a fixed mix of classes) plus `--other` untagged nodes (the buildings and
everything else a real extract carries, which the reader must skip). The centres are
drawn at random inside the grid. Usage, from the repository root:

    python benchmarks/travel_scale.py --side 3000 --every 6 --other 6000000 --centres 292 \\
        --out /tmp/scale
    /usr/bin/time -v optimizer instances travel-times /tmp/scale/centres.json \\
        --osm /tmp/scale/grid.osm.pbf --out /tmp/scale/tt.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

STEP_DEG = 0.001  # about 111 m of latitude, 55 m of longitude at 60° N
CLASSES = [("primary", "80"), ("secondary", "60"), ("tertiary", None), ("residential", None)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--other", type=int, default=0)
    ap.add_argument("--centres", type=int, default=292)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    import osmium

    a.out.mkdir(parents=True, exist_ok=True)
    pbf = a.out / "grid.osm.pbf"
    pbf.unlink(missing_ok=True)
    rng = np.random.default_rng(a.seed)
    side, every = a.side, a.every
    lon0, lat0 = 24.0, 60.0
    on_road = np.zeros((side, side), dtype=bool)
    on_road[::every, :] = True
    on_road[:, ::every] = True
    ids = np.zeros((side, side), dtype=np.int64)
    ids[on_road] = np.arange(1, int(on_road.sum()) + 1)
    writer = osmium.SimpleWriter(str(pbf))
    try:
        for r, c in zip(*np.nonzero(on_road), strict=True):
            writer.add_node(osmium.osm.mutable.Node(
                id=int(ids[r, c]), location=(lon0 + c * STEP_DEG, lat0 + r * STEP_DEG / 2)))
        base = int(ids.max()) + 1
        for k in range(a.other):
            writer.add_node(osmium.osm.mutable.Node(
                id=base + k, location=(lon0 + rng.random() * side * STEP_DEG,
                                       lat0 + rng.random() * side * STEP_DEG / 2),
                tags={"building": "yes"} if k % 5 == 0 else {}))
        way = 1
        lines = [ids[r, :] for r in range(0, side, every)] + \
                [ids[:, c] for c in range(0, side, every)]
        for k, line in enumerate(lines):
            highway, maxspeed = CLASSES[k % len(CLASSES)]
            for s in range(0, len(line) - 1, 14):
                tags = {"highway": highway, **({"maxspeed": maxspeed} if maxspeed else {})}
                writer.add_way(osmium.osm.mutable.Way(
                    id=way, nodes=[int(x) for x in line[s:s + 15]], tags=tags))
                way += 1
    finally:
        writer.close()
    lon = lon0 + rng.random(a.centres) * (side - 1) * STEP_DEG
    lat = lat0 + rng.random(a.centres) * (side - 1) * STEP_DEG / 2
    nodes = [{"id": f"{k:03d}", "name": f"C{k}", "lon": float(x), "lat": float(y)}
             for k, (x, y) in enumerate(zip(lon, lat, strict=True))]
    (a.out / "centres.json").write_text(json.dumps(
        {"directed": False, "multigraph": False, "graph": {"name": "synthetic"},
         "nodes": nodes, "links": []}), encoding="utf-8")
    print(f"{pbf}: {int(on_road.sum()):,} road nodes, {way - 1:,} ways, {a.other:,} other "
          f"nodes, {pbf.stat().st_size / 1e6:.1f} MB; {a.centres} centres")


if __name__ == "__main__":
    main()
