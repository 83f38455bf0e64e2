"""Each PrestaShop resource's rows: ids in the shop's order, vectorised columns, records.

A :class:`Table` lists its ids in the order the shop lists them without ``sort``, offers the
columns clients filter and sort on as arrays where it can (ids, dates as UTC seconds, foreign
keys, states), and renders one record at a time with the JSON types a real 8.1.2 Webservice
gives (integers as numbers, flags as ``"0"``/``"1"``, money as six-decimal strings, dates in
shop time). The rows come from :class:`~.presta_data.PrestaShopData`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .presta_schema import (
    ADDRESSES,
    CARTS,
    CONFIGURATIONS,
    COUNTRIES,
    CURRENCIES,
    CUSTOMERS,
    GROUPS,
    LANG_ID,
    ORDER_CARRIERS,
    ORDER_DETAILS,
    ORDER_HISTORIES,
    ORDER_STATES,
    ORDERS,
    PRODUCTS,
    Record,
    Resource,
)
from .presta_states import (
    AWAITING_WIRE,
    CANCELED,
    PAYMENT_ERROR,
    REFUNDED,
    STATE_NATURAL_ORDER,
    state_flags,
    state_record,
)
from .presta_values import (
    ZERO_DATE,
    fake_password_hash,
    hex_key,
    money,
    parse_local,
    php_int,
    shop_date,
    typed,
)
from .records import FIRST_ORDER_ID, SHOP_TIMEZONE, OrderStatus

if TYPE_CHECKING:
    from .presta_data import PrestaShopData

IdArray = npt.NDArray[np.int64]
#: Order notes left at checkout (most orders have none).
ORDER_NOTES = ("", "", "", "Graag bij de buren afgeven", "", "", "", "", "", "", "Cadeau",
               "", "")
#: A few rows of a real 8.1.2 shop's ``countries`` (its ids, zones, call prefixes, zip formats
#: and English names; the real one has 241): the countries the generator uses and some more.
_COUNTRY_ROWS = (
    # id, id_zone, call_prefix, iso_code, active, contains_states, need_identification_number,
    # zip_code_format, display_tax_label, name
    (1, 1, 49, "DE", "0", "0", "0", "NNNNN", "1", "Germany"),
    (2, 1, 43, "AT", "0", "0", "0", "NNNN", "1", "Austria"),
    (3, 1, 32, "BE", "0", "0", "0", "NNNN", "1", "Belgium"),
    (6, 1, 34, "ES", "0", "0", "1", "NNNNN", "1", "Spain"),
    (8, 1, 33, "FR", "1", "0", "0", "NNNNN", "1", "France"),
    (10, 1, 39, "IT", "0", "1", "0", "NNNNN", "1", "Italy"),
    (13, 1, 31, "NL", "0", "0", "0", "NNNN LL", "1", "Netherlands"),
    (14, 1, 48, "PL", "0", "0", "0", "NN-NNN", "1", "Poland"),
    (17, 7, 44, "GB", "0", "0", "0", "", "1", "United Kingdom"),
    (19, 7, 41, "CH", "0", "0", "0", "NNNN", "1", "Switzerland"),
    (21, 2, 1, "US", "1", "1", "0", "NNNNN", "0", "United States"),
)
_COUNTRY_IDS = {row[3]: row[0] for row in _COUNTRY_ROWS}


class Table:
    """Rows of one resource: ids in natural order, vectorised columns, one record at a time."""

    resource: Resource

    def ids(self) -> IdArray:
        """Every id, in the order the shop lists them without ``sort``."""
        raise NotImplementedError

    def column(self, name: str) -> npt.NDArray[Any] | None:
        """Values of a field aligned with :meth:`ids` (dates as UTC Unix seconds), or None
        when the field is only available record by record."""
        return None

    def record(self, rid: int) -> Record | None:
        """The record with this id (typed values, ``associations`` last), or None."""
        raise NotImplementedError


def make_tables(data: PrestaShopData) -> dict[str, Table]:
    """Every resource the sandbox serves with data, by name."""
    return {
        "customers": _Customers(data), "orders": _Orders(data),
        "order_histories": _Histories(data), "order_states": _States(),
        "order_carriers": _OrderCarriers(data),
        "carts": _Carts(data), "groups": _Groups(data), "currencies": _Currencies(),
        "configurations": _Configurations(data),
        "addresses": _Addresses(data), "order_details": _OrderDetails(data),
        "countries": _Countries(),
        "products": _Products(data),
    }


class _DataTable(Table):
    """A table whose rows derive from the PrestaShop data of a population."""

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data


class _Customers(_DataTable):
    resource = CUSTOMERS

    def ids(self) -> IdArray:
        pop = self.data.population
        return np.arange(1, pop.size + 1 + self.data.guest_orders().size, dtype=np.int64)

    def column(self, name: str) -> npt.NDArray[Any] | None:
        data, pop = self.data, self.data.population
        guests = data.guest_orders()
        if name == "id":
            return self.ids()
        if name == "is_guest":
            return np.concatenate([np.zeros(pop.size, np.int64), np.ones(guests.size, np.int64)])
        if name in ("date_add", "date_upd"):
            def build() -> npt.NDArray[np.int64]:
                reg, _news = pop.person_count_arrays()
                created, _m, _s, _c = pop.order_index_arrays()
                g_add = created[guests].astype(np.int64) - 30
                if name == "date_add":
                    return data.utc_seconds(np.concatenate([reg[: pop.size], g_add]))
                mods = np.array([int((c.date_modified or c.date_created).timestamp())
                                 for c in pop.customers()], dtype=np.int64)
                out = np.concatenate([mods, data.utc_seconds(g_add)])
                with data.state.lock:
                    written = dict(data.state.customer_rows)
                for cid, row in written.items():
                    if cid > pop.size:
                        out[cid - 1] = parse_local(str(row["date_upd"]))
                return out
            result: npt.NDArray[np.int64] = data.cached("customers_" + name, (), build)
            return result
        return None

    def record(self, rid: int) -> Record | None:
        data, pop = self.data, self.data.population
        guests = data.guest_orders()
        if rid < 1 or rid > pop.size + guests.size:
            return None
        is_guest = rid > pop.size
        if is_guest:
            k = int(guests[rid - pop.size - 1])
            o = pop.order(FIRST_ORDER_ID + k)
            assert o is not None
            person = o.person_index
            first, last, email = o.billing.first_name, o.billing.last_name, o.billing.email
            added = o.date_created - timedelta(seconds=30)
            updated = added
            newsletter_at = None
        else:
            c = pop.customer(rid)
            assert c is not None
            person = c.person_index
            first, last, email = c.first_name, c.last_name, c.email
            added, updated = c.date_created, c.date_modified or c.date_created
            newsletter_at = c.newsletter_optin_at
        rng = np.random.default_rng([pop.seed, person, 0x9E57])
        birthday = "0000-00-00"
        if rng.random() < 0.4:
            birthday = f"{int(rng.integers(1950, 2006))}-{int(rng.integers(1, 13)):02d}-" \
                       f"{int(rng.integers(1, 29)):02d}"
        optin = "1" if rng.random() < 0.15 else "0"
        gender = int(rng.integers(0, 3))
        rec: Record = {
            "id": rid, "id_default_group": 2 if is_guest else 3, "id_lang": LANG_ID,
            "newsletter_date_add": shop_date(newsletter_at),
            "ip_registration_newsletter": "", "last_passwd_gen": shop_date(added),
            "secure_key": hex_key(pop.seed, "secure", rid),
            "deleted": "0", "passwd": fake_password_hash(pop.seed, "passwd", rid),
            "lastname": last, "firstname": first, "email": email, "id_gender": gender,
            "birthday": birthday, "newsletter": "1" if newsletter_at is not None else "0",
            "optin": "0" if is_guest else optin, "website": "", "company": "", "siret": "",
            "ape": "", "outstanding_allow_amount": money(0), "show_public_prices": "0",
            "id_risk": 0, "max_payment_days": 0, "active": "1", "note": "",
            "is_guest": "1" if is_guest else "0", "id_shop": 1, "id_shop_group": 1,
            "date_add": shop_date(added), "date_upd": shop_date(updated),
            "reset_password_token": "", "reset_password_validity": ZERO_DATE,
        }
        with data.state.lock:
            written = data.state.customer_rows.get(rid)
        if written is not None:
            for f in CUSTOMERS.fields:
                if f.name in written and f.name != "id":
                    rec[f.name] = typed(f, written[f.name])
            if not is_guest:
                rec["date_upd"] = shop_date(updated)
        groups = data.customer_groups(rid, is_guest)
        known = data.group_ids()
        rec["associations"] = {"groups": [{"id": g} for g in groups if g in known]}
        return rec


class _Orders(_DataTable):
    resource = ORDERS

    def ids(self) -> IdArray:
        return self.data.visible_orders() + FIRST_ORDER_ID

    def column(self, name: str) -> npt.NDArray[Any] | None:
        data, pop = self.data, self.data.population
        ks = data.visible_orders()
        if name == "id":
            return ks + FIRST_ORDER_ID
        created, modified, _s, _c = pop.order_index_arrays()
        if name == "date_add":
            return data.utc_seconds(created[ks])
        if name == "date_upd":
            return data.utc_seconds(modified[ks])
        if name == "id_customer":
            return data.presta_customer_of_orders()[ks]
        if name == "current_state":
            return data.current_states()[ks]
        if name == "id_cart":
            return np.array([pop.cart_of_order(int(k) + FIRST_ORDER_ID) for k in ks],
                            dtype=np.int64)
        return None

    def record(self, rid: int) -> Record | None:
        data, pop = self.data, self.data.population
        k = rid - FIRST_ORDER_ID
        if k < 0 or k >= pop.order_count_all:
            return None
        states = data.current_states()
        if states[k] == 0:
            return None
        o = pop.order(rid)
        if o is None or o.status in (OrderStatus.CHECKOUT_DRAFT, OrderStatus.TRASH):
            return None
        h = data.histories()
        rows = np.flatnonzero(h["k"] == k)
        reached = [(int(h["state"][i]), int(h["at"][i])) for i in rows]
        state = int(states[k])
        invoice_at = next((at for st, at in reached if state_flags(st).get("invoice")), None)
        ship_at = next((at for st, at in reached if state_flags(st).get("shipped")), None)
        paid = any(state_flags(st).get("paid") for st, _ in reached) and state not in (
            CANCELED, REFUNDED, PAYMENT_ERROR)
        wire = data.bank_wire(k) or any(st == AWAITING_WIRE for st, _ in reached)
        address = o.person_index + 1
        items = o.items_total
        rng = np.random.default_rng([pop.seed, k, 0x0DE7])
        reference = "".join(chr(65 + int(x)) for x in rng.integers(0, 26, 9))
        cid = int(data.presta_customer_of_orders()[k])
        return {
            "id": rid, "id_address_delivery": address, "id_address_invoice": address,
            "id_cart": pop.cart_of_order(rid), "id_currency": 1, "id_lang": LANG_ID,
            "id_customer": cid, "id_carrier": 2, "current_state": state,
            "module": "ps_wirepayment" if wire else "ps_checkpayment",
            "invoice_number": rid if invoice_at is not None else 0,
            "invoice_date": shop_date(data.dt(invoice_at)) if invoice_at is not None
            else ZERO_DATE,
            "delivery_number": rid if ship_at is not None else 0,
            "delivery_date": shop_date(data.dt(ship_at)) if ship_at is not None else ZERO_DATE,
            "valid": "1" if state_flags(state).get("logable") else "0",
            "date_add": shop_date(o.date_created), "date_upd": shop_date(o.date_modified),
            # the Webservice's getter reads it from the order's order_carriers row
            "shipping_number": tracking_number(o), "note": ORDER_NOTES[k % len(ORDER_NOTES)],
            "id_shop_group": 1, "id_shop": 1,
            "secure_key": hex_key(pop.seed, "secure", cid),
            "payment": "Bank wire" if wire else "Payment by check",
            "recyclable": "0", "gift": "0", "gift_message": "", "mobile_theme": "0",
            "total_discounts": money(0), "total_discounts_tax_incl": money(0),
            "total_discounts_tax_excl": money(0), "total_paid": money(o.total),
            "total_paid_tax_incl": money(o.total),
            "total_paid_tax_excl": money(o.total - o.total_tax),
            "total_paid_real": money(o.total if paid else 0),
            "total_products": money(items), "total_products_wt": money(items),
            "total_shipping": money(o.shipping_total),
            "total_shipping_tax_incl": money(o.shipping_total),
            "total_shipping_tax_excl": money(o.shipping_total), "carrier_tax_rate": "0.000",
            "total_wrapping": money(0), "total_wrapping_tax_incl": money(0),
            "total_wrapping_tax_excl": money(0), "round_mode": 0, "round_type": 0,
            "conversion_rate": money(1), "reference": reference,
            "associations": {"order_rows": [{
                "id": li.id, "product_id": li.product_id, "product_attribute_id": 0,
                "product_quantity": li.quantity, "product_name": li.name,
                "product_reference": li.sku, "product_ean13": "", "product_isbn": "",
                "product_upc": "", "product_price": money(li.price), "id_customization": 0,
                "unit_price_tax_incl": money(li.price), "unit_price_tax_excl": money(li.price),
            } for li in o.line_items]},
        }


def tracking_number(order: Any) -> str:
    """The tracking number of a population order's shipment ("" when untracked): the one its
    shipment-tracking meta carries, so both platforms serve the same shipment."""
    for entry in order.meta_data:
        if entry.key == "_wc_shipment_tracking_items" and isinstance(entry.value, list):
            numbers = [str(i.get("tracking_number") or "") for i in entry.value
                       if isinstance(i, dict)]
            return next((n for n in reversed(numbers) if n), "")
    return ""


class _OrderCarriers(_DataTable):
    """One carrier row per order (an order gets it when it is validated), with the tracking
    number once the order shipped tracked; its id is the order's, as in a shop that never
    split a shipment."""

    resource = ORDER_CARRIERS

    def ids(self) -> IdArray:
        return self.data.visible_orders() + FIRST_ORDER_ID

    def column(self, name: str) -> npt.NDArray[Any] | None:
        data, pop = self.data, self.data.population
        ks = data.visible_orders()
        if name in ("id", "id_order"):
            return ks + FIRST_ORDER_ID
        if name == "date_add":
            created, _m, _s, _c = pop.order_index_arrays()
            return data.utc_seconds(created[ks])
        return None

    def record(self, rid: int) -> Record | None:
        data, pop = self.data, self.data.population
        k = rid - FIRST_ORDER_ID
        if k < 0 or k >= pop.order_count_all or data.current_states()[k] == 0:
            return None
        o = pop.order(rid)
        if o is None or o.status in (OrderStatus.CHECKOUT_DRAFT, OrderStatus.TRASH):
            return None
        return {"id": rid, "id_order": rid, "id_carrier": 2,
                "id_order_invoice": rid if o.date_paid is not None else 0,
                "weight": money(0), "shipping_cost_tax_excl": money(o.shipping_total),
                "shipping_cost_tax_incl": money(o.shipping_total),
                "tracking_number": tracking_number(o), "date_add": shop_date(o.date_created)}


class _Histories(_DataTable):
    resource = ORDER_HISTORIES

    def _order(self) -> npt.NDArray[np.int64]:
        def build() -> npt.NDArray[np.int64]:
            h = self.data.histories()
            return np.lexsort((h["id"], h["k"])).astype(np.int64)
        result: npt.NDArray[np.int64] = self.data.cached("history_order", (), build)
        return result

    def ids(self) -> IdArray:
        return self.data.histories()["id"][self._order()]

    def column(self, name: str) -> npt.NDArray[Any] | None:
        h, order = self.data.histories(), self._order()
        if name == "date_add":
            return self.data.utc_seconds(h["at"][order])
        source = {"id": h["id"], "id_order": h["k"] + FIRST_ORDER_ID,
                  "id_order_state": h["state"], "id_employee": h["employee"]}.get(name)
        return None if source is None else source[order]

    def record(self, rid: int) -> Record | None:
        h = self.data.histories()
        i = rid - 1
        if i < 0 or i >= h["id"].size:
            return None
        return {"id": rid, "id_employee": int(h["employee"][i]),
                "id_order_state": int(h["state"][i]),
                "id_order": int(h["k"][i]) + FIRST_ORDER_ID,
                "date_add": shop_date(self.data.dt(int(h["at"][i])))}


class _States(Table):
    resource = ORDER_STATES

    def ids(self) -> IdArray:
        return np.array(STATE_NATURAL_ORDER, dtype=np.int64)

    def record(self, rid: int) -> Record | None:
        return state_record(rid)


class _Carts(_DataTable):
    resource = CARTS

    def ids(self) -> IdArray:
        return np.arange(1, self.data.population.cart_count + 1, dtype=np.int64)

    def column(self, name: str) -> npt.NDArray[Any] | None:
        data, pop = self.data, self.data.population
        kind, ref, created, modified = pop.cart_index_arrays()
        if name == "id":
            return np.arange(1, kind.size + 1, dtype=np.int64)
        if name == "date_add":
            return data.utc_seconds(created)
        if name == "date_upd":
            return data.utc_seconds(modified)
        if name == "id_customer":
            def build() -> npt.NDArray[np.int64]:
                out = np.zeros(kind.size, dtype=np.int64)
                per_order = data.presta_customer_of_orders()
                sel = kind == 0
                out[sel] = per_order[ref[sel]]
                sel = kind == 1
                out[sel] = ref[sel].astype(np.int64) + 1
                return out
            result: npt.NDArray[np.int64] = data.cached("cart_customers", (kind.size,), build)
            return result
        return None

    def record(self, rid: int) -> Record | None:
        data, pop = self.data, self.data.population
        cart = pop.cart(rid)
        if cart is None:
            return None
        if cart.kind == "order":
            assert cart.order_id is not None
            cid = int(data.presta_customer_of_orders()[cart.order_id - FIRST_ORDER_ID])
        elif cart.kind == "abandoned":
            cid = cart.person_index + 1
        else:
            cid = 0
        address = cart.person_index + 1 if cart.kind == "order" else 0
        return {
            "id": rid, "id_address_delivery": address, "id_address_invoice": address,
            "id_currency": 1, "id_customer": cid, "id_guest": cart.visitor_id,
            "id_lang": LANG_ID, "id_shop_group": 1, "id_shop": 1,
            "id_carrier": 2 if cart.kind == "order" else 0, "recyclable": "0", "gift": "0",
            "gift_message": "", "mobile_theme": "0",
            "delivery_option": f'{{"{address}":"2,"}}' if address else "",
            "secure_key": hex_key(pop.seed, "secure", cid) if cid else "",
            "allow_seperated_package": "0",
            "date_add": shop_date(cart.date_created), "date_upd": shop_date(cart.date_modified),
            "associations": {"cart_rows": [{
                "id_product": pid, "id_product_attribute": 0, "id_address_delivery": address,
                "id_customization": 0, "quantity": qty} for pid, qty in cart.lines]},
        }


class _Groups(_DataTable):
    resource = GROUPS

    def ids(self) -> IdArray:
        return np.array(sorted(self.data.group_ids()), dtype=np.int64)

    def record(self, rid: int) -> Record | None:
        with self.data.state.lock:
            g = next((g for g in self.data.state.groups if g.id == rid), None)
        if g is None:
            return None
        # A fresh 8.1.2 shop gives group 1's show_prices as a number, the others as strings.
        show: Any = php_int(g.show_prices) if g.id == 1 else g.show_prices
        return {"id": g.id, "reduction": g.reduction,
                "price_display_method": g.price_display_method, "show_prices": show,
                "date_add": g.date_add, "date_upd": g.date_upd, "name": g.name}


class _Currencies(Table):
    resource = CURRENCIES

    def ids(self) -> IdArray:
        return np.array([1], dtype=np.int64)

    def record(self, rid: int) -> Record | None:
        if rid != 1:
            return None
        return {"id": 1, "names": "Euro", "name": "Euro", "symbol": "€", "iso_code": "EUR",
                "numeric_iso_code": "978", "precision": 2, "conversion_rate": money(1),
                "deleted": 0, "active": 1, "unofficial": 0, "modified": 0, "pattern": ""}


class _Countries(Table):
    resource = COUNTRIES

    def ids(self) -> IdArray:
        return np.array([row[0] for row in _COUNTRY_ROWS], dtype=np.int64)

    def record(self, rid: int) -> Record | None:
        row = next((r for r in _COUNTRY_ROWS if r[0] == rid), None)
        if row is None:
            return None
        cid, zone, prefix, iso, active, states, ident, zip_format, tax, name = row
        return {"id": cid, "id_zone": zone, "id_currency": 0, "call_prefix": prefix,
                "iso_code": iso, "active": active, "contains_states": states,
                "need_identification_number": ident, "need_zip_code": "1",
                "zip_code_format": zip_format, "display_tax_label": tax, "name": name}


class _Configurations(Table):
    """The few configuration values a client may ask for: the shop's time zone (as a real
    shop's Configure > International > Localization sets ``PS_TIMEZONE``) and its name. As
    in a real 8.1.2 shop, a global value has empty shop ids and an installer's zero
    ``date_add``."""

    resource = CONFIGURATIONS

    def __init__(self, data: PrestaShopData) -> None:
        self._rows = {1: ("PS_TIMEZONE", SHOP_TIMEZONE.key),
                      2: ("PS_SHOP_NAME", "journeybridge sandbox")}
        self._stamp = shop_date(data.population.now)

    def ids(self) -> IdArray:
        return np.array(sorted(self._rows), dtype=np.int64)

    def record(self, rid: int) -> Record | None:
        row = self._rows.get(rid)
        if row is None:
            return None
        return {"id": rid, "value": row[1], "name": row[0], "id_shop_group": "", "id_shop": "",
                "date_add": "0000-00-00 00:00:00", "date_upd": self._stamp}


class _Addresses(_DataTable):
    resource = ADDRESSES

    def ids(self) -> IdArray:
        return np.arange(1, self.data.population.n_people + 1, dtype=np.int64)

    def column(self, name: str) -> npt.NDArray[Any] | None:
        if name == "id":
            return self.ids()
        if name == "id_customer":
            return self._owners()
        return None

    def _owners(self) -> npt.NDArray[np.int64]:
        """``id_customer`` of every address: a customer's own row, a guest's first guest
        checkout row (0 for a guest without one)."""
        data, pop = self.data, self.data.population

        def build() -> npt.NDArray[np.int64]:
            out = np.zeros(pop.n_people, dtype=np.int64)
            out[: pop.size] = np.arange(1, pop.size + 1, dtype=np.int64)
            owners, _g = pop.order_owner_arrays()
            guests = data.guest_orders()
            rows = owners[guests]
            for k in range(rows.size - 1, -1, -1):  # backwards: the first row wins
                p = int(rows[k])
                if p >= pop.size:
                    out[p] = pop.size + 1 + k
            return out
        result: npt.NDArray[np.int64] = data.cached("address_owners", (), build)
        return result

    def record(self, rid: int) -> Record | None:
        data, pop = self.data, self.data.population
        p = rid - 1
        if p < 0 or p >= pop.n_people:
            return None
        first, last, _email, addr = pop.person_identity(p)
        cid = int(self._owners()[p])
        reg, _news = pop.person_count_arrays()
        added = shop_date(data.dt(int(reg[p])))
        return {"id": rid, "id_customer": cid, "id_manufacturer": 0, "id_supplier": 0,
                "id_warehouse": 0, "id_country": _COUNTRY_IDS.get(addr.country, 13),
                "id_state": 0, "alias": "Mijn adres", "company": addr.company,
                "lastname": last, "firstname": first, "vat_number": "",
                "address1": addr.address_1, "address2": addr.address_2,
                "postcode": addr.postcode, "city": addr.city, "other": "", "phone": addr.phone,
                "phone_mobile": "", "dni": "", "deleted": "0", "date_add": added,
                "date_upd": added, **self._changes().get(rid, {})}

    def _changes(self) -> dict[int, Record]:
        with self.data.state.lock:
            return {k: dict(v) for k, v in self.data.state.address_changes.items()}


class _OrderDetails(_DataTable):
    resource = ORDER_DETAILS

    def ids(self) -> IdArray:
        data, pop = self.data, self.data.population

        def build() -> IdArray:
            out: list[int] = []
            for k in data.visible_orders():
                o = pop.order(int(k) + FIRST_ORDER_ID)
                if o is not None:
                    out.extend(li.id for li in o.line_items)
            return np.array(out, dtype=np.int64)
        result: IdArray = data.cached("order_details", (), build)
        return result

    def record(self, rid: int) -> Record | None:
        pop = self.data.population
        k = (rid - 1) // 6
        order = self.data.tables["orders"].record(k + FIRST_ORDER_ID)
        o = pop.order(k + FIRST_ORDER_ID)
        if order is None or o is None:
            return None
        li = next((li for li in o.line_items if li.id == rid), None)
        if li is None:
            return None
        p, t = money(li.price), money(li.total)
        z = money(0)
        return {
            "id": rid, "id_order": o.id, "product_id": li.product_id, "product_attribute_id": 0,
            "product_quantity_reinjected": 0, "group_reduction": "0.00",
            "discount_quantity_applied": 0, "download_hash": "", "download_deadline": ZERO_DATE,
            "id_order_invoice": 0, "id_warehouse": 0, "id_shop": 1, "id_customization": 0,
            "product_name": li.name, "product_quantity": li.quantity,
            "product_quantity_in_stock": li.quantity, "product_quantity_return": 0,
            "product_quantity_refunded": 0, "product_price": p, "reduction_percent": "0.00",
            "reduction_amount": z, "reduction_amount_tax_incl": z,
            "reduction_amount_tax_excl": z, "product_quantity_discount": z,
            "product_ean13": "", "product_isbn": "", "product_upc": "", "product_mpn": "",
            "product_reference": li.sku, "product_supplier_reference": "",
            "product_weight": z, "tax_computation_method": 0, "id_tax_rules_group": 0,
            "ecotax": z, "ecotax_tax_rate": "0.000", "download_nb": 0,
            "unit_price_tax_incl": p, "unit_price_tax_excl": p, "total_price_tax_incl": t,
            "total_price_tax_excl": t, "total_shipping_price_tax_excl": z,
            "total_shipping_price_tax_incl": z, "purchase_supplier_price": z,
            "original_product_price": p, "original_wholesale_price": money(li.price / 2),
            "total_refunded_tax_excl": z, "total_refunded_tax_incl": z,
        }


class _Products(_DataTable):
    resource = PRODUCTS

    def ids(self) -> IdArray:
        return np.array([p.id for p in self.data.population.products], dtype=np.int64)

    def record(self, rid: int) -> Record | None:
        pop = self.data.population
        p = next((p for p in pop.products if p.id == rid), None)
        if p is None:
            return None
        opened = shop_date(pop.now - timedelta(days=6 * 365 + 30))
        zero = money(0)
        # Every field a real 8.1.2 product has, with its JSON type (``new`` is always null;
        # ``manufacturer_name`` is false for a product without a manufacturer).
        return {
            "id": p.id, "id_manufacturer": 0, "id_supplier": 0, "id_category_default": 2,
            "new": None, "cache_default_attribute": 0, "id_default_image": 0,
            "id_default_combination": 0, "id_tax_rules_group": 1, "position_in_category": 0,
            "manufacturer_name": False, "quantity": 0, "type": "simple", "id_shop_default": 1,
            "reference": p.sku, "supplier_reference": "", "location": "", "width": zero,
            "height": zero, "depth": zero, "weight": zero, "quantity_discount": "0",
            "ean13": "", "isbn": "", "upc": "", "mpn": "", "cache_is_pack": "0",
            "cache_has_attachments": "0", "is_virtual": "0", "state": 1,
            "additional_delivery_times": 1, "delivery_in_stock": "", "delivery_out_stock": "",
            "product_type": "standard", "on_sale": "0", "online_only": "0", "ecotax": zero,
            "minimal_quantity": 1, "low_stock_threshold": 0, "low_stock_alert": "0",
            "price": money(p.price), "wholesale_price": money(p.price / 2), "unity": "",
            "unit_price": zero, "unit_price_ratio": zero, "additional_shipping_cost": zero,
            "customizable": 0, "text_fields": 0, "uploadable_files": 0, "active": "1",
            "redirect_type": "301-category", "id_type_redirected": 0, "available_for_order": "1",
            "available_date": "0000-00-00", "show_condition": "0", "condition": "new",
            "show_price": "1", "indexed": "1", "visibility": "both",
            "advanced_stock_management": "0", "date_add": opened, "date_upd": opened,
            "pack_stock_type": 3, "meta_description": "", "meta_keywords": "", "meta_title": "",
            "link_rewrite": p.slug, "name": p.name, "description": "",
            "description_short": "", "available_now": "", "available_later": "",
            "associations": {"categories": [{"id": 2}],
                             "stock_availables": [{"id": p.id, "id_product_attribute": 0}]},
        }

