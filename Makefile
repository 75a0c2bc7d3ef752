# The one place that says how to build, test, lint, benchmark and demo mlvc.
# Everything a fresh machine needs is installed from here (into .venv).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.deps-stamp
# Real DVC, pinned: the oracle the interop and format tests compare against.
DVC_VERSION := 3.67.1
DVC_VENV := .venv-dvc
DVC_STAMP := $(DVC_VENV)/.dvc-$(DVC_VERSION)-stamp

.PHONY: help dvc dev test test-rust test-python lint fmt bench demo clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "maturin>=1.7,<2" "typer>=0.28,<0.29" "pyyaml>=6,<7" "rich>=13,<15" \
		"pytest>=8" "pytest-xdist>=3.5" "hypothesis>=6.100" "ruff>=0.6" "mypy>=1.11" types-PyYAML
	touch $(STAMP)

$(DVC_STAMP):
	$(PYTHON) -m venv $(DVC_VENV)
	$(DVC_VENV)/bin/pip install --quiet --upgrade pip
	$(DVC_VENV)/bin/pip install --quiet "dvc==$(DVC_VERSION)"
	touch $(DVC_STAMP)

dvc: $(DVC_STAMP) ## Install the pinned real DVC (test oracle) into .venv-dvc.

dev: $(STAMP) ## Build the Rust core (release) into .venv and install mlvc there.
	$(VENV)/bin/maturin develop --release --quiet
	@# An editable install compiles nothing; without bytecode every command pays
	@# for compiling its modules (and never saves them under PYTHONDONTWRITEBYTECODE).
	$(PY) -m compileall -q python/mlvc

test: test-rust test-python ## Run the whole test suite (Rust, then Python).

test-rust: ## cargo test (the core, without Python).
	cargo test --quiet

test-python: dev $(DVC_STAMP) ## pytest against the installed extension and real DVC.
	@# One worker per core: most tests wait on real DVC and git processes.
	$(PY) -m pytest -q -n auto tests

lint: dev ## fmt, clippy, ruff, mypy.
	cargo fmt --check
	cargo clippy --all-targets --quiet -- -D warnings
	cargo clippy --all-targets --features python --quiet -- -D warnings
	$(VENV)/bin/ruff check python tests benches examples
	$(VENV)/bin/ruff format --check python tests benches examples
	$(VENV)/bin/mypy

fmt: $(STAMP) ## Format Rust and Python sources.
	cargo fmt
	$(VENV)/bin/ruff format python tests benches examples

bench: dev ## Run the benchmarks against md5sum, cp and DVC; writes benches/results/.
	$(PY) benches/run.py

demo: dev ## Hash a dataset (vs md5sum); version it (add, checkout, push, pull); run an ML pipeline.
	$(PY) benches/demo.py
	$(PY) benches/demo_data.py
	$(PY) benches/demo_pipeline.py

clean: ## Remove build products and the venv.
	rm -rf target $(VENV) $(DVC_VENV) benches/data benches/results
