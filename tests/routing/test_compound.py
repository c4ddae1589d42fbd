"""The two-request cut on its own: where a message is cut, which joins announce a request, and the story check."""

from __future__ import annotations

from orchestrator.routing.compound import Part, first_and_rest, split_requests

# Each piece a made-up classifier is sure of, by its first word.
_SKILLS = {"i": 0, "can": 1, "could": 1, "oh": 1}


def _classify(piece: str) -> Part | None:
    return Part(_SKILLS.get(piece.split()[0], 2), 0.9, piece)


def test_a_join_says_whether_it_announces_another_request() -> None:
    cuts = first_and_rest("i lost my job and can't pay the full bill. also can i get a paper bill")
    assert [(c.after.split()[0], c.announced) for c in cuts] == [("can't", False), ("can", True)]
    # "after that" announces the next request from the start of the second side.
    assert [c.announced for c in first_and_rest("i want my money back; and after that i need my invoice")] == [True]


def test_a_story_makes_one_request() -> None:
    text = "i lost my job and can't pay the full bill"
    assert split_requests(text, _classify, min_confidence=0.55) is not None
    asked: list[tuple[str, str]] = []

    def told(first: Part, second: Part) -> bool:
        asked.append((first.text, second.text))
        return True

    assert split_requests(text, _classify, min_confidence=0.55, told=told) is None
    assert asked == [("i lost my job", "can't pay the full bill")]


def test_an_announced_request_is_never_a_story() -> None:
    text = "i want a copy of my bill and also can i pay it in three parts"
    found = split_requests(text, _classify, min_confidence=0.55, told=lambda first, second: True)
    assert found is not None and [p.index for p in found] == [0, 1]
