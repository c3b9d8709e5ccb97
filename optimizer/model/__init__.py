"""The planning model: schema, parser, binding to an instance, the bound problem, the
objective's terms, a plan's figures, the independent verifier and the precheck."""


def __getattr__(name: str):
    """The names `optimizer.model` held in 0.1 (for one release; see optimizer/_moved.py)."""
    from .._moved import old_name

    return old_name(__name__, name, ("schema", "parse", "binding", "problem"))
