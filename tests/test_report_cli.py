"""``journeybridge report``: a configured shop after syncs (its transition log in the weekly
history), the sandbox, JSON output, the segment filter and its errors, and the demo's pointer
to the command."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from journeybridge.report.charts import CHARTS
from tests.sync_support import invoke, sandbox_shop


def test_a_synced_shop_reports_its_logged_weeks(tmp_path: Path) -> None:
    # the log is dated by the runs' own clock: sync now, report as of 8 days later
    with sandbox_shop(tmp_path, size=80, seed=4) as shop:
        config = ["--config", str(shop.config)]
        assert invoke(["sync", *config], shop.env).exit_code == 0
        later = (datetime.now(timezone.utc) + timedelta(days=8)).isoformat()
        out = tmp_path / "figures.json"
        done = invoke(["report", "--format", "json", "--out", str(out), "--now", later,
                       *config], shop.env)
        assert done.exit_code == 0, done.output
        page = tmp_path / "report.html"
        assert invoke(["report", "--out", str(page), "--now", later, *config],
                      shop.env).exit_code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    weeks = data["stages"]["weeks"]
    # the first sync was 8 days before: the last two week ends come from the log
    assert [w["source"] for w in weeks[-2:]] == ["log", "log"]
    assert weeks[-3]["source"] == "recomputed"
    assert data["stages"]["logged_weeks"] == 2
    assert sum(weeks[-2]["counts"].values()) == data["people"]
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == len(CHARTS)
    assert "recomputed from today&#39;s records" in html or "recomputed from today's" in html


def test_the_sandbox_report_and_segment_filter(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = invoke(["report", "--sandbox", "60", "--format", "json", "--out", str(out),
                   "--segment", "New"], {})
    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["segment"] == "New"
    assert data["rfm"]["buyers"] == data["people"] == next(
        g["people"] for g in data["rfm"]["groups"] if g["group"] == "New")
    # the open next actions of the segment's people only
    assert data["actions"]["computed"] and sum(data["actions"]["by_kind"].values()) <= \
        data["people"]
    bad = invoke(["report", "--sandbox", "60", "--out", str(out), "--segment", "nope"], {})
    assert bad.exit_code == 2
    assert "not a configured segment or an RFM group" in bad.output


def test_sandbox_and_a_shop_do_not_mix(tmp_path: Path) -> None:
    done = invoke(["report", "--sandbox", "60", "--shop", "x", "--out",
                   str(tmp_path / "r.html")], {})
    assert done.exit_code == 2
    assert "--sandbox" in done.output


def test_the_demo_points_to_the_report() -> None:
    done = invoke(["demo", "--size", "50", "--examples", "0"], {})
    assert done.exit_code == 0, done.output
    assert "journeybridge report --sandbox 50" in done.output.splitlines()[-1]


def test_the_report_counts_the_open_next_actions_by_kind(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = invoke(["report", "--sandbox", "300", "--format", "json", "--out", str(out),
                   "--now", "2026-05-02T12:00:00+00:00"], {})
    assert done.exit_code == 0, done.output
    actions = json.loads(out.read_text(encoding="utf-8"))["actions"]
    assert actions["computed"] and sum(actions["by_kind"].values()) > 0
    listed = invoke(["actions", "--sandbox", "300", "--format", "json",
                     "--now", "2026-05-02T12:00:00+00:00"], {})
    assert listed.exit_code == 0, listed.output
    kinds = Counter(json.loads(line)["kind"] for line in listed.output.splitlines()
                    if line.startswith("{"))
    assert dict(kinds) == actions["by_kind"]
