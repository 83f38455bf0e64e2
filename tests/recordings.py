"""Access to the real WooCommerce 10.0.2 exchanges recorded in tests/fixtures/woocommerce-real/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WOO_RECORDINGS = Path(__file__).parent / "fixtures" / "woocommerce-real"


def recording(name: str) -> dict[str, Any]:
    """One recording by its file-name prefix (e.g. ``"13"`` or ``"13-order-with..."``)."""
    matches = sorted(WOO_RECORDINGS.glob(f"{name}*.json"))
    if not matches:
        raise FileNotFoundError(f"no recording {name!r} in {WOO_RECORDINGS}")
    data: dict[str, Any] = json.loads(matches[0].read_text(encoding="utf-8"))
    return data


def body_records(name: str) -> list[dict[str, Any]]:
    """The records of a recorded list answer (lists were cut to their first two records)."""
    body = recording(name)["body"]
    if isinstance(body, dict) and "items" in body:
        return list(body["items"])
    return list(body) if isinstance(body, list) else [body]
