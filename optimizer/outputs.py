"""Write a plan's files as one set: assignment.csv, summary.json, areas.geojson, map.png."""

from __future__ import annotations

import json
from pathlib import Path

from .figures import PlanFigures
from .files import OutputDir
from .instance import Instance
from .maps import dissolved, write_geojson, write_map
from .plan import Plan

OUTPUT_FILES = ("assignment.csv", "summary.json", "areas.geojson", "map.png")
"""Every file a run may write; a new run removes those of an earlier run it does not write."""


def output_seconds(instance: Instance) -> float:
    """A generous estimate of the time `write_outputs` takes, kept back from a time limit:
    with geometry (dissolving the areas, drawing the map) 0.5 s + 5 ms per municipality
    (the mainland's 292 took 1.7 s on the 2 shared cores under load), else 0.2 s."""
    return 0.5 + 0.005 * instance.n if instance.geometry_path is not None else 0.2


def prepare_outputs(instance: Instance) -> None:
    """Load the libraries that draw the map and the GeoJSON now, while the clock allows:
    loading them takes seconds on a busy machine, which would otherwise come after the
    time limit (the outputs are written once the solve has stopped)."""
    if instance.geometry_path is None:
        return
    import geopandas  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import pyogrio  # noqa: F401


def write_outputs(out: Path | OutputDir, plan: Plan | None, figs: PlanFigures | None,
                  summary: dict, title: str) -> list[Path]:
    """Write every output into `out` at once: nothing is left half-written on failure,
    and no file of an earlier run stays beside the new ones."""
    target = out if isinstance(out, OutputDir) else OutputDir.open(Path(out))
    with target:
        stage = target.stage
        if plan is not None:
            (stage / "assignment.csv").write_text(plan.to_csv(), encoding="utf-8")
            areas = dissolved(plan, figs)
            if areas is not None:
                write_geojson(areas, stage / "areas.geojson")
                write_map(plan, areas, stage / "map.png", title)
            else:
                summary.setdefault("notes", []).append(
                    "instance has no geometry: no GeoJSON and no map")
        (stage / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")
        return target.commit(replaces=OUTPUT_FILES)
