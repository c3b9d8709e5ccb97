"""Exact design of contiguous production regions with free MIP solvers.

The Python API mirrors the command line: load a model, bind it to its instance,
answer its question, verify the plan, see what it costs whom, write the outputs.
The layout of the package and what each part may import: docs/extending.md.
"""

from . import _moved
from .data.instance import Instance
from .data.load import load_instance
from .data.plan import Plan
from .data.planfile import read_plan
from .data.statistics import read_statistics
from .decisions.base import Decision, SolveOptions
from .decisions.compare import PlanComparison, compare_plans
from .decisions.exemptions import exempted_areas
from .decisions.moves import moves_curve
from .decisions.pareto import pareto_front
from .decisions.question import solve_model
from .decisions.sweep import grid
from .economics.settle import Finance, settle
from .economics.sources import money_sources
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
from .model.evaluate import PlanFigures, evaluate
from .model.parse import load_model
from .model.problem import Problem
from .model.schema import PlanningModel
from .model.verify import Verification, verify
from .output.map_html import Embedded, PlanLayer, map_html
from .output.map_png import draw_areas
from .output.municipalities import municipality_frame
from .output.run_dir import load_run
from .output.summary import run_summary
from .output.sweep import run_sweep
from .output.text import organiser_line, plan_title, solver_line, status_words
from .output.write import write_outputs
from .result import Solution
from .solve import solve
from .status import Status
from .version import __version__

_moved.install()  # release 0.1's deep import paths, for one release

__all__ = [
    "BackendError", "Decision", "Embedded", "Finance", "InfeasibleModelError", "InputError",
    "Instance", "InstanceError", "ModelError", "OptimizerError", "Plan", "PlanComparison",
    "PlanError", "PlanFigures", "PlanLayer", "PlanningModel", "Problem", "Solution",
    "SolveOptions", "Status", "Verification", "__version__", "bind", "compare_plans",
    "draw_areas", "evaluate", "exempted_areas", "grid", "load_instance", "load_model",
    "load_run", "map_html", "money_sources", "moves_curve", "municipality_frame",
    "organiser_line", "pareto_front", "plan_title", "read_plan", "read_statistics",
    "run_summary", "run_sweep", "settle", "solve", "solve_model", "solver_line",
    "status_words", "verify", "write_outputs",
]
