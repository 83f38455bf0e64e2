"""The WooCommerce adapter against a real WooCommerce 10.0.2 (../shared/real-woo), seeded by
tests/realshop/woo_seed.php with what a correct pull must see."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.protocol import Collected
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.errors import AuthenticationError, PermissionDenied
from journeybridge.stages import classify_all
from tests.adapter_support import assembled, desired, plan_items, pull_all
from tests.realshop.woo import RealWoo, run_php

pytestmark = pytest.mark.real_woo

QUICK = RetryPolicy(attempts=3, base_wait=0.1, max_wait=0.5)


def _utc(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def adapter(shop: RealWoo, *, read_only: bool = False, **options: Any) -> WooCommerceAdapter:
    key, secret = (shop.ro_key, shop.ro_secret) if read_only else (shop.key, shop.secret)
    return WooCommerceAdapter(shop.url, key, secret, retry=QUICK, timezone_name="Europe/Amsterdam",
                              **options)


@pytest.fixture(autouse=True, scope="module")
def _put_the_seed_back(real_woo_writable: RealWoo) -> RealWoo:
    """These tests change orders and customer meta; the seed is restored after the module."""
    return real_woo_writable


@pytest.fixture(scope="module")
def full_pull(real_woo: RealWoo) -> Iterator[Collected]:
    with adapter(real_woo) as shop:
        yield pull_all(shop)


def test_full_pull_equals_the_seed(full_pull: Collected, real_woo_expected: dict[str, Any]) -> None:
    expected_orders = {o["id"]: o for o in real_woo_expected["orders"]}
    got = {int(o.id): o for o in full_pull.orders}
    assert len(got) == len(full_pull.orders)  # nothing doubled
    assert set(got) == set(expected_orders)  # nothing lost
    assert not set(real_woo_expected["trashed_order_ids"]) & set(got)  # trash excluded
    for order_id, want in expected_orders.items():
        order = got[order_id]
        assert order.raw_status == want["status"], order_id
        assert order.total == Decimal(want["total"]) and isinstance(order.total, Decimal)
        assert order.currency == want["currency"]
        assert order.customer_id == (str(want["customer_id"]) if want["customer_id"] else None)
        assert order.created_at == _utc(want["date_created"])
        assert order.created_at.utcoffset() == timedelta(0)
        assert order.paid_at == _utc(want["date_paid"])
        assert order.completed_at == _utc(want["date_completed"])
        assert sorted(r.amount for r in order.refunds) == sorted(
            Decimal(r["amount"]) for r in want["refunds"])
        assert [(int(line.product_id), line.quantity, line.total) for line in order.lines] == [
            (li["product_id"], li["quantity"], Decimal(li["total"])) for li in want["line_items"]]
    # refunds with their dates, which only orders/{id}/refunds gives (not the order's refunds[])
    refunded = [o for o in expected_orders.values() if o["refunds"]]
    dated = {(r.order_id, r.id): r for r in full_pull.refunds}
    assert refunded and len(dated) == sum(len(o["refunds"]) for o in refunded)
    for want in refunded:
        for r in want["refunds"]:
            record = dated[(str(want["id"]), str(r["id"]))]
            assert record.at == _utc(r["date_created"]) and record.amount == Decimal(r["amount"])
    customers = {int(p.customer_id or 0): p for p in full_pull.customers}
    assert set(customers) == {c["id"] for c in real_woo_expected["customers"]}
    for want in real_woo_expected["customers"]:
        person = customers[want["id"]]
        assert person.roles == (want["role"],)
        assert person.registered_at == _utc(want["date_created"])
        assert bool(person.newsletter and person.newsletter.subscribed) == want["newsletter"]
    assert sorted(int(r.id) for r in full_pull.reviews) == sorted(
        r["id"] for r in real_woo_expected["reviews"])
    assert full_pull.report.skipped == []


def test_people_are_who_the_seed_says(real_woo: RealWoo, full_pull: Collected,
                                      real_woo_expected: dict[str, Any]) -> None:
    with adapter(real_woo) as shop:
        assembly = assembled(shop, full_pull)
    journeys = {j.key: j for j in assembly.journeys}
    expected = {p["key"]: p for p in real_woo_expected["people"]}
    orphans = set(real_woo_expected["orphan_review_ids"])
    reviewers = {f"guest:{r.email}" for r in full_pull.reviews if int(r.id) in orphans}
    assert reviewers  # a reviewer known only by e-mail is a guest person too
    assert set(journeys) == set(expected) | reviewers  # one person per identity
    written_by = {f"guest:{r['reviewer_email'].strip().lower()}": r["reviewer"]
                  for r in real_woo_expected["reviews"] if r["id"] in orphans}
    for key in reviewers - set(expected):
        assert [int(r.id) for r in journeys[key].reviews] == sorted(
            int(r.id) for r in full_pull.reviews if f"guest:{r.email}" == key)
        guest = journeys[key].person
        assert guest.is_guest and guest.display_name == written_by[key].strip()
    for key, want in expected.items():
        journey = journeys[key]
        assert sorted(int(o.id) for o in journey.orders) == sorted(want["order_ids"]), key
        assert sorted(int(r.id) for r in journey.reviews) == sorted(want["review_ids"]), key
    assert assembly.reviews_without_person == 0
    results = classify_all(assembly.journeys)
    assert len({r.stage for r in results}) >= 6  # the seed covers the route


def test_incremental_pull_returns_exactly_the_changed_orders(
        real_woo: RealWoo, real_woo_expected: dict[str, Any]) -> None:
    candidates = [o["id"] for o in real_woo_expected["orders"] if o["status"] == "processing"]
    changed = candidates[:3]
    with adapter(real_woo) as shop:
        since = datetime.now(timezone.utc) - timedelta(seconds=2)
        run_php(real_woo, "foreach (array_slice($argv, 1) as $id) { $o = wc_get_order((int)$id);"
                          " $o->update_status('completed'); }", *map(str, changed))
        try:
            pull = pull_all(shop, shop.cursor_since(since))
        finally:  # put the seed back as it was, for the other tests and the next run
            run_php(real_woo, "foreach (array_slice($argv, 1) as $id) { $o = wc_get_order("
                              "(int)$id); $o->set_status('processing'); "
                              "$o->set_date_completed(null); $o->save(); }", *map(str, changed))
    assert sorted(int(o.id) for o in pull.orders) == sorted(changed)
    assert all(o.raw_status == "completed" for o in pull.orders)
    assert datetime.fromisoformat(pull.cursor["orders"]) >= since - timedelta(minutes=5)


BOOKKEEPING = {"session_tokens", "wc_last_active", "last_update"}  # change on any request


def _meta_of(real_woo: RealWoo, customer_ids: list[int]) -> dict[int, dict[str, list[str]]]:
    """Every user meta row of these customers, read straight from WordPress (one PHP run)."""
    out = run_php(real_woo, "$all = []; foreach (array_slice($argv, 1) as $id) "
                            "{ $all[$id] = get_user_meta((int)$id); } echo json_encode($all);",
                  *map(str, customer_ids))
    raw = json.loads(out)
    return {int(cid): {k: v for k, v in rows.items() if k not in BOOKKEEPING}
            for cid, rows in raw.items()}


def test_write_back_changes_exactly_the_intended_meta_keys(real_woo: RealWoo,
                                                           full_pull: Collected) -> None:
    with adapter(real_woo) as shop:
        assembly = assembled(shop, full_pull)
        targets = [j for j in assembly.journeys if j.person.customer_id][:5]
        guests = [j for j in assembly.journeys if j.person.is_guest and j.orders][:2]
        ids = [int(j.person.customer_id or 0) for j in targets]
        before = _meta_of(real_woo, ids)
        stamp = datetime.now(timezone.utc)  # new values on every run
        wanted = {j.key: desired(j, since=stamp.date(), segments=[stamp.isoformat()])
                  for j in [*targets, *guests]}
        writes, _ = shop.plan(plan_items(shop, assembly, wanted))
        assert {w.person_key for w in writes} == set(wanted)
        report = shop.apply(writes)
        assert report.failed == [] and report.written == len(writes)
        after = _meta_of(real_woo, ids)
        for journey, cid in zip(targets, ids):
            values = {k: [v] for k, v in shop.meta_values(wanted[journey.key]).items()}
            assert after[cid] == {**before[cid], **values}, journey.key  # never duplicated
        again, _ = shop.plan(plan_items(shop, assembled(shop, pull_all(shop)), wanted))
    assert again == []  # a second sync writes nothing (guest orders through orders/batch)


def test_read_only_key_asked_to_write(real_woo: RealWoo, full_pull: Collected) -> None:
    with adapter(real_woo, read_only=True) as shop:
        assembly = assembled(shop, full_pull)
        chosen = [j for j in assembly.journeys if j.person.customer_id][:2]
        writes, _ = shop.plan(plan_items(shop, assembly, {j.key: desired(j, label="x")
                                                          for j in chosen}))
        with pytest.raises(PermissionDenied, match="read-only"):
            shop.apply(writes)


@pytest.mark.parametrize("which", ["key", "secret"])
def test_wrong_key_and_wrong_secret(real_woo: RealWoo, which: str) -> None:
    key = "ck_" + "1" * 40 if which == "key" else real_woo.key
    secret = "cs_" + "1" * 40 if which == "secret" else real_woo.secret
    with WooCommerceAdapter(real_woo.url, key, secret, retry=QUICK) as shop, \
            pytest.raises(AuthenticationError) as caught:
        list(shop.iter_customers())
    message = str(caught.value)
    assert real_woo.url in message
    assert secret not in message and real_woo.secret not in message and key not in message
    assert ("Consumer key is invalid" if which == "key" else "Invalid signature") in message
