# sgdclaims: the README names two targets, `make claims` and `make test`; each does all set-up
# (venv, Python deps, system packages, data) and can be run again without redoing any of it.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
PYTEST  = $(BIN)/python -m pytest
# Tests run one per core (pytest-xdist, a whole file per worker so a claim's experiments are
# computed once), each single-threaded: on small CPUs that beats one multi-threaded process.
# (xdist 3.8's loadgroup cannot group under pytest 9: it rewrites item._nodeid, which pytest 9
# no longer reads, so the tests of one case would spread over workers and compute it twice.)
PARALLEL = -n auto --dist loadfile
# CACHE_DIR=... runs against that experiment cache (CI: an empty temporary one)
CACHE_OPT = $(if $(CACHE_DIR),--results-cache=$(CACHE_DIR),)
# Every claim's fast units first, in one longest-first queue over all cores (so no claim file
# sets the wall time), then the claim tests read them from the cache.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PRECOMPUTE = $(BIN)/sgdclaims precompute --scale fast --jobs $(JOBS) $(if $(CACHE_DIR),--cache-dir $(CACHE_DIR),)
export OMP_NUM_THREADS ?= 1
APT_PACKAGES = dataset-fashion-mnist chromium chromium-driver

.PHONY: claims test bench report data system venv lint clean-cache

claims: data ## fast claims on CPU + reports/index.html
	$(PRECOMPUTE)
	$(PYTEST) claims -m fast $(PARALLEL) $(CACHE_OPT)
	@echo "report: $(CURDIR)/reports/index.html"

test: data ## unit, property, fast claim tests and benchmarks in quick-check mode
	$(PRECOMPUTE)
	$(PYTEST) --benchmark-disable -p no:cacheprovider $(PARALLEL) $(CACHE_OPT)

bench: venv ## benchmarks for real (ratios in one run)
	$(PYTEST) tests -k bench --benchmark-only --benchmark-columns=mean,stddev,rounds

report: venv ## re-render reports/ from reports/results.json
	$(BIN)/sgdclaims report

lint: venv ## ruff, the formatter, and the package's layers (tests/test_layers.py)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(PYTEST) -q -p no:cacheprovider tests/test_layers.py

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

system: ## Debian packages (as root, only those missing): data, browser for the report test, npm
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "warning: missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 0; fi; \
	echo "installing:$$missing"; apt-get update -q >/dev/null || true; \
	for p in $$missing; do \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$p >/dev/null 2>&1 \
	    || echo "warning: apt-get install $$p failed; tests that need it skip or fail with a reason"; \
	done

data: venv system ## provide Fashion-MNIST and MNIST offline at the data root (idempotent)
	$(BIN)/sgdclaims data fetch fashion_mnist mnist

clean-cache: ## forget cached experiment results
	rm -rf $${SGDCLAIMS_CACHE:-$$HOME/.cache/sgdclaims/results}
