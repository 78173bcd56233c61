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
	$(VENV)/bin/lint-imports
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir .site
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
	$(PIP) install --quiet -c constraints.txt -e '.[train,faiss,plots]'
	touch $@

$(VENV)/.installed-dev: $(INSTALL_INPUTS) $(VENV)/.torch
	$(PIP) install --quiet -c constraints.txt --group dev --group bench \
		-e '.[train,faiss,plots,onnx,serve,text,postgres,faces,glyphs,track,recommend,pretrained,tensorboard]'
	touch $@ $(VENV)/.installed-base

# Debian packages the tests, demos and application recipes read or start: Fashion-MNIST (IDX
# files), WordNet's own files, a PostgreSQL server for the shared-gallery tests, fonts for the
# glyph and signature sets (Noto scripts, handwriting hands), and opencv-doc's sample videos for
# tracking. Installed where apt-get exists, we are root and a package is absent (dpkg-query).
# Never fatal: each loader or test says what is missing.
HAND_FONTS := fonts-bwht fonts-dkg-handwriting fonts-femkeklaver fonts-breip fonts-rufscript \
	fonts-dancingscript fonts-kristi fonts-kaushanscript fonts-humor-sans fonts-sjfonts \
	fonts-ecolier-court fonts-tomsontalks fonts-tlwg-purisa-otf
DEB_PACKAGES := dataset-fashion-mnist wordnet-base postgresql fonts-noto-core opencv-doc $(HAND_FONTS)
data:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	  || echo "warning: could not install$$missing; the tests that need them say so"; \
	fi

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
