"""areas.gpkg: the plan for GIS users, areas and municipalities as two layers.

Layer `areas`: one dissolved polygon per area with its figures (the same
columns as areas.geojson). Layer `municipalities`: every municipality with its
area, whether it leads, its distance to the lead and its figures. Both keep the
instance's own coordinate system (EPSG:3067 for Finland).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from ..data.plan import Plan
from ..model.evaluate import PlanFigures
from .municipalities import municipality_frame

FIXED_DATE = "2000-01-01T00:00:00.000Z"
"""The `last_change` GDAL stamps into gpkg_contents for a deterministic run (else the time
of writing), so the same plan gives the same bytes."""


def write_geopackage(plan: Plan, figs: PlanFigures, areas, gdf, path: Path, *,
                     deterministic: bool = False) -> None:
    """Write both layers; `areas` is `maps.dissolved(...)`, `gdf` `maps.municipalities(...)`.
    With `deterministic`, the tables' time stamps are `FIXED_DATE` (or SOURCE_DATE_EPOCH's
    date when it is set)."""
    import geopandas as gpd
    import pyogrio

    frame = municipality_frame(plan, figs)
    munis = gpd.GeoDataFrame(frame, geometry=gdf.geometry.values, crs=gdf.crs)
    date = _fixed_date() if deterministic else None
    if date is not None:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": date})
    try:
        areas.to_file(path, layer="areas", driver="GPKG", engine="pyogrio")
        munis.to_file(path, layer="municipalities", driver="GPKG", engine="pyogrio",
                      append=True)
    finally:
        if date is not None:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _fixed_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.strip().isdigit():
        when = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return FIXED_DATE
