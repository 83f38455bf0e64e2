"""PrestaShop adapter unit tests with ``responses``: payloads, error bodies and headers exactly as
a real PrestaShop 8.1.2 sent them (tests/fixtures/prestashop-real/), no sockets; plus the pure
parts (state rules, identity rule, group planning, XML read-modify-write)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.presta_mapping import PrestaMapping, lang_text, state_status
from journeybridge.adapters.presta_xml import language_ids, new_group_xml, parse_customer
from journeybridge.adapters.presta_xml import with_groups as groups_replaced
from journeybridge.adapters.prestashop import GroupWrite, PrestaShopAdapter
from journeybridge.errors import (
    AuthenticationError,
    NotAShopAPI,
    PermissionDenied,
    PlatformMissing,
    ShopRequestError,
    ShopUnreachable,
    TransientShopError,
)
from journeybridge.identity import assemble
from journeybridge.model import OrderStatus, Person, Platform
from tests.adapter_support import desired, plan_items

FIXTURES = Path(__file__).parent / "fixtures" / "prestashop-real"
SHOP = "http://presta.test"
API = f"{SHOP}/api"
KEY = "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"
UTC = timezone.utc


def recording(prefix: str) -> dict[str, Any]:
    path = next(FIXTURES.glob(f"{prefix}-*.json"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def records(prefix: str, resource: str) -> list[dict[str, Any]]:
    return list(recording(prefix)["body_json"][resource])


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def adapter(sleeps: Sleeps) -> PrestaShopAdapter:
    return PrestaShopAdapter(SHOP, KEY, concurrency=2, page_size=2, history_page_size=50,
                             retry=RetryPolicy(attempts=4, sleep=sleeps))


def replay(rsps: responses.RequestsMock, method: str, resource: str, prefix: str,
           **extra: Any) -> None:
    """Answer ``method /api/<resource>`` with a recording's status, headers and raw body."""
    rec = recording(prefix)
    headers = {k: v for k, v in rec["headers"] if k.lower() not in (
        "content-type", "host", "date", "connection", "set-cookie")}
    content_type = next((v for k, v in rec["headers"] if k.lower() == "content-type"), "")
    rsps.add(method, re.compile(re.escape(f"{API}/{resource}") + r"(\?.*)?$"),
             body=rec["body"] or "", status=rec["status"], headers=headers,
             content_type=content_type or None, **extra)


def query(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


# -- mapping of real payloads ------------------------------------------------------------------

def test_customers_map_exactly() -> None:
    mapping = PrestaMapping(shop="s", timezone="Europe/Amsterdam")
    anonymous, john = (mapping.customer(r) for r in records("01", "customers"))
    assert (john.key, john.customer_id, john.email) == ("customer:2", "2", "pub@prestashop.com")
    assert john.groups == ("3",) and john.meta == {"optin": "1"}
    assert john.newsletter is not None and john.newsletter.subscribed
    # 2013-12-13 08:19:15 in Amsterdam (winter, UTC+1)
    assert john.newsletter.at == datetime(2013, 12, 13, 7, 19, 15, tzinfo=UTC)
    assert john.registered_at == datetime(2026, 11, 23, 12, 6, 25, tzinfo=UTC)
    assert anonymous.newsletter is not None and anonymous.newsletter.at is None  # zero date
    assert anonymous.meta == {"optin": "0"}
    assert john.platform is Platform.PRESTASHOP and not john.is_guest


def test_ids_as_strings_and_nulls_map_like_numbers() -> None:
    mapping = PrestaMapping(shop="s")
    numbers = records("01", "customers")[1]
    strings = recording("71")["body_json"]["customer"]  # a PUT answer: every value a string
    assert mapping.customer(strings).customer_id == mapping.customer(numbers).customer_id == "2"
    nulls = records("75", "customers")[1]  # a PUT round trip turned "" into null
    assert mapping.customer(nulls).first_name == "John"


def test_guest_rows_are_keyed_by_email() -> None:
    mapping = PrestaMapping(shop="s")
    raw = dict(records("01", "customers")[1], id="7", is_guest="1",
               email=" Pub@PrestaShop.com ")
    guest = mapping.customer(raw)
    assert (guest.key, guest.customer_id, guest.is_guest) == ("guest:pub@prestashop.com", "7",
                                                              True)


ORDER_STATES = {1: OrderStatus.PENDING_PAYMENT, 2: OrderStatus.PAID, 3: OrderStatus.PAID,
                4: OrderStatus.SHIPPED, 5: OrderStatus.DELIVERED, 6: OrderStatus.CANCELLED,
                7: OrderStatus.REFUNDED, 8: OrderStatus.FAILED, 9: OrderStatus.PAID,
                10: OrderStatus.PENDING_PAYMENT, 11: OrderStatus.PAID,
                12: OrderStatus.PENDING_PAYMENT, 13: OrderStatus.PENDING_PAYMENT}


def test_the_real_default_states_map_by_flags_and_names() -> None:
    states = records("06", "order_states")
    assert {int(s["id"]): state_status(s) for s in states} == ORDER_STATES


@pytest.mark.parametrize(("state", "expected"), [
    ({"paid": "1", "name": "Betaald via iDEAL", "template": ""}, OrderStatus.PAID),
    ({"paid": "0", "name": "Awaiting PayPal", "module_name": "paypal"},
     OrderStatus.PENDING_PAYMENT),
    ({"paid": "0", "name": [{"id": 1, "value": "Remboursé"}, {"id": 2, "value": "Erstattet"}],
      "template": ""}, OrderStatus.REFUNDED),
    ({"paid": "0", "name": "Storniert", "template": ""}, OrderStatus.CANCELLED),
    ({"paid": "0", "name": "Zahlungsfehler", "template": "payment_error"}, OrderStatus.FAILED),
    ({"paid": "1", "shipped": "1", "delivery": "1", "name": "Bezorgd"},
     OrderStatus.DELIVERED),
    ({"paid": 1, "shipped": 1, "name": "Mit DHL versendet"}, OrderStatus.SHIPPED),
    ({"paid": "0", "logable": "1", "name": "Validated by a module"}, OrderStatus.PAID),
    ({"name": "Something new"}, OrderStatus.PENDING_PAYMENT),
])
def test_renamed_and_added_states(state: dict[str, Any], expected: OrderStatus) -> None:
    assert state_status(state) is expected


def test_orders_with_their_history_map_exactly() -> None:
    mapping = PrestaMapping(shop="s", timezone="UTC")
    mapping.states = {str(s["id"]): mapping.order_state(s) for s in records("06",
                                                                            "order_states")}
    mapping.currencies = {"1": "USD"}
    histories = records("08", "order_histories")
    orders = {}
    for raw in records("04", "orders"):
        rows = [h for h in histories if h["id_order"] == raw["id"]]
        orders[str(raw["id"])] = mapping.order(raw, None, rows)
    first = orders["1"]
    assert (first.status, first.raw_status) == (OrderStatus.CANCELLED, "Canceled")
    assert [h.raw_status for h in first.history] == ["Awaiting check payment", "Canceled"]
    assert first.total == Decimal("68.200000") and first.currency == "USD"
    assert first.total_tax == Decimal("1.400000")
    assert [(line.product_id, line.variation_id, line.quantity) for line in first.lines] == [
        ("1", "1", 1), ("2", "9", 1)]
    assert first.customer_id == "2" and first.cart_id == "1" and first.number == "XKBKNABJK"
    assert first.paid_at is None
    assert orders["3"].status is OrderStatus.FAILED
    assert orders["5"].raw_status == "Awaiting bank wire payment"


def test_a_malformed_order_names_the_record_and_field() -> None:
    mapping = PrestaMapping(shop="s")
    raw = dict(records("04", "orders")[0], total_paid="abc", date_add="yesterday")
    with pytest.raises(Exception, match=r"prestashop order '1'.*total_paid.*date_add|"
                                        r"prestashop order '1'.*date_add.*total_paid"):
        mapping.order(raw, None)


def test_carts_and_multilingual_names() -> None:
    mapping = PrestaMapping(shop="s")
    cart = mapping.cart(records("09", "carts")[0])
    assert cart.customer_id == "2" and [(li.product_id, li.quantity) for li in cart.lines] == [
        ("1", 1), ("2", 1)]
    visitor = mapping.cart(dict(records("09", "carts")[0], id_customer="0"))
    assert visitor.customer_id is None
    assert lang_text([{"id": "1", "value": "Kunde"}, {"id": "2", "value": "Client"}], "2") == \
        "Client"
    assert lang_text("Customer") == "Customer"


def test_shop_time_round_trips_the_shops_wall_clock() -> None:
    mapping = PrestaMapping(shop="s", timezone="Europe/Amsterdam")
    for text in ("2026-03-29 01:59:59", "2026-03-29 03:00:00", "2026-10-25 02:30:00",
                 "2026-07-01 12:00:00"):
        moment = mapping.parse_date(text)
        assert moment is not None and mapping.shop_time(moment) == text
    assert mapping.parse_date("0000-00-00 00:00:00") is None
    assert mapping.parse_date("0000-00-00") is None and mapping.parse_date(None) is None


# -- reading over (mocked) HTTP ----------------------------------------------------------------

def test_pages_until_the_first_short_page(adapter: PrestaShopAdapter) -> None:
    rows = records("01", "customers")
    pages = {0: rows, 2: rows[:1]}  # two full pages of two would be 0-1, then 2 short

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        limit = parse_qs(urlsplit(request.url or "").query)["limit"][0]
        offset = int(limit.split(",")[0])
        page = pages.get(offset)
        if page is None:
            return 200, {}, "[]"
        shifted = [dict(r, id=r["id"] + offset) for r in page]
        return 200, {}, json.dumps({"customers": shifted})

    with responses.RequestsMock() as rsps:
        rsps.add_callback("GET", re.compile(re.escape(f"{API}/customers") + r"\?.*"), answer)
        got = [r["id"] for page in adapter.pages("customers", {"display": "full"})
               for r in page]
        asked = [query(c) for c in rsps.calls]
    assert got == [1, 2, 3]
    assert asked[0] == {"display": "full", "limit": "0,2", "output_format": "JSON"}
    assert {q["limit"] for q in asked} >= {"0,2", "2,2"}
    assert len(asked) <= 1 + 2  # the first page alone, then at most `concurrency` in flight
    for call in rsps.calls:
        assert call.request.headers["Authorization"].startswith("Basic ")
        assert KEY not in (call.request.url or "")


def test_an_empty_result_is_a_bare_list(adapter: PrestaShopAdapter) -> None:
    with responses.RequestsMock() as rsps:
        replay(rsps, "GET", "customers", "21")
        assert adapter.list_records("customers", {"display": "full"}) == []


def test_an_incremental_window_filters_on_the_shops_clock(adapter: PrestaShopAdapter) -> None:
    adapter.mapping = PrestaMapping(shop="s", timezone="Europe/Amsterdam")
    with responses.RequestsMock() as rsps:
        rsps.add("GET", re.compile(re.escape(f"{API}/customers") + r"\?.*"), body="[]")
        since = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
        list(adapter.iter_customers(since=since, until=since + timedelta(hours=1)))
        asked = query(rsps.calls[0])
    assert asked["filter[date_upd]"] == "[2026-07-01 12:00:00,2026-07-01 13:00:00]"
    assert asked["date"] == "1" and asked["sort"] == "[date_upd_ASC,id_ASC]"


# -- the outcome table -------------------------------------------------------------------------

@pytest.mark.parametrize(("prefix", "kind", "text"), [
    ("25", AuthenticationError, "Authentification key is not active"),
    ("27", AuthenticationError, "ws_key"),
    ("32", PermissionDenied, "not allowed with this authentication key"),
    ("30", ShopRequestError, "does not exists"),
])
def test_refusals_are_typed_and_not_retried(adapter: PrestaShopAdapter, sleeps: Sleeps,
                                            prefix: str, kind: type[Exception],
                                            text: str) -> None:
    with responses.RequestsMock() as rsps:
        replay(rsps, "GET", "customers", prefix)
        with pytest.raises(kind, match=re.escape(text)) as caught:
            adapter.list_records("customers", {})
        assert len(rsps.calls) == 1 and sleeps == []
    assert KEY not in str(caught.value) and SHOP in str(caught.value)


def test_a_read_only_key_asked_to_write(adapter: PrestaShopAdapter) -> None:
    with responses.RequestsMock() as rsps:
        replay(rsps, "PUT", "customers/2", "68")
        with pytest.raises(PermissionDenied, match="read-only") as caught:
            adapter.client.send_xml("PUT", "customers/2", "<prestashop/>")
    assert caught.value.status == 405 and caught.value.code == "25"


def test_a_refused_query_with_500_is_shown_not_retried(adapter: PrestaShopAdapter,
                                                       sleeps: Sleeps) -> None:
    with responses.RequestsMock() as rsps:
        replay(rsps, "GET", "customers", "42")
        with pytest.raises(ShopRequestError, match="This filter does not exist") as caught:
            adapter.list_records("customers", {"filter[nosuchfield]": "[1]"})
        assert len(rsps.calls) == 1 and sleeps == []
    assert "WebserviceRequest.php" not in str(caught.value)  # PHP warnings left out
    assert caught.value.code == "32"


def test_a_disabled_webservice_says_so_at_once(adapter: PrestaShopAdapter,
                                               sleeps: Sleeps) -> None:
    body = json.dumps({"errors": [{"code": 22, "message": "The PrestaShop webservice is "
                                   "disabled. Please activate it in the PrestaShop Back "
                                   "Office"}]})
    with responses.RequestsMock() as rsps:
        rsps.add("GET", re.compile(re.escape(f"{API}/customers") + r"\?.*"), body=body,
                 status=503, content_type="application/json",
                 headers={"PSWS-Version": "0", "Retry-After": "1"})
        with pytest.raises(PlatformMissing, match="Webservice is disabled"):
            adapter.list_records("customers", {})
        assert len(rsps.calls) == 1 and sleeps == []


def test_429_and_5xx_are_retried_with_retry_after(adapter: PrestaShopAdapter,
                                                  sleeps: Sleeps) -> None:
    with responses.RequestsMock() as rsps:
        pattern = re.compile(re.escape(f"{API}/customers") + r"\?.*")
        rsps.add("GET", pattern, status=429, body="<html>slow down</html>",
                 headers={"Retry-After": "3"}, content_type="text/html")
        rsps.add("GET", pattern, status=502, body="<html>bad gateway</html>",
                 content_type="text/html")
        replay(rsps, "GET", "customers", "01")
        assert len(adapter.list_records("customers", {"display": "full"})) == 2
    assert sleeps[0] == 3.0 and len(sleeps) == 2


def test_server_errors_that_persist_become_a_transient_error(adapter: PrestaShopAdapter,
                                                            sleeps: Sleeps) -> None:
    with responses.RequestsMock() as rsps:
        rsps.add("GET", re.compile(re.escape(f"{API}/customers") + r"\?.*"), status=500,
                 body="", content_type="text/html")
        with pytest.raises(TransientShopError, match="after 4 attempt"):
            adapter.list_records("customers", {})
        assert len(rsps.calls) == 4 and len(sleeps) == 3


def test_html_where_json_was_expected(adapter: PrestaShopAdapter) -> None:
    page = "<!DOCTYPE html><html><body>Welcome to our shop</body></html>"
    with responses.RequestsMock() as rsps:
        rsps.add("GET", re.compile(re.escape(f"{API}/customers") + r"\?.*"), body=page,
                 content_type="text/html")
        with pytest.raises(NotAShopAPI, match="HTML"):
            adapter.list_records("customers", {})
    with responses.RequestsMock() as rsps:
        rsps.add("GET", re.compile(re.escape(f"{API}/customers") + r"\?.*"), body=page,
                 status=404, content_type="text/html")
        with pytest.raises(NotAShopAPI, match="shop's address"):
            adapter.list_records("customers", {})


def test_a_missing_record_is_none(adapter: PrestaShopAdapter) -> None:
    with responses.RequestsMock() as rsps:
        replay(rsps, "GET", "customers/999999", "29")
        assert adapter.client.get_xml("customers/999999") is None


def test_unreachable_and_the_key_never_shown(sleeps: Sleeps) -> None:
    shop = PrestaShopAdapter("http://127.0.0.1:9", KEY, key_in_query=True, timeout=2,
                             retry=RetryPolicy(attempts=2, sleep=sleeps))
    with pytest.raises(ShopUnreachable) as caught:
        shop.list_records("customers", {})
    assert KEY not in str(caught.value)


# -- group plans -----------------------------------------------------------------------------

def _person(rid: str, email: str, guest: bool = False, at: int = 0) -> Person:
    when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=at)
    return Person(shop="s", platform=Platform.PRESTASHOP, customer_id=rid, is_guest=guest,
                  key=f"guest:{email}" if guest else f"customer:{rid}", email=email,
                  registered_at=when, modified_at=when, groups=("2",) if guest else ("3",))


def test_group_plans_keep_other_groups_and_skip_rows_already_right() -> None:
    names = {"loyalty": "Journey: loyalty", "lapsed": "Journey: lapsed",
             "new": "Journey: new one"}
    adapter = PrestaShopAdapter(SHOP, KEY, stage_groups=names)
    people = [_person("1", "a@example.com"), _person("2", "b@example.com"),
              _person("5", "g@example.com", True), _person("6", "g@example.com", True)]
    people[1] = people[1].model_copy(update={"groups": ("3", "8", "11")})
    assembly = assemble("s", Platform.PRESTASHOP, people, [])
    adapter._groups = {"2": "Guest", "3": "Customer", "8": "Journey: loyalty",
                       "9": "Journey: lapsed", "11": "Newsletter VIP"}
    by_key = {j.key: j for j in assembly.journeys}
    wanted = {"customer:1": desired(by_key["customer:1"], "lapsed"),
              "customer:2": desired(by_key["customer:2"], "loyalty"),
              "guest:g@example.com": desired(by_key["guest:g@example.com"], "new")}
    writes, unwritable = adapter.plan(plan_items(adapter, assembly, wanted))
    assert unwritable == 0
    assert [(w.record_id, w.values["group"]) for w in writes] == [
        ("1", "Journey: lapsed"), ("5", "Journey: new one"), ("6", "Journey: new one")]
    moved = {"customer:2": desired(by_key["customer:2"], "lapsed")}
    (move,), _ = adapter.plan(plan_items(adapter, assembly, moved))
    (row,) = move.values["target"]["rows"]
    assert row["groups"] == ["3", "8", "11"] and row["guest"] is False


# -- XML read-modify-write ---------------------------------------------------------------------

def test_the_put_body_changes_only_the_groups() -> None:
    text = recording("47")["body"]
    customer = parse_customer(text)
    assert (customer.id, customer.date_upd, customer.groups) == ("2", "2026-11-23 13:06:25",
                                                                 ("3",))
    body = groups_replaced(customer, ["3", "1"])
    again = parse_customer(body)
    assert again.groups == ("3", "1")
    import xml.etree.ElementTree as ET

    def fields(doc: str) -> dict[str, str]:
        node = ET.fromstring(doc.encode()).find("customer")
        assert node is not None
        return {child.tag: (child.text or "").strip() for child in node
                if child.tag != "associations"}

    assert fields(body) == fields(text)  # passwd, secure_key, dates: exactly as read
    assert 'xlink:href="http://127.0.0.1:8210/api/groups/3"' in body


def test_new_group_bodies_name_every_language() -> None:
    schema = ('<prestashop><group><name><language id="1"></language>'
              '<language id="2"></language></name></group></prestashop>')
    assert language_ids(schema) == ["1", "2"]
    assert language_ids("not xml") == ["1"]
    body = new_group_xml("Journey: <loyalty> & co", ["1", "2"])
    assert body.count("Journey: &lt;loyalty&gt; &amp; co") == 2
    assert "<reduction>0</reduction>" in body


def test_write_groups_reads_checks_and_puts(adapter: PrestaShopAdapter) -> None:
    get_xml = recording("47")["body"]
    put_answer = recording("48")["body"]  # groups 1 and 3
    pulled = datetime(2026, 11, 23, 13, 6, 25, tzinfo=UTC)
    write = GroupWrite(person_key="customer:2", customer_id="2", group="Visitor",
                       groups=("3",), date_upd=pulled)
    with responses.RequestsMock() as rsps:
        rsps.add("GET", re.compile(re.escape(f"{API}/groups") + r"\?.*"),
                 json={"groups": [{"id": 1, "name": "Visitor"}, {"id": 3,
                                                                 "name": "Customer"}]})
        rsps.add("GET", f"{API}/customers/2", body=get_xml, content_type="text/xml")
        rsps.add("PUT", f"{API}/customers/2", body=put_answer, content_type="text/xml")
        report = adapter.write_groups([write])
        sent = next(c.request for c in rsps.calls if c.request.method == "PUT")
    assert (report.customers_written, report.conflicts, report.failed) == (1, 0, [])
    body = sent.body.decode() if isinstance(sent.body, bytes) else str(sent.body)
    assert parse_customer(body).groups == ("3", "1")
    assert "$2y$10$JNUSB7gN6ANI35EaB0CdFuBGExfreLDvxdROshbmjU7AqgICUBbkS" in body
    assert sent.headers["Content-Type"].startswith("text/xml")
    stale = GroupWrite(person_key="customer:2", customer_id="2", group="Visitor",
                       groups=("3",), date_upd=pulled - timedelta(hours=1))
    with responses.RequestsMock() as rsps:
        rsps.add("GET", re.compile(re.escape(f"{API}/groups") + r"\?.*"),
                 json={"groups": [{"id": 1, "name": "Visitor"}]})
        rsps.add("GET", f"{API}/customers/2", body=put_answer, content_type="text/xml")
        report = adapter.write_groups([stale])
    # changed since the pull, and the fresh object already holds the group: nothing sent
    assert (report.conflicts, report.already_right, report.written) == (1, 1, 0)


# -- creating groups when the shop rate-limits (issue 17.7) --------------------------------------

GROUP_SCHEMA = ('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop><group><name>'
                '<language id="1"></language></name></group></prestashop>')
CREATED = ('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop><group><id><![CDATA[{id}]]>'
           '</id></group></prestashop>')


def _group_shop(rsps: responses.RequestsMock, found_after_failure: list[dict[str, Any]]) -> None:
    """GET groups like the Webservice: the list, the blank schema, by id, by name."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        q = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        if q.get("schema") == "blank":
            return 200, {"Content-Type": "text/xml"}, GROUP_SCHEMA
        if "filter[name]" in q:
            rows = found_after_failure
        elif "filter[id]" in q:
            rows = [{"id": 3, "price_display_method": "0"}]
        else:
            rows = [{"id": 3, "name": "Customer"}]
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"groups": rows} if rows else [])

    rsps.add_callback(responses.GET, re.compile(rf"{re.escape(API)}/groups\?"),
                      callback=answer)


@responses.activate
def test_a_429_on_post_groups_is_retried_after_checking_the_group_is_not_there(
        adapter: PrestaShopAdapter, sleeps: Sleeps) -> None:
    _group_shop(responses.mock, [])
    responses.add(responses.POST, f"{API}/groups", status=429, body="<html>slow down</html>",
                  content_type="text/html", headers={"Retry-After": "2"})
    responses.add(responses.POST, f"{API}/groups", status=201, body=CREATED.format(id=8),
                  content_type="text/xml")
    assert adapter.ensure_groups(["Journey: loyalty"]) == {"Journey: loyalty": "8"}
    posts = [c for c in responses.calls if c.request.method == "POST"]
    lookups = [c for c in responses.calls if "filter" in (c.request.url or "")
               and "name" in (c.request.url or "")]
    assert len(posts) == 2 and len(lookups) == 1 and sleeps == [2.0]
    assert "Journey" in (lookups[0].request.url or "")


@responses.activate
def test_a_5xx_on_post_groups_that_did_create_the_group_is_not_posted_again(
        adapter: PrestaShopAdapter, sleeps: Sleeps) -> None:
    _group_shop(responses.mock, [{"id": 11, "name": "Journey: loyalty"},
                                 {"id": 12, "name": "journey: LOYALTY"}])
    responses.add(responses.POST, f"{API}/groups", status=502, body="<html>bad gateway</html>",
                  content_type="text/html")
    assert adapter.ensure_groups(["Journey: loyalty"]) == {"Journey: loyalty": "11"}
    assert len([c for c in responses.calls if c.request.method == "POST"]) == 1
    assert len(sleeps) == 1


@responses.activate
def test_post_groups_rate_limited_forever_gives_up_after_the_policy(
        adapter: PrestaShopAdapter, sleeps: Sleeps) -> None:
    _group_shop(responses.mock, [])
    responses.add(responses.POST, f"{API}/groups", status=429, body="",
                  headers={"Retry-After": "1"})
    with pytest.raises(TransientShopError, match="POST groups"):
        adapter.ensure_groups(["Journey: loyalty"])
    assert len([c for c in responses.calls if c.request.method == "POST"]) == 4  # attempts
    assert sleeps == [1.0, 1.0, 1.0]


@responses.activate
def test_a_refused_post_groups_is_not_retried(adapter: PrestaShopAdapter) -> None:
    _group_shop(responses.mock, [])
    responses.add(responses.POST, f"{API}/groups", status=400, json={"errors": [
        {"code": 84, "message": "Validation error: name too long"}]})
    with pytest.raises(ShopRequestError, match="name too long"):
        adapter.ensure_groups(["Journey: loyalty"])
    assert len([c for c in responses.calls if c.request.method == "POST"]) == 1
