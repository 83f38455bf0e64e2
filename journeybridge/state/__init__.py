"""Where the sync engine keeps what it knows between runs: pulled records, cursors, each
person's last stage with a transition log, and run history.

``open_store(url)`` opens (and migrates) a store: ``sqlite:///<path>`` (the default, one file)
or ``postgresql://...`` (psycopg 3; several workers, one database). Each store has a per-shop
lock that the operating system or the database releases when the holder dies.
"""

from __future__ import annotations

from journeybridge.state.schema import SCHEMA_VERSION
from journeybridge.state.store import (
    KINDS,
    Records,
    RunRecord,
    ShopBusy,
    StageRow,
    StateStore,
    StateStoreError,
    Transition,
)

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "Records",
    "RunRecord",
    "ShopBusy",
    "StageRow",
    "StateStore",
    "StateStoreError",
    "Transition",
    "open_store",
]


def open_store(url: str) -> StateStore:
    """Open the store at ``url`` and bring its schema up to date. Promises a migrated store,
    or StateStoreError naming the store (password redacted) and the reason."""
    store: StateStore
    if url.startswith(("postgresql://", "postgres://")):
        from journeybridge.state.postgres import PostgresStore

        store = PostgresStore(url)
    elif url.startswith("sqlite:///"):
        from journeybridge.state.sqlite import SqliteStore

        store = SqliteStore(url.removeprefix("sqlite:///"))
    else:
        raise StateStoreError(f"unknown state store {url.split(':', 1)[0]!r}: expected a "
                              "sqlite:/// or postgresql:// URL")
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
