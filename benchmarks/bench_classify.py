"""Benchmark: classify 1,000,000 generated people on one core, the BG/NBD fit included.

The people are generated directly as a :class:`~journeybridge.stages.table.FactsTable` with
numpy (a shop of about three years: people who never bought, people considering, one-time
buyers, repeat buyers on their own rhythms who may have stopped, orders in flight, refunds,
reviewers). Then, timed step by step:

1. the shop's gap gates (percentiles of all repeat gaps);
2. the BG/NBD fit on the buyers' grouped (frequency, recency, age) triples;
3. every person's probability of no purchase in the horizon;
4. ``decide_table`` (the rule table, vectorised);
5. materialising ``--materialise`` classifications with their reasons (separately: this is
   the per-person Python part, done only for the people a caller looks at).

People per second are reported for steps 1-4 together (fit included) and for 3-4 alone (the
rules with a fitted model, as in a daily run against a model fitted earlier). Timing runs
without tracemalloc; a second pass of steps 1-5 under tracemalloc reports the peak traced
memory, and ``ru_maxrss`` the process peak.

Run: ``python benchmarks/bench_classify.py [--people N] [--seed S] [--materialise M]``.
"""

from __future__ import annotations

import os

# one core: no BLAS / OpenMP threads (set before numpy is imported)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TypeVar, overload  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from journeybridge.stages import Stage, StageSettings  # noqa: E402
from journeybridge.stages.rhythm import fit_churn_model, gap_gates  # noqa: E402
from journeybridge.stages.rules import StageTable, decide_table  # noqa: E402
from journeybridge.stages.table import (  # noqa: E402
    DAY_US,
    NO_TIME,
    FactsTable,
    Flag,
    OrderRef,
    micros,
)

T = TypeVar("T")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
HISTORY_DAYS = 3 * 365
MAX_PURCHASES = 200


class GeneratedKeys(Sequence[str]):
    """Person keys ``customer:<row>``, made when read (a million strings need not exist)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...

    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        if isinstance(i, slice):
            return [f"customer:{k}" for k in range(*i.indices(self.n))]
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return f"customer:{i % self.n}"


def _days(rng: np.random.Generator, low: float, high: float, size: int) -> NDArray[np.int64]:
    """Random durations in microseconds between ``low`` and ``high`` days."""
    return (rng.uniform(low, high, size) * DAY_US).astype(np.int64)


def generate(n: int, seed: int, settings: StageSettings) -> FactsTable:
    """A shop of ``n`` people as of :data:`NOW`, as a facts table."""
    rng = np.random.default_rng(seed)
    now = micros(NOW)
    kind = rng.choice(3, size=n, p=[0.30, 0.07, 0.63])  # known only, considering, bought
    buyer_rows = np.flatnonzero(kind == 2)
    b = buyer_rows.size

    # buyers: a BG/NBD-like process. First purchase within the history, purchases at their
    # own rate (mean gap lognormal around 45 days: weekly coffee to yearly mattress), after
    # each purchase a chance to stop for good; whatever lies after NOW is not there yet.
    first = now - _days(rng, 0, HISTORY_DAYS, b)
    mean_gap = rng.lognormal(np.log(45.0), 0.9, b)
    stop = rng.beta(0.8, 2.5, b)
    potential = np.minimum(rng.geometric(np.maximum(stop, 1e-3)), MAX_PURCHASES)
    owner = np.repeat(np.arange(b), potential)
    starts = np.zeros(b + 1, dtype=np.int64)
    np.cumsum(potential, out=starts[1:])
    gaps = np.maximum(rng.exponential(1.0, owner.size) * mean_gap[owner], 1.0)
    gaps[starts[:-1]] = 0.0  # the first purchase
    total = np.cumsum(gaps)
    elapsed = total - (total[starts[:-1]])[owner]
    times = first[owner] + (elapsed * DAY_US).astype(np.int64)
    keep = times <= now
    times = times[keep]
    counts = np.zeros(n, dtype=np.int64)
    counts[buyer_rows] = np.bincount(owner[keep], minlength=b)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    last = np.full(n, NO_TIME, dtype=np.int64)
    last[buyer_rows] = times[offsets[1:][buyer_rows] - 1]
    first_all = np.full(n, NO_TIME, dtype=np.int64)
    first_all[buyer_rows] = times[offsets[:-1][buyer_rows]]
    since_last = np.where(kind == 2, now - last, np.iinfo(np.int64).max)

    flags = np.zeros(n, dtype=np.uint8)
    flags[rng.random(n) < 0.25] |= Flag.NEWSLETTER
    # an order paid and not shipped yet: most purchases of the last two days
    preparing = (since_last < 2 * DAY_US) & (rng.random(n) < 0.7)
    flags[preparing] |= Flag.ORDER_IN_PREPARATION

    order_refs: list[OrderRef] = []

    def refs(rows: NDArray[np.intp], refunded: str) -> NDArray[np.int32]:
        start = len(order_refs)
        order_refs.extend(OrderRef(str(100_000 + 7 * r), f"#{100_000 + 7 * r}", refunded)
                          for r in rows.tolist())
        return np.arange(start, start + rows.size, dtype=np.int32)

    # in flight: shipped one to four days after a purchase of the last week
    shipped_at = np.full(n, NO_TIME, dtype=np.int64)
    shipped_order = np.full(n, -1, dtype=np.int32)
    shipping = np.flatnonzero((since_last > 2 * DAY_US) & (since_last < 7 * DAY_US)
                              & (rng.random(n) < 0.6))
    shipped_at[shipping] = np.minimum(last[shipping] + _days(rng, 1, 4, shipping.size), now)
    shipped_order[shipping] = refs(shipping, "0")
    # a refund or cancellation after payment within the service window: 1% of buyers
    trouble_at = np.full(n, NO_TIME, dtype=np.int64)
    trouble_order = np.full(n, -1, dtype=np.int32)
    trouble_refunded = np.zeros(n, dtype=np.bool_)
    troubled = buyer_rows[rng.random(b) < 0.01]
    trouble_at[troubled] = now - _days(rng, 0, settings.service_window_days, troubled.size)
    trouble_refunded[troubled] = rng.random(troubled.size) < 0.7
    trouble_order[troubled] = refs(troubled, "19.95")

    # reviews: a fifth of repeat buyers rated a product 4-5 within the review window
    texts: list[str] = [str(p) for p in range(1, 51)]
    review_at = np.full(n, NO_TIME, dtype=np.int64)
    review_rating = np.zeros(n, dtype=np.int8)
    review_product = np.full(n, -1, dtype=np.int32)
    reviewers = np.flatnonzero((counts >= 2) & (rng.random(n) < 0.2))
    review_at[reviewers] = now - _days(rng, 0, settings.advocacy_review_window_days,
                                       reviewers.size)
    review_rating[reviewers] = rng.integers(settings.advocacy_min_rating, 6, reviewers.size)
    review_product[reviewers] = rng.integers(0, 50, reviewers.size)
    review_verified = rng.random(n) < 0.6

    # considering: unpaid checkouts or carts within the window; a few buyers have a new cart
    signal_count = np.zeros(n, dtype=np.int32)
    signal_first = np.full(n, NO_TIME, dtype=np.int64)
    signal_detail = np.full(n, -1, dtype=np.int32)
    considering = np.flatnonzero(kind == 1)
    signal_count[considering] = rng.integers(1, 4, considering.size)
    signal_first[considering] = now - _days(rng, 0, settings.consideration_window_days,
                                            considering.size)
    details = len(texts)
    texts += ["cart 4711 with 2 products, no order", "order #204711 pending (unpaid)",
              "order #204712 failed (unpaid); cart 4712 with 1 products, no order"]
    signal_detail[considering] = details + rng.integers(0, 3, considering.size)
    old_enough = (now - signal_first) >= int(settings.abandoned_after_hours * 3_600_000_000)
    what = rng.integers(0, 3, n)
    flags[(signal_count > 0) & old_enough & (what == 0)] |= Flag.ABANDONED_CART
    flags[(signal_count > 0) & old_enough & (what == 1)] |= Flag.ABANDONED_CHECKOUT
    failed = (signal_count > 0) & old_enough & (what == 2)
    flags[failed] |= Flag.ABANDONED_CHECKOUT | Flag.PAYMENT_FAILED
    flags[(kind == 2) & (rng.random(n) < 0.03)] |= Flag.ABANDONED_CART

    # known since: registration or the first record, whichever came first
    known_since = now - _days(rng, 0, HISTORY_DAYS, n)
    known_since = np.where(kind == 2, np.minimum(known_since, first_all), known_since)
    known_since = np.where(kind == 1, np.minimum(known_since, signal_first), known_since)
    known_since[rng.random(n) < 0.02] = NO_TIME  # a guest known by nothing dated
    known_since[kind == 2] = np.minimum(known_since[kind == 2], first_all[kind == 2])
    orders_seen = (counts + rng.poisson(0.3, n)).astype(np.int32)

    return FactsTable(
        keys=GeneratedKeys(n), now_us=now, settings=settings,
        purchase_offsets=offsets, purchase_times=times,
        shipped_at=shipped_at, shipped_order=shipped_order,
        trouble_at=trouble_at, trouble_order=trouble_order, trouble_refunded=trouble_refunded,
        flags=flags, review_at=review_at, review_rating=review_rating,
        review_verified=review_verified, review_product=review_product,
        signal_count=signal_count, signal_first=signal_first, signal_detail=signal_detail,
        known_since=known_since, orders_seen=orders_seen, order_refs=order_refs, texts=texts)


def _fresh(table: FactsTable) -> FactsTable:
    """The same facts without the derived columns cached by an earlier pass."""
    names = list(FactsTable.__dataclass_fields__)
    return FactsTable(**{name: getattr(table, name) for name in names})


def timed(label: str, times: dict[str, float], step: Callable[[], T]) -> T:
    """Run ``step``, record its wall time under ``label``, return its result."""
    started = time.perf_counter()
    result = step()
    times[label] = time.perf_counter() - started
    return result


def pipeline(table: FactsTable, settings: StageSettings, materialise: int,
             times: dict[str, float]) -> StageTable:
    """Gates, fit, probabilities, decisions and ``materialise`` classifications, timed."""
    gates = timed("gap gates", times, lambda: gap_gates(table, settings))
    model = timed("BG/NBD fit (grouped triples)", times,
                  lambda: fit_churn_model(table, settings))
    probabilities = timed("probabilities", times,
                          lambda: model.probabilities(table, settings.horizon_days))
    stages = timed("decide_table", times,
                   lambda: decide_table(table, gates, settings, probabilities, model.note))
    rows = np.random.default_rng(0).choice(len(table), size=min(materialise, len(table)),
                                           replace=False)
    timed("materialise", times, lambda: stages.classifications(rows))
    return stages


def main() -> None:
    """Generate, classify, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--materialise", type=int, default=10_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    settings = StageSettings()
    n = args.people

    started = time.perf_counter()
    table = generate(n, args.seed, settings)
    print(f"generated {n:,} people ({int(table.purchases.sum()):,} purchase days, "
          f"{int((table.purchases > 0).sum()):,} buyers) in "
          f"{time.perf_counter() - started:.2f} s")

    times: dict[str, float] = {}
    stages = pipeline(_fresh(table), settings, args.materialise, times)
    print(f"\ntimings, one core ({n:,} people):")
    for label, seconds in times.items():
        rate = (args.materialise if label == "materialise" else n) / seconds
        print(f"  {label:<30}{seconds:>9.3f} s {rate:>14,.0f} /s")
    whole = sum(v for k, v in times.items() if k != "materialise")
    rules = times["probabilities"] + times["decide_table"]
    print(f"  {'all (fit included)':<30}{whole:>9.3f} s {n / whole:>14,.0f} people/s")
    print(f"  {'model already fitted':<30}{rules:>9.3f} s {n / rules:>14,.0f} people/s")
    print(f"  {'materialised classifications':<30}{'':>11}"
          f"{args.materialise / times['materialise']:>14,.0f} /s")

    print("\nstages:")
    for stage, count in stages.counts().items():
        print(f"  {stage.value:<15}{count:>10,} {count / n:>7.1%}")
    print(f"  {stages.gates.describe()}")
    print(f"  {stages.model_note}")
    example = {s: i for i, s in reversed(list(enumerate(stages.stages()[:5000])))}
    for stage in (Stage.LOYALTY, Stage.AT_RISK):
        if stage in example:
            print(f"  e.g. {stages.classification(example[stage]).reasons[0].text}")

    tracemalloc.start()
    pipeline(_fresh(table), settings, args.materialise, {})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"\nmemory: peak traced by the classification (tracemalloc) {peak / 2**20:,.0f} MiB; "
          f"process peak (ru_maxrss, generation included) {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
