"""The store's row format for pulled records (pure): a record of a kind becomes one row with
its compact JSON and the identity handles the store indexes (customer id, e-mail, whether it
is a customer row and a guest one), and a row decodes back into exactly the record.

Kinds: ``customer`` (:class:`Person`: accounts and guest checkout rows), ``order``, ``cart``,
``review`` and ``refund`` (:class:`RefundRecord`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from journeybridge.identity import Handles
from journeybridge.model import Cart, Order, Person, RefundRecord, Review

__all__ = [
    "KINDS",
    "MODELS",
    "Record",
    "RecordRow",
    "decode",
    "encode",
    "keep_own_write_stamp",
    "own_write_only",
]

Record = Person | Order | Cart | Review | RefundRecord

MODELS: Final[Mapping[str, type[BaseModel]]] = {
    "customer": Person, "order": Order, "cart": Cart, "review": Review, "refund": RefundRecord,
}
"""The model of each record kind."""
KINDS: Final = tuple(MODELS)
KIND_OF: Final[Mapping[type[BaseModel], str]] = {model: kind for kind, model in MODELS.items()}


@dataclass(frozen=True)
class RecordRow:
    """One stored record: kind, id, compact JSON and its identity handles."""

    kind: str
    id: str
    data: str
    handles: Handles
    order_ref: str | None = None


def record_id(record: Record) -> str:
    """The id a record is stored under (a customer row: its customer id, else its key)."""
    if isinstance(record, Person):
        return record.customer_id or record.key
    return record.id


def encode(record: Record) -> RecordRow:
    """The row of one validated model record."""
    kind = KIND_OF[type(record)]
    return RecordRow(kind, record_id(record), record.model_dump_json(exclude_defaults=True),
                     Handles.of(record),
                     record.order_id if isinstance(record, RefundRecord) else None)


def decode(kind: str, data: str) -> Record:
    """The record a stored row holds. Raises ValueError (with a plain message) for a row that
    no longer decodes (an unknown kind, damaged JSON, or a model that changed)."""
    model = MODELS.get(kind)
    if model is None:
        raise ValueError(f"unknown record kind {kind!r}")
    try:
        record = model.model_validate_json(data)
    except ValidationError as exc:
        problem = exc.errors()[0] if exc.errors() else {"loc": (), "msg": str(exc)}
        where = ".".join(str(p) for p in problem.get("loc", ())) or "record"
        raise ValueError(f"stored {kind} does not decode: {where}: {problem.get('msg')}"
                         ) from None
    assert isinstance(record, Person | Order | Cart | Review | RefundRecord)
    return record


def _stripped(record: dict[str, Any], own_meta_prefix: str) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != "modified_at"}
    meta = out.get("meta", {})
    if isinstance(meta, dict):
        out["meta"] = {k: v for k, v in meta.items() if not k.startswith(own_meta_prefix)}
    return out


def own_write_only(old: str, new: str, own_meta_prefix: str) -> bool:
    """Whether the stored order JSON ``old`` and the pulled ``new`` differ only in our own meta
    keys (``own_meta_prefix``) and ``modified_at``: our write-back saved the order, nothing
    happened to it (WooCommerce bumps ``date_modified`` on every save)."""
    if not own_meta_prefix or old == new:
        return False
    try:
        before, after = json.loads(old), json.loads(new)
    except ValueError:
        return False
    if not isinstance(before, dict) or not isinstance(after, dict) or \
            before.get("modified_at") is None:
        return False
    return _stripped(before, own_meta_prefix) == _stripped(after, own_meta_prefix)


def keep_own_write_stamp(old: str, new: str, own_meta_prefix: str, kind: str = "order") -> str:
    """``new`` (a record of ``kind``: an order or a customer) with ``old``'s ``modified_at``
    when the two differ only in our own meta keys
    (:func:`own_write_only`): the classifier reads that time as when the order last changed
    status, and our write did not change it. Any other difference returns ``new``."""
    if not own_write_only(old, new, own_meta_prefix):
        return new
    stamp = json.loads(old)["modified_at"]
    record = MODELS[kind].model_validate_json(new)
    moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return record.model_copy(update={"modified_at": moment}).model_dump_json(
        exclude_defaults=True)
