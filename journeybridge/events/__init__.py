"""Pixel-style server events from journeys: a shop gets Meta Conversions API data without a PHP
plugin.

    from journeybridge.events import (ConsentPolicy, EventSettings, GraphSink, SentEvents,
                                      export_events)

    settings = EventSettings(shop_url="https://shop.example", shop_id="myshop")
    with SentEvents.open("sqlite:///state.db", "pixel:1234567890") as sent:
        sink = GraphSink("1234567890", token, sent=sent)
        result = export_events(journeys, settings, ConsentPolicy(source="newsletter"),
                               since=since, graph=sink)

Modules: :mod:`.normalize` (Meta's normalization and hashing), :mod:`.mapping` (journeys to
events, event ids), :mod:`.consent`, :mod:`.sinks` (JSON lines), :mod:`.graph` (the Graph API),
:mod:`.sent` (delivered ids), :mod:`.fake_graph` (a local fake Graph API for tests and demos).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from journeybridge.events.consent import ConsentDecision, ConsentPolicy, decide_consent
from journeybridge.events.graph import (
    GraphAuthError,
    GraphError,
    GraphSink,
    GraphTransientError,
    SendReport,
)
from journeybridge.events.mapping import (
    EventSettings,
    MappedEvents,
    ServerEvent,
    deterministic_event_id,
    journey_events,
    map_journeys,
)
from journeybridge.events.normalize import CustomerInfo, HashedUserData, hash_user_data
from journeybridge.events.sent import SentEvents
from journeybridge.events.sinks import JsonlSink
from journeybridge.model import Journey

__all__ = [
    "ConsentDecision",
    "ConsentPolicy",
    "CustomerInfo",
    "EventSettings",
    "ExportResult",
    "GraphAuthError",
    "GraphError",
    "GraphSink",
    "GraphTransientError",
    "HashedUserData",
    "JsonlSink",
    "MappedEvents",
    "SendReport",
    "SentEvents",
    "ServerEvent",
    "decide_consent",
    "deterministic_event_id",
    "export_events",
    "hash_user_data",
    "journey_events",
    "map_journeys",
]


@dataclass
class ExportResult:
    """What an export did: the mapped events with what was left out, lines written, and the
    Graph API report (None when nothing was sent)."""

    mapped: MappedEvents
    written: int = 0
    report: SendReport | None = None

    @property
    def ok(self) -> bool:
        """True unless the Graph API refused or missed some events."""
        return self.report is None or self.report.ok


def export_events(
    journeys: Iterable[Journey],
    settings: EventSettings,
    consent: ConsentPolicy | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    jsonl: JsonlSink | None = None,
    graph: GraphSink | None = None,
) -> ExportResult:
    """Map ``journeys`` to events in ``[since, until)`` under ``consent``, write them to
    ``jsonl`` and send them with ``graph`` (either, both or neither: a dry run). Raises
    :class:`GraphAuthError` when the token is refused (its ``report`` says what got through);
    other send failures are in the result's report."""
    mapped = map_journeys(journeys, settings, consent, since=since, until=until)
    result = ExportResult(mapped=mapped)
    if jsonl is not None:
        result.written = jsonl.write(mapped.events)
    if graph is not None:
        result.report = graph.send(mapped.events)
    return result
