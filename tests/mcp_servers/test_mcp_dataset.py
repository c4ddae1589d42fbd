"""The reference dataset: deterministic, cross-system keys, scenario flags that hold."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from mcp_servers.dataset import FLAGS, ensure_seeded, sample_customers, system_db_path
from mcp_servers.dataset._catalog import ARTICLES, PLANS
from mcp_servers.dataset._generate import generate
from shared.errors import ConfigurationError, InvalidRequest
from shared.settings import SYSTEMS


def _rows(data_dir: Path, system: str, sql: str, params: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(system_db_path(data_dir, system))) as db:
        return db.execute(sql, params).fetchall()


def test_same_seed_same_data_other_seed_other_data():
    assert generate(60, seed=7) == generate(60, seed=7)
    assert generate(60, seed=7).customers != generate(60, seed=8).customers


def test_default_dataset_is_large_enough_and_seeding_is_idempotent(tmp_path):
    ensure_seeded(tmp_path)
    assert len(_rows(tmp_path, "identity", "SELECT customer_id FROM customers")) >= 240
    stamps = {s: system_db_path(tmp_path, s).stat().st_mtime_ns for s in SYSTEMS}
    ensure_seeded(tmp_path)
    assert stamps == {s: system_db_path(tmp_path, s).stat().st_mtime_ns for s in SYSTEMS}
    ensure_seeded(tmp_path, customers=50)
    assert len(_rows(tmp_path, "identity", "SELECT customer_id FROM customers")) == 50


def test_two_seedings_write_identical_records(tmp_path):
    ensure_seeded(tmp_path / "a", customers=30, seed=3)
    ensure_seeded(tmp_path / "b", customers=30, seed=3)
    for system, sql in [
        ("identity", "SELECT * FROM customers ORDER BY customer_id"),
        ("payments", "SELECT * FROM charges ORDER BY charge_id"),
        ("crm", "SELECT * FROM interactions ORDER BY interaction_id"),
    ]:
        assert _rows(tmp_path / "a", system, sql) == _rows(tmp_path / "b", system, sql)


def test_each_system_keys_customers_its_own_way(data_dir):
    people = _rows(data_dir, "identity", "SELECT customer_id, email, msisdn, account_number FROM customers")
    for customer_id, email, msisdn, account in people:
        assert re.fullmatch(r"CUST-\d{5}", customer_id)
        assert re.fullmatch(r"\+447700900\d{3}", msisdn)
        assert re.fullmatch(r"ACC-\d{7}", account)
        assert email.endswith(("example.com", "example.org", "example.net"))
    emails = {p[1] for p in people}
    msisdns = {p[2] for p in people}
    accounts = {p[3] for p in people}
    assert len(emails) == len(msisdns) == len(accounts) == len(people)
    assert {r[0] for r in _rows(data_dir, "crm", "SELECT email FROM profiles")} == emails
    assert {r[0] for r in _rows(data_dir, "support", "SELECT email FROM customers")} == emails
    assert {r[0] for r in _rows(data_dir, "billing", "SELECT msisdn FROM accounts")} == msisdns
    assert {r[0] for r in _rows(data_dir, "network", "SELECT msisdn FROM lines")} == msisdns
    assert {r[0] for r in _rows(data_dir, "payments", "SELECT account_number FROM accounts")} == accounts


def test_reference_content(data_dir):
    assert 5 <= len(PLANS) <= 6 and len(ARTICLES) >= 15
    assert len(_rows(data_dir, "support", "SELECT * FROM articles")) == len(ARTICLES)
    assert _rows(data_dir, "network", "SELECT COUNT(*) FROM outages WHERE active = 1")[0][0] >= 2
    invoices = _rows(data_dir, "billing", "SELECT msisdn, COUNT(*) FROM invoices GROUP BY msisdn")
    assert {count for _, count in invoices} == {6}
    channels = {r[0] for r in _rows(data_dir, "crm", "SELECT DISTINCT channel FROM interactions")}
    assert channels == {"chat", "voice", "email", "store"}


def test_flags_are_true_in_the_systems(data_dir):
    everyone = sample_customers(data_dir, 1000)
    assert len(everyone) == 40
    assert set(FLAGS) <= set(everyone[0])
    dups = sample_customers(data_dir, 100, has_duplicate_charge=True)
    assert 2 <= len(dups) <= 6
    for c in dups:
        counts = _rows(
            data_dir,
            "payments",
            "SELECT invoice_id, COUNT(*) FROM charges WHERE account_number = ? GROUP BY invoice_id HAVING COUNT(*) > 1",
            (c["account_number"],),
        )
        assert counts
    recent = sample_customers(data_dir, 100, has_recent_network_interaction=True)
    assert 0.2 <= len(recent) / 40 <= 0.4
    for c in recent:
        live = _rows(
            data_dir,
            "crm",
            "SELECT topic FROM interactions WHERE email = ? AND age_minutes <= 30 * 24 * 60",
            (c["email"],),
        )
        assert {t for (t,) in live} <= {"no-signal", "slow-data"} and live
    for c in sample_customers(data_dir, 100, crm_plan_stale=True):
        assert c["crm_plan_name"] != c["plan_name"]
    plan = everyone[0]["plan_id"]
    assert all(c["plan_id"] == plan for c in sample_customers(data_dir, 100, plan_id=plan))
    assert sample_customers(data_dir, 100, has_recent_sim_swap=True)
    assert not {c["customer_id"] for c in sample_customers(data_dir, 100, has_recent_sim_swap=True)} & {
        c["customer_id"] for c in dups + recent
    }


def test_sample_customers_refusals(data_dir, tmp_path):
    with pytest.raises(InvalidRequest, match="unknown customer flags"):
        sample_customers(data_dir, has_unicorn=True)
    with pytest.raises(InvalidRequest, match="no reference dataset"):
        sample_customers(tmp_path / "empty")


def test_dataset_size_is_bounded(tmp_path):
    with pytest.raises(ConfigurationError, match="1 to 1000"):
        ensure_seeded(tmp_path, customers=1001)
