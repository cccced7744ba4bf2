# TradeGuard developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= sqlite:///.tradeguard/demo.db

.DEFAULT_GOAL := help

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv and install TradeGuard with its development tools

.PHONY: lint
lint: $(STAMP) ## ruff (lint and format check), mypy --strict, import contracts
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: test
test: lint ## Lint, then run every test on SQLite and (with TRADEGUARD_TEST_POSTGRES_URL) PostgreSQL
	$(BIN)/pytest -n 2 --dist loadgroup -q

.PHONY: demo
demo: $(STAMP) ## Simulate 30 days of trade on SQLite, verify the ledger, then serve the API on 127.0.0.1:8000
	rm -f .tradeguard/demo.db .tradeguard/demo.db-wal .tradeguard/demo.db-shm
	$(BIN)/tradeguard simulate --days 30 --buyers 200 --sellers 20 --seed 7 --db $(DEMO_DB)
	$(BIN)/tradeguard demo-credentials --db $(DEMO_DB)
	$(BIN)/tradeguard serve --dev --host 127.0.0.1 --port 8000 --db $(DEMO_DB)

.PHONY: bench
bench: $(STAMP) ## Benchmarks against PostgreSQL (TRADEGUARD_DATABASE_URL): service-layer lifecycles, then HTTP, then reputation
	$(BIN)/python benchmarks/order_lifecycle.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/http_lifecycle.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/mixed_workload.py
	$(BIN)/python benchmarks/disputes.py
	$(BIN)/python benchmarks/messaging.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/scam_scan.py
	$(BIN)/python benchmarks/reputation.py $(BENCH_ARGS)

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-8s %s\n", $$1, $$2}'
