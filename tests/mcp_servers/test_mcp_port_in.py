"""Bringing a number in over real HTTP: the checks a recipient makes, one booking per number, its status."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers

# Reference rows of the network's revision 0008: what the other providers issued.
VODAFONE = ("+447700901001", "VOD481273")
EE = ("+447700901002", "EEM730215")
EXPIRED = ("+447700901090", "OLD774210")


def _next(weekday: int) -> date:
    """The first such weekday at least two days from today (Monday is 0)."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


async def test_a_number_is_booked_once_with_a_reference_and_its_status_read_back(connect, data_dir):
    customer, other = sample_customers(data_dir, 2, has_recent_sim_swap=False)
    number, code = VODAFONE
    wednesday = _next(2).isoformat()
    args = {"msisdn": customer["msisdn"], "number": "07700 901001", "porting_code": code.lower()}
    async with connect("network") as network:
        booked = await ok(
            network, "request_port_in", {**args, "port_date": wednesday, "idempotency_key": "in-1"}, call_meta()
        )
        assert booked["reference"].startswith("PORT-") and booked["number"] == number
        assert (booked["donor"], booked["port_date"], booked["status"]) == ("Vodafone", wednesday, "requested")
        assert booked["already_requested"] is False
        again = await ok(network, "request_port_in", {**args, "idempotency_key": "in-2"}, call_meta())
        assert again["reference"] == booked["reference"] and again["already_requested"] is True
        status = await ok(network, "get_port_in", {"msisdn": customer["msisdn"]})
        assert [r["reference"] for r in status["requests"]] == [booked["reference"]]
        assert "already being moved to another line" in await fails(
            network, "request_port_in", {**args, "msisdn": other["msisdn"], "idempotency_key": "in-3"}, call_meta()
        )
        assert (await ok(network, "get_port_in", {"msisdn": other["msisdn"]}))["requests"] == []


async def test_what_a_recipient_checks_before_it_asks_for_a_move(connect, data_dir):
    customer, locked = sample_customers(data_dir, 2, has_recent_sim_swap=False)[-2:]
    number, code = EE
    base = {"msisdn": customer["msisdn"], "number": number, "porting_code": code}
    async with connect("network") as network:

        async def refused(key: str, **changed: str) -> str:
            return await fails(network, "request_port_in", {**base, **changed, "idempotency_key": key}, call_meta())

        assert "three letters then six digits" in await refused("bad-1", porting_code="EE12345")
        assert "not the one" in await refused("bad-2", porting_code="EEM000000")
        assert "not a UK mobile number" in await refused("bad-3", number="+33612345678")
        assert "already a number with us" in await refused("bad-4", number=customer["msisdn"])
        assert "already a number with us" in await refused("bad-5", number=locked["msisdn"])
        assert "expired on" in await refused("bad-6", number=EXPIRED[0], porting_code=EXPIRED[1])
        assert "working day" in await refused("bad-7", port_date=_next(5).isoformat())
        assert "working day" in await refused("bad-8", port_date=(date.today() + timedelta(days=60)).isoformat())
        lock = {"msisdn": locked["msisdn"], "reason": "a number move nobody asked for", "idempotency_key": "lk"}
        await ok(network, "lock_line", lock, call_meta("support"))
        assert "locked after a fraud report" in await refused("bad-9", msisdn=locked["msisdn"])
        assert (await ok(network, "get_port_in", {"msisdn": customer["msisdn"]}))["requests"] == []
        booked = await ok(network, "request_port_in", {**base, "idempotency_key": "ok-1"}, call_meta())
        assert booked["port_date"] > datetime.now(UTC).date().isoformat()
        assert date.fromisoformat(booked["port_date"]).weekday() < 5
        assert "call context" in await fails(network, "request_port_in", {**base, "idempotency_key": "ok-2"})
