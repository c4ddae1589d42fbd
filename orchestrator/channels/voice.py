"""The phone line: a voice webhook in the programmable-voice platforms' conventions (Twilio's).

Point a number's "a call comes in" webhook at ``POST /voice/twilio`` and its status callback at
``POST /voice/twilio/status``. Every request is a signed form post with the platform's fields
(``CallSid``, ``From``, ``SpeechResult``, ``Confidence``, ``Digits`` ...); every answer is TwiML.

| route | what |
|---|---|
| ``/voice/twilio`` | a call comes in: the welcome, or "carry on where you left off?" for a call back |
| ``/voice/twilio/gather?step=N`` | what the caller said or keyed at step N (``voice_steps``: once, in time) |
| ``/voice/twilio/result?step=N`` | the answer to step N, when it took longer than the holding line |
| ``/voice/twilio/hold?poll=N`` | a caller waiting for a person looks again (``voice_hold``) |
| ``/voice/twilio/status`` | the call ended: its place in the queue is given up |

The same supervisor answers as in the web chat; replies are rendered for the ear
(``spoken``) and what the caller says is normalised (``speech``). Caller ID is only ever a
lookup hint, never proof of identity. The conversation logic per step is ``voice_dialog``.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from orchestrator.admission import Admission
from orchestrator.channels._http import SupervisorGetter, form_body
from orchestrator.channels.events import TurnHub
from orchestrator.channels.settings import ChannelSettings
from orchestrator.channels.store import ChannelStorage
from orchestrator.channels.twilio import SETTINGS_HEADER, SIGNATURE_HEADER, algorithm_of, signature_valid
from orchestrator.channels.voice_dialog import (
    GATHER_PATH,
    HOLD_PATH,
    INCOMING_PATH,
    RESULT_PATH,
    STATUS_PATH,
    Dialog,
    Webhook,
)
from orchestrator.channels.voice_hold import caller_left
from orchestrator.channels.voice_steps import StepRunner
from shared.errors import Overloaded, SwitchboardError

log = logging.getLogger("switchboard.channels.voice")

ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class VoiceLine:
    """The voice webhook's endpoints; what each step says is the ``Dialog``'s."""

    def __init__(
        self,
        supervisor: SupervisorGetter,
        store: ChannelStorage,
        hub: TurnHub,
        settings: ChannelSettings,
        admission: Admission,
    ) -> None:
        self._supervisor = supervisor
        self._admission = admission
        self._store = store
        self._hub = hub
        self._settings = settings
        self._tokens = settings.auth_tokens()
        self._steps = StepRunner(store, settings.voice_answer_within_seconds)
        self._dialog = Dialog(supervisor, store, hub, settings, self.url)
        if not self._tokens:
            log.warning("voice webhook signatures are not checked: set SWITCHBOARD_TWILIO_AUTH_TOKEN in production")

    def url(self, path: str, **query: int) -> str:
        """Where the platform should post next: inside the public URL (with its path prefix) when set."""
        base = (self._settings.public_url or "").rstrip("/")
        return base + path + (f"?{urlencode(query)}" if query else "")

    def _signed_url(self, request: Request) -> str:
        """The URL the platform signed: the public base URL (and prefix) with the path it called."""
        if not self._settings.public_url:
            return str(request.url)
        url = self._settings.public_url.rstrip("/") + request.url.path
        return url + (f"?{request.url.query}" if request.url.query else "")

    async def _webhook(self, request: Request) -> Webhook | Response:
        """The posted fields, or the refusal to send when the request is not the platform's."""
        try:
            params = await form_body(request)
        except SwitchboardError as exc:
            return PlainTextResponse(exc.message, status_code=exc.http_status)
        if self._tokens:
            url = self._signed_url(request)
            algorithm = algorithm_of(request.headers.get(SETTINGS_HEADER))
            given = request.headers.get(SIGNATURE_HEADER, "")
            if not signature_valid(self._tokens, url, params, given, algorithm):
                log.warning(
                    "refused a voice webhook: the %s signature (%s) does not match %s with any configured token",
                    algorithm,
                    "missing" if not given else "present",
                    url,
                )
                return PlainTextResponse("the request signature is not valid", status_code=403)
        form = dict(params)
        if not form.get("CallSid"):
            return PlainTextResponse("CallSid is missing: this endpoint takes the voice platform's webhooks", 400)
        raw_step = request.query_params.get("step", "")
        if raw_step and not raw_step.isdigit():
            return PlainTextResponse("step must be a whole number, as the line's own actions send it", 400)
        return Webhook(form, int(raw_step) if raw_step else None)

    @staticmethod
    def _xml(twiml: str) -> Response:
        return Response(twiml, media_type="application/xml")

    async def incoming(self, request: Request) -> Response:
        hook = await self._webhook(request)
        if isinstance(hook, Response):
            return hook
        return self._xml((await self._dialog.incoming(hook)).render())

    async def gather(self, request: Request) -> Response:
        hook = await self._webhook(request)
        if isinstance(hook, Response):
            return hook
        step = hook.step if hook.step is not None else await self._store.next_step(hook.call_sid)
        twiml = await self._steps.answer(
            hook.call_sid,
            step,
            lambda: self._heard_if_admitted(hook),
            holding=lambda: self._dialog.holding(step).render(),
            failed=lambda: self._dialog.failed().render(),
        )
        return self._xml(twiml)

    async def _heard_if_admitted(self, hook: Webhook) -> str:
        """What the caller said, answered when there is room; at capacity they are asked to repeat."""
        try:
            with self._admission.admit("turn"):
                return await self._dialog.heard(hook)
        except Overloaded:
            return self._dialog.busy().render()

    async def result(self, request: Request) -> Response:
        hook = await self._webhook(request)
        if isinstance(hook, Response):
            return hook
        if hook.step is None:
            return PlainTextResponse("step is missing: follow the line's own redirect", 400)
        found = await self._steps.result(hook.call_sid, hook.step)
        if found is None:
            polls = request.query_params.get("wait", "0")
            return self._xml(self._dialog.still_working(hook.step, int(polls) if polls.isdigit() else 0).render())
        return self._xml(found)

    async def hold(self, request: Request) -> Response:
        hook = await self._webhook(request)
        if isinstance(hook, Response):
            return hook
        polls = request.query_params.get("poll", "0")
        return self._xml((await self._dialog.hold(hook, int(polls) if polls.isdigit() else 0)).render())

    async def status(self, request: Request) -> Response:
        """The platform reports the call's progress; when it ended, the caller is no longer waiting."""
        hook = await self._webhook(request)
        if isinstance(hook, Response):
            return hook
        if hook.form.get("CallStatus") not in ENDED:
            return Response(status_code=204)
        conversation_id, first = await self._store.end_call(hook.call_sid)
        if conversation_id is not None and first and await caller_left(self._supervisor(), conversation_id):
            self._hub.changed(conversation_id)  # the console's live view and any chat page see it now
            log.info("call %s ended while %s waited for a person", hook.call_sid, conversation_id)
        return Response(status_code=204)


def voice_routes(
    supervisor: SupervisorGetter, store: ChannelStorage, hub: TurnHub, settings: ChannelSettings, admission: Admission
) -> list[Route]:
    line = VoiceLine(supervisor, store, hub, settings, admission)
    return [
        Route(INCOMING_PATH, line.incoming, methods=["POST"]),
        Route(GATHER_PATH, line.gather, methods=["POST"]),
        Route(RESULT_PATH, line.result, methods=["POST"]),
        Route(HOLD_PATH, line.hold, methods=["POST"]),
        Route(STATUS_PATH, line.status, methods=["POST"]),
    ]
