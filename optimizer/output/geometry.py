"""Areas as geometry: the municipalities' polygons, dissolved areas and their GeoJSON.
"""

from __future__ import annotations

from pathlib import Path

from ..data.plan import UNASSIGNED, Plan
from ..errors import InstanceError
from ..model.evaluate import PlanFigures


def municipalities(plan: Plan):
    """The instance's polygons (GeoDataFrame, EPSG:3067 for Finland) or None if it has none."""
    inst = plan.instance
    if inst.geometry_path is None:
        return None
    import geopandas as gpd

    try:
        gdf = gpd.read_file(inst.geometry_path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types; name the file
        raise InstanceError(f"cannot read geometry {inst.geometry_path}: {exc}") from None
    gdf["code"] = gdf["code"].astype(str)
    missing = sorted(set(inst.codes) - set(gdf["code"]))
    if missing:
        raise InstanceError(f"{inst.geometry_path}: no polygon for {missing[:5]}")
    gdf = gdf.set_index("code").loc[list(inst.codes)].reset_index()
    keys = [plan.lead_code(i) if plan.lead[i] != UNASSIGNED else "" for i in range(inst.n)]
    gdf["lead_code"] = keys
    return gdf


def dissolved(plan: Plan, figs: PlanFigures):
    """One polygon per area with its figures as properties, or None without geometry."""
    gdf = municipalities(plan)
    if gdf is None:
        return None
    areas = gdf[gdf["lead_code"] != ""].dissolve(by="lead_code", as_index=False)
    props = {a.lead_code: a for a in figs.areas}
    areas["lead_name"] = [props[c].lead_name for c in areas["lead_code"]]
    areas["municipalities"] = [len(props[c].members) for c in areas["lead_code"]]
    for attr in figs.attributes:
        areas[attr] = [props[c].totals[attr] for c in areas["lead_code"]]
    travel = "weighted_travel_minutes" if figs.distance_unit == "minutes" else \
        "weighted_travel_km"
    areas[travel] = [props[c].travel for c in areas["lead_code"]]
    areas["cost"] = [props[c].cost for c in areas["lead_code"]]
    return areas[["lead_code", "lead_name", "municipalities", *figs.attributes,
                  travel, "cost", "geometry"]]


def write_geojson(areas, path: Path) -> None:
    areas.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio")


CONTEXT_FILE = "mainland.gpkg"
"""Polygons drawn in grey around a regional instance, looked up beside its own GeoPackage."""


def context(plan: Plan, gdf):
    """Neighbouring municipalities (not in the instance) from `mainland.gpkg` beside the
    instance's geometry, in its CRS, or None when there is none."""
    import geopandas as gpd

    path = plan.instance.geometry_path
    if path is None or path.name == CONTEXT_FILE or not (path.parent / CONTEXT_FILE).exists():
        return None
    try:
        ctx = gpd.read_file(path.parent / CONTEXT_FILE, engine="pyogrio")
    except Exception:  # context is decoration: a broken file only loses the grey
        return None
    if "code" not in ctx.columns or ctx.crs is None:
        return None
    ctx = ctx[~ctx["code"].astype(str).isin(set(plan.instance.codes))].to_crs(gdf.crs)
    return ctx if len(ctx) else None
