"""Every reply the specialists write, and every shape a person types, rendered for the ear."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orchestrator.channels.spoken import Voice, groups, money_words, number_words, references, render
from orchestrator.channels.twilio import Spell, plain


def said(text: str, voice: Voice | None = None) -> str:
    return plain(render(text, voice))


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (12, "twelve"),
        (40, "forty"),
        (99, "ninety-nine"),
        (105, "one hundred and five"),
        (1_000, "one thousand"),
        (2_050, "two thousand and fifty"),
        (12_345, "twelve thousand three hundred and forty-five"),
    ],
)
def test_numbers_in_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        ("12.00", "GBP", "twelve pounds"),
        ("1.00", "GBP", "one pound"),
        ("12.50", "GBP", "twelve pounds and fifty pence"),
        ("0.01", "EUR", "zero euros and one cent"),
        ("30.99", "USD", "thirty dollars and ninety-nine cents"),
        ("-5.00", "GBP", "minus five pounds"),
    ],
)
def test_money_in_words(amount: str, currency: str, words: str) -> None:
    assert money_words(Decimal(amount), currency) == words


def test_references_are_spelled_in_groups() -> None:
    assert groups("B8DE2957B8") == ("B8D", "E29", "57B8")
    assert groups("INV") == ("INV",)
    assert groups("1234") == ("1234",)


# What the specialists write (agents/*), one case per template that carries figures or words
# meant for a screen; the spoken form must keep every figure and drop every screen word.
SPECIALIST_REPLIES = [
    (  # payment/refund.py: the duplicate charge, with an invoice and a (yes/no)
        "I can see a duplicate charge of £12.00 on 3 Nov for invoice INV-202610-00003. "
        "Would you like me to refund the £12.00? (yes/no)",
        "I can see a duplicate charge of twelve pounds on 3 Nov for invoice I N V, 2 0 2, 6 1 0, 0 0 0, 0 3. "
        "Would you like me to refund the twelve pounds? Please say yes or no.",
    ),
    (  # payment/refund.py: an amount without its currency is in the operator's
        "Would you like me to refund the 12.00? (yes/no)",
        "Would you like me to refund the twelve pounds? Please say yes or no.",
    ),
    (  # payment/refund.py: done, with the refund reference
        "Done. I've refunded €12.50; your refund reference is RF-B8DE2957B8. "
        "It usually reaches your card within 3 to 5 working days.",
        "Done. I've refunded twelve euros and fifty cents; your refund reference is R F, B 8 D, E 2 9, 5 7 B 8. "
        "It usually reaches your card within 3 to 5 working days.",
    ),
    (  # identity/verify.py: the code was sent to a masked number
        "Thanks. I've sent a 6-digit code by text to +44•••••154. Please type it here when it arrives.",
        "Thanks. I've sent a 6-digit code by text to the number ending in 1 5 4. "
        "Please say it or key it in when it arrives.",
    ),
    (  # identity/verify.py: the pending code
        "Please type the 6-digit code I sent to ••• 269.",
        "Please say the 6-digit code I sent to the number ending in 2 6 9.",
    ),
    (  # billing/plans.py: the confirmation of a plan change
        "Just to confirm: you'd like to move to Everyday 30 at £30.00 a month? (yes/no)",
        "Just to confirm: you'd like to move to Everyday 30 at thirty pounds a month? Please say yes or no.",
    ),
    (  # billing/plans.py: the list of plans, every one in order
        "These are the plans you can move to:\n- Basic 2: £5.00 a month\n- Essential 10: £10.00 a month\n"
        "- Everyday 30: £30.00 a month\n- Unlimited: £45.00 a month\nWhich one would you like?",
        "These are the plans you can move to: Basic 2: five pounds a month. Essential 10: ten pounds a month. "
        "Everyday 30: thirty pounds a month. Unlimited: forty-five pounds a month. Which one would you like?",
    ),
    (  # billing/bill.py: the bill with its lines and a comparison
        "Your latest bill (Oct 2026) is £42.50.\n- Plan: £30.00\n- Roaming: £12.50 (new this month)\n"
        "That's £12.50 more than the month before (£30.00).",
        "Your latest bill (Oct 2026) is forty-two pounds and fifty pence. Plan: thirty pounds. "
        "Roaming: twelve pounds and fifty pence (new this month). "
        "That's twelve pounds and fifty pence more than the month before (thirty pounds).",
    ),
    (  # payment/history.py: earlier refunds with their references
        "Your recent refunds:\n- £12.00 on 3 Nov (issued, reference RF-00AA11BB22)",
        "Your recent refunds: twelve pounds on 3 Nov (issued, reference R F, 0 0 A, A 1 1, B B 2 2).",
    ),
    (  # escalation/handoff.py
        "I've asked a member of our team to join this conversation. You're number 2 in the queue. "
        "They'll see everything we've discussed, so you won't need to repeat yourself.",
        "I've asked a member of our team to join this conversation. You're number 2 in the queue. "
        "They'll see everything we've discussed, so you won't need to repeat yourself.",
    ),
]


@pytest.mark.parametrize(("written", "spoken"), SPECIALIST_REPLIES)
def test_each_specialist_reply_is_spoken_for_the_ear(written: str, spoken: str) -> None:
    assert said(written) == spoken


def test_dates_written_for_machines_are_said_as_dates() -> None:
    assert said("Your latest bill (2026-10) is £30.00.") == "Your latest bill (October 2026) is thirty pounds."
    assert said("Effective from 2026-11-03.") == "Effective from 3 November 2026."


def test_a_bare_amount_is_in_the_configured_currency() -> None:
    assert said("That's 12.00 in total.", Voice(currency="EUR")) == "That's twelve euros in total."
    assert said("The fee is 7.50 USD.") == "The fee is seven dollars and fifty cents."


# What a person at the console types.
def test_a_typed_list_is_read_whole_and_in_order() -> None:
    typed = (
        "Three things to try:\n1. Restart the phone\n2. Check flight mode is off\n"
        "3. Reset network settings\n4. Call us back"
    )
    assert said(typed) == (
        "Three things to try: Restart the phone. Check flight mode is off. Reset network settings. Call us back."
    )


def test_typed_links_and_markup_become_words() -> None:
    typed = "See **our roaming guide** at https://www.northwind.example/help/roaming?src=chat, or [the FAQ](https://help.northwind.example/faq)."
    assert said(typed) == (
        "See our roaming guide at northwind dot example, or the FAQ (on help dot northwind dot example)."
    )


def test_typed_emails_numbers_and_internal_ids() -> None:
    typed = "Write to care@northwind.example or call +44 7700 900154. (ticket 1b4e28ba-2fa1-11d2-883f-0016d3cca427)"
    parts = render(typed)
    assert plain(parts).startswith("Write to care at northwind dot example or call 4 4, 7 7 0 0, 9 0 0, 1 5 4.")
    assert "1b4e28ba" not in plain(parts)
    assert Spell(("44", "7700", "900", "154")) in parts


def test_long_typed_text_is_read_whole() -> None:
    typed = " ".join(f"Sentence {n} explains one more detail of the fault." for n in range(1, 16))
    spoken = said(typed)
    assert spoken.startswith("Sentence 1 ") and spoken.endswith("Sentence 15 explains one more detail of the fault.")


def test_codes_are_spelled_and_kept_for_a_repeat() -> None:
    parts = render("Your reference is TCK-88123 and your code is 481902.")
    assert references(parts) == [Spell(("TCK", "881", "23")), Spell(("481", "902"))]
    assert not render("") and said("2 lines for £30.00") == "2 lines for thirty pounds."
