"""Nothing a shop sends can crash a pull (issue 17.1, adapter side): hostile values inside
records are skipped, counted and reported in one line naming kind, id and field (no e-mail),
every good record is still pulled, nothing absurd is yielded; a body that cannot be read is a
typed ShopError. ``responses`` with the real 10.0.2 / 8.1.2 record shapes."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from typing import Any

import pytest
import responses

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.prestashop import PullReport as PrestaReport
from journeybridge.adapters.protocol import Write
from journeybridge.adapters.woocommerce import PullReport, WooCommerceAdapter
from journeybridge.errors import NotAShopAPI
from journeybridge.model import Order
from tests.recordings import recording
from tests.test_presta_adapter_unit import records as presta_records

SHOP = "http://shop.test"
API = f"{SHOP}/wp-json/wc/v3"
PS_API = f"{SHOP}/api"
KEY = "ck_" + "a" * 40
SECRET = "cs_" + "b" * 40
WS_KEY = "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"
FAST = RetryPolicy(attempts=2, sleep=lambda _: None)

GOOD = (1, 2, 3)


def _order(order_id: Any, **changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(recording("13")["body"])
    raw.update(id=order_id, number=str(order_id), **changes)
    return raw


def _line(order: dict[str, Any], **changes: Any) -> dict[str, Any]:
    order["line_items"][0].update(changes)
    return order


HOSTILE_ORDERS: list[tuple[str, Any, str]] = [
    # (what, raw record, the field its report line must name)
    ("a string instead of an object", "order 11", "(record)"),
    ("a number instead of an object", 12, "(record)"),
    ("id '²'", _order("²"), "id"),
    ("customer_id '²'", _order(14, customer_id="²"), "customer_id"),
    ("year 0001, local time", _order(15, date_created="0001-01-01T00:30:00",
                                     date_created_gmt=None), "date_created_gmt"),
    ("year 9999", _order(16, date_created_gmt="9999-12-31T23:59:59"), "date_created_gmt"),
    ("total 1e309", _order(17, total="1e309"), "total"),
    ("total 1e26", _order(18, total="1e26"), "total"),
    ("a cart quantity of 10**40", _line(_order(19), quantity=10**40), "quantity"),
    ("quantity '²'", _line(_order(20), quantity="²"), "quantity"),
    ("an e-mail where money goes", _order(21, total="anna@example.com"), "total"),
    ("line items an object", _order(22, line_items={"x": 1}, total="1e400"), "total"),
]


@responses.activate
def test_hostile_orders_are_skipped_and_every_good_order_is_pulled() -> None:
    page: list[Any] = [_order(i) for i in GOOD] + [raw for _, raw, _ in HOSTILE_ORDERS]
    text = json.dumps(page)
    # a 5,000-digit id as a JSON number (Python's int() refuses it): that record alone
    text = text[:-1] + ', {"id": ' + "7" * 5000 + "}]"
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/orders"), body=text,
                  content_type="application/json",
                  headers={"X-WP-Total": str(len(page) + 1), "X-WP-TotalPages": "1"})
    adapter = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, retry=FAST)
    report = PullReport()
    orders = list(adapter.iter_orders(report))
    assert [o.id for o in orders] == [str(i) for i in GOOD]
    assert report.skipped_count == len(HOSTILE_ORDERS) + 1
    for line, (what, _, field) in zip(report.skipped, HOSTILE_ORDERS):
        assert line.startswith("invalid woocommerce order"), what
        assert f"field '{field}" in line or f"{field}'" in line, (what, line)
        assert "@" not in line and "\n" not in line and len(line) <= 300, what
    assert "'77777777777777777777..." in report.skipped[-1]


@pytest.mark.parametrize("boom", [RecursionError("deep"), OverflowError("date value out of "
                                                                        "range"),
                                  KeyError("x"), MemoryError()])
@responses.activate
def test_whatever_parsing_raises_skips_that_record_only(boom: BaseException) -> None:
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/orders"),
                  json=[_order(i) for i in (1, 2, 3)],
                  headers={"X-WP-Total": "3", "X-WP-TotalPages": "1"})
    adapter = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, retry=FAST)
    real = adapter.mapping.order

    def flaky(raw: Any) -> Order:
        if raw.get("id") == 2:
            raise boom
        return real(raw)

    adapter.mapping.order = flaky  # type: ignore[method-assign]
    report = PullReport()
    assert [o.id for o in adapter.iter_orders(report)] == ["1", "3"]
    assert report.skipped == [f"invalid woocommerce order 2: field '(record)': unreadable "
                              f"({type(boom).__name__}: {str(boom)[:80]})"]


@responses.activate
def test_a_page_of_strings_is_reported_not_raised() -> None:
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/customers"),
                  json=["a", "b"], headers={"X-WP-Total": "2", "X-WP-TotalPages": "1"})
    report = PullReport()
    shop = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, retry=FAST)
    assert list(shop.iter_customers(report)) == []
    assert report.skipped == ["invalid woocommerce customer (no id): field '(record)': not a "
                              "JSON object (got str)"] * 2


@responses.activate
def test_a_body_nested_100000_deep_is_not_a_shop_api() -> None:
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/customers"),
                  body='[{"id": 1, "meta_data": ' + "[" * 100_000 + "]" * 100_000 + "}]",
                  content_type="application/json")
    shop = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, retry=FAST)
    with pytest.raises(NotAShopAPI, match="nested too deeply"):
        list(shop.iter_customers())


@pytest.mark.parametrize("error", ["Invalid ID.", 42, ["x"], {"message": 7, "code": None}])
@responses.activate
def test_a_batch_answer_whose_error_is_not_an_object(error: Any) -> None:
    responses.add(responses.POST, re.compile(rf"{re.escape(API)}/customers/batch"),
                  json={"update": [{"id": 5, "error": error}, {"id": 6}, "garbage"]})
    shop = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, retry=FAST)
    writes = [Write(f"customer:{i}", "customer", str(i), {"journeybridge_stage": "loyalty"})
              for i in (5, 6, 7)]
    report = shop.apply(writes)
    assert report.written == 1
    assert [f.split(":")[0] for f in report.failed] == ["customer 5", "customer 7"]
    assert "no answer" in report.failed[1]


@responses.activate
def test_a_batch_answer_of_another_shape_fails_every_write_it_does_not_answer() -> None:
    responses.add(responses.POST, re.compile(rf"{re.escape(API)}/customers/batch"),
                  json={"update": "nope"})
    shop = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, retry=FAST)
    report = shop.apply([Write("customer:5", "customer", "5", {"journeybridge_stage": "x"})])
    assert report.written == 0 and len(report.failed) == 1


# -- PrestaShop ----------------------------------------------------------------------------------

def _presta(rsps: responses.RequestsMock, resource: str, rows: list[Any]) -> None:
    rsps.add(responses.GET, re.compile(rf"{re.escape(PS_API)}/{resource}\?"),
             json={resource: rows} if rows else [])


@responses.activate
def test_hostile_prestashop_records_are_skipped_and_good_ones_pulled() -> None:
    customers = presta_records("01", "customers")
    good = customers[1]
    hostile_customers: list[Any] = [
        dict(good, id="²"),
        dict(good, id="9" * 30),
        dict(good, id=41, date_add="0001-01-01 00:00:00"),
        dict(good, id=42, date_upd="9999-12-31 23:59:59"),
        "a string",
    ]
    _presta(responses.mock, "customers", [good, *hostile_customers])
    _presta(responses.mock, "order_states", presta_records("06", "order_states"))
    _presta(responses.mock, "currencies", [{"id": 1, "iso_code": "EUR"}])
    _presta(responses.mock, "countries", [{"id": 8, "iso_code": "FR"}, {"id": "²"}, "x"])
    _presta(responses.mock, "addresses", [{"id": 2, "id_customer": 2, "id_country": 8,
                                           "city": "Paris", "date_upd": "x"}, {"id": "²"}, 7])
    base_order = presta_records("04", "orders")[0]
    orders = [base_order, dict(base_order, id=51, total_paid_tax_incl="1e26"),
              dict(base_order, id=52, id_customer="²")]
    _presta(responses.mock, "orders", orders)
    _presta(responses.mock, "order_histories", [])
    _presta(responses.mock, "order_carriers", [])
    _presta(responses.mock, "carriers", [])
    cart = {"id": 61, "id_customer": "2", "id_currency": "1", "date_add": "2026-11-02 10:00:00",
            "date_upd": "2026-11-02 10:00:00",
            "associations": {"cart_rows": [{"id_product": "1", "quantity": "²"}]}}
    _presta(responses.mock, "carts", [cart, dict(cart, id=62, associations={
        "cart_rows": [{"id_product": "1", "quantity": "3"}]})])
    shop = PrestaShopAdapter(SHOP, WS_KEY, retry=FAST, timezone_name="Europe/Amsterdam")
    report = PrestaReport()
    people = list(shop.iter_customers(report))
    found_orders = list(shop.iter_orders(report))
    carts = list(shop.iter_carts(report))
    assert [p.customer_id for p in people] == [str(good["id"])]
    assert [o.id for o in found_orders] == [str(base_order["id"])]
    assert found_orders[0].billing_country in ("", "FR")  # hostile look-ups left out
    assert [c.id for c in carts] == ["62"] and carts[0].lines[0].quantity == 3
    assert all(o.total < Decimal(10) ** 15 for o in found_orders)
    fields = ["'id'", "'id'", "'date_add'", "'date_upd'", "'(record)'",
              "'total_paid_tax_incl'", "'id_customer'", "'cart_rows.0.quantity'"]
    assert len(report.skipped) == len(fields)
    for line, field in zip(report.skipped, fields):
        assert f"field {field}" in line, (field, line)
        assert line.startswith("invalid prestashop ") and "@" not in line

