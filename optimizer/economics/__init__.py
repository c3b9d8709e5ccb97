"""The money side of a plan: the service catalogue and its cost rates, the `[finance]`
contract, subsidies, whole cents, and the settlement of who pays what (`settle.py`, the one
module here that needs the bound model)."""
