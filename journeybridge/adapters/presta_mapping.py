"""PrestaShop Webservice (1.7 / 8.x, JSON output) payloads to journey-model records: pure
functions, no HTTP.

Quirks handled here, as the real 8.1.2 Webservice shows them: ids and counts come as JSON
numbers or as strings (``"id": 1`` beside ``"id_customer": "2"``; a PUT answer has every value
as a string); flags are ``"0"``/``"1"`` (sometimes plain numbers); money is a six-decimal
string, converted through its text, never through float; dates are ``YYYY-MM-DD HH:MM:SS`` in
the shop's time zone without an offset (read in the configured zone, stored in UTC), and
``0000-00-00 00:00:00`` / ``0000-00-00`` / ``null`` mean never; a multilingual field is a plain
string (one language) or a list of ``{"id", "value"}``; an empty association is missing, ``[]``
or ``null``.

Order states are mapped by their flags and names, never by id (shops add and rename states),
see :func:`state_status`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from journeybridge.adapters.fields import count, local_time, money, record_id, reference, text
from journeybridge.errors import InvalidRecord
from journeybridge.model import (
    Cart,
    Order,
    OrderStatus,
    Person,
    Platform,
    StatusChange,
    normalize_email,
)
from journeybridge.validation import build

__all__ = [
    "ADDRESS_FIELDS",
    "STOCK_GENDERS",
    "ZERO_DATES",
    "Address",
    "CustomerRow",
    "OrderState",
    "PrestaMapping",
    "flag",
    "lang_text",
    "lang_values",
    "record_id",
    "state_status",
]

STOCK_GENDERS = {"1": "m", "2": "f"}
"""``id_gender`` of a stock 8.1.2 shop: 1 "Mr." (type 0, male), 2 "Mrs." (type 1, female); 0
is unknown. The Webservice has no ``genders`` resource to look them up."""
ADDRESS_FIELDS = ("[id,id_customer,id_country,id_state,postcode,city,phone,phone_mobile,"
                  "deleted,date_upd]")
"""What is read of an address (``display``): where, and how to call; no street, no name."""
ZERO_DATES = frozenset({"0000-00-00 00:00:00", "0000-00-00", "0000-00-00 00:00"})
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_TEXT = "%Y-%m-%d %H:%M:%S"
_STEP = timedelta(minutes=15)
_REACH = timedelta(hours=3)  # no zone moves its clocks back by more than this


def _fall_backs(since: datetime, until: datetime, zone: tzinfo) -> list[datetime]:
    """The instants in ``(since, until]`` (UTC) at which ``zone`` sets its clocks back, to
    the second; looked for only within ``_REACH`` of either end, the only places where one
    can widen a window."""
    if until - since <= 2 * _REACH:
        spans = [(since, until)]
    else:
        spans = [(since, since + _REACH), (until - _REACH, until)]
    found: list[datetime] = []
    for start, end in spans:
        moment = start
        while moment < end:
            step_end = min(moment + _STEP, end)
            before = moment.astimezone(zone).utcoffset()
            after = step_end.astimezone(zone).utcoffset()
            if before is not None and after is not None and after < before:
                low, high = int(moment.timestamp()), int(step_end.timestamp()) + 1
                while high - low > 1:  # offset at low: the old one; at high: the new one
                    middle = (low + high) // 2
                    at = datetime.fromtimestamp(middle, timezone.utc)
                    if at.astimezone(zone).utcoffset() == before:
                        low = middle
                    else:
                        high = middle
                found.append(datetime.fromtimestamp(high, timezone.utc))
            moment = step_end
    return found


# Words (lower case, any language of the state's name) that say what a state without the
# paid flag means. Checked against the mail template, the module name and every name.
_REFUND_WORDS = ("refund", "rembours", "erstatt", "rückerstatt", "reembols", "rimbors",
                 "terugbetaal", "zwrot")
_CANCEL_WORDS = ("cancel", "annul", "storn", "anul", "geannuleerd", "anulow")
_ERROR_WORDS = ("payment_error", "error", "erreur", "fehler", "fout", "errore", "błąd")
_DELIVERED_WORDS = ("deliver", "livré", "livre", "zugestellt", "geliefert", "entregad",
                    "consegn", "bezorgd", "afgeleverd", "doręcz")


def flag(value: Any) -> bool:
    """A Webservice flag: ``"1"``, ``1``, ``true`` are set; anything else is not."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in ("1", "true")


def lang_values(value: Any) -> list[str]:
    """Every text of a multilingual field: a plain string, or ``[{"id", "value"}, ...]``."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        single = str(value).strip()
        return [single] if single else []
    items = value.get("language", [value]) if isinstance(value, dict) else value
    out: list[str] = []
    if isinstance(items, list):
        for item in items:
            found = item.get("value") if isinstance(item, dict) else item
            if isinstance(found, (str, int, float)) and str(found).strip():
                out.append(str(found).strip())
    return out


def lang_text(value: Any, language_id: str | None = None) -> str:
    """One text of a multilingual field: the given language's, else the first non-empty."""
    if isinstance(value, list) and language_id is not None:
        for item in value:
            if isinstance(item, dict) and record_id(item.get("id")) == language_id:
                found = item.get("value")
                if isinstance(found, str) and found.strip():
                    return found.strip()
    values = lang_values(value)
    return values[0] if values else ""


@dataclass(frozen=True)
class OrderState:
    """An order state as the journey sees it: its shop id and name, and the normalized status
    its flags and names stand for."""

    id: str
    name: str
    status: OrderStatus


def state_status(raw: Mapping[str, Any]) -> OrderStatus:
    """The normalized status of a PrestaShop order state, from its flags first:

    1. ``shipped`` set: delivered when the template, module or a name says delivered (the
       stock "Delivered" state has the same flags as "Shipped" and no template), else shipped.
    2. ``paid`` set (payment accepted, processing, remote payment, backorder paid): paid.
    3. Not paid, no flag of its own, so the mail ``template``, ``module_name`` and every
       name decide: ``refund`` -> refunded, ``order_canceled``/cancel -> cancelled,
       ``payment_error``/error -> failed (payment error).
    4. ``logable`` set (a validated order a module counts as sold): paid.
    5. Anything else (awaiting check, bank wire, cash on delivery, backorder unpaid, unknown
       module states): awaiting payment, the safe fallback that never counts as revenue.
    """
    words = " ".join([str(raw.get("template") or ""), str(raw.get("module_name") or ""),
                      *lang_values(raw.get("name"))]).lower()
    if flag(raw.get("shipped")):
        if any(w in words for w in _DELIVERED_WORDS):
            return OrderStatus.DELIVERED
        return OrderStatus.SHIPPED
    if flag(raw.get("paid")):
        return OrderStatus.PAID
    if any(w in words for w in _REFUND_WORDS):
        return OrderStatus.REFUNDED
    if any(w in words for w in _CANCEL_WORDS):
        return OrderStatus.CANCELLED
    if any(w in words for w in _ERROR_WORDS):
        return OrderStatus.FAILED
    if flag(raw.get("logable")):
        return OrderStatus.PAID
    return OrderStatus.PENDING_PAYMENT


@dataclass(frozen=True)
class CustomerRow:
    """What an order or cart needs to know about the customer row it points to."""

    id: str
    email: str | None
    is_guest: bool
    first_name: str = ""
    last_name: str = ""




@dataclass(frozen=True)
class Address:
    """What the journey keeps of an ``addresses`` row: its id, owner, place and phone
    (``country`` the ISO alpha-2 code of ``id_country``), and whether it is deleted."""

    id: str
    customer_id: str | None
    city: str = ""
    postcode: str = ""
    country: str = ""
    phone: str = ""
    deleted: bool = False
    updated: str = ""

    def fields(self) -> dict[str, str]:
        """The Person fields this address fills."""
        return {"city": self.city, "postcode": self.postcode, "country": self.country,
                "phone": self.phone}


def _birthday(value: Any) -> date | None:
    """A PrestaShop ``birthday`` (``YYYY-MM-DD``; ``0000-00-00`` or empty: none) as a date;
    None too for anything that is not a possible date (a birthday never rejects a customer)."""
    stamp = str(value or "").strip()[:10]
    if not stamp or stamp.startswith("0000"):
        return None
    try:
        found = date.fromisoformat(stamp)
    except ValueError:
        return None
    return found if found.year >= 1900 else None


def _label(kind: str, rid: str | None, raw: Mapping[str, Any]) -> str:
    """``prestashop <kind> <id>`` for messages: the canonical id, else the sent value cut
    short."""
    if rid is not None:
        return f"prestashop {kind} {rid!r}"
    shown = repr(raw.get("id"))
    return f"prestashop {kind} {shown if len(shown) <= 24 else shown[:21] + '...'}"


def _association(raw: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    assoc = raw.get("associations")
    if not isinstance(assoc, dict):
        return []
    rows = assoc.get(name)
    if isinstance(rows, dict):  # one row, rendered as an object by some versions
        rows = [rows]
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


@dataclass
class PrestaMapping:
    """Maps one shop's payloads. ``timezone`` is the shop's time zone (Configure > International
    > Localization > Configuration, ``PS_TIMEZONE``): every date is read in it.
    ``currencies`` maps currency ids to ISO codes; ``states`` the shop's order states."""

    shop: str
    timezone: str = "UTC"
    currencies: dict[str, str] = field(default_factory=dict)
    states: dict[str, OrderState] = field(default_factory=dict)
    default_currency: str = "EUR"
    countries: dict[str, str] = field(default_factory=dict)
    genders: dict[str, str] = field(default_factory=lambda: dict(STOCK_GENDERS))
    carriers: dict[str, str] = field(default_factory=dict)
    """Carrier ids to names, where the key may read ``carriers``."""

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.timezone)

    def shipment(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
        """An order's tracking number and carrier from its ``order_carriers`` rows: the
        newest row with a tracking number (else the newest row). The carrier is its name
        from :attr:`carriers`, None where the name is unknown; an empty tracking number is
        None."""
        if not rows:
            return {}
        ordered = sorted(rows, key=lambda r: int(record_id(r.get("id")) or 0))
        tracked = [r for r in ordered if str(r.get("tracking_number") or "").strip()]
        row = (tracked or ordered)[-1]
        number = str(row.get("tracking_number") or "").strip() or None
        carrier = self.carriers.get(record_id(row.get("id_carrier")) or "") or None
        return {"tracking_number": number, "carrier": carrier}

    # -- dates --------------------------------------------------------------------------------

    def parse_date(self, value: Any) -> datetime | None:
        """A shop-local date string as aware UTC; None for never (zero dates, null, "").
        Raises ValueError for anything else that is not a date between 1970 and 2200. A
        time in the repeated hour of a DST fall-back is read as its first pass (the
        earlier instant, ``fold=0``): PrestaShop stores wall-clock text, so the two passes
        cannot be told apart."""
        if value is None:
            return None
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValueError(f"not a date: {str(value)[:30]!r}")
        stamp = str(value).strip()
        if not stamp or stamp in ZERO_DATES or stamp.startswith("0000-00-00"):
            return None
        if len(stamp) in (10, 19) and stamp[4] == "-":
            try:  # the shape the Webservice uses: the fast path
                naive = datetime.fromisoformat(stamp)
            except ValueError:
                pass
            else:
                if naive.tzinfo is None:
                    return local_time(naive, self._zone)
        for fmt in _DATE_FORMATS:
            try:
                naive = datetime.strptime(stamp, fmt)
            except ValueError:
                continue
            return local_time(naive, self._zone)
        raise ValueError(f"not a date: {stamp[:30]!r}")

    def shop_time(self, moment: datetime) -> str:
        """An aware moment as the shop writes dates (its zone, no offset): for date filters."""
        if moment.tzinfo is None:
            raise ValueError("the moment must be timezone-aware")
        return moment.astimezone(self._zone).strftime(_TEXT)

    def window_text(self, since: datetime, until: datetime) -> tuple[str, str]:
        """The inclusive ``filter[date_upd]`` bounds, as the shop writes dates, that hold
        every change made between ``since`` and ``until`` (aware moments). PrestaShop
        compares wall-clock text, so the bounds never reverse (``until`` before ``since`` is
        taken as ``since``) and stretch over a DST fall-back inside the window: from the
        first wall-clock time of the repeated hour's second pass to the last one of its first
        pass (in Europe/Amsterdam on 2026-10-25, ``02:00:00`` and ``02:59:59``), so a change
        made in either pass is read by the first run after it. A spring-forward gap needs
        nothing: those wall-clock times never occur."""
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("the moments must be timezone-aware")
        since = since.astimezone(timezone.utc)
        until = max(until.astimezone(timezone.utc), since)
        low, high = self._wall(since), self._wall(until)
        for moment in _fall_backs(since, until, self._zone):
            low = min(low, self._wall(moment))
            high = max(high, self._wall(moment - timedelta(seconds=1)))
        return low.strftime(_TEXT), high.strftime(_TEXT)

    def _wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self._zone).replace(tzinfo=None)

    def _when(self, raw: Mapping[str, Any], name: str, problems: list[str]) -> datetime | None:
        try:
            return self.parse_date(raw.get(name))
        except ValueError:
            problems.append(f"field '{name}': not a date ({str(raw.get(name))[:30]!r})")
            return None

    def _source(self, resource: str, rid: str) -> dict[str, Any]:
        """The record's SourceRef, as data validated with the record (one validation)."""
        return {"platform": Platform.PRESTASHOP, "resource": resource, "id": rid}

    # -- records ------------------------------------------------------------------------------

    def address(self, raw: Mapping[str, Any]) -> Address | None:
        """An ``addresses`` row, or None without a usable id. ``country`` comes from
        :attr:`countries` (empty for an id the shop does not list); ``phone`` is the
        landline, else the mobile number."""
        aid = record_id(raw.get("id"))
        if aid is None:
            return None
        owner = record_id(raw.get("id_customer"))
        phone = text(raw.get("phone")) or text(raw.get("phone_mobile"))
        return Address(aid, owner, city=text(raw.get("city")), postcode=text(raw.get("postcode")),
                       country=self.countries.get(record_id(raw.get("id_country")) or "", ""),
                       phone=phone, deleted=flag(raw.get("deleted")),
                       updated=str(raw.get("date_upd") or ""))

    def order_state(self, raw: Mapping[str, Any]) -> OrderState:
        """An ``order_states`` record. Raises InvalidRecord without a usable id."""
        state_id = record_id(raw.get("id"))
        if state_id is None:
            raise InvalidRecord(f"prestashop order state {raw.get('id')!r}",
                                ["field 'id': missing or not a positive integer"])
        name = lang_text(raw.get("name")) or f"state {state_id}"
        return OrderState(state_id, name, state_status(raw))

    def customer(self, raw: Mapping[str, Any]) -> Person:
        """A customer row as a Person: an account (``customer:<id>``) or a guest checkout row
        (``is_guest``; key ``guest:<e-mail>``, ``customer_id`` the row id, so several rows of
        one guest share a key). ``groups`` are the row's group ids; ``meta`` holds ``optin``
        (partner offers, ``"0"``/``"1"``) and ``deleted`` when the row is soft-deleted.
        Raises InvalidRecord naming the row and every bad field."""
        problems: list[str] = []
        row_id = record_id(raw.get("id"))
        label = _label("customer", row_id, raw)
        if row_id is None:
            raise InvalidRecord(label, ["field 'id': missing or not a positive integer"])
        is_guest = flag(raw.get("is_guest"))
        email = normalize_email(text(raw.get("email")))
        if is_guest and email is None:
            problems.append("field 'email': a guest row needs an e-mail address (its identity)")
        registered = self._when(raw, "date_add", problems)
        modified = self._when(raw, "date_upd", problems)
        subscribed_at = self._when(raw, "newsletter_date_add", problems)
        if problems:
            raise InvalidRecord(label, problems)
        groups = tuple(g for g in (record_id(r.get("id")) for r in _association(raw, "groups"))
                       if g is not None)
        meta = {"optin": "1" if flag(raw.get("optin")) else "0"}
        if flag(raw.get("deleted")):
            meta["deleted"] = "1"
        subscribed = flag(raw.get("newsletter"))
        return build(
            Person,
            {
                "shop": self.shop,
                "platform": Platform.PRESTASHOP,
                "key": f"guest:{email}" if is_guest else f"customer:{row_id}",
                "customer_id": row_id,
                "is_guest": is_guest,
                "email": email,
                "first_name": text(raw.get("firstname")),
                "last_name": text(raw.get("lastname")),
                "birthday": _birthday(raw.get("birthday")),
                "gender": self.genders.get(record_id(raw.get("id_gender")) or "", ""),
                "roles": ("guest",) if is_guest else ("customer",),
                "groups": groups,
                "registered_at": registered,
                "modified_at": modified,
                "newsletter": {"subscribed": subscribed, "at": subscribed_at if subscribed
                               else None},
                "meta": meta,
                "source": self._source("customer", row_id),
            },
            label,
        )

    def history(self, rows: Iterable[Mapping[str, Any]]) -> list[StatusChange]:
        """``order_histories`` rows of one order as status changes, in time order (ties by
        row id). Rows with an unknown state or no date are left out."""
        return [StatusChange.model_validate(step) for step in self._steps(rows)]

    def history_row(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """One ``order_histories`` row, checked before it joins its order's history: its id,
        ``id_order`` and ``id_order_state`` must be ids and ``date_add`` a date (or a zero
        date). Returns the row; raises InvalidRecord naming the row and every bad field, so a
        broken row is reported and never folded into a good order."""
        row_id = record_id(raw.get("id"))
        label = _label("order history", row_id, raw)
        problems: list[str] = []
        if row_id is None:
            problems.append("field 'id': missing or not a positive integer")
        for name in ("id_order", "id_order_state"):
            if record_id(raw.get(name)) is None:
                problems.append(f"field '{name}': not an id ({str(raw.get(name))[:30]!r})")
        try:
            self.parse_date(raw.get("date_add"))
        except (ValueError, OverflowError):
            problems.append(f"field 'date_add': not a date ({str(raw.get('date_add'))[:30]!r})")
        if problems:
            raise InvalidRecord(label, problems)
        return dict(raw)

    def _steps(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """:meth:`history` as data, validated with the order it belongs to (once)."""
        changes: list[tuple[datetime, int, dict[str, Any]]] = []
        for raw in rows:
            state = self.states.get(record_id(raw.get("id_order_state")) or "")
            try:
                at = self.parse_date(raw.get("date_add"))
            except ValueError:
                at = None
            if state is None or at is None:
                continue
            changes.append((at, int(record_id(raw.get("id")) or 0),
                            {"status": state.status, "raw_status": state.name, "at": at}))
        changes.sort(key=lambda c: (c[0], c[1]))
        return [c[2] for c in changes]

    def order(self, raw: Mapping[str, Any], customer: CustomerRow | None,
              history_rows: Sequence[Mapping[str, Any]] = (),
              address: Address | None = None) -> Order:
        """An order as an Order. ``customer`` is the row ``id_customer`` points to: an
        account gives ``customer_id``; a guest row gives ``customer_id`` None and the row's
        e-mail, so journeys merge guests by e-mail. ``history_rows`` are its
        ``order_histories``; the current state is appended when the history does not end in
        it. ``address`` is its invoice address (else its delivery address): the billing
        place and phone. Raises InvalidRecord naming the order and every bad field."""
        problems: list[str] = []
        order_id = record_id(raw.get("id"))
        label = _label("order", order_id, raw)
        if order_id is None:
            raise InvalidRecord(label, ["field 'id': missing or not a positive integer"])
        customer_ref = reference(raw.get("id_customer"), "id_customer", problems)
        state_id = record_id(raw.get("current_state"))
        state = self.states.get(state_id or "")
        if state_id is None:
            problems.append("field 'current_state': missing")
        created = self._when(raw, "date_add", problems)
        if created is None and not any("date_add" in p for p in problems):
            problems.append("field 'date_add': missing")
        modified = self._when(raw, "date_upd", problems)
        invoiced = self._when(raw, "invoice_date", problems)
        delivered = self._when(raw, "delivery_date", problems)
        incl = money(raw.get("total_paid_tax_incl", raw.get("total_paid")),
                      "total_paid_tax_incl", problems)
        excl = money(raw.get("total_paid_tax_excl", raw.get("total_paid")),
                      "total_paid_tax_excl", problems)
        total = money(raw.get("total_paid"), "total_paid", problems)
        shipping = money(raw.get("total_shipping_tax_excl", raw.get("total_shipping")),
                          "total_shipping_tax_excl", problems)
        discounts = money(raw.get("total_discounts_tax_excl", raw.get("total_discounts")),
                           "total_discounts_tax_excl", problems)
        lines = []
        for index, row in enumerate(_association(raw, "order_rows")):
            number = (0 if row.get("product_quantity") in (None, "")
                      else count(row.get("product_quantity")))
            if number is None:
                problems.append(f"field 'order_rows.{index}.product_quantity': not a count")
                continue
            unit = money(row.get("unit_price_tax_excl", row.get("product_price")),
                          f"order_rows.{index}.unit_price_tax_excl", problems)
            lines.append({
                "product_id": record_id(row.get("product_id")) or "0",
                "variation_id": record_id(row.get("product_attribute_id")),
                "name": text(row.get("product_name")),
                "sku": text(row.get("product_reference")),
                "quantity": number,
                "unit_price": unit,
                "total": unit * number,
            })
        if problems:
            raise InvalidRecord(label, problems)
        assert created is not None
        assert state_id is not None
        if state is None:  # a state the shop no longer lists: unknown, so not paid
            state = OrderState(state_id, f"state {state_id}", OrderStatus.PENDING_PAYMENT)
        history = self._steps(history_rows)
        if not history or history[-1]["raw_status"] != state.name:
            at = max(modified or created, history[-1]["at"] if history else created)
            history.append({"status": state.status, "raw_status": state.name, "at": at})
        paid_at = next((c["at"] for c in history if c["status"].is_paid), None)
        completed = next((c["at"] for c in history if c["status"] is OrderStatus.DELIVERED),
                         None)
        currency = self.currencies.get(record_id(raw.get("id_currency")) or "",
                                       self.default_currency)
        customer_id = None
        email = None
        first = last = ""
        if customer is not None:
            customer_id = None if customer.is_guest else customer.id
            email = customer.email
            first, last = customer.first_name, customer.last_name
        else:
            customer_id = customer_ref
        del invoiced, delivered  # the history says when; kept parsed to reject garbage
        return build(
            Order,
            {
                "id": order_id,
                "number": text(raw.get("reference")) or order_id,
                "customer_id": customer_id,
                "email": email,
                "status": state.status,
                "raw_status": state.name,
                "currency": currency,
                "total": incl if raw.get("total_paid_tax_incl") is not None else total,
                "total_tax": max(incl - excl, Decimal("0")),
                "shipping_total": shipping,
                "discount_total": discounts,
                "created_at": created,
                "modified_at": modified,
                "paid_at": paid_at,
                "completed_at": completed,
                "lines": lines,
                "history": history,
                "cart_id": record_id(raw.get("id_cart")),
                "payment_method": text(raw.get("module")) or text(raw.get("payment")),
                "billing_first_name": first,
                "billing_last_name": last,
                "billing_phone": address.phone if address else "",
                "billing_city": address.city if address else "",
                "billing_postcode": address.postcode if address else "",
                "billing_country": address.country if address else "",
                "source": self._source("order", order_id),
            },
            label,
        )

    def cart(self, raw: Mapping[str, Any]) -> Cart:
        """A cart with its rows; ``customer_id`` is the customer row it belongs to (None for
        an unknown visitor). Whether an order was placed from it is decided later, from the
        orders' ``id_cart``. Raises InvalidRecord."""
        problems: list[str] = []
        cart_id = record_id(raw.get("id"))
        label = _label("cart", cart_id, raw)
        if cart_id is None:
            raise InvalidRecord(label, ["field 'id': missing or not a positive integer"])
        created = self._when(raw, "date_add", problems)
        if created is None and not any("date_add" in p for p in problems):
            problems.append("field 'date_add': missing")
        updated = self._when(raw, "date_upd", problems)
        customer_ref = reference(raw.get("id_customer"), "id_customer", problems)
        lines = []
        for index, row in enumerate(_association(raw, "cart_rows")):
            quantity = count(row.get("quantity"))
            if quantity is None:
                problems.append(f"field 'cart_rows.{index}.quantity': not a count")
                continue
            lines.append({"product_id": record_id(row.get("id_product")) or "0",
                          "variation_id": record_id(row.get("id_product_attribute")),
                          "quantity": quantity})
        if problems:
            raise InvalidRecord(label, problems)
        return build(
            Cart,
            {
                "id": cart_id,
                "customer_id": customer_ref,
                "created_at": created,
                "updated_at": updated,
                "currency": self.currencies.get(record_id(raw.get("id_currency")) or ""),
                "lines": lines,
                "source": self._source("cart", cart_id),
            },
            label,
        )
