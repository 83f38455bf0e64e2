"""Contract test: the same requests sent to the real WooCommerce 10.0.2 and to our sandbox must
agree on status code, error code and message, paging headers, and the field names and JSON
types of the bodies (values may differ). Every disagreement found is fixed in the sandbox; this
test keeps it from coming back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from woocommerce import API

from journeybridge.sandbox import Population, SandboxServer
from tests.realshop.woo import RealWoo
from tests.shapes import shape_differences

pytestmark = pytest.mark.real_woo

PAGING = ("X-WP-Total", "X-WP-TotalPages")


@dataclass(frozen=True)
class Case:
    name: str
    endpoint: str
    params: dict[str, Any] = field(default_factory=dict)
    method: str = "GET"
    body: Any = None
    key: str = "rw"  # rw, ro, bad-key, bad-secret


CASES = [
    Case("customers paging", "customers", {"per_page": 2, "orderby": "id", "order": "asc"}),
    Case("customers role=all", "customers", {"per_page": 5, "role": "all"}),
    Case("customers page past the end", "customers", {"per_page": 100, "page": 999}),
    Case("customers per_page=101", "customers", {"per_page": 101}),
    Case("customers page=0", "customers", {"page": 0}),
    Case("customers modified_after (ignored)", "customers",
         {"per_page": 3, "modified_after": "2030-01-01T00:00:00"}),
    Case("orders default list", "orders", {"per_page": 5, "orderby": "id", "order": "asc"}),
    Case("orders _fields nested", "orders",
         {"per_page": 3, "_fields": "id,status,billing.email,total"}),
    Case("orders status=any", "orders", {"per_page": 3, "status": "any"}),
    Case("orders status=checkout-draft", "orders", {"per_page": 3, "status": "checkout-draft"}),
    Case("orders status=trash", "orders", {"per_page": 3, "status": "trash"}),
    Case("orders status list", "orders", {"per_page": 3, "status": "pending,failed"}),
    Case("orders unknown status", "orders", {"status": "shipped"}),
    Case("orders modified_after gmt", "orders",
         {"per_page": 3, "modified_after": "2000-01-01T00:00:00", "dates_are_gmt": "true"}),
    Case("orders modified_after local", "orders",
         {"per_page": 3, "modified_after": "2000-01-01T00:00:00"}),
    Case("orders modified_after garbage", "orders", {"modified_after": "yesterday"}),
    Case("reviews", "products/reviews", {"per_page": 3}),
    Case("refunds collection", "refunds", {"per_page": 2, "orderby": "id", "order": "asc"}),
    Case("refunds modified_after gmt", "refunds",
         {"per_page": 2, "modified_after": "2000-01-01T00:00:00", "dates_are_gmt": "true"}),
    Case("missing order", "orders/999999"),
    Case("unknown route", "no-such-thing"),
    Case("bad key", "customers", key="bad-key"),
    Case("bad secret", "customers", key="bad-secret"),
    Case("read-only key writes", "customers/batch", method="POST",
         body={"update": [{"id": 1, "meta_data": [{"key": "jb_contract", "value": "1"}]}]},
         key="ro"),
    Case("batch of 101", "customers/batch", method="POST",
         body={"update": [{"id": i + 1} for i in range(101)]}),
    Case("batch unknown id", "customers/batch", method="POST",
         body={"update": [{"id": 999999, "meta_data": [{"key": "jb_contract",
                                                         "value": "1"}]}]}),
]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def _api(url: str, key: str, secret: str) -> API:
    return API(url=url, consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=60)


def _send(url: str, key: str, secret: str, ro: tuple[str, str], case: Case) -> Answer:
    if case.key == "ro":
        key, secret = ro
    elif case.key == "bad-key":
        key = "ck_" + "0" * 40
    elif case.key == "bad-secret":
        secret = "cs_" + "0" * 40
    api = _api(url, key, secret)
    params = dict(case.params)
    if case.method == "GET":
        response = api.get(case.endpoint, params=params)
    else:
        response = api.post(case.endpoint, case.body, params=params)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Answer(response.status_code, dict(response.headers), body)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(Population(300, seed=21)) as server:
        yield server


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sandbox_answers_like_the_real_shop(real_woo: RealWoo, sandbox: SandboxServer,
                                             case: Case) -> None:
    real = _send(real_woo.url, real_woo.key, real_woo.secret,
                 (real_woo.ro_key, real_woo.ro_secret), case)
    creds = sandbox.woo_credentials
    ours = _send(sandbox.url, creds.key, creds.secret, (creds.ro_key, creds.ro_secret), case)
    assert ours.status == real.status, (real.body, ours.body)
    if isinstance(real.body, dict) and "code" in real.body:
        assert isinstance(ours.body, dict)
        assert ours.body.get("code") == real.body["code"]
        assert ours.body.get("message") == real.body["message"]
        assert sorted(ours.body.get("data", {})) == sorted(real.body.get("data", {}))
    for header in PAGING:
        assert (header in ours.headers) == (header in real.headers), header
    if real.status < 300:
        assert shape_differences(real.body, ours.body) == []


def test_full_records_have_the_same_shape(real_woo: RealWoo, sandbox: SandboxServer) -> None:
    """Whole records of every kind, element by element: customers of every role, orders in
    every status (with refunds and line items), a single order, refunds, reviews."""
    creds = sandbox.woo_credentials
    real_api = _api(real_woo.url, real_woo.key, real_woo.secret)
    our_api = _api(sandbox.url, creds.key, creds.secret)
    for endpoint, params in (("customers", {"role": "all", "per_page": 20}),
                             ("orders", {"per_page": 50, "status": "any"}),
                             ("products/reviews", {"per_page": 10}),
                             ("refunds", {"per_page": 10})):
        real = real_api.get(endpoint, params=params).json()
        ours = our_api.get(endpoint, params=params).json()
        assert real and ours
        for ours_record in ours[:10]:
            for real_record in real[:10]:
                assert shape_differences(real_record, ours_record) == [], endpoint
    real_order = real_api.get("orders", params={"per_page": 1}).json()[0]
    our_order = our_api.get("orders", params={"per_page": 1}).json()[0]
    real_one = real_api.get(f"orders/{real_order['id']}").json()
    our_one = our_api.get(f"orders/{our_order['id']}").json()
    assert shape_differences(real_one, our_one) == []
