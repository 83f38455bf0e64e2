"""Benchmark: `journeybridge report --sandbox N` at real sizes, phase by phase.

    python benchmarks/bench_report.py --customers 2000 100000

For each size: a generated sandbox shop is served on 127.0.0.1 and pulled over its
WooCommerce API (as ``report --sandbox N`` does), then the figures are computed (26 weekly
stage histories recomputed from today's records, since the sandbox has no transition log),
then rendered as HTML (charts as SVG) and as JSON. Prints one row per size: people, seconds
per phase, the total, and the HTML and JSON sizes. The numbers depend on the machine (and on
its load: the BG/NBD fit runs once per recomputed week; OPENBLAS_NUM_THREADS is printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(customers: int, seed: int) -> dict[str, float]:
    """One size: seconds per phase and output sizes."""
    from journeybridge import sources
    from journeybridge.config import Config
    from journeybridge.report import render_html, render_json
    from journeybridge.report.shop import shop_figures, stage_labels

    started = time.perf_counter()
    with sources.sandbox_shop(customers, seed) as sandbox:
        found = sources.shop_journeys(sandbox.config, sandbox.shop, None, sandbox.now,
                                      secrets=sandbox.secrets)
    pulled = time.perf_counter()
    import gc

    gc.freeze()  # as `journeybridge report` does
    config = Config()
    figures = shop_figures(found, config)
    computed = time.perf_counter()
    html = render_html(figures, stage_labels(config))
    rendered = time.perf_counter()
    data = render_json(figures)
    dumped = time.perf_counter()
    return {"people": len(found.journeys), "pull": pulled - started,
            "figures": computed - pulled, "html": rendered - computed,
            "json": dumped - rendered, "total": dumped - started,
            "html_kb": len(html.encode()) / 1024, "json_kb": len(data.encode()) / 1024}


def main() -> None:
    """Parse the sizes and print one row per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[2000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'customers':>9} {'people':>7} {'pull s':>7} {'figures s':>9} {'html s':>7} "
          f"{'json s':>7} {'total s':>8} {'html KB':>8} {'json KB':>8}")
    for size in args.customers:
        row = run(size, args.seed)
        print(f"{size:>9} {row['people']:>7.0f} {row['pull']:>7.1f} {row['figures']:>9.1f} "
              f"{row['html']:>7.1f} {row['json']:>7.2f} {row['total']:>8.1f} "
              f"{row['html_kb']:>8.0f} {row['json_kb']:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
