"""The sync engine: the job a shop or an agency runs from cron every 15 minutes, for years.

One run of one shop (:func:`sync_shop`), under the shop's lock:

1. **Pull** since the stored cursor (none, ``full=True``, or the last full pull older
   than ``sync.full_pull_days``: a full pull). WooCommerce: customers and reviews are always
   read in full. PrestaShop: customers, orders and carts are all read incrementally.
2. **Store** the pulled records in one transaction: orders upserted (a full pull replaces them
   all), orders moved to the trash deleted, customers and reviews replaced by this read
   (PrestaShop: customers and carts upserted like orders). Only rows whose JSON changed are
   written, and every write is an idempotent upsert or delete.
3. **Rebuild** every journey from the store (an incremental pull alone is not every record)
   and classify everyone at once: the shop's rhythm is measured from all journeys.
4. **Desired values** per person. WooCommerce: stage (its configured name), since (ISO date
   in the shop's time zone) and segments as meta; the adapter's ``plan_meta_writes`` compares
   them with what the *shop* holds now: customer meta from this run's full customer read, a
   guest's latest order meta from the store (an order we wrote to has a newer
   ``date_modified``, so the next pull re-reads it). PrestaShop: the stage's customer group
   (``stage_groups``, else ``group_prefix`` + label; segments are not written); the adapter's
   ``plan_group_writes`` compares it with the groups of each customer row as stored, and a
   row we wrote has a newer ``date_upd``, so the next incremental pull re-reads it. A write
   applied by a run that was killed before recording it is therefore seen as done and never
   sent twice; a write that failed is simply planned again.
5. **Write** only those differences; per-record failures are reported (status ``partial``,
   exit 1); a refused key or an unreachable shop fails the run.
6. **Record**, in one transaction: the new stages and their transitions (from, to, when, first
   reason), the advanced cursor and the run. Nothing of this happens before the write-back it
   covers has returned.

Why a run killed at any point (SIGKILL included) converges: steps 1-5 change nothing that a
rerun depends on except records (idempotent, re-pulled from the old cursor) and shop meta
(compared, not assumed). Step 6 is atomic. So the next run starts from the old cursor and old
stages, pulls a superset of what the killed run pulled, recomputes the same desired values,
sends only what is still missing, and records exactly what an uninterrupted run would have
recorded. The per-shop lock is released by the OS (SQLite ``flock``) or the database
(PostgreSQL advisory lock) when its holder dies, so no stale lock survives a kill.

``dry_run=True`` pulls and computes the same diff, but writes nothing to the shop or the
store and advances no cursor; it takes no lock.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from journeybridge.adapters.prestashop import (
    GroupWrite,
    PrestaPull,
    PrestaShopAdapter,
    assemble_prestashop,
)
from journeybridge.adapters.prestashop import WriteReport as GroupReport
from journeybridge.adapters.woocommerce import MetaWrite, WooCommerceAdapter, WooPull, WriteReport
from journeybridge.config import Config, Secrets, ShopConfig, load_secrets
from journeybridge.errors import JourneybridgeError
from journeybridge.journeys import Assembly, assemble_journeys
from journeybridge.logs import scrub
from journeybridge.model import Cart, Journey, Order, Person, Platform, Review
from journeybridge.stages import Classification, Stage, classify_all
from journeybridge.state import KINDS, Records, RunRecord, ShopBusy, StageRow, StateStore
from journeybridge.state import Transition as TransitionRow

__all__ = [
    "CURSOR_FULL",
    "CURSOR_ORDERS",
    "WRITE_CHUNK",
    "Adapter",
    "Move",
    "Progress",
    "ShopSync",
    "current_journeys",
    "decode_carts",
    "decode_records",
    "desired_groups",
    "desired_values",
    "diff_records",
    "encode_pull",
    "merge_pull",
    "open_adapter",
    "sync",
    "sync_shop",
]

log = logging.getLogger("journeybridge.sync")

CURSOR_ORDERS = "orders"
"""The cursor of incremental pulls, stored in UTC: WooCommerce orders' ``date_modified_gmt``;
PrestaShop's ``date_upd`` (the shop's own clock, read and filtered in its configured time zone,
so the stored moment turns back into exactly the shop's wall-clock text)."""
CURSOR_FULL = "last_full_pull"
"""When the last full pull started (UTC)."""
WRITE_CHUNK = 100
"""Writes sent per call to the adapter (WooCommerce: one ``customers/batch`` request at
most)."""

class _Counter(Protocol):
    requests_sent: int


class Adapter(Protocol):
    """What the engine and the commands need of a shop adapter
    (:class:`~journeybridge.adapters.woocommerce.WooCommerceAdapter` or
    :class:`~journeybridge.adapters.prestashop.PrestaShopAdapter`, chosen by the shop's
    ``platform``): pull, assemble, count requests, close."""

    @property
    def client(self) -> _Counter:
        """The HTTP client (``requests_sent`` counts requests)."""

    def pull(self, since: datetime | None = None) -> Any:
        """A full (``since`` None) or incremental pull."""

    def assemble(self, pull: Any) -> Assembly:
        """The journeys in a pull."""

    def close(self) -> None:
        """Release the connection pool."""

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...
PULL_UPSERTS: dict[Platform, tuple[str, ...]] = {
    Platform.WOOCOMMERCE: ("order",),
    Platform.PRESTASHOP: ("customer", "order", "cart"),
}
"""The record kinds an incremental pull upserts; every other kind is replaced by the pull."""


class Progress(Protocol):
    """Where the engine reports progress (a terminal's bar or status line; nothing in cron)."""

    def start(self, label: str, total: int | None = None,
              poll: Callable[[], int] | None = None) -> None:
        """A phase begins: ``total`` steps if known; ``poll`` returns a live counter (e.g.
        requests sent) for phases the engine cannot count itself."""

    def advance(self, steps: int) -> None:
        """``steps`` more steps of the current phase are done."""

    def finish(self) -> None:
        """The current phase is over."""


@dataclass(frozen=True)
class Move:
    """A person whose stage changes in this run (``from_stage`` None: first seen)."""

    person_key: str
    from_stage: str | None
    to_stage: str
    since: str
    reason: str


@dataclass
class ShopSync:
    """The outcome of one shop's run: the run record (as stored), the stage moves, the stage
    counts, the per-record write failures and, if the run failed, its error."""

    shop: str
    run: RunRecord
    dry_run: bool = False
    moves: list[Move] = field(default_factory=list)
    stage_counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    error: JourneybridgeError | None = None

    @property
    def status(self) -> str:
        """``ok``, ``partial`` (some records or writes failed), ``busy`` (another run holds
        the shop) or ``failed``."""
        if isinstance(self.error, ShopBusy):
            return "busy"
        if self.error is not None:
            return "failed"
        return "partial" if self.failures else "ok"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def open_adapter(shop: ShopConfig, secrets: Secrets) -> Adapter:
    """The adapter for ``shop``'s platform with its configured options."""
    if shop.platform == "prestashop":
        return PrestaShopAdapter(
            shop.url, secrets.key, shop=shop.name, concurrency=shop.concurrency,
            timeout=shop.timeout, verify_ssl=shop.verify_ssl,
            key_in_query=shop.query_string_auth, timezone_name=shop.timezone)
    return WooCommerceAdapter(
        shop.url, secrets.key, secrets.secret, shop=shop.name, concurrency=shop.concurrency,
        timeout=shop.timeout, verify_ssl=shop.verify_ssl,
        query_string_auth=shop.query_string_auth, timezone_name=shop.timezone,
        newsletter_key=shop.newsletter_key, newsletter_date_key=shop.newsletter_date_key,
        meta_prefix=shop.meta_prefix)


def encode_pull(pull: WooPull | PrestaPull) -> Records:
    """The pulled records as compact JSON by kind and id (the store's row format);
    PrestaShop adds its carts."""
    records = {
        "customer": {p.customer_id or p.key: p.model_dump_json(exclude_defaults=True)
                     for p in pull.customers},
        "order": {o.id: o.model_dump_json(exclude_defaults=True) for o in pull.orders},
        "review": {r.id: r.model_dump_json(exclude_defaults=True) for r in pull.reviews},
    }
    if isinstance(pull, PrestaPull):
        records["cart"] = {c.id: c.model_dump_json(exclude_defaults=True) for c in pull.carts}
    return records


def _own_write_only(old: str, new: str, meta_prefix: str) -> str:
    """``new`` with ``old``'s ``modified_at`` when the two differ only in journeybridge's own
    meta keys and ``modified_at``: our write-back saved the order, nothing happened to it."""
    before, after = json.loads(old), json.loads(new)
    stamp = before.get("modified_at")
    for record in (before, after):
        record.pop("modified_at", None)
        record["meta"] = {k: v for k, v in record.get("meta", {}).items()
                          if not k.startswith(meta_prefix)}
    if before != after or stamp is None:
        return new
    order = Order.model_validate_json(new)
    moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return order.model_copy(update={"modified_at": moment}
                            ).model_dump_json(exclude_defaults=True)


def merge_pull(stored: Records, pulled: Records, *, incremental: bool,
               trashed_order_ids: Sequence[str] = (), meta_prefix: str = "",
               upserts: Sequence[str] = ("order",)) -> Records:
    """The records after a pull: the kinds in ``upserts`` (default: orders) upserted and the
    trashed orders dropped (incremental), or replaced (full); every other kind (customers and
    reviews by default) replaced by the pull. Pure.

    An order that changed only by our own write-back (``meta_prefix`` keys; WooCommerce bumps
    ``date_modified`` on every save) keeps its stored ``modified_at``: the classifier reads
    that time as when the order last changed status, and a write-back must not feed back into
    the stages it wrote."""
    known = stored.get("order", {})
    orders = dict(known) if incremental else {}
    for order_id, data in pulled.get("order", {}).items():
        old = known.get(order_id)
        if meta_prefix and old is not None and old != data:
            data = _own_write_only(old, data, meta_prefix)
        orders[order_id] = data
    for order_id in trashed_order_ids:
        orders.pop(order_id, None)
    merged: Records = {}
    for kind in dict.fromkeys([*KINDS, *stored, *pulled]):
        if kind == "order":
            merged[kind] = orders
        elif incremental and kind in upserts:
            merged[kind] = {**stored.get(kind, {}), **pulled.get(kind, {})}
        elif kind in pulled or kind in KINDS:
            merged[kind] = dict(pulled.get(kind, {}))
    return merged


def diff_records(old: Records, new: Records) -> tuple[Records, dict[str, list[str]]]:
    """What turns ``old`` into ``new``: the rows to upsert (new or changed) and the ids to
    delete, by kind."""
    upserts: Records = {}
    deletes: dict[str, list[str]] = {}
    for kind in dict.fromkeys([*KINDS, *old, *new]):
        before, after = old.get(kind, {}), new.get(kind, {})
        changed = {i: data for i, data in after.items() if before.get(i) != data}
        gone = [i for i in before if i not in after]
        if changed:
            upserts[kind] = changed
        if gone:
            deletes[kind] = gone
    return upserts, deletes


def decode_records(records: Records) -> tuple[list[Person], list[Order], list[Review]]:
    """The journey-model records in a store row set."""
    return ([Person.model_validate_json(d) for d in records.get("customer", {}).values()],
            [Order.model_validate_json(d) for d in records.get("order", {}).values()],
            [Review.model_validate_json(d) for d in records.get("review", {}).values()])


def decode_carts(records: Records) -> list[Cart]:
    """The carts in a store row set (PrestaShop)."""
    return [Cart.model_validate_json(d) for d in records.get("cart", {}).values()]


def desired_groups(config: Config, shop: ShopConfig, journeys: Sequence[Journey],
                   results: Sequence[Classification]) -> dict[str, str]:
    """The PrestaShop customer group each person should be in: the stage's group name
    (``stage_groups``, else ``group_prefix`` + the stage's label). Guests only when
    ``write_guest_orders`` (their guest checkout rows)."""
    desired: dict[str, str] = {}
    for journey, result in zip(journeys, results):
        if journey.person.is_guest and not shop.write_guest_orders:
            continue
        desired[journey.key] = shop.group_name(result.stage, config.stages.label(result.stage))
    return desired


def journey_group_names(config: Config, shop: ShopConfig) -> list[str]:
    """Every customer group journeybridge manages in a PrestaShop shop (one per stage)."""
    return sorted({shop.group_name(stage, config.stages.label(stage)) for stage in Stage})


def desired_values(config: Config, shop: ShopConfig, journeys: Sequence[Journey],
                   results: Sequence[Classification]) -> dict[str, dict[str, str]]:
    """The meta each person should carry in the shop: ``<prefix>stage`` (the configured
    name), ``<prefix>stage_since`` (ISO date in the shop's time zone) and
    ``<prefix>segments`` (comma-separated). Guests only when ``write_guest_orders``."""
    zone = ZoneInfo(shop.timezone)
    prefix = shop.meta_prefix
    desired: dict[str, dict[str, str]] = {}
    for journey, result in zip(journeys, results):
        if journey.person.is_guest and not shop.write_guest_orders:
            continue
        desired[journey.key] = {
            f"{prefix}stage": config.stages.label(result.stage),
            f"{prefix}stage_since": result.since.astimezone(zone).date().isoformat(),
            f"{prefix}segments": ",".join(result.segments),
        }
    return desired


def _stage_row(result: Classification, shop: ShopConfig) -> StageRow:
    since = result.since.astimezone(ZoneInfo(shop.timezone)).date().isoformat()
    return StageRow(result.stage.value, since, tuple(result.segments))


def _classify(config: Config, shop: ShopConfig, records: Records, now: datetime
              ) -> tuple[list[Journey], list[Classification]]:
    customers, orders, reviews = decode_records(records)
    if shop.platform == "prestashop":
        assembly = assemble_prestashop(shop.name, customers, orders, decode_carts(records))
    else:
        assembly = assemble_journeys(shop.name, Platform.WOOCOMMERCE, customers, orders, (),
                                     reviews)
    results = classify_all(assembly.journeys, now=now, settings=config.stages.settings,
                           segments=config.segments)
    return assembly.journeys, results


def _pull_since(store: StateStore, shop: ShopConfig, config: Config, full: bool,
                started: datetime) -> datetime | None:
    if full:
        return None
    cursors = store.cursors(shop.name)
    if CURSOR_ORDERS not in cursors:
        return None
    last_full = cursors.get(CURSOR_FULL)
    every = config.sync.full_pull_days
    if every > 0 and (last_full is None or
                      started - datetime.fromisoformat(last_full) > timedelta(days=every)):
        log.info("full pull: the last one is older than %s days", every,
                 extra={"shop": shop.name})
        return None
    return datetime.fromisoformat(cursors[CURSOR_ORDERS])


def _write(adapter: Adapter, writes: Sequence[MetaWrite | GroupWrite],
           progress: Progress | None, journey_groups: Sequence[str] = ()) -> tuple[int, list[str]]:
    """Send ``writes`` in chunks; returns how many records were written and the failures."""
    written = 0
    failed: list[str] = []
    if progress is not None and writes:
        progress.start("writing", total=len(writes))
    try:
        for begin in range(0, len(writes), WRITE_CHUNK):
            chunk = writes[begin:begin + WRITE_CHUNK]
            if isinstance(adapter, PrestaShopAdapter):
                groups: GroupReport = adapter.write_groups(
                    [w for w in chunk if isinstance(w, GroupWrite)],
                    journey_groups=journey_groups)
                written += groups.written
                failed.extend(groups.failed)
            else:
                meta: WriteReport = _woo(adapter).write_meta(
                    [w for w in chunk if isinstance(w, MetaWrite)])
                written += meta.customers_written + meta.guest_orders_written
                failed.extend(meta.failed)
            if progress is not None:
                progress.advance(len(chunk))
    finally:
        if progress is not None and writes:
            progress.finish()
    return written, failed


def _plan(config: Config, shop: ShopConfig, adapter: Adapter, records: Records,
          journeys: Sequence[Journey], results: Sequence[Classification]
          ) -> tuple[Sequence[MetaWrite | GroupWrite], int]:
    """The writes that make the shop hold each person's desired values (see step 4)."""
    if isinstance(adapter, PrestaShopAdapter):
        customers, _orders, _reviews = decode_records({"customer": records.get("customer", {})})
        return adapter.plan_group_writes(journeys, desired_groups(config, shop, journeys,
                                                                  results),
                                         customers=customers,
                                         journey_groups=journey_group_names(config, shop))
    return _woo(adapter).plan_meta_writes(journeys,
                                          desired_values(config, shop, journeys, results))


def _woo(adapter: Adapter) -> WooCommerceAdapter:
    if not isinstance(adapter, WooCommerceAdapter):
        raise TypeError(f"no write-back for {type(adapter).__name__}")
    return adapter


def _moves(results: Sequence[Classification], known: Mapping[str, StageRow],
           shop: ShopConfig) -> tuple[dict[str, StageRow], list[Move]]:
    changed: dict[str, StageRow] = {}
    moves: list[Move] = []
    for result in results:
        row = _stage_row(result, shop)
        before = known.get(result.person_key)
        if before == row:
            continue
        changed[result.person_key] = row
        if before is None or before.stage != row.stage:
            reason = result.reasons[0].text if result.reasons else ""
            moves.append(Move(result.person_key, before.stage if before else None, row.stage,
                              row.since, reason))
    return changed, moves


def sync_shop(config: Config, shop: ShopConfig, store: StateStore, secrets: Secrets, *,
              dry_run: bool = False, full: bool = False, now: datetime | None = None,
              progress: Progress | None = None,
              adapter_factory: Callable[[ShopConfig, Secrets], Adapter] = open_adapter,
              ) -> ShopSync:
    """One run of one shop (see the module docstring for the steps and why a killed run
    converges). Classifies as of ``now`` (default: the current time).

    Promises: never raises a JourneybridgeError; a failure (shop unreachable, key refused,
    lock held, state store broken) is returned in ``ShopSync.error``, and, except for a held
    lock or a dry run, recorded as a failed run that changed nothing else.
    """
    started = _now()
    moment = now or started
    run = RunRecord(shop=shop.name, started_at=_iso(started))
    result = ShopSync(shop=shop.name, run=run, dry_run=dry_run)
    clock = time.monotonic()
    try:
        if dry_run:
            _run(config, shop, store, secrets, result, full=full, now=moment, started=started,
                 progress=progress, adapter_factory=adapter_factory)
        else:
            with store.lock(shop.name, timeout=config.sync.lock_timeout):
                _run(config, shop, store, secrets, result, full=full, now=moment,
                     started=started, progress=progress, adapter_factory=adapter_factory)
    except JourneybridgeError as exc:
        result.error = exc
        run.status = result.status
        run.errors.append(scrub(str(exc)))
        run.finished_at = _iso(_now())
        log.error("%s", exc, extra={"shop": shop.name, "event": "run_failed"})
        if not dry_run and not isinstance(exc, ShopBusy):
            try:
                store.commit_run(run)
            except JourneybridgeError as store_exc:
                log.error("could not record the failed run: %s", store_exc,
                          extra={"shop": shop.name})
    log.info("run finished", extra={"shop": shop.name, "event": "run_finished",
                                    "status": result.status,
                                    "seconds": round(time.monotonic() - clock, 3)})
    return result


def _run(config: Config, shop: ShopConfig, store: StateStore, secrets: Secrets,
         result: ShopSync, *, full: bool, now: datetime, started: datetime,
         progress: Progress | None,
         adapter_factory: Callable[[ShopConfig, Secrets], Adapter]) -> None:
    run = result.run
    since = _pull_since(store, shop, config, full, started)
    run.mode = "incremental" if since is not None else "full"
    with adapter_factory(shop, secrets) as adapter:
        # 1. pull
        if progress is not None:
            progress.start(f"pulling {shop.name} ({run.mode})",
                           poll=lambda: adapter.client.requests_sent)
        try:
            pull: WooPull | PrestaPull = adapter.pull(since)
        finally:
            if progress is not None:
                progress.finish()
        report = pull.report
        run.customers, run.orders, run.reviews = report.customers, report.orders, report.reviews
        run.trashed, run.skipped = report.trashed_orders, report.skipped_count
        result.failures.extend(report.skipped)
        log.info("pulled", extra={"shop": shop.name, "event": "pulled", "mode": run.mode,
                                  "customers": run.customers, "orders": run.orders,
                                  "reviews": run.reviews, "trashed": run.trashed,
                                  "skipped": run.skipped})
        # 2. store the records (idempotent)
        stored = store.load_records(shop.name)
        platform = Platform(shop.platform)
        records = merge_pull(stored, encode_pull(pull), incremental=pull.incremental,
                             trashed_order_ids=pull.trashed_order_ids,
                             meta_prefix=shop.meta_prefix if platform is Platform.WOOCOMMERCE
                             else "", upserts=PULL_UPSERTS[platform])
        if not result.dry_run:
            upserts, deletes = diff_records(stored, records)
            store.save_records(shop.name, upserts, deletes)
        del stored
        # 3. rebuild every journey, classify everyone
        journeys, results = _classify(config, shop, records, now)
        run.people = len(journeys)
        result.stage_counts = dict(Counter(r.stage.value for r in results))
        known = store.stages(shop.name)
        changed, result.moves = _moves(results, known, shop)
        present = {r.person_key for r in results}
        removed = [key for key in known if key not in present]
        run.changed = len(changed) + len(removed)
        # 4. plan against what the shop holds
        writes, run.unwritable = _plan(config, shop, adapter, records, journeys, results)
        run.planned = len(writes)
        log.info("planned", extra={"shop": shop.name, "event": "planned", "people": run.people,
                                   "changed": run.changed, "writes": run.planned,
                                   "unwritable": run.unwritable})
        if result.dry_run:
            run.requests = adapter.client.requests_sent
            run.finished_at = _iso(_now())
            return
        # 5. write the differences
        groups = journey_group_names(config, shop) if platform is Platform.PRESTASHOP else []
        run.written, write_failures = _write(adapter, writes, progress, groups)
        run.failed = len(write_failures)
        result.failures.extend(write_failures)
        for failure in write_failures:
            log.warning("write failed: %s", failure, extra={"shop": shop.name})
        run.requests = adapter.client.requests_sent
    # 6. record stages, transitions, cursor and run in one transaction
    cursors = {}
    if pull.cursor is not None:
        cursors[CURSOR_ORDERS] = _iso(pull.cursor)
    if not pull.incremental:
        cursors[CURSOR_FULL] = _iso(started)
    at = _iso(started)
    transitions = [TransitionRow(m.person_key, m.from_stage, m.to_stage, m.since, at, m.reason)
                   for m in result.moves]
    run.errors.extend(scrub(failure) for failure in result.failures[:50])
    run.status = result.status
    run.finished_at = _iso(_now())
    store.commit_run(run, stages=changed, removed=removed, transitions=transitions,
                     cursors=cursors)


def sync(config: Config, store: StateStore, shop_name: str | None = None, *,
         dry_run: bool = False, full: bool = False, now: datetime | None = None,
         progress: Progress | None = None,
         secrets_for: Callable[[Config, ShopConfig], Secrets] = load_secrets,
         ) -> Iterator[ShopSync]:
    """Run :func:`sync_shop` for the shop called ``shop_name``, or for every configured shop
    in turn, yielding each outcome as it is done. A shop without usable secrets yields a
    failed outcome (ConfigError) and the others still run."""
    for shop in config.select(shop_name):
        try:
            secrets = secrets_for(config, shop)
        except JourneybridgeError as exc:
            run = RunRecord(shop=shop.name, started_at=_iso(_now()), status="failed",
                            errors=[str(exc)])
            yield ShopSync(shop=shop.name, run=run, dry_run=dry_run, error=exc)
            continue
        yield sync_shop(config, shop, store, secrets, dry_run=dry_run, full=full, now=now,
                        progress=progress)


def current_journeys(config: Config, shop: ShopConfig, store: StateStore,
                     now: datetime | None = None,
                     secrets_for: Callable[[Config, ShopConfig], Secrets] = load_secrets,
                     ) -> tuple[list[Journey], list[Classification], str]:
    """Every journey of ``shop`` with its classification as of ``now``: rebuilt from the
    store, or (no state yet) from a full pull that is not stored. The third value says which:
    ``"state"`` or ``"pull"``."""
    records = store.load_records(shop.name)
    source = "state"
    if not any(records.get(kind) for kind in KINDS):
        source = "pull"
        with open_adapter(shop, secrets_for(config, shop)) as adapter:
            records = encode_pull(adapter.pull())
    journeys, results = _classify(config, shop, records, now or _now())
    return journeys, results, source
