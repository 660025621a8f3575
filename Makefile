# Paperboy. `make demo` runs the bot on its embedded defaults; `make test` runs every check.
# Both create .venv and install the locked dependencies on first use (Python 3.11+ and make only).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test chat run lint typecheck bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Paperboy needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/paperboy demo

test: $(STAMP) lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

chat: $(STAMP)
	$(BIN)/paperboy chat

run: $(STAMP)
	$(BIN)/paperboy run

bench: $(STAMP)
	$(BIN)/python bench/match.py
	$(BIN)/python bench/search.py

# Re-pin constraints.txt to what is installed now (after changing pyproject.toml and testing).
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^paperboy' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
