"""The one adapter protocol: what the sync engine, the checks, the journeys and events commands
ask of a shop, whatever its platform.

A shop adapter (:class:`ShopAdapter`) streams what changed (:meth:`ShopAdapter.pull`), says
where a person's values are written and what the shop holds there
(:meth:`ShopAdapter.write_target`), turns platform-neutral desired states into writes
(:meth:`ShopAdapter.plan`), sends them (:meth:`ShopAdapter.apply`) and checks its key
(:meth:`ShopAdapter.check`). Adapters know their API and the journey model, nothing about
stages: a desired state names a stage by its code and label, as plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from journeybridge.errors import JourneybridgeError
from journeybridge.identity import Assembly, assemble
from journeybridge.model import Cart, Journey, Order, Person, Platform, RefundRecord, Review

__all__ = [
    "AdapterBase",
    "CheckStep",
    "Collected",
    "DesiredState",
    "PlanItem",
    "PullPage",
    "PullReport",
    "PullResult",
    "PullStream",
    "Record",
    "ShopAdapter",
    "Write",
    "WriteReport",
    "collect",
]

Record = Person | Order | Cart | Review | RefundRecord
_A = TypeVar("_A")


@dataclass(frozen=True)
class PullPage:
    """Records of one kind as they arrived (``customer``, ``order``, ``cart``, ``review``,
    ``refund``), validated."""

    kind: str
    records: Sequence[Record]
    expected: int | None = None
    """How many records of ``kind`` this listing holds, when the shop said (WooCommerce's
    ``X-WP-Total``); None when unknown. For progress bars only."""


@dataclass
class PullReport:
    """What a pull saw: records per kind, the malformed records skipped (one line each, with
    kind, id and field), requests sent, carts of unknown visitors, and notes for the log."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    requests: int = 0
    anonymous_carts: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, kind: str, n: int = 1) -> None:
        """Add ``n`` records of ``kind``."""
        self.counts[kind] = self.counts.get(kind, 0) + n


@dataclass
class PullResult:
    """How a pull ended: the cursor the next pull starts from (opaque to the caller; store it
    only once everything the pull covered is recorded), the kinds read in full (rows of those
    kinds the pull did not see are gone from the shop), ids known deleted by kind, whether
    the pull was incremental, and its report."""

    cursor: dict[str, str]
    full_kinds: tuple[str, ...]
    deleted: dict[str, list[str]]
    incremental: bool
    report: PullReport


class PullStream:
    """The pages of a pull as they arrive; :attr:`result` once they are all read.

    Wraps a generator that yields :class:`PullPage` and returns a :class:`PullResult`."""

    def __init__(self, pages: Iterator[PullPage] | Any) -> None:
        self._pages = pages
        self._result: PullResult | None = None

    def __iter__(self) -> Iterator[PullPage]:
        self._result = yield from self._pages

    @property
    def result(self) -> PullResult:
        """How the pull ended. Raises RuntimeError before every page was read."""
        if self._result is None:
            raise RuntimeError("the pull has not been read to its end")
        return self._result


@dataclass(frozen=True)
class DesiredState:
    """What one person should carry in the shop, platform-neutral: their stage (code such as
    ``at_risk``, and the label the shop shows), since when (the date recorded when they
    entered it, in the shop's time zone), their segments, whether they are a guest, and
    optional further values (next action, expected next order) by name."""

    person_key: str
    stage: str
    label: str
    since: date
    segments: tuple[str, ...] = ()
    is_guest: bool = False
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanItem:
    """A person's desired state with their stored write target and held values (as
    :meth:`ShopAdapter.write_target` gave them, or :meth:`ShopAdapter.apply` updated them)."""

    desired: DesiredState
    target: Mapping[str, Any]
    held: Mapping[str, Any]


@dataclass(frozen=True)
class Write:
    """One write an adapter planned: for a person, on a record, with platform values."""

    person_key: str
    resource: str
    record_id: str
    values: Mapping[str, Any]


@dataclass
class WriteReport:
    """What :meth:`ShopAdapter.apply` did: records written, per-record failures (one line
    each), requests sent, and each written person's new target and held values."""

    written: int = 0
    failed: list[str] = field(default_factory=list)
    requests: int = 0
    updates: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    conflicts: int = 0


@dataclass(frozen=True)
class CheckStep:
    """One line of ``journeybridge check``: what was checked, whether it passed, what was
    found or what is wrong (one line, no secret), and the error behind a failure."""

    name: str
    ok: bool
    detail: str
    error: JourneybridgeError | None = None


class ShopAdapter(Protocol):
    """What every platform's adapter offers (see the module docstring)."""

    platform: Platform
    shop: str
    own_meta_prefix: str

    @property
    def url(self) -> str:
        """The shop's address."""

    @property
    def requests_sent(self) -> int:
        """Requests sent so far by this adapter."""

    @property
    def timezone(self) -> str:
        """The IANA zone the shop's local dates are read in: the configured one, else the
        one the shop tells (asked once), else UTC."""

    def pull(self, cursor: Mapping[str, str] | None = None) -> PullStream:
        """Everything (no cursor) or what changed since ``cursor``, streamed."""

    def cursor_since(self, moment: datetime) -> dict[str, str]:
        """A cursor whose pull reads what changed since ``moment`` (aware)."""

    def write_target(self, journey: Journey, rows: Sequence[Person]
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Where this person's values are written and what the shop holds there now (both
        JSON-ready), from their journey and the customer rows behind them."""

    def plan(self, items: Iterable[PlanItem]) -> tuple[list[Write], int]:
        """The writes that make the shop hold each desired state: only where the held values
        differ. Also returns how many people cannot be written (no record to write to)."""

    def apply(self, writes: Sequence[Write]) -> WriteReport:
        """Send ``writes``; per-record failures are reported, a refused key raises."""

    def check(self, *, write: bool = True) -> list[CheckStep]:
        """Check the connection, the key's read rights and (``write``) its write rights."""

    def close(self) -> None:
        """Release the connection pool."""

    def __enter__(self: _A) -> _A: ...

    def __exit__(self, *exc: object) -> None: ...


@dataclass
class Collected:
    """A whole pull read into memory, by kind (for tests, small shops and the library's
    ``journeys()``; the sync engine streams instead)."""

    customers: list[Person]
    orders: list[Order]
    carts: list[Cart]
    reviews: list[Review]
    refunds: list[RefundRecord]
    result: PullResult

    @property
    def report(self) -> PullReport:
        """The pull's report."""
        return self.result.report

    @property
    def cursor(self) -> dict[str, str]:
        """The cursor the next pull starts from."""
        return self.result.cursor

    def assemble(self, shop: str, platform: Platform) -> Assembly:
        """The journeys these records add up to (:func:`journeybridge.identity.assemble`)."""
        return assemble(shop, platform, self.customers, self.orders, self.carts, self.reviews,
                        self.refunds, anonymous_carts=self.report.anonymous_carts)


class _Client(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def requests_sent(self) -> int: ...


class AdapterBase:
    """What every adapter does the same way, from its shop name, platform and HTTP client:
    its address, its request count and the library's whole-shop ``journeys()``. An adapter
    class derives from it and sets the three attributes."""

    shop: str
    platform: Platform
    client: _Client

    def pull(self, cursor: Mapping[str, str] | None = None) -> PullStream:
        """Stream the shop's records (see :meth:`ShopAdapter.pull`)."""
        raise NotImplementedError

    def journeys(self) -> Iterator[Journey]:
        """Pull everything and yield one Journey per person (accounts and guests)."""
        yield from collect(self.pull()).assemble(self.shop, self.platform).journeys

    @property
    def requests_sent(self) -> int:
        """Requests sent so far."""
        return self.client.requests_sent

    @property
    def url(self) -> str:
        """The shop's address."""
        return self.client.url


def collect(stream: PullStream) -> Collected:
    """Read a whole pull into memory (later pages of a record win over earlier ones)."""
    by_kind: dict[str, dict[str, Record]] = {k: {} for k in ("customer", "order", "cart",
                                                              "review", "refund")}
    for page in stream:
        rows = by_kind.setdefault(page.kind, {})
        for record in page.records:
            rows[_record_id(record)] = record
    return Collected(
        customers=[r for r in by_kind["customer"].values() if isinstance(r, Person)],
        orders=[r for r in by_kind["order"].values() if isinstance(r, Order)],
        carts=[r for r in by_kind["cart"].values() if isinstance(r, Cart)],
        reviews=[r for r in by_kind["review"].values() if isinstance(r, Review)],
        refunds=[r for r in by_kind["refund"].values() if isinstance(r, RefundRecord)],
        result=stream.result)


def _record_id(record: Record) -> str:
    if isinstance(record, Person):
        return record.customer_id or record.key
    return record.id
