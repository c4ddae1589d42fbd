"""A model call's limits, derived from what is left of the turn.

A CPU model writes a few tokens a second, so a call's time-out and its ``max_tokens`` must agree:
asking for 600 tokens with 20 s left means the answer is cut off or abandoned, and an abandoned
request keeps a one-at-a-time server busy. So the token limit comes from the time left, and the
time-out from the token limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.deadline import MIN_WAIT_SECONDS, DeadlinePassed

MIN_TOKENS = 16


@dataclass(frozen=True)
class ModelBudget:
    """How fast the model writes and how long it takes to start (``SWITCHBOARD_MODEL_*`` settings)."""

    max_tokens: int = 600
    timeout_seconds: float = 20.0
    tokens_per_second: float = 15.0
    first_token_seconds: float = 2.0

    def call(self, left: float | None) -> tuple[float, int]:
        """(time-out, max_tokens) for one call with ``left`` seconds of the turn (None: no deadline).

        Raises ``DeadlinePassed`` when not even the shortest answer fits.
        """
        wait = self.timeout_seconds if left is None else min(self.timeout_seconds, left)
        writing = wait - self.first_token_seconds
        if wait < MIN_WAIT_SECONDS or writing * self.tokens_per_second < MIN_TOKENS:
            raise DeadlinePassed(f"{max(wait, 0):.1f} s left is too little for a model answer")
        tokens = max(MIN_TOKENS, min(self.max_tokens, int(writing * self.tokens_per_second)))
        timeout = min(wait, self.first_token_seconds + tokens / self.tokens_per_second)
        return timeout, tokens
