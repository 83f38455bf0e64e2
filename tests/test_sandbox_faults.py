"""Fault injection over real HTTP: each fault appears as configured and never changes state."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import woocommerce

from journeybridge.sandbox import Faults, OrderStatus, Population, SandboxServer


def _api(server: SandboxServer) -> woocommerce.API:
    c = server.woo_credentials
    return woocommerce.API(server.url, c.key, c.secret, version="wc/v3", timeout=10)


def test_rate_limit_every_nth_request() -> None:
    with SandboxServer(Population(50, seed=1), faults=Faults(rate_limit_every=3)) as server:
        api = _api(server)
        statuses = [api.get("customers").status_code for _ in range(6)]
        assert statuses == [200, 200, 429, 200, 200, 429]
        r = requests.get(server.url + "/wp-json/wc/v3/customers", timeout=10)
        assert r.status_code == 401  # the 7th request is an ordinary one
        r = api.get("customers")
        r = api.get("customers")
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "1"
        assert r.headers["Content-Type"].startswith("text/html")
        assert server.stats.by_fault()["rate_limit"] == 3


def test_server_errors_are_html_and_503_has_retry_after() -> None:
    with SandboxServer(Population(50, seed=1),
                       faults=Faults(error_5xx_rate=1.0, seed=4)) as server:
        api = _api(server)
        seen = {}
        for _ in range(40):
            r = api.get("orders")
            seen[r.status_code] = r
            assert r.headers["Content-Type"].startswith("text/html")
        assert set(seen) == {500, 502, 503, 504}
        assert seen[503].headers["Retry-After"] == "1"
        assert "Retry-After" not in seen[500].headers


def test_html_instead_of_json() -> None:
    with SandboxServer(Population(50, seed=1),
                       faults=Faults(html_instead_of_json_rate=1.0)) as server:
        r = _api(server).get("orders")
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/html")
        with pytest.raises(requests.JSONDecodeError):
            r.json()


def test_truncated_body_and_reset() -> None:
    faults = Faults(truncated_body_rate=1.0)
    with SandboxServer(Population(50, seed=1), faults=faults) as server, pytest.raises(
            requests.RequestException):
        _api(server).get("orders", params={"per_page": 20})
    with SandboxServer(Population(50, seed=1), faults=Faults(reset_rate=1.0)) as server:
        with pytest.raises(requests.ConnectionError):
            _api(server).get("orders")
        assert server.stats.by_status()[0] == 1


def test_php_notice_prefix_before_json() -> None:
    with SandboxServer(Population(50, seed=1), faults=Faults(php_notice_rate=1.0)) as server:
        r = _api(server).get("orders", params={"per_page": 2})
        assert r.status_code == 200
        assert r.text.startswith("<br />")
        payload = r.text[r.text.index("["):]
        assert len(json.loads(payload)) == 2


def test_malformed_records() -> None:
    pop = Population(50, seed=1)
    faults = Faults(malformed_order_ids=frozenset({101}), malformed_customer_ids=frozenset({5}))
    with SandboxServer(pop, faults=faults) as server:
        api = _api(server)
        assert api.get("orders/101").json()["total"] == "abc"
        assert api.get("orders/102").json()["total"] != "abc"
        assert "id" not in api.get("customers/5").json()
        listed = api.get("customers", params={"include": "5,6", "orderby": "id",
                                              "role": "all"}).json()
        assert ["id" in c for c in listed] == [False, True]


def test_page_latency_does_not_block_other_requests() -> None:
    with SandboxServer(Population(50, seed=1), faults=Faults(page_latency_ms=300)) as server:
        api = _api(server)
        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(lambda _: api.get("customers").status_code, range(4)))
        elapsed = time.perf_counter() - start
        assert codes == [200] * 4
        assert 0.3 <= elapsed < 1.0


def test_a_faulted_write_changes_nothing() -> None:
    pop = Population(50, seed=1)
    target = next(o for o in pop.orders() if o.status is OrderStatus.PROCESSING)
    with SandboxServer(pop, faults=Faults(error_5xx_rate=1.0)) as server:
        r = _api(server).put(f"orders/{target.id}", {"status": "completed"})
        assert r.status_code >= 500
    after = pop.order(target.id)
    assert after == target


def test_fault_sequence_is_reproducible() -> None:
    def run() -> list[int]:
        faults = Faults(error_5xx_rate=0.3, rate_limit_every=4, seed=9)
        with SandboxServer(Population(50, seed=1), faults=faults) as server:
            api = _api(server)
            return [api.get("customers").status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert 200 in first
    assert 429 in first
