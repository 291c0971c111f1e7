# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv (pip) if missing, then runs dedup on the bundled demo feed
#   make test   creates .venv (pip) if missing, then runs the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench bench-scale venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,web,spark]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dedup demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check dedup tests scripts
	$(BIN)/ruff format --check dedup tests scripts
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,web,spark,bench]'
	$(BIN)/python scripts/bench_ingest.py
	$(BIN)/python scripts/bench_candidates.py
	$(BIN)/python scripts/bench_verify.py
	$(BIN)/python scripts/calibrate_scoring.py
	$(BIN)/python scripts/bench_quality.py
	$(BIN)/python scripts/bench_spark.py
	$(BIN)/python scripts/crash_test.py
	$(BIN)/python scripts/bench_hostile.py
	$(BIN)/python scripts/fuzz_readers.py
	$(BIN)/python scripts/bench_realworld.py
	$(BIN)/python scripts/calibrate_similarity.py
	$(BIN)/python scripts/bench_rewrites.py --pipeline
	$(BIN)/python scripts/bench_serve.py
	$(BIN)/python scripts/bench_trace.py

bench-scale: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,web,spark,bench]'
	$(BIN)/python scripts/bench_scale.py
	$(BIN)/python scripts/bench_open_grids.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
