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

from journeybridge.adapters import ShopAdapter, open_adapter
from journeybridge.errors import JourneybridgeError
from journeybridge.model import Journey, Platform
from journeybridge.stages import Classification, Stage, StageSettings, classify, classify_all
from journeybridge.transactions import journeys_from_transactions

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
    "journeys_from_transactions",
]

__version__ = "0.1.0"


def connect(platform: str | Platform, url: str, **credentials: Any) -> ShopAdapter:
    """A client for one shop, speaking the adapter protocol
    (:class:`journeybridge.adapters.ShopAdapter`). ``platform`` is ``"woocommerce"``
    (``credentials``: ``consumer_key`` and ``consumer_secret``) or ``"prestashop"``
    (``key``: the Webservice key; ``timezone_name``: the shop's time zone), plus any adapter
    option (``concurrency``, ``timeout``, ``shop``, ...). The client's ``journeys()`` yields
    one Journey per person.

    Raises ConfigError for an unknown platform or missing credentials."""
    name = platform.value if isinstance(platform, Platform) else str(platform)
    key = credentials.pop("consumer_key", None) or credentials.pop("key", None)
    secret = credentials.pop("consumer_secret", None) or credentials.pop("secret", None)
    secrets = {k: v for k, v in (("key", key), ("secret", secret)) if v}
    return open_adapter(name, url, secrets, **credentials)
