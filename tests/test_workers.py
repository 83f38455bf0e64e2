"""Many shops on many workers (``sync --jobs N``): every configured shop synced exactly once a
round, by worker processes claiming the shop waiting longest; two commands on two "machines"
(processes) sharing one PostgreSQL store split the shops between them; a killed worker's shop
is taken first in the next round; the library call an orchestrator makes per shop."""

from __future__ import annotations

import itertools
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from journeybridge.config import load_config
from journeybridge.sandbox import Faults, Population, SandboxServer
from journeybridge.state import open_store
from journeybridge.workers import sync_one, worker_loop
from tests.sync_support import (
    NOW,
    postgres_schema,
    run_cli,
    shop_env,
    shop_meta,
    start_cli,
    summary,
)


@contextmanager
def many_shops(directory: Path, count: int, state: str, latency_ms: int = 0
               ) -> Iterator[tuple[Path, dict[str, str], list[Population]]]:
    """``count`` small sandbox shops served at once, one configuration naming them all."""
    with ExitStack() as stack:
        tables, env, populations = [], {}, []
        for i in range(count):
            population = Population(25, seed=100 + i, now=NOW)
            server = stack.enter_context(SandboxServer(
                population, faults=Faults(page_latency_ms=latency_ms)))
            name = f"s{i:02d}"
            tables.append(f'[shops.{name}]\nurl = "{server.url}"\ntimeout = 10\n')
            env.update(shop_env(server, name))
            populations.append(population)
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "config.toml"
        config.write_text(f'[sync]\nstate = "{state}"\n\n' + "\n".join(tables),
                          encoding="utf-8")
        yield config, env, populations


def _runs_per_shop(config: Path) -> Counter[str]:
    with open_store(load_config(config).state_url()) as store:
        return Counter(r.shop for r in store.runs(limit=10_000) if r.status == "ok")


def test_jobs_sync_every_shop_once_a_round(tmp_path: Path) -> None:
    with many_shops(tmp_path, 5, "state.db") as (config, env, populations):
        done = run_cli(["sync", "--jobs", "3", "--config", str(config)], env, timeout=180)
        assert done.returncode == 0, done.stderr
        rows = summary(done.stdout)["shops"]
        assert sorted(r["shop"] for r in rows) == [f"s{i:02d}" for i in range(5)]
        assert _runs_per_shop(config) == Counter({f"s{i:02d}": 1 for i in range(5)})
        assert all(shop_meta(p) for p in populations)
        again = run_cli(["sync", "--jobs", "2", "--config", str(config)], env, timeout=180)
        assert again.returncode == 0, again.stderr
        assert all(r["written"] == 0 for r in summary(again.stdout)["shops"])
        assert _runs_per_shop(config) == Counter({f"s{i:02d}": 2 for i in range(5)})


def test_jobs_refuses_one_shop_options(tmp_path: Path) -> None:
    with many_shops(tmp_path, 1, "state.db") as (config, env, _):
        refused = run_cli(["sync", "--jobs", "2", "--shop", "s00", "--config", str(config)],
                          env)
        assert refused.returncode == 2 and "--jobs" in refused.stderr


def test_two_machines_share_twenty_shops_on_one_postgresql(tmp_path: Path) -> None:
    with postgres_schema() as url, many_shops(tmp_path, 20, url, latency_ms=20) as (
            config, env, populations):
        args = ["sync", "--jobs", "2", "--config", str(config)]
        first, second = start_cli(args, env), start_cli(args, env)
        outs = [p.communicate(timeout=300) for p in (first, second)]
        assert first.returncode == 0 and second.returncode == 0, outs
        mine = [sorted(r["shop"] for r in summary(out)["shops"]) for out, _ in outs]
        # every shop synced, both commands did some of the work; a command that starts its
        # round a moment later may sync again a shop the other already finished (a harmless
        # incremental run), but never one the other is syncing: no two runs of a shop overlap
        assert set(mine[0] + mine[1]) == {f"s{i:02d}" for i in range(20)}
        assert mine[0] and mine[1]
        with open_store(load_config(config).state_url()) as store:
            runs = sorted((r.shop, r.started_at, r.finished_at or "")
                          for r in store.runs(limit=10_000))
        assert all(r[2] for r in runs)
        for (shop_a, _, end_a), (shop_b, start_b, _) in itertools.pairwise(runs):
            assert shop_a != shop_b or end_a <= start_b, (shop_a, end_a, start_b)
        assert all(shop_meta(p) for p in populations)


def test_a_killed_workers_shop_is_taken_first_in_the_next_round(tmp_path: Path) -> None:
    with many_shops(tmp_path, 4, "state.db", latency_ms=250) as (config, env, _):
        args = ["sync", "--jobs", "1", "--config", str(config)]
        assert run_cli(args, env, timeout=180).returncode == 0  # a first, whole round
        state = load_config(config).state_url()
        with open_store(state) as store:
            before = store.shop_rounds()
        proc = start_cli(args, env)
        deadline = time.monotonic() + 60
        claimed: str | None = None
        while claimed is None:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
            with open_store(state) as store:
                now_rounds = store.shop_rounds()
            moved = [s for s, (a, _) in now_rounds.items() if a != before[s][0]]
            claimed = moved[0] if moved else None
        proc.send_signal(signal.SIGKILL)  # mid-run of the shop it claimed
        proc.communicate(timeout=30)
        with open_store(state) as store:
            assert store.shop_rounds()[claimed][1] == before[claimed][1]  # never finished
            later = datetime.now(timezone.utc).isoformat()
            assert store.claim_shop(sorted(before), later, later) == claimed
        done = run_cli(args, env, timeout=180)
        assert done.returncode == 0, done.stderr
        assert _runs_per_shop(config)[claimed] == 2  # its killed run left no record


@pytest.mark.parametrize("name", ["s00"])
def test_an_orchestrator_calls_the_library_once_per_shop(tmp_path: Path, name: str,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    with many_shops(tmp_path, 2, "state.db") as (config, env, populations):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        outcome = sync_one(config, name)  # what a Dagster asset partition or Airflow task runs
        assert outcome.status == "ok" and outcome.run.mode == "full"
        assert shop_meta(populations[0]) and not shop_meta(populations[1])
        assert sync_one(config, name).run.written == 0


def test_a_shop_another_worker_is_syncing_is_left_to_it(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with many_shops(tmp_path, 3, "state.db") as (config_path, env, populations):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        config = load_config(config_path)
        with open_store(config.state_url()) as store:
            store.enroll_shops([(s.name, s.platform, s.url) for s in config.select(None)],
                               "2000-01-01T00:00:00+00:00")
            with store.lock("s01"):  # a worker of another machine is syncing s01
                outcomes = worker_loop(config, datetime.now(timezone.utc).isoformat())
            assert sorted(o.shop for o in outcomes) == ["s00", "s02"]
            assert all(o.status == "ok" for o in outcomes)
            assert store.shop_rounds()["s01"][1] is None  # not finished by this worker
        assert shop_meta(populations[0]) and not shop_meta(populations[1])
