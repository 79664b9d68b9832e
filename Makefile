# The README's commands. Each target sets up what it needs first, so a fresh clone needs only
# `make run` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
STAMP  := $(VENV)/.installed
CATALOGUES := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
COMPILED   := $(CATALOGUES:.po=.mo)

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: setup run test lint bench bench-exports bench-scale translations extract-messages clean

setup: $(STAMP) $(COMPILED)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

portal/translations/%/LC_MESSAGES/messages.mo: portal/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d portal/translations -l $* >/dev/null

translations: $(COMPILED)

# Re-extract the catalogue template and merge it into every language (run after adding strings).
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching --ignore-obsolete

run: setup
	$(BIN)/portal keys init
	$(BIN)/portal db upgrade
	$(BIN)/portal demo load --if-empty
	$(BIN)/portal serve --port $(PORT)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check portal tests migrations bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/run.py

# Exports only (bench/README.md): minutes of 50 pages and a meeting pack of 200, PDF, DOCX and Markdown,
# through the renderers alone and end to end over HTTP (built through the services on a fresh SQLite database).
bench-exports: setup
	$(BIN)/python bench/export_bench.py

# The portal at scale over HTTP (bench/README.md): seed (or finish seeding) one PostgreSQL database per size,
# then measure each with concurrent clients, then print how the figures grow. Takes several minutes.
BENCH_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432
BENCH_SIZES    ?= 10000 100000
bench-scale: setup
	@set -e; results=""; for size in $(BENCH_SIZES); do \
	  url="$(BENCH_POSTGRES)/portal_bench_$$size"; \
	  $(BIN)/python bench/seed.py --database-url "$$url" --documents $$size --rooms 20 --users 2000; \
	  $(BIN)/python bench/http_bench.py --database-url "$$url" --output bench/results/http-scale-$$size.json; \
	  results="$$results bench/results/http-scale-$$size.json"; \
	done; $(BIN)/python bench/http_bench.py --compare $$results

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
