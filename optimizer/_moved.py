"""The deep import paths of release 0.1, kept working for one release (removed in 0.3).

The package was laid out by concern in 0.2 (docs/extending.md). A user's
`from optimizer.plan import read_plan` still works: importing an old path gives
a module whose names are looked up in the modules that hold them now, with a
DeprecationWarning naming the new path. Nothing inside the package imports an
old path (tests/test_architecture.py checks).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

MOVED: dict[str, tuple[str, ...]] = {
    "optimizer.plan": ("optimizer.data.plan", "optimizer.data.planfile",
                       "optimizer.data.matching"),
    "optimizer.instance": ("optimizer.data.instance", "optimizer.data.nodelink",
                           "optimizer.data.load"),
    "optimizer.readers": ("optimizer.data.orlib",),
    "optimizer.finland": ("optimizer.data.finland",),
    "optimizer.generate": ("optimizer.data.generate",),
    "optimizer.terms": ("optimizer.model.objective",),
    "optimizer.figures": ("optimizer.model.evaluate",),
    "optimizer.verify": ("optimizer.model.verify",),
    "optimizer.precheck": ("optimizer.model.precheck",),
    "optimizer.milp": ("optimizer.mip.milp",),
    "optimizer.formulation": ("optimizer.mip.formulation",),
    "optimizer.contiguity": ("optimizer.mip.contiguity",),
    "optimizer.heuristic": ("optimizer.search.heuristic",),
    "optimizer.files": ("optimizer.staging",),
    "optimizer.progress": ("optimizer.cli.progress",),
    "optimizer.report": ("optimizer.output.text",),
    "optimizer.outputs": ("optimizer.output.write",),
    "optimizer.maps": ("optimizer.output.map_png", "optimizer.output.geometry"),
    "optimizer.reporting": ("optimizer.output",),
    "optimizer.reporting.interactive": ("optimizer.output.map_html",),
    "optimizer.reporting.leaflet": ("optimizer.output.leaflet",),
    "optimizer.reporting.geopackage": ("optimizer.output.gpkg",),
    "optimizer.reporting.municipalities": ("optimizer.output.municipalities",),
    "optimizer.reporting.html": ("optimizer.output.report_html",),
    "optimizer.reporting.run": ("optimizer.output.run_dir",),
    "optimizer.reporting.comparison": ("optimizer.decisions.compare",),
    "optimizer.economics.finance": ("optimizer.economics.settle",
                                    "optimizer.economics.cents"),
    "optimizer.economics.terms": ("optimizer.economics.contract",),
    "optimizer.economics.tables": ("optimizer.output.text",),
    "optimizer.decisions.run": ("optimizer.decisions.base", "optimizer.decisions.question"),
}
"""Old module → the modules its public names live in now (looked up in this order)."""

MOVED_NAMES: dict[str, dict[str, str]] = {
    "optimizer.decisions.sweep": dict.fromkeys(
        ("record", "finished", "run_sweep", "summary_csv", "write_summary", "summary_table",
         "RESULT_FILE", "FINISHED"), "optimizer.output.sweep"),
    "optimizer.decisions.pareto": dict.fromkeys(
        ("front_csv", "front_table", "write_front"), "optimizer.output.front"),
    "optimizer.decisions.moves": dict.fromkeys(
        ("curve_csv", "curve_table", "write_curve"), "optimizer.output.curve"),
    "optimizer.decisions.compare": dict.fromkeys(
        ("comparison_text", "comparison_csv", "comparison_markdown", "write_comparison",
         "continues", "area_rows"), "optimizer.output.comparison"),
}
"""Names that left a module which still exists: module → {name: the module holding it now}."""


class _Alias(types.ModuleType):
    """An old module path: each name resolves in the new modules on first use."""

    def __init__(self, name: str, targets: tuple[str, ...]) -> None:
        super().__init__(name, f"Moved in 0.2 to {', '.join(targets)}.")
        self.__targets = targets
        self.__path__: list[str] = []  # a package, so that old sub-paths import too

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        for target in self.__targets:
            module = importlib.import_module(target)
            if hasattr(module, attr):
                warnings.warn(f"{self.__name__}.{attr} moved to {target}.{attr}",
                              DeprecationWarning, stacklevel=2)
                return getattr(module, attr)
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r} "
                             f"(it moved to {', '.join(self.__targets)})")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _Alias(spec.name, MOVED[spec.name])

    def exec_module(self, module) -> None:
        pass


def install() -> None:
    """Make the old paths importable (once per process)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())


def getattr_for(module: str):
    """A module `__getattr__` that finds the names listed for `module` in `MOVED_NAMES`."""
    names = MOVED_NAMES[module]

    def __getattr__(attr: str):
        if attr not in names:
            raise AttributeError(f"module {module!r} has no attribute {attr!r}")
        warnings.warn(f"{module}.{attr} moved to {names[attr]}.{attr}", DeprecationWarning,
                      stacklevel=2)
        return getattr(importlib.import_module(names[attr]), attr)

    return __getattr__


def old_name(package: str, attr: str, submodules: tuple[str, ...]):
    """A name a package module of 0.1 held itself, now in one of its `submodules` (for the
    package's `__getattr__`), with a DeprecationWarning."""
    for sub in submodules:
        module = importlib.import_module(f"{package}.{sub}")
        if not attr.startswith("_") and hasattr(module, attr):
            warnings.warn(f"{package}.{attr} moved to {package}.{sub}.{attr}",
                          DeprecationWarning, stacklevel=3)
            return getattr(module, attr)
    raise AttributeError(f"module {package!r} has no attribute {attr!r}")
