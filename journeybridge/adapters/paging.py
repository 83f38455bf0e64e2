"""The two paging helpers (one per platform, plain generators, no class hierarchy) and the one
step that turns raw records into models.

* :func:`numbered_pages` (WooCommerce): ``page=1, 2, ...``; the first page alone, then the
  pages its ``X-WP-Total`` / ``X-WP-TotalPages`` announce fetched ``concurrency`` at a time and
  yielded in page order.
* :func:`offset_pages` (PrestaShop, which gives no total): ``limit=offset,size``; the first page
  alone, then ``concurrency`` pages in flight, until the first short page.

Both are bounded whatever the shop answers: they stop at the first empty page and at the first
page shorter than the first one; WooCommerce never reads more pages than its total implies plus
``margin`` (the total counts records, so a lying ``X-WP-TotalPages: 1000000`` with 5 real
pages costs 6 requests); a header that is not a plain number is unknown, never a crash; and
past ``max_pages`` pages paging stops with a ShopRequestError that says so.

:func:`convert_records` is the one convert / de-duplicate / skip step: a row that is not an
object, or whose conversion raises anything at all, is skipped and reported in one line with
its kind, id and field (e-mail addresses scrubbed), never raised.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from journeybridge.adapters.fields import record_id
from journeybridge.adapters.http import scrub
from journeybridge.errors import InvalidRecord, ShopRequestError

__all__ = ["MAX_PAGES", "NumberedPage", "convert_records", "numbered_pages", "offset_pages",
           "skip_line"]

log = logging.getLogger("journeybridge.paging")

MAX_PAGES = 100_000
"""Pages of one listing after which paging stops with an error (10 million records at 100 per
page: far beyond any shop, short of forever)."""

P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True)
class NumberedPage:
    """One WooCommerce page: its records (anything the shop sent) and its count headers (None
    when absent or not a plain number)."""

    records: list[Any]
    total: int | None
    total_pages: int | None


def _too_many(what: str, shop_url: str, max_pages: int, said: str = "") -> ShopRequestError:
    return ShopRequestError(
        f"paging did not end after {max_pages} pages{said}: the shop keeps answering full "
        "pages (a cache or plugin ignoring the page parameter?)",
        shop_url=shop_url, endpoint=f"GET {what}", code="paging_ceiling")


def numbered_pages(fetch: Callable[[int], NumberedPage], *, per_page: int, concurrency: int,
                   what: str, shop_url: str, margin: int = 2, max_pages: int = MAX_PAGES
                   ) -> Iterator[NumberedPage]:
    """Every page of a numbered listing, in page order. ``fetch(n)`` reads page ``n``.

    The size of page 1 is the page size (a server may cap ``per_page``). The pages expected
    are those ``X-WP-Total`` implies (else ``X-WP-TotalPages``); they are fetched ``2 *
    concurrency`` at a time. When ``X-WP-TotalPages`` claims more than the total implies,
    pages past the total are read one at a time while they come back full, at most ``margin``
    of them. Without usable headers pages are read ``concurrency`` at a time. Always: stop at
    the first empty or short page; at ``max_pages`` pages still full, raise
    ShopRequestError."""
    first = fetch(1)
    yield first
    size = len(first.records)
    if size == 0:
        return
    header = first.total_pages
    implied = math.ceil(first.total / size) if first.total is not None else None
    expected = implied if implied is not None else header
    if implied is not None and header is not None and header != implied:
        log.warning("%s: the shop says %d records in %d pages, but %d records fill %d pages "
                    "of %d: reading by the record count", what, first.total, header,
                    first.total, implied, size)
    if expected is None:
        if size < per_page:
            return
        last, burst = max_pages, concurrency
    else:
        last = expected
        if implied is not None and header is not None and header > implied:
            last = min(header, implied + margin)
        last, burst = min(last, max_pages), 2 * concurrency
    if last <= 1:
        return
    with ThreadPoolExecutor(max_workers=concurrency,
                            thread_name_prefix="journeybridge-page") as pool:
        window: deque[Future[NumberedPage]] = deque()
        next_page = 2
        try:
            while True:
                while next_page <= last:
                    probing = expected is not None and next_page > expected
                    if len(window) >= (1 if probing else burst):
                        break
                    window.append(pool.submit(fetch, next_page))
                    next_page += 1
                if not window:
                    if next_page > max_pages:
                        said = f" (X-WP-TotalPages said {header})" if header else ""
                        raise _too_many(what, shop_url, max_pages, said)
                    return
                page = window.popleft().result()
                if not page.records:
                    return
                yield page
                if len(page.records) < size:
                    return
        finally:
            for future in window:
                future.cancel()


def offset_pages(fetch: Callable[[int], tuple[int, P]], *, size: int, concurrency: int,
                 what: str, shop_url: str, max_pages: int = MAX_PAGES) -> Iterator[P]:
    """``fetch(offset)`` payloads for offsets 0, size, 2*size... in order; ``fetch`` returns
    how many records the page held and the payload. The first page alone, then
    ``concurrency`` pages in flight; stop after the first page holding fewer than ``size``
    records (an empty one included) or more (a shop ignoring the limit sent everything at
    once); past ``max_pages`` raise ShopRequestError."""
    count, first = fetch(0)
    yield first
    if count != size:
        if count > size:
            log.warning("%s: asked for %d records, got %d: the shop ignores the limit; "
                        "taking them as the whole list", what, size, count)
        return
    with ThreadPoolExecutor(max_workers=concurrency,
                            thread_name_prefix="journeybridge-presta") as pool:
        window: deque[Future[tuple[int, P]]] = deque()
        page_number = 1
        try:
            while True:
                while len(window) < concurrency and page_number + len(window) < max_pages:
                    window.append(pool.submit(fetch, (page_number + len(window)) * size))
                if not window:
                    raise _too_many(what, shop_url, max_pages)
                count, page = window.popleft().result()
                page_number += 1
                yield page
                if count != size:
                    return
        finally:
            for future in window:
                future.cancel()


def skip_line(text: str, limit: int = 300) -> str:
    """A skipped record's report line: one line, e-mail addresses and secrets scrubbed, at
    most ``limit`` characters."""
    line = scrub(" ".join(text.split()))
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _shown_id(raw: Mapping[str, Any]) -> str:
    value = raw.get("id")
    rid = record_id(value)
    if rid is not None:
        return rid
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def convert_records(rows: Iterable[Any], convert: Callable[[dict[str, Any]], R], *,
                    kind: str, skipped: list[str], seen: set[str] | None = None
                    ) -> Iterator[R]:
    """``convert(row)`` for every row, in order. ``kind`` names the records in reports
    ("woocommerce order"). Rows whose id is in ``seen`` are left out (the same record on two
    pages); new ids are added to it. A row that is not an object, or whose conversion raises
    anything, is skipped: one line (kind, id, field, reason) appended to ``skipped`` and
    logged; nothing is raised for it."""
    for raw in rows:
        if not isinstance(raw, dict):
            _skip(skipped, f"invalid {kind} (no id): field '(record)': not a JSON object "
                           f"(got {type(raw).__name__})")
            continue
        if seen is not None:
            rid = record_id(raw.get("id"))
            if rid is not None:
                if rid in seen:
                    continue
                seen.add(rid)
        try:
            record = convert(raw)
        except InvalidRecord as exc:
            _skip(skipped, str(exc))
            continue
        except Exception as exc:  # whatever a hostile record makes parsing raise
            _skip(skipped, f"invalid {kind} {_shown_id(raw)}: field '(record)': unreadable "
                           f"({type(exc).__name__}: {str(exc)[:80]})")
            continue
        yield record


def _skip(skipped: list[str], text: str) -> None:
    line = skip_line(text)
    skipped.append(line)
    log.warning("skipped %s", line)


def batched(records: Iterable[R], size: int) -> Iterator[list[R]]:
    """``records`` in lists of ``size`` (the last one shorter), as they come: a stream of
    records turned into pages without holding more than one."""
    chunk: list[R] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
