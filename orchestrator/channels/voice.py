"""The phone line: a voice webhook in the programmable-voice platforms' conventions (Twilio's).

Point a number's "a call comes in" webhook at ``POST /voice/twilio``. Every request is a form
post with the platform's fields (``CallSid``, ``From``, ``SpeechResult``, ``Digits`` ...); every
answer is TwiML that speaks (``<Say>``) and listens (``<Gather input="speech dtmf">``), posting
what it heard to ``/voice/twilio/gather``. The same supervisor answers as in the web chat, with
replies condensed for listening.

A call starts by offering the link code from the web chat (see ``links``): with it, the call
continues that conversation; without it, the caller's first words start a new one. Caller ID is
only ever a lookup hint ("this number"), never proof of identity.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from orchestrator.channels._http import SupervisorGetter, form_body
from orchestrator.channels.events import TurnHub, run_turn
from orchestrator.channels.links import CODE_DIGITS, MAX_ATTEMPTS_PER_CALL, find_link_code
from orchestrator.channels.settings import ChannelSettings
from orchestrator.channels.speech import for_voice, normalize_speech, use_caller_id
from orchestrator.channels.store import Call, ChannelStorage
from orchestrator.channels.twilio import TwiML, signature_valid
from orchestrator.conversations import ConversationState
from shared.errors import SwitchboardError

log = logging.getLogger("switchboard.channels.voice")

INCOMING_PATH = "/voice/twilio"
GATHER_PATH = "/voice/twilio/gather"
MAX_SILENCES = 3
MAX_SILENCES_WITH_HUMAN = 15
"""A caller waiting for a human colleague to type is quiet on purpose: hang up much later."""

_WELCOME = (
    "Hi, this is Northwind Mobile. If you were chatting with us on the web, key in or say the "
    f"{CODE_DIGITS}-digit code it showed you. Otherwise, tell me how I can help."
)
_CALLER_ID_TIP = " You can also say: this number, to use the number you're calling from."


def _asking_for_identifier(state: ConversationState) -> bool:
    """The identity check is waiting for an email, phone or account number."""
    return not state.verified() and state.active is not None and state.active.asking == "identifier"


def voice_routes(
    supervisor: SupervisorGetter, store: ChannelStorage, hub: TurnHub, settings: ChannelSettings
) -> list[Route]:
    auth_token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    if auth_token is None:
        log.warning("voice webhook signatures are not checked: set SWITCHBOARD_TWILIO_AUTH_TOKEN in production")

    def twiml() -> TwiML:
        return TwiML(language=settings.voice_language, voice=settings.voice_name)

    def xml(doc: TwiML) -> Response:
        return Response(doc.render(), media_type="application/xml")

    async def platform_form(request: Request) -> dict[str, str] | Response:
        """The posted fields, or the refusal to send when the request is not the platform's."""
        try:
            params = await form_body(request)
        except SwitchboardError as exc:
            return PlainTextResponse(exc.message, status_code=exc.http_status)
        if auth_token is not None:
            url = str(request.url)
            if settings.public_url:
                url = settings.public_url.rstrip("/") + request.url.path
                url += f"?{request.url.query}" if request.url.query else ""
            if not signature_valid(auth_token, url, params, request.headers.get("x-twilio-signature", "")):
                log.warning("refused a voice webhook with a missing or wrong signature")
                return PlainTextResponse("the request signature is not valid", status_code=403)
        form = dict(params)
        if not form.get("CallSid"):
            return PlainTextResponse("CallSid is missing: this endpoint takes the voice platform's webhooks", 400)
        return form

    async def incoming(request: Request) -> Response:
        form = await platform_form(request)
        if isinstance(form, Response):
            return form
        call = await store.call(form["CallSid"])
        if call.conversation_id is not None:  # the platform retried the first request
            return xml(twiml().gather("I'm still here. How can I help?", GATHER_PATH))
        return xml(twiml().gather(_WELCOME, GATHER_PATH))

    async def gather(request: Request) -> Response:
        form = await platform_form(request)
        if isinstance(form, Response):
            return form
        call = await store.call(form["CallSid"])
        heard = (form.get("Digits") or "").strip() or normalize_speech(form.get("SpeechResult", ""))
        if not heard:
            return xml(await _silence(call))
        await store.heard(call.call_sid)
        if call.conversation_id is None:
            code = find_link_code(heard)
            if code is not None:
                return xml(await _link(call, code))
            state, _token = await supervisor().start("voice")
            call.conversation_id = state.conversation_id
            await store.attach(call.call_sid, state.conversation_id)
        return xml(await _turn(call, call.conversation_id, heard, form.get("From")))

    async def _silence(call: Call) -> TwiML:
        if call.conversation_id is not None:
            state = await supervisor().store.load(call.conversation_id)
            if state.human is not None:
                return await _waiting_for_human(call, call.conversation_id)
        silences = await store.count(call.call_sid, "silences")
        if silences >= MAX_SILENCES:
            return twiml().say("I can't hear anything, so I'll end the call here. Please call again any time.").hangup()
        prompt = "Sorry, I didn't catch that. " + (
            "How can I help?"
            if call.conversation_id
            else f"Key in your {CODE_DIGITS}-digit code, or tell me how I can help."
        )
        return twiml().gather(prompt, GATHER_PATH)

    async def _unheard(call: Call, conversation_id: str) -> str:
        """The human colleague's replies this call has not read out yet (then marked as heard)."""
        heard = await store.human_heard(call.call_sid)
        new = [e for e in await supervisor().store.transcript(conversation_id) if e.role == "human" and e.seq > heard]
        if not new:
            return ""
        await store.set_human_heard(call.call_sid, new[-1].seq)
        return for_voice(" ".join(e.text for e in new), settings.voice_max_chars)

    async def _waiting_for_human(call: Call, conversation_id: str) -> TwiML:
        """While a human has the conversation, silence is the caller waiting: read out new replies."""
        spoken = await _unheard(call, conversation_id)
        if spoken:
            await store.heard(call.call_sid)
            return twiml().gather(spoken, GATHER_PATH)
        if await store.count(call.call_sid, "silences") >= MAX_SILENCES_WITH_HUMAN:
            return (
                twiml()
                .say("I'll end the call here. Our colleague will pick up where you left off when you call again.")
                .hangup()
            )
        return twiml().gather("Our colleague is still with you. Stay on the line, or say something.", GATHER_PATH)

    async def _link(call: Call, code: str) -> TwiML:
        conversation_id = await store.redeem_link_code(code)
        if conversation_id is None:
            attempts = await store.count(call.call_sid, "link_attempts")
            if attempts < MAX_ATTEMPTS_PER_CALL:
                return twiml().gather(
                    "That code didn't match, or it has expired. Please try again, or just tell me how I can help.",
                    GATHER_PATH,
                )
            return twiml().gather("Let's start fresh. How can I help?", GATHER_PATH)
        await store.attach(call.call_sid, conversation_id)
        state = await supervisor().store.load(conversation_id)
        name = state.customer.display_name if state.customer and state.verified() else None
        if name:
            text = f"Thanks {name}, I have your conversation from the web chat, and you're still verified. "
        else:
            text = "Thanks, I have your conversation from the web chat. "
        return twiml().gather(text + "How can I help?", GATHER_PATH)

    async def _turn(call: Call, conversation_id: str, heard: str, caller: str | None) -> TwiML:
        sup = supervisor()
        if _asking_for_identifier(await sup.store.load(conversation_id)):
            heard = use_caller_id(heard, caller)
        try:
            outcome = await run_turn(sup, hub, conversation_id, heard, channel="voice")
        except SwitchboardError as exc:
            log.warning("voice turn in %s failed: %s", conversation_id, exc.message)
            return twiml().gather("Sorry, I couldn't take that in. Could you say it again, more briefly?", GATHER_PATH)
        if outcome.status == "with-human":
            spoken = await _unheard(call, conversation_id) or (
                "Thanks, I've passed that to our colleague. Stay on the line to hear their answer."
            )
            return twiml().gather(spoken, GATHER_PATH)
        spoken = for_voice(outcome.reply, settings.voice_max_chars) or "Sorry, could you say that again?"
        if use_caller_id("this number", caller) != "this number" and _asking_for_identifier(
            await sup.store.load(conversation_id)
        ):
            spoken += _CALLER_ID_TIP
        return twiml().gather(spoken, GATHER_PATH)

    return [
        Route(INCOMING_PATH, incoming, methods=["POST"]),
        Route(GATHER_PATH, gather, methods=["POST"]),
    ]
