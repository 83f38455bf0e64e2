"""``journeybridge sync`` on a PrestaShop sandbox shop over real HTTP: the first run puts everyone
into their stage's customer group, the second writes nothing, a dry run writes nothing, an
incremental run after an order state change moves exactly that person; ``check`` and
``journeys`` work for PrestaShop shops too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from journeybridge.config import load_config
from journeybridge.sandbox import OrderStatus, Population, PrestaApi, SandboxServer
from journeybridge.sandbox.presta_states import CANCELED
from journeybridge.stages import VOCABULARIES, Stage
from journeybridge.state import open_store
from tests.sync_support import CLASSIFY_AT, NOW, Shop, invoke, run_cli, summary, write_config

PRESTA = 'platform = "prestashop"\ngroup_prefix = "Journey: "'


@contextmanager
def presta_shop(directory: Path, size: int = 150, seed: int = 4,
                extra: str = "") -> Iterator[Shop]:
    population = Population(size, seed=seed, now=NOW)
    with SandboxServer(population, platforms=("woocommerce", "prestashop")) as server:
        config = write_config(directory, server.url, extra_shop=f"{PRESTA}\n{extra}")
        env = {"JOURNEYBRIDGE_SAND_KEY": server.presta_credentials.key}
        yield Shop(population, server, config, env)


def data(shop: Shop) -> PrestaApi:
    assert shop.server.presta is not None
    return shop.server.presta


def journey_groups(shop: Shop) -> dict[int, list[str]]:
    """Each customer row's journey groups, by name, as the shop holds them."""
    api = data(shop)
    names = {g: r["name"] for g in api.data.group_ids()
             if (r := api.data.tables["groups"].record(g)) is not None}
    table = api.data.tables["customers"]
    found = {}
    for rid in table.ids():
        record = table.record(int(rid))
        assert record is not None
        groups = [names[int(g["id"])] for g in record["associations"]["groups"]]
        found[int(rid)] = [g for g in groups if g.startswith("Journey: ")]
    return found


def sync(shop: Shop, *extra: str) -> dict[str, Any]:
    result = invoke(["sync", "--now", CLASSIFY_AT, "--config", str(shop.config), *extra],
                    shop.env)
    assert result.exit_code == 0, result.output + result.stderr
    row: dict[str, Any] = summary(result.stdout)["shops"][0]
    return row


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    with presta_shop(tmp_path) as running:
        yield running


def test_first_run_writes_groups_second_nothing_dry_run_nothing(shop: Shop) -> None:
    dry = sync(shop, "--dry-run")
    assert dry["planned"] >= dry["people"] and dry["written"] == 0  # guests: each row
    assert all(not groups for groups in journey_groups(shop).values())
    first = sync(shop)
    assert (first["status"], first["mode"]) == ("ok", "full")
    assert first["written"] >= first["people"]  # every person, guests on each guest row
    held = journey_groups(shop)
    assert all(len(groups) <= 1 for groups in held.values())
    stages = stored_stages(shop)
    for rid in range(1, shop.population.customer_count + 1):
        # the default group names are the stages' display names
        stage = Stage(stages[f"customer:{rid}"])
        assert held[rid] == [f"Journey: {VOCABULARIES['default'][stage]}"]
    second = sync(shop)
    assert (second["mode"], second["planned"], second["written"]) == ("incremental", 0, 0)
    assert journey_groups(shop) == held
    again = sync(shop, "--dry-run")
    assert again["planned"] == 0


def test_an_incremental_run_moves_exactly_the_changed_person(shop: Shop) -> None:
    sync(shop)
    held = journey_groups(shop)
    with open_store(load_config(shop.config).state_url()) as store:
        cursor = store.cursors("sand")["updated"]
    assert cursor
    paid = [o for o in shop.population.orders(include_trash=False)
            if o.status is OrderStatus.PROCESSING and o.customer_id]
    order = paid[0]
    data(shop).data.set_order_state(order.id, CANCELED,
                                    shop.population.clock() + timedelta(minutes=1))
    later = sync(shop)
    assert later["mode"] == "incremental"
    assert later["orders"] >= 1 and later["planned"] == later["written"] <= 1
    after = journey_groups(shop)
    changed = {rid for rid in held if after.get(rid) != held[rid]}
    assert changed <= {order.customer_id}


def test_check_and_journeys_for_a_prestashop_shop(shop: Shop, tmp_path: Path) -> None:
    checked = invoke(["check", "--config", str(shop.config)], shop.env)
    assert checked.exit_code == 0, checked.output
    assert "may read customers" in checked.output and "may write" in checked.output
    read_only = {"JOURNEYBRIDGE_SAND_KEY": shop.server.presta_credentials.ro_key}
    refused = invoke(["check", "--config", str(shop.config)], read_only)
    assert refused.exit_code == 3 and "PUT" in refused.output
    listed = invoke(["journeys", "--now", CLASSIFY_AT, "--config", str(shop.config)],
                    shop.env)
    assert listed.exit_code == 0
    people = [json.loads(line) for line in listed.stdout.splitlines()]
    assert people and {p["source"] for p in people} == {"pull"}
    assert any(p["guest"] for p in people)
    for secret in shop.env.values():
        assert secret not in checked.output and secret not in listed.stdout


def test_a_cron_run_as_a_subprocess(shop: Shop) -> None:
    done = run_cli(["sync", "--now", CLASSIFY_AT, "--config", str(shop.config)], shop.env)
    assert done.returncode == 0, done.stderr
    (row,) = summary(done.stdout)["shops"]
    assert row["status"] == "ok" and row["written"] > 0
    assert shop.env["JOURNEYBRIDGE_SAND_KEY"] not in done.stdout + done.stderr


def test_stage_groups_from_the_configuration(tmp_path: Path) -> None:
    names = 'stage_groups = { loyalty = "VIP", lapsed = "Sleeping" }'
    with presta_shop(tmp_path, size=80, extra=names) as shop:
        sync(shop)
        api = data(shop)
        groups = {r["name"] for g in api.data.group_ids()
                  if (r := api.data.tables["groups"].record(g)) is not None}
        assert groups >= {"Visitor", "Guest", "Customer"}
        assert "Journey: loyalty" not in groups and "Journey: lapsed" not in groups
        assert {"VIP", "Sleeping"} & groups


def stored_stages(shop: Shop) -> dict[str, str]:
    with open_store(load_config(shop.config).state_url()) as store:
        return {key: row.stage for key, row in store.stages("sand").items()}
