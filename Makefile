# Two commands on a fresh machine: `make run` (service on embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
# make test's pytest-xdist workers: each runs its own servers, fakes, SeaweedFS and databases; the tests
# mostly wait on the product's timers (deadlines, leases), so more workers than cores pays off
TEST_WORKERS ?= 4

.PHONY: run test test-pythons check-windows bench lint duplicates clean

# The interpreter's version: the virtualenv is made anew when PYTHON names another one.
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

$(VENV)/.python-$(PYVER):
	@test -n "$(PYVER)" || { echo "make: '$(PYTHON)' does not run. Install it (pyenv: pyenv install 3.13), or give its path: make run PYTHON=/usr/bin/python3.13"; exit 1; }
	@case "$(PYVER)" in 3.11|3.12|3.13) ;; *) echo "make: PhotoChanger needs Python 3.11-3.13; $(PYTHON) is $(PYVER)"; exit 1;; esac
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	touch $@

$(VENV)/bin/python: | $(VENV)/.python-$(PYVER)

$(VENV)/.run-installed: pyproject.toml $(VENV)/.python-$(PYVER)
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.python-$(PYVER)
	$(VENV)/bin/pip install -q -e '.[dev,local-ai]'
	touch $@ $(VENV)/.run-installed

## run: create the virtualenv (again when PYTHON names another version), install, migrate and serve
## on embedded defaults (SQLite in the per-user data folder)
run: $(VENV)/.run-installed
	$(VENV)/bin/photochanger serve --host $(HOST) --port $(PORT)

## test: install dev dependencies, check style and layering (lint), run the whole suite
test: lint
	$(VENV)/bin/pytest -n $(TEST_WORKERS)

## test-pythons: install on Python 3.12 and 3.13 (fresh venvs) and run the booth's end-to-end tests there
test-pythons:
	scripts/test-other-pythons

## check-windows: every dependency (and the local-ai extra) has a Windows wheel on Python 3.11-3.13 (resolves, installs nothing)
check-windows: $(VENV)/.dev-installed
	UV=$(VENV)/bin/uv scripts/check-windows-wheels

## bench: gateway overhead under 30 concurrent booths (prints p50/p95/p99, throughput, RSS)
bench: $(VENV)/.dev-installed
	$(VENV)/bin/python -m bench.ingest_overhead

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## lint: ruff (rules and formatting), the import contracts of pyproject.toml (layering, no cycles),
## pyright on src/ (types), and for the UI's JavaScript Biome (rules and formatting), tsc (JSDoc types) and the
## translations' parity test
lint: $(VENV)/.dev-installed node_modules/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports
	node_modules/.bin/pyright
	node_modules/.bin/biome check --error-on-warnings
	node_modules/.bin/tsc -p tsconfig.json
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/web/test_i18n.py

clean:
	rm -rf $(VENV) .venv-3.* var
