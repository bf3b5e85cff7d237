# The README's two commands: `make demo` and `make test`. Each sets up what it needs on a fresh
# machine: a virtualenv in .venv with chainpay installed, and the pinned npm toolchain (solcjs,
# OpenZeppelin, anvil) in node_modules.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_READY := node_modules/.installed

.PHONY: demo test test-all check bench compile clean slither slither-triage

$(INSTALLED): pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[test]'
	touch $@

$(NODE_READY): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

demo: $(INSTALLED)
	$(VENV)/bin/chainpay demo

test: $(INSTALLED) $(NODE_READY)
	$(VPY) -m pytest -n 2 -m "not slow"

test-all: $(INSTALLED) $(NODE_READY)
	$(VPY) -m pytest -n 2

check: $(INSTALLED) $(NODE_READY)
	$(VENV)/bin/chainpay compile --check

compile: $(INSTALLED) $(NODE_READY)
	$(VENV)/bin/chainpay compile

bench: $(INSTALLED)
	$(VENV)/bin/chainpay bench --json bench.json

clean:
	rm -rf $(VENV) $(SLITHER_VENV) node_modules .pytest_cache

# Static analysis: Slither (pinned, in its own virtualenv: it needs web3 < 8) on every contract, through
# the solc shim over the pinned solcjs; fails on a finding that is neither fixed nor in .ci/slither/triage.toml.
SLITHER_VENV := .venv-slither
SLITHER_READY := $(SLITHER_VENV)/.installed

$(SLITHER_READY): .ci/slither/requirements.txt
	test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SLITHER_VENV)/bin/python -m pip install --quiet -r .ci/slither/requirements.txt
	touch $@

slither: $(INSTALLED) $(NODE_READY) $(SLITHER_READY)
	$(VPY) .ci/slither/check.py

# After contracts change (e.g. a merge): drop triage entries nothing matches, append new findings with
# an empty reason to fill in (`make slither` fails until each has one, or is fixed).
slither-triage: $(INSTALLED) $(NODE_READY) $(SLITHER_READY)
	$(VPY) .ci/slither/check.py --update
