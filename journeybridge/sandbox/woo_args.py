"""WooCommerce route arguments: their declarations and WordPress's validation of them.

As ``rest_validate_request_arg`` checks them, as far as the shop uses them: the argument
kinds, bounds and enums each wc/v3 list route declares, the error codes and messages of a 400
``rest_invalid_param``, and how a zone-less date argument is read (UTC with
``dates_are_gmt``, else shop time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .oauth1 import PhpParams, PhpValue
from .records import SHOP_TIMEZONE
from .wire import as_text

ORDER_QUERY_STATUSES = ("any", "trash", "auto-draft", "pending", "processing", "on-hold",
                        "completed", "cancelled", "refunded", "failed", "checkout-draft")
ORDER_WRITE_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled",
                        "refunded", "failed", "checkout-draft")
CUSTOMER_ROLES = ("all", "administrator", "editor", "author", "contributor", "subscriber",
                  "customer", "shop_manager")
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([zZ]|[+-]\d{2}(:?\d{2})?)?$")


class ApiError(Exception):
    """A WordPress-style error answer: ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(self, status: int, code: str, message: str,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The JSON body WordPress sends for this error."""
        data: dict[str, Any] = {"status": self.status}
        data.update(self.extra)
        return {"code": self.code, "message": self.message, "data": data}


def utc_from_naive(value: datetime, *, is_gmt: bool) -> datetime:
    """Read a zone-less datetime as UTC (``is_gmt``) or as shop-local time, return aware UTC."""
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    if is_gmt:
        return value.replace(tzinfo=timezone.utc)
    return value.replace(tzinfo=SHOP_TIMEZONE).astimezone(timezone.utc)


def wp_list(items: Sequence[str]) -> str:
    """Join like WordPress ``wp_sprintf_l``: ``a and b``, ``a, b, and c``."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


@dataclass(frozen=True)
class Arg:
    """One declared route argument: name, kind and constraints."""

    name: str
    kind: str  # int, enum, date, bool, int_list, str, enum_list, str_list
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] = ()
    description: str = ""


def parse_list(value: PhpValue) -> list[str]:
    """A list argument's items: a PHP array's strings, or a text split on commas and spaces."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    return [v for v in re.split(r"[\s,]+", value) if v]


def _is_int(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", text.strip()) is not None


def parse_wp_date(text: str) -> datetime | None:
    """A naive or aware datetime from an RFC 3339-ish text as WordPress accepts it, else None."""
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    try:
        base = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]))
    except ValueError:
        return None
    zone = m[8]
    if not zone:
        return base
    if zone in ("z", "Z"):
        return base.replace(tzinfo=timezone.utc)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    return base.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))


def validate(args: Sequence[Arg], params: PhpParams) -> dict[str, Any]:
    """Check and coerce ``params`` against ``args``; raise the WordPress 400 on failure."""
    values: dict[str, Any] = {}
    invalid: dict[str, str] = {}
    details: dict[str, Any] = {}

    def fail(name: str, code: str, message: str) -> None:
        invalid[name] = message
        details[name] = {"code": code, "message": message, "data": None}

    for arg in args:
        raw = params.get(arg.name)
        if raw is None:
            values[arg.name] = arg.default
            continue
        name = arg.name
        if arg.kind == "int":
            text = as_text(raw)
            if text is None or not _is_int(text):
                fail(name, "rest_invalid_type", f"{name} is not of type integer.")
                continue
            number = int(text)
            if arg.minimum is not None and arg.maximum is not None and not (
                    arg.minimum <= number <= arg.maximum):
                fail(name, "rest_out_of_bounds", f"{name} must be between {arg.minimum} "
                     f"(inclusive) and {arg.maximum} (inclusive)")
                continue
            if arg.minimum is not None and number < arg.minimum:
                fail(name, "rest_out_of_bounds",
                     f"{name} must be greater than or equal to {arg.minimum}")
                continue
            values[name] = number
        elif arg.kind == "enum":
            text = as_text(raw)
            if text is None or text not in arg.enum:
                fail(name, "rest_not_in_enum", f"{name} is not one of {wp_list(arg.enum)}.")
                continue
            values[name] = text
        elif arg.kind == "enum_list":
            items = parse_list(raw)
            bad = next((i for i, v in enumerate(items) if v not in arg.enum), None)
            if bad is not None:
                fail(name, "rest_not_in_enum",
                     f"{name}[{bad}] is not one of {wp_list(arg.enum)}.")
                continue
            values[name] = items
        elif arg.kind == "int_list":
            items = parse_list(raw)
            bad = next((i for i, v in enumerate(items) if not _is_int(v)), None)
            if bad is not None:
                fail(name, "rest_invalid_type", f"{name}[{bad}] is not of type integer.")
                continue
            values[name] = [int(v) for v in items]
        elif arg.kind == "date":
            text = as_text(raw)
            parsed = parse_wp_date(text) if text is not None else None
            if parsed is None:
                fail(name, "rest_invalid_date", "Invalid date.")
                continue
            values[name] = parsed
        elif arg.kind == "bool":
            text = as_text(raw)
            truthy = {"true": True, "1": True, "false": False, "0": False, "": False}
            if text is None or text.lower() not in truthy:
                fail(name, "rest_invalid_type", f"{name} is not of type boolean.")
                continue
            values[name] = truthy[text.lower()]
        elif arg.kind == "str_list":
            values[name] = parse_list(raw)
        else:
            text = as_text(raw)
            if text is None:
                fail(name, "rest_invalid_type", f"{name} is not of type string.")
                continue
            values[name] = text
    if invalid:
        raise ApiError(400, "rest_invalid_param",
                       f"Invalid parameter(s): {', '.join(invalid)}",
                       {"params": invalid, "details": details})
    return values


def _common(order_default: str, orderby: tuple[str, ...], orderby_default: str) -> list[Arg]:
    return [
        Arg("context", "enum", "view", enum=("view", "edit"),
            description="Scope under which the request is made; determines fields present in "
                        "response."),
        Arg("page", "int", 1, minimum=1, description="Current page of the collection."),
        Arg("per_page", "int", 10, minimum=1, maximum=100,
            description="Maximum number of items to be returned in result set."),
        Arg("search", "str", description="Limit results to those matching a string."),
        Arg("after", "date", description="Limit response to resources published after a given "
                                         "ISO8601 compliant date."),
        Arg("before", "date", description="Limit response to resources published before a "
                                          "given ISO8601 compliant date."),
        Arg("modified_after", "date", description="Limit response to resources modified after "
                                                  "a given ISO8601 compliant date."),
        Arg("modified_before", "date", description="Limit response to resources modified "
                                                   "before a given ISO8601 compliant date."),
        Arg("dates_are_gmt", "bool", False, description="Whether to consider GMT post dates "
                                                        "when limiting response by published "
                                                        "or modified date."),
        Arg("exclude", "int_list", [], description="Ensure result set excludes specific IDs."),
        Arg("include", "int_list", [], description="Limit result set to specific ids."),
        Arg("offset", "int", description="Offset the result set by a specific number of items."),
        Arg("order", "enum", order_default, enum=("asc", "desc"),
            description="Order sort attribute ascending or descending."),
        Arg("orderby", "enum", orderby_default, enum=orderby,
            description="Sort collection by object attribute."),
        Arg("parent", "int_list", [], description="Limit result set to those of particular "
                                                  "parent IDs."),
        Arg("parent_exclude", "int_list", [], description="Limit result set to all items "
                                                          "except those of a particular "
                                                          "parent ID."),
    ]


ORDER_ARGS: tuple[Arg, ...] = (
    *_common("desc", ("date", "id", "include", "title", "slug", "modified"), "date"),
    Arg("status", "enum_list", ["any"], enum=ORDER_QUERY_STATUSES,
        description="Limit result set to orders which have specific statuses."),
    Arg("customer", "int", description="Limit result set to orders assigned a specific "
                                       "customer."),
    Arg("product", "int", description="Limit result set to orders assigned a specific "
                                      "product."),
    Arg("dp", "int", 2, description="Number of decimal points to use in each resource."),
    Arg("order_item_display_meta", "bool", False,
        description="Only show meta which is meant to be displayed for an order."),
    Arg("include_meta", "str_list", [], description="Limit meta_data to specific keys."),
    Arg("exclude_meta", "str_list", [], description="Ensure meta_data excludes specific keys."),
)
REFUND_ARGS: tuple[Arg, ...] = (
    *_common("desc", ("date", "id", "include", "title", "slug", "modified"), "date"),
    Arg("dp", "int", 2, description="Number of decimal points to use in each resource."),
)
CUSTOMER_ARGS: tuple[Arg, ...] = (
    *(a for a in _common("asc", ("id", "include", "name", "registered_date"), "name")
      if a.name not in ("after", "before", "modified_after", "modified_before",
                        "dates_are_gmt", "parent", "parent_exclude")),
    Arg("email", "str", description="Limit result set to resources with a specific email."),
    Arg("role", "enum", "customer", enum=CUSTOMER_ROLES,
        description="Limit result set to resources with a specific role."),
)
REVIEW_ARGS: tuple[Arg, ...] = (
    *(a for a in _common("desc", ("date", "date_gmt", "id", "include", "product"), "date_gmt")
      if a.name not in ("modified_after", "modified_before", "dates_are_gmt", "parent",
                        "parent_exclude")),
    Arg("reviewer", "int_list", [], description="Limit result set to reviews assigned to "
                                                "specific user IDs."),
    Arg("reviewer_exclude", "int_list", [], description="Ensure result set excludes reviews "
                                                        "assigned to specific user IDs."),
    Arg("reviewer_email", "str", description="Limit result set to that from a specific author "
                                             "email."),
    Arg("product", "int_list", [], description="Limit result set to reviews assigned to "
                                               "specific product IDs."),
    Arg("status", "enum", "approved", enum=("all", "hold", "approved", "spam", "trash"),
        description="Limit result set to reviews assigned a specific status."),
)
SINGLE_ARGS: tuple[Arg, ...] = (
    Arg("context", "enum", "view", enum=("view", "edit"),
        description="Scope under which the request is made; determines fields present in "
                    "response."),
)

