"""Answering every voice webhook within the platform's time-out, and each step exactly once.

Every ``<Gather action>`` the line sends carries ``?step=N``. The first delivery of a step
*claims* it in the channel store and starts its answer as a background task; if the task
finishes within ``voice_answer_within_seconds`` the TwiML goes straight back, otherwise the
caller hears a short holding line and is redirected to ``/voice/twilio/result?step=N``, which
waits (again within the bound) for the task's TwiML. Whatever the first delivery was answered
is stored with the step: a retried delivery of the same ``CallSid`` and step gets exactly that
back, and the turn never runs twice. The task runs in the process that claimed the step; a
replica that gets the redirect finds its TwiML in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from orchestrator.channels.store import ChannelStorage

log = logging.getLogger("switchboard.channels.voice")

_STORE_LOOK_SECONDS = 0.1
"""How often a waiting request looks in the store for an answer made by another replica."""


class StepRunner:
    """Background answers to voice steps, with the step's first answer kept for retries."""

    def __init__(self, store: ChannelStorage, within_seconds: float) -> None:
        self._store = store
        self._within = within_seconds
        self._tasks: dict[tuple[str, int], asyncio.Task[str]] = {}

    async def answer(
        self,
        call_sid: str,
        step: int,
        make: Callable[[], Awaitable[str]],
        holding: Callable[[], str],
        failed: Callable[[], str],
    ) -> str:
        """The step's TwiML: ``make()``'s when it is ready in time, else ``holding()``; a retry gets the same."""
        if not await self._store.claim_step(call_sid, step):
            return await self._first_answer(call_sid, step, holding)
        task = asyncio.create_task(self._run(call_sid, step, make, failed), name=f"voice step {call_sid}/{step}")
        self._tasks[(call_sid, step)] = task
        task.add_done_callback(lambda _: self._tasks.pop((call_sid, step), None))
        done, _ = await asyncio.wait({task}, timeout=self._within)
        answer = task.result() if done else holding()
        await self._store.set_step(call_sid, step, answer=answer)
        stored, _ = await self._store.step(call_sid, step)
        return stored or answer

    async def result(self, call_sid: str, step: int) -> str | None:
        """The step's own TwiML once its task finished (waiting at most the bound), else None."""
        task = self._tasks.get((call_sid, step))
        if task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._within):
                    return await asyncio.shield(task)
        return await self._look(call_sid, step, lambda found: found[1])

    async def _first_answer(self, call_sid: str, step: int, holding: Callable[[], str]) -> str:
        found = await self._look(call_sid, step, lambda found: found[0])
        if found is None:
            log.info("a retried voice step %s/%s is still being answered", call_sid, step)
        return found or holding()

    async def _look(
        self, call_sid: str, step: int, pick: Callable[[tuple[str | None, str | None]], str | None]
    ) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._within
        while True:
            found = pick(await self._store.step(call_sid, step))
            if found is not None or loop.time() >= deadline:
                return found
            await asyncio.sleep(_STORE_LOOK_SECONDS)  # another replica's task: only the store knows

    async def _run(
        self, call_sid: str, step: int, make: Callable[[], Awaitable[str]], failed: Callable[[], str]
    ) -> str:
        try:
            twiml = await make()
        except Exception:
            log.exception("voice step %s/%s failed", call_sid, step)
            twiml = failed()
        await self._store.set_step(call_sid, step, result=twiml)
        return twiml
