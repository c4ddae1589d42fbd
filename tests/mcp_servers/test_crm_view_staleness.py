"""The CRM's customer view says how far behind each source it may be, from the feeds' watermarks."""

from __future__ import annotations

import time

from mcp_servers.crm.view import SOURCES, CustomerViewStore
from shared.events import FEED_WATERMARK, new_event


def watermark(system: str, drained_at: float):
    return new_event(FEED_WATERMARK, f"/systems/{system}", {"system": system, "drained_at": drained_at})


async def test_a_source_without_a_recent_watermark_is_named_behind() -> None:
    view = CustomerViewStore(backend=None, max_lag=60.0)
    lags, behind = view.staleness()
    assert behind == list(SOURCES) and set(lags.values()) == {None}  # nothing measured: nothing trusted

    assert await view.apply(watermark("billing", time.time())) is False  # a mark, not a change to store
    await view.apply(watermark("consent", time.time() - 3600))  # the consent feed stalled an hour ago
    lags, behind = view.staleness()
    assert "billing" not in behind and lags["billing"] is not None and lags["billing"] < 60
    assert "consent" in behind and lags["consent"] is not None and lags["consent"] >= 3600
    await view.apply(watermark("billing", 0.0))  # an old mark delivered late never rewinds
    assert "billing" not in view.staleness()[1]
