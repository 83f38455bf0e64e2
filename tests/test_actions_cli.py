"""Next actions end to end on sandbox shops, through the CLI: sync writes each person's open
action back (WooCommerce meta, PrestaShop groups), a second sync writes nothing, an expired
action is cleared, and ``journeybridge actions`` lists exactly what was written."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from journeybridge.actions import ActionKind
from journeybridge.sandbox import Population
from tests.sync_support import (
    CLASSIFY_AT,
    PREFIX,
    Shop,
    invoke,
    sandbox_shop,
    shop_meta,
    summary,
    write_config,
)
from tests.test_sync_presta import presta_shop


def _sync(shop: Shop, now: str = CLASSIFY_AT) -> dict[str, Any]:
    result = invoke(["sync", "--now", now, "--config", str(shop.config)], shop.env)
    assert result.exit_code == 0, result.output + result.stderr
    row: dict[str, Any] = summary(result.stdout)["shops"][0]
    return row


def _listed(shop: Shop, now: str = CLASSIFY_AT) -> list[dict[str, Any]]:
    result = invoke(["actions", "--now", now, "--config", str(shop.config)], shop.env)
    assert result.exit_code == 0, result.output + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _written(population: Population) -> dict[str, dict[str, str]]:
    """Person key -> the action values the shop holds (customers on their record, guests on
    their latest order: found by the order's billing e-mail)."""
    found = {}
    for key, meta in shop_meta(population).items():
        kind = meta.get(f"{PREFIX}next_action", "")
        if not kind:
            continue
        if key.startswith("order:"):
            order = population.order(int(key.split(":")[1]))
            assert order is not None
            key = f"guest:{order.billing.email.strip().lower()}"
        found[key] = {"kind": kind, "due": meta[f"{PREFIX}next_action_due"],
                      "id": meta[f"{PREFIX}next_action_id"]}
    return found


def test_woocommerce_sync_writes_actions_second_sync_nothing_actions_lists_them(
        tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=300, seed=5) as shop:
        first = _sync(shop)
        assert first["written"] > 0
        written = _written(shop.population)
        kinds = {v["kind"] for v in written.values()}
        assert {"review_request", "payment_help"} <= kinds, kinds
        assert kinds <= {k.value for k in ActionKind}
        second = _sync(shop)
        assert (second["planned"], second["written"], second["changed"]) == (0, 0, 0)
        listed = _listed(shop)
        assert {row["person"]: {"kind": row["kind"], "id": row["id"],
                                "due": datetime.fromisoformat(row["due"]).isoformat(
                                    timespec="seconds")}
                for row in listed} == written
        tracked = [r for r in listed if r["kind"] == "track_and_trace"]
        assert tracked and all(r["tracking_number"] and r["carrier"] for r in tracked)
        assert all(r["reason"] and r["expires"] > r["due"] for r in listed)


def test_an_expired_action_is_cleared_on_the_next_sync(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=200, seed=7) as shop:
        _sync(shop)
        before = _written(shop.population)
        listed = {r["person"]: r for r in _listed(shop)}
        carts = [k for k, v in before.items() if v["kind"] in ("cart_reminder", "payment_help")]
        assert carts
        latest = max(datetime.fromisoformat(listed[k]["expires"]) for k in carts)
        later = (latest + timedelta(seconds=1)).isoformat()
        _sync(shop, later)
        after = _written(shop.population)
        for key in carts:  # expired: cleared, or another action with another id
            assert after.get(key, {}).get("id") != before[key]["id"]
        assert _sync(shop, later)["planned"] == 0


def test_prestashop_sync_puts_people_in_one_action_group_each(tmp_path: Path) -> None:
    with presta_shop(tmp_path, size=150) as shop:
        first = _sync(shop)
        assert first["status"] == "ok"
        api = shop.server.presta
        assert api is not None
        names = {g: r["name"] for g in api.data.group_ids()
                 if (r := api.data.tables["groups"].record(g)) is not None}
        action_groups = {n for n in names.values() if n.startswith("Journey next: ")}
        assert "Journey next: Review request" in action_groups
        table = api.data.tables["customers"]
        held: dict[str, str] = {}
        for rid in range(1, shop.population.customer_count + 1):
            record = table.record(rid)
            assert record is not None
            mine = [names[int(g["id"])] for g in record["associations"]["groups"]
                    if names[int(g["id"])] in action_groups]
            assert len(mine) <= 1
            if mine:
                held[f"customer:{rid}"] = mine[0]
        listed = {r["person"]: r for r in _listed(shop) if r["person"].startswith("customer:")}
        assert held == {k: f"Journey next: {ActionKind(r['kind']).label}"
                        for k, r in listed.items()}
        tracked = [r for r in listed.values() if r["kind"] == "track_and_trace"]
        assert all(r["tracking_number"] for r in tracked)
        second = _sync(shop)
        assert (second["planned"], second["written"]) == (0, 0)


def test_actions_sandbox_csv_and_table(tmp_path: Path) -> None:
    done = invoke(["actions", "--sandbox", "80", "--format", "csv"], {})
    assert done.exit_code == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows and {r["kind"] for r in rows} <= {k.value for k in ActionKind}
    assert len({r["person"] for r in rows}) == len(rows)  # one open action each
    table = invoke(["actions", "--sandbox", "80", "--format", "table"], {})
    assert table.exit_code == 0
    lines = table.stdout.strip().splitlines()
    assert lines[1].split() == ["person", "kind", "due", "expires", "reason"]
    # the sandbox is generated as of the current minute: count this table's own rows
    assert lines[-1].startswith(f"{len(lines) - 3} open actions")


def test_a_bad_actions_table_is_a_configuration_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9",
                          extra='[actions]\nenabled = ["sms"]\nabandon_hours = 0\n')
    done = invoke(["actions", "--config", str(config)], {})
    assert done.exit_code == 2
    assert "actions.enabled" in done.stderr and "sms" in done.stderr
    assert "actions.abandon_hours" in done.stderr
