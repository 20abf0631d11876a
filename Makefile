# mentorbot: every target sets itself up in a local virtual environment (.venv).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test lint i18n catalogs bench diagrams clean train-safety

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP) catalogs

# Compile the gettext catalogs (.po in git, .mo built here, never committed).
catalogs: $(STAMP)
	@if ls locales/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -d locales -D messages --statistics; fi

# Play mentee and mentor in the terminal on the embedded defaults (no tokens, local store).
demo: setup
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

clean:
	rm -rf $(VENV) .demo-data .coverage htmlcov .mypy_cache .ruff_cache .pytest_cache
