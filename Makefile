# LabelHub: `make run` to try it with demo data (runtime dependencies only), `make test` to run the
# whole suite (adds the test dependencies).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# `make test` uses DATABASE_URL when set (CI points it at PostgreSQL), else SQLite.
TEST_ENV := DJANGO_ALLOW_ASYNC_UNSAFE=true

.PHONY: run test install install-test lint format migrate demo worker clean

# Running needs the runtime dependencies only; the tests and linters add the `test` extra (pytest,
# Playwright, datasets, moto, schemathesis…). uv (from PyPI, into the virtualenv) installs the
# dependencies listed in pyproject.toml, a few seconds from a warm cache; the code itself runs from
# this folder. Where uv cannot be had, pip installs the same, slower.
#
# The virtualenv is made without pip and the base Python's pip puts uv in it; uv then adds pip
# (`.venv/bin/pip`, which the docs and CI use) from its cache in a tenth of a second, where the
# venv module's own pip install takes 2-3 s of CPU. A base Python without pip (or one older than
# pip 22.3's --python) gets the venv module's pip, and uv through it, as before.
define venv_create
	{ $(PYTHON) -m venv --without-pip $(VENV) \
	  && $(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check uv \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python pip; } \
	  || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) \
	       && { $(BIN)/pip install --quiet --disable-pip-version-check uv || true; }; }
endef

define deps_install
	{ test -x $(BIN)/uv \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python -r pyproject.toml $(if $(1),--extra $(1)); } \
	  || $(BIN)/pip install --quiet --disable-pip-version-check ".$(if $(1),[$(1)])"
endef

$(BIN)/activate: pyproject.toml client/pyproject.toml
	$(call venv_create)
	$(call deps_install,)
	touch $(BIN)/activate

$(VENV)/.test-installed: $(BIN)/activate
	$(call deps_install,test)
	# The Python client and CLI (client/, its own package), editable: tests/client runs it.
	$(BIN)/pip install --quiet --disable-pip-version-check -e "./client[progress]"
	# Harbor's task loader checks the environment kind's exported task folders: the package
	# without its agent, LLM and cloud dependencies (the loader needs pydantic and these three).
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps "harbor==0.26.0" toml pathspec shortuuid
	touch $(VENV)/.test-installed

install: $(BIN)/activate

install-test: $(VENV)/.test-installed

run: install
	DEBUG=true TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend $(BIN)/python manage.py migrate --no-input
	DEBUG=true TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "LabelHub is starting at http://127.0.0.1:$(PORT)/  (Ctrl+C to stop)"
	DEBUG=true TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install-test
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	env -u DATABASE_URL DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	DEBUG=true $(BIN)/python manage.py db_worker --interval 0.2 --queue-name default,sandbox,evals

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* media staticfiles .pytest_cache .ruff_cache
