# mentorbot: every target sets itself up in a local virtual environment (.venv).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo console test lint i18n catalogs assets bench diagrams wheel clean train-safety

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP) catalogs assets

# The studio draws flow diagrams with mermaid, taken from the npm registry at install time
# (pinned; never committed, never fetched at run time). Without npm the page shows the text.
MERMAID_VERSION := 11.17.2
MERMAID := bot/studio/static/vendor/mermaid.min.js
assets: $(MERMAID)
$(MERMAID):
	@mkdir -p $(dir $@)
	@if command -v npm >/dev/null 2>&1; then \
		tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent mermaid@$(MERMAID_VERSION) >/dev/null) \
		&& tar -xzf $$tmp/mermaid-$(MERMAID_VERSION).tgz -C $$tmp package/dist/mermaid.min.js \
		&& mv $$tmp/package/dist/mermaid.min.js $@; rm -rf $$tmp; \
	fi; [ -f $@ ] || echo "mermaid not installed (npm missing?): the studio shows diagrams as text"

# Compile the gettext catalogs (.po in git, .mo built here, never committed).
catalogs: $(STAMP)
	@if ls locales/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -d locales -D messages --statistics; fi

# The studio: mentor and mentees side by side in a web page, on a virtual clock (local store).
demo: setup
	$(BIN)/mentorbot studio --data .demo-data

# The same people in the terminal.
console: setup
	$(BIN)/mentorbot console --data .demo-data --as console:alice

test: setup
	$(BIN)/python -m pytest --cov=bot --cov-report=term-missing:skip-covered -p no:cacheprovider

lint: setup
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/mypy --strict bot
	bash scripts/check_catalogs.sh

# Extract texts from flows/*.yaml, update the .po files, compile them.
i18n: $(STAMP)
	bash scripts/i18n.sh

# Redraw docs/flows.md from the flows.
diagrams: setup
	MENTORBOT=$(BIN)/mentorbot bash scripts/flow_diagrams.sh

# Rebuild the article 6 semantic layer (bot/policies/safety_model/model.json) from the corpus
# (tests/corpus/safety*.yaml; thresholds chosen on the dev split, never the held-out one).
train-safety: setup
	$(BIN)/python scripts/train_safety.py --compare

bench: setup
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The wheel an operator installs (flows, stories, templates and compiled catalogs inside).
wheel: setup
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation --wheel-dir dist .

clean:
	rm -rf $(VENV) .demo-data test-artifacts $(MERMAID) build dist .coverage htmlcov .mypy_cache .ruff_cache .pytest_cache
