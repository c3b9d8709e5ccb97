"""A run directory written as one set: the plan's files, its maps and summary.json.

`OUTPUT_FILES` lists every file a run directory may hold, with what it is; the
command-line help and the files a new run replaces derive from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..data.instance import Instance
from ..data.plan import Plan
from ..economics.sources import money_sources
from ..imports import finish as finish_imports
from ..imports import load_in_background
from ..model.evaluate import PlanFigures
from ..staging import OutputDir
from .geometry import dissolved, municipalities, write_geojson
from .gpkg import write_geopackage
from .map_html import PlanLayer, write_map_html
from .map_png import write_map
from .sources import sources_csv


@dataclass(frozen=True)
class OutputFile:
    """A file of a run directory: its name, what it holds, and whether it needs the
    instance's polygons."""

    name: str
    what: str
    geometry: bool = False


FILES: tuple[OutputFile, ...] = (
    OutputFile("assignment.csv", "code,name,lead_code,lead_name, one row per municipality"),
    OutputFile("plan.csv", "the two-column exchange format code,area (area = the lead's code)"),
    OutputFile("summary.json", "the certificate (status, objective, bound, gap, time, back "
               "end), the per-area figures and the verification"),
    OutputFile("areas.geojson", "one polygon per area with its figures (WGS84)", True),
    OutputFile("areas.gpkg", "GeoPackage: layers areas and municipalities (area, lead, km to "
               "the lead, figures) in the instance's CRS", True),
    OutputFile("map.png", "the printed map: areas, leads, names, a scale bar, a legend", True),
    OutputFile("map.html", "the interactive map (Leaflet inside: opens offline)", True),
    OutputFile("finance.csv", "with [finance]: who pays what per municipality, to the cent"),
    OutputFile("finance_sources.csv", "with [finance]: every money input with its source and "
               "year, and whether it is illustrative"),
    OutputFile("report.html", "written by `optimizer report` on the folder: the one-file "
               "report to forward"),
)

"""Every file a run directory may hold, in the order help texts list them."""
OUTPUT_FILES = tuple(f.name for f in FILES)
"""Their names. A new run removes the files of an earlier run that it does not write (those
the folder's manifest lists, `staging.MANIFEST`), so the folder never mixes two runs."""


def files_help(skip: tuple[str, ...] = ("report.html",)) -> str:
    """The files a run writes, for `--out` help texts."""
    names = [f.name for f in FILES if f.name not in skip]
    return ", ".join(names[:-1]) + " and " + names[-1]


def output_seconds(instance: Instance) -> float:
    """A generous estimate of the time `write_outputs` takes, kept back from a time limit:
    with geometry (dissolving the areas, drawing both maps, the GeoPackage) 1 s + 8 ms per
    municipality (the mainland's 292 took 1.7 s for the PNG alone on the 2 shared cores
    under load), else 0.2 s."""
    return 1.0 + 0.008 * instance.n if instance.geometry_path is not None else 0.2


MAP_MODULES = ("geopandas", "pyogrio", "shapely", "matplotlib.pyplot", "folium",
               "optimizer.output.map_html", "optimizer.output.gpkg")
"""What writing the maps imports: about a second (several on a busy machine)."""


def _agg() -> None:
    import matplotlib

    matplotlib.use("Agg")


def prepare_outputs() -> None:
    """Start importing the map libraries in the background while the solver works (the
    solvers release the GIL), so that neither the solve nor the writing after the time
    limit waits for them; `write_outputs` (and any fork) waits for them to finish."""
    load_in_background(MAP_MODULES, _agg)


def money_files(finance, problem) -> dict[str, str]:
    """finance.csv and its companion finance_sources.csv (the sources of its inputs)."""
    if finance is None:
        return {}
    return {"finance.csv": finance.to_csv(),
            "finance_sources.csv": sources_csv(money_sources(problem))}


def write_outputs(out: Path | OutputDir, plan: Plan | None, figs: PlanFigures | None,
                  summary: dict, title: str, extra: Mapping[str, str] | None = None
                  ) -> list[Path]:
    """Write every output into `out` at once: nothing is left half-written on failure,
    and no file of an earlier run stays beside the new ones. `extra` maps more file
    names to their text (such as finance.csv)."""
    finish_imports()

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
                write_geopackage(plan, figs, areas, municipalities(plan), stage / "areas.gpkg",
                                 deterministic=bool(summary.get("deterministic")))
                write_map(plan, areas, stage / "map.png", title)
                write_map_html([PlanLayer("plan", plan, figs)], stage / "map.html", title=title)
            else:
                summary.setdefault("notes", []).append(
                    "instance has no geometry: no GeoJSON, GeoPackage or map")
        (stage / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8")
        return target.commit()
