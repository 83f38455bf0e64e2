"""The documented exit codes hold for every command: each command is run against every kind
of error, raised (or, where the function's contract is to report instead of raise, reported)
by the one library function the command calls. Then a few of the same cases for real: a URL
that is not a shop's API, an unreachable state store, a person that does not exist, a busy
shop, a taken port, a closed output pipe.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

import journeybridge.errors as errors_module
from journeybridge.checks import CheckStep
from journeybridge.cli import main
from journeybridge.errors import (
    AuthenticationError,
    ConfigError,
    GraphAuthError,
    GraphError,
    GraphTransientError,
    InvalidRecord,
    JourneybridgeError,
    NotAShopAPI,
    PermissionDenied,
    PersonNotFound,
    PlatformMissing,
    SegmentRuleError,
    ShopBusy,
    ShopError,
    ShopMismatch,
    ShopRequestError,
    ShopUnreachable,
    StateStoreError,
    TransientShopError,
    UnexpectedError,
)
from journeybridge.state import RunRecord
from journeybridge.sync import ShopSync
from tests.sync_support import ROOT, child_env, sandbox_shop

URL = "https://shop.example"
# every message carries an e-mail address and a secret: neither may reach the output
LEAK = "for anna.jansen@example.nl with consumer_secret=cs_0123456789abcdef"


def _shop(kind: type[ShopError]) -> ShopError:
    return kind(f"went wrong {LEAK}", shop_url=URL, endpoint="customers", status=400)


# the README's table, written out independently of the code that implements it
ERRORS: list[tuple[JourneybridgeError, int]] = [
    (ConfigError(f"bad value {LEAK}"), 2),
    (SegmentRuleError(f"segment 'x': bad rule {LEAK}"), 2),
    (PersonNotFound(f"no person {LEAK}"), 2),
    (ShopMismatch(f"shop 'x' is bound to another shop {LEAK}"), 2),
    (_shop(ShopUnreachable), 3),
    (_shop(NotAShopAPI), 3),
    (_shop(PlatformMissing), 3),
    (_shop(AuthenticationError), 3),
    (_shop(PermissionDenied), 3),
    (StateStoreError(f"cannot open the state store {LEAK}"), 3),
    (GraphAuthError(f"token refused {LEAK}", status=401, code=190), 3),
    (ShopBusy(f"is being synced by another run {LEAK}"), 75),
    (_shop(TransientShopError), 1),
    (_shop(ShopRequestError), 1),
    (_shop(ShopError), 1),
    (InvalidRecord("order 7", [f"total: not a number {LEAK}"]), 1),
    (GraphError(f"refused {LEAK}", status=400, code=100), 1),
    (GraphTransientError(f"rate limited {LEAK}", status=429), 1),
    (JourneybridgeError(f"something else {LEAK}"), 1),
    (UnexpectedError.of(KeyError(f"boom {LEAK}")), 1),
]


def test_the_table_names_every_error_kind() -> None:
    kinds = {getattr(errors_module, name) for name in errors_module.__all__}
    kinds = {k for k in kinds if isinstance(k, type) and issubclass(k, Exception)}
    assert {type(error) for error, _ in ERRORS} == kinds


def _raise(error: BaseException) -> Callable[..., Any]:
    def fake(*_args: Any, **_kwargs: Any) -> Any:
        raise error
    return fake


class _Store:
    """A state store whose every query fails with ``error``."""

    url = "sqlite:///fake"

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def runs(self, *_args: Any, **_kwargs: Any) -> Any:
        raise self.error

    def close(self) -> None:
        pass

    def __enter__(self) -> _Store:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _fail_sync(error: JourneybridgeError) -> Callable[..., Any]:
    """The engine's contract: it yields each shop's outcome, the error in it."""
    def fake(config: Any, store: Any, shop_name: str | None = None, **_kw: Any
             ) -> Iterator[ShopSync]:
        for shop in config.select(shop_name):
            yield ShopSync(shop=shop.name, run=RunRecord(shop=shop.name, started_at="x"),
                           error=error)
    return fake


def _fail_check(error: JourneybridgeError) -> Callable[..., Any]:
    """check_shop's contract: it reports the failing step."""
    def fake(*_args: Any, **_kwargs: Any) -> list[CheckStep]:
        return [CheckStep("secrets", True, "found"), CheckStep("read", False, str(error),
                                                               error)]
    return fake


Inject = Callable[[pytest.MonkeyPatch, JourneybridgeError], None]


def _at(target: str, make: Callable[[JourneybridgeError], Callable[..., Any]]) -> Inject:
    def inject(monkeypatch: pytest.MonkeyPatch, error: JourneybridgeError) -> None:
        monkeypatch.setattr(target, make(error))
    return inject


def _export_fails(monkeypatch: pytest.MonkeyPatch, error: JourneybridgeError) -> None:
    from datetime import datetime, timezone

    from journeybridge.sources import ShopJourneys
    from journeybridge.stages import StageSettings

    nobody = ShopJourneys("myshop", URL, [], [], datetime.now(timezone.utc), StageSettings(),
                          "state")
    monkeypatch.setattr("journeybridge.sources.shop_journeys", lambda *a, **k: nobody)
    monkeypatch.setattr("journeybridge.events.export.run_export", _raise(error))


def _status_store(monkeypatch: pytest.MonkeyPatch, error: JourneybridgeError) -> None:
    monkeypatch.setattr("journeybridge.state.open_store", lambda url: _Store(error))


# every command, the arguments it runs with, and where its one library call is faked
COMMANDS: dict[str, tuple[list[str], Inject]] = {
    "init": (["init", "{dir}/new.toml"], _at("journeybridge.config.write_example_config",
                                             _raise)),
    "check": (["check", "--config", "{config}"], _at("journeybridge.checks.check_shop",
                                                     _fail_check)),
    "sync": (["sync", "--config", "{config}"], _at("journeybridge.sync.sync", _fail_sync)),
    "sync --dry-run": (["sync", "--dry-run", "--config", "{config}"],
                       _at("journeybridge.sync.sync", _fail_sync)),
    "journeys": (["journeys", "--config", "{config}"],
                 _at("journeybridge.sources.shop_journeys", _raise)),
    "status": (["status", "--config", "{config}"], _status_store),
    "export-events": (["export-events", "--config", "{config}", "--out", "-"],
                      _at("journeybridge.sources.shop_journeys", _raise)),
    "export-events --send": (
        ["export-events", "--config", "{config}", "--out", "-", "--send", "--pixel-id", "1"],
        _export_fails),
    "demo": (["demo", "--size", "50"], _at("journeybridge.sources.sandbox_shop", _raise)),
    "sandbox": (["sandbox", "--size", "50"], _at("journeybridge.sources.sandbox_shop",
                                                 _raise)),
    "schema": (["schema"], _at("journeybridge.cli.sandbox.schema_document", _raise)),
    "explain": (["explain", "customer:1", "--config", "{config}"],
                _at("journeybridge.sources.shop_journeys", _raise)),
    "explain --sandbox": (["explain", "customer:1", "--sandbox", "50"],
                          _at("journeybridge.sources.sandbox_shop", _raise)),
    "backtest": (["backtest", "--config", "{config}"],
                 _at("journeybridge.sources.shop_journeys", _raise)),
    "actions": (["actions", "--config", "{config}"],
                _at("journeybridge.sources.shop_journeys", _raise)),
    "actions --sandbox": (["actions", "--sandbox", "50"],
                          _at("journeybridge.sources.sandbox_shop", _raise)),
    "report": (["report", "--config", "{config}", "--out", "{dir}/report.html"],
               _at("journeybridge.sources.shop_journeys", _raise)),
    "report --sandbox": (["report", "--sandbox", "50", "--out", "{dir}/report.html"],
                         _at("journeybridge.sources.sandbox_shop", _raise)),
}


def test_every_command_is_in_the_table() -> None:
    assert {args[0] for args, _ in COMMANDS.values()} == set(main.commands)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[sync]\nstate = "state.db"\n\n[shops.myshop]\nurl = "{URL}"\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(("error", "code"), ERRORS, ids=[type(e).__name__ for e, _ in ERRORS])
def test_every_command_exits_with_the_documented_code(
        command: str, error: JourneybridgeError, code: int, config: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    args, inject = COMMANDS[command]
    inject(monkeypatch, error)
    env = {"JOURNEYBRIDGE_MYSHOP_KEY": "ck_test", "JOURNEYBRIDGE_MYSHOP_SECRET": "cs_test",
           "JOURNEYBRIDGE_META_ACCESS_TOKEN": "EAAB-token"}
    argv = [a.format(config=config, dir=config.parent) for a in args]
    result = CliRunner().invoke(main, argv, env=env)
    assert result.exit_code == code, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # no traceback, whatever the kind
    everything = result.stdout + result.stderr
    assert "anna.jansen@example.nl" not in everything
    assert "cs_0123456789abcdef" not in everything
    assert "a***@example.nl" in everything  # the error was reported, masked


def test_click_usage_errors_are_2_too() -> None:
    assert CliRunner().invoke(main, ["sync", "--no-such-option"]).exit_code == 2
    assert CliRunner().invoke(main, ["no-such-command"]).exit_code == 2
    from journeybridge.cli import exit_code_for

    assert exit_code_for(click.UsageError("x")) == 2


# -- for real -------------------------------------------------------------------------------

@contextmanager
def _html_site() -> Iterator[str]:
    """A web server answering every request with an HTML page (a blog, not a shop)."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><html><body>My blog</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.do_GET()

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _clean_env(**extra: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("JOURNEYBRIDGE_")}
    env.update(extra)
    return env


@pytest.mark.parametrize("args", [["journeys"], ["check"], ["sync"], ["export-events", "--out",
                                                                     "-"],
                                  ["explain", "customer:1", "--shop", "blog"],
                                  ["backtest", "--shop", "blog"]])
def test_a_url_that_is_not_a_shop_exits_3(tmp_path: Path, args: list[str]) -> None:
    with _html_site() as url:
        config = tmp_path / "config.toml"
        config.write_text(f'[sync]\nstate = "state.db"\n\n[shops.blog]\nurl = "{url}"\n',
                          encoding="utf-8")
        env = _clean_env(JOURNEYBRIDGE_BLOG_KEY="ck_x", JOURNEYBRIDGE_BLOG_SECRET="cs_y")
        result = CliRunner().invoke(main, [*args, "--config", str(config)], env=env)
    assert result.exit_code == 3, result.output
    assert "no WordPress REST API here" in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("args", [["journeys"], ["status"], ["sync"],
                                  ["explain", "customer:1", "--shop", "myshop"],
                                  ["backtest", "--shop", "myshop"]])
def test_an_unusable_state_store_exits_3_from_every_command(tmp_path: Path,
                                                            args: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    config = tmp_path / "config.toml"
    config.write_text(f'[sync]\nstate = "{blocker}/state.db"\n\n[shops.myshop]\n'
                      f'url = "{URL}"\n', encoding="utf-8")
    env = _clean_env(JOURNEYBRIDGE_MYSHOP_KEY="ck_x", JOURNEYBRIDGE_MYSHOP_SECRET="cs_y")
    result = CliRunner().invoke(main, [*args, "--config", str(config)], env=env)
    assert result.exit_code == 3, result.output
    assert "state store" in result.output


def test_a_person_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=60) as shop:
        result = CliRunner().invoke(main, ["explain", "customer:999999", "--shop", "sand",
                                           "--config", str(shop.config)],
                                    env=_clean_env(**shop.env))
    assert result.exit_code == 2, result.output
    assert "no person 'customer:999999'" in result.output


def test_a_busy_shop_exits_75_and_logs_no_error(tmp_path: Path) -> None:
    from journeybridge.state import open_store

    with sandbox_shop(tmp_path, size=60) as shop, \
            open_store(f"sqlite:///{tmp_path / 'state.db'}") as store, store.lock("sand"):
        proc = subprocess.run([sys.executable, "-m", "journeybridge.cli", "sync", "--config",
                               str(shop.config)], capture_output=True, text=True, timeout=60,
                              env=child_env(shop.env), cwd=ROOT)
    assert proc.returncode == 75, proc.stderr
    logs = [json.loads(line) for line in proc.stderr.splitlines()]
    assert logs and all(entry["level"] == "info" for entry in logs), logs
    assert any(entry.get("event") == "shop_busy" for entry in logs)
    (row,) = json.loads(proc.stdout.splitlines()[-1])["shops"]
    assert (row["status"], row["exit_code"]) == ("busy", 75)


def test_a_closed_pipe_is_a_normal_end(tmp_path: Path) -> None:
    with sandbox_shop(tmp_path, size=400) as shop:
        proc = subprocess.Popen([sys.executable, "-m", "journeybridge.cli", "journeys",
                                 "--config", str(shop.config)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=child_env(shop.env), cwd=ROOT)
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()  # like `| head -1`: read one line, then go away
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        proc.wait(timeout=60)
    assert json.loads(first)["person"]
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_a_taken_port_for_the_sandbox_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "journeybridge.cli", "sandbox", "--size",
                               "50", "--port", str(port)], capture_output=True, text=True,
                              timeout=60, env=child_env({}), cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"journeybridge: configuration error: port {port} on 127.0.0.1 is already in use: "
        "choose another port, or 0 for a free one"]
