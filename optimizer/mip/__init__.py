"""The solver-neutral model: the MILP type, the formulation written once, and contiguity's
separator rows. Back ends translate what this package builds."""
