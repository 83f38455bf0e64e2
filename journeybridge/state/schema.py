"""The state store's schema and its forward migrations, shared by SQLite and PostgreSQL.

The schema version lives in a one-row ``schema_version`` table. :data:`MIGRATIONS` is an
append-only list: migration *n* (1-based) turns version *n-1* into version *n*. Never edit a
released migration; add a new one. :func:`migrate` applies the missing ones in order, all in
the caller's transaction, so a store is either at its old version or fully at the new one.

Tables (every timestamp is ISO 8601 UTC text, portable across both databases):

* ``records (shop, kind, id, data, customer_id, email, person_row, guest_row, person_key,
  dirty, deleted, seen, order_ref)``: the pulled records as compact JSON of the journey
  model, with the identity handles the store indexes, the person each was last assigned
  to, ``dirty`` (changed since its people were rebuilt), ``deleted`` (gone from the shop,
  kept until its people are rebuilt), ``seen`` (the full read that last saw it) and
  ``order_ref`` (a refund's order).
* ``people (shop, person_key, summary, valid_until, target, held, stale)``: one compact row per
  person: what the stage rules need (:mod:`journeybridge.stages.summary`), where the
  write-back goes and what the shop holds there; ``stale`` people are rebuilt next.
* ``shops (shop, platform, url, bound_at, last_started, last_finished)``: the shop a name was
  first synced as, and when it was last synced.
* ``pending_stages``, ``pending_transitions``: a run's stage rows and moves, gathered in
  chunks and moved into ``stages`` and ``transitions`` by the run's one final transaction (a
  killed run's are dropped by the next run).
* ``quarantine (shop, kind, id, data, error, at)``: stored rows that no longer decode.
* ``cursors (shop, resource, value)``: where the next incremental pull of a resource starts;
  also ``last_full_pull``.
* ``stages (shop, person_key, stage, since, segments, updated_at)``: each person's last known
  stage, its start date and segments (comma-separated names).
* ``transitions (id, shop, person_key, from_stage, to_stage, since, at, reason)``: every stage
  change seen by a run (``from_stage`` NULL for a person's first stage), with the first reason.
* ``runs (id, shop, started_at, finished_at, mode, status, ...counts..., errors)``: run history.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Cursor", "Dialect", "current_version", "migrate"]

Dialect = Literal["sqlite", "postgres"]


class Cursor(Protocol):
    """The part of a DB-API cursor the store uses (sqlite3 and psycopg 3 both fit)."""

    def execute(self, sql: Any, params: Any = ..., /) -> Any:
        """Run one statement."""

    def fetchall(self) -> list[Any]:
        """All rows of the last query."""

    def fetchone(self) -> Any:
        """The next row of the last query, or None."""


def _serial(dialect: Dialect) -> str:
    return "BIGSERIAL PRIMARY KEY" if dialect == "postgres" else \
        "INTEGER PRIMARY KEY AUTOINCREMENT"


def _v1(cur: Cursor, dialect: Dialect) -> None:
    """The first schema: records, cursors, stages, transitions, runs."""
    serial = _serial(dialect)
    statements = [
        """CREATE TABLE records (
               shop TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
               PRIMARY KEY (shop, kind, id))""",
        """CREATE TABLE cursors (
               shop TEXT NOT NULL, resource TEXT NOT NULL, value TEXT NOT NULL,
               PRIMARY KEY (shop, resource))""",
        """CREATE TABLE stages (
               shop TEXT NOT NULL, person_key TEXT NOT NULL, stage TEXT NOT NULL,
               since TEXT NOT NULL, segments TEXT NOT NULL, updated_at TEXT NOT NULL,
               PRIMARY KEY (shop, person_key))""",
        f"""CREATE TABLE transitions (
               id {serial}, shop TEXT NOT NULL, person_key TEXT NOT NULL, from_stage TEXT,
               to_stage TEXT NOT NULL, since TEXT NOT NULL, at TEXT NOT NULL,
               reason TEXT NOT NULL)""",
        "CREATE INDEX transitions_by_person ON transitions (shop, person_key, id)",
        f"""CREATE TABLE runs (
               id {serial}, shop TEXT NOT NULL, started_at TEXT NOT NULL,
               finished_at TEXT NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL,
               customers INTEGER NOT NULL, orders INTEGER NOT NULL, reviews INTEGER NOT NULL,
               trashed INTEGER NOT NULL, skipped INTEGER NOT NULL, people INTEGER NOT NULL,
               changed INTEGER NOT NULL, planned INTEGER NOT NULL, written INTEGER NOT NULL,
               failed INTEGER NOT NULL, unwritable INTEGER NOT NULL, requests INTEGER NOT NULL,
               errors TEXT NOT NULL)""",
        "CREATE INDEX runs_by_shop ON runs (shop, id)",
    ]
    for statement in statements:
        cur.execute(statement)


def _v2(cur: Cursor, dialect: Dialect) -> None:
    """Scale (issue 16) and shop identity (issue 17): records carry their identity handles
    (customer id, e-mail, customer row, guest row), the person they were last assigned to and
    a dirty flag (changed since the people were last rebuilt); one compact row per person
    (summary, write target, what the shop holds); shops bound to their platform and URL;
    quarantine for stored rows that no longer decode. Existing records get their handles
    from their JSON and are all dirty, so the next run rebuilds every person once."""
    for column in ("customer_id TEXT", "email TEXT", "person_row INTEGER NOT NULL DEFAULT 0",
                   "guest_row INTEGER NOT NULL DEFAULT 0", "person_key TEXT",
                   "dirty INTEGER NOT NULL DEFAULT 1", "deleted INTEGER NOT NULL DEFAULT 0",
                   "seen TEXT", "order_ref TEXT"):
        cur.execute(f"ALTER TABLE records ADD COLUMN {column}")
    mark = "%s" if dialect == "postgres" else "?"
    cur.execute("SELECT shop, kind, id, data FROM records")
    updates = []
    for shop, kind, record_id, data in cur.fetchall():
        try:
            values = json.loads(data)
        except ValueError:
            values = {}
        if not isinstance(values, dict):
            values = {}
        customer_id = values.get("customer_id")
        email = values.get("email") if kind != "cart" else None
        updates.append((str(customer_id) if customer_id else None,
                        email if isinstance(email, str) and email else None,
                        int(kind == "customer"), int(kind == "customer" and
                                                     bool(values.get("is_guest"))),
                        shop, kind, record_id))
    for row in updates:
        cur.execute(f"UPDATE records SET customer_id = {mark}, email = {mark}, "  # noqa: S608
                    f"person_row = {mark}, guest_row = {mark} WHERE shop = {mark} AND "
                    f"kind = {mark} AND id = {mark}", row)
    statements = [
        "CREATE INDEX records_by_customer ON records (shop, customer_id)",
        "CREATE INDEX records_by_email ON records (shop, email)",
        "CREATE INDEX records_by_person ON records (shop, person_key)",
        "CREATE INDEX records_dirty ON records (shop, dirty)",
        "CREATE INDEX records_by_order ON records (shop, order_ref)",
        """CREATE TABLE people (
               shop TEXT NOT NULL, person_key TEXT NOT NULL, summary TEXT NOT NULL,
               valid_until TEXT, target TEXT NOT NULL, held TEXT NOT NULL,
               stale INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (shop, person_key))""",
        "CREATE INDEX people_stale ON people (shop, stale)",
        """CREATE TABLE shops (
               shop TEXT PRIMARY KEY, platform TEXT NOT NULL, url TEXT NOT NULL,
               bound_at TEXT NOT NULL, last_started TEXT, last_finished TEXT)""",
        """CREATE TABLE pending_stages (
               shop TEXT NOT NULL, person_key TEXT NOT NULL, stage TEXT NOT NULL,
               since TEXT NOT NULL, segments TEXT NOT NULL, PRIMARY KEY (shop, person_key))""",
        """CREATE TABLE pending_transitions (
               shop TEXT NOT NULL, person_key TEXT NOT NULL, from_stage TEXT,
               to_stage TEXT NOT NULL, since TEXT NOT NULL, reason TEXT NOT NULL)""",
        """CREATE TABLE quarantine (
               shop TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
               error TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (shop, kind, id))""",
    ]
    for statement in statements:
        cur.execute(statement)


MIGRATIONS: Sequence[Callable[[Cursor, Dialect], None]] = (_v1, _v2)
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(cur: Cursor) -> int:
    """The store's schema version (0 for an empty database); the table must exist."""
    cur.execute("SELECT version FROM schema_version")
    row = cur.fetchone()
    return int(row[0]) if row is not None else 0


def migrate(cur: Cursor, dialect: Dialect) -> tuple[int, int]:
    """Bring the schema to :data:`SCHEMA_VERSION` inside the caller's transaction; returns
    (version before, version after). Raises RuntimeError when the store was written by a newer
    journeybridge (its version is above the known one); nothing is changed then."""
    cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    before = current_version(cur)
    if before > SCHEMA_VERSION:
        raise RuntimeError(f"the state store has schema version {before}, newer than this "
                           f"journeybridge knows ({SCHEMA_VERSION}): upgrade journeybridge")
    for number in range(before + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[number - 1](cur, dialect)
    if before < SCHEMA_VERSION:
        cur.execute("DELETE FROM schema_version")
        cur.execute("INSERT INTO schema_version (version) VALUES (%s)" if dialect == "postgres"
                    else "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
    return before, SCHEMA_VERSION
