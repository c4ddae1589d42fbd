# Short entry points; each is a few lines. `make up` and `make test` are all a new machine needs.
.PHONY: install up test test-agent test-registry smoke check bench figures

install:
	@scripts/bootstrap

up: install
	.venv/bin/switchboard up

# Two workers, each taking whole test files (a file's stack and fixtures stay in one process):
# most tests wait on sockets and child processes, so two keep both cores of a CI runner busy.
# Files go out in collection order, slowest setups first (tests/conftest.py), so the two end together.
TEST_WORKERS ?= 2
test: install
	scripts/node-test-deps
	.venv/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# One agent's tests while working on it (its own test files, named test_<agent>*.py), e.g.
#   make test-agent AGENT=billing
AGENT_TESTS = $(wildcard tests/agents/test_$(AGENT).py tests/agents/test_$(AGENT)_*.py)
test-agent:
	@test -n "$(AGENT)" || { echo "usage: make test-agent AGENT=<name>"; exit 2; }
	@test -n "$(AGENT_TESTS)" || { echo "no tests/agents/test_$(AGENT)*.py"; exit 2; }
	.venv/bin/python -m pytest -q -p no:cacheprovider $(AGENT_TESTS)

# The checks that look at every agent, skill, tool and grant together (skill rules, routing set
# and its accuracy floors, overlaps, catalog, cards, compose, policies, scenarios): run them after
# adding any of those. The router's own machinery (tests/routing's cache, CLI, features) is not
# among them: a new skill changes its data, not its code.
REGISTRY_TESTS = tests/routing/test_skills.py tests/routing/test_eval_set.py \
	tests/routing/test_overlap.py::test_the_shipped_skills_do_not_overlap \
	tests/commands/test_catalog.py tests/agents/test_card.py tests/scaleout/test_compose.py \
	tests/evaluation/test_scenarios.py tests/governance/test_policy_files.py tests/llm/test_parts.py
test-registry:
	.venv/bin/python -m pytest -q -p no:cacheprovider $(REGISTRY_TESTS)

# The DESIGN.md behaviours against a running deployment, e.g. after an upgrade:
#   make smoke BASE=http://127.0.0.1:8700 GATEWAY=http://127.0.0.1:8710 DATA_DIR=./data
smoke: install
	.venv/bin/python -m pytest -q tests/behaviours --base $(BASE) --gateway $(GATEWAY) --data-dir $(DATA_DIR)

# The whole source tree, clean under mypy --strict ([tool.mypy]); tests/packaging/test_types.py
# runs the same check, so `make test` (and CI) fails when it is not.
TYPED = agents gateway orchestrator shared mcp_servers token_service skills evals benchmarks

check: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m mypy $(TYPED)

# Reruns every benchmark that docs/ quotes and writes what each printed into its page.
figures: install
	.venv/bin/python benchmarks/regenerate_docs.py

bench: install
	.venv/bin/python benchmarks/refund_turn.py
	.venv/bin/python benchmarks/gateway_decision.py
	.venv/bin/python benchmarks/governed_hops.py
	.venv/bin/python benchmarks/routing_accuracy.py
	.venv/bin/python benchmarks/audit_verify.py
	.venv/bin/python benchmarks/change_visible.py
	.venv/bin/python benchmarks/signal_enforcement.py
	.venv/bin/python benchmarks/conversation_store.py
	.venv/bin/python benchmarks/startup.py
	.venv/bin/python benchmarks/load.py
