"""``journeybridge sync`` on a PrestaShop sandbox shop SIGKILLed at several points (in the
pull, right after it while people are rebuilt, and mid-write) and rerun: the store and the shop
end exactly as after one clean run, every group exists once, and a run after that writes
nothing (the WooCommerce counterpart is in test_sync_cli.py)."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from journeybridge.config import load_config
from journeybridge.sandbox import Faults, Population, SandboxServer
from journeybridge.state import open_store
from tests.sync_support import CLASSIFY_AT, NOW, Shop, invoke, start_cli, summary, write_config
from tests.test_sync_presta import PRESTA, journey_groups

SIZE, SEED = 40, 31


def _shop(directory: Path, faults: Faults | None = None) -> tuple[SandboxServer, Shop]:
    population = Population(SIZE, seed=SEED, now=NOW)
    server = SandboxServer(population, platforms=("woocommerce", "prestashop"),
                           faults=faults).start()
    config = write_config(directory, server.url, extra_shop=PRESTA)
    return server, Shop(population, server, config,
                        {"JOURNEYBRIDGE_SAND_KEY": server.presta_credentials.key})


def _args(shop: Shop) -> list[str]:
    return ["sync", "--now", CLASSIFY_AT, "--config", str(shop.config)]


def _writes(shop: Shop) -> int:
    """Write requests so far: PUTs of customer rows and groups created."""
    api = shop.server.presta
    assert api is not None
    puts = sum(n for p, n in shop.server.stats.by_path().items()
               if p.startswith("/api/customers/"))  # a sync reads no single row
    return puts + len(api.data.group_ids()) - 3  # the shop's own three groups


def _store(shop: Shop) -> tuple[dict[str, set[str]], dict[str, str]]:
    with open_store(load_config(shop.config).state_url()) as store:
        records = {kind: set(rows) for kind, rows in store.load_records("sand").items() if rows}
        stages = {key: row.stage for key, row in store.stages("sand").items()}
    return records, stages


def _group_names(shop: Shop) -> Counter[str]:
    api = shop.server.presta
    assert api is not None
    return Counter(r["name"] for g in api.data.group_ids()
                   if (r := api.data.tables["groups"].record(g)) is not None)


def _kill_when(shop: Shop, ready: Callable[[list[str]], bool], delay: float) -> str:
    """Start a sync, SIGKILL it ``delay`` seconds after ``ready(stderr lines so far)`` holds
    (or let it end); returns how it ended."""
    proc = start_cli(_args(shop), shop.env)
    lines: list[str] = []
    assert proc.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")),
                              daemon=True)  # type: ignore[union-attr]
    reader.start()
    deadline = time.monotonic() + 60
    while proc.poll() is None and not ready(lines):
        assert time.monotonic() < deadline, lines[-5:]
        time.sleep(0.002)
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    reader.join(timeout=5)
    return "killed" if killed and proc.returncode == -signal.SIGKILL else f"ended {proc.returncode}"


def _events(lines: list[str]) -> set[str]:
    found = set()
    for line in lines:
        try:
            found.add(str(json.loads(line).get("event")))
        except ValueError:
            continue
    return found


def test_runs_killed_in_the_pull_the_rebuild_and_mid_write_converge(tmp_path: Path) -> None:
    server, clean = _shop(tmp_path / "clean")
    with server:
        done = invoke(_args(clean), clean.env)
        assert done.exit_code == 0, done.stderr
        expected_shop, expected_store = journey_groups(clean), _store(clean)
        assert any(expected_shop.values())
    rng = random.Random(7)
    server, shop = _shop(tmp_path / "killed", Faults(page_latency_ms=60))
    with server:
        ends = []
        # 1. anywhere in the pull
        start = shop.server.stats.total
        ends.append(_kill_when(shop, lambda _: shop.server.stats.total > start + 1,
                               rng.uniform(0.0, 0.3)))
        # 2. right after the pull was stored, while the people it touched are rebuilt
        ends.append(_kill_when(shop, lambda lines: "pulled" in _events(lines), 0.0))
        records, stages = _store(shop)
        if ends[-1] == "killed":
            assert records and not stages and _writes(shop) == 0
        # 3. and 4. mid-write: a moment after the run's first write request
        mid_write = 0
        for _ in range(2):
            before = _writes(shop)
            ends.append(_kill_when(shop, lambda _, b=before: _writes(shop) > b,
                                   rng.uniform(0.0, 0.3)))
            if ends[-1] == "killed" and journey_groups(shop) != expected_shop:
                mid_write += 1  # some rows written, not all
        assert mid_write >= 1, ends
        assert ends.count("killed") >= 3, ends
        assert _writes(shop) > 0  # the killed runs did write some rows
        final = invoke(_args(shop), shop.env)
        assert final.exit_code == 0, final.stdout + final.stderr
        assert journey_groups(shop) == expected_shop
        assert _store(shop) == expected_store
        assert all(n == 1 for name, n in _group_names(shop).items()), _group_names(shop)
        again = summary(invoke(_args(shop), shop.env).stdout)["shops"][0]
        assert (again["planned"], again["written"], again["changed"]) == (0, 0, 0)
