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
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from journeybridge.errors import ShopBusy, StateStoreError
from journeybridge.state.schema import Cursor, Dialect, migrate

__all__ = [
    "KINDS",
    "Records",
    "RunRecord",
    "ShopBusy",
    "StageRow",
    "StateStore",
    "StateStoreError",
    "Transition",
]

KINDS = ("customer", "order", "review")
"""The kinds of pulled records kept in ``records``."""

Records = dict[str, dict[str, str]]
"""Pulled records of one shop: kind -> record id -> compact JSON."""


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

    def commit_run(self, run: RunRecord, *, stages: Mapping[str, StageRow] | None = None,
                   removed: Sequence[str] = (), transitions: Sequence[Transition] = (),
                   cursors: Mapping[str, str] | None = None) -> int:
        """In one transaction: set ``stages`` (person key -> row), forget ``removed`` people,
        append ``transitions``, set ``cursors`` and record ``run``. Returns the run's id."""
        shop = run.shop
        with self.transaction() as cur:
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
