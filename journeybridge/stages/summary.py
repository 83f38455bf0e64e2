"""Compact per-person summaries: what the stage rules and segment rules need of one person,
taken once from their journey and reused until it could change.

A sync cannot afford to decode every stored record of a million people on every run to decide
their stages again. What the rules read of a person is small: the row of a
:class:`~journeybridge.stages.table.FactsTable` (purchase times, the shipped or troubled order,
flags, the latest good review, consideration signals) and the segment features that do not
depend on the moment (:func:`~journeybridge.stages.features.feature_base`). A
:class:`PersonSummary` holds exactly that, as of a moment ``as_of``, and knows until when it
stays true (``valid_until``): the row depends on the moment only through comparisons of the
journey's own times with the settings' windows, so it cannot change before the earliest of
those times, each plus each window, that lies after ``as_of``. Between ``as_of`` and
``valid_until`` the summary gives the row :meth:`FactsTable.from_facts` would give for the
journey at that moment, exactly (tests/test_summary.py checks it on generated journeys).

:func:`classify_summaries` puts many summaries into one table and decides everyone columnar
against the shop's rhythm measured from the same table, as
:func:`~journeybridge.stages.classify_all` does from whole journeys; only the rows a caller
asks for become :class:`~journeybridge.stages.rules.Classification` objects with reasons.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np
from pydantic import BaseModel

from journeybridge.model import Journey
from journeybridge.stages.facts import facts_of
from journeybridge.stages.features import feature_base, features_at, rfm_input
from journeybridge.stages.phases import Stage
from journeybridge.stages.rfm import scores_of
from journeybridge.stages.rhythm import fit_churn_model, gap_gates
from journeybridge.stages.rules import Classification, StageTable, decide_table
from journeybridge.stages.segments import Segment, parse_segments, segments_for
from journeybridge.stages.settings import StageSettings
from journeybridge.stages.table import NO_TIME, FactsTable, OrderRef, _Builder, datetime_of, micros

__all__ = ["PersonSummary", "ShopClassification", "SummaryError", "classify_summaries",
           "summarize", "summary_key"]

#: Bumped whenever what a summary holds, or how it is derived, changes.
SUMMARY_VERSION: Final = 1
#: Columns of a summary's row that point into its order references / texts.
_ORDER_COLUMNS: Final = ("shipped_order", "trouble_order")
_TEXT_COLUMNS: Final = ("review_product", "signal_detail")


class SummaryError(ValueError):
    """A stored summary that cannot be used: it does not parse, or it was taken for other
    settings or by another version of the rules (rebuild it from the person's records)."""


@functools.lru_cache(maxsize=16)
def _columns(settings: StageSettings) -> tuple[str, ...]:
    return tuple(_Builder(datetime.fromtimestamp(0).astimezone(), settings).cols)


@functools.lru_cache(maxsize=16)
def summary_key(settings: StageSettings) -> str:
    """A short fingerprint of ``settings`` and of the summary layout: a summary is usable
    only with the key it was taken with."""
    text = json.dumps([SUMMARY_VERSION, settings.model_dump(mode="json"),
                       _columns(settings)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PersonSummary:
    """One person's facts-table row and moment-free segment features, as of ``as_of_us``
    (microseconds since 1970 UTC), true until ``valid_until_us`` (exclusive; None: as long as
    the records do not change), for the settings of ``key`` (:func:`summary_key`)."""

    key: str
    as_of_us: int
    valid_until_us: int | None
    row: tuple[int, ...]
    purchase_times: tuple[int, ...]
    order_refs: tuple[OrderRef, ...]
    texts: tuple[str, ...]
    features: Mapping[str, Any]
    fulfilment_days: tuple[float, ...] = ()

    @property
    def valid_until(self) -> datetime | None:
        """``valid_until_us`` as a datetime (UTC)."""
        return None if self.valid_until_us is None else datetime_of(self.valid_until_us)

    def usable_at(self, now: datetime, key: str) -> bool:
        """Whether the summary gives the person's row at ``now`` for settings ``key``."""
        at = micros(now)
        return self.key == key and self.as_of_us <= at and (
            self.valid_until_us is None or at < self.valid_until_us)

    def to_json(self) -> str:
        """The summary as compact JSON (:meth:`from_json` reads it back exactly)."""
        return json.dumps({
            "k": self.key, "a": self.as_of_us, "u": self.valid_until_us, "r": self.row,
            "p": self.purchase_times, "o": [list(ref) for ref in self.order_refs],
            "t": self.texts, "f": self.features, "d": self.fulfilment_days},
            separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PersonSummary:
        """The summary stored by :meth:`to_json`; SummaryError when it does not parse."""
        try:
            data = json.loads(text)
            return cls(str(data["k"]), int(data["a"]),
                       None if data["u"] is None else int(data["u"]),
                       tuple(int(v) for v in data["r"]), tuple(int(v) for v in data["p"]),
                       tuple(OrderRef(str(a), str(b), str(c)) for a, b, c in data["o"]),
                       tuple(str(t) for t in data["t"]), dict(data["f"]),
                       tuple(float(d) for d in data.get("d", ())))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SummaryError(f"stored summary does not parse ({type(exc).__name__})") from None


def _times_in(value: object, out: list[datetime]) -> None:
    """Every datetime anywhere inside ``value`` (models, lists, dicts), into ``out``."""
    if isinstance(value, datetime):
        out.append(value)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _times_in(getattr(value, name), out)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _times_in(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            _times_in(item, out)


def _valid_until(journey: Journey, as_of: datetime, settings: StageSettings) -> int | None:
    """The earliest moment after ``as_of`` at which a rule comparison about ``journey`` could
    turn: each of its times (a record that comes into existence, a status change), and each
    of them plus each window of ``settings`` (a cart ages into "abandoned" or out of the
    consideration window, a refund out of the service window, a review out of the review
    window)."""
    times: list[datetime] = []
    _times_in(journey, times)
    offsets = (timedelta(0), timedelta(days=settings.consideration_window_days),
               timedelta(days=settings.service_window_days),
               timedelta(days=settings.advocacy_review_window_days),
               timedelta(hours=settings.abandoned_after_hours))
    later = [t + d for t in times for d in offsets if t + d > as_of]
    return micros(min(later)) if later else None


def summarize(journey: Journey, as_of: datetime, settings: StageSettings) -> PersonSummary:
    """The summary of ``journey`` as of ``as_of`` (timezone-aware) for ``settings``."""
    facts = facts_of(journey, as_of)
    builder = _Builder(as_of, settings)
    builder.add(facts)
    row = tuple(int(values[0]) for values in builder.cols.values())
    return PersonSummary(summary_key(settings), micros(as_of),
                         _valid_until(journey, as_of, settings), row, tuple(builder.times),
                         tuple(builder.order_refs), tuple(builder.texts),
                         feature_base(journey, facts), tuple(builder.fulfilment))


class _Columns:
    """Concatenates summaries into the columns of one FactsTable, a chunk at a time."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.order_at = [names.index(n) for n in _ORDER_COLUMNS]
        self.text_at = [names.index(n) for n in _TEXT_COLUMNS]
        self.chunks: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        self.counts: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        self.times: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        self.order_refs: list[OrderRef] = []
        self.texts: list[str] = []
        self.fulfilment: list[float] = []

    def add(self, chunk: Sequence[PersonSummary]) -> None:
        rows = []
        times: list[int] = []
        counts: list[int] = []
        for s in chunk:
            row = list(s.row)
            if s.order_refs:
                base = len(self.order_refs)
                for i in self.order_at:
                    if row[i] >= 0:
                        row[i] += base
                self.order_refs.extend(s.order_refs)
            if s.texts:
                base = len(self.texts)
                for i in self.text_at:
                    if row[i] >= 0:
                        row[i] += base
                self.texts.extend(s.texts)
            rows.append(row)
            self.fulfilment.extend(s.fulfilment_days)
            times.extend(s.purchase_times)
            counts.append(len(s.purchase_times))
        if rows:
            self.chunks.append(np.array(rows, dtype=np.int64).reshape(len(rows), -1))
            self.times.append(np.array(times, dtype=np.int64))
            self.counts.append(np.array(counts, dtype=np.int64))

    def table(self, keys: Sequence[str], now: datetime, settings: StageSettings) -> FactsTable:
        empty = np.zeros(0, dtype=np.int64)
        counts = np.concatenate(self.counts) if self.counts else empty
        matrix = (np.concatenate(self.chunks) if self.chunks
                  else np.zeros((0, len(self.names)), dtype=np.int64))
        offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        columns: dict[str, Any] = {name: matrix[:, j] for j, name in enumerate(self.names)}
        return FactsTable(keys=list(keys), now_us=micros(now), settings=settings,
                          purchase_offsets=offsets,
                          purchase_times=np.concatenate(self.times) if self.times else empty,
                          order_refs=self.order_refs, texts=self.texts,
                          fulfilment_days=np.array(self.fulfilment, dtype=np.float64),
                          **columns)


@dataclass
class ShopClassification:
    """Everyone's decision, columnar: stages and since-dates for all rows; whole
    :class:`Classification` objects (with reasons) only for the rows asked for."""

    decided: StageTable
    segment_names: list[tuple[str, ...]]

    @property
    def stages(self) -> list[Stage]:
        """Each row's stage."""
        return self.decided.stages()

    @property
    def since(self) -> list[datetime]:
        """Since when each row is in its stage."""
        return [datetime_of(us) for us in self.decided.since.tolist()]

    @property
    def segments(self) -> list[tuple[str, ...]]:
        """Each row's segments, sorted."""
        return self.segment_names

    @property
    def next_order_expected(self) -> list[datetime | None]:
        """When each repeat buyer's next order is expected (None for others)."""
        return [None if us == NO_TIME else datetime_of(us)
                for us in self.decided.expected_next().tolist()]

    def classification(self, row: int) -> Classification:
        """Row ``row`` as a Classification with its reasons and segments."""
        return self.classifications([row])[0]

    def classifications(self, rows: Sequence[int] | None = None) -> list[Classification]:
        """The Classifications of ``rows`` (default: every row), in that order."""
        index = list(range(len(self.decided))) if rows is None else list(rows)
        out = self.decided.classifications(index)
        return [c.model_copy(update={"segments": self.segment_names[i]}) if
                self.segment_names[i] else c for c, i in zip(out, index)]

    def counts(self) -> dict[Stage, int]:
        """People per stage (every stage listed)."""
        return self.decided.counts()


def classify_summaries(
    keys: Sequence[str],
    summaries: Iterable[PersonSummary] | Iterable[Sequence[PersonSummary]],
    now: datetime,
    settings: StageSettings,
    segments: Mapping[str, str] | Sequence[Segment] = (),
) -> ShopClassification:
    """Classify everyone from their summaries (given one by one or in chunks), at ``now``,
    against the rhythm of the same people, as :func:`~journeybridge.stages.classify_all`
    does from their journeys. Raises :class:`SummaryError` naming the first summary that is
    not usable at ``now`` for ``settings`` (see :meth:`PersonSummary.usable_at`)."""
    key = summary_key(settings)
    columns = _Columns(_columns(settings))
    parsed = parse_segments(segments) if isinstance(segments, Mapping) else tuple(segments)
    bases: list[Mapping[str, Any]] = []
    position = 0
    for chunk in _chunks(summaries):
        for s in chunk:
            if not s.usable_at(now, key):
                who = keys[position] if position < len(keys) else f"row {position}"
                raise SummaryError(f"the summary of {who} is not usable at {now.isoformat()}")
            position += 1
        columns.add(chunk)
        if parsed:  # only segment rules need the features: keep nothing else per person
            bases.extend(s.features for s in chunk)
    if position != len(keys):
        raise ValueError(f"{len(keys)} keys for {position} summaries")
    table = columns.table(keys, now, settings)
    gates = gap_gates(table, settings)
    model = fit_churn_model(table, settings)
    probabilities, drivers = model.scores(table, settings.horizon_days)
    decided = decide_table(table, gates, settings, probabilities, model.note, drivers)
    names: list[tuple[str, ...]]
    if parsed:
        now_us = table.now_us
        scores = scores_of([rfm_input(base, now_us) for base in bases])
        names = [segments_for(parsed, features_at(base, now_us, stage.value, score))
                 for base, stage, score in zip(bases, decided.stages(), scores)]
    else:
        names = [()] * position
    return ShopClassification(decided, names)


def _chunks(summaries: Iterable[PersonSummary] | Iterable[Sequence[PersonSummary]]
            ) -> Iterator[Sequence[PersonSummary]]:
    pending: list[PersonSummary] = []
    for item in summaries:
        if isinstance(item, PersonSummary):
            pending.append(item)
            if len(pending) >= 5000:
                yield pending
                pending = []
        else:
            if pending:
                yield pending
                pending = []
            yield item
    if pending:
        yield pending

