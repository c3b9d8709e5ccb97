# Two commands do all setup on a fresh machine (Python >= 3.11 and make):
#   make demo   solve the bundled North Ostrobothnia model, outputs in out/pohjois-pohjanmaa/
#   make test   run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench-smoke instances clean

$(BIN)/optimizer: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/optimizer
	$(BIN)/optimizer solve models/pohjois-pohjanmaa.toml --out out/pohjois-pohjanmaa
	$(BIN)/optimizer check instances/finland/employment_areas_2025.csv \
		--model models/pohjois-pohjanmaa.toml --out out/pohjois-pohjanmaa-2025 || true

test: $(BIN)/optimizer
	$(BIN)/ruff check optimizer tests
	$(BIN)/python -m pytest -q

instances: $(BIN)/optimizer
	$(BIN)/optimizer instances build

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
