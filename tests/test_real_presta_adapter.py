"""The PrestaShop adapter against a real PrestaShop 8.1.2 (../shared/real-presta), seeded by
tests/realshop/presta_seed.php with what a correct pull must see.

Group memberships are checked straight in the shop's database (PHP run against the shop), never
through the adapter. The module writes to the shop; the seed is restored after it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.protocol import Collected, Write
from journeybridge.errors import AuthenticationError, PermissionDenied
from journeybridge.identity import Assembly
from journeybridge.model import Journey, OrderStatus
from journeybridge.stages import Stage, classify_all
from tests.adapter_support import assembled, desired, plan_items, pull_all
from tests.realshop.presta import RealPresta, run_presta_php

pytestmark = pytest.mark.real_presta

QUICK = RetryPolicy(attempts=3, base_wait=0.1, max_wait=0.5)
NOW = datetime.now(timezone.utc)  # one clock for every classification in this module
PREFIX = "Journey: "
JOURNEY_GROUPS = sorted(f"{PREFIX}{stage.value}" for stage in Stage)
STAGE_GROUPS = {stage.value: f"{PREFIX}{stage.value}" for stage in Stage}
STAGE_OF = {name: code for code, name in STAGE_GROUPS.items()}

# What each stock 8.1.2 order state means for a journey, by its name (the expectation checks
# that the ids and flags are the stock ones).
STATE_MEANING = {
    "Awaiting check payment": OrderStatus.PENDING_PAYMENT,
    "Payment accepted": OrderStatus.PAID,
    "Processing in progress": OrderStatus.PAID,
    "Shipped": OrderStatus.SHIPPED,
    "Delivered": OrderStatus.DELIVERED,
    "Canceled": OrderStatus.CANCELLED,
    "Refunded": OrderStatus.REFUNDED,
    "Payment error": OrderStatus.FAILED,
    "On backorder (paid)": OrderStatus.PAID,
    "Awaiting bank wire payment": OrderStatus.PENDING_PAYMENT,
    "Remote payment accepted": OrderStatus.PAID,
    "On backorder (not paid)": OrderStatus.PENDING_PAYMENT,
    "Awaiting Cash On Delivery validation": OrderStatus.PENDING_PAYMENT,
}


def _utc(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def adapter(shop: RealPresta, *, key: str | None = None, **options: Any) -> PrestaShopAdapter:
    options.setdefault("stage_groups", STAGE_GROUPS)
    return PrestaShopAdapter(shop.url, key or shop.key, retry=QUICK,
                             timezone_name="Europe/Amsterdam", **options)


def plan_groups(shop: PrestaShopAdapter, assembly: Assembly,
                wanted: Mapping[str, str]) -> list[Write]:
    """The writes that put each person (key -> group name) into their journey group."""
    by_key = {j.key: j for j in assembly.journeys}
    states = {key: desired(by_key[key], STAGE_OF.get(name, name), label=name)
              for key, name in wanted.items()}
    return shop.plan(plan_items(shop, assembly, states))[0]


@pytest.fixture(autouse=True, scope="module")
def _put_the_seed_back(real_presta_writable: RealPresta) -> RealPresta:
    """These tests change orders, customers and groups; the seed is restored after the module."""
    return real_presta_writable


@pytest.fixture(scope="module")
def full_pull(real_presta_writable: RealPresta) -> Iterator[Collected]:
    with adapter(real_presta_writable) as shop:
        yield pull_all(shop)


# -- the database, read behind the adapter's back ------------------------------------------------

SNAPSHOT_PHP = """
$db = Db::getInstance(); $p = _DB_PREFIX_;
$out = ['customers' => [], 'groups' => []];
foreach ($db->executeS("SELECT id_customer, email, firstname, lastname, passwd, secure_key,
        is_guest, active, deleted, newsletter, newsletter_date_add, optin, id_default_group,
        date_add, date_upd FROM {$p}customer ORDER BY id_customer") as $r) {
    $r['groups'] = [];
    $out['customers'][$r['id_customer']] = $r;
}
foreach ($db->executeS("SELECT id_customer, id_group FROM {$p}customer_group
        ORDER BY id_customer, id_group") as $r) {
    $out['customers'][$r['id_customer']]['groups'][] = (int) $r['id_group'];
}
foreach ($db->executeS("SELECT g.id_group, g.reduction, l.id_lang, l.name FROM {$p}group g
        JOIN {$p}group_lang l ON l.id_group = g.id_group ORDER BY g.id_group, l.id_lang") as $r) {
    $out['groups'][] = $r;
}
echo json_encode($out);
"""


@dataclass(frozen=True)
class Snapshot:
    """Customer rows (id -> columns, ``groups`` the sorted group ids) and groups (id -> name)."""

    customers: dict[int, dict[str, Any]]
    group_names: dict[int, str]
    group_rows: list[dict[str, Any]]

    def group_id(self, name: str) -> int:
        found = [gid for gid, gname in self.group_names.items() if gname == name]
        assert len(found) == 1, f"group {name!r}: {found}"
        return found[0]

    def groups_of(self, customer_id: int) -> set[int]:
        return set(self.customers[customer_id]["groups"])


def snapshot(shop: RealPresta) -> Snapshot:
    raw = json.loads(run_presta_php(shop, SNAPSHOT_PHP))
    customers = {int(k): v for k, v in raw["customers"].items()}
    names = {int(r["id_group"]): r["name"] for r in raw["groups"] if int(r["id_lang"]) == 1}
    return Snapshot(customers, names, raw["groups"])


def _without(row: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


# -- the full pull ------------------------------------------------------------------------------


def test_full_pull_equals_the_seed(full_pull: Collected,
                                   real_presta_expected: dict[str, Any]) -> None:
    exp = real_presta_expected
    assert exp["timezone"] == "Europe/Amsterdam"
    state_name = {s["id"]: s["name"] for s in exp["order_states"]}
    assert set(state_name.values()) == set(STATE_MEANING)

    got = {int(o.id): o for o in full_pull.orders}
    assert len(got) == len(full_pull.orders)  # nothing doubled
    assert set(got) == {o["id"] for o in exp["orders"]}  # nothing lost
    rows = {c["id"]: c for c in exp["customers"]}
    for want in exp["orders"]:
        order = got[want["id"]]
        label = f"order {want['id']}"
        assert order.raw_status == want["state_name"], label
        assert order.status is STATE_MEANING[want["state_name"]], label
        # Revenue exactly where the state carries the paid flag.
        assert order.status.is_paid == want["state_flags"]["paid"], label
        assert isinstance(order.total, Decimal)
        assert order.total == Decimal(want["total_paid_tax_incl"]), label
        assert order.currency == want["currency"]
        assert order.created_at == _utc(want["date_add_utc"]), label
        assert order.created_at.utcoffset() == timedelta(0)
        assert order.modified_at == _utc(want["date_upd_utc"]), label
        assert order.cart_id == str(want["id_cart"]), label
        assert order.number == want["reference"]
        owner = rows[want["id_customer"]]
        if owner["is_guest"]:
            assert order.customer_id is None, label
            assert order.email == owner["email"].strip().lower(), label
        else:
            assert order.customer_id == str(want["id_customer"]), label
        # Every phase the order reached, when it reached it, ending in the current state.
        assert [(c.raw_status, c.at) for c in order.history] == [
            (state_name[sid], _utc(at)) for sid, at in want["history"]], label
        assert [c.status for c in order.history] == [
            STATE_MEANING[state_name[sid]] for sid, _ in want["history"]], label
        first_paid = next((_utc(at) for sid, at in want["history"]
                           if STATE_MEANING[state_name[sid]].is_paid), None)
        assert order.paid_at == first_paid, label
        delivered = next((_utc(at) for sid, at in want["history"]
                          if STATE_MEANING[state_name[sid]] is OrderStatus.DELIVERED), None)
        assert order.completed_at == delivered, label
        assert [(int(line.product_id), line.quantity) for line in order.lines] == [
            (r["product_id"], r["product_quantity"]) for r in want["order_rows"]], label
        assert all(isinstance(line.unit_price, Decimal) for line in order.lines)

    people = {int(p.customer_id or 0): p for p in full_pull.customers}
    assert len(people) == len(full_pull.customers)
    assert set(people) == set(rows)
    for cid, want in rows.items():
        person = people[cid]
        assert person.is_guest == want["is_guest"], cid
        assert person.registered_at == _utc(want["date_add_utc"]), cid
        assert person.modified_at == _utc(want["date_upd_utc"]), cid
        assert person.groups == tuple(str(g) for g in want["groups"]), cid
        subscribed = bool(person.newsletter and person.newsletter.subscribed)
        assert subscribed == want["newsletter"], cid
        if want["newsletter"]:
            assert person.newsletter is not None
            assert person.newsletter.at == _utc(want["newsletter_date_add_utc"]), cid
    assert sum(not p.is_guest for p in full_pull.customers) == exp["counts"]["registered"]
    assert sum(p.is_guest for p in full_pull.customers) == exp["counts"]["guest_rows"]
    assert full_pull.report.counts["customer"] == len(full_pull.customers)

    # Carts: every cart of a known row, none of an unknown visitor; those counted.
    known_carts = {c["id"]: c for c in exp["carts"] if c["id_customer"]}
    assert sorted(int(c.id) for c in full_pull.carts) == sorted(known_carts)
    for cart in full_pull.carts:
        want = known_carts[int(cart.id)]
        assert cart.created_at == _utc(want["date_add_utc"]), cart.id
        assert cart.updated_at == _utc(want["date_upd_utc"]), cart.id
    assert full_pull.report.anonymous_carts == exp["counts"]["anonymous_carts"]
    assert full_pull.report.skipped == []
    assert full_pull.result.incremental is False and full_pull.cursor["updated"]


def test_one_journey_per_person(real_presta_writable: RealPresta, full_pull: Collected,
                                real_presta_expected: dict[str, Any]) -> None:
    with adapter(real_presta_writable) as shop:
        assembly = assembled(shop, full_pull)
    journeys = {j.key: j for j in assembly.journeys}
    assert len(journeys) == len(assembly.journeys)
    expected = {p["key"]: p for p in real_presta_expected["people"]}
    assert set(journeys) == set(expected)  # guests by e-mail, any case; registered guests merged
    carts = {c["id"]: c for c in real_presta_expected["carts"]}
    for key, want in expected.items():
        journey = journeys[key]
        assert sorted(int(o.id) for o in journey.orders) == sorted(want["order_ids"]), key
        abandoned = sorted(int(c.id) for c in journey.carts if c.order_id is None)
        assert abandoned == sorted(want["abandoned_cart_ids"]), key
        for cart in journey.carts:  # ordered carts point to their order
            assert carts[int(cart.id)]["person"] == key
            want_order = carts[int(cart.id)]["order_id"]
            assert cart.order_id == (str(want_order) if want_order else None), key
        assert journey.person.is_guest == key.startswith("guest:")
    # Anonymous carts are counted, not turned into people.
    assert assembly.anonymous_carts == real_presta_expected["counts"]["anonymous_carts"]
    assert assembly.orders_without_person == 0
    assert not any(j.person.email is None and not j.person.customer_id
                   for j in assembly.journeys)
    results = classify_all(assembly.journeys, now=NOW)
    assert len({r.stage for r in results}) >= 5  # the seed covers the route


# -- the incremental pull -----------------------------------------------------------------------

CHANGE_PHP = """
$now = date('Y-m-d H:i:s');
$orders = array_filter(explode(',', $argv[1])); $customers = array_filter(explode(',', $argv[2]));
foreach ($orders as $id) {
    $h = new OrderHistory();
    $h->id_order = (int) $id; $h->id_order_state = 4; $h->id_employee = 1; $h->date_add = $now;
    // add(false): keep our $now instead of a second read of the clock that may tick over.
    if (!$h->add(false)) { exit(4); }
    $o = new Order((int) $id); $o->current_state = 4; if (!$o->update()) { exit(5); }
}
foreach ($customers as $id) {
    $c = new Customer((int) $id); $c->lastname = $c->lastname . ' II';
    if (!$c->update()) { exit(6); }
}
echo $now;
"""


def test_incremental_pull_returns_exactly_the_changes(
        real_presta_writable: RealPresta, real_presta_expected: dict[str, Any]) -> None:
    shop_ = real_presta_writable
    exp = real_presta_expected
    rows = {c["id"]: c for c in exp["customers"]}
    # Two paid orders of accounts and one of a guest row move on to Shipped; two people who
    # never ordered change their name.
    paid = [o for o in exp["orders"] if o["state_name"] == "Payment accepted"]
    changed_orders = sorted({*(o["id"] for o in paid[:2]),
                             next(o["id"] for o in exp["orders"]
                                  if rows[o["id_customer"]]["is_guest"])})
    changed_customers = sorted(
        p["customer_ids"][0] for p in exp["people"]
        if not p["order_ids"] and p["key"].startswith("customer:") and p["key"] != "customer:1"
    )[:2]
    time.sleep(1.1)
    since = datetime.now(timezone.utc)
    time.sleep(1.1)  # the shop stores whole seconds
    stamp = run_presta_php(shop_, CHANGE_PHP, ",".join(map(str, changed_orders)),
                           ",".join(map(str, changed_customers)))
    time.sleep(1.1)
    after = datetime.now(timezone.utc)
    urls: list[str] = []
    with adapter(shop_) as shop:
        shop.client.session.hooks["response"].append(
            lambda response, *args, **kwargs: urls.append(unquote(
                response.request.url or "")))
        pull = pull_all(shop, shop.cursor_since(since))
        nothing = pull_all(shop, shop.cursor_since(after))
    assert pull.result.incremental
    assert sorted(int(o.id) for o in pull.orders) == changed_orders
    for order in pull.orders:
        assert order.raw_status == "Shipped" and order.status is OrderStatus.SHIPPED
        assert order.history[-1].raw_status == "Shipped"
        assert since <= order.history[-1].at <= after
        assert order.modified_at is not None and since <= order.modified_at <= after
        before = next(o for o in exp["orders"] if o["id"] == int(order.id))
        assert len(order.history) == len(before["history"]) + 1
    # The window holds exactly the changed rows; other rows came only as the orders' owners.
    in_window = sorted(int(p.customer_id or 0) for p in pull.customers
                       if p.modified_at is not None and p.modified_at >= since)
    assert in_window == changed_customers
    owners = {next(o["id_customer"] for o in exp["orders"] if o["id"] == oid)
              for oid in changed_orders}
    assert {int(p.customer_id or 0) for p in pull.customers} == {*changed_customers, *owners}
    assert all(p.last_name.endswith(" II") for p in pull.customers
               if int(p.customer_id or 0) in changed_customers)
    assert pull.carts == [] and pull.report.skipped == []
    cursor = datetime.fromisoformat(pull.cursor["updated"])
    assert since - timedelta(minutes=10) <= cursor <= after
    # The shop wrote its own clock (Europe/Amsterdam, no offset); the pull reads it as UTC.
    shop_stamp = datetime.fromisoformat(stamp.strip()).replace(
        tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(timezone.utc)
    assert {o.history[-1].at for o in pull.orders} == {shop_stamp}
    assert nothing.orders == [] and nothing.customers == [] and nothing.carts == []
    windows = [u for u in urls if "/api/orders?" in u and "filter[date_upd]=" in u]
    assert windows and all("date=1" in u for u in windows)


# -- the write-back -----------------------------------------------------------------------------


def _desired(journeys: Sequence[Journey]) -> dict[str, str]:
    return {r.person_key: f"{PREFIX}{r.stage.value}" for r in classify_all(journeys, now=NOW)}


def _rows_written(expected: dict[str, Any], keys: Sequence[str]) -> dict[int, str]:
    """Customer row -> person key, for the rows a write for these people must touch: an
    account's own row, every guest row of a pure guest (never a registered person's guest
    rows)."""
    is_guest = {c["id"]: c["is_guest"] for c in expected["customers"]}
    people = {p["key"]: p for p in expected["people"]}
    out: dict[int, str] = {}
    for key in keys:
        for cid in people[key]["customer_ids"]:
            if key.startswith("guest:") or not is_guest[cid]:
                out[cid] = key
    return out


def test_group_write_back(real_presta_writable: RealPresta,
                          real_presta_expected: dict[str, Any]) -> None:
    shop_ = real_presta_writable
    before = snapshot(shop_)
    assert not set(JOURNEY_GROUPS) & set(before.group_names.values())
    with adapter(shop_) as shop:
        assembly = assembled(shop, pull_all(shop))
        wanted = _desired(assembly.journeys)
        writes = plan_groups(shop, assembly, wanted)
        assert shop.plan(plan_items(shop, assembly, {
            j.key: desired(j, STAGE_OF[wanted[j.key]]) for j in assembly.journeys}))[1] == 0
        touched = _rows_written(real_presta_expected, list(wanted))
        assert sorted(int(w.record_id) for w in writes) == sorted(touched)
        report = shop.apply(writes)
    assert report.failed == [] and report.conflicts == 0
    assert report.written == len(touched)

    first = snapshot(shop_)
    # Missing stage groups were created, once each, in every language, with no reduction; the
    # shop's own groups are as they were.
    for gid, name in before.group_names.items():
        assert first.group_names[gid] == name
    created = {first.group_id(name): name for name in JOURNEY_GROUPS}
    for row in first.group_rows:
        if int(row["id_group"]) in created:
            assert row["name"] == created[int(row["id_group"])]
            assert Decimal(row["reduction"]) == 0
    assert len(first.group_names) == len(before.group_names) + len(JOURNEY_GROUPS)
    # Each written row: its old groups (default and non-journey groups kept) plus its stage's
    # group; every other column as it was. Rows not written are untouched, date_upd included.
    wholesale = real_presta_expected["non_journey_group_id"]
    for cid, old in before.customers.items():
        new = first.customers[cid]
        if cid in touched:
            group = first.group_id(wanted[touched[cid]])
            assert set(new["groups"]) == set(old["groups"]) | {group}, cid
            assert _without(new, "groups", "date_upd") == _without(old, "groups", "date_upd")
            assert int(new["id_default_group"]) in new["groups"]
        else:
            assert new == old, cid
    assert any(wholesale in first.groups_of(cid) for cid in touched)

    # Three people move on: only their rows are written, into their new group and out of the
    # old one; nobody else is touched.
    movers = sorted(k for k in wanted if k.startswith("customer:"))[:3]
    moved = {**wanted, **{k: f"{PREFIX}{Stage.ADVOCACY.value}"
                          if wanted[k] != f"{PREFIX}{Stage.ADVOCACY.value}"
                          else f"{PREFIX}{Stage.AT_RISK.value}" for k in movers}}
    with adapter(shop_) as shop:
        writes = plan_groups(shop, assembled(shop, pull_all(shop)), moved)
        assert sorted(w.person_key for w in writes) == movers
        report = shop.apply(writes)
    assert report.written == 3 and report.failed == []
    second = snapshot(shop_)
    journey_ids = {first.group_id(name) for name in JOURNEY_GROUPS}
    for cid, old in first.customers.items():
        new = second.customers[cid]
        key = touched.get(cid)
        if key in movers:
            assert set(new["groups"]) == (set(old["groups"]) - journey_ids) | {
                second.group_id(moved[key])}, cid
        else:
            assert new == old, cid
    assert second.group_names == first.group_names

    # A second sync with nothing changed writes nothing.
    with adapter(shop_) as shop:
        writes = plan_groups(shop, assembled(shop, pull_all(shop)), moved)
        assert writes == []
        report = shop.apply(writes)
    assert report.written == 0 and report.requests == 0
    assert snapshot(shop_) == second


CONCURRENT_PHP = """
$c = new Customer((int) $argv[1]);
$c->lastname = 'Tussendoor';
if (!$c->update()) { exit(4); }
$c->addGroups([(int) $argv[2]]);
"""


def test_a_row_changed_between_read_and_write_is_not_overwritten(
        real_presta_writable: RealPresta, real_presta_expected: dict[str, Any]) -> None:
    shop_ = real_presta_writable
    target = next(p["key"] for p in real_presta_expected["people"]
                  if p["key"].startswith("customer:") and p["order_ids"])
    cid = int(target.removeprefix("customer:"))
    wholesale = real_presta_expected["non_journey_group_id"]
    with adapter(shop_) as shop:
        shop.ensure_groups(JOURNEY_GROUPS)
        assembly = assembled(shop, pull_all(shop))
        journey = next(j for j in assembly.journeys if j.key == target)
        names = shop.groups()
        held = {names[g] for g in journey.person.groups}
        wanted = next(name for name in JOURNEY_GROUPS if name not in held)
        writes = plan_groups(shop, assembly, {target: wanted})
        assert [int(w.record_id) for w in writes] == [cid]
        time.sleep(1.1)  # a later second than anything the pull saw
        run_presta_php(shop_, CONCURRENT_PHP, str(cid), str(wholesale))
        between = snapshot(shop_).customers[cid]
        report = shop.apply(writes)
    assert report.conflicts == 1 and report.failed == [] and report.written == 1
    after = snapshot(shop_)
    row = after.customers[cid]
    assert row["lastname"] == "Tussendoor"  # the change made meanwhile survived
    journey_ids = {after.group_id(name) for name in JOURNEY_GROUPS}
    assert set(row["groups"]) == (set(between["groups"]) - journey_ids) | {
        after.group_id(wanted)}
    assert wholesale in row["groups"]


# -- keys ---------------------------------------------------------------------------------------


def test_read_only_key_gets_the_typed_error(real_presta_writable: RealPresta) -> None:
    shop_ = real_presta_writable
    with adapter(shop_) as shop:
        shop.ensure_groups(JOURNEY_GROUPS)
    before = snapshot(shop_)
    with adapter(shop_, key=shop_.ro_key) as shop:
        assembly = assembled(shop, pull_all(shop))
        accounts = [j for j in assembly.journeys if j.key.startswith("customer:")][:2]
        names = shop.groups()
        wanted = {j.key: next(name for name in JOURNEY_GROUPS
                              if name not in {names[g] for g in j.person.groups})
                  for j in accounts}
        writes = plan_groups(shop, assembly, wanted)
        assert len(writes) == 2
        with pytest.raises(PermissionDenied, match="read-only") as caught:
            shop.apply(writes)
        assert caught.value.status == 405 and caught.value.code == "25"
    # Creating a missing group is refused the same way.
    extra = {**STAGE_GROUPS, "extra": f"{PREFIX}extra"}
    with adapter(shop_, key=shop_.ro_key, stage_groups=extra) as shop, \
            pytest.raises(PermissionDenied, match="read-only"):
        shop.apply(writes)
    assert snapshot(shop_) == before
    assert shop_.ro_key not in str(caught.value)


@pytest.mark.parametrize("in_query", [False, True], ids=["basic-auth", "ws_key"])
def test_wrong_key_is_a_clear_error_without_the_key(real_presta: RealPresta,
                                                    in_query: bool) -> None:
    wrong = "JB" + "7" * 30
    with adapter(real_presta, key=wrong, key_in_query=in_query) as shop, \
            pytest.raises(AuthenticationError) as caught:
        pull_all(shop)
    message = str(caught.value)
    assert real_presta.url in message
    assert "refused the Webservice key" in message
    assert wrong not in message and real_presta.key not in message
    assert real_presta.ro_key not in message
