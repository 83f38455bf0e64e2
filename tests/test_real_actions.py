"""Next actions written back to the two real shops in ../shared (WooCommerce 10.0.2 and
PrestaShop 8.1.2) by the sync engine: each person's open action lands where the shop holds
it (WooCommerce meta, PrestaShop action groups), a second sync writes nothing, and tracking
numbers are read (PrestaShop ``order_carriers``; WooCommerce shipment-tracking meta, seeded
here since the real shop has no such plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from journeybridge import sources
from journeybridge.actions import ActionKind, shop_actions
from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.config import Config, Secrets, ShopConfig, load_config
from journeybridge.model import OrderStatus
from journeybridge.state import StateStore, open_store
from journeybridge.sync import sync_shop
from tests.adapter_support import assembled, pull_all
from tests.realshop.presta import RealPresta, run_presta_php
from tests.realshop.woo import RealWoo, run_php

QUICK = RetryPolicy(attempts=3, base_wait=0.1, max_wait=0.5)
PREFIX = "journeybridge_"
TRACKING = "3SJBTEST0042"


def _config(directory: Path, url: str, platform: str) -> tuple[Config, ShopConfig]:
    path = directory / "config.toml"
    path.write_text(f"""
[sync]
state = "state.db"

[shops.real]
platform = "{platform}"
url = "{url}"
timezone = "Europe/Amsterdam"
timeout = 60
""", encoding="utf-8")
    config = load_config(path)
    return config, config.shops["real"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with open_store(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


def _expected(config: Config, shop: ShopConfig, store: StateStore, now: datetime
              ) -> dict[str, Any]:
    """Person key -> their open action, as ``journeybridge actions`` lists it."""
    found = sources.shop_journeys(config, shop, store, now)
    return {a.person_key: a for _j, _c, a in shop_actions(
        found.journeys, found.results, now, ZoneInfo(shop.timezone), config.actions)}


def _two_syncs(config: Config, shop: ShopConfig, store: StateStore, secrets: Secrets,
               now: datetime) -> None:
    first = sync_shop(config, shop, store, secrets, now=now)
    assert first.status == "ok", (first.error, first.failures[:5])
    assert first.run.written > 0
    second = sync_shop(config, shop, store, secrets, now=now)
    assert second.status == "ok", second.error
    assert (second.run.planned, second.run.written) == (0, 0)


@pytest.mark.real_woo
def test_woocommerce_actions_written_back_second_sync_nothing(
        real_woo_writable: RealWoo, tmp_path: Path, store: StateStore) -> None:
    shop_ = real_woo_writable
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with WooCommerceAdapter(shop_.url, shop_.key, shop_.secret, retry=QUICK) as adapter:
        before = assembled(adapter, pull_all(adapter))
    # a completed order of a person with nothing open before it: tracked, shipped yesterday
    chosen = next(o for j in before.journeys for o in j.orders
                  if o.status is OrderStatus.DELIVERED and not o.refunds and j.person.customer_id
                  and not any(x.status.is_open_checkout for x in j.orders))
    shipped = int((now - timedelta(days=1)).timestamp())
    run_php(shop_, "$o = wc_get_order((int)$argv[1]); $o->update_meta_data("
                   "'_wc_shipment_tracking_items', [['tracking_provider' => 'postnl', "
                   "'custom_tracking_provider' => '', 'custom_tracking_link' => '', "
                   "'tracking_number' => $argv[2], 'date_shipped' => $argv[3], "
                   "'tracking_id' => md5($argv[2])]]); $o->save();",
            chosen.id, TRACKING, str(shipped))
    config, shop = _config(tmp_path, shop_.url, "woocommerce")
    _two_syncs(config, shop, store, Secrets(shop_.key, shop_.secret), now)
    expected = _expected(config, shop, store, now)
    assert expected
    tracked = [a for a in expected.values() if a.tracking_number == TRACKING]
    assert [(a.kind, a.record, a.carrier) for a in tracked] == [
        (ActionKind.TRACK_AND_TRACE, f"order {chosen.id}", "postnl")]
    with WooCommerceAdapter(shop_.url, shop_.key, shop_.secret, retry=QUICK) as adapter:
        after = assembled(adapter, pull_all(adapter))
        for journey in after.journeys:
            target, held = adapter.write_target(journey, after.rows.get(journey.key, []))
            if not target:
                continue
            action = expected.get(journey.key)
            assert held.get(f"{PREFIX}next_action", "") == (action.kind.value if action
                                                             else ""), journey.key
            assert held.get(f"{PREFIX}next_action_id", "") == (action.id if action else "")


@pytest.mark.real_presta
def test_prestashop_action_groups_written_back_second_sync_nothing(
        real_presta_writable: RealPresta, tmp_path: Path, store: StateStore) -> None:
    shop_ = real_presta_writable
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with PrestaShopAdapter(shop_.url, shop_.key, retry=QUICK,
                           timezone_name="Europe/Amsterdam") as adapter:
        before = assembled(adapter, pull_all(adapter))
    chosen = next(o for j in before.journeys for o in j.orders if o.status.is_paid)
    # the seed's orders may have no order_carriers row (PrestaShop adds one on checkout)
    run_presta_php(shop_, "$o = new Order((int)$argv[1]); $id = (int)$o->getIdOrderCarrier(); "
                          "$oc = new OrderCarrier($id ?: null); $oc->id_order = (int)$o->id; "
                          "$oc->id_carrier = (int)$o->id_carrier ?: 2; "
                          "$oc->tracking_number = $argv[2]; "
                          "if (!($id ? $oc->update() : $oc->add())) { exit(1); } echo 'ok';",
                   chosen.id, TRACKING)
    config, shop = _config(tmp_path, shop_.url, "prestashop")
    with PrestaShopAdapter(shop_.url, shop_.key, retry=QUICK,
                           timezone_name="Europe/Amsterdam") as adapter:
        orders = {o.id: o for o in pull_all(adapter).orders}
    assert orders[chosen.id].tracking_number == TRACKING
    _two_syncs(config, shop, store, Secrets(shop_.key, ""), now)
    expected = _expected(config, shop, store, now)
    assert expected
    names = {kind.value: shop.action_group_name(kind) for kind in ActionKind}
    with PrestaShopAdapter(shop_.url, shop_.key, retry=QUICK,
                           timezone_name="Europe/Amsterdam",
                           **{k: v for k, v in config.adapter_options(shop).items()
                              if k in ("stage_groups", "action_groups")}) as adapter:
        after = assembled(adapter, pull_all(adapter))
        for journey in after.journeys:
            target, held = adapter.write_target(journey, after.rows.get(journey.key, []))
            if not target.get("rows"):
                continue
            action = expected.get(journey.key)
            mine = [g for g in held["groups"] if g in names.values()]
            assert mine == ([names[action.kind.value]] if action else []), journey.key
