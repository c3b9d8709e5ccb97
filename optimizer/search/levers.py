"""The speed-ups around the solver, their switches (for the ablation) and their budgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BackendError

HEURISTIC_SECONDS = 2.0
"""Most time the heuristic may take before the solver starts."""


HEURISTIC_STARTS_ALONE = 200
"""Starts per area count when the heuristic is the whole answer (`--backend heuristic`)."""


REPAIR_SECONDS = 1.0
"""Most time spent turning one relaxed optimum into a contiguous plan."""


HEURISTIC_SHARE = 0.1
"""Share of a time limit the heuristic may take."""


INCUMBENT_SECONDS = 10.0
"""Most time the lead-set descent (search/incumbent.py) may take before the full solve."""


INCUMBENT_SHARE = 0.2
"""Share of a time limit the lead-set descent may take."""


ROOT_SHARE = 0.2
"""Share of a time limit the root relaxation may take."""


LOCAL_SECONDS = 5.0
"""Most time the tabu search (search/localsearch.py) may take when the heuristic finds no plan."""


LOCAL_SHARE = 0.1
"""Share of a time limit the tabu search may take."""


SEARCH_MIN_N = 40
"""Fewer municipalities than this: no lead-set descent and no tabu search (the MIP is done
sooner: with them North Ostrobothnia's 5 areas took 3.9 s instead of 1.0 s, while the
mainland's 45 areas took 11.7 s instead of 43.9 s)."""


HEURISTIC_SECONDS_BEFORE_DESCENT = 1.0
"""Most time the heuristic may take when the lead-set descent can follow."""


DESCENT_GAP = 0.01
"""The lead-set descent runs when the incumbent is further than this (relative) from the
root bound, or when there is none."""


@dataclass(frozen=True)
class Levers:
    """The speed-ups around the solver, each of which can be switched off (for the
    ablation in benchmarks/README.md). None changes what is proven, only how fast.

    `root`: solve the LP relaxation first, with separator rows at fractional points
    (search/fixing.py), and hand the rows to the solver; `fixing`: fix columns by reduced cost
    against the incumbent; `incumbent`: improve the incumbent by the lead-set descent
    (search/incumbent.py) before the full solve; `lagrange`: the Lagrangian bound
    (search/lagrange.py, from the root LP's duals) and the pairs and leads it fixes against
    the incumbent, again after every better incumbent.
    """

    root: bool = True
    fixing: bool = True
    incumbent: bool = True
    lagrange: bool = True

    @classmethod
    def parse(cls, off: str | None) -> Levers:
        """Levers with the comma-separated names in `off` switched off."""
        names = [x.strip() for x in (off or "").split(",") if x.strip()]
        unknown = [x for x in names if x not in cls.__dataclass_fields__]
        if unknown:
            raise BackendError(f"unknown lever {unknown[0]!r} (choose from "
                               f"{', '.join(cls.__dataclass_fields__)})")
        return cls(**dict.fromkeys(names, False))

    def off(self) -> tuple[str, ...]:
        """The names of the levers switched off."""
        return tuple(n for n in self.__dataclass_fields__ if not getattr(self, n))


NO_LEVERS = Levers(root=False, fixing=False, incumbent=False, lagrange=False)


LAGRANGE_SECONDS = 2.0
"""Most time the Lagrangian bound may take before the search (its subgradient steps)."""
LAGRANGE_SHARE = 0.1
"""Share of a time limit the Lagrangian bound may take."""
LAGRANGE_UNLESS_FIXED = 0.9
"""The Lagrangian bound against the plan is left out when the root LP's reduced costs have
already fixed this share of the pairs (the mainland: 93 % fixed, and the Lagrangian's
2-3 s then bought nothing)."""
LAGRANGE_ITERATIONS = 300
"""Most subgradient steps of the Lagrangian bound before the search."""


HEURISTIC_STEPS = 1000
"""Deterministic mode: the heuristic's budget in steps (repair moves and improvement
passes) instead of seconds; enough for every instance measured to finish its starts."""


REPAIR_STEPS = 200
"""Deterministic mode: steps spent turning one relaxed optimum into a contiguous plan."""
