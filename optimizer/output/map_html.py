"""The interactive map (map.html): areas coloured, leads marked, a tooltip per municipality.

Built with folium; Leaflet itself is inlined (see `leaflet`), so the file opens
offline. Several plans become base layers with a switch (e.g. an optimum and
the 2025 areas), moved municipalities an overlay, and an OpenStreetMap
background an overlay that is off until ticked (it is the only part that
needs a network).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.plan import UNASSIGNED, Plan
from ..model.evaluate import PlanFigures
from ..words import plural
from .escape import iframe, script_value, text
from .geometry import municipalities
from .leaflet import leaflet_css, leaflet_js
from .map_png import plan_colours
from .municipalities import label, municipality_frame

MISSING = "#d9d9d9"
"""Fill of a municipality the plan does not assign."""
COORDINATE_DIGITS = 5
"""Decimals kept in degrees (about a metre): the 1:4.5 million polygons need no more."""


@dataclass(frozen=True)
class PlanLayer:
    """A plan shown on the map under a name (`optimum`, `2025 areas`, ...)."""

    name: str
    plan: Plan
    figures: PlanFigures
    moved: Mapping[int, str] = field(default_factory=dict)
    """Municipality position → a line saying where it moved from (a comparison's overlay)."""


def area_palette(plan: Plan, figs: PlanFigures) -> dict[str, str]:
    """Hex colour per area lead code, the printed map's (neighbours differ when colours
    run short)."""
    from matplotlib.colors import to_hex

    return {k: to_hex(c) for k, c in plan_colours(plan).items()}


def _fmt(value: float, digits: int = 0) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:,.{digits}f}"


def _geometry(plan: Plan):
    """Municipality polygons in WGS84, coordinates rounded; None without geometry."""
    import shapely

    gdf = municipalities(plan)
    if gdf is None:
        return None
    gdf = gdf[["code", "geometry"]].to_crs("EPSG:4326")
    gdf["geometry"] = shapely.transform(gdf.geometry.values,
                                        lambda xy: np.round(xy, COORDINATE_DIGITS))
    return gdf


def _lead_points(plan: Plan, geo) -> np.ndarray:
    """(lat, lon) of each municipality: the instance's coordinates, else a point inside it."""
    inst = plan.instance
    if {"lon", "lat"} <= inst.attributes.keys():
        return np.column_stack([inst.attributes["lat"], inst.attributes["lon"]])
    pts = geo.geometry.representative_point()
    return np.column_stack([pts.y, pts.x])


def _features(layer: PlanLayer, geo, colour: Mapping[str, str]) -> dict:
    """GeoJSON of the municipalities with display-ready properties (escaped: folium's
    tooltip inserts them as HTML)."""
    frame = municipality_frame(layer.plan, layer.figures)
    attrs = layer.figures.attributes
    feats = []
    for i, row in frame.iterrows():
        props = {
            "municipality": text(f"{row['name']} ({row['code']})"),
            "area": text((f"{row['lead_name']} ({row['lead_code']})" if row["lead_code"]
                          else "not assigned") + (" — lead outside the instance"
                                                  if row["lead_outside"] else "")),
            "km": "lead" if row["is_lead"] else _fmt(row["km_to_lead"], 1),
            "minutes": ("lead" if row["is_lead"] else _fmt(row["minutes_to_lead"], 0))
            if "minutes_to_lead" in frame.columns else "",
            "colour": colour.get(row["lead_code"], MISSING),
            "outside": bool(row["lead_outside"]),
        }
        for a in attrs:
            props[text(a)] = _fmt(row[a], 2 if a == "jobseekers" else 0)
        feats.append({"type": "Feature", "properties": props,
                      "geometry": geo.geometry.iloc[i].__geo_interface__})
    return {"type": "FeatureCollection", "features": feats}


def _legend_items(layer: PlanLayer, colour: Mapping[str, str]) -> list[tuple[str, str]]:
    items = []
    for a in sorted(layer.figures.areas, key=lambda a: a.lead_name):
        text = f"{a.lead_name}: {plural(len(a.members), 'municipality')}"
        if "labour_force" in a.totals:
            text += f", labour force {a.totals['labour_force']:,.0f}"
        if a.travel is None:
            text += " (lead outside the instance)"
        items.append((colour[a.lead_code], text))
    return items


def build_map(layers: Sequence[PlanLayer], *, title: str, base_map: bool = True):
    """A folium Map of one or more plans of the same instance, or None without geometry."""
    import folium

    if not layers:
        raise ValueError("build_map needs at least one plan")
    geo = _geometry(layers[0].plan)
    if geo is None:
        return None
    west, south, east, north = geo.total_bounds
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)
    m.default_js, m.default_css = [], []  # Leaflet is inlined by `map_document`
    m.fit_bounds([[south, west], [north, east]])
    points = _lead_points(layers[0].plan, geo)
    legends = []
    for n, layer in enumerate(layers):
        plan, figs = layer.plan, layer.figures
        colour = area_palette(plan, figs)
        # Leaflet's layer switch shows a layer's name as HTML
        group = folium.FeatureGroup(name=text(layer.name), overlay=False, show=n == 0)
        by_road = plan.instance.minutes is not None
        fields = ["municipality", "area", *map(text, figs.attributes),
                  *(["minutes"] if by_road else []), "km"]
        aliases = ["municipality", "area (lead)", *(text(label(a)) for a in figs.attributes),
                   *(["minutes to the lead (road)"] if by_road else []),
                   "km to the lead (road)" if by_road else "km to the lead (straight line)"]
        folium.GeoJson(
            _features(layer, geo, colour), name=text(f"{layer.name}: municipalities"),
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"], "fillOpacity": 0.75,
                "color": "#ffffff", "weight": 0.8,
                "dashArray": "4 3" if f["properties"]["outside"] else None},
            highlight_function=lambda f: {"weight": 2.5, "color": "#333333"},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        ).add_to(group)
        outline = geo.assign(lead_code=[plan.lead_code(i) if plan.lead[i] != UNASSIGNED else ""
                                        for i in range(plan.instance.n)])
        outline = outline[outline["lead_code"] != ""].dissolve(by="lead_code")
        folium.GeoJson(outline[["geometry"]].__geo_interface__, interactive=False,
                       style_function=lambda f: {"fill": False, "color": "#222222",
                                                 "weight": 2}).add_to(group)
        for a in figs.areas:
            if a.travel is None:  # the lead lies outside the instance: no marker
                continue
            j = plan.instance.index[a.lead_code]
            tip = "<br>".join([f"<b>{text(a.lead_name)}</b> leads "
                               f"{plural(len(a.members), 'municipality')}",
                               *(f"{text(label(k))} {_fmt(v, 2 if k == 'jobseekers' else 0)}"
                                 for k, v in a.totals.items()),
                               f"cost {_fmt(a.cost, 0)} €/yr"])
            folium.CircleMarker(location=[float(points[j, 0]), float(points[j, 1])],
                                radius=6, color="#000000", weight=2, fill=True,
                                fill_color="#ffffff", fill_opacity=1.0,
                                tooltip=folium.Tooltip(tip), class_name="lead-marker",
                                ).add_to(group)
        group.add_to(m)
        if layer.moved:
            moved = folium.FeatureGroup(name=f"moved municipalities ({len(layer.moved)})",
                                        overlay=True, show=True)
            for i, line in sorted(layer.moved.items()):
                folium.GeoJson(geo.geometry.iloc[i].__geo_interface__,
                               style_function=lambda f: {"fill": False, "color": "#d62728",
                                                         "weight": 3},
                               tooltip=text(line)).add_to(moved)
            moved.add_to(m)
        legends.append((group.get_name(), layer.name, _legend_items(layer, colour)))
    if base_map:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap background (needs a network)",
                         overlay=True, show=False).add_to(m)
    if len(layers) > 1 or base_map or any(la.moved for la in layers):
        folium.LayerControl(collapsed=False).add_to(m)
    inst = layers[0].plan.instance
    credit = "; ".join(x for x in (str(inst.metadata.get("attribution") or ""),
                                   f"travel: {inst.distance_source}") if x)
    m.get_root().html.add_child(folium.Element(
        _overlay_html(m, title, legends, credit, [[south, west], [north, east]])))
    return m


def _overlay_html(m, title: str, legends, credit: str, bounds: list) -> str:
    """Title, the data's credit line and one legend per plan; a legend shows while its
    plan is the chosen layer."""
    parts = [f'<div class="optimizer-title">{text(title)}</div>']
    for k, (group, name, items) in enumerate(legends):
        rows = "".join(f'<div><span class="swatch" style="background:{text(c)}"></span>'
                       f"{text(t)}</div>" for c, t in items)
        hidden = "" if k == 0 else ' style="display:none"'
        parts.append(f'<div class="optimizer-legend" data-layer="{text(group)}"{hidden}>'
                     f"<b>{text(name)}</b>{rows}</div>")
    names = script_value([g for g, _, _ in legends])
    parts.append(
        "<script>document.addEventListener('DOMContentLoaded', function () {"
        f"var map = {m.get_name()}; var groups = {names};"
        f"map.attributionControl.addAttribution({script_value(text(credit))});"
        "map.on('baselayerchange', function (e) {"
        "groups.forEach(function (g) {"
        "var el = document.querySelector('.optimizer-legend[data-layer=\"' + g + '\"]');"
        "if (el) { el.style.display = (window[g] === e.layer) ? '' : 'none'; } }); });"
        # a map laid out at zero size (an iframe not yet sized) fits its bounds at the
        # world's zoom: fit again once the container has a size
        f"var bounds = {script_value([[float(v) for v in p] for p in bounds])}, fitted = false;"
        "function fit() { var c = map.getContainer();"
        "if (!fitted && c.clientWidth > 0 && c.clientHeight > 0) {"
        "fitted = true; map.invalidateSize(); map.fitBounds(bounds); } }"
        "if (window.ResizeObserver) { new ResizeObserver(fit).observe(map.getContainer()); }"
        "window.addEventListener('load', fit);"
        "});</script>")
    return "\n".join(parts)


STYLE = """
.optimizer-title { position: absolute; top: 10px; left: 50px; right: 230px; z-index: 1000;
  font: bold 15px/1.3 system-ui, sans-serif; background: rgba(255,255,255,0.85);
  padding: 4px 8px; border-radius: 4px; pointer-events: none; }
.optimizer-legend { position: absolute; bottom: 56px; left: 10px; z-index: 1000;
  background: rgba(255,255,255,0.92); padding: 6px 8px; border-radius: 4px;
  font: 12px/1.4 system-ui, sans-serif; max-height: 40%; overflow-y: auto; }
.optimizer-legend .swatch { display: inline-block; width: 12px; height: 12px;
  margin-right: 6px; border: 1px solid #555; vertical-align: middle; }
.leaflet-container .leaflet-control-attribution { max-width: 45%; font-size: 9px;
  line-height: 1.25; }
"""


def map_document(m, title: str = "") -> str:
    """The map as one HTML document with Leaflet inlined: no file or network to fetch; the
    first line of `title` names the page."""
    import folium

    root = m.get_root()
    if title:
        root.header.add_child(folium.Element(
            f"<title>{text(title.splitlines()[0])}</title>"), name="title")
    root.header.add_child(folium.Element(f"<style>{leaflet_css()}</style>"), name="leaflet_css")
    root.header.add_child(folium.Element(f"<script>{leaflet_js()}</script>"), name="leaflet")
    root.header.add_child(folium.Element(f"<style>{STYLE}</style>"), name="optimizer_style")
    return stable_ids(root.render())


def stable_ids(document: str) -> str:
    """folium names every element with 32 random hex digits (`map_3f…`): number them in
    order of appearance instead, so the same plan gives the same file."""
    ids: dict[str, str] = {}
    return re.sub(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])",
                  lambda m: ids.setdefault(m.group(0), f"{len(ids) + 1:04d}"), document)


def map_html(layers: Sequence[PlanLayer], *, title: str, base_map: bool = True) -> str | None:
    """The standalone HTML of `build_map`, or None when the instance has no geometry."""
    m = build_map(layers, title=title, base_map=base_map)
    return None if m is None else map_document(m, title)


def write_map_html(layers: Sequence[PlanLayer], path: Path, *, title: str) -> bool:
    """Write map.html; False (nothing written) when the instance has no geometry."""
    text = map_html(layers, title=title)
    if text is None:
        return False
    Path(path).write_text(text, encoding="utf-8")
    return True


@dataclass(frozen=True)
class Embedded:
    """An offline HTML document shown inline in Jupyter (an iframe holding the document)."""

    document: str
    height: int = 560

    def _repr_html_(self) -> str:
        return iframe(self.document, f"width:100%;height:{int(self.height)}px;"
                      "border:1px solid #ccc", "interactive map")
