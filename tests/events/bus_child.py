"""A replica in a process of its own, for the tests that kill one: it opens the bus on the given
deployment, binds a shared and a fan-out consumer, prints their names and waits to be killed."""

from __future__ import annotations

import asyncio
import sys

from cloudevents.core.v1.event import CloudEvent

from shared.bus.nats import NatsBus


async def _ignore(event: CloudEvent) -> None:
    # Never acknowledges: a killed replica leaves what it was handed to the one after it.
    await asyncio.Event().wait()


async def main(url: str, deployment: str, shared: str, mirror: str) -> None:
    bus = await NatsBus.connect(url, deployment=deployment, retention_seconds=600)
    assert bus.connected, f"NATS at {url} is not answering"
    one = await bus.subscribe(shared, _ignore)
    two = await bus.subscribe(mirror, _ignore, fan_out=True)
    print(one.name, two.name, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
