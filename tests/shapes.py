"""Comparing JSON answers by shape: field names and JSON types, not values."""

from __future__ import annotations

from typing import Any

IGNORED = frozenset({"_links"})  # hypermedia whose keys depend on values (a guest has no
#                                  customer link); the adapters never read them


def json_type(value: Any) -> str:
    """The JSON type of a value (ints and floats are both numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_differences(real: Any, ours: Any, path: str = "$") -> list[str]:
    """Where ``ours`` differs from ``real`` in field names or JSON types. ``null`` on either
    side matches any type (a date not set yet, a field with no value in this record); list
    elements are compared element-wise over the shorter list, and all against the first
    element of the other side when one side has a single element."""
    real_type, our_type = json_type(real), json_type(ours)
    if "null" in (real_type, our_type):
        return []
    if real_type != our_type:
        return [f"{path}: real is {real_type}, sandbox is {our_type}"]
    out: list[str] = []
    if isinstance(real, dict):
        real = {k: v for k, v in real.items() if k not in IGNORED}
        ours = {k: v for k, v in ours.items() if k not in IGNORED}
        missing = sorted(set(real) - set(ours))
        extra = sorted(set(ours) - set(real))
        if missing:
            out.append(f"{path}: sandbox lacks {missing}")
        if extra:
            out.append(f"{path}: sandbox adds {extra}")
        for key in sorted(set(real) & set(ours)):
            out.extend(shape_differences(real[key], ours[key], f"{path}.{key}"))
    elif isinstance(real, list) and real and ours:
        for index in range(min(len(real), len(ours))):
            out.extend(shape_differences(real[index], ours[index], f"{path}[{index}]"))
    return out
