"""The sandbox's PrestaShop Webservice over real HTTP, driven with ``requests``."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import woocommerce

from journeybridge.sandbox import Faults, OrderStatus, Population, SandboxServer
from journeybridge.sandbox.presta_states import SHIPPED
from journeybridge.sandbox.presta_values import shop_date

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # a fixed shop, whatever the date
BOTH = ("woocommerce", "prestashop")


@pytest.fixture(scope="module")
def shop() -> Iterator[SandboxServer]:
    with SandboxServer(Population(200, seed=13, now=NOW), platforms=BOTH) as server:
        yield server


def get(shop: SandboxServer, path: str, *, key: str | None = None, **params: Any
        ) -> requests.Response:
    params.setdefault("output_format", "JSON")
    return requests.get(f"{shop.url}/api/{path}", params=params, timeout=10,
                        auth=(key or shop.presta_credentials.key, ""))


def ids(r: requests.Response, resource: str) -> list[int]:
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    return [] if body == [] else [int(x["id"]) for x in body[resource]]


def codes(r: requests.Response) -> list[int]:
    return [e["code"] for e in r.json()["errors"]]


# ------------------------------------------------------------------ reading


def test_limit_pages_concatenate_to_every_customer(shop: SandboxServer) -> None:
    everyone = ids(get(shop, "customers"), "customers")
    pop = shop.population
    assert everyone[:3] == [1, 2, 3] and len(everyone) > pop.size  # guest rows after accounts
    pages, offset = [], 0
    while True:
        page = ids(get(shop, "customers", limit=f"{offset},70"), "customers")
        pages.extend(page)
        if len(page) < 70:
            break
        offset += 70
    assert pages == everyone
    assert ids(get(shop, "customers", limit="5"), "customers") == everyone[:5]
    r = get(shop, "customers", limit=f"{len(everyone)},10")
    assert r.status_code == 200 and r.text == "[]"
    assert "X-WP-Total" not in r.headers and "Link" not in r.headers


def test_sorts(shop: SandboxServer) -> None:
    desc = ids(get(shop, "orders", sort="[id_DESC]"), "orders")
    assert desc == sorted(desc, reverse=True)
    r = get(shop, "orders", display="[id,date_upd]", sort="[date_upd_DESC,id_ASC]", date="1")
    rows = r.json()["orders"]
    keys = [(row["date_upd"], -row["id"]) for row in rows]
    assert keys == sorted(keys, reverse=True)
    r = get(shop, "orders", sort="[date_upd_ASC]")
    assert r.status_code == 500 and codes(r)[0] == 38 and codes(r)[1:] == [3, 3, 3, 3]
    r = get(shop, "customers", sort="[lastname_ASC,id_DESC]", display="[id,lastname]")
    names = [(c["lastname"].casefold(), -c["id"]) for c in r.json()["customers"]]
    assert names == sorted(names)


def test_every_filter_form(shop: SandboxServer) -> None:
    all_orders = ids(get(shop, "orders"), "orders")
    a, b, c = all_orders[3], all_orders[5], all_orders[9]
    assert ids(get(shop, "orders", **{"filter[id]": f"[{a}]"}), "orders") == [a]
    assert ids(get(shop, "orders", **{"filter[id]": f"[{a}|{c}]"}), "orders") == [a, c]
    assert ids(get(shop, "orders", **{"filter[id]": f"[{a},{c}]"}), "orders") == \
        [i for i in all_orders if a <= i <= c]
    assert ids(get(shop, "orders", **{"filter[id]": f">[{b}]"}), "orders") == \
        [i for i in all_orders if i > b]
    assert ids(get(shop, "orders", **{"filter[id]": f"<[{b}]"}), "orders") == \
        [i for i in all_orders if i < b]
    assert ids(get(shop, "orders", **{"filter[id]": f"![{a}|{b}]"}), "orders") == \
        [i for i in all_orders if i not in (a, b)]
    r = get(shop, "customers", display="[id,email]", **{"filter[email]": "%[example.org]%"})
    emails = [x["email"] for x in r.json()["customers"]]
    assert emails and all("example.org" in e.lower() for e in emails)
    one = get(shop, "customers/5").json()["customer"]["email"]
    assert ids(get(shop, "customers", **{"filter[email]": f"[{one.upper()}]"}),
               "customers")[0] == 5  # MySQL compares text case-insensitively
    r = get(shop, "orders", display="[id,current_state]", **{"filter[current_state]": "[5]"})
    assert {o["current_state"] for o in r.json()["orders"]} == {5}
    r = get(shop, "customers", **{"filter[nosuchfield]": "[1]"})
    assert r.status_code == 500 and codes(r) == [32, 3, 3, 3, 3]
    assert 'Did you mean: "note"?' in r.json()["errors"][0]["message"]


def test_date_filters_need_date_1(shop: SandboxServer) -> None:
    span = "[2000-01-01 00:00:00,2100-01-01 00:00:00]"
    r = get(shop, "customers", **{"filter[date_upd]": span})
    assert r.status_code == 500 and codes(r) == [32, 3, 3, 3, 3]
    assert "date_upd" not in r.json()["errors"][0]["message"].split("full list is:")[1]
    assert len(ids(get(shop, "customers", date="1", **{"filter[date_upd]": span}),
                   "customers")) == len(ids(get(shop, "customers"), "customers"))
    rows = get(shop, "orders", display="[id,date_upd]", date="1",
               **{"filter[date_upd]": ">[2099-01-01 00:00:00]"})
    assert rows.status_code == 200 and rows.text == "[]"
    listed = get(shop, "orders", display="[id,date_add]", sort="[date_add_ASC]", date="1",
                 limit="0,20").json()["orders"]
    lo, hi = listed[3]["date_add"], listed[12]["date_add"]
    rows = get(shop, "orders", display="[id,date_add]", date="1",
               **{"filter[date_add]": f"[{lo},{hi}]"}).json()["orders"]
    assert len(rows) >= 10 and all(lo <= o["date_add"] <= hi for o in rows)  # inclusive


def test_one_record_and_list_forms(shop: SandboxServer) -> None:
    one = get(shop, "customers/3").json()
    assert set(one) == {"customer"}
    assert all(v not in ("", "0", 0, None) for v in one["customer"].values())
    full = get(shop, "customers/3", display="full").json()
    assert set(full) == {"customers"} and full["customers"][0]["deleted"] == "0"
    xml = requests.get(f"{shop.url}/api/customers/3", auth=(shop.presta_credentials.key, ""),
                       timeout=10)
    assert xml.headers["Content-Type"] == "text/xml;charset=utf-8"
    assert "<deleted><![CDATA[0]]></deleted>" in xml.text
    r = get(shop, "customers/99999999")
    assert r.status_code == 404 and r.content == b"" and r.headers["Content-Type"] == ""


def test_empty_results(shop: SandboxServer) -> None:
    nobody = {"filter[email]": "[nobody@example.invalid]"}
    r = get(shop, "customers", display="full", **nobody)
    assert r.status_code == 200 and r.text == "[]"
    x = get(shop, "customers", output_format="XML", **nobody)
    assert "<customers>\n</customers>" in x.text


def test_guest_checkouts_are_customer_rows(shop: SandboxServer) -> None:
    pop = shop.population
    rows = get(shop, "customers", display="[id,email,is_guest,id_default_group]",
               **{"filter[is_guest]": "[1]"}).json()["customers"]
    assert rows and all(r["is_guest"] == "1" and r["id_default_group"] == 2 for r in rows)
    assert min(r["id"] for r in rows) == pop.size + 1
    lowered = [r["email"].lower() for r in rows]
    assert len(set(lowered)) < len(lowered)  # one row per guest checkout
    guest_orders = [o for o in pop.orders() if o.customer_id == 0
                    and o.status not in (OrderStatus.CHECKOUT_DRAFT, OrderStatus.TRASH)]
    r = get(shop, f"orders/{guest_orders[0].id}").json()["order"]
    assert r["id_customer"] > pop.size


def test_same_people_through_both_apis(shop: SandboxServer) -> None:
    c = shop.woo_credentials
    woo = woocommerce.API(shop.url, c.key, c.secret, version="wc/v3", timeout=10)
    woo_customers = woo.get("customers", params={"per_page": 20, "role": "all",
                                                 "orderby": "id"}).json()
    presta = get(shop, "customers", display="[id,email]", limit="0,20").json()["customers"]
    assert {x["id"]: x["email"] for x in woo_customers} == \
        {x["id"]: x["email"] for x in presta}
    woo_orders = woo.get("orders", params={"per_page": 30, "orderby": "id",
                                           "order": "asc"}).json()
    presta_orders = {o["id"]: o for o in get(shop, "orders", display="[id,total_paid]",
                                             limit="0,40").json()["orders"]}
    for o in woo_orders:
        if o["status"] != "checkout-draft":
            assert presta_orders[o["id"]]["total_paid"] == f"{float(o['total']):.6f}"


def test_every_order_has_a_cart_and_visitors_have_carts(shop: SandboxServer) -> None:
    order = get(shop, "orders", display="full", limit="0,1").json()["orders"][0]
    cart = get(shop, f"carts/{order['id_cart']}").json()["cart"]
    assert [(r["id_product"], r["quantity"]) for r in cart["associations"]["cart_rows"]] == \
        [(r["product_id"], r["product_quantity"]) for r in order["associations"]["order_rows"]]
    visitors = ids(get(shop, "carts", **{"filter[id_customer]": "[0]"}), "carts")
    assert visitors
    states = get(shop, "order_states", display="[id,paid,shipped]").json()["order_states"]
    assert [s["id"] for s in states][:2] == [2, 3] and len(states) == 13


# ------------------------------------------------------------------ auth


def test_auth_errors_and_key_rights(shop: SandboxServer) -> None:
    r = requests.get(f"{shop.url}/api/customers?output_format=JSON", timeout=10)
    assert r.status_code == 401 and r.text == "401 Unauthorized"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    r = get(shop, "customers", key="WRONGKEY0123456789ABCDEFGHIJKLMN")
    assert r.status_code == 401 and codes(r) == [20, 21]
    assert r.headers["PSWS-Version"] == "0" and "WWW-Authenticate" in r.headers
    r = requests.get(f"{shop.url}/api/customers/1", timeout=10,
                     params={"ws_key": shop.presta_credentials.key, "output_format": "JSON"})
    assert r.status_code == 200 and r.json()["customer"]["id"] == 1
    ro = shop.presta_credentials.ro_key
    assert get(shop, "customers", key=ro).status_code == 200
    r = requests.put(f"{shop.url}/api/customers/1?output_format=JSON", data="<x/>",
                     auth=(ro, ""), timeout=10)
    assert r.status_code == 405 and codes(r) == [25]
    r = requests.delete(f"{shop.url}/api/customers/1?output_format=JSON",
                        auth=(shop.presta_credentials.key, ""), timeout=10)
    assert r.status_code == 405 and codes(r) == [25]
    assert codes(get(shop, "employees")) == [26]
    assert codes(get(shop, "foobars")) == [27]
    r = requests.get(f"{shop.url}/api/customers/1", headers={"Output-Format": "JSON"},
                     auth=(shop.presta_credentials.key, ""), timeout=10)
    assert r.headers["Content-Type"] == "application/json"


# ------------------------------------------------------------------ writing


def _xml(shop: SandboxServer, cid: int) -> str:
    r = requests.get(f"{shop.url}/api/customers/{cid}", auth=(shop.presta_credentials.key, ""),
                     timeout=10)
    assert r.status_code == 200
    return r.text


def _with_groups(xml: str, groups: list[int]) -> str:
    block = "".join(f"<group><id><![CDATA[{g}]]></id></group>" for g in groups)
    return re.sub(r"<associations>.*</associations>",
                  f"<associations><groups>{block}</groups></associations>", xml, flags=re.S)


def put(shop: SandboxServer, path: str, body: str, fmt: str = "JSON") -> requests.Response:
    return requests.put(f"{shop.url}/api/{path}?output_format={fmt}", data=body.encode(),
                        auth=(shop.presta_credentials.key, ""), timeout=10)


def test_put_replaces_groups_and_bumps_date_upd(shop: SandboxServer) -> None:
    pop = shop.population
    new = requests.post(
        f"{shop.url}/api/groups?output_format=JSON", auth=(shop.presta_credentials.key, ""),
        timeout=10, data=(b'<prestashop><group><price_display_method>0</price_display_method>'
                          b'<show_prices>1</show_prices><name><language id="1">VIP</language>'
                          b"</name></group></prestashop>"))
    assert new.status_code == 201
    vip = int(new.json()["group"]["id"])
    assert vip == 4 and get(shop, f"groups/{vip}").json()["group"]["name"] == "VIP"
    before = get(shop, "customers/7").json()["customer"]
    time.sleep(1.1)
    r = put(shop, "customers/7", _with_groups(_xml(shop, 7), [3, vip]))
    assert r.status_code == 200
    answer = r.json()["customer"]
    assert answer["id"] == "7" and answer["associations"]["groups"] == [{"id": 3}, {"id": vip}]
    after = get(shop, "customers/7").json()["customer"]
    assert after["date_upd"] > before["date_upd"]
    assert after["associations"]["groups"] == [{"id": 3}, {"id": vip}]
    assert after["passwd"] == before["passwd"]  # the hash sent back unchanged is kept
    put(shop, "customers/7", _with_groups(_xml(shop, 7), [vip]))
    assert get(shop, "customers/7").json()["customer"]["associations"]["groups"] == \
        [{"id": vip}]
    full = get(shop, "customers", display="full", **{"filter[id]": "[7]"}).json()
    assert full["customers"][0]["website"] is None  # "" round-trips to null
    latest = get(shop, "customers/7").json()["customer"]["date_upd"]
    woo = pop.customer(7)
    assert woo is not None and shop_date(woo.date_modified) == latest


def test_put_updates_the_body_id_not_the_url_id(shop: SandboxServer) -> None:
    body = _xml(shop, 9).replace("<firstname><![CDATA[", "<firstname><![CDATA[Renamed", 1)
    r = put(shop, "customers/1", body)
    assert r.status_code == 200 and r.json()["customer"]["id"] == "9"
    assert get(shop, "customers/9").json()["customer"]["firstname"].startswith("Renamed")
    assert not get(shop, "customers/1").json()["customer"]["firstname"].startswith("Renamed")
    assert shop.population.customer(9).first_name.startswith("Renamed")  # type: ignore[union-attr]
    assert put(shop, "customers", body).status_code == 200


def test_refused_writes(shop: SandboxServer) -> None:
    minimal = ("<prestashop><customer><id>2</id><associations><groups><group><id>3</id>"
               "</group></groups></associations></customer></prestashop>")
    r = put(shop, "customers/2", minimal)
    assert r.status_code == 400 and codes(r) == [41]
    assert r.json()["errors"][0]["message"] == 'parameter "passwd" required'
    r = put(shop, "customers/2", '{"customer": {"id": 2}}')
    assert r.status_code == 500 and codes(r)[-1] == 127
    bad = re.sub(r"<email><!\[CDATA\[.*?\]\]></email>", "<email><![CDATA[nope]]></email>",
                 _xml(shop, 2))
    r = put(shop, "customers/2", bad)
    assert r.status_code == 400 and r.json()["errors"][0]["message"] == \
        'Validation error: "Property Customer-&gt;email is not valid"'
    x = put(shop, "customers/2", minimal, fmt="XML")
    assert x.headers["Content-Type"] == "text/xml;charset=utf-8" and "<code><![CDATA[41]]>" \
        in x.text


def test_schema_blank_and_synopsis(shop: SandboxServer) -> None:
    blank = get(shop, "customers", output_format="XML", schema="blank").text
    assert "<passwd><![CDATA[]]></passwd>" in blank and "<id><![CDATA[]]></id>" in blank
    syn = get(shop, "customers", output_format="XML", schema="synopsis").text
    assert '<email required="true" maxSize="255" format="isEmail">' in syn
    assert "<id>" not in syn.split("<associations>")[0]


# ------------------------------------------------------------------ mutations and faults


def test_mutation_api_for_incremental_syncs(shop: SandboxServer) -> None:
    assert shop.presta is not None
    data, pop = shop.presta.data, shop.population
    paid = next(o for o in pop.orders() if o.status is OrderStatus.PROCESSING)
    before = get(shop, f"orders/{paid.id}").json()["order"]
    later = pop.clock() + timedelta(minutes=5)
    data.set_order_state(paid.id, SHIPPED, at=later)
    after = get(shop, f"orders/{paid.id}").json()["order"]
    assert after["current_state"] == SHIPPED and after["date_upd"] > before["date_upd"]
    rows = get(shop, "order_histories", display="full",
               **{"filter[id_order]": f"[{paid.id}]"}).json()["order_histories"]
    assert rows[-1]["id_order_state"] == SHIPPED and rows[-1]["date_add"] == shop_date(later)
    assert max(r["id"] for r in rows) == rows[-1]["id"]
    # a WooCommerce-side status change shows up as a PrestaShop history row too
    pop.update_order(paid.id, status="completed", at=later + timedelta(minutes=1))
    assert get(shop, f"orders/{paid.id}").json()["order"]["current_state"] == 5
    cart = pop.add_cart(0, [(11, 2)], at=later)
    got = get(shop, f"carts/{cart.id}", display="full").json()["carts"][0]
    assert got["id_customer"] == 0 and got["associations"]["cart_rows"][0]["quantity"] == 2
    pop.update_customer(4, last_name="Nieuw", at=later)
    changed = get(shop, "customers", display="[id,lastname,date_upd]", date="1",
                  **{"filter[date_upd]": f">[{shop_date(later - timedelta(seconds=1))}]"})
    assert {"id": 4, "lastname": "Nieuw", "date_upd": shop_date(later)} in \
        changed.json()["customers"]


def test_faults_apply_to_the_webservice() -> None:
    pop = Population(60, seed=3)
    faults = Faults(rate_limit_every=2, malformed_order_ids=frozenset({100}),
                    malformed_customer_ids=frozenset({2}))
    with SandboxServer(pop, platforms=BOTH, faults=faults) as server:
        statuses = [get(server, "customers/1").status_code for _ in range(4)]
        assert statuses == [200, 429, 200, 429]
        order = get(server, "orders/100")
        if order.status_code == 429:
            order = get(server, "orders/100")
        assert order.json()["order"]["total_paid"] == "abc"
        cust = get(server, "customers/2")
        if cust.status_code == 429:
            cust = get(server, "customers/2")
        assert "id" not in cust.json()["customer"]
