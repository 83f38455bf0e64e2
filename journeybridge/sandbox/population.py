"""A deterministic, platform-neutral shop population that scales to a million customers.

:class:`Population` is the one object tests, the demo and the platform APIs hold. It puts
together an *index* of compact numpy arrays built in one vectorised pass from
``(size, seed, now)`` (:mod:`.index`), records derived from it on demand (:mod:`.derive`), an
overlay of writes (:mod:`.overlay`) and the carts (:mod:`.carts`); reading one order or one
page costs O(page), never O(population).

Identifiers:

* registered customers are people ``0 .. size-1`` with customer id ``index + 1``;
* guests are people ``size .. size+guests-1``; their orders carry customer id ``0``;
* order ids start at :data:`FIRST_ORDER_ID` and rise with creation time;
* review ids start at :data:`FIRST_REVIEW_ID` and rise with creation time.

All timestamps are UTC. Rendering them in the shop's time zone is the platform layer's job.
Writes (``update_order``, ``add_order``, customer meta and field writes, ``add_cart``) go to the
overlay, guarded by one lock; the generated index is otherwise read-only.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from .carts import Carts
from .derive import Deriver
from .index import (
    GUEST_FLAG,
    HISTORY_SECONDS,
    PARTIAL_REFUND_FLAG,
    Int8Array,
    IntArray,
    build_index,
)
from .overlay import Overlay
from .records import (
    FIRST_ORDER_ID,
    FIRST_REVIEW_ID,
    PHASES,
    STATUS_CODE,
    STATUSES,
    TRASH_CODE,
    Address,
    Cart,
    Customer,
    Guest,
    MetaEntry,
    Order,
    OrderStatus,
    Phase,
    Product,
    Refund,
    Review,
)
from .vocabulary import catalogue

T = TypeVar("T")


class Population:
    """A deterministic generated shop: customers, guests, orders and reviews.

    ``Population(size, seed, now)`` always yields the same data for the same arguments. ``size``
    is the number of registered accounts (all roles); about ``size // 20`` guest buyers come on
    top. ``now`` must be timezone-aware; it defaults to the current UTC time rounded down to the
    minute, and no generated date lies after it.
    """

    def __init__(self, size: int, seed: int = 1, now: datetime | None = None) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        if now is None:
            now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.size = size
        self.seed = seed
        self.now = now.astimezone(timezone.utc)
        self.products: tuple[Product, ...] = catalogue()
        now_ts = int(self.now.timestamp())
        self._origin = now_ts - HISTORY_SECONDS
        self._lock = threading.RLock()
        self._built_at = datetime.now(timezone.utc)
        #: Per-platform state kept with the population (e.g. the PrestaShop groups), by platform.
        self.extensions: dict[str, Any] = {}
        self._index = build_index(size, seed, now_ts)
        self.n_guests = self._index.n_guests
        self.n_people = self._index.n_people
        first_meta_id = 10 ** (len(str(4 * (self.n_people + self._index.n_orders))) + 1)
        self._overlay = Overlay(self._index, self._lock, first_meta_id)
        self._derive = Deriver(self._index, self._overlay, size=size, seed=seed,
                               origin=self._origin, products=self.products)
        self._carts = Carts(self._derive, now_ts=now_ts)

    # ---------------------------------------------------------------- clocks
    def _rel(self, when: datetime) -> int:
        if when.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return int(when.timestamp()) - self._origin

    def _when(self, at: datetime | None) -> int:
        return self._rel(at if at is not None else self.clock())

    def clock(self) -> datetime:
        """The population's current time: ``now`` plus the wall time elapsed since it was built.

        Writes through the API stamp ``date_modified`` with this clock, so they always sort after
        the generated history whatever ``now`` was.
        """
        elapsed = datetime.now(timezone.utc) - self._built_at
        return (self.now + elapsed).replace(microsecond=0)

    @property
    def version(self) -> int:
        """A counter that changes whenever the overlay changes (for caches)."""
        return self._overlay.version

    def origin_ts(self) -> int:
        """The Unix time that relative index times count from."""
        return self._origin

    def extension(self, platform: str, make: Callable[[], T], kind: type[T]) -> T:
        """The state ``platform`` keeps with this population (an instance of ``kind``, stored in
        :attr:`extensions`), made with ``make()`` on first use; safe across threads."""
        with self._lock:
            state = self.extensions.get(platform)
            if not isinstance(state, kind):
                state = make()
                self.extensions[platform] = state
            return state

    # ---------------------------------------------------------------- counts
    @property
    def customer_count(self) -> int:
        """Registered accounts of every role."""
        return self.size

    @property
    def guest_count(self) -> int:
        """People who bought only as guests."""
        return self.n_guests

    @property
    def order_count(self) -> int:
        """Visible orders (every status except trash), including added ones."""
        with self._lock:
            return int(np.count_nonzero(self._index.status != TRASH_CODE))

    @property
    def order_count_all(self) -> int:
        """All orders including trash."""
        return int(self._index.status.size)

    @property
    def generated_order_count(self) -> int:
        """Orders made by the generator (added orders come after them)."""
        return self._index.n_orders

    @property
    def review_count(self) -> int:
        """All reviews, whatever their moderation status."""
        return int(self._index.r_person.size)

    @property
    def max_order_id(self) -> int:
        """The highest order id in use."""
        return FIRST_ORDER_ID + int(self._index.status.size) - 1

    @property
    def cart_count(self) -> int:
        """Every cart ever made (order carts, abandoned carts, visitor carts)."""
        return self._carts.count

    def count_by_phase(self) -> dict[Phase, int]:
        """How many people (registered and guests) were generated for each phase."""
        values, counts = np.unique(self._index.phase, return_counts=True)
        return {PHASES[int(v)]: int(c) for v, c in zip(values, counts)}

    def count_by_status(self) -> dict[OrderStatus, int]:
        """How many orders are in each status now (trash included)."""
        values, counts = np.unique(self._index.status, return_counts=True)
        return {STATUSES[int(v)]: int(c) for v, c in zip(values, counts)}

    # ---------------------------------------------------------------- index access (vectorised)
    def order_index_arrays(self) -> tuple[IntArray, IntArray, Int8Array, IntArray]:
        """Read-only views ``(created_rel, modified_rel, status_code, order_customer_id)``.

        Positions are order ids minus :data:`FIRST_ORDER_ID`; relative times are seconds since
        :meth:`origin_ts`; status codes index :data:`STATUSES`. For the platform layers'
        vectorised filters, not for tests.
        """
        idx = self._index
        with self._lock:
            return idx.created, idx.modified, idx.status, self._derive.order_customer_ids()

    def refund_rows(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                   npt.NDArray[np.int64]]:
        """Every refund of an order not in the trash as arrays ``(refund_id, order_id,
        created_rel)`` (seconds since :meth:`origin_ts`), by refund id: for ``GET refunds``."""
        idx = self._index
        with self._lock:
            status = idx.status[: idx.n_orders].copy()
            partial = (idx.flags[: idx.n_orders] & PARTIAL_REFUND_FLAG) != 0
        codes = [STATUSES.index(OrderStatus.REFUNDED), STATUSES.index(OrderStatus.COMPLETED)]
        candidates = np.flatnonzero((status == codes[0]) | (partial & (status == codes[1])))
        rows: list[tuple[int, int, int]] = []
        origin = self.origin_ts()
        for k in candidates.tolist():
            order = self._derive.order(FIRST_ORDER_ID + k, include_trash=False)
            for refund in order.refunds if order is not None else ():
                rows.append((refund.id, refund.order_id,
                             int(refund.date_created.timestamp()) - origin))
        rows.sort()
        arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
        return arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy()

    def created_is_monotone(self) -> bool:
        """True while order ids still rise with creation time (so date order == id order)."""
        return self._index.created_monotone

    def customer_index_arrays(self) -> tuple[Int8Array, IntArray]:
        """Read-only ``(role_code, registered_rel)`` for customers ``1..size`` (position id-1)."""
        return self._index.role[: self.size], self._index.registered[: self.size]

    def customer_name_order(self) -> IntArray:
        """Customer positions (id-1) sorted by username, computed once on first use."""
        return self._derive.name_order()

    def review_index_arrays(self) -> tuple[IntArray, Int8Array, npt.NDArray[np.int16]]:
        """Read-only ``(created_rel, status_code (0 approved, 1 hold), product_id)`` per review."""
        idx = self._index
        return idx.r_created, idx.r_status, self._derive.review_products()

    def order_owner_arrays(self) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """``(person_index, is_guest_order)`` of every order, positions as in
        :meth:`order_index_arrays`."""
        with self._lock:
            return self._index.owner, (self._index.flags & GUEST_FLAG) != 0

    def person_count_arrays(self) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """``(registered_rel, newsletter)`` for every person (customers, then guests)."""
        return self._index.registered, self._index.newsletter

    def generated_order_arrays(self) -> tuple[IntArray, Int8Array, IntArray,
                                              npt.NDArray[np.uint8]]:
        """``(created_rel, status_code, modified_rel, flags)`` of the generated orders as
        generated, before any :meth:`update_order` (flag 1: partly refunded, 2: guest order)."""
        idx = self._index
        with self._lock:
            n = idx.n_orders
            status, modified = self._overlay.generated_status()
            return idx.created[:n], status, modified, idx.flags[:n]

    def status_log_arrays(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """The status log as arrays ``(order_index, status_code, at_rel, state_tag)``."""
        return self._overlay.status_log_arrays()

    def cart_index_arrays(self) -> tuple[Int8Array, IntArray, IntArray, IntArray]:
        """``(kind, ref, created_rel, modified_rel)`` of every cart, position = cart id - 1.

        ``kind`` indexes :data:`CART_KINDS`; ``ref`` is the order index (order carts), the person
        index (abandoned carts) or the visitor number (visitor carts).
        """
        return self._carts.arrays()

    def index_nbytes(self) -> int:
        """Bytes held by the index arrays (a lower bound of the population's memory)."""
        return self._index.nbytes()

    # ---------------------------------------------------------------- people
    def person_of_customer(self, customer_id: int) -> int | None:
        """The person index of a registered customer id, or None if there is no such customer."""
        if 1 <= customer_id <= self.size:
            return customer_id - 1
        return None

    def _person_or_key_error(self, customer_id: int) -> int:
        p = self.person_of_customer(customer_id)
        if p is None:
            raise KeyError(customer_id)
        return p

    def find_customer_by_email(self, email: str) -> int | None:
        """The id of the registered customer with this e-mail (case-insensitive), if any."""
        wanted = email.strip().lower()
        local = wanted.split("@", 1)[0]
        digits = "".join(itertools.takewhile(str.isdigit, reversed(local)))[::-1]
        if digits:
            idx = int(digits)
            if idx < self.size and self._derive.person(idx)[2].lower() == wanted:
                return idx + 1
        return None

    def person_identity(self, person_index: int) -> tuple[str, str, str, Address]:
        """First name, last name, e-mail and address of any person (customer or guest)."""
        first, last, email, _, addr = self._derive.person(person_index)
        return first, last, email, addr

    def person_names(self, person_index: int) -> tuple[str, str, str, str]:
        """First name, last name, e-mail and username of any person, as generated (before any
        write)."""
        first, last, email, username, _ = self._derive.person(person_index)
        return first, last, email, username

    def customer(self, customer_id: int) -> Customer | None:
        """The registered customer with this id (1..size), or None."""
        p = self.person_of_customer(customer_id)
        return None if p is None else self._derive.customer(p)

    def customers(self) -> Iterator[Customer]:
        """Every registered customer, by id ascending."""
        for p in range(self.size):
            yield self._derive.customer(p)

    def guests(self) -> Iterator[Guest]:
        """Every guest-only person."""
        for p in range(self.size, self.n_people):
            first, last, email, _, _ = self._derive.person(p)
            yield Guest(p, email, first, last)

    def customer_orders(self, customer_id: int) -> list[Order]:
        """Every order (trash included) of one registered person, guest orders included."""
        p = self.person_of_customer(customer_id)
        if p is None:
            return []
        with self._lock:
            idxs = self._derive.orders_of_person(p)
        return [self._existing_order(FIRST_ORDER_ID + k) for k in idxs]

    # ---------------------------------------------------------------- orders and reviews
    def order(self, order_id: int, include_trash: bool = True) -> Order | None:
        """The order with this id, or None; trash orders only when ``include_trash``."""
        return self._derive.order(order_id, include_trash)

    def _existing_order(self, order_id: int) -> Order:
        o = self._derive.order(order_id)
        assert o is not None
        return o

    def orders(self, include_trash: bool = True) -> Iterator[Order]:
        """Every order by id ascending; trash orders only when ``include_trash``."""
        for k in range(self._index.status.size):
            o = self._derive.order(FIRST_ORDER_ID + k, include_trash=include_trash)
            if o is not None:
                yield o

    def orders_by_ids(self, ids: Sequence[int]) -> list[Order]:
        """The orders with these ids, in the given order (missing ids are skipped)."""
        found = (self._derive.order(int(oid)) for oid in ids)
        return [o for o in found if o is not None]

    def review(self, review_id: int) -> Review | None:
        """The review with this id, or None."""
        return self._derive.review(review_id)

    def reviews(self) -> Iterator[Review]:
        """Every review by id ascending."""
        for r in range(self._index.r_person.size):
            rv = self._derive.review(FIRST_REVIEW_ID + r)
            assert rv is not None
            yield rv

    def refund(self, refund_id: int) -> Refund | None:
        """The refund with this id, or None."""
        k = refund_id - self._derive.refund_id(0)
        o = self._derive.order(FIRST_ORDER_ID + k) if 0 <= k < self._index.status.size else None
        if o is None:
            return None
        return next((rf for rf in o.refunds if rf.id == refund_id), None)

    # ---------------------------------------------------------------- carts
    def cart(self, cart_id: int) -> Cart | None:
        """The cart with this id, or None."""
        return self._carts.cart(cart_id)

    def cart_of_order(self, order_id: int) -> int:
        """The id of the cart that became this order (every order has one)."""
        return self._carts.of_order(order_id)

    # ---------------------------------------------------------------- writes
    def _check_products(self, products: Sequence[tuple[int, int]]) -> None:
        for pid, _qty in products:
            if pid not in self._derive.product_by_id:
                raise KeyError(pid)

    def update_order(self, order_id: int, *, status: OrderStatus | str | None = None,
                     at: datetime | None = None,
                     meta_data: Sequence[dict[str, Any]] | None = None,
                     state_tag: int = 0) -> Order:
        """Change an order's status and/or meta and bump its ``date_modified``.

        ``at`` (timezone-aware) is the modification time; it defaults to :meth:`clock`. Moving
        to ``completed`` sets ``date_completed``; to ``processing``/``completed`` sets
        ``date_paid`` when it was unpaid. The owner's ``date_modified`` is bumped too, as
        WooCommerce does. Every status given is logged in :meth:`status_changes` (with
        ``state_tag``, a platform's own state id, 0 when none). Raises ``KeyError`` for an unknown
        id.
        """
        k = order_id - FIRST_ORDER_ID
        if k < 0 or k >= self._index.status.size:
            raise KeyError(order_id)
        when = self._when(at)
        code = None if status is None else STATUS_CODE[OrderStatus(status)]
        self._overlay.update_order(
            k, code=code, when=when, meta=meta_data, state_tag=state_tag,
            current_meta=lambda: self._existing_order(order_id).meta_data)
        return self._existing_order(order_id)

    def add_order(self, customer_id: int, *, status: OrderStatus | str = OrderStatus.PROCESSING,
                  at: datetime | None = None,
                  products: Sequence[tuple[int, int]] = ((10, 1),),
                  guest_email_of: int | None = None) -> Order:
        """Append a new order (next id) for a registered customer, created and modified ``at``.

        ``products`` is a sequence of ``(product_id, quantity)``. For a guest order pass
        ``customer_id=0`` and ``guest_email_of`` = the person index whose e-mail it carries.
        """
        when = self._when(at)
        if customer_id:
            person = self._person_or_key_error(customer_id)
        elif guest_email_of is None:
            raise ValueError("a guest order needs guest_email_of")
        else:
            person = guest_email_of
        self._check_products(products)
        code = STATUS_CODE[OrderStatus(status)]
        with self._lock:
            k = self._overlay.add_order(person, customer_id, code, when, products)
            self._carts.order_added(k, when)
        return self._existing_order(FIRST_ORDER_ID + k)

    def upsert_meta(self, current: Sequence[MetaEntry],
                    updates: Sequence[dict[str, Any]]) -> list[MetaEntry]:
        """Apply WooCommerce meta semantics and return the new list.

        An update with ``id`` replaces that row (its key may change); one with only ``key``
        replaces the first row with that key and drops later duplicates, or appends a new row
        with a fresh id. A ``value`` of None deletes the key.
        """
        return self._overlay.upsert_meta(current, updates)

    def _existing_customer(self, customer_id: int) -> Customer:
        c = self.customer(customer_id)
        assert c is not None
        return c

    def write_customer_meta(self, customer_id: int, updates: Sequence[dict[str, Any]],
                            at: datetime | None = None) -> Customer:
        """Upsert meta rows on a customer (see :meth:`upsert_meta`) and bump ``date_modified``."""
        p = self._person_or_key_error(customer_id)
        self._overlay.write_customer_meta(
            p, updates, self._when(at),
            current_meta=lambda: self._existing_customer(customer_id).meta_data)
        return self._existing_customer(customer_id)

    def update_customer(self, customer_id: int, *, first_name: str | None = None,
                        last_name: str | None = None, email: str | None = None,
                        newsletter: bool | None = None, at: datetime | None = None) -> Customer:
        """Change a registered customer's name, e-mail or newsletter consent; bump
        ``date_modified`` (to ``at``, default :meth:`clock`). Raises ``KeyError``."""
        p = self._person_or_key_error(customer_id)
        when = self._when(at)
        self._overlay.update_customer(
            p, {"first_name": first_name, "last_name": last_name, "email": email}, newsletter,
            when, self._derive.dt(when),
            current_optin=lambda: self._existing_customer(customer_id).newsletter_optin_at)
        return self._existing_customer(customer_id)

    def touch_customer(self, customer_id: int, at: datetime | None = None) -> None:
        """Bump a registered customer's ``date_modified`` without changing anything else."""
        self._overlay.touch_customer(self._person_or_key_error(customer_id), self._when(at))

    def add_cart(self, customer_id: int, products: Sequence[tuple[int, int]] = ((10, 1),),
                 at: datetime | None = None) -> Cart:
        """Add a cart left behind by a registered customer, or by an unknown visitor when
        ``customer_id`` is 0; created and modified ``at`` (default :meth:`clock`)."""
        when = self._when(at)
        self._check_products(products)
        person = self._person_or_key_error(customer_id) if customer_id else None
        with self._lock:
            cart_id = self._carts.add(person, when, products)
            self._overlay.bump()
        cart = self._carts.cart(cart_id)
        assert cart is not None
        return cart

    def status_changes(self) -> list[tuple[int, OrderStatus, datetime, int]]:
        """Every status set since the population was built, oldest first.

        Tuples ``(order_id, status, at, state_tag)``; ``state_tag`` is the platform state id
        passed to :meth:`update_order` (0 when the change came without one).
        """
        with self._lock:
            log = list(self._overlay.status_log)
        return [(FIRST_ORDER_ID + k, STATUSES[code], self._derive.dt(when), tag)
                for k, code, when, tag in log]
