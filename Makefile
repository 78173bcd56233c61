# The two commands of the README. Both do all the set-up on a fresh machine and are quick
# on a second run (a stamp file remembers what was installed from which inputs).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
FMNIST_DIR ?= /usr/share/datasets/fashion-mnist
INSTALL_INPUTS := pyproject.toml constraints.txt

.PHONY: demo test bench lint typecheck data clean

demo: $(VENV)/.installed-base data
	$(VENV)/bin/siamkit demo

test: $(VENV)/.installed-dev data
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

# fmnist-openset: siamkit vs pytorch-metric-learning, 3 seeds; rewrites docs/benchmarks.md
bench: $(VENV)/.installed-dev data
	$(PY) bench/fmnist_openset.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, under the constraints file that pins it, so nothing else can resolve a CUDA build.
$(VENV)/.torch: constraints.txt | $(VENV)/bin/python
	$(PIP) install --quiet -c constraints.txt torch==2.13.0
	touch $@

$(VENV)/.installed-base: $(INSTALL_INPUTS) $(VENV)/.torch
	$(PIP) install --quiet -c constraints.txt -e '.[faiss,plots]'
	touch $@

$(VENV)/.installed-dev: $(INSTALL_INPUTS) $(VENV)/.torch
	$(PIP) install --quiet -c constraints.txt -e '.[dev,faiss,plots,bench]'
	touch $@ $(VENV)/.installed-base

# Debian's Fashion-MNIST (IDX files), where apt-get exists and the data is absent. Never fatal:
# the loader says how to get the files when they are missing.
data:
	@if [ ! -f $(FMNIST_DIR)/train-images-idx3-ubyte.gz ] && command -v apt-get >/dev/null 2>&1 \
	  && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's dataset-fashion-mnist"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
	  || echo "warning: could not install dataset-fashion-mnist; fashion-mnist runs will say how to get it"; \
	fi

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
