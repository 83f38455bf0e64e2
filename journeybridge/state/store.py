"""The state store: one SQL implementation of what the sync engine keeps between runs, over
either database. Subclasses (:mod:`.sqlite`, :mod:`.postgres`) supply the connection, the
transaction and the per-shop lock; every query here is written once, with ``?`` placeholders
rewritten for the database.

Every method that changes something does it in one transaction: a run killed at any point
leaves the store as it was before that call or as after it, never in between.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from journeybridge.errors import ShopBusy, ShopMismatch, StateStoreError
from journeybridge.identity import Handles
from journeybridge.redact import redact_url
from journeybridge.state.records import RecordRow, keep_own_write_stamp, own_write_only
from journeybridge.state.schema import Cursor, Dialect, migrate

__all__ = [
    "KINDS",
    "IndexRow",
    "PersonRow",
    "Records",
    "RunRecord",
    "ShopBusy",
    "ShopMismatch",
    "StageRow",
    "StateStore",
    "StateStoreError",
    "Transition",
]

KINDS = ("customer", "order", "review")
"""The kinds of pulled records kept in ``records``."""

Records = dict[str, dict[str, str]]
"""Pulled records of one shop: kind -> record id -> compact JSON."""


_PAGE = 5000
_INDEX_COLUMNS = ("kind, id, customer_id, email, person_row, guest_row, person_key, deleted, "
                  "order_ref")


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for begin in range(0, len(values), size):
        yield values[begin:begin + size]


def _comparable(url: str) -> str:
    return url.rstrip("/").lower()


@dataclass(frozen=True)
class IndexRow:
    """A stored record without its JSON: kind, id, identity handles, its person, deleted."""

    kind: str
    id: str
    handles: Handles
    person_key: str | None
    deleted: bool
    order_ref: str | None = None

    @classmethod
    def of(cls, row: Sequence[Any]) -> IndexRow:
        """From a ``_INDEX_COLUMNS`` result row."""
        (kind, record_id, customer_id, email, person_row, guest_row, person_key, deleted,
         order_ref) = row
        return cls(str(kind), str(record_id),
                   Handles(customer_id or None, email or None, bool(person_row),
                           bool(guest_row)), person_key or None, bool(deleted),
                   order_ref or None)


@dataclass(frozen=True)
class PersonRow:
    """One person's stored row: key, summary (JSON), when it expires (ISO UTC or None),
    write target (JSON) and what the shop holds there (JSON)."""

    key: str
    summary: str
    valid_until: str | None
    target: str
    held: str


@dataclass(frozen=True)
class StageRow:
    """A person's last known stage (its stored name), its start date (ISO date) and segments."""

    stage: str
    since: str
    segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transition:
    """A stage change seen by a run: ``from_stage`` None for a person's first stage."""

    person_key: str
    from_stage: str | None
    to_stage: str
    since: str
    at: str
    reason: str


@dataclass
class RunRecord:
    """One run of one shop, as ``journeybridge status`` shows it."""

    shop: str
    started_at: str
    finished_at: str = ""
    mode: str = "incremental"
    status: str = "ok"
    customers: int = 0
    orders: int = 0
    reviews: int = 0
    trashed: int = 0
    skipped: int = 0
    people: int = 0
    changed: int = 0
    planned: int = 0
    written: int = 0
    failed: int = 0
    unwritable: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    id: int | None = None

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "shop", "started_at", "finished_at", "mode", "status", "customers", "orders", "reviews",
        "trashed", "skipped", "people", "changed", "planned", "written", "failed", "unwritable",
        "requests", "errors")

    def row(self) -> tuple[Any, ...]:
        """The values in :attr:`COLUMNS` order (errors as a JSON list)."""
        values = [getattr(self, name) for name in self.COLUMNS]
        values[-1] = json.dumps(self.errors, ensure_ascii=False)
        return tuple(values)

    def as_dict(self) -> dict[str, Any]:
        """The run as plain JSON-ready values."""
        data = {name: getattr(self, name) for name in self.COLUMNS}
        data["id"] = self.id
        return data


class StateStore(ABC):
    """What the sync engine keeps between runs, per shop: pulled records, cursors, stages with
    their transition log, and run history. Open one with :func:`journeybridge.state.open_store`
    and close it (or use it as a context manager)."""

    dialect: ClassVar[Dialect]
    url: str

    # -- supplied by each database ----------------------------------------------------------

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor inside one transaction: committed when the block ends normally, rolled
        back when it raises."""

    @abstractmethod
    def lock(self, shop: str, timeout: float = 0.0) -> AbstractContextManager[None]:
        """Hold ``shop``'s lock for the block, across processes and machines sharing this
        store; released when the block ends or the process dies (even by SIGKILL). Waits up
        to ``timeout`` seconds, then raises :class:`ShopBusy`."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    @abstractmethod
    def _executemany(self, cur: Cursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run one statement for many parameter rows."""

    # -- shared -----------------------------------------------------------------------------

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def _select_in(self, cur: Any, sql: str, params: tuple[Any, ...],
                   values: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql`` for every one of ``values``: its ``IN ({marks})`` is filled
        with up to 500 placeholders at a time, after ``params``."""
        for part in _chunks(values):
            marks = ", ".join("?" for _ in part)
            cur.execute(self._sql(sql.format(marks=marks)), (*params, *part))
            yield from cur.fetchall()

    def migrate(self) -> tuple[int, int]:
        """Bring the schema up to date in one transaction; returns (before, after) versions."""
        try:
            with self.transaction() as cur:
                if self.dialect == "postgres":  # one migrating worker at a time
                    cur.execute("SELECT pg_advisory_xact_lock(4217001)")
                return migrate(cur, self.dialect)
        except RuntimeError as exc:
            raise StateStoreError(f"{self.url}: {exc}") from None

    def load_records(self, shop: str) -> Records:
        """Every stored record of ``shop``, by kind and id."""
        records: Records = {kind: {} for kind in KINDS}
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT kind, id, data FROM records WHERE shop = ?"), (shop,))
            for kind, record_id, data in cur.fetchall():
                records.setdefault(kind, {})[record_id] = data
        return records

    def save_records(self, shop: str, upserts: Mapping[str, Mapping[str, str]],
                     deletes: Mapping[str, Sequence[str]]) -> None:
        """In one transaction: insert or replace ``upserts`` (kind -> id -> JSON) and delete
        ``deletes`` (kind -> ids). Idempotent."""
        upsert_rows = [(shop, kind, record_id, data) for kind, rows in upserts.items()
                       for record_id, data in rows.items()]
        delete_rows = [(shop, kind, record_id) for kind, ids in deletes.items()
                       for record_id in ids]
        with self.transaction() as cur:
            if delete_rows:
                self._executemany(cur, self._sql(
                    "DELETE FROM records WHERE shop = ? AND kind = ? AND id = ?"), delete_rows)
            if upsert_rows:
                self._executemany(cur, self._sql(
                    "INSERT INTO records (shop, kind, id, data) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (shop, kind, id) DO UPDATE SET data = excluded.data"),
                    upsert_rows)

    # -- records (v2: streamed, indexed by identity handles) -----------------------------------

    def upsert_records(self, shop: str, rows: Sequence[RecordRow], *, seen: str | None = None,
                       own_meta_prefix: str = "") -> int:
        """In one transaction: insert ``rows`` or replace the stored rows of the same kind and
        id whose JSON differs (marking them dirty, and no longer deleted); an order that
        changed only in our own meta keys (``own_meta_prefix``) keeps its stored
        ``modified_at`` (see :func:`keep_own_write_stamp`). Every row gets ``seen`` (the token
        of a full read) when given. Returns how many rows were new or changed."""
        if not rows:
            return 0
        changed: list[tuple[Any, ...]] = []
        unchanged: list[tuple[Any, ...]] = []
        with self.transaction() as cur:
            stored: dict[tuple[str, str], tuple[str, int]] = {}
            for kind in {r.kind for r in rows}:
                ids = [r.id for r in rows if r.kind == kind]
                for record_id, data, deleted in self._select_in(
                        cur, "SELECT id, data, deleted FROM records WHERE shop = ? AND kind = ? "
                        "AND id IN ({marks})", (shop, kind), ids):
                    stored[(kind, str(record_id))] = (str(data), int(deleted))
            quiet: list[tuple[Any, ...]] = []
            for row in rows:
                before = stored.get((row.kind, row.id))
                data = row.data
                if before is not None and row.kind in ("order", "customer") and not before[1] and \
                        own_write_only(before[0], data, own_meta_prefix):
                    # our own write-back, read back: store what the shop holds now, but
                    # nothing about the person changed, so they need no rebuild
                    quiet.append((keep_own_write_stamp(before[0], data, own_meta_prefix,
                                                       row.kind),
                                  seen, shop, row.kind, row.id))
                    continue
                if before is not None and before[0] == data and not before[1]:
                    unchanged.append((seen, shop, row.kind, row.id))
                    continue
                h = row.handles
                changed.append((shop, row.kind, row.id, data, h.customer_id, h.email,
                                int(h.person_row), int(h.guest_row), seen, row.order_ref))
            if changed:
                self._executemany(cur, self._sql(
                    "INSERT INTO records (shop, kind, id, data, customer_id, email, person_row, "
                    "guest_row, dirty, deleted, seen, order_ref) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, 1, 0, ?, ?) "
                    "ON CONFLICT (shop, kind, id) DO UPDATE SET data = excluded.data, "
                    "customer_id = excluded.customer_id, email = excluded.email, "
                    "person_row = excluded.person_row, guest_row = excluded.guest_row, "
                    "dirty = 1, deleted = 0, seen = excluded.seen, "
                    "order_ref = excluded.order_ref"), changed)
            if quiet:
                self._executemany(cur, self._sql(
                    "UPDATE records SET data = ?, seen = COALESCE(?, seen) WHERE shop = ? "
                    "AND kind = ? AND id = ?"), quiet)
            if unchanged and seen is not None:
                self._executemany(cur, self._sql(
                    "UPDATE records SET seen = ? WHERE shop = ? AND kind = ? AND id = ?"),
                    unchanged)
        return len(changed)

    def mark_deleted(self, shop: str, kind: str, ids: Sequence[str]) -> int:
        """Mark records gone from the shop (e.g. orders moved to the trash): deleted and dirty,
        kept until their people are rebuilt. Returns how many were marked."""
        count = 0
        with self.transaction() as cur:
            for part in _chunks(list(ids)):
                marks = ", ".join("?" for _ in part)
                cur.execute(self._sql(
                    f"UPDATE records SET deleted = 1, dirty = 1 WHERE shop = ? AND kind = ? "  # noqa: S608
                    f"AND deleted = 0 AND id IN ({marks})"), (shop, kind, *part))
                count += max(int(getattr(cur, "rowcount", 0) or 0), 0)
        return count

    def mark_unseen_deleted(self, shop: str, kinds: Sequence[str], seen: str) -> int:
        """After a full read of ``kinds`` (every row it saw carries ``seen``): mark every other
        row of those kinds deleted. Returns how many were marked."""
        count = 0
        with self.transaction() as cur:
            for kind in kinds:
                cur.execute(self._sql(
                    "UPDATE records SET deleted = 1, dirty = 1 WHERE shop = ? AND kind = ? "
                    "AND deleted = 0 AND (seen IS NULL OR seen <> ?)"), (shop, kind, seen))
                count += max(int(getattr(cur, "rowcount", 0) or 0), 0)
        return count

    def dirty_rows(self, shop: str, limit: int) -> list[IndexRow]:
        """Up to ``limit`` records changed (or deleted) since their people were rebuilt."""
        with self.transaction() as cur:
            cur.execute(self._sql(
                f"SELECT {_INDEX_COLUMNS} FROM records WHERE shop = ? AND dirty = 1 "  # noqa: S608
                "ORDER BY kind, id LIMIT ?"), (shop, limit))
            return [IndexRow.of(row) for row in cur.fetchall()]

    def rows_by_handles(self, shop: str, customer_ids: Collection[str],
                        emails: Collection[str]) -> list[IndexRow]:
        """The records (not deleted) naming any of ``customer_ids`` or carrying any of
        ``emails``: everything whose owner depends on those handles."""
        found: dict[tuple[str, str], IndexRow] = {}
        with self.transaction() as cur:
            for column, values in (("customer_id", sorted(customer_ids)),
                                   ("email", sorted(emails))):
                for raw in self._select_in(
                        cur, f"SELECT {_INDEX_COLUMNS} FROM records WHERE shop = ? "  # noqa: S608
                        f"AND deleted = 0 AND {column} IN ({{marks}})", (shop,), values):
                    row = IndexRow.of(raw)
                    found[(row.kind, row.id)] = row
        return list(found.values())

    def all_index_rows(self, shop: str) -> Iterator[list[IndexRow]]:
        """Every record's index row (not deleted), in chunks: for rebuilding everyone."""
        last: tuple[str, str] = ("", "")
        while True:
            with self.transaction() as cur:
                cur.execute(self._sql(
                    f"SELECT {_INDEX_COLUMNS} FROM records WHERE shop = ? AND deleted = 0 "  # noqa: S608
                    "AND (kind > ? OR (kind = ? AND id > ?)) ORDER BY kind, id LIMIT ?"),
                    (shop, last[0], last[0], last[1], _PAGE))
                rows = [IndexRow.of(row) for row in cur.fetchall()]
            if not rows:
                return
            yield rows
            last = (rows[-1].kind, rows[-1].id)

    def assign_people(self, shop: str, owners: Sequence[tuple[str, str, str | None]],
                      done: Sequence[tuple[str, str]], stale: Collection[str]) -> None:
        """In one transaction: set each record's person (``owners``: kind, id, key), clear the
        dirty flag of ``done`` rows (kind, id) and drop those of them marked deleted, and mark
        the ``stale`` people to be rebuilt."""
        with self.transaction() as cur:
            if owners:
                self._executemany(cur, self._sql(
                    "UPDATE records SET person_key = ? WHERE shop = ? AND kind = ? AND id = ?"),
                    [(key, shop, kind, record_id) for kind, record_id, key in owners])
            if done:
                self._executemany(cur, self._sql(
                    "DELETE FROM records WHERE shop = ? AND kind = ? AND id = ? AND deleted = 1"),
                    [(shop, kind, record_id) for kind, record_id in done])
                self._executemany(cur, self._sql(
                    "UPDATE records SET dirty = 0 WHERE shop = ? AND kind = ? AND id = ?"),
                    [(shop, kind, record_id) for kind, record_id in done])
            if stale:
                self._executemany(cur, self._sql(
                    "INSERT INTO people (shop, person_key, summary, target, held, stale) "
                    "VALUES (?, ?, '', '', '', 1) ON CONFLICT (shop, person_key) "
                    "DO UPDATE SET stale = 1"), [(shop, key) for key in sorted(stale)])

    def refunds_of(self, shop: str, order_ids: Sequence[str]) -> list[IndexRow]:
        """The refund records (not deleted) of these orders."""
        found: list[IndexRow] = []
        with self.transaction() as cur:
            found.extend(IndexRow.of(row) for row in self._select_in(
                cur, f"SELECT {_INDEX_COLUMNS} FROM records WHERE shop = ? AND kind = 'refund' "  # noqa: S608
                "AND deleted = 0 AND order_ref IN ({marks})", (shop,), sorted(set(order_ids))))
        return found

    def owners_of_orders(self, shop: str, order_ids: Sequence[str]) -> dict[str, str | None]:
        """The person each of these orders is assigned to (refunds follow their order)."""
        out: dict[str, str | None] = {}
        with self.transaction() as cur:
            out.update((str(i), key or None) for i, key in self._select_in(
                cur, "SELECT id, person_key FROM records WHERE shop = ? AND kind = 'order' "
                "AND deleted = 0 AND id IN ({marks})", (shop,), sorted(set(order_ids))))
        return out

    def count_stale(self, shop: str) -> int:
        """How many people are waiting to be rebuilt."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT COUNT(*) FROM people WHERE shop = ? AND stale = 1"),
                        (shop,))
            row = cur.fetchone()
            return int(row[0]) if row else 0

    def count_dirty(self, shop: str) -> int:
        """How many records are waiting to be matched to their people."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT COUNT(*) FROM records WHERE shop = ? AND dirty = 1"),
                        (shop,))
            row = cur.fetchone()
            return int(row[0]) if row else 0

    def count_people(self, shop: str) -> int:
        """How many people the store holds for ``shop`` (what :meth:`people` yields)."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT COUNT(*) FROM people WHERE shop = ? AND stale = 0"),
                        (shop,))
            row = cur.fetchone()
            return int(row[0]) if row else 0

    def copy_shop(self, shop: str, into: StateStore) -> None:
        """Copy everything this store holds about ``shop`` except its history (records,
        people, stages, cursors, binding) into another store (for a dry run's scratch
        copy)."""
        tables = {
            "records": ("shop", "kind", "id", "data", "customer_id", "email", "person_row",
                        "guest_row", "person_key", "dirty", "deleted", "seen", "order_ref"),
            "people": ("shop", "person_key", "summary", "valid_until", "target", "held",
                       "stale"),
            "stages": ("shop", "person_key", "stage", "since", "segments", "updated_at"),
            "cursors": ("shop", "resource", "value"),
            "shops": ("shop", "platform", "url", "bound_at", "last_started", "last_finished"),
        }
        for table, columns in tables.items():
            names = ", ".join(columns)
            with self.transaction() as cur:
                cur.execute(self._sql(f"SELECT {names} FROM {table} WHERE shop = ?"),  # noqa: S608
                            (shop,))
                rows = [tuple(row) for row in cur.fetchall()]
            if not rows:
                continue
            marks = ", ".join("?" for _ in columns)
            with into.transaction() as cur:
                into._executemany(cur, into._sql(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})"), rows)  # noqa: S608

    def stale_people(self, shop: str, limit: int) -> list[str]:
        """Up to ``limit`` person keys marked stale, in key order."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT person_key FROM people WHERE shop = ? AND stale = 1 "
                                  "ORDER BY person_key LIMIT ?"), (shop, limit))
            return [str(row[0]) for row in cur.fetchall()]

    def records_of(self, shop: str, keys: Sequence[str]) -> dict[str, list[tuple[str, str, str]]]:
        """The stored records (kind, id, JSON) of each of ``keys`` (not deleted)."""
        out: dict[str, list[tuple[str, str, str]]] = {key: [] for key in keys}
        with self.transaction() as cur:
            for key, kind, record_id, data in self._select_in(
                    cur, "SELECT person_key, kind, id, data FROM records WHERE shop = ? "
                    "AND deleted = 0 AND person_key IN ({marks})", (shop,), list(keys)):
                out[str(key)].append((str(kind), str(record_id), str(data)))
        return out

    def put_people(self, shop: str, rows: Sequence[PersonRow], gone: Sequence[str] = ()) -> None:
        """In one transaction: store rebuilt people (no longer stale) and forget ``gone``
        people (no record belongs to them any more)."""
        with self.transaction() as cur:
            if rows:
                self._executemany(cur, self._sql(
                    "INSERT INTO people (shop, person_key, summary, valid_until, target, held, "
                    "stale) VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (shop, person_key) DO "
                    "UPDATE SET summary = excluded.summary, valid_until = excluded.valid_until, "
                    "target = excluded.target, held = excluded.held, stale = 0"),
                    [(shop, r.key, r.summary, r.valid_until, r.target, r.held) for r in rows])
            if gone:
                self._executemany(cur, self._sql(
                    "DELETE FROM people WHERE shop = ? AND person_key = ?"),
                    [(shop, key) for key in gone])

    def people(self, shop: str) -> Iterator[list[PersonRow]]:
        """Every person's row (not stale), in key order, in chunks."""
        last = ""
        while True:
            with self.transaction() as cur:
                cur.execute(self._sql(
                    "SELECT person_key, summary, valid_until, target, held FROM people "
                    "WHERE shop = ? AND stale = 0 AND person_key > ? ORDER BY person_key "
                    "LIMIT ?"), (shop, last, _PAGE))
                rows = [PersonRow(str(key), str(summary), None if until is None else str(until),
                                  str(target), str(held))
                        for key, summary, until, target, held in cur.fetchall()]
            if not rows:
                return
            yield rows
            last = rows[-1].key

    def expired_people(self, shop: str, now: str) -> list[str]:
        """People whose summary was taken before one of their records took effect
        (``valid_until`` at or before ``now``): to be rebuilt."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT person_key FROM people WHERE shop = ? AND stale = 0 "
                                  "AND valid_until IS NOT NULL AND valid_until <= ?"),
                        (shop, now))
            return [str(row[0]) for row in cur.fetchall()]

    def set_held(self, shop: str, rows: Sequence[tuple[str, str, str]]) -> None:
        """After a write-back: each person's new write target and held values (key, target,
        held)."""
        if not rows:
            return
        with self.transaction() as cur:
            self._executemany(cur, self._sql(
                "UPDATE people SET target = ?, held = ? WHERE shop = ? AND person_key = ?"),
                [(target, held, shop, key) for key, target, held in rows])

    def quarantine(self, shop: str, rows: Sequence[tuple[str, str, str]], at: str) -> None:
        """Move stored rows that no longer decode (kind, id, error) out of the records, with
        the reason, so a run goes on without them."""
        if not rows:
            return
        with self.transaction() as cur:
            for kind, record_id, error in rows:
                cur.execute(self._sql(
                    "SELECT data FROM records WHERE shop = ? AND kind = ? AND id = ?"),
                    (shop, kind, record_id))
                found = cur.fetchone()
                cur.execute(self._sql(
                    "INSERT INTO quarantine (shop, kind, id, data, error, at) VALUES "
                    "(?, ?, ?, ?, ?, ?) ON CONFLICT (shop, kind, id) DO UPDATE SET "
                    "data = excluded.data, error = excluded.error, at = excluded.at"),
                    (shop, kind, record_id, str(found[0]) if found else "", error, at))
                cur.execute(self._sql(
                    "DELETE FROM records WHERE shop = ? AND kind = ? AND id = ?"),
                    (shop, kind, record_id))

    def counts(self, shop: str) -> dict[str, int]:
        """How many records of each kind the store holds for ``shop`` (not deleted)."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT kind, COUNT(*) FROM records WHERE shop = ? AND "
                                  "deleted = 0 GROUP BY kind"), (shop,))
            return {str(kind): int(n) for kind, n in cur.fetchall()}

    # -- shops ----------------------------------------------------------------------------------

    def bind_shop(self, shop: str, platform: str, url: str, at: str) -> None:
        """Bind ``shop`` to its platform and URL on its first run; later runs must name the
        same shop. Raises :class:`ShopMismatch` (nothing changed) when they do not."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT platform, url FROM shops WHERE shop = ?"), (shop,))
            row = cur.fetchone()
            if row is None:
                cur.execute(self._sql(
                    "INSERT INTO shops (shop, platform, url, bound_at) VALUES (?, ?, ?, ?)"),
                    (shop, platform, url, at))
                return
            bound_platform, bound_url = str(row[0]), str(row[1])
        if (bound_platform, _comparable(bound_url)) != (platform, _comparable(url)):
            raise ShopMismatch(
                f"shop {shop!r}: the state store holds the {bound_platform} shop at "
                f"{redact_url(bound_url)}, but the configuration now points this name at the "
                f"{platform} shop at {redact_url(url)}; nothing was written. To start afresh "
                f"for the new shop run `journeybridge sync --shop {shop} --reset-state`, or "
                "give it a new name")

    def enroll_shops(self, shops: Sequence[tuple[str, str, str]], at: str) -> None:
        """Make sure every (name, platform, URL) has a row in ``shops`` to be claimed from
        (a shop seen for the first time is bound to that platform and URL; an existing row is
        left as it is)."""
        with self.transaction() as cur:
            self._executemany(cur, self._sql(
                "INSERT INTO shops (shop, platform, url, bound_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (shop) DO NOTHING"),
                [(name, platform, url, at) for name, platform, url in shops])

    def claim_shop(self, names: Sequence[str], round_started: str, at: str) -> str | None:
        """For one worker of a round of runs that began at ``round_started``: the shop among
        ``names`` that has waited longest since its last finished run and that no worker has
        claimed in this round, marked claimed (``last_started``) in the same transaction, or
        None when every shop has been claimed. Safe for any number of workers on one store:
        PostgreSQL skips rows another worker holds (``FOR UPDATE SKIP LOCKED``); SQLite
        serialises the transactions."""
        if not names:
            return None
        marks = ", ".join("?" for _ in names)
        lock = " FOR UPDATE SKIP LOCKED" if self.dialect == "postgres" else ""
        with self.transaction() as cur:
            cur.execute(self._sql(
                f"SELECT shop FROM shops WHERE shop IN ({marks}) AND "  # noqa: S608
                "(last_started IS NULL OR last_started < ?) "
                "ORDER BY CASE WHEN last_finished IS NULL THEN 0 ELSE 1 END, last_finished, "
                f"shop LIMIT 1{lock}"), (*names, round_started))
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(self._sql("UPDATE shops SET last_started = ? WHERE shop = ?"),
                        (at, row[0]))
            return str(row[0])

    def finish_shop(self, shop: str, at: str) -> None:
        """Record that a run of ``shop`` ended (whatever its outcome)."""
        with self.transaction() as cur:
            cur.execute(self._sql("UPDATE shops SET last_finished = ? WHERE shop = ?"),
                        (at, shop))

    def shop_rounds(self) -> dict[str, tuple[str | None, str | None]]:
        """Every shop's last claimed and last finished run (ISO UTC, or None)."""
        with self.transaction() as cur:
            cur.execute("SELECT shop, last_started, last_finished FROM shops")
            return {str(s): (a, b) for s, a, b in cur.fetchall()}

    def reset_shop(self, shop: str) -> None:
        """Forget everything the store holds about ``shop`` (records, people, stages,
        transitions, cursors, binding; the run history stays)."""
        with self.transaction() as cur:
            for table in ("records", "people", "stages", "transitions", "cursors", "shops",
                          "quarantine", "pending_stages", "pending_transitions"):
                cur.execute(self._sql(f"DELETE FROM {table} WHERE shop = ?"), (shop,))  # noqa: S608

    def cursors(self, shop: str) -> dict[str, str]:
        """``shop``'s cursors by resource (ISO 8601 UTC text)."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT resource, value FROM cursors WHERE shop = ?"), (shop,))
            return {str(resource): str(value) for resource, value in cur.fetchall()}

    def stages(self, shop: str) -> dict[str, StageRow]:
        """Every person's last known stage in ``shop``, by person key."""
        with self.transaction() as cur:
            cur.execute(self._sql("SELECT person_key, stage, since, segments FROM stages "
                                  "WHERE shop = ?"), (shop,))
            return {key: StageRow(stage, since, tuple(s for s in segments.split(",") if s))
                    for key, stage, since, segments in cur.fetchall()}

    def stages_of(self, shop: str, keys: Sequence[str]) -> dict[str, StageRow]:
        """The last known stage of each of ``keys`` that has one."""
        out: dict[str, StageRow] = {}
        with self.transaction() as cur:
            out.update((str(key), StageRow(stage, since, tuple(x for x in segs.split(",") if x)))
                       for key, stage, since, segs in self._select_in(
                           cur, "SELECT person_key, stage, since, segments FROM stages "
                           "WHERE shop = ? AND person_key IN ({marks})", (shop,), list(keys)))
        return out

    def clear_pending(self, shop: str) -> None:
        """Drop the stage rows and moves a run gathered and did not commit (killed)."""
        with self.transaction() as cur:
            cur.execute(self._sql("DELETE FROM pending_stages WHERE shop = ?"), (shop,))
            cur.execute(self._sql("DELETE FROM pending_transitions WHERE shop = ?"), (shop,))

    def add_pending(self, shop: str, stages: Mapping[str, StageRow],
                    transitions: Sequence[tuple[str, str | None, str, str, str]]) -> None:
        """Gather a chunk of this run's changed stage rows and its moves (person, from, to,
        since, reason), for :meth:`commit_run` to record all at once."""
        with self.transaction() as cur:
            if stages:
                self._executemany(cur, self._sql(
                    "INSERT INTO pending_stages (shop, person_key, stage, since, segments) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop, person_key) DO UPDATE SET "
                    "stage = excluded.stage, since = excluded.since, "
                    "segments = excluded.segments"),
                    [(shop, key, row.stage, row.since, ",".join(row.segments))
                     for key, row in stages.items()])
            if transitions:
                self._executemany(cur, self._sql(
                    "INSERT INTO pending_transitions (shop, person_key, from_stage, to_stage, "
                    "since, reason) VALUES (?, ?, ?, ?, ?, ?)"),
                    [(shop, *t) for t in transitions])

    def stages_without_people(self, shop: str) -> int:
        """Stage rows of people the store no longer holds (to be forgotten by the run)."""
        with self.transaction() as cur:
            cur.execute(self._sql(
                "SELECT COUNT(*) FROM stages s WHERE s.shop = ? AND NOT EXISTS (SELECT 1 FROM "
                "people p WHERE p.shop = s.shop AND p.person_key = s.person_key)"), (shop,))
            row = cur.fetchone()
            return int(row[0]) if row else 0

    def commit_run(self, run: RunRecord, *, stages: Mapping[str, StageRow] | None = None,
                   removed: Sequence[str] = (), transitions: Sequence[Transition] = (),
                   cursors: Mapping[str, str] | None = None, pending: bool = False) -> int:
        """In one transaction: set ``stages`` (person key -> row), forget ``removed`` people,
        append ``transitions``, set ``cursors`` and record ``run``. With ``pending``, also move
        what :meth:`add_pending` gathered into the stages and transitions (transitions dated
        the run's start) and forget the stage rows of people the store no longer holds.
        Returns the run's id."""
        shop = run.shop
        with self.transaction() as cur:
            if pending:
                cur.execute(self._sql(
                    "INSERT INTO stages (shop, person_key, stage, since, segments, updated_at) "
                    "SELECT shop, person_key, stage, since, segments, ? FROM pending_stages "
                    "WHERE shop = ? ON CONFLICT (shop, person_key) DO UPDATE SET "
                    "stage = excluded.stage, since = excluded.since, "
                    "segments = excluded.segments, updated_at = excluded.updated_at"),
                    (run.started_at, shop))
                cur.execute(self._sql(
                    "INSERT INTO transitions (shop, person_key, from_stage, to_stage, since, at, "
                    "reason) SELECT shop, person_key, from_stage, to_stage, since, ?, reason "
                    "FROM pending_transitions WHERE shop = ?"), (run.started_at, shop))
                cur.execute(self._sql(
                    "DELETE FROM stages WHERE shop = ? AND NOT EXISTS (SELECT 1 FROM people p "
                    "WHERE p.shop = stages.shop AND p.person_key = stages.person_key)"),
                    (shop,))
                cur.execute(self._sql("DELETE FROM pending_stages WHERE shop = ?"), (shop,))
                cur.execute(self._sql("DELETE FROM pending_transitions WHERE shop = ?"),
                            (shop,))
            if removed:
                self._executemany(cur, self._sql(
                    "DELETE FROM stages WHERE shop = ? AND person_key = ?"),
                    [(shop, key) for key in removed])
            if stages:
                self._executemany(cur, self._sql(
                    "INSERT INTO stages (shop, person_key, stage, since, segments, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop, person_key) DO UPDATE SET "
                    "stage = excluded.stage, since = excluded.since, "
                    "segments = excluded.segments, updated_at = excluded.updated_at"),
                    [(shop, key, row.stage, row.since, ",".join(row.segments), run.started_at)
                     for key, row in stages.items()])
            if transitions:
                self._executemany(cur, self._sql(
                    "INSERT INTO transitions (shop, person_key, from_stage, to_stage, since, at, "
                    "reason) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                    [(shop, t.person_key, t.from_stage, t.to_stage, t.since, t.at, t.reason)
                     for t in transitions])
            if cursors:
                self._executemany(cur, self._sql(
                    "INSERT INTO cursors (shop, resource, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (shop, resource) DO UPDATE SET value = excluded.value"),
                    [(shop, resource, value) for resource, value in cursors.items()])
            columns = ", ".join(RunRecord.COLUMNS)
            marks = ", ".join("?" for _ in RunRecord.COLUMNS)
            insert = f"INSERT INTO runs ({columns}) VALUES ({marks})"  # noqa: S608
            if self.dialect == "postgres":
                cur.execute(self._sql(insert + " RETURNING id"), run.row())
                run.id = int(cur.fetchone()[0])
            else:  # RETURNING needs SQLite 3.35; lastrowid works everywhere
                cur.execute(insert, run.row())
                run.id = int(getattr(cur, "lastrowid", 0) or 0)
        return run.id

    def runs(self, shop: str | None = None, limit: int = 10) -> list[RunRecord]:
        """The latest ``limit`` runs (of ``shop``, or of every shop), newest first."""
        columns = ", ".join(RunRecord.COLUMNS)
        where = "WHERE shop = ? " if shop is not None else ""
        params: tuple[Any, ...] = (shop, limit) if shop is not None else (limit,)
        with self.transaction() as cur:
            cur.execute(self._sql(f"SELECT id, {columns} FROM runs {where}"  # noqa: S608
                                  "ORDER BY id DESC LIMIT ?"), params)
            rows = cur.fetchall()
        result = []
        for row in rows:
            values = dict(zip(RunRecord.COLUMNS, row[1:]))
            values["errors"] = json.loads(values["errors"])
            result.append(RunRecord(id=int(row[0]), **values))
        return result

    def transitions(self, shop: str, person_key: str | None = None,
                    limit: int = 100) -> list[Transition]:
        """The latest ``limit`` transitions in ``shop`` (of one person if given), newest
        first."""
        select = "SELECT person_key, from_stage, to_stage, since, at, reason FROM transitions "
        with self.transaction() as cur:
            if person_key is None:
                cur.execute(self._sql(select + "WHERE shop = ? ORDER BY id DESC LIMIT ?"),
                            (shop, limit))
            else:
                cur.execute(self._sql(select + "WHERE shop = ? AND person_key = ? "
                                      "ORDER BY id DESC LIMIT ?"), (shop, person_key, limit))
            return [Transition(*row) for row in cur.fetchall()]
