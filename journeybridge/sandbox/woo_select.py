"""Which records a WooCommerce list query selects, in which order: vectorised over the index.

Each method takes the validated arguments of one list route (:mod:`.woo_args`) and returns the
matching ids in answer order; paging is the caller's. Filters run as numpy masks over the
population's index arrays; only ``search``, ``product`` and ``reviewer_email`` read records.
Selections are memoised (a small LRU) until the population changes, so walking the pages of one
query costs one selection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .population import Population
from .records import FIRST_ORDER_ID, FIRST_REVIEW_ID, STATUSES, OrderStatus, Role
from .woo_args import utc_from_naive

Ids = npt.NDArray[np.int64]
_CACHE_SIZE = 16


class WooSelector:
    """Selections over one population."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self._cache: OrderedDict[tuple[Any, ...], Ids] = OrderedDict()
        self._cache_lock = threading.Lock()

    def _cached(self, key: tuple[Any, ...], build: Callable[[], Ids]) -> Ids:
        full = (*key, self.population.version, self.population.order_count_all)
        with self._cache_lock:
            hit = self._cache.get(full)
            if hit is not None:
                self._cache.move_to_end(full)
                return hit
        made = build()
        with self._cache_lock:
            self._cache[full] = made
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return made

    def _time_filter(self, values: Mapping[str, Any], name: str) -> int | None:
        value = values.get(name)
        if value is None:
            return None
        utc = utc_from_naive(value, is_gmt=bool(values.get("dates_are_gmt")))
        return int(utc.timestamp()) - self.population.origin_ts()

    # ---------------------------------------------------------------- customers
    def customers(self, v: Mapping[str, Any]) -> Ids:
        """Customer ids for ``GET customers``."""
        key = ("customers", v["role"], tuple(v["include"]), tuple(v["exclude"]), v.get("email"),
               v.get("search"), v["orderby"], v["order"])
        return self._cached(key, lambda: self._customers(v))

    def _customers(self, values: Mapping[str, Any]) -> Ids:
        pop = self.population
        roles, registered = pop.customer_index_arrays()
        ids = np.arange(1, pop.size + 1, dtype=np.int64)
        mask = np.ones(pop.size, dtype=bool)
        role = values["role"]
        if role != "all":
            try:
                code = [r.value for r in Role].index(role)
            except ValueError:
                code = -2
            mask &= roles == code
        _filter_ids(mask, ids, values)
        email = values.get("email")
        if email is not None:
            found = pop.find_customer_by_email(email)
            only = np.zeros(pop.size, dtype=bool)
            if found is not None:
                only[found - 1] = True
            mask &= only
        search = values.get("search")
        if search:
            mask &= self._customer_search(search)
        if values["orderby"] == "name":
            order = pop.customer_name_order().astype(np.int64)
            out = order[mask[order]] + 1
            return out[::-1].copy() if values["order"] == "desc" else out
        keys = registered[mask] if values["orderby"] == "registered_date" else None
        return _ordered(ids[mask], values, keys)

    def _customer_search(self, term: str) -> npt.NDArray[np.bool_]:
        pop = self.population
        needle = term.strip().strip("*").lower()
        mask = np.zeros(pop.size, dtype=bool)
        if needle.isdigit() and 1 <= int(needle) <= pop.size:
            mask[int(needle) - 1] = True
            return mask
        for i in range(pop.size):
            first, last, email, username = pop.person_names(i)
            if (needle in email.lower() or needle in username or needle in first.lower()
                    or needle in last.lower()):
                mask[i] = True
        return mask

    # ---------------------------------------------------------------- orders
    def orders(self, v: Mapping[str, Any]) -> Ids:
        """Order ids for ``GET orders``."""
        key = ("orders", tuple(v["status"]), v.get("customer"), v.get("after"), v.get("before"),
               v.get("modified_after"), v.get("modified_before"), v["dates_are_gmt"],
               tuple(v["include"]), tuple(v["exclude"]), tuple(v["parent"]), v.get("product"),
               v.get("search"), v["orderby"], v["order"])
        return self._cached(key, lambda: self._orders(v))

    def _orders(self, values: Mapping[str, Any]) -> Ids:
        pop = self.population
        created, modified, status, cids = pop.order_index_arrays()
        n = status.size
        statuses = values["status"] or ["any"]
        if "any" in statuses:
            mask = status != STATUSES.index(OrderStatus.TRASH)
        else:
            codes = [STATUSES.index(OrderStatus(s)) for s in statuses if s != "auto-draft"]
            mask = np.isin(status, np.array(codes, dtype=np.int8))
        if values.get("customer") is not None:
            mask &= cids == int(values["customer"])
        for name, arr, op in (("after", created, np.greater), ("before", created, np.less),
                              ("modified_after", modified, np.greater),
                              ("modified_before", modified, np.less)):
            bound = self._time_filter(values, name)
            if bound is not None:
                mask &= op(arr, bound)
        ids = np.arange(FIRST_ORDER_ID, FIRST_ORDER_ID + n, dtype=np.int64)
        _filter_ids(mask, ids, values)
        if values["parent"]:
            mask &= np.isin(0, np.array(values["parent"]))
        product = values.get("product")
        search = values.get("search")
        if search:
            mask &= self._order_search(search, ids)
        chosen = ids[mask]
        if product is not None:
            chosen = np.array([i for i in chosen if any(
                li.product_id == product for li in self._order_lines(int(i)))], dtype=np.int64)
        orderby = values["orderby"]
        keys = None
        if orderby == "modified":
            keys = modified[chosen - FIRST_ORDER_ID]
        elif orderby != "id" and not pop.created_is_monotone():
            keys = created[chosen - FIRST_ORDER_ID]
        return _ordered(chosen, values, keys)

    def refunds(self, v: Mapping[str, Any]) -> tuple[Ids, Ids]:
        """Refund ids for ``GET refunds`` (WooCommerce 9.0+: every order's refunds), with
        their orders' ids alongside. A refund is never modified after it is made, so
        ``modified_after``/``modified_before`` filter its creation time like ``after``/
        ``before``."""
        key = ("refunds", v.get("after"), v.get("before"), v.get("modified_after"),
               v.get("modified_before"), v["dates_are_gmt"], tuple(v["include"]),
               tuple(v["exclude"]), tuple(v["parent"]), v["orderby"], v["order"])
        chosen = self._cached(key, lambda: self._refunds(v))
        rows = self._cached(("refund_orders",), lambda: self._refund_table()[1])
        ids = self._cached(("refund_ids",), lambda: self._refund_table()[0])
        return chosen, rows[np.searchsorted(ids, chosen)] if chosen.size else chosen

    def _refund_table(self) -> tuple[Ids, Ids, Ids]:
        return self.population.refund_rows()

    def _refunds(self, values: Mapping[str, Any]) -> Ids:
        ids, orders, created = self._refund_table()
        mask = np.ones(ids.size, dtype=np.bool_)
        for name, op in (("after", np.greater), ("before", np.less),
                         ("modified_after", np.greater), ("modified_before", np.less)):
            bound = self._time_filter(values, name)
            if bound is not None:
                mask &= op(created, bound)
        _filter_ids(mask, ids, values)
        if values["parent"]:
            mask &= np.isin(orders, np.array(values["parent"], dtype=np.int64))
        keys = None if values["orderby"] in ("id", "include") else created[mask]
        return _ordered(ids[mask], values, keys)

    def _order_lines(self, oid: int) -> Sequence[Any]:
        o = self.population.order(oid)
        return o.line_items if o is not None else ()

    def _order_search(self, term: str, ids: Ids) -> npt.NDArray[np.bool_]:
        pop = self.population
        needle = term.strip().lower()
        mask = np.zeros(ids.size, dtype=bool)
        if needle.isdigit():
            k = int(needle) - FIRST_ORDER_ID
            if 0 <= k < ids.size:
                mask[k] = True
            return mask
        for k in range(ids.size):
            o = pop.order(int(ids[k]))
            if o is not None and (needle in o.billing.email.lower()
                                  or needle in o.billing.first_name.lower()
                                  or needle in o.billing.last_name.lower()):
                mask[k] = True
        return mask

    # ---------------------------------------------------------------- reviews
    def reviews(self, v: Mapping[str, Any]) -> Ids:
        """Review ids for ``GET products/reviews``."""
        key = ("reviews", v["status"], tuple(v["product"]), v.get("after"), v.get("before"),
               tuple(v["include"]), tuple(v["exclude"]), v.get("reviewer_email"), v["orderby"],
               v["order"])
        return self._cached(key, lambda: self._reviews(v))

    def _reviews(self, values: Mapping[str, Any]) -> Ids:
        pop = self.population
        created, rstatus, products = pop.review_index_arrays()
        n = created.size
        ids = np.arange(FIRST_REVIEW_ID, FIRST_REVIEW_ID + n, dtype=np.int64)
        mask = np.ones(n, dtype=bool)
        status = values["status"]
        if status == "approved":
            mask &= rstatus == 0
        elif status == "hold":
            mask &= rstatus == 1
        elif status in ("spam", "trash"):
            mask &= False
        if values["product"]:
            mask &= np.isin(products, np.array(values["product"], dtype=np.int16))
        for name, op in (("after", np.greater), ("before", np.less)):
            bound = self._time_filter(values, name)
            if bound is not None:
                mask &= op(created, bound)
        _filter_ids(mask, ids, values)
        email = values.get("reviewer_email")
        if email:
            wanted = email.strip().lower()
            for k in np.flatnonzero(mask):
                r = pop.review(int(ids[k]))
                if r is None or r.reviewer_email.lower() != wanted:
                    mask[k] = False
        chosen = ids[mask]
        keys = products[chosen - FIRST_REVIEW_ID] if values["orderby"] == "product" else None
        return _ordered(chosen, values, keys)


def _filter_ids(mask: npt.NDArray[np.bool_], ids: Ids, values: Mapping[str, Any]) -> None:
    """Narrow ``mask`` (aligned with ``ids``) by the ``include`` and ``exclude`` arguments."""
    if values["include"]:
        mask &= np.isin(ids, np.array(values["include"], dtype=np.int64))
    if values["exclude"]:
        mask &= ~np.isin(ids, np.array(values["exclude"], dtype=np.int64))


def _ordered(chosen: Ids, values: Mapping[str, Any], keys: npt.NDArray[Any] | None) -> Ids:
    """``chosen`` in answer order: as listed in ``include`` for ``orderby=include``, else by
    ``keys`` (None: by id), ties by id, reversed for ``order=desc``."""
    if values["orderby"] == "include" and values["include"]:
        wanted = {int(x) for x in chosen}
        seen: list[int] = []
        for x in values["include"]:
            if x in wanted and x not in seen:
                seen.append(x)
        return np.array(seen, dtype=np.int64)
    out = np.sort(chosen) if keys is None else chosen[np.lexsort((chosen, keys))]
    return out[::-1].copy() if values["order"] == "desc" else out
