"""`optimizer bench`: a benchmark suite run, checked against the known optima."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click

from .. import bench as b
from ..backends import NAMES, describe_backends
from ..cluster import dask_client
from ..errors import InputError
from ..mip.formulation import STRATEGIES
from ..search.levers import Levers
from .app import command
from .options import FILE, cluster_options, quiet_option, threads_option, time_limit_option
from .progress import ProgressLine


@command()
@click.argument("suite")
@click.option("--backends", help=f"Comma-separated back ends (default: the suite's): "
              f"{describe_backends()}.")
@click.option("--contiguity", help="Comma-separated strategies: cuts,flow (default: the suite's).")
@time_limit_option("Wall-clock seconds per solve (default: the suite's).")
@click.option("--repeat", "-r", type=click.IntRange(1, 1000), help="Runs per configuration.")
@threads_option(help="Solver threads (0 or unset: each back end's own default).")
@click.option("--only", help="Comma-separated instance ids or glob patterns (e.g. 'NH,*-hess').")
@click.option("--out", "-o", type=FILE,
              help="Write the table as CSV (with machine, versions and commit), "
                   "rewritten after every configuration.")
@click.option("--best-known", type=FILE,
              default=Path("benchmarks/best_known.csv"), show_default=True)
@cluster_options
@quiet_option("No progress line, only the table.")
@click.option("--levers-off", metavar="NAMES",
              help=f"Switch speed-ups off for an ablation (comma-separated): "
                   f"{', '.join(Levers.__dataclass_fields__)}.")
def bench(suite, backends, contiguity, time_limit, repeat, threads, only, out, best_known,
          scheduler, workers, connect_timeout, worker_wait, quiet, levers_off, stop):
    """Run a benchmark SUITE (a name in benchmarks/suites/ or a TOML path).

    Every plan is verified. Exits 1 when a plan fails verification, an optimum
    differs from a known optimum, or a known-infeasible model gets a plan. SIGINT or
    SIGTERM stops it after the configuration being solved, which is left out; the rows
    finished so far are shown and kept in --out (exit 130 or 143).
    """
    s = b.load_suite(b.suite_path(suite))
    Levers.parse(levers_off)  # a bad name is bad input before anything runs
    split = lambda v: tuple(x.strip() for x in v.split(",") if x.strip()) if v else None  # noqa: E731
    for name in split(backends) or ():
        if name not in NAMES:
            raise InputError(f"--backends: unknown back end {name!r}")
    for name in split(contiguity) or ():
        if name not in STRATEGIES:
            raise InputError(f"--contiguity: unknown strategy {name!r}")

    if out is not None:
        stop.kept = f"the rows finished so far are in {out}"
    cluster = dask_client(scheduler, workers, timeout=connect_timeout,
                          scratch=Path(out).parent if out is not None else None) \
        if scheduler or workers else nullcontext()
    with ProgressLine(not quiet, first=f"suite {s.name}", unit="configurations") as progress, \
            cluster as client, stop.cooperating():
        def finished(rs) -> None:
            progress.done(len(rs))
            if out is not None:
                b.write_csv(rs, out)

        rows = b.run_suite(s, b.load_references(best_known), backends=split(backends),
                           strategies=split(contiguity), time_limit=time_limit, repeat=repeat,
                           threads=threads, only=split(only), progress=progress,
                           on_row=finished, client=client, levers_off=levers_off, stop=stop,
                           lost_after=worker_wait)
    click.echo(b.table(rows))
    if stop.signum is not None:
        if out is not None:
            b.write_csv(rows, out)
        click.echo(f"{stop.reason}: {len(rows)} configuration(s) finished"
                   + (f", their rows written to {out}" if out is not None else "")
                   + "; the one being solved was stopped and is left out", err=True)
        sys.exit(128 + stop.signum)
    meta = b.machine()
    click.echo(f"\n{meta['date']} · {meta['cpu']} · {meta['cores']} cores · Python "
               f"{meta['python']} · commit {meta['commit']}")
    if out is not None:
        b.write_csv(rows, out)
        click.echo(f"results written to {out}")
    problems = b.check(rows)
    for line in problems:
        click.echo(f"FAIL {line}", err=True)
    if problems:
        sys.exit(1)
