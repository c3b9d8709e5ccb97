"""Write a plan's files atomically: assignment.csv, plan.csv, summary.json, areas.geojson,
areas.gpkg, map.png and map.html."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .figures import PlanFigures
from .files import staged_directory
from .maps import dissolved, municipalities, write_geojson, write_map
from .plan import Plan


def write_outputs(out: Path, plan: Plan | None, figs: PlanFigures | None, summary: dict,
                  title: str, extra: Mapping[str, str] | None = None) -> list[Path]:
    """Write every output into `out` at once; nothing is left half-written on failure.
    `extra` maps more file names to their text (such as finance.csv)."""
    from .reporting.geopackage import write_geopackage
    from .reporting.interactive import PlanLayer, write_map_html

    written = []
    with staged_directory(Path(out)) as stage:
        for name, text in (extra or {}).items():
            (stage / name).write_text(text, encoding="utf-8")
            written.append(name)
        if plan is not None:
            (stage / "assignment.csv").write_text(plan.to_csv(), encoding="utf-8")
            (stage / "plan.csv").write_text(plan.to_area_csv(), encoding="utf-8")
            written += ["assignment.csv", "plan.csv"]
            areas = dissolved(plan, figs)
            if areas is not None:
                write_geojson(areas, stage / "areas.geojson")
                write_geopackage(plan, figs, areas, municipalities(plan), stage / "areas.gpkg")
                write_map(plan, areas, stage / "map.png", title)
                write_map_html([PlanLayer("plan", plan, figs)], stage / "map.html", title=title)
                written += ["areas.geojson", "areas.gpkg", "map.png", "map.html"]
            else:
                summary.setdefault("notes", []).append(
                    "instance has no geometry: no GeoJSON, GeoPackage or map")
        (stage / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8")
        written.append("summary.json")
    return [Path(out) / w for w in written]
