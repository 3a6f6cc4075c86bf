# ctxapi — `make help` lists the targets. Everything installs what it needs on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3 || echo python3.11)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint format install neo4j-fetch neo4j-start neo4j-stop neo4j-status \
        schema seed-demo sdl bench bench-compare churn-report soak serve clean examples \
        examples-build

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: install ## Start Neo4j, apply the schema, serve the API on 127.0.0.1:8000 (Ctrl-C stops all)
	@$(BIN)/ctxapi run

test: install lint ## Lint, then run the whole test suite against a real, throwaway Neo4j
	@$(BIN)/ctxapi neo4j fetch
	@$(BIN)/pytest

lint: install ## ruff (lint and format check) and mypy
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

format: install ## Format the code with ruff
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

install: $(STAMP) ## Create .venv and install ctxapi with its dev tools

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || \
	  { echo "$(PYTHON) was not found: install Python 3.11 (or run make PYTHON=/path/to/python3.11)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

neo4j-fetch: install ## Download the pinned Neo4j Community jars with Maven
	@$(BIN)/ctxapi neo4j fetch

neo4j-start: install ## Start the local Neo4j in the background
	@$(BIN)/ctxapi neo4j start

neo4j-stop: install ## Stop the local Neo4j
	@$(BIN)/ctxapi neo4j stop

neo4j-status: install ## Is the local Neo4j running?
	@$(BIN)/ctxapi neo4j status

schema: install ## Apply the graph schema migrations
	@$(BIN)/ctxapi schema apply

seed-demo: install ## Load the demo stories (seed/demo) into the running Neo4j
	@$(BIN)/ctxapi seed load seed/demo --rejects .ctxapi/demo-rejects.jsonl

bench: install ## Benchmark at 10k and BENCH_CUSTOMERS (100k): load, HTTP vs raw Cypher, vs @neo4j/graphql (BENCH_PEER=0: not)
	@$(BIN)/python -m bench.run

bench-compare: install ## This checkout against REV (default HEAD~1), interleaved on one dataset
	@$(BIN)/python -m bench.compare $(or $(REV),HEAD~1)

churn-report: install ## Churn levels, single-factor and weak-only counts, actions over BENCH_CUSTOMERS (10k)
	@$(BIN)/python -m bench.churn

soak: install ## Soak (not in make test): SOAK_SECONDS (600) at the highest sustainable rate, Neo4j restarted midway
	@$(BIN)/python -m bench.soak

# The client examples (examples/README.md). tests/test_examples.py runs `make examples-build`,
# then both clients against a real server: so `make test` builds and runs them.
TS := examples/typescript
NPM_STAMP := $(TS)/node_modules/.ctxapi-installed

examples: install examples-build ## Build the client examples and run them against a real server
	@$(BIN)/ctxapi neo4j fetch
	@$(BIN)/pytest tests/test_examples.py

examples-build: install $(TS)/dist/sidebar.js ## npm ci (when the lock changed), codegen from the SDL, tsc; mypy the Python one
	@$(BIN)/mypy examples/python/sidebar.py

$(NPM_STAMP): $(TS)/package-lock.json $(TS)/package.json
	@command -v npm >/dev/null 2>&1 || { echo "npm was not found: the TypeScript client example" \
	  "($(TS), run by make test) needs Node.js 20 or later with npm."; exit 1; }
	@echo "Installing the TypeScript example's packages (npm ci) ..."
	@cd $(TS) && npm ci --no-audit --no-fund
	@touch $@

$(TS)/src/generated/graphql.ts: $(NPM_STAMP) schema/ctxapi.graphql $(TS)/codegen.ts $(wildcard $(TS)/src/*.graphql)
	@cd $(TS) && out=$$(npx --no-install graphql-codegen --config codegen.ts 2>&1) || \
	  { echo "$$out"; echo "graphql-codegen: $(TS)/src/*.graphql do not fit schema/ctxapi.graphql"; exit 1; }
	@touch $@

$(TS)/dist/sidebar.js: $(TS)/src/generated/graphql.ts $(wildcard $(TS)/src/*.ts) $(TS)/tsconfig.json
	@cd $(TS) && npx --no-install tsc -p tsconfig.json
	@touch $@

sdl: install ## Write the GraphQL schema to schema/ctxapi.graphql (a test compares them)
	@$(BIN)/ctxapi schema graphql --write

serve: install ## Serve the API (Neo4j must already run: make neo4j-start)
	@$(BIN)/ctxapi serve

clean: ## Remove the virtualenv and caches (keeps .ctxapi/, the local Neo4j and its data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
