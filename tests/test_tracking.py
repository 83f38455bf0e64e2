"""Tracking numbers and carriers: read from WooCommerce shipment-tracking meta and from
PrestaShop ``order_carriers``, and served that way by the sandbox."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import requests

from journeybridge.adapters.presta_mapping import PrestaMapping
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.woo_mapping import WooMapping
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.model import OrderStatus
from journeybridge.sandbox import Population, SandboxServer
from tests.adapter_support import pull_all

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def _meta(*entries: tuple[str, Any]) -> dict[str, Any]:
    return {"meta_data": [{"id": i, "key": k, "value": v} for i, (k, v) in enumerate(entries)]}


def test_woocommerce_shipment_tracking_items_last_tracked_wins() -> None:
    mapping = WooMapping(shop="t")
    items = [{"tracking_provider": "dhl", "custom_tracking_provider": "",
              "tracking_number": "OLD1", "date_shipped": "1777420800"},
             {"tracking_provider": "", "custom_tracking_provider": "Bpost",
              "tracking_number": "NEW2", "date_shipped": "1777507200"},
             {"tracking_provider": "ups", "tracking_number": ""}]
    got = mapping.shipment(_meta(("_wc_shipment_tracking_items", items)))
    assert got == {"tracking_number": "NEW2", "carrier": "Bpost",
                   "shipped_at": datetime(2026, 4, 30, tzinfo=timezone.utc)}
    as_text = mapping.shipment(_meta(("_wc_shipment_tracking_items", json.dumps(items))))
    assert as_text == got


def test_woocommerce_older_and_yith_keys_and_nothing() -> None:
    mapping = WooMapping(shop="t")
    legacy = mapping.shipment(_meta(("_tracking_number", "JJD1"), ("_tracking_provider", "dpd"),
                                    ("_date_shipped", "not a time")))
    assert legacy == {"tracking_number": "JJD1", "carrier": "dpd", "shipped_at": None}
    yith = mapping.shipment(_meta(("ywot_tracking_code", "Y9"), ("ywot_carrier_name", "GLS")))
    assert yith["tracking_number"] == "Y9" and yith["carrier"] == "GLS"
    assert mapping.shipment(_meta(("other", "x"))) == {}
    assert mapping.shipment({"meta_data": "garbage"}) == {}


def test_prestashop_order_carriers_rows() -> None:
    mapping = PrestaMapping(shop="t", carriers={"2": "My carrier"})
    rows = [{"id": 3, "id_order": 9, "id_carrier": 2, "tracking_number": "A1"},
            {"id": 7, "id_order": 9, "id_carrier": 5, "tracking_number": ""}]
    assert mapping.shipment(rows) == {"tracking_number": "A1", "carrier": "My carrier"}
    assert mapping.shipment(rows[1:]) == {"tracking_number": None, "carrier": None}
    assert mapping.shipment([]) == {}


def test_sandbox_serves_tracking_on_both_platforms_alike() -> None:
    population = Population(150, seed=9, now=NOW)
    with SandboxServer(population, platforms=("woocommerce", "prestashop")) as server:
        key = server.presta_credentials.key
        refused = requests.get(f"{server.url}/api/carriers", auth=(key, ""),
                               params={"output_format": "JSON"}, timeout=30)
        assert refused.status_code == 401 and refused.json()["errors"][0]["code"] == 26
        with PrestaShopAdapter(server.url, key) as presta:
            presta_orders = {o.id: o for o in pull_all(presta).orders}
        woo_creds = server.woo_credentials
        with WooCommerceAdapter(server.url, woo_creds.key, woo_creds.secret) as woo:
            woo_orders = {o.id: o for o in pull_all(woo).orders}
        tracked = {i: o.tracking_number for i, o in woo_orders.items() if o.tracking_number}
        assert tracked and all(woo_orders[i].status is OrderStatus.DELIVERED for i in tracked)
        assert all(woo_orders[i].carrier and woo_orders[i].shipped_at for i in tracked)
        assert {i: o.tracking_number for i, o in presta_orders.items()
                if o.tracking_number} == tracked
        some = next(iter(tracked))
        one = requests.get(f"{server.url}/api/orders/{some}", auth=(key, ""),
                           params={"output_format": "JSON"}, timeout=30).json()["order"]
        assert one["shipping_number"] == tracked[some]  # the getter reads order_carriers
        rows = requests.get(f"{server.url}/api/order_carriers", auth=(key, ""), timeout=30,
                            params={"output_format": "JSON", "display": "full",
                                    "filter[id_order]": f"[{some}]"}).json()["order_carriers"]
        assert [(r["id_order"], r["tracking_number"]) for r in rows] == [
            (int(some), tracked[some])]
