"""The cron CLI as a real subprocess against a sandbox shop served by the test process:
cron-friendly output, exit codes, the per-shop lock between two runs, and runs SIGKILLed at
random points (mid-write included) that the next run finishes exactly as an uninterrupted
run would have."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeybridge.cli import EXIT_LOCKED, exit_code_for, output, shops, worst
from journeybridge.errors import AuthenticationError, ConfigError, ShopUnreachable
from journeybridge.sandbox import Faults
from journeybridge.state import ShopBusy, open_store
from tests.sync_support import (
    CLASSIFY_AT,
    Shop,
    invoke,
    run_cli,
    sandbox_shop,
    shop_env,
    shop_meta,
    start_cli,
    summary,
    write_config,
)

SYNC = ["sync", "--now", CLASSIFY_AT]


def sync_args(shop: Shop, *extra: str) -> list[str]:
    return [*SYNC, "--config", str(shop.config), *extra]


def test_exit_codes_and_their_order_of_severity() -> None:
    assert exit_code_for(None) == 0
    assert exit_code_for(None, partial=True) == 1
    assert exit_code_for(ConfigError("x")) == 2
    assert exit_code_for(AuthenticationError("x", shop_url="u", endpoint="e")) == 3
    assert exit_code_for(ShopUnreachable("x", shop_url="u", endpoint="e")) == 3
    assert exit_code_for(ShopBusy("x")) == EXIT_LOCKED == 75
    assert worst([0, 75, 1]) == 1
    assert worst([75, 3, 1, 0]) == 3
    assert worst([1, 2, 3]) == 2
    assert worst([0, 75]) == 75


def test_the_exit_codes_are_the_documented_ones() -> None:
    from journeybridge.cli import core

    # one definition for every command module; the values the README promises cron users
    assert (core.EXIT_OK, core.EXIT_PARTIAL, core.EXIT_CONFIG,
            core.EXIT_UNREACHABLE, core.EXIT_LOCKED) == (0, 1, 2, 3, 75)
    assert EXIT_LOCKED is core.EXIT_LOCKED


def test_a_cron_run_logs_json_lines_and_prints_one_summary(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=120, seed=3) as shop:
        first = run_cli(sync_args(shop), shop.env)
        assert first.returncode == 0, first.stderr
        stdout_lines = first.stdout.strip().splitlines()
        assert len(stdout_lines) == 1
        result = summary(first.stdout)
        (row,) = result["shops"]
        assert (result["exit_code"], row["status"], row["mode"]) == (0, "ok", "full")
        assert row["written"] == row["people"] > 120
        logs = [json.loads(line) for line in first.stderr.strip().splitlines()]
        assert {entry["level"] for entry in logs} <= {"info", "warning"}
        assert {"pulled", "planned", "run_finished"} <= {entry.get("event") for entry in logs}
        assert all(entry["shop"] == "sand" for entry in logs if "event" in entry)
        for secret in shop.env.values():
            assert secret not in first.stdout and secret not in first.stderr
        assert "\r" not in first.stderr  # no progress line without a terminal

        second = summary(invoke(sync_args(shop), shop.env).stdout)
        assert (second["shops"][0]["mode"], second["shops"][0]["written"]) == (
            "incremental", 0)

        status = invoke(["status", "--config", str(shop.config), "--limit", "5"], shop.env)
        assert status.exit_code == 0, status.stderr
        runs = [json.loads(line) for line in status.stdout.splitlines()]
        assert [r["mode"] for r in runs] == ["incremental", "full"]
        assert runs[1]["written"] == row["written"]

        journeys = invoke(["journeys", "--config", str(shop.config), "--now", CLASSIFY_AT],
                          shop.env)
        assert journeys.exit_code == 0, journeys.stderr
        people = [json.loads(line) for line in journeys.stdout.splitlines()]
        assert len(people) == row["people"]
        assert all(p["source"] == "state" and p["reasons"] and p["reasons"][0]["text"]
                   for p in people)
        stages = open_store(f"sqlite:///{tmp_path / 'state.db'}").stages("sand")
        assert {p["person"]: p["stage"] for p in people} == {
            k: v.stage for k, v in stages.items()}


def test_a_dry_run_prints_the_moves_and_writes_nothing(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=100, seed=4) as shop:
        proc = invoke(sync_args(shop, "--dry-run"), shop.env)
        assert proc.exit_code == 0, proc.stderr
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        moves = [line for line in lines if line["event"] == "move"]
        assert moves and all(m["from"] is None and m["to"] and m["reason"] for m in moves)
        assert lines[-1]["shops"][0]["dry_run"] is True
        assert lines[-1]["shops"][0]["planned"] == len(moves)
        assert shop_meta(shop.population) == {}
        paths = shop.server.stats.by_path()
        assert not any(p.endswith("/batch") or "/orders/" in p for p in paths)


def test_a_dry_run_under_cron_masks_guests_e_mail_addresses(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=100, seed=4) as shop:
        proc = invoke(sync_args(shop, "--dry-run"), shop.env)
        assert proc.exit_code == 0, proc.stderr
        emails = {g.email for g in shop.population.guests()} | {
            c.email for c in shop.population.customers()}
    moves = [json.loads(line) for line in proc.stdout.splitlines()][:-1]
    guests = [m["person"] for m in moves if m["person"].startswith("guest:")]
    assert guests and all("***@" in key for key in guests)
    assert not {e for e in emails if e in proc.stdout + proc.stderr}


def test_journeys_pulls_when_there_is_no_state_yet(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=60, seed=4) as shop:
        proc = invoke(["journeys", "--config", str(shop.config)], shop.env)
        assert proc.exit_code == 0, proc.stderr
        first = json.loads(proc.stdout.splitlines()[0])
        assert first["source"] == "pull" and first["stage"]


def test_two_concurrent_runs_the_second_exits_at_once(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=120, seed=6, faults=Faults(page_latency_ms=400)) as shop:
        procs = [start_cli(sync_args(shop), shop.env) for _ in range(2)]
        ended: dict[int, float] = {}
        try:
            deadline = time.monotonic() + 60
            while len(ended) < 2 and time.monotonic() < deadline:
                for i, proc in enumerate(procs):
                    if i not in ended and proc.poll() is not None:
                        ended[i] = time.monotonic()
                time.sleep(0.01)
            outputs = [proc.communicate(timeout=10) for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        codes = sorted(proc.returncode for proc in procs)
        assert codes == [0, EXIT_LOCKED], [err for _, err in outputs]
        busy = next(i for i, proc in enumerate(procs) if proc.returncode == EXIT_LOCKED)
        # the second run gave up at once, long before the first one finished
        assert ended[1 - busy] - ended[busy] > 1.0
        (row,) = summary(outputs[busy][0])["shops"]
        assert row["status"] == "busy"
        assert "is being synced by another run" in row["error"]
        with open_store(f"sqlite:///{tmp_path / 'state.db'}") as store:
            assert [r.status for r in store.runs("sand")] == ["ok"]  # busy runs not recorded


def test_refused_and_read_only_keys_exit_3_saying_what_is_wrong(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=50, seed=2) as shop:
        wrong = {**shop.env, "JOURNEYBRIDGE_SAND_SECRET": "cs_wrong"}
        proc = invoke(sync_args(shop), wrong)
        assert proc.exit_code == 3
        assert "refused the API key" in summary(proc.stdout)["shops"][0]["error"]
        assert "cs_wrong" not in proc.stdout + proc.stderr

        read_only = shop_env(shop.server, read_only=True)
        check = invoke(["check", "--config", str(shop.config)], read_only)
        assert check.exit_code == 3, check.stdout
        assert "read         ok" in check.stdout
        assert "write        FAILED" in check.stdout and "read-only" in check.stdout
        assert invoke(["check", "--config", str(shop.config)], shop.env).exit_code == 0
        proc = invoke(sync_args(shop), read_only)
        assert proc.exit_code == 3
        assert "read-only" in summary(proc.stdout)["shops"][0]["error"]


def test_configuration_errors_exit_2_naming_file_and_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, "ftp://nowhere")
    proc = invoke(["sync", "--config", str(config)], {})
    assert proc.exit_code == 2
    assert f"{config}: shops.sand.url: expected the shop's address" in proc.stderr
    assert summary(proc.stdout)["exit_code"] == 2
    missing = invoke(["sync", "--config", str(tmp_path / "none.toml")], {})
    assert missing.exit_code == 2 and "configuration file not found" in missing.stderr
    good = write_config(tmp_path / "good", "https://shop.example")
    unknown = invoke(["sync", "--config", str(good), "--shop", "other"], {})
    assert unknown.exit_code == 2 and "no shop named 'other'" in unknown.stderr


def test_several_shops_run_in_turn_and_the_worst_outcome_decides(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=50, seed=8) as shop:
        text = shop.config.read_text() + f'\n[shops.nokeys]\nurl = "{shop.server.url}"\n'
        shop.config.write_text(text)
        proc = invoke(sync_args(shop), shop.env)
        assert proc.exit_code == 2
        rows = {row["shop"]: row for row in summary(proc.stdout)["shops"]}
        assert rows["sand"]["status"] == "ok" and rows["sand"]["written"] > 0
        assert "JOURNEYBRIDGE_NOKEYS_KEY" in rows["nokeys"]["error"]
        only = invoke(sync_args(shop, "--shop", "sand"), shop.env)
        assert only.exit_code == 0


def test_a_terminal_gets_progress_and_a_table(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with sandbox_shop(tmp_path, size=60, seed=1) as shop:
        monkeypatch.setattr(output, "terminal", lambda: True)
        for name, value in shop.env.items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(shops.sync, sync_args(shop)[1:])
        assert result.exit_code == 0, result.output
        assert "sand: pulling customers (full)" in result.stderr
        assert "sand: deciding and writing" in result.stderr
        assert result.stdout.splitlines()[0].split()[:3] == ["shop", "status", "mode"]
        assert "sand stages: " in result.stdout
        dry = CliRunner().invoke(shops.sync, [*sync_args(shop)[1:], "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "sand: 0 people would change stage (0 meta writes)" in dry.stdout
        status = CliRunner().invoke(shops.status, ["--config", str(shop.config)])
        assert "sand: 1 recent run(s)" in status.stdout




def writes_seen(shop: Shop) -> int:
    paths = shop.server.stats.by_path()
    return sum(n for p, n in paths.items() if p.endswith("/batch") or "/orders/" in p)


@pytest.mark.parametrize("seed", [1])
def test_runs_killed_at_random_points_converge_to_a_clean_run(tmp_path: Path,
                                                              seed: int) -> None:
    size, shop_seed = 150, 20 + seed
    with sandbox_shop(tmp_path / "clean", size=size, seed=shop_seed) as clean:
        done = invoke(sync_args(clean), clean.env)
        assert done.exit_code == 0, done.stderr
        expected = shop_meta(clean.population)
        assert expected
    rng = random.Random(seed)
    faults = Faults(page_latency_ms=300)  # slow enough that kills land mid-write
    with sandbox_shop(tmp_path / "killed", size=size, seed=shop_seed, faults=faults) as shop:
        killed_mid_write = 0
        for attempt in range(3):
            requests, before = shop.server.stats.total, writes_seen(shop)
            proc = start_cli(sync_args(shop), shop.env)
            deadline = time.monotonic() + 30
            # the first kill lands anywhere in the pull, classification or write-back; the
            # others a moment after the run's first write request
            while proc.poll() is None and (shop.server.stats.total == requests if attempt == 0
                                           else writes_seen(shop) == before):
                assert time.monotonic() < deadline
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 1.2) if attempt == 0 else rng.uniform(0.0, 0.4))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            if proc.returncode == -signal.SIGKILL and writes_seen(shop) > before:
                killed_mid_write += 1
        assert killed_mid_write >= 1
        # the next run finishes the job: the shop ends exactly as after one clean run
        final = invoke(sync_args(shop), shop.env)
        assert final.exit_code == 0, final.stderr
        assert shop_meta(shop.population) == expected
        again = summary(invoke(sync_args(shop), shop.env).stdout)["shops"][0]
        assert (again["planned"], again["written"], again["changed"]) == (0, 0, 0)
