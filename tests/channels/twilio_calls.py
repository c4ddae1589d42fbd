"""A phone call as the voice platform makes it: form posts with its fields, TwiML back."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import httpx

from orchestrator.channels.twilio import signature

ACCOUNT = "AC" + "5" * 32
NUMBER = "+15550199999"


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
    def __init__(self, http: httpx.AsyncClient, call_sid: str, caller: str, auth_token: str | None = None) -> None:
        self.http, self.call_sid, self.caller, self.auth_token = http, call_sid, caller, auth_token

    async def post(self, path: str, form: dict[str, str], *, signed: bool = True) -> httpx.Response:
        headers = {}
        if self.auth_token and signed:
            url = str(self.http.base_url).rstrip("/") + path
            headers["X-Twilio-Signature"] = signature(self.auth_token, url, list(form.items()))
        return await self.http.post(path, data=form, headers=headers)

    async def ring(self) -> ET.Element:
        return twiml(await self.post("/voice/twilio", fields(self.call_sid, self.caller, CallStatus="ringing")))

    async def say(self, words: str) -> ET.Element:
        form = fields(self.call_sid, self.caller, SpeechResult=words, Confidence="0.92", msg="Gather End")
        return twiml(await self.post("/voice/twilio/gather", form))

    async def keys(self, digits: str) -> ET.Element:
        form = fields(self.call_sid, self.caller, Digits=digits, FinishedOnKey="#", msg="Gather End")
        return twiml(await self.post("/voice/twilio/gather", form))

    async def silence(self) -> ET.Element:
        return twiml(await self.post("/voice/twilio/gather", fields(self.call_sid, self.caller)))


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root


def spoken(root: ET.Element) -> str:
    return " ".join(say.text or "" for say in root.iter("Say"))


def listens(root: ET.Element) -> bool:
    gather = root.find("Gather")
    return gather is not None and "speech" in (gather.get("input") or "") and root.find("Hangup") is None
