"""Areas as geometry: dissolved polygons (GeoJSON) and a PNG map with the leads marked."""

from __future__ import annotations

from pathlib import Path

from .errors import InstanceError
from .figures import PlanFigures
from .plan import UNASSIGNED, Plan


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
    areas["weighted_travel_km"] = [props[c].travel for c in areas["lead_code"]]
    areas["cost"] = [props[c].cost for c in areas["lead_code"]]
    return areas[["lead_code", "lead_name", "municipalities", *figs.attributes,
                  "weighted_travel_km", "cost", "geometry"]]


def write_geojson(areas, path: Path) -> None:
    areas.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio")


def area_colours(plan: Plan, keys: list[str], palette_size: int) -> dict[str, int]:
    """Colour index per area: all distinct when the palette allows, else neighbours differ."""
    import networkx as nx

    if len(keys) <= palette_size:
        return {k: i for i, k in enumerate(keys)}
    inst = plan.instance
    g = nx.Graph()
    g.add_nodes_from(keys)
    for a, b in inst.edges.tolist():
        ka, kb = plan.lead_code(a), plan.lead_code(b)
        if ka != kb:
            g.add_edge(ka, kb)
    return nx.greedy_color(g, strategy="largest_first")


def write_map(plan: Plan, areas, path: Path, title: str) -> None:
    """Areas in colours that differ between neighbours, leads as stars, a legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    gdf = municipalities(plan)
    inst = plan.instance
    keys = list(areas["lead_code"])
    palette = plt.get_cmap("Set2").colors + plt.get_cmap("Pastel1").colors
    colour = area_colours(plan, keys, len(palette))
    fig, ax = plt.subplots(figsize=(7.5, 9), dpi=150)
    face = [palette[colour[c] % len(palette)] if c in colour else (0.9, 0.9, 0.9)
            for c in gdf["lead_code"]]
    gdf.plot(ax=ax, color=face, edgecolor="white", linewidth=0.4)
    areas.boundary.plot(ax=ax, color="black", linewidth=1.0)
    handles = []
    for row in areas.itertuples(index=False):
        if row.lead_code in inst.index:
            pt = gdf.geometry.iloc[inst.index[row.lead_code]].representative_point()
            ax.plot(pt.x, pt.y, marker="*", color="black", markersize=11)
            if len(keys) <= 20:
                ax.annotate(row.lead_name, (pt.x, pt.y), xytext=(4, 4),
                            textcoords="offset points", fontsize=8, weight="bold")
        label = f"{row.lead_name}: {row.municipalities} municipalities"
        if "labour_force" in areas.columns:
            label += f", labour force {row.labour_force:,.0f}"
        handles.append(Patch(facecolor=palette[colour[row.lead_code] % len(palette)],
                             edgecolor="black", label=label))
    if len(handles) <= 20:
        ax.legend(handles=handles, loc="lower right", fontsize=7, frameon=True)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
