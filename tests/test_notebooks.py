"""Notebooks are committed without outputs; their code cells must run as plain Python."""

from __future__ import annotations

import json

import matplotlib
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_has_no_outputs(path, monkeypatch, capsys):
    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    assert all(not c.get("outputs") for c in code), "commit notebooks without outputs"
    scope: dict = {}
    for cell in code:
        exec(compile("".join(cell["source"]), f"{path.name}", "exec"), scope)
    out = capsys.readouterr().out
    assert "optimal" in out and "Kajaani" in out
