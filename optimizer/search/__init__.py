"""The speed-ups around the solver (see `solve.Levers`): the root relaxation and variable
fixing, a stronger incumbent (lead-set descent, tabu search), and solves side by side in
parallel processes. None of them decides what is proven; each only makes it sooner."""
