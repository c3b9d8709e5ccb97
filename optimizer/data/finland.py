"""Build the Finnish instances from the official raw files (docs/design.md §3).

Definitions, fixed so results stay comparable:

* municipality division of 2025: the 2023 polygons with Pertunmaa (588)
  dissolved into Mäntyharju (507); the mainland excludes Åland (maakunta 21);
* adjacency: polygons (which include sea areas) sharing a boundary of positive
  length in EPSG:3067; point contacts do not count;
* coordinates: the administrative-centre point where given, else the polygon's
  representative point (computed in EPSG:3067);
* population 31.12.2022 (THL Sotkanet); labour force: TEM table 1001
  `Tyovoima` of 2020; jobseekers: mean of the twelve monthly unemployed
  jobseeker counts of 2019. Statistics of municipalities merged since
  (Honkajoki → Kankaanpää 2021, Pertunmaa → Mäntyharju 2025) are added to the
  receiving municipality, so every figure describes the 2025 territory;
* groupings of the official classifications: the sub-region (seutukunta) and the
  wellbeing services county (hyvinvointialue) of 2025, and the commuting area
  (työssäkäyntialue) of 2023, the latest year Statistics Finland gives it; a
  municipality merged since takes the receiving municipality's (Pertunmaa's
  territory is in Mäntyharju's, 16 Mikkeli). Code 99, "not a commuting area", is
  no group (the instance's `no_group` says so).
"""

from __future__ import annotations

import csv
import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import InstanceError
from ..staging import staged_directory
from .instance import Instance
from .nodelink import write_instance

RAW_FILES = {
    "polygons": "kuntarajat.2023.json",
    "key": "municipality_key_2025.rda",
    "key_years": "municipality_key.rda",
    "population": "sotkadata_population.rda",
    "labour": "data_kunta_1001.rda",
    "centres": "municipality_central_localities_df.rda",
}
MERGERS = {"Pertunmaa": "Mäntyharju", "Honkajoki": "Kankaanpää"}
"""Municipalities merged after the statistics year → the 2025 municipality."""
MERGED_CODES = {"588": "507"}
"""Codes present in the 2023 polygons / 2022 population but gone by 2025."""
ALAND = 21
CRS_METRIC = "EPSG:3067"
ATTRIBUTION = (
    "Contains data from the National Land Survey of Finland Administrative areas "
    "1:4.5 million 2023 and Topographic Database (CC BY 4.0); Statistics Finland "
    "municipality classifications 2023 and 2025 and StatFin table 1001 (TEM employment "
    "service statistics) (CC BY 4.0); THL Sotkanet population 31.12.2022."
)
PLAN_2025 = "employment_areas_2025.csv"
PLAN_SUBREGIONS = "subregions_2025.csv"
COMMUTING_YEAR = 2023
"""The latest year of the commuting areas (työssäkäyntialueet) in the raw key."""
NOT_COMMUTING = 99
"""The commuting-area code of a municipality in no commuting area ("Ei tk-alue")."""
GROUPINGS = {
    "subregion": ("seutukunta", "sub-region (seutukunta) 2025"),
    "wellbeing_area": ("hyvinvointialue", "wellbeing services county (hyvinvointialue) 2025"),
    "commuting_area": ("tyossakayntial", f"commuting area (työssäkäyntialue) {COMMUTING_YEAR}"),
}
"""Node attribute → the raw key's column stem and what it is; each with `<attribute>_name`."""
ATTRIBUTE_SOURCES = {
    "population": {"year": 2022, "source": "THL Sotkanet, population 31.12.2022"},
    "labour_force": {"year": 2020, "source": "StatFin table 1001 (TEM employment service "
                     "statistics), 'Tyovoima' of 2020"},
    "jobseekers": {"year": 2019, "source": "StatFin table 1001 (TEM employment service "
                   "statistics), unemployed jobseekers ('Tyottomat'), mean of the 12 months "
                   "of 2019"},
    **{attr: {"year": COMMUTING_YEAR if attr == "commuting_area" else 2025,
              "source": f"Statistics Finland classifications: {what}"}
       for attr, (_, what) in GROUPINGS.items()},
}
"""Year and source of each figure of the built instances (printed with the money)."""


@dataclass(frozen=True)
class BuildReport:
    """What `build_finland` wrote, for the CLI to print."""

    files: tuple[Path, ...]
    municipalities: int
    edges: int


def slug(name: str) -> str:
    """File-name form of a region name: 'Pohjois-Pohjanmaa' → 'pohjois-pohjanmaa'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join(ascii_name.lower().replace("-", " ").split())


def _read_rda(path: Path, columns: tuple[str, ...]):
    """The data frame of an .rda file, with the columns the build needs."""
    import pyreadr

    try:
        frames = pyreadr.read_r(str(path))
    except Exception as exc:  # pyreadr raises LibrdataError, PyreadrError, OSError...
        raise InstanceError(f"cannot read {path}: {exc or type(exc).__name__}") from None
    if not frames:
        raise InstanceError(f"{path}: holds no data frame")
    frame = next(iter(frames.values()))
    _require_columns(frame, columns, path)
    return frame


def _require_columns(frame, columns: tuple[str, ...], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InstanceError(f"{path}: no column {', '.join(map(repr, missing))} "
                            f"(has {len(frame)} rows, columns {list(frame.columns)[:8]})")
    if not len(frame):
        raise InstanceError(f"{path}: no rows")


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Name the raw file when its content is not what the build expects (a bad code,
    a non-numeric figure)."""
    try:
        yield
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise InstanceError(f"{path}: unexpected content: {type(exc).__name__}: {exc}"
                            ) from None


def _code(value) -> str:
    return f"{int(value):03d}"


def _municipality_table(raw: Path):
    """One row per mainland 2025 municipality with all attributes (a pandas frame)."""
    import pandas as pd

    path = raw / RAW_FILES["key"]
    key = _read_rda(path, ("maakunta_code", "kunta", "municipality_name_fi", "maakunta_name_fi",
                           "tyollisyysalue_code", "tyollisyysalue_name_fi", "seutukunta_code",
                           "seutukunta_name_fi", "hyvinvointialue_code",
                           "hyvinvointialue_name_fi"))
    with _reading(path):
        key = key[key["maakunta_code"].astype(int) != ALAND].copy()
        key["code"] = key["kunta"].map(_code)
        table = pd.DataFrame(
            {
                "code": key["code"],
                "name": key["municipality_name_fi"].astype(str),
                "region": key["maakunta_code"].astype(int),
                "region_name": key["maakunta_name_fi"].astype(str),
                "area_2025": key["tyollisyysalue_code"].astype(int),
                "area_2025_name": key["tyollisyysalue_name_fi"].astype(str),
                **{col: key[f"{stem}_{part}"].astype(kind) for attr, (stem, _)
                   in GROUPINGS.items() if stem != "tyossakayntial"
                   for col, part, kind in ((attr, "code", int),
                                           (f"{attr}_name", "name_fi", str))},
            }
        ).sort_values("code", kind="stable").reset_index(drop=True)
    table = _commuting_areas(raw, table)

    path = raw / RAW_FILES["population"]
    pop = _read_rda(path, ("year", "municipality_code", "primary.value"))
    pop_by_code: dict[str, int] = {}
    with _reading(path):
        pop = pop[pop["year"].astype(int) == 2022]
        for c, v in zip(pop["municipality_code"], pop["primary.value"], strict=True):
            c = MERGED_CODES.get(_code(c), _code(c))
            pop_by_code[c] = pop_by_code.get(c, 0) + int(v)

    path = raw / RAW_FILES["labour"]
    lab = _read_rda(path, ("time", "kunta", "Tyovoima", "Tyottomat"))
    with _reading(path):
        when = pd.to_datetime(lab["time"])
        lab = lab.assign(year=when.dt.year, kunta=lab["kunta"].astype(str).replace(MERGERS))
        lf = lab[lab["year"] == 2020].groupby(["kunta", "time"])["Tyovoima"].sum()
        lf = lf.groupby(level=0).max()
        months = lab[lab["year"] == 2019].groupby(["kunta", "time"])["Tyottomat"].sum()
        js = months.groupby(level=0).agg(["mean", "count"])

    rows = []
    for rec in table.itertuples(index=False):
        missing = [
            what
            for what, ok in (
                ("population 2022", rec.code in pop_by_code),
                ("labour force 2020", rec.name in lf.index),
                ("jobseekers 2019", rec.name in js.index and js.loc[rec.name, "count"] == 12),
            )
            if not ok
        ]
        if missing:
            raise InstanceError(f"{rec.name} ({rec.code}): no {', '.join(missing)} in the raw data")
        rows.append(
            (pop_by_code[rec.code], float(lf.loc[rec.name]), float(js.loc[rec.name, "mean"]))
        )
    table["population"] = [r[0] for r in rows]
    table["labour_force"] = [r[1] for r in rows]
    table["jobseekers"] = [r[2] for r in rows]
    return table


def _commuting_areas(raw: Path, table):
    """The commuting area of COMMUTING_YEAR for every municipality of `table` (a merged
    municipality's territory takes the receiving one's)."""
    path = raw / RAW_FILES["key_years"]
    key = _read_rda(path, ("year", "kunta", "tyossakayntial_code", "tyossakayntial_name_fi"))
    with _reading(path):
        key = key[key["year"].astype(float) == COMMUTING_YEAR]
        by_code = {_code(c): (int(a), str(nm)) for c, a, nm in zip(
            key["kunta"], key["tyossakayntial_code"], key["tyossakayntial_name_fi"],
            strict=True)}
    missing = [c for c in table["code"] if c not in by_code]
    if missing:
        raise InstanceError(f"{path}: no commuting area of {COMMUTING_YEAR} for "
                            f"municipalities {missing}")
    table["commuting_area"] = [by_code[c][0] for c in table["code"]]
    table["commuting_area_name"] = [by_code[c][1] for c in table["code"]]
    return table


def _geometry(raw: Path, codes: list[str]):
    """Polygons of the 2025 municipalities in EPSG:3067, in the order of `codes`."""
    import geopandas as gpd

    path = raw / RAW_FILES["polygons"]
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; name the file
        raise InstanceError(f"cannot read polygons {path}: {exc}") from None
    _require_columns(gdf, ("NATCODE", "geometry"), path)
    with _reading(path):
        gdf = gdf.set_crs("EPSG:4326", allow_override=True)
        gdf["code"] = gdf["NATCODE"].astype(str).map(lambda c: MERGED_CODES.get(c, c))
        gdf = gdf[["code", "geometry"]].dissolve(by="code").to_crs(CRS_METRIC)
    missing = sorted(set(codes) - set(gdf.index))
    if missing:
        raise InstanceError(f"{path}: no polygon for municipalities {missing}")
    return gdf.loc[codes, "geometry"]


def _adjacency(geoms) -> dict[tuple[int, int], float]:
    """Pairs (i < j) whose polygons share a boundary of positive length → length in km."""
    import shapely

    arr = np.asarray(geoms.values)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    out = {}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a < b:
            length = shapely.intersection(arr[a].boundary, arr[b].boundary).length
            if length > 0:
                out[(a, b)] = round(length / 1000.0, 3)
    return out


def _coordinates(raw: Path, codes: list[str], geoms) -> tuple[np.ndarray, np.ndarray]:
    import geopandas as gpd

    path = raw / RAW_FILES["centres"]
    centres = _read_rda(path, ("kuntatunnus", "X", "Y"))
    with _reading(path):
        by_code = {
            _code(c): (float(x), float(y))
            for c, x, y in zip(centres["kuntatunnus"], centres["X"], centres["Y"], strict=True)
        }
    reps = gpd.GeoSeries(geoms.representative_point(), crs=CRS_METRIC).to_crs("EPSG:4326")
    lon = np.empty(len(codes))
    lat = np.empty(len(codes))
    for k, code in enumerate(codes):
        if code in by_code:
            lon[k], lat[k] = by_code[code]
        else:
            lon[k], lat[k] = round(reps.iloc[k].x, 7), round(reps.iloc[k].y, 7)
    return lon, lat


def _write_geometry(path: Path, codes, names, geoms) -> None:
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({"code": list(codes), "name": list(names)}, geometry=list(geoms),
                           crs=CRS_METRIC)
    # A fixed timestamp keeps the GeoPackage byte-identical across rebuilds.
    os.environ.setdefault("OGR_CURRENT_DATE", "2025-01-01T00:00:00Z")
    gdf.to_file(path, layer="municipalities", driver="GPKG", engine="pyogrio")


def build_finland(raw: Path, out: Path) -> BuildReport:
    """Build `mainland.json`, one instance per region and the 2025 plan into `out`."""
    raw, out = Path(raw), Path(out)
    for f in RAW_FILES.values():
        if not (raw / f).exists():
            raise InstanceError(f"raw data file missing: {raw / f}")
    table = _municipality_table(raw)
    codes = table["code"].tolist()
    geoms = _geometry(raw, codes)
    border = _adjacency(geoms)
    lon, lat = _coordinates(raw, codes, geoms)
    attributes = {
        "population": table["population"].to_numpy(float),
        "labour_force": table["labour_force"].to_numpy(float),
        "jobseekers": table["jobseekers"].to_numpy(float),
        "lon": lon,
        "lat": lat,
        "region": table["region"].to_numpy(float),
        "area_2025": table["area_2025"].to_numpy(float),
        **{attr: table[attr].to_numpy(float) for attr in GROUPINGS},
    }
    texts = {f"{attr}_name": tuple(table[f"{attr}_name"]) for attr in GROUPINGS}
    area_names = dict(zip(table["area_2025"].map(str), table["area_2025_name"], strict=True))
    meta = {
        "attribution": ATTRIBUTION,
        "licence": "CC BY 4.0",
        "crs": "EPSG:4326",
        "area_2025_names": dict(sorted(area_names.items(), key=lambda kv: int(kv[0]))),
        "attribute_sources": ATTRIBUTE_SOURCES,
        "no_group": {"commuting_area": [NOT_COMMUTING]},
    }
    mainland = Instance(
        name="mainland", codes=tuple(codes), names=tuple(table["name"]), attributes=attributes,
        edges=np.array(sorted(border), dtype=np.int64).reshape(-1, 2), metadata=meta,
        text_attributes=texts,
    )
    written = []
    with staged_directory(out, "plain") as stage:
        regions = [("mainland", np.arange(mainland.n), {})]
        for code, rname in sorted(set(zip(table["region"], table["region_name"], strict=True))):
            keep = np.flatnonzero(table["region"].to_numpy() == code)
            regions.append((slug(rname), keep, {"region_name": rname, "region": int(code)}))
        for name, keep, extra in regions:
            inst = mainland.subset(keep, name) if name != "mainland" else mainland
            inst = replace(inst, metadata={**meta, **extra})
            pos = {int(k): p for p, k in enumerate(keep)}
            edata = {
                (pos[a], pos[b]): {"border_km": km}
                for (a, b), km in border.items()
                if a in pos and b in pos
            }
            write_instance(inst, stage / f"{name}.json", edata)
            _write_geometry(stage / f"{name}.gpkg", inst.codes, inst.names,
                            geoms.iloc[keep].values)
            written += [out / f"{name}.json", out / f"{name}.gpkg"]
        _write_plan(stage / PLAN_2025, table, "area_2025")
        _write_plan(stage / PLAN_SUBREGIONS, table, "subregion")
        written += [out / PLAN_2025, out / PLAN_SUBREGIONS]
    return BuildReport(files=tuple(written), municipalities=mainland.n, edges=len(mainland.edges))


def _write_plan(path: Path, table, area: str) -> None:
    """A grouping as a plan in the assignment format: the actual 2025 employment areas
    (`area_2025`) or the official sub-regions (`subregion`).

    The source names each area but not its lead municipality (vastuukunta);
    the most populous member stands in for it (Oulu, Raahe, Ylivieska, Kajaani
    in and around North Ostrobothnia).
    """
    lead_of = {}
    for code, grp in table.groupby(area):
        top = grp.sort_values(["population", "code"], ascending=[False, True]).iloc[0]
        lead_of[code] = (top["code"], top["name"])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "name", "lead_code", "lead_name", "area_code", "area_name"])
        for rec in table.sort_values([area, "code"]).to_dict("records"):
            lead = lead_of[rec[area]]
            w.writerow([rec["code"], rec["name"], lead[0], lead[1], rec[area],
                        rec[f"{area}_name"]])
