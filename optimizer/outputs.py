"""Write a plan's files as one set: assignment.csv, plan.csv, summary.json, areas.geojson,
areas.gpkg, map.png and map.html."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .figures import PlanFigures
from .files import OutputDir
from .instance import Instance
from .maps import dissolved, municipalities, write_geojson, write_map
from .plan import Plan

OUTPUT_FILES = ("assignment.csv", "plan.csv", "summary.json", "areas.geojson", "areas.gpkg",
                "map.png", "map.html", "finance.csv", "report.html")
"""Every file a run may write here (report.html comes from `optimizer report` on the
folder); a new run removes those of an earlier run it does not write, so the folder
never mixes two runs."""


def output_seconds(instance: Instance) -> float:
    """A generous estimate of the time `write_outputs` takes, kept back from a time limit:
    with geometry (dissolving the areas, drawing both maps, the GeoPackage) 1 s + 8 ms per
    municipality (the mainland's 292 took 1.7 s for the PNG alone on the 2 shared cores
    under load), else 0.2 s."""
    return 1.0 + 0.008 * instance.n if instance.geometry_path is not None else 0.2


def prepare_outputs(instance: Instance) -> None:
    """Load the libraries that draw the maps and write the GeoJSON now, while the clock
    allows: loading them takes seconds on a busy machine, which would otherwise come after
    the time limit (the outputs are written once the solve has stopped)."""
    if instance.geometry_path is None:
        return
    import geopandas  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import pyogrio  # noqa: F401

    from .reporting import geopackage, interactive  # noqa: F401


def write_outputs(out: Path | OutputDir, plan: Plan | None, figs: PlanFigures | None,
                  summary: dict, title: str, extra: Mapping[str, str] | None = None
                  ) -> list[Path]:
    """Write every output into `out` at once: nothing is left half-written on failure,
    and no file of an earlier run stays beside the new ones. `extra` maps more file
    names to their text (such as finance.csv)."""
    from .reporting.geopackage import write_geopackage
    from .reporting.interactive import PlanLayer, write_map_html

    target = out if isinstance(out, OutputDir) else OutputDir.open(Path(out))
    with target:
        stage = target.stage
        for name, text in (extra or {}).items():
            (stage / name).write_text(text, encoding="utf-8")
        if plan is not None:
            (stage / "assignment.csv").write_text(plan.to_csv(), encoding="utf-8")
            (stage / "plan.csv").write_text(plan.to_area_csv(), encoding="utf-8")
            areas = dissolved(plan, figs)
            if areas is not None:
                write_geojson(areas, stage / "areas.geojson")
                write_geopackage(plan, figs, areas, municipalities(plan), stage / "areas.gpkg")
                write_map(plan, areas, stage / "map.png", title)
                write_map_html([PlanLayer("plan", plan, figs)], stage / "map.html", title=title)
            else:
                summary.setdefault("notes", []).append(
                    "instance has no geometry: no GeoJSON, GeoPackage or map")
        (stage / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8")
        return target.commit(replaces=OUTPUT_FILES)
