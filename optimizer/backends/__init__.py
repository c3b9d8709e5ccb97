"""Solver back ends, looked up by name."""

from __future__ import annotations

from ..errors import BackendError
from ..status import Status
from .base import Backend, SolverResult
from .cbc import CbcBackend
from .cpsat import CpSatBackend
from .highs import HighsBackend
from .names import DESCRIPTIONS, NAMES, PORTFOLIO, SOLVERS, describe_backends
from .scip import ScipBackend
from .scipopt import ScipOptBackend

REGISTRY: dict[str, type[Backend]] = {
    b.name: b for b in (HighsBackend, CbcBackend, CpSatBackend, ScipBackend, ScipOptBackend)
}

if set(REGISTRY) != set(SOLVERS):  # the two lists of solvers must agree
    raise ImportError(f"backends: classes {sorted(REGISTRY)} but names {sorted(SOLVERS)}")


def available(name: str) -> bool:
    """Whether the back end (or every entrant of the portfolio) is installed here."""
    if name in ("heuristic", "auto"):
        return True
    if name == "portfolio":
        return all(REGISTRY[b].available() for b in PORTFOLIO)
    return name in REGISTRY and REGISTRY[name].available()


def version(name: str) -> str:
    """The back end's solver and version, as results record it."""
    if name == "heuristic":
        return "heuristic"
    if name == "auto":
        return "auto: HiGHS, or the portfolio for balance bands"
    if name == "portfolio":
        return "portfolio: " + " / ".join(REGISTRY[b].version() for b in PORTFOLIO)
    return REGISTRY[name].version()


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


__all__ = ["DESCRIPTIONS", "NAMES", "PORTFOLIO", "REGISTRY", "Backend", "SolverResult", "Status",
           "available", "describe_backends", "get_backend", "installed_backends", "version"]
