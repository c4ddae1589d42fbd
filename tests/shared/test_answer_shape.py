"""The details a waiting specialist asks for are recognised in a reply, and only those."""

from __future__ import annotations

import pytest

from shared.answer_shape import fits


@pytest.mark.parametrize(
    ("asking", "text", "expected"),
    [("postal-address", "Flat 5, 12 High Street, Kingsmere, KM2 8HD", True),
     ("postal-address", "my internet is down in Kingsmere", False),
     ("email", "it's jo.bloggs@example.com", True), ("email", "the one I gave you before", False),
     ("port-in", "07700 901003", True), ("port-in", "+44 7700 901003", True),
     ("port-in", "the code is OTW118604", True), ("port-in", "my broadband is slow", False),
     (None, "Flat 5, 12 High Street, Kingsmere, KM2 8HD", False),
     ("code", "123456", False), ("something-new", "KM2 8HD", False)],
)  # fmt: skip
def test_a_reply_fits_what_was_asked(asking: str | None, text: str, expected: bool) -> None:
    assert fits(asking, text) is expected
