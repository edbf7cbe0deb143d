# Everything a fresh machine needs: `make main` (the comparison with PCA)
# and `make test` each create the virtual environment first if needed.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The CPU build of torch, installed before the project so that pip never
# pulls torch's CUDA packages in as a dependency.
TORCH := torch==2.13.0

.PHONY: main test lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[test,bench,lint]"
	touch $@

main: $(VENV)/.installed
	$(PY) benchmarks/compare_pca.py

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check skae tests benchmarks
	$(VENV)/bin/ruff format --check skae tests benchmarks

clean:
	rm -rf $(VENV)
