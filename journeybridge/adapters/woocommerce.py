"""The WooCommerce adapter: full and incremental pulls of customers, orders (refunds included)
and product reviews from the REST API ``wc/v3``, and the write-back of journey values as
customer meta.

Paging is by ``orderby=id&order=asc`` with ``per_page=100`` (records created during a pull
land on later pages, nothing shifts), de-duplicated by id; once the first page's totals are
known the remaining pages are fetched concurrently, bounded by what the totals imply
(:func:`journeybridge.adapters.paging.numbered_pages`). If records disappear during the pull
(an order moved to the trash shifts later pages), a cheap id-only scan finds what was skipped.
A record that cannot be read is skipped and reported, never raised
(:func:`journeybridge.adapters.paging.convert_records`).

Incremental pulls: orders by ``modified_after`` with ``dates_are_gmt=true`` (plus the orders
moved to the trash since, so they can be dropped). The customers endpoint has no modification
filter (it ignores ``modified_after``), so customers are always read in full with ``_fields``
trimmed to what the journey needs, which is cheap; reviews likewise (they have only a
creation-date filter, and their approval can change later).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, TypeVar

from journeybridge.adapters.fields import record_id
from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.paging import (
    NumberedPage,
    batched,
    convert_records,
    numbered_pages,
    skip_line,
)
from journeybridge.adapters.protocol import (
    AdapterBase,
    CheckStep,
    DesiredState,
    PlanItem,
    PullPage,
    PullResult,
    PullStream,
    Write,
    WriteReport,
)
from journeybridge.adapters.protocol import PullReport as Report
from journeybridge.adapters.shopzone import offset_zone, settle, zone_name
from journeybridge.adapters.woo_client import WooClient, WooResponse
from journeybridge.adapters.woo_mapping import WooMapping
from journeybridge.errors import PlatformMissing, ShopError
from journeybridge.identity import id_order
from journeybridge.model import (
    Journey,
    Order,
    OrderStatus,
    Person,
    Platform,
    RefundRecord,
    Review,
)

__all__ = [
    "CUSTOMER_FIELDS",
    "ORDER_FIELDS",
    "REFUND_FIELDS",
    "REFUND_LIST_FIELDS",
    "REVIEW_FIELDS",
    "PullReport",
    "WooCommerceAdapter",
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
REFUND_FIELDS = "id,date_created,date_created_gmt,amount,reason"
REFUND_LIST_FIELDS = "id,parent_id,date_created,date_created_gmt,amount,reason"
REVIEW_FIELDS = ("id,date_created,date_created_gmt,product_id,product_name,status,reviewer,"
                 "reviewer_email,rating,verified")
ALL_ORDER_STATUSES = (
    "pending,processing,on-hold,completed,cancelled,refunded,failed,checkout-draft"
)
BATCH_LIMIT = 100
EVENT_PAGES = {
    "CompleteRegistration": "/my-account/",
    "Subscribe": "/",
    "Lead": "/",
    "AddToCart": "/cart/",
    "InitiateCheckout": "/checkout/",
    "Purchase": "/checkout/order-received/{order_id}/",
}
"""The storefront page each Conversions API event happens on (path after the shop URL)."""
MAX_NEW_CUSTOMER_PAGES = 1000

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
    expected: dict[str, int] = field(default_factory=dict)  # X-WP-Total per kind, for progress

    @property
    def skipped_count(self) -> int:
        """How many records were skipped as malformed."""
        return len(self.skipped)


class WooCommerceAdapter(AdapterBase):
    """A client for one WooCommerce shop. ``url`` is the WordPress site address; keys are the
    REST API consumer key and secret (read, or read/write for write-back)."""

    platform = Platform.WOOCOMMERCE
    client: WooClient

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
        timezone_name: str | None = "UTC",
        newsletter_key: str = "newsletter_optin",
        newsletter_date_key: str = "newsletter_optin_date",
        meta_prefix: str = "journeybridge_",
        extra_statuses: Mapping[str, OrderStatus] | None = None,
        incremental_overlap: timedelta = timedelta(minutes=5),
        full_customers_hours: float = 24.0,
        write_guests: bool = True,
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
        self.full_customers_every = timedelta(hours=full_customers_hours)
        self._warned_no_refunds = False
        self.write_guests = write_guests
        self.own_meta_prefix = meta_prefix
        self._configured_zone = timezone_name
        self._zone_settled = False
        self.mapping = WooMapping(shop=self.shop, timezone=timezone_name or "UTC",
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
        page count is known, bounded as :func:`~journeybridge.adapters.paging.numbered_pages`
        says. Yields the answers in page order; a page-level failure raises its typed error."""
        base = {**params, "per_page": self.per_page, "orderby": "id", "order": "asc"}

        def fetch(number: int) -> NumberedPage:
            response = self._get(endpoint, {**base, "page": number})
            return _Page(response.data, response.total, response.total_pages, response)

        for page in numbered_pages(fetch, per_page=self.per_page, concurrency=self.concurrency,
                                   what=endpoint, shop_url=self.client.url):
            assert isinstance(page, _Page)
            yield page.response

    def _records(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        convert: Callable[[Mapping[str, Any]], R],
        report: PullReport,
        shift: list[set[str]] | None = None,
    ) -> Iterator[R]:
        seen: set[str] = set()
        totals: list[int] = []
        kind = _KINDS.get(endpoint, f"woocommerce {endpoint}")
        for page in self.pages(endpoint, params):
            if page.total is not None:
                if not totals and endpoint in _MODEL_KINDS:
                    report.expected[_MODEL_KINDS[endpoint]] = page.total
                totals.append(page.total)
            yield from convert_records(page.data, convert, kind=kind, skipped=report.skipped,
                                       seen=seen)
        if shift is not None and totals and (min(totals) < totals[0] or len(seen) < totals[0]):
            shift.append(seen)  # records vanished while paging: later pages may have shifted

    def _recover_shifted(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        seen: set[str],
        convert: Callable[[Mapping[str, Any]], R],
        report: PullReport,
    ) -> Iterator[R]:
        """Records present now but missed by the paged read (pages shifted under it)."""
        ids: set[int] = set()
        for page in self.pages(endpoint, {**params, "_fields": "id"}):
            ids.update(int(i) for i in (record_id(r.get("id")) for r in page.data
                                        if isinstance(r, dict)) if i is not None)
        missing = sorted(ids - {int(i) for i in seen})
        kind = _KINDS.get(endpoint, f"woocommerce {endpoint}")
        for start in range(0, len(missing), self.per_page):
            chunk = missing[start:start + self.per_page]
            response = self._get(endpoint, {**params, "include": chunk,
                                            "per_page": self.per_page})
            for record in convert_records(response.data, convert, kind=kind,
                                          skipped=report.skipped, seen=seen):
                report.recovered_after_shift += 1
                yield record

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
        shift: list[set[str]] = []
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
            ids.extend(i for i in (record_id(r.get("id")) for r in page.data
                                   if isinstance(r, dict)) if i is not None)
        return ids

    def iter_reviews(self, report: PullReport | None = None, *,
                     after: datetime | None = None) -> Iterator[Review]:
        """Every product review (any approval status) as a Review, or those written after
        ``after`` (UTC)."""
        report = report if report is not None else PullReport()
        params: dict[str, Any] = {"_fields": REVIEW_FIELDS, "status": "all"}
        if after is not None:
            params["after"] = _wc_time(after) + "Z"  # a Z makes WooCommerce read it as UTC
        for review in self._records("products/reviews", params, self.mapping.review, report):
            report.reviews += 1
            yield review

    # -- the adapter protocol: pull ----------------------------------------------------------

    def pull(self, cursor: Mapping[str, str] | None = None) -> PullStream:
        """Everything (no cursor) or what changed since ``cursor``, streamed page by page
        (see the module docstring for what an incremental pull reads). The stream's result
        carries the next cursor: ``orders`` (the latest ``date_modified_gmt`` seen, less the
        overlap, at most the pull's start), ``customers_full`` (when customers were last read
        in full) and ``customers_registered`` (the newest registration seen)."""
        return PullStream(self._pull(dict(cursor or {})))

    def cursor_since(self, moment: datetime) -> dict[str, str]:
        """Orders and reviews changed since ``moment``, customers registered since then (and
        those who ordered), without the daily full customer read."""
        stamp = moment.astimezone(timezone.utc).isoformat()
        return {"orders": stamp, "reviews": stamp, "customers_registered": stamp,
                "customers_full": datetime.now(timezone.utc).isoformat()}

    def _pull(self, cursor: dict[str, str]) -> Iterator[PullPage] | Any:
        self.settle_timezone()
        report = Report()
        inner = PullReport()
        before = self.client.requests_sent
        start = datetime.now(timezone.utc)
        since = _moment(cursor.get("orders"))
        last_full = _moment(cursor.get("customers_full"))
        full_customers = since is None or last_full is None or \
            start - last_full >= self.full_customers_every
        new_cursor: dict[str, str] = {}
        full_kinds: list[str] = []

        registered = _moment(cursor.get("customers_registered"))
        if full_customers:
            for chunk in batched(self.iter_customers(inner), self.per_page):
                registered = _latest(registered, (p.registered_at for p in chunk))
                yield PullPage("customer", chunk, inner.expected.get("customer"))
            full_kinds.append("customer")
            new_cursor["customers_full"] = start.isoformat()
        else:
            new_cursor["customers_full"] = cursor["customers_full"]
            for chunk in self._new_customers(inner, registered):
                registered = _latest(registered, (p.registered_at for p in chunk))
                yield PullPage("customer", chunk, inner.expected.get("customer"))
        if registered is not None:
            new_cursor["customers_registered"] = registered.isoformat()

        latest: datetime | None = None
        buyers: set[str] = set()
        refunded: list[str] = []
        for orders in batched(self.iter_orders(inner, modified_after=since), self.per_page):
            latest = _latest(latest, (o.modified_at for o in orders))
            buyers.update(o.customer_id for o in orders if o.customer_id)
            refunded.extend(o.id for o in orders if o.refunds)
            yield PullPage("order", orders, inner.expected.get("order"))
        # refund dates (the orders' refunds[] have none): the refunds collection, those
        # changed since the cursor; a shop older than WooCommerce 9.0 has no such collection,
        # then each order of this pull that has refunds is asked for its own
        for refunds in batched(self._refunds(inner, since, refunded), self.per_page):
            yield PullPage("refund", refunds)
        if not full_customers and buyers:
            # people who ordered may have changed their details: read just them again
            for chunk in self._customers_by_id(inner, sorted(buyers, key=id_order)):
                yield PullPage("customer", chunk)

        after = None if full_customers else (_moment(cursor.get("reviews")) or since)
        for reviews in batched(self.iter_reviews(inner, after=after), self.per_page):
            yield PullPage("review", reviews, inner.expected.get("review"))
        if full_customers:
            full_kinds.append("review")
        new_cursor["reviews"] = (start - self.overlap).isoformat()

        deleted: dict[str, list[str]] = {}
        if since is not None:
            deleted["order"] = self.trashed_order_ids(since)
        base = min(start, latest) if latest else since
        orders_cursor = base - self.overlap if base else None
        if since is not None and orders_cursor is not None and orders_cursor < since:
            orders_cursor = since
        if orders_cursor is not None:
            new_cursor["orders"] = orders_cursor.isoformat()
        report.counts = {"customer": inner.customers, "order": inner.orders,
                         "review": inner.reviews}
        report.skipped = list(inner.skipped)
        report.requests = self.client.requests_sent - before
        if inner.recovered_after_shift:
            report.notes.append(f"{inner.recovered_after_shift} orders that left the list "
                                "during the pull were read by id")
        return PullResult(cursor=new_cursor, full_kinds=tuple(full_kinds), deleted=deleted,
                          incremental=since is not None, report=report)

    def _refunds(self, report: PullReport, since: datetime | None,
                 refunded: Sequence[str]) -> Iterator[RefundRecord]:
        """Refunds with their dates: every one (``since`` None) or those changed after
        ``since``, from ``GET refunds`` (WooCommerce 9.0 and later); where the shop has no
        such route, those of the orders in ``refunded``."""
        params: dict[str, Any] = {"_fields": REFUND_LIST_FIELDS}
        if since is not None:
            params.update(modified_after=_wc_time(since), dates_are_gmt=True)
        try:
            yield from self._records("refunds", params, self.mapping.refund, report)
        except PlatformMissing:
            if not self._warned_no_refunds:
                log.info("this shop has no refunds collection (WooCommerce before 9.0): "
                         "refund dates are read order by order", extra={"shop": self.shop})
                self._warned_no_refunds = True
            yield from self._refunds_of(report, refunded)

    def _refunds_of(self, report: PullReport, order_ids: Sequence[str]
                    ) -> Iterator[RefundRecord]:
        """The refunds of these orders with their dates (``orders/{id}/refunds``)."""
        for order_id in order_ids:
            response = self._get(f"orders/{order_id}/refunds",
                                 {"_fields": REFUND_FIELDS, "per_page": self.per_page})
            yield from convert_records(response.data, partial(self.mapping.refund,
                                                              order_id=order_id),
                                       kind="woocommerce refund", skipped=report.skipped)

    def _new_customers(self, report: PullReport, registered: datetime | None
                       ) -> Iterator[list[Person]]:
        """Customers registered since ``registered`` (less the overlap), newest first: the
        customers endpoint has no modification filter, so pages are read by registration date,
        descending, until one reaches a customer registered before that."""
        floor = registered - self.overlap if registered is not None else None
        params = {"role": "all", "_fields": CUSTOMER_FIELDS, "orderby": "registered_date",
                  "order": "desc", "per_page": self.per_page}
        for page_number in range(1, MAX_NEW_CUSTOMER_PAGES + 1):
            response = self._get("customers", {**params, "page": page_number})
            people: list[Person] = []
            older = False
            for person in convert_records(response.data, self.mapping.customer,
                                          kind="woocommerce customer",
                                          skipped=report.skipped):
                if floor is not None and person.registered_at is not None and \
                        person.registered_at < floor:
                    older = True
                    continue
                people.append(person)
            report.customers += len(people)
            if people:
                yield people
            if older or floor is None or len(response.data) < self.per_page:
                return

    def _customers_by_id(self, report: PullReport, ids: Sequence[str]) -> Iterator[list[Person]]:
        """The customers with these ids (``include``, a page of ids at a time)."""
        for begin in range(0, len(ids), self.per_page):
            chunk = ids[begin:begin + self.per_page]
            response = self._get("customers", {"role": "all", "_fields": CUSTOMER_FIELDS,
                                               "include": ",".join(chunk),
                                               "per_page": self.per_page})
            people = list(convert_records(response.data, self.mapping.customer,
                                          kind="woocommerce customer",
                                          skipped=report.skipped))
            report.customers += len(people)
            if people:
                yield people

    # -- the adapter protocol: write-back -----------------------------------------------------

    def meta_values(self, desired: DesiredState) -> dict[str, str]:
        """The customer meta a desired state is written as: ``<prefix>stage`` (the label),
        ``<prefix>stage_since`` (ISO date), ``<prefix>segments`` (comma-separated) and
        ``<prefix><name>`` for each further value."""
        prefix = self.own_meta_prefix
        values = {f"{prefix}stage": desired.label,
                  f"{prefix}stage_since": desired.since.isoformat(),
                  f"{prefix}segments": ",".join(desired.segments)}
        values.update({f"{prefix}{name}": value for name, value in desired.values.items()})
        return values

    def write_target(self, journey: Journey, rows: Sequence[Person]
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A registered customer's values go on their customer record; a guest's on their
        latest order (``order_id``); a guest without an order has no target. Held: our meta
        keys as the record carries them now."""
        prefix = self.own_meta_prefix
        person = journey.person
        if person.customer_id and not person.is_guest:
            return ({"customer_id": person.customer_id},
                    {k: v for k, v in person.meta.items() if k.startswith(prefix)})
        latest = max(journey.orders, key=lambda o: (o.created_at, id_order(o.id)), default=None)
        if latest is None:
            return {}, {}
        return ({"order_id": latest.id},
                {k: v for k, v in latest.meta.items() if k.startswith(prefix)})

    def plan(self, items: Iterable[PlanItem]) -> tuple[list[Write], int]:
        """A write for every person whose held meta differs from their desired values (a
        value the shop lacks counts as empty); guests only when ``write_guests``. Returns the
        writes and how many people have nothing to write to."""
        writes: list[Write] = []
        unwritable = 0
        for item in items:
            desired = item.desired
            if desired.is_guest and not self.write_guests:
                continue
            target = item.target
            if "customer_id" in target:
                resource, record = "customer", str(target["customer_id"])
            elif "order_id" in target:
                resource, record = "order", str(target["order_id"])
            else:
                unwritable += 1
                continue
            values = self.meta_values(desired)
            if any(str(item.held.get(k) or "") != v for k, v in values.items()):
                writes.append(Write(desired.person_key, resource, record, values))
        return writes, unwritable

    def apply(self, writes: Sequence[Write]) -> WriteReport:
        """Customers through ``customers/batch``, guests' orders through ``orders/batch``
        (``meta_data`` only, so totals are not recalculated), at most 100 per request; each
        key updated in place, never duplicated. Per-record failures are reported, not raised;
        a refused key (e.g. read-only) raises."""
        report = WriteReport()
        before = self.client.requests_sent
        for resource, endpoint in (("customer", "customers/batch"), ("order", "orders/batch")):
            chosen = [w for w in writes if w.resource == resource]
            for begin in range(0, len(chosen), BATCH_LIMIT):
                self._batch(endpoint, resource, chosen[begin:begin + BATCH_LIMIT], report)
        report.requests = self.client.requests_sent - before
        return report

    def _batch(self, endpoint: str, resource: str, chunk: Sequence[Write],
               report: WriteReport) -> None:
        body = {"update": [{"id": int(w.record_id) if w.record_id.isdigit() else w.record_id,
                            "meta_data": [{"key": k, "value": v}
                                          for k, v in sorted(w.values.items())]}
                           for w in chunk]}
        response = self.client.request("POST", endpoint, body=body)
        answered = {record_id(item.get("id")): item for item in _batch_items(response.data)
                    if isinstance(item, dict)}
        label = "customer" if resource == "customer" else "guest order"
        key = "customer_id" if resource == "customer" else "order_id"
        for write in chunk:
            item = answered.get(write.record_id)
            if item is None:
                report.failed.append(f"{label} {write.record_id}: no answer in the batch reply")
                continue
            problem = _batch_error(item)
            if problem:
                report.failed.append(f"{label} {write.record_id}: {problem}")
            else:
                report.written += 1
                report.updates[write.person_key] = ({key: write.record_id}, dict(write.values))

    @property
    def timezone(self) -> str:
        """The zone local dates (those without ``_gmt``) are read in: the configured one,
        else the site's ``timezone_string`` (or whole-hour ``gmt_offset``) from the WordPress
        REST index (asked once), else UTC."""
        self.settle_timezone()
        return self.mapping.timezone

    def settle_timezone(self) -> None:
        """Ask the WordPress REST index for the site's time zone once and read local dates in
        the zone :func:`~journeybridge.adapters.shopzone.settle` picks."""
        if self._zone_settled:
            return
        self._zone_settled = True
        index = self.client.site_index()
        found = zone_name(index.get("timezone_string")) or offset_zone(index.get("gmt_offset"))
        missing = "" if found else (
            f"timezone_string is empty and gmt_offset {str(index.get('gmt_offset'))[:10]!r} "
            "is not a whole number of hours" if index else "no REST index")
        zone = settle(self._configured_zone, found, shop=self.shop,
                      source="the WordPress REST index, timezone_string", missing=missing)
        if zone != self.mapping.timezone:
            self.mapping = replace(self.mapping, timezone=zone)

    def check(self, *, write: bool = True) -> list[CheckStep]:
        """``GET customers?per_page=1`` (the key may read), then an empty ``customers/batch``
        update (WooCommerce checks the key's write permission before the body, so a read-only
        key gets its 401; an empty update changes nothing). Stops at the first failure."""
        steps: list[CheckStep] = []
        try:
            answer = self.client.request("GET", "customers",
                                         {"per_page": 1, "_fields": "id", "role": "all"})
        except ShopError as exc:
            return [CheckStep("read", False, str(exc), exc)]
        total = f"{answer.total} customers" if answer.total is not None else "customers"
        steps.append(CheckStep("read", True, f"the key may read: {total} in {self.url} "
                                             f"(local dates read in {self.timezone})"))
        if not write:
            return steps
        try:
            self.client.request("POST", "customers/batch", body={"update": []})
        except ShopError as exc:
            return [*steps, CheckStep("write", False, str(exc), exc)]
        steps.append(CheckStep("write", True, "the key may write (an empty customers/batch "
                                              "update was accepted)"))
        return steps


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _latest(current: datetime | None, values: Iterable[datetime | None]) -> datetime | None:
    for value in values:
        if value is not None and (current is None or value > current):
            current = value
    return current





_MODEL_KINDS = {"customers": "customer", "orders": "order", "products/reviews": "review"}
_KINDS = {"customers": "woocommerce customer", "orders": "woocommerce order",
          "refunds": "woocommerce refund",
          "products/reviews": "woocommerce product review"}


@dataclass(frozen=True)
class _Page(NumberedPage):
    response: WooResponse


def _batch_items(data: Any) -> list[Any]:
    """The ``update`` items of a batch answer; none when the answer has another shape."""
    items = data.get("update") if isinstance(data, dict) else None
    return items if isinstance(items, list) else []


def _batch_error(item: Mapping[str, Any]) -> str:
    """What went wrong with one batch item ("" when nothing did): its ``error`` may be an
    object with ``message`` and ``code``, or (broken plugins) a string or anything else."""
    error = item.get("error")
    if not error:
        return ""
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        text = message if isinstance(message, str) and message.strip() else "failed"
        return skip_line(f"{text} ({code if isinstance(code, str) else '?'})", 200)
    if isinstance(error, str):
        return skip_line(error, 200)
    return "failed (an error the shop did not describe)"


def _wc_time(value: datetime) -> str:
    """A UTC timestamp as WooCommerce's date parameters want it (ISO 8601, no offset)."""
    if value.tzinfo is None:
        raise ValueError("modified_after must be timezone-aware")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
