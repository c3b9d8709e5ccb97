"""Solver back ends, looked up by name."""

from __future__ import annotations

from ..errors import BackendError
from .base import Backend, SolverResult, Status
from .cbc import CbcBackend
from .cpsat import CpSatBackend
from .highs import HighsBackend
from .scip import ScipBackend
from .scipopt import ScipOptBackend

REGISTRY: dict[str, type[Backend]] = {
    b.name: b for b in (HighsBackend, CbcBackend, CpSatBackend, ScipBackend, ScipOptBackend)
}


def get_backend(name: str) -> Backend:
    """An instance of the back end called `name`; a clear error if unknown or not installed."""
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise BackendError(
            f"unknown back end {name!r} (choose from {', '.join(REGISTRY)})"
        ) from None
    if not cls.available():
        raise BackendError(f"back end {name!r} is not installed here")
    return cls()


def installed_backends() -> list[str]:
    return [name for name, cls in REGISTRY.items() if cls.available()]


__all__ = ["REGISTRY", "Backend", "SolverResult", "Status", "get_backend", "installed_backends"]
