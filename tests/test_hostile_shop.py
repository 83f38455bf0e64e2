"""A hostile shop cannot crash a run or make it write wrong data (issue 17): hostile payloads
served by the real sandbox server over HTTP (its payload-rewrite hook) and read by
``journeybridge sync`` through the CLI, in process.

A small generator makes the payloads: hypothesis strategies over the records each endpoint
returns (WooCommerce customers, orders and reviews; PrestaShop customers, orders, carts and
order histories). Each hostile record is a copy of one the shop really sent, under a fresh id,
with fields replaced by hostile values, and always one value the issue found unreadable (its
"poison"), so a correct run must skip it: the store and the shop then end exactly as after a
clean run of the same shop. Beside them the issue's specific bodies and headers: JSON nested
100,000 deep, HTML instead of JSON, lying ``X-WP-TotalPages``, batch answers whose ``error``
is a string, ``]]>`` and control characters in PrestaShop names.

Per case: no traceback, exit 0 or 1, a summary line and the run recorded, every good record
pulled and nothing else stored, the shop holding exactly what a clean run writes (or, where the
shop's answer to a write was lost, what the next run converges to), and ``journeys`` works.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeybridge.adapters.http import RetryPolicy
from journeybridge.config import load_config
from journeybridge.sandbox import (
    HttpRequest,
    HttpResponse,
    PayloadRewrite,
    Population,
    SandboxServer,
)
from journeybridge.state import open_store
from tests.sync_support import CLASSIFY_AT, NOW, Shop, invoke, sandbox_shop, shop_meta, summary
from tests.test_sync_presta import journey_groups, presta_shop

WOO_SIZE, PRESTA_SIZE, SEED = 30, 8, 5
FRESH_ID = 990_001  # injected records live far above every id the sandbox hands out
BIG_ID = "7" * 5000  # a 5,000-digit JSON number: json.dumps cannot write it, so it is spliced
BIG_TOKEN = "__journeybridge_big_id__"
SETTINGS = settings(max_examples=4, deadline=30_000, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


# -- the generator ---------------------------------------------------------------------------

# values a shop (or a plugin, or a broken migration) has been seen to put where numbers, dates
# and ids go; the issue's own values first
SPECIFIC_VALUES: list[Any] = [
    "²", BIG_TOKEN, "1e309", "1e26", "-1e309", "NaN", "Infinity", "0001-01-01T00:00:00",
    "9999-12-31T23:59:59", "0000-00-00 00:00:00", "0001-01-01 00:00:00", "9999-12-31 23:59:59",
    "", " ", "]]>", "a]]></b>", "\x00", "\x01\x02", "\r\n", "１２", "٣", "1_000", "0x10",
    "<b>1</b>", "anna@example.com", 10**40, -(10**40), -1, 0, True, False, None, [], {},
    [[[[["deep"]]]]], {"id": {"id": 1}}, 1.5, -0.0,
]

hostile_value: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(SPECIFIC_VALUES),
    st.text(max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=6),
    st.integers(min_value=-(10**30), max_value=-1),
    st.integers(min_value=10**12, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.booleans(),
    st.none(),
)


@dataclass(frozen=True)
class Endpoint:
    """One list endpoint: where it is served, the fields its records carry (dotted paths into
    nested lists and objects) and the values known to make one of its records unreadable."""

    platform: str
    path: str
    node: str  # PrestaShop's JSON wraps a list in {node: [...]}; "" for WooCommerce
    fields: tuple[str, ...]
    poisons: tuple[tuple[str, Any], ...]


WOO_DATES = ("date_created", "date_created_gmt", "date_modified", "date_modified_gmt")
ENDPOINTS = {
    "woo customers": Endpoint(
        "woocommerce", "/wp-json/wc/v3/customers", "",
        ("id", "email", "first_name", "last_name", "role", *WOO_DATES, "billing",
         "billing.email", "meta_data", "meta_data.0.value"),
        (("id", "²"), ("id", BIG_TOKEN), ("id", "abc"), ("id", None),
         ("date_created_gmt", "9999-12-31T23:59:59"), ("date_created_gmt", "0001-01-01T00:00:00"))),
    "woo orders": Endpoint(
        "woocommerce", "/wp-json/wc/v3/orders", "",
        ("id", "number", "status", "currency", *WOO_DATES, "date_paid_gmt",
         "date_completed_gmt", "total", "discount_total", "shipping_total", "customer_id",
         "billing", "billing.email", "line_items", "line_items.0.quantity",
         "line_items.0.product_id", "line_items.0.total", "refunds", "meta_data"),
        (("id", "²"), ("id", BIG_TOKEN), ("customer_id", "²"), ("total", "1e309"),
         ("total", "1e26"), ("date_created_gmt", "9999-12-31T23:59:59"),
         ("line_items.0.quantity", "²"))),
    "woo reviews": Endpoint(
        "woocommerce", "/wp-json/wc/v3/products/reviews", "",
        ("id", "date_created", "date_created_gmt", "product_id", "status", "reviewer_email",
         "rating", "verified"),
        (("id", "²"), ("id", BIG_TOKEN), ("date_created_gmt", "0001-01-01T00:00:00"),
         ("date_created_gmt", "9999-12-31T23:59:59"))),
    "presta customers": Endpoint(
        "prestashop", "/api/customers", "customers",
        ("id", "id_default_group", "email", "firstname", "lastname", "date_add", "date_upd",
         "deleted", "active", "is_guest", "newsletter", "associations",
         "associations.groups.0.id"),
        (("id", "²"), ("id", BIG_TOKEN), ("date_add", "0001-01-01 00:00:00"),
         ("date_upd", "9999-12-31 23:59:59"))),
    "presta orders": Endpoint(
        "prestashop", "/api/orders", "orders",
        ("id", "id_customer", "id_cart", "id_currency", "current_state", "date_add",
         "date_upd", "total_paid", "total_paid_tax_incl", "total_paid_real", "valid",
         "associations", "associations.order_rows.0.product_quantity"),
        (("id", "²"), ("id", BIG_TOKEN), ("id_customer", "²"),
         ("total_paid_tax_incl", "1e26"), ("total_paid_tax_incl", "1e309"),
         ("date_add", "9999-12-31 23:59:59"))),
    "presta carts": Endpoint(
        "prestashop", "/api/carts", "carts",
        ("id", "id_customer", "id_guest", "id_currency", "date_add", "date_upd",
         "associations", "associations.cart_rows.0.quantity",
         "associations.cart_rows.0.id_product"),
        (("id", "²"), ("id", BIG_TOKEN), ("associations.cart_rows.0.quantity", "²"),
         ("date_add", "0001-01-01 00:00:00"))),
    "presta order_histories": Endpoint(
        "prestashop", "/api/order_histories", "order_histories",
        ("id", "id_order", "id_order_state", "date_add"),
        (("id", "²"), ("id", BIG_TOKEN), ("id_order", "²"),
         ("date_add", "9999-12-31 23:59:59"), ("id_order_state", "²"))),
}


@dataclass(frozen=True)
class Hostile:
    """One hostile record to inject: a copy of the page's first record under a fresh id, its
    ``changes`` applied in order, then its ``poison``; or, with ``whole``, that value as the
    record itself (a string, a number, a list where an object goes)."""

    changes: tuple[tuple[str, Any], ...] = ()
    poison: tuple[str, Any] | None = None
    whole: Any = None

    def build(self, base: Any, record_id: int) -> Any:
        """The record to serve."""
        if self.poison is None:
            return self.whole
        record = copy.deepcopy(base) if isinstance(base, dict) else {}
        record["id"] = record_id
        for path, value in (*self.changes, self.poison):
            _set_path(record, path, value)
        return record


def hostile_records(endpoint: Endpoint) -> st.SearchStrategy[list[Hostile]]:
    """1-3 hostile records for ``endpoint``."""
    one = st.one_of(
        st.builds(Hostile,
                  changes=st.lists(st.tuples(st.sampled_from(endpoint.fields), hostile_value),
                                   max_size=4).map(tuple),
                  poison=st.sampled_from(endpoint.poisons)),
        st.builds(Hostile, whole=st.one_of(st.text(max_size=8), st.integers(), st.none(),
                                           st.lists(st.integers(), max_size=2))),
    )
    return st.lists(one, min_size=1, max_size=3)


def _set_path(record: dict[str, Any], path: str, value: Any) -> None:
    here: Any = record
    parts = path.split(".")
    for part in parts[:-1]:
        nxt = here[int(part)] if isinstance(here, list) and part.isdigit() and int(part) < len(
            here) else here.get(part) if isinstance(here, dict) else None
        if not isinstance(nxt, (dict, list)):
            nxt = [{}] if parts[parts.index(part) + 1].isdigit() else {}
            if isinstance(here, dict):
                here[part] = nxt
            elif isinstance(here, list) and part.isdigit():
                here.append(nxt)
        here = nxt
    last = parts[-1]
    if isinstance(here, dict):
        here[last] = value
    elif isinstance(here, list) and last.isdigit():
        if int(last) < len(here):
            here[int(last)] = value
        else:
            here.append(value)


def _dump(data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False)
    return text.replace(f'"{BIG_TOKEN}"', BIG_ID).encode()


def _page(request: HttpRequest) -> int:
    query = parse_qs(request.query)
    if "page" in query:
        return int(query["page"][0])
    limit = query.get("limit", ["0,1"])[0]
    return 1 if limit.split(",")[0] in ("0", "") else 2


def _is_full_list(request: HttpRequest, endpoint: Endpoint) -> bool:
    query = parse_qs(request.query)
    if endpoint.platform == "prestashop":
        return "display" in query and "filter[id]" not in query and "schema" not in query
    return query.get("_fields", ["id,"])[0] != "id"


def inject(endpoint: Endpoint, hostile: list[Hostile]) -> PayloadRewrite:
    """A rewrite serving ``hostile`` after the records of ``endpoint``'s first page."""
    def rewrite(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (request.method != "GET" or request.path != endpoint.path or response.status != 200
                or _page(request) != 1 or not _is_full_list(request, endpoint)):
            return response
        body = json.loads(response.body)
        rows = body if not endpoint.node else (body or {}).get(endpoint.node, [])
        base = rows[0] if rows else {}
        extra = [h.build(base, FRESH_ID + i) for i, h in enumerate(hostile)]
        rows = [*rows, *extra]
        return HttpResponse(response.status, response.headers,
                            _dump(rows if not endpoint.node else {endpoint.node: rows}))
    return rewrite


# -- running a case --------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one run left behind: its exit code and summary row, the store, the shop."""

    exit_code: int
    row: dict[str, Any]
    output: str
    records: dict[str, dict[str, str]]
    stages: dict[str, Any]
    runs: list[str]
    shop: Any
    journeys: int


@contextmanager
def running(platform: str, directory: Path,
            prepare: Callable[[Population], None] | None = None) -> Iterator[Shop]:
    """A fresh sandbox shop of ``platform``, the same population every time."""
    if platform == "woocommerce":
        with sandbox_shop(directory, size=WOO_SIZE, seed=SEED) as shop:
            if prepare is not None:
                prepare(shop.population)
            yield shop
    else:
        with presta_shop(directory, size=PRESTA_SIZE, seed=SEED) as shop:
            if prepare is not None:
                prepare(shop.population)
            yield shop


def shop_state(platform: str, shop: Shop) -> Any:
    """What journeybridge wrote into the shop."""
    return shop_meta(shop.population) if platform == "woocommerce" else journey_groups(shop)


def sync_once(platform: str, shop: Shop) -> Outcome:
    """One ``journeybridge sync`` and everything it left behind."""
    result = invoke(["sync", "--now", CLASSIFY_AT, "--config", str(shop.config)], shop.env)
    output = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception), output[-2000:])
    assert "Traceback" not in output, output[-3000:]
    row = summary(result.stdout)["shops"][0]  # the summary line, always
    with open_store(load_config(shop.config).state_url()) as store:
        records = {kind: rows for kind, rows in store.load_records("sand").items() if rows}
        stages = store.stages("sand")
        runs = [run.status for run in store.runs("sand")]
    journeys = invoke(["journeys", "--now", CLASSIFY_AT, "--config", str(shop.config)],
                      shop.env)
    assert "Traceback" not in journeys.stdout + journeys.stderr
    return Outcome(result.exit_code, row, output, records, stages, runs,
                   shop_state(platform, shop), journeys.exit_code)


_CLEAN: dict[str, Outcome] = {}


def clean(platform: str) -> Outcome:
    """A clean run of the same shop (once per platform and test session)."""
    if platform not in _CLEAN:
        with tempfile.TemporaryDirectory() as tmp, running(platform, Path(tmp)) as shop:
            outcome = sync_once(platform, shop)
        assert outcome.exit_code == 0 and outcome.row["skipped"] == 0, outcome.output
        _CLEAN[platform] = outcome
    return _CLEAN[platform]


def _ids(records: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    return {kind: set(rows) for kind, rows in records.items()}


def assert_survived(outcome: Outcome, platform: str, *, skipped: int | None = None,
                    converge: Shop | None = None, same_data: bool = True) -> None:
    """The per-case guarantees against a clean run of the same shop."""
    base = clean(platform)
    assert outcome.exit_code in (0, 1), (outcome.exit_code, outcome.output[-2000:])
    assert outcome.row["status"] in ("ok", "partial")
    assert outcome.runs and outcome.runs[0] == outcome.row["status"]  # the run is recorded
    assert outcome.journeys == 0
    if skipped is not None:
        assert outcome.row["skipped"] == skipped, outcome.row
        if skipped:
            assert outcome.exit_code == 1 and outcome.row["status"] == "partial"
    # every good record pulled, nothing unreadable stored
    if same_data:
        assert outcome.records == base.records
    else:  # the case changed some records in the shop itself
        assert _ids(outcome.records) == _ids(base.records)
    if converge is not None:  # a write's answer was lost: the next run finishes the job
        outcome = sync_once(platform, converge)
        assert outcome.exit_code == 0, outcome.output[-2000:]
    assert outcome.stages == base.stages
    assert outcome.shop == base.shop  # nothing written that a clean run would not write


def hostile_run(platform: str, rewrite: PayloadRewrite | None,
                prepare: Callable[[Population], None] | None = None, *,
                skipped: int | None = None, converge: bool = False, same_data: bool = True,
                check: Callable[[Outcome, SandboxServer], None] | None = None) -> Outcome:
    """Run one case end to end and assert the guarantees; returns its outcome."""
    with tempfile.TemporaryDirectory() as tmp, running(platform, Path(tmp), prepare) as shop:
        shop.server.rewrite = rewrite
        outcome = sync_once(platform, shop)
        if check is not None:
            check(outcome, shop.server)
        shop.server.rewrite = None
        assert_survived(outcome, platform, skipped=skipped,
                        converge=shop if converge else None, same_data=same_data)
    return outcome


# -- generated records -----------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ENDPOINTS))
@SETTINGS
@given(data=st.data())
def test_generated_hostile_records_are_skipped_and_change_nothing(name: str,
                                                                  data: st.DataObject) -> None:
    endpoint = ENDPOINTS[name]
    hostile = data.draw(hostile_records(endpoint), label="hostile")
    outcome = hostile_run(endpoint.platform, inject(endpoint, hostile), skipped=len(hostile))
    # one line per skipped record on stderr, naming the kind; no e-mail address in it
    lines = [line for line in outcome.output.splitlines() if "invalid " in line]
    assert len(lines) >= len(hostile)
    assert not re.search(r"[\w.]+@example\.(com|org|net)", "\n".join(lines))


# -- the issue's specific values -------------------------------------------------------------

ISSUE_RECORDS = [
    ("woo customers", Hostile(poison=("id", "²"))),
    ("woo customers", Hostile(poison=("id", BIG_TOKEN))),
    ("woo orders", Hostile(poison=("customer_id", "²"))),
    ("woo orders", Hostile(poison=("line_items.0.quantity", "²"))),
    ("woo orders", Hostile(poison=("total", "1e309"))),
    ("woo orders", Hostile(poison=("total", "1e26"))),
    ("woo orders", Hostile(changes=(("date_created_gmt", None),),
                           poison=("date_created", "0001-01-01T00:30:00"))),
    ("woo orders", Hostile(poison=("date_created_gmt", "9999-12-31T23:59:59"))),
    ("woo customers", Hostile(whole="a string")),
    ("presta carts", Hostile(poison=("associations.cart_rows.0.quantity", "²"))),
    ("presta customers", Hostile(poison=("id", BIG_TOKEN))),
    ("presta orders", Hostile(poison=("total_paid_tax_incl", "1e309"))),
    ("presta orders", Hostile(poison=("total_paid_tax_incl", "1e26"))),
    ("presta order_histories", Hostile(poison=("date_add", "0001-01-01 00:00:00"))),
]


ISSUE_ENDPOINTS = sorted({name for name, _ in ISSUE_RECORDS})


@pytest.mark.parametrize("name", ISSUE_ENDPOINTS)
def test_the_issues_values_are_skipped_and_change_nothing(name: str) -> None:
    endpoint = ENDPOINTS[name]
    hostile = [h for n, h in ISSUE_RECORDS if n == name]
    outcome = hostile_run(endpoint.platform, inject(endpoint, hostile), skipped=len(hostile))
    for h in hostile:  # each one reported, naming a field that is wrong
        fields = [p.split(".")[-1] for p, _ in (*h.changes, h.poison)] if h.poison else [
            "(record)"]
        assert any(f"{field}'" in outcome.output for field in fields), fields


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without their backoff waits (every attempt still made): the runs are in
    process, so this reaches the adapters' policy."""
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


def _body_once(path: str, body: bytes, content_type: str = "application/json",
               times: int = 1) -> PayloadRewrite:
    served = [0]

    def rewrite(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.method == "GET" and request.path == path and served[0] < times:
            served[0] += 1
            return HttpResponse(200, [("Content-Type", content_type)], body)
        return response
    return rewrite


DEEP = ('[{"id": 1, "meta_data": ' + "[" * 100_000 + "]" * 100_000 + "}]").encode()
HTML = b"<!DOCTYPE html><html><body><h1>Briefly unavailable</h1></body></html>"


@pytest.mark.parametrize(("platform", "path", "body", "content_type"), [
    ("woocommerce", "/wp-json/wc/v3/customers", DEEP, "application/json"),
    ("woocommerce", "/wp-json/wc/v3/orders", HTML, "text/html; charset=UTF-8"),
    ("woocommerce", "/wp-json/wc/v3/products/reviews", b"", "application/json"),
    ("prestashop", "/api/orders", b'{"orders": ' + DEEP + b"}", "application/json"),
    ("prestashop", "/api/customers", HTML, "text/html; charset=UTF-8"),
], ids=["woo-deep", "woo-html", "woo-empty-body", "presta-deep", "presta-html"])
def test_an_unreadable_body_once_is_retried(platform: str, path: str, body: bytes,
                                            content_type: str, quick_retries: None) -> None:
    hostile_run(platform, _body_once(path, body, content_type), skipped=0)


@pytest.mark.parametrize(("platform", "path", "body"), [
    ("woocommerce", "/wp-json/wc/v3/products/reviews", DEEP),
    ("prestashop", "/api/carts", HTML),
], ids=["woo-deep", "presta-html"])
def test_an_unreadable_body_every_time_fails_the_run_in_one_line(
        platform: str, path: str, body: bytes, quick_retries: None) -> None:
    with tempfile.TemporaryDirectory() as tmp, running(platform, Path(tmp)) as shop:
        shop.server.rewrite = _body_once(path, body, times=10**6)
        result = invoke(["sync", "--now", CLASSIFY_AT, "--config", str(shop.config)],
                        shop.env)
        output = result.stdout + result.stderr
        assert "Traceback" not in output
        assert result.exit_code == 3, output[-2000:]  # the shop answers nonsense: not a shop
        row = summary(result.stdout)["shops"][0]
        assert row["status"] == "failed" and row["written"] == 0
        assert "\n" not in row["error"] and len(row["error"]) < 400
        assert shop_state(platform, shop) == shop_state(platform, shop) and not any(
            shop_state(platform, shop).values())  # nothing written
        with open_store(load_config(shop.config).state_url()) as store:
            assert [r.status for r in store.runs("sand")] == ["failed"]
        shop.server.rewrite = None
        listed = invoke(["journeys", "--now", CLASSIFY_AT, "--config", str(shop.config)],
                        shop.env)
        assert listed.exit_code == 0 and "Traceback" not in listed.stdout + listed.stderr


@pytest.mark.parametrize(("platform", "path", "body"), [
    ("woocommerce", "/wp-json/wc/v3/products/reviews", b'["a", "b", 3, null]'),
    ("prestashop", "/api/carts", b'{"carts": ["a", "b", 3, null]}'),
], ids=["woo-reviews", "presta-carts"])
def test_a_page_of_strings_is_skipped_record_by_record(platform: str, path: str,
                                                       body: bytes) -> None:
    # the shop sends no good record on that page at all: four records skipped and reported,
    # the run partial and recorded, everything else as in a clean run
    with tempfile.TemporaryDirectory() as tmp, running(platform, Path(tmp)) as shop:
        shop.server.rewrite = _body_once(path, body, times=10**6)
        outcome = sync_once(platform, shop)
    base = clean(platform)
    assert outcome.exit_code == 1 and outcome.row["skipped"] == 4, outcome.row
    assert outcome.runs == ["partial"] and outcome.journeys == 0
    assert outcome.output.count("not a JSON object") >= 4
    kind = "review" if platform == "woocommerce" else "cart"
    assert {k: v for k, v in outcome.records.items() if k != kind} == {
        k: v for k, v in base.records.items() if k != kind}


def _headers(path: str, change: Callable[[HttpRequest, HttpResponse], HttpResponse | None]
             ) -> PayloadRewrite:
    def rewrite(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.method == "GET" and request.path == path:
            return change(request, response) or response
        return response
    return rewrite


def _total_pages(value: str) -> Callable[[HttpRequest, HttpResponse], HttpResponse | None]:
    def change(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        headers = [(k, v) for k, v in response.headers if k.lower() != "x-wp-totalpages"]
        return HttpResponse(response.status, [*headers, ("X-WP-TotalPages", value)],
                            response.body)
    return change


def _requests_to(server: SandboxServer, path: str) -> int:
    return server.stats.by_path().get(path, 0)


@pytest.mark.parametrize("value", ["²", "1000000", "-3"])
def test_a_lying_total_pages_header_costs_at_most_a_page_more(value: str) -> None:
    orders = "/wp-json/wc/v3/orders"
    real_pages = -(-len(clean("woocommerce").records["order"]) // 100)

    def check(outcome: Outcome, server: SandboxServer) -> None:
        assert _requests_to(server, orders) <= real_pages + 2, server.stats.by_path()

    hostile_run("woocommerce", _headers(orders, _total_pages(value)), skipped=0, check=check)


def test_empty_pages_stop_the_loop() -> None:
    # every page past the first answers [] while the headers promise a million pages
    reviews = "/wp-json/wc/v3/products/reviews"

    def change(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return HttpResponse(200, [*response.headers, ("X-WP-TotalPages", "1000000")],
                            response.body if _page(request) == 1 else b"[]")

    def check(outcome: Outcome, server: SandboxServer) -> None:
        assert _requests_to(server, reviews) <= 2

    hostile_run("woocommerce", _headers(reviews, change), skipped=0, check=check)


def _batch(answer: Callable[[list[Any]], Any]) -> PayloadRewrite:
    def rewrite(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.method == "POST" and request.path.endswith("/customers/batch"):
            updated = json.loads(response.body).get("update", [])
            return HttpResponse(200, response.headers, json.dumps(answer(updated)).encode())
        return response
    return rewrite


@pytest.mark.parametrize("answer", [
    lambda rows: {"update": [{"id": rows[0]["id"], "error": "Invalid ID."}, *rows[1:]]},
    lambda rows: {"update": [{"id": rows[0]["id"], "error": 42}, "garbage", *rows[2:]]},
    lambda rows: {"update": "nope"},
    lambda rows: ["not", "an", "object"],
], ids=["error-a-string", "error-a-number-and-a-string-row", "update-a-string", "a-list"])
def test_a_batch_answer_of_the_wrong_shape_fails_those_writes_only(
        answer: Callable[[list[Any]], Any]) -> None:
    # the shop did write (the answer was mangled afterwards): the run reports the writes it
    # cannot confirm, exit 1, and the next run ends the shop exactly as a clean run does
    outcome = hostile_run("woocommerce", _batch(answer), skipped=0, converge=True)
    assert outcome.exit_code == 1 and outcome.row["failed"] >= 1


def _rename(customer_id: int, **names: str) -> Callable[[Population], None]:
    def prepare(population: Population) -> None:
        population.update_customer(customer_id, **names, at=NOW)
    return prepare


@pytest.mark.parametrize(("names", "why"), [
    ({"first_name": "Jo\x01hn"}, "holds U+0001, a character an XML document cannot carry"),
    ({"first_name": "A]]>B", "last_name": "x]]>"}, "lastname is not valid"),
], ids=["control-character", "cdata-end"])
def test_prestashop_names_the_shop_cannot_take_back_leave_that_row_alone(
        names: dict[str, str], why: str) -> None:
    # read exactly (the ]]> inside PrestaShop's CDATA included); the row cannot go back (XML
    # 1.0 cannot carry U+0001; PrestaShop's own name validation refuses ]]>): reported, that
    # row left untouched, every other row written as in a clean run
    victim = 4
    with tempfile.TemporaryDirectory() as tmp, \
            running("prestashop", Path(tmp), _rename(victim, **names)) as shop:
        outcome = sync_once("prestashop", shop)
    base = clean("prestashop")
    assert outcome.exit_code == 1 and outcome.row["failed"] == 1, outcome.row
    assert outcome.runs == ["partial"] and outcome.journeys == 0
    assert _ids(outcome.records) == _ids(base.records)
    stored = json.loads(outcome.records["customer"][str(victim)])
    assert {k: stored[k] for k in names} == names  # read exactly
    assert outcome.shop[victim] == [] != base.shop[victim]  # left untouched
    assert {k: v for k, v in outcome.shop.items() if k != victim} == {
        k: v for k, v in base.shop.items() if k != victim}
    assert f"customer {victim}" in outcome.output and why in outcome.output


# -- stored records that no longer decode ------------------------------------------------------

@pytest.mark.parametrize(("damage", "quarantined"), [
    (lambda data: "not json {", True),
    (lambda data: "[" * 100_000 + "]" * 100_000, True),
    (lambda data: json.dumps({**json.loads(data), "total": "1e309"}), True),
    (lambda data: json.dumps({**json.loads(data), "total": "1e26"}), True),
    (lambda data: json.dumps({**json.loads(data), "lines": "x"}), True),
    # odd but decodable: the run and journeys go on as usual
    (lambda data: json.dumps({**json.loads(data), "created_at": "0001-01-01T00:00:00Z"}),
     False),
    (lambda data: json.dumps({**json.loads(data), "number": "7" * 5000}), False),
], ids=["not-json", "nested-100000", "total-1e309", "total-1e26", "lines-a-string",
        "year-0001", "number-5000-digits"])
def test_a_stored_record_that_no_longer_decodes_is_quarantined_and_the_run_goes_on(
        damage: Callable[[str], str], quarantined: bool) -> None:
    import sqlite3

    with tempfile.TemporaryDirectory() as tmp, running("woocommerce", Path(tmp)) as shop:
        first = sync_once("woocommerce", shop)
        assert first.exit_code == 0
        # an old order of a registered customer: no incremental pull reads it again
        order = min((o for o in shop.population.orders(include_trash=False) if o.customer_id),
                    key=lambda o: o.date_modified)
        path = load_config(shop.config).state_url().removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            (data,) = db.execute("SELECT data FROM records WHERE kind = 'order' AND id = ?",
                                 (str(order.id),)).fetchone()
            db.execute("UPDATE records SET data = ? WHERE kind = 'order' AND id = ?",
                       (damage(data), str(order.id)))
            # as a change to one of their other records would: the next run rebuilds this
            # person from what the store holds
            db.execute("UPDATE people SET stale = 1 WHERE person_key = ?",
                       (f"customer:{order.customer_id}",))
        db.close()
        later = sync_once("woocommerce", shop)
        assert later.journeys == 0
        with sqlite3.connect(path) as db:
            held = db.execute("SELECT kind, id FROM quarantine").fetchall()
        db.close()
        if not quarantined:
            assert later.exit_code == 0 and held == [], later.output[-2000:]
            return
        assert later.exit_code == 1 and later.row["status"] == "partial", later.output[-2000:]
        assert later.runs[0] == "partial"
        assert f"stored order {order.id}" in later.output and "set aside" in later.output
        assert str(order.id) not in later.records.get("order", {})
        assert held == [("order", str(order.id))]
        # a full pull reads the order again: the store is whole once more
        full = invoke(["sync", "--now", CLASSIFY_AT, "--full", "--config", str(shop.config)],
                      shop.env)
        assert full.exit_code == 0, full.stdout + full.stderr
        with open_store(load_config(shop.config).state_url()) as store:
            assert str(order.id) in store.load_records("sand")["order"]
