"""A newcomer's first hour (issue 21), command by command: the configured shop is the default,
the sandbox serves both platforms with paste-ready tables, the shop's time zone is read from
the shop, progress is real, retries are quiet, the demo reads like a report and the listing
commands print what a person can use."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeybridge.cli import main, output, shops
from journeybridge.config import Config, ShopConfig, StagesConfig
from journeybridge.sandbox import Population, SandboxServer
from tests.sync_support import (
    CLASSIFY_AT,
    NOW,
    ROOT,
    child_env,
    invoke,
    sandbox_shop,
    shop_env,
    write_config,
)

NOW_TEXT = NOW.isoformat()


def _clean_env(extra: dict[str, str]) -> dict[str, str | None]:
    return {**{k: None for k in os.environ if k.startswith("JOURNEYBRIDGE_")}, **extra}


# -- 1. explain and backtest read the configured shop ------------------------------------------

def test_explain_and_backtest_use_the_only_configured_shop(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=150, seed=3) as shop:
        env = {**shop.env, "JOURNEYBRIDGE_CONFIG": str(shop.config)}
        assert invoke(["sync", "--now", CLASSIFY_AT], env).exit_code == 0
        # no --shop, no --config: the configured shop (via $JOURNEYBRIDGE_CONFIG), not a sandbox
        explained = CliRunner().invoke(main, ["explain", "customer:3", "--now", CLASSIFY_AT],
                                       env=_clean_env(env))
        assert explained.exit_code == 0, explained.output
        ours = shop.population.customer(3)
        assert f"{ours.first_name} {ours.last_name} (customer 3)" in explained.output
        tested = CliRunner().invoke(main, ["backtest", "--horizon", "60"], env=_clean_env(env))
        assert tested.exit_code == 0, tested.output
        assert "ranking (AUC, 0.5 = chance)" in tested.output
        # the sandbox only when asked for, and not together with a configured shop
        both = CliRunner().invoke(main, ["explain", "customer:3", "--sandbox", "100",
                                         "--shop", "sand"], env=_clean_env(env))
        assert both.exit_code == 2 and "choose one source" in both.output


def test_explain_with_several_shops_needs_shop(tmp_path: Path) -> None:
    config = write_config(tmp_path, "https://a.example", extra="[shops.other]\n"
                                                               'url = "https://b.example"\n')
    result = CliRunner().invoke(main, ["explain", "customer:1", "--config", str(config)],
                                env=_clean_env({}))
    assert result.exit_code == 2
    assert "several shops configured; name one with --shop (sand, other)" in result.output


def test_explain_without_a_configuration_says_how_to_get_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["explain", "customer:1"],
                                env=_clean_env({"HOME": str(tmp_path),
                                                "XDG_CONFIG_HOME": str(tmp_path / "c")}))
    assert result.exit_code == 2
    assert "configuration file not found (journeybridge init writes an example)" in result.output


def test_explain_a_bare_number_hints_the_key_form() -> None:
    result = CliRunner().invoke(main, ["explain", "42", "--sandbox", "60", "--now", NOW_TEXT])
    assert result.exit_code == 2
    assert "no person '42' in this shop (a customer is named customer:42" in result.output


# -- 2. the sandbox serves both platforms and prints what to paste ------------------------------

def _read_sandbox(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, "the sandbox ended before printing its tables"
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            return lines


def test_sandbox_prints_paste_ready_tables_that_check_accepts(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "journeybridge.cli", "sandbox", "--size",
                             "80", "--now", NOW_TEXT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=child_env({}), cwd=ROOT)
    try:
        lines = _read_sandbox(proc)
        text = "\n".join(lines)
        assert "WooCommerce REST API: http://127.0.0.1:" in text
        assert "PrestaShop Webservice: http://127.0.0.1:" in text
        tables = re.findall(r"^\[shops\.\w+\]\n(?:.+\n)+", text + "\n", flags=re.MULTILINE)
        assert len(tables) == 2
        env = dict(re.findall(r"^export (\w+)=(\S+)$", text, flags=re.MULTILINE))
        assert set(env) == {"JOURNEYBRIDGE_SANDBOX_WOO_KEY", "JOURNEYBRIDGE_SANDBOX_WOO_SECRET",
                            "JOURNEYBRIDGE_SANDBOX_PRESTA_KEY"}
        config = tmp_path / "config.toml"
        config.write_text('[sync]\nstate = "state.db"\n\n' + "\n".join(tables),
                          encoding="utf-8")
        checked = CliRunner().invoke(main, ["check", "--config", str(config)],
                                     env=_clean_env(env))
        assert checked.exit_code == 0, checked.output
        assert checked.output.count("write        ok") == 2
        # no timezone in the tables: both adapters read it from the shop
        assert checked.stdout.count("read in Europe/Amsterdam") == 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_sandbox_port_taken_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "journeybridge.cli", "sandbox", "--size",
                               "60", "--port", str(port)], capture_output=True, text=True,
                              timeout=60, env=child_env({}), cwd=ROOT)
    assert proc.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- 3. the shop's time zone -------------------------------------------------------------------

def _presta_config(url: str, timezone: str | None = None) -> Config:
    extra = {"timezone": timezone} if timezone else {}
    return Config(shops={"p": ShopConfig(name="p", platform="prestashop", url=url, **extra)})


@pytest.mark.parametrize("platform", ["woocommerce", "prestashop"])
def test_the_time_zone_comes_from_the_shop_when_none_is_configured(
        platform: str, caplog: pytest.LogCaptureFixture) -> None:
    from journeybridge.config import Secrets
    from journeybridge.sync import open_shop_adapter

    population = Population(60, seed=2, now=NOW)
    with SandboxServer(population, platforms=(platform,)) as server:
        secret = server.woo_credentials.secret if platform == "woocommerce" else ""
        key = (server.woo_credentials.key if platform == "woocommerce"
               else server.presta_credentials.key)
        for configured, expected, differs in ((None, "Europe/Amsterdam", False),
                                              ("Europe/Berlin", "Europe/Berlin", False),
                                              ("UTC", "UTC", True)):
            extra = {"timezone": configured} if configured else {}
            shop = ShopConfig(name="p", platform=platform, url=server.url,  # type: ignore[arg-type]
                              **extra)
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="journeybridge.timezone"), \
                    open_shop_adapter(Config(shops={"p": shop}), shop,
                                      Secrets(key, secret)) as adapter:
                assert adapter.timezone == expected
            warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
            assert bool(warned) is differs, warned
            if differs:
                assert "differs from the shop's own Europe/Amsterdam" in warned[0]


def test_a_presta_key_that_may_not_read_configurations_warns_and_reads_utc(
        caplog: pytest.LogCaptureFixture) -> None:
    from journeybridge.config import Secrets
    from journeybridge.sync import open_shop_adapter

    with SandboxServer(Population(60, seed=2, now=NOW), platforms=("prestashop",)) as server:
        key = server.presta_credentials.key
        assert server.presta is not None
        rights = server.presta.permissions(key)
        assert rights is not None
        del rights["configurations"]
        config = _presta_config(server.url)
        with caplog.at_level(logging.INFO, logger="journeybridge.timezone"), \
                open_shop_adapter(config, config.shops["p"], Secrets(key, "")) as adapter:
            assert adapter.timezone == "UTC"
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "the key may not read configurations (allow GET on it)" in warning
    assert "set timezone in the shop's configuration table" in warning


def test_the_sandbox_answers_configurations_like_a_shop() -> None:
    import requests

    with SandboxServer(Population(60, seed=2, now=NOW), platforms=("prestashop",)) as server:
        answer = requests.get(f"{server.url}/api/configurations",
                              params={"output_format": "JSON", "display": "[name,value]",
                                      "filter[name]": "[PS_TIMEZONE]"},
                              auth=(server.presta_credentials.ro_key, ""), timeout=10)
        full = requests.get(f"{server.url}/api/configurations",
                            params={"output_format": "JSON", "display": "full",
                                    "filter[name]": "[PS_TIMEZONE]"},
                            auth=(server.presta_credentials.key, ""), timeout=10).json()
        none = requests.get(f"{server.url}/api/configurations",
                            params={"output_format": "JSON", "display": "[name,value]",
                                    "filter[name]": "[NO_SUCH_KEY]"},
                            auth=(server.presta_credentials.key, ""), timeout=10).json()
    # as PrestaShop 8.1.2 answers (../shared/real-presta, probed for issue 21)
    assert answer.json() == {"configurations": [{"value": "Europe/Amsterdam",
                                                 "name": "PS_TIMEZONE"}]}
    (row,) = full["configurations"]
    assert (row["id_shop_group"], row["id_shop"], row["date_add"]) == (
        "", "", "0000-00-00 00:00:00")
    assert none == []


# -- 4. progress --------------------------------------------------------------------------------

def test_cron_gets_progress_lines_for_every_phase(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=150, seed=3) as shop:
        result = invoke(["sync", "--config", str(shop.config), "--now", CLASSIFY_AT], shop.env)
        assert result.exit_code == 0, result.stderr
        logs = [json.loads(line) for line in result.stderr.splitlines()]
        events = [entry.get("event") for entry in logs]
        assert events[0] == "run_started" and events[-1] == "run_finished"
        progress = [e for e in logs if e.get("event") == "progress"]
        phases = [e["phase"] for e in progress if e["state"] == "started"]
        assert phases[:4] == ["pulling customers (full)", "pulling orders (full)",
                              "pulling refunds (full)", "pulling reviews (full)"]
        assert {"rebuilding people", "reading people", "classifying",
                "deciding and writing"} <= set(phases)
        finished = {e["phase"]: e for e in progress if e["state"] == "finished"}
        customers = finished["pulling customers (full)"]
        assert customers["done"] == customers["total"] == 150  # X-WP-Total, then counted
        assert finished["deciding and writing"]["done"] == finished["reading people"]["total"]


def test_json_progress_ticks_at_a_steady_interval(caplog: pytest.LogCaptureFixture) -> None:
    progress = output.JsonProgress("s", interval=0.05)
    with caplog.at_level(logging.INFO, logger="journeybridge.progress"):
        progress.start("writing", total=100, poll=lambda: 7)
        progress.advance(40)
        time.sleep(0.3)
        progress.finish()
    states = [r.__dict__["state"] for r in caplog.records]
    assert states[0] == "started" and states[-1] == "finished"
    assert states.count("running") >= 3
    running = next(r.__dict__ for r in caplog.records if r.__dict__["state"] == "running")
    assert (running["done"], running["total"], running["percent"], running["requests"]) == (
        40, 100, 40.0, 7)
    assert running["eta_seconds"] > 0


def test_a_terminal_gets_bars_with_totals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    with sandbox_shop(tmp_path, size=80, seed=1) as shop:
        monkeypatch.setattr(output, "terminal", lambda: True)
        monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: nothing truncated
        for name, value in shop.env.items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(shops.sync, ["--config", str(shop.config)])
        assert result.exit_code == 0, result.output
        assert re.search(r"matching changed records to people .* 100%", result.stderr)
        assert re.search(r"pulling customers \(full\).*80/80.*100%", result.stderr)
        assert "deciding and writing" in result.stderr and "ETA" in result.stderr


# -- 5. quiet retries ---------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_check_says_connection_refused_at_once(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    env = {"JOURNEYBRIDGE_SAND_KEY": "ck_x", "JOURNEYBRIDGE_SAND_SECRET": "cs_y"}
    started = time.monotonic()
    result = invoke(["check", "--config", str(config)], env)
    took = time.monotonic() - started
    assert result.exit_code == 3
    assert "connection refused (after 1 attempt)" in result.stdout
    assert took < 3, took
    assert "retry" not in result.stderr


def test_an_unreachable_shop_is_one_line_without_urllib3_internals(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    env = {"JOURNEYBRIDGE_SAND_KEY": "ck_x", "JOURNEYBRIDGE_SAND_SECRET": "cs_y"}
    cron = invoke(["sync", "--config", str(config)], env)
    assert cron.exit_code == 3
    retries = [json.loads(line) for line in cron.stderr.splitlines()
               if '"retry"' in line]
    assert retries and all(r["level"] == "info" for r in retries)
    for text in ("Max retries", "urllib3", "HTTPConnectionPool", "NewConnectionError"):
        assert text not in cron.stderr and text not in cron.stdout


# -- 7. the demo ---------------------------------------------------------------------------------

def test_the_demo_reads_like_a_report_and_repeats_with_now() -> None:
    args = ["demo", "--size", "500", "--seed", "1", "--now", NOW_TEXT]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    out = first.output
    assert "what to do" in out and "a win-back offer, now" in out
    assert "BG/NBD" not in out and "alpha=" not in out and "facts:" not in out
    assert "1 days ago" not in out and "product 1" not in out
    assert "\nNext: `journeybridge sandbox`" in out
    second = CliRunner().invoke(main, args)
    assert re.sub(r"Done in .*", "", second.output) == re.sub(r"Done in .*", "", out)
    verbose = CliRunner().invoke(main, [*args, "-v"])
    assert "churn model (BG/NBD)" in verbose.output and "facts: " in verbose.output


def test_help_says_what_changes_with_time() -> None:
    for command in ("demo", "sandbox", "explain", "backtest", "export-events"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert "same --seed and --now" in " ".join(result.output.split()), command


# -- 8. output a person can use -----------------------------------------------------------------

def test_journeys_and_status_in_every_format(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=120, seed=3) as shop:
        assert invoke(["sync", "--config", str(shop.config), "--now", CLASSIFY_AT],
                      shop.env).exit_code == 0
        base = ["journeys", "--config", str(shop.config), "--now", CLASSIFY_AT]
        lines = invoke(base, shop.env).stdout.splitlines()
        first = json.loads(lines[0])
        person = shop.population.customer(int(first["customer_id"]))
        assert first["name"] == f"{person.first_name} {person.last_name}"
        csv_out = invoke([*base, "--format", "csv"], shop.env).stdout.splitlines()
        assert csv_out[0].startswith("shop,person,name,stage,stage_name,label,since")
        assert len(csv_out) == len(lines) + 1
        table = invoke([*base, "--format", "table"], shop.env).stdout
        assert table.split()[:3] == ["person", "name", "stage_name"]
        assert first["name"] in table and "@" not in table.replace("***@", "")
        runs = invoke(["status", "--config", str(shop.config), "--format", "csv"], shop.env)
        assert runs.stdout.splitlines()[0].startswith("shop,started_at,finished_at,status")
        assert len(runs.stdout.splitlines()) == 2


def test_presta_groups_have_display_names_and_stay_unique() -> None:
    config = _presta_config("https://p.example")
    names = config.group_names(config.shops["p"])
    assert names[next(s for s in names if s.value == "at_risk")] == "Journey: At risk"
    woo = Config(shops={"w": ShopConfig(name="w", url="https://w.example")})
    assert {woo.stages.label(s) for s in names} == {s.value for s in names}  # meta keeps codes
    stdc = Config(stages=StagesConfig(vocabulary="see-think-do-care"),
                  shops={"p": ShopConfig(name="p", platform="prestashop", url="https://p.x")})
    grouped = stdc.group_names(stdc.shops["p"])
    assert len(set(grouped.values())) == len(grouped)
    assert "Journey: Do (Purchase)" in grouped.values()
    assert "Journey: See" in grouped.values()  # a name only one stage has stays as it is


def test_the_readme_documents_shell_completion() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "_JOURNEYBRIDGE_COMPLETE=bash_source journeybridge" in readme


# -- issue 20, item 5: --sandbox N everywhere ---------------------------------------------------

def test_export_events_takes_the_size_with_sandbox(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    base = ["export-events", "--out", str(out), "--since", "2020-01-01", "--now", NOW_TEXT]
    new = CliRunner().invoke(main, [*base, "--sandbox", "60"])
    assert new.exit_code == 0, new.output
    def read() -> str:  # the same shop on another port
        return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", out.read_text(encoding="utf-8"))

    events = read()
    assert events.count("\n") > 50
    assert "deprecated" not in new.output
    old = CliRunner().invoke(main, [*base, "--sandbox", "--size", "60"])
    assert old.exit_code == 0, old.output
    assert "--size is deprecated: give the size with --sandbox N (--sandbox 60)" in old.output
    assert read() == events  # the same seed and --now: the same shop, the same events
    tiny = CliRunner().invoke(main, [*base, "--sandbox", "10"])
    assert tiny.exit_code == 2


def test_shop_env_helper_names_match_the_sandbox_tables() -> None:
    with SandboxServer(Population(60, seed=1, now=NOW)) as server:
        assert set(shop_env(server, "sandbox_woo")) == {"JOURNEYBRIDGE_SANDBOX_WOO_KEY",
                                                        "JOURNEYBRIDGE_SANDBOX_WOO_SECRET"}
