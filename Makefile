# Paperboy. `make demo` runs the bot on its embedded defaults; `make test` runs every check.
# Both create .venv and install the locked dependencies on first use (Python 3.11+ and make only).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test chat run lint typecheck bench lock clean

# The development lock (requirements/dev.txt: runtime + test tools, every file hashed), then Paperboy itself
# without resolving anything again.
$(STAMP): pyproject.toml requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Paperboy needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
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

# Upgrade both locks on purpose to the newest releases pyproject.toml allows (then run `make test`).
# runtime.txt is what the image installs; dev.txt adds the test tools, pinned to the same runtime versions.
# Universal: the hashes cover every platform and Python 3.11+, not only this machine's.
LOCK := $(BIN)/uv pip compile --quiet --upgrade --universal --python-version 3.11 --generate-hashes pyproject.toml
lock: $(STAMP)
	$(LOCK) -o requirements/runtime.txt
	$(LOCK) --extra dev -c requirements/runtime.txt -o requirements/dev.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
