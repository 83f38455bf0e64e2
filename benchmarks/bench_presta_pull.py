"""Benchmark: a full pull of a large sandbox PrestaShop shop (its Webservice under ``/api/``) with
the adapter versus a sequential baseline: a plain ``requests`` loop over ``display=full`` pages
of every resource a journey needs, until a page comes back short.

    python benchmarks/bench_presta_pull.py                      # 100,000 customers, 50 ms/page
    python benchmarks/bench_presta_pull.py --customers 10000    # quicker

The sandbox runs in its own process (its memory is not counted), each client in its own
process too; every request waits ``--latency-ms`` of server time. Prints wall time, requests and
peak RSS for both and the speed-up.
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

RESOURCES = ("order_states", "currencies", "customers", "orders", "order_histories", "carts")


def serve(customers: int, latency_ms: int, workers: int, queue: Any, stop: Any) -> None:
    from journeybridge.sandbox import Faults, Population, SandboxServer

    population = Population(customers, seed=1)
    with SandboxServer(population, faults=Faults(page_latency_ms=latency_ms), workers=workers,
                       platforms=("woocommerce", "prestashop")) as server:
        assert server.presta is not None
        data = server.presta.data
        queue.put({"url": server.url, "key": server.presta_credentials.key,
                   "customers": population.customer_count,
                   "rows": len(data.tables["customers"].ids()),
                   "orders": len(data.tables["orders"].ids()),
                   "histories": len(data.tables["order_histories"].ids()),
                   "carts": population.cart_count})
        stop.wait()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_adapter(shop: dict[str, Any], concurrency: int, out: Any) -> None:
    from journeybridge.adapters.prestashop import PrestaShopAdapter

    started = time.perf_counter()
    with PrestaShopAdapter(shop["url"], shop["key"], concurrency=concurrency,
                           timezone_name="Europe/Amsterdam") as adapter:
        pull = adapter.pull()
        requests = adapter.client.requests_sent
        seconds = time.perf_counter() - started
        people = len(adapter.assemble(pull).journeys)  # not timed: the baseline has no models
    report = pull.report
    out.put({"seconds": seconds, "requests": requests,
             "customers": report.customers, "guest_rows": report.guest_rows,
             "orders": report.orders, "histories": report.histories, "carts": report.carts,
             "anonymous_carts": report.anonymous_carts, "people": people,
             "skipped": report.skipped_count, "rss_mb": peak_rss_mb(),
             "client_cpu_s": cpu_seconds()})


def run_baseline(shop: dict[str, Any], page_size: int, out: Any) -> None:
    """What an integrator writes first: one session, page after page, full records, kept."""
    import requests

    session = requests.Session()
    session.auth = (shop["key"], "")
    started = time.perf_counter()
    counts: dict[str, int] = {}
    kept: dict[str, list[Any]] = {}
    sent = 0
    for name in RESOURCES:
        offset, rows = 0, []
        while True:
            response = session.get(f"{shop['url']}/api/{name}", timeout=120, params={
                "display": "full", "output_format": "JSON", "sort": "[id_ASC]",
                "limit": f"{offset},{page_size}"})
            sent += 1
            response.raise_for_status()
            body = response.json()
            page = body.get(name, []) if isinstance(body, dict) else []
            rows.extend(page)
            if len(page) < page_size:
                break
            offset += page_size
        counts[name] = len(rows)
        kept[name] = rows
    out.put({"seconds": time.perf_counter() - started, "requests": sent,
             **{f"n_{k}": v for k, v in counts.items()}, "rss_mb": peak_rss_mb(),
             "client_cpu_s": cpu_seconds()})


def in_process(target: Any, *args: Any) -> dict[str, Any]:
    queue: Any = mp.Queue()
    proc = mp.Process(target=target, args=(*args, queue))
    proc.start()
    result: dict[str, Any] = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--server-workers", type=int, default=4,
                        help="sandbox worker processes (the real shop runs PHP with 4)")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    queue: Any = mp.Queue()
    stop: Any = mp.Event()
    server = mp.Process(target=serve, args=(args.customers, args.latency_ms,
                                            args.server_workers, queue, stop))
    server.start()
    shop = queue.get(timeout=1800)
    print(f"sandbox: {shop['customers']} accounts ({shop['rows']} customer rows with guests), "
          f"{shop['orders']} orders, {shop['histories']} order histories, {shop['carts']} "
          f"carts; {args.latency_ms} ms server time per request; {args.server_workers} "
          "server worker processes")
    try:
        adapter = in_process(run_adapter, shop, args.concurrency)
        print(f"adapter  (concurrency {args.concurrency}, histories with each order page, "
              f"visitor carts only counted): {adapter['seconds']:.1f} s, "
              f"{adapter['requests']} requests, peak RSS {adapter['rss_mb']:.0f} MB, client "
              f"CPU {adapter['client_cpu_s']:.1f} s; {adapter['customers']} accounts, "
              f"{adapter['guest_rows']} guest rows, {adapter['orders']} orders, "
              f"{adapter['histories']} history rows, {adapter['carts']} carts "
              f"(+{adapter['anonymous_carts']} anonymous), {adapter['people']} people, "
              f"{adapter['skipped']} skipped")
        result: dict[str, Any] = {"adapter": adapter}
        if not args.skip_baseline:
            base = in_process(run_baseline, shop, args.page_size)
            print(f"baseline (sequential requests, display=full, {args.page_size}/page): "
                  f"{base['seconds']:.1f} s, {base['requests']} requests, peak RSS "
                  f"{base['rss_mb']:.0f} MB, client CPU {base['client_cpu_s']:.1f} s")
            print(f"speed-up {base['seconds'] / adapter['seconds']:.2f}x")
            result["baseline"] = base
        print(json.dumps(result))
    finally:
        stop.set()
        server.join(timeout=60)


if __name__ == "__main__":
    main()
