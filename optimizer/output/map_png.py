"""The printed map (map.png): areas in colours, leads as stars, names that do not collide.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from ..data.plan import OUTSIDE, Plan
from .escape import plain_text
from .geometry import context, municipalities


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


MEMBER_NAMES_UP_TO = 120
"""Member municipalities are named on maps of at most this many municipalities; leads always."""


_OFFSETS = ((0, 0, "center", "center"), (0, 5, "center", "bottom"), (0, -5, "center", "top"),
            (5, 0, "left", "center"), (-5, 0, "right", "center"))


_BESIDE_STAR = ((0, 7, "center", "bottom"), (8, 0, "left", "center"), (-8, 0, "right", "center"),
                (0, -7, "center", "top"))


def _place_labels(ax, items, obstacles) -> int:
    """Greedy labels: in priority order, the first of a few positions that overlaps nothing
    already drawn; a label with no free position is left out. Returns how many were drawn."""
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    taken = list(obstacles)
    drawn = 0
    for x, y, text, style, offsets in items:
        for dx, dy, ha, va in offsets:
            t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                            ha=ha, va=va, **style)
            box = t.get_window_extent(renderer).expanded(1.06, 1.15)
            if (frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                    and not any(box.overlaps(o) for o in taken)):
                taken.append(box)
                drawn += 1
                break
            t.remove()
    return drawn


def palette() -> tuple:
    """The maps' area colours (matplotlib Set2, then Pastel1)."""
    import matplotlib

    return matplotlib.colormaps["Set2"].colors + matplotlib.colormaps["Pastel1"].colors


def draw_areas(ax, plan: Plan, gdf=None, *, grey_context: bool = True) -> dict[str, tuple]:
    """Draw a plan on matplotlib axes: municipalities coloured by area (neighbouring areas
    differ), hatched where the lead is outside the instance, area outlines, neighbouring
    regions in grey; axes fitted to the instance. Returns the colour of each area's lead code.

    `gdf` is `municipalities(plan)` (read when not given), in any projected CRS."""
    gdf = municipalities(plan) if gdf is None else gdf
    keys = sorted({c for c in gdf["lead_code"] if c})
    colours = palette()
    index = area_colours(plan, keys, len(colours))
    colour = {k: colours[i % len(colours)] for k, i in index.items()}
    x0, y0, x1, y1 = gdf.total_bounds
    pad = 0.06 * max(x1 - x0, y1 - y0)
    ctx = context(plan, gdf) if grey_context else None
    if ctx is not None:
        ctx.plot(ax=ax, color="#e6e6e6", edgecolor="white", linewidth=0.4)
    gdf.plot(ax=ax, color=[colour.get(c, (0.9, 0.9, 0.9)) for c in gdf["lead_code"]],
             edgecolor="white", linewidth=0.4 if plan.instance.n <= 120 else 0.2)
    outside = [i for i in range(plan.instance.n) if plan.lead[i] == OUTSIDE]
    if outside:
        gdf.iloc[outside].plot(ax=ax, facecolor="none", edgecolor="#555555", hatch="////",
                               linewidth=0)
    assigned = gdf[gdf["lead_code"] != ""]
    assigned.dissolve(by="lead_code").boundary.plot(ax=ax, color="black", linewidth=1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_axis_off()
    return colour


@plain_text
def write_map(plan: Plan, areas, path: Path, title: str) -> None:
    """Areas in colours that differ between neighbours, leads as stars, member names that do
    not collide, neighbouring regions in grey, a scale bar, a legend, and a note for
    municipalities whose lead lies outside the instance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import patheffects
    from matplotlib.patches import Patch
    from matplotlib_scalebar.scalebar import ScaleBar

    gdf = municipalities(plan)
    if gdf.crs is not None and gdf.crs.is_geographic:  # a scale bar needs metres
        gdf = gdf.to_crs(gdf.estimate_utm_crs())
    inst = plan.instance
    fig, ax = plt.subplots(figsize=(7.5, 9), dpi=150)
    colour = draw_areas(ax, plan, gdf)
    outside = [i for i in range(inst.n) if plan.lead[i] == OUTSIDE]
    ax.add_artist(ScaleBar(1, "m", location="lower left", length_fraction=0.25,
                           font_properties={"size": 7}, box_alpha=0.7))
    handles = []
    leads = []
    for row in areas.sort_values("lead_name").itertuples(index=False):
        if row.lead_code in inst.index:
            leads.append(inst.index[row.lead_code])
        label = f"{row.lead_name}: {row.municipalities} municipalities"
        if "labour_force" in areas.columns:
            label += f", labour force {row.labour_force:,.0f}"
        if row.lead_code not in inst.index:
            names = sorted(inst.names[i] for i in outside if plan.lead_code(i) == row.lead_code)
            label = textwrap.fill(f"{row.lead_name} ({row.lead_code}), a lead outside this "
                                  f"instance: {', '.join(names)}", 60)
        handles.append(Patch(facecolor=colour[row.lead_code], edgecolor="black", label=label,
                             hatch="////" if row.lead_code not in inst.index else None))
    pts = gdf.geometry.representative_point()
    for j in leads:
        ax.plot(pts.iloc[j].x, pts.iloc[j].y, marker="*", color="black", markersize=11,
                markeredgecolor="white", markeredgewidth=0.6, zorder=5)
    title_lines = title.split("\n", 1)
    ax.set_title(title_lines[0], fontsize=11, weight="bold",
                 pad=16 if len(title_lines) > 1 else 6)
    if len(title_lines) > 1:
        ax.annotate(title_lines[1], (0.5, 1.0), xycoords="axes fraction", xytext=(0, 4),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8,
                    color="#333333")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    stars = [ax.lines[k].get_window_extent(renderer) for k in range(len(ax.lines))]
    size = inst.attributes.get("population", np.zeros(inst.n))
    halo = [patheffects.withStroke(linewidth=2, foreground="white", alpha=0.8)]
    lead_style = {"fontsize": 7.5, "weight": "bold", "zorder": 6, "path_effects": halo}
    member_style = {"fontsize": 5.5, "color": "#222222", "zorder": 6, "path_effects": halo}
    items = []
    for j in sorted(leads, key=lambda j: -size[j]):
        items.append((pts.iloc[j].x, pts.iloc[j].y, inst.names[j], lead_style, _BESIDE_STAR))
    if inst.n <= MEMBER_NAMES_UP_TO:
        members = sorted(set(range(inst.n)) - set(leads), key=lambda i: (-size[i], i))
        items += [(pts.iloc[i].x, pts.iloc[i].y, inst.names[i], member_style, _OFFSETS)
                  for i in members]
    _place_labels(ax, items, stars)
    if len(handles) <= 20:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.005),
                  ncol=2 if len(handles) > 4 else 1, fontsize=7, frameon=False)
    elif outside:  # no legend: say it in a line below the map
        ax.text(0.5, -0.01, textwrap.fill(f"Hatched: {len(outside)} municipalities whose lead "
                                          "lies outside this instance.", 90),
                transform=ax.transAxes, ha="center", va="top", fontsize=7)
    fig.text(0.99, 0.005, textwrap.fill(f"Travel: {inst.distance_source}", 110), ha="right",
             va="bottom", fontsize=5, color="#444444")
    fig.savefig(path, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)
