"""Benchmark on real server time: the WooCommerce adapter against a real WooCommerce 10.0.2
(../shared/real-woo), next to a sequential loop over the ``woocommerce`` client with full
records, in the same run.

    python benchmarks/bench_woo_real.py                   # 3,000 orders, shop kept in /tmp
    python benchmarks/bench_woo_real.py --orders 5000 --root /var/tmp/jb-bench-woo

The first run starts the shop in ``--root`` and seeds it with PHP (WooCommerce's own CRUD
classes); later runs reuse it. Prints wall time, requests and the speed-up.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT_DIR))

SEED_PHP = r"""<?php
require 'wp-load.php';
$orders = (int)$argv[1];
wp_defer_term_counting(true);
$products = [];
for ($i = 0; $i < 10; $i++) {
    $p = new WC_Product_Simple();
    $p->set_name("Bench product $i"); $p->set_sku("BENCH-$i");
    $p->set_regular_price((string)(5 + 3 * $i) . '.95'); $p->save();
    $products[] = $p;
}
$customers = [];
for ($i = 0; $i < max(1, intdiv($orders, 3)); $i++) {
    $c = new WC_Customer();
    $c->set_email("bench$i@example.com"); $c->set_username("bench$i");
    $c->set_password(wp_generate_password()); $c->set_first_name("Bench");
    $c->set_last_name("Customer $i"); $c->set_billing_email("bench$i@example.com");
    $c->set_billing_country('NL'); $c->save();
    $customers[] = $c->get_id();
}
$statuses = ['completed', 'completed', 'completed', 'processing', 'pending', 'cancelled',
             'refunded', 'failed', 'on-hold'];
for ($i = 0; $i < $orders; $i++) {
    $o = wc_create_order(['customer_id' => $customers[$i % count($customers)]]);
    $o->add_product($products[$i % 10], 1 + $i % 3);
    $o->set_billing_email("bench" . ($i % count($customers)) . "@example.com");
    $o->set_billing_first_name('Bench'); $o->set_billing_country('NL');
    $o->set_date_created(time() - ($i % 900) * 86400);
    $o->calculate_totals();
    $o->set_status($statuses[$i % count($statuses)]);
    $o->save();
}
echo "seeded $orders orders\n";
"""


def start_shop(root: Path, orders: int) -> dict[str, str]:
    script = ROOT_DIR.parent / "shared" / "real-woo" / "start.sh"
    if not script.is_file():
        sys.exit(f"real WooCommerce not available: {script} not found")
    port = "0"
    env_file = root / "env"
    if env_file.is_file():
        port = next(line.split(":")[-1] for line in env_file.read_text().splitlines()
                    if line.startswith("WOO_URL="))
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = str(sock.getsockname()[1])
    subprocess.run(["bash", str(script), str(root), port], check=True, capture_output=True)
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    marker = root / f"bench-seeded-{orders}"
    if not marker.exists():
        started = time.perf_counter()
        php = root / "bench_seed.php"
        php.write_text(SEED_PHP)
        subprocess.run(["php", "-d", "memory_limit=2G", str(php), str(orders)],
                       cwd=env["WOO_PHP"], check=True)
        marker.touch()
        print(f"seeded {orders} orders in {time.perf_counter() - started:.0f} s (kept in {root})")
    return env


def run_adapter(env: dict[str, str], concurrency: int) -> dict[str, Any]:
    from journeybridge.adapters.woocommerce import PullReport, WooCommerceAdapter

    started = time.perf_counter()
    report = PullReport()
    with WooCommerceAdapter(env["WOO_URL"], env["WOO_KEY"], env["WOO_SECRET"],
                            concurrency=concurrency, timeout=120) as shop:
        orders = sum(1 for _ in shop.iter_orders(report))
        customers = sum(1 for _ in shop.iter_customers(report))
        requests = shop.client.requests_sent
    return {"seconds": time.perf_counter() - started, "requests": requests, "orders": orders,
            "customers": customers}


def run_baseline(env: dict[str, str]) -> dict[str, Any]:
    from woocommerce import API

    api = API(url=env["WOO_URL"], consumer_key=env["WOO_KEY"], consumer_secret=env["WOO_SECRET"],
              version="wc/v3", timeout=120)
    started = time.perf_counter()
    requests = 0
    counts = {}
    for endpoint, extra in (("orders", {}), ("customers", {"role": "all"})):
        page, pages, seen = 1, 1, 0
        while page <= pages:
            response = api.get(endpoint, params={"per_page": 100, "page": page, **extra})
            requests += 1
            response.raise_for_status()
            seen += len(response.json())
            pages = int(response.headers.get("X-WP-TotalPages", "1"))
            page += 1
        counts[endpoint] = seen
    return {"seconds": time.perf_counter() - started, "requests": requests,
            "orders": counts["orders"], "customers": counts["customers"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--root", default=os.environ.get("JOURNEYBRIDGE_BENCH_WOO_ROOT",
                                                         "/tmp/jb-bench-woo"))
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    env = start_shop(Path(args.root), args.orders)
    adapter = run_adapter(env, args.concurrency)
    print(f"adapter  (concurrency {args.concurrency}, _fields, pooled): "
          f"{adapter['seconds']:.1f} s, {adapter['requests']} requests; "
          f"{adapter['orders']} orders, {adapter['customers']} customers")
    base = run_baseline(env)
    print(f"baseline (sequential woocommerce.API, full records, default order): "
          f"{base['seconds']:.1f} s, {base['requests']} requests; {base['orders']} orders, "
          f"{base['customers']} customers")
    print(f"speed-up {base['seconds'] / adapter['seconds']:.2f}x")


if __name__ == "__main__":
    main()
