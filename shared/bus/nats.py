"""NATS JetStream bus for scale-out: durable, at-least-once, de-duplicated on the event id."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from cloudevents.core.v1.event import CloudEvent
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError

from shared.errors import ServiceUnavailable
from shared.events import TYPE_PREFIX, Handler, decode, encode

log = logging.getLogger("switchboard.bus")

STREAM = "SWITCHBOARD_EVENTS"
SUBJECT_ROOT = "switchboard.events"


def subject_for(event: CloudEvent) -> str:
    return f"{SUBJECT_ROOT}.{event.get_type().removeprefix(TYPE_PREFIX)}"


class NatsBus:
    """Events go to one JetStream stream; each durable consumer acknowledges after its handler ran.

    The publisher sets ``Nats-Msg-Id`` to the event id, so a relay that publishes the same
    outbox row twice (crash between publish and mark) stores it once.
    """

    def __init__(self, nc: Client, js: JetStreamContext, *, ack_wait_seconds: float = 5.0) -> None:
        self._nc = nc
        self._js = js
        self._ack_wait = ack_wait_seconds
        self._subscriptions: list[JetStreamContext.PushSubscription] = []

    @classmethod
    async def connect(cls, url: str, *, ack_wait_seconds: float = 5.0, connect_timeout: float = 2.0) -> NatsBus:
        try:
            # nats-py keeps retrying a first connection when reconnects are unlimited: bound it here.
            async with asyncio.timeout(connect_timeout * 3):
                nc = await nats.connect(
                    url, connect_timeout=connect_timeout, max_reconnect_attempts=-1, allow_reconnect=True
                )
        except Exception as exc:  # nats-py raises its own and OS errors here
            raise ServiceUnavailable(f"cannot reach NATS at {url}: {exc}", hint="start nats-server with -js") from exc
        js = nc.jetstream()
        try:
            await js.stream_info(STREAM)
        except NotFoundError:
            await js.add_stream(StreamConfig(name=STREAM, subjects=[f"{SUBJECT_ROOT}.>"], duplicate_window=120.0))
        return cls(nc, js, ack_wait_seconds=ack_wait_seconds)

    async def publish(self, event: CloudEvent) -> None:
        try:
            await self._js.publish(subject_for(event), encode(event), headers={"Nats-Msg-Id": event.get_id()})
        except Exception as exc:
            raise ServiceUnavailable(f"NATS did not accept event {event.get_id()}: {exc}") from exc

    async def subscribe(self, durable: str, handler: Handler) -> NatsSubscription:
        async def on_message(msg: Msg) -> None:
            try:
                event = decode(msg.data)
            except Exception:
                log.exception("dropping a message that is not a CloudEvent on %s", msg.subject)
                await msg.term()
                return
            try:
                await handler(event)
            except Exception:
                log.exception("subscriber %s failed on event %s; it will be redelivered", durable, event.get_id())
                await msg.nak(delay=0.2)
                return
            await msg.ack()

        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._ack_wait,
        )
        subscription = await self._js.subscribe(
            f"{SUBJECT_ROOT}.>", durable=durable, cb=on_message, manual_ack=True, config=config, stream=STREAM
        )
        self._subscriptions.append(subscription)
        return NatsSubscription(self, subscription)

    async def close(self) -> None:
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):  # the connection may already be gone
                await subscription.unsubscribe()
        self._subscriptions.clear()
        await self._nc.close()


class NatsSubscription:
    def __init__(self, bus: NatsBus, subscription: JetStreamContext.PushSubscription) -> None:
        self._bus = bus
        self._subscription = subscription

    async def stop(self) -> None:
        """Stop delivering here; the durable consumer keeps its place on the server."""
        if self._subscription in self._bus._subscriptions:
            self._bus._subscriptions.remove(self._subscription)
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
