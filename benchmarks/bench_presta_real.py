"""Benchmark on real server time: the PrestaShop adapter against a real PrestaShop 8.1.2
(../shared/real-presta), next to a plain sequential ``requests`` loop over ``display=full``
pages, in the same run.

    python benchmarks/bench_presta_real.py                   # 2,500 orders, shop kept in /tmp
    python benchmarks/bench_presta_real.py --orders 5000 --root /var/tmp/jb-bench-presta

The first run starts the shop in ``--root`` and seeds it once with PHP (rows copied from the
shop's own demo customer, cart and order and inserted in bulk through PrestaShop's ``Db``, so
the Webservice serves them like any other); a marker file keeps later runs from seeding again.
Both sides then read every customer, order, order history and cart:

* the adapter: ``PrestaShopAdapter.pull()`` (concurrency ``--concurrency``, pages of 100,
  histories per page of orders, anonymous carts only counted);
* the baseline: one request at a time, ``display=full&sort=[id_ASC]&limit=offset,100`` until a
  short page, for ``customers``, ``orders``, ``order_histories`` and ``carts``.

Prints wall time, requests and the speed-up (best of ``--rounds``).
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

import requests

ROOT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT_DIR))

PAGE = 100
TIMEZONE = "Europe/Amsterdam"  # what ../shared/real-presta configures

SEED_PHP = r"""<?php
$_SERVER['HTTP_HOST'] = 'localhost'; $_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET'; $_SERVER['REMOTE_ADDR'] = '127.0.0.1';
define('_PS_ADMIN_DIR_', getcwd() . '/admin');
require getcwd() . '/config/config.inc.php';

$orders = (int) $argv[1];
$db = Db::getInstance();
$P = _DB_PREFIX_;
$tz = new DateTimeZone((string) Configuration::get('PS_TIMEZONE'));
$now = time();
$local = static fn(int $ts): string
    => (new DateTime('@' . $ts))->setTimezone($tz)->format('Y-m-d H:i:s');
$row = static fn(string $sql): array => $db->getRow($sql, false) ?: exit("no template: $sql\n");
$next = static fn(string $table, string $id): int
    => 1 + (int) $db->getValue("SELECT MAX($id) FROM $P$table", false);
$bulk = static function (string $table, array $rows) use ($db): void {
    foreach (array_chunk($rows, 500) as $chunk) {
        if (!$db->insert($table, $chunk, true)) {
            exit("insert into $table failed: " . $db->getMsgError() . "\n");
        }
    }
};
$strip = static function (array $r, array $set): array {
    foreach ($r as $k => $v) {
        $r[$k] = $v === null ? null : pSQL((string) $v);
    }
    return array_merge($r, $set);
};

$customer = $row("SELECT * FROM {$P}customer WHERE id_customer = 2");
$cart = $row("SELECT * FROM {$P}cart WHERE id_cart = 1");
$order = $row("SELECT * FROM {$P}orders WHERE id_order = 1");
$details = $db->executeS("SELECT * FROM {$P}order_detail WHERE id_order = 1", true, false);
$states = [[2, 0], [3, 60], [4, 1440], [5, 4320]];   // accepted, processing, shipped, delivered

$people = max(1, intdiv($orders, 3));
$cid = $next('customer', 'id_customer');
$cartId = $next('cart', 'id_cart');
$oid = $next('orders', 'id_order');
$did = $next('order_detail', 'id_order_detail');
$hid = $next('order_history', 'id_order_history');
$customers = $groups = $carts = $ords = $lines = $history = [];
for ($i = 0; $i < $people; $i++) {
    $guest = $i % 10 === 9;
    $reg = $now - (1000 - $i % 1000) * 86400;
    $customers[] = $strip($customer, ['id_customer' => $cid + $i, 'email' => "bench$i@example.com",
        'firstname' => 'Bench', 'lastname' => "Customer $i", 'is_guest' => (int) $guest,
        'id_default_group' => $guest ? 2 : 3, 'secure_key' => md5("bench$i"),
        'newsletter' => $i % 4 === 0 ? 1 : 0,
        'newsletter_date_add' => $i % 4 === 0 ? $local($reg) : null,
        'date_add' => $local($reg), 'date_upd' => $local($reg)]);
    $groups[] = ['id_customer' => $cid + $i, 'id_group' => $guest ? 2 : 3];
}
for ($i = 0; $i < $orders; $i++) {
    $who = $cid + $i % $people;
    $at = $now - (4 + ($i * 7) % 900) * 86400;  // its last step (3 days on) still in the past
    $carts[] = $strip($cart, ['id_cart' => $cartId + $i, 'id_customer' => $who,
        'date_add' => $local($at - 900), 'date_upd' => $local($at - 60)]);
    $steps = array_slice($states, 0, 1 + $i % 4);
    $last = end($steps);
    $ords[] = $strip($order, ['id_order' => $oid + $i, 'id_customer' => $who,
        'id_cart' => $cartId + $i, 'reference' => sprintf('BENCH%04d', $i),
        'current_state' => $last[0], 'valid' => 1,
        'date_add' => $local($at), 'date_upd' => $local($at + 60 * $last[1])]);
    foreach ($details as $d) {
        $lines[] = $strip($d, ['id_order_detail' => $did++, 'id_order' => $oid + $i]);
    }
    foreach ($steps as [$state, $after]) {
        $history[] = ['id_order_history' => $hid++, 'id_employee' => 0, 'id_order' => $oid + $i,
            'id_order_state' => $state, 'date_add' => $local($at + 60 * $after)];
    }
}
for ($i = 0; $i < intdiv($orders, 10); $i++) {     // carts left behind
    $carts[] = $strip($cart, ['id_cart' => $cartId + $orders + $i,
        'id_customer' => $cid + $i % $people,
        'date_add' => $local($now - $i * 3600), 'date_upd' => $local($now - $i * 3600)]);
}
$bulk('customer', $customers);
$bulk('customer_group', $groups);
$bulk('cart', $carts);
$bulk('orders', $ords);
$bulk('order_detail', $lines);
$bulk('order_history', $history);
printf("%d customers, %d orders, %d order rows, %d history rows, %d carts\n", count($customers),
    count($ords), count($lines), count($history), count($carts));
"""


def _env(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep:
            env[name.strip()] = value.strip().strip('"')
    return env


def start_shop(root: Path, orders: int) -> dict[str, str]:
    """Start (or find running) the shop in ``root`` and seed it once with ``orders`` orders."""
    script = ROOT_DIR.parent / "shared" / "real-presta" / "start.sh"
    if not script.is_file():
        sys.exit(f"real PrestaShop not available: {script} not found")
    env_file = root / "env"
    if env_file.is_file():
        port = _env(env_file)["PS_URL"].rsplit(":", 1)[1]
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = str(sock.getsockname()[1])
    root.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{root.name}.start-output.txt").open("ab") as out:
        # to a file, never a pipe: start.sh leaves MariaDB and PHP running in the background
        subprocess.run(["bash", str(script), str(root), port], check=True, stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    env = _env(env_file)
    marker = root / f"bench-seeded-{orders}"
    if not marker.exists():
        if list(root.glob("bench-seeded-*")):
            sys.exit(f"{root} holds another benchmark seed: use another --root or rm -rf it")
        started = time.perf_counter()
        php = root / "bench_seed.php"
        php.write_text(SEED_PHP, encoding="utf-8")
        done = subprocess.run(["php", *env["PS_PHP_FLAGS"].split(), str(php), str(orders)],
                              cwd=env["PS_SHOP"], check=True, capture_output=True, text=True)
        for name in ("prod", "dev"):
            subprocess.run(["rm", "-rf", str(Path(env["PS_SHOP"]) / "var" / "cache" / name)],
                           check=True)
        marker.write_text(done.stdout, encoding="utf-8")
        print(f"seeded {done.stdout.strip()} in {time.perf_counter() - started:.1f} s "
              f"(kept in {root})")
    return env


def run_adapter(env: dict[str, str], concurrency: int) -> dict[str, Any]:
    from journeybridge.adapters.prestashop import PrestaShopAdapter

    started = time.perf_counter()
    with PrestaShopAdapter(env["PS_URL"], env["PS_KEY"], concurrency=concurrency,
                           page_size=PAGE, timeout=120, timezone_name=TIMEZONE) as shop:
        pull = shop.pull()
        people = len(shop.assemble(pull).journeys)
    report = pull.report
    return {"seconds": time.perf_counter() - started, "requests": report.requests,
            "orders": len(pull.orders), "customers": len(pull.customers),
            "histories": report.histories, "carts": len(pull.carts) + report.anonymous_carts,
            "people": people, "skipped": report.skipped_count}


def run_baseline(env: dict[str, str]) -> dict[str, Any]:
    session = requests.Session()
    session.auth = (env["PS_KEY"], "")
    started = time.perf_counter()
    sent = 0
    counts: dict[str, int] = {}
    for resource in ("customers", "orders", "order_histories", "carts"):
        offset, seen = 0, 0
        while True:
            response = session.get(f"{env['PS_URL']}/api/{resource}", timeout=120, params={
                "output_format": "JSON", "display": "full", "sort": "[id_ASC]",
                "limit": f"{offset},{PAGE}"})
            sent += 1
            response.raise_for_status()
            body = response.json()
            page = body[resource] if isinstance(body, dict) else []  # empty: a bare []
            seen += len(page)
            if len(page) < PAGE:
                break
            offset += PAGE
        counts[resource] = seen
    return {"seconds": time.perf_counter() - started, "requests": sent,
            "orders": counts["orders"], "customers": counts["customers"],
            "histories": counts["order_histories"], "carts": counts["carts"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=2500)
    parser.add_argument("--root", default=os.environ.get("JOURNEYBRIDGE_BENCH_PRESTA_ROOT",
                                                         "/tmp/jb-bench-presta"))
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs each")
    args = parser.parse_args()
    env = start_shop(Path(args.root), args.orders)
    adapter = min((run_adapter(env, args.concurrency) for _ in range(args.rounds)),
                  key=lambda r: float(r["seconds"]))
    print(f"adapter  (PrestaShopAdapter.pull, concurrency {args.concurrency}, pages of {PAGE}): "
          f"{adapter['seconds']:.1f} s, {adapter['requests']} requests; {adapter['orders']} "
          f"orders, {adapter['histories']} history rows, {adapter['customers']} customer rows, "
          f"{adapter['carts']} carts -> {adapter['people']} people, "
          f"{adapter['skipped']} skipped as malformed")
    base = min((run_baseline(env) for _ in range(args.rounds)), key=lambda r: float(r["seconds"]))
    print(f"baseline (sequential requests, display=full, pages of {PAGE}): "
          f"{base['seconds']:.1f} s, {base['requests']} requests; {base['orders']} orders, "
          f"{base['histories']} history rows, {base['customers']} customer rows, "
          f"{base['carts']} carts")
    print(f"speed-up {base['seconds'] / adapter['seconds']:.2f}x")


if __name__ == "__main__":
    main()
