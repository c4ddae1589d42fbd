"""Consent facts for the reference dataset, derived from the customers with their own RNG.

A separate ``random.Random`` keeps the main generator's sequence untouched, so adding consent
changed no other record of the dataset.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time

from mcp_servers._time import iso
from mcp_servers.dataset._generate import Dataset
from shared.tools import PURPOSES

MARKETING_SHARE = 0.7
CALL_RECORDING_SHARE = 0.8


def consent_rows(ds: Dataset) -> list[tuple[str, str, int, str, str]]:
    """(customer_id, purpose, granted, updated_at, source) for every customer and purpose.

    Servicing, payments and AI processing are granted at sign-up; marketing and call recording
    are each customer's own choice.
    """
    rng = random.Random(f"consent-{ds.seed}")
    rows = []
    for c in ds.customers:
        chosen = {"marketing": rng.random() < MARKETING_SHARE, "call-recording": rng.random() < CALL_RECORDING_SHARE}
        at = iso(datetime.combine(c.customer_since, time(9, 0), UTC))
        rows += [(c.customer_id, p, int(chosen.get(p, True)), at, "dataset") for p in PURPOSES]
    return rows
