"""The PrestaShop adapter over real HTTP against the sandbox's Webservice: a full pull equals the
generated population (people, orders, states, carts), injected faults change nothing, an
incremental pull returns exactly the changes, and write-back touches only group
associations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.errors import AuthenticationError, PermissionDenied
from journeybridge.model import OrderStatus as Status
from journeybridge.sandbox import Faults, OrderStatus, Population, PrestaApi, SandboxServer
from journeybridge.sandbox.presta_states import CANCELED, SHIPPED
from tests.adapter_support import assembled, desired, plan_items, pull_all

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
QUICK = RetryPolicy(attempts=8, base_wait=0.01, max_wait=0.05, max_retry_after=2)
BOTH = ("woocommerce", "prestashop")
ZONE = "Europe/Amsterdam"
GROUPS = ["Journey: loyalty", "Journey: lapsed", "Journey: at_risk"]
STAGES = ["loyalty", "lapsed", "at_risk"]
STAGE_GROUPS = dict(zip(STAGES, GROUPS))
#: WooCommerce status -> what the sandbox's PrestaShop states for it must map to
EXPECTED = {
    OrderStatus.PENDING: Status.PENDING_PAYMENT, OrderStatus.ON_HOLD: Status.PENDING_PAYMENT,
    OrderStatus.PROCESSING: Status.PAID, OrderStatus.COMPLETED: Status.DELIVERED,
    OrderStatus.CANCELLED: Status.CANCELLED, OrderStatus.REFUNDED: Status.REFUNDED,
    OrderStatus.FAILED: Status.FAILED,
}


@pytest.fixture(scope="module")
def population() -> Population:
    return Population(300, seed=11, now=NOW)


@pytest.fixture(scope="module")
def server(population: Population) -> Iterator[SandboxServer]:
    with SandboxServer(population, platforms=BOTH) as running:
        yield running


def presta(server: SandboxServer) -> PrestaApi:
    assert server.presta is not None
    return server.presta


def adapter_for(server: SandboxServer, *, read_only: bool = False,
                **options: object) -> PrestaShopAdapter:
    creds = server.presta_credentials
    options.setdefault("stage_groups", STAGE_GROUPS)
    return PrestaShopAdapter(server.url, creds.ro_key if read_only else creds.key,
                             retry=QUICK, timezone_name=ZONE, **options)  # type: ignore[arg-type]


def visible_orders(population: Population) -> dict[str, tuple[Status, Decimal, str]]:
    return {str(o.id): (EXPECTED[o.status], o.total, o.billing.email.lower())
            for o in population.orders(include_trash=False)
            if o.status is not OrderStatus.CHECKOUT_DRAFT}


def test_full_pull_equals_the_population(server: SandboxServer, population: Population) -> None:
    with adapter_for(server) as shop:
        pull = pull_all(shop)
        assembly = assembled(shop, pull)
    accounts = [p for p in pull.customers if not p.is_guest]
    assert sorted(int(p.customer_id or 0) for p in accounts) == sorted(
        c.id for c in population.customers())
    assert pull.report.skipped == []
    got = {o.id: (o.status, o.total, o.email) for o in pull.orders}
    assert len(got) == len(pull.orders)  # nothing doubled
    assert got == visible_orders(population)  # nothing lost, drafts and trash not orders
    by_id = {o.id: o for o in pull.orders}
    for truth in list(population.orders(include_trash=False))[:80]:
        order = by_id.get(str(truth.id))
        if order is None:
            continue
        assert order.created_at == truth.date_created  # shop-local time read back as UTC
        assert order.history[-1].status is order.status
        assert [h.at for h in order.history] == sorted(h.at for h in order.history)
        assert sum((line.total for line in order.lines), Decimal(0)) == truth.items_total
        if truth.status is OrderStatus.COMPLETED:
            assert [h.status for h in order.history] == [
                Status.PENDING_PAYMENT, Status.PAID, Status.SHIPPED, Status.DELIVERED]
    # the same people as the WooCommerce side of the same shop: guests merged by e-mail,
    # a guest who registered later is the account
    with WooCommerceAdapter(server.url, server.woo_credentials.key,
                            server.woo_credentials.secret, retry=QUICK) as woo:
        woo_keys = {j.key for j in assembled(woo, pull_all(woo)).journeys
                    if any(o.status is not Status.CHECKOUT_STARTED for o in j.orders)
                    or not j.person.is_guest}
    presta_keys = {j.key for j in assembly.journeys}
    assert presta_keys == woo_keys
    guests = [j for j in assembly.journeys if j.person.is_guest]
    assert guests and all(j.orders for j in guests)
    assert assembly.guests_merged_into_customers > 0
    carts = {c.id: c for j in assembly.journeys for c in j.carts}
    assert len(carts) == pull.report.counts["cart"]
    assert assembly.anonymous_carts == pull.report.anonymous_carts > 0
    assert len(carts) + assembly.anonymous_carts == population.cart_count
    left = [c for c in carts.values() if c.order_id is None]
    assert left
    for cart in left:  # left behind; a checkout draft or a deleted order has no order either
        made = population.cart(int(cart.id))
        assert made is not None
        gone = population.order(made.order_id) if made.order_id else None
        assert made.kind == "abandoned" or (gone is not None and gone.status in (
            OrderStatus.CHECKOUT_DRAFT, OrderStatus.TRASH))


def test_full_pull_with_faults_is_the_same(population: Population) -> None:
    faults = Faults(rate_limit_every=7, error_5xx_rate=0.08, reset_rate=0.04,
                    truncated_body_rate=0.04, html_instead_of_json_rate=0.03,
                    php_notice_rate=0.05, seed=3)
    with SandboxServer(population, platforms=BOTH, faults=faults) as noisy, \
            adapter_for(noisy) as shop:
        pull = pull_all(shop)
        faulted = sum(n for kind, n in noisy.stats.by_fault().items() if kind != "none")
    assert faulted > 5
    assert {o.id: (o.status, o.total, o.email) for o in pull.orders} == \
        visible_orders(population)
    assert len([p for p in pull.customers if not p.is_guest]) == population.customer_count


def test_malformed_records_are_skipped_and_reported(population: Population) -> None:
    bad_order = next(o.id for o in population.orders(include_trash=False)
                     if o.status is OrderStatus.COMPLETED)
    bad_customer = next(c.id for c in population.customers())
    faults = Faults(malformed_order_ids=frozenset({bad_order}),
                    malformed_customer_ids=frozenset({bad_customer}))
    with SandboxServer(population, platforms=BOTH, faults=faults) as broken, \
            adapter_for(broken) as shop:
        pull = pull_all(shop)
    assert any(f"prestashop order '{bad_order}'" in s and "total_paid" in s
               for s in pull.report.skipped)
    assert any("prestashop customer" in s and "'id'" in s for s in pull.report.skipped)
    assert len(pull.orders) == len(visible_orders(population)) - 1
    assert len([p for p in pull.customers if not p.is_guest]) == population.customer_count - 1


def test_incremental_pull_returns_exactly_the_changes() -> None:
    population = Population(200, seed=5, now=NOW)
    with SandboxServer(population, platforms=BOTH) as server, adapter_for(server) as shop:
        first = pull_all(shop)
        since = datetime.fromisoformat(first.cursor["updated"])
        later = population.clock() + timedelta(minutes=30)
        shipped = [o.id for o in population.orders(include_trash=False)
                   if o.status is OrderStatus.PROCESSING][:3]
        for order_id in shipped:
            presta(server).data.set_order_state(order_id, SHIPPED, later)
        cancelled = next(o.id for o in population.orders(include_trash=False)
                         if o.status is OrderStatus.PENDING)
        presta(server).data.set_order_state(cancelled, CANCELED, later)
        renamed = next(c.id for c in population.customers() if c.id > 50)
        population.update_customer(renamed, last_name="Vermeulen", at=later)
        cart = population.add_cart(renamed, ((10, 2),), at=later)
        visitor = population.add_cart(0, ((11, 1),), at=later)
        from_cursor = pull_all(shop, first.cursor)
        second = pull_all(shop, shop.cursor_since(later - timedelta(minutes=1)))
    assert second.result.incremental
    changed = {*map(str, shipped), str(cancelled)}
    assert {o.id for o in second.orders} == changed
    # from the stored cursor: the changes plus what the overlap re-reads, nothing older
    assert {o.id for o in from_cursor.orders} >= changed
    assert all(o.modified_at is not None and o.modified_at >= since
               for o in from_cursor.orders)
    by_id = {o.id: o for o in second.orders}
    for order_id in shipped:
        order = by_id[str(order_id)]
        assert order.status is Status.SHIPPED and order.raw_status == "Shipped"
        assert order.history[-1].at == later.replace(microsecond=0)
        assert len(order.history) >= 3  # the whole timeline, not only the new row
    assert by_id[str(cancelled)].status is Status.CANCELLED
    owners = {o.customer_id for o in population.orders_by_ids([*shipped, cancelled])}
    rows = {p.customer_id for p in second.customers}
    assert str(renamed) in rows
    assert {str(c) for c in owners if c} <= rows | {None}
    assert next(p for p in second.customers if p.customer_id == str(renamed)).last_name == \
        "Vermeulen"
    assert [c.id for c in second.carts] == [str(cart.id)]
    assert second.report.anonymous_carts == 1 and visitor.id > cart.id
    assert datetime.fromisoformat(second.cursor["updated"]) >= since
    assert second.report.skipped == []


def test_write_back_touches_only_group_associations() -> None:
    population = Population(300, seed=11, now=NOW)  # PrestaShop writes stay with a population
    with SandboxServer(population, platforms=BOTH) as server, adapter_for(server) as shop:
        pull = pull_all(shop)
        assembly = assembled(shop, pull)
        journeys = assembly.journeys
        table = presta(server).data.tables["customers"]
        before = {p.customer_id: table.record(int(p.customer_id or 0))
                  for p in pull.customers}
        rows_of = assembly.rows
        guests = [j for j in journeys if j.person.is_guest and len(rows_of[j.key]) > 1]
        chosen = [j for j in journeys if not j.person.is_guest][:50] + guests[:10]
        assert len(guests) >= 2
        wanted = {j.key: desired(j, STAGES[i % 3]) for i, j in enumerate(chosen)}
        assert not set(GROUPS) & set(shop.groups().values())
        writes, unwritable = shop.plan(plan_items(shop, assembly, wanted))
        assert unwritable == 0
        report = shop.apply(writes)
        assert report.failed == []
        assert set(GROUPS) <= set(shop.groups().values())  # created
        guest_rows = {r.customer_id for j in guests[:10] for r in rows_of[j.key]}
        assert len([w for w in writes if w.record_id in guest_rows]) > len(guests[:10])
        assert report.written == len(writes)
        expected = {row.customer_id: STAGE_GROUPS[wanted[key].stage] for key in wanted
                    for row in rows_of[key]}
        names = shop.groups()
        after_pull = pull_all(shop)
        for person in after_pull.customers:
            old = before[person.customer_id]
            new = table.record(int(person.customer_id or 0))
            assert old is not None and new is not None
            group = expected.get(person.customer_id)
            if group is None:
                assert new == old, person.customer_id  # untouched, date_upd included
                continue
            old_groups = [str(g["id"]) for g in old["associations"]["groups"]]
            new_groups = [str(g["id"]) for g in new["associations"]["groups"]]
            assert new_groups[:len(old_groups)] == old_groups  # other groups kept, in order
            assert [names[g] for g in new_groups[len(old_groups):]] == [group]
            assert new["id_default_group"] == old["id_default_group"]
            # every field as it was (the Webservice stores a PUT's empty strings as NULL, as
            # the real 8.1.2 does, recording 75: the same value to the shop)
            same = {k: ("" if v is None else v) for k, v in new.items()
                    if k not in ("date_upd", "associations")}
            assert same == {k: v for k, v in old.items()
                            if k not in ("date_upd", "associations")}
        again_assembly = assembled(shop, after_pull)
        again, _ = shop.plan(plan_items(shop, again_assembly, wanted))
        assert again == []  # a second sync writes nothing
        # and what apply() said the shop holds now plans nothing either
        updated = [type(i)(i.desired, *report.updates[i.desired.person_key])
                   for i in plan_items(shop, assembly, wanted)]
        assert shop.plan(updated)[0] == []
        first = chosen[0]
        move, _ = shop.plan(plan_items(shop, again_assembly, {first.key: desired(first,
                                                                                  "lapsed")}))
        assert len(move) == 1
        shop.apply(move)
        row = next(p for p in pull_all(shop).customers if p.key == first.key)
        assert [names[g] for g in row.groups if names[g].startswith("Journey: ")] == \
            [GROUPS[1]]


def test_a_row_changed_since_the_pull_is_replanned() -> None:
    population = Population(120, seed=21, now=NOW)  # PrestaShop writes stay with a population
    with SandboxServer(population, platforms=BOTH) as server, adapter_for(server) as shop:
        assembly = assembled(shop, pull_all(shop))
        target = next(j for j in assembly.journeys if not j.person.is_guest
                      and j.person.customer_id and int(j.person.customer_id) > 10)
        writes, _ = shop.plan(plan_items(shop, assembly, {target.key: desired(target)}))
        population.update_customer(int(target.person.customer_id or 0), first_name="Lotte",
                                   at=population.clock() + timedelta(minutes=5))
        report = shop.apply(writes)
        assert (report.conflicts, report.written, report.failed) == (1, 1, [])
        row = presta(server).data.tables["customers"].record(int(target.person.customer_id
                                                                or 0))
        assert row is not None and row["firstname"] == "Lotte"  # their change survived


def test_read_only_key_asked_to_write(server: SandboxServer) -> None:
    with adapter_for(server, read_only=True) as shop:
        assembly = assembled(shop, pull_all(shop))
        wanted = {j.key: desired(j, "x", label="Journey: x") for j in assembly.journeys[:3]}
        writes, _ = shop.plan(plan_items(shop, assembly, wanted))
        with pytest.raises(PermissionDenied, match="not allowed"):
            shop.apply(writes)


def test_wrong_key_gives_a_clear_error_without_the_key(server: SandboxServer) -> None:
    wrong = "0123456789ABCDEF0123456789ABCDEF"
    for in_query in (False, True):
        with PrestaShopAdapter(server.url, wrong, retry=QUICK, key_in_query=in_query) as shop, \
                pytest.raises(AuthenticationError) as caught:
            list(shop.iter_customers())
        message = str(caught.value)
        assert server.url in message and "GET customers" in message
        assert "Authentification key is not active" in message
        assert wrong not in message


def test_the_key_as_ws_key_works(server: SandboxServer, population: Population) -> None:
    with adapter_for(server, key_in_query=True) as shop:
        assert sum(1 for p in shop.iter_customers() if not p.is_guest) == \
            population.customer_count


def test_a_429_on_post_groups_creates_the_group_once() -> None:
    population = Population(40, seed=4, now=NOW)
    # requests: GET groups, GET the blank schema, GET group 3, POST groups: the 4th is a 429
    with SandboxServer(population, platforms=BOTH,
                       faults=Faults(rate_limit_every=4)) as limited, \
            adapter_for(limited) as shop:
        ids = shop.ensure_groups(["Journey: loyalty"])
        assert limited.stats.by_fault() == {"rate_limit": 1}
        names = shop.groups()
    assert [gid for gid, name in names.items() if name == "Journey: loyalty"] == \
        [ids["Journey: loyalty"]]


def test_a_write_after_its_pull_puts_the_pulled_copy_without_reading_it_again() -> None:
    population = Population(150, seed=23, now=NOW)
    with SandboxServer(population, platforms=BOTH) as server, adapter_for(server) as shop:
        assembly = assembled(shop, pull_all(shop))
        chosen = [j for j in assembly.journeys if not j.person.is_guest][:40]
        writes, _ = shop.plan(plan_items(shop, assembly, {j.key: desired(j) for j in chosen}))
        table = presta(server).data.tables["customers"]
        before = {w.record_id: table.record(int(w.record_id)) for w in writes}
        server.stats.reset()
        report = shop.apply(writes)
        paths = server.stats.by_path()
    assert report.written == len(writes) == 40 and report.failed == []
    puts = sum(n for p, n in paths.items() if p.startswith("/api/customers/"))
    lists = paths.get("/api/customers", 0)
    # one PUT per row, one bulk date_upd check per 100 rows: half of GET + PUT per row
    assert puts == 40 and lists == 1
    for record_id, old in before.items():
        new = table.record(int(record_id))
        assert old is not None and new is not None
        assert {k: ("" if v is None else v) for k, v in new.items()
                if k not in ("date_upd", "associations")} == {
            k: v for k, v in old.items() if k not in ("date_upd", "associations")}
