"""The back ends' names and what each is: the one list every layer checks a name against.

The model parser refuses an unknown `solver.backend` with it, help texts list it,
and `backends/__init__.py` checks that its registry of classes holds exactly the
solvers named here.
"""

from __future__ import annotations

SOLVERS: dict[str, str] = {
    "highs": "HiGHS in cut rounds, the incumbent as a cutoff",
    "cbc": "CBC through PuLP's binary, cut rounds",
    "cpsat": "OR-Tools CP-SAT, integer coefficients",
    "scip": "SCIP through OR-Tools, cut rounds",
    "scipopt": "SCIP through PySCIPOpt, contiguity separated inside one tree",
}
"""The MIP solvers, each a module of this package."""
PORTFOLIO = ("highs", "scipopt")
"""The back ends `portfolio` races (optimizer/solve.py), one process each."""
DESCRIPTIONS: dict[str, str] = {
    **SOLVERS,
    "portfolio": f"{' and '.join(PORTFOLIO)} raced in parallel, the first proof wins",
    "heuristic": "a quick verified plan with the LP or Lagrangian bound, never called optimal",
    "auto": "the default: HiGHS, or the portfolio for contiguous areas within a balance "
            "band on two or more cores (optimizer.solve.auto_backend)",
}
"""Every name a model, the command line or a suite may give as back end, with what it is."""
NAMES = tuple(DESCRIPTIONS)


def describe_backends() -> str:
    """`name (what it is)` for every back end, for help texts."""
    return "; ".join(f"{name} ({what})" for name, what in DESCRIPTIONS.items())
