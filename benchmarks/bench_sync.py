"""Benchmark: `journeybridge sync` at real size, as a cron user runs it.

    python benchmarks/bench_sync.py --platform woocommerce --customers 20000
    python benchmarks/bench_sync.py --platform prestashop --customers 2000 --latency-ms 50

One sandbox process serves both APIs (every request waits ``--latency-ms`` of server time);
the client is the real command (``python -m journeybridge.cli sync`` from a TOML
configuration, SQLite store) under ``/usr/bin/time -v``, so its wall time, CPU and peak RSS
are measured alone. Three runs: a first sync, a re-sync with nothing changed, and a re-sync
after ``--change`` (default 1%) of the orders changed status. Prints one row per run: wall
seconds, client CPU seconds, peak RSS, requests the shop served, people written.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(customers: int, latency_ms: int, commands: Any, answers: Any) -> None:
    """The sandbox shop, in its own process, taking commands: stats, change, stop."""
    import random

    from journeybridge.sandbox import Faults, OrderStatus, Population, SandboxServer

    population = Population(customers, seed=1)
    with SandboxServer(population, faults=Faults(page_latency_ms=latency_ms),
                       platforms=("woocommerce", "prestashop")) as server:
        creds, presta = server.woo_credentials, server.presta_credentials
        answers.put({"url": server.url, "key": creds.key, "secret": creds.secret,
                     "presta_key": presta.key, "customers": population.customer_count,
                     "orders": population.order_count})
        while True:
            command, value = commands.get()
            if command == "stop":
                return
            if command == "stats":
                answers.put(server.stats.total)
            elif command == "change":
                rng = random.Random(7)
                orders = [o for o in population.orders(include_trash=False)
                          if o.status is OrderStatus.PROCESSING]
                everyone = population.order_count
                chosen = rng.sample(orders, min(len(orders), max(1, int(everyone * value))))
                at = population.clock()
                for order in chosen:
                    population.update_order(order.id, status="completed", at=at)
                answers.put(len(chosen))


def _config(directory: Path, shop: dict[str, Any], platform: str, concurrency: int) -> Path:
    path = directory / "config.toml"
    path.write_text(f"""
[sync]
state = "state.db"

[shops.bench]
platform = "{platform}"
url = "{shop['url']}"
timezone = "Europe/Amsterdam"
concurrency = {concurrency}
timeout = 120
""", encoding="utf-8")
    return path


def _time_sync(config: Path, env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "journeybridge.cli", "sync", "--config",
         str(config)], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    err = proc.stderr

    def field(name: str) -> float:
        match = re.search(rf"{re.escape(name)}: ([\d.]+)", err)
        return float(match.group(1)) if match else float("nan")

    summary: dict[str, Any] = {}
    for line in reversed(proc.stdout.splitlines()):
        if line.strip().startswith("{"):
            summary = json.loads(line)
            break
    shops = summary.get("shops") or [{}]
    return {"exit": proc.returncode, "wall": wall,
            "cpu": field("User time (seconds)") + field("System time (seconds)"),
            "rss_mib": field("Maximum resident set size (kbytes)") / 1024,
            "written": shops[0].get("written"), "people": shops[0].get("people"),
            "tail": err.strip().splitlines()[-3:] if proc.returncode else []}


def main() -> None:
    """Run the three syncs and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=("woocommerce", "prestashop"),
                        default="woocommerce")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--change", type=float, default=0.01)
    args = parser.parse_args()
    commands: Any = mp.Queue()
    answers: Any = mp.Queue()
    server = mp.Process(target=serve, args=(args.customers, args.latency_ms, commands, answers))
    server.start()
    try:
        shop = answers.get(timeout=600)
        print(f"sandbox: {shop['customers']:,} customers, {shop['orders']:,} orders, "
              f"{args.latency_ms} ms per request, concurrency {args.concurrency}, "
              f"platform {args.platform}")
        with tempfile.TemporaryDirectory(prefix="jb-bench-sync-") as directory:
            config = _config(Path(directory), shop, args.platform, args.concurrency)
            env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYBRIDGE_")}
            env.update({"JOURNEYBRIDGE_BENCH_KEY": shop["presta_key"]
                        if args.platform == "prestashop" else shop["key"],
                        "JOURNEYBRIDGE_BENCH_SECRET": shop["secret"], "PYTHONPATH": str(ROOT)})
            rows = []
            for label in ("first sync", "re-sync, nothing changed",
                          f"re-sync, {args.change:.0%} of orders changed"):
                if label.startswith("re-sync, ") and "changed" in label and \
                        not label.endswith("nothing changed"):
                    commands.put(("change", args.change))
                    changed = answers.get()
                    label += f" ({changed:,})"
                commands.put(("stats", None))
                before = answers.get()
                result = _time_sync(config, env)
                commands.put(("stats", None))
                result["requests"] = answers.get() - before
                rows.append((label, result))
                print(f"{label:<42} exit {result['exit']}  {result['wall']:8.1f} s wall  "
                      f"{result['cpu']:7.1f} s CPU  {result['rss_mib']:7.0f} MiB peak  "
                      f"{result['requests']:7,} requests  {result['written']} written "
                      f"of {result['people']} people", flush=True)
                for line in result["tail"]:
                    print("    " + line)
            first = rows[0][1]["requests"]
            for label, result in rows[1:]:
                print(f"  {label}: {result['requests'] / first:.1%} of the first sync's "
                      "requests")
    finally:
        commands.put(("stop", None))
        server.join(timeout=30)


if __name__ == "__main__":
    main()
