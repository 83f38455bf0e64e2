"""A fresh PrestaShop 8.1.2 shop's order states, and how they map to the neutral statuses.

The thirteen default states with their flags, names and templates; the state ids the sandbox
uses; which WooCommerce status a state change sets; and, for derived histories, which state
and how many history rows each neutral status implies.
"""

from __future__ import annotations

import numpy as np

from .presta_schema import Record
from .records import DRAFT_CODE, TRASH_CODE, OrderStatus

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
#: Index status codes PrestaShop never shows (checkout drafts are carts only; trash is gone).
HIDDEN_CODES = (DRAFT_CODE, TRASH_CODE)
#: State reached when a status is set without a PrestaShop state (-1: awaiting, by payment).
STATE_FOR_CODE = np.array([-1, PAYMENT_ACCEPTED, AWAITING_WIRE, DELIVERED, CANCELED, REFUNDED,
                           PAYMENT_ERROR, 0, 0], dtype=np.int32)
#: History rows a generated order has, by status code.
HISTORY_COUNT = np.array([1, 2, 1, 4, 2, 3, 2, 0, 0], dtype=np.int64)
_FIELDS = ("unremovable", "delivery", "hidden", "send_email", "module_name", "invoice", "color",
           "logable", "shipped", "paid", "pdf_delivery", "pdf_invoice")


def state_record(state_id: int) -> Record | None:
    """The ``order_states`` record of a default state, or None."""
    row = _STATES.get(state_id)
    if row is None:
        return None
    rec: Record = {"id": state_id}
    rec.update(zip(_FIELDS, row[:12]))
    rec["deleted"] = "0"
    rec["name"] = row[12]
    rec["template"] = row[13]
    return rec
