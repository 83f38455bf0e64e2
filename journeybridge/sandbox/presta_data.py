"""The population seen as a PrestaShop 8.1.2 database: derived rows and PrestaShop-only writes.

The same people and orders as the WooCommerce side, with what only PrestaShop has:

* guest checkouts are customer rows with ``is_guest`` ``"1"``, one row per guest order, ids after
  the registered accounts (a guest who registered later has guest rows and an account);
* every order has a cart; people also leave carts behind, and unknown visitors fill carts
  (``id_customer`` 0). Checkout drafts are carts only; trashed orders are gone;
* each order's state history is derived from its dates (awaiting payment at creation, payment
  accepted when paid, shipped, delivered when completed, canceled/refunded/payment error);
  later status changes, from either platform, append history rows.

:class:`PrestaShopData` derives those as arrays and exposes every resource as a
:class:`~.presta_tables.Table` (:attr:`PrestaShopData.tables`). Writes (customer PUT, group POST)
go to the population where WooCommerce has the same notion (names, e-mail, newsletter,
``date_modified``) and to :class:`PrestaShopState` otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import numpy.typing as npt

from .population import Population
from .presta_schema import Record
from .presta_states import (
    AWAITING_CHECK,
    AWAITING_WIRE,
    CANCELED,
    DELIVERED,
    HIDDEN_CODES,
    HISTORY_COUNT,
    PAYMENT_ACCEPTED,
    PAYMENT_ERROR,
    REFUNDED,
    SHIPPED,
    STATE_FOR_CODE,
    STATUS_FOR_STATE,
)
from .presta_tables import Table, make_tables
from .presta_values import shop_date
from .records import CANCELLED_CODE, COMPLETED_CODE, FAILED_CODE, ON_HOLD_CODE, REFUNDED_CODE


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
    address_changes: dict[int, Record] = field(default_factory=dict)
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
        self.tables: dict[str, Table] = make_tables(self)

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
            counts = HISTORY_COUNT[code]
            total = int(counts.sum())
            k = np.repeat(np.arange(code.size, dtype=np.int64), counts)
            starts = np.cumsum(counts) - counts
            step = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
            c, m, kc = created[k], modified[k], code[k]
            paid = c + 600
            partial = (flags[k] & 1) != 0
            done = np.where(partial, c + (m - c) // 3, m)
            ship = paid + (done - paid) // 2
            wire = ((k * 7 + pop.seed) % 5 == 0) | (kc == ON_HOLD_CODE)
            state = np.where(wire, AWAITING_WIRE, AWAITING_CHECK).astype(np.int64)
            at = c.copy()
            employee = np.zeros(total, dtype=np.int64)
            s1 = step == 1
            state[s1] = PAYMENT_ACCEPTED
            at[s1] = paid[s1]
            for kode, st in ((CANCELLED_CODE, CANCELED), (FAILED_CODE, PAYMENT_ERROR)):
                sel = s1 & (kc == kode)
                state[sel], at[sel] = st, m[sel]
                employee[sel] = 1 if kode == CANCELLED_CODE else 0
            sel = (step == 2) & (kc == COMPLETED_CODE)
            state[sel], at[sel], employee[sel] = SHIPPED, ship[sel], 1
            sel = (step == 3) & (kc == COMPLETED_CODE)
            state[sel], at[sel], employee[sel] = DELIVERED, done[sel], 1
            sel = (step == 2) & (kc == REFUNDED_CODE)
            state[sel], at[sel], employee[sel] = REFUNDED, m[sel], 1
            lk, lcode, lat, ltag = pop.status_log_arrays()
            lstate = STATE_FOR_CODE[lcode].astype(np.int64)
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
            mask = ~np.isin(status, np.array(HIDDEN_CODES, dtype=np.int8))
            mask &= self.current_states()[: status.size] > 0
            return np.flatnonzero(mask).astype(np.int64)
        result: npt.NDArray[np.int64] = self.cached("visible_orders", (), build)
        return result

    # ------------------------------------------------------------------ mutations
    def set_order_state(self, order_id: int, state_id: int, at: datetime | None = None) -> None:
        """Move an order into a PrestaShop state: adds an order history row, bumps the order's
        (and its owner's) ``date_upd`` and sets the matching WooCommerce status."""
        if state_id not in STATUS_FOR_STATE:
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

    def move_address(self, aid: int, at: datetime, **values: Any) -> None:
        """Change address ``aid`` (``city``, ``postcode``, ``id_country``, ``phone``, ...)
        as the shop's back office would, with ``date_upd`` set to ``at``; the customer row
        is left as it is (PrestaShop does not touch it either)."""
        with self.state.lock:
            change = self.state.address_changes.setdefault(aid, {})
            change.update(values)
            change["date_upd"] = shop_date(at)
        with self._cache_lock:
            self._cache.clear()

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

