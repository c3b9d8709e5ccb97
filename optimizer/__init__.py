"""Exact design of contiguous production regions with free MIP solvers.

The Python API mirrors the CLI: load a model, bind it to its instance, solve,
verify, evaluate. The names below are loaded on first use, so that the command
line starts (and handles Ctrl-C) before numpy, scipy and the solvers are loaded.
"""

from importlib import import_module

from .errors import (
    BackendError,
    InfeasibleModelError,
    InputError,
    InstanceError,
    ModelError,
    OptimizerError,
    PlanError,
)

__version__ = "0.1.0"

_LAZY = {
    "evaluate": "figures", "Instance": "instance", "load_instance": "instance",
    "PlanningModel": "model", "Problem": "model", "bind": "model", "load_model": "model",
    "Plan": "plan", "read_plan": "plan", "Solution": "solve", "solve": "solve",
    "Verification": "verify", "verify": "verify",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


__all__ = [
    "BackendError", "InfeasibleModelError", "InputError", "Instance", "InstanceError",
    "ModelError", "OptimizerError", "Plan", "PlanError", "PlanningModel", "Problem", "Solution",
    "Verification", "bind", "evaluate", "load_instance", "load_model", "read_plan", "solve",
    "verify",
]
