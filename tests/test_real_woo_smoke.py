"""Smoke tests: the real WooCommerce fixture starts, the seed is there, and its expectation is
what the REST API (wc/v3, OAuth 1.0a over plain HTTP) really answers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.realshop.woo import REAL_WOO_TIMINGS, RealWoo, run_php, woo_api

pytestmark = pytest.mark.real_woo


def _get(api: Any, endpoint: str, **params: Any) -> Any:
    resp = api.get(endpoint, params=params)
    assert resp.status_code == 200, f"{endpoint} {params}: {resp.status_code} {resp.text[:500]}"
    assert resp.headers["Content-Type"].startswith("application/json")
    return resp


def _total(api: Any, endpoint: str, **params: Any) -> int:
    return int(_get(api, endpoint, per_page=1, **params).headers["X-WP-Total"])


def _pull_all(api: Any, endpoint: str, **params: Any) -> list[dict[str, Any]]:
    """Every page, 100 at a time, in a stable order."""
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        resp = _get(api, endpoint, per_page=100, page=page, orderby="id", order="asc", **params)
        records.extend(resp.json())
        if page >= int(resp.headers["X-WP-TotalPages"]):
            return records
        page += 1


def _z(api_gmt: str | None) -> str | None:
    """The API's *_gmt fields are UTC without a zone; the expectation writes them with Z."""
    return None if api_gmt is None else api_gmt + "Z"


def test_run_php_reaches_the_shop(real_woo: RealWoo, tmp_path: Path) -> None:
    assert run_php(real_woo, "echo WC()->version;") == "10.0.2"
    script = tmp_path / "count.php"
    script.write_text(
        "<?php require 'wp-load.php';\n"
        "echo count(wc_get_orders(['status' => 'trash', 'limit' => -1, 'return' => 'ids']));\n",
        encoding="utf-8",
    )
    assert run_php(real_woo, script) == "1"
    assert run_php(real_woo, "echo $argv[1] . '|' . wp_timezone_string();", "x") == (
        "x|Europe/Amsterdam"
    )


def test_customer_count_with_role_all(real_woo: RealWoo, real_woo_expected: dict[str, Any]) -> None:
    api = woo_api(real_woo, read_only=True)
    customers = real_woo_expected["customers"]
    assert real_woo_expected["counts"]["customers"] == len(customers)
    assert _total(api, "customers", role="all") == len(customers)
    # The default role filter is "customer": the administrator, the subscriber and the buying
    # shop manager are only seen with role=all.
    assert _total(api, "customers") == sum(c["role"] == "customer" for c in customers)
    assert {c["role"] for c in customers} == {
        "administrator",
        "customer",
        "shop_manager",
        "subscriber",
    }


def test_visible_order_count_excludes_trash(
    real_woo: RealWoo, real_woo_expected: dict[str, Any]
) -> None:
    api = woo_api(real_woo, read_only=True)
    assert _total(api, "orders") == len(real_woo_expected["orders"])
    trashed = [o["id"] for o in _get(api, "orders", status="trash", per_page=100).json()]
    assert trashed == real_woo_expected["trashed_order_ids"]
    assert trashed
    assert not set(trashed) & {o["id"] for o in real_woo_expected["orders"]}


def test_guest_order_has_customer_id_zero(
    real_woo: RealWoo, real_woo_expected: dict[str, Any]
) -> None:
    api = woo_api(real_woo, read_only=True)
    guest = next(
        o for o in real_woo_expected["orders"] if o["billing_email"] == "ANNA.GAST@EXAMPLE.COM"
    )
    order = _get(api, f"orders/{guest['id']}").json()
    assert order["customer_id"] == 0
    assert order["billing"]["email"] == "ANNA.GAST@EXAMPLE.COM"  # kept as typed


def test_backdated_order_reads_back(real_woo: RealWoo, real_woo_expected: dict[str, Any]) -> None:
    api = woo_api(real_woo, read_only=True)
    oldest = min(real_woo_expected["orders"], key=lambda o: o["date_created"])
    assert oldest["date_created"] < real_woo_expected["seeded_at"][:4]  # years ago
    order = _get(api, f"orders/{oldest['id']}").json()
    assert _z(order["date_created_gmt"]) == oldest["date_created"]
    assert _z(order["date_modified_gmt"]) == oldest["date_modified"]
    assert _z(order["date_completed_gmt"]) == oldest["date_completed"]


def test_full_order_pull_matches_expectation(
    real_woo: RealWoo, real_woo_expected: dict[str, Any]
) -> None:
    api = woo_api(real_woo, read_only=True)
    started = time.monotonic()
    orders = _pull_all(api, "orders")
    pull_seconds = time.monotonic() - started
    expected = {o["id"]: o for o in real_woo_expected["orders"]}
    assert [o["id"] for o in orders] == sorted(expected)
    for got in orders:
        want = expected[got["id"]]
        assert (
            got["customer_id"],
            got["billing"]["email"],
            got["status"],
            got["total"],
            got["currency"],
            _z(got["date_created_gmt"]),
            _z(got["date_modified_gmt"]),
            _z(got["date_paid_gmt"]),
            _z(got["date_completed_gmt"]),
            [(r["id"], r["total"]) for r in got["refunds"]],
            [(li["product_id"], li["quantity"], li["total"]) for li in got["line_items"]],
            [c["code"] for c in got["coupon_lines"]],
        ) == (
            want["customer_id"],
            want["billing_email"],
            want["status"],
            want["total"],
            want["currency"],
            want["date_created"],
            want["date_modified"],
            want["date_paid"],
            want["date_completed"],
            [(r["id"], "-" + r["amount"]) for r in want["refunds"]],
            [(li["product_id"], li["quantity"], li["total"]) for li in want["line_items"]],
            want["coupon_codes"],
        ), got["id"]
    REAL_WOO_TIMINGS["full_order_pull_seconds"] = round(pull_seconds, 2)
    print(f"\nreal WooCommerce timings: {REAL_WOO_TIMINGS} ({len(orders)} orders, per_page=100)")


def test_customers_and_reviews_match_expectation(
    real_woo: RealWoo, real_woo_expected: dict[str, Any]
) -> None:
    api = woo_api(real_woo, read_only=True)
    customers = _pull_all(api, "customers", role="all")
    got_c = {
        c["id"]: (
            c["email"],
            c["role"],
            c["first_name"],
            c["last_name"],
            _z(c["date_created_gmt"]),
            _z(c["date_modified_gmt"]),
            c["billing"]["phone"],
            c["billing"]["country"],
            {m["key"]: m["value"] for m in c["meta_data"]}.get("newsletter_optin") == "yes",
        )
        for c in customers
    }
    want_c = {
        c["id"]: (
            c["email"],
            c["role"],
            c["first_name"],
            c["last_name"],
            c["date_created"],
            c["date_modified"],
            c["phone"],
            c["country"],
            c["newsletter"],
        )
        for c in real_woo_expected["customers"]
    }
    assert got_c == want_c

    reviews = _pull_all(api, "products/reviews")
    got_r = [
        (r["id"], r["product_id"], r["reviewer_email"], r["rating"], r["verified"], r["status"])
        for r in reviews
    ]
    want_r = [
        (r["id"], r["product_id"], r["reviewer_email"], r["rating"], r["verified"], "approved")
        for r in real_woo_expected["reviews"]
    ]
    assert got_r == want_r
    assert [_z(r["date_created_gmt"]) for r in reviews] == [
        r["date_created"] for r in real_woo_expected["reviews"]
    ]
