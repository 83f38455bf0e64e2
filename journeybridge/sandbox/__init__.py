"""A deterministic sandbox shop served over real HTTP, for tests, demos and benchmarks.

``Population`` generates the people, orders and reviews (platform-neutral, lazily derived);
``SandboxServer`` serves them on 127.0.0.1 through the WooCommerce REST API (wc/v3), with
OAuth 1.0a like a plain-HTTP shop, and with ``platforms=("woocommerce", "prestashop")`` also
through the PrestaShop 8.1.2 Webservice under ``/api/`` (``shop.presta_credentials``), with
optional ``Faults``.

    with SandboxServer(Population(2_000, seed=7)) as shop:
        api = woocommerce.API(shop.url, shop.woo_credentials.key,
                              shop.woo_credentials.secret, version="wc/v3")
"""

from .faults import FaultKind, Faults, PayloadRewrite
from .population import Population
from .presta_api import PrestaApi, PrestaCredentials
from .presta_data import PrestaShopData
from .records import (
    FIRST_ORDER_ID,
    FIRST_REVIEW_ID,
    SHOP_TIMEZONE,
    Address,
    Cart,
    Customer,
    Guest,
    LineItem,
    MetaEntry,
    Order,
    OrderStatus,
    Phase,
    Product,
    Refund,
    Review,
    Role,
)
from .server import SandboxServer, ServerStats
from .wire import HttpRequest, HttpResponse
from .woo_api import WooApi
from .woo_auth import WooCredentials

__all__ = [
    "FIRST_ORDER_ID",
    "FIRST_REVIEW_ID",
    "SHOP_TIMEZONE",
    "Address",
    "Cart",
    "Customer",
    "FaultKind",
    "Faults",
    "Guest",
    "HttpRequest",
    "HttpResponse",
    "LineItem",
    "MetaEntry",
    "Order",
    "OrderStatus",
    "PayloadRewrite",
    "Phase",
    "Population",
    "PrestaApi",
    "PrestaCredentials",
    "PrestaShopData",
    "Product",
    "Refund",
    "Review",
    "Role",
    "SandboxServer",
    "ServerStats",
    "WooApi",
    "WooCredentials",
]
