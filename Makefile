# keras-suite: `make demo` and `make test` do all the set-up (a .venv made with the system python3).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# pytest-xdist workers; each runs TensorFlow on one intra-op thread (tests/conftest.py).
PYTEST_WORKERS ?= 2

.PHONY: install test lint demo bench clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

# The whole suite runs on TensorFlow; the backend-agnostic parts run on JAX and PyTorch too.
OTHER_BACKENDS := jax torch
BACKEND_TESTS := tests/layers tests/ops tests/losses tests/metrics tests/zoo tests/tuner tests/presets

test: lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope --durations=15 $(PYTEST_ARGS)
	@for backend in $(OTHER_BACKENDS); do \
		echo "== KERAS_BACKEND=$$backend"; \
		KERAS_BACKEND=$$backend $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope \
			--durations=5 $(PYTEST_ARGS) $(BACKEND_TESTS) || exit 1; \
	done

demo: $(STAMP)
	$(BIN)/keras-suite demo --out demo_out

bench: $(STAMP)
	@for script in benchmarks/*.py; do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; \
	done

clean:
	rm -rf $(VENV) build dist *.egg-info demo_out
