"""Benchmark: BG/NBD on 1,000,000 synthetic customers (whole days, as a shop export gives).

Steps, each timed with its own peak of traced memory:

1. simulate customers from known parameters (numpy);
2. compress them into unique (frequency, recency, age) triples;
3. fit on the triples with their counts as weights;
4. P(no purchase in the next 90 days) per triple, spread back to all customers;
5. (with ``--ungrouped``) the same fit on the raw arrays, for comparison.

Run: ``python benchmarks/bench_bgnbd.py [--customers N] [--seed S] [--ungrouped]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from journeybridge.stages.bgnbd import (
    BGNBDParams,
    check_fit_stability,
    fit_bgnbd,
    group_customers,
    prob_no_purchase,
)

T = TypeVar("T")

TRUE = BGNBDParams(r=0.25, alpha=30.0, a=0.8, b=2.5)  # CDNOW-like, in days
MAX_AGE_DAYS = 1095  # first purchases spread over three years
HORIZON_DAYS = 90.0


def simulate(
    rng: np.random.Generator, n: int, params: BGNBDParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and age in whole days for n customers of a BG/NBD process."""
    age = rng.integers(1, MAX_AGE_DAYS + 1, n).astype(np.float64)
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    t = np.zeros(n)
    x = np.zeros(n)
    active = np.arange(n)
    while active.size:
        with np.errstate(divide="ignore"):
            t_next = t[active] + rng.exponential(1.0, active.size) / lam[active]
        bought = t_next <= age[active]
        buyers = active[bought]
        x[buyers] += 1
        t[buyers] = t_next[bought]
        survives = rng.random(buyers.size) >= p[buyers]
        active = buyers[survives]
    recency = np.where(x > 0, np.floor(t), 0.0)  # day of the last purchase
    return x, recency, age


def timed(label: str, func: Callable[[], T]) -> T:
    tracemalloc.start()
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<38} {elapsed:8.3f} s   peak traced {peak / 2**20:8.1f} MiB")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2005)
    parser.add_argument("--ungrouped", action="store_true", help="also fit the raw arrays")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(f"BG/NBD benchmark: {args.customers:,} customers, true {TRUE.as_tuple()} (days)")
    x, tx, age = timed("simulate", lambda: simulate(rng, args.customers, TRUE))
    print(f"  repeat buyers: {int(np.sum(x > 0)):,}, max frequency {int(x.max())}")
    grouped = timed("group into unique triples", lambda: group_customers(x, tx, age))
    print(f"  unique triples: {len(grouped):,} ({len(grouped) / x.shape[0]:.1%} of customers)")
    fit = timed(
        "fit (grouped, weighted)",
        lambda: fit_bgnbd(grouped.frequency, grouped.recency, grouped.age, weights=grouped.counts),
    )
    print(
        f"  recovered r={fit.r:.4f} alpha={fit.alpha:.3f} a={fit.a:.4f} b={fit.b:.4f}"
        f"  LL={fit.log_likelihood:.1f} converged={fit.converged} iterations={fit.iterations}"
    )
    stability = check_fit_stability(
        grouped.frequency, grouped.recency, grouped.age, weights=grouped.counts, params=fit
    )
    print(f"  stability: {stability.reason}")

    def per_customer() -> np.ndarray:
        per_triple = prob_no_purchase(
            fit, grouped.frequency, grouped.recency, grouped.age, HORIZON_DAYS
        )
        return per_triple[grouped.inverse]

    no_buy = timed("prob_no_purchase (triples -> all)", per_customer)
    direct = timed(
        "prob_no_purchase (all customers)",
        lambda: prob_no_purchase(fit, x, tx, age, HORIZON_DAYS),
    )
    assert np.allclose(no_buy, direct)
    print(f"  mean P(no purchase in {HORIZON_DAYS:g} days) = {no_buy.mean():.4f}")

    if args.ungrouped:
        raw = timed("fit (ungrouped)", lambda: fit_bgnbd(x, tx, age))
        print(f"  ungrouped r={raw.r:.4f} alpha={raw.alpha:.3f} a={raw.a:.4f} b={raw.b:.4f}")

    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak resident memory of the process: {max_rss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
