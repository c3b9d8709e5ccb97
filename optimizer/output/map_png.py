"""The printed map (map.png): areas in colours, the sea, leads as stars, names inside their
own area that do not collide, a legend (a table beside a map of many areas).

The municipal polygons include their sea areas, so islands would look joined to the
mainland: the sea is painted over them from a global land mask (GLOBE, 30 arc
seconds, in the `global-land-mask` package). A name is placed at its municipality's
pole of inaccessibility, or beside it, only where its box stays inside the
municipality's own area and overlaps no other name; one with no such place is left
out (the legend and the interactive map still list it).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..data.plan import OUTSIDE, Plan
from ..words import plural
from .escape import plain_text
from .geometry import context, municipalities
from .land import is_land

MEMBER_NAMES_UP_TO = 120
"""Member municipalities are named on maps of at most this many municipalities; leads always."""
LEGEND_UP_TO = 20
"""Areas listed in a legend below the map; more go to a table beside it."""
SEA = (0.80, 0.89, 0.95, 1.0)
"""The sea's colour (RGBA)."""
SEA_CELLS = 700
"""Cells of the land mask across the map's longer side."""
_OFFSETS = ((0, 0, "center", "center"), (0, 5, "center", "bottom"), (0, -5, "center", "top"),
            (5, 0, "left", "center"), (-5, 0, "right", "center"))
_BESIDE_STAR = ((0, 7, "center", "bottom"), (8, 0, "left", "center"), (-8, 0, "right", "center"),
                (0, -7, "center", "top"))
_LEADER = ((28, 18, "left", "bottom"), (-28, 18, "right", "bottom"), (28, -18, "left", "top"),
           (-28, -18, "right", "top"), (40, 0, "left", "center"), (-40, 0, "right", "center"))
"""Farther positions for a lead's name with a leader line, when no place inside its area
is free."""


def palette() -> tuple:
    """The maps' area colours (matplotlib Set2, then Pastel1, then Set3)."""
    import matplotlib

    return (matplotlib.colormaps["Set2"].colors + matplotlib.colormaps["Pastel1"].colors
            + matplotlib.colormaps["Set3"].colors)


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


def plan_colours(plan: Plan) -> dict[str, tuple]:
    """A colour per area lead code of `plan`."""
    keys = sorted({plan.lead_code(i) for i in range(plan.instance.n) if plan.lead[i] >= -1})
    colours = palette()
    index = area_colours(plan, keys, len(colours))
    return {k: colours[i % len(colours)] for k, i in index.items()}


def matched_colours(colours: Mapping[str, tuple], matching: Mapping[str, str],
                    plan: Plan) -> dict[str, tuple]:
    """Colours for a second plan whose areas continue the first's (`matching`: its lead code
    → the first plan's): a continuing area keeps its colour, the others take unused ones."""
    out = {mine: colours[theirs] for mine, theirs in matching.items() if theirs in colours}
    free = [c for c in palette() if c not in set(out.values()) | set(colours.values())]
    free += list(palette())
    for k in sorted({plan.lead_code(i) for i in range(plan.instance.n) if plan.lead[i] >= -1}):
        if k not in out:
            out[k] = free.pop(0)
    return out


def draw_areas(ax, plan: Plan, gdf=None, *, grey_context: bool = True,
               colours: Mapping[str, tuple] | None = None) -> dict[str, tuple]:
    """Draw a plan on matplotlib axes: municipalities coloured by area (neighbouring areas
    differ, or `colours` by lead code), hatched where the lead is outside the instance, the
    sea, area outlines, neighbouring regions in grey; axes fitted to the instance. Returns
    the colour of each area's lead code.

    `gdf` is `municipalities(plan)` (read when not given), in any projected CRS."""
    gdf = municipalities(plan) if gdf is None else gdf
    colour = dict(colours) if colours is not None else plan_colours(plan)
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
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    draw_sea(ax, gdf.crs)
    assigned = gdf[gdf["lead_code"] != ""]
    assigned.dissolve(by="lead_code").boundary.plot(ax=ax, color="black", linewidth=1.0,
                                                    zorder=3)
    ax.set_axis_off()
    return colour


def draw_sea(ax, crs) -> bool:
    """Paint the sea over the axes' extent (above the polygons, below outlines and names);
    False when the CRS or the land mask is not available."""
    try:
        from pyproj import Transformer
    except ImportError:
        return False
    if crs is None:
        return False
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    step = max(x1 - x0, y1 - y0) / SEA_CELLS
    xs = np.arange(x0, x1, step) + step / 2
    ys = np.arange(y0, y1, step) + step / 2
    gx, gy = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(gx, gy)
    inside = (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    land = is_land(lat[inside], lon[inside])
    if land is None:
        return False
    sea = np.zeros(gx.shape, dtype=bool)
    sea[inside] = ~land
    image = np.zeros((*sea.shape, 4))
    image[sea] = SEA
    ax.imshow(image, extent=(x0, x1, y0, y1), origin="lower", zorder=2,
              interpolation="nearest")
    return True


def _inside(box, shape, ax) -> bool:
    """Whether a label's box (display coordinates) lies inside `shape` (data coordinates)."""
    from shapely.geometry import box as rectangle

    (a, b), (c, d) = ax.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
    return shape.buffer(0).covers(rectangle(min(a, c), min(b, d), max(a, c), max(b, d)))


def place_labels(ax, items, obstacles, *, leaders: bool = False) -> int:
    """Greedy labels: in priority order, the first of a few positions whose box stays inside
    the label's shape (when one is given) and overlaps nothing already drawn, then the same
    in smaller type; with `leaders`, last a free place farther out with a line to the
    point. A label with no such position is left out. Items are (x, y, text, style,
    offsets, shape or None). Returns how many were drawn."""
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    taken = list(obstacles)
    drawn = 0

    def attempt(x, y, text, style, position, shape, line: bool) -> bool:
        dx, dy, ha, va = position
        extra = {"arrowprops": {"arrowstyle": "-", "color": "#333333", "lw": 0.6,
                                "shrinkA": 0, "shrinkB": 3}} if line else {}
        t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                        ha=ha, va=va, **style, **extra)
        box = t.get_window_extent(renderer).expanded(1.06, 1.15)
        if (frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                and not any(box.overlaps(o) for o in taken)
                and (shape is None or _inside(box, shape, ax))):
            taken.append(box)
            return True
        t.remove()
        return False

    for x, y, text, style, offsets, shape in items:
        small = {**style, "fontsize": style.get("fontsize", 7) * 0.8}
        tries = [(style, p, shape, False) for p in offsets]
        tries += [(small, p, shape, False) for p in offsets]
        if leaders:
            tries += [(small, p, None, True) for p in _LEADER]
        drawn += any(attempt(x, y, text, s, p, sh, line) for s, p, sh, line in tries)
    return drawn


def label_points(gdf) -> np.ndarray:
    """(x, y) per municipality: the point of its polygon farthest from its border."""
    from shapely.ops import polylabel

    out = np.zeros((len(gdf), 2))
    for k, geom in enumerate(gdf.geometry):
        part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        point = polylabel(part, tolerance=max(part.area ** 0.5 / 50, 1e-9))
        out[k] = point.x, point.y
    return out


def label_plan(ax, plan: Plan, gdf, *, members: bool) -> None:
    """Stars at the leads and names inside their own area: the leads' first (largest
    first), then, with `members`, the other municipalities'."""
    from matplotlib import patheffects

    inst = plan.instance
    pts = label_points(gdf)
    areas = gdf[gdf["lead_code"] != ""].dissolve(by="lead_code")
    shape_of = [areas.geometry.get(c) for c in gdf["lead_code"]]
    leads = [j for j in range(inst.n) if plan.lead[j] == j]
    for j in leads:
        ax.plot(*pts[j], marker="*", color="black", markersize=11, markeredgecolor="white",
                markeredgewidth=0.6, zorder=5)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    stars = [line.get_window_extent(renderer) for line in ax.lines]
    size = inst.attributes.get("population", np.zeros(inst.n))
    halo = [patheffects.withStroke(linewidth=2, foreground="white", alpha=0.8)]
    lead_style = {"fontsize": 7.5, "weight": "bold", "zorder": 6, "path_effects": halo}
    member_style = {"fontsize": 5.5, "color": "#222222", "zorder": 6, "path_effects": halo}
    place_labels(ax, [(*pts[j], inst.names[j], lead_style, _BESIDE_STAR, shape_of[j])
                      for j in sorted(leads, key=lambda j: -size[j])], stars, leaders=True)
    if members:
        taken = [t.get_window_extent(renderer).expanded(1.06, 1.15) for t in ax.texts]
        others = sorted(set(range(inst.n)) - set(leads), key=lambda i: (-size[i], i))
        place_labels(ax, [(*pts[i], inst.names[i], member_style, _OFFSETS, shape_of[i])
                          for i in others], stars + taken)


def legend_handles(plan: Plan, areas, colour: Mapping[str, tuple]) -> list:
    """One legend entry per area: its lead, size and labour force; leads outside hatched."""
    from matplotlib.patches import Patch

    inst = plan.instance
    outside = [i for i in range(inst.n) if plan.lead[i] == OUTSIDE]
    handles = []
    for row in areas.sort_values("lead_name").itertuples(index=False):
        label = f"{row.lead_name}: {plural(int(row.municipalities), 'municipality')}"
        if "labour_force" in areas.columns:
            label += f", labour force {row.labour_force:,.0f}"
        if row.lead_code not in inst.index:
            names = sorted(inst.names[i] for i in outside if plan.lead_code(i) == row.lead_code)
            label = textwrap.fill(f"{row.lead_name} ({row.lead_code}), a lead outside this "
                                  f"instance: {', '.join(names)}", 60)
        handles.append(Patch(facecolor=colour[row.lead_code], edgecolor="black", label=label,
                             hatch="////" if row.lead_code not in inst.index else None))
    return handles


@plain_text
def write_map(plan: Plan, areas, path: Path, title: str) -> None:
    """Areas in colours that differ between neighbours, the sea, leads as stars, names that
    do not collide, neighbouring regions in grey, a scale bar, and a legend (below the map,
    or as a table beside a map of more than `LEGEND_UP_TO` areas)."""
    import matplotlib.pyplot as plt
    from matplotlib_scalebar.scalebar import ScaleBar

    gdf = municipalities(plan)
    if gdf.crs is not None and gdf.crs.is_geographic:  # a scale bar needs metres
        gdf = gdf.to_crs(gdf.estimate_utm_crs())
    inst = plan.instance
    many = len(areas) > LEGEND_UP_TO
    fig = plt.figure(figsize=(12, 9) if many else (7.5, 9), dpi=150)
    ax = fig.add_axes((0.0, 0.04, 0.62 if many else 1.0, 0.9))
    colour = draw_areas(ax, plan, gdf)
    ax.add_artist(ScaleBar(1, "m", location="lower left", length_fraction=0.25,
                           font_properties={"size": 7}, box_alpha=0.7))
    title_lines = title.split("\n", 1)
    ax.set_title(title_lines[0], fontsize=11, weight="bold",
                 pad=16 if len(title_lines) > 1 else 6)
    if len(title_lines) > 1:
        ax.annotate(title_lines[1], (0.5, 1.0), xycoords="axes fraction", xytext=(0, 4),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8,
                    color="#333333")
    label_plan(ax, plan, gdf, members=inst.n <= MEMBER_NAMES_UP_TO)
    handles = legend_handles(plan, areas, colour)
    if many:  # a table beside the map: two columns of small entries
        side = fig.add_axes((0.63, 0.04, 0.37, 0.9))
        side.set_axis_off()
        side.legend(handles=handles, loc="upper left", ncol=2, fontsize=5.5, frameon=False,
                    handlelength=1.2, columnspacing=0.8, borderaxespad=0)
    else:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.005),
                  ncol=2 if len(handles) > 4 else 1, fontsize=7, frameon=False)
    fig.text(0.99, 0.005, textwrap.fill(f"Travel: {inst.distance_source}. Sea: GLOBE land "
                                        "mask (NOAA).", 110),
             ha="right", va="bottom", fontsize=5, color="#444444")
    fig.savefig(path, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)
