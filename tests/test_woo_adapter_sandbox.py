"""The WooCommerce adapter over real HTTP against the sandbox shop: a full pull equals the
generated population exactly (with and without injected faults), an incremental pull returns
exactly the changed orders, and write-back changes exactly the intended meta keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.errors import AuthenticationError, PermissionDenied
from journeybridge.sandbox import Faults, Population, SandboxServer
from tests.adapter_support import assembled, desired, plan_items, pull_all

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
QUICK = RetryPolicy(attempts=8, base_wait=0.01, max_wait=0.05, max_retry_after=2)


@pytest.fixture(scope="module")
def population() -> Population:
    return Population(300, seed=11, now=NOW)


@pytest.fixture(scope="module")
def server(population: Population) -> Iterator[SandboxServer]:
    with SandboxServer(population) as running:
        yield running


def adapter_for(server: SandboxServer, *, read_only: bool = False, **options: object) -> \
        WooCommerceAdapter:
    creds = server.woo_credentials
    key, secret = (creds.ro_key, creds.ro_secret) if read_only else (creds.key, creds.secret)
    return WooCommerceAdapter(server.url, key, secret, retry=QUICK, **options)  # type: ignore[arg-type]


def expected_orders(population: Population) -> dict[str, tuple[str, Decimal, str | None]]:
    return {str(o.id): (o.status.value, o.total, str(o.customer_id) if o.customer_id else None)
            for o in population.orders(include_trash=False)}


def test_full_pull_equals_the_population(server: SandboxServer, population: Population) -> None:
    with adapter_for(server) as shop:
        pull = pull_all(shop)
    assert sorted(int(p.customer_id or 0) for p in pull.customers) == sorted(
        c.id for c in population.customers())
    got = {o.id: (o.raw_status, o.total, o.customer_id) for o in pull.orders}
    assert len(got) == len(pull.orders)  # nothing doubled
    assert got == expected_orders(population)  # nothing lost, trash excluded
    assert sorted(int(r.id) for r in pull.reviews) == sorted(r.id for r in population.reviews())
    assert pull.report.skipped == []
    by_id = {o.id: o for o in pull.orders}
    for truth in list(population.orders(include_trash=False))[:50]:
        order = by_id[str(truth.id)]
        assert order.created_at == truth.date_created
        assert [r.amount for r in order.refunds] == [r.amount for r in truth.refunds]
        assert sum((line.total for line in order.lines), Decimal(0)) == truth.items_total


def test_full_pull_with_faults_is_the_same(population: Population) -> None:
    faults = Faults(rate_limit_every=7, error_5xx_rate=0.08, reset_rate=0.04,
                    truncated_body_rate=0.04, html_instead_of_json_rate=0.03,
                    php_notice_rate=0.05, seed=3)
    with SandboxServer(population, faults=faults) as noisy, adapter_for(noisy) as shop:
        pull = pull_all(shop)
        faulted = sum(n for kind, n in noisy.stats.by_fault().items() if kind != "none")
    assert faulted > 5
    assert {o.id: (o.raw_status, o.total, o.customer_id) for o in pull.orders} == \
        expected_orders(population)
    assert len(pull.customers) == population.customer_count


def test_malformed_records_are_skipped_and_reported(population: Population) -> None:
    bad_order = next(o.id for o in population.orders(include_trash=False))
    bad_customer = next(c.id for c in population.customers())
    faults = Faults(malformed_order_ids=frozenset({bad_order}),
                    malformed_customer_ids=frozenset({bad_customer}))
    with SandboxServer(population, faults=faults) as broken, adapter_for(broken) as shop:
        pull = pull_all(shop)
    assert len(pull.report.skipped) == 2
    assert any(f"woocommerce order '{bad_order}'" in s and "total" in s
               for s in pull.report.skipped)
    assert len(pull.orders) == len(expected_orders(population)) - 1
    assert len(pull.customers) == population.customer_count - 1


def test_incremental_pull_returns_exactly_the_changed_orders() -> None:
    population = Population(200, seed=5, now=NOW)
    with SandboxServer(population) as shop_server, adapter_for(shop_server) as shop:
        first = pull_all(shop)
        assert first.cursor["orders"]
        changed = [o.id for o in list(population.orders(include_trash=False))[10:15]]
        later = population.clock() + timedelta(minutes=30)
        for order_id in changed:
            population.update_order(order_id, status="completed", at=later)
        trashed = next(o.id for o in list(population.orders(include_trash=False))[40:41])
        population.update_order(trashed, status="trash", at=later)
        second = pull_all(shop, shop.cursor_since(later - timedelta(minutes=1)))
    assert sorted(int(o.id) for o in second.orders) == sorted(changed)
    assert all(o.raw_status == "completed" for o in second.orders)
    assert second.result.deleted == {"order": [str(trashed)]}
    assert second.result.incremental and "customer" not in second.result.full_kinds


def test_write_back_changes_exactly_the_intended_keys(population: Population) -> None:
    with SandboxServer(population) as shop_server, adapter_for(shop_server) as shop:
        assembly = assembled(shop, pull_all(shop))
        journeys = assembly.journeys
        before = {c.id: {m.key: m.value for m in c.meta_data} for c in population.customers()}
        wanted = {j.key: desired(j) for j in [*journeys[:140], *journeys[-10:]]}
        writes, unwritable = shop.plan(plan_items(shop, assembly, wanted))
        report = shop.apply(writes)
        assert report.failed == []
        assert report.written == len(writes) > 0
        assert {w.resource for w in writes} == {"customer", "order"}  # guests on their order
        after = {c.id: {m.key: m.value for m in c.meta_data} for c in population.customers()}
        values = {"journeybridge_stage": "loyalty", "journeybridge_stage_since": "2026-01-01",
                  "journeybridge_segments": ""}
        for cid, meta in after.items():
            if f"customer:{cid}" in wanted:
                assert meta == {**before[cid], **values}
                keys = [m.key for m in population.customer(cid).meta_data]  # type: ignore[union-attr]
                assert len(keys) == len(set(keys))  # updated in place, never duplicated
            else:
                assert meta == before[cid]
        # what apply() says the shop holds now is what a new pull sees: nothing to write
        again, _ = shop.plan(plan_items(shop, assembled(shop, pull_all(shop)), wanted))
        held_now = [item for item in plan_items(shop, assembly, wanted)
                    if item.desired.person_key in report.updates]
        updated = [type(item)(item.desired, *report.updates[item.desired.person_key])
                   for item in held_now]
    assert again == []  # a second sync writes nothing
    assert shop.plan(updated)[0] == []
    assert unwritable == 0


def test_read_only_key_asked_to_write(server: SandboxServer) -> None:
    with adapter_for(server, read_only=True) as shop:
        assembly = assembled(shop, pull_all(shop))
        wanted = {j.key: desired(j, label="x") for j in assembly.journeys[:3]}
        writes, _ = shop.plan(plan_items(shop, assembly, wanted))
        with pytest.raises(PermissionDenied, match="read-only"):
            shop.apply(writes)


@pytest.mark.parametrize("which", ["key", "secret"])
def test_wrong_credentials_give_clear_errors(server: SandboxServer, which: str) -> None:
    creds = server.woo_credentials
    key = "ck_" + "0" * 40 if which == "key" else creds.key
    secret = "cs_" + "0" * 40 if which == "secret" else creds.secret
    with WooCommerceAdapter(server.url, key, secret, retry=QUICK) as shop, \
            pytest.raises(AuthenticationError) as caught:
        list(shop.iter_customers())
    message = str(caught.value)
    assert server.url in message and "GET customers" in message
    assert secret not in message and creds.secret not in message
    assert ("Consumer key is invalid" if which == "key" else "Invalid signature") in message


def test_shop_without_pretty_permalinks(population: Population) -> None:
    with SandboxServer(population, pretty_permalinks=False) as plain, adapter_for(plain) as shop:
        assert shop.client.detect_permalinks() is True
        assert len(list(shop.iter_customers())) == population.customer_count
