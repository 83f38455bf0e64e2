"""The PrestaShop adapter: full and incremental pulls of customers (guest checkout rows
included), orders with their state history, and carts from the Webservice (1.7 / 8.x), and the
write-back of journey stages as customer groups.

**Paging.** The Webservice gives no total and no next link: pages (``limit=offset,count``) are
read until one comes back short. The first page is read alone; when it is full, the next
pages are fetched ``concurrency`` at a time, each new request ``concurrency`` pages ahead of
the one being read, and reading stops at the first short page. Full pulls sort by
``[id_ASC]`` (records created meanwhile land at the end; nothing shifts unless a record is
deleted mid-pull, which the next full pull repairs). Everything is de-duplicated by id.

**Incremental pulls** (``pull(since)``) filter ``date_upd`` on the shop's own clock:
``filter[date_upd]=[since, start]&date=1`` with ``sort=[date_upd_ASC,id_ASC]``, both ends
written as the shop writes dates (its time zone, no offset), both inclusive. Customers, orders
and carts are read this way; the histories of the orders read are fetched by
``filter[id_order]``, and customer rows the orders and carts point to but that did not change
are fetched by id (an order carries no e-mail). A record updated during the pull leaves the
window and shifts later pages, so each window is checked with a cheap ids-only list and what
the pages missed is fetched by id. The next cursor is the latest ``date_upd`` the shop itself
wrote among the records read (never our clock, airbyte#13824), at most the pull's start, minus
``incremental_overlap``; a pull that saw nothing keeps the cursor.

**Order states** are read from ``order_states`` and mapped by flags and names, never by id
(:func:`journeybridge.adapters.presta_mapping.state_status`). ``Order.history`` holds every
``order_histories`` row (when each state was reached) and ends in the current state.

**Identity rule.** A customer row with ``is_guest`` ``"1"`` is a guest checkout; PrestaShop
makes one per guest order. Guest rows are pulled as Persons keyed ``guest:<e-mail>`` with the
row id as ``customer_id``. :func:`assemble_prestashop` then builds one person per person:
an account is ``customer:<id>``; all guest rows with the same e-mail (any case) are one guest
``guest:<e-mail>``; guest rows whose e-mail has an account (a guest who registered later) are
that account. Orders of guest rows carry ``customer_id`` None and the row's e-mail, so
:func:`journeybridge.journeys.assemble_journeys` merges them the same way; carts follow their
row to its person. A cart that no order points to (``orders.id_cart``) was left behind; carts
of unknown visitors (``id_customer`` 0) are not read, only counted (``anonymous_carts``).

**Write-back.** One customer group per stage (names from the caller, e.g. "Journey:
Loyalty"), created when missing (``POST groups``, XML, every language, no reduction). A person
is added to their stage's group and removed from the other journey groups; every other group
and the default group stay as they are. Only rows whose groups (as this pull saw them in the
shop) differ are written, so a rerun after a killed run writes nothing twice. Each write is
read-modify-write: ``GET customers/{id}`` (XML, the whole object, password hash included),
compare its ``date_upd`` with the pulled one (changed: re-plan from the fresh object's groups
once, and count a conflict), replace only the groups association, ``PUT`` the whole document
back (XML: the Webservice takes no JSON input; PATCH needs 8.x and its own key permission, so
PUT it is). Guests: every guest row of a pure guest gets the group (so exports by group find
them); a guest who registered later is written on the account only. A read-only key gets
PermissionDenied (405, code 25).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.presta_client import PrestaClient
from journeybridge.adapters.presta_mapping import (
    CustomerRow,
    OrderState,
    PrestaMapping,
    lang_text,
    record_id,
)
from journeybridge.adapters.presta_xml import (
    XmlShapeError,
    language_ids,
    new_group_xml,
    parse_customer,
    with_groups,
    written_id,
)
from journeybridge.errors import InvalidRecord, PermissionDenied, ShopError
from journeybridge.journeys import Assembly, assemble_journeys, touchpoints_for
from journeybridge.model import (
    Cart,
    Journey,
    NewsletterOptIn,
    Order,
    OrderStatus,
    Person,
    Platform,
    Review,
)

__all__ = [
    "GroupWrite",
    "PrestaPull",
    "PrestaShopAdapter",
    "PullReport",
    "WriteReport",
    "assemble_prestashop",
    "person_rows",
]

log = logging.getLogger("journeybridge.prestashop")

R = TypeVar("R")
P = TypeVar("P")
ID_CHUNK = 100
"""Ids per ``filter[id]=[a|b|...]`` request."""
HISTORY_FIELDS = "[id,id_order,id_order_state,date_add]"


@dataclass
class PullReport:
    """What a pull saw: counts per resource (``customers`` are accounts, ``guest_rows`` guest
    checkout rows), carts of unknown visitors counted but not read, records skipped as
    malformed (with the reason), records recovered after pages shifted, requests sent."""

    customers: int = 0
    guest_rows: int = 0
    orders: int = 0
    carts: int = 0
    anonymous_carts: int = 0
    histories: int = 0
    reviews: int = 0
    trashed_orders: int = 0
    skipped: list[str] = field(default_factory=list)
    recovered_after_shift: int = 0
    requests: int = 0

    @property
    def skipped_count(self) -> int:
        """How many records were skipped as malformed."""
        return len(self.skipped)


@dataclass
class PrestaPull:
    """The records of one pull and the cursor the next incremental pull starts from (UTC,
    ``None`` when nothing dated was seen). ``customers`` holds accounts and guest rows;
    ``reviews`` and ``trashed_order_ids`` stay empty (the Webservice has neither), kept so
    the sync engine treats both platforms alike."""

    customers: list[Person]
    orders: list[Order]
    carts: list[Cart]
    report: PullReport
    cursor: datetime | None
    incremental: bool
    reviews: list[Review] = field(default_factory=list)
    trashed_order_ids: list[str] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupWrite:
    """Put one customer row into ``group`` (a name) and out of the other journey groups.
    ``groups`` and ``date_upd`` are the row as the pull saw it."""

    person_key: str
    customer_id: str
    group: str
    groups: tuple[str, ...]
    date_upd: datetime | None
    is_guest: bool = False


@dataclass
class WriteReport:
    """What a write-back did: account and guest rows written, rows already right when read
    again, groups created, rows that changed since the pull (re-planned), failures."""

    customers_written: int = 0
    guest_rows_written: int = 0
    already_right: int = 0
    groups_created: int = 0
    conflicts: int = 0
    failed: list[str] = field(default_factory=list)
    requests: int = 0

    @property
    def written(self) -> int:
        """Rows written (accounts and guest rows)."""
        return self.customers_written + self.guest_rows_written


def _guest_person(shop: str, email: str, rows: Sequence[Person]) -> Person:
    """One guest made of all their guest rows: names of the latest row, first seen, last
    changed, subscribed if any row is, partner opt-in if any row has it."""
    latest = max(rows, key=lambda p: (p.registered_at or datetime.min.replace(
        tzinfo=timezone.utc), int(p.customer_id or 0)))
    added = [p.registered_at for p in rows if p.registered_at]
    changed = [p.modified_at for p in rows if p.modified_at]
    subscribed = [p.newsletter for p in rows if p.newsletter and p.newsletter.subscribed]
    dated = [n.at for n in subscribed if n.at is not None]
    newsletter = (NewsletterOptIn(subscribed=True, at=min(dated) if dated else None)
                  if subscribed else NewsletterOptIn(subscribed=False))
    optin = "1" if any(p.meta.get("optin") == "1" for p in rows) else "0"
    return Person(shop=shop, platform=Platform.PRESTASHOP, key=f"guest:{email}", is_guest=True,
                  email=email, first_name=latest.first_name, last_name=latest.last_name,
                  roles=("guest",), registered_at=min(added) if added else None,
                  modified_at=max(changed) if changed else None, newsletter=newsletter,
                  meta={"optin": optin}, source=latest.source)


def person_rows(customers: Iterable[Person]) -> dict[str, list[Person]]:
    """The customer rows behind each person key: an account's own row; for a pure guest
    every guest row with that e-mail. Guest rows of a person who has an account are left
    out (the account is the person)."""
    accounts: dict[str, Person] = {}
    guests: dict[str, list[Person]] = {}
    rows: dict[str, list[Person]] = {}
    for person in sorted(customers, key=lambda p: int(p.customer_id or 0)):
        if person.is_guest:
            if person.email:
                guests.setdefault(person.email, []).append(person)
        else:
            rows[person.key] = [person]
            if person.email and person.email not in accounts:
                accounts[person.email] = person
    for email, guest_rows in guests.items():
        if email not in accounts:
            rows[f"guest:{email}"] = guest_rows
    return rows


def assemble_prestashop(shop: str, customers: Iterable[Person], orders: Iterable[Order],
                        carts: Iterable[Cart] = (), anonymous_carts: int = 0) -> Assembly:
    """One journey per person from pulled (or stored) PrestaShop records, by the identity
    rule in the module docstring: accounts, one guest per e-mail for guest rows without an
    account, guest rows of a registered e-mail folded into the account. Carts follow their
    customer row to its person and are marked ordered when an order points to them;
    ``anonymous_carts`` (counted, never read) is added to the assembly's count. Pure."""
    customers = list(customers)
    orders = list(orders)
    accounts = [p for p in customers if not p.is_guest]
    account_of_email: dict[str, str] = {}
    for person in sorted(accounts, key=lambda p: int(p.customer_id or 0)):
        if person.email and person.email not in account_of_email:
            account_of_email[person.email] = person.customer_id or ""
    guest_rows: dict[str, list[Person]] = {}
    owner: dict[str, str] = {p.customer_id or "": f"customer:{p.customer_id}" for p in accounts}
    for row in customers:
        if not row.is_guest or not row.email or not row.customer_id:
            continue
        account = account_of_email.get(row.email)
        if account:
            owner[row.customer_id] = f"customer:{account}"
        else:
            owner[row.customer_id] = f"guest:{row.email}"
            guest_rows.setdefault(row.email, []).append(row)
    guests = [_guest_person(shop, email, rows) for email, rows in guest_rows.items()]
    ordered = {o.cart_id: o.id for o in orders if o.cart_id}
    tied: list[Cart] = []
    guest_carts: dict[str, list[Cart]] = {}
    unknown = 0
    for cart in carts:
        if cart.id in ordered and cart.order_id != ordered[cart.id]:
            cart = cart.model_copy(update={"order_id": ordered[cart.id]})
        key = owner.get(cart.customer_id or "")
        if key is None:
            unknown += 1
        elif key.startswith("guest:"):
            guest_carts.setdefault(key, []).append(cart)
        else:
            tied.append(cart.model_copy(update={"customer_id": key.removeprefix("customer:")})
                        if cart.customer_id != key.removeprefix("customer:") else cart)
    result = assemble_journeys(shop, Platform.PRESTASHOP, [*accounts, *guests], orders, tied)
    result.anonymous_carts += unknown + anonymous_carts
    if guest_carts:
        for index, journey in enumerate(result.journeys):
            extra = guest_carts.get(journey.key)
            if not extra:
                continue
            carts_of = tuple(sorted((*journey.carts, *extra), key=lambda c: (c.created_at,
                                                                              c.id)))
            result.journeys[index] = Journey(
                person=journey.person, orders=journey.orders, carts=carts_of,
                reviews=journey.reviews,
                touchpoints=touchpoints_for(journey.person, journey.orders, carts_of,
                                            journey.reviews))
    merged = {row.email for row in customers if row.is_guest and row.email
              and row.email in account_of_email}
    merged.update(o.email for o in orders if o.customer_id is None and o.email
                  and o.email in account_of_email)
    result.guests_merged_into_customers = len(merged)
    return result


class PrestaShopAdapter:
    """A client for one PrestaShop shop's Webservice. ``url`` is the shop's address (the
    Webservice answers under ``/api/``); ``key`` the Webservice key (read access to
    customers, orders, order_states, order_histories, carts, currencies and groups; PUT on
    customers and POST on groups for write-back). ``timezone_name`` is the shop's time zone;
    ``state_overrides`` maps state ids or names to a status where the flag rules guess wrong."""

    platform = Platform.PRESTASHOP

    def __init__(
        self,
        url: str,
        key: str,
        *,
        shop: str | None = None,
        concurrency: int = 4,
        page_size: int = 100,
        history_page_size: int = 500,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        verify_ssl: bool = True,
        key_in_query: bool = False,
        timezone_name: str = "UTC",
        state_overrides: Mapping[str, OrderStatus] | None = None,
        incremental_overlap: timedelta = timedelta(minutes=5),
    ) -> None:
        if not 1 <= page_size <= 1000 or not 1 <= history_page_size <= 5000:
            raise ValueError("page sizes must be between 1 and 1000 (histories: 5000)")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = PrestaClient(url, key, timeout=timeout, retry=retry,
                                   pool_size=concurrency, verify_ssl=verify_ssl,
                                   key_in_query=key_in_query)
        self.shop = shop or self.client.url
        self.concurrency = concurrency
        self.page_size = page_size
        self.history_page_size = history_page_size
        self.overlap = incremental_overlap
        self.state_overrides = dict(state_overrides or {})
        self.mapping = PrestaMapping(shop=self.shop, timezone=timezone_name)
        self._lookups_loaded = False
        self._rows: dict[str, CustomerRow] = {}
        self._fetched_rows: list[Person] = []
        self._customers: list[Person] = []
        self._groups: dict[str, str] = {}

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()

    def __enter__(self) -> PrestaShopAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paging ---------------------------------------------------------------------------

    def list_records(self, resource: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One list request: the records of ``{"<resource>": [...]}``, or none for the bare
        ``[]`` of an empty result."""
        response = self.client.get(resource, params)
        data = response.data
        if isinstance(data, list):
            if data:
                raise ShopError("expected an object holding a list of records",
                                shop_url=self.client.url, endpoint=f"GET {resource}",
                                status=response.status)
            return []
        if isinstance(data, dict):
            rows = data.get(resource)
            if rows is None:  # the top-level key is not always the resource's name
                lists = [v for v in data.values() if isinstance(v, list)]
                rows = lists[0] if len(lists) == 1 else None
            if isinstance(rows, list):
                return [r for r in rows if isinstance(r, dict)]
            if isinstance(rows, dict):
                return [rows]
        raise ShopError("expected a JSON list of records", shop_url=self.client.url,
                        endpoint=f"GET {resource}", status=response.status)

    def pages(self, resource: str, params: Mapping[str, Any],
              page_size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, in order, until the first short page: the first page alone,
        then ``concurrency`` pages in flight. A page-level failure raises its typed error."""
        size = page_size or self.page_size

        def fetch(offset: int) -> tuple[int, list[dict[str, Any]]]:
            page = self.list_records(resource, {**params, "limit": f"{offset},{size}"})
            return len(page), page

        return self._paginate(fetch, size)

    def _paginate(self, fetch: Callable[[int], tuple[int, P]], size: int) -> Iterator[P]:
        """Yield ``fetch(offset)`` payloads for offsets 0, size, 2*size... in order, until one
        reports fewer than ``size`` records; one request first, then ``concurrency``."""
        count, first = fetch(0)
        yield first
        if count < size:
            return
        with ThreadPoolExecutor(max_workers=self.concurrency,
                                thread_name_prefix="journeybridge-presta") as pool:
            window: deque[Future[tuple[int, P]]] = deque()
            offset = size
            try:
                while True:
                    while len(window) < self.concurrency:
                        window.append(pool.submit(fetch, offset))
                        offset += size
                    count, page = window.popleft().result()
                    yield page
                    if count < size:
                        return
            finally:
                for future in window:
                    future.cancel()

    def _records(self, resource: str, params: Mapping[str, Any],
                 convert: Callable[[dict[str, Any]], R], report: PullReport,
                 seen: set[str], page_size: int | None = None) -> Iterator[R]:
        for page in self.pages(resource, params, page_size):
            yield from self._convert(page, convert, report, seen)

    def _convert(self, rows: Iterable[dict[str, Any]], convert: Callable[[dict[str, Any]], R],
                 report: PullReport, seen: set[str]) -> Iterator[R]:
        for raw in rows:
            rid = record_id(raw.get("id"))
            if rid is not None:
                if rid in seen:
                    continue
                seen.add(rid)
            try:
                yield convert(raw)
            except InvalidRecord as exc:
                report.skipped.append(str(exc))
                log.warning("skipped %s", exc)

    def by_ids(self, resource: str, ids: Iterable[str],
               display: str = "full") -> Iterator[dict[str, Any]]:
        """The records with these ids (``filter[id]=[a|b|...]``, ``ID_CHUNK`` at a time)."""
        wanted = sorted({i for i in ids if i}, key=int)
        chunks = [wanted[i:i + ID_CHUNK] for i in range(0, len(wanted), ID_CHUNK)]
        for chunk in chunks:
            yield from self.list_records(resource, {"display": display,
                                                    "filter[id]": f"[{'|'.join(chunk)}]"})

    # -- look-ups -------------------------------------------------------------------------

    def load_lookups(self) -> None:
        """Read the order states and currencies (small lists) into the mapping."""
        states: dict[str, OrderState] = {}
        for raw in self.list_records("order_states", {"display": "full", "sort": "[id_ASC]"}):
            try:
                state = self.mapping.order_state(raw)
            except InvalidRecord as exc:
                log.warning("skipped %s", exc)
                continue
            override = self.state_overrides.get(state.id) or self.state_overrides.get(
                state.name)
            states[state.id] = OrderState(state.id, state.name, override or state.status)
        self.mapping.states = states
        currencies = {}
        for raw in self.list_records("currencies", {"display": "[id,iso_code]"}):
            cid, iso = record_id(raw.get("id")), str(raw.get("iso_code") or "").strip()
            if cid and len(iso) == 3:
                currencies[cid] = iso.upper()
        self.mapping.currencies = currencies
        if currencies:
            self.mapping.default_currency = currencies[min(currencies, key=int)]
        self._lookups_loaded = True

    def groups(self) -> dict[str, str]:
        """The shop's customer groups, id -> name (the first language's name)."""
        found = {}
        for raw in self.list_records("groups", {"display": "[id,name]", "sort": "[id_ASC]"}):
            gid = record_id(raw.get("id"))
            if gid:
                found[gid] = lang_text(raw.get("name"))
        self._groups = found
        return found

    # -- resources ------------------------------------------------------------------------

    def _window(self, since: datetime | None, until: datetime) -> dict[str, str]:
        if since is None:
            return {"sort": "[id_ASC]"}
        return {"filter[date_upd]": f"[{self.mapping.shop_time(since)},"
                                    f"{self.mapping.shop_time(until)}]",
                "date": "1", "sort": "[date_upd_ASC,id_ASC]"}

    def _recover(self, resource: str, window: Mapping[str, str], seen: set[str],
                 convert: Callable[[dict[str, Any]], R], report: PullReport,
                 extra: Mapping[str, str] | None = None) -> Iterator[R]:
        """Records in an incremental window that the paged read missed (pages shifted)."""
        params = {k: v for k, v in window.items() if k != "sort"}
        listed: set[str] = set()
        for page in self.pages(resource, {**params, **(extra or {}), "sort": "[id_ASC]"},
                               self.history_page_size):
            listed.update(i for i in (record_id(r.get("id")) for r in page) if i)
        missing = listed - seen
        if not missing:
            return
        log.info("%d %s changed while paging; reading them by id", len(missing), resource)
        for raw in self.by_ids(resource, missing):
            report.recovered_after_shift += 1
            yield from self._convert([raw], convert, report, seen)

    def iter_customers(self, report: PullReport | None = None, *,
                       since: datetime | None = None,
                       until: datetime | None = None) -> Iterator[Person]:
        """Every customer row (accounts and guest rows), or those whose ``date_upd`` lies in
        ``[since, until]`` (aware times, compared on the shop's clock), as Persons."""
        report = report if report is not None else PullReport()
        window = self._window(since, until or datetime.now(timezone.utc))
        seen: set[str] = set()
        found = self._records("customers", {"display": "full", **window},
                              self.mapping.customer, report, seen)
        if since is not None:
            found = _chain(found, lambda: self._recover("customers", window, seen,
                                                        self.mapping.customer, report))
        for person in found:
            self._note_row(person)
            if person.is_guest:
                report.guest_rows += 1
            else:
                report.customers += 1
            yield person

    def _note_row(self, person: Person) -> None:
        if person.customer_id:
            self._rows[person.customer_id] = CustomerRow(
                person.customer_id, person.email, person.is_guest, person.first_name,
                person.last_name)

    def _histories(self, order_ids: Collection[str],
                   report: PullReport) -> dict[str, list[dict[str, Any]]]:
        """History rows of these orders, by order id."""
        by_order: dict[str, list[dict[str, Any]]] = {}
        seen: set[str] = set()
        for row in self._histories_of(order_ids):
            rid, oid = record_id(row.get("id")), record_id(row.get("id_order"))
            if oid is None or (rid is not None and rid in seen):
                continue
            if rid is not None:
                seen.add(rid)
            by_order.setdefault(oid, []).append(row)
            report.histories += 1
        return by_order

    def _histories_of(self, order_ids: Collection[str]) -> Iterator[dict[str, Any]]:
        wanted = sorted(set(order_ids), key=int)
        for start in range(0, len(wanted), ID_CHUNK):
            chunk = wanted[start:start + ID_CHUNK]
            params = {"display": HISTORY_FIELDS, "filter[id_order]": f"[{'|'.join(chunk)}]",
                      "sort": "[id_ASC]"}
            for page in self.pages("order_histories", params, self.history_page_size):
                yield from page

    def _missing_rows(self, ids: Iterable[str], report: PullReport) -> list[Person]:
        """Customer rows orders or carts point to that this pull has not read (unchanged
        since the cursor): read by id, so every order gets its e-mail."""
        missing = {i for i in ids if i and i not in self._rows}
        found: list[Person] = []
        for person in self._convert(self.by_ids("customers", missing), self.mapping.customer,
                                    report, set()):
            self._note_row(person)
            found.append(person)
        self._fetched_rows.extend(found)
        return found

    def _orders_with_histories(self, params: Mapping[str, Any], report: PullReport
                               ) -> Iterator[tuple[list[dict[str, Any]],
                                                   dict[str, list[dict[str, Any]]]]]:
        """Pages of orders, each with the history rows of its orders, read in the same worker
        (``filter[id_order]=[first,last]``): memory stays one page deep."""

        def fetch(offset: int) -> tuple[int, tuple[list[dict[str, Any]],
                                                   dict[str, list[dict[str, Any]]]]]:
            page = self.list_records("orders", {**params,
                                                "limit": f"{offset},{self.page_size}"})
            ids = [int(i) for i in (record_id(r.get("id")) for r in page) if i]
            histories: dict[str, list[dict[str, Any]]] = {}
            if ids:
                span = {"display": HISTORY_FIELDS, "sort": "[id_ASC]",
                        "filter[id_order]": f"[{min(ids)},{max(ids)}]"}
                for rows in self.pages("order_histories", span, self.history_page_size):
                    for row in rows:
                        oid = record_id(row.get("id_order"))
                        if oid is not None:
                            histories.setdefault(oid, []).append(row)
            return len(page), (page, histories)

        for page, histories in self._paginate(fetch, self.page_size):
            report.histories += sum(len(rows) for rows in histories.values())
            yield page, histories

    def iter_orders(self, report: PullReport | None = None, *, since: datetime | None = None,
                    until: datetime | None = None) -> Iterator[Order]:
        """Every order, or those whose ``date_upd`` lies in ``[since, until]``, as Orders with
        their full state history. Customer rows must have been read first (full pulls) or are
        fetched by id as needed (incremental pulls)."""
        report = report if report is not None else PullReport()
        if not self._lookups_loaded:
            self.load_lookups()
        window = self._window(since, until or datetime.now(timezone.utc))
        seen: set[str] = set()
        batches: Iterable[tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]]
        if since is None:
            batches = self._orders_with_histories({"display": "full", **window}, report)
        else:
            listed = [row for page in self.pages("orders", {"display": "full", **window})
                      for row in page]
            known = {i for i in (record_id(x.get("id")) for x in listed) if i}
            listed.extend(self._recover("orders", window, known, _raw, report))
            ids = {i for i in (record_id(r.get("id")) for r in listed) if i}
            self._missing_rows((record_id(r.get("id_customer")) or "" for r in listed), report)
            batches = [(listed, self._histories(ids, report))]
        for raws, histories in batches:

            def convert(raw: dict[str, Any], histories: Mapping[str, Any] = histories
                        ) -> Order:
                oid = record_id(raw.get("id")) or ""
                row = self._rows.get(record_id(raw.get("id_customer")) or "")
                return self.mapping.order(raw, row, histories.get(oid, ()))

            for order in self._convert(raws, convert, report, seen):
                report.orders += 1
                yield order

    def iter_carts(self, report: PullReport | None = None, *, since: datetime | None = None,
                   until: datetime | None = None) -> Iterator[Cart]:
        """Every cart of a known customer (``id_customer`` > 0), or those whose ``date_upd``
        lies in ``[since, until]``, as Carts; carts of unknown visitors are counted in
        ``report.anonymous_carts`` (an ids-only list), never read."""
        report = report if report is not None else PullReport()
        if not self._lookups_loaded:
            self.load_lookups()
        window = self._window(since, until or datetime.now(timezone.utc))
        known = {"filter[id_customer]": ">[0]"}
        seen: set[str] = set()
        found = self._records("carts", {"display": "full", **window, **known},
                              self.mapping.cart, report, seen)
        if since is not None:
            found = _chain(found, lambda: self._recover("carts", window, seen,
                                                        self.mapping.cart, report, known))
        for cart in found:
            report.carts += 1
            yield cart
        ids_only = {**{k: v for k, v in window.items() if k != "sort"}, "sort": "[id_ASC]",
                    "filter[id_customer]": "[0]"}
        for page in self.pages("carts", ids_only, self.history_page_size):
            report.anonymous_carts += len(page)

    # -- pulls ----------------------------------------------------------------------------

    def pull(self, since: datetime | None = None) -> PrestaPull:
        """A full pull (``since`` None) or an incremental one (records whose ``date_upd`` is
        at or after ``since``, on the shop's clock). The returned cursor is where the next
        pull starts (see the module docstring)."""
        report = PullReport()
        start = datetime.now(timezone.utc).replace(microsecond=0)
        before = self.client.requests_sent
        self._rows = {}
        self._fetched_rows = []
        self.load_lookups()
        customers = list(self.iter_customers(report, since=since, until=start))
        orders = list(self.iter_orders(report, since=since, until=start))
        carts = list(self.iter_carts(report, since=since, until=start))
        if since is not None:
            self._missing_rows((c.customer_id or "" for c in carts), report)
            customers.extend(self._fetched_rows)
            seen_rows: set[str] = set()
            unique = []
            for person in customers:  # the rows read by id may repeat window rows
                if person.customer_id not in seen_rows:
                    seen_rows.add(person.customer_id or "")
                    unique.append(person)
            customers = unique
        groups = self.groups()
        report.requests = self.client.requests_sent - before
        stamps = [p.modified_at for p in customers if p.modified_at]
        stamps.extend(o.modified_at for o in orders if o.modified_at)
        stamps.extend(c.updated_at for c in carts if c.updated_at)
        latest = max((s for s in stamps if s <= start), default=None)
        ahead = [s for s in stamps if s > start + timedelta(minutes=2)]
        if ahead:
            log.warning("%d records are dated after this computer's clock in the time zone "
                        "%s: is the shop's time zone set right? Their changes are read once "
                        "the clock passes them", len(ahead), self.mapping.timezone)
            if latest is None:
                latest = start
        cursor = latest - self.overlap if latest else since
        if since is not None and cursor is not None and cursor < since:
            cursor = since
        self._customers = customers
        return PrestaPull(customers=customers, orders=orders, carts=carts, report=report,
                          cursor=cursor, incremental=since is not None, groups=groups)

    def assemble(self, pull: PrestaPull) -> Assembly:
        """The journeys in a (full) pull, by the identity rule of the module docstring."""
        return assemble_prestashop(self.shop, pull.customers, pull.orders, pull.carts,
                                   pull.report.anonymous_carts)

    def journeys(self) -> Iterator[Journey]:
        """Pull everything and yield one Journey per person (accounts and guests)."""
        yield from self.assemble(self.pull()).journeys

    # -- write-back -----------------------------------------------------------------------

    def plan_group_writes(
        self,
        journeys: Sequence[Journey],
        desired: Mapping[str, str],
        *,
        customers: Iterable[Person] | None = None,
        journey_groups: Collection[str] | None = None,
        groups: Mapping[str, str] | None = None,
    ) -> tuple[list[GroupWrite], int]:
        """The writes that make the shop hold ``desired`` (person key -> group name): one per
        customer row whose groups, as the shop holds them, do not already contain exactly
        that journey group. ``customers`` are the shop's customer rows (default: the last
        pull's), ``journey_groups`` every group name journeybridge manages (default: the
        names in ``desired``), ``groups`` the shop's groups id -> name (default: the last
        pull's). Returns the writes and the number of people that cannot be written (no
        customer row, or a deleted one)."""
        rows_of = person_rows(self._customers if customers is None else customers)
        shop_groups = dict(self._groups if groups is None else groups)
        managed = set(journey_groups or ()) | set(desired.values())
        managed_ids = {gid for gid, name in shop_groups.items() if name in managed}
        id_of = {name: gid for gid, name in sorted(shop_groups.items(), key=lambda kv:
                                                   int(kv[0]), reverse=True)}
        writes: list[GroupWrite] = []
        unwritable = 0
        for journey in journeys:
            name = desired.get(journey.key)
            if name is None:
                continue
            rows = [r for r in rows_of.get(journey.key, []) if r.meta.get("deleted") != "1"]
            if not rows:
                unwritable += 1
                continue
            wanted = id_of.get(name)
            for row in rows:
                target = _target_groups(row.groups, managed_ids, wanted)
                if wanted is not None and list(row.groups) == target:
                    continue
                writes.append(GroupWrite(person_key=journey.key,
                                         customer_id=row.customer_id or "", group=name,
                                         groups=row.groups, date_upd=row.modified_at,
                                         is_guest=row.is_guest))
        return writes, unwritable

    def ensure_groups(self, names: Iterable[str], report: WriteReport | None = None
                      ) -> dict[str, str]:
        """The id of each group name, creating the missing groups (``POST groups``, every
        language, no reduction, price display copied from the "Customer" group 3 when it
        exists). A POST is sent once; after a failure the list is read again before one more
        try, so a group is never created twice."""
        wanted = sorted(set(names))
        current = self.groups()
        id_of = {name: gid for gid, name in sorted(current.items(), key=lambda kv: int(kv[0]),
                                                    reverse=True)}
        missing = [n for n in wanted if n not in id_of]
        if not missing:
            return {n: id_of[n] for n in wanted}
        schema = self.client.get_xml("groups", {"schema": "blank"}) or ""
        languages = language_ids(schema)
        display = "0"
        base = self.list_records("groups", {"display": "full", "filter[id]": "[3]"})
        if base:
            display = str(base[0].get("price_display_method", "0"))
        for name in missing:
            body = new_group_xml(name, languages, price_display_method=display)
            try:
                answer = self.client.send_xml("POST", "groups", body, retry=False)
            except PermissionDenied:
                raise
            except ShopError as exc:
                if exc.status is not None and 400 <= exc.status < 500:
                    raise
                again = {gname: gid for gid, gname in self.groups().items()}
                if name in again:
                    id_of[name] = again[name]
                    continue
                answer = self.client.send_xml("POST", "groups", body, retry=False)
            try:
                id_of[name] = written_id(answer, "group")
            except XmlShapeError as exc:
                raise ShopError(f"creating group {name!r}: {exc}", shop_url=self.client.url,
                                endpoint="POST groups") from None
            self._groups[id_of[name]] = name
            if report is not None:
                report.groups_created += 1
            log.info("created customer group %r (id %s)", name, id_of[name])
        return {n: id_of[n] for n in wanted}

    def write_groups(self, writes: Sequence[GroupWrite], *,
                     journey_groups: Collection[str] | None = None) -> WriteReport:
        """Apply ``writes`` (from :meth:`plan_group_writes`): create missing groups, then per
        row GET the whole object, check ``date_upd`` against the pull (changed: re-plan from
        the fresh groups once and count a conflict), replace only the groups association and
        PUT it back; ``concurrency`` rows at a time. Per-row failures are reported, not
        raised; a key that may not write raises PermissionDenied."""
        report = WriteReport()
        before = self.client.requests_sent
        if not writes:
            return report
        managed = set(journey_groups or ()) | {w.group for w in writes}
        id_of = self.ensure_groups(managed, report)
        managed_ids = set(id_of.values())
        outcomes: list[tuple[GroupWrite, str]] = []
        with ThreadPoolExecutor(max_workers=self.concurrency,
                                thread_name_prefix="journeybridge-write") as pool:
            futures = [(w, pool.submit(self._write_one, w, id_of[w.group], managed_ids))
                       for w in writes]
            for write, future in futures:
                try:
                    outcomes.append((write, future.result()))
                except PermissionDenied:
                    for _, other in futures:
                        other.cancel()
                    raise
                except ShopError as exc:
                    report.failed.append(f"customer {write.customer_id}: {exc.message}")
        for write, outcome in outcomes:
            if outcome.startswith("conflict"):
                report.conflicts += 1
                outcome = outcome.split(":", 1)[1]
            if outcome == "written":
                if write.is_guest:
                    report.guest_rows_written += 1
                else:
                    report.customers_written += 1
            elif outcome == "already":
                report.already_right += 1
            else:
                report.failed.append(f"customer {write.customer_id}: {outcome}")
        report.requests = self.client.requests_sent - before
        return report

    def _write_one(self, write: GroupWrite, wanted: str, managed_ids: set[str]) -> str:
        """Read-modify-write one row; returns ``written``, ``already``, a failure text, each
        prefixed ``conflict:`` when the row changed since the pull."""
        path = f"customers/{write.customer_id}"
        text = self.client.get_xml(path)
        if text is None:
            return "no longer exists"
        try:
            fresh = parse_customer(text)
        except XmlShapeError as exc:
            return f"unreadable XML ({exc})"
        prefix = ""
        try:
            fresh_upd = self.mapping.parse_date(fresh.date_upd)
        except ValueError:
            fresh_upd = None
        if write.date_upd is not None and fresh_upd != write.date_upd:
            prefix = "conflict:"
            log.info("customer %s changed since the pull; re-planned from the fresh object",
                     write.customer_id)
        target = _target_groups(fresh.groups, managed_ids, wanted)
        if list(fresh.groups) == target:
            return prefix + "already"
        answer = self.client.send_xml("PUT", path, with_groups(fresh, target))
        try:
            after = parse_customer(answer)
        except XmlShapeError as exc:
            return prefix + f"unreadable answer ({exc})"
        if after.id != write.customer_id or set(after.groups) != set(target):
            return prefix + "the shop did not keep the groups sent"
        return prefix + "written"


def _target_groups(current: Sequence[str], managed_ids: Collection[str],
                   wanted: str | None) -> list[str]:
    """``current`` without the journey groups, plus ``wanted`` (order kept, added last)."""
    kept = [g for g in current if g not in managed_ids or g == wanted]
    if wanted is not None and wanted not in kept:
        kept.append(wanted)
    return kept


def _raw(record: dict[str, Any]) -> dict[str, Any]:
    return record


def _chain(first: Iterator[R], then: Callable[[], Iterator[R]]) -> Iterator[R]:
    yield from first
    yield from then()
