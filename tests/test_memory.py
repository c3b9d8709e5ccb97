"""Memory as a budget: sizes, the estimate that picks the model, the one-line refusal, the
guard that stops a solve instead of letting the process die."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import line_instance, model_for

from optimizer.errors import InputError, MemoryBudgetError
from optimizer.memory import MemoryBudget, MemoryGuard, parse_size
from optimizer.mip.formulation import build
from optimizer.mip.pairs import estimate
from optimizer.model.binding import bind
from optimizer.sparse import needs_sparse

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("text", "size"), [("4G", 4 * 2**30), ("4 GB", 4 * 2**30),
                                            ("512M", 512 * 2**20), ("1.5GiB", 3 * 2**29),
                                            ("100000000", 100_000_000)])
def test_sizes_are_read_with_their_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "4X", "-1G", "nan", "10M", "G"])
def test_bad_sizes_are_bad_input(text):
    with pytest.raises(InputError, match="--memory-limit"):
        parse_size(text)


def test_the_estimate_bounds_the_model_built():
    """The estimate counts at least the pairs and nonzeros the formulation creates."""
    inst = line_instance([0, 1, 2, 4, 7, 8, 9], {"lf": [3, 1, 4, 1, 5, 9, 2]})
    problem = bind(model_for(3, floors={"lf": 6}), inst)
    size = estimate(problem)
    form = build(problem)
    assert size.pairs >= form.num_pairs
    assert size.nonzeros >= form.milp.A.nnz


def test_a_model_too_large_that_only_pairs_can_replace_is_refused_in_words():
    inst = line_instance([0, 1, 2, 4, 7, 8, 9], {"lf": [3, 1, 4, 1, 5, 9, 2]})
    from optimizer.model.schema import Exemptions

    problem = bind(model_for(3, floors={"lf": 6},
                             exemptions=Exemptions(enabled=True)), inst)
    with pytest.raises(MemoryBudgetError, match=r"needs about .* memory limit"):
        needs_sparse(problem, "cuts", MemoryBudget(2**20))
    plain = bind(model_for(3, floors={"lf": 6}), inst)
    assert needs_sparse(plain, "cuts", MemoryBudget(2**20)) is not None  # the sparse model
    assert needs_sparse(plain, "cuts", MemoryBudget.default()) is None


def test_the_guard_asks_the_solve_to_stop_past_the_limit():
    said = []
    with MemoryGuard(MemoryBudget(2**20), said.append, hard=False) as guard:
        end = time.perf_counter() + 5
        while not said and time.perf_counter() < end:
            time.sleep(0.05)
    assert said and "memory limit" in said[0] and guard.tripped == said[0]


def test_the_command_says_in_one_line_what_the_model_would_need(tmp_path):
    """A model that cannot take the sparse model is refused, exit 1, one error line."""
    r = subprocess.run([sys.executable, "-m", "optimizer", "solve",
                        str(ROOT / "benchmarks/models/finland/lappi.toml"), "-k", "3",
                        "--exemptions", "--memory-limit", "100M"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "memory limit" in errors[0] and "GB" in errors[0]
    assert "Traceback" not in r.stderr
