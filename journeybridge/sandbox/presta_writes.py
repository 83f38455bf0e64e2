"""PrestaShop Webservice writes: ``PUT /api/customers`` and ``POST /api/groups``.

The body is an XML document (or ``xml=`` and one). Checks run in the real shop's order: XML
parse, ids (required for PUT, forbidden for POST, no duplicates), required fields, then the
object's field validators in the order its class definition declares them, with 8.1.2's
messages. A PUT replaces the whole object: fields left out are emptied, and groups sent replace
the customer's groups. Other writes answer 501.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .presta_data import PrestaShopData
from .presta_errors import SOURCE_FILE, WsError
from .presta_schema import CUSTOMERS, GROUPS, Record, Resource
from .presta_values import ZERO_DATE, fake_password_hash, parse_shop_date, php_int, shop_date
from .presta_xml import XmlEntity, XmlInputError, parse_input


def write(data: PrestaShopData, raw: bytes, resource: str, method: str
          ) -> tuple[Resource, Record, int]:
    """Apply a write request's body; returns the resource, the last record written as the
    shop echoes it, and the status. Raises :class:`WsError` as the shop fails."""
    body = raw.decode("utf-8", "replace")
    if body.startswith("xml="):
        body = body[4:]
    try:
        entities = parse_input(body)
    except XmlInputError as exc:
        notes = [(3, f"[PHP Warning #2] SimpleXMLElement::__construct(): {n} "
                     f"({SOURCE_FILE}, line 1544)") for n in exc.warnings]
        raise WsError(500, [*notes, (127, f"XML error : {exc}\nXML length : "
                                          f"{len(body.encode())}\nOriginal XML : {body}")]
                      ) from exc
    ids = [e.fields.get("id", "") for e in entities]
    given = [i for i in ids if i.strip() != ""]
    if method in ("PUT", "PATCH"):
        if len({php_int(i) for i in given}) != len(given):
            raise WsError(400, [(89, "id is duplicate in request")])
        if len(entities) != len(given):
            raise WsError(400, [(90, "id is required when modifying a resource")])
    elif given:
        raise WsError(400, [(91, "id is forbidden when adding a new resource")])
    if resource == "customers" and method == "PUT":
        out = [_put_customer(data, e) for e in entities]
        return CUSTOMERS, out[-1] if out else {}, 200
    if resource == "groups" and method == "POST":
        out = [_post_group(data, e) for e in entities]
        return GROUPS, out[-1] if out else {}, 201
    raise WsError(501, [(124, f"The sandbox does not implement {method} on {resource}.")])


def _put_customer(data: PrestaShopData, entity: XmlEntity) -> Record:
    table = data.tables["customers"]
    cid = php_int(entity.fields["id"])
    current = table.record(cid)
    if current is None:
        raise WsError(404, [(92, "Invalid ID")])
    row: dict[str, Any] = {}
    for f in CUSTOMERS.fields:
        if f.name in entity.fields:
            row[f.name] = entity.fields[f.name]
        elif f.required:
            raise WsError(400, [(41, f'parameter "{f.name}" required')])
        else:
            row[f.name] = None
    if row["passwd"] != current["passwd"]:
        row["passwd"] = fake_password_hash(data.population.seed, "passwd", cid,
                                           row["passwd"], time.time_ns())
    message = validate_customer(row)
    if message is not None:
        raise WsError(400, [(85, f'Validation error: "{html.escape(message)}"')])
    groups: list[int] | None = None
    if entity.associations is not None:
        for name in entity.associations:
            if name not in ("groups", "i18n"):
                raise WsError(400, [(86, f'The association "{name}" does not exists')])
        if "groups" in entity.associations:
            groups = [php_int(g.get("id", "")) for g in entity.associations["groups"]]
    if row.get("newsletter") == "1" and parse_shop_date(row.get("newsletter_date_add")
                                                        or "") is None:
        row["newsletter_date_add"] = shop_date(data.population.clock())
    stored = {k: (None if v == "" else v) for k, v in row.items()}
    for f in CUSTOMERS.fields:
        if f.kind in ("int", "flag") and stored.get(f.name) is None and f.name in row \
                and row[f.name] == "":
            stored[f.name] = "0"
    data.write_customer(cid, stored, groups)
    after = table.record(cid)
    assert after is not None
    answer: Record = {f.name: (None if stored.get(f.name) is None else str(stored[f.name]))
                      for f in CUSTOMERS.fields}
    answer["id"] = str(cid)
    answer["date_upd"] = after["date_upd"]
    answer["associations"] = after.get("associations", {})
    return answer


def _post_group(data: PrestaShopData, entity: XmlEntity) -> Record:
    if "price_display_method" not in entity.fields:
        raise WsError(400, [(41, 'parameter "price_display_method" required')])
    names = entity.languages.get("name", {})
    name = names.get(1, "")
    if not name.strip():
        raise WsError(400, [(84, 'Validation error: "Property Group-&gt;name is empty."')])
    reduction = entity.fields.get("reduction")
    pdm = entity.fields["price_display_method"]
    show = entity.fields.get("show_prices")
    for fname, value, ok in (("reduction", reduction, _is_float),
                             ("price_display_method", pdm, lambda v: v in ("0", "1")),
                             ("show_prices", show, _is_bool)):
        if value not in (None, "") and not ok(value):
            raise WsError(400, [(85, f'Validation error: "Property Group-&gt;{fname} is not '
                                     'valid"')])
    gid = data.add_group(name, f"{float(reduction or 0):.2f}", php_int(pdm),
                         show if show not in (None, "") else "1")
    rec = data.tables["groups"].record(gid)
    assert rec is not None
    return {"id": str(gid), "reduction": reduction, "price_display_method": pdm,
            "show_prices": show, "date_add": rec["date_add"], "date_upd": rec["date_upd"],
            "name": name}


# Customer field validation, as an 8.1.2 shop checks it.
_NAME_BAD = re.compile(r"[0-9!<>,;?=+()/\\@#\"°*`{}_^$%:¤\[\]|]")
_GENERIC_BAD = re.compile(r"[<>={}]")


def _is_bool(v: str) -> bool:
    return v in ("0", "1")


def _is_float(v: str) -> bool:
    return re.fullmatch(r"[+-]?\d+(\.\d+)?", v.strip()) is not None


def _is_date(v: str) -> bool:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})( \d{2}:\d{2}:\d{2})?", v)
    if not m:
        return False
    try:
        datetime(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "secure_key": lambda v: re.fullmatch(r"[0-9a-fA-F]{32}", v) is not None,
    "lastname": lambda v: _NAME_BAD.search(v) is None,
    "firstname": lambda v: _NAME_BAD.search(v) is None,
    "email": lambda v: re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+", v) is not None,
    "id_gender": lambda v: v.isdigit(),
    "birthday": lambda v: v == "0000-00-00" or (_is_date(v) and v <= datetime.now().strftime(
        "%Y-%m-%d")),
    "newsletter": _is_bool, "optin": _is_bool, "show_public_prices": _is_bool,
    "active": _is_bool, "deleted": _is_bool, "is_guest": _is_bool,
    "website": lambda v: re.fullmatch(r"[^\s<>\"]+", v) is not None,
    "company": lambda v: _GENERIC_BAD.search(v) is None,
    "siret": lambda v: _GENERIC_BAD.search(v) is None,
    "ape": lambda v: re.fullmatch(r"[0-9]{3,4}[a-zA-Z]", v) is not None,
    "outstanding_allow_amount": _is_float,
    "id_risk": lambda v: v.isdigit(), "max_payment_days": lambda v: v.isdigit(),
    "id_shop": lambda v: v.isdigit(), "id_shop_group": lambda v: v.isdigit(),
    "id_lang": lambda v: v.isdigit(),
    "date_add": _is_date, "date_upd": _is_date,
    "reset_password_token": lambda v: re.fullmatch(r"[0-9a-fA-F]{40}", v) is not None,
    "reset_password_validity": lambda v: v == ZERO_DATE or _is_date(v),
}
_DEFINITION_ORDER = (
    "secure_key", "lastname", "firstname", "email", "passwd", "last_passwd_gen", "id_gender",
    "birthday", "newsletter", "newsletter_date_add", "ip_registration_newsletter", "optin",
    "website", "company", "siret", "ape", "outstanding_allow_amount", "show_public_prices",
    "id_risk", "max_payment_days", "active", "deleted", "note", "is_guest", "id_shop",
    "id_shop_group", "id_default_group", "id_lang", "date_add", "date_upd",
    "reset_password_token", "reset_password_validity")
_SIZES = {"lastname": 255, "firstname": 255, "email": 255, "passwd": 255, "note": 65000,
          "reset_password_token": 40}


def validate_customer(row: dict[str, Any]) -> str | None:
    """The first validation failure of a customer row (unescaped), or None."""
    required = {f.name for f in CUSTOMERS.fields if f.required}
    for name in _DEFINITION_ORDER:
        value = row.get(name)
        text = "" if value is None else str(value)
        if name in required and text == "":
            return f"Property Customer->{name} is empty."
        if text == "":
            continue
        check = _VALIDATORS.get(name)
        if check is not None and not check(text):
            return f"Property Customer->{name} is not valid"
        limit = _SIZES.get(name)
        if limit is not None and len(text) > limit:
            return f"Property Customer->{name} is too long ({limit} chars max)"
    return None
