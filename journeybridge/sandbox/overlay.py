"""What was written to a population after its index was built, and the rules writes follow.

Writes come from tests and from the platform APIs (a WooCommerce ``PUT``, a PrestaShop state
change or customer ``PUT``). Status and modification changes go into the index's order arrays
too, so vectorised filters see them; everything else stays here and the derivation layers it
over the generated record. Every write is logged (:attr:`Overlay.status_log` for statuses) and
bumps :attr:`Overlay.version`, which caches key on. Guarded by the population's lock.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from .index import GUEST_FLAG, Int8Array, IntArray, PopulationIndex
from .records import COMPLETED_CODE, PROCESSING_CODE, REFUNDED_CODE, TRASH_CODE, MetaEntry

_PAID_CODES = (PROCESSING_CODE, COMPLETED_CODE, REFUNDED_CODE)


@dataclass
class OrderChange:
    """What was written to one order; None keeps the generated value."""

    status: int | None = None
    modified: int | None = None
    paid: int | None = None
    completed: int | None = None
    meta: list[MetaEntry] | None = None
    dates_from: int | None = None
    """The modification time the generated payment and completion dates derive from (the
    one before the first write): a write keeps those dates unless it moves the status."""
    status_from: int | None = None
    """The generated status (before the first write)."""


@dataclass
class AddedOrder:
    """An order added after the index was built (see :meth:`Overlay.add_order`)."""

    person: int
    customer_id: int
    products: tuple[tuple[int, int], ...]
    meta: list[MetaEntry] = field(default_factory=list)


class Overlay:
    """The writes of one population, keyed by order index and person index.

    Times are relative index seconds. The methods that need the record as it currently reads
    (to upsert its meta, say) take a callable that derives it, called under the lock.
    """

    def __init__(self, index: PopulationIndex, lock: threading.RLock, first_meta_id: int) -> None:
        self.index = index
        self.lock = lock
        self.version = 0
        self.orders: dict[int, OrderChange] = {}
        self.added: dict[int, AddedOrder] = {}
        self.person_added: dict[int, list[int]] = {}  # person -> added order indexes
        self.customer_meta: dict[int, list[MetaEntry]] = {}
        self.customer_modified: dict[int, int] = {}
        self.customer_fields: dict[int, dict[str, Any]] = {}
        #: Every status set, oldest first: ``(order index, status code, at, state tag)``.
        self.status_log: list[tuple[int, int, int, int]] = []
        self._generated: tuple[Int8Array, IntArray] | None = None
        self._meta_ids = itertools.count(first_meta_id)

    def bump(self) -> None:
        """Note a write made elsewhere (a cart added) so caches see a new version."""
        with self.lock:
            self.version += 1

    def person_modified(self, p: int) -> int:
        """When person ``p`` was last modified (written, or as generated)."""
        return self.customer_modified.get(p, int(self.index.person_modified[p]))

    # ---------------------------------------------------------------- orders
    def update_order(self, k: int, *, code: int | None, when: int,
                     meta: Sequence[dict[str, Any]] | None, state_tag: int,
                     current_meta: Callable[[], Sequence[MetaEntry]]) -> None:
        """Set order ``k``'s status (a code, or None to keep it) and upsert its meta at
        ``when``; bumps the order's and its owner's modification time.

        Moving to completed sets the completion time; to processing or completed from an unpaid
        status sets the payment time. ``current_meta`` gives the order's meta as it reads after
        the status change.
        """
        idx = self.index
        with self.lock:
            if self._generated is None:
                self._generated = (idx.status[: idx.n_orders].copy(),
                                   idx.modified[: idx.n_orders].copy())
            change = self.orders.setdefault(k, OrderChange())
            if change.dates_from is None:
                change.dates_from = int(idx.modified[k])
                change.status_from = int(idx.status[k])
            if code is not None:
                old = int(idx.status[k])
                self.status_log.append((k, code, when, state_tag))
                change.status = code
                idx.status[k] = code
                if code == COMPLETED_CODE and old != COMPLETED_CODE:
                    change.completed = when
                if code in (PROCESSING_CODE, COMPLETED_CODE) and old not in (
                        *_PAID_CODES, TRASH_CODE):
                    change.paid = when
            if meta is not None:
                current = change.meta
                if current is None:
                    current = list(current_meta())
                change.meta = self.upsert_meta(current, meta)
            change.modified = when
            idx.modified[k] = when
            p = int(idx.owner[k])
            self.customer_modified[p] = max(when, self.person_modified(p))
            self.version += 1

    def generated_order(self, k: int) -> tuple[int, int]:
        """Order index ``k``'s status code and modification time as generated, before any
        change (a refund keeps the date it was generated with when the order is edited)."""
        if self._generated is None or k >= self._generated[0].shape[0]:
            return int(self.index.status[k]), int(self.index.modified[k])
        return int(self._generated[0][k]), int(self._generated[1][k])

    def refunded_at(self, k: int, fallback: int) -> int:
        """When order index ``k`` was last moved to refunded by a change (``fallback`` if
        the log has no such move)."""
        with self.lock:
            moves = [when for order, code, when, _ in self.status_log
                     if order == k and code == REFUNDED_CODE]
        return moves[-1] if moves else fallback

    def add_order(self, person: int, customer_id: int, code: int, when: int,
                  products: Sequence[tuple[int, int]]) -> int:
        """Append an order of ``person`` (``customer_id`` 0: a guest order) created at
        ``when``; returns its order index."""
        idx = self.index
        with self.lock:
            k = int(idx.status.size)
            if k and when < int(idx.created[-1]):
                idx.created_monotone = False
            idx.created = np.append(idx.created, np.int32(when))
            idx.modified = np.append(idx.modified, np.int32(when))
            idx.status = np.append(idx.status, np.int8(code))
            idx.flags = np.append(idx.flags, np.uint8(0 if customer_id else GUEST_FLAG))
            idx.owner = np.append(idx.owner, np.int32(person))
            self.added[k] = AddedOrder(person, customer_id, tuple(products))
            self.person_added.setdefault(person, []).append(k)
            change = self.orders.setdefault(k, OrderChange())
            if code in _PAID_CODES:
                change.paid = when
            if code == COMPLETED_CODE:
                change.completed = when
            self.customer_modified[person] = max(when, self.person_modified(person))
            self.status_log.append((k, code, when, 0))
            self.version += 1
            return k

    def upsert_meta(self, current: Sequence[MetaEntry],
                    updates: Sequence[dict[str, Any]]) -> list[MetaEntry]:
        """Apply WooCommerce meta semantics and return the new list.

        An update with ``id`` replaces that row (its key may change); one with only ``key``
        replaces the first row with that key and drops later duplicates, or appends a new row
        with a fresh id. A ``value`` of None deletes the key.
        """
        rows = list(current)
        for upd in updates:
            if not isinstance(upd, dict) or "key" not in upd:
                continue
            key = str(upd["key"])
            value = upd.get("value")
            mid = upd.get("id")
            if mid is not None:
                for i, row in enumerate(rows):
                    if row.id == mid:
                        rows[i] = MetaEntry(row.id, key, value)
                        break
                continue
            if value is None:
                rows = [r for r in rows if r.key != key]
                continue
            hits = [i for i, r in enumerate(rows) if r.key == key]
            if hits:
                rows[hits[0]] = MetaEntry(rows[hits[0]].id, key, value)
                rows = [r for i, r in enumerate(rows) if r.key != key or i == hits[0]]
            else:
                rows.append(MetaEntry(next(self._meta_ids), key, value))
        return rows

    # ---------------------------------------------------------------- customers
    def write_customer_meta(self, p: int, updates: Sequence[dict[str, Any]], when: int,
                            current_meta: Callable[[], Sequence[MetaEntry]]) -> None:
        """Upsert meta rows on person ``p`` (see :meth:`upsert_meta`), modified at ``when``."""
        with self.lock:
            current = self.customer_meta.get(p)
            if current is None:
                current = list(current_meta())
            self.customer_meta[p] = self.upsert_meta(current, updates)
            self.customer_modified[p] = when
            self.version += 1

    def update_customer(self, p: int, names: dict[str, str | None], newsletter: bool | None,
                        when: int, when_dt: datetime,
                        current_optin: Callable[[], datetime | None]) -> None:
        """Overwrite person ``p``'s names and e-mail (``names`` values that are not None) and
        newsletter consent (opting in keeps an earlier opt-in time, else ``when_dt``)."""
        with self.lock:
            fields = self.customer_fields.setdefault(p, {})
            for key, value in names.items():
                if value is not None:
                    fields[key] = value
            if newsletter is not None:
                if newsletter and current_optin() is None:
                    fields["newsletter_optin_at"] = when_dt
                elif not newsletter:
                    fields["newsletter_optin_at"] = None
            self.customer_modified[p] = when
            self.version += 1

    def touch_customer(self, p: int, when: int) -> None:
        """Set person ``p``'s modification time to ``when``."""
        with self.lock:
            self.customer_modified[p] = when
            self.version += 1

    # ---------------------------------------------------------------- read-outs
    def status_log_arrays(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """The status log as arrays ``(order_index, status_code, at_rel, state_tag)``."""
        with self.lock:
            log = list(self.status_log)
        if not log:
            empty = np.zeros(0, dtype=np.int32)
            return empty, empty, empty, empty
        arr = np.array(log, dtype=np.int64)
        return (arr[:, 0].astype(np.int32), arr[:, 1].astype(np.int32),
                arr[:, 2].astype(np.int32), arr[:, 3].astype(np.int32))

    def generated_status(self) -> tuple[Int8Array, IntArray]:
        """``(status_code, modified_rel)`` of the generated orders before any update."""
        idx = self.index
        with self.lock:
            if self._generated is not None:
                return self._generated
            return idx.status[: idx.n_orders], idx.modified[: idx.n_orders]
