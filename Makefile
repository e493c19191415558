# The two commands a newcomer needs:  make demo  and  make test.
# Both create .venv (python3 -m venv) and install this project into it first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench mutation lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)  ## the whole registry lifecycle in a scratch repository
	$(BIN)/python scripts/demo.py

test: $(STAMP)  ## the test suite
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)  ## resolve/validate timings at 100, 1,000 and 10,000 versions
	$(BIN)/python bench/run.py

mutation: $(STAMP)  ## mutation score per module of the core and the gate logic (mutmut; not part of make test)
	$(BIN)/python bench/mutation.py --fail-under 90

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis bench/out
