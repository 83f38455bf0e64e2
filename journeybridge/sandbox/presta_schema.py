"""The PrestaShop 8.1.2 Webservice's resources: their fields, kinds and associations.

What a real shop's ``schema=synopsis`` says of the resources the sandbox serves (field order,
which fields are required, computed or foreign keys, their format attributes), the names of
every resource a real shop knows, and the descriptions its API index gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: One resource record: field name -> value with its JSON type, ``associations`` last.
Record = dict[str, Any]
#: The id of the shop's one language.
LANG_ID = 1


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

ORDER_CARRIERS = Resource("order_carriers", "order_carrier", "The Order carriers", (
    _f("id", "int"), _f("id_order", "int", "orders", _RID),
    _f("id_carrier", "int", "carriers", _RID),
    _f("id_order_invoice", "int", syn=_ID), _f("weight", "money", syn='format="isFloat"'),
    _f("shipping_cost_tax_excl", "money", syn='format="isFloat"'),
    _f("shipping_cost_tax_incl", "money", syn='format="isFloat"'),
    _f("tracking_number", syn='format="isTrackingNumber"'),
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

CONFIGURATIONS = Resource("configurations", "configuration", "Shop configuration", (
    _f("id", "int"), _f("value"),
    _f("name", syn='required="true" maxSize="254" format="isConfigName"'),
    _f("id_shop_group", "str", "shop_groups", _ID), _f("id_shop", "str", "shops", _ID),
    _f("date_add", syn=_D), _f("date_upd", syn=_D),
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

COUNTRIES = Resource("countries", "country", "The countries", (
    _f("id", "int"), _f("id_zone", "int", "zones", _RID),
    _f("id_currency", "int", "currencies", _ID), _f("call_prefix", "int", syn='format="isInt"'),
    _f("iso_code", syn='required="true" maxSize="3" format="isLanguageIsoCode"'),
    _f("active", "flag", syn=_B), _f("contains_states", "flag", syn=f"required=\"true\" {_B}"),
    _f("need_identification_number", "flag", syn=f"required=\"true\" {_B}"),
    _f("need_zip_code", "flag", syn=_B),
    _f("zip_code_format", syn='format="isZipCodeFormat"'),
    _f("display_tax_label", "flag", syn=f"required=\"true\" {_B}"),
    _f("name", "lang", syn='required="true" maxSize="64" format="isGenericName"'),
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
    ADDRESSES, CARTS, CONFIGURATIONS, COUNTRIES, CURRENCIES, CUSTOMERS, GROUPS, ORDER_CARRIERS,
    ORDER_DETAILS, ORDER_HISTORIES, ORDER_STATES, ORDERS, PRODUCTS)}

#: Descriptions of resources a key may be granted that the sandbox does not serve with data.
EXTRA_DESCRIPTIONS = {"languages": "Shop languages",
                      "order_payments": "The Order payments",
                      "shops": "Shops from multi-shop feature"}


def blank_record(resource: Resource) -> Record:
    """Every field empty and one empty entry per association (``schema=blank``)."""
    rec: Record = {f.name: "" for f in resource.fields}
    if resource.associations:
        rec["associations"] = {a.name: [{f.name: "" for f in a.fields}]
                               for a in resource.associations}
    return rec
