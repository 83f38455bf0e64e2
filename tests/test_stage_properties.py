"""Properties of stage classification over random shops (hypothesis): exactly one stage per
person, deterministic, independent of the order of the journeys, blind to anything dated after
``now``, and the whole-shop (table) path equal to classifying one person at a time through the
public API. No rule is re-implemented here: only the public functions are compared."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeybridge.model import (
    Cart,
    CartLine,
    Journey,
    NewsletterOptIn,
    Order,
    OrderStatus,
    Person,
    Platform,
    Refund,
    Review,
    StatusChange,
)
from journeybridge.stages import (
    Classification,
    Stage,
    StageSettings,
    classify,
    classify_all,
    measure_shop,
)
from journeybridge.stages.facts import facts_of
from journeybridge.stages.rules import Rule, decide
from tests.factories import NOW, journey

SETTINGS = [
    StageSettings(),
    # small shops still measure their rhythm and fit the churn model
    StageSettings(min_repeat_gaps=3, min_customers_for_fit=10, min_repeat_buyers_for_fit=5,
                  advocacy_min_orders=3, own_rhythm_factor=1.5),
]
RULES = {rule.code: rule for rule in Rule}
PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _at(days_ago: int, hour: int) -> datetime:
    return NOW - timedelta(days=days_ago) + timedelta(hours=hour)


# moments: days before NOW (negative: after NOW) and an hour of the day
moments = st.builds(_at, st.integers(-40, 900), st.integers(0, 23))
past = st.builds(_at, st.integers(1, 900), st.integers(0, 23))
future = st.builds(lambda d, h: NOW + timedelta(days=d, hours=h, seconds=1),
                   st.integers(0, 60), st.integers(0, 23))
statuses = st.sampled_from(list(OrderStatus))


@st.composite
def orders(draw: st.DrawFn, owner: int, oid: str,
           created: st.SearchStrategy[datetime] = moments) -> Order:
    at = draw(created)
    status = draw(statuses)
    paid = draw(st.booleans()) if status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED) \
        else status.is_paid
    history: list[StatusChange] = []
    if draw(st.integers(0, 4)) == 0:
        step_at = at
        for step in draw(st.lists(statuses, min_size=1, max_size=4)):
            step_at += timedelta(hours=draw(st.integers(0, 240)))
            history.append(StatusChange(status=step, raw_status=step.value, at=step_at))
        status = history[-1].status
    refunds = [Refund(id=f"{oid}-r{k}", amount=Decimal(amount),
                      at=None if hours is None else at + timedelta(hours=hours))
               for k, (amount, hours) in enumerate(draw(st.lists(
                   st.tuples(st.sampled_from(["1.00", "5.50", "20"]),
                             st.none() | st.integers(0, 900)), max_size=2)))]
    modified = draw(st.none() | st.integers(0, 1000))
    completed = draw(st.none() | st.integers(0, 200))
    return Order(
        id=oid, number=draw(st.sampled_from(["", f"N{oid}"])), status=status,
        raw_status=status.value, currency="EUR", total=Decimal("30.00"), created_at=at,
        modified_at=None if modified is None else at + timedelta(hours=modified),
        paid_at=at + timedelta(minutes=draw(st.integers(0, 3000))) if paid else None,
        completed_at=None if completed is None or status is not OrderStatus.DELIVERED
        else at + timedelta(hours=completed),
        refunds=tuple(refunds), history=tuple(history),
        cart_id=draw(st.none() | st.sampled_from([f"{owner}c0", f"{owner}c1"])))


@st.composite
def carts(draw: st.DrawFn, cid: str, created: st.SearchStrategy[datetime] = moments) -> Cart:
    at = draw(created)
    updated = draw(st.none() | st.integers(0, 100))
    return Cart(id=cid, created_at=at,
                updated_at=None if updated is None else at + timedelta(hours=updated),
                lines=tuple(CartLine(product_id="7", quantity=1)
                            for _ in range(draw(st.integers(0, 2)))),
                order_id=draw(st.none() | st.just("elsewhere")))


@st.composite
def reviews(draw: st.DrawFn, rid: str, created: st.SearchStrategy[datetime] = moments
            ) -> Review:
    return Review(id=rid, product_id=str(draw(st.integers(1, 5))),
                  rating=draw(st.integers(0, 5)), verified=draw(st.booleans()),
                  approved=draw(st.booleans()), created_at=draw(created))


@st.composite
def people(draw: st.DrawFn, i: int) -> Journey:
    newsletter = draw(st.none() | st.builds(NewsletterOptIn, subscribed=st.booleans(),
                                            at=st.none() | moments))
    person = Person(shop="t", platform=Platform.WOOCOMMERCE, key=f"customer:{i}",
                    customer_id=str(i), email=f"p{i}@example.com",
                    registered_at=draw(st.none() | moments), newsletter=newsletter)
    # some people buy on a rhythm of their own, so shops have repeat gaps to measure
    found: list[Order] = []
    if draw(st.booleans()):
        gap, start = draw(st.integers(3, 200)), draw(st.integers(0, 900))
        count = draw(st.integers(2, 8))
        found = [Order(id=f"{i}o{k}", status=OrderStatus.DELIVERED, raw_status="completed",
                       currency="EUR", total=Decimal("30.00"),
                       created_at=NOW - timedelta(days=start - k * gap, hours=k),
                       paid_at=NOW - timedelta(days=start - k * gap, hours=k))
                 for k in range(count)]
    found += [draw(orders(i, f"{i}x{k}")) for k in range(draw(st.integers(0, 4)))]
    return journey(person, found,
                   carts=[draw(carts(f"{i}c{k}")) for k in range(draw(st.integers(0, 2)))],
                   reviews=[draw(reviews(f"{i}v{k}")) for k in range(draw(st.integers(0, 2)))])


@st.composite
def shops(draw: st.DrawFn) -> list[Journey]:
    return [draw(people(i)) for i in range(draw(st.integers(1, 12)))]


@st.composite
def with_the_future(draw: st.DrawFn, shop: list[Journey]) -> list[Journey]:
    """The same shop with records dated after NOW: new orders, carts and reviews, refunds and
    status changes on existing orders, newsletter opt-ins and registrations."""
    out = []
    for j in shop:
        if not draw(st.booleans()):
            out.append(j)
            continue
        changed = []
        for o in j.orders:
            update: dict[str, object] = {}
            if draw(st.booleans()):
                update["refunds"] = (*o.refunds, Refund(id=f"{o.id}-late", amount=Decimal("3"),
                                                        at=draw(future)))
            later_step = draw(statuses) if draw(st.booleans()) else None
            if o.history and later_step is not None:
                update["history"] = (*o.history, StatusChange(
                    status=later_step, raw_status="x", at=draw(future)))
                update["status"] = later_step
            changed.append(o.model_copy(update=update))
        owner = int(j.key.split(":")[1])
        changed += [draw(orders(owner, f"{owner}f{k}", future))
                    for k in range(draw(st.integers(0, 2)))]
        person = j.person
        if person.newsletter is None and draw(st.booleans()):
            person = person.model_copy(update={"newsletter": NewsletterOptIn(
                subscribed=True, at=draw(future))})
        if person.registered_at is None and draw(st.booleans()):
            person = person.model_copy(update={"registered_at": draw(future)})
        out.append(journey(
            person, changed,
            carts=[*j.carts, *(draw(carts(f"{owner}fc{k}", future))
                               for k in range(draw(st.integers(0, 2))))],
            reviews=[*j.reviews, *(draw(reviews(f"{owner}fv{k}", future))
                                   for k in range(draw(st.integers(0, 2))))]))
    return out


def by_key(results: list[Classification]) -> dict[str, Classification]:
    return {r.person_key: r for r in results}


@PROPERTY
@given(shops(), st.sampled_from(SETTINGS))
def test_exactly_one_stage_per_person(shop: list[Journey], config: StageSettings) -> None:
    results = classify_all(shop, now=NOW, settings=config)
    assert [r.person_key for r in results] == [j.key for j in shop]
    for result in results:
        assert isinstance(result.stage, Stage)
        rule = RULES[result.reasons[0].rule]
        assert rule.stage is result.stage
        assert result.since <= NOW
        assert list(result.flags) == sorted(set(result.flags))
        # every value has the type the model promises
        assert Classification.model_validate(result.model_dump()) == result


@PROPERTY
@given(shops(), st.sampled_from(SETTINGS))
def test_deterministic(shop: list[Journey], config: StageSettings) -> None:
    assert classify_all(shop, now=NOW, settings=config) == \
        classify_all(list(shop), now=NOW, settings=config)


@PROPERTY
@given(shops(), st.sampled_from(SETTINGS), st.randoms(use_true_random=False))
def test_independent_of_input_order(shop: list[Journey], config: StageSettings,
                                    rnd: random.Random) -> None:
    shuffled = list(shop)
    rnd.shuffle(shuffled)
    assert by_key(classify_all(shuffled, now=NOW, settings=config)) == \
        by_key(classify_all(shop, now=NOW, settings=config))


@PROPERTY
@given(st.data(), shops(), st.sampled_from(SETTINGS))
def test_nothing_after_now_counts(data: st.DataObject, shop: list[Journey],
                                  config: StageSettings) -> None:
    later = data.draw(with_the_future(shop))
    assert classify_all(later, now=NOW, settings=config) == \
        classify_all(shop, now=NOW, settings=config)


@PROPERTY
@given(shops(), st.sampled_from(SETTINGS))
def test_whole_shop_equals_one_person_at_a_time(shop: list[Journey],
                                                config: StageSettings) -> None:
    results = classify_all(shop, now=NOW, settings=config)
    rhythm = measure_shop(shop, now=NOW, settings=config)
    assert results == [classify(j, now=NOW, settings=config, rhythm=rhythm) for j in shop]
    for j, result in zip(shop, results):
        facts = facts_of(j, NOW)
        probability = rhythm.model.probability(facts, config.horizon_days)
        if result.stage not in (Stage.CONSIDERATION, Stage.AWARENESS):
            assert (probability is None) == (result.probability_no_purchase is None)
            if probability is not None:  # approx() does not take None on newer pytest
                assert probability == pytest.approx(result.probability_no_purchase, rel=1e-12)
        assert decide(facts, j.key, rhythm.gates, config, result.probability_no_purchase,
                      rhythm.model.note) == result


@PROPERTY
@given(shops())
def test_one_journey_alone_is_decided_as_in_a_shop_of_one(shop: list[Journey]) -> None:
    config = StageSettings()
    for j in shop:
        alone = classify(j, now=NOW, settings=config)
        in_shop = classify_all([j], now=NOW, settings=config)[0]
        assert (alone.stage, alone.since, alone.flags, alone.reasons[0]) == \
            (in_shop.stage, in_shop.since, in_shop.flags, in_shop.reasons[0])
