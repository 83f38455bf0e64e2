"""``journeybridge export-events`` on PrestaShop, end to end against the sandbox's Webservice:
settings from the ``[shops.NAME.events]`` table, every kind of event (registrations, newsletter
opt-ins, carts, checkouts, paid orders) sent to the fake Graph API and none sent twice on a
rerun, ``--url --platform prestashop``, and ``--from-state`` from what a sync stored, without
the shop's key."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from journeybridge.cli import main
from journeybridge.config import load_config
from journeybridge.errors import ConfigError
from journeybridge.events.fake_graph import FakeGraphServer
from journeybridge.sandbox import Population, SandboxServer

TOKEN = "EAAB-presta-cli-token"
PIXEL = "556677889900"
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
KINDS = {"CompleteRegistration", "Subscribe", "AddToCart", "InitiateCheckout", "Purchase"}


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer(access_token=TOKEN, pixel_ids=(PIXEL,)) as server:
        yield server


@pytest.fixture(scope="module")
def shop() -> Iterator[SandboxServer]:
    with SandboxServer(Population(400, seed=23, now=NOW), platforms=("prestashop",)) as server:
        yield server


def write_config(tmp_path: Path, shop: SandboxServer, events: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[sync]\nstate = "state.db"\n\n[shops.ps]\nplatform = "prestashop"\n'
        f'url = "{shop.url}"\ntimezone = "Europe/Amsterdam"\n\n[shops.ps.events]\n'
        f'pixel_id = "{PIXEL}"\n{events}', encoding="utf-8")
    return config


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def keyed(shop: SandboxServer) -> dict[str, str]:
    return {"JOURNEYBRIDGE_META_ACCESS_TOKEN": TOKEN,
            "JOURNEYBRIDGE_PS_KEY": shop.presta_credentials.key}


def test_a_prestashop_shop_sends_every_kind_of_event_once(
        graph: FakeGraphServer, shop: SandboxServer, tmp_path: Path) -> None:
    graph.reset()
    config = write_config(tmp_path, shop)
    args = ["export-events", "--config", str(config), "--send", "--graph-url", graph.url,
            "--out", str(tmp_path / "events.jsonl")]
    first = run(args, keyed(shop))
    assert first.exit_code == 0, first.output
    names = Counter(e["event_name"] for e in graph.received)
    assert set(names) == KINDS, names
    assert all(e["event_source_url"].startswith(shop.url) for e in graph.received)
    with_place = [e for e in graph.received if "country" in e["user_data"]]
    assert len(with_place) > len(graph.received) / 2  # PrestaShop people have an address now
    assert any("ct" in e["user_data"] and "zp" in e["user_data"] for e in graph.received)
    sent = len(graph.received)

    second = run(args, keyed(shop))
    assert second.exit_code == 0, second.output
    assert len(graph.received) == sent  # nothing sent twice
    assert f"sent 0, already sent {sent}" in second.stderr


def test_a_test_event_code_from_the_table_is_sent_and_not_remembered(
        graph: FakeGraphServer, shop: SandboxServer, tmp_path: Path) -> None:
    graph.reset()
    config = write_config(tmp_path, shop, 'test_event_code = "TEST4242"\n')
    args = ["export-events", "--config", str(config), "--send", "--graph-url", graph.url]
    assert run(args, keyed(shop)).exit_code == 0
    batches = [r.body for r in graph.requests if "data" in r.body]
    assert batches and all(b.get("test_event_code") == "TEST4242" for b in batches)
    sent = len(graph.received)
    assert run(args, keyed(shop)).exit_code == 0
    assert len(graph.received) == 2 * sent  # test events are not remembered as delivered


def test_export_events_from_the_state_without_the_shops_key(
        shop: SandboxServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, shop)
    env = {"JOURNEYBRIDGE_META_ACCESS_TOKEN": TOKEN}
    nothing = run(["export-events", "--config", str(config), "--from-state", "--out", "-"], env)
    assert nothing.exit_code == 2
    assert "run journeybridge sync first" in nothing.stderr
    synced = run(["sync", "--config", str(config)], keyed(shop))
    assert synced.exit_code == 0, synced.output
    stored = run(["export-events", "--config", str(config), "--from-state", "--out", "-"], env)
    assert stored.exit_code == 0, stored.output
    live = run(["export-events", "--config", str(config), "--out", "-"], keyed(shop))
    assert live.exit_code == 0, live.output
    from_state = [json.loads(line) for line in stored.stdout.splitlines()]
    from_shop = [json.loads(line) for line in live.stdout.splitlines()]
    assert from_state and {e["event_name"] for e in from_state} == KINDS
    # the same events with the same ids (the sync wrote groups, which no event depends on)
    assert sorted(e["event_id"] for e in from_state) == sorted(e["event_id"] for e in from_shop)
    # ... and the same customer information: the store keeps place, birthday and gender
    assert sorted(json.dumps(e, sort_keys=True) for e in from_state) == sorted(
        json.dumps(e, sort_keys=True) for e in from_shop)
    assert any("db" in e["user_data"] and "ge" in e["user_data"] for e in from_state)
    wrong = run(["export-events", "--url", shop.url, "--from-state", "--out", "-"], env)
    assert wrong.exit_code == 2


def test_a_prestashop_shop_given_by_its_url(shop: SandboxServer) -> None:
    env = {"SHOP_KEY": shop.presta_credentials.key}
    result = run(["export-events", "--url", shop.url, "--platform", "prestashop",
                  "--key-env", "SHOP_KEY", "--out", "-"], env)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["event_name"] for e in events} == KINDS
    assert shop.presta_credentials.key not in result.output


def test_options_win_over_the_events_table(graph: FakeGraphServer, shop: SandboxServer,
                                           tmp_path: Path) -> None:
    config = write_config(tmp_path, shop, 'consent = "newsletter"\nnewsletter_event = "Lead"\n')
    by_table = run(["export-events", "--config", str(config), "--out", "-"], keyed(shop))
    by_option = run(["export-events", "--config", str(config), "--out", "-",
                     "--consent", "all", "--newsletter-event", "Subscribe"], keyed(shop))
    assert by_table.exit_code == by_option.exit_code == 0, by_table.output
    table_names = Counter(json.loads(line)["event_name"] for line in by_table.stdout.splitlines())
    option_names = Counter(json.loads(line)["event_name"]
                           for line in by_option.stdout.splitlines())
    assert "Lead" in table_names and "Subscribe" not in table_names
    assert "Subscribe" in option_names and "Lead" not in option_names
    assert sum(table_names.values()) < sum(option_names.values())  # consent: newsletter only


@pytest.mark.parametrize(("table", "problem"), [
    ('pixel_id = "abc"', "digits only"),
    ('consent = "meta"', "needs consent_key"),
    ('consent = "list"', "needs consent_list"),
    ('token_env = "EAABsometokenvalue1234567"', "not the token itself"),
    ('colour = "red"', "unknown key"),
])
def test_the_events_table_is_checked(tmp_path: Path, table: str, problem: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[shops.ps]\nplatform = "prestashop"\nurl = "https://ps.example"\n\n'
                      f'[shops.ps.events]\n{table}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as caught:
        load_config(config)
    assert "shops.ps.events" in str(caught.value)


def test_a_consent_list_is_read_relative_to_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[shops.ps]\nplatform = "prestashop"\nurl = "https://ps.example"\n\n'
                      '[shops.ps.events]\nconsent = "list"\nconsent_list = "ok.txt"\n',
                      encoding="utf-8")
    loaded = load_config(config)
    assert loaded.shops["ps"].events.consent_path(loaded.path) == tmp_path / "ok.txt"
    assert loaded.shops["ps"].events.action_source == "other"
