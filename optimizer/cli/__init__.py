"""The `optimizer` command: a thin layer over the Python API, one module per command group."""

from . import bench, instances, plans, scenarios, solve  # noqa: F401  (each registers its commands)
from .app import cli, main

__all__ = ["cli", "main"]
