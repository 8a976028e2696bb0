# The two commands of the README. Each creates .venv from requirements.txt when it is missing
# (or when requirements.txt changed), then runs; a second run installs nothing.
VENV := .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The stages run `python`, so the environment's bin must come first for dvc and its stages.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: repro test

repro: $(VENV)/.installed
	dvc repro

test: $(VENV)/.installed
	pytest

$(VENV)/.installed: requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -r requirements.txt
	touch $@
