"""The SQLite state store: one file (WAL journal, owner-only permissions), and per-shop locks
held with ``flock`` on a lock file beside it, which the OS releases when the process ends, how
ever it ends (SIGKILL included), so a killed run never leaves a stale lock."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
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
APPLICATION_ID = 0x4A427331
"""SQLite's ``application_id`` of a journeybridge state file ("JBs1"): a file without it is
not ours and is never written."""

log = logging.getLogger("journeybridge.state")


def _create(path: Path) -> None:
    """A new, empty state file: made beside ``path`` (owner-only), marked with
    :data:`APPLICATION_ID` and committed, then renamed into place, so a file at ``path`` is
    either ours or was never touched by us (a run killed here leaves at most a stray
    temporary file, never an unmarked state file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    os.close(os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    try:
        conn = sqlite3.connect(str(temporary), isolation_level=None)
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        finally:
            conn.close()
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _recognise(path: Path) -> None:
    """Refuse a file at the state path that is not a journeybridge state store (empty, not
    SQLite, or SQLite of another program), never overwriting it; adopt a store written before
    stores were marked; make a store readable by others private again, saying so."""
    if path.stat().st_size == 0:
        raise StateStoreError(
            f"{path}: the state file is empty (0 bytes), so it is not a journeybridge state "
            "store (a store is never left empty, even by a killed run); nothing was changed: "
            "move it away or point [sync] state at another file")
    with path.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(b"SQLite format 3\x00"):
        raise StateStoreError(f"{path}: this file is not a journeybridge state store (not an "
                              "SQLite database); nothing was changed")
    application_id = int.from_bytes(header[68:72], "big")
    if application_id != APPLICATION_ID:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
        if application_id != 0 or not {"schema_version", "records", "runs"} <= tables:
            raise StateStoreError(f"{path}: this SQLite database belongs to another program "
                                  "(it is not a journeybridge state store); nothing was "
                                  "changed")
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        finally:
            conn.close()
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("the state file %s was readable by others (mode %o); it holds customer "
                    "records, so it is now private (0600)", path, mode)



class SqliteStore(StateStore):
    """A state store in the SQLite file at ``path`` (created with its directory if missing)."""

    dialect: ClassVar[Dialect] = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser().resolve()
        self.url = f"sqlite:///{self.path}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                _create(self.path)
            else:
                _recognise(self.path)
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
