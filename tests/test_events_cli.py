"""``journeybridge export-events`` end to end: the sandbox shop over HTTP, the fake Graph API
over HTTP, the sent-event log in a state file; no raw personal data in any output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import journeybridge.sandbox
from journeybridge.cli.events import export_events_command
from journeybridge.events.fake_graph import FakeGraphServer, invalid_token
from journeybridge.events.normalize import sha256_hex
from journeybridge.sandbox import Population

TOKEN = "EAAB-cli-test-token"
PIXEL = "998877665544"
SIZE, SEED = 80, 5
# The sandbox's shop is generated relative to its `now` (default: the current minute). Every
# run of the command builds a new one, so runs that straddle a minute boundary would see a
# different shop; all runs in this module see the shop of one fixed minute.
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)


class _PinnedPopulation(Population):
    def __init__(self, size: int, seed: int = 1, now: datetime | None = None) -> None:
        super().__init__(size, seed=seed, now=now or NOW)


@pytest.fixture(autouse=True)
def _one_shop(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(journeybridge.sandbox, "Population", _PinnedPopulation)


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer(access_token=TOKEN, pixel_ids=(PIXEL,)) as server:
        yield server


@pytest.fixture(scope="module")
def people() -> Population:
    return Population(SIZE, seed=SEED, now=NOW)


def run(*args: str, token: str | None = TOKEN) -> Result:
    env = {"JOURNEYBRIDGE_META_ACCESS_TOKEN": token} if token else {}
    return CliRunner().invoke(export_events_command,
                              ["--sandbox", "--size", str(SIZE), "--seed", str(SEED), *args],
                              env=env, catch_exceptions=False)


def send_args(graph: FakeGraphServer, state: Path) -> list[str]:
    return ["--send", "--pixel-id", PIXEL, "--graph-url", graph.url, "--state", str(state)]


def raw_personal_data(population: Population) -> set[str]:
    """Every e-mail, phone and capitalized name of the sandbox's people, as typed."""
    found: set[str] = set()
    for c in population.customers():
        found.update({c.email, c.first_name, c.last_name})
        if c.billing.phone:
            found.update({c.billing.phone, "".join(ch for ch in c.billing.phone
                                                   if ch.isdigit())})
    for g in population.guests():
        found.update({g.email, g.first_name, g.last_name})
    return {value for value in found if len(value) >= 3}


def test_export_send_and_rerun(graph: FakeGraphServer, people: Population,
                               tmp_path: Path) -> None:
    graph.reset()
    out = tmp_path / "events.jsonl"
    first = run("--out", str(out), *send_args(graph, tmp_path / "state.db"))
    assert first.exit_code == 0, first.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines and {e["event_name"] for e in lines} >= {"InitiateCheckout", "Purchase"}
    sent_ids = {e["event_id"] for e in graph.received}
    assert sent_ids and sent_ids <= {e["event_id"] for e in lines}
    assert "Graph API: sent" in first.stderr

    second = run("--out", str(tmp_path / "again.jsonl"), *send_args(graph,
                                                                    tmp_path / "state.db"))
    assert second.exit_code == 0, second.output
    assert len(graph.received) == len(sent_ids)  # nothing sent twice
    assert f"sent 0, already sent {len(sent_ids)}" in second.stderr

    everything = "\n".join([out.read_text(), first.stdout, first.stderr, second.stdout,
                            second.stderr, json.dumps([r.body for r in graph.requests])])
    raw = raw_personal_data(people)
    assert len(raw) > 100 and any(value in json.dumps(sorted(raw)) for value in raw)
    leaks = {value for value in raw if value in everything}
    assert not leaks
    assert '"batch 1' in first.stderr or "batch 1:" in first.stderr  # logs were scanned too
    assert TOKEN not in everything


def test_people_without_consent_are_not_sent(graph: FakeGraphServer, people: Population,
                                             tmp_path: Path) -> None:
    graph.reset()
    result = run("--consent", "newsletter", *send_args(graph, tmp_path / "state.db"))
    assert result.exit_code == 0, result.output
    consenting = {sha256_hex(c.email.lower()) for c in people.customers()
                  if c.newsletter_optin_at is not None}
    others = ({sha256_hex(c.email.lower()) for c in people.customers()} | {
        sha256_hex(g.email.lower()) for g in people.guests()}) - consenting
    assert consenting and others
    received = {e["user_data"].get("em") for e in graph.received}
    assert received and received <= consenting
    assert not received & others
    assert "left out for lack of consent" in result.stderr
    assert "no newsletter opt-in" in result.stderr


def test_jsonl_to_stdout_and_a_dry_run_sends_nothing(graph: FakeGraphServer,
                                                     tmp_path: Path) -> None:
    graph.reset()
    result = run("--out", "-", "--dry-run", *send_args(graph, tmp_path / "state.db"),
                 token=None)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events and all("user_data" in e for e in events)
    assert graph.requests == []


def test_a_refused_token_exits_3_and_a_missing_pixel_exits_2(graph: FakeGraphServer,
                                                             tmp_path: Path) -> None:
    graph.reset()
    graph.inject(invalid_token())
    refused = run(*send_args(graph, tmp_path / "state.db"))
    assert refused.exit_code == 3, refused.output
    assert "code 190" in refused.stderr and TOKEN not in refused.output
    missing = run("--send", "--graph-url", graph.url)
    assert missing.exit_code == 2
    assert "--pixel-id" in missing.stderr
    nothing = run()
    assert nothing.exit_code == 2 and "nothing to do" in nothing.stderr


def test_a_configured_shop_and_its_state_database(graph: FakeGraphServer, people: Population,
                                                  tmp_path: Path) -> None:
    from journeybridge.sandbox import SandboxServer

    graph.reset()
    with SandboxServer(Population(SIZE, seed=SEED, now=NOW)) as server:
        shop_url = server.url
        config = tmp_path / "config.toml"
        config.write_text(f'[sync]\nstate = "state.db"\n\n[shops.myshop]\nurl = "{shop_url}"\n',
                          encoding="utf-8")
        creds = server.woo_credentials
        result = CliRunner().invoke(
            export_events_command,
            ["--config", str(config), "--send", "--pixel-id", PIXEL, "--graph-url", graph.url],
            env={"JOURNEYBRIDGE_META_ACCESS_TOKEN": TOKEN,
                 "JOURNEYBRIDGE_MYSHOP_KEY": creds.key,
                 "JOURNEYBRIDGE_MYSHOP_SECRET": creds.secret},
            catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert graph.received
    assert all(e["event_source_url"].startswith(shop_url) for e in graph.received)
    assert (tmp_path / "state.db").exists()  # the configured state database holds the log


def test_a_shop_given_by_its_url(tmp_path: Path) -> None:
    from journeybridge.sandbox import SandboxServer

    with SandboxServer(Population(SIZE, seed=SEED, now=NOW)) as server:
        creds, url = server.woo_credentials, server.url
        env = {"SHOP_KEY": creds.key, "SHOP_SECRET": creds.secret}
        args = ["--url", url, "--key-env", "SHOP_KEY", "--secret-env", "SHOP_SECRET",
                "--out", "-"]
        result = CliRunner().invoke(export_events_command, args, env=env)
        missing = CliRunner().invoke(export_events_command, args, env={"SHOP_KEY": creds.key})
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events and all(e["event_source_url"].startswith(url) for e in events)
    assert missing.exit_code == 2
    assert "set SHOP_KEY and SHOP_SECRET" in missing.stderr
    assert creds.key not in missing.output
