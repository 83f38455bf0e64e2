"""The PostgreSQL state store (psycopg 3), for agencies running many shops from several
workers: the same schema as SQLite, and per-shop locks with ``pg_try_advisory_lock`` held by
this store's session, which PostgreSQL releases when the session ends, also when the worker
is killed (the server notices the closed connection)."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from journeybridge.config import redact_url
from journeybridge.state.schema import Cursor, Dialect
from journeybridge.state.store import ShopBusy, StateStore, StateStoreError

__all__ = ["PostgresStore", "advisory_key"]

_POLL = 0.2


def advisory_key(shop: str) -> int:
    """The signed 64-bit advisory-lock key of ``shop`` (stable across processes)."""
    digest = hashlib.blake2b(f"journeybridge:{shop}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresStore(StateStore):
    """A state store in the PostgreSQL database at ``url`` (``postgresql://...``)."""

    dialect: ClassVar[Dialect] = "postgres"

    def __init__(self, url: str, *, connect_timeout: int = 10) -> None:
        try:
            import psycopg
        except ImportError:
            raise StateStoreError("a postgresql:// state store needs psycopg: "
                                  "pip install 'journeybridge[postgres]'") from None
        self.url = redact_url(url)
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout,
                                         application_name="journeybridge")
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StateStoreError(f"{self.url}: cannot connect to the state store: "
                                  f"{redact_url(reason)}") from None
        self._closed = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor inside one transaction (committed at the end, rolled back on an error)."""
        import psycopg

        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                yield cur
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StateStoreError(f"{self.url}: {redact_url(reason)}") from None

    def _executemany(self, cur: Cursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        cur.executemany(sql, rows)  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def lock(self, shop: str, timeout: float = 0.0) -> Iterator[None]:
        """``pg_try_advisory_lock`` on the shop's key; :class:`ShopBusy` after ``timeout``."""
        import psycopg

        key = advisory_key(shop)
        deadline = time.monotonic() + timeout
        while True:
            try:
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            except psycopg.Error as exc:
                raise StateStoreError(f"{self.url}: cannot take the lock of shop {shop!r}: "
                                      f"{redact_url(str(exc).strip())}") from None
            if row is not None and row[0]:
                break
            if time.monotonic() >= deadline:
                raise ShopBusy(f"shop {shop!r} is being synced by another worker (advisory "
                               f"lock {key} in {self.url} is held); try again later")
            time.sleep(_POLL)
        try:
            yield
        finally:
            if not self._conn.closed:
                with contextlib.suppress(psycopg.Error):  # a lost session released it already
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        """Close the session (releasing any lock it still holds; idempotent)."""
        if not self._closed:
            self._closed = True
            self._conn.close()
