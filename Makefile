# The two commands of the README. Each creates .venv/ when missing and installs what it needs
# (quickfix builds from source the first time; pip's wheel cache serves it afterwards).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench lint browser servers clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mmgw demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

browser:
	bash ops/install-browser.sh

servers:
	bash ops/install-postgres.sh

test: lint browser servers
	$(VENV)/bin/pytest

bench: $(STAMP)
	$(VENV)/bin/python bench/matching.py
	$(VENV)/bin/python bench/stepfile_link.py
	$(VENV)/bin/python bench/quoting_chain.py
	$(VENV)/bin/python bench/obligations.py
	$(VENV)/bin/python bench/journal.py
	$(VENV)/bin/python bench/tick_to_quote.py
	$(VENV)/bin/python bench/pretrade.py
	$(VENV)/bin/python bench/kill.py
	$(VENV)/bin/python bench/fix_link.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
