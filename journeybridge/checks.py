"""``journeybridge check``: is each configured shop reachable, are its keys accepted, may they
read and write? Each step says exactly what is wrong and how to fix it.

The write tests are harmless. WooCommerce: ``POST customers/batch`` with an empty ``update``
list changes nothing, but WooCommerce checks the key's permission before looking at the body,
so a read-only key gets its 401 "does not have write permissions" answer. PrestaShop: ``PUT
customers`` and ``POST groups`` with an empty body; the Webservice checks the key's method
rights first (405, code 25, for a key that may not) and then refuses the empty body (code 127)
without changing anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.config import Config, Secrets, ShopConfig, load_secrets
from journeybridge.errors import JourneybridgeError, PermissionDenied, ShopRequestError
from journeybridge.state import StateStore

if TYPE_CHECKING:
    from journeybridge.sync import Adapter

PRESTA_READS = ("customers", "orders", "order_states", "order_histories", "carts",
                "currencies", "groups")
"""The Webservice resources a PrestaShop key must be allowed to read."""

__all__ = ["CheckStep", "check_shop", "check_store"]


@dataclass(frozen=True)
class CheckStep:
    """One step of a check: what was tried, whether it worked, and what was found or what is
    wrong (one line, no secret)."""

    name: str
    ok: bool
    detail: str
    error: JourneybridgeError | None = None


def _secrets_source(shop: ShopConfig, environ: Mapping[str, str]) -> str:
    key_name, secret_name = shop.env_names
    if shop.platform == "prestashop" and environ.get(key_name):
        return f"from the environment ({key_name})"
    if environ.get(key_name) and environ.get(secret_name):
        return f"from the environment ({key_name}, {secret_name})"
    return "from the secrets file"


def check_shop(config: Config, shop: ShopConfig, *,
               secrets_for: Callable[[Config, ShopConfig], Secrets] = load_secrets,
               adapter_factory: Callable[[ShopConfig, Secrets], Adapter] | None = None,
               ) -> list[CheckStep]:
    """Check ``shop``: its secrets are found, the API answers and accepts them for reading
    (WooCommerce: ``GET customers?per_page=1``; PrestaShop: one record of every resource a
    pull reads) and for writing (an empty ``customers/batch`` update; PrestaShop: empty
    ``PUT customers`` and ``POST groups``). Stops at the first failing step. Never raises a
    JourneybridgeError."""
    if adapter_factory is None:
        from journeybridge.sync import open_adapter

        adapter_factory = open_adapter
    steps: list[CheckStep] = []
    try:
        secrets = secrets_for(config, shop)
    except JourneybridgeError as exc:
        return [CheckStep("secrets", False, str(exc), exc)]
    what = "key" if shop.platform == "prestashop" else "key and secret"
    steps.append(CheckStep("secrets", True, f"{what} found "
                                            f"{_secrets_source(shop, os.environ)}"))
    try:
        adapter = adapter_factory(shop, secrets)
    except JourneybridgeError as exc:
        return [*steps, CheckStep("connection", False, str(exc), exc)]
    if isinstance(adapter, PrestaShopAdapter):
        with adapter:
            return [*steps, *_check_presta(adapter, shop)]
    if not isinstance(adapter, WooCommerceAdapter):
        raise TypeError(f"cannot check {type(adapter).__name__}")
    with adapter:
        try:
            answer = adapter.client.request("GET", "customers",
                                            {"per_page": 1, "_fields": "id", "role": "all"})
        except JourneybridgeError as exc:
            return [*steps, CheckStep("read", False, str(exc), exc)]
        total = f"{answer.total} customers" if answer.total is not None else "customers"
        steps.append(CheckStep("read", True, f"the key may read: {total} in {shop.url}"))
        try:
            adapter.client.request("POST", "customers/batch", body={"update": []})
        except JourneybridgeError as exc:
            return [*steps, CheckStep("write", False, str(exc), exc)]
        steps.append(CheckStep("write", True, "the key may write (an empty customers/batch "
                                              "update was accepted)"))
    return steps


def _check_presta(adapter: PrestaShopAdapter, shop: ShopConfig) -> list[CheckStep]:
    steps: list[CheckStep] = []
    try:
        for resource in PRESTA_READS:
            adapter.list_records(resource, {"display": "[id]", "limit": "1"})
    except JourneybridgeError as exc:
        return [CheckStep("read", False, str(exc), exc)]
    version = adapter.client.version or "unknown version"
    steps.append(CheckStep("read", True, f"the key may read {', '.join(PRESTA_READS)} in "
                                         f"{shop.url} (PrestaShop {version})"))
    for method, resource in (("PUT", "customers"), ("POST", "groups")):
        try:
            adapter.client.send_xml(method, resource, "", retry=False)
        except PermissionDenied as exc:
            return [*steps, CheckStep("write", False, str(exc), exc)]
        except ShopRequestError:
            continue  # the empty body refused after the key's rights were checked
        except JourneybridgeError as exc:
            return [*steps, CheckStep("write", False, str(exc), exc)]
    steps.append(CheckStep("write", True, "the key may write (PUT customers and POST groups "
                                          "allowed; empty bodies, nothing changed)"))
    return steps


def check_store(open_store: Callable[[], StateStore]) -> CheckStep:
    """Open (and migrate) the state store; report where it is and its schema version."""
    try:
        with open_store() as store:
            return CheckStep("state store", True, f"{store.url} is usable")
    except JourneybridgeError as exc:
        return CheckStep("state store", False, str(exc), exc)
