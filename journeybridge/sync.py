"""The sync engine: the job a shop or an agency runs from cron every 15 minutes, for years,
at any size. It talks to one adapter protocol (:mod:`journeybridge.adapters.protocol`) and
never branches on the platform.

One run of one shop (:func:`sync_shop`), under the shop's lock:

1. **Bind** the shop name to its platform and URL on the first run; a later run whose
   configuration points the name at another shop stops with a configuration error and
   writes nothing.
2. **Pull** since the stored cursor (none, ``full=True``, or the last full pull older than
   ``sync.full_pull_days``: a full pull), streamed: each page is upserted into the store as it
   arrives (only rows whose JSON changed, marked dirty), so memory does not grow with the
   shop. Rows of a kind the pull read in full that it did not see, and records the shop says
   are deleted, are marked deleted.
3. **Rebuild** only the people the changed rows touch: every record naming a changed row's
   customer id or e-mail is resolved again by the identity rule
   (:class:`journeybridge.identity.Resolver`), their people (old and new owners) are marked
   stale, and each stale person's records are assembled into a journey, summarised
   (:func:`journeybridge.stages.summary.summarize`) and stored with the adapter's write
   target and held values. People whose summary expired (a record dated after it took
   effect) are rebuilt too.
4. **Classify** everyone at once from the stored summaries, columnar: the shop's rhythm is
   measured from all people. A person keeps the since-date stored when they entered their
   stage; it changes only when the stage does, so a shifting shop-wide gate rewrites nobody.
5. **Plan and write**: each person's platform-neutral desired state (stage, label, since,
   segments) against what the shop holds (stored), through the adapter's ``plan`` and
   ``apply``; only differences are sent; per-record failures make the run partial.
6. **Record**, in one transaction: the stage rows and their transitions, the advanced cursor
   and the run. Nothing of this happens before the write-back it covers has returned.

Why a run killed at any point (SIGKILL included) converges: every step before 6 leaves the
store consistent and idempotent (upserts of records, dirty and stale flags cleared only with
the rebuild they stand for, held values updated after each write chunk), so the next run pulls
a superset of the records from the old cursor, finishes the rebuild, plans against what the
shop holds and sends only what is still missing. The per-shop lock is released by the OS
(SQLite ``flock``) or the database (PostgreSQL advisory lock) when its holder dies.

``dry_run=True`` runs the same steps on a scratch copy of the shop's state and plans, but
writes nothing to the shop or the real store and advances no cursor; it takes no lock.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from journeybridge.actions import STAGE_KINDS, action_values, next_action, stage_day
from journeybridge.adapters import open_adapter
from journeybridge.adapters.protocol import (
    DesiredState,
    PlanItem,
    PullResult,
    ShopAdapter,
    Write,
)
from journeybridge.config import Config, Secrets, ShopConfig, load_secrets
from journeybridge.errors import JourneybridgeError, UnexpectedError
from journeybridge.identity import Resolver, assemble
from journeybridge.logs import scrub
from journeybridge.model import Cart, Journey, Order, Person, Platform, RefundRecord, Review
from journeybridge.stages import Classification, classify_all
from journeybridge.stages.summary import (
    PersonSummary,
    ShopClassification,
    SummaryError,
    classify_summaries,
    summarize,
    summary_key,
)
from journeybridge.state import RunRecord, ShopBusy, StageRow, StateStore
from journeybridge.state.records import decode, encode
from journeybridge.state.store import IndexRow, PersonRow

__all__ = [
    "CURSOR_FULL",
    "CURSOR_ORDERS",
    "WRITE_CHUNK",
    "Move",
    "Progress",
    "ShopSync",
    "current_journeys",
    "open_shop_adapter",
    "shop_journeys",
    "sync",
    "sync_shop",
]

log = logging.getLogger("journeybridge.sync")

CURSOR_ORDERS = "orders"
"""The WooCommerce orders cursor (``date_modified_gmt``, UTC); adapters keep their own keys."""
CURSOR_FULL = "last_full_pull"
"""When the last full pull started (UTC); the engine's own cursor."""
WRITE_CHUNK = 100
"""Writes sent per call to the adapter (WooCommerce: one batch request at most)."""
DIRTY_CHUNK = 5000
"""Changed records resolved per transaction."""
PEOPLE_CHUNK = 1000
"""People rebuilt per transaction."""
_CLOSURE_ROUNDS = 4


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
    counts, the per-record failures and, if the run failed, its error."""

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


AdapterFactory = Callable[[Config, ShopConfig, Secrets], ShopAdapter]


def open_shop_adapter(config: Config, shop: ShopConfig, secrets: Secrets,
                      **overrides: Any) -> ShopAdapter:
    """The adapter of ``shop`` with its configured options (``overrides`` replace some, e.g.
    ``retry`` for a check that gives up at once on a refused connection)."""
    credentials = {"key": secrets.key, "secret": secrets.secret}
    return open_adapter(shop.platform, shop.url, credentials,
                        **{**config.adapter_options(shop), **overrides})


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _stamp(moment: datetime) -> str:
    """Fixed-width UTC text, so that stored stamps compare as text."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- step 3: rebuild the people a pull touched ----------------------------------------------------

@dataclass
class _Rebuild:
    people: int = 0
    gone: int = 0
    failures: list[str] = field(default_factory=list)


def _resolve_dirty(store: StateStore, shop: str, progress: Progress | None = None) -> int:
    """Resolve the owners of every dirty record and of every record whose owner may depend on
    it, and mark the people concerned stale. Returns how many dirty rows were handled."""
    handled = 0
    while True:
        dirty = store.dirty_rows(shop, DIRTY_CHUNK)
        if not dirty:
            return handled
        customer_ids = {r.handles.customer_id for r in dirty if r.handles.customer_id}
        emails = {r.handles.email for r in dirty if r.handles.email}
        found: dict[tuple[str, str], IndexRow] = {}
        for _ in range(_CLOSURE_ROUNDS):
            rows = store.rows_by_handles(shop, customer_ids, emails)
            found.update(((r.kind, r.id), r) for r in rows)
            more_ids = {r.handles.customer_id for r in rows
                        if r.handles.person_row and r.handles.customer_id}
            more_emails = {r.handles.email for r in rows
                           if r.handles.person_row and r.handles.email}
            if more_ids <= customer_ids and more_emails <= emails:
                break
            customer_ids |= more_ids
            emails |= more_emails
        live = [r for r in dirty if not r.deleted]
        found.update(((r.kind, r.id), r) for r in live)
        resolver = Resolver(r.handles for r in found.values())
        changed = {(r.kind, r.id) for r in live}
        order_owner: dict[str, str | None] = {}
        owners: list[tuple[str, str, str | None]] = []
        stale: set[str] = {r.person_key for r in dirty if r.person_key}
        refunds = [r for r in found.values() if r.kind == "refund"]
        for row in found.values():
            if row.kind == "refund":
                continue
            key = resolver.owner(row.handles, kind=row.kind)
            if row.kind == "order":
                order_owner[row.id] = key
            if key != row.person_key:
                owners.append((row.kind, row.id, key))
                stale.update(k for k in (key, row.person_key) if k)
            elif (row.kind, row.id) in changed and key:
                stale.add(key)
        refunds.extend(r for r in store.refunds_of(shop, sorted(order_owner))
                       if (r.kind, r.id) not in found)
        if refunds:
            order_owner.update(store.owners_of_orders(
                shop, [r.order_ref for r in refunds if r.order_ref and
                       r.order_ref not in order_owner]))
            for row in refunds:
                key = order_owner.get(row.order_ref or "")
                if key != row.person_key:
                    owners.append((row.kind, row.id, key))
                stale.update(k for k in (key, row.person_key) if k)
        store.assign_people(shop, owners, [(r.kind, r.id) for r in dirty], stale)
        handled += len(dirty)
        if progress is not None:
            progress.advance(len(dirty))


def _rebuild_stale(store: StateStore, config: Config, shop: ShopConfig, adapter: ShopAdapter,
                   now: datetime, progress: Progress | None) -> _Rebuild:
    """Assemble, summarise and store every stale person (in chunks, each its own
    transaction)."""
    report = _Rebuild()
    platform = Platform(shop.platform)
    settings = config.stages.settings
    while True:
        keys = store.stale_people(shop.name, PEOPLE_CHUNK)
        if not keys:
            return report
        stored = store.records_of(shop.name, keys)
        rows: list[PersonRow] = []
        gone: list[str] = []
        quarantined: list[tuple[str, str, str]] = []
        for key in keys:
            records: dict[str, list[Any]] = {}
            for kind, record_id, data in stored.get(key, ()):
                try:
                    records.setdefault(kind, []).append(decode(kind, data))
                except ValueError as exc:
                    quarantined.append((kind, record_id, str(exc)))
                    report.failures.append(f"stored {kind} {record_id}: {exc}; set aside")
                    log.warning("%s", report.failures[-1], extra={"shop": shop.name})
            journey, person_rows = _assembled(shop.name, platform, key, records)
            if journey is None:
                gone.append(key)
                continue
            target, held = adapter.write_target(journey, person_rows)
            summary = summarize(journey, now, settings)
            rows.append(PersonRow(key, summary.to_json(),
                                  _stamp(summary.valid_until) if summary.valid_until else None,
                                  json.dumps(target, sort_keys=True),
                                  json.dumps(held, sort_keys=True)))
        if quarantined:
            store.quarantine(shop.name, quarantined, _iso(_now()))
        store.put_people(shop.name, rows, gone)
        report.people += len(rows)
        report.gone += len(gone)
        if progress is not None:
            progress.advance(len(keys))


def _assembled(shop: str, platform: Platform, key: str, records: Mapping[str, list[Any]]
               ) -> tuple[Journey | None, list[Person]]:
    """The journey of ``key`` from its records (None when they make no person), and the
    customer rows behind it."""
    assembly = assemble(
        shop, platform,
        [r for r in records.get("customer", ()) if isinstance(r, Person)],
        [r for r in records.get("order", ()) if isinstance(r, Order)],
        [r for r in records.get("cart", ()) if isinstance(r, Cart)],
        [r for r in records.get("review", ()) if isinstance(r, Review)],
        [r for r in records.get("refund", ()) if isinstance(r, RefundRecord)])
    for journey in assembly.journeys:
        if journey.key == key:
            return journey, assembly.rows.get(key, [])
    return None, []


# -- steps 4 and 5: classify everyone, then decide, plan and write a chunk at a time ----------

MOVES_KEPT = 10_000
"""Stage moves a run keeps in memory for its caller (:attr:`ShopSync.moves`); every move is
recorded in the store's transition log whatever their number."""


class _Unusable(Exception):
    """Stored summaries that cannot be used at this run's moment (taken for other settings or
    by another version of the rules): their people are rebuilt, then the run classifies
    again."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(f"{len(keys)} summaries to rebuild")
        self.keys = keys


def _classify(store: StateStore, shop: str, config: Config, now: datetime,
              progress: Progress | None = None) -> tuple[list[str], ShopClassification]:
    """Everyone's classification as of ``now``, from the stored summaries, columnar, a chunk
    of people at a time in memory as JSON. Raises :class:`_Unusable` with the people whose
    summary cannot be used now."""
    settings = config.stages.settings
    key = summary_key(settings)
    keys: list[str] = []
    unusable: list[str] = []

    def chunks() -> Iterator[list[PersonSummary]]:
        for chunk in store.people(shop):
            parsed: list[PersonSummary] = []
            for row in chunk:
                try:
                    summary = PersonSummary.from_json(row.summary)
                except SummaryError:
                    unusable.append(row.key)
                    continue
                if summary.usable_at(now, key):
                    parsed.append(summary)
                else:
                    unusable.append(row.key)
            if progress is not None:
                progress.advance(len(chunk))
            if not unusable:  # after the first unusable one, only collect the others
                keys.extend(row.key for row in chunk)
                yield parsed
        if progress is not None:  # one columnar computation follows: no steps to count
            progress.start("classifying", total=None)

    if progress is not None:
        progress.start("reading people", total=store.count_people(shop))
    try:
        result = classify_summaries(keys, chunks(), now, settings, config.segments)
        if progress is not None:
            progress.advance(len(keys))
    finally:
        if progress is not None:
            progress.finish()
    if unusable:
        raise _Unusable(unusable)
    return keys, result


def _since_text(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).date().isoformat()


def _day_or_empty(moment: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else _since_text(moment, zone)


def _first_reason(result: Classification) -> str:
    return result.reasons[0].text if result.reasons else ""


@dataclass
class _Outcome:
    """What steps 4 and 5 did."""

    people: int = 0
    changed: int = 0
    planned: int = 0
    unwritable: int = 0
    written: int = 0
    failures: list[str] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    moved: int = 0
    counts: Counter[str] = field(default_factory=Counter)


def _decide_and_write(config: Config, shop: ShopConfig, store: StateStore,
                      adapter: ShopAdapter, now: datetime, *, write: bool,
                      progress: Progress | None) -> _Outcome:
    """Classify everyone from their summaries; then, a chunk of people at a time (memory
    stays one chunk deep): keep each person's stored since unless their stage changed,
    gather changed stage rows and moves in the store's pending tables, plan the writes
    against what the shop holds (stored) and, unless ``write`` is False, send them."""
    zone = ZoneInfo(adapter.timezone)
    keys, result = _classify(store, shop.name, config, now, progress)
    stages, since, segments = result.stages, result.since, result.segments
    expected = result.next_order_expected
    with_actions = config.actions.write_back
    out = _Outcome(people=len(keys))
    out.counts.update(stage.value for stage in stages)
    store.clear_pending(shop.name)
    if progress is not None and keys:
        progress.start("deciding and writing", total=len(keys))
    offset = 0
    try:
        for chunk in store.people(shop.name):
            rows = range(offset, offset + len(chunk))
            offset += len(chunk)
            if [keys[i] for i in rows] != [p.key for p in chunk]:
                raise JourneybridgeError("the people changed while this run classified them: "
                                         "is another process writing this shop's state?")
            known = store.stages_of(shop.name, [p.key for p in chunk])
            changed: dict[str, StageRow] = {}
            movers: list[int] = []
            items: list[PlanItem] = []
            actions = _ActionChunk(config, shop, store, [p.key for p in chunk],
                                   result.classifications(list(rows)) if with_actions else [])
            for i, person in zip(rows, chunk):
                stage, before = stages[i], known.get(person.key)
                if before is not None and before.stage == stage.value:
                    row = StageRow(stage.value, before.since, tuple(segments[i]))
                else:
                    row = StageRow(stage.value, _since_text(since[i], zone), tuple(segments[i]))
                    movers.append(i)
                if row != before:
                    changed[person.key] = row
                desired = DesiredState(
                    person_key=person.key, stage=stage.value, label=config.stages.label(stage),
                    since=date.fromisoformat(row.since), segments=row.segments,
                    is_guest=person.key.startswith("guest:"),
                    values={"next_order_expected": _day_or_empty(expected[i], zone),
                            **(actions.values(i - rows.start, row.since, zone, now)
                               if with_actions else {})})
                items.append(PlanItem(desired, json.loads(person.target or "{}"),
                                      json.loads(person.held or "{}")))
            transitions = []
            for i, classification in zip(movers, result.classifications(movers)):
                key = keys[i]
                before = known.get(key)
                move = Move(key, before.stage if before else None, stages[i].value,
                            changed[key].since, _first_reason(classification))
                transitions.append((move.person_key, move.from_stage, move.to_stage, move.since,
                                    move.reason))
                if len(out.moves) < MOVES_KEPT:
                    out.moves.append(move)
            out.moved += len(movers)
            out.changed += len(changed)
            if write:
                store.add_pending(shop.name, changed, transitions)
            writes, unwritable = adapter.plan(items)
            out.planned += len(writes)
            out.unwritable += unwritable
            sent = 0
            if write and writes:
                def tick(done: int, total: int = len(writes), people: int = len(chunk)) -> None:
                    # advance by the share of this chunk's people whose writes are done
                    nonlocal sent
                    now_at = people * done // total
                    if progress is not None and now_at > sent:
                        progress.advance(now_at - sent)
                    sent = max(sent, now_at)

                written, failed = _write(store, shop.name, adapter, writes, tick)
                out.written += written
                out.failures.extend(failed)
            if progress is not None and len(chunk) > sent:
                progress.advance(len(chunk) - sent)
    finally:
        if progress is not None and keys:
            progress.finish()
    out.changed += store.stages_without_people(shop.name)
    return out


class _ActionChunk:
    """The next actions of one chunk of people, as the values written back
    (:func:`journeybridge.actions.action_values`), from their journeys read from the store."""

    def __init__(self, config: Config, shop: ShopConfig, store: StateStore,
                 keys: Sequence[str], classifications: Sequence[Classification]) -> None:
        self.config = config
        self.keys = list(keys)
        self.classifications = list(classifications)
        self.journeys: dict[str, Journey] = {}
        if not self.classifications:
            return
        self.journeys.update((j.key, j) for j in shop_journeys(store, shop, self.keys))

    def values(self, index: int, since: str, zone: ZoneInfo, now: datetime
               ) -> dict[str, str]:
        """The written values of the ``index``-th person of the chunk, whose stage the store
        records since ``since``."""
        journey = self.journeys.get(self.keys[index])
        if journey is None:
            return action_values(None)
        classification = self.classifications[index]
        if classification.stage.value in STAGE_KINDS:
            classification = stage_day(classification, date.fromisoformat(since), zone)
        return action_values(next_action(journey, classification, now, self.config.actions))


def _write(store: StateStore, shop: str, adapter: ShopAdapter, writes: Sequence[Write],
           done: Callable[[int], None] | None = None) -> tuple[int, list[str]]:
    """Send ``writes`` in chunks, recording what the shop holds after each (``done`` is told
    how many writes were sent so far); returns how many records were written and the
    failures."""
    written = 0
    failed: list[str] = []
    for begin in range(0, len(writes), WRITE_CHUNK):
        report = adapter.apply(writes[begin:begin + WRITE_CHUNK])
        written += report.written
        failed.extend(report.failed)
        store.set_held(shop, [(key, json.dumps(target, sort_keys=True),
                               json.dumps(held, sort_keys=True))
                              for key, (target, held) in report.updates.items()])
        if done is not None:
            done(min(begin + WRITE_CHUNK, len(writes)))
    return written, failed


# -- a run --------------------------------------------------------------------------------------

def sync_shop(config: Config, shop: ShopConfig, store: StateStore, secrets: Secrets, *,
              dry_run: bool = False, full: bool = False, now: datetime | None = None,
              progress: Progress | None = None,
              adapter_factory: AdapterFactory = open_shop_adapter,
              reset: bool = False,
              ) -> ShopSync:
    """One run of one shop (see the module docstring for the steps and why a killed run
    converges). Classifies as of ``now`` (default: the current time). ``reset`` first forgets
    everything the store holds about the shop (its records, people, stages, cursors and
    binding; the run history stays), so the run starts afresh, e.g. after the name was given
    to another shop.

    Promises: never raises a JourneybridgeError; a failure (shop unreachable, key refused,
    lock held, state store broken, a shop name bound to another shop) is returned in
    ``ShopSync.error`` and, except for a held lock or a dry run, recorded as a failed run
    that changed nothing else.
    """
    started = _now()
    moment = now or started
    run = RunRecord(shop=shop.name, started_at=_iso(started))
    result = ShopSync(shop=shop.name, run=run, dry_run=dry_run)
    clock = time.monotonic()
    log.info("run started", extra={"shop": shop.name, "event": "run_started",
                                   "dry_run": dry_run})
    try:
        if dry_run:
            with _scratch_copy(store, shop.name, empty=reset) as scratch:
                _run(config, shop, scratch, secrets, result, full=full, now=moment,
                     started=started, progress=progress, adapter_factory=adapter_factory)
        else:
            with store.lock(shop.name, timeout=config.sync.lock_timeout):
                if reset:
                    store.reset_shop(shop.name)
                    log.info("forgot the stored state of the shop", extra={
                        "shop": shop.name, "event": "state_reset"})
                _run(config, shop, store, secrets, result, full=full, now=moment,
                     started=started, progress=progress, adapter_factory=adapter_factory)
    except Exception as unexpected:
        exc = unexpected if isinstance(unexpected, JourneybridgeError) else \
            UnexpectedError.of(unexpected, f"while syncing {shop.name}")
        if not isinstance(unexpected, JourneybridgeError):
            log.debug("traceback of the unexpected error", exc_info=unexpected,
                      extra={"shop": shop.name, "event": "traceback"})
        result.error = exc
        run.status = result.status
        run.errors.append(scrub(str(exc)))
        run.finished_at = _iso(_now())
        if isinstance(exc, ShopBusy):
            log.info("%s", exc, extra={"shop": shop.name, "event": "shop_busy"})
        else:
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


def _pull_cursor(store: StateStore, shop: ShopConfig, config: Config, full: bool,
                 started: datetime) -> dict[str, str] | None:
    if full:
        return None
    cursors = store.cursors(shop.name)
    adapter_cursor = {k: v for k, v in cursors.items() if k != CURSOR_FULL}
    if not adapter_cursor:
        return None
    last_full = cursors.get(CURSOR_FULL)
    every = config.sync.full_pull_days
    if every > 0 and (last_full is None or
                      started - datetime.fromisoformat(last_full) > timedelta(days=every)):
        log.info("full pull: the last one is older than %s days", every,
                 extra={"shop": shop.name})
        return None
    return adapter_cursor


def _pull(store: StateStore, shop: ShopConfig, adapter: ShopAdapter,
          cursor: dict[str, str] | None, progress: Progress | None) -> tuple[PullResult, int]:
    """Stream the pull into the store; returns how it ended and how many rows changed."""
    seen = uuid.uuid4().hex
    changed = 0
    mode = "incremental" if cursor else "full"
    kind: str | None = None
    try:
        stream = adapter.pull(cursor)
        for page in stream:
            if progress is not None and page.kind != kind:
                kind = page.kind
                progress.start(f"pulling {kind}s ({mode})", total=page.expected,
                               poll=lambda: adapter.requests_sent)
            changed += store.upsert_records(shop.name, [encode(r) for r in page.records],
                                            seen=seen, own_meta_prefix=adapter.own_meta_prefix)
            if progress is not None:
                progress.advance(len(page.records))
    finally:
        if progress is not None:
            progress.finish()
    pulled = stream.result
    for kind, ids in pulled.deleted.items():
        changed += store.mark_deleted(shop.name, kind, ids)
    if pulled.full_kinds:
        changed += store.mark_unseen_deleted(shop.name, pulled.full_kinds, seen)
    return pulled, changed


def _run(config: Config, shop: ShopConfig, store: StateStore, secrets: Secrets,
         result: ShopSync, *, full: bool, now: datetime, started: datetime,
         progress: Progress | None, adapter_factory: AdapterFactory) -> None:
    run = result.run
    store.bind_shop(shop.name, shop.platform, shop.url, _iso(started))
    cursor = _pull_cursor(store, shop, config, full, started)
    run.mode = "incremental" if cursor is not None else "full"
    with adapter_factory(config, shop, secrets) as adapter:
        # 2. pull, streamed into the store
        pulled, changed = _pull(store, shop, adapter, cursor, progress)
        report = pulled.report
        run.customers = report.counts.get("customer", 0)
        run.orders = report.counts.get("order", 0)
        run.reviews = report.counts.get("review", 0)
        run.trashed = sum(len(ids) for ids in pulled.deleted.values())
        run.skipped = len(report.skipped)
        result.failures.extend(report.skipped)
        log.info("pulled", extra={"shop": shop.name, "event": "pulled", "mode": run.mode,
                                  "customers": run.customers, "orders": run.orders,
                                  "reviews": run.reviews, "trashed": run.trashed,
                                  "skipped": run.skipped, "changed_records": changed})
        # 3. rebuild the people the changed records touch
        if progress is not None:
            progress.start("matching changed records to people",
                           total=store.count_dirty(shop.name))
        try:
            _resolve_dirty(store, shop.name, progress)
        finally:
            if progress is not None:
                progress.finish()
        expired = store.expired_people(shop.name, _stamp(now))
        if expired:
            store.assign_people(shop.name, [], [], expired)
        if progress is not None:
            progress.start("rebuilding people", total=store.count_stale(shop.name))
        try:
            rebuilt = _rebuild_stale(store, config, shop, adapter, now, progress)
        finally:
            if progress is not None:
                progress.finish()
        result.failures.extend(rebuilt.failures)
        # 4 and 5. classify everyone; decide, plan and write a chunk at a time
        try:
            done = _decide_and_write(config, shop, store, adapter, now,
                                     write=not result.dry_run, progress=progress)
        except _Unusable as unusable:
            # the settings or the rules changed since these summaries were taken
            log.info("rebuilding %d people for changed settings", len(unusable.keys),
                     extra={"shop": shop.name})
            store.assign_people(shop.name, [], [], unusable.keys)
            again = _rebuild_stale(store, config, shop, adapter, now, progress)
            rebuilt.people += again.people
            result.failures.extend(again.failures)
            done = _decide_and_write(config, shop, store, adapter, now,
                                     write=not result.dry_run, progress=progress)
        result.moves = done.moves
        result.stage_counts = dict(done.counts)
        run.people, run.changed = done.people, done.changed
        run.planned, run.unwritable = done.planned, done.unwritable
        log.info("decided", extra={"shop": shop.name, "event": "planned", "people": run.people,
                                   "rebuilt": rebuilt.people, "changed": run.changed,
                                   "moved": done.moved, "writes": run.planned,
                                   "unwritable": run.unwritable})
        run.requests = adapter.requests_sent
        if result.dry_run:
            run.finished_at = _iso(_now())
            return
        run.written, run.failed = done.written, len(done.failures)
        result.failures.extend(done.failures)
        for failure in done.failures:
            log.warning("write failed: %s", failure, extra={"shop": shop.name})
    # 6. record stages, transitions, cursor and run in one transaction
    cursors = dict(pulled.cursor)
    if not pulled.incremental:
        cursors[CURSOR_FULL] = _iso(started)
    run.errors.extend(scrub(failure) for failure in result.failures[:50])
    run.status = result.status
    run.finished_at = _iso(_now())
    store.commit_run(run, cursors=cursors, pending=True)


class _scratch_copy:  # noqa: N801 - used as a context manager
    """A temporary SQLite store holding a copy of one shop's state (for dry runs)."""

    def __init__(self, store: StateStore, shop: str, *, empty: bool = False) -> None:
        self.store = store
        self.shop = shop
        self.empty = empty
        self.directory: tempfile.TemporaryDirectory[str] | None = None
        self.scratch: StateStore | None = None

    def __enter__(self) -> StateStore:
        from journeybridge.state import open_store

        self.directory = tempfile.TemporaryDirectory(prefix="journeybridge-dry-run-")
        self.scratch = open_store(f"sqlite:///{Path(self.directory.name) / 'state.db'}")
        if not self.empty:
            self.store.copy_shop(self.shop, self.scratch)
        return self.scratch

    def __exit__(self, *exc: object) -> None:
        if self.scratch is not None:
            self.scratch.close()
        if self.directory is not None:
            self.directory.cleanup()


def sync(config: Config, store: StateStore, shop_name: str | None = None, *,
         dry_run: bool = False, full: bool = False, now: datetime | None = None,
         progress: Progress | None = None,
         secrets_for: Callable[[Config, ShopConfig], Secrets] = load_secrets,
         reset: bool = False,
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
                        progress=progress, reset=reset)


# -- reading a shop's journeys --------------------------------------------------------------------

def shop_journeys(store: StateStore, shop: ShopConfig, keys: Iterable[str] | None = None,
                  chunk: int = PEOPLE_CHUNK) -> Iterator[Journey]:
    """The full journeys of ``shop``'s people (all, or ``keys``) as the store holds them,
    assembled a chunk at a time (memory stays one chunk deep), in key order."""
    platform = Platform(shop.platform)
    wanted = sorted(keys) if keys is not None else None
    if wanted is None:
        batches: Iterable[list[str]] = ([r.key for r in rows] for rows in
                                        store.people(shop.name))
    else:
        batches = (wanted[i:i + chunk] for i in range(0, len(wanted), chunk))
    for batch in batches:
        stored = store.records_of(shop.name, batch)
        for key in batch:
            records: dict[str, list[Any]] = {}
            for kind, _record_id, data in stored.get(key, ()):
                try:
                    records.setdefault(kind, []).append(decode(kind, data))
                except ValueError:
                    continue
            journey, _rows = _assembled(shop.name, platform, key, records)
            if journey is not None:
                yield journey


def current_journeys(config: Config, shop: ShopConfig, store: StateStore,
                     now: datetime | None = None,
                     secrets_for: Callable[[Config, ShopConfig], Secrets] = load_secrets,
                     ) -> tuple[list[Journey], list[Classification], str]:
    """Every journey of ``shop`` with its classification as of ``now``: from the store, or
    (no state yet) from a full pull that is not stored. The third value says which:
    ``"state"`` or ``"pull"``. For a synced shop, a person's ``since`` is the one the store
    recorded when they entered their stage."""
    moment = now or _now()
    known = store.stages(shop.name)
    journeys = list(shop_journeys(store, shop))
    source = "state"
    if not journeys:
        source = "pull"
        from journeybridge.adapters.protocol import collect

        with open_shop_adapter(config, shop, secrets_for(config, shop)) as adapter:
            journeys = collect(adapter.pull()).assemble(shop.name,
                                                        Platform(shop.platform)).journeys
    results = classify_all(journeys, now=moment, settings=config.stages.settings,
                           segments=config.segments)
    zone = ZoneInfo(shop.timezone)
    for i, (journey, classification) in enumerate(zip(journeys, results)):
        before = known.get(journey.key)
        if before is not None and before.stage == classification.stage.value:
            recorded = datetime.combine(date.fromisoformat(before.since),
                                        datetime.min.time(), zone)
            if _since_text(classification.since, zone) != before.since:
                results[i] = classification.model_copy(update={"since": recorded})
    return journeys, results, source

