"""track-order: where an order is; cancel or change delivery only while it is being prepared, after a yes."""

from __future__ import annotations

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway, order


async def test_an_order_being_prepared_is_tracked_with_what_can_change(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    gateway.orders = [order("ORD-00007", "processing"), order("ORD-00001", "delivered", "Galaxy S25 case")]
    support = await start_specialist("support")
    answer = await support.send("where is my order?", "track-order")
    assert answer.result.status == "completed"
    assert gateway.tools_called()[0] == "support.list_orders"
    assert "Pixel 9 128GB (order ORD-00007) is being prepared" in answer.text
    assert "cancel it or switch it to next-day" in answer.text
    assert "support.cancel_order" not in gateway.tools_called()


async def test_cancelling_an_order_being_prepared(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.orders = [order("ORD-00007", "processing")]
    support = await start_specialist("support")
    proposal = await support.send("please cancel the phone I ordered", "track-order")
    assert proposal.result.status == "input-required" and "Shall I cancel your Pixel 9 128GB" in proposal.text
    assert "support.cancel_order" not in gateway.tools_called()
    assert {(c.step or {}).get("step") for c in gateway.calls} == {"look"}
    answer = await support.send("yes", "track-order", task=proposal)
    call = gateway.last("support.cancel_order")
    assert call.step == {"skill": "track-order", "step": "change"}
    cancelled = call.args
    assert cancelled["order_id"] == "ORD-00007" and cancelled["idempotency_key"]
    assert "I've cancelled your Pixel 9 128GB" in answer.text and answer.result.data["status"] == "cancelled"


async def test_a_dispatched_order_is_not_changed(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.orders = [order("ORD-00010", "dispatched")]
    support = await start_specialist("support")
    answer = await support.send("cancel order ORD-00010", "track-order")
    assert "support.cancel_order" not in gateway.tools_called()
    assert "TRK0000042" in answer.text and "refuse it at the door or return it within 14 days" in answer.text


async def test_next_day_delivery(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.orders = [order("ORD-00007", "processing")]
    support = await start_specialist("support")
    proposal = await support.send("can my order come tomorrow instead", "track-order")
    answer = await support.send("yes please", "track-order", task=proposal)
    assert gateway.last("support.change_delivery").args["delivery_option"] == "next-day"
    assert "now comes by next-day delivery" in answer.text


async def test_a_no_leaves_the_order_as_it_is(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.orders = [order("ORD-00007", "processing")]
    support = await start_specialist("support")
    proposal = await support.send("I want to cancel my order", "track-order")
    answer = await support.send("no, keep it", "track-order", task=proposal)
    assert answer.result.status == "completed" and "left your order as it is" in answer.text
    assert "support.cancel_order" not in gateway.tools_called()


async def test_no_orders(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    support = await start_specialist("support")
    answer = await support.send("where's my parcel", "track-order")
    assert "can't see any orders" in answer.text and answer.result.data["order_id"] is None
