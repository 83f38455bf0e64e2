"""The sync engine as a library over real HTTP against the sandbox shop: the first run writes
everyone, the second nothing; incremental runs see changed and trashed orders; a dry run
touches neither shop nor state; failures are recorded without moving the cursor."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from journeybridge.config import Config, ShopConfig, load_config, load_secrets
from journeybridge.errors import PermissionDenied, ShopBusy
from journeybridge.sandbox import Faults, OrderStatus
from journeybridge.state import StateStore, open_store
from journeybridge.state.records import keep_own_write_stamp
from journeybridge.sync import (
    CURSOR_FULL,
    CURSOR_ORDERS,
    ShopSync,
    shop_journeys,
    sync_shop,
)
from tests.sync_support import (
    CLASSIFY_AT,
    PREFIX,
    Shop,
    postgres_schema,
    sandbox_shop,
    shop_env,
    shop_meta,
)

AT = datetime.fromisoformat(CLASSIFY_AT)


# -- pure parts -----------------------------------------------------------------------------

def order_json(order_id: str, status: str = "paid", modified: str = "2026-04-01T10:00:00Z",
               meta: dict[str, str] | None = None) -> str:
    data: dict[str, object] = {
        "id": order_id, "status": status, "raw_status": "processing", "currency": "EUR",
        "total": "10", "created_at": "2026-03-01T10:00:00Z", "modified_at": modified}
    if meta:
        data["meta"] = meta
    return json.dumps(data)


def test_our_own_write_back_does_not_count_as_an_order_change() -> None:
    stored = order_json("10")
    ours = order_json("10", modified="2026-05-01T12:00:00Z", meta={f"{PREFIX}stage": "x"})
    kept = json.loads(keep_own_write_stamp(stored, ours, PREFIX))
    assert kept["modified_at"] == "2026-04-01T10:00:00Z"  # the status change time stands
    assert kept["meta"] == {f"{PREFIX}stage": "x"}  # and the shop's meta is what it holds
    theirs = order_json("10", status="cancelled", modified="2026-05-01T12:00:00Z",
                        meta={f"{PREFIX}stage": "x"})
    changed = json.loads(keep_own_write_stamp(stored, theirs, PREFIX))
    assert changed["modified_at"] == "2026-05-01T12:00:00Z"


# -- over HTTP ------------------------------------------------------------------------------

@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    with sandbox_shop(tmp_path, size=120, seed=7) as running:
        yield running


def setup(shop: Shop) -> tuple[Config, ShopConfig, StateStore]:
    config = load_config(shop.config)
    store = open_store(config.state_url())
    return config, config.shops["sand"], store


def run(shop: Shop, config: Config, target: ShopConfig, store: StateStore, *,
        read_only: bool = False, **options: object) -> ShopSync:
    secrets = load_secrets(config, target, shop_env(shop.server, read_only=read_only))
    return sync_shop(config, target, store, secrets, now=AT, **options)  # type: ignore[arg-type]


def writes(shop: Shop) -> int:
    paths = shop.server.stats.by_path()
    return sum(n for p, n in paths.items() if p.endswith("/batch") or "/orders/" in p)


def test_first_run_writes_everyone_and_the_second_run_writes_nothing(shop: Shop) -> None:
    config, target, store = setup(shop)
    with store:
        first = run(shop, config, target, store)
        assert first.status == "ok", first.error
        assert first.run.mode == "full"
        assert first.run.written == first.run.planned == first.run.people
        assert first.run.changed == first.run.people == len(first.moves)
        meta = shop_meta(shop.population)
        guests = [k for k in meta if k.startswith("order:")]
        assert len(meta) == first.run.people and guests  # every person, guests on an order
        stages = store.stages("sand")
        assert len(stages) == first.run.people
        some = next(k for k in meta if k.startswith("customer:"))
        assert meta[some][f"{PREFIX}stage"] == stages[some].stage
        assert meta[some][f"{PREFIX}stage_since"] == stages[some].since
        # repeat buyers carry their expected next order date; the lapsed never do
        dated = {k: m[f"{PREFIX}next_order_expected"] for k, m in meta.items()
                 if k.startswith("customer:") and m.get(f"{PREFIX}next_order_expected")}
        assert dated
        for key, value in dated.items():
            assert date.fromisoformat(value) and stages[key].stage != "lapsed"
        cursors = store.cursors("sand")
        assert {CURSOR_ORDERS, CURSOR_FULL} <= set(cursors)

        shop.server.stats.reset()
        second = run(shop, config, target, store)
        assert second.status == "ok", second.error
        assert second.run.mode == "incremental"
        assert (second.run.planned, second.run.written, second.run.changed) == (0, 0, 0)
        assert second.moves == []
        assert writes(shop) == 0
        assert shop_meta(shop.population) == meta
        assert [r.status for r in store.runs("sand")] == ["ok", "ok"]


def test_a_dry_run_touches_neither_the_shop_nor_the_state(shop: Shop) -> None:
    config, target, store = setup(shop)
    with store:
        result = run(shop, config, target, store, dry_run=True)
        assert result.status == "ok"
        assert result.run.planned == result.run.people == len(result.moves) > 0
        assert result.run.written == 0
        assert writes(shop) == 0
        assert shop_meta(shop.population) == {}
        assert store.runs("sand") == [] and store.cursors("sand") == {}
        assert store.load_records("sand") == {"customer": {}, "order": {}, "review": {}}
        # after a real run, a dry run shows exactly the pending changes: none
        run(shop, config, target, store)
        shop.server.stats.reset()
        again = run(shop, config, target, store, dry_run=True)
        assert (again.moves, again.run.planned, writes(shop)) == ([], 0, 0)


def test_an_incremental_run_moves_exactly_the_changed_people(shop: Shop) -> None:
    config, target, store = setup(shop)
    with store:
        run(shop, config, target, store)
        customer = next(c for c in shop.population.customers()
                        if shop.population.customer_orders(c.id))
        key = f"customer:{customer.id}"
        before = store.stages("sand")[key]
        for order in shop.population.customer_orders(customer.id):
            shop.population.update_order(order.id, status=OrderStatus.TRASH)
        new = shop.population.add_order(customer.id, status=OrderStatus.PROCESSING,
                                        at=AT - timedelta(hours=2))
        result = run(shop, config, target, store)
        assert result.status == "ok", result.error
        assert result.run.mode == "incremental"
        assert result.run.trashed >= 1
        # the shop's rhythm is measured from everyone, so a neighbour may move too
        move = next(m for m in result.moves if m.person_key == key)
        assert len(result.moves) <= 3
        assert (move.from_stage, move.to_stage) == (before.stage, "purchase")
        assert move.reason.startswith("first purchase paid")
        assert result.run.written == result.run.changed == result.run.planned >= 1
        orders = store.load_records("sand")["order"]
        assert str(new.id) in orders
        assert not any(str(o.id) in orders
                       for o in shop.population.customer_orders(customer.id)
                       if o.id != new.id)
        (transition, *_) = store.transitions("sand", key)
        assert (transition.from_stage, transition.to_stage) == (before.stage, "purchase")
        assert shop_meta(shop.population)[key][f"{PREFIX}stage"] == "purchase"


def test_a_refused_write_fails_the_run_and_moves_no_cursor(shop: Shop) -> None:
    config, target, store = setup(shop)
    with store:
        result = run(shop, config, target, store, read_only=True)
        assert result.status == "failed"
        assert isinstance(result.error, PermissionDenied)
        (recorded,) = store.runs("sand")
        assert recorded.status == "failed"
        assert "read-only" in recorded.errors[0]
        assert store.cursors("sand") == {} and store.stages("sand") == {}
        # the records pulled are kept (idempotent), so the next run only has to write
        assert store.load_records("sand")["customer"]
        ok = run(shop, config, target, store)
        assert ok.status == "ok" and ok.run.mode == "full"


def test_a_full_pull_comes_back_after_full_pull_days(shop: Shop) -> None:
    config, target, store = setup(shop)
    with store:
        run(shop, config, target, store)
        assert run(shop, config, target, store, dry_run=True).run.mode == "incremental"
        assert run(shop, config, target, store, dry_run=True, full=True).run.mode == "full"
        store.commit_run(store.runs("sand")[0],
                         cursors={CURSOR_FULL: "2020-01-01T00:00:00+00:00"})
        assert run(shop, config, target, store, dry_run=True).run.mode == "full"


def test_malformed_records_make_a_partial_run(tmp_path: Path) -> None:
    faults = Faults(malformed_customer_ids=frozenset({3}))
    with sandbox_shop(tmp_path, size=120, seed=2, faults=faults) as broken:
        config, target, store = setup(broken)
        with store:
            result = run(broken, config, target, store)
            assert result.status == "partial"
            assert result.run.skipped == 1 and len(result.failures) == 1
            assert store.runs("sand")[0].status == "partial"
            assert CURSOR_ORDERS in store.cursors("sand")  # the rest was synced


def test_the_same_sync_on_a_postgresql_store(tmp_path: Path) -> None:
    with postgres_schema() as url, sandbox_shop(tmp_path, size=80, seed=12, state=url) as shop:
        config, target, store = setup(shop)
        assert config.state_url() == url
        with store:
            first = run(shop, config, target, store)
            assert first.status == "ok", first.error
            assert first.run.written == first.run.people
            second = run(shop, config, target, store)
            assert (second.run.mode, second.run.planned, second.run.written) == (
                "incremental", 0, 0)
            assert len(store.stages("sand")) == first.run.people
            assert [r.mode for r in store.runs("sand")] == ["incremental", "full"]


def test_a_busy_shop_is_logged_as_information(shop: Shop,
                                              caplog: pytest.LogCaptureFixture) -> None:
    config, target, store = setup(shop)
    with store, store.lock("sand"), caplog.at_level(logging.INFO, "journeybridge"):
        result = run(shop, config, target, store)
    assert result.status == "busy" and isinstance(result.error, ShopBusy)
    busy = [r for r in caplog.records if getattr(r, "event", "") == "shop_busy"]
    assert len(busy) == 1 and busy[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_reused_shop_name_stops_before_writing_and_reset_state_starts_afresh(
        shop: Shop, tmp_path: Path) -> None:
    from journeybridge.errors import ShopMismatch

    config, target, store = setup(shop)
    with store:
        assert run(shop, config, target, store).status == "ok"
        with sandbox_shop(tmp_path / "other", size=60, seed=99) as other:
            moved = target.model_copy(update={"url": other.server.url})
            secrets = load_secrets(config, moved, shop_env(other.server))
            refused = sync_shop(config, moved, store, secrets, now=AT)
            assert isinstance(refused.error, ShopMismatch) and refused.status == "failed"
            assert "--reset-state" in str(refused.error)
            assert shop_meta(other.population) == {}  # nothing written to the other shop
            assert refused.run.requests == 0
            fresh = sync_shop(config, moved, store, secrets, now=AT, reset=True)
            assert fresh.status == "ok" and fresh.run.mode == "full"
            assert fresh.run.people == len(store.stages("sand")) < 100
            assert shop_meta(other.population)


def test_an_unexpected_error_still_records_the_run(shop: Shop, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    import journeybridge.sync as engine
    from journeybridge.errors import UnexpectedError

    def broken(*_: object, **__: object) -> None:
        raise KeyError("a bug")

    config, target, store = setup(shop)
    with store:
        monkeypatch.setattr(engine, "_classify", broken)
        with caplog.at_level(logging.DEBUG, "journeybridge"):
            result = run(shop, config, target, store)
        assert isinstance(result.error, UnexpectedError) and result.status == "failed"
        assert "KeyError" in str(result.error) and "\n" not in str(result.error)
        (recorded,) = store.runs("sand")
        assert recorded.status == "failed" and "unexpected error" in recorded.errors[0]
        assert store.cursors("sand") == {}  # the cursor did not move
        assert any(r.exc_info for r in caplog.records if getattr(r, "event", "") == "traceback")
        monkeypatch.undo()
        assert run(shop, config, target, store).status == "ok"  # the rerun continues


def test_changed_stage_settings_rebuild_every_summary_and_decide_as_a_fresh_store(
        shop: Shop, tmp_path: Path) -> None:
    config, target, store = setup(shop)
    with store:
        assert run(shop, config, target, store).status == "ok"
        before = {k: s.stage for k, s in store.stages("sand").items()}
        # other stage windows over the same state: every stored summary is for the old ones
        settings = config.stages.settings.model_copy(
            update={"consideration_window_days": 2.0, "service_window_days": 1.0,
                    "advocacy_min_orders": 2})
        changed = config.model_copy(update={"stages": config.stages.model_copy(
            update={"settings": settings})})
        again = run(shop, changed, target, store)
        assert again.status == "ok", again.error
        stored = {k: s.stage for k, s in store.stages("sand").items()}
    with open_store(f"sqlite:///{tmp_path / 'fresh.sqlite'}") as fresh:
        assert run(shop, changed, target, fresh).status == "ok"
        assert {k: s.stage for k, s in fresh.stages("sand").items()} == stored
    assert stored != before and stored.keys() == before.keys()


def test_refunds_carry_their_dates_and_our_write_back_does_not_move_them(shop: Shop) -> None:
    config, target, store = setup(shop)
    with store:
        first = run(shop, config, target, store)
        assert first.status == "ok", first.error
        refunds = [(j.key, o.id, r) for j in shop_journeys(store, target)
                   for o in j.orders for r in o.refunds]
        assert refunds and all(r.at is not None for _, _, r in refunds)
        for key, order_id, refund in refunds:
            generated = shop.population.order(int(order_id))
            assert generated is not None
            assert refund.at == next(g.date_created for g in generated.refunds
                                     if str(g.id) == refund.id), (key, order_id)
        # the guests' values went onto their latest orders, which changed their modification
        # time: the incremental run re-reads those orders and refunds, nobody moves
        second = run(shop, config, target, store)
        assert second.status == "ok" and second.moves == [] and second.run.written == 0


def test_a_refund_made_today_puts_a_loyal_customer_in_service(shop: Shop) -> None:
    config, target, store = setup(shop)
    with store:
        assert run(shop, config, target, store).status == "ok"
        stages = store.stages("sand")
        journeys = {j.key: j for j in shop_journeys(store, target)}
        key = next(k for k, s in sorted(stages.items())
                   if s.stage in ("loyalty", "advocacy") and k.startswith("customer:"))
        latest = max((o for o in journeys[key].orders if o.status.is_paid and not o.refunds),
                     key=lambda o: o.created_at)
        shop.population.update_order(int(latest.id), status="refunded",
                                     at=AT - timedelta(hours=3))
        again = run(shop, config, target, store)
        assert again.status == "ok", again.error
        # (others may move too: the refund changes the shop's rhythm they are judged by)
        move = next(m for m in again.moves if m.person_key == key)
        assert move.to_stage == "service" and "refund" in move.reason.lower()
        refund = next(r for o in next(j for j in shop_journeys(store, target)
                                      if j.key == key).orders
                      if o.id == latest.id for r in o.refunds)
        assert refund.at == AT - timedelta(hours=3)


def test_reading_back_our_own_write_back_rebuilds_nobody(
        shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    config, target, store = setup(shop)
    with store:
        assert run(shop, config, target, store).status == "ok"
        # the write-back saved customers and guests' orders: the shop bumped their
        # date_modified, so the next pull reads them again, changed only in our own meta
        caplog.clear()
        with caplog.at_level(logging.INFO, "journeybridge"):
            again = run(shop, config, target, store)
        assert again.status == "ok" and again.run.written == 0
    decided = [r for r in caplog.records if getattr(r, "event", "") == "planned"]
    assert len(decided) == 1 and decided[0].rebuilt == 0
    pulled = [r for r in caplog.records if getattr(r, "event", "") == "pulled"]
    assert pulled[0].orders > 0  # it did read those orders again
