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

**Addresses.** A person gets the city, postcode, country (``countries``' ``iso_code``) and
phone of their customer row's latest address that is not deleted; an order those of its
invoice address, else its delivery address. Addresses are read in bulk with the fields the
journey uses only: ``filter[id_customer]=[a|b|...]`` per page of customer rows, and by id the
order addresses not read that way. An incremental pull also lists the addresses changed in its
window (ids and owners only) and reads their owners again. ``birthday`` (``0000-00-00``: none)
and ``id_gender`` (1 male, 2 female in a stock shop; there is no ``genders`` resource in the
Webservice) fill the Person's birthday and gender.

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
and the default group stay as they are. With ``segment_groups`` (segment name -> group name,
opt-in) a person is also put into the group of each of their segments and taken out of the
other segment groups, in the same write. Only rows whose groups (as this pull saw them in the
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
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from journeybridge.adapters.fields import record_id
from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.paging import batched, convert_records, offset_pages
from journeybridge.adapters.presta_client import PrestaClient
from journeybridge.adapters.presta_mapping import (
    ADDRESS_FIELDS,
    Address,
    CustomerRow,
    OrderState,
    PrestaMapping,
    lang_text,
    lang_values,
)
from journeybridge.adapters.presta_xml import (
    CustomerXml,
    UnwritableValue,
    XmlShapeError,
    changed_fields,
    customer_from_json,
    language_ids,
    new_group_xml,
    parse_customer,
    with_groups,
    written_id,
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
)
from journeybridge.adapters.protocol import PullReport as Report
from journeybridge.adapters.protocol import WriteReport as ApplyReport
from journeybridge.adapters.shopzone import settle, zone_name
from journeybridge.errors import (
    InvalidRecord,
    PermissionDenied,
    ShopError,
    ShopRequestError,
    ShopUnreachable,
    TransientShopError,
)
from journeybridge.identity import id_order
from journeybridge.model import (
    Cart,
    Journey,
    Order,
    OrderStatus,
    Person,
    Platform,
)

__all__ = [
    "READS",
    "GroupWrite",
    "PrestaShopAdapter",
    "PullReport",
    "WriteReport",
]

log = logging.getLogger("journeybridge.prestashop")

R = TypeVar("R")
P = TypeVar("P")
ID_CHUNK = 100
"""Ids per ``filter[id]=[a|b|...]`` request."""
HISTORY_FIELDS = "[id,id_order,id_order_state,date_add]"
SHIPMENT_FIELDS = "[id,id_order,id_carrier,tracking_number]"
"""What is read of ``order_carriers``: an order's carrier and tracking number."""
EVENT_PAGES = {
    "CompleteRegistration": "/index.php?controller=authentication",
    "Subscribe": "/",
    "Lead": "/",
    "AddToCart": "/index.php?controller=cart",
    "InitiateCheckout": "/index.php?controller=order",
    "Purchase": "/index.php?controller=order-confirmation&id_order={order_id}",
}
"""The storefront page each Conversions API event happens on (path after the shop URL)."""
FRESH_ROWS_MAX = 250_000
"""Customer rows a pull keeps (whole JSON, about 1.5 KB each) for writes that follow it."""
READS = ("customers", "addresses", "countries", "orders", "order_states", "order_histories",
         "carts", "currencies", "groups")
"""The Webservice resources a key must be allowed to read for a pull."""


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


@dataclass(frozen=True)
class GroupWrite:
    """Put one customer row into ``group`` (a name) and its ``also`` groups (names), and
    out of the other journey groups. ``groups`` and ``date_upd`` are the row as the pull saw
    it."""

    person_key: str
    customer_id: str
    group: str
    groups: tuple[str, ...]
    date_upd: datetime | None
    is_guest: bool = False
    also: tuple[str, ...] = ()
    """Further managed groups the row joins (its segments' groups, its next action's group)."""


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


class PrestaShopAdapter(AdapterBase):
    """A client for one PrestaShop shop's Webservice. ``url`` is the shop's address (the
    Webservice answers under ``/api/``); ``key`` the Webservice key (read access to
    customers, addresses, countries, orders, order_states, order_histories, carts,
    currencies and groups; PUT on
    customers and POST on groups for write-back). ``timezone_name`` is the shop's time zone;
    ``state_overrides`` maps state ids or names to a status where the flag rules guess wrong."""

    platform = Platform.PRESTASHOP
    client: PrestaClient

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
        timezone_name: str | None = "UTC",
        state_overrides: Mapping[str, OrderStatus] | None = None,
        incremental_overlap: timedelta = timedelta(minutes=5),
        stage_groups: Mapping[str, str] | None = None,
        segment_groups: Mapping[str, str] | None = None,
        action_groups: Mapping[str, str] | None = None,
        write_guests: bool = True,
        fresh_seconds: float = 600.0,
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
        self.stage_groups = dict(stage_groups or {})
        self.segment_groups = dict(segment_groups or {})
        self.action_groups = dict(action_groups or {})
        self.write_guests = write_guests
        self.own_meta_prefix = ""
        self.fresh_seconds = fresh_seconds
        self._fresh: dict[str, tuple[float, dict[str, Any]]] = {}
        self._verified: set[str] = set()
        self._configured_zone = timezone_name
        self._zone_settled = False
        self.mapping = PrestaMapping(shop=self.shop, timezone=timezone_name or "UTC")
        self._lookups_loaded = False
        self._rows: dict[str, CustomerRow] = {}
        self._fetched_rows: list[Person] = []
        self._groups: dict[str, str] = {}
        self._addresses: dict[str, Address] = {}
        self._homes: dict[str, Address | None] = {}
        self._shipments_readable = True

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()

    def __enter__(self) -> PrestaShopAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paging ---------------------------------------------------------------------------

    def _list(self, resource: str, params: Mapping[str, Any]) -> list[Any]:
        """One list request: the rows of ``{"<resource>": [...]}`` as sent (anything, for
        :func:`~journeybridge.adapters.paging.convert_records` to check), or none for the
        bare ``[]`` of an empty result. A body of another shape is a typed ShopError."""
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
                return rows
            if isinstance(rows, dict):
                return [rows]
        raise ShopError("expected a JSON list of records", shop_url=self.client.url,
                        endpoint=f"GET {resource}", status=response.status)

    def list_records(self, resource: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One list request: the records of ``{"<resource>": [...]}``, or none for the bare
        ``[]`` of an empty result; rows that are not objects are left out (logged)."""
        rows = self._list(resource, params)
        found = _dicts(rows)
        if len(found) < len(rows):
            log.warning("GET %s: %d rows were not objects; left out", resource,
                        len(rows) - len(found))
        return found

    def pages(self, resource: str, params: Mapping[str, Any],
              page_size: int | None = None) -> Iterator[list[Any]]:
        """Every page of a list, in order, until the first short page: the first page alone,
        then ``concurrency`` pages in flight, bounded as
        :func:`~journeybridge.adapters.paging.offset_pages` says. Rows are as the shop sent
        them (objects, or anything else for the convert step to report). A page-level
        failure raises its typed error."""
        size = page_size or self.page_size

        def fetch(offset: int) -> tuple[int, list[Any]]:
            page = self._list(resource, {**params, "limit": f"{offset},{size}"})
            return len(page), page

        return self._paginate(fetch, size, resource)

    def _paginate(self, fetch: Callable[[int], tuple[int, P]], size: int,
                  what: str) -> Iterator[P]:
        return offset_pages(fetch, size=size, concurrency=self.concurrency, what=what,
                            shop_url=self.client.url)

    def _records(self, resource: str, params: Mapping[str, Any],
                 convert: Callable[[dict[str, Any]], R], report: PullReport,
                 seen: set[str], page_size: int | None = None) -> Iterator[R]:
        for page in self.pages(resource, params, page_size):
            yield from self._convert(page, convert, report, seen, resource)

    def _convert(self, rows: Iterable[Any], convert: Callable[[dict[str, Any]], R],
                 report: PullReport, seen: set[str], resource: str) -> Iterator[R]:
        return convert_records(rows, convert, kind=_KINDS.get(resource, f"prestashop {resource}"),
                               skipped=report.skipped, seen=seen)

    def by_ids(self, resource: str, ids: Iterable[str],
               display: str = "full") -> Iterator[Any]:
        """The rows with these ids (``filter[id]=[a|b|...]``, ``ID_CHUNK`` at a time), as
        the shop sent them."""
        wanted = sorted({i for i in ids if record_id(i)}, key=int)
        chunks = [wanted[i:i + ID_CHUNK] for i in range(0, len(wanted), ID_CHUNK)]
        for chunk in chunks:
            yield from self._list(resource, {"display": display,
                                             "filter[id]": f"[{'|'.join(chunk)}]"})

    # -- look-ups -------------------------------------------------------------------------

    @property
    def timezone(self) -> str:
        """The zone the shop's dates are read in: the configured one, else the shop's
        ``PS_TIMEZONE`` (asked once), else UTC."""
        self.settle_timezone()
        return self.mapping.timezone

    def settle_timezone(self) -> None:
        """Ask the shop for ``PS_TIMEZONE`` once (``configurations``, when the key may read
        it) and read every date in the zone :func:`~journeybridge.adapters.shopzone.settle`
        picks."""
        if self._zone_settled:
            return
        self._zone_settled = True
        found, missing = None, ""
        try:
            rows = self.list_records("configurations", {"display": "[name,value]",
                                                        "filter[name]": "[PS_TIMEZONE]"})
        except PermissionDenied:
            missing = "the key may not read configurations (allow GET on it)"
        except ShopError as exc:
            missing = f"reading configurations failed: {exc}"
        else:
            values = [r.get("value") for r in rows if r.get("name") == "PS_TIMEZONE"]
            found = zone_name(values[0]) if values else None
            if found is None:
                missing = "no PS_TIMEZONE in configurations" if not values else \
                    f"PS_TIMEZONE {str(values[0])[:40]!r} is not a time zone"
        zone = settle(self._configured_zone, found, shop=self.shop,
                      source="the Webservice's configurations, PS_TIMEZONE", missing=missing)
        if zone != self.mapping.timezone:
            self.mapping = replace(self.mapping, timezone=zone)

    def load_lookups(self) -> None:
        """Read the order states and currencies (small lists) into the mapping."""
        self.settle_timezone()
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
        countries = {}
        for raw in self.list_records("countries", {"display": "[id,iso_code]"}):
            cid, iso = record_id(raw.get("id")), str(raw.get("iso_code") or "").strip()
            if cid and len(iso) == 2:
                countries[cid] = iso.upper()
        self.mapping.countries = countries
        carriers = {}
        try:
            for raw in self.list_records("carriers", {"display": "[id,name]"}):
                cid, name = record_id(raw.get("id")), str(raw.get("name") or "").strip()
                if cid and name:
                    carriers[cid] = name
        except PermissionDenied:
            log.info("the key may not read carriers: tracking numbers come without the "
                     "carrier's name")
        self.mapping.carriers = carriers
        self._lookups_loaded = True

    # -- addresses ------------------------------------------------------------------------

    def _keep_addresses(self, rows: Iterable[Any]) -> list[Address]:
        found = []
        for raw in _dicts(rows):
            address = self.mapping.address(raw)
            if address is not None:
                self._addresses[address.id] = address
                found.append(address)
        return found

    def with_addresses(self, people: Sequence[Person]) -> list[Person]:
        """``people`` with the place and phone of their address (city, postcode, country,
        phone): for each customer row its latest address that is not deleted. The addresses
        of rows not seen before are read in bulk (``filter[id_customer]=[a|b|...]``,
        ``ID_CHUNK`` rows a request)."""
        wanted = sorted({p.customer_id for p in people if p.customer_id
                         and p.customer_id not in self._homes}, key=int)
        for start in range(0, len(wanted), ID_CHUNK):
            chunk = wanted[start:start + ID_CHUNK]
            rows = self._list("addresses", {"display": ADDRESS_FIELDS,
                                            "filter[id_customer]": f"[{'|'.join(chunk)}]"})
            by_owner: dict[str, list[Address]] = {}
            for address in self._keep_addresses(rows):
                if address.customer_id and not address.deleted:
                    by_owner.setdefault(address.customer_id, []).append(address)
            for cid in chunk:
                mine = by_owner.get(cid, [])
                self._homes[cid] = max(mine, key=lambda a: (a.updated, int(a.id)),
                                       default=None)
        out = []
        for person in people:
            home = self._homes.get(person.customer_id or "")
            out.append(person if home is None else person.model_copy(update=home.fields()))
        return out

    def _order_addresses(self, raws: Iterable[Any]) -> None:
        """Read the invoice and delivery addresses of these orders not read yet, by id."""
        wanted = set()
        for raw in _dicts(raws):
            for name in ("id_address_invoice", "id_address_delivery"):
                aid = record_id(raw.get(name))
                if aid is not None and aid not in self._addresses:
                    wanted.add(aid)
        if wanted:
            self._keep_addresses(self.by_ids("addresses", wanted, display=ADDRESS_FIELDS))

    def _order_address(self, raw: Mapping[str, Any]) -> Address | None:
        for name in ("id_address_invoice", "id_address_delivery"):
            address = self._addresses.get(record_id(raw.get(name)) or "")
            if address is not None:
                return address
        return None

    def _address_owners(self, since: datetime, until: datetime) -> set[str]:
        """The customer rows whose addresses changed in ``[since, until]`` (ids only)."""
        window = self._window(since, until)
        params = {**{k: v for k, v in window.items() if k != "sort"}, "sort": "[id_ASC]",
                  "display": "[id,id_customer]", "filter[id_customer]": ">[0]"}
        owners: set[str] = set()
        for page in self.pages("addresses", params, self.history_page_size):
            for raw in _dicts(page):
                owner = record_id(raw.get("id_customer"))
                aid = record_id(raw.get("id"))
                if owner:
                    owners.add(owner)
                    self._homes.pop(owner, None)
                if aid:
                    self._addresses.pop(aid, None)
        return owners

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
        low, high = self.mapping.window_text(since, until)
        return {"filter[date_upd]": f"[{low},{high}]",
                "date": "1", "sort": "[date_upd_ASC,id_ASC]"}

    def _recover(self, resource: str, window: Mapping[str, str], seen: set[str],
                 convert: Callable[[dict[str, Any]], R], report: PullReport,
                 extra: Mapping[str, str] | None = None) -> Iterator[R]:
        """Records in an incremental window that the paged read missed (pages shifted)."""
        params = {k: v for k, v in window.items() if k != "sort"}
        listed: set[str] = set()
        for page in self.pages(resource, {**params, **(extra or {}), "sort": "[id_ASC]"},
                               self.history_page_size):
            listed.update(i for i in (record_id(r.get("id")) for r in _dicts(page)) if i)
        missing = listed - seen
        if not missing:
            return
        log.info("%d %s changed while paging; reading them by id", len(missing), resource)
        for raw in self.by_ids(resource, missing):
            report.recovered_after_shift += 1
            yield from self._convert([raw], convert, report, seen, resource)

    def iter_customers(self, report: PullReport | None = None, *,
                       since: datetime | None = None,
                       until: datetime | None = None) -> Iterator[Person]:
        """Every customer row (accounts and guest rows), or those whose ``date_upd`` lies in
        ``[since, until]`` (aware times, compared on the shop's clock), as Persons."""
        report = report if report is not None else PullReport()
        window = self._window(since, until or datetime.now(timezone.utc))
        seen: set[str] = set()
        found = self._records("customers", {"display": "full", **window},
                              self._customer_kept, report, seen)
        if since is not None:
            found = _chain(found, lambda: self._recover("customers", window, seen,
                                                        self._customer_kept, report))
        for person in found:
            self._note_row(person)
            if person.is_guest:
                report.guest_rows += 1
            else:
                report.customers += 1
            yield person

    def _customer_kept(self, raw: dict[str, Any]) -> Person:
        """Map a customer row, and keep its whole ``display=full`` JSON for a while: a group
        write soon after the pull can PUT it back without reading the row again."""
        person = self.mapping.customer(raw)
        if person.customer_id and len(self._fresh) < FRESH_ROWS_MAX:
            self._fresh[person.customer_id] = (time.monotonic(), raw)
        return person

    def _note_row(self, person: Person) -> None:
        if person.customer_id:
            self._rows[person.customer_id] = CustomerRow(
                person.customer_id, person.email, person.is_guest, person.first_name,
                person.last_name)

    def _histories(self, order_ids: Collection[str],
                   report: PullReport) -> dict[str, list[dict[str, Any]]]:
        """History rows of these orders, by order id."""
        by_order: dict[str, list[dict[str, Any]]] = {}
        for row in self._history_rows(self._histories_of(order_ids), report, set()):
            by_order.setdefault(str(record_id(row.get("id_order"))), []).append(row)
            report.histories += 1
        return by_order

    def _history_rows(self, rows: Iterable[Any], report: PullReport, seen: set[str]
                      ) -> Iterator[dict[str, Any]]:
        """The readable ``order_histories`` rows, each once; an unreadable one is skipped and
        reported like any record (never folded into its order: the order stays good)."""
        return convert_records(rows, self.mapping.history_row,
                               kind="prestashop order history", skipped=report.skipped,
                               seen=seen)

    def _shipments(self, params: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """``order_carriers`` rows (carrier and tracking number) by order id; nothing when
        the key may not read them (said once in the log)."""
        found: dict[str, list[dict[str, Any]]] = {}
        if not self._shipments_readable:
            return found
        try:
            for rows in self.pages("order_carriers", {"display": SHIPMENT_FIELDS,
                                                      "sort": "[id_ASC]", **params},
                                   self.history_page_size):
                for row in _dicts(rows):
                    oid = record_id(row.get("id_order"))
                    if oid is not None:
                        found.setdefault(oid, []).append(row)
        except PermissionDenied:
            if self._shipments_readable:
                log.info("the key may not read order_carriers: orders come without "
                         "tracking numbers")
            self._shipments_readable = False
        return found

    def _shipments_by_ids(self, order_ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        wanted = sorted(set(order_ids), key=int)
        found: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(wanted), ID_CHUNK):
            chunk = wanted[start:start + ID_CHUNK]
            found.update(self._shipments({"filter[id_order]": f"[{'|'.join(chunk)}]"}))
        return found

    def _histories_of(self, order_ids: Collection[str]) -> Iterator[dict[str, Any]]:
        wanted = sorted(set(order_ids), key=int)
        for start in range(0, len(wanted), ID_CHUNK):
            chunk = wanted[start:start + ID_CHUNK]
            params = {"display": HISTORY_FIELDS, "filter[id_order]": f"[{'|'.join(chunk)}]",
                      "sort": "[id_ASC]"}
            for page in self.pages("order_histories", params, self.history_page_size):
                yield from page  # rows that are not objects too: they are reported

    def _missing_rows(self, ids: Iterable[str], report: PullReport) -> list[Person]:
        """Customer rows orders or carts point to that this pull has not read (unchanged
        since the cursor): read by id, so every order gets its e-mail."""
        missing = {i for i in ids if i and i not in self._rows}
        found: list[Person] = []
        for person in self._convert(self.by_ids("customers", missing), self.mapping.customer,
                                    report, set(), "customers"):
            self._note_row(person)
            found.append(person)
        self._fetched_rows.extend(found)
        return found

    def _orders_with_histories(self, params: Mapping[str, Any], report: PullReport
                               ) -> Iterator[tuple[list[Any], dict[str, list[dict[str, Any]]],
                                                   dict[str, list[dict[str, Any]]]]]:
        """Pages of orders, each with the history rows and ``order_carriers`` rows of its
        orders, read in the same worker (``filter[id_order]=[first,last]``): memory stays one
        page deep."""

        def fetch(offset: int) -> tuple[int, tuple[list[Any],
                                                   dict[str, list[dict[str, Any]]],
                                                   dict[str, list[dict[str, Any]]]]]:
            page = self._list("orders", {**params, "limit": f"{offset},{self.page_size}"})
            ids = [int(i) for i in (record_id(r.get("id")) for r in _dicts(page)) if i]
            histories: dict[str, list[dict[str, Any]]] = {}
            shipments: dict[str, list[dict[str, Any]]] = {}
            if ids:
                shipments = self._shipments({"filter[id_order]": f"[{min(ids)},{max(ids)}]"})
                span = {"display": HISTORY_FIELDS, "sort": "[id_ASC]",
                        "filter[id_order]": f"[{min(ids)},{max(ids)}]"}
                for rows in self.pages("order_histories", span, self.history_page_size):
                    for row in rows:  # a row of no order is kept under "" to be reported
                        oid = record_id(row.get("id_order")) if isinstance(row, dict) else None
                        histories.setdefault(oid or "", []).append(row)
            return len(page), (page, histories, shipments)

        seen: set[str] = set()
        for page, fetched, shipments in self._paginate(fetch, self.page_size, "orders"):
            histories: dict[str, list[dict[str, Any]]] = {}
            for oid, rows in fetched.items():
                for row in self._history_rows(rows, report, seen):
                    histories.setdefault(oid, []).append(row)
            histories.pop("", None)
            report.histories += sum(len(rows) for rows in histories.values())
            yield page, histories, shipments

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
        batches: Iterable[tuple[list[Any], dict[str, list[dict[str, Any]]],
                                dict[str, list[dict[str, Any]]]]]
        if since is None:
            batches = self._orders_with_histories({"display": "full", **window}, report)
        else:
            listed: list[Any] = [row for page in self.pages("orders", {"display": "full",
                                                                         **window})
                                 for row in page]
            known = {i for i in (record_id(x.get("id")) for x in _dicts(listed)) if i}
            listed.extend(self._recover("orders", window, known, _raw, report))
            ids = {i for i in (record_id(r.get("id")) for r in _dicts(listed)) if i}
            self._missing_rows((record_id(r.get("id_customer")) or ""
                                for r in _dicts(listed)), report)
            batches = [(listed, self._histories(ids, report), self._shipments_by_ids(ids))]
        for raws, histories, shipments in batches:
            self._order_addresses(raws)

            def convert(raw: dict[str, Any], histories: Mapping[str, Any] = histories,
                        shipments: Mapping[str, Any] = shipments) -> Order:
                oid = record_id(raw.get("id")) or ""
                row = self._rows.get(record_id(raw.get("id_customer")) or "")
                order = self.mapping.order(raw, row, histories.get(oid, ()),
                                           self._order_address(raw))
                shipment = self.mapping.shipment(shipments.get(oid, ()))
                return order.model_copy(update=shipment) if shipment else order

            for order in self._convert(raws, convert, report, seen, "orders"):
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

    # -- the adapter protocol: pull ----------------------------------------------------------

    def pull(self, cursor: Mapping[str, str] | None = None) -> PullStream:
        """Everything (no cursor) or the records whose ``date_upd`` is at or after the
        cursor's ``updated`` (on the shop's clock), streamed: customer rows, orders with their
        state histories, carts, and the customer rows orders and carts point to that did not
        change. The next cursor is the latest ``date_upd`` the shop wrote among the records
        read (never our clock), at most the pull's start, less the overlap; a pull that saw
        nothing keeps the cursor."""
        return PullStream(self._pull(dict(cursor or {})))

    def cursor_since(self, moment: datetime) -> dict[str, str]:
        """Every record whose ``date_upd`` is at or after ``moment``."""
        return {"updated": moment.astimezone(timezone.utc).isoformat()}

    def _pull(self, cursor: dict[str, str]) -> Iterator[PullPage] | Any:
        report = PullReport()
        start = datetime.now(timezone.utc).replace(microsecond=0)
        before = self.client.requests_sent
        since = datetime.fromisoformat(cursor["updated"]) if cursor.get("updated") else None
        self._rows = {}
        self._fresh = {}
        self._fetched_rows = []
        self._addresses = {}
        self._homes = {}
        self.load_lookups()
        moved = self._address_owners(since, start) if since is not None else set()
        stamps: list[datetime] = []
        read: set[str] = set()
        for people in batched(self.iter_customers(report, since=since, until=start),
                               self.page_size):
            stamps.extend(p.modified_at for p in people if p.modified_at)
            read.update(p.customer_id or "" for p in people)
            yield PullPage("customer", self.with_addresses(people))
        for orders in batched(self.iter_orders(report, since=since, until=start),
                               self.page_size):
            stamps.extend(o.modified_at for o in orders if o.modified_at)
            yield PullPage("order", orders)
        pointed: set[str] = set()
        for carts in batched(self.iter_carts(report, since=since, until=start),
                              self.page_size):
            stamps.extend(c.updated_at for c in carts if c.updated_at)
            pointed.update(c.customer_id or "" for c in carts)
            yield PullPage("cart", carts)
        if since is not None:
            self._missing_rows(pointed | moved, report)
            extra = [p for p in self._fetched_rows if (p.customer_id or "") not in read]
            for people in batched(extra, self.page_size):
                yield PullPage("customer", self.with_addresses(people))
        self.groups()
        latest = max((s for s in stamps if s <= start), default=None)
        ahead = [s for s in stamps if s > start + timedelta(minutes=2)]
        notes = []
        if ahead:
            notes.append(f"{len(ahead)} records are dated after this computer's clock in the "
                         f"time zone {self.mapping.timezone}: is the shop's time zone set "
                         "right? Their changes are read once the clock passes them")
            log.warning("%s", notes[-1])
            if latest is None:
                latest = start
        next_at = latest - self.overlap if latest else since
        if since is not None and next_at is not None and next_at < since:
            next_at = since
        result = Report(counts={"customer": report.customers + report.guest_rows,
                                "order": report.orders, "cart": report.carts},
                        skipped=list(report.skipped),
                        requests=self.client.requests_sent - before,
                        anonymous_carts=report.anonymous_carts, notes=notes)
        return PullResult(cursor={"updated": next_at.isoformat()} if next_at else {},
                          full_kinds=("customer", "order", "cart") if since is None else (),
                          deleted={}, incremental=since is not None, report=result)

    # -- the adapter protocol: write-back -----------------------------------------------------

    def write_target(self, journey: Journey, rows: Sequence[Person]
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A person's values go to their customer rows: the account's row, or every guest row
        of a pure guest (deleted rows left out), each with its groups and ``date_upd`` as the
        shop holds them. Held: the journey group each row is in now."""
        live = [r for r in rows if r.customer_id and r.meta.get("deleted") != "1"]
        target = {"rows": [{"id": r.customer_id, "groups": list(r.groups),
                            "date_upd": r.modified_at.isoformat() if r.modified_at else None,
                            "guest": r.is_guest} for r in live]}
        names = dict(self._groups)
        managed = self._managed()
        held = {"groups": sorted({names[g] for r in live for g in r.groups
                                  if names.get(g) in managed})}
        return target, held

    def _managed(self) -> set[str]:
        """The names of the groups this adapter puts people in and out of: the stage groups,
        the segment groups (where on) and the next-action groups."""
        return set(self.stage_groups.values()) | set(self.segment_groups.values()) | \
            set(self.action_groups.values())

    def _wanted_names(self, desired: DesiredState) -> tuple[str, tuple[str, ...]]:
        """The stage group of ``desired`` and the further groups it joins: its segments'
        groups (where segment groups are on) and the group of its next action (the value
        ``next_action`` names a kind of ``action_groups``; none when it is empty)."""
        stage = self.stage_groups.get(desired.stage, desired.label)
        also = {self.segment_groups[s] for s in desired.segments if s in self.segment_groups}
        action = self.action_groups.get(desired.values.get("next_action", ""))
        if action:
            also.add(action)
        return stage, tuple(sorted(also - {stage}))

    def plan(self, items: Iterable[PlanItem]) -> tuple[list[Write], int]:
        """One write per customer row whose groups do not hold exactly the person's journey
        group (their stage's group in, the other journey groups out, every other group
        kept); guests only when ``write_guests``. Returns the writes and how many people have
        no row to write to."""
        shop_groups = dict(self._groups)
        managed = self._managed()
        managed_ids = {gid for gid, name in shop_groups.items() if name in managed}
        id_of = {name: gid for gid, name in sorted(shop_groups.items(),
                                                   key=lambda kv: id_order(kv[0]), reverse=True)}
        writes: list[Write] = []
        unwritable = 0
        for item in items:
            desired = item.desired
            if desired.is_guest and not self.write_guests:
                continue
            rows = list(item.target.get("rows", ()))
            if not rows:
                unwritable += 1
                continue
            name, also = self._wanted_names(desired)
            wanted = [id_of.get(n) for n in (name, *also)]
            for row in rows:
                groups = [str(g) for g in row.get("groups", ())]
                if None not in wanted and groups == _target_groups(
                        groups, managed_ids, [w for w in wanted if w is not None]):
                    continue
                writes.append(Write(desired.person_key, "customer", str(row["id"]),
                                    {"group": name, "also": list(also),
                                     "target": dict(item.target)}))
        return writes, unwritable

    def apply(self, writes: Sequence[Write]) -> ApplyReport:
        """Create missing journey groups, then read-modify-write each row (see
        :meth:`write_groups`). Returns what was written, per-row failures, and each written
        person's new target: their rows with the groups as sent."""
        if not writes:
            return ApplyReport()
        managed = sorted(self._managed())
        done = self.write_groups([_group_write(w) for w in writes], journey_groups=managed)
        report = ApplyReport(written=done.written, failed=list(done.failed),
                             requests=done.requests, conflicts=done.conflicts)
        failed = {line.split(":", 1)[0].removeprefix("customer ") for line in done.failed}
        id_of = {name: gid for gid, name in self._groups.items()}
        managed_ids = {id_of[name] for name in managed if name in id_of}
        wanted_of = {w.record_id: [id_of[n] for n in (str(w.values["group"]),
                                                      *w.values.get("also", ())) if n in id_of]
                     for w in writes if w.record_id not in failed}
        for write in writes:
            if write.person_key in report.updates:
                continue
            rows = []
            for row in write.values["target"].get("rows", ()):
                groups = [str(g) for g in row.get("groups", ())]
                if str(row["id"]) in wanted_of:
                    groups = _target_groups(groups, managed_ids, wanted_of[str(row["id"])])
                rows.append({**row, "groups": groups})
            held = sorted({self._groups[g] for row in rows for g in row["groups"]
                           if self._groups.get(g) in set(managed)})
            report.updates[write.person_key] = ({"rows": rows}, {"groups": held})
        return report

    def check(self, *, write: bool = True) -> list[CheckStep]:
        """One record of every resource a pull reads (the key may read them), then empty
        ``PUT customers`` and ``POST groups`` bodies: the Webservice checks the key's method
        rights first (405, code 25, for a key that may not) and then refuses the empty body
        (code 127) without changing anything."""
        try:
            for resource in READS:
                self.list_records(resource, {"display": "[id]", "limit": "1"})
        except ShopError as exc:
            return [CheckStep("read", False, str(exc), exc)]
        version = self.client.version or "unknown version"
        steps = [CheckStep("read", True, f"the key may read {', '.join(READS)} in "
                                         f"{self.url} (PrestaShop {version}; dates read in "
                                         f"{self.timezone})")]
        if not write:
            return steps
        for method, resource in (("PUT", "customers"), ("POST", "groups")):
            try:
                self.client.send_xml(method, resource, "", retry=False)
            except PermissionDenied as exc:
                return [*steps, CheckStep("write", False, str(exc), exc)]
            except ShopRequestError:
                continue  # the empty body refused after the key's rights were checked
            except ShopError as exc:
                return [*steps, CheckStep("write", False, str(exc), exc)]
        steps.append(CheckStep("write", True, "the key may write (PUT customers and POST groups "
                                              "allowed; empty bodies, nothing changed)"))
        return steps

    def ensure_groups(self, names: Iterable[str], report: WriteReport | None = None
                      ) -> dict[str, str]:
        """The id of each group name, creating the missing groups (``POST groups``, every
        language, no reduction, price display copied from the "Customer" group 3 when it
        exists). A POST that may have created nothing (429, 5xx, no answer) is retried under
        the retry policy (its attempts, backoff and ``Retry-After``), each time only after
        the group was looked up by name and not found, so a group is never created twice."""
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
            id_of[name] = self._create_group(name, languages, display)
            self._groups[id_of[name]] = name
            if report is not None:
                report.groups_created += 1
            log.info("created customer group %r (id %s)", name, id_of[name])
        return {n: id_of[n] for n in wanted}

    def _create_group(self, name: str, languages: Sequence[str], display: str) -> str:
        """POST one group and return its id (see :meth:`ensure_groups`)."""
        body = new_group_xml(name, languages, price_display_method=display)
        policy = self.client.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self.client.send_xml("POST", "groups", body, retry=False)
            except (TransientShopError, ShopUnreachable) as exc:
                # 429: nothing was created; 5xx or no answer: perhaps it was
                wait = exc.retry_after if exc.retry_after is not None else policy.backoff(
                    attempt)
                if attempt >= policy.attempts or wait > policy.max_retry_after:
                    raise
                log.warning("creating group %r failed (%s); looking it up, then retry %d/%d "
                            "in %.1fs", name, exc.status or "no answer", attempt,
                            policy.attempts - 1, wait)
                policy.sleep(wait)
                found = self._find_group(name)
                if found is not None:
                    return found
                continue
            try:
                return written_id(answer, "group")
            except XmlShapeError as exc:
                raise ShopError(f"creating group {name!r}: {exc}", shop_url=self.client.url,
                                endpoint="POST groups") from None

    def _find_group(self, name: str) -> str | None:
        """The lowest id of a group called exactly ``name`` in any language (``GET groups``
        filtered by name; the whole list when the name holds a character the filter reads
        as syntax), or None."""
        if any(c in name for c in "|[]") or name.startswith("%") or name.endswith("%"):
            rows = self.list_records("groups", {"display": "[id,name]"})
        else:
            rows = self.list_records("groups", {"display": "[id,name]",
                                                "filter[name]": f"[{name}]"})
        ids = [gid for gid in (record_id(r.get("id")) for r in rows
                               if name in lang_values(r.get("name"))) if gid]
        return min(ids, key=int) if ids else None

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
        managed = set(journey_groups or ()) | {n for w in writes for n in (w.group, *w.also)}
        id_of = self.ensure_groups(managed, report)
        managed_ids = set(id_of.values())
        self._verify_fresh(writes)
        outcomes: list[tuple[GroupWrite, str]] = []
        with ThreadPoolExecutor(max_workers=self.concurrency,
                                thread_name_prefix="journeybridge-write") as pool:
            futures = [(w, pool.submit(self._write_one, w,
                                       [id_of[n] for n in (w.group, *w.also)], managed_ids))
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

    def _verify_fresh(self, writes: Sequence[GroupWrite]) -> None:
        """The conflict check for rows this adapter's pull kept, in bulk: one ids-and-
        ``date_upd`` list per 100 rows; a row the shop changed since the pull loses its copy
        (and is read again, and re-planned, as any other)."""
        self._verified = set()
        kept = [w for w in writes if w.customer_id in self._fresh and w.date_upd is not None]
        if not kept:
            return
        pulled = {w.customer_id: w.date_upd for w in kept}
        for raw in self.by_ids("customers", list(pulled), display="[id,date_upd]"):
            if not isinstance(raw, dict):
                continue
            rid = record_id(raw.get("id"))
            try:
                now_upd = self.mapping.parse_date(str(raw.get("date_upd") or ""))
            except ValueError:
                continue
            if rid is not None and rid in pulled and now_upd == pulled[rid]:
                self._verified.add(rid)

    def _fresh_copy(self, write: GroupWrite) -> CustomerXml | None:
        """The row as this adapter's pull read it, when that was less than
        ``fresh_seconds`` ago and the shop still holds it unchanged (its ``date_upd``
        checked in bulk just before the writes, :meth:`_verify_fresh`): exactly what a
        ``GET`` would return, so it is PUT back without reading it again. Used once."""
        kept = self._fresh.pop(write.customer_id, None)
        if kept is None or write.customer_id not in self._verified or \
                time.monotonic() - kept[0] > self.fresh_seconds:
            return None
        try:
            copy = customer_from_json(kept[1])
            upd = self.mapping.parse_date(copy.date_upd)
        except (XmlShapeError, ValueError):
            return None  # read it from the shop instead, which reports it properly
        return copy if write.date_upd is not None and upd == write.date_upd else None

    def _write_one(self, write: GroupWrite, wanted: Sequence[str],
                   managed_ids: set[str]) -> str:
        """Read-modify-write one row; returns ``written``, ``already``, a failure text, each
        prefixed ``conflict:`` when the row changed since the pull. The row is read again
        (``GET``) unless this adapter's pull read it moments ago (:meth:`_fresh_copy`), which
        halves the requests of a write-back that follows its pull. A row whose XML cannot
        be sent back with every value's text unchanged is left untouched and reported; the
        shop's answer is checked for the groups and for every other value as sent."""
        path = f"customers/{write.customer_id}"
        fresh = self._fresh_copy(write)
        if fresh is None:
            text = self.client.get_xml(path)
            if text is None:
                return "no longer exists"
            try:
                fresh = parse_customer(text)
            except UnwritableValue as exc:
                return f"not written: {exc}"
            except XmlShapeError as exc:
                return f"not written, unreadable XML ({exc})"
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
        body = with_groups(fresh, target)
        answer = self.client.send_xml("PUT", path, body)
        try:
            after = parse_customer(answer)
        except XmlShapeError as exc:
            return prefix + f"unreadable answer ({exc})"
        if after.id != write.customer_id or set(after.groups) != set(target):
            return prefix + "the shop did not keep the groups sent"
        changed = changed_fields(parse_customer(body), after)
        if changed:
            return prefix + f"the shop changed {', '.join(changed[:5])} on write"
        return prefix + "written"


def _target_groups(current: Sequence[str], managed_ids: Collection[str],
                   wanted: str | Sequence[str] | None) -> list[str]:
    """``current`` without the journey groups, plus ``wanted`` (one id or several; order
    kept, added last)."""
    want = [wanted] if isinstance(wanted, str) else list(wanted or ())
    kept = [g for g in current if g not in managed_ids or g in want]
    kept.extend(w for w in want if w not in kept)
    return kept


def _raw(record: dict[str, Any]) -> dict[str, Any]:
    return record


def _group_write(write: Write) -> GroupWrite:
    """The row write a planned write stands for (its row as the target holds it)."""
    row: dict[str, Any] = next((r for r in write.values["target"].get("rows", ())
                                if str(r["id"]) == write.record_id), {})
    upd = row.get("date_upd")
    return GroupWrite(person_key=write.person_key, customer_id=write.record_id,
                      group=str(write.values["group"]),
                      groups=tuple(str(g) for g in row.get("groups", ())),
                      date_upd=datetime.fromisoformat(upd) if upd else None,
                      is_guest=bool(row.get("guest")),
                      also=tuple(str(g) for g in write.values.get("also", ())))





def _dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [r for r in rows if isinstance(r, dict)]


_KINDS = {"customers": "prestashop customer", "orders": "prestashop order",
          "carts": "prestashop cart"}


def _chain(first: Iterator[R], then: Callable[[], Iterator[R]]) -> Iterator[R]:
    yield from first
    yield from then()
