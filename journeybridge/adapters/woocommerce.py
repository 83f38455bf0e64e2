"""The WooCommerce adapter: full and incremental pulls of customers, orders (refunds included)
and product reviews from the REST API ``wc/v3``, and the write-back of journey values as
customer meta.

Paging is by ``orderby=id&order=asc`` with ``per_page=100`` (records created during a pull
land on later pages, nothing shifts), de-duplicated by id; once ``X-WP-TotalPages`` is known
the remaining pages are fetched concurrently (bounded). If records disappear during the pull
(an order moved to the trash shifts later pages), a cheap id-only scan finds what was skipped.

Incremental pulls: orders by ``modified_after`` with ``dates_are_gmt=true`` (plus the orders
moved to the trash since, so they can be dropped). The customers endpoint has no modification
filter (it ignores ``modified_after``), so customers are always read in full with ``_fields``
trimmed to what the journey needs, which is cheap; reviews likewise (they have only a
creation-date filter, and their approval can change later).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.woo_client import WooClient, WooResponse
from journeybridge.adapters.woo_mapping import WooMapping
from journeybridge.errors import InvalidRecord, ShopError
from journeybridge.journeys import Assembly, assemble_journeys
from journeybridge.model import Journey, Order, OrderStatus, Person, Platform, Review

__all__ = [
    "CUSTOMER_FIELDS",
    "ORDER_FIELDS",
    "REVIEW_FIELDS",
    "MetaWrite",
    "PullReport",
    "WooCommerceAdapter",
    "WooPull",
    "WriteReport",
]

log = logging.getLogger("journeybridge.woocommerce")

CUSTOMER_FIELDS = (
    "id,email,first_name,last_name,role,date_created,date_created_gmt,date_modified,"
    "date_modified_gmt,billing,meta_data"
)
ORDER_FIELDS = (
    "id,number,status,currency,date_created,date_created_gmt,date_modified,date_modified_gmt,"
    "date_paid,date_paid_gmt,date_completed,date_completed_gmt,customer_id,billing,total,"
    "total_tax,shipping_total,discount_total,line_items,refunds,coupon_lines,payment_method,"
    "customer_ip_address,customer_user_agent,meta_data"
)
REVIEW_FIELDS = "id,date_created,date_created_gmt,product_id,status,reviewer_email,rating,verified"
ALL_ORDER_STATUSES = (
    "pending,processing,on-hold,completed,cancelled,refunded,failed,checkout-draft"
)
BATCH_LIMIT = 100

R = TypeVar("R")


@dataclass
class PullReport:
    """What a pull saw: counts per resource, records skipped as malformed (with the reason),
    and requests sent."""

    customers: int = 0
    orders: int = 0
    reviews: int = 0
    trashed_orders: int = 0
    skipped: list[str] = field(default_factory=list)
    requests: int = 0
    recovered_after_shift: int = 0

    @property
    def skipped_count(self) -> int:
        """How many records were skipped as malformed."""
        return len(self.skipped)


@dataclass
class WooPull:
    """The records of one pull, and the cursor the next incremental pull starts from
    (``None`` when nothing dated was seen)."""

    customers: list[Person]
    orders: list[Order]
    reviews: list[Review]
    trashed_order_ids: list[str]
    report: PullReport
    cursor: datetime | None
    incremental: bool


@dataclass(frozen=True)
class MetaWrite:
    """Desired journey meta for one person: on their customer record, or (guests) on their
    latest order."""

    person_key: str
    values: Mapping[str, str]
    customer_id: str | None = None
    order_id: str | None = None


@dataclass
class WriteReport:
    """What a write-back did: customers and guest orders written, and per-record failures."""

    customers_written: int = 0
    guest_orders_written: int = 0
    failed: list[str] = field(default_factory=list)
    requests: int = 0


class WooCommerceAdapter:
    """A client for one WooCommerce shop. ``url`` is the WordPress site address; keys are the
    REST API consumer key and secret (read, or read/write for write-back)."""

    platform = Platform.WOOCOMMERCE

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        shop: str | None = None,
        concurrency: int = 4,
        per_page: int = 100,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        verify_ssl: bool = True,
        query_string_auth: bool = False,
        rest_route: bool | None = None,
        timezone_name: str = "UTC",
        newsletter_key: str = "newsletter_optin",
        newsletter_date_key: str = "newsletter_optin_date",
        meta_prefix: str = "journeybridge_",
        extra_statuses: Mapping[str, OrderStatus] | None = None,
        incremental_overlap: timedelta = timedelta(minutes=5),
    ) -> None:
        if not 1 <= per_page <= 100:
            raise ValueError("per_page must be between 1 and 100 (WooCommerce's limit)")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = WooClient(url, consumer_key, consumer_secret, timeout=timeout,
                                retry=retry, pool_size=concurrency, verify_ssl=verify_ssl,
                                query_string_auth=query_string_auth, rest_route=rest_route)
        self.shop = shop or self.client.url
        self.concurrency = concurrency
        self.per_page = per_page
        self.overlap = incremental_overlap
        self.mapping = WooMapping(shop=self.shop, timezone=timezone_name,
                                  newsletter_key=newsletter_key,
                                  newsletter_date_key=newsletter_date_key,
                                  meta_prefix=meta_prefix,
                                  extra_statuses=dict(extra_statuses or {}))

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()

    def __enter__(self) -> WooCommerceAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paging ---------------------------------------------------------------------------

    def _get(self, endpoint: str, params: Mapping[str, Any]) -> WooResponse:
        response = self.client.request("GET", endpoint, params)
        if not isinstance(response.data, list):
            raise ShopError("expected a JSON list of records", shop_url=self.client.url,
                            endpoint=f"GET {endpoint}", status=response.status)
        return response

    def pages(self, endpoint: str, params: Mapping[str, Any]) -> Iterator[WooResponse]:
        """Every page of a collection, in id order, fetched ``concurrency`` at a time once the
        page count is known. Yields the answers in page order; a page-level failure raises its
        typed error."""
        base = {**params, "per_page": self.per_page, "orderby": "id", "order": "asc"}
        first = self._get(endpoint, {**base, "page": 1})
        yield first
        last_page = first.total_pages or 1
        if last_page <= 1:
            return
        with ThreadPoolExecutor(max_workers=self.concurrency,
                                thread_name_prefix="journeybridge-page") as pool:
            window: deque[Future[WooResponse]] = deque()
            next_page = 2
            try:
                while window or next_page <= last_page:
                    while next_page <= last_page and len(window) < self.concurrency * 2:
                        window.append(pool.submit(self._get, endpoint, {**base,
                                                                        "page": next_page}))
                        next_page += 1
                    yield window.popleft().result()
            finally:
                for future in window:
                    future.cancel()

    def _records(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        convert: Callable[[Mapping[str, Any]], R],
        report: PullReport,
        shift: list[set[int]] | None = None,
    ) -> Iterator[R]:
        seen: set[int] = set()
        totals: list[int] = []
        for page in self.pages(endpoint, params):
            if page.total is not None:
                totals.append(page.total)
            for raw in page.data:
                record_id = raw.get("id") if isinstance(raw, dict) else None
                if isinstance(record_id, int):
                    if record_id in seen:
                        continue
                    seen.add(record_id)
                try:
                    yield convert(raw)
                except InvalidRecord as exc:
                    report.skipped.append(str(exc))
                    log.warning("skipped %s", exc)
        if shift is not None and totals and (min(totals) < totals[0] or len(seen) < totals[0]):
            shift.append(seen)  # records vanished while paging: later pages may have shifted

    def _recover_shifted(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        seen: set[int],
        convert: Callable[[Mapping[str, Any]], R],
        report: PullReport,
    ) -> Iterator[R]:
        """Records present now but missed by the paged read (pages shifted under it)."""
        ids: set[int] = set()
        for page in self.pages(endpoint, {**params, "_fields": "id"}):
            ids.update(r["id"] for r in page.data if isinstance(r, dict) and isinstance(r.get("id"),
                                                                                   int))
        missing = sorted(ids - seen)
        for start in range(0, len(missing), self.per_page):
            chunk = missing[start:start + self.per_page]
            response = self._get(endpoint, {**params, "include": chunk,
                                            "per_page": self.per_page})
            for raw in response.data:
                report.recovered_after_shift += 1
                try:
                    yield convert(raw)
                except InvalidRecord as exc:
                    report.skipped.append(str(exc))

    # -- resources ------------------------------------------------------------------------

    def iter_customers(self, report: PullReport | None = None) -> Iterator[Person]:
        """Every registered customer, of every role, as a Person."""
        report = report if report is not None else PullReport()
        for person in self._records("customers", {"role": "all", "_fields": CUSTOMER_FIELDS},
                                    self.mapping.customer, report):
            report.customers += 1
            yield person

    def iter_orders(
        self,
        report: PullReport | None = None,
        *,
        modified_after: datetime | None = None,
        fields: str = ORDER_FIELDS,
    ) -> Iterator[Order]:
        """Every visible order (trash excluded, ``checkout-draft`` included), or those modified
        after ``modified_after`` (UTC), as Orders."""
        report = report if report is not None else PullReport()
        params: dict[str, Any] = {"status": ALL_ORDER_STATUSES, "_fields": fields}
        if modified_after is not None:
            params.update(modified_after=_wc_time(modified_after), dates_are_gmt=True)
        shift: list[set[int]] = []
        for order in self._records("orders", params, self.mapping.order, report, shift):
            report.orders += 1
            yield order
        if shift:
            log.info("orders left the list during the pull; checking for skipped ones")
            for order in self._recover_shifted("orders", params, shift[0],
                                               self.mapping.order, report):
                report.orders += 1
                yield order

    def trashed_order_ids(self, modified_after: datetime) -> list[str]:
        """Ids of orders moved to the trash after ``modified_after``: to drop them from state."""
        params = {"status": "trash", "_fields": "id", "modified_after": _wc_time(modified_after),
                  "dates_are_gmt": True}
        ids: list[str] = []
        for page in self.pages("orders", params):
            ids.extend(str(r["id"]) for r in page.data if isinstance(r, dict) and "id" in r)
        return ids

    def iter_reviews(self, report: PullReport | None = None) -> Iterator[Review]:
        """Every product review (any approval status) as a Review."""
        report = report if report is not None else PullReport()
        for review in self._records("products/reviews",
                                    {"_fields": REVIEW_FIELDS, "status": "all"},
                                    self.mapping.review, report):
            report.reviews += 1
            yield review

    def pull(self, since: datetime | None = None) -> WooPull:
        """A full pull (``since`` None) or an incremental one: customers and reviews in full,
        orders modified after ``since``. The returned cursor is where the next pull starts."""
        report = PullReport()
        start = datetime.now(timezone.utc)
        customers = list(self.iter_customers(report))
        orders = list(self.iter_orders(report, modified_after=since))
        reviews = list(self.iter_reviews(report))
        trashed: list[str] = []
        if since is not None:
            trashed = self.trashed_order_ids(since)
            report.trashed_orders = len(trashed)
        report.requests = self.client.requests_sent
        latest = max((o.modified_at for o in orders if o.modified_at), default=None)
        cursor_base = min(start, latest) if latest else (since or None)
        cursor = cursor_base - self.overlap if cursor_base else None
        if since is not None and cursor is not None and cursor < since:
            cursor = since
        return WooPull(customers=customers, orders=orders, reviews=reviews,
                       trashed_order_ids=trashed, report=report, cursor=cursor,
                       incremental=since is not None)

    def assemble(self, pull: WooPull) -> Assembly:
        """The journeys in a (full) pull."""
        return assemble_journeys(self.shop, self.platform, pull.customers, pull.orders,
                                 (), pull.reviews)

    def journeys(self) -> Iterator[Journey]:
        """Pull everything and yield one Journey per person (registered and guests)."""
        yield from self.assemble(self.pull()).journeys

    # -- write-back -----------------------------------------------------------------------

    def write_meta(self, writes: Sequence[MetaWrite]) -> WriteReport:
        """Set journey meta: customers through ``customers/batch`` (at most 100 per request,
        each key updated in place, never duplicated), guests on their latest order. Per-record
        failures are reported, not raised; a refused key (e.g. read-only) raises."""
        report = WriteReport()
        before = self.client.requests_sent
        customers = [w for w in writes if w.customer_id]
        guests = [w for w in writes if not w.customer_id and w.order_id]
        for start in range(0, len(customers), BATCH_LIMIT):
            chunk = customers[start:start + BATCH_LIMIT]
            body = {"update": [{"id": int(w.customer_id or 0),
                                "meta_data": [{"key": k, "value": v}
                                              for k, v in sorted(w.values.items())]}
                               for w in chunk]}
            response = self.client.request("POST", "customers/batch", body=body)
            answered = response.data.get("update", []) if isinstance(response.data, dict) else []
            for write, item in zip(chunk, answered):
                error = item.get("error") if isinstance(item, dict) else None
                if error:
                    report.failed.append(f"customer {write.customer_id}: "
                                         f"{error.get('message', 'failed')} "
                                         f"({error.get('code', '?')})")
                else:
                    report.customers_written += 1
            if len(answered) < len(chunk):
                report.failed.extend(f"customer {w.customer_id}: no answer in the batch reply"
                                     for w in chunk[len(answered):])
        for write in guests:
            meta = [{"key": k, "value": v} for k, v in sorted(write.values.items())]
            try:
                self.client.request("PUT", f"orders/{write.order_id}", body={"meta_data": meta})
            except ShopError as exc:
                if exc.status in (401, 403):
                    raise
                report.failed.append(f"guest order {write.order_id}: {exc.message}")
            else:
                report.guest_orders_written += 1
        report.requests = self.client.requests_sent - before
        return report

    def plan_meta_writes(
        self, journeys: Sequence[Journey], desired: Mapping[str, Mapping[str, str]]
    ) -> tuple[list[MetaWrite], int]:
        """The writes needed to make the shop hold ``desired`` (person key -> meta values):
        only people whose current values differ. Registered customers get customer meta;
        guests get meta on their latest order. Returns the writes and the number of people
        that cannot be written (guests without an order)."""
        writes: list[MetaWrite] = []
        unwritable = 0
        for journey in journeys:
            values = desired.get(journey.key)
            if values is None:
                continue
            person = journey.person
            if person.customer_id:
                if any(person.meta.get(k) != v for k, v in values.items()):
                    writes.append(MetaWrite(person_key=person.key, values=dict(values),
                                            customer_id=person.customer_id))
                continue
            latest = max(journey.orders, key=lambda o: (o.created_at, int(o.id)), default=None)
            if latest is None:
                unwritable += 1
            elif any(latest.meta.get(k) != v for k, v in values.items()):
                writes.append(MetaWrite(person_key=person.key, values=dict(values),
                                        order_id=latest.id))
        return writes, unwritable


def _wc_time(value: datetime) -> str:
    """A UTC timestamp as WooCommerce's date parameters want it (ISO 8601, no offset)."""
    if value.tzinfo is None:
        raise ValueError("modified_after must be timezone-aware")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
