"""journeybridge: where every customer of a WooCommerce or PrestaShop shop stands in their
journey, why, and since when; written back to the shop so its marketing tools can act.

The small, stable top-level API::

    import journeybridge
    shop = journeybridge.connect("woocommerce", "https://shop.example",
                                 consumer_key="ck_...", consumer_secret="cs_...")
    # or: journeybridge.connect("prestashop", "https://presta.example", key="ABC...")
    for journey in shop.journeys():
        result = journeybridge.classify(journey)
        print(journey.person.display_name, result.stage.value, result.reasons[0].text)
"""

from __future__ import annotations

from typing import Any

from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.errors import ConfigError, JourneybridgeError
from journeybridge.model import Journey, Platform
from journeybridge.stages import Classification, Stage, StageSettings, classify, classify_all

__all__ = [
    "Classification",
    "Journey",
    "JourneybridgeError",
    "Platform",
    "Stage",
    "StageSettings",
    "__version__",
    "classify",
    "classify_all",
    "connect",
]

__version__ = "0.1.0"


def connect(platform: str | Platform, url: str,
            **credentials: Any) -> WooCommerceAdapter | PrestaShopAdapter:
    """A client for one shop. ``platform`` is ``"woocommerce"`` (``credentials``:
    ``consumer_key`` and ``consumer_secret``) or ``"prestashop"`` (``key``: the Webservice
    key; ``timezone_name``: the shop's time zone), plus any adapter option (``concurrency``,
    ``timeout``, ``shop``, ...). The client's ``journeys()`` yields one Journey per person.

    Raises ConfigError for an unknown platform or missing credentials."""
    try:
        name = Platform(platform)
    except ValueError:
        raise ConfigError(f"unknown platform {platform!r}; supported: woocommerce, "
                          "prestashop") from None
    if name is Platform.PRESTASHOP:
        key = credentials.pop("key", None)
        if not key:
            raise ConfigError("prestashop needs key: the Webservice key (Advanced Parameters "
                              "> Webservice)")
        return PrestaShopAdapter(url, key, **credentials)
    if name is Platform.WOOCOMMERCE:
        key = credentials.pop("consumer_key", None)
        secret = credentials.pop("consumer_secret", None)
        if not key or not secret:
            raise ConfigError("woocommerce needs consumer_key and consumer_secret "
                              "(WooCommerce > Settings > Advanced > REST API)")
        return WooCommerceAdapter(url, key, secret, **credentials)
    raise ConfigError(f"platform {name.value!r} is not supported; supported: woocommerce, "
                      "prestashop")
