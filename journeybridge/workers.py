"""Many shops on many workers: ``journeybridge sync --jobs N``.

A *round* syncs every configured shop once. ``N`` worker processes on this machine (and any
number of machines running the same command against one PostgreSQL store) each claim, one at
a time, the shop that has waited longest since its last finished run and that no worker has
claimed since the round began (:meth:`journeybridge.state.StateStore.claim_shop`: PostgreSQL's
``SELECT ... FOR UPDATE SKIP LOCKED`` on the ``shops`` table), sync it under its per-shop lock
(the existing advisory lock, so a shop is never synced by two workers at once), record that it
finished, and claim the next. No daemon, no queue of our own: the database is the
coordinator. A worker killed mid-run leaves its shop claimed but unfinished; the lock dies
with it, and since that shop has now waited longest, the next round takes it first.

Teams that already run an orchestrator do not need this: they call
:func:`journeybridge.sync.sync_shop` (or :func:`sync_one`) once per shop, one task or asset
partition per shop, and the per-shop lock keeps overlapping runs apart.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from journeybridge.config import Config, load_config, load_secrets
from journeybridge.errors import JourneybridgeError
from journeybridge.state import RunRecord, open_store
from journeybridge.sync import ShopSync, sync_shop

__all__ = ["sync_one", "sync_round", "worker_loop"]

log = logging.getLogger("journeybridge.workers")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def worker_loop(config: Config, round_started: str, *, full: bool = False,
                now: datetime | None = None) -> list[ShopSync]:
    """One worker: claim shops of the round begun at ``round_started`` until none is left,
    syncing each; returns their outcomes (stage moves left out, for a light hand-back).
    Promises: never raises a JourneybridgeError for one shop's trouble (it is in that shop's
    outcome); raises StateStoreError when the store cannot be opened."""
    names = list(config.shops)
    outcomes: list[ShopSync] = []
    with open_store(config.state_url()) as store:
        while True:
            name = store.claim_shop(names, round_started, _iso(datetime.now(timezone.utc)))
            if name is None:
                return outcomes
            shop = config.shops[name]
            log.info("claimed", extra={"shop": name, "event": "claimed",
                                       "worker": f"{socket.gethostname()}:{os.getpid()}"})
            try:
                secrets = load_secrets(config, shop)
            except JourneybridgeError as exc:
                run = RunRecord(shop=name, started_at=_iso(datetime.now(timezone.utc)),
                                status="failed", errors=[str(exc)])
                outcome = ShopSync(shop=name, run=run, error=exc)
            else:
                outcome = sync_shop(config, shop, store, secrets, full=full, now=now)
                if outcome.status == "busy":
                    # another worker (a round that began a moment earlier on another
                    # machine) is syncing it right now: it is that worker's to finish
                    log.info("taken by another worker", extra={"shop": name,
                                                               "event": "taken"})
                    continue
            store.finish_shop(name, _iso(datetime.now(timezone.utc)))
            outcomes.append(replace(outcome, moves=[]))


def sync_round(config: Config, jobs: int, *, full: bool = False,
               now: datetime | None = None) -> Iterator[ShopSync]:
    """Sync every configured shop once with ``jobs`` worker processes (see the module
    docstring), yielding outcomes as workers hand them back. Other machines running the same
    round against the same PostgreSQL store share the work: each shop is synced by exactly
    one of them. Raises ConfigError without shops, StateStoreError when the store is
    unusable."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    started = datetime.now(timezone.utc)
    shops = config.select(None)
    with open_store(config.state_url()) as store:
        store.enroll_shops([(s.name, s.platform, s.url) for s in shops], _iso(started))
    # a shop claimed before this moment (by an earlier round) may be claimed again
    round_started = _iso(started)
    if jobs == 1:
        yield from worker_loop(config, round_started, full=full, now=now)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(shops))) as pool:
        futures: list[Future[list[ShopSync]]] = [
            pool.submit(worker_loop, config, round_started, full=full, now=now)
            for _ in range(min(jobs, len(shops)))]
        for future in as_completed(futures):
            yield from future.result()


def sync_one(config_path: str | Path | None, shop_name: str, *, full: bool = False,
             now: datetime | None = None) -> ShopSync:
    """One run of one configured shop, for an orchestrator's task or asset partition:
    configuration from ``config_path`` (None: the default places), secrets from the
    environment or the secrets file, state from the configured store. Never raises a
    JourneybridgeError for the shop's trouble (see :func:`journeybridge.sync.sync_shop`);
    raises ConfigError for a bad configuration or unknown shop."""
    config = load_config(config_path)
    (shop,) = config.select(shop_name)
    secrets = load_secrets(config, shop)
    with open_store(config.state_url()) as store:
        return sync_shop(config, shop, store, secrets, full=full, now=now)
