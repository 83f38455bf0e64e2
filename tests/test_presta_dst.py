"""PrestaShop incremental windows across DST (issue 17.5). The Webservice filters ``date_upd`` as
wall-clock TEXT, inclusive at both ends (real 8.1.2, research/FACTS.md q14): the two passes of
a fall-back hour carry the same text. Windows must never reverse and must hold every change
made between the cursor and the pull's start, in Europe/Amsterdam and America/New_York, at the
fall-back and the spring-forward hour."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.presta_mapping import PrestaMapping
from journeybridge.adapters.prestashop import PrestaShopAdapter

UTC = timezone.utc
SHOP = "http://presta.test"
API = f"{SHOP}/api"

# (zone, fall-back instant, spring-forward instant) in 2026, UTC
SWITCHES = {
    "Europe/Amsterdam": (datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
                         datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    "America/New_York": (datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
                         datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
}


def _text(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def _covers(zone: str, since: datetime, until: datetime) -> tuple[str, str]:
    low, high = PrestaMapping(shop="s", timezone=zone).window_text(since, until)
    assert low <= high  # never reversed
    moment = since
    while moment <= max(since, until):
        assert low <= _text(moment, zone) <= high, moment
        moment += timedelta(seconds=37)
    return low, high


@pytest.mark.parametrize("zone", sorted(SWITCHES))
def test_a_window_from_the_first_pass_to_the_second_never_reverses(zone: str) -> None:
    fall_back = SWITCHES[zone][0]
    since, until = fall_back - timedelta(minutes=10), fall_back + timedelta(minutes=20)
    # the plain conversion gives [hh:50, hh:20]: a reversed range that matches nothing
    assert _text(since, zone) > _text(until, zone)
    low, high = _covers(zone, since, until)
    first_hour = _text(fall_back, zone)
    assert (low, high) == (first_hour, first_hour[:14] + "59:59")


@pytest.mark.parametrize("zone", sorted(SWITCHES))
def test_spring_forward_needs_nothing_extra(zone: str) -> None:
    spring = SWITCHES[zone][1]
    since, until = spring - timedelta(minutes=10), spring + timedelta(minutes=10)
    assert _covers(zone, since, until) == (_text(since, zone), _text(until, zone))


@pytest.mark.parametrize("zone", sorted(SWITCHES))
def test_until_before_since_is_a_window_of_one_moment(zone: str) -> None:
    since = SWITCHES[zone][0] + timedelta(minutes=30)
    low, high = PrestaMapping(shop="s", timezone=zone).window_text(
        since, since - timedelta(hours=2))
    assert low == high == _text(since, zone)


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(sorted(SWITCHES)), which=st.sampled_from([0, 1]),
       start=st.integers(-4 * 3600, 4 * 3600), length=st.integers(0, 5 * 3600))
def test_every_change_between_cursor_and_start_is_inside_the_window(
        zone: str, which: int, start: int, length: int) -> None:
    switch = SWITCHES[zone][which]
    since = switch + timedelta(seconds=start)
    _covers(zone, since, since + timedelta(seconds=length))


# -- a shop that filters wall-clock text, over two runs -------------------------------------------

def _text_filtering_shop(rows: list[dict[str, Any]]) -> None:
    """Answer ``customers`` like the real Webservice: ``filter[date_upd]=[a,b]`` is an
    inclusive text range, ``sort=[date_upd_ASC,id_ASC]``, ``limit=offset,count``."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        low, high = query["filter[date_upd]"].strip("[]").split(",")
        found = sorted((r for r in rows if low <= r["date_upd"] <= high),
                       key=lambda r: (r["date_upd"], r["id"]))
        offset, count = (int(x) for x in query.get("limit", "0,1000").split(","))
        page = found[offset:offset + count]
        return 200, {}, json.dumps({"customers": page} if page else [])

    responses.add_callback(responses.GET, re.compile(rf"{re.escape(API)}/customers\?"),
                           callback=answer, content_type="application/json")


def _row(cid: int, changed: datetime, zone: str) -> dict[str, Any]:
    return {"id": cid, "email": f"c{cid}@example.org", "firstname": "A", "lastname": "B",
            "is_guest": "0", "date_add": "2026-01-01 10:00:00",
            "date_upd": _text(changed, zone), "associations": {"groups": [{"id": "3"}]}}


@pytest.mark.parametrize("zone", sorted(SWITCHES))
@responses.activate
def test_a_change_in_the_repeated_hour_is_read_by_the_next_run(zone: str) -> None:
    fall_back = SWITCHES[zone][0]
    previous_run = fall_back - timedelta(minutes=10)       # hh:50, first pass
    cursor = previous_run - timedelta(minutes=5)           # what that run saved
    rows = [_row(1, fall_back - timedelta(minutes=5), zone),   # hh:55 first pass, after it
            _row(2, fall_back + timedelta(minutes=5), zone),   # hh:05 second pass
            _row(3, fall_back - timedelta(hours=3), zone)]     # long before: not read
    _text_filtering_shop(rows)
    shop = PrestaShopAdapter(SHOP, "K" * 32, timezone_name=zone, concurrency=1,
                             retry=RetryPolicy(attempts=1))
    next_run = fall_back + timedelta(minutes=10)           # hh:10 second pass
    people = list(shop.iter_customers(since=cursor, until=next_run))
    assert sorted(p.customer_id or "" for p in people) == ["1", "2"]
