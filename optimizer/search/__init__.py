"""The speed-ups around the solver (`levers.py` switches them): the constructive heuristic,
the root relaxation and fixing by reduced cost, the lead-set descent, the tabu search, and
solves side by side in processes. None changes what is proven, only how fast."""
