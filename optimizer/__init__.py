"""Exact design of contiguous production regions with free MIP solvers.

The Python API mirrors the CLI: load a model, bind it to its instance, solve,
verify, evaluate.
"""

from . import _moved
from .data.instance import Instance
from .data.load import load_instance
from .data.plan import Plan
from .data.planfile import read_plan
from .errors import (
    BackendError,
    InfeasibleModelError,
    InputError,
    InstanceError,
    ModelError,
    OptimizerError,
    PlanError,
)
from .model.binding import bind
from .model.evaluate import evaluate
from .model.parse import load_model
from .model.problem import Problem
from .model.schema import PlanningModel
from .model.verify import Verification, verify
from .result import Solution
from .solve import solve

__version__ = "0.1.0"

_moved.install()  # release 0.1's deep import paths, for one release

__all__ = [
    "BackendError", "InfeasibleModelError", "InputError", "Instance", "InstanceError",
    "ModelError", "OptimizerError", "Plan", "PlanError", "PlanningModel", "Problem", "Solution",
    "Verification", "bind", "evaluate", "load_instance", "load_model", "read_plan", "solve",
    "verify",
]
