"""`optimizer instances`: build the bundled Finnish instances, write random ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import InputError
from ..staging import write_text_atomically
from .app import cli, handles_errors
from .options import _Number


@cli.group()
def instances() -> None:
    """Build the bundled instances from the official raw data."""


@instances.command("build")
@click.option("--raw", type=click.Path(path_type=Path),
              default=Path("instances/finland/raw"), show_default=True,
              help="Folder with the official raw files.")
@click.option("--out", type=click.Path(path_type=Path),
              default=Path("instances/finland"), show_default=True)
@handles_errors
def build_instances(raw, out, stop):
    """Build mainland.json, one instance per region and the 2025 plan (reproducibly)."""
    from ..data.finland import build_finland

    rep = build_finland(raw, out)
    click.echo(f"{rep.municipalities} municipalities, {rep.edges} adjacency edges; "
               f"{len(rep.files)} files written to {out}/")


@instances.command("random")
@click.option("--n", "n", type=click.IntRange(min=3), required=True,
              help="Number of municipalities.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Instance file to write (node-link JSON).")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a planning model for it (n // 7 areas, labour force >= 20,000).")
@handles_errors
def random_instance(n, seed, out, model, stop):
    """Write a seeded random planar instance: Delaunay neighbours of random points in a box
    of Finland's size, Finnish-like attributes; the same N and seed give the same file."""
    from ..data.generate import random_model, random_planar
    from ..data.nodelink import instance_json

    write_text_atomically(out, instance_json(random_planar(n, seed)))
    if model is not None:
        rel = os.path.relpath(Path(out).resolve(), Path(model).resolve().parent)
        write_text_atomically(model, random_model(Path(rel).as_posix(), n))
    click.echo(f"random planar instance, {n} municipalities, seed {seed}: {out}"
               + (f"; model {model}" if model is not None else ""))


def _speed_overrides(values: tuple[str, ...]) -> dict[str, float]:
    """`--speed CLASS=KMH` pairs: a road class of `ROAD_SPEEDS` (or a new one to count as
    drivable) and a speed in km/h (0 leaves the class out)."""
    from ..values import number

    out: dict[str, float] = {}
    for text in values:
        name, sep, kmh = text.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--speed {text!r}: expected CLASS=KMH, e.g. residential=30")
        out[name.strip()] = number(kmh, f"--speed {name.strip()}", text=True, lo=0,
                                   error=InputError)
    return out


@instances.command("travel-times")
@click.argument("instance", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--osm", "extract", type=click.Path(dir_okay=False, path_type=Path),
              help="OpenStreetMap extract (.osm.pbf or .osm) that covers the instance.")
@click.option("--router", metavar="URL",
              help="Instead of an extract: a routing server's address (OSRM or Valhalla).")
@click.option("--router-kind", type=click.Choice(["osrm", "valhalla"]), default="osrm",
              show_default=True, help="The server's API: OSRM table or Valhalla matrix.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The travel-time CSV to write (from_code,to_code,minutes,km).")
@click.option("--max-km", type=_Number(lo=0, lo_open=True),
              help="Write only pairs whose fastest route is at most this many km.")
@click.option("--snap-km", type=_Number(lo=0, lo_open=True), default=2.0, show_default=True,
              help="Farthest a centre may lie from the drivable network.")
@click.option("--speed", "speed", multiple=True, metavar="CLASS=KMH",
              help="km/h of a road class without a maxspeed tag (repeatable; 0 drops the "
                   "class), e.g. --speed residential=30.")
@click.option("--speed-factor", type=_Number(lo=0, lo_open=True, hi=2), default=1.0,
              show_default=True, help="Multiply every road speed (0.8: OSRM's reduction "
                                      "of posted limits to typical speeds).")
@click.option("--ferry-kmh", type=_Number(lo=0, lo_open=True), default=None,
              help="Ferry speed without a duration tag [default: 15].")
@click.option("--ferry-wait", type=_Number(lo=0), default=None,
              help="Minutes of waiting added to every ferry crossing [default: 10].")
@click.option("--quiet", is_flag=True, help="No progress, only the result line.")
@handles_errors
def travel_times(instance, extract, router, router_kind, out, max_km, snap_km, speed,
                 speed_factor, ferry_kmh, ferry_wait, quiet):
    """Road and ferry travel times between the instance's centres: from an OpenStreetMap
    extract (the drivable network, maxspeed tags or a speed per road class, ferries with
    their duration) or from a routing server; every ordered pair (or those within
    --max-km) with the minutes and km of the fastest route, its source in the header."""
    import numpy as np

    from ..data.load import load_instance
    from ..data.roads import FERRY_KMH, FERRY_WAIT_MINUTES, ROAD_SPEEDS, Speeds
    from ..data.travel import write_travel_file

    if (extract is None) == (router is None):
        raise InputError("give either --osm EXTRACT or --router URL")
    inst = load_instance(instance)
    if not {"lon", "lat"} <= inst.attributes.keys():
        raise InputError(f"{instance}: the instance has no lon/lat to route between")
    lon, lat = inst.attributes["lon"], inst.attributes["lat"]
    with _bar(not quiet) as bar:
        if router is not None:
            from ..data.router import router_matrix

            given = [f for f, v in (("--speed", speed), ("--speed-factor", speed_factor != 1),
                                    ("--ferry-kmh", ferry_kmh), ("--ferry-wait", ferry_wait))
                     if v]
            if given:
                raise InputError(f"{', '.join(given)}: the router's own profile sets the "
                                 "speeds; these options apply to --osm")
            bar.step(f"asking {router} for {inst.n}×{inst.n} routes")
            minutes, km = router_matrix(router, lon, lat, kind=router_kind,
                                        progress=bar.advance)
            header = [f"source: {router_kind.upper() if router_kind == 'osrm' else 'Valhalla'} "
                      f"routing server at {router}, the fastest route by car",
                      f"centres: {inst.n} (instance lon/lat), snapped by the server"]
        else:
            from ..data.roads import extract_matrix, read_roads

            classes = {**ROAD_SPEEDS, **_speed_overrides(speed)}
            speeds = Speeds({k: v for k, v in classes.items() if v > 0}, speed_factor,
                            FERRY_KMH if ferry_kmh is None else ferry_kmh,
                            FERRY_WAIT_MINUTES if ferry_wait is None else ferry_wait)
            bar.step(f"reading {extract.name}")
            network = read_roads(extract, speeds, progress=bar.step)
            bar.step(f"routing between {inst.n} centres on {network.n:,} junctions")
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


class _bar:
    """A progress bar on a terminal (rich), plain lines elsewhere, nothing when quiet."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.enabled = enabled
        self.live = None
        self.task = None

    def __enter__(self):
        if self.enabled and self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.live = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=self.console, transient=True)
            self.live.start()
            self.task = self.live.add_task("starting", total=None)
        return self

    def step(self, message: str) -> None:
        if self.live is not None:
            self.live.update(self.task, description=message)
        elif self.enabled:
            self.console.print(message, markup=False, highlight=False)

    def advance(self, done: int, total: int) -> None:
        if self.live is not None:
            self.live.update(self.task, completed=done, total=total)
        elif self.enabled and (done == total or done % max(1, total // 10) < 16):
            self.console.print(f"  {done}/{total} centres routed", markup=False,
                               highlight=False)

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()
