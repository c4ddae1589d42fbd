"""The support skills' readings of a customer's words and of a system's record, without a stack."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from agents.support.confirming import held_for_approval
from agents.support.device_order import delivery_in, pick
from agents.support.outage import compensation
from agents.support.porting_in import details_in, wants_port_in
from agents.support.roaming import _OFF, country_in
from agents.support.sim import _ESIM

DEVICES = [
    {"item_id": "PIXEL9-128", "name": "Pixel 9 128GB", "kind": "phone", "in_stock": True},
    {"item_id": "IPHONE16-128", "name": "iPhone 16 128GB", "kind": "phone", "in_stock": True},
    {"item_id": "SIM-STD", "name": "SIM card (all sizes)", "kind": "sim", "in_stock": True},
    {"item_id": "SIM-DATA", "name": "Data-only SIM for a tablet", "kind": "sim", "in_stock": True},
    {"item_id": "ESIM", "name": "eSIM", "kind": "esim", "in_stock": True},
]


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("my phone doesn't work in spain", "Spain"),
        ("flying to the usa tomorrow", "United States"),
        ("holiday in new zealand, what does it cost", "New Zealand"),
        ("roaming isn't working", None),
        ("i'm in spaint", None),  # a typo names no country: the customer hears no price rather than a wrong one
    ],
)
def test_the_country_named(text: str, country: str | None) -> None:
    assert country_in(text) == country


def test_asking_to_stop_roaming_is_told_apart_from_asking_about_it() -> None:
    assert _OFF.search("please turn roaming off") and _OFF.search("disable my roaming")
    assert not _OFF.search("is roaming on for my line") and not _OFF.search("switch roaming on")


@pytest.mark.parametrize(
    ("outage", "earned"),
    [
        ({"status": "ended", "planned": False, "hours": 30}, Decimal("10.00")),
        ({"status": "ended", "planned": False, "hours": 100}, Decimal("25.00")),
        ({"status": "ended", "planned": False, "hours": 24}, Decimal("5.00")),
        ({"status": "ended", "planned": False, "hours": 23}, Decimal(0)),
        ({"status": "ended", "planned": True, "hours": 72}, Decimal(0)),
        ({"status": "ongoing", "planned": False, "hours": 48}, Decimal(0)),
        ({}, Decimal(0)),
    ],
)
def test_compensation_follows_the_published_rate(outage: dict, earned: Decimal) -> None:
    assert compensation(outage) == earned


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("send me a sim card", "SIM-STD"),
        ("a sim for my tablet", "SIM-DATA"),
        ("can i get an esim", "ESIM"),
        ("i'd like the pixel 9", "PIXEL9-128"),
        ("buy an iphone", "IPHONE16-128"),
        ("i want a new phone", None),
        ("a toaster please", None),
    ],
)
def test_the_item_named(text: str, item: str | None) -> None:
    found = pick(text, DEVICES)
    assert (found or {}).get("item_id") == item


def test_the_delivery_asked_for() -> None:
    assert delivery_in("next day please") == "next-day"
    assert delivery_in("i'll pick it up in store") == "collect-in-store"
    assert delivery_in("just post it") == "standard"


def test_porting_in_and_esim_requests_are_recognised() -> None:
    assert wants_port_in("how do i bring my number over to you")
    assert wants_port_in("i want to move my number from EE") and wants_port_in("my pac is VOD481273")
    assert not wants_port_in("give me my pac code, i'm leaving")
    assert wants_port_in("move my number 07700 901005 from giffgaff to you, pac is GF30551")
    assert not wants_port_in("i'm moving my number to another network")
    assert not wants_port_in("transfer my number over to EE please") and not wants_port_in("what's my pac code")
    assert wants_port_in("has my number transfer from virgin gone through yet?")
    assert wants_port_in("any update on PORT-1A2B3C4D?")
    assert _ESIM.search("send me the e-sim qr code") and not _ESIM.search("my new sim isn't working")


def test_the_number_code_and_day_of_a_move_in_are_read_from_what_the_customer_said() -> None:
    today = date(2026, 12, 5)
    said = details_in("bring 07700 901001 over, pac vod 481273, on 2026-12-09", own="+447700900123", today=today)
    assert (said.number, said.code, said.port_date, said.bad_code) == ("+447700901001", "VOD481273", "2026-12-09", None)
    assert details_in("on the 3rd of January please", own=None, today=today).port_date == "2027-01-03"
    bad = details_in("my PAC is EE12345 for +447700901002", own=None, today=today)
    assert (bad.code, bad.bad_code, bad.number) == (None, "EE12345", "+447700901002")
    assert details_in("move +447700900123 in", own="+447700900123", today=today).number is None
    assert details_in("as soon as possible", own=None, today=today).earliest


def test_a_held_write_names_its_approval() -> None:
    detail = "held for a human: approval APR-0123456789ABCDEF by approval.credit-above-10"
    assert held_for_approval({"status": "pending_approval", "detail": detail}) == "APR-0123456789ABCDEF"
    assert held_for_approval({"status": "pending_approval", "detail": "no id"}) == ""
    assert held_for_approval({"credit_id": "CRD-1"}) is None
