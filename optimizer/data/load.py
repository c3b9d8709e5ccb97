"""`load_instance`: any instance file by its format (node-link JSON or OR-Library)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import InstanceError
from ..reading import read_json
from .instance import METRICS, Instance
from .nodelink import from_node_link
from .orlib import read_orlib
from .travel import travel_matrix

FORMATS = ("node-link", "orlib-pmed", "orlib-pmedcap")
"""Instance file formats `load_instance` reads (the last two by `data/orlib.py`)."""


def load_instance(
    path: str | Path, *, format: str = "node-link", name_attribute: str | None = None,
    lon_attribute: str | None = None, lat_attribute: str | None = None,
    distance: str | None = None, distance_file: str | Path | None = None,
    distance_unit: str = "minutes", missing_pairs: str = "error",
) -> Instance:
    """Read an instance file of the given format (see `FORMATS`).

    For node-link JSON (a `.gpkg` of the same stem is its geometry) the
    attribute keys say which node attribute holds the name and the longitude /
    latitude (default `name`, `lon`, `lat`). `distance` is one of `METRICS`;
    None keeps the file's own choice (its matrix if it has one, else great-circle);
    `"file"` reads the travel-time file `distance_file` (`optimizer.data.travel`), whose
    minutes or km (`distance_unit`) become the distances, a pair it lacks an error unless
    `missing_pairs` is `"unreachable"`.
    """
    path = Path(path)
    if distance == "file":
        if distance_file is None:
            raise InstanceError(f"{path}: distance 'file' needs a travel-time file")
        base = load_instance(path, format=format, name_attribute=name_attribute,
                             lon_attribute=lon_attribute, lat_attribute=lat_attribute)
        travel = travel_matrix(base, distance_file, distance_unit, missing_pairs)
        return replace(base, metric="file", travel=travel)
    if format not in FORMATS:
        raise InstanceError(
            f"{path}: unknown instance format {format!r} (known: {', '.join(FORMATS)})"
        )
    if distance is not None and distance not in METRICS:
        raise InstanceError(
            f"{path}: unknown distance {distance!r} (known: {', '.join(METRICS)})"
        )
    if format != "node-link":

        given = [k for k, v in (("name_attribute", name_attribute),
                                ("lon_attribute", lon_attribute),
                                ("lat_attribute", lat_attribute)) if v is not None]
        if given:
            raise InstanceError(f"{path}: format {format!r} has no node attributes to map "
                                f"({', '.join(given)})")
        return read_orlib(path, format, distance=distance)
    data = read_json(path, "instance file", InstanceError)
    gpkg = path.with_suffix(".gpkg")
    return from_node_link(data, default_name=path.stem, source=str(path),
                          geometry_path=gpkg if gpkg.exists() else None,
                          name_key=name_attribute, lon_key=lon_attribute, lat_key=lat_attribute,
                          metric=distance)
