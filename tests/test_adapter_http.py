"""The one HTTP shell (journeybridge.adapters.http.Transport) both shop clients send through:
typed errors carry status, platform code, endpoint, request id and a scrubbed body excerpt;
one request counter; one URL check; hostile headers never crash. ``responses``, no sockets."""

from __future__ import annotations

import json
import re

import pytest
import requests
import responses

from journeybridge.adapters.http import (
    RetryPolicy,
    Transport,
    body_excerpt,
    parse_json_body,
    parse_retry_after,
    scrub,
)
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.errors import (
    AuthenticationError,
    NotAShopAPI,
    ShopRequestError,
    ShopUnreachable,
    TransientShopError,
)

SHOP = "http://shop.test"
WOO = f"{SHOP}/wp-json/wc/v3"
PRESTA = f"{SHOP}/api"
KEY = "ck_" + "a" * 40
SECRET = "cs_" + "b" * 40
WS_KEY = "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def policy(sleeps: Sleeps | None) -> RetryPolicy:
    return RetryPolicy(attempts=3, sleep=Sleeps() if sleeps is None else sleeps)


def woo(sleeps: Sleeps | None = None) -> WooCommerceAdapter:
    return WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, concurrency=2,
                              retry=policy(sleeps))


def presta(sleeps: Sleeps | None = None) -> PrestaShopAdapter:
    return PrestaShopAdapter(SHOP, WS_KEY, concurrency=2, retry=policy(sleeps))


def test_both_clients_send_through_one_transport() -> None:
    assert isinstance(woo().client.transport, Transport)
    assert isinstance(presta().client.transport, Transport)


@pytest.mark.parametrize("url", ["shop.test", "ftp://shop.test", "http://", " "])
def test_one_url_check_for_both_platforms(url: str) -> None:
    for make in (lambda: WooCommerceAdapter(url, KEY, SECRET),
                 lambda: PrestaShopAdapter(url, WS_KEY)):
        with pytest.raises(ShopRequestError, match="must start with http"):
            make()


@responses.activate
def test_exhausted_retries_carry_request_id_status_and_excerpt() -> None:
    sleeps = Sleeps()
    body = ("<html><body>Upstream overloaded for anna.gast@example.com "
            f"(consumer_key={KEY})</body></html>")
    responses.add(responses.GET, re.compile(rf"{re.escape(WOO)}/orders"), status=503,
                  body=body, content_type="text/html",
                  headers={"X-Request-Id": "req-7f3a", "Retry-After": "2"})
    with pytest.raises(TransientShopError) as caught:
        list(woo(sleeps).iter_orders())
    error = caught.value
    assert len(responses.calls) == 3 and sleeps == [2.0, 2.0]
    assert (error.status, error.request_id, error.retry_after) == (503, "req-7f3a", 2.0)
    assert error.endpoint == "GET orders"
    assert "request id req-7f3a" in str(error) and "after 3 attempts" in str(error)
    assert error.excerpt is not None and error.excerpt.startswith("<html><body>Upstream")
    assert "anna.gast@" not in error.excerpt and KEY not in error.excerpt
    assert "a***@example.com" in error.excerpt


@responses.activate
def test_a_presta_refusal_carries_code_request_id_and_a_scrubbed_excerpt() -> None:
    body = json.dumps({"errors": [{"code": 20, "message": "Authentication key is not active "
                                   f"(key {WS_KEY}, admin jan@shop.nl)"}]})
    responses.add(responses.GET, re.compile(rf"{re.escape(PRESTA)}/customers"), status=401,
                  body=body, content_type="application/json",
                  headers={"CF-Ray": "8c1f2e3d4a5b6c7d-AMS"})
    with pytest.raises(AuthenticationError) as caught:
        presta().list_records("customers", {})
    error = caught.value
    assert (error.status, error.code, error.request_id) == (401, "20", "8c1f2e3d4a5b6c7d-AMS")
    assert error.excerpt is not None and '"code": 20' in error.excerpt
    for text in (str(error), error.excerpt):
        assert WS_KEY not in text and "jan@shop.nl" not in text


@responses.activate
def test_the_counter_counts_every_attempt_on_both_platforms() -> None:
    woo_shop, presta_shop = woo(), presta()
    responses.add(responses.GET, re.compile(rf"{re.escape(WOO)}/customers"), status=502)
    responses.add(responses.GET, re.compile(rf"{re.escape(WOO)}/customers"), json=[],
                  headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    responses.add(responses.GET, re.compile(rf"{re.escape(PRESTA)}/customers"), status=500)
    responses.add(responses.GET, re.compile(rf"{re.escape(PRESTA)}/customers"), json=[])
    assert list(woo_shop.iter_customers()) == []
    assert presta_shop.list_records("customers", {}) == []
    assert woo_shop.client.requests_sent == 2 and presta_shop.client.requests_sent == 2


@responses.activate
def test_network_failures_become_shop_unreachable_without_a_request_id() -> None:
    responses.add(responses.GET, re.compile(rf"{re.escape(PRESTA)}/customers"),
                  body=requests.ConnectionError("Connection refused"))
    with pytest.raises(ShopUnreachable, match=r"connection refused \(after 3 attempts\)") as c:
        presta().list_records("customers", {})
    assert c.value.request_id is None and c.value.status is None


@responses.activate
def test_json_nested_too_deeply_is_not_a_shop_api_never_a_recursion_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    responses.add(responses.GET, re.compile(rf"{re.escape(WOO)}/orders"), body=deep,
                  content_type="application/json", headers={"X-WP-TotalPages": "1"})
    with pytest.raises(NotAShopAPI, match="nested too deeply"):
        list(woo().iter_orders())


def test_an_integer_of_5000_digits_stays_text_instead_of_failing_the_page() -> None:
    response = requests.Response()
    response.status_code = 200
    response._content = ('[{"id": ' + "7" * 5000 + '}, {"id": 8}]').encode()
    data = parse_json_body(response)
    assert data[0]["id"] == "7" * 5000 and data[1]["id"] == 8


@pytest.mark.parametrize("value", ["²", "١٢", "-3", "soon", "9" * 400])
def test_retry_after_garbage_is_unknown_or_too_long(value: str) -> None:
    after = parse_retry_after(value)
    assert after is None or after == float("inf")


def test_scrub_and_excerpt() -> None:
    assert scrub("mail Anna.Gast+x@Example.co.uk now, ws_key=SECRET1", "SECRET1") == \
        "mail A***@Example.co.uk now, ws_key=***"
    response = requests.Response()
    response._content = ("x" * 1000).encode()
    assert len(body_excerpt(response)) == 200
