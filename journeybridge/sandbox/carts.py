"""Shopping carts: the one behind every order, the ones people left behind, and visitors' carts.

WooCommerce keeps no carts; PrestaShop lists them all. The generated carts are indexed on first
use, sorted by creation time (position + 1 is the cart id); carts made later (an added order's,
or :meth:`Carts.add`) get the ids after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .derive import Deriver
from .index import HISTORY_SECONDS, Int8Array, IntArray
from .records import CART_KINDS, DAY, FIRST_ORDER_ID, PHASE_CODE, Cart, Phase

_ORDER, _ABANDONED, _VISITOR = range(len(CART_KINDS))


@dataclass
class _CartIndex:
    """Generated carts sorted by creation time (position + 1 is the cart id)."""

    kind: Int8Array
    ref: IntArray  # order index, person index or visitor number, by kind
    created: IntArray
    modified: IntArray
    order_cart: IntArray  # generated order index -> cart id


@dataclass
class _AddedCart:
    """A cart made after the index was built."""

    kind: int
    ref: int
    created: int
    modified: int
    lines: tuple[tuple[int, int], ...]


class Carts:
    """Every cart of one population; reads and writes under the population's lock."""

    def __init__(self, derive: Deriver, *, now_ts: int) -> None:
        self.derive = derive
        self.index = derive.index
        self.lock = derive.lock
        self._now_ts = now_ts
        self._carts: _CartIndex | None = None
        self._added: list[_AddedCart] = []
        self._arrays: tuple[int, tuple[Int8Array, IntArray, IntArray, IntArray]] | None = None

    def _built(self) -> _CartIndex:
        with self.lock:
            if self._carts is None:
                self._carts = self._build()
                idx = self.index
                for k in range(idx.n_orders, int(idx.status.size)):
                    self._added.append(_AddedCart(_ORDER, k, int(idx.created[k]) - 60,
                                                  int(idx.created[k]), ()))
            return self._carts

    def _build(self) -> _CartIndex:
        idx = self.index
        n_gen, n = idx.n_orders, self.derive.size
        now_rel = HISTORY_SECONDS
        rng = np.random.default_rng([self.derive.seed, n, self._now_ts, 0xCA27])
        created_o = idx.created[:n_gen].astype(np.int64)
        o_created = created_o - rng.integers(120, 3600, n_gen)
        left = (rng.random(n) < 0.12).astype(np.int32)
        left[idx.phase[:n] == PHASE_CODE[Phase.ABANDONED]] += 1
        owners = np.repeat(np.arange(n, dtype=np.int64), left)
        reg = idx.registered[owners].astype(np.int64)
        l_created = reg + (rng.random(owners.size) * (now_rel - 60 - reg)).astype(np.int64)
        l_mod = np.minimum(l_created + rng.integers(0, 86_400, owners.size), now_rel - 30)
        visitors = max(3, n // 5)
        v_created = now_rel - (rng.random(visitors) * 730 * DAY).astype(np.int64) - 60
        v_mod = np.minimum(v_created + rng.integers(0, 1800, visitors), now_rel - 30)
        kind = np.concatenate([np.zeros(n_gen, np.int8), np.ones(owners.size, np.int8),
                               np.full(visitors, 2, np.int8)])
        ref = np.concatenate([np.arange(n_gen, dtype=np.int64), owners,
                              np.arange(visitors, dtype=np.int64)])
        created = np.concatenate([o_created, l_created, v_created])
        modified = np.concatenate([created_o, l_mod, v_mod])
        order = np.argsort(created, kind="stable")
        kind, ref = kind[order], ref[order].astype(np.int32)
        order_cart = np.zeros(n_gen, dtype=np.int32)
        pos = np.flatnonzero(kind == 0)
        order_cart[ref[pos]] = (pos + 1).astype(np.int32)
        return _CartIndex(kind, ref, created[order].astype(np.int32),
                          modified[order].astype(np.int32), order_cart)

    def arrays(self) -> tuple[Int8Array, IntArray, IntArray, IntArray]:
        """``(kind, ref, created_rel, modified_rel)`` of every cart, position = cart id - 1."""
        idx = self._built()
        with self.lock:
            cached = self._arrays
            if cached is not None and cached[0] == len(self._added):
                return cached[1]
            added = list(self._added)
            made = (np.concatenate([idx.kind, np.array([e.kind for e in added], np.int8)]),
                    np.concatenate([idx.ref, np.array([e.ref for e in added], np.int32)]),
                    np.concatenate([idx.created,
                                    np.array([e.created for e in added], np.int32)]),
                    np.concatenate([idx.modified,
                                    np.array([e.modified for e in added], np.int32)]))
            self._arrays = (len(added), made)
            return made

    def of_order(self, order_id: int) -> int:
        """The id of the cart that became this order; KeyError for an unknown order."""
        k = order_id - FIRST_ORDER_ID
        idx = self._built()
        if 0 <= k < self.index.n_orders:
            return int(idx.order_cart[k])
        with self.lock:
            for i, e in enumerate(self._added):
                if e.kind == _ORDER and e.ref == k:
                    return int(idx.kind.size) + i + 1
        raise KeyError(order_id)

    @property
    def count(self) -> int:
        """Every cart ever made."""
        idx = self._built()
        with self.lock:
            return int(idx.kind.size) + len(self._added)

    def cart(self, cart_id: int) -> Cart | None:
        """The cart with this id, or None."""
        derive = self.derive
        kinds, refs, created, modified = self.arrays()
        i = cart_id - 1
        if i < 0 or i >= kinds.size:
            return None
        kind, ref = int(kinds[i]), int(refs[i])
        base = int(self._carts.kind.size) if self._carts is not None else 0
        added_lines: tuple[tuple[int, int], ...] = ()
        if i >= base:
            with self.lock:
                added_lines = self._added[i - base].lines
        order_id: int | None = None
        if kind == _ORDER:
            order_id = FIRST_ORDER_ID + ref
            o = derive.order(order_id)
            assert o is not None
            person = o.person_index
            lines = tuple((li.product_id, li.quantity) for li in o.line_items)
            visitor = person + 1
        else:
            person = ref if kind == _ABANDONED else -1
            visitor = person + 1 if kind == _ABANDONED else self.index.n_people + ref + 1
            if added_lines:
                lines = added_lines
            else:
                rng = derive.rng("cart", cart_id)
                phase = (int(self.index.phase[person]) if person >= 0
                         else PHASE_CODE[Phase.GUEST])
                lines = tuple(derive.lines(phase, rng))
        return Cart(cart_id, CART_KINDS[kind], person, order_id, visitor,
                    derive.dt(int(created[i])), derive.dt(int(modified[i])), lines)

    def add(self, person: int | None, when: int, products: Sequence[tuple[int, int]]) -> int:
        """Add a cart left behind by ``person``, or by a new unknown visitor when None, made at
        ``when``; returns its id."""
        self._built()
        with self.lock:
            if person is not None:
                added = _AddedCart(_ABANDONED, person, when, when, tuple(products))
            else:
                visitors = sum(1 for e in self._added if e.kind == _VISITOR)
                added = _AddedCart(_VISITOR, max(3, self.derive.size // 5) + visitors, when,
                                   when, tuple(products))
            self._added.append(added)
            return self.count

    def order_added(self, k: int, when: int) -> None:
        """Give order index ``k``, just added at ``when``, its cart (once carts are indexed;
        before that, indexing them does)."""
        with self.lock:
            if self._carts is not None:
                self._added.append(_AddedCart(_ORDER, k, when - 60, when, ()))
