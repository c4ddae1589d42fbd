"""The programmable-voice platform's conventions: webhook signatures and TwiML responses.

Signature (``X-Twilio-Signature``): base64 of HMAC-SHA1, keyed with the account's auth token,
over the full URL the platform requested followed by every POST field, sorted by name, as
name+value with no separators. The platform may sign the URL with or without an explicit
standard port, so both are accepted. A field repeated with the same value is signed once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree as ET


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    # Repeated fields are signed once per distinct value, as the platform's own validators do.
    message = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is None and default:
        return [url, urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}"))]
    if parts.port == default:
        netloc = (f"{parts.username}@" if parts.username else "") + host
        return [url, urlunsplit(parts._replace(netloc=netloc))]
    return [url]


def signature_valid(auth_token: str, url: str, params: list[tuple[str, str]], given: str) -> bool:
    if not given:
        return False
    return any(hmac.compare_digest(signature(auth_token, u, params), given) for u in _url_variants(url))


class TwiML:
    """A ``<Response>`` document built verb by verb; text is escaped by the XML writer."""

    def __init__(self, *, language: str = "en-US", voice: str | None = None) -> None:
        self._root = ET.Element("Response")
        self._language = language
        self._voice = voice

    def _say_attrs(self) -> dict[str, str]:
        attrs = {"language": self._language}
        if self._voice:
            attrs["voice"] = self._voice
        return attrs

    def say(self, text: str, parent: ET.Element | None = None) -> TwiML:
        ET.SubElement(self._root if parent is None else parent, "Say", self._say_attrs()).text = text
        return self

    def gather(self, text: str, action: str, *, num_digits: int | None = None) -> TwiML:
        """Speak ``text`` while listening for speech or keys, then post what was heard to ``action``."""
        attrs = {
            "input": "speech dtmf",
            "action": action,
            "method": "POST",
            "language": self._language,
            "speechTimeout": "auto",
            "timeout": "6",
            "finishOnKey": "#",
        }
        if num_digits:
            attrs["numDigits"] = str(num_digits)
        gather = ET.SubElement(self._root, "Gather", attrs)
        self.say(text, gather)
        # Reached only when the caller said nothing: the platform moves on to the next verb.
        ET.SubElement(self._root, "Redirect", {"method": "POST"}).text = action
        return self

    def hangup(self) -> TwiML:
        ET.SubElement(self._root, "Hangup")
        return self

    def render(self) -> str:
        return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(self._root, encoding="unicode")
