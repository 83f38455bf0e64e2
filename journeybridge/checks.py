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
from typing import TYPE_CHECKING

from journeybridge.adapters.protocol import CheckStep, ShopAdapter
from journeybridge.config import Config, Secrets, ShopConfig, load_secrets
from journeybridge.errors import JourneybridgeError
from journeybridge.state import StateStore

if TYPE_CHECKING:
    from journeybridge.sync import AdapterFactory

__all__ = ["CheckStep", "check_shop", "check_store"]


def _secrets_source(shop: ShopConfig, environ: Mapping[str, str]) -> str:
    names = shop.required_env
    if all(environ.get(n) for n in names):
        return f"from the environment ({', '.join(names)})"
    return "from the secrets file"


def check_shop(config: Config, shop: ShopConfig, *,
               secrets_for: Callable[[Config, ShopConfig], Secrets] = load_secrets,
               adapter_factory: AdapterFactory | None = None,
               ) -> list[CheckStep]:
    """Check ``shop``: its secrets are found, the API answers and accepts them for reading
    and for writing (each adapter's harmless checks, see
    :meth:`journeybridge.adapters.protocol.ShopAdapter.check`). Stops at the first failing
    step. Never raises a JourneybridgeError."""
    if adapter_factory is None:
        adapter_factory = _checking_adapter
    steps: list[CheckStep] = []
    try:
        secrets = secrets_for(config, shop)
    except JourneybridgeError as exc:
        return [CheckStep("secrets", False, str(exc), exc)]
    what = "key" if len(shop.required_env) == 1 else "key and secret"
    steps.append(CheckStep("secrets", True, f"{what} found "
                                            f"{_secrets_source(shop, os.environ)}"))
    try:
        adapter = adapter_factory(config, shop, secrets)
    except JourneybridgeError as exc:
        return [*steps, CheckStep("connection", False, str(exc), exc)]
    with adapter:
        try:
            found = adapter.check()
        except JourneybridgeError as exc:
            return [*steps, CheckStep("read", False, str(exc), exc)]
    return [*steps, *found]


def _checking_adapter(config: Config, shop: ShopConfig, secrets: Secrets) -> ShopAdapter:
    """The shop's adapter for a check: a refused connection is reported at once (nothing
    listens there; retrying only makes the answer slower)."""
    from journeybridge.adapters.http import RetryPolicy
    from journeybridge.sync import open_shop_adapter

    return open_shop_adapter(config, shop, secrets, retry=RetryPolicy(retry_refused=False))


def check_store(open_store: Callable[[], StateStore]) -> CheckStep:
    """Open (and migrate) the state store; report where it is and its schema version."""
    try:
        with open_store() as store:
            return CheckStep("state store", True, f"{store.url} is usable")
    except JourneybridgeError as exc:
        return CheckStep("state store", False, str(exc), exc)
