# mesh-ui's front door: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# pytest-xdist workers for `make test` (README, "Tests in parallel"); TEST_WORKERS=0 runs the suite in one process.
# Tests marked `serial` run afterwards, alone.
TEST_WORKERS ?= 3

.PHONY: demo test install lint typecheck bench clean

NPM_STAMP := node_modules/.mesh-ui-stamp

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the browser libraries (apt-get install npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# The YAML editor's module imports CodeMirror from npm: esbuild bundles it into build/bundle/ (git-ignored),
# which the static-files finders serve as bundle/editor.js.
BUNDLE := build/bundle/editor.js
$(BUNDLE): $(NPM_STAMP) $(wildcard frontend/editor/*.js)
	npm run --silent build

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Translations (docs/dashboard.md, "Language"): the .po files are in git, the .mo files Django reads are compiled here
# and git-ignored. msgfmt (Debian's gettext) is what `manage.py compilemessages` runs, without needing the settings.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
%.mo: %.po
	@command -v msgfmt >/dev/null || { echo "msgfmt is needed for the translations (apt-get install gettext)"; exit 1; }
	msgfmt --check -o $@ $<

install: $(STAMP) $(NPM_STAMP) $(BUNDLE) $(MO_FILES)

demo: install
	PORT=$(PORT) $(BIN)/python scripts/demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

test: install lint typecheck
	$(BIN)/python manage.py check --settings tests.settings
	$(BIN)/python manage.py makemigrations --check --dry-run --settings tests.settings
	npm test --silent
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -m 'not serial'
	$(BIN)/pytest -m serial

bench: install
	$(BIN)/python bench/sync_inventory.py
	$(BIN)/python bench/graph_snapshot.py
	$(BIN)/python bench/graph_page.py
	$(BIN)/python bench/compare_build.py
	$(BIN)/python bench/telemetry_parse.py
	$(BIN)/python bench/simulator_exposition.py --compare-with 84274f6
	$(BIN)/python bench/validation.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/graph_derive.py
	$(BIN)/python bench/whatif.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(MO_FILES)
