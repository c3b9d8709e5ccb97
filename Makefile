# Two commands do all setup on a fresh machine (Python >= 3.11 and make):
#   make demo   solve the bundled North Ostrobothnia model, outputs in out/pohjois-pohjanmaa/
#   make test   run ruff, the test suite and the smoke benchmark (fails on a wrong optimum)
#   make test-busy  the same while two busy loops load the cores (the suite must not
#                   depend on the machine's speed); the loops are stopped even on failure
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-busy instances bench-finland bench-literature bench-limits clean

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

BUSY_WORKERS ?= 2

test-busy: $(BIN)/optimizer
	@pids=""; \
	trap 'kill $$pids 2>/dev/null; wait $$pids 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq $(BUSY_WORKERS)); do \
		$(BIN)/python -c 'while True: pass' & pids="$$pids $$!"; \
	done; \
	echo "busy loops running: $$pids"; \
	$(MAKE) --no-print-directory test

bench-limits: $(BIN)/optimizer
	$(BIN)/python benchmarks/time_limits.py --busy --out benchmarks/results/time_limits.csv

bench-finland: $(BIN)/optimizer
	$(BIN)/optimizer bench finland --out benchmarks/results/finland.csv

bench-literature: $(BIN)/optimizer
	$(BIN)/optimizer bench literature --out benchmarks/results/literature.csv

instances: $(BIN)/optimizer
	$(BIN)/optimizer instances build

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
