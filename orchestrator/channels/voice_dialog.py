"""What the phone line says at each step of a call, and what it does with what it heard.

One ``Dialog`` per app. Each method takes the platform's webhook and returns TwiML. What a
call remembers between webhooks (an offer to carry on, a yes heard with low confidence, the
last reply for "say that again") is the call's ``memory`` in the channel store, so any
orchestrator replica can answer the next webhook.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.channels._http import SupervisorGetter
from orchestrator.channels.events import TurnHub, run_turn
from orchestrator.channels.links import (
    CODE_DIGITS,
    MAX_ATTEMPTS_PER_CALL,
    MAX_ATTEMPTS_PER_NUMBER_HOUR,
    find_link_code,
)
from orchestrator.channels.settings import ChannelSettings
from orchestrator.channels.speech import normalize_speech, use_caller_id
from orchestrator.channels.spoken import Voice, render
from orchestrator.channels.store import Call, ChannelStorage
from orchestrator.channels.twilio import Part, Spell, TwiML
from orchestrator.channels.voice_hold import News, is_waiting, news, place_words, queue_place, welcome_back
from orchestrator.conversations import ConversationState
from shared.errors import SwitchboardError

INCOMING_PATH = "/voice/twilio"
GATHER_PATH = "/voice/twilio/gather"
RESULT_PATH = "/voice/twilio/result"
HOLD_PATH = "/voice/twilio/hold"
STATUS_PATH = "/voice/twilio/status"
MAX_SILENCES = 3
MAX_CODES_PER_CALL = 3
"""One-time codes a call may offer the identity check; counted here before any reaches it."""
_ONE_TIME_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")

_WELCOME = (
    f"If you were chatting with us on the web, key in or say the {CODE_DIGITS}-digit code it showed you. "
    "Otherwise, tell me how I can help."
)
_WELCOME_BACK = (
    "Welcome back. Would you like to carry on with the conversation from your last call? Please say yes or no."
)
_GOODBYE = "I can't hear anything, so I'll end the call here. Please call again any time."
_CODE_OR_HELP = f"Key in your {CODE_DIGITS}-digit code, or tell me how I can help."
_PASSED_ON = "Thanks, I've passed that to our colleague. Stay on the line for their answer."
_NO_MORE_CODES = (
    "For your security I can't check any more codes on this call. "
    "Say: a person, and a member of our team will help you."
)
_CALLER_ID_TIP = " You can also say: this number, to use the number you're calling from."
_CLARIFY = (
    "I want to get you to the right place. Is it about your bill, a refund, your plan, a problem with "
    "your service, or would you like to talk to a person?"
)
_YES = re.compile(r"^\s*(yes|yeah|yep|yup|sure|ok(ay)?|correct|that's right)\b", re.IGNORECASE)
_NO = re.compile(r"^\s*(no|nope|nah|not really)\b", re.IGNORECASE)
_ASKS_YES_NO = re.compile(r"\(yes/no\)|\byes or no\b", re.IGNORECASE)
_REPEAT = re.compile(
    r"^\s*(sorry,?\s*)?((can|could) you\s+|please\s+)?(repeat( that| it)?|say (that|it) again|"
    r"what was (that|the reference|the number|the code))(,?\s*please)?\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_QUEUE_SENTENCE = re.compile(r"\s*You're number \d+ in the queue[^.]*\.", re.IGNORECASE)
_YES_NO_HINTS = ("yes", "no")
_IDENTIFIER_HINTS = ("my email is", "my phone number is", "my account number is", "this number", "at", "dot")
_CODE_HINTS = ("$OOV_CLASS_DIGIT_SEQUENCE",)
_TOPIC_HINTS = ("my bill", "a refund", "change my plan", "no signal", "talk to a person")


@dataclass(frozen=True)
class Webhook:
    form: dict[str, str]
    step: int | None

    @property
    def call_sid(self) -> str:
        return self.form["CallSid"]

    @property
    def caller(self) -> str | None:
        return self.form.get("From") or None

    @property
    def confidence(self) -> float:
        try:
            return float(self.form.get("Confidence") or 1.0)
        except ValueError:
            return 0.0


def _to_json(parts: list[Part]) -> list[Any]:
    return [p if isinstance(p, str) else {"spell": list(p.groups)} for p in parts]


def _from_json(data: list[Any]) -> list[Part]:
    return [p if isinstance(p, str) else Spell(tuple(p["spell"])) for p in data]


def _identity_step(state: ConversationState) -> str | None:
    """What the identity check waits for: ``identifier`` or ``code`` (the task reports it), else None."""
    if state.verified() or state.active is None:
        return None
    return state.active.asking


class Dialog:
    def __init__(
        self,
        supervisor: SupervisorGetter,
        store: ChannelStorage,
        hub: TurnHub,
        settings: ChannelSettings,
        url: Callable[..., str],
    ) -> None:
        self._supervisor, self._store, self._hub, self._settings = supervisor, store, hub, settings
        self._url = url
        self._voice = Voice(currency=settings.voice_currency)

    def _twiml(self) -> TwiML:
        return TwiML(language=self._settings.voice_language, voice=self._settings.voice_name)

    def render(self, text: str) -> list[Part]:
        return render(text, self._voice)

    async def _ask(self, call_sid: str, spoken: str | list[Part], hints: tuple[str, ...] = _TOPIC_HINTS) -> TwiML:
        """Say ``spoken`` and listen, at a new step of the call."""
        step = await self._store.next_step(call_sid)
        return self._twiml().gather(spoken, self._url(GATHER_PATH, step=step), hints=hints)

    # -- the call comes in ---------------------------------------------------------------------
    async def incoming(self, hook: Webhook) -> TwiML:
        await self._store.begin_call(hook.call_sid, hook.caller)
        call = await self._store.call(hook.call_sid)
        if call.conversation_id is not None:  # the platform retried the first request
            return await self._ask(hook.call_sid, "I'm still here. How can I help?")
        window = self._settings.voice_callback_window_seconds
        earlier = None
        if hook.caller and re.fullmatch(r"\+?\d{7,15}", hook.caller) and window > 0:
            earlier = await self._store.recent_call_from(hook.caller, time.time() - window)
        if earlier is not None:
            await self._store.remember(hook.call_sid, {"offer": earlier})
            return await self._ask(hook.call_sid, f"{self._disclosure()} {_WELCOME_BACK}", _YES_NO_HINTS)
        return await self._ask(
            hook.call_sid, f"{self._disclosure()} {_WELCOME}", (*_TOPIC_HINTS, "$OOV_CLASS_DIGIT_SEQUENCE")
        )

    def _disclosure(self) -> str:
        """The call's first words: an automated assistant answers, and a person is there on request."""
        return self._supervisor().disclosure.text("voice", self._settings.voice_language)

    # -- the caller said or keyed something ----------------------------------------------------
    async def heard(self, hook: Webhook) -> str:
        call = await self._store.call(hook.call_sid)
        memory = await self._store.memory(hook.call_sid)
        digits = (hook.form.get("Digits") or "").strip()
        heard = digits or normalize_speech(hook.form.get("SpeechResult", ""))
        if not heard:
            return (await self._silence(hook, call)).render()
        await self._store.heard(call.call_sid)
        if "offer" in memory:
            return (await self._offer_answer(call, memory, heard)).render()
        if "confirm" in memory:
            confirmed = await self._confirm_answer(call, memory, heard, digits, hook.confidence)
            if isinstance(confirmed, TwiML):
                return confirmed.render()
            heard = confirmed
        elif memory.get("last") and _REPEAT.match(heard):
            again: list[Part] = ["Of course. ", *_from_json(memory["last"])]
            return (await self._ask(call.call_sid, again, tuple(memory.get("hints", _TOPIC_HINTS)))).render()
        elif memory.get("asks_yes_no") and not digits and hook.confidence < self._settings.voice_confirm_confidence:
            answer = "yes" if _YES.match(heard) else "no" if _NO.match(heard) else None
            if answer is not None:
                await self._store.remember(call.call_sid, {**memory, "confirm": heard})
                prompt = f"Sorry, I want to be sure. Did you say {answer}? Say yes, or press 1. Say no, or press 2."
                return (await self._ask(call.call_sid, prompt, _YES_NO_HINTS)).render()
        if call.conversation_id is None:
            code = find_link_code(heard)
            if code is not None:
                return (await self._link(call, code, hook.caller)).render()
            state, _token = await self._supervisor().start("voice", self._settings.voice_language)
            call.conversation_id = state.conversation_id
            await self._store.attach(call.call_sid, state.conversation_id)
        return (await self._turn(call, call.conversation_id, heard, hook.caller)).render()

    async def _confirm_answer(
        self, call: Call, memory: dict[str, Any], heard: str, digits: str, confidence: float
    ) -> TwiML | str:
        """After "did you say yes?": the first answer when confirmed, else the question again."""
        first = str(memory.pop("confirm"))
        await self._store.remember(call.call_sid, memory)
        sure = bool(digits) or confidence >= self._settings.voice_confirm_confidence
        if (digits == "1" or _YES.match(heard)) and sure:
            return first
        again: list[Part] = ["Sorry about that. ", *_from_json(memory.get("last", []))]
        return await self._ask(call.call_sid, again, _YES_NO_HINTS)

    async def _silence(self, hook: Webhook, call: Call) -> TwiML:
        if call.conversation_id is not None:
            state = await self._supervisor().store.load(call.conversation_id)
            if is_waiting(state):
                return await self.hold(hook, 0)
        silences = await self._store.count(call.call_sid, "silences")
        if silences >= MAX_SILENCES:
            return (
                self._twiml()
                .say("I can't hear anything, so I'll end the call here. Please call again any time.")
                .hangup()
            )
        prompt = "Sorry, I didn't catch that. " + (
            "How can I help?"
            if call.conversation_id
            else f"Key in your {CODE_DIGITS}-digit code, or tell me how I can help."
        )
        return await self._ask(call.call_sid, prompt)

    async def _offer_answer(self, call: Call, memory: dict[str, Any], heard: str) -> TwiML:
        conversation_id = str(memory["offer"])
        if _YES.match(heard):
            await self._store.remember(call.call_sid, {})
            await self._store.attach(call.call_sid, conversation_id)
            sup = self._supervisor()
            said = await welcome_back(sup, conversation_id)
            self._hub.changed(conversation_id)  # open views see the note at once
            last_seq = max((e.seq for e in await sup.store.transcript(conversation_id)), default=0)
            await self._store.set_human_heard(call.call_sid, last_seq)
            return await self._ask(call.call_sid, said)
        if _NO.match(heard):
            await self._store.remember(call.call_sid, {})
            return await self._ask(call.call_sid, "No problem, let's start fresh. How can I help?")
        return await self._ask(
            call.call_sid,
            "Would you like to carry on with your earlier conversation? Please say yes or no.",
            _YES_NO_HINTS,
        )

    async def _link(self, call: Call, code: str, caller: str | None) -> TwiML:
        # Counted before the code is looked at, right or wrong: a call, and a calling number, get a few tries.
        attempts = await self._store.count(call.call_sid, "link_attempts")
        by_number = await self._store.link_attempts_from(caller, time.time() - 3600) if caller else 0
        if attempts > MAX_ATTEMPTS_PER_CALL or by_number > MAX_ATTEMPTS_PER_NUMBER_HOUR:
            return await self._ask(call.call_sid, "I can't take any more codes on this call. How can I help?")
        conversation_id = await self._store.redeem_link_code(code)
        if conversation_id is None:
            if attempts < MAX_ATTEMPTS_PER_CALL:
                return await self._ask(
                    call.call_sid,
                    "That code didn't match, or it has expired. Please try again, or just tell me how I can help.",
                )
            return await self._ask(call.call_sid, "Let's start fresh. How can I help?")
        await self._store.attach(call.call_sid, conversation_id)
        sup = self._supervisor()
        state = await sup.store.load(conversation_id)
        transcript = await sup.store.transcript(conversation_id)
        await self._store.set_human_heard(call.call_sid, max((e.seq for e in transcript), default=0))
        name = state.customer.display_name if state.customer and state.verified() else None
        if name:
            opening = f"Thanks {name}, I have your conversation from the web chat, and you're still verified. "
        else:
            opening = "Thanks, I have your conversation from the web chat. "
        # The question the chat was waiting on is asked again, so the caller can just answer it.
        last = transcript[-1] if transcript else None
        waiting_on_answer = state.active is not None or state.offer is not None
        if last is not None and last.role == "agent" and waiting_on_answer:
            parts: list[Part] = [opening + "You were asked: ", *self.render(last.text)]
            await self._remember_reply(call.call_sid, parts, state, last.text)
            return await self._ask(call.call_sid, parts, self._hints(state, last.text))
        return await self._ask(call.call_sid, opening + "How can I help?")

    async def _turn(self, call: Call, conversation_id: str, heard: str, caller: str | None) -> TwiML:
        sup = self._supervisor()
        step = _identity_step(await sup.store.load(conversation_id))
        if step == "identifier":
            heard = use_caller_id(heard, caller)
        if step == "code" and _ONE_TIME_CODE.search(heard):
            memory = await self._store.memory(call.call_sid)
            tries = int(memory.get("code_tries", 0)) + 1
            await self._store.remember(call.call_sid, {**memory, "code_tries": tries})
            if tries > MAX_CODES_PER_CALL:
                return await self._ask(call.call_sid, _NO_MORE_CODES)
        try:
            outcome = await run_turn(sup, self._hub, conversation_id, heard, channel="voice")
        except SwitchboardError:
            return await self._ask(
                call.call_sid, "Sorry, I couldn't take that in. Could you say it again, more briefly?"
            )
        state = await sup.store.load(conversation_id)
        if outcome.status == "with-human":
            heard_seq = await self._store.human_heard(call.call_sid)
            new = await news(sup, conversation_id, heard_seq)
            await self._store.set_human_heard(call.call_sid, new.last_seq)
            said = (
                " ".join(new.lines) or "Thanks, I've passed that to our colleague. Stay on the line for their answer."
            )
            return await self._hold_twiml(call.call_sid, self.render(said), 0)
        reply = _CLARIFY if outcome.status == "clarify" else outcome.reply
        if is_waiting(state):
            parts = self.render(_QUEUE_SENTENCE.sub("", reply))
            place = await queue_place(sup, conversation_id)
            return await self._hold_twiml(call.call_sid, [*parts, " ", place_words(place)], 0)
        parts = self.render(reply) or ["Sorry, could you say that again?"]
        if _identity_step(state) == "identifier" and use_caller_id("this number", caller) != "this number":
            parts.append(_CALLER_ID_TIP)
        await self._remember_reply(call.call_sid, parts, state, reply)
        return await self._ask(call.call_sid, parts, self._hints(state, reply))

    def _hints(self, state: ConversationState, reply: str) -> tuple[str, ...]:
        if _ASKS_YES_NO.search(reply) or state.offer is not None:
            return _YES_NO_HINTS
        step = _identity_step(state)
        return _IDENTIFIER_HINTS if step == "identifier" else _CODE_HINTS if step == "code" else _TOPIC_HINTS

    async def _remember_reply(self, call_sid: str, parts: list[Part], state: ConversationState, reply: str) -> None:
        asks = bool(_ASKS_YES_NO.search(reply)) or state.offer is not None
        hints = list(self._hints(state, reply))
        memory = await self._store.memory(call_sid)  # counts kept for the whole call stay
        memory.update(last=_to_json(parts), asks_yes_no=asks, hints=hints)
        await self._store.remember(call_sid, memory)

    # -- long turns ----------------------------------------------------------------------------
    def holding(self, step: int) -> TwiML:
        doc = self._twiml().say("One moment while I look into that.")
        return doc.redirect(self._url(RESULT_PATH, step=step, wait=1))

    def still_working(self, step: int, polls: int) -> TwiML:
        doc = self._twiml()
        if polls % 5 == 4:
            doc.say("Thanks for waiting, I'm still on it.")
        return doc.redirect(self._url(RESULT_PATH, step=step, wait=polls + 1))

    def failed(self) -> TwiML:
        return self._twiml().gather(
            "Sorry, something went wrong on our side. Could you say that again?", self._url(GATHER_PATH)
        )

    def busy(self) -> TwiML:
        """At capacity: nothing was started and the call stays up; the caller repeats in a moment."""
        return self._twiml().gather(
            "Sorry, we're very busy right now and couldn't take that in. Please say it again in a moment.",
            self._url(GATHER_PATH),
        )

    # -- waiting for a person ------------------------------------------------------------------
    async def hold(self, hook: Webhook, polls: int) -> TwiML:
        call = await self._store.call(hook.call_sid)
        if call.conversation_id is None:
            return await self._ask(call.call_sid, "How can I help?")
        sup = self._supervisor()
        new: News = await news(sup, call.conversation_id, await self._store.human_heard(call.call_sid))
        if new.lines:
            await self._store.set_human_heard(call.call_sid, new.last_seq)
        parts: list[Part] = [" ".join(new.lines)] if new.lines else []
        if not new.waiting:  # handed back (announced above) or closed
            return await self._ask(call.call_sid, parts or ["How else can I help?"])
        if not parts and polls % self._settings.voice_hold_message_every == 0:
            if new.with_person:
                parts = ["Our colleague is still with you. Say something whenever you're ready."]
            else:
                parts = [place_words(await queue_place(sup, call.conversation_id))]
        return await self._hold_twiml(call.call_sid, parts, polls)

    async def _hold_twiml(self, call_sid: str, parts: list[Part], polls: int) -> TwiML:
        """Words (if any), then music or silence while listening; then look again."""
        step = await self._store.next_step(call_sid)
        return self._twiml().gather(
            parts,
            self._url(GATHER_PATH, step=step),
            hints=_TOPIC_HINTS,
            timeout=self._settings.voice_hold_poll_seconds,
            play=self._settings.voice_hold_music_url,
            then=self._url(HOLD_PATH, poll=polls + 1),
        )
