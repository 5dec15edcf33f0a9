# The two set-up commands: `make demo` and `make test`. Everything is installed from
# pyproject.toml, pinned by requirements.lock.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export SHANGLIANG_INSTANCE ?= $(CURDIR)/instance
# A test process per core; a file's tests stay together, so module-scoped fixtures are built once.
PARALLEL ?= -n auto --dist loadfile

.PHONY: demo test test-services install lock bench clean browser wrk

$(BIN)/shangliang: pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(BIN)/shangliang

demo: install
	$(BIN)/shangliang db upgrade
	$(BIN)/shangliang demo load
	@echo "Serving http://127.0.0.1:8000  (Ctrl-C to stop)"
	$(BIN)/shangliang serve --host 127.0.0.1 --port 8000

# Embedded default: SQLite, local files, in-process jobs. No services needed; the browser tests'
# Chromium is installed from Debian when it is missing.
test: install browser
	$(BIN)/pytest -q $(PARALLEL)

# The same suite against PostgreSQL, Redis and RabbitMQ on this machine and moto's S3 server.
# With CI=true a missing service fails the run instead of skipping.
test-services: install browser
	SHANGLIANG_TEST_SERVICES=1 $(BIN)/pytest -q $(PARALLEL)

# Headless Chromium for the browser tests, from Debian (Playwright's own download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

# The HTTP load generator of bench/pages.py, from Debian.
wrk:
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq wrk >/dev/null)

bench: install wrk
	$(BIN)/python bench/tenant_create.py
	$(BIN)/python bench/topics.py
	$(BIN)/python bench/portal.py
	$(BIN)/python bench/roster_import.py
	$(BIN)/python bench/pages.py

lock:
	$(BIN)/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) instance .pytest_cache
