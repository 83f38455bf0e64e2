"""The population seen as a PrestaShop 8.1.2 database: resource definitions, rows and writes.

Each resource is a :class:`Table`: its ids in the shop's natural order, vectorised columns for
the fields clients filter and sort on (ids, dates, foreign keys, states), and one record at a
time rendered with the JSON types a real 8.1.2 Webservice gives (integers as numbers, flags as
``"0"``/``"1"``, money as six-decimal strings, dates in shop time, ``0000-00-00 00:00:00`` for
never). The same people and orders as the WooCommerce side, with what only PrestaShop has:

* guest checkouts are customer rows with ``is_guest`` ``"1"``, one row per guest order, ids after
  the registered accounts (a guest who registered later has guest rows and an account);
* every order has a cart; people also leave carts behind, and unknown visitors fill carts
  (``id_customer`` 0). Checkout drafts are carts only; trashed orders are gone;
* each order's state history is derived from its dates (awaiting payment at creation, payment
  accepted when paid, shipped, delivered when completed, canceled/refunded/payment error);
  later status changes, from either platform, append history rows.

Writes (customer PUT, group POST) go to the population where WooCommerce has the same notion
(names, e-mail, newsletter, ``date_modified``) and to :class:`PrestaShopState` otherwise.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from .population import Population
from .records import FIRST_ORDER_ID, SHOP_TIMEZONE, STATUSES, OrderStatus

Record = dict[str, Any]
IdArray = npt.NDArray[np.int64]
ZERO_DATE = "0000-00-00 00:00:00"
LANG_ID = 1


# --------------------------------------------------------------------------------------------
# Resource definitions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of a resource.

    ``kind``: ``int`` (JSON number), ``str``, ``flag`` (``"0"``/``"1"``), ``money``, ``date``,
    ``lang`` (per-language text). ``xlink`` names the resource its value points to; ``getter``
    marks a computed field (``notFilterable`` in XML); ``synopsis`` holds the attributes the
    ``schema=synopsis`` view shows (``{api}`` is the Webservice root URL).
    """

    name: str
    kind: str = "str"
    xlink: str = ""
    getter: bool = False
    synopsis: str = ""
    required: bool = False


@dataclass(frozen=True)
class Association:
    """An association list under ``associations`` (e.g. customer groups, order rows)."""

    name: str
    node: str
    fields: tuple[Field, ...]
    virtual: bool = False
    api: str = ""


@dataclass(frozen=True)
class Resource:
    """A Webservice resource: list node, record node, fields and associations."""

    name: str
    node: str
    description: str
    fields: tuple[Field, ...]
    associations: tuple[Association, ...] = ()
    in_synopsis_id: bool = False

    def field(self, name: str) -> Field | None:
        """The field with this name, or None."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def names(self) -> list[str]:
        """Field names in the shop's order."""
        return [f.name for f in self.fields]


def _f(name: str, kind: str = "str", xlink: str = "", syn: str = "", *,
       getter: bool = False) -> Field:
    return Field(name, kind, xlink, getter, syn, 'required="true"' in syn)


_B = 'format="isBool"'
_ID = 'format="isUnsignedId"'
_RID = 'required="true" format="isUnsignedId"'
_P = 'format="isPrice"'
_D = 'format="isDate"'
_RO = 'read_only="true" readOnly="true"'

CUSTOMERS = Resource("customers", "customer", "The e-shop's customers", (
    _f("id", "int"),
    _f("id_default_group", "int", "groups"),
    _f("id_lang", "int", "languages", _ID),
    _f("newsletter_date_add", "date"),
    _f("ip_registration_newsletter"),
    _f("last_passwd_gen", syn='readOnly="true"'),
    _f("secure_key", syn='format="isMd5" readOnly="true"'),
    _f("deleted", "flag", syn=_B),
    _f("passwd", syn='required="true" maxSize="255" format="isHashedPassword"'),
    _f("lastname", syn='required="true" maxSize="255" format="isCustomerName"'),
    _f("firstname", syn='required="true" maxSize="255" format="isCustomerName"'),
    _f("email", syn='required="true" maxSize="255" format="isEmail"'),
    _f("id_gender", "int", syn=_ID),
    _f("birthday", syn='format="isBirthDate"'),
    _f("newsletter", "flag", syn=_B),
    _f("optin", "flag", syn=_B),
    _f("website", syn='format="isUrl"'),
    _f("company", syn='format="isGenericName"'),
    _f("siret", syn='format="isGenericName"'),
    _f("ape", syn='format="isApe"'),
    _f("outstanding_allow_amount", "money", syn='format="isFloat"'),
    _f("show_public_prices", "flag", syn=_B),
    _f("id_risk", "int", syn='format="isUnsignedInt"'),
    _f("max_payment_days", "int", syn='format="isUnsignedInt"'),
    _f("active", "flag", syn=_B),
    _f("note", syn='maxSize="65000"'),
    _f("is_guest", "flag", syn=_B),
    _f("id_shop", "int", syn=_ID),
    _f("id_shop_group", "int", syn=_ID),
    _f("date_add", "date", syn=_D),
    _f("date_upd", "date", syn=_D),
    _f("reset_password_token", syn='maxSize="40" format="isSha1"'),
    _f("reset_password_validity", "date", syn='format="isDateOrNull"'),
), (Association("groups", "group", (_f("id", "int"),), api="groups"),))

_ORDER_ROW = Association("order_rows", "order_row", (
    _f("id", "int"),
    _f("product_id", "int", "products", 'xlink:href="{api}products/" required="true"'),
    _f("product_attribute_id", "int", syn='required="true"'),
    _f("product_quantity", "int", syn='required="true"'),
    _f("product_name", syn=_RO), _f("product_reference", syn=_RO),
    _f("product_ean13", syn=_RO), _f("product_isbn", syn=_RO), _f("product_upc", syn=_RO),
    _f("product_price", "money", syn=_RO),
    _f("id_customization", "int", "customizations", 'xlink:href="{api}customizations/"'),
    _f("unit_price_tax_incl", "money", syn=_RO), _f("unit_price_tax_excl", "money", syn=_RO),
), virtual=True)

ORDERS = Resource("orders", "order", "The Customers orders", (
    _f("id", "int"),
    _f("id_address_delivery", "int", "addresses", _RID),
    _f("id_address_invoice", "int", "addresses", _RID),
    _f("id_cart", "int", "carts", _RID),
    _f("id_currency", "int", "currencies", _RID),
    _f("id_lang", "int", "languages", _RID),
    _f("id_customer", "int", "customers", _RID),
    _f("id_carrier", "int", "carriers", _RID),
    _f("current_state", "int", "order_states", _ID),
    _f("module", syn='required="true" format="isModuleName"'),
    _f("invoice_number", "int"), _f("invoice_date", "date"),
    _f("delivery_number", "int"), _f("delivery_date", "date"),
    _f("valid", "flag"),
    _f("date_add", "date", syn=_D), _f("date_upd", "date", syn=_D),
    _f("shipping_number", syn='notFilterable="true"', getter=True),
    _f("note"),
    _f("id_shop_group", "int", syn=_ID), _f("id_shop", "int", syn=_ID),
    _f("secure_key", syn='format="isMd5"'),
    _f("payment", syn='required="true" format="isGenericName"'),
    _f("recyclable", "flag", syn=_B), _f("gift", "flag", syn=_B),
    _f("gift_message", syn='format="isMessage"'), _f("mobile_theme", "flag", syn=_B),
    _f("total_discounts", "money", syn=_P), _f("total_discounts_tax_incl", "money", syn=_P),
    _f("total_discounts_tax_excl", "money", syn=_P),
    _f("total_paid", "money", syn='required="true" format="isPrice"'),
    _f("total_paid_tax_incl", "money", syn=_P), _f("total_paid_tax_excl", "money", syn=_P),
    _f("total_paid_real", "money", syn='required="true" format="isPrice"'),
    _f("total_products", "money", syn='required="true" format="isPrice"'),
    _f("total_products_wt", "money", syn='required="true" format="isPrice"'),
    _f("total_shipping", "money", syn=_P), _f("total_shipping_tax_incl", "money", syn=_P),
    _f("total_shipping_tax_excl", "money", syn=_P),
    _f("carrier_tax_rate", "money", syn='format="isFloat"'),
    _f("total_wrapping", "money", syn=_P), _f("total_wrapping_tax_incl", "money", syn=_P),
    _f("total_wrapping_tax_excl", "money", syn=_P),
    _f("round_mode", "int", syn=_ID), _f("round_type", "int", syn=_ID),
    _f("conversion_rate", "money", syn='required="true" format="isFloat"'),
    _f("reference"),
), (_ORDER_ROW,))

ORDER_STATES = Resource("order_states", "order_state", "The Order statuses", (
    _f("id", "int"),
    *(_f(n, "flag", syn=_B) for n in ("unremovable", "delivery", "hidden", "send_email")),
    _f("module_name", syn='format="isModuleName"'), _f("invoice", "flag", syn=_B),
    _f("color", syn='format="isColor"'),
    *(_f(n, "flag", syn=_B) for n in ("logable", "shipped", "paid", "pdf_delivery",
                                      "pdf_invoice", "deleted")),
    _f("name", "lang", syn='required="true" maxSize="64" format="isGenericName"'),
    _f("template", "lang", syn='maxSize="64" format="isTplName"'),
))

ORDER_HISTORIES = Resource("order_histories", "order_history", "The Order histories", (
    _f("id", "int"), _f("id_employee", "int", "employees", _ID),
    _f("id_order_state", "int", "order_states", _RID), _f("id_order", "int", "orders", _RID),
    _f("date_add", "date", syn=_D),
))

CARTS = Resource("carts", "cart", "Customer's carts", (
    _f("id", "int"),
    _f("id_address_delivery", "int", "addresses", _ID),
    _f("id_address_invoice", "int", "addresses", _ID),
    _f("id_currency", "int", "currencies", _RID),
    _f("id_customer", "int", "customers", _ID), _f("id_guest", "int", "guests", _ID),
    _f("id_lang", "int", "languages", _RID),
    _f("id_shop_group", "int", syn=_ID), _f("id_shop", "int", syn=_ID),
    _f("id_carrier", "int", syn=_ID),
    _f("recyclable", "flag", syn=_B), _f("gift", "flag", syn=_B),
    _f("gift_message", syn='format="isMessage"'), _f("mobile_theme", "flag", syn=_B),
    _f("delivery_option"), _f("secure_key", syn='maxSize="32"'),
    _f("allow_seperated_package", "flag", syn=_B),
    _f("date_add", "date", syn=_D), _f("date_upd", "date", syn=_D),
), (Association("cart_rows", "cart_row", (
    _f("id_product", "int", "products", 'xlink:href="{api}products/" required="true"'),
    _f("id_product_attribute", "int", "combinations",
       'xlink:href="{api}combinations/" required="true"'),
    _f("id_address_delivery", "int", "addresses", 'xlink:href="{api}addresses/" required="true"'),
    _f("id_customization", "int", "customizations", 'xlink:href="{api}customizations/"'),
    _f("quantity", "int", syn='required="true"'),
), virtual=True),))

GROUPS = Resource("groups", "group", "The customer's groups", (
    _f("id", "int"), _f("reduction", "money", syn='format="isFloat"'),
    _f("price_display_method", "int", syn='required="true" format="isPriceDisplayMethod"'),
    _f("show_prices", "flag", syn=_B),
    _f("date_add", "date", syn=_D), _f("date_upd", "date", syn=_D),
    _f("name", "lang", syn='required="true" maxSize="32" format="isGenericName"'),
))

CURRENCIES = Resource("currencies", "currency", "The currencies", (
    _f("id", "int"), _f("names", "lang"),
    _f("name", syn='notFilterable="true" required="true" maxSize="255" format="isGenericName"',
       getter=True),
    _f("symbol", "lang", syn='maxSize="255"'),
    _f("iso_code", syn='required="true" maxSize="3" format="isLanguageIsoCode"'),
    _f("numeric_iso_code", syn='maxSize="3" format="isNumericIsoCode"'),
    _f("precision", "int", syn='format="isInt"'),
    _f("conversion_rate", "money", syn='required="true" format="isUnsignedFloat"'),
    *(_f(n, "int", syn=_B) for n in ("deleted", "active", "unofficial", "modified")),
    _f("pattern", "lang", syn='maxSize="255"'),
))

ADDRESSES = Resource("addresses", "address", "The Customer, Brand and Customer addresses", (
    _f("id", "int"), _f("id_customer", "int", "customers", 'format="isNullOrUnsignedId"'),
    *(_f(n, "int", syn='format="isNullOrUnsignedId"')
      for n in ("id_manufacturer", "id_supplier", "id_warehouse")),
    _f("id_country", "int", "countries", _RID),
    _f("id_state", "int", syn='format="isNullOrUnsignedId"'),
    _f("alias", syn='required="true" maxSize="32" format="isGenericName"'),
    _f("company", syn='maxSize="255" format="isGenericName"'),
    _f("lastname", syn='required="true" maxSize="255" format="isName"'),
    _f("firstname", syn='required="true" maxSize="255" format="isName"'),
    _f("vat_number", syn='format="isGenericName"'),
    _f("address1", syn='required="true" maxSize="128" format="isAddress"'),
    _f("address2", syn='maxSize="128" format="isAddress"'),
    _f("postcode", syn='maxSize="12" format="isPostCode"'),
    _f("city", syn='required="true" maxSize="64" format="isCityName"'),
    _f("other", syn='maxSize="300" format="isMessage"'),
    _f("phone", syn='maxSize="32" format="isPhoneNumber"'),
    _f("phone_mobile", syn='maxSize="32" format="isPhoneNumber"'),
    _f("dni", syn='maxSize="16" format="isDniLite"'),
    _f("deleted", "flag", syn=_B), _f("date_add", "date", syn=_D), _f("date_upd", "date", syn=_D),
))

ORDER_DETAILS = Resource("order_details", "order_detail", "Details of an order", (
    _f("id", "int"), _f("id_order", "int", "orders"), _f("product_id", "int", "products"),
    _f("product_attribute_id", "int", "combinations"),
    _f("product_quantity_reinjected", "int"), _f("group_reduction", "money"),
    _f("discount_quantity_applied", "int"), _f("download_hash"), _f("download_deadline", "date"),
    _f("id_order_invoice", "int", "order_invoices"), _f("id_warehouse", "int", "warehouses"),
    _f("id_shop", "int", "shops"), _f("id_customization", "int", "customizations"),
    _f("product_name"), _f("product_quantity", "int"), _f("product_quantity_in_stock", "int"),
    _f("product_quantity_return", "int"), _f("product_quantity_refunded", "int"),
    _f("product_price", "money"), _f("reduction_percent", "money"),
    _f("reduction_amount", "money"), _f("reduction_amount_tax_incl", "money"),
    _f("reduction_amount_tax_excl", "money"), _f("product_quantity_discount", "money"),
    _f("product_ean13"), _f("product_isbn"), _f("product_upc"), _f("product_mpn"),
    _f("product_reference"), _f("product_supplier_reference"), _f("product_weight", "money"),
    _f("tax_computation_method", "int"), _f("id_tax_rules_group", "int"),
    _f("ecotax", "money"), _f("ecotax_tax_rate", "money"), _f("download_nb", "int"),
    _f("unit_price_tax_incl", "money"), _f("unit_price_tax_excl", "money"),
    _f("total_price_tax_incl", "money"), _f("total_price_tax_excl", "money"),
    _f("total_shipping_price_tax_excl", "money"), _f("total_shipping_price_tax_incl", "money"),
    _f("purchase_supplier_price", "money"), _f("original_product_price", "money"),
    _f("original_wholesale_price", "money"), _f("total_refunded_tax_excl", "money"),
    _f("total_refunded_tax_incl", "money"),
))

PRODUCTS = Resource("products", "product", "The products", (
    _f("id", "int"), _f("id_manufacturer", "int", "manufacturers"),
    _f("id_supplier", "int", "suppliers"), _f("id_category_default", "int", "categories"),
    _f("new"), _f("cache_default_attribute", "int"),
    _f("id_default_image", "int", getter=True),
    _f("id_default_combination", "int", "combinations", getter=True),
    _f("id_tax_rules_group", "int", "tax_rule_groups"),
    _f("position_in_category", "int", getter=True), _f("manufacturer_name", getter=True),
    _f("quantity", "int", getter=True), _f("type", getter=True),
    _f("id_shop_default", "int"), _f("reference"), _f("supplier_reference"), _f("location"),
    *(_f(n, "money") for n in ("width", "height", "depth", "weight")),
    _f("quantity_discount", "flag"), _f("ean13"), _f("isbn"), _f("upc"), _f("mpn"),
    _f("cache_is_pack", "flag"), _f("cache_has_attachments", "flag"), _f("is_virtual", "flag"),
    _f("state", "int"), _f("additional_delivery_times", "int"),
    _f("delivery_in_stock", "lang"), _f("delivery_out_stock", "lang"), _f("product_type"),
    _f("on_sale", "flag"), _f("online_only", "flag"), _f("ecotax", "money"),
    _f("minimal_quantity", "int"), _f("low_stock_threshold", "int"),
    _f("low_stock_alert", "flag"), _f("price", "money"), _f("wholesale_price", "money"),
    _f("unity"), _f("unit_price", "money"), _f("unit_price_ratio", "money"),
    _f("additional_shipping_cost", "money"), _f("customizable", "int"),
    _f("text_fields", "int"), _f("uploadable_files", "int"), _f("active", "flag"),
    _f("redirect_type"), _f("id_type_redirected", "int"), _f("available_for_order", "flag"),
    _f("available_date"), _f("show_condition", "flag"), _f("condition"),
    _f("show_price", "flag"), _f("indexed", "flag"), _f("visibility"),
    _f("advanced_stock_management", "flag"), _f("date_add", "date"), _f("date_upd", "date"),
    _f("pack_stock_type", "int"),
    *(_f(n, "lang") for n in ("meta_description", "meta_keywords", "meta_title", "link_rewrite",
                              "name", "description", "description_short", "available_now",
                              "available_later")),
), (Association("categories", "category", (_f("id", "int"),), api="categories"),
    Association("stock_availables", "stock_available",
                (_f("id", "int"), _f("id_product_attribute", "int")), api="stock_availables")))

#: Every resource name a real 8.1.2 shop knows (for "does not exists" errors), sorted.
ALL_RESOURCE_NAMES: tuple[str, ...] = (
    "addresses", "attachments", "carriers", "cart_rules", "carts", "categories", "combinations",
    "configurations", "contacts", "content_management_system", "countries", "currencies",
    "customer_messages", "customer_threads", "customers", "customizations", "deliveries",
    "employees", "groups", "guests", "image_types", "images", "languages", "manufacturers",
    "messages", "order_carriers", "order_cart_rules", "order_details", "order_histories",
    "order_invoices", "order_payments", "order_slip", "order_states", "orders", "price_ranges",
    "product_customization_fields", "product_feature_values", "product_features",
    "product_option_values", "product_options", "product_suppliers", "products", "search",
    "shop_groups", "shop_urls", "shops", "specific_price_rules", "specific_prices", "states",
    "stock_availables", "stock_movement_reasons", "stock_movements", "stocks", "stores",
    "suppliers", "supply_order_details", "supply_order_histories",
    "supply_order_receipt_histories", "supply_order_states", "supply_orders", "tags",
    "tax_rule_groups", "tax_rules", "taxes", "translated_configurations",
    "warehouse_product_locations", "warehouses", "weight_ranges", "zones",
)

RESOURCES: dict[str, Resource] = {r.name: r for r in (
    ADDRESSES, CARTS, CURRENCIES, CUSTOMERS, GROUPS, ORDER_DETAILS, ORDER_HISTORIES,
    ORDER_STATES, ORDERS, PRODUCTS)}

#: Descriptions of resources a key may be granted that the sandbox does not serve with data.
EXTRA_DESCRIPTIONS = {"countries": "The countries", "languages": "Shop languages",
                      "order_carriers": "The Order carriers",
                      "order_payments": "The Order payments",
                      "shops": "Shops from multi-shop feature"}


# --------------------------------------------------------------------------------------------
# Fixed shop data
# --------------------------------------------------------------------------------------------

# id: (unremovable, delivery, hidden, send_email, module_name, invoice, color, logable, shipped,
#      paid, pdf_delivery, pdf_invoice, name, template)
_STATES: dict[int, tuple[str, str, str, str, str, str, str, str, str, str, str, str, str, str]] = {
    1: ("1", "0", "0", "1", "ps_checkpayment", "0", "#34209E", "0", "0", "0", "0", "0",
        "Awaiting check payment", "cheque"),
    2: ("1", "0", "0", "1", "", "1", "#3498D8", "1", "0", "1", "0", "1", "Payment accepted",
        "payment"),
    3: ("1", "1", "0", "1", "", "1", "#3498D8", "1", "0", "1", "0", "0",
        "Processing in progress", "preparation"),
    4: ("1", "1", "0", "1", "", "1", "#01B887", "1", "1", "1", "0", "0", "Shipped", "shipped"),
    5: ("1", "1", "0", "0", "", "1", "#01B887", "1", "1", "1", "0", "0", "Delivered", ""),
    6: ("1", "0", "0", "1", "", "0", "#2C3E50", "0", "0", "0", "0", "0", "Canceled",
        "order_canceled"),
    7: ("1", "0", "0", "1", "", "1", "#01B887", "0", "0", "0", "0", "0", "Refunded", "refund"),
    8: ("1", "0", "0", "1", "", "0", "#E74C3C", "0", "0", "0", "0", "0", "Payment error",
        "payment_error"),
    9: ("1", "0", "0", "1", "", "1", "#3498D8", "0", "0", "1", "0", "0", "On backorder (paid)",
        "outofstock"),
    10: ("1", "0", "0", "1", "ps_wirepayment", "0", "#34209E", "0", "0", "0", "0", "0",
         "Awaiting bank wire payment", "bankwire"),
    11: ("1", "0", "0", "1", "", "1", "#3498D8", "1", "0", "1", "0", "0",
         "Remote payment accepted", "payment"),
    12: ("1", "0", "0", "1", "", "0", "#34209E", "0", "0", "0", "0", "0",
         "On backorder (not paid)", "outofstock"),
    13: ("1", "0", "0", "0", "ps_cashondelivery", "0", "#34209E", "0", "0", "0", "0", "0",
         "Awaiting Cash On Delivery validation", "cashondelivery"),
}
#: The order a fresh shop lists its states in when no sort is asked.
STATE_NATURAL_ORDER = (2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 1, 10)
AWAITING_CHECK, PAYMENT_ACCEPTED, PROCESSING_IN_PROGRESS, SHIPPED, DELIVERED = 1, 2, 3, 4, 5
CANCELED, REFUNDED, PAYMENT_ERROR, AWAITING_WIRE = 6, 7, 8, 10


def state_flags(state_id: int) -> dict[str, bool]:
    """The flags (paid, shipped, delivery, logable, invoice, hidden) of a default state."""
    row = _STATES.get(state_id)
    if row is None:
        return {}
    return {"delivery": row[1] == "1", "hidden": row[2] == "1", "invoice": row[5] == "1",
            "logable": row[7] == "1", "shipped": row[8] == "1", "paid": row[9] == "1"}


#: The WooCommerce status an order gets when PrestaShop moves it into a state.
STATUS_FOR_STATE: dict[int, OrderStatus] = {
    1: OrderStatus.PENDING, 2: OrderStatus.PROCESSING, 3: OrderStatus.PROCESSING,
    4: OrderStatus.PROCESSING, 5: OrderStatus.COMPLETED, 6: OrderStatus.CANCELLED,
    7: OrderStatus.REFUNDED, 8: OrderStatus.FAILED, 9: OrderStatus.PROCESSING,
    10: OrderStatus.ON_HOLD, 11: OrderStatus.PROCESSING, 12: OrderStatus.ON_HOLD,
    13: OrderStatus.PENDING,
}
_PENDING, _PROCESSING, _ON_HOLD, _COMPLETED, _CANCELLED, _REFUNDED, _FAILED = range(7)
_HIDDEN_CODES = (STATUSES.index(OrderStatus.CHECKOUT_DRAFT), STATUSES.index(OrderStatus.TRASH))
#: State reached when a status is set without a PrestaShop state (-1: awaiting, by payment).
_STATE_FOR_CODE = np.array([-1, PAYMENT_ACCEPTED, AWAITING_WIRE, DELIVERED, CANCELED, REFUNDED,
                            PAYMENT_ERROR, 0, 0], dtype=np.int32)
#: History rows a generated order has, by status code.
_HISTORY_COUNT = np.array([1, 2, 1, 4, 2, 3, 2, 0, 0], dtype=np.int64)
#: Order notes left at checkout (most orders have none).
ORDER_NOTES = ("", "", "", "Graag bij de buren afgeven", "", "", "", "", "", "", "Cadeau",
               "", "")
_COUNTRY_IDS = {"DE": 1, "AT": 2, "BE": 3, "FR": 8, "NL": 13, "PL": 14}


def shop_date(when: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in the shop's time zone, the zero date for None."""
    if when is None:
        return ZERO_DATE
    return when.astimezone(SHOP_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


def money(value: Decimal | float | int) -> str:
    """Six decimals, as PrestaShop stores prices."""
    return f"{Decimal(value):.6f}"


def _hex(*parts: object, n: int = 32) -> str:
    return hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=32).hexdigest()[:n]


_HASH_CHARS = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def fake_password_hash(*parts: object) -> str:
    """A deterministic string shaped like a bcrypt hash (``$2y$10$`` + 53 characters)."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=64).digest()
    return "$2y$10$" + "".join(_HASH_CHARS[b % 64] for b in digest[:53])


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


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


def _empty_assoc(resource: Resource) -> dict[str, list[Record]]:
    return {a.name: [] for a in resource.associations}


@dataclass
class _Group:
    id: int
    name: str
    reduction: str
    price_display_method: int
    show_prices: str
    date_add: str
    date_upd: str


@dataclass
class PrestaShopState:
    """What PrestaShop keeps that the neutral population does not: groups, written customer
    rows and customer group memberships. One per population (see :func:`presta_state`)."""

    groups: list[_Group] = field(default_factory=list)
    customer_rows: dict[int, Record] = field(default_factory=dict)
    customer_groups: dict[int, list[int]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


def presta_state(population: Population) -> PrestaShopState:
    """The PrestaShop state kept with ``population`` (made on first use)."""
    def make() -> PrestaShopState:
        opened = shop_date(population.now - timedelta(days=6 * 365 + 40))
        return PrestaShopState(groups=[
            _Group(1, "Visitor", "0.00", 1, "1", opened, opened),
            _Group(2, "Guest", "0.00", 1, "1", opened, opened),
            _Group(3, "Customer", "0.00", 1, "1", opened, opened),
        ])
    return population.extension("prestashop", make, PrestaShopState)


class PrestaShopData:
    """The population as PrestaShop's tables, plus PrestaShop-only writes.

    Thread-safe: reads take consistent snapshots of the population's arrays; writes go through
    the population (under its lock) and :class:`PrestaShopState`.
    """

    def __init__(self, population: Population) -> None:
        self.population = population
        self.state = presta_state(population)
        self._cache: dict[str, tuple[tuple[Any, ...], Any]] = {}
        self._cache_lock = threading.Lock()
        self.tables: dict[str, Table] = {
            "customers": _Customers(self), "orders": _Orders(self),
            "order_histories": _Histories(self), "order_states": _States(),
            "carts": _Carts(self), "groups": _Groups(self), "currencies": _Currencies(self),
            "addresses": _Addresses(self), "order_details": _OrderDetails(self),
            "products": _Products(self),
        }

    # ------------------------------------------------------------------ caching
    def cached(self, name: str, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """``build()`` memoised under ``name`` while ``key`` (plus the population's version)
        is unchanged."""
        full = (*key, self.population.version, self.population.order_count_all)
        with self._cache_lock:
            hit = self._cache.get(name)
            if hit is not None and hit[0] == full:
                return hit[1]
        made = build()
        with self._cache_lock:
            self._cache[name] = (full, made)
        return made

    def utc_seconds(self, rel: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        """Relative index times as Unix seconds."""
        return rel.astype(np.int64) + self.population.origin_ts()

    def dt(self, rel: int) -> datetime:
        """A relative index time as an aware UTC datetime."""
        return datetime.fromtimestamp(int(rel) + self.population.origin_ts(), timezone.utc)

    # ------------------------------------------------------------------ guest rows
    def guest_orders(self) -> npt.NDArray[np.int64]:
        """Order indexes of guest checkouts; guest row ``j`` has customer id ``size + j + 1``."""
        pop = self.population

        def build() -> npt.NDArray[np.int64]:
            _owner, guest = pop.order_owner_arrays()
            return np.flatnonzero(guest).astype(np.int64)
        result: npt.NDArray[np.int64] = self.cached("guest_orders", (), build)
        return result

    def presta_customer_of_orders(self) -> npt.NDArray[np.int64]:
        """PrestaShop ``id_customer`` of every order index (guest orders: their guest row)."""
        pop = self.population

        def build() -> npt.NDArray[np.int64]:
            _c, _m, _s, cids = pop.order_index_arrays()
            out: npt.NDArray[np.int64] = cids.astype(np.int64)
            guests = self.guest_orders()
            out[guests] = pop.size + 1 + np.arange(guests.size, dtype=np.int64)
            return out
        result: npt.NDArray[np.int64] = self.cached("order_customers", (), build)
        return result

    def bank_wire(self, k: int) -> bool:
        """Whether order index ``k`` is paid by bank wire (else by check)."""
        return (k * 7 + self.population.seed) % 5 == 0

    # ------------------------------------------------------------------ order timelines
    def histories(self) -> dict[str, npt.NDArray[np.int64]]:
        """Every order history row as arrays: id, order index, state, employee, at (rel)."""
        pop = self.population

        def build() -> dict[str, npt.NDArray[np.int64]]:
            created, status, modified, flags = pop.generated_order_arrays()
            created = created.astype(np.int64)
            modified = modified.astype(np.int64)
            code = status.astype(np.int64)
            counts = _HISTORY_COUNT[code]
            total = int(counts.sum())
            k = np.repeat(np.arange(code.size, dtype=np.int64), counts)
            starts = np.cumsum(counts) - counts
            step = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
            c, m, kc = created[k], modified[k], code[k]
            paid = c + 600
            partial = (flags[k] & 1) != 0
            done = np.where(partial, c + (m - c) // 3, m)
            ship = paid + (done - paid) // 2
            wire = ((k * 7 + pop.seed) % 5 == 0) | (kc == _ON_HOLD)
            state = np.where(wire, AWAITING_WIRE, AWAITING_CHECK).astype(np.int64)
            at = c.copy()
            employee = np.zeros(total, dtype=np.int64)
            s1 = step == 1
            state[s1] = PAYMENT_ACCEPTED
            at[s1] = paid[s1]
            for kode, st in ((_CANCELLED, CANCELED), (_FAILED, PAYMENT_ERROR)):
                sel = s1 & (kc == kode)
                state[sel], at[sel] = st, m[sel]
                employee[sel] = 1 if kode == _CANCELLED else 0
            sel = (step == 2) & (kc == _COMPLETED)
            state[sel], at[sel], employee[sel] = SHIPPED, ship[sel], 1
            sel = (step == 3) & (kc == _COMPLETED)
            state[sel], at[sel], employee[sel] = DELIVERED, done[sel], 1
            sel = (step == 2) & (kc == _REFUNDED)
            state[sel], at[sel], employee[sel] = REFUNDED, m[sel], 1
            lk, lcode, lat, ltag = pop.status_log_arrays()
            lstate = _STATE_FOR_CODE[lcode].astype(np.int64)
            lwire = ((lk.astype(np.int64) * 7 + pop.seed) % 5) == 0
            lstate[lstate == -1] = np.where(lwire[lstate == -1], AWAITING_WIRE, AWAITING_CHECK)
            lstate = np.where(ltag > 0, ltag, lstate)
            keep = lstate > 0
            n_log = int(keep.sum())
            ids = np.arange(1, total + 1 + n_log, dtype=np.int64)
            return {
                "id": ids,
                "k": np.concatenate([k, lk[keep].astype(np.int64)]),
                "state": np.concatenate([state, lstate[keep]]),
                "employee": np.concatenate([employee, np.ones(n_log, dtype=np.int64)]),
                "at": np.concatenate([at, lat[keep].astype(np.int64)]),
            }
        result: dict[str, npt.NDArray[np.int64]] = self.cached("histories", (), build)
        return result

    def current_states(self) -> npt.NDArray[np.int64]:
        """The current state of every order index (0 for checkout drafts and trash)."""
        pop = self.population

        def build() -> npt.NDArray[np.int64]:
            h = self.histories()
            n = pop.order_count_all
            out = np.zeros(n, dtype=np.int64)
            out[h["k"]] = h["state"]  # later rows win: ids rise with the log
            return out
        result: npt.NDArray[np.int64] = self.cached("current_states", (), build)
        return result

    def visible_orders(self) -> npt.NDArray[np.int64]:
        """Order indexes PrestaShop shows (not checkout drafts, not trashed)."""
        pop = self.population

        def build() -> npt.NDArray[np.int64]:
            _c, _m, status, _cid = pop.order_index_arrays()
            mask = ~np.isin(status, np.array(_HIDDEN_CODES, dtype=np.int8))
            mask &= self.current_states()[: status.size] > 0
            return np.flatnonzero(mask).astype(np.int64)
        result: npt.NDArray[np.int64] = self.cached("visible_orders", (), build)
        return result

    # ------------------------------------------------------------------ mutations
    def set_order_state(self, order_id: int, state_id: int, at: datetime | None = None) -> None:
        """Move an order into a PrestaShop state: adds an order history row, bumps the order's
        (and its owner's) ``date_upd`` and sets the matching WooCommerce status."""
        if state_id not in _STATES:
            raise KeyError(state_id)
        self.population.update_order(order_id, status=STATUS_FOR_STATE[state_id], at=at,
                                     state_tag=state_id)

    def customer_groups(self, cid: int, is_guest: bool) -> list[int]:
        """The group ids of customer ``cid``."""
        with self.state.lock:
            groups = self.state.customer_groups.get(cid)
            return list(groups) if groups is not None else [2 if is_guest else 3]

    def group_ids(self) -> set[int]:
        """Ids of every existing group."""
        with self.state.lock:
            return {g.id for g in self.state.groups}

    def add_group(self, name: str, reduction: str, price_display_method: int,
                  show_prices: str) -> int:
        """Create a group; returns its id."""
        now = shop_date(self.population.clock())
        with self.state.lock:
            gid = max(g.id for g in self.state.groups) + 1
            self.state.groups.append(_Group(gid, name, reduction, price_display_method,
                                            show_prices, now, now))
        with self._cache_lock:
            self._cache.clear()
        return gid

    def write_customer(self, cid: int, row: Record, groups: list[int] | None) -> None:
        """Store a customer row written by PUT (values as sent, ``""`` stored as None) and
        mirror names, e-mail and newsletter into the population; bumps ``date_upd``."""
        pop = self.population
        when = pop.clock()
        row = dict(row)
        row["date_upd"] = shop_date(when)
        with self.state.lock:
            self.state.customer_rows[cid] = row
            if groups is not None:
                self.state.customer_groups[cid] = groups
        if 1 <= cid <= pop.size:
            pop.update_customer(cid, first_name=row.get("firstname") or None,
                                last_name=row.get("lastname") or None,
                                email=row.get("email") or None,
                                newsletter=row.get("newsletter") == "1", at=when)
        with self._cache_lock:
            self._cache.clear()


# ------------------------------------------------------------------ customers
class _Customers(Table):
    resource = CUSTOMERS

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

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
                        out[cid - 1] = _parse_local(str(row["date_upd"]))
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
            "secure_key": _hex(pop.seed, "secure", rid),
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


def typed(f: Field, value: Any) -> Any:
    """A written value read back with the field's JSON type (None stays None)."""
    if value is None:
        return None
    if f.kind == "int":
        return php_int(str(value))
    return str(value)


def php_int(text: str) -> int:
    """PHP's ``(int)`` of a string: leading sign and digits, else 0."""
    text = text.strip()
    digits = ""
    for i, ch in enumerate(text):
        if ch.isdigit() or (i == 0 and ch in "+-"):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def _parse_local(text: str) -> int:
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return 0
    return int(naive.replace(tzinfo=SHOP_TIMEZONE).timestamp())


# ------------------------------------------------------------------ orders
class _Orders(Table):
    resource = ORDERS

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

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
            "shipping_number": "", "note": ORDER_NOTES[k % len(ORDER_NOTES)],
            "id_shop_group": 1, "id_shop": 1,
            "secure_key": _hex(pop.seed, "secure", cid),
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


# ------------------------------------------------------------------ histories
class _Histories(Table):
    resource = ORDER_HISTORIES

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

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


# ------------------------------------------------------------------ order states
class _States(Table):
    resource = ORDER_STATES

    def ids(self) -> IdArray:
        return np.array(STATE_NATURAL_ORDER, dtype=np.int64)

    def record(self, rid: int) -> Record | None:
        row = _STATES.get(rid)
        if row is None:
            return None
        names = ("unremovable", "delivery", "hidden", "send_email", "module_name", "invoice",
                 "color", "logable", "shipped", "paid", "pdf_delivery", "pdf_invoice")
        rec: Record = {"id": rid}
        rec.update(zip(names, row[:12]))
        rec["deleted"] = "0"
        rec["name"] = row[12]
        rec["template"] = row[13]
        return rec


# ------------------------------------------------------------------ carts
class _Carts(Table):
    resource = CARTS

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

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
            "secure_key": _hex(pop.seed, "secure", cid) if cid else "",
            "allow_seperated_package": "0",
            "date_add": shop_date(cart.date_created), "date_upd": shop_date(cart.date_modified),
            "associations": {"cart_rows": [{
                "id_product": pid, "id_product_attribute": 0, "id_address_delivery": address,
                "id_customization": 0, "quantity": qty} for pid, qty in cart.lines]},
        }


# ------------------------------------------------------------------ groups
class _Groups(Table):
    resource = GROUPS

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

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


# ------------------------------------------------------------------ currencies
class _Currencies(Table):
    resource = CURRENCIES

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

    def ids(self) -> IdArray:
        return np.array([1], dtype=np.int64)

    def record(self, rid: int) -> Record | None:
        if rid != 1:
            return None
        return {"id": 1, "names": "Euro", "name": "Euro", "symbol": "€", "iso_code": "EUR",
                "numeric_iso_code": "978", "precision": 2, "conversion_rate": money(1),
                "deleted": 0, "active": 1, "unofficial": 0, "modified": 0, "pattern": ""}


# ------------------------------------------------------------------ addresses
class _Addresses(Table):
    resource = ADDRESSES

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

    def ids(self) -> IdArray:
        return np.arange(1, self.data.population.n_people + 1, dtype=np.int64)

    def column(self, name: str) -> npt.NDArray[Any] | None:
        return self.ids() if name == "id" else None

    def record(self, rid: int) -> Record | None:
        data, pop = self.data, self.data.population
        p = rid - 1
        if p < 0 or p >= pop.n_people:
            return None
        first, last, _email, addr = pop.person_identity(p)
        if p < pop.size:
            cid = p + 1
        else:
            owners, _g = pop.order_owner_arrays()
            guests = data.guest_orders()
            hits = np.flatnonzero(owners[guests] == p)
            cid = pop.size + 1 + int(hits[0]) if hits.size else 0
        reg, _news = pop.person_count_arrays()
        added = shop_date(data.dt(int(reg[p])))
        return {"id": rid, "id_customer": cid, "id_manufacturer": 0, "id_supplier": 0,
                "id_warehouse": 0, "id_country": _COUNTRY_IDS.get(addr.country, 13),
                "id_state": 0, "alias": "Mijn adres", "company": addr.company,
                "lastname": last, "firstname": first, "vat_number": "",
                "address1": addr.address_1, "address2": addr.address_2,
                "postcode": addr.postcode, "city": addr.city, "other": "", "phone": addr.phone,
                "phone_mobile": "", "dni": "", "deleted": "0", "date_add": added,
                "date_upd": added}


# ------------------------------------------------------------------ order details
class _OrderDetails(Table):
    resource = ORDER_DETAILS

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

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


# ------------------------------------------------------------------ products
class _Products(Table):
    resource = PRODUCTS

    def __init__(self, data: PrestaShopData) -> None:
        self.data = data

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


def blank_record(resource: Resource) -> Record:
    """Every field empty and one empty entry per association (``schema=blank``)."""
    rec: Record = {f.name: "" for f in resource.fields}
    if resource.associations:
        rec["associations"] = {a.name: [{f.name: "" for f in a.fields}]
                               for a in resource.associations}
    return rec


def required_fields(resource: Resource) -> Sequence[str]:
    """Names of the fields a write must carry."""
    return [f.name for f in resource.fields if f.required]
