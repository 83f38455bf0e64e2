"""WooCommerce adapter unit tests with ``responses``: payloads and error bodies exactly as a real
WooCommerce 10.0.2 sent them (tests/fixtures/woocommerce-real/), no sockets."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from journeybridge.adapters.http import RetryPolicy, parse_retry_after
from journeybridge.adapters.protocol import Write
from journeybridge.adapters.woocommerce import PullReport, WooCommerceAdapter
from journeybridge.errors import (
    AuthenticationError,
    NotAShopAPI,
    PermissionDenied,
    PlatformMissing,
    ShopRequestError,
    ShopUnreachable,
    TransientShopError,
)
from journeybridge.model import OrderStatus
from tests.recordings import body_records, recording

SHOP = "http://shop.test"
API = f"{SHOP}/wp-json/wc/v3"
KEY = "ck_" + "a" * 40
SECRET = "cs_" + "b" * 40
UTC = timezone.utc


FAST = RetryPolicy(attempts=2, sleep=lambda _: None)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def adapter(sleeps: Sleeps) -> WooCommerceAdapter:
    return WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, concurrency=2,
                              retry=RetryPolicy(attempts=4, sleep=sleeps))


def replay(rsps: responses.RequestsMock, method: str, url: str, name: str,
           **extra: Any) -> None:
    rec = recording(name)
    body = rec["body"]
    if isinstance(body, dict) and "items" in body:
        body = body["items"]
    headers = {k: v for k, v in rec["headers"].items() if k.lower() != "content-type"}
    content_type = rec["headers"].get("Content-Type", "application/json")
    text = body if isinstance(body, str) else json.dumps(body)
    rsps.add(method, re.compile(re.escape(url) + r"(\?.*)?$"), body=text,
             status=rec["status"], headers=headers, content_type=content_type, **extra)


# -- mapping of real payloads ------------------------------------------------------------------

def test_order_with_partial_refund_maps_exactly(adapter: WooCommerceAdapter) -> None:
    raw = recording("13")["body"]
    order = adapter.mapping.order(raw)
    assert order.id == "63" and order.customer_id == "24"
    assert order.status is OrderStatus.DELIVERED and order.raw_status == "completed"
    assert order.total == Decimal("373.95")
    assert [r.amount for r in order.refunds] == [Decimal("24.95")]
    assert order.paid_at == datetime(2026, 11, 3, 12, 52, 2, tzinfo=UTC)
    assert order.created_at == datetime.fromisoformat(raw["date_created_gmt"]).replace(
        tzinfo=UTC)
    assert order.lines[0].unit_price == Decimal("349") and order.lines[0].quantity == 1
    assert order.client_ip == "203.0.113.97"
    assert order.email == "klacht@voorbeeld.nl"


def test_checkout_draft_and_guest_orders(adapter: WooCommerceAdapter) -> None:
    draft = adapter.mapping.order(body_records("07")[0])
    assert draft.status is OrderStatus.CHECKOUT_STARTED and draft.paid_at is None
    for raw in body_records("11") + body_records("12"):
        order = adapter.mapping.order(raw)
        assert order.created_at.tzinfo is not None
        if raw["customer_id"] == 0:
            assert order.customer_id is None


def test_customers_of_all_roles(adapter: WooCommerceAdapter) -> None:
    people = [adapter.mapping.customer(raw) for raw in body_records("04")]
    subscriber = next(p for p in people if p.roles == ("subscriber",))
    assert subscriber.registered_at == datetime(2026, 10, 14, 12, 42, 2, tzinfo=UTC)
    assert subscriber.city == "Utrecht" and subscriber.country == "NL"
    admin = next(p for p in people if p.roles == ("administrator",))
    assert admin.modified_at is None  # date_modified_gmt null on the real shop


def test_reviews(adapter: WooCommerceAdapter) -> None:
    reviews = [adapter.mapping.review(raw) for raw in body_records("15")]
    assert reviews[0].rating == 5 and reviews[0].verified is True and reviews[0].approved
    assert all(r.email == (r.email or "").lower() for r in reviews)


def test_newsletter_meta_convention(adapter: WooCommerceAdapter) -> None:
    raw = dict(body_records("04")[0])
    raw["meta_data"] = [{"id": 1, "key": "newsletter_optin", "value": "yes"},
                        {"id": 2, "key": "newsletter_optin_date",
                         "value": "2026-01-05T10:00:00Z"},
                        {"id": 3, "key": "journeybridge_stage", "value": "loyalty"},
                        {"id": 4, "key": "other", "value": {"nested": 1}}]
    person = adapter.mapping.customer(raw)
    assert person.newsletter is not None and person.newsletter.subscribed
    assert person.newsletter.at == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert person.meta == {"journeybridge_stage": "loyalty"}


def test_plugin_statuses_map_safely(adapter: WooCommerceAdapter) -> None:
    raw = dict(recording("13")["body"])
    for status, expected in (("shipped", OrderStatus.SHIPPED),
                             ("wc-delivered", OrderStatus.DELIVERED),
                             ("awaiting-shipment", OrderStatus.PAID)):
        raw["status"] = status
        assert adapter.mapping.order(raw).status is expected
    raw["date_paid_gmt"] = None
    raw["date_paid"] = None
    raw["status"] = "some-plugin-status"
    assert adapter.mapping.order(raw).status is OrderStatus.PENDING_PAYMENT


def test_malformed_order_names_record_and_field(adapter: WooCommerceAdapter) -> None:
    raw = dict(recording("13")["body"], total="abc")
    with pytest.raises(Exception, match=r"woocommerce order '63'.*field 'total'"):
        adapter.mapping.order(raw)


# -- paging, skipping, retries -----------------------------------------------------------------

def _page(ids: list[int], total: int, pages: int) -> dict[str, Any]:
    template = recording("13")["body"]
    return {"json": [dict(template, id=i, number=str(i)) for i in ids],
            "headers": {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}}


@responses.activate
def test_pages_are_fetched_concurrently_in_order_and_deduplicated() -> None:
    adapter = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, per_page=2,
                                 concurrency=3)
    pages = {1: [1, 2], 2: [2, 3], 3: [4, 5]}  # id 2 repeated across pages (a shift)
    for page, ids in pages.items():
        responses.add(responses.GET, re.compile(rf"{re.escape(API)}/orders\?.*\bpage={page}\b"),
                      **_page(ids, 6, 3))
    report = PullReport()
    orders = list(adapter.iter_orders(report))
    assert [o.id for o in orders] == ["1", "2", "3", "4", "5"]
    sent = [r.request.url for r in responses.calls]
    assert all("orderby=id" in u and "order=asc" in u and "per_page=2" in u for u in sent)
    assert all("oauth_signature=" in u for u in sent)  # plain http: OAuth 1.0a


@responses.activate
def test_malformed_record_is_skipped_and_reported(adapter: WooCommerceAdapter) -> None:
    page = _page([1, 2, 3], 3, 1)
    page["json"][1]["total"] = "12,50"
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/orders"), **page)
    report = PullReport()
    orders = list(adapter.iter_orders(report))
    assert [o.id for o in orders] == ["1", "3"]
    assert report.skipped_count == 1 and "woocommerce order '2'" in report.skipped[0]


@responses.activate
def test_429_with_retry_after_then_success(adapter: WooCommerceAdapter,
                                           sleeps: Sleeps) -> None:
    url = re.compile(rf"{re.escape(API)}/customers")
    responses.add(responses.GET, url, status=429, body="<html>Too Many Requests</html>",
                  headers={"Retry-After": "3"}, content_type="text/html")
    responses.add(responses.GET, url, json=body_records("04"),
                  headers={"X-WP-Total": "2", "X-WP-TotalPages": "1"})
    assert len(list(adapter.iter_customers())) == 2
    assert sleeps == [3.0]


@responses.activate
def test_503_until_the_end_is_a_transient_error(adapter: WooCommerceAdapter,
                                                sleeps: Sleeps) -> None:
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/orders"), status=503,
                  body="<h1>Service Unavailable</h1>", content_type="text/html")
    with pytest.raises(TransientShopError) as caught:
        list(adapter.iter_orders())
    assert len(responses.calls) == 4 and len(sleeps) == 3
    assert all(0 <= s <= 30 for s in sleeps)
    assert "HTTP 503" in str(caught.value) and "GET orders" in str(caught.value)


@responses.activate
def test_dropped_connection_is_retried(adapter: WooCommerceAdapter) -> None:
    url = re.compile(rf"{re.escape(API)}/orders")
    responses.add(responses.GET, url, body=requests.ConnectionError("reset by peer"))
    responses.add(responses.GET, url, **_page([1], 1, 1))
    assert [o.id for o in adapter.iter_orders()] == ["1"]


@responses.activate
def test_unreachable_after_retries(adapter: WooCommerceAdapter) -> None:
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/orders"),
                  body=requests.ConnectionError("Connection refused"))
    with pytest.raises(ShopUnreachable, match="connection refused"):
        list(adapter.iter_orders())


@pytest.mark.parametrize(("name", "error", "text"), [
    ("26", AuthenticationError, "Consumer key is invalid"),
    ("27", AuthenticationError, "Invalid signature"),
    ("36", AuthenticationError, "unauthenticated"),
    ("32", PlatformMissing, "is WooCommerce installed and active"),
    ("33", ShopRequestError, "Invalid ID"),
    ("28", ShopRequestError, "per_page"),
    ("31", ShopRequestError, "status"),
])
@responses.activate
def test_real_error_bodies_become_typed_errors_without_retry(
        adapter: WooCommerceAdapter, name: str, error: type[Exception], text: str) -> None:
    replay(responses.mock, "GET", f"{API}/orders", name)
    with pytest.raises(error, match=text) as caught:
        list(adapter.iter_orders())
    assert len(responses.calls) == 1  # 4xx is never retried
    message = str(caught.value)
    assert SHOP in message and KEY not in message and SECRET not in message
    assert "\n" not in message


@responses.activate
def test_read_only_key_asked_to_write(adapter: WooCommerceAdapter) -> None:
    replay(responses.mock, "POST", f"{API}/customers/batch", "24")
    with pytest.raises(PermissionDenied, match="read-only"):
        adapter.apply([Write("customer:5", "customer", "5", {"journeybridge_stage": "loyalty"})])


@responses.activate
def test_html_page_where_json_was_expected(adapter: WooCommerceAdapter) -> None:
    replay(responses.mock, "GET", f"{API}/orders", "38")
    with pytest.raises(NotAShopAPI, match="HTML page"):
        list(adapter.iter_orders())


@responses.activate
def test_bom_and_php_notice_before_json_are_tolerated(adapter: WooCommerceAdapter) -> None:
    page = _page([1], 1, 1)
    text = "\ufeff<br />\n<b>Notice</b>: Undefined index: x in /var/www/x.php<br />\n" + \
        json.dumps(page["json"])
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/orders"), body=text,
                  headers=page["headers"], content_type="application/json")
    assert [o.id for o in adapter.iter_orders()] == ["1"]


@responses.activate
def test_shop_without_pretty_permalinks_uses_rest_route() -> None:
    responses.add(responses.GET, f"{SHOP}/wp-json/", status=404, body="<html>Not found</html>",
                  content_type="text/html")
    responses.add(responses.GET, re.compile(rf"{re.escape(SHOP)}/\?rest_route=(/|%2F)$"),
                  json={"namespaces": ["wp/v2", "wc/v3"], "routes": {}})
    responses.add(responses.GET, re.compile(rf"{re.escape(SHOP)}/\?rest_route=%2Fwc%2Fv3%2F"
                                            r"customers&"), json=[],
                  headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    adapter = WooCommerceAdapter(SHOP, KEY, SECRET, retry=FAST)
    assert list(adapter.iter_customers()) == []
    assert adapter.client.detect_permalinks() is True


@responses.activate
def test_wordpress_without_woocommerce() -> None:
    responses.add(responses.GET, f"{SHOP}/wp-json/", json={"namespaces": ["wp/v2"]})
    adapter = WooCommerceAdapter(SHOP, KEY, SECRET, retry=FAST)
    with pytest.raises(PlatformMissing, match="WooCommerce"):
        list(adapter.iter_customers())


@responses.activate
def test_wrong_url_is_one_clear_error() -> None:
    responses.add(responses.GET, f"{SHOP}/wp-json/", status=404, body="<html>nope</html>",
                  content_type="text/html")
    responses.add(responses.GET, re.compile(rf"{re.escape(SHOP)}/\?rest_route"), status=200,
                  body="<html>front page</html>", content_type="text/html")
    with pytest.raises(NotAShopAPI, match="WordPress site's address"):
        list(WooCommerceAdapter(SHOP, KEY, SECRET, retry=FAST).iter_customers())


# -- write-back ----------------------------------------------------------------------------------

@responses.activate
def test_writes_go_in_batches_of_100_and_report_item_errors(adapter: WooCommerceAdapter
                                                            ) -> None:
    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        items = json.loads(request.body or b"{}")["update"]
        assert len(items) <= 100
        out = []
        for item in items:
            assert [m["key"] for m in item["meta_data"]] == sorted(
                m["key"] for m in item["meta_data"])
            assert all("id" not in m for m in item["meta_data"])  # upsert by key
            if item["id"] == 999999:
                out.append(recording("23")["body"]["update"][0])
            else:
                out.append({"id": item["id"], "meta_data": item["meta_data"]})
        return 200, {}, json.dumps({"update": out})

    responses.add_callback(responses.POST, re.compile(rf"{re.escape(API)}/customers/batch"),
                           callback=answer)
    responses.add_callback(responses.POST, re.compile(rf"{re.escape(API)}/orders/batch"),
                           callback=answer)
    writes = [Write(f"customer:{i}", "customer", str(i),
                    {"journeybridge_stage": "loyalty", "journeybridge_stage_since": "2026-01-01"})
              for i in [*range(1, 250), 999999]]
    writes.append(Write("guest:g@example.com", "order", "77",
                        {"journeybridge_stage": "purchase"}))
    report = adapter.apply(writes)
    assert report.written == 250
    assert report.failed == ["customer 999999: Invalid user ID. (wc_user_invalid_id)"]
    assert report.requests == 4  # 3 customer batches + 1 guest order batch
    assert report.updates["guest:g@example.com"] == ({"order_id": "77"},
                                                     {"journeybridge_stage": "purchase"})
    assert "customer:999999" not in report.updates


def test_retry_after_parsing() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
