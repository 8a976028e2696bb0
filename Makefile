# The two commands of the README. Each creates .venv from requirements.lock when it is missing
# (or when the lock changed), then runs; a second run installs nothing.
#   make repro GPU=1    on Linux x86-64 with an NVIDIA GPU: TensorFlow's CUDA build instead of the CPU one
#   make repro PYTHON=python3.12    choose the Python that creates .venv (an existing .venv is kept unless GPU= switches the build)
VENV := .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
GPU ?=
TENSORFLOW_VERSION := $(shell sed -n 's/^tensorflow==\([0-9.]*\).*/\1/p' requirements.txt)
# The stages run `python`, so the environment's bin must come first for dvc and its stages.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: repro test lock help

# The stamp names the build installed, so that GPU=1 on a CPU environment installs again.
INSTALLED := $(VENV)/.installed$(if $(filter 1,$(GPU)),-gpu,-cpu)
OTHER_BUILD := $(VENV)/.installed$(if $(filter 1,$(GPU)),-cpu,-gpu)

repro: $(INSTALLED)
	dvc repro

test: $(INSTALLED)
	pytest

$(INSTALLED): requirements.lock
	$(if $(PYTHON),,$(error no python3 found: this project supports Python 3.11 and 3.12; name one with PYTHON=...))
	@$(PYTHON) tools/check_python.py
	@# An environment of the other TensorFlow build is made afresh: the CPU and CUDA builds are
	@# different packages, and installing one over the other would leave both.
	test ! -e $(OTHER_BUILD) || rm -rf $(VENV)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-*
ifeq ($(GPU),1)
	@# Both: on an update, the lock's tensorflow-cpu went in over the CUDA build's files, and
	@# removing it took those with it; pip would call the CUDA build installed all the same.
	$(VENV)/bin/python -m pip uninstall --yes tensorflow-cpu tensorflow
	$(VENV)/bin/python -m pip install --disable-pip-version-check "tensorflow[and-cuda]==$(TENSORFLOW_VERSION)"
endif
	touch $@

# Regenerate the lock after editing requirements.txt.
lock: $(INSTALLED)
	uv pip compile --universal --generate-hashes --python-version 3.11 requirements.txt -o requirements.lock

help:
	@echo "make repro   create .venv from requirements.lock if missing or changed, then dvc repro"
	@echo "             GPU=1: TensorFlow's CUDA build (Linux x86-64); PYTHON=python3.12: the Python of a new .venv"
	@echo "make test    create .venv the same way, then the whole test suite (pytest)"
	@echo "make lock    regenerate requirements.lock after editing requirements.txt"
