"""The sandbox's WooCommerce API over real HTTP, driven by the official `woocommerce` client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import woocommerce

from journeybridge.sandbox import OrderStatus, Population, SandboxServer
from journeybridge.sandbox.oauth1 import sign, signature_base_string


@pytest.fixture(scope="module")
def shop() -> Iterator[SandboxServer]:
    with SandboxServer(Population(300, seed=11)) as server:
        yield server


def _api(server: SandboxServer, read_only: bool = False) -> woocommerce.API:
    c = server.woo_credentials
    key, secret = (c.ro_key, c.ro_secret) if read_only else (c.key, c.secret)
    return woocommerce.API(server.url, key, secret, version="wc/v3", timeout=10)


@pytest.fixture(scope="module")
def api(shop: SandboxServer) -> woocommerce.API:
    return _api(shop)


def _signed(server: SandboxServer, method: str, url: str, params: dict[str, str],
            algo: str = "HMAC-SHA256", timestamp: int | None = None) -> str:
    oauth = {**params, "oauth_consumer_key": server.woo_credentials.key,
             "oauth_timestamp": str(timestamp or int(time.time())), "oauth_nonce": "n0nce",
             "oauth_signature_method": algo}
    base = signature_base_string(method, url, oauth)
    oauth["oauth_signature"] = sign(base, server.woo_credentials.secret, algo)
    return urlencode(oauth)


def _all_pages(api: woocommerce.API, endpoint: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        r = api.get(endpoint, params={**params, "per_page": 100, "page": page})
        assert r.status_code == 200
        body = r.json()
        if not body:
            break
        out.extend(body)
        page += 1
    return out


def test_orders_pages_concatenate_to_the_visible_population(shop: SandboxServer,
                                                            api: woocommerce.API) -> None:
    first = api.get("orders", params={"per_page": 100, "orderby": "id", "order": "asc"})
    total = int(first.headers["X-WP-Total"])
    assert total == shop.population.order_count
    assert int(first.headers["X-WP-TotalPages"]) == -(-total // 100)
    assert 'rel="next"' in first.headers["Link"]
    assert first.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert first.headers["Allow"] == "GET, POST"
    assert "X-WP-Total" in first.headers["Access-Control-Expose-Headers"]
    got = [o["id"] for o in _all_pages(api, "orders", orderby="id", order="asc")]
    want = [o.id for o in shop.population.orders(include_trash=False)]
    assert got == want


def test_customers_pages_concatenate_to_every_account(shop: SandboxServer,
                                                      api: woocommerce.API) -> None:
    got = sorted(c["id"] for c in _all_pages(api, "customers", role="all"))
    assert got == list(range(1, shop.population.customer_count + 1))
    default = api.get("customers", params={"per_page": 100})
    customers_only = sum(1 for c in shop.population.customers() if c.role.value == "customer")
    assert int(default.headers["X-WP-Total"]) == customers_only


def test_default_orderings_are_name_asc_and_date_desc(api: woocommerce.API) -> None:
    names = [c["username"] for c in api.get("customers", params={"per_page": 50}).json()]
    assert names == sorted(names)
    dates = [o["date_created_gmt"] for o in api.get("orders", params={"per_page": 50}).json()]
    assert dates == sorted(dates, reverse=True)


def test_middle_page_links_prev_and_next_and_past_end_is_empty(api: woocommerce.API) -> None:
    r = api.get("customers", params={"per_page": 10, "page": 2, "orderby": "id"})
    assert 'rel="prev"' in r.headers["Link"]
    assert 'rel="next"' in r.headers["Link"]
    pages = int(r.headers["X-WP-TotalPages"])
    past = api.get("customers", params={"per_page": 10, "page": 999, "orderby": "id"})
    assert past.status_code == 200
    assert past.json() == []
    assert past.headers["X-WP-Total"] == r.headers["X-WP-Total"]
    assert f"&page={pages}&" in past.headers["Link"]
    assert past.headers["Link"].endswith('rel="prev"')


@pytest.mark.parametrize(("params", "param", "code"), [
    ({"per_page": 101}, "per_page", "rest_out_of_bounds"),
    ({"per_page": 0}, "per_page", "rest_out_of_bounds"),
    ({"page": 0}, "page", "rest_out_of_bounds"),
    ({"modified_after": "yesterday"}, "modified_after", "rest_invalid_date"),
    ({"status": "shipped"}, "status", "rest_not_in_enum"),
    ({"orderby": "total"}, "orderby", "rest_not_in_enum"),
])
def test_invalid_parameters_are_400(api: woocommerce.API, params: dict[str, Any], param: str,
                                    code: str) -> None:
    r = api.get("orders", params=params)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == f"Invalid parameter(s): {param}"
    assert body["data"]["details"][param]["code"] == code
    assert param in body["data"]["params"]


def test_nested_fields_trim_the_response(api: woocommerce.API) -> None:
    r = api.get("orders", params={"per_page": 3, "_fields": "id,billing.email,total"})
    for order in r.json():
        assert list(order) == ["id", "total", "billing"]
        assert list(order["billing"]) == ["email"]


def test_status_filters(shop: SandboxServer, api: woocommerce.API) -> None:
    counts = shop.population.count_by_status()
    default = api.get("orders", params={"per_page": 1})
    assert int(default.headers["X-WP-Total"]) == sum(
        n for s, n in counts.items() if s is not OrderStatus.TRASH)
    for status in ("checkout-draft", "trash"):
        r = api.get("orders", params={"per_page": 100, "status": status})
        assert int(r.headers["X-WP-Total"]) == counts.get(OrderStatus(status), 0)
        assert {o["status"] for o in r.json()} <= {status}
    both = api.get("orders", params={"per_page": 100, "status": "pending,failed"})
    assert int(both.headers["X-WP-Total"]) == counts[OrderStatus.PENDING] + counts[
        OrderStatus.FAILED]


def test_customer_and_email_filters(shop: SandboxServer, api: woocommerce.API) -> None:
    target = next(c for c in shop.population.customers() if shop.population.customer_orders(c.id))
    r = api.get("orders", params={"customer": target.id, "per_page": 100})
    ids = {o["id"] for o in r.json()}
    want = {o.id for o in shop.population.customer_orders(target.id)
            if o.customer_id == target.id and not o.is_trash}
    assert ids == want
    found = api.get("customers", params={"email": target.email.upper(), "role": "all"}).json()
    assert [c["id"] for c in found] == [target.id]


def test_modified_after_with_and_without_dates_are_gmt() -> None:
    pop = Population(200, seed=12)
    with SandboxServer(pop) as server:
        api = _api(server)
        ids = [o.id for o in pop.orders(include_trash=False)][:3]
        base = pop.clock() + timedelta(hours=3)
        pop.update_order(ids[0], status="completed", at=base)
        pop.update_order(ids[1], at=base + timedelta(seconds=2))
        pop.update_order(ids[2], at=base - timedelta(minutes=30))
        cursor = (base - timedelta(seconds=2)).astimezone(timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S")
        gmt = api.get("orders", params={"modified_after": cursor, "dates_are_gmt": "true",
                                        "per_page": 100})
        assert sorted(o["id"] for o in gmt.json()) == sorted(ids[:2])
        assert gmt.headers["X-WP-Total"] == "2"
        local = api.get("orders", params={"modified_after": cursor, "per_page": 100})
        # read as Amsterdam time, the cursor lies one or two hours earlier: the window widens
        assert {ids[0], ids[1], ids[2]} <= {o["id"] for o in local.json()}
        ignored = api.get("customers", params={"modified_after": cursor, "dates_are_gmt": "true"})
        assert ignored.headers["X-WP-Total"] == str(
            sum(1 for c in pop.customers() if c.role.value == "customer"))


def test_put_order_status_and_meta() -> None:
    pop = Population(100, seed=13)
    with SandboxServer(pop) as server:
        api = _api(server)
        target = next(o for o in pop.orders() if o.status is OrderStatus.PROCESSING)
        r = api.put(f"orders/{target.id}", {"status": "completed"})
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "completed"
        assert body["date_completed_gmt"] is not None
        assert body["date_modified_gmt"] > target.date_modified.strftime("%Y-%m-%dT%H:%M:%S")
        for _ in range(2):
            r = api.put(f"orders/{target.id}", {"meta_data": [{"key": "jb", "value": "1"}]})
        assert [m["key"] for m in r.json()["meta_data"]] == ["jb"]
        missing = api.put("orders/999999", {"status": "completed"})
        assert missing.json()["code"] == "woocommerce_rest_shop_order_invalid_id"


def test_customer_batch_meta_upsert_limits_and_errors() -> None:
    pop = Population(60, seed=14)
    with SandboxServer(pop) as server:
        api = _api(server)
        for value in ("loyalty", "advocacy"):
            r = api.post("customers/batch", {"update": [
                {"id": 14, "meta_data": [{"key": "journeybridge_stage", "value": value}]}]})
            assert r.status_code == 200
        meta = r.json()["update"][0]["meta_data"]
        assert [(m["key"], m["value"]) for m in meta if m["key"] == "journeybridge_stage"] == [
            ("journeybridge_stage", "advocacy")]
        bad = api.post("customers/batch", {"update": [{"id": 999999, "meta_data": []}]})
        assert bad.status_code == 200
        assert bad.json() == {"update": [{"id": 999999, "error": {
            "code": "wc_user_invalid_id", "message": "Invalid user ID.",
            "data": {"status": 404}}}]}
        big = api.post("customers/batch", {"update": [{"id": 14}] * 101})
        assert big.status_code == 413
        assert big.json()["code"] == "woocommerce_rest_request_entity_too_large"
        single = api.put("customers/14", {"meta_data": [{"key": "journeybridge_stage",
                                                          "value": "loyalty"}]})
        assert single.status_code == 200
        c = pop.customer(14)
        assert c is not None
        assert [m.value for m in c.meta_data if m.key == "journeybridge_stage"] == ["loyalty"]


def test_authentication_errors(shop: SandboxServer) -> None:
    c = shop.woo_credentials
    url = shop.url + "/wp-json/wc/v3/customers"
    wrong_key = woocommerce.API(shop.url, "ck_" + "0" * 40, c.secret, version="wc/v3")
    assert wrong_key.get("customers").json()["message"] == "Consumer key is invalid."
    wrong_secret = woocommerce.API(shop.url, c.key, "cs_" + "0" * 40, version="wc/v3")
    r = wrong_secret.get("customers", params={"per_page": 5})
    assert r.status_code == 401
    assert r.json()["message"] == "Invalid signature - provided signature does not match."
    for kwargs in ({"auth": (c.key, c.secret)},
                   {"params": {"consumer_key": c.key, "consumer_secret": c.secret}}, {}):
        r = requests.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 401
        assert r.json()["code"] == "woocommerce_rest_cannot_view"
        assert "Allow" not in r.headers
    ro = _api(shop, read_only=True)
    assert ro.get("customers").status_code == 200
    denied = ro.post("customers/batch", {"update": [{"id": 14}]})
    assert denied.status_code == 401
    assert denied.json()["message"] == "The API key provided does not have write permissions."
    stale = _signed(shop, "GET", url, {}, timestamp=int(time.time()) - 3600)
    assert requests.get(f"{url}?{stale}", timeout=10).json()["message"] == "Invalid timestamp."


def test_hmac_sha1_and_rest_route_form(shop: SandboxServer) -> None:
    url = shop.url + "/wp-json/wc/v3/orders"
    q = _signed(shop, "GET", url, {"per_page": "2", "status": "pending,failed"}, "HMAC-SHA1")
    assert requests.get(f"{url}?{q}", timeout=10).status_code == 200
    q = _signed(shop, "GET", shop.url, {"rest_route": "/wc/v3/orders", "per_page": "2"})
    r = requests.get(f"{shop.url}/?{q}", timeout=10)
    assert r.status_code == 200
    assert len(r.json()) == 2
    assert requests.get(f"{shop.url}/?rest_route=/wc/v3/orders", timeout=10).status_code == 401


def test_plain_permalinks_serve_only_the_rest_route_form() -> None:
    with SandboxServer(Population(50, seed=2), pretty_permalinks=False) as server:
        r = requests.get(server.url + "/wp-json/wc/v3/orders", timeout=10)
        assert r.status_code == 404
        assert r.headers["Content-Type"].startswith("text/html")
        q = _signed(server, "GET", server.url, {"rest_route": "/wc/v3/orders", "per_page": "2"})
        ok = requests.get(f"{server.url}/?{q}", timeout=10)
        assert ok.status_code == 200
        assert "/?rest_route=%2Fwc%2Fv3%2Forders&" in ok.headers["Link"]


def test_front_page_index_options_and_no_route(shop: SandboxServer, api: woocommerce.API) -> None:
    front = requests.get(shop.url + "/", timeout=10)
    assert front.status_code == 200
    assert front.headers["Content-Type"] == "text/html; charset=UTF-8"
    index = requests.get(shop.url + "/wp-json/", timeout=10).json()
    assert "wc/v3" in index["namespaces"]
    options = api.options("orders").json()
    assert "modified_after" in options["endpoints"][0]["args"]
    assert api.get("nope").json()["code"] == "rest_no_route"
    assert api.get("orders/999999").json() == {
        "code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
        "data": {"status": 404}}


def test_refunds_and_reviews(shop: SandboxServer, api: woocommerce.API) -> None:
    order = next(o for o in shop.population.orders() if o.refunds and not o.is_trash)
    r = api.get(f"orders/{order.id}/refunds").json()
    assert [x["amount"] for x in r] == [f"{order.refunds[0].amount:.2f}"]
    body = api.get(f"orders/{order.id}").json()
    assert body["refunds"][0]["total"] == f"-{order.refunds[0].amount:.2f}"
    reviews = api.get("products/reviews", params={"per_page": 100})
    approved = [rv for rv in shop.population.reviews() if rv.status == "approved"]
    assert int(reviews.headers["X-WP-Total"]) == len(approved)
    assert all(rv["review"].startswith("<p>") for rv in reviews.json())


def test_stats_count_requests_by_path(shop: SandboxServer, api: woocommerce.API) -> None:
    before = shop.stats.by_path().get("/wp-json/wc/v3/customers", 0)
    api.get("customers")
    assert shop.stats.by_path()["/wp-json/wc/v3/customers"] == before + 1
    assert shop.stats.total >= 1
