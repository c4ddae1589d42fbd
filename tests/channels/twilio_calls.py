"""A phone call as the voice platform makes it: signed form posts with its fields, TwiML back.

``Call`` follows the line like the platform does: it posts what the caller said to the last
``<Gather action>``, a silence to the ``<Redirect>`` after it, and follows every answer that
has no ``<Gather>`` (a holding line) to its ``<Redirect>``. Every TwiML document it gets is
also rebuilt with the ``twilio`` library's own generator and must come out the same.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import httpx
from twilio.twiml.voice_response import VoiceResponse

from orchestrator.channels.twilio import SHA1, signature

ACCOUNT = "AC" + "5" * 32
NUMBER = "+15550199999"
MAX_FOLLOWS = 40


def fields(call_sid: str, caller: str, **extra: str) -> dict[str, str]:
    """What the platform posts for a call to our number (``extra``: SpeechResult, Digits ...)."""
    return {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "Called": NUMBER,
        "CalledCountry": "US",
        "Caller": caller,
        "CallerCountry": "US",
        "Direction": "inbound",
        "From": caller,
        "FromCountry": "US",
        "To": NUMBER,
        "ToCountry": "US",
        **extra,
    }


class Call:
    """One caller. ``public_url``: the base the platform calls (it signs that), mapped to ``http``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        call_sid: str,
        caller: str,
        auth_token: str | None = None,
        *,
        public_url: str | None = None,
        algorithm: str = SHA1,
    ) -> None:
        self.http, self.call_sid, self.caller, self.auth_token = http, call_sid, caller, auth_token
        self.public_url = (public_url or str(http.base_url)).rstrip("/")
        self.algorithm = algorithm
        self.action = "/voice/twilio/gather"
        self.on_silence = "/voice/twilio/gather"
        self.heard: list[str] = []
        """Everything the caller heard, document by document."""

    def public(self, target: str) -> str:
        return target if target.startswith("http") else self.public_url + target

    async def post(self, target: str, form: dict[str, str], *, signed: bool = True) -> httpx.Response:
        """POST ``form`` to ``target`` (a path, or a URL inside the public URL), signed like the platform."""
        url = self.public(target)
        assert url.startswith(self.public_url), f"the line sent the caller outside its public URL: {url}"
        local = url.removeprefix(self.public_url) or "/"
        headers = {}
        if self.auth_token and signed:
            headers["X-Twilio-Signature"] = signature(self.auth_token, url, list(form.items()), self.algorithm)
            if self.algorithm != SHA1:
                headers["X-Twilio-Webhooks-Signature-Settings"] = f"key=primary,algorithm={self.algorithm}"
        return await self.http.post(local, data=form, headers=headers)

    async def _exchange(self, target: str, form: dict[str, str], follow: bool) -> ET.Element:
        root = twiml(await self.post(target, form))
        for _ in range(MAX_FOLLOWS):
            self.heard.append(spoken(root))
            gather, redirect = root.find("Gather"), root.find("Redirect")
            if gather is not None:
                self.action = gather.get("action") or self.action
                self.on_silence = redirect.text if redirect is not None and redirect.text else self.action
                return root
            if not follow or redirect is None or not redirect.text:
                return root
            root = twiml(await self.post(redirect.text, fields(self.call_sid, self.caller)))
        raise AssertionError(f"the line kept redirecting: {self.heard[-5:]}")

    async def ring(self) -> ET.Element:
        return await self._exchange("/voice/twilio", fields(self.call_sid, self.caller, CallStatus="ringing"), True)

    async def say(self, words: str, *, confidence: str = "0.92", follow: bool = True) -> ET.Element:
        form = fields(self.call_sid, self.caller, SpeechResult=words, Confidence=confidence, msg="Gather End")
        return await self._exchange(self.action, form, follow)

    async def keys(self, digits: str) -> ET.Element:
        form = fields(self.call_sid, self.caller, Digits=digits, FinishedOnKey="#", msg="Gather End")
        return await self._exchange(self.action, form, True)

    async def silence(self) -> ET.Element:
        """The caller says nothing: the platform goes on to the ``<Redirect>`` after the ``<Gather>``."""
        return await self._exchange(self.on_silence, fields(self.call_sid, self.caller), True)

    async def follow(self, root: ET.Element) -> ET.Element:
        """Go on from a document the caller got without following it (its ``<Redirect>``)."""
        redirect = root.find("Redirect")
        assert redirect is not None and redirect.text, "nothing to follow"
        return await self._exchange(redirect.text, fields(self.call_sid, self.caller), True)

    async def hang_up(self) -> httpx.Response:
        """The platform's status callback when the caller hangs up."""
        form = fields(self.call_sid, self.caller, CallStatus="completed", CallDuration="42")
        return await self.post("/voice/twilio/status", form)


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    same_as_twilio(root)
    return root


def spoken(root: ET.Element) -> str:
    text = " ".join("".join(say.itertext()) for say in root.iter("Say"))
    return re.sub(r"\s+", " ", text).strip()


def listens(root: ET.Element) -> bool:
    gather = root.find("Gather")
    return gather is not None and "speech" in (gather.get("input") or "") and root.find("Hangup") is None


def hangs_up(root: ET.Element) -> bool:
    return root.find("Hangup") is not None


def step_of(url: str) -> str:
    return dict(p.split("=", 1) for p in urlsplit(url).query.split("&") if "=" in p).get("step", "")


# -- the platform's own generator ---------------------------------------------------------------
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _kwargs(element: ET.Element) -> dict[str, str]:
    return {_SNAKE.sub("_", name).lower().replace("-", "_"): value for name, value in element.attrib.items()}


def _say(parent: object, element: ET.Element) -> None:
    say = parent.say(element.text or "", **_kwargs(element))  # type: ignore[attr-defined]
    for child in element:
        if child.tag == "say-as":
            say.say_as(child.text or "", **_kwargs(child))
        elif child.tag == "break":
            say.break_(**_kwargs(child))
        else:
            raise AssertionError(f"<{child.tag}> inside <Say> is not SSML the platform reads")
        if child.tail:
            say.nest(child.tail)


def _verb(parent: object, element: ET.Element) -> None:
    kwargs = _kwargs(element)
    if element.tag == "Say":
        _say(parent, element)
    elif element.tag == "Gather":
        gather = parent.gather(**kwargs)  # type: ignore[attr-defined]
        for child in element:
            _verb(gather, child)
    elif element.tag in {"Play", "Redirect"}:
        getattr(parent, element.tag.lower())(element.text, **kwargs)
    elif element.tag in {"Pause", "Hangup"}:
        getattr(parent, element.tag.lower())(**kwargs)
    else:
        raise AssertionError(f"unexpected verb <{element.tag}>")


def same_as_twilio(root: ET.Element) -> None:
    """The document, rebuilt verb by verb with the ``twilio`` library, is the same XML."""
    rebuilt = VoiceResponse()
    for element in root:
        _verb(rebuilt, element)
    ours = ET.canonicalize(ET.tostring(root, encoding="unicode"))
    theirs = ET.canonicalize(rebuilt.to_xml(xml_declaration=False))
    assert ours == theirs, f"\nours:   {ours}\ntwilio: {theirs}"
