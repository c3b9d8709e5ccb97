"""Named error types: every message names the file, key or municipality at fault."""

import signal


class OptimizerError(Exception):
    """Base class of all errors the toolkit raises on purpose."""


class InputError(OptimizerError):
    """Bad input: a file, key or value the user must fix (CLI exit code 2)."""


class InstanceError(InputError):
    """An instance file is missing, malformed or inconsistent."""


class ModelError(InputError):
    """A planning-model file has an unknown key, a wrong type or a bad value."""


class SuiteError(InputError):
    """A benchmark suite or best-known-values file is missing or malformed."""


class PlanError(InputError):
    """A plan file cannot be read (malformed rows, unknown columns)."""


class CatalogueError(InputError):
    """A service catalogue has a bad line: the message names the file, line and column."""


class FinanceError(InputError):
    """Finance input (subsidies, shares, keys) is missing or malformed."""


class StatisticsError(InputError):
    """A statistics overlay (a planner's own figures per municipality) is malformed."""


class InfeasibleModelError(OptimizerError):
    """The model has no feasible plan; the message says why when a reason is known."""


class BackendError(OptimizerError):
    """A solver back end is missing, failed, or cannot honour a request."""


class ClusterError(OptimizerError):
    """A Dask cluster lost its workers or its scheduler for too long (CLI exit code 1); the
    message says what was kept and how to resume."""


class MemoryBudgetError(OptimizerError):
    """The model would need more memory than the run may use; the message says how much
    and how to reduce it (CLI exit code 1)."""


class Interrupted(OptimizerError):
    """A signal (SIGINT, SIGTERM) ended the run; the CLI exits with 128 + its number."""

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message or f"interrupted by {signal_name(signum)}")
        self.signum = signum


def signal_name(signum: int | None) -> str:
    """SIGINT, SIGTERM, ... for messages."""
    try:
        return signal.Signals(signum).name
    except (TypeError, ValueError):
        return f"signal {signum}"
