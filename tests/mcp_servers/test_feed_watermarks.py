"""Only the feeds a reader measures carry watermarks: nobody acknowledges the others' for nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path

from cloudevents.core.v1.event import CloudEvent
from mcp_testkit import AUTHORITY

from gateway.projection import PROJECTED_SYSTEMS
from mcp_servers import build_app
from mcp_servers.crm.view import SOURCES
from shared.bus.memory import InProcessBus
from shared.events import FEED_WATERMARK, WATERMARKED_FEEDS, data_of
from shared.service_auth import audiences


def test_every_feed_a_reader_measures_carries_watermarks() -> None:
    assert set(PROJECTED_SYSTEMS) <= WATERMARKED_FEEDS
    assert set(SOURCES) <= WATERMARKED_FEEDS


async def test_a_feed_nobody_measures_publishes_no_watermark(data_dir: Path, identity_keys: tuple[str, str]) -> None:
    bus = InProcessBus()
    seen: Counter[str] = Counter()
    three_from_consent = asyncio.Event()

    async def watch(event: CloudEvent) -> None:
        seen[str(data_of(event).get("system"))] += 1
        if seen["consent"] >= 3:
            three_from_consent.set()

    await bus.subscribe("watch", watch, kinds={FEED_WATERMARK})
    async with contextlib.AsyncExitStack() as stack:
        for system in ("crm", "network", "consent"):
            app = build_app(
                system,
                data_dir=data_dir,
                auth=AUTHORITY.auth(audiences.system(system)),
                identity_private_pem=identity_keys[0],
                bus=bus,
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
        # Every relay sweeps at start and then twice a second: by consent's third watermark the
        # others had two chances to publish one.
        async with asyncio.timeout(30):
            await three_from_consent.wait()
    await bus.close()
    assert seen["crm"] == seen["network"] == 0, seen
