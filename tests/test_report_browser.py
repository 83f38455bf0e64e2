"""The HTML report opened in a real headless Chromium (Debian's ``chromium``), offline: no
script or load errors (the page's own error hook writes any into ``#page-errors``, and
Chromium's console log is read too), every chart present as inline SVG, and a screenshot
written as a test artifact (its path is printed).

Without Chromium the tests skip locally and FAIL in CI (``CI=true``): ``.ci/run`` installs
it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from journeybridge.report import compute_figures, render_html
from journeybridge.report.charts import CHARTS
from journeybridge.stages import classify_all
from tests.factories import NOW, generated_shop

CHROMIUM = os.environ.get("JOURNEYBRIDGE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--window-size=1280,9000")


def _chromium() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"Chromium is missing ({CHROMIUM}): .ci/run must install Debian's chromium")
    pytest.skip("Chromium is not installed here (CI installs it and never skips)")


def _open(html: Path, tmp: Path, *extra: str) -> tuple[str, str]:
    """Chromium's DOM after load (or its screenshot run) and its stderr log."""
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    done = subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={profile}", *extra,
                           html.as_uri()], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "TZ": "UTC"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def _console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if re.search(r"CONSOLE|Uncaught|Refused to|net::ERR", line)]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    journeys = generated_shop(3, 300, NOW)
    figures = compute_figures(journeys, classify_all(journeys, now=NOW), NOW, shop="test",
                              next_actions={"cart_reminder": 4, "review_request": 2})
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(figures), encoding="utf-8")
    return path


def test_report_opens_offline_without_errors_with_every_chart(report_file: Path,
                                                              tmp_path: Path) -> None:
    dom, log = _open(report_file, tmp_path, "--dump-dom")
    assert 'id="page-errors" hidden=""' in dom, re.findall(r'<pre id="page-errors".*?</pre>',
                                                           dom, re.S)
    assert _console_errors(log) == []
    assert f'data-charts="{len(CHARTS)}"' in dom  # counted by the page after load
    for name in CHARTS:
        block = re.search(rf'<figure class="chart" id="chart-{name}">(.*?)</figure>', dom, re.S)
        assert block is not None, name
        assert "<svg" in block.group(1), name
        assert "<figcaption>" in block.group(1), name
    assert not re.search(r'(src|href)="(https?:)?//', dom)  # nothing to fetch


def test_report_screenshot_artifact(report_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _, log = _open(report_file, tmp_path, f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _console_errors(log) == []
    print(f"report screenshot: {shot}")


def test_the_error_hook_catches_a_broken_page(report_file: Path, tmp_path: Path) -> None:
    """The checks above could fail: a page with a script error and an external load."""
    broken = tmp_path / "broken.html"
    text = report_file.read_text(encoding="utf-8")
    text = text.replace("</main>", '<script>throw new Error("boom in the page")</script>'
                                   '<img src="https://example.invalid/x.png"></main>')
    broken.write_text(text, encoding="utf-8")
    dom, log = _open(broken, tmp_path, "--dump-dom")
    errors = re.search(r'<pre id="page-errors">(.*?)</pre>', dom, re.S)
    assert errors is not None
    assert "boom in the page" in errors.group(1)
    assert "example.invalid" in errors.group(1)
    assert _console_errors(log)
