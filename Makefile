# Ponder: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# npm ci rewrites this file: the JS tools (Biome) are installed and match the lock.
NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test lint fmt bench clean messages

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

run: $(STAMP)
	$(PY) -m ponder_run serve

test: $(STAMP) $(NODE_STAMP)
	$(PY) -m ponder_run test $(PYTEST_ARGS)

lint: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	npm run --silent lint

fmt: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	npm run --silent fmt

# Translation catalogs (locale/): extract every marked string, then compile. Needs GNU
# gettext (xgettext, msgfmt); the compiled .mo files are committed, so `make run` does not.
messages: $(STAMP)
	$(PY) manage.py makemessages
	$(PY) manage.py makemessages -d djangojs
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

bench: $(STAMP)
	$(PY) -m bench.compare --streams 10,100,200,300 --fast

clean:
	rm -rf var/static var/redis var/redis-test
