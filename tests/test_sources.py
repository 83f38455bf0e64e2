"""The one way to a shop's journeys (journeybridge.sources): a pull and the state store give
the same people and stages; the sandbox is read like any configured shop; people are found
by key or e-mail address."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from journeybridge.errors import ConfigError, PersonNotFound
from journeybridge.sources import ShopJourneys, sandbox_shop, shop_journeys, url_shop
from journeybridge.state import open_store
from journeybridge.sync import sync_shop


def test_a_pull_and_the_state_store_give_the_same_people(tmp_path: Path) -> None:
    with sandbox_shop(120, seed=3) as shop:
        now = shop.now + timedelta(days=1)
        pulled = shop_journeys(shop.config, shop.shop, None, now, secrets=shop.secrets)
        with open_store(f"sqlite:///{tmp_path / 'state.db'}") as store:
            empty = shop_journeys(shop.config, shop.shop, store, now, secrets=shop.secrets)
            outcome = sync_shop(shop.config, shop.shop, store, shop.secrets, now=now)
            assert outcome.error is None
            stored = shop_journeys(shop.config, shop.shop, store, now, secrets=shop.secrets)
    assert (pulled.source, empty.source, stored.source) == ("pull", "pull", "state")
    assert pulled.report is not None and pulled.report.counts["customer"] == 120
    assert len(pulled.journeys) > 120  # guests are people too

    def stages(found: ShopJourneys) -> dict[str, str]:
        return {j.key: r.stage.value for j, r in zip(found.journeys, found.results)}

    assert stages(pulled) == stages(empty) == stages(stored)


def test_people_are_found_by_key_or_e_mail() -> None:
    with sandbox_shop(60, seed=2) as shop:
        found = shop_journeys(shop.config, shop.shop, None, shop.now, secrets=shop.secrets)
    customer = next(j for j in found.journeys if not j.person.is_guest and j.person.email)
    assert found.find(customer.key) == found.journeys.index(customer)
    assert found.find(f"  {customer.person.email.upper()} ") == found.journeys.index(customer)
    with pytest.raises(PersonNotFound) as caught:
        found.find("customer:999999")
    assert "customer:999999" in str(caught.value)


def test_a_shop_by_url_needs_its_keys_in_the_environment() -> None:
    _config, shop, secrets = url_shop("https://presta.example/", "prestashop", "PS_KEY", "X",
                                     environ={"PS_KEY": "K" * 32})
    assert (shop.platform, shop.url, secrets.key) == ("prestashop", "https://presta.example",
                                                      "K" * 32)
    with pytest.raises(ConfigError, match="set WC_KEY and WC_SECRET"):
        url_shop("https://shop.example", "woocommerce", "WC_KEY", "WC_SECRET", environ={})
    with pytest.raises(ConfigError, match="--url") as caught:
        url_shop("ftp://ck_1:cs_2@shop.example", "woocommerce", "A", "B", environ={})
    assert "cs_2" not in str(caught.value)
