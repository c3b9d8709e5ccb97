"""The layout holds: no import cycle, imports only downwards, small modules and functions.

The layers are those of docs/extending.md; data flows one way (files → instance +
model → formulation → back end → result → verified plan → outputs) and no module
imports one above it. Imports inside functions count, except those of third-party
libraries, which are deferred on purpose (start-up time; docs/extending.md).
Run `python tests/test_architecture.py` for the import graph and the layer table.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "optimizer"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("errors", "values", "stopping", "status", "reading", "csvfile", "staging",
              "cluster", "version", "imports", "words", "memory", "_moved", "backends.names")),
    ("data", ("data",)),
    ("money inputs", ("economics.catalogue", "economics.cents", "economics.costs",
                      "economics.contract", "economics.subsidy", "economics")),
    ("model", ("model",)),
    ("formulation", ("mip",)),
    ("settlement", ("economics.settle", "economics.sources")),
    ("back ends", ("backends",)),
    ("result", ("result",)),
    ("search", ("search",)),
    ("solve", ("rounds", "sparse", "solve")),
    ("decisions", ("decisions",)),
    ("outputs", ("output",)),
    ("benchmarks", ("bench",)),
    ("command line", ("cli",)),
    ("public API", ("", "__main__")),
)
"""Lowest first: a module may import modules of its own layer or below."""
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80
LONG_REASON = "(long: "
"""A function over MAX_FUNCTION_LINES says why in its docstring, after this marker."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(name: str) -> int:
    """The layer of a module: the longest matching prefix wins."""
    best, rank = -1, None
    for k, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".") or prefix == "") \
                    and len(prefix) > best:
                best, rank = len(prefix), k
    assert rank is not None, f"optimizer.{name} is in no layer of LAYERS"
    return rank


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules `name` imports (at any depth, not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "":
        package = []
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.ImportFrom) and child.level:
                base = package[: len(package) - (child.level - 1)]
                target = ".".join([*base, *(child.module.split(".") if child.module else [])])
                for alias in child.names:
                    sub = f"{target}.{alias.name}" if target else alias.name
                    out.add(sub if sub in known else target)
            elif isinstance(child, ast.ImportFrom) and (child.module or "").startswith(
                    "optimizer"):
                out.add(child.module.removeprefix("optimizer").lstrip("."))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("optimizer"):
                        out.add(alias.name.removeprefix("optimizer").lstrip("."))
            visit(child)

    visit(tree)
    out.discard(name)
    return {m for m in out if m in known}


def graph() -> nx.DiGraph:
    mods = modules()
    known = set(mods)
    g = nx.DiGraph()
    g.add_nodes_from(known)
    for name, path in mods.items():
        for target in imports(name, path, known):
            g.add_edge(name, target)
    return g


def test_no_import_cycle():
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph()) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_imports_go_down_the_layers():
    up = [(a, b) for a, b in graph().edges if layer(b) > layer(a)]
    assert not up, "imports from a higher layer: " + ", ".join(
        f"optimizer.{a} ({LAYERS[layer(a)][0]}) → optimizer.{b} ({LAYERS[layer(b)][0]})"
        for a, b in up)


@pytest.mark.parametrize("name", sorted(modules()))
def test_module_is_small(name):
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"optimizer.{name}: {lines} lines"


def test_long_functions_say_why():
    long = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES and LONG_REASON not in (
                        ast.get_docstring(node) or ""):
                    long.append(f"optimizer.{name}.{node.name}: {size} lines")
    assert not long, "functions over 80 lines without a '(long: why)' in the docstring: " \
        + "; ".join(long)


def test_package_imports_are_at_the_top():
    """Only third-party libraries are imported inside functions (start-up time); a package
    module imported there would hide a dependency from the reader."""
    inside = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for child in ast.walk(node):
                if isinstance(child, ast.ImportFrom) and (
                        child.level or (child.module or "").startswith("optimizer")) \
                        and child.module != "_moved":
                    inside.append(f"optimizer.{name}.{node.name}")
    assert not inside, f"package imports inside functions: {sorted(set(inside))}"


def test_no_code_imports_an_old_path():
    """The 0.1 paths of optimizer/_moved.py are for users; the package uses the new ones."""
    from optimizer._moved import MOVED

    old = {m.removeprefix("optimizer.") for m in MOVED}
    bad = [(a, b) for a, b in graph().edges if b in old]
    assert not bad, f"old paths imported: {bad}"


def test_the_extending_guide_names_every_module():
    """docs/extending.md has a line for every module, so the tree it shows stays true."""
    guide = (PACKAGE.parent / "docs" / "extending.md").read_text(encoding="utf-8")
    missing = [str(p.relative_to(PACKAGE)) for p in modules().values()
               if p.name not in guide]
    assert not missing, f"not in docs/extending.md: {missing}"


if __name__ == "__main__":  # the import graph and the layers, for a reader
    g = graph()
    for k, (title, _) in enumerate(LAYERS):
        members = sorted(m for m in g if layer(m) == k)
        print(f"{k:2d} {title}: {', '.join('optimizer' + ('.' + m if m else '') for m in members)}")
    print()
    for name in sorted(g):
        targets = sorted(g.successors(name))
        if targets:
            print(f"optimizer.{name} → {', '.join(targets)}")
    cycles = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
    print(f"\n{g.number_of_nodes()} modules, {g.number_of_edges()} imports, "
          f"{len(cycles)} cycles")
    sys.exit(1 if cycles else 0)
