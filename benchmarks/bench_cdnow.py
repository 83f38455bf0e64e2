"""Benchmark: does the at-risk score beat "days since last order"? Measured on CDNOW and on a
generated history, printed, never asserted.

CDNOW (``CDNOW_master.txt``, shipped by the ``lifetimes`` package of the test extra): 23,570
customers who first bought in the first quarter of 1997, every purchase to 1998-06-30. Each
split classifies everyone with :func:`journeybridge.classify_all` as of the end of the
calibration period, with ``horizon_days`` = the hold-out length, and scores the buyers
outside the paper's 1/10 sample (``CDNOW_sample.txt``: 21,213 people) against "no purchase in
the hold-out":

* AUC of ``probability_no_purchase`` next to plain days-since-last-order, overall and on
  repeat buyers;
* mean predicted probability next to the observed share, overall and on repeat buyers;
* precision of the at_risk + lapsed flags next to a days-since-last-order cut that reaches
  the same recall.

The generated history (``--generated``, default 20,000 people) has people on their own
gamma-distributed rhythms who stop with a per-order probability and a seasonal swing; it is
scored the same way with a 90-day and a 180-day horizon.

Also timed: the learned score's fit and scoring on CDNOW repeated ``--scale`` times (distinct
customer ids; default 40, about 940,000 people), straight on the facts table.

Run: ``python benchmarks/bench_cdnow.py [--generated N] [--scale K] [--seed S]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from journeybridge import Stage, StageSettings, classify_all, journeys_from_transactions
from journeybridge.model import Journey
from journeybridge.stages.backtest import auc
from journeybridge.stages.facts import facts_of
from journeybridge.stages.learned import fit_learned_score
from journeybridge.stages.rhythm import fit_churn_model
from journeybridge.stages.table import DAY_US, FactsTable


def _datasets() -> Path:
    import lifetimes

    return Path(lifetimes.__file__).parent / "datasets"


def cdnow_rows() -> tuple[list[dict[str, str]], set[str]]:
    """CDNOW's transactions as journeybridge transaction rows, and the paper's sample ids."""
    rows = []
    with (_datasets() / "CDNOW_master.txt").open() as handle:
        for n, line in enumerate(handle):
            parts = line.split()
            if len(parts) != 4 or not parts[0].isdigit():
                continue
            rows.append({"customer_id": parts[0], "order_id": str(n), "date": parts[1],
                         "amount": parts[3], "currency": "USD"})
    with (_datasets() / "CDNOW_sample.txt").open() as handle:
        sample = {line.split()[0] for line in handle if line.split()[0].isdigit()}
    return rows, sample


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def equal_recall_precision(days: np.ndarray, positive: np.ndarray, recall: float) -> float:
    """Precision of "days since last order above t", with t the cut that flags the longest
    absent first until the recall reaches ``recall``."""
    order = np.argsort(-days, kind="stable")
    hits = np.cumsum(positive[order])
    need = recall * positive.sum()
    k = int(np.searchsorted(hits, need - 1e-9)) + 1
    threshold = days[order][k - 1]
    flagged = days >= threshold
    return float(positive[flagged].mean())


def score_split(name: str, journeys: Sequence[Journey], now: datetime, horizon: float,
                scored: Sequence[bool], goals: bool) -> None:
    """Classify at ``now`` with the hold-out as the horizon and print the figures."""
    settings = StageSettings(horizon_days=horizon)
    start = time.perf_counter()
    results = classify_all(journeys, now=now, settings=settings)
    took = time.perf_counter() - start
    end = now + timedelta(days=horizon)
    prob, days, positive, repeat, flagged = [], [], [], [], []
    for journey, result, keep in zip(journeys, results, scored):
        before = facts_of(journey, now)
        if not keep or before.purchases == 0:
            continue
        after = facts_of(journey, end)
        prob.append(np.nan if result.probability_no_purchase is None
                    else result.probability_no_purchase)
        days.append(before.days_since_last_purchase or 0.0)
        positive.append(after.purchases == before.purchases)
        repeat.append(before.purchases >= 2)
        flagged.append(result.stage in (Stage.AT_RISK, Stage.LAPSED))
    p, d = np.array(prob), np.array(days)
    y, r, f = np.array(positive), np.array(repeat), np.array(flagged)
    note = results[0].reasons[-1].text if results else ""
    print(f"\n== {name}: now {now.date()}, horizon {horizon:.0f} days, {len(y)} buyers scored "
          f"({r.sum()} repeat), classify_all {took:.1f} s")
    model = next((x.text for res in results for x in res.reasons if x.rule == "model"), note)
    print(f"   model: {model}")
    if np.isnan(p).any():
        print("   no probability for some buyers: the shop's gates decide")
        return
    a_all, a_rec = auc(p, y), auc(d, y)
    a_rep, a_rep_rec = auc(p[r], y[r]), auc(d[r], y[r])
    recall = float(f[y].mean()) if y.any() else 0.0
    precision = float(y[f].mean()) if f.any() else float("nan")
    cut = equal_recall_precision(d, y, recall) if recall > 0 else float("nan")

    def goal(ok: bool) -> str:
        return ("  [goal met]" if ok else "  [goal NOT met]") if goals else ""

    assert a_all is not None
    assert a_rec is not None
    assert a_rep is not None
    assert a_rep_rec is not None
    print(f"   AUC overall        {a_all:.4f}   days since last order {a_rec:.4f}   "
          f"diff {a_all - a_rec:+.4f}{goal(a_all > a_rec + 0.005)}")
    print(f"   AUC repeat buyers  {a_rep:.4f}   days since last order {a_rep_rec:.4f}"
          f"{goal(a_rep > 0.735)}")
    print(f"   mean predicted vs observed, overall       {p.mean():.3f} vs {y.mean():.3f} "
          f"(diff {p.mean() - y.mean():+.3f}){goal(abs(p.mean() - y.mean()) <= 0.03)}")
    print(f"   mean predicted vs observed, repeat buyers {p[r].mean():.3f} vs {y[r].mean():.3f} "
          f"(diff {p[r].mean() - y[r].mean():+.3f})"
          f"{goal(abs(p[r].mean() - y[r].mean()) <= 0.05)}")
    print(f"   at_risk+lapsed: {f.sum()} flagged, precision {precision:.1%} at recall "
          f"{recall:.1%}; days-since-last-order cut at that recall: precision {cut:.1%}"
          f"{goal(precision > cut)}")


def generated_rows(n: int, seed: int, start: date, days: int) -> list[dict[str, str]]:
    """A history not drawn from BG/NBD: people arrive over the period, buy on their own
    gamma-distributed gaps (shape 2, so regular-ish), with a seasonal swing, and stop with a
    per-order probability that differs from person to person."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, str]] = []
    for person in range(n):
        t = float(rng.uniform(0, days))
        gap = float(rng.lognormal(np.log(60), 0.8))
        stop = float(rng.beta(1.0, 3.0))
        spend = float(rng.lognormal(3.0, 0.6))
        k = 0
        while t < days:
            at = start + timedelta(days=int(t))
            rows.append({"customer_id": str(person), "order_id": f"{person}-{k}",
                         "date": at.isoformat(),
                         "amount": f"{spend * rng.uniform(0.5, 1.5):.2f}", "currency": "EUR"})
            k += 1
            if rng.random() < stop:
                break
            season = 1.0 + 0.3 * np.sin(2 * np.pi * t / 365.0)
            t += float(rng.gamma(2.0, gap / 2.0)) * season
    return rows


def time_scale(rows: list[dict[str, str]], scale: int) -> None:
    """The learned score's fit and scoring on CDNOW copied ``scale`` times, on the table."""
    base = date(1997, 1, 1)
    by_customer: dict[str, list[int]] = {}
    for row in rows:
        d = datetime.strptime(row["date"], "%Y%m%d").date()
        by_customer.setdefault(row["customer_id"], []).append((d - base).days)
    days_lists = [sorted(set(v)) for v in by_customer.values()] * scale
    offsets = np.zeros(len(days_lists) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in days_lists], out=offsets[1:])
    epoch = (base - date(1970, 1, 1)).days
    times = (np.concatenate([np.array(v, dtype=np.int64) for v in days_lists]) + epoch) * DAY_US
    now = _utc(date(1997, 9, 30))
    n = len(days_lists)
    keep = times <= int((now - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) * 10**6
    counts = np.bincount(np.repeat(np.arange(n), np.diff(offsets))[keep], minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    settings = StageSettings(horizon_days=273)
    zeros64 = np.zeros(n, dtype=np.int64)
    none = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    table = FactsTable(
        keys=[str(i) for i in range(n)], now_us=int(now.timestamp()) * 10**6, settings=settings,
        purchase_offsets=offsets, purchase_times=times[keep], shipped_at=none,
        shipped_order=np.full(n, -1, dtype=np.int32), trouble_at=none,
        trouble_order=np.full(n, -1, dtype=np.int32), trouble_refunded=np.zeros(n, bool),
        flags=np.zeros(n, np.uint8), review_at=none, review_rating=np.zeros(n, np.int8),
        review_verified=np.zeros(n, bool), review_product=np.full(n, -1, dtype=np.int32),
        signal_count=np.zeros(n, np.int32), signal_first=none,
        signal_detail=np.full(n, -1, dtype=np.int32), known_since=zeros64,
        orders_seen=counts.astype(np.int32), order_refs=[], texts=[])
    start = time.perf_counter()
    churn = fit_churn_model(table, settings)
    fitted = time.perf_counter() - start
    start = time.perf_counter()
    probabilities, _ = churn.scores(table, 273)
    scored = time.perf_counter() - start
    start = time.perf_counter()
    learned = fit_learned_score(table, 273, min_labelled_buyers=500,
                                min_customers_for_bgnbd=200, min_repeat_for_bgnbd=30)
    alone = time.perf_counter() - start
    print(f"\n== scale: {n} people ({scale} x CDNOW) on the facts table")
    print(f"   BG/NBD + learned score fit {fitted:.1f} s (the learned score alone {alone:.1f} s,"
          f" {learned.training_rows} training rows), scoring everyone {scored:.1f} s, "
          f"{int(np.isfinite(probabilities).sum())} scored")


def small_shops(journeys: Sequence[Journey], now: datetime, horizon: float,
                seed: int) -> None:
    """Where the learned score starts to pay: random CDNOW sub-shops of n customers, the
    learned AUC next to recency and BG/NBD on the same people."""
    rng = np.random.default_rng(seed)
    end = now + timedelta(days=horizon)
    print("\n== small shops (random CDNOW subsets, 39/39 split; 5 draws each): AUC")
    print("   customers  learned  BG/NBD  days-since-last  (mean over draws)")
    for size in (250, 500, 1000, 2000, 4000):
        learned, bgnbd, recency = [], [], []
        for _ in range(5):
            pick = rng.choice(len(journeys), size, replace=False)
            shop = [journeys[i] for i in sorted(pick)]
            y, d, pl, pb = [], [], [], []
            res_l = classify_all(shop, now=now, settings=StageSettings(
                horizon_days=horizon, min_buyers_for_learned_score=20))
            res_b = classify_all(shop, now=now, settings=StageSettings(
                horizon_days=horizon, learned_score=False))
            for journey, rl, rb in zip(shop, res_l, res_b):
                before = facts_of(journey, now)
                if before.purchases == 0:
                    continue
                y.append(facts_of(journey, end).purchases == before.purchases)
                d.append(before.days_since_last_purchase or 0.0)
                pl.append(rl.probability_no_purchase)
                pb.append(rb.probability_no_purchase)
            yy = np.array(y)
            recency.append(auc(np.array(d), yy))
            if all(v is not None for v in pl):
                learned.append(auc(np.array(pl, dtype=float), yy))
            if all(v is not None for v in pb):
                bgnbd.append(auc(np.array(pb, dtype=float), yy))

        def mean(values: list[float | None]) -> str:
            good = [v for v in values if v is not None]
            return f"{np.mean(good):.3f}" if good else "  n/a"
        print(f"   {size:>9}  {mean(learned):>7}  {mean(bgnbd):>6}  {mean(recency):>15}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=20_000)
    parser.add_argument("--scale", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-small", action="store_true")
    args = parser.parse_args()

    rows, sample = cdnow_rows()
    start = time.perf_counter()
    journeys = journeys_from_transactions(rows)
    print(f"CDNOW: {len(rows)} transactions, {len(journeys)} customers "
          f"({time.perf_counter() - start:.1f} s to build the journeys)")
    outside = [j.person.customer_id not in sample for j in journeys]
    for label, now, horizon, goals in (
            ("CDNOW 39/39 weeks (the paper's split)", date(1997, 9, 30), 273, True),
            ("CDNOW 26/52 weeks", date(1997, 7, 1), 364, False),
            ("CDNOW 52/26 weeks", date(1997, 12, 30), 182, False)):
        score_split(label, journeys, _utc(now), horizon, outside, goals)
    generated = journeys_from_transactions(generated_rows(args.generated, args.seed,
                                                          date(2023, 1, 1), 3 * 365))
    everyone = [True] * len(generated)
    for horizon in (90, 180):
        score_split(f"generated history ({args.generated} people, 3 years)", generated,
                    _utc(date(2025, 1, 1)), horizon, everyone, False)
    if not args.skip_small:
        small_shops(journeys, _utc(date(1997, 9, 30)), 273, args.seed)
    if args.scale:
        time_scale(rows, args.scale)


if __name__ == "__main__":
    main()
