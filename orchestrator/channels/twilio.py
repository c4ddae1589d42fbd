"""The programmable-voice platform's conventions: webhook signatures and TwiML responses.

Signature (``X-Twilio-Signature``): base64 of an HMAC, keyed with the account's auth token,
over the full URL the platform requested followed by every POST field, sorted by name (values
of a repeated field sorted too), as name+value with no separators. The HMAC is SHA-1 unless the
request's ``X-Twilio-Webhooks-Signature-Settings`` header names ``algorithm=HMAC_SHA256``, as
the platform's own ``RequestValidator`` reads it. The platform may sign the URL with or without
an explicit standard port, so both are accepted. During a token rotation two tokens are valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree as ET

SHA1 = "HMAC_SHA1"
SHA256 = "HMAC_SHA256"
_HASHES: dict[str, Callable[..., hashlib._Hash]] = {SHA1: hashlib.sha1, SHA256: hashlib.sha256}
SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"


def algorithm_of(settings_header: str | None) -> str:
    """The HMAC the platform used: ``algorithm=`` in the signature-settings header, else SHA-1."""
    for part in (settings_header or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            return value.strip().upper()
    return SHA1


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]], algorithm: str = SHA1) -> str:
    # Repeated fields are signed once per distinct value, as the platform's own validators do.
    message = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), message.encode(), _HASHES[algorithm]).digest()
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


def signature_valid(
    auth_tokens: str | Sequence[str], url: str, params: list[tuple[str, str]], given: str, algorithm: str = SHA1
) -> bool:
    """``given`` signs ``url`` and ``params`` with one of ``auth_tokens`` (current, then previous)."""
    if not given or algorithm not in _HASHES:
        return False
    tokens = [auth_tokens] if isinstance(auth_tokens, str) else list(auth_tokens)
    return any(
        hmac.compare_digest(signature(token, u, params, algorithm), given)
        for token in tokens
        for u in _url_variants(url)
    )


@dataclass(frozen=True)
class Spell:
    """Characters read one by one (a reference, a code), in groups with a short pause between."""

    groups: tuple[str, ...]


Part = str | Spell
"""A piece of a spoken reply: words, or characters to spell."""


def plain(parts: Sequence[Part]) -> str:
    """The reply as plain text (logs, transcripts, voices without SSML)."""
    return "".join(p if isinstance(p, str) else ", ".join(" ".join(g) for g in p.groups) for p in parts).strip()


class TwiML:
    """A ``<Response>`` document built verb by verb; text is escaped by the XML writer.

    ``ssml`` voices (Amazon Polly, Google) get ``<say-as interpret-as="spell-out">`` and
    ``<break>`` for spelled references; the platform's basic voices get the letters as words.
    """

    def __init__(self, *, language: str = "en-GB", voice: str | None = None) -> None:
        self._root = ET.Element("Response")
        self._language = language
        self._voice = voice
        self._ssml = voice is not None and voice.split(".", 1)[0] in {"Polly", "Google"}

    def _say_attrs(self) -> dict[str, str]:
        attrs = {"language": self._language}
        if self._voice:
            attrs["voice"] = self._voice
        return attrs

    def say(self, text: str | Sequence[Part], parent: ET.Element | None = None) -> TwiML:
        parts: Sequence[Part] = [text] if isinstance(text, str) else text
        say = ET.SubElement(self._root if parent is None else parent, "Say", self._say_attrs())
        if not self._ssml:
            say.text = plain(parts)
            return self
        say.text = ""
        last: ET.Element | None = None
        for part in parts:
            if isinstance(part, str):
                if last is None:
                    say.text += part
                else:
                    last.tail = (last.tail or "") + part
                continue
            for i, group in enumerate(part.groups):
                if i:
                    last = ET.SubElement(say, "break", {"strength": "medium"})
                last = ET.SubElement(say, "say-as", {"interpret-as": "spell-out"})
                last.text = group
        return self

    def gather(
        self,
        text: str | Sequence[Part],
        action: str,
        *,
        hints: Sequence[str] = (),
        then: str | None = None,
        timeout: int = 6,
        play: str | None = None,
    ) -> TwiML:
        """Speak ``text`` while listening for speech or keys, then post what was heard to ``action``.

        When the caller says nothing the platform moves on to the next verb: a ``<Redirect>`` to
        ``then`` (default ``action``), which sees a post without ``SpeechResult`` or ``Digits``.
        With ``play`` the audio plays (after the words) while it listens; no words, no ``<Say>``.
        """
        attrs = {
            "input": "speech dtmf",
            "action": action,
            "method": "POST",
            "language": self._language,
            "speechTimeout": "auto",
            "timeout": str(timeout),
            "finishOnKey": "#",
        }
        if hints:
            attrs["hints"] = ", ".join(hints)
        gather = ET.SubElement(self._root, "Gather", attrs)
        if text:
            self.say(text, gather)
        if play:
            ET.SubElement(gather, "Play").text = play
        return self.redirect(then or action)

    def play(self, url: str) -> TwiML:
        ET.SubElement(self._root, "Play").text = url
        return self

    def pause(self, seconds: int) -> TwiML:
        ET.SubElement(self._root, "Pause", {"length": str(seconds)})
        return self

    def redirect(self, url: str) -> TwiML:
        ET.SubElement(self._root, "Redirect", {"method": "POST"}).text = url
        return self

    def hangup(self) -> TwiML:
        ET.SubElement(self._root, "Hangup")
        return self

    def render(self) -> str:
        return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(self._root, encoding="unicode")
