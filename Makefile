# LabelHub: `make run` to try it with demo data, `make test` to run the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# `make test` uses DATABASE_URL when set (CI points it at PostgreSQL), else SQLite.
TEST_ENV := DJANGO_ALLOW_ASYNC_UNSAFE=true

.PHONY: run test install lint format migrate demo worker clean

$(BIN)/activate: pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet ".[test]"
	# The Python client and CLI (client/, its own package), editable: tests/client runs it.
	$(BIN)/pip install --quiet -e "./client[progress]"
	touch $(BIN)/activate

install: $(BIN)/activate

run: install
	DEBUG=true TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend $(BIN)/python manage.py migrate --no-input
	DEBUG=true TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "LabelHub is starting at http://127.0.0.1:$(PORT)/  (Ctrl+C to stop)"
	DEBUG=true TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	env -u DATABASE_URL DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	DEBUG=true $(BIN)/python manage.py db_worker --interval 0.2 --queue-name default,sandbox

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* media staticfiles .pytest_cache .ruff_cache
