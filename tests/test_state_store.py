"""The state store's contract, run against SQLite and (when JOURNEYBRIDGE_TEST_POSTGRES_URL is
set; always in CI) PostgreSQL: migrations, idempotent record upserts, atomic run commits, run
history, and per-shop locks that die with their holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from journeybridge.state import (
    SCHEMA_VERSION,
    RunRecord,
    ShopBusy,
    StageRow,
    StateStore,
    StateStoreError,
    Transition,
    open_store,
)
from tests.sync_support import ROOT, child_env, postgres_schema


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    with open_store(store_url) as opened:
        yield opened


def test_a_new_store_is_migrated_and_reopening_changes_nothing(store_url: str) -> None:
    with open_store(store_url) as first:
        assert first.migrate() == (SCHEMA_VERSION, SCHEMA_VERSION)
        first.save_records("s", {"order": {"1": "{}"}}, {})
    with open_store(store_url) as again:
        assert again.load_records("s")["order"] == {"1": "{}"}


def test_a_store_from_a_newer_journeybridge_is_refused(store_url: str) -> None:
    with open_store(store_url) as store, store.transaction() as cur:
        cur.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StateStoreError, match="schema version 99, newer than this "
                                              "journeybridge knows"):
        open_store(store_url)


def test_records_upsert_and_delete_idempotently(store: StateStore) -> None:
    store.save_records("s", {"customer": {"1": "a", "2": "b"}, "order": {"7": "x"}}, {})
    store.save_records("s", {"customer": {"1": "a2"}}, {"order": ["7", "8"]})
    store.save_records("s", {"customer": {"1": "a2"}}, {"order": ["7", "8"]})
    store.save_records("other", {"customer": {"1": "theirs"}}, {})
    records = store.load_records("s")
    assert records == {"customer": {"1": "a2", "2": "b"}, "order": {}, "review": {}}
    assert store.load_records("other")["customer"] == {"1": "theirs"}


def run_record(shop: str = "s", **values: object) -> RunRecord:
    return RunRecord(shop=shop, started_at="2026-05-01T12:00:00+00:00",
                     finished_at="2026-05-01T12:00:03+00:00", **values)  # type: ignore[arg-type]


def test_a_run_commits_stages_transitions_cursors_and_history_together(
        store: StateStore) -> None:
    run_id = store.commit_run(
        run_record(customers=3, written=2, errors=["customer 9: refused"]),
        stages={"customer:1": StageRow("loyalty", "2026-01-02", ("repeat", "vip")),
                "guest:a@b.nl": StageRow("purchase", "2026-04-01")},
        transitions=[Transition("customer:1", None, "loyalty", "2026-01-02",
                                "2026-05-01T12:00:00+00:00", "a repeat buyer")],
        cursors={"orders": "2026-05-01T11:55:00+00:00"})
    assert run_id > 0
    assert store.stages("s") == {
        "customer:1": StageRow("loyalty", "2026-01-02", ("repeat", "vip")),
        "guest:a@b.nl": StageRow("purchase", "2026-04-01", ())}
    assert store.cursors("s") == {"orders": "2026-05-01T11:55:00+00:00"}
    assert store.transitions("s")[0].reason == "a repeat buyer"
    second = store.commit_run(run_record(status="partial"),
                              stages={"customer:1": StageRow("at_risk", "2026-04-20")},
                              removed=["guest:a@b.nl"],
                              transitions=[Transition("customer:1", "loyalty", "at_risk",
                                                      "2026-04-20", "t", "slipping")],
                              cursors={"orders": "2026-05-01T12:10:00+00:00"})
    assert second > run_id
    assert store.stages("s") == {"customer:1": StageRow("at_risk", "2026-04-20", ())}
    assert [t.to_stage for t in store.transitions("s", "customer:1")] == ["at_risk", "loyalty"]
    runs = store.runs("s")
    assert [r.id for r in runs] == [second, run_id]
    assert runs[1].errors == ["customer 9: refused"]
    assert (runs[1].customers, runs[1].written, runs[0].status) == (3, 2, "partial")
    assert store.runs("nobody") == []


def test_a_failed_commit_changes_nothing(store: StateStore) -> None:
    store.commit_run(run_record(), cursors={"orders": "old"})

    class Boom(Exception):
        pass

    def change_then_fail() -> None:
        with store.transaction() as cur:
            cur.execute(store._sql("UPDATE cursors SET value = ? WHERE shop = ?"), ("new", "s"))
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()
    assert store.cursors("s") == {"orders": "old"}
    assert len(store.runs("s")) == 1


def test_a_held_lock_refuses_a_second_holder_at_once(store_url: str) -> None:
    with open_store(store_url) as one, open_store(store_url) as two:
        with one.lock("shop-a"):
            started = time.monotonic()
            with pytest.raises(ShopBusy, match="'shop-a' is being synced by another"), \
                    two.lock("shop-a"):
                pass
            assert time.monotonic() - started < 1.0
            with two.lock("shop-b"):  # other shops are free
                pass
            with pytest.raises(ShopBusy), two.lock("shop-a", timeout=0.3):  # waits, gives up
                pass
        with two.lock("shop-a"):  # released at the end of the block
            pass


HOLDER = """
import sys, time
from journeybridge.state import open_store
store = open_store(sys.argv[1])
with store.lock("shop-a"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_sigkilled_holder_leaves_no_stale_lock(store_url: str) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, store_url], stdout=subprocess.PIPE,
                              text=True, env=child_env({}), cwd=ROOT)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with open_store(store_url) as store:
            with pytest.raises(ShopBusy), store.lock("shop-a"):
                pass
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(timeout=10)
            with store.lock("shop-a", timeout=5):  # PostgreSQL notices within moments
                pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_unknown_store_urls_are_refused() -> None:
    with pytest.raises(StateStoreError, match="unknown state store 'mysql'"):
        open_store("mysql://x/y")


def test_an_unreachable_postgres_is_reported_without_its_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StateStoreError) as caught:
        open_store("postgresql://jb:s3cret@127.0.0.1:1/none?connect_timeout=2")
    assert "cannot connect to the state store" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'deep' / 'state.db'}"):
        pass
    assert (tmp_path / "deep" / "state.db").stat().st_mode & 0o077 == 0




# -- damaged or foreign state files (issue 17) -------------------------------------------------

def test_an_empty_state_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"")
    with pytest.raises(StateStoreError, match="empty"):
        open_store(f"sqlite:///{path}")
    assert path.read_bytes() == b""


def test_a_foreign_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    import sqlite3

    text = tmp_path / "notes.db"
    text.write_text("my notes", encoding="utf-8")
    with pytest.raises(StateStoreError, match="not an SQLite database"):
        open_store(f"sqlite:///{text}")
    assert text.read_text(encoding="utf-8") == "my notes"
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(StateStoreError, match="another program"):
        open_store(f"sqlite:///{other}")
    assert other.read_bytes() == before


def test_a_store_is_never_left_unmarked_and_an_old_one_is_adopted(tmp_path: Path) -> None:
    import sqlite3

    from journeybridge.state.sqlite import APPLICATION_ID

    path = tmp_path / "state.db"
    # a run killed while creating its store leaves at most a temporary file beside it
    (tmp_path / ".state.db.4242.new").write_bytes(b"")
    with open_store(f"sqlite:///{path}") as store:
        store.commit_run(run_record())
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.execute("PRAGMA application_id = 0")  # as a store from before the marking
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        assert len(store.runs("s")) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


def test_a_state_file_readable_by_others_is_made_private(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    path = tmp_path / "state.db"
    open_store(f"sqlite:///{path}").close()
    path.chmod(0o644)
    with caplog.at_level("WARNING"), open_store(f"sqlite:///{path}"):
        pass
    assert path.stat().st_mode & 0o777 == 0o600
    assert any("readable by others" in r.getMessage() for r in caplog.records)


def test_a_shop_name_is_bound_to_its_shop(store_url: str) -> None:
    from journeybridge.errors import ShopMismatch

    with open_store(store_url) as store:
        store.bind_shop("s", "woocommerce", "https://a.example", "2026-01-01T00:00:00+00:00")
        store.bind_shop("s", "woocommerce", "https://A.example/", "2026-01-02T00:00:00+00:00")
        for platform, url in (("woocommerce", "https://b.example"),
                              ("prestashop", "https://a.example")):
            with pytest.raises(ShopMismatch, match="--reset-state"):
                store.bind_shop("s", platform, url, "2026-01-03T00:00:00+00:00")
        store.reset_shop("s")
        store.bind_shop("s", "prestashop", "https://a.example", "2026-01-04T00:00:00+00:00")
