"""areas.gpkg: the plan for GIS users, areas and municipalities as two layers.

Layer `areas`: one dissolved polygon per area with its figures (the same
columns as areas.geojson). Layer `municipalities`: every municipality with its
area, whether it leads, its distance to the lead and its figures. Both keep the
instance's own coordinate system (EPSG:3067 for Finland).
"""

from __future__ import annotations

from pathlib import Path

from ..data.plan import Plan
from ..model.evaluate import PlanFigures
from .municipalities import municipality_frame


def write_geopackage(plan: Plan, figs: PlanFigures, areas, gdf, path: Path) -> None:
    """Write both layers; `areas` is `maps.dissolved(...)`, `gdf` `maps.municipalities(...)`."""
    import geopandas as gpd

    frame = municipality_frame(plan, figs)
    munis = gpd.GeoDataFrame(frame, geometry=gdf.geometry.values, crs=gdf.crs)
    areas.to_file(path, layer="areas", driver="GPKG", engine="pyogrio")
    munis.to_file(path, layer="municipalities", driver="GPKG", engine="pyogrio", append=True)
