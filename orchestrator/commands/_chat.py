"""``switchboard chat``: a terminal conversation as a customer (``chat`` registers it and loads this).

It shows what the web chat shows, from the same event stream
(``GET /api/conversations/{id}/events``): the specialists' replies, a human joining and
leaving, a human's replies and an approval's outcome whenever they arrive, not only in answer
to a turn. Turns go to ``POST /api/conversations/{id}/turns``, as the web chat's do. When the
server goes away the chat ends with one line saying so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from orchestrator.commands._common import settings_from
from orchestrator.commands.data import print_outbox
from orchestrator.disclosure import DISCLOSURE_SKILL
from shared.settings import Topology

# What the web chat shows for these system entries and turn outcomes (chat.js).
NOTICES = {"human-joined": "A member of our team has joined the conversation."}
WAITING_FOR_APPROVAL = "(waiting for approval from a member of our team; the result will appear here)"
ESCALATED = "(a member of our team will reply here shortly)"


class ServerGone(Exception):
    """The orchestrator stopped answering: the conversation cannot go on from this terminal."""


class Transcript:
    """Prints each transcript entry once, whichever of the stream and the turn reply brings it first."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self.last_seq = 0
        self._shown: set[int] = set()

    def show(self, entry: dict[str, Any]) -> None:
        seq = int(entry.get("seq", 0))
        with self._lock:
            if seq in self._shown:
                return
            self._shown.add(seq)
            self.last_seq = max(self.last_seq, seq)
            line = self._line(entry)
            if line:
                self._write(line)

    def note(self, text: str) -> None:
        with self._lock:
            self._write(text)

    @staticmethod
    def _line(entry: dict[str, Any]) -> str:
        role, text = entry.get("role"), str(entry.get("text") or "")
        if role == "customer":
            return ""  # the customer typed it
        if role == "system" and entry.get("skill") == DISCLOSURE_SKILL:
            return ""  # printed first, as the greeting the conversation started with
        if role == "system":
            return f"-- {NOTICES.get(str(entry.get('skill')), text)}"
        if role == "human":
            return f"{entry.get('agent') or 'team'} (our team)> {text}"
        return f"{entry.get('agent') or 'supervisor'}> {text}"


def _sse(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) pairs from a text/event-stream body."""
    event, data = "message", ""
    for line in lines:
        if not line:
            if data:
                yield event, json.loads(data)
            event, data = "message", ""
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


class Conversation:
    def __init__(self, http: httpx.Client, conversation_id: str, token: str, transcript: Transcript) -> None:
        self._http = http
        self.id = conversation_id
        self._auth = {"Authorization": f"Bearer {token}"}
        self.transcript = transcript
        self.closing = threading.Event()

    def say(self, text: str) -> None:
        try:
            response = self._http.post(f"/api/conversations/{self.id}/turns", json={"text": text}, headers=self._auth)
            if response.status_code != 200:
                self.transcript.note(_refusal(response))
                return
            self._catch_up()
        except httpx.TransportError as exc:
            raise ServerGone(str(exc)) from None
        self._outcome(response.json())

    def _outcome(self, outcome: dict[str, Any]) -> None:
        data = outcome.get("data") or {}
        if data.get("approval_pending") or outcome.get("approval_pending"):
            self.transcript.note(WAITING_FOR_APPROVAL)
        elif outcome.get("status") == "escalated":
            self.transcript.note(ESCALATED)

    def _catch_up(self) -> None:
        state = self._http.get(f"/api/conversations/{self.id}", headers=self._auth)
        if state.status_code != 200:
            self.transcript.note(_refusal(state))
            return
        for entry in state.json()["transcript"]:
            self.transcript.show(entry)

    def follow(self, keyboard: Keyboard) -> None:
        """Read the event stream until the server goes away (run on its own thread)."""
        while not self.closing.is_set():
            try:
                ticket = self._http.post(f"/api/conversations/{self.id}/events/ticket", headers=self._auth)
                ticket.raise_for_status()
                params = {"ticket": ticket.json()["ticket"], "after": str(self.transcript.last_seq)}
                with self._http.stream("GET", f"/api/conversations/{self.id}/events", params=params) as stream:
                    for event, data in _sse(stream.iter_lines()):
                        if event == "entry":
                            self.transcript.show(data)
                        elif event == "bye":
                            break
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                if not self.closing.is_set():
                    keyboard.interrupt(ServerGone(str(exc)))
                return


def _refusal(response: httpx.Response) -> str:
    """One line for an error answer: the server's message and hint, or its status."""
    try:
        err = response.json().get("error", {})
    except ValueError:
        err = {}
    hint = f" ({err['hint']})" if err.get("hint") else ""
    return f"! {err.get('message') or f'HTTP {response.status_code}'}{hint}"


class Keyboard:
    """The customer's lines from standard input, in a wait the event stream can cut short.

    Reads the file descriptor directly (a terminal still edits the line before Enter) and waits
    on it together with a pipe the stream's thread writes to when the server has gone away.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lines: list[str] = []
        self._partial = b""
        self._eof = False
        self._wake_r, self._wake_w = os.pipe()
        self._why: ServerGone | None = None

    def interrupt(self, why: ServerGone) -> None:
        self._why = why
        with contextlib.suppress(OSError):  # closed: the chat has already ended
            os.write(self._wake_w, b"!")

    def next_line(self) -> str | None:
        """The next line (stripped), None at the end of input; raises ServerGone when interrupted."""
        print("you> ", end="", flush=True)
        while not self._lines:
            if self._eof:
                return None
            ready, _, _ = select.select([self._fd, self._wake_r], [], [])
            if self._wake_r in ready:
                raise self._why or ServerGone("")
            chunk = os.read(self._fd, 4096)
            if not chunk:
                self._eof = True
                chunk = b"\n" if self._partial else b""
            *complete, self._partial = (self._partial + chunk).split(b"\n")
            self._lines += [line.decode(errors="replace").strip() for line in complete]
        return self._lines.pop(0)

    def close(self) -> None:
        os.close(self._wake_r)
        os.close(self._wake_w)


def run_chat(args: argparse.Namespace) -> int:
    """A conversation as a customer until /quit or the server goes away."""
    settings = settings_from(args)
    base = args.url or Topology.embedded(settings.host, settings.base_port).orchestrator
    gone = f"The server at {base} went away; the conversation has ended."
    with httpx.Client(base_url=base, timeout=httpx.Timeout(60, read=120)) as http:
        try:
            started = http.post("/api/conversations", json={"channel": args.channel})
        except httpx.TransportError as exc:
            print(f"Cannot reach the orchestrator at {base} ({exc}). Is `switchboard up` running?", file=sys.stderr)
            return 2
        started.raise_for_status()
        conv = started.json()
        transcript = Transcript(lambda line: print(line, flush=True))
        chat = Conversation(http, conv["conversation_id"], conv["token"], transcript)
        print(f"[conversation {chat.id}]  type /quit to leave, /code for your latest one-time code")
        print(f"supervisor> {conv['greeting']}", flush=True)
        keyboard = Keyboard(sys.stdin.fileno())
        follower = threading.Thread(target=chat.follow, args=(keyboard,), name="event stream", daemon=True)
        follower.start()
        try:
            while True:
                line = keyboard.next_line()
                if line is None or line in ("/quit", "/exit"):
                    return 0
                if line == "/code":
                    print_outbox(settings.data_dir, None, 1)
                elif line:
                    chat.say(line)
        except ServerGone:
            print(f"\n{gone}", file=sys.stderr)
            return 2
        finally:
            chat.closing.set()
            keyboard.close()
