# moodtune: two commands on a fresh Debian/Ubuntu machine with Python 3.11:
#   make demo   # every shipped engine heard and measured on one page (runs/demo/index.html)
#   make test   # ruff + pytest, browser tests included
#   make serve  # the web page at http://127.0.0.1:8000
# Each installs what it needs (.venv, the package, libfluidsynth3; chromium for the tests) and skips what is
# already there.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.moodtune-installed
OUT ?= runs/demo

.PHONY: demo test lint bench setup system-deps browser clean models serve

demo: setup
	$(PY) -m moodtune demo --out "$(OUT)"

test: setup browser
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/pytest -q

lint: setup
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

setup: system-deps $(STAMP)

serve: setup
	$(PY) -m moodtune serve

# The browser tests drive the system Chromium (apt-get as root, as for libfluidsynth3).
browser:
	@bash scripts/ensure-browser.sh

# libfluidsynth3 renders MIDI to audio: apt-get as root, sudo when it works without a password,
# otherwise one line that says what to install.
system-deps:
	@bash scripts/ensure-system-deps.sh

$(VENV)/bin/python:
	@bash scripts/ensure-venv.sh "$(PYTHON)" "$(VENV)"

$(STAMP): pyproject.toml README.md | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

clean:
	rm -rf runs .pytest_cache .ruff_cache

bench: setup
	$(PY) benchmarks/run.py --out docs/benchmarks.md

# Train, evaluate and package the shipped models into src/moodtune/pretrained (about an hour on 2 cores);
# resumes where it stopped. RETRAIN="spectrogram" REASON="..." trains one again.
models: setup
	$(PY) scripts/make_models.py $(foreach m,$(RETRAIN),--retrain $(m)) $(if $(REASON),--reason "$(REASON)")
