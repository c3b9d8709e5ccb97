"""The `optimizer` command: a thin layer over the Python API, one module per command group.

Each command parses its options (cli/options.py declares the shared ones once),
calls the API and prints; named errors become exit codes in cli/app.py.
"""

from __future__ import annotations

import click

from ..version import __version__
from .app import Group, run
from .bench import bench
from .instances import instances
from .plans import check, compare_command, finance, report
from .scenarios import pareto, sweep
from .solve import solve

cli = Group(
    "optimizer", context_settings={"help_option_names": ["-h", "--help"]},
    commands=[solve, check, finance, compare_command, report, pareto, sweep, bench, instances],
    help="Design contiguous production areas (employment areas) exactly, with free MIP "
         "solvers.")
click.version_option(__version__, prog_name="optimizer")(cli)


def main() -> None:
    """The console script."""
    run(cli)


__all__ = ["cli", "main"]
