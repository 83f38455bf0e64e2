"""The population's index: compact numpy arrays built in one vectorised pass from the arguments.

:func:`build_index` draws who exists, in which journey phase, how many orders each person
placed, when, in which status, when people registered and who reviewed what, from one
``numpy`` generator seeded with ``(seed, size, now)``. The draws happen in a fixed order, so the
same arguments always give the same arrays. Everything else about a record is derived from
these arrays one record at a time (:mod:`.derive`).

Times are seconds relative to the population's origin, ``now - HISTORY_SECONDS``, in ``int32``:
at a million customers there are about 3.2 million orders and every ``int64`` array costs
26 MB, so arrays are built with small dtypes and temporaries are freed early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .records import (
    CANCELLED_CODE,
    COMPLETED_CODE,
    DAY,
    DRAFT_CODE,
    FAILED_CODE,
    ON_HOLD_CODE,
    PENDING_CODE,
    PHASE_CODE,
    PHASES,
    PROCESSING_CODE,
    REFUNDED_CODE,
    ROLES,
    TRASH_CODE,
    Phase,
    Role,
)

IntArray = npt.NDArray[np.int32]
Int64Array = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]

#: How far before ``now`` the relative clock of the index starts.
HISTORY_SECONDS = 12 * 365 * DAY
#: Order flags: partly refunded, placed as a guest.
PARTIAL_REFUND_FLAG = 1
GUEST_FLAG = 2

# Showcase people at the lowest indices, so even tiny populations contain every phase.
# (phase, role, order statuses or None for random, rhythm days)
_SHOWCASE: tuple[tuple[Phase, Role, tuple[int, ...] | None, int], ...] = (
    (Phase.STAFF, Role.ADMINISTRATOR, (COMPLETED_CODE, COMPLETED_CODE, PROCESSING_CODE), 120),
    (Phase.STAFF, Role.SHOP_MANAGER, (COMPLETED_CODE,), 0),
    (Phase.REGISTERED_ONLY, Role.CUSTOMER, (), 0),
    (Phase.NEWSLETTER_ONLY, Role.CUSTOMER, (), 0),
    (Phase.NEWSLETTER_ONLY, Role.SUBSCRIBER, (), 0),
    (Phase.REGISTERED_ONLY, Role.SUBSCRIBER, (), 0),
    (Phase.ABANDONED, Role.CUSTOMER, (PENDING_CODE,), 0),
    (Phase.ABANDONED, Role.CUSTOMER, (FAILED_CODE,), 0),
    (Phase.ABANDONED, Role.CUSTOMER, (DRAFT_CODE,), 0),
    (Phase.ABANDONED, Role.CUSTOMER, (FAILED_CODE, PENDING_CODE), 0),
    *((Phase.FIRST_BUYER, Role.CUSTOMER, (code,), 0)
      for code in (PENDING_CODE, PROCESSING_CODE, ON_HOLD_CODE, COMPLETED_CODE, CANCELLED_CODE,
                   REFUNDED_CODE, FAILED_CODE, DRAFT_CODE)),
    (Phase.FIRST_BUYER, Role.CUSTOMER, (TRASH_CODE,), 0),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 7),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 14),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 30),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 91),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 365),
    (Phase.LAPSED, Role.CUSTOMER, None, 120),
    (Phase.LAPSED, Role.CUSTOMER, None, 200),
    (Phase.GUEST_THEN_REGISTERED, Role.CUSTOMER, None, 60),
)
_SHOWCASE_ORDERS = {7: 30, 14: 12, 30: 8, 91: 5, 365: 3, 120: 3, 200: 2, 60: 4}  # by rhythm
SHOWCASE_GUESTS = 3
_RHYTHMS = np.array([7, 14, 30, 91, 365], dtype=np.int32)
_RHYTHM_P = np.array([0.15, 0.15, 0.35, 0.25, 0.10])
_RHYTHM_LAMBDA = np.array([12.0, 8.0, 5.0, 2.5, 1.2])


@dataclass
class PopulationIndex:
    """The arrays a population is derived from.

    People are positions ``0 .. n_people-1`` (registered customers first, then guests); orders
    are positions ``order id - FIRST_ORDER_ID`` sorted by creation time; reviews are positions
    ``review id - FIRST_REVIEW_ID``. The order arrays are current: the overlay writes status
    and modification changes into them and appends added orders (``n_orders`` stays the number
    of generated ones).
    """

    n_guests: int
    n_people: int
    phase: Int8Array
    role: Int8Array  # index into ROLES, -1 for guests
    rhythm: IntArray  # days between orders
    first_guest_orders: IntArray  # of a guest-then-registered person, placed as a guest
    registered: IntArray
    person_modified: IntArray
    newsletter: BoolArray
    count: IntArray  # generated orders per person
    cum: Int64Array  # person p's orders are person-major positions cum[p] .. cum[p+1]-1
    ids_by_person: IntArray  # person-major position -> order index
    created: IntArray
    modified: IntArray
    status: Int8Array  # index into STATUSES
    flags: npt.NDArray[np.uint8]
    owner: IntArray  # order index -> person
    n_orders: int
    created_monotone: bool  # order ids still rise with creation time
    r_person: IntArray
    r_order: IntArray  # order index of the reviewed purchase, -1 for unverified reviews
    r_created: IntArray
    r_rating: Int8Array
    r_status: Int8Array  # 0 approved, 1 hold

    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        arrays: list[npt.NDArray[Any]] = [
            self.created, self.modified, self.status, self.flags, self.owner, self.ids_by_person,
            self.cum, self.registered, self.person_modified, self.phase, self.role, self.rhythm,
            self.first_guest_orders, self.newsletter, self.count, self.r_person, self.r_order,
            self.r_created, self.r_rating, self.r_status]
        return int(sum(a.nbytes for a in arrays))


def build_index(size: int, seed: int, now_ts: int) -> PopulationIndex:
    """The index of ``size`` registered accounts plus their guests, as of Unix time ``now_ts``.

    Deterministic in its arguments. No generated time lies after ``now``; orders start six
    years before it.
    """
    n = size
    g = max(SHOWCASE_GUESTS, n // 20)
    people = n + g
    rng = np.random.default_rng([seed, n, now_ts])
    now_rel = HISTORY_SECONDS
    shop_start = now_rel - 6 * 365 * DAY
    phase, role, rhythm, count, forced = _people(rng, n, g)
    count, last, span_days = _last_orders(rng, phase, rhythm, count, forced, now_rel, shop_start)

    cum = np.zeros(people + 1, dtype=np.int64)
    np.cumsum(count, out=cum[1:])
    owner = np.repeat(np.arange(people, dtype=np.int32), count)
    back = cum[1:].astype(np.int32)[owner]
    total = int(cum[-1])
    back -= np.arange(total, dtype=np.int32)
    back -= 1  # orders after this one, for the same person
    is_last = back == 0
    created = _order_times(rng, owner, back, is_last, last, span_days, now_rel)
    status, flags, partial = _order_statuses(rng, phase[owner], is_last, cum, forced)
    _recent_unfinished(rng, created, status, is_last, now_rel)
    del is_last
    kg = np.minimum(np.maximum(count - 1, 1), 1 + (np.arange(people) % 2)).astype(np.int32)
    _flag_guest_orders(flags, phase[owner], count[owner] - 1 - back, kg[owner])
    del back
    created32 = created.astype(np.int32)
    del created
    modified32 = _order_modified(rng, created32, status, partial, now_rel)
    del partial
    reg, pmod = _registration(rng, n, phase, count, cum, kg, created32, modified32, now_rel,
                              shop_start)

    # order ids rise with creation time
    order = np.argsort(created32, kind="stable")
    inv = np.empty(total, dtype=np.int32)
    inv[order] = np.arange(total, dtype=np.int32)
    created32 = created32[order]
    modified32 = modified32[order]
    status, flags, owner = status[order], flags[order], owner[order]
    del order
    news = (rng.random(people) < 0.25) | (phase == PHASE_CODE[Phase.NEWSLETTER_ONLY])
    news[n:] = False
    r_person, r_order, r_created, r_rating, r_status = _reviews(
        rng, n, phase, count, cum, inv, status, modified32, reg, now_rel)
    return PopulationIndex(
        n_guests=g, n_people=people, phase=phase, role=role, rhythm=rhythm,
        first_guest_orders=kg, registered=reg.astype(np.int32),
        person_modified=pmod.astype(np.int32), newsletter=news, count=count, cum=cum,
        ids_by_person=inv, created=created32, modified=modified32, status=status, flags=flags,
        owner=owner, n_orders=total, created_monotone=True, r_person=r_person, r_order=r_order,
        r_created=r_created, r_rating=r_rating, r_status=r_status)


def _people(rng: np.random.Generator, n: int, g: int
            ) -> tuple[Int8Array, Int8Array, IntArray, IntArray, dict[int, tuple[int, ...]]]:
    """Phase, role, rhythm and drawn order count per person; the showcase's forced statuses."""
    people = n + g
    phase = np.empty(people, dtype=np.int8)
    role = np.zeros(people, dtype=np.int8)
    weights = np.array([0, 14, 8, 8, 22, 30, 12, 0, 2], dtype=np.float64)
    phase[:n] = rng.choice(len(PHASES), size=n, p=weights / weights.sum())
    phase[n:] = PHASE_CODE[Phase.GUEST]
    role[n:] = -1
    subscriber = (rng.random(n) < 0.08) & np.isin(
        phase[:n], [PHASE_CODE[Phase.REGISTERED_ONLY], PHASE_CODE[Phase.NEWSLETTER_ONLY]])
    role[:n][subscriber] = ROLES.index(Role.SUBSCRIBER)
    forced: dict[int, tuple[int, ...]] = {}
    rhythm = np.zeros(people, dtype=np.int32)
    for i, (sp, srole, statuses, _days) in enumerate(_SHOWCASE[:n]):
        phase[i] = PHASE_CODE[sp]
        role[i] = ROLES.index(srole)
        if statuses is not None:
            forced[i] = statuses
    rclass = rng.choice(len(_RHYTHMS), size=people, p=_RHYTHM_P)
    # Number of orders per person, drawn by phase.
    count = np.zeros(people, dtype=np.int32)
    ab = phase == PHASE_CODE[Phase.ABANDONED]
    count[ab] = 1 + (rng.random(int(ab.sum())) < 0.3)
    count[phase == PHASE_CODE[Phase.FIRST_BUYER]] = 1
    rep = phase == PHASE_CODE[Phase.REPEAT_BUYER]
    rhythm[rep] = _RHYTHMS[rclass[rep]]
    count[rep] = 2 + rng.poisson(_RHYTHM_LAMBDA[rclass[rep]])
    for ph, (lo, hi), (c_lo, c_hi) in ((Phase.LAPSED, (60, 240), (1, 5)),
                                       (Phase.GUEST, (30, 200), (1, 5)),
                                       (Phase.GUEST_THEN_REGISTERED, (30, 120), (2, 6))):
        sel = phase == PHASE_CODE[ph]
        rhythm[sel] = rng.integers(lo, hi, int(sel.sum()))
        count[sel] = rng.integers(c_lo, c_hi, int(sel.sum()))
    for i, (_sp, _srole, statuses, days) in enumerate(_SHOWCASE[:n]):
        rhythm[i] = days
        count[i] = len(statuses) if statuses is not None else _SHOWCASE_ORDERS[days]
    for j in range(min(SHOWCASE_GUESTS, g)):
        count[n + j] = 3 + j
        rhythm[n + j] = 45
    return phase, role, rhythm, count, forced


def _last_orders(rng: np.random.Generator, phase: Int8Array, rhythm: IntArray, count: IntArray,
                 forced: dict[int, tuple[int, ...]], now_rel: int, shop_start: int
                 ) -> tuple[IntArray, Int64Array, Int64Array]:
    """When each person's last order was placed and the spacing of their orders; the order
    counts capped so that no order falls before the shop opened."""
    people = phase.size
    last = np.full(people, now_rel, dtype=np.int64)
    span_days = np.maximum(rhythm, 1).astype(np.int64)
    last -= (rng.random(people) * span_days * DAY).astype(np.int64)
    fb = phase == PHASE_CODE[Phase.FIRST_BUYER]
    ab = phase == PHASE_CODE[Phase.ABANDONED]
    lap = phase == PHASE_CODE[Phase.LAPSED]
    gst = phase == PHASE_CODE[Phase.GUEST]
    last[fb] = now_rel - (rng.exponential(120.0, int(fb.sum())) * DAY).astype(np.int64) - 3600
    last[ab] = now_rel - (rng.random(int(ab.sum())) * 60 * DAY).astype(np.int64) - 600
    last[lap] = now_rel - ((2 + rng.random(int(lap.sum())) * 3) * 365 * DAY).astype(np.int64)
    last[gst] = now_rel - (rng.random(int(gst.sum())) * 700 * DAY).astype(np.int64) - 3600
    last[phase == PHASE_CODE[Phase.STAFF]] = now_rel - 5 * DAY
    # never before the shop opened
    max_count = 1 + (last - shop_start) // (span_days * DAY)
    capped = np.minimum(count, np.maximum(max_count, 1)).astype(np.int32)
    for i, statuses in forced.items():
        capped[i] = len(statuses)
    return capped, last, span_days


def _order_times(rng: np.random.Generator, owner: IntArray, back: IntArray, is_last: BoolArray,
                 last: Int64Array, span_days: Int64Array, now_rel: int) -> Int64Array:
    """Creation time of every order (person-major): ``back`` rhythms before the last one,
    jittered by up to a quarter rhythm, spread within the hour."""
    total = owner.size
    span32 = span_days.astype(np.int32)
    created = last[owner]
    step = back.astype(np.int64)
    step *= span32[owner]
    step *= DAY
    created -= step
    del step
    jit = rng.random(total, dtype=np.float32)
    jit -= np.float32(0.5)
    jit *= np.float32(0.5 * DAY)
    np.multiply(jit, span32[owner], out=jit, casting="unsafe")
    jit[is_last] = 0
    created += jit.astype(np.int64)
    del jit
    created += rng.integers(0, 3600, total, dtype=np.int32)  # spread within the hour
    np.minimum(created, now_rel - 60, out=created)
    return created


def _order_statuses(rng: np.random.Generator, oph: Int8Array, is_last: BoolArray,
                    cum: Int64Array, forced: dict[int, tuple[int, ...]]
                    ) -> tuple[Int8Array, npt.NDArray[np.uint8], BoolArray]:
    """Status code and flags of every order (person-major) from its owner's phase ``oph``;
    also which orders are partly refunded."""
    total = oph.size
    status = np.full(total, COMPLETED_CODE, dtype=np.int8)
    u = rng.random(total, dtype=np.float32)
    ab_o = oph == PHASE_CODE[Phase.ABANDONED]
    status[ab_o] = np.array([PENDING_CODE, FAILED_CODE, DRAFT_CODE], dtype=np.int8)[
        rng.integers(0, 3, int(ab_o.sum()))]
    del ab_o
    fb_o = oph == PHASE_CODE[Phase.FIRST_BUYER]
    fb_p = np.array([0.06, 0.12, 0.06, 0.55, 0.06, 0.05, 0.05, 0.05])
    status[fb_o] = rng.choice(8, size=int(fb_o.sum()), p=fb_p / fb_p.sum()).astype(np.int8)
    del fb_o
    busy = (oph == PHASE_CODE[Phase.REPEAT_BUYER]) | (oph == PHASE_CODE[Phase.GUEST]) | (
        oph == PHASE_CODE[Phase.GUEST_THEN_REGISTERED])
    last_busy = busy & is_last
    lb_p = np.array([0.05, 0.30, 0.05, 0.60])
    status[last_busy] = rng.choice(4, size=int(last_busy.sum()), p=lb_p).astype(np.int8)
    del last_busy
    older = busy & ~is_last
    del busy
    status[older & (u < 0.03)] = REFUNDED_CODE
    status[older & (u >= 0.03) & (u < 0.05)] = CANCELLED_CODE
    status[older & (u >= 0.05) & (u < 0.07)] = FAILED_CODE
    del older
    status[(oph == PHASE_CODE[Phase.LAPSED]) & (u < 0.05)] = REFUNDED_CODE
    for i, statuses in forced.items():
        status[cum[i]: cum[i + 1]] = np.array(statuses, dtype=np.int8)
    trash = (u > 0.997) & (status == COMPLETED_CODE)
    del u
    forced_orders = np.zeros(total, dtype=bool)
    for i in forced:
        forced_orders[cum[i]: cum[i + 1]] = True
    trash &= ~forced_orders
    status[trash] = TRASH_CODE
    del trash, forced_orders
    flags = np.zeros(total, dtype=np.uint8)
    partial = (status == COMPLETED_CODE) & (rng.random(total, dtype=np.float32) < 0.03)
    flags[partial] |= PARTIAL_REFUND_FLAG
    return status, flags, partial


def _recent_unfinished(rng: np.random.Generator, created: Int64Array, status: Int8Array,
                       is_last: BoolArray, now_rel: int) -> None:
    """Move last orders still unfinished (pending, processing, on hold, draft) into the last
    five days."""
    unfinished = np.flatnonzero(
        np.isin(status, [PENDING_CODE, PROCESSING_CODE, ON_HOLD_CODE, DRAFT_CODE]) & is_last)
    recent = now_rel - (rng.random(unfinished.size) * 5 * DAY).astype(np.int64) - 120
    created[unfinished] = np.maximum(created[unfinished], recent)


def _flag_guest_orders(flags: npt.NDArray[np.uint8], oph: Int8Array, pos: IntArray,
                       kg: IntArray) -> None:
    """Flag guest orders: every order of a guest, and the first ``kg`` orders (``pos`` counts
    a person's orders from 0) of a guest-then-registered person."""
    guest_o = (oph == PHASE_CODE[Phase.GUEST]) | ((oph == PHASE_CODE[Phase.GUEST_THEN_REGISTERED])
                                                  & (pos < kg))
    flags[guest_o] |= GUEST_FLAG


def _order_modified(rng: np.random.Generator, created32: IntArray, status: Int8Array,
                    partial: BoolArray, now_rel: int) -> IntArray:
    """Modification time of every order, following its status's life."""
    modified32: IntArray = created32 + np.int32(300)
    for codes, base_days, spread in (((COMPLETED_CODE, TRASH_CODE), 1.0, 4.0),
                                      ((REFUNDED_CODE,), 3.0, 20.0)):
        sel = np.flatnonzero(np.isin(status, codes))
        modified32[sel] = created32[sel] + (
            (base_days + rng.random(sel.size) * spread) * DAY).astype(np.int32)
    for code, seconds in ((CANCELLED_CODE, 3 * DAY), (FAILED_CODE, 900),
                          (PROCESSING_CODE, 600)):
        sel = np.flatnonzero(status == code)
        modified32[sel] = created32[sel] + np.int32(seconds)
    sel = np.flatnonzero(partial)
    modified32[sel] = created32[sel] + (
        (6 + rng.random(sel.size) * 20) * DAY).astype(np.int32)
    np.minimum(modified32, np.int32(now_rel), out=modified32)
    return modified32


def _registration(rng: np.random.Generator, n: int, phase: Int8Array, count: IntArray,
                  cum: Int64Array, kg: IntArray, created32: IntArray, modified32: IntArray,
                  now_rel: int, shop_start: int) -> tuple[Int64Array, Int64Array]:
    """Registration and modification time of every person (orders still person-major)."""
    people = phase.size
    first_idx = cum[:-1]
    has = count > 0
    first_created = np.full(people, now_rel, dtype=np.int64)
    first_created[has] = created32[first_idx[has]]
    reg = first_created - (rng.random(people) * 30 * DAY).astype(np.int64) - 600
    del first_created
    nob = ~has
    reg[nob] = now_rel - (rng.random(int(nob.sum())) * 3 * 365 * DAY).astype(np.int64) - 3600
    gtr_people = np.flatnonzero(phase == PHASE_CODE[Phase.GUEST_THEN_REGISTERED])
    if gtr_people.size:
        reg[gtr_people] = created32[cum[gtr_people] + kg[gtr_people]].astype(np.int64) - 3600
    if n > 0:
        reg[0] = shop_start - 30 * DAY
    reg = np.maximum(reg, shop_start - 30 * DAY)
    last_mod = np.zeros(people, dtype=np.int64)
    if created32.size:
        last_mod[has] = np.maximum.reduceat(modified32, first_idx[has])
    pmod = np.minimum(np.maximum(reg + 60, last_mod), now_rel)
    return reg, pmod


def _reviews(rng: np.random.Generator, n: int, phase: Int8Array, count: IntArray,
             cum: Int64Array, inv: IntArray, status: Int8Array, modified32: IntArray,
             reg: Int64Array, now_rel: int
             ) -> tuple[IntArray, IntArray, IntArray, Int8Array, Int8Array]:
    """About 15 % of buyers review one bought product; a few unverified reviews from people who
    never bought. Returns ``(person, order index, created, rating, status)`` by review id."""
    has = count > 0
    buyers = np.flatnonzero(has[:n] & (phase[:n] != PHASE_CODE[Phase.ABANDONED]))
    pick = buyers[rng.random(buyers.size) < 0.15]
    if n > 23:
        pick = np.union1d(pick, np.array([13, 19, 21], dtype=np.int64))
    rev_order = inv[cum[pick] + count[pick] - 1].astype(np.int64)
    rev_ok = np.isin(status[rev_order], [COMPLETED_CODE, PROCESSING_CODE, REFUNDED_CODE])
    pick, rev_order = pick[rev_ok], rev_order[rev_ok]
    nonbuyers = np.flatnonzero(~has[:n])
    unv = nonbuyers[rng.random(nonbuyers.size) < 0.03]
    if n > 3:
        unv = np.union1d(unv, np.array([3], dtype=np.int64))
    r_person = np.concatenate([pick, unv]).astype(np.int32)
    r_order = np.concatenate([rev_order, np.full(unv.size, -1)]).astype(np.int32)
    r_created = np.concatenate([
        modified32[rev_order].astype(np.int64)
        + (rng.random(pick.size) * 10 * DAY).astype(np.int64),
        reg[unv] + (rng.random(unv.size) * 20 * DAY).astype(np.int64),
    ])
    r_created = np.minimum(r_created, now_rel - 30)
    low = rng.random(r_person.size) < 0.22
    rating = np.where(low, rng.integers(1, 4, r_person.size), rng.integers(4, 6, r_person.size))
    if n > 23:
        # showcase: index 13 (completed first buyer) happy, 19 (weekly buyer) unhappy
        rating[r_person == 13] = 5
        rating[r_person == 19] = 2
    rstatus = (rng.random(r_person.size) < 0.03).astype(np.int8)  # 1 = hold
    rorder = np.lexsort((r_person, r_created))
    return (r_person[rorder], r_order[rorder], r_created[rorder].astype(np.int32),
            rating[rorder].astype(np.int8), rstatus[rorder])
