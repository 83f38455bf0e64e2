"""Benchmark: ``journeybridge actions --sandbox N`` end to end, and its parts.

Times, on a generated WooCommerce sandbox shop of N customers (default 20,000):

1. the whole command as a user runs it (a subprocess: generate and serve the shop, pull it,
   classify everyone, decide each person's next action, print JSON lines);
2. in this process, the part that is new: deciding the next actions of the pulled journeys
   (:func:`journeybridge.actions.shop_actions`), after the pull and classification.

Run: ``python benchmarks/bench_actions.py [--customers N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from journeybridge import sources  # noqa: E402
from journeybridge.actions import shop_actions  # noqa: E402


def main() -> None:
    """Run the benchmark and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "journeybridge.cli", "actions", "--sandbox",
                           str(args.customers), "--seed", str(args.seed), "--format", "json"],
                          capture_output=True, text=True, env=env, check=True)
    whole = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    print(f"journeybridge actions --sandbox {args.customers}: {whole:.1f} s, "
          f"{len(lines)} open actions printed")

    with sources.sandbox_shop(args.customers, args.seed) as sandbox:
        started = time.perf_counter()
        found = sources.shop_journeys(sandbox.config, sandbox.shop, None, sandbox.now,
                                      secrets=sandbox.secrets)
        pulled = time.perf_counter() - started
        started = time.perf_counter()
        decided = shop_actions(found.journeys, found.results, found.now,
                               ZoneInfo(sandbox.shop.timezone), sandbox.config.actions)
        deciding = time.perf_counter() - started
    kinds = Counter(action.kind.value for _j, _c, action in decided)
    print(f"  pull + classify {len(found.journeys)} people: {pulled:.1f} s")
    print(f"  decide next actions: {deciding:.2f} s "
          f"({deciding / max(len(found.journeys), 1) * 1e6:.0f} us a person)")
    print("  open actions by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
