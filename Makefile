# Two commands on a fresh machine with Python 3.11 and make:
#   make readme   renders README.md from bib/ (sets everything up first)
#   make test     lint, type-check and test (sets everything up first)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DLG := $(BIN)/dlg-bib

.PHONY: install test lint readme handout index site enrich add check-links export bench corpus format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check dlg_bib tests bench
	$(BIN)/ruff format --check dlg_bib tests bench
	$(BIN)/mypy dlg_bib
	$(BIN)/pytest -q

format: $(STAMP)
	$(BIN)/ruff format dlg_bib tests bench
	$(BIN)/ruff check --fix dlg_bib tests bench

lint: $(STAMP)
	$(DLG) lint

readme: $(STAMP)
	$(DLG) readme

handout: $(STAMP)
	$(DLG) handout

index: $(STAMP)
	$(DLG) index

site: $(STAMP)
	$(DLG) site

enrich: $(STAMP)
	$(DLG) enrich

add: $(STAMP)
	$(DLG) add $(ID)

check-links: $(STAMP)
	$(DLG) check-links --readme README.md

export: $(STAMP)
	$(DLG) export

bench: $(STAMP)
	$(BIN)/python -m bench

# Real-world files from ../shared/corpus/ (not part of `make test`; see bench/corpus.py).
corpus: $(STAMP)
	$(BIN)/python -m bench.corpus

clean:
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache
