"""Phrases with no routable intent, learned as extra classes next to every skill.

Without them a greeting or an off-topic question would be forced onto whichever skill it
happens to share a word with, with misleading confidence. They are generic (no skill's
vocabulary), so they hold for any set of specialists. ``SMALL_TALK_PHRASES`` get a natural answer;
``UNCLEAR_PHRASES`` (a goal not said yet) get a question back.
"""

from __future__ import annotations

SMALL_TALK_PHRASES: tuple[str, ...] = (
    "hi",
    "hey",
    "hello there",
    "hiya",
    "good afternoon",
    "good evening",
    "morning",
    "hey, anyone there?",
    "are you there",
    "thank you",
    "thanks a lot",
    "cheers",
    "ok thanks",
    "okay",
    "yes",
    "no",
    "sure",
    "great",
    "cool",
    "goodbye",
    "see you",
    "what can you do",
    "what is this",
    "test",
    "testing 123",
    "what time is it",
    "who are you",
    "how is it going",
    "nice to meet you",
    "tell me a story",
    "what's the capital of france",
    "do you like music",
    "what should i cook for dinner",
    "where is the nearest train station",
    "how tall is mount everest",
    "write me a poem",
    "sing a song",
)

UNCLEAR_PHRASES: tuple[str, ...] = (
    "i need help",
    "help me",
    "can you help",
    "i need some assistance",
    "i have a problem",
    "question",
    "quick question",
    "something is wrong",
    "aaaa",
    "qwerty",
    "blah blah",
    "jkl;",
    "...",
)

# Requests for things no contact-centre specialist does; the training split adds the operator's own.
OUT_OF_SCOPE_PHRASES: tuple[str, ...] = (
    "book me a flight to rome",
    "order a pizza for me",
    "i want to buy new shoes",
    "can you do my homework",
    "find me a hotel",
    "where can i rent a car",
    "what is the exchange rate for dollars",
    "i need a plumber",
)
