"""One export run, from a shop's journeys to JSON lines and/or the Graph API: what
``journeybridge export-events`` does, as a library call.

:func:`run_export` opens what the run needs (the JSON-lines stream, the sent-event log in the
state database, the Graph sink), maps and sends, and closes them again; :func:`consent_policy`
builds the consent policy from its parts, reading an allow-list file. Both raise ConfigError
for anything wrong in what they were given.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from journeybridge.errors import ConfigError
from journeybridge.events.consent import ConsentPolicy
from journeybridge.events.graph import DEFAULT_API_VERSION, DEFAULT_BASE_URL, MAX_BATCH, GraphSink
from journeybridge.events.mapping import EventSettings
from journeybridge.events.sent import SentEvents
from journeybridge.events.sinks import JsonlSink

if TYPE_CHECKING:
    from journeybridge.events import ExportResult
    from journeybridge.model import Journey

__all__ = ["GraphTarget", "consent_policy", "read_allow_list", "run_export"]


@dataclass(frozen=True)
class GraphTarget:
    """Where and how to send: the pixel, the access token, the API, and the state database
    (``state_url``) that remembers which event ids this pixel already received."""

    pixel_id: str
    token: str
    state_url: str
    api_version: str = DEFAULT_API_VERSION
    base_url: str = DEFAULT_BASE_URL
    test_event_code: str | None = None
    batch_size: int = MAX_BATCH


def read_allow_list(path: Path | None) -> frozenset[str]:
    """The e-mails or person keys in ``path``, one a line (blank lines and ``#`` comments
    skipped); empty for None. Raises ConfigError when the file cannot be read."""
    if path is None:
        return frozenset()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the consent list: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the consent list is not UTF-8 text") from None
    return frozenset(line.strip() for line in lines if line.strip()
                     and not line.lstrip().startswith("#"))


def consent_policy(source: str, *, meta_key: str | None = None,
                   allow_list: Path | None = None,
                   without_consent: str = "drop") -> ConsentPolicy:
    """The consent policy of ``source`` (``all``, ``newsletter``, ``meta``, ``list``).
    Raises ConfigError naming ``--consent`` when the parts do not fit together."""
    allowed = read_allow_list(allow_list)
    try:
        return ConsentPolicy(source=source, meta_key=meta_key,
                             allowed=allowed,
                             without_consent=without_consent)
    except ValueError as exc:
        raise ConfigError(f"--consent {source}: {exc}") from None


def run_export(journeys: list[Journey], settings: EventSettings, consent: ConsentPolicy, *,
               since: datetime | None, until: datetime | None = None,
               out: TextIO | Path | None = None, graph: GraphTarget | None = None
               ) -> ExportResult:
    """Map ``journeys`` to events in ``[since, until)`` under ``consent``; write them as JSON
    lines to ``out`` (a stream, or a file created or replaced) and send them to ``graph``
    (neither: a dry run that only counts). Raises GraphAuthError when the token is refused
    (its ``report`` says what got through) and ConfigError when ``out`` cannot be written."""
    from journeybridge.events import export_events

    with contextlib.ExitStack() as stack:
        jsonl = None
        if isinstance(out, Path):
            try:
                stream = stack.enter_context(out.open("w", encoding="utf-8"))
            except OSError as exc:
                raise ConfigError(f"{out}: cannot write the events: {exc.strerror}") from None
            jsonl = JsonlSink(stream)
        elif out is not None:
            jsonl = JsonlSink(out)
        sink = None
        if graph is not None:
            sent = stack.enter_context(SentEvents.open(graph.state_url,
                                                       f"pixel:{graph.pixel_id}"))
            sink = GraphSink(graph.pixel_id, graph.token, api_version=graph.api_version,
                             base_url=graph.base_url, test_event_code=graph.test_event_code,
                             batch_size=graph.batch_size, sent=sent)
        return export_events(journeys, settings, consent, since=since, until=until,
                             jsonl=jsonl, graph=sink)
