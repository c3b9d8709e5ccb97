"""Write a plan's files atomically: assignment.csv, summary.json, areas.geojson, map.png."""

from __future__ import annotations

import json
from pathlib import Path

from .figures import PlanFigures
from .files import staged_directory
from .maps import dissolved, write_geojson, write_map
from .plan import Plan


def write_outputs(out: Path, plan: Plan | None, figs: PlanFigures | None, summary: dict,
                  title: str) -> list[Path]:
    """Write every output into `out` at once; nothing is left half-written on failure."""
    written = []
    with staged_directory(Path(out)) as stage:
        if plan is not None:
            (stage / "assignment.csv").write_text(plan.to_csv(), encoding="utf-8")
            written.append("assignment.csv")
            areas = dissolved(plan, figs)
            if areas is not None:
                write_geojson(areas, stage / "areas.geojson")
                write_map(plan, areas, stage / "map.png", title)
                written += ["areas.geojson", "map.png"]
            else:
                summary.setdefault("notes", []).append(
                    "instance has no geometry: no GeoJSON and no map")
        (stage / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8")
        written.append("summary.json")
    return [Path(out) / w for w in written]
