"""`optimizer instances`: build the bundled Finnish instances, write random ones, compute
road and ferry travel times between an instance's centres."""

from __future__ import annotations

import os
from pathlib import Path

import click
import numpy as np

from ..data.finland import build_finland
from ..data.generate import random_model, random_planar
from ..data.load import load_instance
from ..data.nodelink import instance_json
from ..data.roads import (
    FERRY_KMH,
    FERRY_WAIT_MINUTES,
    ROAD_SPEEDS,
    Speeds,
    extract_matrix,
    read_roads,
)
from ..data.router import router_matrix
from ..data.travel import write_travel_file
from ..errors import InputError
from ..staging import write_text_atomically
from ..values import MAX_MUNICIPALITIES, number
from .app import Group, command
from .options import FILE, FOLDER, NON_NEGATIVE, POSITIVE, Number
from .progress import ProgressLine


@command("build")
@click.option("--raw", type=FOLDER,
              default=Path("instances/finland/raw"), show_default=True,
              help="Folder with the official raw files.")
@click.option("--out", type=FOLDER, default=Path("instances/finland"), show_default=True)
def build_instances(raw, out, stop):
    """Build mainland.json, one instance per region and the 2025 plan (reproducibly)."""
    rep = build_finland(raw, out)
    click.echo(f"{rep.municipalities} municipalities, {rep.edges} adjacency edges; "
               f"{len(rep.files)} files written to {out}/")


@command("random")
@click.option("--n", "n", type=click.IntRange(3, MAX_MUNICIPALITIES), required=True,
              help="Number of municipalities.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=FILE, required=True,
              help="Instance file to write (node-link JSON).")
@click.option("--model", type=FILE,
              help="Also write a planning model for it (n // 7 areas, labour force >= 20,000).")
def random_instance(n, seed, out, model, stop):
    """Write a seeded random planar instance: Delaunay neighbours of random points in a box
    of Finland's size, Finnish-like attributes; the same N and seed give the same file."""
    write_text_atomically(out, instance_json(random_planar(n, seed)))
    if model is not None:
        rel = os.path.relpath(Path(out).resolve(), Path(model).resolve().parent)
        write_text_atomically(model, random_model(Path(rel).as_posix(), n))
    click.echo(f"random planar instance, {n} municipalities, seed {seed}: {out}"
               + (f"; model {model}" if model is not None else ""))


def _speed_overrides(values: tuple[str, ...]) -> dict[str, float]:
    """`--speed CLASS=KMH` pairs: a road class of `ROAD_SPEEDS` (or a new one to count as
    drivable) and a speed in km/h (0 leaves the class out)."""
    out: dict[str, float] = {}
    for text in values:
        name, sep, kmh = text.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--speed {text!r}: expected CLASS=KMH, e.g. residential=30")
        out[name.strip()] = number(kmh, f"--speed {name.strip()}", text=True, lo=0,
                                   error=InputError)
    return out


@command("travel-times")
@click.argument("instance", type=FILE)
@click.option("--osm", "extract", type=FILE,
              help="OpenStreetMap extract (.osm.pbf or .osm) that covers the instance.")
@click.option("--router", metavar="URL",
              help="Instead of an extract: a routing server's address (OSRM or Valhalla).")
@click.option("--router-kind", type=click.Choice(["osrm", "valhalla"]), default="osrm",
              show_default=True, help="The server's API: OSRM table or Valhalla matrix.")
@click.option("--out", type=FILE, required=True,
              help="The travel-time CSV to write (from_code,to_code,minutes,km).")
@click.option("--max-km", type=POSITIVE,
              help="Write only pairs whose fastest route is at most this many km.")
@click.option("--snap-km", type=POSITIVE, default=2.0, show_default=True,
              help="Farthest a centre may lie from the drivable network.")
@click.option("--speed", "speed", multiple=True, metavar="CLASS=KMH",
              help="km/h of a road class without a maxspeed tag (repeatable; 0 drops the "
                   "class), e.g. --speed residential=30.")
@click.option("--speed-factor", type=Number(lo=0, lo_open=True, hi=2), default=1.0,
              show_default=True, help="Multiply every road speed (0.8: OSRM's reduction "
                                      "of posted limits to typical speeds).")
@click.option("--ferry-kmh", type=POSITIVE, default=None,
              help="Ferry speed without a duration tag [default: 15].")
@click.option("--ferry-wait", type=NON_NEGATIVE, default=None,
              help="Minutes of waiting added to every ferry crossing [default: 10].")
@click.option("--quiet", is_flag=True, help="No progress, only the result line.")
def travel_times(instance, extract, router, router_kind, out, max_km, snap_km, speed,
                 speed_factor, ferry_kmh, ferry_wait, quiet):
    """Road and ferry travel times between the instance's centres: from an OpenStreetMap
    extract (the drivable network, maxspeed tags or a speed per road class, ferries with
    their duration) or from a routing server; every ordered pair (or those within
    --max-km) with the minutes and km of the fastest route, its source in the header."""
    if (extract is None) == (router is None):
        raise InputError("give either --osm EXTRACT or --router URL")
    if extract is not None and not extract.is_file():  # before any progress line
        raise InputError(f"OpenStreetMap extract {extract} is not a regular file (a folder, "
                         "device or FIFO)" if extract.exists() else
                         f"OpenStreetMap extract not found: {extract}")
    inst = load_instance(instance)
    if not {"lon", "lat"} <= inst.attributes.keys():
        raise InputError(f"{instance}: the instance has no lon/lat to route between")
    lon, lat = inst.attributes["lon"], inst.attributes["lat"]
    with ProgressLine(not quiet, first=f"travel times of {instance.name}", unit="centres routed",
                      bar=True) as bar:
        if router is not None:
            given = [f for f, v in (("--speed", speed), ("--speed-factor", speed_factor != 1),
                                    ("--ferry-kmh", ferry_kmh), ("--ferry-wait", ferry_wait))
                     if v]
            if given:
                raise InputError(f"{', '.join(given)}: the router's own profile sets the "
                                 "speeds; these options apply to --osm")
            bar(f"asking {router} for {inst.n}×{inst.n} routes")
            minutes, km = router_matrix(router, lon, lat, kind=router_kind,
                                        progress=bar.advance)
            header = [f"source: {router_kind.upper() if router_kind == 'osrm' else 'Valhalla'} "
                      f"routing server at {router}, the fastest route by car",
                      f"centres: {inst.n} (instance lon/lat), snapped by the server"]
        else:
            classes = {**ROAD_SPEEDS, **_speed_overrides(speed)}
            speeds = Speeds({k: v for k, v in classes.items() if v > 0}, speed_factor,
                            FERRY_KMH if ferry_kmh is None else ferry_kmh,
                            FERRY_WAIT_MINUTES if ferry_wait is None else ferry_wait)
            bar(f"reading {extract.name}")
            network = read_roads(extract, speeds, progress=bar)
            bar(f"routing between {inst.n} centres on {network.n:,} junctions")
            result = extract_matrix(network, inst.codes, inst.names, lon, lat,
                                    snap_km=snap_km, progress=bar.advance)
            minutes, km, header = result.minutes, result.km, list(result.header)
        missing = int((~np.isfinite(minutes)).sum())
        if missing:
            i, j = (int(x) for x in np.argwhere(~np.isfinite(minutes))[0])
            header.append(f"no route: {missing} ordered pairs (e.g. {inst.label(i)} → "
                          f"{inst.label(j)}) are left out")
        header.append(f"instance: {instance.name} ({inst.n} municipalities)")
        pairs = write_travel_file(out, inst.codes, minutes, km, header, max_km)
    if not quiet:
        for line in header:
            click.echo(f"  {line}", err=True)
    click.echo(f"{pairs:,} pairs of {inst.n} centres written to {out}"
               + (f" (within {max_km:g} km)" if max_km is not None else "")
               + (f"; {missing} pairs have no route" if missing else ""))


instances = Group("instances", commands=[build_instances, random_instance, travel_times],
                  help="Build the bundled instances from the official raw data, or random "
                       "ones.")
