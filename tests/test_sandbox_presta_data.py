"""The population as PrestaShop tables, without HTTP: timelines, guest rows, carts."""

from __future__ import annotations

from journeybridge.sandbox import OrderStatus, Phase, Population, PrestaShopData
from journeybridge.sandbox.presta_states import (
    AWAITING_CHECK,
    AWAITING_WIRE,
    CANCELED,
    DELIVERED,
    PAYMENT_ACCEPTED,
    SHIPPED,
)
from journeybridge.sandbox.presta_values import shop_date


def _history(data: PrestaShopData, order_id: int) -> list[tuple[int, str]]:
    table = data.tables["order_histories"]
    out = []
    for hid in table.ids():
        rec = table.record(int(hid))
        assert rec is not None
        if rec["id_order"] == order_id:
            out.append((rec["id_order_state"], rec["date_add"]))
    return out


def test_timelines_follow_the_order_dates() -> None:
    pop = Population(120, seed=4)
    data = PrestaShopData(pop)
    done = next(o for o in pop.orders() if o.status is OrderStatus.COMPLETED and not o.refunds)
    states = _history(data, done.id)
    assert [s for s, _ in states][1:] == [PAYMENT_ACCEPTED, SHIPPED, DELIVERED]
    assert states[0][0] in (AWAITING_CHECK, AWAITING_WIRE)
    assert states[0][1] == shop_date(done.date_created)
    assert states[1][1] == shop_date(done.date_paid)
    assert states[-1][1] == shop_date(done.date_completed)
    assert [d for _, d in states] == sorted(d for _, d in states)
    cancelled = next(o for o in pop.orders() if o.status is OrderStatus.CANCELLED)
    assert [s for s, _ in _history(data, cancelled.id)][-1] == CANCELED
    order = data.tables["orders"].record(done.id)
    assert order is not None and order["current_state"] == DELIVERED and order["valid"] == "1"


def test_drafts_and_trash_are_not_orders_but_drafts_keep_their_cart() -> None:
    pop = Population(120, seed=4)
    data = PrestaShopData(pop)
    draft = next(o for o in pop.orders() if o.status is OrderStatus.CHECKOUT_DRAFT)
    assert data.tables["orders"].record(draft.id) is None
    assert draft.id not in set(data.tables["orders"].ids().tolist())
    cart = pop.cart(pop.cart_of_order(draft.id))
    assert cart is not None and cart.order_id == draft.id


def test_guest_then_registered_has_guest_rows_and_an_account() -> None:
    pop = Population(120, seed=4)
    data = PrestaShopData(pop)
    person = next(c for c in pop.customers() if c.phase is Phase.GUEST_THEN_REGISTERED)
    table = data.tables["customers"]
    rows = [table.record(int(i)) for i in table.ids()]
    same = [r for r in rows if r is not None
            and str(r["email"]).lower() == person.email.lower()]
    assert {r["is_guest"] for r in same} == {"0", "1"}
    assert sum(r["is_guest"] == "1" for r in same) >= 1


def test_the_same_seed_gives_the_same_shop() -> None:
    a, b = PrestaShopData(Population(80, seed=9)), PrestaShopData(Population(80, seed=9))
    for name in ("customers", "orders", "carts", "order_histories"):
        ta, tb = a.tables[name], b.tables[name]
        assert ta.ids().tolist() == tb.ids().tolist()
        first = int(ta.ids()[-1])
        ra, rb = ta.record(first), tb.record(first)
        assert ra is not None and rb is not None
        assert {k: v for k, v in ra.items() if k != "date_upd"} == \
            {k: v for k, v in rb.items() if k != "date_upd"}
