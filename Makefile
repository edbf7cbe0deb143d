# Everything a fresh machine needs: `make main` (the comparison with PCA)
# and `make test` each create the virtual environment first if needed.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The CPU build of torch, installed before the project so that pip never
# pulls torch's CUDA packages in as a dependency. Where pip reads public
# PyPI, whose Linux torch wheel is the CUDA build, pass PyTorch's CPU index:
#   make main TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH := torch==2.13.0
TORCH_PIP_ARGS ?=

.PHONY: main reference test lint docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH) $(TORCH_PIP_ARGS)
	$(PY) -m pip install --quiet -e ".[test,bench,lint,docs]"
	touch $@

# The main job writes to a folder git ignores; `make reference` rewrites
# the tracked reference results in benchmarks/results/.
main: $(VENV)/.installed
	$(PY) benchmarks/compare_pca.py --out benchmarks/results/local

reference: $(VENV)/.installed
	$(PY) benchmarks/compare_pca.py

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check skae tests benchmarks docs
	$(VENV)/bin/ruff format --check skae tests benchmarks docs

# Warnings are errors, every reference must resolve (-n, nitpicky), offline
# (the intersphinx inventories are in docs/_inventories); every gallery
# example runs.
docs: $(VENV)/.installed
	$(VENV)/bin/sphinx-build -n -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build docs/auto_examples docs/generated
