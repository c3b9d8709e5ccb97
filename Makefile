# Two commands do all setup on a fresh machine (Python >= 3.11 and make):
#   make demo   solve the bundled North Ostrobothnia model, outputs in out/pohjois-pohjanmaa/,
#               and who pays what under that plan and under the 2025 areas
#   make test   run ruff, the test suite (notebooks, the report in headless Chromium) and the
#               smoke benchmark (fails on a wrong optimum)
#   make test-busy  the same while two busy loops load the cores (the suite must not
#                   depend on the machine's speed); the loops are stopped even on failure
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-busy browser docs notebooks instances bench-finland bench-literature \
	bench-limits bench-levers bench-scale fuzz-long clean

$(BIN)/optimizer: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/optimizer
	$(BIN)/optimizer solve models/pohjois-pohjanmaa.toml --out out/pohjois-pohjanmaa
	$(BIN)/optimizer finance out/pohjois-pohjanmaa/assignment.csv \
		--model models/pohjois-pohjanmaa.toml
	$(BIN)/optimizer finance instances/finland/employment_areas_2025.csv \
		--model models/pohjois-pohjanmaa.toml
	$(BIN)/optimizer report out/pohjois-pohjanmaa \
		--reference instances/finland/employment_areas_2025.csv
	$(BIN)/optimizer check instances/finland/employment_areas_2025.csv \
		--model models/pohjois-pohjanmaa.toml --out out/pohjois-pohjanmaa-2025 || true

test: $(BIN)/optimizer browser
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

# The report's browser test needs Debian's Chromium and chromedriver (no browser download).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		echo "installing chromium and chromium-driver (apt-get) for the browser test"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; } || \
		echo "could not install chromium: tests/test_browser.py will fail"; }

# The README's pictures from the demo (docs/map.png, docs/report.png, docs/pictures.json);
# tests/test_docs.py fails when they no longer show the demo's result.
docs: $(BIN)/optimizer browser
	$(BIN)/python docs/pictures.py

# Every notebook executed under a Jupyter kernel and rendered to HTML in out/notebooks/,
# pages that open offline (notebooks/render.py: no script or style from a CDN).
notebooks: $(BIN)/optimizer
	$(BIN)/python notebooks/render.py out/notebooks notebooks/*.ipynb

bench-finland: $(BIN)/optimizer
	$(BIN)/optimizer bench finland --out benchmarks/results/finland.csv

bench-literature: $(BIN)/optimizer
	$(BIN)/optimizer bench literature --out benchmarks/results/literature.csv

# The speed-ups: the US states (portfolio, the default for their class) and the Finnish
# suite with every lever on, then the ablation cases with each lever off in turn.
LEVERS_OFF := none root fixing incumbent lagrange root,fixing,incumbent,lagrange
bench-levers: $(BIN)/optimizer
	$(BIN)/optimizer bench literature --only '[A-Z][A-Z]' --backends portfolio \
		--contiguity cuts --time-limit 120 --out benchmarks/results/literature-portfolio.csv
	$(BIN)/optimizer bench finland --backends highs --contiguity cuts --time-limit 300 \
		--out benchmarks/results/finland-levers.csv
	for off in $(LEVERS_OFF); do \
		tag=$$(echo $$off | tr , -); arg=""; [ $$off = none ] || arg="--levers-off $$off"; \
		$(BIN)/optimizer bench literature --only LA,AR,IA,NE,pmedcap1_11 --backends highs \
			--contiguity cuts --time-limit 120 $$arg \
			--out benchmarks/results/ablation-literature-$$tag.csv || exit 1; \
		$(BIN)/optimizer bench finland --backends highs --contiguity cuts --time-limit 120 \
			--only mainland,pohjois-pohjanmaa-seed,pohjois-pohjanmaa-k5,pohjois-pohjanmaa-4-5-fte \
			$$arg --out benchmarks/results/ablation-finland-$$tag.csv || exit 1; \
	done
	$(BIN)/python benchmarks/render_ablation.py benchmarks/results/ablation-*.csv

# Scale: random planar instances of 800 and 5,000 municipalities (the sparse model), the
# suite's table, then each as a user runs it with a 4 GB memory limit (peak memory shown).
SCALE := benchmarks/models/scale
bench-scale: $(BIN)/optimizer
	$(BIN)/optimizer instances random --n 800 --seed 1 --out $(SCALE)/random-800.json
	$(BIN)/optimizer instances random --n 5000 --seed 7 --out $(SCALE)/random-5000.json
	$(BIN)/optimizer bench scale --out benchmarks/results/scale.csv
	for m in random-800:120 random-5000:300; do \
		/usr/bin/time -f "$${m%%:*}: peak resident memory %M KB, wall %e s" \
			$(BIN)/optimizer solve $(SCALE)/$${m%%:*}.toml -t $${m##*:} --memory-limit 4G \
			--quiet || exit 1; \
	done

# Ten times the fuzz cases with fresh seeds (report, compare, finance, pareto and sweep too,
# a real Dask scheduler and worker), and every long-running command stopped by each signal.
fuzz-long: $(BIN)/optimizer
	FUZZ=long FAULTS=long $(BIN)/python -m pytest -q -s tests/test_fuzz.py tests/test_faults.py \
		--hypothesis-show-statistics

instances: $(BIN)/optimizer
	$(BIN)/optimizer instances build

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
