# The README's two commands: `make demo` and `make test`. Each sets up what it needs on a fresh
# machine: a virtualenv in .venv with chainpay installed, and the pinned npm toolchain (solcjs,
# OpenZeppelin, anvil) in node_modules.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_READY := node_modules/.installed

.PHONY: demo test test-all check bench compile clean

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
	rm -rf $(VENV) node_modules .pytest_cache
