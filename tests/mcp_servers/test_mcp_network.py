"""Network over real HTTP: line status, line tests, SIM-swap checks."""

from __future__ import annotations

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers


async def test_outage_shows_on_status_and_fails_the_line_test(connect, data_dir):
    customer = sample_customers(data_dir, 1, in_outage_area=True)[0]
    async with connect("network") as network:
        status = await ok(network, "get_line_status", {"msisdn": customer["msisdn"]})
        assert status["area_outage"]["id"].startswith("OUT-")
        assert status["sim_status"] == "active"
        test = await ok(network, "run_line_test", {"msisdn": customer["msisdn"]})
        assert test["result"] == "fail"
        assert any("outage" in f for f in test["findings"])


async def test_healthy_line_passes(connect, data_dir):
    candidates = sample_customers(data_dir, 40, in_outage_area=False, has_recent_network_interaction=False)
    async with connect("network") as network:
        status = await ok(network, "get_line_status", {"msisdn": candidates[0]["msisdn"]})
        assert status["area_outage"] is None and status["connectivity"] == "normal"
        assert (await ok(network, "run_line_test", {"msisdn": candidates[0]["msisdn"]}))["result"] == "pass"


async def test_sim_swap_checks(connect, data_dir):
    swapped = sample_customers(data_dir, 1, has_recent_sim_swap=True)[0]
    steady = sample_customers(data_dir, 1, has_recent_sim_swap=False)[0]
    async with connect("network") as network:
        recent = await ok(network, "check_sim_swap", {"msisdn": swapped["msisdn"]})
        assert recent["swapped"] is True and recent["max_age_hours"] == 240
        narrow = await ok(network, "check_sim_swap", {"msisdn": swapped["msisdn"], "max_age_hours": 1})
        assert narrow["swapped"] is False and narrow["latest_sim_change"]
        assert (await ok(network, "check_sim_swap", {"msisdn": steady["msisdn"]}))["swapped"] is False
        assert "max_age_hours" in await fails(
            network, "check_sim_swap", {"msisdn": steady["msisdn"], "max_age_hours": 0}
        )
        assert "no mobile line" in await fails(network, "get_line_status", {"msisdn": "+447700999999"})


async def test_block_sim_bars_the_line_once_and_a_replacement_is_ordered(connect, data_dir):
    customer = sample_customers(data_dir, 3, in_outage_area=False)[-1]
    msisdn = customer["msisdn"]
    args = {"msisdn": msisdn, "reason": "stolen", "idempotency_key": "block-1"}
    async with connect("network") as network:
        assert "call context" in await fails(network, "block_sim", args)
        first = await ok(network, "block_sim", args, call_meta("support"))
        assert first["sim_status"] == "blocked" and first["reason"] == "stolen"
        assert await ok(network, "block_sim", args, call_meta("support")) == first
        assert (await ok(network, "get_line_status", {"msisdn": msisdn}))["sim_status"] == "blocked"
        assert "reason" in await fails(network, "block_sim", {**args, "reason": "bored"}, call_meta("support"))
        order_args = {"msisdn": msisdn, "idempotency_key": "sim-1"}
        order = await ok(network, "order_replacement_sim", order_args, call_meta("support"))
        assert order["order_id"].startswith("SIM-") and order["status"] == "dispatched"
        assert await ok(network, "order_replacement_sim", order_args, call_meta("support")) == order
        assert "no mobile line" in await fails(
            network, "order_replacement_sim", {"msisdn": "+447700999999", "idempotency_key": "sim-2"}, call_meta()
        )
