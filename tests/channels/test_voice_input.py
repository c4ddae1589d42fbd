"""What callers say, as they say it: identifiers in pieces, a doubtful "yes", "say that again"."""

from __future__ import annotations

import re

import httpx
import pytest

from mcp_servers.identity.outbox import read_outbox
from tests.channels.twilio_calls import Call, listens, spoken
from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

_DIGIT_WORDS = ["oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def say_number(msisdn: str) -> str:
    """+447700900154 the way a person says it: "oh seven seven double oh, nine double oh, one five four"."""
    digits = "0" + msisdn.removeprefix("+44")
    words = [_DIGIT_WORDS[int(d)] for d in digits]
    out: list[str] = []
    i = 0
    while i < len(words):
        if i + 1 < len(words) and words[i] == words[i + 1]:
            out.append(f"double {words[i]}")
            i += 2
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def say_email(email: str) -> str:
    local, domain = email.split("@")
    return f"{' dot '.join(local.split('.'))} at {' dot '.join(domain.split('.'))}"


def say_account(account: str) -> str:
    return "account number " + " ".join(_DIGIT_WORDS[int(d)] for d in re.sub(r"\D", "", account))


def codes_sent(running: RunningStack, customer_id: str) -> int:
    return len(read_outbox(running.data_dir, customer_id=customer_id, limit=100))


@pytest.mark.parametrize(
    ("index", "form"),
    [(201, "phone"), (202, "email"), (203, "account")],
)
async def test_each_spoken_identifier_verifies_its_own_account_from_someone_elses_phone(
    http: httpx.AsyncClient, running: RunningStack, index: int, form: str
) -> None:
    customers = running.customers(240)
    caller, customer = customers[index - 100], customers[index]
    said = {"phone": say_number, "email": say_email, "account": say_account}[form]
    key = {"phone": "msisdn", "email": "email", "account": "account_number"}[form]
    before = codes_sent(running, caller["customer_id"])

    call = Call(http, f"CA{index:02d}" + "d" * 29, caller=caller["msisdn"])  # another customer's phone
    await call.ring()
    asked = await call.say("I'd like to understand my last bill")
    assert "this number" in spoken(asked)
    sent = await call.say(f"it's {said(customer[key])}")
    assert "code" in spoken(sent), spoken(sent)
    code = running.latest_code(customer["customer_id"])  # sent to the customer's own contact on record
    assert codes_sent(running, caller["customer_id"]) == before, "nothing went to the calling phone's owner"
    done = await call.say(" ".join(code))
    assert "verified" in spoken(done).lower() and customer["display_name"].split()[0] in spoken(done)


async def test_a_doubtful_yes_is_asked_again_before_a_refund(http: httpx.AsyncClient, running: RunningStack) -> None:
    customer = running.claim_customer(has_duplicate_charge=True)
    call = Call(http, "CA" + "e1" * 16, caller="+15550100301")
    await call.ring()
    await call.say("I was charged twice and I want my money back")
    await call.say(f"my email is {say_email(customer['email'])}")
    offer = await call.keys(running.latest_code(customer["customer_id"]))
    if "yes or no" not in spoken(offer):
        offer = await call.say("I was charged twice, please refund it")
    assert "Please say yes or no" in spoken(offer) and "pounds" in spoken(offer), spoken(offer)
    assert offer.find("Gather").get("hints") == "yes, no"  # type: ignore[union-attr]

    doubtful = await call.say("yes", confidence="0.08")
    assert "Did you say yes?" in spoken(doubtful) and "refunded" not in spoken(doubtful), spoken(doubtful)
    unsure_again = await call.say("yes", confidence="0.1")
    assert "yes or no" in spoken(unsure_again).lower() and "refunded" not in spoken(unsure_again)
    assert "Did you say yes?" in spoken(await call.say("yeah", confidence="0.2"))
    done = await call.keys("1")
    words = spoken(done)
    assert "refunded" in words and "reference" in words, words
    spelled = [e.text for e in done.iter("say-as")]
    assert spelled and spelled[0] == "RF", spelled

    again = await call.say("sorry, can you repeat that?")
    assert [e.text for e in again.iter("say-as")] == spelled and listens(again)


async def test_a_call_gets_three_link_codes_counted_before_the_code_is_looked_at(
    http: httpx.AsyncClient, chat: Chat
) -> None:
    link = await http.post(
        f"/api/conversations/{chat.conversation_id}/phone-link", headers={"Authorization": f"Bearer {chat.token}"}
    )
    assert link.json()["phone_number"] == "+442079460000", "the chat says which number to call"
    code = link.json()["code"]
    guesser = Call(http, "CA" + "e2" * 16, caller="+15550100302")
    await guesser.ring()
    for wrong in ("00000000", "00000001"):
        assert "didn't match" in spoken(await guesser.keys(wrong))
    assert "start fresh" in spoken(await guesser.keys("00000002")).lower()
    refused = await guesser.keys(code)  # the right code, but a fourth try
    assert "can't take any more codes" in spoken(refused), spoken(refused)
    # It was never looked at, so it still works for the customer's own call.
    customer = Call(http, "CA" + "e3" * 16, caller="+15550100303")
    await customer.ring()
    assert "web chat" in spoken(await customer.keys(code))


async def test_a_call_offers_at_most_three_one_time_codes_across_customers(
    http: httpx.AsyncClient, running: RunningStack
) -> None:
    first, second = running.customers(240)[211], running.customers(240)[212]
    call = Call(http, "CA" + "e4" * 16, caller="+15550100304")
    await call.ring()
    await call.say("I'd like to understand my last bill")
    await call.say(f"my email is {say_email(first['email'])}")
    real = running.latest_code(first["customer_id"])
    wrong = [f"{(int(real) + n) % 1_000_000:06d}" for n in (1, 2, 3)]
    for guess in wrong:
        await call.keys(guess)  # the identity check locks the first customer after three
    await call.say("I'd like to understand my last bill")
    sent = await call.say(f"my email is {say_email(second['email'])}")
    assert "code" in spoken(sent), spoken(sent)
    refused = await call.keys(running.latest_code(second["customer_id"]))
    assert "can't check any more codes on this call" in spoken(refused), spoken(refused)
    assert "verified" not in spoken(refused).lower()
