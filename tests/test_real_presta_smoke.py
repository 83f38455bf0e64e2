"""Smoke tests: the real PrestaShop fixture starts, the seed is there, and its expectation is what
the Webservice (8.1.2, JSON output, key as the basic-auth user) really answers."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.realshop.presta import (
    REAL_PRESTA_TIMINGS,
    RealPresta,
    restore_seed,
    run_presta_php,
    ws_get,
)

pytestmark = pytest.mark.real_presta

PAGE = 25  # small pages, so that every pull below really pages


def pull_all(shop: RealPresta, resource: str, **params: Any) -> list[dict[str, Any]]:
    """Every record, ``display=full`` unless asked otherwise, ``limit=offset,PAGE`` by id."""
    params.setdefault("display", "full")
    params.setdefault("sort", "[id_ASC]")
    records: list[dict[str, Any]] = []
    offset = 0
    while True:
        r = ws_get(shop, resource, limit=f"{offset},{PAGE}", **params)
        assert r.status_code == 200, r.text[:500]
        body = r.json()
        page = [] if body == [] else body[resource]  # an empty page is a bare []
        records.extend(page)
        if len(page) < PAGE:
            return records
        offset += PAGE


def _utc(local: str, tz: str) -> str | None:
    if local.startswith("0000-00-00"):
        return None
    naive = datetime.strptime(local, "%Y-%m-%d %H:%M:%S")
    return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_run_presta_php_reaches_the_shop(real_presta: RealPresta, tmp_path: Path) -> None:
    assert run_presta_php(real_presta, "echo _PS_VERSION_;") == "8.1.2"
    script = tmp_path / "count.php"
    script.write_text(
        "<?php\n$_SERVER['REQUEST_METHOD'] = 'GET';\n"
        "define('_PS_ADMIN_DIR_', getcwd() . '/admin');\n"
        "require 'config/config.inc.php';\n"
        "echo Db::getInstance()->getValue('SELECT COUNT(*) FROM ' . _DB_PREFIX_ . "
        "'customer WHERE is_guest = 1');\n",
        encoding="utf-8",
    )
    assert int(run_presta_php(real_presta, script)) >= 4
    assert run_presta_php(real_presta, "echo $argv[1] . '|' . Configuration::get('PS_TIMEZONE');",
                          "x") == "x|Europe/Amsterdam"
    with pytest.raises(RuntimeError, match="PHP exited"):
        run_presta_php(real_presta, "exit(3);")


def test_expectation_is_complete(real_presta_expected: dict[str, Any]) -> None:
    exp = real_presta_expected
    assert exp["timezone"] == "Europe/Amsterdam" and exp["prestashop_version"] == "8.1.2"
    counts = exp["counts"]
    assert counts["customers"] == len(exp["customers"]) >= 30
    assert counts["orders"] == len(exp["orders"]) >= 40
    assert counts["people"] == len(exp["people"])
    assert counts["anonymous_carts"] == len(exp["anonymous_cart_ids"]) >= 2
    # Every order state of the shop is some order's current state.
    assert {o["current_state"] for o in exp["orders"]} == {s["id"] for s in exp["order_states"]}
    phases = exp["phases_covered"]
    for phase in ("registered_no_cart_no_order", "newsletter_subscriber", "optin_subscriber",
                  "abandoned_cart_known_person", "anonymous_carts", "state_awaiting_payment",
                  "state_payment_accepted", "state_processing", "state_shipped",
                  "state_delivered", "state_cancelled", "state_refunded", "state_payment_error",
                  "repeat_30d", "repeat_14d", "at_risk_own_rhythm", "lapsed_buyer",
                  "guest_checkout", "guest_email_case_variants", "guest_then_registered",
                  "guest_rows_merged_into_account", "non_ascii_name", "in_non_journey_group",
                  "failed_then_paid"):
        assert phases.get(phase), phase
    # Both date forms agree, in the shop's time zone.
    for order in exp["orders"]:
        assert _utc(order["date_add"], exp["timezone"]) == order["date_add_utc"]
        assert [(s, _utc(d, exp["timezone"])) for s, d in order["history_local"]] == [
            tuple(h) for h in order["history"]]
        assert order["history"][-1][0] == order["current_state"], order["id"]


def test_customers_match_the_expectation(real_presta: RealPresta,
                                         real_presta_expected: dict[str, Any]) -> None:
    started = time.monotonic()
    customers = pull_all(real_presta, "customers")
    REAL_PRESTA_TIMINGS["customer_pull_seconds"] = round(time.monotonic() - started, 2)
    got = {
        c["id"]: (c["email"], c["firstname"], c["lastname"], c["is_guest"] == "1",
                  c["active"] == "1", c["newsletter"] == "1", c["newsletter_date_add"],
                  c["optin"] == "1", int(c["id_default_group"]),
                  sorted(int(g["id"]) for g in c.get("associations", {}).get("groups", [])),
                  c["date_add"], c["date_upd"])
        for c in customers
    }
    want = {
        c["id"]: (c["email"], c["firstname"], c["lastname"], c["is_guest"], c["active"],
                  c["newsletter"], c["newsletter_date_add"], c["optin"], c["id_default_group"],
                  c["groups"], c["date_add"], c["date_upd"])
        for c in real_presta_expected["customers"]
    }
    assert got == want
    # Types as the Webservice gives them: ids numbers, flags strings.
    assert all(isinstance(c["id"], int) and c["is_guest"] in ("0", "1") for c in customers)


def test_orders_match_the_expectation(real_presta: RealPresta,
                                      real_presta_expected: dict[str, Any]) -> None:
    started = time.monotonic()
    orders = pull_all(real_presta, "orders")
    REAL_PRESTA_TIMINGS["order_pull_seconds"] = round(time.monotonic() - started, 2)
    got = {
        o["id"]: (int(o["id_customer"]), int(o["id_cart"]), int(o["current_state"]),
                  o["valid"] == "1", o["total_paid"], o["total_paid_real"],
                  o["total_products"], o["total_shipping"], o["date_add"], o["date_upd"],
                  o["reference"],
                  [(int(r["product_id"]), int(r["product_quantity"]), r["unit_price_tax_incl"])
                   for r in o["associations"]["order_rows"]])
        for o in orders
    }
    want = {
        o["id"]: (o["id_customer"], o["id_cart"], o["current_state"], o["valid"],
                  o["total_paid"], o["total_paid_real"], o["total_products"],
                  o["total_shipping"], o["date_add"], o["date_upd"], o["reference"],
                  [(r["product_id"], r["product_quantity"], r["unit_price_tax_incl"])
                   for r in o["order_rows"]])
        for o in real_presta_expected["orders"]
    }
    assert got == want


def test_histories_and_states_match_the_expectation(
        real_presta: RealPresta, real_presta_expected: dict[str, Any]) -> None:
    rows = pull_all(real_presta, "order_histories")
    by_order: dict[int, list[tuple[int, str]]] = {}
    for row in sorted(rows, key=lambda r: (r["date_add"], r["id"])):
        by_order.setdefault(int(row["id_order"]), []).append(
            (int(row["id_order_state"]), row["date_add"]))
    want = {o["id"]: [tuple(h) for h in o["history_local"]]
            for o in real_presta_expected["orders"]}
    assert by_order == want
    states = {s["id"]: s for s in pull_all(real_presta, "order_states")}
    for state in real_presta_expected["order_states"]:
        real = states[state["id"]]
        assert {k: real[k] == "1" for k in state["flags"]} == state["flags"], state["id"]


def test_carts_match_the_expectation(real_presta: RealPresta,
                                     real_presta_expected: dict[str, Any]) -> None:
    carts = pull_all(real_presta, "carts")
    ordered = {int(o["id_cart"]): o["id"] for o in pull_all(real_presta, "orders",
                                                             display="[id,id_cart]")}
    got = {c["id"]: (int(c["id_customer"]), ordered.get(c["id"]), c["date_add"], c["date_upd"],
                     [(int(r["id_product"]), int(r["quantity"]))
                      for r in c.get("associations", {}).get("cart_rows", [])])
           for c in carts}
    want = {c["id"]: (c["id_customer"], c["order_id"], c["date_add"], c["date_upd"],
                      [(r["id_product"], r["quantity"]) for r in c["cart_rows"]])
            for c in real_presta_expected["carts"]}
    assert got == want
    anonymous = [c["id"] for c in carts if int(c["id_customer"]) == 0]
    assert anonymous == real_presta_expected["anonymous_cart_ids"]


def test_groups_and_incremental_filter(real_presta: RealPresta,
                                       real_presta_expected: dict[str, Any]) -> None:
    groups = {g["id"]: g["name"] for g in pull_all(real_presta, "groups")}
    assert groups == {g["id"]: g["name"] for g in real_presta_expected["groups"]}
    # A date_upd window (date=1) returns exactly the orders the expectation puts in it.
    orders = real_presta_expected["orders"]
    since = sorted(o["date_upd"] for o in orders)[-8]
    r = ws_get(real_presta, "orders", display="[id]", date="1", sort="[id_ASC]",
               **{"filter[date_upd]": f"[{since},2100-01-01 00:00:00]"})
    assert r.status_code == 200, r.text[:300]
    assert [o["id"] for o in r.json()["orders"]] == sorted(
        o["id"] for o in orders if o["date_upd"] >= since)


def test_restore_seed_puts_the_database_back(real_presta_writable: RealPresta,
                                             real_presta_expected: dict[str, Any]) -> None:
    victim = next(c for c in real_presta_expected["customers"] if c["email"].startswith("femke"))
    run_presta_php(real_presta_writable,
                   "Db::getInstance()->update('customer', ['lastname' => 'Changed'], "
                   "'id_customer = ' . (int) $argv[1]);", str(victim["id"]))
    assert ws_get(real_presta_writable, f"customers/{victim['id']}").json()["customer"][
        "lastname"] == "Changed"
    restore_seed(real_presta_writable)
    assert ws_get(real_presta_writable, f"customers/{victim['id']}").json()["customer"][
        "lastname"] == victim["lastname"]
    print(f"\nreal PrestaShop timings: {REAL_PRESTA_TIMINGS}")
