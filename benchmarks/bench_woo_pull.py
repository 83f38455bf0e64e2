"""Benchmark: pulling a large sandbox WooCommerce shop with the adapter versus a plain
sequential loop over the ``woocommerce`` client (the baseline).

    python benchmarks/bench_woo_pull.py                      # 100,000 customers, 50 ms/page
    python benchmarks/bench_woo_pull.py --customers 10000    # quicker

The sandbox runs in its own process (so its memory is not counted), each client in its own
process too; every request waits ``--latency-ms`` of server time. Prints wall time, requests and
peak RSS for both, the speed-up, and the limit ``pages x latency / concurrency``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def serve(customers: int, latency_ms: int, workers: int, queue: Any, stop: Any) -> None:
    from journeybridge.sandbox import Faults, Population, SandboxServer

    population = Population(customers, seed=1)
    with SandboxServer(population, faults=Faults(page_latency_ms=latency_ms),
                       workers=workers) as server:
        creds = server.woo_credentials
        queue.put({"url": server.url, "key": creds.key, "secret": creds.secret,
                   "customers": population.customer_count, "orders": population.order_count,
                   "reviews": population.review_count})
        stop.wait()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_adapter(shop: dict[str, Any], concurrency: int, out: Any) -> None:
    from journeybridge.adapters.woocommerce import PullReport, WooCommerceAdapter

    started = time.perf_counter()
    report = PullReport()
    with WooCommerceAdapter(shop["url"], shop["key"], shop["secret"],
                            concurrency=concurrency) as adapter:
        customers = sum(1 for _ in adapter.iter_customers(report))
        cpu_before, sent_before = cpu_seconds(), adapter.client.requests_sent
        orders = sum(1 for _ in adapter.iter_orders(report))
        order_cpu = cpu_seconds() - cpu_before
        order_pages = adapter.client.requests_sent - sent_before
        reviews = sum(1 for _ in adapter.iter_reviews(report))
        requests = adapter.client.requests_sent
    out.put({"seconds": time.perf_counter() - started, "requests": requests,
             "customers": customers, "orders": orders, "reviews": reviews,
             "skipped": report.skipped_count, "rss_mb": peak_rss_mb(),
             "client_cpu_s": cpu_seconds(),
             "cpu_ms_per_order_page": 1000 * order_cpu / max(1, order_pages)})


def run_baseline(shop: dict[str, Any], out: Any) -> None:
    """What an integrator writes with the official client: page after page, full records."""
    from woocommerce import API

    api = API(url=shop["url"], consumer_key=shop["key"], consumer_secret=shop["secret"],
              version="wc/v3", timeout=60)
    started = time.perf_counter()
    counts = {}
    requests = 0
    for endpoint, extra in (("customers", {"role": "all"}), ("orders", {}),
                            ("products/reviews", {})):
        page, total_pages, seen = 1, 1, 0
        while page <= total_pages:
            response = api.get(endpoint, params={"per_page": 100, "page": page,
                                                 "orderby": "id", "order": "asc", **extra})
            requests += 1
            response.raise_for_status()
            seen += len(response.json())
            total_pages = int(response.headers.get("X-WP-TotalPages", "1"))
            page += 1
        counts[endpoint] = seen
    out.put({"seconds": time.perf_counter() - started, "requests": requests,
             "customers": counts["customers"], "orders": counts["orders"],
             "reviews": counts["products/reviews"], "rss_mb": peak_rss_mb(),
             "client_cpu_s": cpu_seconds()})


def in_process(target: Any, *args: Any) -> dict[str, Any]:
    queue: Any = mp.Queue()
    proc = mp.Process(target=target, args=(*args, queue))
    proc.start()
    result: dict[str, Any] = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--server-workers", type=int, default=4,
                        help="sandbox worker processes (the real shop runs PHP with 4)")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    ctx_queue: Any = mp.Queue()
    stop: Any = mp.Event()
    server = mp.Process(target=serve, args=(args.customers, args.latency_ms,
                                                 args.server_workers, ctx_queue, stop))
    server.start()
    shop = ctx_queue.get(timeout=600)
    print(f"sandbox: {shop['customers']} customers, {shop['orders']} visible orders, "
          f"{shop['reviews']} reviews; {args.latency_ms} ms server time per request; "
          f"{args.server_workers} server worker processes")
    try:
        adapter = in_process(run_adapter, shop, args.concurrency)
        pages = adapter["requests"]
        limit = pages * args.latency_ms / 1000 / args.concurrency
        print(f"adapter  (concurrency {args.concurrency}, _fields, pooled): "
              f"{adapter['seconds']:.1f} s, {adapter['requests']} requests, "
              f"peak RSS {adapter['rss_mb']:.0f} MB, client CPU {adapter['client_cpu_s']:.1f} s; "
              f"pulled {adapter['customers']} customers, "
              f"{adapter['orders']} orders, {adapter['reviews']} reviews, "
              f"{adapter['skipped']} skipped; client CPU per page of orders "
              f"{adapter['cpu_ms_per_order_page']:.1f} ms")
        print(f"limit    pages x latency / concurrency = {limit:.1f} s; adapter at "
              f"{adapter['seconds'] / limit if limit else float('nan'):.2f}x the limit")
        if not args.skip_baseline:
            base = in_process(run_baseline, shop)
            print(f"baseline (sequential woocommerce.API, full records): {base['seconds']:.1f} s, "
                  f"{base['requests']} requests, peak RSS {base['rss_mb']:.0f} MB, client CPU "
                  f"{base['client_cpu_s']:.1f} s; pulled "
                  f"{base['customers']} customers, {base['orders']} orders")
            print(f"speed-up {base['seconds'] / adapter['seconds']:.2f}x")
        print(json.dumps({"adapter": adapter, "limit_s": limit}))
    finally:
        stop.set()
        server.join(timeout=30)


if __name__ == "__main__":
    main()
