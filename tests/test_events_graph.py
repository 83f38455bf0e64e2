"""The Graph API sink over real HTTP against the fake Graph server: batches, retries where
they belong (rate limits, 5xx) and not elsewhere (190, 100), per-batch failures, the 7-day
window, and de-duplication across runs."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.events import GraphAuthError, GraphSink, SentEvents, ServerEvent
from journeybridge.events.fake_graph import (
    FakeGraphServer,
    invalid_parameter,
    invalid_token,
    rate_limit,
    server_error,
)
from journeybridge.events.normalize import sha256_hex

TOKEN = "EAAB-secret-token-for-tests"
PIXEL = "1234567890"
NOW = time.time()


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer(access_token=TOKEN, pixel_ids=(PIXEL,)) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(graph: FakeGraphServer) -> None:
    graph.reset()


def event(n: int, *, age: float = 3600, name: str = "Purchase") -> ServerEvent:
    return ServerEvent(event_name=name, event_time=int(NOW - age), event_id=f"ev-{n}",
                       action_source="website",
                       event_source_url="https://shop.example/checkout/",
                       user_data={"em": sha256_hex(f"p{n}@example.com"),
                                  "client_user_agent": "Mozilla/5.0"},
                       custom_data={"value": 10.0, "currency": "EUR"})


def sink(graph: FakeGraphServer, **kwargs: object) -> GraphSink:
    options: dict[str, object] = {"base_url": graph.url, "api_version": "v25.0",
                                  "retry": RetryPolicy(attempts=4, base_wait=0.0,
                                                       max_wait=0.0, sleep=lambda _: None)}
    options.update(kwargs)
    return GraphSink(PIXEL, TOKEN, **options)  # type: ignore[arg-type]


def test_sends_in_batches_of_at_most_the_batch_size(graph: FakeGraphServer) -> None:
    report = sink(graph, batch_size=4).send([event(i) for i in range(10)])
    assert report.sent == 10 and report.ok
    assert [len(r.body["data"]) for r in graph.requests] == [4, 4, 2]
    assert all(r.path == f"/v25.0/{PIXEL}/events" and r.had_token for r in graph.requests)
    assert [b.received for b in report.batches] == [4, 4, 2]
    assert {e["event_id"] for e in graph.received} == {f"ev-{i}" for i in range(10)}


def test_at_most_1000_events_per_request(graph: FakeGraphServer) -> None:
    report = sink(graph).send([event(i) for i in range(1001)])
    assert report.sent == 1001
    assert [len(r.body["data"]) for r in graph.requests] == [1000, 1]
    with pytest.raises(ValueError, match="batch_size"):
        sink(graph, batch_size=1001)


@pytest.mark.parametrize("fault", [rate_limit(4), rate_limit(17), rate_limit(32),
                                   rate_limit(613), rate_limit(80004), server_error(500),
                                   server_error(503)])
def test_rate_limits_and_server_errors_are_retried(graph: FakeGraphServer, fault) -> None:  # type: ignore[no-untyped-def]
    graph.inject(fault, fault)
    report = sink(graph).send([event(1), event(2)])
    assert report.ok and report.sent == 2
    assert [r.status for r in graph.requests] == [fault.status, fault.status, 200]


def test_retry_after_is_honoured(graph: FakeGraphServer) -> None:
    waits: list[float] = []
    graph.inject(rate_limit(17, retry_after=3))
    retry = RetryPolicy(attempts=3, base_wait=0.0, max_wait=0.0, sleep=waits.append)
    assert sink(graph, retry=retry).send([event(1)]).ok
    assert waits == [3.0]


def test_retries_are_bounded_then_the_run_stops_and_keeps_the_rest(
        graph: FakeGraphServer) -> None:
    graph.inject(*[rate_limit(4)] * 4)
    report = sink(graph, batch_size=2).send([event(i) for i in range(5)])
    assert len(graph.requests) == 4  # the policy's 4 attempts, then stop
    assert report.sent == 0 and report.not_attempted == 5 and not report.ok
    assert "code 4" in report.stopped
    assert report.batches[0].error


def test_an_invalid_token_is_not_retried_and_stops_the_run(graph: FakeGraphServer,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    caplog.set_level(logging.DEBUG, logger="journeybridge")
    graph.inject(invalid_token())
    with pytest.raises(GraphAuthError) as info:
        sink(graph, batch_size=2).send([event(i) for i in range(5)])
    assert len(graph.requests) == 1
    assert info.value.code == 190 and info.value.status == 401
    assert info.value.report is not None and info.value.report.not_attempted == 5
    assert TOKEN not in str(info.value)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_a_wrong_token_is_refused_by_the_fake_like_the_real_api(graph: FakeGraphServer) -> None:
    bad = GraphSink(PIXEL, "wrong-token", base_url=graph.url,
                    retry=RetryPolicy(attempts=3, sleep=lambda _: None))
    with pytest.raises(GraphAuthError):
        bad.send([event(1)])
    assert len(graph.requests) == 1


def test_an_invalid_parameter_is_not_retried_the_bad_event_is_isolated() -> None:
    # the fake's clock runs two days ahead, so an event 6 days old for us is too old for it
    ahead = FakeGraphServer(access_token=TOKEN, pixel_ids=(PIXEL,),
                            clock=lambda: time.time() + 2 * 24 * 3600)
    with ahead:
        events = [event(i) for i in range(4)]
        stale = event(9, age=6 * 24 * 3600)
        report = sink(ahead, batch_size=10).send([events[0], events[1], stale, *events[2:]])
        requests = ahead.requests
        received = ahead.received
    assert report.failed == 1 and report.sent == 4 and not report.ok
    batch = report.batches[0]
    assert batch.failed_event_ids == ["ev-9"]
    assert "7 days" in batch.error
    assert requests[0].status == 400
    sent_sets = [tuple(e["event_id"] for e in r.body["data"]) for r in requests]
    assert len(sent_sets) == len(set(sent_sets))  # no request repeats the same events
    assert {e["event_id"] for e in received} == {f"ev-{i}" for i in range(4)}


def test_an_injected_invalid_parameter_fails_one_batch_only(graph: FakeGraphServer) -> None:
    graph.inject(invalid_parameter(2804003))
    report = sink(graph, batch_size=1).send([event(1), event(2)])
    assert [b.ok for b in report.batches] == [False, True]
    assert report.batches[0].failed_event_ids == ["ev-1"]
    assert report.batches[0].error == "Invalid parameter"
    assert len(graph.requests) == 2


def test_old_and_future_events_are_not_sent_but_counted(graph: FakeGraphServer) -> None:
    events = [event(1), event(2, age=7 * 24 * 3600 + 5), event(3, age=-3600)]
    report = sink(graph).send(events)
    assert (report.sent, report.too_old, report.in_future) == (1, 1, 1)
    assert [e["event_id"] for e in graph.received] == ["ev-1"]


def test_a_rerun_never_sends_an_event_twice(graph: FakeGraphServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with SentEvents.open(url, f"pixel:{PIXEL}") as sent:
        first = sink(graph, sent=sent, batch_size=3).send([event(i) for i in range(5)])
    with SentEvents.open(url, f"pixel:{PIXEL}") as sent:
        second = sink(graph, sent=sent).send([event(i) for i in range(7)])
        assert sent.already_sent(["ev-0", "ev-6", "nope"]) == {"ev-0", "ev-6"}
    assert (first.sent, second.sent, second.already_sent) == (5, 2, 5)
    assert sorted(e["event_id"] for e in graph.received) == sorted(f"ev-{i}" for i in range(7))


def test_a_failed_batch_is_not_remembered(graph: FakeGraphServer, tmp_path: Path) -> None:
    with SentEvents.open(str(tmp_path / "state.db"), f"pixel:{PIXEL}") as sent:
        graph.inject(invalid_parameter(None))
        sink(graph, sent=sent, batch_size=1).send([event(1), event(2)])
        assert sent.already_sent(["ev-1", "ev-2"]) == {"ev-2"}
        again = sink(graph, sent=sent).send([event(1), event(2)])
        assert (again.sent, again.already_sent) == (1, 1)


def test_test_events_carry_the_code_and_are_not_remembered(graph: FakeGraphServer,
                                                            tmp_path: Path) -> None:
    with SentEvents.open(str(tmp_path / "state.db"), f"pixel:{PIXEL}") as sent:
        s = sink(graph, sent=sent, test_event_code="TEST123")
        s.send([event(1)])
        s.send([event(1)])
        assert sent.already_sent(["ev-1"]) == set()
    assert [r.test_event_code for r in graph.requests] == ["TEST123", "TEST123"]


def test_the_token_never_appears_in_urls_or_logs(graph: FakeGraphServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    graph.inject(server_error(500), rate_limit(4))
    s = sink(graph)
    assert TOKEN not in repr(s) and TOKEN not in s.endpoint
    s.send([event(1)])
    assert caplog.records
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
