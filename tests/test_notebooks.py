"""Every notebook runs under a real Jupyter kernel (nbclient) and is committed without outputs.

Each notebook must show something, not only print: a table (an HTML output)
and a picture or the interactive map. The words checked are ones the notebook
can only print when its solve or check really happened.
"""

from __future__ import annotations

import json
import re
import sys
import time

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

sys.path.insert(0, str(ROOT / "notebooks"))
from render import offline_html  # notebooks/render.py: the HTML `make notebooks` writes

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = {
    "quickstart": ("status optimal", "plan verified: every rule holds", "leaflet"),
    "north-ostrobothnia": ("status optimal", "Kajaani", "municipalities change lead", "leaflet"),
    "scenarios": ("optimal", "infeasible", "areas: optimal", "fewest exempted areas: 1 (proven)",
                  "non-dominated points, all proven optimal", "local cluster, 2 workers"),
    "mainland": ("not proven", "plan verified: every rule holds",
                 "municipalities change lead", "leaflet"),
    "benchmarks": ("runs from", "finland"),
}


def test_the_issue_notebooks_exist():
    assert {p.stem for p in NOTEBOOKS} >= set(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), \
        f"commit {path.name} without outputs (Kernel → Restart & Clear Output)"


QUICK = {"mainland"}
"""Notebooks run here in their quick mode (OPTIMIZER_QUICK=1: the heuristic back end instead
of the exact solve, which `make notebooks` runs), to keep the suite within its time."""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_under_a_kernel_and_shows_results(path, monkeypatch):
    if path.stem in QUICK:
        monkeypatch.setenv("OPTIMIZER_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    print(f"{path.name}: executed in {time.perf_counter() - started:.1f} s")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    data = [o.get("data", {}) for o in outputs]
    text = "\n".join([o.get("text", "") for o in outputs]
                     + [d.get("text/plain", "") + d.get("text/html", "") for d in data])
    assert any("text/html" in d and "<table" in d["text/html"] for d in data), "no table shown"
    assert any("image/png" in d for d in data), "no picture shown"
    for word in EXPECTED.get(path.stem, ()):
        assert word.lower() in text.lower(), f"{path.name} never shows {word!r}"
    page = offline_html(nb)  # as `make notebooks` renders it
    fetched = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=[\"']?"
                         r"((?:https?:)?//[^\"' >]+)", page, flags=re.IGNORECASE)
    assert not fetched, f"{path.name}'s HTML loads {fetched[:3]} from the network"
