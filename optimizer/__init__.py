"""Exact design of contiguous production regions with free MIP solvers.

The Python API mirrors the CLI: load a model, bind it to its instance, solve,
verify, evaluate.
"""

from .errors import (
                     BackendError,
                     InfeasibleModelError,
                     InputError,
                     InstanceError,
                     ModelError,
                     OptimizerError,
                     PlanError,
)
from .figures import evaluate
from .instance import Instance, load_instance
from .model import PlanningModel, Problem, bind, load_model
from .plan import Plan, read_plan
from .solve import Solution, solve
from .verify import Verification, verify

__version__ = "0.1.0"

__all__ = [
    "BackendError", "InfeasibleModelError", "InputError", "Instance", "InstanceError",
    "ModelError", "OptimizerError", "Plan", "PlanError", "PlanningModel", "Problem", "Solution",
    "Verification", "bind", "evaluate", "load_instance", "load_model", "read_plan", "solve",
    "verify",
]
