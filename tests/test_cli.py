"""The CLI end to end: demo through click's CliRunner and as a real subprocess, schema, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeybridge.cli import main
from journeybridge.stages import Stage, stage_label

ROOT = Path(__file__).resolve().parents[1]


def test_demo_with_clirunner() -> None:
    result = CliRunner().invoke(main, ["demo", "--size", "300", "--seed", "4"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Pulled 300 customers" in out
    assert "0 malformed records skipped" in out
    for stage in Stage:
        assert stage_label(stage) in out
    assert out.count("  stage: ") == 3  # three example journeys
    assert out.count("  why: ") >= 3
    total_line = next(line for line in out.splitlines() if line.strip().startswith("total"))
    people = int(total_line.split()[1])
    assert people > 300  # guests are people too


def test_demo_as_a_subprocess() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "journeybridge.cli", "demo", "--size", "200"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Pulled 200 customers" in proc.stdout
    assert "Done in" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_schema_prints_json_schema() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["journey"]["title"] == "Journey"
    assert "Touchpoint" in document["journey"]["$defs"]
    assert set(document["classification"]["properties"]) >= {"stage", "since", "reasons"}


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "schema", "sandbox"):
        assert command in result.output


def test_sandbox_command_serves_until_stopped() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "journeybridge.cli", "sandbox", "--size", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Sandbox shop: http://127.0.0.1:")
        url = first.split(": ", 1)[1].split()[0]
        lines = [proc.stdout.readline() for _ in range(10)]
        exports = dict(line.strip().removeprefix("export ").split("=", 1)
                       for line in lines if line.startswith("export "))
        key = exports["JOURNEYBRIDGE_SANDBOX_WOO_KEY"]
        secret = exports["JOURNEYBRIDGE_SANDBOX_WOO_SECRET"]
        import journeybridge
        shop = journeybridge.connect("woocommerce", url, consumer_key=key,
                                     consumer_secret=secret)
        assert len(list(shop.iter_customers())) == 60
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_explain_a_person() -> None:
    result = CliRunner().invoke(main, ["explain", "customer:12", "--sandbox", "200"])
    assert result.exit_code == 0, result.output
    assert "(customer 12)" in result.output
    assert "  stage: " in result.output and "  why: " in result.output
    assert "timeline (" in result.output


def test_explain_unknown_person() -> None:
    result = CliRunner().invoke(main, ["explain", "nobody@example.com", "--sandbox", "100"])
    assert result.exit_code == 2  # a usage error, like click's own
    # the address the user typed comes back masked: no raw e-mail in an error message
    assert "no person 'n***@example.com'" in result.output
    assert "nobody@example.com" not in result.output


def test_backtest_on_the_sandbox() -> None:
    result = CliRunner().invoke(main, ["backtest", "--sandbox", "400", "--horizon", "60"])
    assert result.exit_code == 0, result.output
    assert "ranking (AUC, 0.5 = chance)" in result.output
    assert "precision of the flag" in result.output


def test_backtest_with_a_cutoff_too_late_is_a_configuration_error() -> None:
    result = CliRunner().invoke(main, ["backtest", "--sandbox", "100", "--cutoff", "2999-01-01"])
    assert result.exit_code == 2
    assert "choose an earlier cutoff" in result.output


def test_explain_and_backtest_a_configured_shop(tmp_path: Path) -> None:
    from tests.sync_support import invoke, sandbox_shop

    with sandbox_shop(tmp_path, size=300) as shop:
        assert invoke(["sync", "--config", str(shop.config)], shop.env).exit_code == 0
        env = {k: None for k in os.environ if k.startswith("JOURNEYBRIDGE_")}
        runner = CliRunner()
        explained = runner.invoke(main, ["explain", "customer:3", "--shop", "sand",
                                         "--config", str(shop.config)], env={**env, **shop.env})
        assert explained.exit_code == 0, explained.output
        assert "(customer 3)" in explained.output and "  why: " in explained.output
        tested = runner.invoke(main, ["backtest", "--shop", "sand", "--config",
                                      str(shop.config), "--horizon", "60"],
                               env={**env, **shop.env})
        assert tested.exit_code == 0, tested.output
        assert "ranking (AUC, 0.5 = chance)" in tested.output


def test_a_bug_is_one_line_and_exit_1_with_the_traceback_only_with_v(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import journeybridge.workers as workers

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("a bug somewhere")

    config = tmp_path / "config.toml"
    config.write_text('[sync]\nstate = "s.db"\n[shops.a]\nurl = "https://a.example"\n',
                      encoding="utf-8")
    monkeypatch.setattr(workers, "sync_round", broken)
    quiet = CliRunner().invoke(main, ["sync", "--jobs", "2", "--config", str(config)])
    assert quiet.exit_code == 1
    assert "Traceback" not in quiet.output
    assert "unexpected error: ZeroDivisionError: a bug somewhere" in quiet.output
    loud = CliRunner().invoke(main, ["sync", "--jobs", "2", "-v", "--config", str(config)])
    assert loud.exit_code == 1 and "Traceback" in loud.output


def test_backtest_a_transactions_file(tmp_path: Path) -> None:
    lines = ["customer_id,order_id,date,amount,currency"]
    for person in range(60):
        last = 400 if person < 30 else 150  # half keep buying up to the end, half stop early
        for k, day in enumerate(range(0, last, 20)):
            when = date(2025, 1, 1) + timedelta(days=day + person % 7)
            lines.append(f"{person},{person}-{k},{when.isoformat()},12.50,EUR")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["backtest", "--transactions", str(path),
                                       "--horizon", "60"])
    assert result.exit_code == 0, result.output
    assert "60 buyers known then" in result.output
    assert "180-day flag" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("who,when\n1,2025-01-01\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["backtest", "--transactions", str(bad)])
    assert result.exit_code != 0
    assert "the header lacks customer_id" in result.output
    assert "Traceback" not in result.output
