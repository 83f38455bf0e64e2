"""The SQLite state store: one file (WAL journal, owner-only permissions), and per-shop locks
held with ``flock`` on a lock file beside it, which the OS releases when the process ends, how
ever it ends (SIGKILL included), so a killed run never leaves a stale lock."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from journeybridge.state.schema import Cursor, Dialect
from journeybridge.state.store import ShopBusy, StateStore, StateStoreError

__all__ = ["SqliteStore"]

_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_POLL = 0.1


class SqliteStore(StateStore):
    """A state store in the SQLite file at ``path`` (created with its directory if missing)."""

    dialect: ClassVar[Dialect] = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser().resolve()
        self.url = f"sqlite:///{self.path}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():  # customer records inside: owner only
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=60.0,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except (OSError, sqlite3.Error) as exc:
            raise StateStoreError(f"{self.path}: cannot open the state store: {exc}") from None
        self._closed = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on an exception)."""
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StateStoreError(f"{self.path}: {exc}") from None
        try:
            yield cur
            cur.execute("COMMIT")
        except sqlite3.Error as exc:
            self._conn.rollback()
            raise StateStoreError(f"{self.path}: {exc}") from None
        except BaseException:
            self._conn.rollback()
            raise
        finally:
            cur.close()

    def _executemany(self, cur: Cursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        assert isinstance(cur, sqlite3.Cursor)
        cur.executemany(sql, rows)

    def lock_path(self, shop: str) -> Path:
        """The lock file of ``shop`` (beside the database)."""
        safe = shop if _SAFE.match(shop) else hashlib.sha256(shop.encode()).hexdigest()[:16]
        return self.path.with_name(f"{self.path.name}.{safe}.lock")

    @contextlib.contextmanager
    def lock(self, shop: str, timeout: float = 0.0) -> Iterator[None]:
        """``flock`` on the shop's lock file; :class:`ShopBusy` after ``timeout`` seconds."""
        path = self.lock_path(shop)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ShopBusy(f"shop {shop!r} is being synced by another run "
                                       f"(lock {path} is held); try again later") from None
                    time.sleep(_POLL)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        if not self._closed:
            self._closed = True
            self._conn.close()
