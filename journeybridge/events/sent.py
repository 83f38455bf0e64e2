"""Which event ids were already delivered to a destination (a Meta pixel), so a rerun never
sends an event twice.

One table, ``meta_sent_events (destination, event_id, sent_at)``, in the state database,
created if missing. It lives beside the sync state (:mod:`journeybridge.state`) and uses that
store's connection and transactions when one is given or the URL can be opened with it;
without the state package, a SQLite file is opened directly. The interface is two calls,
:meth:`SentEvents.already_sent` and :meth:`SentEvents.mark_sent`, so it can move.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

__all__ = ["SentEvents", "TransactionalStore"]

_CHUNK = 500
_CREATE = ("CREATE TABLE IF NOT EXISTS meta_sent_events ("
           "destination TEXT NOT NULL, event_id TEXT NOT NULL, sent_at TEXT NOT NULL, "
           "PRIMARY KEY (destination, event_id))")


class _Cursor(Protocol):
    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class TransactionalStore(Protocol):
    """What this module needs of a store: its SQL dialect, a transaction yielding a DB-API
    cursor, and ``close``. :class:`journeybridge.state.StateStore` fits."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgres``."""

    def transaction(self) -> AbstractContextManager[Any]:
        """A cursor inside one transaction."""

    def close(self) -> None:
        """Close the connection."""


class _SqliteFile:
    """A bare SQLite file, used only when the state package is not available."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._conn = sqlite3.connect(str(path), isolation_level=None, timeout=60.0)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            self._conn.rollback()
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    def close(self) -> None:
        self._conn.close()


class SentEvents:
    """The event ids delivered to ``destination`` (e.g. ``pixel:1234``), kept in ``store``."""

    def __init__(self, store: TransactionalStore, destination: str, *,
                 owns_store: bool = False) -> None:
        self.store = store
        self.destination = destination
        self._owns = owns_store
        self._mark = "%s" if store.dialect == "postgres" else "?"
        with store.transaction() as cur:
            cur.execute(_CREATE)

    @classmethod
    def open(cls, url: str, destination: str) -> SentEvents:
        """Open the state database at ``url`` (``sqlite:///path``, a plain file path, or
        ``postgresql://...``) and the sent-event table in it (created if missing)."""
        if url.startswith(("postgresql://", "postgres://", "sqlite:///")):
            target = url
        else:
            target = f"sqlite:///{Path(url).expanduser().resolve()}"
        try:
            from journeybridge.state import open_store
        except ImportError:  # pragma: no cover - the state package ships with journeybridge
            if not target.startswith("sqlite:///"):
                raise
            return cls(_SqliteFile(Path(target.removeprefix("sqlite:///"))), destination,
                       owns_store=True)
        return cls(open_store(target), destination, owns_store=True)

    def close(self) -> None:
        """Close the store if this object opened it."""
        if self._owns:
            self.store.close()

    def __enter__(self) -> SentEvents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def already_sent(self, ids: Iterable[str]) -> set[str]:
        """The subset of ``ids`` already delivered to this destination."""
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        with self.store.transaction() as cur:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                marks = ", ".join(self._mark for _ in chunk)
                cur.execute(f"SELECT event_id FROM meta_sent_events WHERE "  # noqa: S608
                            f"destination = {self._mark} AND event_id IN ({marks})",
                            (self.destination, *chunk))
                found.update(str(row[0]) for row in cur.fetchall())
        return found

    def mark_sent(self, ids: Iterable[str], at: datetime | None = None) -> None:
        """Remember ``ids`` as delivered (idempotent), in one transaction."""
        when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat()
        rows = [(self.destination, event_id, when) for event_id in dict.fromkeys(ids)]
        if not rows:
            return
        sql = (f"INSERT INTO meta_sent_events (destination, event_id, sent_at) "  # noqa: S608
               f"VALUES ({self._mark}, {self._mark}, {self._mark}) "
               "ON CONFLICT (destination, event_id) DO NOTHING")
        with self.store.transaction() as cur:
            for row in rows:
                cur.execute(sql, row)
