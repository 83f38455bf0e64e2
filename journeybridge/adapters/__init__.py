"""Shop adapters: each knows its platform's API and the journey model, nothing about stages.

- :mod:`journeybridge.adapters.protocol`: the one protocol every adapter offers (pull,
  write target, plan, apply, check) and its records.
- :mod:`journeybridge.adapters.woocommerce`: the WooCommerce REST API (wc/v3).
- :mod:`journeybridge.adapters.prestashop`: the PrestaShop Webservice (1.7 / 8.x).
- :mod:`journeybridge.adapters.http`: the retry policy and helpers both platforms share.

:func:`open_adapter` is the one place that chooses an adapter by platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from journeybridge.adapters.protocol import ShopAdapter
from journeybridge.errors import ConfigError

__all__ = ["PLATFORMS", "ShopAdapter", "event_pages", "open_adapter"]

PLATFORMS = ("woocommerce", "prestashop")
"""The platforms journeybridge has an adapter for."""


def open_adapter(platform: str, url: str, credentials: Mapping[str, str],
                 **options: Any) -> ShopAdapter:
    """The adapter for ``platform``'s shop at ``url``. ``credentials``: ``key`` and ``secret``
    (WooCommerce consumer key and secret) or ``key`` (the PrestaShop Webservice key); any
    further adapter option (``concurrency``, ``timeout``, ``shop``, ...) as keywords. Raises
    ConfigError for an unknown platform or missing credentials."""
    if platform == "woocommerce":
        from journeybridge.adapters.woocommerce import WooCommerceAdapter

        key, secret = credentials.get("key"), credentials.get("secret")
        if not key or not secret:
            raise ConfigError("woocommerce needs consumer_key and consumer_secret "
                              "(WooCommerce > Settings > Advanced > REST API)")
        return WooCommerceAdapter(url, key, secret, **options)
    if platform == "prestashop":
        from journeybridge.adapters.prestashop import PrestaShopAdapter

        key = credentials.get("key")
        if not key:
            raise ConfigError("prestashop needs key: the Webservice key (Advanced Parameters "
                              "> Webservice)")
        return PrestaShopAdapter(url, key, **options)
    raise ConfigError(f"unknown platform {platform!r}; supported: {', '.join(PLATFORMS)}")


def event_pages(platform: str) -> Mapping[str, str]:
    """The storefront page (a path after the shop URL, ``{order_id}`` filled in) on which each
    Conversions API event happens in a ``platform`` shop. Raises ConfigError for an unknown
    platform."""
    if platform == "woocommerce":
        from journeybridge.adapters.woocommerce import EVENT_PAGES as WOO_PAGES

        return WOO_PAGES
    if platform == "prestashop":
        from journeybridge.adapters.prestashop import EVENT_PAGES as PRESTA_PAGES

        return PRESTA_PAGES
    raise ConfigError(f"unknown platform {platform!r}; supported: {', '.join(PLATFORMS)}")
