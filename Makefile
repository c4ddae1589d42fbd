# Short entry points; each is a few lines. `make up` and `make test` are all a new machine needs.
.PHONY: install up test smoke check bench

install:
	@scripts/bootstrap

up: install
	.venv/bin/switchboard up

test: install
	scripts/node-test-deps
	.venv/bin/python -m pytest -q

# The DESIGN.md behaviours against a running deployment, e.g. after an upgrade:
#   make smoke BASE=http://127.0.0.1:8700 GATEWAY=http://127.0.0.1:8710 DATA_DIR=./data
smoke: install
	.venv/bin/python -m pytest -q tests/behaviours --base $(BASE) --gateway $(GATEWAY) --data-dir $(DATA_DIR)

# The packages clean under mypy --strict; the others join as they become clean.
TYPED = shared token_service mcp_servers orchestrator/export orchestrator/evaluation orchestrator/commands orchestrator/cli.py \
        orchestrator/privacy orchestrator/retention.py

check: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy $(TYPED)

bench: install
	.venv/bin/python benchmarks/refund_turn.py
	.venv/bin/python benchmarks/gateway_decision.py
	.venv/bin/python benchmarks/routing_accuracy.py
	.venv/bin/python benchmarks/audit_verify.py
	.venv/bin/python benchmarks/change_visible.py
	.venv/bin/python benchmarks/signal_enforcement.py
	.venv/bin/python benchmarks/conversation_store.py
	.venv/bin/python benchmarks/startup.py
	.venv/bin/python benchmarks/load.py
