"""Shared fixtures: tiny instances you can check by hand, and the installed back ends."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from optimizer.backends import installed_backends
from optimizer.data.instance import Instance
from optimizer.data.plan import Plan
from optimizer.model.binding import bind
from optimizer.model.evaluate import evaluate
from optimizer.model.schema import PlanningModel
from optimizer.model.verify import verify

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = installed_backends()
STRATEGIES = ("cuts", "flow")


def line_instance(x, attrs, weight=None, name="line") -> Instance:
    """Municipalities on a line at positions x; neighbours are consecutive; distance |x_i − x_j|."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    attributes = {k: np.asarray(v, dtype=float) for k, v in attrs.items()}
    attributes["w"] = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    return Instance(
        name=name, codes=tuple(f"{i}" for i in range(n)), names=tuple("abcdefghij"[:n]),
        attributes=attributes, edges=np.array([(i, i + 1) for i in range(n - 1)]),
        matrix=np.abs(x[:, None] - x[None, :]),
    )


def grid_instance(rows, cols, attrs, weight=None, name="grid") -> Instance:
    """A rows×cols grid, rook adjacency, Manhattan distance."""
    pos = [(r, c) for r in range(rows) for c in range(cols)]
    n = len(pos)
    edges = [(i, j) for i, j in itertools.combinations(range(n), 2)
             if abs(pos[i][0] - pos[j][0]) + abs(pos[i][1] - pos[j][1]) == 1]
    d = np.array([[abs(a[0] - b[0]) + abs(a[1] - b[1]) for b in pos] for a in pos], float)
    attributes = {k: np.asarray(v, dtype=float) for k, v in attrs.items()}
    attributes["w"] = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    return Instance(name=name, codes=tuple(str(i) for i in range(n)),
                    names=tuple(f"n{i}" for i in range(n)), attributes=attributes,
                    edges=np.array(edges), matrix=d)


def model_for(k, floors=None, caps=None, fixed=(), contiguity=True, organiser=None,
              own_area="alone", organiser_area=None, organiser_floors=None,
              **kw) -> PlanningModel:
    """A model in code; with an `organiser` (a code), k still counts every area (its own
    area plus the regional leads)."""
    from optimizer.model.schema import Objective, Organiser

    kr = (k, k) if isinstance(k, int) else tuple(k)
    org = None if organiser is None else Organiser(
        organiser, None if organiser_area is None else tuple(organiser_area), own_area,
        organiser_floors or {})
    return PlanningModel(name="test", instance_path=Path("unused"), areas=kr,
                         fixed_leads=tuple(fixed), floors=floors or {}, caps=caps or {},
                         objective=kw.pop("objective", Objective(travel_weight="w")),
                         contiguity=contiguity, organiser=org, **kw)


def every_plan(problem):
    """Every assignment of the instance (lead sets of the allowed sizes), with whether the
    verifier accepts it and its objective (None when it does not)."""
    n = problem.n
    for k in range(problem.k_min, problem.k_max + 1):
        for leads in itertools.combinations(range(n), k):
            others = [i for i in range(n) if i not in leads]
            for choice in itertools.product(leads, repeat=len(others)):
                lead = np.arange(n)
                lead[others] = choice
                plan = Plan.from_leads(problem.instance, lead)
                ok = verify(problem, plan).ok
                yield plan, ok, evaluate(problem, plan).objective if ok else None


def brute_force(problem) -> float | None:
    """Optimum by enumerating every lead set and assignment, judged by the verifier.

    Independent of the formulation; only for instances of up to ~8 municipalities.
    """
    return min((value for _, ok, value in every_plan(problem) if ok), default=None)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(params=STRATEGIES)
def strategy(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def north_ostrobothnia():
    from optimizer.model.parse import load_model

    return load_model(ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml")


__all__ = ["ROOT", "bind", "brute_force", "grid_instance", "line_instance", "model_for"]
