# Two commands set everything up on a fresh machine with Python 3.11:
#   make run    the whole product on its embedded default (SQLite, embedded Redis, emulator, demo data)
#   make test   installs what it needs and runs the checks and the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp
# Every package pinned with its hashes: production.txt for the image, dev.txt (production + the dev and
# local extras) for `make`. Both are generated from pyproject.toml by `make lock`.
PRODUCTION_LOCK = requirements/production.txt
LOCK = requirements/dev.txt
LOCK_FLAGS = --quiet --generate-hashes --allow-unsafe --strip-extras --all-build-deps --no-emit-index-url --no-emit-find-links
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: install lock lock-check run test lint bench soak clean

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	@$(PYTHON) requirements/check.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

lock-check:
	@$(PYTHON) requirements/check.py

# Regenerate both lock files after a change to pyproject.toml (pins already in the lock are kept; add
# PIP_COMPILE_ARGS=--upgrade to move every indirect dependency to its newest version).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip-compile $(LOCK_FLAGS) $(PIP_COMPILE_ARGS) --output-file $(PRODUCTION_LOCK) pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) $(PIP_COMPILE_ARGS) --extra dev --extra local --constraint $(PRODUCTION_LOCK) \
		--output-file $(LOCK) pyproject.toml

run: install
	$(BIN)/python -m channel_manager.launcher

test: lock-check install
	DJANGO_SETTINGS_MODULE=channel_manager.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every benchmark prints its figures; `python -m bench.<name>` runs one.
bench: install
	@if [ -f bench/__main__.py ]; then $(BIN)/python -m bench; \
	else for module in bench/[a-z]*.py; do \
		[ -e "$$module" ] || { echo "No benchmarks in bench/ yet."; break; }; \
		name=$$(basename "$$module" .py); echo "== bench.$$name"; $(BIN)/python -m "bench.$$name" || exit 1; \
	done; fi

# The fault soak (bench/soak): the production shape on loopback under load and faults, then Walmart's truth
# against the product's. `make soak` (about 35 min), `make soak QUICK=1` (under 10); exits 1 when something
# was lost, done twice or left stuck. PostgreSQL / Redis from DATABASE_URL / REDIS_URL, else its own.
soak: install
	$(BIN)/python -m bench.soak $(if $(QUICK),--quick) $(SOAK_ARGS)

clean:
	rm -rf $(VENV) var/*.sqlite3* var/redis var/static
