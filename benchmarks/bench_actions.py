"""Benchmark: ``journeybridge actions --sandbox N`` end to end, and its parts.

Times, on a generated WooCommerce sandbox shop of N customers (default 20,000):

1. the whole command as a user runs it (a subprocess: generate and serve the shop, pull it,
   classify everyone, decide each person's next action, print JSON lines);
2. in this process, the part that is new: deciding the next actions of the pulled journeys
   (:func:`journeybridge.actions.shop_actions`), after the pull and classification;
3. with ``--sync M``: what writing actions back adds to a sync of a sandbox shop of M
   customers: two syncs (the first writes everything, the second nothing) with
   ``[actions] write_back`` on, and the same with it off.

Run: ``python benchmarks/bench_actions.py [--customers N] [--seed S] [--sync M]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
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
    parser.add_argument("--sync", type=int, default=0, metavar="M",
                        help="also time two syncs of M customers with and without actions")
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
    if args.sync:
        for write_back in (True, False):
            first, second = _two_syncs(args.sync, args.seed, write_back)
            print(f"sync of {args.sync} customers, actions write-back "
                  f"{'on' if write_back else 'off'}: first {first[0]:.1f} s "
                  f"({first[1]} written), second {second[0]:.1f} s ({second[1]} written)")


def _two_syncs(size: int, seed: int, write_back: bool) -> list[tuple[float, int]]:
    from journeybridge.config import Secrets, load_config
    from journeybridge.sandbox import Population, SandboxServer
    from journeybridge.state import open_store
    from journeybridge.sync import sync_shop

    population = Population(size, seed=seed)
    out = []
    with SandboxServer(population) as server, tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.toml"
        path.write_text(f'[sync]\nstate = "state.db"\n\n[actions]\n'
                        f'write_back = {str(write_back).lower()}\n\n'
                        f'[shops.bench]\nurl = "{server.url}"\n', encoding="utf-8")
        config = load_config(path)
        creds = server.woo_credentials
        with open_store(config.state_url()) as store:
            for _ in range(2):
                started = time.perf_counter()
                result = sync_shop(config, config.shops["bench"], store,
                                   Secrets(creds.key, creds.secret), now=population.now)
                out.append((time.perf_counter() - started, result.run.written))
    return out


if __name__ == "__main__":
    main()
