"""NATS JetStream bus for scale-out: durable, at-least-once, de-duplicated on the event id.

The bus connects in the background: a service starts while NATS is down, logs that it keeps
trying, and binds its subscribers once the server answers. Until then ``publish`` raises
``ServiceUnavailable``, so the transactional outboxes keep their rows and relay them later.

Consumers come in two kinds (see ``EventBus.subscribe``):
- shared (the default): one durable consumer with a deliver group of the same name, so the
  replicas of a service split the events and each is handled by exactly one of them (a
  projection that writes to a shared database);
- fan-out: every replica has its own durable, ``<name>-<replica>``, and sees every event (state
  each replica keeps in memory, such as the gateway's fraud-hold mirror). The replica id is new
  at every start, so a replica never has to take over the consumer of one that died; it deletes
  its own when it closes, and the server deletes one left by a crash after
  ``fan_out_idle_seconds``. A replica's subscription starts at ``since`` (or now), never at
  the start of the stream.

Every replica asks for the same consumer config (deliver subjects are named, not random
inboxes), so replicas that start together create a shared consumer once and all bind to it.

Each deployment has its own stream, ``SWITCHBOARD_<DEPLOYMENT>_EVENTS`` on subjects
``switchboard.<deployment>.events.>`` (``SWITCHBOARD_DEPLOYMENT``), which keeps events for a
bounded age (``SWITCHBOARD_EVENT_RETENTION_SECONDS``): a new deployment on a shared NATS never
sees another's history, and no stream grows without bound. Those names, and the subject each
consumer filters on, are in ``shared.bus.nats_layout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from datetime import UTC, datetime
from typing import TypedDict, Unpack

from cloudevents.core.v1.event import CloudEvent
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import BadRequestError, NotFoundError

from shared.bus.nats_layout import (
    consumer_subjects,
    deliver_root,
    filter_subject,
    stream_config,
    stream_name,
    subject_root,
)
from shared.bus.replica import (
    DEFAULT_DEPLOYMENT,
    DEFAULT_RETENTION_SECONDS,
    consumer_name,
    default_replica,
)
from shared.errors import ServiceUnavailable
from shared.events import TYPE_PREFIX, Handler, decode, encode

log = logging.getLogger("switchboard.bus")


class NatsOptions(TypedDict, total=False):
    """The keyword settings of ``NatsBus`` that ``NatsBus.connect`` passes on."""

    replica: str | None
    deployment: str
    retention_seconds: float
    ack_wait_seconds: float
    connect_timeout: float
    reconnect_seconds: float
    fan_out_idle_seconds: float


class NatsBus:
    """Events go to one JetStream stream; each durable consumer acknowledges after its handler ran.

    The publisher sets ``Nats-Msg-Id`` to the event id, so a relay that publishes the same
    outbox row twice (crash between publish and mark) stores it once.
    """

    def __init__(
        self,
        url: str,
        *,
        replica: str | None = None,
        deployment: str = DEFAULT_DEPLOYMENT,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        ack_wait_seconds: float = 5.0,
        connect_timeout: float = 2.0,
        reconnect_seconds: float = 1.0,
        fan_out_idle_seconds: float = 3600.0,
    ) -> None:
        self.url = url
        self.replica = replica or default_replica()
        self.stream = stream_name(deployment)
        self.subjects = subject_root(deployment)
        self.deliver_root = deliver_root(deployment)
        self._retention = retention_seconds
        self._ack_wait = ack_wait_seconds
        self._connect_timeout = connect_timeout
        self._reconnect = reconnect_seconds
        self._fan_out_idle = fan_out_idle_seconds
        self._nc = Client()
        self._js: JetStreamContext | None = None
        self._connected = asyncio.Event()
        # Subscribers asked for so far; bound when (and each time after) the bus is connected.
        self._wanted: list[NatsSubscription] = []
        # This replica's own (fan-out) consumers, stopped or not: deleted when the bus closes.
        self._own: set[str] = set()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0

    @classmethod
    async def connect(cls, url: str, *, wait_seconds: float | None = None, **options: Unpack[NatsOptions]) -> NatsBus:
        """Start connecting; wait up to ``wait_seconds`` (default: the connect time-out) for the
        server, then return either way. A bus that is not connected yet keeps trying in the
        background and logs so; its subscribers are bound when it connects."""
        bus = cls(url, **options)  # each option goes to the __init__ keyword of its name
        bus._task = asyncio.create_task(bus._connect_logged(), name=f"nats connect {url}")
        wait = bus._connect_timeout if wait_seconds is None else wait_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(bus._connected.wait()), timeout=wait)
        if not bus.connected:
            log.warning("NATS at %s is not reachable yet; starting anyway, events wait in the outboxes", url)
        return bus

    @property
    def connected(self) -> bool:
        return self._connected.is_set() and self._nc.is_connected

    async def wait_connected(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout):
            await self._connected.wait()

    async def _on_error(self, exc: Exception) -> None:
        self._failures += 1
        # Every attempt fails the same way while the server is down: say it at first, then now and then.
        if self._failures == 1 or self._failures % 30 == 0:
            state = "connection lost" if self._connected.is_set() else "not reachable"
            log.warning(
                "NATS at %s %s (%s: %s); retrying every %.1fs (attempt %d)",
                self.url,
                state,
                type(exc).__name__,
                exc,
                self._reconnect,
                self._failures,
            )

    async def _on_reconnected(self) -> None:
        log.info("NATS at %s: reconnected after %d failed attempt(s)", self.url, self._failures)
        self._failures = 0

    async def _connect_logged(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bad URL or credentials: nothing to retry, but say so loudly
            log.exception("NATS at %s: cannot connect; events stay in the outboxes", self.url)

    async def _run(self) -> None:
        await self._nc.connect(
            self.url,
            connect_timeout=self._connect_timeout,  # type: ignore[arg-type]  # nats-py annotates int; it awaits a float fine
            allow_reconnect=True,
            max_reconnect_attempts=-1,  # also keeps the first connection trying until the server is up
            reconnect_time_wait=self._reconnect,  # type: ignore[arg-type]  # same: an asyncio.sleep delay
            error_cb=self._on_error,
            reconnected_cb=self._on_reconnected,
        )
        js = self._nc.jetstream()
        while True:
            try:
                await self._ensure_stream(js)
                break
            except Exception as exc:  # JetStream disabled or not ready yet on a server just started
                log.warning("NATS at %s: JetStream stream %s not ready (%s); retrying", self.url, self.stream, exc)
                await asyncio.sleep(self._reconnect)
        async with self._lock:
            self._js = js
            for subscription in self._wanted:
                try:
                    await self._bind(subscription)
                except Exception:
                    log.exception("NATS: could not bind subscriber %s", subscription.name)
        if self._failures:
            log.info("NATS at %s: connected after %d failed attempt(s)", self.url, self._failures)
        self._failures = 0
        self._connected.set()

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        """Create this deployment's stream, or bring an existing one's retention to the setting."""
        config = stream_config(self.stream, self.subjects, self._retention)
        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(config)
            return
        if info.config.max_age != self._retention:
            log.info("NATS: stream %s keeps events for %.0f s from now on", self.stream, self._retention)
            await js.update_stream(config)

    def subject_for(self, event: CloudEvent) -> str:
        return f"{self.subjects}.{event.get_type().removeprefix(TYPE_PREFIX)}"

    async def publish(self, event: CloudEvent) -> None:
        if self._js is None:
            raise ServiceUnavailable(f"NATS at {self.url} is not connected yet", hint="the outbox keeps the event")
        try:
            await self._js.publish(self.subject_for(event), encode(event), headers={"Nats-Msg-Id": event.get_id()})
        except Exception as exc:
            raise ServiceUnavailable(f"NATS did not accept event {event.get_id()}: {exc}") from exc

    def filter_for(self, kinds: Collection[str] | None) -> str:
        """The one subject a consumer of ``kinds`` filters on (``nats_layout.filter_subject``)."""
        return filter_subject(self.subjects, kinds)

    def consumers_for(self, name: str, kinds: Collection[str] | None) -> list[tuple[str, str]]:
        """The consumers (name, filter subject) of a subscriber of ``kinds`` (``nats_layout.consumer_subjects``)."""
        return consumer_subjects(self.subjects, name, kinds)

    async def subscribe(
        self,
        durable: str,
        handler: Handler,
        *,
        fan_out: bool = False,
        since: float | None = None,
        kinds: Collection[str] | None = None,
    ) -> NatsSubscription:
        name = consumer_name(durable, self.replica if fan_out else None)
        subscription = NatsSubscription(self, name, handler, fan_out, since, kinds)
        async with self._lock:
            if any(s.name == name for s in self._wanted):
                raise ValueError(f"a subscriber named {name!r} is already running in this process")
            self._wanted.append(subscription)
            if self._js is not None:
                try:
                    await self._bind(subscription)
                except BaseException:
                    # A start-up given up on may have stopped it meanwhile (cancelled while binding).
                    if subscription in self._wanted:
                        self._wanted.remove(subscription)
                    raise
        return subscription

    async def _bind(self, subscription: NatsSubscription) -> None:
        assert self._js is not None
        name, handler, kinds = subscription.name, subscription.handler, subscription.kinds
        prefix = f"{self.subjects}."

        async def on_message(msg: Msg) -> None:
            if kinds is not None and msg.subject.removeprefix(prefix) not in kinds:
                # Let through by a wildcard filter, or by a consumer created before this one
                # named its kinds: taken off the stream unread.
                await msg.ack()
                return
            try:
                event = decode(msg.data)
            except Exception:
                log.exception("dropping a message that is not a CloudEvent on %s", msg.subject)
                await msg.term()
                return
            try:
                await handler(event)
            except Exception:
                log.exception("subscriber %s failed on event %s; it will be redelivered", name, event.get_id())
                await msg.nak(delay=0.2)
                return
            await msg.ack()

        for name, subject in self.consumers_for(subscription.name, kinds):
            info = await self._consumer(subscription, name, subject)
            if subscription.fan_out:
                self._own.add(info.name)
            # Bound to the consumer's own deliver subject, whoever created it: a replica taking over a
            # consumer another replica (or an earlier run) made receives what the server sends there.
            subscription.inners.append(
                await self._js.subscribe_bind(self.stream, info.config, info.name, cb=on_message, manual_ack=True)
            )

    async def _consumer(self, subscription: NatsSubscription, name: str, subject: str) -> ConsumerInfo:
        """The durable ``subscription`` reads from: the existing one, or created now.

        Its config is the same in every replica (the deliver subject is derived from the names,
        not a random inbox), so replicas starting at once create it once: the server answers an
        identical create with the consumer it already has. A config that differs (an older
        version's) is taken over as it is rather than failing the start.
        """
        assert self._js is not None
        group = None if subscription.fan_out else name
        if group is not None:
            await self._adopt_pre_group_consumer(name)
        with contextlib.suppress(NotFoundError):
            existing: ConsumerInfo = await self._js.consumer_info(self.stream, name)
            return existing
        # Where a consumer starts matters only when it is created; an existing one resumes its place.
        # A shared consumer (a projection into a shared database) takes the deployment's whole
        # retained stream; a replica's own starts at ``since`` or now.
        policy, start_at, since = DeliverPolicy.ALL, None, subscription.since
        if subscription.fan_out:
            policy = DeliverPolicy.NEW if since is None else DeliverPolicy.BY_START_TIME
            start_at = None if since is None else datetime.fromtimestamp(since, UTC)
        config = ConsumerConfig(
            durable_name=name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=policy,
            opt_start_time=start_at,
            ack_wait=self._ack_wait,
            deliver_subject=f"{self.deliver_root}.{name}",
            deliver_group=group,
            filter_subject=subject,
            inactive_threshold=self._fan_out_idle if subscription.fan_out else None,
        )
        try:
            return await self._js.add_consumer(self.stream, config)
        except BadRequestError as exc:  # another replica created it meanwhile, with another config
            log.info("NATS: consumer %s exists already (%s); taking it over", name, exc.description)
            taken: ConsumerInfo = await self._js.consumer_info(self.stream, name)
            return taken

    async def _adopt_pre_group_consumer(self, name: str) -> None:
        """A shared consumer created before deliver groups cannot take a second replica: recreate it.

        Its position is lost, so it replays the stream; consumers dedupe on the event id.
        """
        assert self._js is not None
        try:
            info = await self._js.consumer_info(self.stream, name)
        except NotFoundError:
            return
        if info.config.deliver_group:
            return
        log.warning("NATS: recreating consumer %s with a deliver group so replicas can share it", name)
        await self._js.delete_consumer(self.stream, name)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for subscription in list(self._wanted):
            await subscription.stop()
        if self._js is not None and self._nc.is_connected:
            # This replica's own consumers have no future reader: every start has new names.
            # Removing them now spares the server the idle wait (a crash leaves them to that wait).
            for name in self._own:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._js.delete_consumer(self.stream, name), 2.0)
        with contextlib.suppress(Exception):  # never connected, or the connection is already gone
            await self._nc.close()


class NatsSubscription:
    def __init__(
        self,
        bus: NatsBus,
        name: str,
        handler: Handler,
        fan_out: bool,
        since: float | None,
        kinds: Collection[str] | None = None,
    ) -> None:
        self._bus = bus
        self.name = name
        self.handler = handler
        self.fan_out = fan_out
        self.since = since
        self.kinds = None if kinds is None else frozenset(kinds)
        self.inners: list[JetStreamContext.PushSubscription] = []

    async def stop(self) -> None:
        """Stop delivering here; the durable consumer keeps its place on the server."""
        if self in self._bus._wanted:
            self._bus._wanted.remove(self)
        inners, self.inners = self.inners, []
        for inner in inners:
            with contextlib.suppress(Exception):
                await inner.unsubscribe()
