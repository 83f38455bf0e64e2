"""Bounded paging on both platforms (journeybridge.adapters.paging): lying or garbage totals, empty
pages, shops that ignore the page or the limit, a hard ceiling. ``responses`` for the
adapters, a tiny local HTTP server for the headline case over real sockets, and the helpers
on their own."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.paging import (
    NumberedPage,
    convert_records,
    numbered_pages,
    offset_pages,
)
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.woocommerce import PullReport, WooCommerceAdapter
from journeybridge.errors import ShopRequestError
from tests.recordings import recording

SHOP = "http://shop.test"
API = f"{SHOP}/wp-json/wc/v3"
KEY = "ck_" + "a" * 40
SECRET = "cs_" + "b" * 40
FAST = RetryPolicy(attempts=2, sleep=lambda _: None)


def _orders(ids: range | list[int]) -> list[dict[str, Any]]:
    template = recording("13")["body"]
    return [dict(template, id=i, number=str(i)) for i in ids]


def _serve_pages(real: int, per_page: int, headers: dict[str, str]) -> None:
    """Answer orders?page=N with page N of ``real`` full pages (then []), with ``headers``."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        page = int(parse_qs(urlsplit(request.url).query)["page"][0])
        ids = range((page - 1) * per_page + 1, page * per_page + 1) if page <= real else []
        return 200, headers, json.dumps(_orders(list(ids)))

    responses.add_callback(responses.GET, re.compile(rf"{re.escape(API)}/orders"),
                           callback=answer, content_type="application/json")


@responses.activate
def test_a_lying_total_pages_header_costs_one_request_past_the_record_count() -> None:
    adapter = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, per_page=10,
                                 concurrency=4, retry=FAST)
    _serve_pages(5, 10, {"X-WP-Total": "50", "X-WP-TotalPages": "1000000"})
    orders = list(adapter.iter_orders())
    assert len(orders) == 50
    assert len(responses.calls) == 6  # 5 pages, then one empty page past them


@pytest.mark.parametrize("garbage", ["²", "١٢", "-1", "many", "1e6", "9" * 40, ""])
@responses.activate
def test_garbage_count_headers_are_unknown_never_a_crash(garbage: str) -> None:
    adapter = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, per_page=10,
                                 concurrency=2, retry=FAST)
    _serve_pages(3, 10, {"X-WP-Total": garbage, "X-WP-TotalPages": garbage})
    assert len(list(adapter.iter_orders())) == 30
    assert len(responses.calls) <= 4 + 2  # read until the empty page, a window in flight


@responses.activate
def test_an_empty_page_stops_paging_whatever_the_headers_say() -> None:
    adapter = WooCommerceAdapter(SHOP, KEY, SECRET, rest_route=False, per_page=10,
                                 concurrency=1, retry=FAST)
    _serve_pages(2, 10, {"X-WP-Total": "1000", "X-WP-TotalPages": "100"})
    assert len(list(adapter.iter_orders())) == 20
    queries = [parse_qs(urlsplit(c.request.url).query) for c in responses.calls]
    paged = [q for q in queries if q["_fields"] != ["id"] and "include" not in q]
    assert len(paged) <= 3 + 2  # page 3 is empty: at most the burst after it
    # 20 of the 1,000 announced: the id-only scan for records that shifted is bounded too
    assert len(queries) - len(paged) <= 3 + 2


def test_a_shop_that_ignores_the_page_parameter_hits_the_ceiling() -> None:
    calls: list[int] = []

    def fetch(number: int) -> NumberedPage:
        calls.append(number)
        return NumberedPage(list(range(10)), None, None)

    with pytest.raises(ShopRequestError, match="paging did not end after 50 pages"):
        list(numbered_pages(fetch, per_page=10, concurrency=3, what="orders",
                            shop_url=SHOP, max_pages=50))
    assert max(calls) == 50


def test_a_short_first_page_without_headers_is_the_only_page() -> None:
    calls: list[int] = []

    def fetch(number: int) -> NumberedPage:
        calls.append(number)
        return NumberedPage([1, 2, 3], None, None)

    assert len(list(numbered_pages(fetch, per_page=10, concurrency=3, what="x",
                                   shop_url=SHOP))) == 1
    assert calls == [1]


def test_a_server_capping_per_page_is_read_by_its_own_page_size() -> None:
    def fetch(number: int) -> NumberedPage:  # asked for 100, serves 20; 95 records
        ids = list(range((number - 1) * 20, min(number * 20, 95)))
        return NumberedPage(ids, 95, 5)

    pages = list(numbered_pages(fetch, per_page=100, concurrency=2, what="x", shop_url=SHOP))
    assert sum(len(p.records) for p in pages) == 95


def test_offset_pages_stop_at_the_first_short_page_and_at_the_ceiling() -> None:
    offsets: list[int] = []

    def fetch(offset: int) -> tuple[int, int]:
        offsets.append(offset)
        return (10 if offset < 30 else 4), offset

    assert list(offset_pages(fetch, size=10, concurrency=2, what="x", shop_url=SHOP)) == \
        [0, 10, 20, 30]
    assert max(offsets) <= 50

    def endless(offset: int) -> tuple[int, int]:
        return 10, offset

    with pytest.raises(ShopRequestError, match="paging did not end after 20 pages"):
        list(offset_pages(endless, size=10, concurrency=3, what="x", shop_url=SHOP,
                          max_pages=20))


@responses.activate
def test_a_prestashop_that_ignores_limit_is_read_once() -> None:
    adapter = PrestaShopAdapter(SHOP, "K" * 32, page_size=2, concurrency=2, retry=FAST)
    rows = [{"id": i} for i in range(1, 8)]
    responses.add(responses.GET, re.compile(rf"{re.escape(SHOP)}/api/customers"),
                  json={"customers": rows})
    pages = list(adapter.pages("customers", {"display": "full"}))
    assert [len(p) for p in pages] == [7] and len(responses.calls) == 1


def test_the_convert_step_deduplicates_and_reports_every_failure() -> None:
    def convert(raw: dict[str, Any]) -> str:
        if raw.get("boom"):
            raise RecursionError("maximum recursion depth exceeded")
        return str(raw["id"])

    skipped: list[str] = []
    seen: set[str] = set()
    rows: list[Any] = [{"id": 1}, {"id": "1"}, "a string", {"id": 2, "boom": True},
                       {"id": 3}, 17, {"id": "7" * 5000, "boom": True}]
    assert list(convert_records(rows, convert, kind="woocommerce order", skipped=skipped,
                                seen=seen)) == ["1", "3"]
    assert len(skipped) == 4
    assert skipped[0] == ("invalid woocommerce order (no id): field '(record)': not a JSON "
                          "object (got str)")
    assert skipped[1].startswith("invalid woocommerce order 2: field '(record)': unreadable "
                                 "(RecursionError")
    assert all(len(s) <= 300 and "\n" not in s for s in skipped)


# -- the headline case over real HTTP ------------------------------------------------------------

class _LyingShop(BaseHTTPRequestHandler):
    """Five real pages of 100 orders, ``X-WP-TotalPages: 1000000`` on every answer."""

    protocol_version = "HTTP/1.1"
    served: ClassVar[list[int]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        page = int(query.get("page", ["1"])[0])
        per_page = int(query.get("per_page", ["10"])[0])
        self.served.append(page)
        ids = list(range((page - 1) * per_page + 1, page * per_page + 1)) if page <= 5 else []
        body = json.dumps(_orders(ids)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("X-WP-Total", str(5 * per_page))
        self.send_header("X-WP-TotalPages", "1000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def lying_shop() -> Iterator[str]:
    _LyingShop.served = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LyingShop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_total_pages_1000000_with_5_real_pages_over_http(lying_shop: str) -> None:
    report = PullReport()
    with WooCommerceAdapter(lying_shop, KEY, SECRET, rest_route=False, concurrency=4,
                            retry=FAST) as adapter:
        orders = list(adapter.iter_orders(report))
        sent = adapter.client.requests_sent
    assert len(orders) == 500 and report.skipped == []
    assert sent == 6 and sorted(_LyingShop.served) == [1, 2, 3, 4, 5, 6]
