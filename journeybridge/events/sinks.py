"""The JSON-lines sink: one server event per line, exactly as it would be sent to the Graph
API (hashed customer information, no raw personal data), to a file or to standard output."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from journeybridge.events.mapping import ServerEvent

__all__ = ["JsonlSink"]


class JsonlSink:
    """Writes events to ``stream`` as JSON lines (UTF-8, keys in a stable order)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.written = 0

    def write(self, events: Iterable[ServerEvent]) -> int:
        """Write every event as one line; returns how many were written by this call."""
        count = 0
        for event in events:
            self.stream.write(json.dumps(event.to_wire(), ensure_ascii=False,
                                         separators=(",", ":")) + "\n")
            count += 1
        self.stream.flush()
        self.written += count
        return count
