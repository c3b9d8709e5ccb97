# Two commands do all setup on a fresh machine (Python >= 3.11 and make):
#   make demo   solve the bundled North Ostrobothnia model, outputs in out/pohjois-pohjanmaa/
#   make test   run ruff, the test suite and the smoke benchmark (fails on a wrong optimum)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test instances bench-finland bench-literature fuzz-long clean

$(BIN)/optimizer: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/optimizer
	$(BIN)/optimizer solve models/pohjois-pohjanmaa.toml --out out/pohjois-pohjanmaa
	$(BIN)/optimizer check instances/finland/employment_areas_2025.csv \
		--model models/pohjois-pohjanmaa.toml --out out/pohjois-pohjanmaa-2025 || true

test: $(BIN)/optimizer
	$(BIN)/ruff check optimizer tests benchmarks
	$(BIN)/python -m pytest -q
	$(BIN)/optimizer bench smoke --out out/bench-smoke.csv

bench-finland: $(BIN)/optimizer
	$(BIN)/optimizer bench finland --out benchmarks/results/finland.csv

bench-literature: $(BIN)/optimizer
	$(BIN)/optimizer bench literature --out benchmarks/results/literature.csv

fuzz-long: $(BIN)/optimizer
	FUZZ=long $(BIN)/python -m pytest -q tests/test_fuzz.py --hypothesis-show-statistics

instances: $(BIN)/optimizer
	$(BIN)/optimizer instances build

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
