# Parta: `make run` serves the school locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# pipefail: a failing pip fails the target even though its output goes through grep.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: run test install lint format lock messages bench-export clean

$(STAMP): requirements.lock
	@test -x $(BIN)/python || { echo "== Creating the virtualenv in $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "== Installing $$(grep -c '==' requirements.lock) pinned packages from requirements.lock (a few minutes on a fresh machine)"
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -r requirements.lock \
		| { grep -v '^Requirement already satisfied' || true; }
	@touch $(STAMP)
	@echo "== Installed"

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Parta is on http://127.0.0.1:$(PORT)/"
	@# One ASGI process serves pages and the chat's websockets (in-memory channel layer);
	@# it restarts when Python code changes.
	$(BIN)/uvicorn config.asgi:application --host 127.0.0.1 --port $(PORT) --lifespan off \
		--reload --reload-dir parta --reload-dir config

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['dev']))" > $(VENV)/direct.txt
	$(BIN)/python -m pip install --quiet --upgrade -r $(VENV)/direct.txt
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^pip==' > requirements.lock

# Rebuild the translation catalogues (needs GNU gettext).
messages: $(STAMP)
	$(BIN)/python manage.py makemessages --locale ru --ignore ".venv/*" --ignore "var/*" --no-obsolete
	$(BIN)/python manage.py compilemessages --locale ru --ignore ".venv/*"

bench-export: $(STAMP)
	$(BIN)/python bench/export_registrations.py

clean:
	rm -rf $(VENV) var/db.sqlite3 var/mail var/media var/static
