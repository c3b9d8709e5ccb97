"""`optimizer instances`: build the bundled Finnish instances, write random ones."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..data.finland import build_finland
from ..data.generate import random_model, random_planar
from ..data.nodelink import instance_json
from ..staging import write_text_atomically
from .app import Group, command
from .options import FILE, FOLDER


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
@click.option("--n", "n", type=click.IntRange(min=3), required=True,
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


instances = Group("instances", commands=[build_instances, random_instance],
                  help="Build the bundled instances from the official raw data, or random "
                       "ones.")
