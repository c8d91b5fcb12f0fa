# jobsdb: `make demo` shows the package at work, `make test` checks everything from nothing.
# With DATABASE_URL set, both run against that server (the role must be able to create
# databases) instead of the embedded cluster in .jobsdb/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JOBSDB := $(VENV)/bin/jobsdb
PG_MAJOR := 15
EXTDIR := /usr/share/postgresql/$(PG_MAJOR)/extension
PKGLIBDIR := /usr/lib/postgresql/$(PG_MAJOR)/lib
SQL_DIRS := $(wildcard sql policies functions migrations tests/pgtap tests/helpers.sql tests/fixtures \
                     jobsdb/sql/doctor.sql \
                     jobsdb/shim)
PY_DIRS := $(wildcard jobsdb tests bench)
# Node tools (Deno, Supabase's type generator) from the npm registry, in a project-local folder.
TOOLS := .tools
DENO := $(CURDIR)/$(TOOLS)/node_modules/.bin/deno
FUNCTIONS := supabase/functions
# The app side: the client module (app/client), the example web app (app/web), their tests.
APP := app
APP_ENTRYPOINTS := client/mod.ts client/react.ts web/main.tsx tests/*.ts
DENO_ENV := DENO_DIR=$(CURDIR)/$(TOOLS)/deno NO_COLOR=1

.PHONY: help venv deps deps-pgbouncer deps-chromium tools types db db-stop demo test lint \
        lint-sql lint-py lint-plpgsql lint-ts lint-migrations pgtap pytest bench bench-scale fuzz chaos \
        migration-load install-check app-example clean

help:
	@echo "make demo   start the embedded database (or use DATABASE_URL), migrate, show it at work"
	@echo "make test   venv + packages + database + lint + pgTAP + pytest"
	@echo "make types  regenerate supabase/types/database.ts (Supabase's generator, from the newest release)"
	@echo "make app-example  the example web app (app/web) on a local stack, until Ctrl-C"
	@echo "make lint | tools | bench | bench-scale | fuzz | chaos | migration-load | install-check | db-stop | clean"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@# sqlfluff's Rust parser, where a wheel is published for this machine (same findings,
	@# measured: the SQL lint 60 s -> 23 s on 2 cores); without it sqlfluff parses in Python
	$(PY) -m pip install -q --only-binary=:all: \
	    "sqlfluffrs==$$($(PY) -c 'import sqlfluff; print(sqlfluff.__version__)')" || \
	    echo "note: no sqlfluffrs wheel for this machine; the SQL lint runs without it (slower)"
	touch $@

venv: $(VENV)/.installed

# PostgreSQL 15 server binaries, pgTAP and plpgsql_check: installed when root, else explained.
deps:
	@missing=""; \
	if [ -z "$$DATABASE_URL" ] && ! { [ -x /usr/lib/postgresql/$(PG_MAJOR)/bin/initdb ] || \
	    command -v initdb >/dev/null || \
	    { command -v pg_config >/dev/null && [ -x "$$(pg_config --bindir)/initdb" ]; }; }; then \
	    missing="$$missing postgresql-$(PG_MAJOR)"; fi; \
	if [ -z "$$DATABASE_URL" ] || [ -d $(EXTDIR) ]; then \
	    [ -f $(EXTDIR)/pgtap.control ] || missing="$$missing postgresql-$(PG_MAJOR)-pgtap"; \
	    [ -f $(EXTDIR)/plpgsql_check.control ] || \
	        missing="$$missing postgresql-$(PG_MAJOR)-plpgsql-check"; \
	fi; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing:$$missing"; \
	        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	    else \
	        echo "missing Debian packages:$$missing"; \
	        echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; \
	        exit 1; \
	    fi; \
	fi
	@# pg_cron (optional): its test runs a throw-away cluster and is skipped when it is missing
	@if [ -z "$$DATABASE_URL" ] && [ ! -f $(EXTDIR)/pg_cron.control ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing: postgresql-$(PG_MAJOR)-cron"; \
	        { apt-get update -q && \
	            DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-$(PG_MAJOR)-cron; } || \
	            echo "note: postgresql-$(PG_MAJOR)-cron could not be installed; the pg_cron test is skipped"; \
	    else \
	        echo "note: postgresql-$(PG_MAJOR)-cron is missing, so the pg_cron test is skipped;" \
	            "run: sudo apt-get install -y postgresql-$(PG_MAJOR)-cron"; \
	    fi; \
	fi
	@# wal2json (optional; a 64 kB package): the logical decoding plugin Supabase Realtime's
	@# Postgres Changes read; the partitioned-table tests decode with it, skipped when it is missing
	@if [ -z "$$DATABASE_URL" ] && [ ! -f $(PKGLIBDIR)/wal2json.so ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing: postgresql-$(PG_MAJOR)-wal2json"; \
	        { apt-get update -q && \
	            DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-$(PG_MAJOR)-wal2json; } || \
	            echo "note: postgresql-$(PG_MAJOR)-wal2json could not be installed; the Postgres" \
	                "Changes tests on a partitioned table are skipped"; \
	    else \
	        echo "note: postgresql-$(PG_MAJOR)-wal2json is missing, so the Postgres Changes tests on" \
	            "a partitioned table are skipped; run: sudo apt-get install -y postgresql-$(PG_MAJOR)-wal2json"; \
	    fi; \
	fi
	@# libfaketime (optional): the roll-up tests also run on a throw-away server whose clock is
	@# set just before a full hour; they are skipped, saying why, when it is missing
	@if ! ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing: libfaketime"; \
	        { apt-get update -q && \
	            DEBIAN_FRONTEND=noninteractive apt-get install -y -q libfaketime; } || \
	            echo "note: libfaketime could not be installed; the faked-clock roll-up tests are skipped"; \
	    else \
	        echo "note: libfaketime is missing, so the roll-up tests do not also run with a clock" \
	            "just before a full hour; run: sudo apt-get install -y libfaketime"; \
	    fi; \
	fi

# Deno (the npm registry's `deno` package), postgres-meta (the generator behind
# `supabase gen types`) and what the app side uses (React, supabase-js, esbuild, playwright-core,
# TypeScript), pinned in tools/package*.json, into .tools/ (root or not); then every npm: import
# of supabase/functions and of app/ cached in .tools/deno (pinned by their deno.lock), so
# checking and testing them needs no network. npm itself: Debian's nodejs + npm.
# DENO_TLS_CA_STORE=system: Deno also trusts the machine's CAs (a registry behind a proxy).
$(TOOLS)/.installed: tools/package.json tools/package-lock.json $(FUNCTIONS)/deno.json \
                     $(FUNCTIONS)/deno.lock $(APP)/deno.json $(APP)/deno.lock
	@if ! command -v npm >/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; \
	    else \
	        echo "npm is missing; run: sudo apt-get update && sudo apt-get install -y nodejs npm"; \
	        exit 1; \
	    fi; \
	fi
	mkdir -p $(TOOLS)
	cp tools/package.json tools/package-lock.json $(TOOLS)/
	npm install --prefix $(TOOLS) --ignore-scripts --no-audit --no-fund --loglevel=error
	cd $(FUNCTIONS) && $(DENO_ENV) DENO_TLS_CA_STORE=system,mozilla \
	    $(DENO) install --frozen --entrypoint */index.ts tests/*.ts
	cd $(APP) && $(DENO_ENV) DENO_TLS_CA_STORE=system,mozilla \
	    $(DENO) install --frozen --entrypoint $(APP_ENTRYPOINTS)
	touch $@

tools: $(TOOLS)/.installed

# One command: build a database holding the newest release, write the generator's type.
types: venv db tools
	$(PY) -m jobsdb.typegen

# PgBouncer (transaction pooling, as Supabase's port 6543) for the worker's pooler tests:
# installed when root; otherwise the command is printed and those tests skip, saying why.
deps-pgbouncer:
	@if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing: pgbouncer"; \
	        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgbouncer \
	        && { systemctl disable --now pgbouncer 2>/dev/null || \
	             service pgbouncer stop 2>/dev/null || true; }; \
	    else \
	        echo "pgbouncer is missing: its tests will be skipped;" \
	            "run: sudo apt-get update && sudo apt-get install -y pgbouncer"; \
	    fi; \
	fi

# Chromium (Debian's) for the example app's browser test: installed when root; otherwise the
# command is printed and that test skips, saying why.
deps-chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing: chromium"; \
	        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } || \
	            echo "note: chromium could not be installed; the browser test is skipped"; \
	    else \
	        echo "chromium is missing: the example app's browser test will be skipped;" \
	            "run: sudo apt-get update && sudo apt-get install -y chromium"; \
	    fi; \
	fi

db: venv deps deps-pgbouncer
	@if [ -z "$$DATABASE_URL" ]; then $(JOBSDB) db start; else echo "using DATABASE_URL"; fi

db-stop: venv
	$(JOBSDB) db stop

# The demo makes a database of its own (migrated there); it never migrates or touches yours.
demo: db
	$(JOBSDB) demo

lint-sql: venv
	@if [ -n "$(SQL_DIRS)" ]; then $(VENV)/bin/sqlfluff lint --processes 2 $(SQL_DIRS); fi

lint-py: venv
	$(VENV)/bin/ruff check $(PY_DIRS)

lint-plpgsql: db
	$(JOBSDB) lint

lint-ts: tools
	cd $(FUNCTIONS) && $(DENO_ENV) $(DENO) lint --quiet && \
	    $(DENO_ENV) $(DENO) check --frozen */index.ts tests/*.ts
	cd $(APP) && $(DENO_ENV) $(DENO) lint --quiet && \
	    $(DENO_ENV) $(DENO) check --frozen $(APP_ENTRYPOINTS)

# squawk over the migrations after 20261128171404 and the release steps (config: .squawk.toml)
lint-migrations: venv
	$(JOBSDB) lint-migrations

lint: lint-sql lint-py lint-migrations lint-plpgsql lint-ts

# The permission and RPC suites again on a database built with Supabase's automatic default
# grants switched off (newer projects): the package must grant explicitly what it means.
pgtap: db
	$(JOBSDB) test -j 2 --junit .jobsdb-junit/pgtap.xml
	JOBSDB_SHIM_AUTO_GRANTS=off $(JOBSDB) test -j 2 tests/pgtap/security tests/pgtap/queue

# The pgTAP files already ran in parallel above (`pgtap`); pytest can collect them too (one
# item per file, e.g. `pytest tests/pgtap`), but `make test` does not run them twice.
# Two processes (pytest-xdist, a file each at a time: most tests wait on other processes and
# the server, so two take about half the time on 2 cores); each test works in a database of
# its own. Then, alone, the tests marked serial: they compare what is cluster-wide (roles),
# which the others change, or count work that the cluster's other transactions change.
PYTEST_RUN := $(VENV)/bin/pytest -q -p no:cacheprovider --ignore=tests/pgtap
pytest: db tools deps-chromium
	$(PYTEST_RUN) -n 2 --dist loadfile -m 'not fuzz and not chaos and not serial'
	$(PYTEST_RUN) -m 'serial and not fuzz and not chaos'

test: venv deps tools db lint pgtap pytest

# The spec's pages on a database of their own (jobsdb_app_example, dropped at the end) with
# the stand-ins of tests/py/app_stack.py and two `jobsdb worker` processes (docs/app.md).
app-example: db tools
	$(PY) tests/py/app_stack.py $(if $(APP_PORT),--port $(APP_PORT)) \
	    $(if $(APP_DATABASE),--database $(APP_DATABASE))

bench: venv deps
	$(PY) -m bench

# The history at scale (bench/README.md, "The history at scale"): 10,000,000 jobs loaded into a
# throw-away cluster (about 30 GB of disk while it runs), then claim, the read RPCs and
# system_metrics measured against their goals. Not part of `make bench`: it takes about 40
# minutes. SCALE_ARGS passes options, e.g. SCALE_ARGS="--jobs 1000000 --upgrade-to 1.2.0".
bench-scale: venv deps
	$(PY) -m bench.scale $(SCALE_ARGS)

# addopts deselects fuzz and chaos; a later -m overrides it.
fuzz: db
	$(VENV)/bin/pytest -q -m fuzz

chaos: db
	$(VENV)/bin/pytest -q -m chaos

# The migrations-under-load property (part of make test at 100,000 jobs) at 1,000,000 jobs.
migration-load: db
	JOBSDB_MIGRATION_ROWS=1000000 $(VENV)/bin/pytest -q -s -p no:cacheprovider \
	    tests/py/test_migrations_under_load.py

# pip install into a fresh venv outside the checkout; --version, db start, migrate, worker --help
install-check:
	bash tests/install_check.sh

clean:
	-@[ -x $(JOBSDB) ] && [ -z "$$DATABASE_URL" ] && $(JOBSDB) db stop || true
	rm -rf .jobsdb .jobsdb-junit .jobsdb-artifacts $(VENV) $(TOOLS) *.egg-info .pytest_cache \
	    .ruff_cache .hypothesis $(APP)/web/dist
