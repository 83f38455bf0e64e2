"""The sandbox population: determinism, coverage of every journey phase, consistency, scale."""

from __future__ import annotations

import itertools
import tracemalloc
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from journeybridge.sandbox import FIRST_ORDER_ID, OrderStatus, Phase, Population, Role

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
UNPAID = {OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.CHECKOUT_DRAFT}


@pytest.fixture(scope="module")
def pop() -> Population:
    return Population(2_000, seed=7, now=NOW)


@pytest.fixture(scope="module")
def orders_by_person(pop: Population) -> dict[int, list]:
    out: dict[int, list] = defaultdict(list)
    for o in pop.orders():
        out[o.person_index].append(o)
    return out


def _snapshot(p: Population) -> list[str]:
    return ([repr(c) for c in p.customers()] + [repr(o) for o in p.orders()]
            + [repr(r) for r in p.reviews()])


def test_same_arguments_give_identical_data() -> None:
    assert _snapshot(Population(300, seed=5, now=NOW)) == _snapshot(
        Population(300, seed=5, now=NOW))


def test_different_seed_gives_different_data() -> None:
    a = _snapshot(Population(300, seed=5, now=NOW))
    b = _snapshot(Population(300, seed=6, now=NOW))
    assert a != b


def test_default_now_is_aware_and_rounded_to_the_minute() -> None:
    p = Population(50)
    assert p.now.tzinfo is not None
    assert p.now.second == 0
    assert p.now.microsecond == 0


def test_every_phase_role_and_status_is_present(pop: Population) -> None:
    assert set(pop.count_by_phase()) == set(Phase)
    assert set(pop.count_by_status()) == set(OrderStatus)
    roles = {c.role for c in pop.customers()}
    assert roles == set(Role)
    admins = [c for c in pop.customers() if c.role in (Role.ADMINISTRATOR, Role.SHOP_MANAGER)]
    assert any(pop.customer_orders(c.id) for c in admins)
    assert sum(1 for c in pop.customers() if c.role is Role.SUBSCRIBER) >= 2


def test_phases_come_in_realistic_proportions(pop: Population) -> None:
    counts = pop.count_by_phase()
    registered = pop.customer_count
    assert 0.15 < counts[Phase.FIRST_BUYER] / registered < 0.35
    assert 0.2 < counts[Phase.REPEAT_BUYER] / registered < 0.4
    assert counts[Phase.GUEST_THEN_REGISTERED] >= 5
    assert 2.0 < pop.order_count / registered < 4.5


def test_first_buyers_exist_with_one_order_in_each_status(
        pop: Population, orders_by_person: dict[int, list]) -> None:
    seen = set()
    for c in pop.customers():
        if c.phase is Phase.FIRST_BUYER:
            orders = orders_by_person[c.person_index]
            assert len(orders) == 1
            seen.add(orders[0].status)
    assert set(OrderStatus) - {OrderStatus.TRASH} <= seen


def test_registered_only_and_newsletter_people_have_no_orders(
        pop: Population, orders_by_person: dict[int, list]) -> None:
    for c in pop.customers():
        if c.phase in (Phase.REGISTERED_ONLY, Phase.NEWSLETTER_ONLY):
            assert orders_by_person[c.person_index] == []
            assert not c.is_paying_customer
        if c.phase is Phase.NEWSLETTER_ONLY:
            keys = {m.key: m.value for m in c.meta_data}
            assert keys["newsletter_optin"] == "yes"
            assert keys["newsletter_optin_date"].endswith("Z")
        assert not any(m.key.startswith("_") for m in c.meta_data)


def test_abandoned_checkouts_have_only_unpaid_orders(
        pop: Population, orders_by_person: dict[int, list]) -> None:
    abandoned = [c for c in pop.customers() if c.phase is Phase.ABANDONED]
    assert abandoned
    for c in abandoned:
        orders = orders_by_person[c.person_index]
        assert orders
        assert {o.status for o in orders} <= UNPAID
        assert all(o.date_paid is None for o in orders)


def test_repeat_buyers_have_rhythms_from_weekly_to_yearly(
        pop: Population, orders_by_person: dict[int, list]) -> None:
    rhythms = defaultdict(list)
    for c in pop.customers():
        if c.phase is Phase.REPEAT_BUYER:
            rhythms[c.rhythm_days].append(len(orders_by_person[c.person_index]))
    assert {7, 30, 365} <= set(rhythms)
    assert max(rhythms[7]) > 10
    weekly = next(c for c in pop.customers()
                  if c.phase is Phase.REPEAT_BUYER and c.rhythm_days == 7
                  and len(orders_by_person[c.person_index]) > 5)
    dates = sorted(o.date_created for o in orders_by_person[weekly.person_index])
    gaps = [(b - a).days for a, b in itertools.pairwise(dates)]
    assert 3 <= sorted(gaps)[len(gaps) // 2] <= 11


def test_lapsed_buyers_ordered_years_ago(pop: Population,
                                         orders_by_person: dict[int, list]) -> None:
    for c in pop.customers():
        if c.phase is Phase.LAPSED:
            last = max(o.date_created for o in orders_by_person[c.person_index])
            assert last < NOW - timedelta(days=365)


def test_guests_order_as_customer_zero_with_email_in_varying_case(
        pop: Population, orders_by_person: dict[int, list]) -> None:
    guests = list(pop.guests())
    assert len(guests) == pop.guest_count >= 3
    varied = 0
    for g in guests:
        orders = orders_by_person[g.person_index]
        assert all(o.customer_id == 0 for o in orders)
        emails = {o.billing.email for o in orders}
        assert {e.lower() for e in emails} == {g.email.lower()}
        if len(orders) > 1 and len(emails) > 1:
            varied += 1
    assert varied >= 1


def test_a_guest_later_registered_with_the_same_email(
        pop: Population, orders_by_person: dict[int, list]) -> None:
    found = 0
    for c in pop.customers():
        if c.phase is not Phase.GUEST_THEN_REGISTERED:
            continue
        orders = sorted(orders_by_person[c.person_index], key=lambda o: o.id)
        guest = [o for o in orders if o.customer_id == 0]
        registered = [o for o in orders if o.customer_id == c.id]
        assert guest
        assert registered
        assert all(o.billing.email.lower() == c.email.lower() for o in orders)
        assert max(o.date_created for o in guest) < c.date_created
        assert c.date_created < min(o.date_created for o in registered)
        found += 1
    assert found


def test_trash_refunds_and_totals(pop: Population) -> None:
    trash = [o for o in pop.orders() if o.is_trash]
    assert trash
    assert pop.order_count == pop.order_count_all - len(trash)
    partial = full = 0
    for o in pop.orders():
        assert o.total == o.items_total + o.shipping_total + o.total_tax
        assert o.total == o.total.quantize(Decimal("0.01"))
        assert 1 <= len(o.line_items) <= 4
        for li in o.line_items:
            assert li.total == li.price * li.quantity
        assert o.date_created <= o.date_modified <= NOW
        if o.status in UNPAID or o.status is OrderStatus.CANCELLED:
            assert o.date_paid is None
        if o.status is OrderStatus.COMPLETED:
            assert o.date_completed is not None
        for rf in o.refunds:
            assert Decimal("0") < rf.amount <= o.total
            if o.status is OrderStatus.REFUNDED:
                assert rf.amount == o.total
                full += 1
            else:
                assert rf.amount < o.total
                partial += 1
    assert partial
    assert full


def test_reviews_cover_high_low_verified_and_unverified(pop: Population) -> None:
    reviews = list(pop.reviews())
    assert reviews
    assert any(r.rating >= 4 for r in reviews)
    assert any(r.rating <= 2 for r in reviews)
    assert any(r.verified for r in reviews)
    assert any(not r.verified for r in reviews)
    for r in reviews:
        if r.verified:
            assert r.order_id is not None
            bought = pop.order(r.order_id)
            assert bought is not None
            assert r.product_id in {li.product_id for li in bought.line_items}


def test_names_phones_and_countries_vary(pop: Population) -> None:
    customers = list(pop.customers())
    assert any(not c.first_name.isascii() for c in customers)
    assert any(not c.last_name.isascii() for c in customers)
    phones = [c.billing.phone for c in customers if c.billing.phone]
    assert any(p.startswith("+") for p in phones)
    assert any(p.startswith("0") for p in phones)
    assert len({c.billing.country for c in customers if c.billing.country}) >= 4


def test_find_customer_by_email_is_case_insensitive(pop: Population) -> None:
    c = pop.customer(42)
    assert c is not None
    assert pop.find_customer_by_email(c.email.upper()) == 42
    assert pop.find_customer_by_email("nobody@example.com") is None


def test_update_order_changes_status_and_bumps_modified() -> None:
    p = Population(100, seed=3, now=NOW)
    order = next(o for o in p.orders() if o.status is OrderStatus.PROCESSING)
    at = NOW + timedelta(minutes=5)
    updated = p.update_order(order.id, status="completed", at=at)
    assert updated.status is OrderStatus.COMPLETED
    assert updated.date_modified == at
    assert updated.date_completed == at
    assert p.order(order.id) == updated
    owner = p.customer(updated.customer_id) if updated.customer_id else None
    if owner is not None:
        assert owner.date_modified == at


def test_add_order_appends_a_new_id() -> None:
    p = Population(100, seed=3, now=NOW)
    before = p.order_count
    o = p.add_order(5, status="processing", at=NOW + timedelta(minutes=1),
                    products=((10, 2), (13, 1)))
    assert o.id == p.max_order_id
    assert o.customer_id == 5
    assert o.total == Decimal("19.99") * 2 + Decimal("3.49") + o.shipping_total
    assert p.order_count == before + 1
    assert o.id in {x.id for x in p.customer_orders(5)}


def test_meta_upsert_updates_in_place_and_never_duplicates() -> None:
    p = Population(60, seed=3, now=NOW)
    first = p.write_customer_meta(14, [{"key": "stage", "value": "loyalty"}])
    again = p.write_customer_meta(14, [{"key": "stage", "value": "advocacy"}])
    rows = [m for m in again.meta_data if m.key == "stage"]
    assert len(rows) == 1
    assert rows[0].value == "advocacy"
    assert rows[0].id == next(m.id for m in first.meta_data if m.key == "stage")
    gone = p.write_customer_meta(14, [{"key": "stage", "value": None}])
    assert all(m.key != "stage" for m in gone.meta_data)


def test_a_million_customers_build_a_small_index() -> None:
    tracemalloc.start()
    try:
        p = Population(1_000_000, seed=1, now=NOW)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < 150_000_000
    assert peak < 280_000_000
    assert p.customer_count == 1_000_000
    assert p.order_count > 2_000_000
    last = p.customer(1_000_000)
    assert last is not None
    assert last.id == 1_000_000
    order = p.order(FIRST_ORDER_ID + p.order_count_all // 2)
    assert order is not None
